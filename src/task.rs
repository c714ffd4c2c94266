//! `drone task FILE NAME`: runs a task where drone runs, with its grants
//! only, against what state records (see `script_host.rs` for its world).

use std::path::Path;
use std::sync::Arc;

use drone_lang::ast::ScriptKind;
use drone_lang::Catalog;

use crate::exit::Exit;
use crate::render::print_all;
use crate::script_host::Bindings;

/// What `drone task` was asked.
pub(crate) struct TaskArgs<'a> {
    pub(crate) file: &'a Path,
    pub(crate) name: &'a str,
    pub(crate) args: &'a [String],
    pub(crate) dry_run: bool,
    pub(crate) tunnels: &'a [String],
    pub(crate) on: crate::cli::RunsOn,
}

/// Runs the task and reports how it ended.
pub(crate) async fn task(t: TaskArgs<'_>, common: &crate::cli::Common, catalog: &Catalog) -> Result<Exit, Exit> {
    let session = crate::cli::session(t.file, common, catalog, false).await?;
    let tasks: Vec<&drone_script::ScriptSpec> =
        session.loaded.scripts.iter().filter(|s| s.kind == ScriptKind::Task).collect();
    let Some(spec) = tasks.iter().find(|s| s.name == t.name).copied() else {
        let names: Vec<&str> = tasks.iter().map(|s| s.name.as_str()).collect();
        let hint = drone_lang::suggest::closest(t.name, names.iter().copied())
            .map(|n| format!("did you mean `{n}`?"))
            .unwrap_or_else(|| {
                format!("the workflow's tasks: {}", if names.is_empty() { "none".into() } else { names.join(", ") })
            });
        eprintln!("error: {} declares no task `{}`\n  help: {hint}", t.file.display(), t.name);
        return Err(Exit::Usage);
    };
    let args = crate::cli::name_values(t.args, "--arg")?;
    let state = crate::cli::load_state(&session).await?;
    if t.on == crate::cli::RunsOn::Fargate {
        let request = crate::fargate::Request { file: t.file, spec, args: &args, dry_run: t.dry_run };
        return crate::fargate::run(request, &session, catalog, &state).await;
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
            print_all(std::slice::from_ref(&error), &session.loaded.program.sources);
            Ok(exit_for(&error))
        }
        Err(panic) => {
            eprintln!("error: the task's thread stopped: {panic}");
            Ok(Exit::Internal)
        }
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
