//! The owned syntax tree. Every node carries the [`Span`] it was parsed from;
//! nothing here refers to pest, so the parser can change without touching the
//! checker, the formatter or the engine.

use crate::span::Span;

/// One parsed `.drone` file.
#[derive(Clone, Debug, PartialEq)]
pub struct Module {
    /// Top-level items in source order.
    pub items: Vec<Item>,
    /// The whole file.
    pub span: Span,
}

/// A declaration or block, at top level or nested in a phase, loop or condition.
#[derive(Clone, Debug, PartialEq)]
pub enum Item {
    /// `workflow "name" { ... }`
    Workflow(Workflow),
    /// `param name: type = default`
    Param(Param),
    /// `let name = expr`
    Let(Let),
    /// `provider aws name { ... }`
    Provider(Provider),
    /// `resource TYPE name { ... }`
    Resource(Resource),
    /// `output name = expr`
    Output(Output),
    /// `phase name after a, b { ... }`
    Phase(Phase),
    /// `use "file" as name`
    Use(Use),
    /// `for x in expr { ... }`
    For(For),
    /// `if cond { ... } else { ... }`
    If(If),
    /// `policy rule.id { ... }`
    Policy(Policy),
    /// `flag target, message` inside a policy
    Flag(Flag),
    /// `moved { from = "...", to = "..." }`
    Moved(Moved),
    /// `component NAME { inputs, items }`
    Component(Component),
    /// `instance COMPONENT NAME { arguments }`
    Instance(Instance),
    /// `task`, `step` or `hook`: a rhai script with its grants.
    Script(Script),
}

impl Item {
    /// The span of the whole item.
    pub fn span(&self) -> Span {
        match self {
            Item::Workflow(x) => x.span,
            Item::Param(x) => x.span,
            Item::Let(x) => x.span,
            Item::Provider(x) => x.span,
            Item::Resource(x) => x.span,
            Item::Output(x) => x.span,
            Item::Moved(x) => x.span,
            Item::Component(x) => x.span,
            Item::Instance(x) => x.span,
            Item::Script(x) => x.span,
            Item::Phase(x) => x.span,
            Item::Use(x) => x.span,
            Item::For(x) => x.span,
            Item::If(x) => x.span,
            Item::Policy(x) => x.span,
            Item::Flag(x) => x.span,
        }
    }

    /// The keyword that introduces the item, for messages.
    pub fn keyword(&self) -> &'static str {
        match self {
            Item::Workflow(_) => "workflow",
            Item::Param(_) => "param",
            Item::Let(_) => "let",
            Item::Provider(_) => "provider",
            Item::Resource(_) => "resource",
            Item::Output(_) => "output",
            Item::Moved(_) => "moved",
            Item::Component(_) => "component",
            Item::Instance(_) => "instance",
            Item::Script(x) => x.kind.keyword(),
            Item::Phase(_) => "phase",
            Item::Use(_) => "use",
            Item::For(_) => "for",
            Item::If(_) => "if",
            Item::Policy(_) => "policy",
            Item::Flag(_) => "flag",
        }
    }
}

/// A name as written, with its span.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ident {
    /// The name.
    pub name: String,
    /// Where it was written.
    pub span: Span,
}

/// `workflow "name" { attributes }`: the header naming the workflow and its state.
#[derive(Clone, Debug, PartialEq)]
pub struct Workflow {
    /// The workflow's name (a plain string).
    pub name: Expr,
    /// Settings such as `state`.
    pub attributes: Vec<Attribute>,
    /// The whole block.
    pub span: Span,
}

/// `param name: type = default`
#[derive(Clone, Debug, PartialEq)]
pub struct Param {
    /// The parameter's name.
    pub name: Ident,
    /// Its declared type, if any.
    pub ty: Option<TypeExpr>,
    /// Its default; a parameter without one is required.
    pub default: Option<Expr>,
    /// The whole declaration.
    pub span: Span,
}

/// A written type such as `string` or `list(string)`.
#[derive(Clone, Debug, PartialEq)]
pub struct TypeExpr {
    /// The type constructor's name.
    pub name: Ident,
    /// The element type of `list(...)` / `map(...)`.
    pub arg: Option<Box<TypeExpr>>,
    /// Where it was written.
    pub span: Span,
}

/// `let name = expr`
#[derive(Clone, Debug, PartialEq)]
pub struct Let {
    /// The bound name.
    pub name: Ident,
    /// The type it must have, when declared (component inputs carry theirs).
    pub ty: Option<TypeExpr>,
    /// The bound value.
    pub value: Expr,
    /// The whole declaration.
    pub span: Span,
}

/// `provider KIND NAME { attributes }`
#[derive(Clone, Debug, PartialEq)]
pub struct Provider {
    /// The provider kind (`aws`).
    pub kind: Ident,
    /// The instance name resources select it by.
    pub name: Ident,
    /// Its configuration (`region`, ...).
    pub attributes: Vec<Attribute>,
    /// The whole block.
    pub span: Span,
}

/// `@name(args)` before a resource or attribute.
#[derive(Clone, Debug, PartialEq)]
pub struct Annotation {
    /// The annotation's name (`allow`).
    pub name: Ident,
    /// Its arguments.
    pub args: Vec<Arg>,
    /// The whole annotation.
    pub span: Span,
}

/// `resource TYPE NAME { attributes }`
#[derive(Clone, Debug, PartialEq)]
pub struct Resource {
    /// Annotations written before the block.
    pub annotations: Vec<Annotation>,
    /// The dotted type name, e.g. `aws.ec2.vpc`.
    pub type_name: TypePath,
    /// The resource's name, unique per type.
    pub name: Ident,
    /// Its attributes.
    pub attributes: Vec<Attribute>,
    /// Written `data`: an existing resource drone looks up by these attributes and reads,
    /// never creating, changing or deleting it.
    pub read_only: bool,
    /// The whole block.
    pub span: Span,
}

/// A dotted resource type such as `aws.ec2.vpc`.
#[derive(Clone, Debug, PartialEq)]
pub struct TypePath {
    /// The segments.
    pub segments: Vec<Ident>,
    /// Where it was written.
    pub span: Span,
}

impl TypePath {
    /// The segments joined with dots.
    pub fn dotted(&self) -> String {
        join_names(&self.segments)
    }
}

/// Joins identifier names with dots.
pub fn join_names(idents: &[Ident]) -> String {
    let mut out = String::new();
    for (i, ident) in idents.iter().enumerate() {
        if i > 0 {
            out.push('.');
        }
        out.push_str(&ident.name);
    }
    out
}

/// `name = expr` inside a block, with its annotations.
#[derive(Clone, Debug, PartialEq)]
pub struct Attribute {
    /// Annotations written before the attribute.
    pub annotations: Vec<Annotation>,
    /// The attribute's name.
    pub name: Ident,
    /// Its value.
    pub value: Expr,
    /// The whole attribute.
    pub span: Span,
}

/// `output name = expr`
#[derive(Clone, Debug, PartialEq)]
pub struct Output {
    /// The output's name.
    pub name: Ident,
    /// Its value.
    pub value: Expr,
    /// The whole declaration.
    pub span: Span,
}

/// `component NAME { input ...  items }`: a parameterised group of
/// resources, instantiated with `instance`.
#[derive(Clone, Debug, PartialEq)]
pub struct Component {
    /// Its name (the first segment of its resources' addresses).
    pub name: Ident,
    /// Its typed inputs, in order.
    pub inputs: Vec<Input>,
    /// Its body: resources, lets, loops, conditions and outputs.
    pub items: Vec<Item>,
    /// The whole block.
    pub span: Span,
}

/// `input NAME: TYPE = DEFAULT` in a component.
#[derive(Clone, Debug, PartialEq)]
pub struct Input {
    /// Its name.
    pub name: Ident,
    /// Its declared type.
    pub ty: TypeExpr,
    /// Its default; required when none.
    pub default: Option<Expr>,
    /// The whole declaration.
    pub span: Span,
}

/// `instance COMPONENT NAME { arguments }`: the component's resources under
/// the address prefix `COMPONENT.NAME`.
#[derive(Clone, Debug, PartialEq)]
pub struct Instance {
    /// The component: `[name]`, or `[import alias, name]`.
    pub component: Vec<Ident>,
    /// The instance's name.
    pub name: Ident,
    /// The arguments, one per input.
    pub attributes: Vec<Attribute>,
    /// The whole block.
    pub span: Span,
}

/// A rhai script declared in a workflow: a `task` run on demand, a `step` run
/// in its phase, or a `hook` run on an event; `grants` says what it may touch.
#[derive(Clone, Debug, PartialEq)]
pub struct Script {
    /// Annotations on the block (policy suppressions of its grants' findings).
    pub annotations: Vec<Annotation>,
    /// Task, step or hook.
    pub kind: ScriptKind,
    /// Its name.
    pub name: Ident,
    /// A hook's event (the checker refuses one on a task or step).
    pub event: Option<HookEvent>,
    /// A task's typed arguments (`input NAME: TYPE = DEFAULT`).
    pub inputs: Vec<Input>,
    /// `grants`, `run` (a `.rhai` file), `after`, `timeout`, ...
    pub attributes: Vec<Attribute>,
    /// The script written in place (`script = <<RHAI ... RHAI`).
    pub inline: Option<InlineScript>,
    /// The whole block.
    pub span: Span,
}

impl Script {
    /// The attribute called `name`, if written.
    pub fn attribute(&self, name: &str) -> Option<&Attribute> {
        self.attributes.iter().find(|a| a.name.name == name)
    }
}

/// What kind of script a block declares.
#[derive(Clone, Debug, PartialEq)]
pub enum ScriptKind {
    /// `task NAME { ... }`: run by `drone task`.
    Task,
    /// `step NAME { ... }` in a phase: run when the phase runs.
    Step,
    /// `hook NAME EVENT { ... }`: run on the event.
    Hook,
}

impl ScriptKind {
    /// The keyword that introduces it.
    pub fn keyword(&self) -> &'static str {
        match self {
            ScriptKind::Task => "task",
            ScriptKind::Step => "step",
            ScriptKind::Hook => "hook",
        }
    }
}

/// `before delete aws.s3.bucket.logs`, `after phase release`, `after destroy`.
#[derive(Clone, Debug, PartialEq)]
pub struct HookEvent {
    /// Before or after the event.
    pub when: HookWhen,
    /// What happens.
    pub on: HookOn,
    /// The event as written.
    pub span: Span,
}

/// Before or after.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum HookWhen {
    /// `before`
    Before,
    /// `after`
    After,
}

/// The event a hook waits for.
#[derive(Clone, Debug, PartialEq)]
pub enum HookOn {
    /// `phase NAME`
    Phase(Ident),
    /// `destroy`: the whole workflow's.
    Destroy,
    /// `create|update|delete RESOURCE`
    Resource(ResourceOp, Expr),
}

/// An operation on one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ResourceOp {
    /// Created.
    Create,
    /// Updated in place.
    Update,
    /// Deleted (also when replaced).
    Delete,
}

impl ResourceOp {
    /// The word for it.
    pub fn word(self) -> &'static str {
        match self {
            ResourceOp::Create => "create",
            ResourceOp::Update => "update",
            ResourceOp::Delete => "delete",
        }
    }
}

/// `script = <<TAG` ... `TAG`: a script's text written in the workflow.
#[derive(Clone, Debug, PartialEq)]
pub struct InlineScript {
    /// The closing tag.
    pub tag: String,
    /// The lines between, verbatim (each ending in a newline).
    pub text: String,
    /// Where the text starts, so a script error points into the file.
    pub text_span: Span,
    /// The whole `script = <<TAG ... TAG`.
    pub span: Span,
}

/// `moved { from = "aws.ec2.vpc.old", to = "aws.ec2.vpc.main" }`: the
/// resource state records at `from` is the one now declared at `to`.
#[derive(Clone, Debug, PartialEq)]
pub struct Moved {
    /// Its attributes (`from`, `to`), as written.
    pub attributes: Vec<Attribute>,
    /// The whole block.
    pub span: Span,
}

/// `phase NAME after A, B { items }`
#[derive(Clone, Debug, PartialEq)]
pub struct Phase {
    /// The phase's name.
    pub name: Ident,
    /// Phases that must finish first.
    pub after: Vec<Ident>,
    /// What the phase declares.
    pub items: Vec<Item>,
    /// The whole block.
    pub span: Span,
}

/// `use "path" as name`
#[derive(Clone, Debug, PartialEq)]
pub struct Use {
    /// The imported file's path, relative to the importing file.
    pub path: Expr,
    /// The name its definitions are reached by.
    pub alias: Ident,
    /// The whole declaration.
    pub span: Span,
}

/// `for key, value in expr { items }` or `for value in expr { items }`.
#[derive(Clone, Debug, PartialEq)]
pub struct For {
    /// The loop variable bound to each element (or each key, with two variables).
    pub first: Ident,
    /// With two variables, the one bound to each value.
    pub second: Option<Ident>,
    /// The collection iterated over.
    pub collection: Expr,
    /// What each iteration declares.
    pub items: Vec<Item>,
    /// The whole block.
    pub span: Span,
}

/// `if cond { items } else { items }`
#[derive(Clone, Debug, PartialEq)]
pub struct If {
    /// The condition.
    pub condition: Expr,
    /// Items declared when it holds.
    pub then_items: Vec<Item>,
    /// Items declared otherwise.
    pub else_items: Vec<Item>,
    /// The whole block.
    pub span: Span,
}

/// `policy rule.id { metadata; checks }`: a rule evaluated over the resource graph.
#[derive(Clone, Debug, PartialEq)]
pub struct Policy {
    /// Annotations before the block.
    pub annotations: Vec<Annotation>,
    /// The rule's id, e.g. `network.public_ingress`.
    pub id: TypePath,
    /// Metadata: `title`, `severity`, `rationale`, `fix`, `aliases`.
    pub attributes: Vec<Attribute>,
    /// The checks.
    pub items: Vec<Item>,
    /// The whole block.
    pub span: Span,
}

/// `flag target, message`: reports a finding on a resource or attribute.
#[derive(Clone, Debug, PartialEq)]
pub struct Flag {
    /// The resource, `resource.attribute` or `resource.attribute[index]` at fault.
    pub target: Expr,
    /// What is wrong, naming the resource and attribute.
    pub message: Expr,
    /// The whole statement.
    pub span: Span,
}

/// An expression with its span.
#[derive(Clone, Debug, PartialEq)]
pub struct Expr {
    /// What the expression is.
    pub kind: ExprKind,
    /// Where it was written.
    pub span: Span,
}

/// The kinds of expression.
#[derive(Clone, Debug, PartialEq)]
pub enum ExprKind {
    /// `null`
    Null,
    /// `true` / `false`
    Bool(bool),
    /// A number literal.
    Number(f64),
    /// A string, possibly with `${...}` interpolations.
    String(Vec<StrPart>),
    /// `[a, b]`
    List(Vec<Expr>),
    /// `{ key = value }`
    Map(Vec<MapEntry>),
    /// A bare name: a parameter, local, loop variable, import or type namespace.
    Var(Ident),
    /// `expr.name`
    Member(Box<Expr>, Ident),
    /// `expr[index]`
    Index(Box<Expr>, Box<Expr>),
    /// `expr[*]`: every element of a collection.
    Splat(Box<Expr>),
    /// `callee(args)`
    Call(Box<Expr>, Vec<Arg>),
    /// `!x`, `-x`
    Unary(UnaryOp, Box<Expr>),
    /// `a + b`, `a && b`, ...
    Binary(BinaryOp, Box<Expr>, Box<Expr>),
    /// `cond ? a : b`
    Conditional(Box<Expr>, Box<Expr>, Box<Expr>),
    /// `(expr)`, kept so the formatter writes what the user wrote.
    Paren(Box<Expr>),
}

impl Expr {
    /// The text of a string literal without interpolations.
    pub fn literal_text(&self) -> Option<String> {
        match &self.kind {
            ExprKind::String(parts) => parts
                .iter()
                .map(|p| match p {
                    StrPart::Text(t) => Some(t.as_str()),
                    StrPart::Interp(_) => None,
                })
                .collect(),
            _ => None,
        }
    }
}

/// A piece of a string literal.
#[derive(Clone, Debug, PartialEq)]
pub enum StrPart {
    /// Literal text, escapes already decoded.
    Text(String),
    /// `${expr}`
    Interp(Expr),
}

/// `key = value` in a map literal.
#[derive(Clone, Debug, PartialEq)]
pub struct MapEntry {
    /// The key, written as a name or a string.
    pub key: MapKey,
    /// The value.
    pub value: Expr,
}

/// How a map key was written.
#[derive(Clone, Debug, PartialEq)]
pub struct MapKey {
    /// The key's text.
    pub name: String,
    /// Whether it was quoted.
    pub quoted: bool,
    /// Where it was written.
    pub span: Span,
}

/// A call or annotation argument, optionally named.
#[derive(Clone, Debug, PartialEq)]
pub struct Arg {
    /// The name, for `name = value` arguments.
    pub name: Option<Ident>,
    /// The value.
    pub value: Expr,
}

/// Prefix operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum UnaryOp {
    /// `!`
    Not,
    /// `-`
    Neg,
}

/// Infix operators.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum BinaryOp {
    /// `||`
    Or,
    /// `&&`
    And,
    /// `==`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
    /// `+`
    Add,
    /// `-`
    Sub,
    /// `*`
    Mul,
    /// `/`
    Div,
    /// `%`
    Rem,
}

impl BinaryOp {
    /// The operator as written.
    pub fn symbol(self) -> &'static str {
        match self {
            BinaryOp::Or => "||",
            BinaryOp::And => "&&",
            BinaryOp::Eq => "==",
            BinaryOp::Ne => "!=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            BinaryOp::Div => "/",
            BinaryOp::Rem => "%",
        }
    }

    /// Binding strength: higher binds tighter.
    pub fn precedence(self) -> u8 {
        match self {
            BinaryOp::Or => 1,
            BinaryOp::And => 2,
            BinaryOp::Eq | BinaryOp::Ne => 3,
            BinaryOp::Lt | BinaryOp::Le | BinaryOp::Gt | BinaryOp::Ge => 4,
            BinaryOp::Add | BinaryOp::Sub => 5,
            BinaryOp::Mul | BinaryOp::Div | BinaryOp::Rem => 6,
        }
    }
}

impl Expr {
    /// The dotted name of a pure path expression (`a.b.c`), if it is one.
    pub fn as_path(&self) -> Option<Vec<&Ident>> {
        match &self.kind {
            ExprKind::Var(id) => Some(vec![id]),
            ExprKind::Member(base, name) => {
                let mut path = base.as_path()?;
                path.push(name);
                Some(path)
            }
            _ => None,
        }
    }

    /// Whether the expression is made only of literals (strings without
    /// interpolation, numbers, booleans, null, lists and maps of them).
    pub fn is_literal(&self) -> bool {
        match &self.kind {
            ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) => true,
            ExprKind::String(_) => self.literal_text().is_some(),
            ExprKind::List(items) => items.iter().all(Expr::is_literal),
            ExprKind::Map(entries) => entries.iter().all(|e| e.value.is_literal()),
            _ => false,
        }
    }

    /// The text of a string literal without interpolations.
    pub fn as_plain_string(&self) -> Option<String> {
        match &self.kind {
            ExprKind::String(parts) => {
                let mut out = String::new();
                for part in parts {
                    match part {
                        StrPart::Text(t) => out.push_str(t),
                        StrPart::Interp(_) => return None,
                    }
                }
                Some(out)
            }
            _ => None,
        }
    }
}
