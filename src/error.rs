//! Every way a command fails, each with the exit code it gives. Commands
//! return these; `render::failure` is the one place that prints them.

use drone_engine::lock::LockError;
use drone_engine::state::{MoveError, StateError};
use miette::Diagnostic;
use thiserror::Error;

use crate::exit::Exit;

/// A command's failure.
#[derive(Debug, Error, Diagnostic)]
pub enum CliError {
    /// Diagnostics against the workflow's sources, already rendered with their snippets.
    #[error("{text}")]
    Diagnostics {
        /// What `render::diagnostics` made of them, with the count at the end.
        text: String,
        /// Language errors (3) or a script's own failure.
        exit: Exit,
        /// The same diagnostics as data, for the machine-readable reports.
        problems: Vec<crate::findings::Problem>,
    },
    /// A file the command was given cannot be read.
    #[error("cannot read {path}: {reason}")]
    #[diagnostic(code(drone::cli::unreadable))]
    Unreadable {
        /// The file.
        path: String,
        /// Why, as the operating system says it.
        reason: String,
    },
    /// A file cannot be written.
    #[error("cannot write {path}: {reason}")]
    #[diagnostic(code(drone::cli::unwritable))]
    Unwritable {
        /// The file.
        path: String,
        /// Why.
        reason: String,
    },
    /// A `NAME=VALUE` argument without `=`.
    #[error("`{flag} {given}` must be written NAME=VALUE")]
    #[diagnostic(code(drone::cli::name_value))]
    NameValue {
        /// `--param` or `--arg`.
        flag: &'static str,
        /// What was written.
        given: String,
    },
    /// A flag's value that cannot be used.
    #[error("{message}")]
    #[diagnostic(code(drone::cli::usage))]
    Usage {
        /// What is wrong.
        message: String,
        /// How to write it instead.
        #[help]
        help: Option<String>,
    },
    /// Something the command needs is missing or in the wrong state (exit 2).
    #[error("{message}")]
    #[diagnostic(code(drone::cli::refused))]
    Refused {
        /// What is wrong.
        message: String,
        /// What to do about it.
        #[help]
        help: Option<String>,
    },
    /// The workflow names something drone cannot use (exit 3).
    #[error("{message}")]
    #[diagnostic(code(drone::cli::workflow))]
    Workflow {
        /// What is wrong.
        message: String,
    },
    /// Error-severity policy findings (printed above) stop the command.
    #[error("policy errors; nothing was planned or changed")]
    #[diagnostic(
        code(drone::cli::policy),
        help("fix the findings, or suppress one with @allow(rule.id, reason = \"...\")")
    )]
    Policy,
    /// A provider cannot be reached or will not say who it is.
    #[error("provider `{name}` cannot be used: {reason}")]
    #[diagnostic(
        code(drone::cli::provider),
        help("check credentials, region and AWS_ENDPOINT_URL; nothing was changed")
    )]
    Provider {
        /// The workflow's name for it.
        name: String,
        /// The provider's error.
        reason: String,
    },
    /// A call to the cloud (or anything else the command depends on) failed.
    #[error("{doing} failed: {reason}")]
    #[diagnostic(code(drone::cli::execution))]
    Execution {
        /// What was being done, e.g. "refreshing state".
        doing: String,
        /// Why.
        reason: String,
        /// What to do about it.
        #[help]
        help: Option<String>,
    },
    /// Resources carrying this state's tags are left that state does not record.
    #[error("resources tagged with this state's lineage remain, which state does not record:\n{list}")]
    #[diagnostic(code(drone::cli::orphans))]
    Orphans {
        /// One line per resource.
        list: String,
        /// The command that deletes them.
        #[help]
        help: String,
    },
    /// A task run elsewhere (on Fargate) failed; the exit code is the one its drone gave.
    #[error("{message}")]
    #[diagnostic(code(drone::cli::remote))]
    Remote {
        /// How it ended.
        message: String,
        /// The exit code to give.
        exit: Exit,
    },
    /// A hook after destroy failed.
    #[error("a hook after destroy failed: {0}")]
    #[diagnostic(code(drone::cli::hook))]
    Hook(String),
    /// Reading or writing state failed, or its lock was lost.
    #[error(transparent)]
    #[diagnostic(transparent)]
    State(#[from] StateError),
    /// A move in state (`moved` or `drone state mv`) that cannot be made.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Move(#[from] MoveError),
    /// The state's lock could not be taken or removed.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Lock(#[from] LockError),
    /// A bug, or the machine: the async runtime would not start, a thread panicked.
    #[error("{0}")]
    #[diagnostic(code(drone::cli::internal))]
    Internal(String),
}

impl CliError {
    /// The exit code this failure gives (documented in README.md).
    pub fn exit(&self) -> Exit {
        match self {
            CliError::Diagnostics { exit, .. } | CliError::Remote { exit, .. } => *exit,
            CliError::Unreadable { .. } | CliError::NameValue { .. } | CliError::Usage { .. } => Exit::Usage,
            CliError::Move(_) => Exit::Usage,
            CliError::Refused { .. } => Exit::Usage,
            CliError::Workflow { .. } => Exit::Language,
            CliError::Policy => Exit::Policy,
            CliError::Unwritable { .. }
            | CliError::Provider { .. }
            | CliError::Execution { .. }
            | CliError::Orphans { .. } => Exit::Execution,
            CliError::Hook(_) => Exit::ScriptFailed,
            CliError::State(StateError::LockLost { .. }) => Exit::Locked,
            CliError::State(_) => Exit::Execution,
            CliError::Lock(LockError::Held { .. } | LockError::HolderRunning { .. }) => Exit::Locked,
            CliError::Lock(_) => Exit::Execution,
            CliError::Internal(_) => Exit::Internal,
        }
    }

    /// A failure to read `path`.
    pub fn unreadable(path: impl std::fmt::Display, e: &std::io::Error) -> CliError {
        CliError::Unreadable { path: path.to_string(), reason: e.to_string().to_lowercase() }
    }

    /// A failure to write `path`.
    pub fn unwritable(path: impl std::fmt::Display, e: &std::io::Error) -> CliError {
        CliError::Unwritable { path: path.to_string(), reason: e.to_string().to_lowercase() }
    }

    /// What the machine-readable reports say of this failure of checking `file`.
    pub fn problems(&self, file: &str) -> Vec<crate::findings::Problem> {
        match self {
            CliError::Diagnostics { problems, .. } => problems.clone(),
            other => vec![crate::findings::Problem::of_file(other, file)],
        }
    }

    /// Usage that cannot work, with how to write it.
    pub fn usage(message: impl Into<String>, help: Option<String>) -> CliError {
        CliError::Usage { message: message.into(), help }
    }

    /// A refusal: what the command needs is not there, or not in the state it needs.
    pub fn refused(message: impl Into<String>, help: Option<&str>) -> CliError {
        CliError::Refused { message: message.into(), help: help.map(String::from) }
    }

    /// `doing` failed because of `reason`.
    pub fn execution(doing: impl Into<String>, reason: impl std::fmt::Display) -> CliError {
        CliError::Execution { doing: doing.into(), reason: reason.to_string(), help: None }
    }
}

/// What a command returns: its outcome, or why it failed.
pub type Outcome = Result<Exit, CliError>;
