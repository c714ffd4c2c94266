//! What can go wrong with a script, each with its code, span and fix.

use drone_lang::span::Span;
use drone_lang::Located;

/// A script refused before it runs, or stopped while it runs.
#[derive(Clone, Debug, thiserror::Error, miette::Diagnostic, PartialEq)]
pub enum ScriptError {
    /// The script's file could not be read.
    #[error("cannot read script `{path}`: {reason}")]
    #[diagnostic(
        code("drone::script::source"),
        help("`run` names a `.rhai` file relative to the workflow, inside its repository")
    )]
    Source {
        /// The path as written.
        path: String,
        /// Why.
        reason: String,
        /// The `run` attribute.
        #[label("here")]
        span: Span,
    },
    /// rhai could not parse the script.
    #[error("script syntax: {message}")]
    #[diagnostic(code("drone::script::syntax"), help("see https://rhai.rs/book for rhai's syntax"))]
    Syntax {
        /// rhai's message.
        message: String,
        /// Where in the script.
        #[label("here")]
        span: Span,
    },
    /// A call to a function that neither rhai, drone nor the script defines.
    #[error("unknown function `{name}`")]
    #[diagnostic(code("drone::script::unknown_function"))]
    UnknownFunction {
        /// The name as called.
        name: String,
        /// The call.
        #[label("not defined")]
        span: Span,
        /// The fix.
        #[help]
        help: Option<String>,
    },
    /// A host function called without the grant it needs.
    #[error("`{function}` needs the grant `{grant}`{on}")]
    #[diagnostic(code("drone::script::not_granted"))]
    NotGranted {
        /// The function.
        function: String,
        /// The grant kind it needs.
        grant: String,
        /// ` on RESOURCE`, when known.
        on: String,
        /// The call.
        #[label("not granted")]
        span: Span,
        /// The fix.
        #[help]
        help: Option<String>,
    },
    /// A SQL statement the grant does not allow, or that drone refuses.
    #[error("SQL refused: {reason}")]
    #[diagnostic(code("drone::script::sql_refused"))]
    SqlRefused {
        /// Why.
        reason: String,
        /// The call.
        #[label("this statement")]
        span: Span,
        /// The fix.
        #[help]
        help: Option<String>,
    },
    /// A limit of the sandbox was reached.
    #[error("the script went past its {limit} limit{detail}")]
    #[diagnostic(code("drone::script::limit"), help("a script is bounded so a loop or runaway recursion cannot hang or exhaust drone; raise `timeout` if the work is real"))]
    Limit {
        /// Which limit: operations, call depth, data size, deadline, ...
        limit: &'static str,
        /// More, such as the deadline's length.
        detail: String,
        /// Where the script was.
        #[label("stopped here")]
        span: Span,
    },
    /// The database could not be reached, or refused the login.
    #[error("database {target}: {reason}")]
    #[diagnostic(code("drone::script::database"), help("check that the database is reachable from where the task runs (`--tunnel`, or `--on fargate` inside the VPC) and its credentials"))]
    Database {
        /// The grant's resource.
        target: String,
        /// What the server or the network said.
        reason: String,
        /// The call.
        #[label("here")]
        span: Span,
    },
    /// The database server refused or failed a statement (the transaction it
    /// was part of is rolled back).
    #[error("database {target}: {reason}")]
    #[diagnostic(code("drone::script::statement"))]
    Statement {
        /// The grant's resource.
        target: String,
        /// What the server said.
        reason: String,
        /// The call.
        #[label("this statement")]
        span: Span,
        /// What the server's error means for the script.
        #[help]
        help: Option<String>,
    },
    /// An AWS call from a host function failed.
    #[error("{function} failed: {reason}")]
    #[diagnostic(code("drone::script::host"))]
    Host {
        /// The function.
        function: String,
        /// The provider's message.
        reason: String,
        /// The call.
        #[label("here")]
        span: Span,
    },
    /// The script failed on its own (`throw`, a type error, ...).
    #[error("the script failed: {message}")]
    #[diagnostic(code("drone::script::failed"))]
    Failed {
        /// rhai's message.
        message: String,
        /// Where.
        #[label("here")]
        span: Span,
    },
    /// A task argument that is not one of its inputs, or not of its type.
    #[error("argument `{name}`: {reason}")]
    #[diagnostic(code("drone::script::argument"), help("pass `--arg NAME=VALUE` for the task's inputs: {inputs}"))]
    Argument {
        /// The argument.
        name: String,
        /// What is wrong.
        reason: String,
        /// The task's inputs.
        inputs: String,
        /// The task.
        #[label("this task")]
        span: Span,
    },
}

impl Located for ScriptError {
    fn span(&self) -> Span {
        use ScriptError::*;
        match self {
            Source { span, .. }
            | Syntax { span, .. }
            | UnknownFunction { span, .. }
            | NotGranted { span, .. }
            | SqlRefused { span, .. }
            | Limit { span, .. }
            | Database { span, .. }
            | Statement { span, .. }
            | Host { span, .. }
            | Failed { span, .. }
            | Argument { span, .. } => *span,
        }
    }
}

impl ScriptError {
    /// Whether the sandbox or the grants stopped the script (rather than the
    /// script, its database or AWS failing).
    pub fn is_refusal(&self) -> bool {
        matches!(self, ScriptError::NotGranted { .. } | ScriptError::SqlRefused { .. } | ScriptError::Limit { .. })
    }
}
