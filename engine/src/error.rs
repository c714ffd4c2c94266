//! Errors of evaluation (the language meets real values) and of execution.

use drone_lang::{Located, Span};
use miette::Diagnostic;
use thiserror::Error;

/// Errors found while evaluating a workflow to its resource graph.
#[derive(Clone, Debug, Error, Diagnostic, PartialEq)]
pub enum EvalError {
    /// A required parameter was not given.
    #[error("missing value for parameter `{name}`")]
    #[diagnostic(
        code("drone::eval::missing_param"),
        help("pass it with `--param {name}=VALUE`, or give the parameter a default")
    )]
    MissingParam {
        /// The parameter.
        name: String,
        /// Its declaration.
        #[label("declared without a default")]
        span: Span,
    },
    /// A `--param` that no parameter declares.
    #[error("unknown parameter `{name}`")]
    #[diagnostic(code("drone::eval::unknown_param"))]
    UnknownParam {
        /// The given name.
        name: String,
        /// The workflow's first item (the parameter list lives there).
        #[label("the workflow declares no such parameter")]
        span: Span,
        /// The fix.
        #[help]
        help: Option<String>,
    },
    /// A value of the wrong type at run time.
    #[error("expected {expected}, found {found}")]
    #[diagnostic(code("drone::eval::type"), help("{help}"))]
    Type {
        /// What was expected.
        expected: String,
        /// What was found.
        found: String,
        /// Where.
        #[label("this is {found}")]
        span: Span,
        /// The fix.
        help: String,
    },
    /// A built-in function refused its arguments.
    #[error("`{function}` failed: {reason}")]
    #[diagnostic(code("drone::eval::function"), help("check the arguments of `{function}`"))]
    Function {
        /// The function.
        function: String,
        /// Why.
        reason: String,
        /// The call.
        #[label("in this call")]
        span: Span,
    },
    /// An index or key that is not there.
    #[error("no element `{key}` in this {kind}")]
    #[diagnostic(code("drone::eval::missing_key"))]
    MissingKey {
        /// The key or index.
        key: String,
        /// "list" or "map".
        kind: &'static str,
        /// Where.
        #[label("not present")]
        span: Span,
        /// The fix.
        #[help]
        help: Option<String>,
    },
    /// A loop or condition that depends on values known only after apply.
    #[error("this {what} depends on values known only after apply")]
    #[diagnostic(
        code("drone::eval::unknown_at_plan"),
        help("loops and conditions must be decidable before anything runs; use parameters or literals here")
    )]
    UnknownAtPlan {
        /// "loop" or "condition".
        what: &'static str,
        /// Where.
        #[label("not known until apply")]
        span: Span,
    },
    /// A loop element that cannot key a resource address.
    #[error("a loop over a list of {found} cannot key resource addresses")]
    #[diagnostic(
        code("drone::eval::loop_key"),
        help("loop over strings or numbers, or over a map with `for name, value in map`, so addresses stay stable")
    )]
    LoopKey {
        /// The element type.
        found: &'static str,
        /// The collection.
        #[label("elements must be strings or numbers")]
        span: Span,
    },
    /// Evaluation went past one of its bounds (loop iterations, resource
    /// instances, collection or string size).
    #[error("{what} exceed the limit of {limit}")]
    #[diagnostic(
        code("drone::eval::limit"),
        help("drone bounds evaluation so that any input is checked in bounded time and memory; split the workflow")
    )]
    Limit {
        /// What grew too large.
        what: &'static str,
        /// The limit.
        limit: usize,
        /// Where.
        #[label("here")]
        span: Span,
    },
    /// Two loop iterations produced the same address.
    #[error("resource address `{address}` is produced twice")]
    #[diagnostic(
        code("drone::eval::duplicate_address"),
        help("loop keys must be unique; remove the duplicate element")
    )]
    DuplicateAddress {
        /// The address.
        address: String,
        /// The resource block.
        #[label("produced twice by this loop")]
        span: Span,
    },
    /// Division by zero and similar.
    #[error("{message}")]
    #[diagnostic(code("drone::eval::arithmetic"), help("check the operands"))]
    Arithmetic {
        /// What went wrong.
        message: &'static str,
        /// Where.
        #[label("here")]
        span: Span,
    },
    /// A secret that cannot be resolved.
    #[error("cannot resolve secret `{reference}`: {reason}")]
    #[diagnostic(
        code("drone::eval::secret"),
        help("secrets are `env:NAME` (an environment variable); set it before running")
    )]
    Secret {
        /// The reference.
        reference: String,
        /// Why.
        reason: String,
        /// The call.
        #[label("this secret")]
        span: Span,
    },
    /// A policy pack or rule named (`@allow`, `disabled_policies`) that no pack defines.
    #[error("no policy pack or rule is named `{name}`")]
    #[diagnostic(code("drone::policy::unknown_rule"), help("{help}"))]
    UnknownRule {
        /// The name written.
        name: String,
        /// The closest known name, or where the names are listed.
        help: String,
        /// Where it is written.
        #[label("unknown")]
        span: Span,
    },
    /// A value AWS would refuse (an address range, a port, a zone, a retention period), known before apply.
    #[error("{message}")]
    #[diagnostic(code("drone::eval::invalid_value"), help("{help}"))]
    Invalid {
        /// What is wrong.
        message: String,
        /// The fix.
        help: String,
        /// Where the value is written.
        #[label("AWS would refuse this")]
        span: Span,
    },
    /// A plan would delete or replace a resource whose lifecycle forbids it.
    #[error("`{address}` has `lifecycle.prevent_destroy`, and this plan would {action} it{why}")]
    #[diagnostic(
        code("drone::plan::prevent_destroy"),
        help("change the workflow so the resource is updated in place, or set `prevent_destroy = false` first if it must go")
    )]
    PreventDestroy {
        /// The protected resource.
        address: String,
        /// `replace` or `delete`.
        action: &'static str,
        /// What forces it (the attributes whose change replaces it).
        why: String,
        /// Where `prevent_destroy` is set.
        #[label("protected here")]
        span: Span,
    },
    /// A workflow header setting drone cannot use.
    #[error("{message}")]
    #[diagnostic(code("drone::eval::workflow"), help("{help}"))]
    Workflow {
        /// What is wrong.
        message: String,
        /// The fix.
        help: String,
        /// Where.
        #[label("here")]
        span: Span,
    },
}

impl Located for EvalError {
    fn span(&self) -> Span {
        use EvalError::*;
        match self {
            MissingParam { span, .. }
            | UnknownParam { span, .. }
            | Type { span, .. }
            | Function { span, .. }
            | MissingKey { span, .. }
            | UnknownAtPlan { span, .. }
            | LoopKey { span, .. }
            | Limit { span, .. }
            | DuplicateAddress { span, .. }
            | Arithmetic { span, .. }
            | Secret { span, .. }
            | UnknownRule { span, .. }
            | PreventDestroy { span, .. }
            | Invalid { span, .. }
            | Workflow { span, .. } => *span,
        }
    }
}

/// A span-less error from a deep helper; the caller that knows the span
/// attaches it with [`At::at`].
#[derive(Clone, Debug, PartialEq)]
pub struct FnError(pub String);

/// Attaches a span to a span-less result.
pub trait At<T> {
    /// The result with its error located at `span` in a call to `function`.
    fn at(self, function: &str, span: Span) -> Result<T, EvalError>;
}

impl<T> At<T> for Result<T, FnError> {
    fn at(self, function: &str, span: Span) -> Result<T, EvalError> {
        self.map_err(|e| EvalError::Function { function: function.to_string(), reason: e.0, span })
    }
}
