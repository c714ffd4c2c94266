//! The top of the binary: reads the command line and hands each command to
//! its module in `commands/`. Each command returns an [`Outcome`]; its
//! failure is printed by `render::failure`, and nothing below `main` exits
//! the process.

pub(crate) mod args;

use std::process::ExitCode;

use clap::Parser;

use crate::cli::args::{Cli, Command, StateCommand};
use crate::commands;
use crate::error::{CliError, Outcome};
use crate::exit::Exit;
use crate::pipeline;

/// Runs the command line and returns the process's exit code.
pub fn main() -> ExitCode {
    let cli = Cli::parse();
    if let Some(root) = cli.root {
        pipeline::set_root(root);
    }
    if cli.no_color {
        // Read wherever colour is chosen (miette, the plan view), before any thread starts.
        std::env::set_var("NO_COLOR", "1");
    }
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            return crate::render::failure(CliError::Internal(format!("cannot start the async runtime: {e}"))).into()
        }
    };
    // `plan --detailed-exitcode` speaks Terraform's codes: 0 no changes, 2 changes or drift, 1 any error.
    if let Command::Plan { file, common, format, refresh_only, targeting, out, detailed_exitcode } = &cli.command {
        let request = commands::plan::PlanRequest {
            file,
            common,
            format: *format,
            refresh_only: *refresh_only,
            targets: &targeting.targets,
            out: out.as_deref(),
        };
        let catalog = drone_stdlib::catalog();
        let planned = runtime.block_on(commands::plan::plan(request, &catalog));
        return match (planned, *detailed_exitcode) {
            (Ok(changes), true) => ExitCode::from(if changes { 2 } else { 0 }),
            (Ok(_), false) => Exit::Success.into(),
            (Err(e), true) => {
                crate::render::failure(e);
                ExitCode::from(1)
            }
            (Err(e), false) => crate::render::failure(e).into(),
        };
    }
    runtime.block_on(dispatch(cli.command)).unwrap_or_else(crate::render::failure).into()
}

async fn dispatch(command: Command) -> Outcome {
    let catalog = drone_stdlib::catalog();
    match command {
        Command::Check { files, params, list_types, format, policy } => {
            if list_types {
                print!("{}", commands::check::list_types(&catalog));
                return Ok(Exit::Success);
            }
            commands::check::check(&files, &params, format, &policy, &catalog)
        }
        Command::Fmt { files, check } => commands::fmt::fmt(&files, check),
        // `main` runs `plan` itself, for its exit codes.
        Command::Plan { .. } => Err(CliError::Internal("`plan` reached the general dispatch".into())),
        Command::Run { file, common, yes, refresh_only, targeting, plan } => {
            let request = commands::run::RunRequest {
                file: &file,
                common: &common,
                yes,
                refresh_only,
                targets: &targeting.targets,
                saved: plan.as_deref(),
            };
            commands::run::run(request, &catalog).await
        }
        Command::Output { file, name, json, state } => {
            commands::output::output(&file, name.as_deref(), json, state.as_deref(), &catalog).await
        }
        Command::Release { file, common, source, message, commit, pipeline, timeout, yes, rollback, history, json } => {
            let file = commands::release::workflow_file(&file);
            if history {
                return commands::release::history(&file, common.state.as_deref(), json, &catalog).await;
            }
            let args = commands::release::ReleaseArgs {
                file: &file,
                common: &common,
                source: source.as_deref(),
                message: message.as_deref(),
                commit: commit.as_deref(),
                pipeline: pipeline.as_deref(),
                timeout_minutes: timeout,
                yes,
                rollback,
            };
            commands::release::release(args, &catalog).await
        }
        Command::Destroy { file, common, yes } => commands::destroy::destroy(&file, &common, yes, &catalog).await,
        Command::Task { file, name, list, help, args, dry_run, tunnels, on, common } => {
            let (Some(file), false) = (file, help && name.is_none()) else {
                use clap::CommandFactory;
                let mut command = Cli::command();
                if let Some(task) = command.find_subcommand_mut("task") {
                    let _ = task.print_long_help();
                }
                return Ok(Exit::Success);
            };
            if list || help {
                return commands::task::describe(&file, name.as_deref(), &common, &catalog);
            }
            let name = name.unwrap_or_default();
            let task =
                commands::task::TaskArgs { file: &file, name: &name, args: &args, dry_run, tunnels: &tunnels, on };
            commands::task::task(task, &common, &catalog).await
        }
        Command::Lsp => Ok(crate::lsp::serve(&catalog)),
        Command::Completions { shell } => {
            use clap::CommandFactory;
            clap_complete::generate(shell, &mut Cli::command(), "drone", &mut std::io::stdout());
            Ok(Exit::Success)
        }
        Command::Graph { file, params, format } => commands::graph::graph(&file, &params, format, &catalog),
        Command::Iam { file, params, phase, account, managed, release } => {
            if release {
                return commands::iam::release(&file, &params, &account, &catalog);
            }
            commands::iam::iam(&file, &params, phase.as_deref(), &account, managed, &catalog)
        }
        Command::Import { file, address, id, common } => {
            commands::import::import(&file, &address, &id, &common, &catalog).await
        }
        Command::State { command: StateCommand::Orphans { file, adopt, delete, common } } => {
            let action = match (adopt, delete) {
                (true, _) => commands::orphans::Action::Adopt,
                (_, true) => commands::orphans::Action::Delete,
                _ => commands::orphans::Action::List,
            };
            commands::orphans::orphans_command(&file, &common, action, &catalog).await
        }
        Command::State { command } => commands::state::state_command(command, &catalog).await,
    }
}
