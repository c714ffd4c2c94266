//! `drone task FILE NAME`: runs a task where drone runs, with its grants
//! only, against what state records (see `script_host.rs` for its world).

use std::path::Path;
use std::sync::Arc;

use drone_lang::ast::ScriptKind;
use drone_lang::Catalog;

use crate::error::{CliError, Outcome};
use crate::exit::Exit;
use crate::script_host::Bindings;

/// What `drone task` was asked.
pub(crate) struct TaskArgs<'a> {
    pub(crate) file: &'a Path,
    pub(crate) name: &'a str,
    pub(crate) args: &'a [String],
    pub(crate) dry_run: bool,
    pub(crate) tunnels: &'a [String],
    pub(crate) on: crate::cli::args::RunsOn,
}

/// `drone task FILE --list` (every task, one line each) and `drone task FILE NAME --help` (one
/// task: the `--arg`s it takes, its grants, where it can run). Needs no parameter values.
pub(crate) fn describe(
    file: &Path,
    name: Option<&str>,
    common: &crate::cli::args::Common,
    catalog: &Catalog,
) -> Outcome {
    let params = crate::session::params(&common.params)?;
    let loaded = crate::pipeline::load_for_check(file, &params, catalog)?;
    let tasks: Vec<&drone_script::ScriptSpec> = loaded.scripts.iter().filter(|s| s.kind == ScriptKind::Task).collect();
    let inputs = |spec: &drone_script::ScriptSpec| {
        spec.inputs
            .iter()
            .map(|i| match &i.default {
                Some(d) => format!("{}: {} = {d}", i.name, i.ty),
                None => format!("{}: {}", i.name, i.ty),
            })
            .collect::<Vec<_>>()
    };
    let grants = |spec: &drone_script::ScriptSpec| {
        spec.grants.0.iter().map(|g| format!("{} on {}", g.kind, g.targets.join(", "))).collect::<Vec<_>>()
    };
    let Some(name) = name else {
        if tasks.is_empty() {
            println!("{} declares no task", file.display());
        }
        let width = tasks.iter().map(|t| t.name.len()).max().unwrap_or(0);
        for t in &tasks {
            let takes = inputs(t);
            let takes = if takes.is_empty() { "no inputs".to_string() } else { takes.join(", ") };
            println!("{:width$}  ({takes})", t.name);
        }
        return Ok(Exit::Success);
    };
    let Some(spec) = tasks.iter().find(|t| t.name == name) else {
        let hint = drone_lang::suggest::closest(name, tasks.iter().map(|t| t.name.as_str()))
            .map_or_else(|| "`--list` shows the workflow's tasks".to_string(), |n| format!("did you mean `{n}`?"));
        return Err(CliError::Refused {
            message: format!("{} declares no task `{name}`", file.display()),
            help: Some(hint),
        });
    };
    println!("task {name} ({}), at most {}s", file.display(), spec.timeout.as_secs());
    println!("inputs (each `--arg NAME=VALUE`; lists comma-separated):");
    for i in &spec.inputs {
        match &i.default {
            Some(d) => println!("  --arg {}=...  {} (default {d})", i.name, i.ty),
            None => println!("  --arg {}=...  {} (required)", i.name, i.ty),
        }
    }
    if spec.inputs.is_empty() {
        println!("  none");
    }
    println!("grants (all it may do):");
    for g in grants(spec) {
        println!("  {g}");
    }
    let fargate = if spec.fargate.is_some() { "here, or `--on fargate`" } else { "here (no `fargate` settings)" };
    println!("runs: {fargate}; `--dry-run` changes nothing");
    Ok(Exit::Success)
}

/// Runs the task and reports how it ended.
pub(crate) async fn task(t: TaskArgs<'_>, common: &crate::cli::args::Common, catalog: &Catalog) -> Outcome {
    let session = crate::session::session(t.file, common, catalog, false).await?;
    let tasks: Vec<&drone_script::ScriptSpec> =
        session.loaded.scripts.iter().filter(|s| s.kind == ScriptKind::Task).collect();
    let Some(spec) = tasks.iter().find(|s| s.name == t.name).copied() else {
        let names: Vec<&str> = tasks.iter().map(|s| s.name.as_str()).collect();
        let hint = drone_lang::suggest::closest(t.name, names.iter().copied())
            .map(|n| format!("did you mean `{n}`?"))
            .unwrap_or_else(|| {
                format!("the workflow's tasks: {}", if names.is_empty() { "none".into() } else { names.join(", ") })
            });
        return Err(CliError::Refused {
            message: format!("{} declares no task `{}`", t.file.display(), t.name),
            help: Some(hint),
        });
    };
    let args = crate::session::name_values(t.args, "--arg")?;
    let state = crate::session::load_state(&session).await?;
    if t.on == crate::cli::args::RunsOn::Fargate {
        let request = crate::commands::fargate::Request { file: t.file, spec, args: &args, dry_run: t.dry_run };
        return crate::commands::fargate::run(request, &session, catalog, &state).await;
    }
    let bindings = Arc::new(Bindings::new(&session, catalog, &state, t.tunnels)?);
    let host = bindings.host(&spec.title(), drone_engine::scripts::snapshot(&state));
    eprintln!("task {}{}", spec.name, if t.dry_run { " (dry run: nothing is changed)" } else { "" });
    let spec = spec.clone();
    let dry_run = t.dry_run;
    let output: drone_script::engine::Output = Arc::new(|line: &str| eprintln!("  | {line}"));
    let outcome =
        tokio::task::spawn_blocking(move || drone_script::run::run(&spec, &args, dry_run, host, output)).await;
    match outcome {
        Ok(Ok(report)) => {
            if !report.result.is_null() {
                println!("{}", serde_json::to_string_pretty(&report.result).unwrap_or_default());
            }
            eprintln!(
                "task {} finished: {} SQL statements, {} host calls",
                t.name,
                report.statements,
                report.journal.len()
            );
            Ok(Exit::Success)
        }
        Ok(Err(error)) => {
            let exit = exit_for(&error);
            Err(crate::render::diagnostics_exiting(std::slice::from_ref(&error), &session.loaded.program.sources, exit))
        }
        Err(panic) => Err(CliError::Internal(format!("the task's thread stopped: {panic}"))),
    }
}

/// The exit code a stopped script gives.
fn exit_for(error: &drone_script::ScriptError) -> Exit {
    use drone_script::ScriptError::*;
    match error {
        e if e.is_refusal() => Exit::ScriptRefused,
        Database { .. } | Statement { .. } | Host { .. } => Exit::Execution,
        Argument { .. } => Exit::Usage,
        Syntax { .. } | UnknownFunction { .. } | Source { .. } => Exit::Language,
        _ => Exit::ScriptFailed,
    }
}
