//! `drone task --on fargate`: the same task as a one-off ECS task in the
//! workflow's private subnets, without a public IP, from drone's own image.
//! Its role holds exactly the task's grants (and reading the workflow's S3
//! state); its database password comes from the secret store through ECS
//! `secrets`; drone waits for it, shows what it printed, and exits as it did.

use std::path::Path;
use std::time::Duration;

use drone_engine::functions::CallContext;
use drone_engine::value::Value;
use drone_lang::Catalog;
use drone_script::ScriptSpec;
use drone_stdlib::aws::one_off::{OneOff, CONTAINER};

use crate::error::{CliError, Outcome};
use crate::exit::Exit;
use crate::render::diagnostics;

/// What the task is asked to do.
pub(crate) struct Request<'a> {
    pub(crate) file: &'a Path,
    pub(crate) spec: &'a ScriptSpec,
    pub(crate) args: &'a [(String, String)],
    pub(crate) dry_run: bool,
}

/// The `fargate` settings, evaluated against state.
struct Settings {
    cluster: String,
    subnets: Vec<String>,
    security_groups: Vec<String>,
    image: String,
    execution_role: String,
    log_group: String,
    secrets: Vec<(String, String)>,
}

/// Runs the task on Fargate and waits for it.
pub(crate) async fn run(
    r: Request<'_>,
    session: &crate::session::Session,
    catalog: &Catalog,
    state: &drone_engine::state::State,
) -> Outcome {
    let settings = settings(r.spec, session, catalog, state)?;
    let Some(s3) = &session.loaded.model.state_s3 else {
        return Err(CliError::refused(
            "`--on fargate` reads the workflow's state from S3; this workflow's state is local",
            Some("give the workflow header `state = { backend = \"s3\", ... }` (see `drone state migrate`)"),
        ));
    };
    let (provider_name, config) = session
        .loaded
        .model
        .providers
        .iter()
        .find(|(_, p)| p.settings.get("default").and_then(Value::as_bool) == Some(true))
        .or_else(|| session.loaded.model.providers.iter().next())
        .ok_or_else(|| CliError::refused("the workflow has no provider to run the task with", None))?;
    let region = config.settings.get("region").and_then(Value::as_str).unwrap_or("us-east-1").to_string();
    let Some(aws) = session.aws.get(provider_name) else {
        return Err(CliError::Internal(format!("provider `{provider_name}` was not connected")));
    };

    // The task's role: its grants, on their targets, and reading state.
    let names = crate::deployer::resource_names(&session.loaded, catalog, None)?;
    let granted = crate::deployer::grants_of(std::slice::from_ref(r.spec), &names);
    let mut policy = drone_stdlib::permissions::grants_policy(&granted, "*")
        .unwrap_or_else(|| serde_json::json!({ "Version": "2012-10-17", "Statement": [] }));
    if let Some(statements) = policy["Statement"].as_array_mut() {
        statements.extend(state_read(s3));
    }
    let workflow = &session.loaded.model.workflow;
    let role_name: String = format!("drone-task-{workflow}-{}", r.spec.name).chars().take(64).collect();
    let failed = |what: &str, e: drone_engine::provider::ProviderError| {
        CliError::execution(format!("{what} (provider `{provider_name}`)"), e)
    };
    let role = aws.ensure_task_role(&role_name, &policy).await.map_err(|e| failed("the task's role", e))?;

    // drone's command in the container: the same task, from the image's copy of the repository.
    let root = crate::pipeline::root_for(r.file);
    let absolute = std::fs::canonicalize(r.file).unwrap_or_else(|_| r.file.to_path_buf());
    let relative = absolute.strip_prefix(std::fs::canonicalize(&root).unwrap_or(root)).unwrap_or(r.file);
    // The image holds the repository under /drone (see the Dockerfile).
    let mut command = ["task", "--root", "/drone"].map(String::from).to_vec();
    command.extend([relative.display().to_string(), r.spec.name.clone()]);
    for (k, v) in r.args {
        command.extend(["--arg".to_string(), format!("{k}={v}")]);
    }
    if r.dry_run {
        command.push("--dry-run".into());
    }
    let who = crate::session::actor();
    let environment = vec![("DRONE_ACTOR".to_string(), who), ("AWS_REGION".to_string(), region.clone())];
    let family: String = format!("drone-task-{workflow}-{}", r.spec.name).chars().take(255).collect();
    let one_off = OneOff {
        family: &family,
        image: &settings.image,
        execution_role: &settings.execution_role,
        task_role: &role,
        log_group: &settings.log_group,
        region: &region,
        secrets: &settings.secrets,
        environment: &environment,
        cluster: &settings.cluster,
        subnets: &settings.subnets,
        security_groups: &settings.security_groups,
        command: &command,
    };
    let task = aws.run_one_off(&one_off).await.map_err(|e| failed("RunTask", e))?;
    eprintln!("task {} started on Fargate: {task}", r.spec.name);
    eprintln!(
        "  role {role_name}: {} statement(s); waiting for it to stop",
        policy["Statement"].as_array().map_or(0, Vec::len)
    );

    let stream = format!("{CONTAINER}/{CONTAINER}/{}", task.rsplit('/').next().unwrap_or_default());
    let poll = std::env::var("DRONE_FARGATE_POLL_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(3000);
    let (mut token, mut seen) = (None, 0usize);
    loop {
        let status = aws.one_off_status(&settings.cluster, &task).await.map_err(|e| failed("DescribeTasks", e))?;
        // The log stream exists once the container has started.
        if let Ok((lines, next)) = aws.one_off_log(&settings.log_group, &stream, token.clone()).await {
            for line in &lines {
                println!("{line}");
            }
            seen += lines.len();
            token = next.or(token);
        }
        if status.last_status == "STOPPED" {
            return match status.exit_code {
                Some(0) => {
                    eprintln!("task {} finished on Fargate ({seen} log lines)", r.spec.name);
                    Ok(Exit::Success)
                }
                Some(code) => Err(CliError::Remote {
                    message: format!("task {} exited with {code} on Fargate", r.spec.name),
                    exit: exit_of(code),
                }),
                None => {
                    let why = status.stopped_reason.unwrap_or_else(|| "no reason given".into());
                    Err(CliError::Remote {
                        message: format!("task {} stopped without an exit code: {why}", r.spec.name),
                        exit: Exit::Execution,
                    })
                }
            };
        }
        tokio::time::sleep(Duration::from_millis(poll)).await;
    }
}

/// The container's exit code is drone's own: keep its meaning.
fn exit_of(code: i32) -> Exit {
    match code {
        2 => Exit::Usage,
        3 => Exit::Language,
        8 => Exit::ScriptRefused,
        9 => Exit::ScriptFailed,
        _ => Exit::Execution,
    }
}

/// Reading the state (the task takes no lock and writes nothing).
fn state_read(s3: &drone_engine::state::S3Location) -> [serde_json::Value; 2] {
    [
        serde_json::json!({
            "Effect": "Allow",
            "Action": ["s3:GetObject"],
            "Resource": [format!("arn:aws:s3:::{}/{}", s3.bucket, s3.key)],
        }),
        serde_json::json!({
            "Effect": "Allow",
            "Action": ["s3:ListBucket"],
            "Resource": [format!("arn:aws:s3:::{}", s3.bucket)],
            "Condition": { "StringLike": { "s3:prefix": [s3.key.clone()] } },
        }),
    ]
}

/// The task's `fargate` settings, evaluated against what state records.
fn settings(
    spec: &ScriptSpec,
    session: &crate::session::Session,
    catalog: &Catalog,
    state: &drone_engine::state::State,
) -> Result<Settings, CliError> {
    let Some(expr) = &spec.fargate else {
        return Err(CliError::refused(
            format!("{} has no `fargate` settings", spec.title()),
            Some("add `fargate = { cluster, subnets, security_groups, image, execution_role, log_group }` to the task"),
        ));
    };
    let host = crate::pipeline::host_for(&session.loaded.program.root_path);
    let cx = CallContext { host: &host, salt: &state.lineage, resolve_secrets: false };
    let resolver = drone_engine::apply::Live(state);
    let evaluator = drone_engine::eval::Evaluator::new(&session.loaded.model, catalog, &cx, &resolver);
    let value = evaluator
        .eval(expr, &[])
        .map_err(|e| diagnostics(std::slice::from_ref(&e), &session.loaded.program.sources))?;
    let Value::Map(map) = value else {
        return Err(CliError::Workflow { message: format!("{}'s `fargate` settings must be a map", spec.title()) });
    };
    let unknown: Vec<&str> = map.iter().filter(|(_, v)| !v.is_known()).map(|(k, _)| k.as_str()).collect();
    if !unknown.is_empty() {
        return Err(CliError::refused(
            format!("the task's fargate settings {} are not known yet", unknown.join(", ")),
            Some("run the workflow first"),
        ));
    }
    let text = |name: &str| map.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
    let list = |name: &str| match map.get(name) {
        Some(Value::List(items)) => items.iter().filter_map(Value::as_str).map(String::from).collect(),
        _ => Vec::new(),
    };
    let secrets = match map.get("secrets") {
        Some(Value::Map(m)) => m.iter().filter_map(|(k, v)| v.as_str().map(|v| (k.clone(), v.to_string()))).collect(),
        _ => Vec::new(),
    };
    Ok(Settings {
        cluster: text("cluster"),
        subnets: list("subnets"),
        security_groups: list("security_groups"),
        image: text("image"),
        execution_role: text("execution_role"),
        log_group: text("log_group"),
        secrets,
    })
}
