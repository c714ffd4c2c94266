//! The `drone` command line: thin layers over the language, engine and
//! standard library. Only this crate prints, reads the terminal, or exits.

pub mod baseline;
pub mod cli;
pub mod deployer;
pub mod exit;
mod fargate;
pub mod findings;
mod import;
mod lsp;
mod orphans;
pub mod pipeline;
pub mod plan_view;
pub mod policies;
pub mod progress;
pub mod render;
mod script_host;
mod state_commands;
mod store;
mod task;
