//! The language's diagnostics: one enum per phase (syntax, check), each variant
//! holding data and spans, never pre-rendered text. Codes are stable and
//! namespaced; the CLI and the language server attach source text at the edge.

use miette::Diagnostic;
use thiserror::Error;

use crate::span::Span;

/// Anything that points at a primary location in source.
pub trait Located {
    /// The primary span (its file is the one to render against).
    fn span(&self) -> Span;
}

/// Errors found while parsing.
#[derive(Clone, Debug, Error, Diagnostic, PartialEq)]
pub enum SyntaxError {
    /// The parser met a token it cannot continue with.
    #[error("unexpected {found}, expected {expected}")]
    #[diagnostic(
        code("drone::syntax::unexpected"),
        help("write {expected} here, or check for an unclosed bracket or string above")
    )]
    Unexpected {
        /// What was found (a token or "end of file").
        found: String,
        /// What the grammar allowed.
        expected: String,
        /// Where.
        #[label("unexpected here")]
        span: Span,
    },
    /// Input nested deeper than the parser accepts.
    #[error("{what} nested deeper than {limit} levels")]
    #[diagnostic(code("drone::syntax::too_deep"), help("split the expression into `let` bindings"))]
    TooDeep {
        /// The limit.
        limit: usize,
        /// What nests: brackets, interpolations, `else if` or `?:` links.
        what: &'static str,
        /// Where it went too deep.
        #[label("too deep")]
        span: Span,
    },
    /// An expression with more operators, members or calls than one expression may hold.
    #[error("expression too large: more than {limit} operators, members, indexes and calls")]
    #[diagnostic(code("drone::syntax::too_large_expression"), help("split the expression into `let` bindings"))]
    TooLargeExpression {
        /// The limit.
        limit: usize,
        /// The expression.
        #[label("this expression")]
        span: Span,
    },
    /// More unary operators in a row than accepted.
    #[error("more than {limit} unary operators in a row")]
    #[diagnostic(code("drone::syntax::too_many_unary"), help("`!!x` is `x`, and `- -x` is `x`"))]
    TooManyUnary {
        /// The limit.
        limit: usize,
        /// The operator past the limit.
        #[label("one too many")]
        span: Span,
    },
    /// A source file larger than accepted.
    #[error("the file is {size} bytes; drone reads source files of at most {limit} bytes")]
    #[diagnostic(code("drone::syntax::too_large"), help("split the workflow into files joined with `use`"))]
    TooLarge {
        /// The limit.
        limit: usize,
        /// The file's size.
        size: usize,
        /// The file's start.
        #[label("this file")]
        span: Span,
    },
}

impl SyntaxError {
    /// The primary span, to move.
    pub fn span_mut(&mut self) -> &mut Span {
        match self {
            SyntaxError::Unexpected { span, .. }
            | SyntaxError::TooDeep { span, .. }
            | SyntaxError::TooLargeExpression { span, .. }
            | SyntaxError::TooManyUnary { span, .. }
            | SyntaxError::TooLarge { span, .. } => span,
        }
    }
}

impl Located for SyntaxError {
    fn span(&self) -> Span {
        match self {
            SyntaxError::Unexpected { span, .. }
            | SyntaxError::TooDeep { span, .. }
            | SyntaxError::TooLargeExpression { span, .. }
            | SyntaxError::TooManyUnary { span, .. }
            | SyntaxError::TooLarge { span, .. } => *span,
        }
    }
}

/// Errors found by name resolution and type checking.
#[derive(Clone, Debug, Error, Diagnostic, PartialEq)]
pub enum CheckError {
    /// A resource block names a type the catalog does not have.
    #[error("unknown resource type `{name}`")]
    #[diagnostic(code("drone::type::unknown_resource_type"))]
    UnknownResourceType {
        /// The written type.
        name: String,
        /// Where.
        #[label("not a resource type")]
        span: Span,
        /// The fix.
        #[help]
        help: Option<String>,
    },
    /// An attribute the resource type does not have.
    #[error("unknown attribute `{name}` on {type_name}")]
    #[diagnostic(code("drone::type::unknown_attribute"))]
    UnknownAttribute {
        /// The resource or object type.
        type_name: String,
        /// The written attribute.
        name: String,
        /// Where.
        #[label("unknown attribute")]
        span: Span,
        /// The fix.
        #[help]
        help: Option<String>,
    },
    /// A required attribute is not set.
    #[error("missing required attribute `{name}` on {type_name}")]
    #[diagnostic(code("drone::type::missing_attribute"), help("add `{name} = ...`: {doc}"))]
    MissingAttribute {
        /// The resource or object type.
        type_name: String,
        /// The missing attribute.
        name: String,
        /// Its documentation line.
        doc: String,
        /// The block that lacks it.
        #[label("`{name}` is required here")]
        span: Span,
    },
    /// An attribute only the provider may set.
    #[error("attribute `{name}` of {type_name} is computed and cannot be set")]
    #[diagnostic(code("drone::type::computed_attribute"), help("remove it; read it from the resource instead"))]
    ComputedAttribute {
        /// The resource type.
        type_name: String,
        /// The attribute.
        name: String,
        /// Where it was set.
        #[label("set by the provider after apply")]
        span: Span,
    },
    /// A value of the wrong type.
    #[error("expected {expected}, found {found}")]
    #[diagnostic(code("drone::type::mismatch"))]
    TypeMismatch {
        /// The expected type.
        expected: String,
        /// The found type.
        found: String,
        /// Where.
        #[label("this is {found}")]
        span: Span,
        /// What the value is for.
        #[help]
        help: Option<String>,
    },
    /// A name that is not defined in scope.
    #[error("undefined name `{name}`")]
    #[diagnostic(code("drone::resolve::undefined"))]
    UndefinedName {
        /// The written name.
        name: String,
        /// Where.
        #[label("not defined")]
        span: Span,
        /// The fix.
        #[help]
        help: Option<String>,
    },
    /// A reference to a resource that is not declared.
    #[error("no resource `{address}` is declared")]
    #[diagnostic(code("drone::resolve::unknown_resource"))]
    UnknownResource {
        /// The referenced address.
        address: String,
        /// Where.
        #[label("no such resource")]
        span: Span,
        /// The fix.
        #[help]
        help: Option<String>,
    },
    /// Two declarations with one name.
    #[error("{kind} `{name}` is declared twice")]
    #[diagnostic(code("drone::resolve::duplicate"), help("rename one of them; {kind} names must be unique"))]
    Duplicate {
        /// What kind of declaration.
        kind: &'static str,
        /// The name (for resources, the address).
        name: String,
        /// The second declaration.
        #[label("declared again here")]
        span: Span,
        /// The first declaration.
        #[label("first declared here")]
        first: Span,
    },
    /// References that form a loop.
    #[error("dependency cycle: {path}")]
    #[diagnostic(code("drone::resolve::cycle"), help("break the cycle: one of these must not refer to the next"))]
    Cycle {
        /// The cycle, e.g. `a -> b -> a`.
        path: String,
        /// Where the first reference of the cycle is written.
        #[label("this reference closes the cycle")]
        span: Span,
        /// The other references in the cycle.
        #[label(collection, "part of the cycle")]
        others: Vec<miette::LabeledSpan>,
    },
    /// A call to a function that does not exist.
    #[error("unknown function `{name}`")]
    #[diagnostic(code("drone::call::unknown_function"))]
    UnknownFunction {
        /// The written name.
        name: String,
        /// Where.
        #[label("not a function")]
        span: Span,
        /// The fix.
        #[help]
        help: Option<String>,
    },
    /// A call with too few or too many arguments.
    #[error("`{name}` takes {expected} argument(s), found {found}")]
    #[diagnostic(code("drone::call::arg_count"), help("call it as `{name}({params})`"))]
    ArgCount {
        /// The function.
        name: String,
        /// How many it takes, e.g. "2" or "1 to 3".
        expected: String,
        /// How many were given.
        found: usize,
        /// Its parameter names.
        params: String,
        /// The call.
        #[label("wrong number of arguments")]
        span: Span,
    },
    /// A declaration in a place it is not allowed.
    #[error("`{keyword}` is not allowed {place}")]
    #[diagnostic(code("drone::syntax::misplaced"), help("{fix}"))]
    Misplaced {
        /// The declaration's keyword.
        keyword: &'static str,
        /// Where it was found, e.g. "inside a phase".
        place: &'static str,
        /// Where it goes instead.
        fix: &'static str,
        /// Where.
        #[label("not allowed here")]
        span: Span,
    },
    /// A phase that is not declared.
    #[error("unknown phase `{name}`")]
    #[diagnostic(code("drone::resolve::unknown_phase"))]
    UnknownPhase {
        /// The written name.
        name: String,
        /// Where.
        #[label("no such phase")]
        span: Span,
        /// The fix.
        #[help]
        help: Option<String>,
    },
    /// A resource refers to one that is created in a later phase.
    #[error("`{from}` in phase `{from_phase}` refers to `{to}` in phase `{to_phase}`, which runs later")]
    #[diagnostic(
        code("drone::resolve::phase_order"),
        help("move `{to}` to an earlier phase, or declare `phase {from_phase} after {to_phase}`")
    )]
    PhaseOrder {
        /// The referring resource.
        from: String,
        /// Its phase.
        from_phase: String,
        /// The referenced resource.
        to: String,
        /// Its phase.
        to_phase: String,
        /// The reference.
        #[label("refers to a later phase")]
        span: Span,
    },
    /// A provider instance that is not declared.
    #[error("unknown provider `{name}`")]
    #[diagnostic(code("drone::resolve::unknown_provider"))]
    UnknownProvider {
        /// The written name.
        name: String,
        /// Where.
        #[label("no such provider")]
        span: Span,
        /// The fix.
        #[help]
        help: Option<String>,
    },
    /// Several providers are declared and the resource does not pick one.
    #[error("resource `{address}` must choose a provider")]
    #[diagnostic(
        code("drone::resolve::ambiguous_provider"),
        help("add `provider = {first}` (declared: {names}), or mark one provider block `default = true`")
    )]
    AmbiguousProvider {
        /// The resource.
        address: String,
        /// The first declared provider, for the hint.
        first: String,
        /// All declared providers.
        names: String,
        /// The resource block.
        #[label("several providers are declared")]
        span: Span,
    },
    /// `@allow` without a reason, or an annotation drone does not know.
    #[error("{message}")]
    #[diagnostic(code("drone::annotation::invalid"))]
    BadAnnotation {
        /// What is wrong.
        message: &'static str,
        /// The annotation.
        #[label("here")]
        span: Span,
        /// The fix.
        #[help]
        help: Option<String>,
    },
    /// An imported file that cannot be loaded.
    #[error("cannot import `{path}`: {reason}")]
    #[diagnostic(code("drone::import::failed"), help("paths are relative to the importing file"))]
    Import {
        /// The written path.
        path: String,
        /// Why it failed.
        reason: String,
        /// The `use` declaration.
        #[label("imported here")]
        span: Span,
    },
    /// A parameter type that does not exist.
    #[error("unknown type `{name}`")]
    #[diagnostic(code("drone::type::unknown_type"), help("types are string, number, bool, any, list(T) and map(T)"))]
    UnknownType {
        /// The written type.
        name: String,
        /// Where.
        #[label("not a type")]
        span: Span,
    },
    /// `instance NAME ...` of a component nobody declared.
    #[error("no component `{name}` is declared")]
    #[diagnostic(code("drone::resolve::unknown_component"))]
    UnknownComponent {
        /// The written name.
        name: String,
        /// Where.
        #[label("no such component")]
        span: Span,
        /// The fix.
        #[help]
        help: Option<String>,
    },
    /// An argument the component has no input for.
    #[error("component `{component}` has no input `{input}`")]
    #[diagnostic(code("drone::type::unknown_input"))]
    UnknownInput {
        /// The argument's name.
        input: String,
        /// The component.
        component: String,
        /// Where.
        #[label("not an input")]
        span: Span,
        /// The fix.
        #[help]
        help: Option<String>,
    },
    /// A required input left out.
    #[error("instance of `{component}` misses the required input `{input}`")]
    #[diagnostic(
        code("drone::type::missing_input"),
        help("add `{input} = ...` to the instance; the component declares it without a default")
    )]
    MissingInput {
        /// The input.
        input: String,
        /// The component.
        component: String,
        /// The instance's name.
        #[label("`{input}` is not given")]
        span: Span,
        /// Where the component declares the input (in its own file).
        declared: Span,
    },
    /// A reference to an output an instance's component does not have.
    #[error("`{instance}` has no output `{output}`")]
    #[diagnostic(code("drone::resolve::unknown_output"))]
    UnknownOutput {
        /// The output named.
        output: String,
        /// The instance, `component.name`.
        instance: String,
        /// Where.
        #[label("no such output")]
        span: Span,
        /// The fix.
        #[help]
        help: Option<String>,
    },
    /// A component body reading a name from outside it.
    #[error("component `{component}` reads `{name}`, which is not one of its inputs, lets or resources")]
    #[diagnostic(
        code("drone::resolve::outside_component"),
        help("a component sees only what it is given: declare an `input` and pass the value from each instance")
    )]
    OutsideComponent {
        /// What it reads, as written.
        name: String,
        /// The component.
        component: String,
        /// Where.
        #[label("from outside the component")]
        span: Span,
    },
    /// Instances whose expansion would exceed the bound on expanded source.
    #[error("instances expand to more than {limit} bytes of declarations")]
    #[diagnostic(
        code("drone::limit::component_expansion"),
        help("each instance copies its component's body; use fewer instances, or a `for` loop inside the component")
    )]
    ExpansionLimit {
        /// The bound, in bytes of component source copied.
        limit: usize,
        /// The instance that crossed it.
        #[label("expansion stops here")]
        span: Span,
    },
    /// A `moved` block that cannot be carried out.
    #[error("{reason}")]
    #[diagnostic(code("drone::resolve::moved"))]
    BadMove {
        /// What is wrong.
        reason: String,
        /// Where.
        #[label("here")]
        span: Span,
        /// The fix.
        #[help]
        help: Option<String>,
    },
    /// A `task`, `step` or `hook` block that is not well formed.
    #[error("{reason}")]
    #[diagnostic(code("drone::script::invalid"))]
    BadScript {
        /// What is wrong.
        reason: String,
        /// Where.
        #[label("here")]
        span: Span,
        /// The fix.
        #[help]
        help: Option<String>,
    },
    /// A grant that names no known kind, or names it wrongly.
    #[error("{reason}")]
    #[diagnostic(code("drone::script::grant"))]
    BadGrant {
        /// What is wrong.
        reason: String,
        /// Where.
        #[label("here")]
        span: Span,
        /// The fix.
        #[help]
        help: Option<String>,
    },
    /// A string that is not among the values its attribute accepts.
    #[error("\"{value}\" is not {allowed}")]
    #[diagnostic(code("drone::type::not_one_of"))]
    NotOneOf {
        /// The value written.
        value: String,
        /// The accepted values, as `one of "A", "B"`.
        allowed: String,
        /// Where.
        #[label("not accepted here")]
        span: Span,
        /// The closest value, or the list.
        #[help]
        help: Option<String>,
    },
    /// An expression that is not valid where it stands.
    #[error("{message}")]
    #[diagnostic(code("drone::type::invalid"))]
    Invalid {
        /// What is wrong.
        message: &'static str,
        /// Where.
        #[label("here")]
        span: Span,
        /// The fix.
        #[help]
        help: Option<String>,
    },
}

impl CheckError {
    /// `keyword`'s declaration found `place`, with where it goes instead.
    pub fn misplaced(keyword: &'static str, place: &'static str, span: Span) -> CheckError {
        let fix = match keyword {
            "step" => "a step runs in its phase: move it into a `phase` block",
            "flag" => "a `flag` reports a finding: move it into a `policy` block",
            _ => "move it to the top level of the file",
        };
        CheckError::Misplaced { keyword, place, fix, span }
    }
}

impl Located for CheckError {
    fn span(&self) -> Span {
        use CheckError::*;
        match self {
            UnknownResourceType { span, .. }
            | UnknownAttribute { span, .. }
            | MissingAttribute { span, .. }
            | ComputedAttribute { span, .. }
            | TypeMismatch { span, .. }
            | UndefinedName { span, .. }
            | UnknownResource { span, .. }
            | Duplicate { span, .. }
            | Cycle { span, .. }
            | UnknownFunction { span, .. }
            | ArgCount { span, .. }
            | Misplaced { span, .. }
            | UnknownPhase { span, .. }
            | PhaseOrder { span, .. }
            | UnknownProvider { span, .. }
            | AmbiguousProvider { span, .. }
            | BadAnnotation { span, .. }
            | Import { span, .. }
            | UnknownType { span, .. }
            | Invalid { span, .. }
            | NotOneOf { span, .. }
            | BadScript { span, .. }
            | BadGrant { span, .. }
            | BadMove { span, .. }
            | UnknownComponent { span, .. }
            | UnknownInput { span, .. }
            | MissingInput { span, .. }
            | UnknownOutput { span, .. }
            | ExpansionLimit { span, .. }
            | OutsideComponent { span, .. } => *span,
        }
    }
}
