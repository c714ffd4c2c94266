//! The `drone` command line: thin layers over the language, engine and
//! standard library. Only this crate prints, reads the terminal, or exits.

pub mod baseline;
pub mod cli;
mod commands;
pub mod deployer;
pub mod error;
pub mod exit;
pub mod findings;
mod lsp;
pub mod pipeline;
pub mod plan_view;
pub mod policies;
pub mod progress;
mod release;
pub mod render;
mod rollout;
mod script_host;
mod session;
mod store;
