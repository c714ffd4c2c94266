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
    let outcome = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime.block_on(dispatch(cli.command)),
        Err(e) => Err(CliError::Internal(format!("cannot start the async runtime: {e}"))),
    };
    outcome.unwrap_or_else(crate::render::failure).into()
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
        Command::Plan { file, common, format, refresh_only } => {
            commands::plan::plan(&file, &common, format, refresh_only, &catalog).await
        }
        Command::Run { file, common, yes, refresh_only } => {
            commands::run::run(&file, &common, yes, refresh_only, &catalog).await
        }
        Command::Destroy { file, common, yes } => commands::destroy::destroy(&file, &common, yes, &catalog).await,
        Command::Task { file, name, args, dry_run, tunnels, on, common } => {
            let task =
                commands::task::TaskArgs { file: &file, name: &name, args: &args, dry_run, tunnels: &tunnels, on };
            commands::task::task(task, &common, &catalog).await
        }
        Command::Lsp => Ok(crate::lsp::serve(&catalog)),
        Command::Graph { file, params, format } => commands::graph::graph(&file, &params, format, &catalog),
        Command::Iam { file, params, phase, account } => {
            commands::iam::iam(&file, &params, phase.as_deref(), &account, &catalog)
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
