//! Name resolution and type checking. Input: a loaded [`Program`] and the
//! [`Catalog`]. Output: every error found (not just the first), each with a
//! span and a help line. The checker never evaluates; values it cannot know
//! statically are typed `any` and left to the evaluator.

mod cycles;
mod expr;
mod scripts;

use std::collections::{BTreeMap, BTreeSet};

use crate::ast::*;
use crate::diagnostic::CheckError;
use crate::program::Program;
use crate::schema::{Catalog, Type};
use crate::span::Span;
use crate::suggest::{closest, did_you_mean};

/// The phase of resources declared outside any `phase` block.
pub const DEFAULT_PHASE: &str = "default";

/// Checks a whole program against the catalog.
pub fn check(program: &Program, catalog: &Catalog) -> Vec<CheckError> {
    let mut checker = Checker::new(catalog);
    for import in program.imports.values() {
        checker.collect_import(import);
    }
    checker.collect(&program.root.items, Place::Top, DEFAULT_PHASE, false);
    checker.check_phases();
    checker.check_items(&program.root.items, &mut Scope::default());
    for import in program.imports.values() {
        checker.check_items(&import.module.items, &mut Scope::default());
    }
    checker.report_cycles();
    checker.check_phase_order();
    let mut errors = checker.errors;
    errors.sort_by_key(crate::diagnostic::Located::span);
    errors
}

/// Checks a policy file: `policy` blocks (and their helpers) only.
pub fn check_policies(module: &Module, catalog: &Catalog) -> Vec<CheckError> {
    let mut checker = Checker::new(catalog);
    for item in module.items.iter().filter(|i| !matches!(i, Item::Policy(_))) {
        checker.error(CheckError::misplaced(item.keyword(), "in a policy file", item.span()));
    }
    let policies: Vec<Item> = module.items.iter().filter(|i| matches!(i, Item::Policy(_))).cloned().collect();
    checker.collect(&policies, Place::Top, DEFAULT_PHASE, false);
    checker.check_items(&policies, &mut Scope::default());
    let mut errors = checker.errors;
    errors.sort_by_key(crate::diagnostic::Located::span);
    errors
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Place {
    Top,
    Phase,
    Loop,
    Condition,
    Import,
}

impl Place {
    fn describe(self) -> &'static str {
        match self {
            Place::Top => "at the top level",
            Place::Phase => "inside a phase",
            Place::Loop => "inside a `for` loop",
            Place::Condition => "inside an `if` block",
            Place::Import => "in an imported file (imported files may only declare `let` values)",
        }
    }
}

/// A declared resource (one block, possibly expanded by a loop).
struct ResourceDecl<'a> {
    resource: &'a Resource,
    phase: String,
    looped: bool,
}

/// A global `let`.
struct LetDecl<'a> {
    decl: &'a Let,
    /// `alias.name` for imported lets.
    qualified: String,
}

/// Names bound by enclosing loops (and loop-local lets), innermost last.
#[derive(Default, Clone)]
pub(crate) struct Scope {
    frames: Vec<BTreeMap<String, Type>>,
}

impl Scope {
    fn lookup(&self, name: &str) -> Option<&Type> {
        self.frames.iter().rev().find_map(|f| f.get(name))
    }

    fn names(&self) -> impl Iterator<Item = &str> {
        self.frames.iter().flat_map(|f| f.keys().map(String::as_str))
    }
}

/// A node of the reference graph: a global let or a resource block.
#[derive(Clone, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) enum Node {
    Let(String),
    Resource(String),
}

impl Node {
    fn label(&self) -> &str {
        match self {
            Node::Let(n) | Node::Resource(n) => n,
        }
    }
}

pub(crate) struct Checker<'a> {
    catalog: &'a Catalog,
    errors: Vec<CheckError>,
    params: BTreeMap<String, &'a Param>,
    lets: BTreeMap<String, LetDecl<'a>>,
    imports: BTreeMap<String, ()>,
    providers: BTreeMap<String, &'a Provider>,
    resources: BTreeMap<String, ResourceDecl<'a>>,
    phases: BTreeMap<String, &'a Phase>,
    outputs: BTreeMap<String, Span>,
    policies: BTreeMap<String, Span>,
    /// Tasks, hooks and steps by `KIND NAME`.
    scripts: BTreeMap<String, Span>,
    workflow: Option<Span>,
    /// Whether the items being collected or checked are inside a policy.
    in_policy: bool,
    /// Edges of the reference graph, with the span of each reference.
    edges: BTreeMap<Node, Vec<(Node, Span)>>,
    /// The node whose expressions are being checked.
    current: Option<Node>,
    /// Inferred types of global lets (memo), and those being inferred (cycle guard).
    let_types: BTreeMap<String, Type>,
    inferring: Vec<String>,
}

impl<'a> Checker<'a> {
    fn new(catalog: &'a Catalog) -> Self {
        Checker {
            catalog,
            errors: Vec::new(),
            params: BTreeMap::new(),
            lets: BTreeMap::new(),
            imports: BTreeMap::new(),
            providers: BTreeMap::new(),
            resources: BTreeMap::new(),
            phases: BTreeMap::new(),
            outputs: BTreeMap::new(),
            policies: BTreeMap::new(),
            scripts: BTreeMap::new(),
            workflow: None,
            in_policy: false,
            edges: BTreeMap::new(),
            current: None,
            let_types: BTreeMap::new(),
            inferring: Vec::new(),
        }
    }

    fn error(&mut self, error: CheckError) {
        // An instance's argument is checked in each resource it reaches (its `provider`): said once.
        if !self.errors.contains(&error) {
            self.errors.push(error);
        }
    }

    fn duplicate(&mut self, kind: &'static str, name: &str, span: Span, first: Span) {
        self.error(CheckError::Duplicate { kind, name: name.to_string(), span, first });
    }

    fn collect_import(&mut self, import: &'a crate::program::Import) {
        for item in &import.module.items {
            match item {
                Item::Let(decl) => {
                    let qualified = format!("{}.{}", import.alias, decl.name.name);
                    self.lets.insert(qualified.clone(), LetDecl { decl, qualified });
                }
                other => self.error(CheckError::misplaced(other.keyword(), Place::Import.describe(), other.span())),
            }
        }
    }

    /// First pass: record every declaration and reject misplaced ones.
    fn collect(&mut self, items: &'a [Item], place: Place, phase: &str, looped: bool) {
        for item in items {
            let allowed = match item {
                Item::Workflow(_) | Item::Param(_) | Item::Provider(_) | Item::Phase(_) | Item::Use(_) => {
                    place == Place::Top
                }
                Item::Output(_) => matches!(place, Place::Top | Place::Phase) && !self.in_policy,
                Item::Let(_) => place != Place::Condition,
                Item::Resource(_) => !self.in_policy,
                Item::For(_) | Item::If(_) => true,
                Item::Policy(_) => place == Place::Top,
                Item::Flag(_) => self.in_policy,
                Item::Moved(_) => place == Place::Top && !self.in_policy,
                Item::Script(s) => {
                    !self.in_policy
                        && match s.kind {
                            ScriptKind::Step => place == Place::Phase,
                            ScriptKind::Task | ScriptKind::Hook => place == Place::Top,
                        }
                }
                // Loading expanded every instance it could and removed every component;
                // what is left stands where neither can (an `if`, a policy, a component in an import's import).
                Item::Component(_) | Item::Instance(_) => false,
            };
            if !allowed {
                let place = match item {
                    Item::Flag(_) => "outside a policy",
                    _ if self.in_policy => "inside a policy",
                    _ => place.describe(),
                };
                self.error(CheckError::misplaced(item.keyword(), place, item.span()));
                continue;
            }
            match item {
                Item::Workflow(w) => {
                    if let Some(first) = self.workflow {
                        self.duplicate("workflow header", "workflow", w.span, first);
                    }
                    self.workflow = Some(w.span);
                }
                Item::Param(p) => self.declare_global(&p.name, p.name.span, |c| {
                    c.params.insert(p.name.name.clone(), p);
                }),
                Item::Let(l) if place != Place::Loop && !self.in_policy => {
                    self.declare_global(&l.name, l.name.span, |c| {
                        c.lets.insert(l.name.name.clone(), LetDecl { decl: l, qualified: l.name.name.clone() });
                    })
                }
                Item::Let(_) => {}
                Item::Use(u) => self.declare_global(&u.alias, u.alias.span, |c| {
                    c.imports.insert(u.alias.name.clone(), ());
                }),
                Item::Provider(p) => {
                    if let Some(first) = self.providers.get(&p.name.name) {
                        let first = first.name.span;
                        self.duplicate("provider", &p.name.name, p.name.span, first);
                    } else {
                        self.providers.insert(p.name.name.clone(), p);
                    }
                }
                Item::Resource(r) => {
                    let address = format!("{}.{}", r.type_name.dotted(), r.name.name);
                    if let Some(first) = self.resources.get(&address) {
                        let first = first.resource.name.span;
                        self.duplicate("resource", &address, r.name.span, first);
                    } else {
                        self.resources.insert(address, ResourceDecl { resource: r, phase: phase.to_string(), looped });
                    }
                }
                Item::Output(o) => {
                    if let Some(first) = self.outputs.get(&o.name.name) {
                        let first = *first;
                        self.duplicate("output", &o.name.name, o.name.span, first);
                    } else {
                        self.outputs.insert(o.name.name.clone(), o.name.span);
                    }
                }
                Item::Phase(p) => {
                    if p.name.name == DEFAULT_PHASE {
                        self.error(CheckError::Invalid {
                            message: "the phase name `default` is reserved",
                            span: p.name.span,
                            help: Some(
                                "resources outside any phase run in the implicit `default` phase; pick another name"
                                    .into(),
                            ),
                        });
                    }
                    if let Some(first) = self.phases.get(&p.name.name) {
                        let first = first.name.span;
                        self.duplicate("phase", &p.name.name, p.name.span, first);
                    } else {
                        self.phases.insert(p.name.name.clone(), p);
                    }
                    self.collect(&p.items, Place::Phase, &p.name.name, false);
                }
                Item::Policy(p) => {
                    let id = p.id.dotted();
                    if let Some(first) = self.policies.get(&id) {
                        let first = *first;
                        self.duplicate("policy", &id, p.id.span, first);
                    } else {
                        self.policies.insert(id, p.id.span);
                    }
                    self.in_policy = true;
                    self.collect(&p.items, Place::Loop, phase, false);
                    self.in_policy = false;
                }
                Item::Script(s) => {
                    let key = format!("{} {}", s.kind.keyword(), s.name.name);
                    if let Some(first) = self.scripts.get(&key) {
                        let first = *first;
                        self.duplicate(s.kind.keyword(), &s.name.name, s.name.span, first);
                    } else {
                        self.scripts.insert(key, s.name.span);
                    }
                }
                Item::Flag(_) | Item::Moved(_) | Item::Component(_) | Item::Instance(_) => {}
                Item::For(f) => self.collect(&f.items, Place::Loop, phase, true),
                Item::If(i) => {
                    let inner = if looped { Place::Loop } else { Place::Condition };
                    self.collect(&i.then_items, inner, phase, looped);
                    self.collect(&i.else_items, inner, phase, looped);
                }
            }
        }
    }

    /// Params, lets and imports share one namespace.
    fn declare_global(&mut self, name: &Ident, span: Span, insert: impl FnOnce(&mut Self)) {
        let first = self
            .params
            .get(&name.name)
            .map(|p| p.name.span)
            .or_else(|| self.lets.get(&name.name).map(|l| l.decl.name.span));
        match first {
            Some(first) => self.duplicate("name", &name.name, span, first),
            None if self.imports.contains_key(&name.name) => {
                self.duplicate("name", &name.name, span, span);
            }
            None => insert(self),
        }
    }

    fn check_phases(&mut self) {
        let names: Vec<String> = self.phases.keys().cloned().collect();
        let phases: Vec<&Phase> = self.phases.values().copied().collect();
        for phase in phases {
            for after in &phase.after {
                if !self.phases.contains_key(&after.name) {
                    let help = did_you_mean(
                        closest(&after.name, names.iter().map(String::as_str)),
                        "declare the phase, or remove it from `after`",
                    );
                    self.error(CheckError::UnknownPhase { name: after.name.clone(), span: after.span, help });
                }
            }
        }
        if let Some((path, span)) = cycles::phase_cycle(&self.phases) {
            self.error(CheckError::Cycle { path, span, others: Vec::new() });
        }
    }

    /// Second pass: check every expression in its scope.
    fn check_items(&mut self, items: &'a [Item], scope: &mut Scope) {
        for item in items {
            match item {
                Item::Workflow(w) => self.check_workflow(w, scope),
                Item::Param(p) => self.check_param(p, scope),
                Item::Let(l) => {
                    let ty = if scope.frames.is_empty() {
                        self.current = Some(Node::Let(self.let_key(&l.name.name, l)));
                        let ty = self.infer(&l.value, scope);
                        self.current = None;
                        ty
                    } else {
                        let ty = self.infer(&l.value, scope);
                        if let Some(frame) = scope.frames.last_mut() {
                            frame.insert(l.name.name.clone(), ty.clone());
                        }
                        ty
                    };
                    // A component's input: the argument must have the input's type.
                    if let Some(declared) = l.ty.as_ref().and_then(|t| self.resolve_type(t)) {
                        let input =
                            l.name.name.rsplit_once(crate::components::OWNED).map_or(l.name.name.as_str(), |(_, n)| n);
                        let instance = l.name.name.split_once(crate::components::OWNED).map_or("", |(p, _)| p);
                        self.expect(&declared, &ty, l.value.span, &format!("input `{input}` of `{instance}`"));
                    }
                }
                Item::Provider(p) => self.check_provider(p, scope),
                Item::Resource(r) => self.check_resource(r, scope),
                Item::Output(o) => {
                    self.infer(&o.value, scope);
                }
                Item::Phase(p) => self.check_items(&p.items, scope),
                Item::Use(_) => {}
                Item::For(f) => {
                    let collection = self.infer(&f.collection, scope);
                    // With two variables, lists bind (index, element) and maps (key, value).
                    let (first, second) = match &collection {
                        Type::List(elem) => match f.second {
                            Some(_) => (Type::Number, (**elem).clone()),
                            None => ((**elem).clone(), Type::Any),
                        },
                        Type::Map(value) => match f.second {
                            Some(_) => (Type::String, (**value).clone()),
                            None => ((**value).clone(), Type::Any),
                        },
                        Type::Any | Type::Object(_) | Type::Json => (Type::Any, Type::Any),
                        other => {
                            self.error(CheckError::TypeMismatch {
                                expected: "a list or map".into(),
                                found: other.to_string(),
                                span: f.collection.span,
                                help: Some("`for` iterates over the elements of a list or the entries of a map".into()),
                            });
                            (Type::Any, Type::Any)
                        }
                    };
                    let second_ty = second;
                    let mut frame = BTreeMap::new();
                    frame.insert(f.first.name.clone(), first);
                    if let Some(second) = &f.second {
                        frame.insert(second.name.clone(), second_ty);
                    }
                    scope.frames.push(frame);
                    self.check_items(&f.items, scope);
                    scope.frames.pop();
                }
                Item::Policy(p) => {
                    self.check_annotations(&p.annotations);
                    self.check_policy_metadata(p, scope);
                    self.in_policy = true;
                    scope.frames.push(BTreeMap::new());
                    self.check_items(&p.items, scope);
                    scope.frames.pop();
                    self.in_policy = false;
                }
                Item::Moved(m) => self.check_moved(m),
                Item::Script(s) => self.check_script(s, scope),
                Item::Component(_) | Item::Instance(_) => {}
                // A misplaced flag was reported by `collect`; checking it again adds noise.
                Item::Flag(_) if !self.in_policy => {}
                Item::Flag(f) => {
                    self.infer(&f.target, scope);
                    let ty = self.infer(&f.message, scope);
                    self.expect(&Type::String, &ty, f.message.span, "a finding's message");
                }
                Item::If(i) => {
                    let ty = self.infer(&i.condition, scope);
                    self.expect(&Type::Bool, &ty, i.condition.span, "an `if` condition");
                    self.check_items(&i.then_items, scope);
                    self.check_items(&i.else_items, scope);
                }
            }
        }
    }

    /// A `moved` block: `from` and `to` plain resource addresses; `to`
    /// declared by the workflow, `from` no longer.
    fn check_moved(&mut self, m: &Moved) {
        let mut ends = BTreeMap::new();
        for a in &m.attributes {
            let name = a.name.name.as_str();
            if name != "from" && name != "to" {
                let help = did_you_mean(closest(name, ["from", "to"]), "a `moved` block has `from` and `to`");
                self.error(CheckError::BadMove {
                    reason: format!("unknown attribute `{name}` in `moved`"),
                    span: a.name.span,
                    help,
                });
                continue;
            }
            match a.value.as_plain_string() {
                Some(address) if crate::address::Address::parse(&address).is_some() => {
                    ends.insert(name, (address, a.value.span));
                }
                _ => self.error(CheckError::BadMove {
                    reason: format!("`{name}` must be a resource address written as a plain string"),
                    span: a.value.span,
                    help: Some("e.g. `\"aws.ec2.vpc.main\"`, or `\"aws.ec2.subnet.private[\\\"eu-west-1a\\\"]\"` for one of a loop's".into()),
                }),
            }
        }
        for end in ["from", "to"] {
            if !m.attributes.iter().any(|a| a.name.name == end) {
                self.error(CheckError::BadMove {
                    reason: format!("this `moved` block has no `{end}`"),
                    span: m.span,
                    help: Some("write `moved { from = \"OLD ADDRESS\", to = \"NEW ADDRESS\" }`".into()),
                });
            }
        }
        let (Some((from, from_span)), Some((to, to_span))) = (ends.get("from").cloned(), ends.get("to").cloned())
        else {
            return;
        };
        let decl = |address: &str| crate::address::Address::parse(address).map(|a| a.decl).unwrap_or_default();
        let (from_decl, to_decl) = (decl(&from), decl(&to));
        // Declared blocks by address (a component instance's carry its prefix).
        let declared: BTreeSet<String> = self
            .resources
            .values()
            .map(|d| crate::components::address_of(&d.resource.type_name.dotted(), &d.resource.name.name))
            .collect();
        if !declared.contains(&to_decl) {
            let help = did_you_mean(
                closest(&to_decl, declared.iter().map(String::as_str)),
                "`to` is where the resource is declared now",
            );
            self.error(CheckError::BadMove { reason: format!("no resource `{to}` is declared"), span: to_span, help });
        }
        if from_decl != to_decl && declared.contains(&from_decl) {
            self.error(CheckError::BadMove {
                reason: format!("`{from}` is still declared"),
                span: from_span,
                help: Some(
                    "a move is for a resource whose block was renamed or moved; remove the old block, or this `moved`"
                        .into(),
                ),
            });
        }
    }

    fn let_key(&self, name: &str, decl: &Let) -> String {
        self.lets
            .values()
            .find(|l| std::ptr::eq(l.decl, decl))
            .map_or_else(|| name.to_string(), |l| l.qualified.clone())
    }

    fn check_workflow(&mut self, w: &Workflow, scope: &Scope) {
        if w.name.as_plain_string().is_none() {
            self.error(CheckError::Invalid {
                message: "the workflow name must be a plain string",
                span: w.name.span,
                help: Some("write the name without `${...}`".into()),
            });
        }
        let state_fields = vec![
            crate::schema::Field {
                name: "backend".into(),
                ty: Type::String,
                required: false,
                doc: "where state is kept: \"local\" (a file) or \"s3\" (an object in a bucket, shared by a team)"
                    .into(),
            },
            crate::schema::Field {
                name: "bucket".into(),
                ty: Type::String,
                required: false,
                doc: "the S3 bucket that keeps state (backend \"s3\")".into(),
            },
            crate::schema::Field {
                name: "key".into(),
                ty: Type::String,
                required: false,
                doc: "the state object's key in the bucket (backend \"s3\"); its lock is KEY.lock".into(),
            },
            crate::schema::Field {
                name: "region".into(),
                ty: Type::String,
                required: false,
                doc: "the bucket's region (backend \"s3\"); the environment's when left out".into(),
            },
            crate::schema::Field {
                name: "path".into(),
                ty: Type::String,
                required: false,
                doc: "the state file, relative to the workflow file".into(),
            },
        ];
        let fields = [
            crate::schema::Field {
                name: "state".into(),
                ty: Type::Object(state_fields),
                required: false,
                doc: "where state is kept".into(),
            },
            crate::schema::Field {
                name: "description".into(),
                ty: Type::String,
                required: false,
                doc: "what the workflow is for".into(),
            },
            crate::schema::Field {
                name: "environment".into(),
                ty: Type::String,
                required: false,
                doc: "the environment, e.g. \"prod\" (policies read it)".into(),
            },
            crate::schema::Field {
                name: "policy_dirs".into(),
                ty: Type::list(Type::String),
                required: false,
                doc: "extra policy directories, relative to this file".into(),
            },
            crate::schema::Field {
                name: "disabled_policies".into(),
                ty: Type::list(Type::String),
                required: false,
                doc: "policy packs or rule ids to turn off".into(),
            },
        ];
        self.check_fields(&w.attributes, &fields, "workflow", w.span, scope);
    }

    fn check_policy_metadata(&mut self, p: &Policy, scope: &Scope) {
        use crate::schema::Field;
        let field = |name: &str, ty: Type, required: bool, doc: &str| Field {
            name: name.into(),
            ty,
            required,
            doc: doc.into(),
        };
        let fields = [
            field("title", Type::String, true, "one line naming what the rule requires"),
            field("severity", Type::String, true, "\"error\", \"warning\" or \"info\""),
            field("rationale", Type::String, false, "why the rule exists"),
            field("fix", Type::String, false, "how to make a finding go away"),
            field(
                "aliases",
                Type::list(Type::String),
                false,
                "ids of the same rule in other tools (CKV_AWS_*, AVD-AWS-*)",
            ),
        ];
        self.check_fields(&p.attributes, &fields, &format!("policy {}", p.id.dotted()), p.id.span, scope);
        if let Some(attr) = p.attributes.iter().find(|a| a.name.name == "severity") {
            let ok = attr.value.as_plain_string().is_some_and(|s| matches!(s.as_str(), "error" | "warning" | "info"));
            if !ok {
                self.error(CheckError::Invalid {
                    message: "a policy's severity must be \"error\", \"warning\" or \"info\"",
                    span: attr.value.span,
                    help: Some("write the severity as a plain string".into()),
                });
            }
        }
    }

    fn check_param(&mut self, p: &Param, scope: &Scope) {
        let declared = p.ty.as_ref().and_then(|t| self.resolve_type(t));
        if let Some(default) = &p.default {
            let found = self.infer(default, scope);
            if let Some(declared) = &declared {
                self.expect(declared, &found, default.span, "the parameter's declared type");
            }
        }
    }

    pub(crate) fn resolve_type(&mut self, t: &TypeExpr) -> Option<Type> {
        let arg = match &t.arg {
            Some(a) => Some(self.resolve_type(a)?),
            None => None,
        };
        let ty = match (t.name.name.as_str(), arg) {
            ("string", None) => Type::String,
            ("number", None) => Type::Number,
            ("bool", None) => Type::Bool,
            ("any", None) => Type::Any,
            ("list", a) => Type::list(a.unwrap_or(Type::Any)),
            ("map", a) => Type::map(a.unwrap_or(Type::Any)),
            _ => {
                self.error(CheckError::UnknownType { name: t.name.name.clone(), span: t.span });
                return None;
            }
        };
        Some(ty)
    }

    fn check_provider(&mut self, p: &Provider, scope: &Scope) {
        let Some(fields) = self.catalog.provider(&p.kind.name).cloned() else {
            let kinds: Vec<String> = self.catalog.provider_kinds().map(String::from).collect();
            let help = did_you_mean(
                closest(&p.kind.name, kinds.iter().map(String::as_str)),
                "the known provider kinds are listed by `drone check --help`",
            );
            self.error(CheckError::UnknownResourceType {
                name: format!("provider {}", p.kind.name),
                span: p.kind.span,
                help,
            });
            return;
        };
        let mut fields = fields;
        fields.push(crate::schema::Field {
            name: crate::schema::DEFAULT_PROVIDER_SETTING.into(),
            ty: crate::schema::Type::Bool,
            required: false,
            doc: "resources that name no provider use this one (with several providers declared)".into(),
        });
        self.check_fields(&p.attributes, &fields, &format!("provider {}", p.kind.name), p.name.span, scope);
        if is_default_provider(p) {
            // Reported once, at the later of the two.
            let earlier =
                |o: &&&Provider| (o.name.span.file, o.name.span.start) < (p.name.span.file, p.name.span.start);
            if let Some(other) = self.providers.values().filter(earlier).find(|o| is_default_provider(o)) {
                let first = other.name.span;
                self.duplicate("default provider", "default = true", p.name.span, first);
            }
        }
    }

    fn check_fields(
        &mut self,
        attrs: &[Attribute],
        fields: &[crate::schema::Field],
        type_name: &str,
        block: Span,
        scope: &Scope,
    ) {
        for attr in attrs {
            match fields.iter().find(|f| f.name == attr.name.name) {
                Some(field) => self.check_value(&attr.value, &field.ty, &field.doc, scope),
                None => {
                    let help =
                        did_you_mean(closest(&attr.name.name, fields.iter().map(|f| f.name.as_str())), "remove it");
                    self.error(CheckError::UnknownAttribute {
                        type_name: type_name.into(),
                        name: attr.name.name.clone(),
                        span: attr.name.span,
                        help,
                    });
                }
            }
        }
        for field in fields.iter().filter(|f| f.required) {
            if !attrs.iter().any(|a| a.name.name == field.name) {
                self.error(CheckError::MissingAttribute {
                    type_name: type_name.into(),
                    name: field.name.clone(),
                    doc: field.doc.clone(),
                    span: block,
                });
            }
        }
    }

    fn check_resource(&mut self, r: &'a Resource, scope: &Scope) {
        let type_name = r.type_name.dotted();
        let address = format!("{type_name}.{}", r.name.name);
        self.check_annotations(&r.annotations);
        let Some(schema) = self.catalog.resource(&type_name) else {
            let names: Vec<&str> = self.catalog.resources().map(|s| s.type_name.as_str()).collect();
            let help =
                did_you_mean(closest(&type_name, names), "run `drone check --list-types` for the known resource types");
            self.error(CheckError::UnknownResourceType { name: type_name, span: r.type_name.span, help });
            return;
        };
        // Only the first block of a duplicated address owns the graph node.
        let owns_node = self.resources.get(&address).is_some_and(|d| std::ptr::eq(d.resource, r));
        self.current = owns_node.then(|| Node::Resource(address.clone()));
        for attr in &r.attributes {
            self.check_annotations(&attr.annotations);
            let name = attr.name.name.as_str();
            match name {
                "provider" => self.check_provider_choice(&attr.value),
                "lifecycle" => self.check_lifecycle(&attr.value, schema, scope),
                "depends_on" => {
                    let ty = self.infer(&attr.value, scope);
                    let ok = matches!(&ty, Type::List(e) if matches!(**e, Type::Resource(_) | Type::Any))
                        || matches!(ty, Type::Any);
                    if !ok {
                        self.error(CheckError::TypeMismatch {
                            expected: "a list of resources".into(),
                            found: ty.to_string(),
                            span: attr.value.span,
                            help: Some("write `depends_on = [aws.ec2.vpc.main]`".into()),
                        });
                    }
                }
                _ => match schema.attribute(name) {
                    Some(a) if !a.settable() => self.error(CheckError::ComputedAttribute {
                        type_name: type_name.clone(),
                        name: name.into(),
                        span: attr.name.span,
                    }),
                    Some(a) => {
                        let (ty, what) = (a.ty.clone(), format!("`{name}` ({})", a.doc));
                        self.check_value(&attr.value, &ty, &what, scope);
                    }
                    None => {
                        let settable = schema.attributes.iter().filter(|a| a.settable()).map(|a| a.name.as_str());
                        let help = did_you_mean(
                            closest(name, settable.chain(crate::schema::META_ATTRIBUTES)),
                            "remove it; `drone check --list-types` shows each type's attributes",
                        );
                        self.error(CheckError::UnknownAttribute {
                            type_name: type_name.clone(),
                            name: name.into(),
                            span: attr.name.span,
                            help,
                        });
                    }
                },
            }
            if let Some(first) = r.attributes.iter().find(|a| a.name.name == name).filter(|a| !std::ptr::eq(*a, attr)) {
                self.duplicate("attribute", name, attr.name.span, first.name.span);
            }
        }
        // A `data` block names what it looks up by: the required attributes that identify a
        // resource (those whose change would replace it); the rest are read, not given.
        let needed = |a: &&crate::schema::AttributeSchema| {
            a.presence == crate::schema::Presence::Required && (!r.read_only || a.force_new)
        };
        for a in schema.attributes.iter().filter(needed) {
            if !r.attributes.iter().any(|x| x.name.name == a.name) {
                self.error(CheckError::MissingAttribute {
                    type_name: type_name.clone(),
                    name: a.name.clone(),
                    doc: a.doc.clone(),
                    span: r.name.span,
                });
            }
        }
        let has_default = self.providers.values().any(|p| is_default_provider(p));
        if self.providers.len() > 1 && !has_default && !r.attributes.iter().any(|a| a.name.name == "provider") {
            let names: Vec<&str> = self.providers.keys().map(String::as_str).collect();
            self.error(CheckError::AmbiguousProvider {
                address,
                first: names[0].to_string(),
                names: names.join(", "),
                span: r.name.span,
            });
        }
        self.current = None;
    }

    /// `lifecycle = { ignore_changes = ["desired_count"] }`: literal names of
    /// attributes the type lets a workflow set.
    fn check_lifecycle(&mut self, value: &Expr, schema: &crate::schema::ResourceSchema, scope: &Scope) {
        let ExprKind::Map(entries) = &value.kind else {
            self.error(CheckError::TypeMismatch {
                expected: "a lifecycle block".into(),
                found: "another value".into(),
                span: value.span,
                help: Some("write `lifecycle = { ignore_changes = [\"desired_count\"] }`".into()),
            });
            return;
        };
        for entry in entries {
            if ["prevent_destroy", "create_before_destroy"].contains(&entry.key.name.as_str()) {
                // A switch known before planning: a literal, a parameter, a `let`.
                let found = self.infer(&entry.value, scope);
                self.expect(&Type::Bool, &found, entry.value.span, &entry.key.name);
                continue;
            }
            if entry.key.name != "ignore_changes" {
                let help = did_you_mean(
                    closest(&entry.key.name, crate::schema::LIFECYCLE_SETTINGS),
                    "a lifecycle block takes `ignore_changes`, `prevent_destroy` and `create_before_destroy`",
                );
                self.error(CheckError::UnknownAttribute {
                    type_name: "lifecycle".into(),
                    name: entry.key.name.clone(),
                    span: entry.key.span,
                    help,
                });
                continue;
            }
            let ExprKind::List(names) = &entry.value.kind else {
                self.error(CheckError::TypeMismatch {
                    expected: "a list of attribute names".into(),
                    found: "another value".into(),
                    span: entry.value.span,
                    help: Some("write `ignore_changes = [\"desired_count\"]`".into()),
                });
                continue;
            };
            for name_expr in names {
                let Some(name) = name_expr.literal_text() else {
                    self.error(CheckError::TypeMismatch {
                        expected: "an attribute name written as a string".into(),
                        found: "an expression".into(),
                        span: name_expr.span,
                        help: Some("name the attribute as text, e.g. \"desired_count\"".into()),
                    });
                    continue;
                };
                match schema.attribute(&name) {
                    Some(a) if a.settable() => {}
                    Some(_) => self.error(CheckError::ComputedAttribute {
                        type_name: schema.type_name.clone(),
                        name,
                        span: name_expr.span,
                    }),
                    None => {
                        let settable = schema.attributes.iter().filter(|a| a.settable()).map(|a| a.name.as_str());
                        let help = did_you_mean(
                            closest(&name, settable),
                            "`drone check --list-types` shows each type's attributes",
                        );
                        self.error(CheckError::UnknownAttribute {
                            type_name: schema.type_name.clone(),
                            name,
                            span: name_expr.span,
                            help,
                        });
                    }
                }
            }
        }
    }

    fn check_provider_choice(&mut self, value: &Expr) {
        let ExprKind::Var(name) = &value.kind else {
            self.error(CheckError::Invalid {
                message: "`provider` takes the name of a declared provider",
                span: value.span,
                help: Some("write `provider = <name>` as declared by `provider aws <name> { ... }`".into()),
            });
            return;
        };
        if !self.providers.contains_key(&name.name) {
            let help = did_you_mean(
                closest(&name.name, self.providers.keys().map(String::as_str)),
                "declare it with `provider aws <name> { region = \"...\" }`",
            );
            self.error(CheckError::UnknownProvider { name: name.name.clone(), span: name.span, help });
        }
    }

    fn check_annotations(&mut self, annotations: &[Annotation]) {
        for a in annotations {
            if a.name.name != "allow" {
                let help = did_you_mean(
                    closest(&a.name.name, ["allow"]),
                    "the only annotation is `@allow(rule.id, reason = \"...\")`",
                );
                self.error(CheckError::BadAnnotation { message: "unknown annotation", span: a.name.span, help });
                continue;
            }
            let rule = a.args.iter().find(|x| x.name.is_none());
            if rule.is_none_or(|r| r.value.as_path().is_none()) {
                self.error(CheckError::BadAnnotation {
                    message: "`@allow` must name the rule it suppresses",
                    span: a.span,
                    help: Some("write `@allow(rule.id, reason = \"why this is safe\")`".into()),
                });
            }
            if let Some(until) = a.args.iter().find(|x| x.name.as_ref().is_some_and(|n| n.name == "until")) {
                let date = until.value.as_plain_string().unwrap_or_default();
                let valid = date.len() == 10
                    && date.char_indices().all(|(i, c)| if i == 4 || i == 7 { c == '-' } else { c.is_ascii_digit() });
                if !valid {
                    self.error(CheckError::BadAnnotation {
                        message: "`until` must be a date written YYYY-MM-DD",
                        span: until.value.span,
                        help: Some("write e.g. `until = \"2027-03-31\"`; the finding returns after that day".into()),
                    });
                }
            }
            let reason = a.args.iter().find(|x| x.name.as_ref().is_some_and(|n| n.name == "reason"));
            let has_reason = reason.and_then(|r| r.value.as_plain_string()).is_some_and(|s| !s.trim().is_empty());
            if !has_reason {
                self.error(CheckError::BadAnnotation {
                    message: "`@allow` needs a reason",
                    span: a.span,
                    help: Some("add `reason = \"...\"` saying why the finding is acceptable; reviewers read it".into()),
                });
            }
        }
    }

    fn report_cycles(&mut self) {
        let found = cycles::find(&self.edges);
        for cycle in found {
            let path: Vec<&str> =
                cycle.iter().map(|(n, _)| n.label()).chain(cycle.first().map(|(n, _)| n.label())).collect();
            let span = cycle[0].1;
            let others = cycle[1..]
                .iter()
                .map(|(_, s)| miette::LabeledSpan::new_with_span(Some("part of the cycle".into()), *s))
                .collect();
            self.errors.push(CheckError::Cycle { path: path.join(" -> "), span, others });
        }
    }

    fn check_phase_order(&mut self) {
        let order = cycles::phase_ancestors(&self.phases);
        let mut errors = Vec::new();
        for (from, decl) in &self.resources {
            for (to, span) in self.resource_deps(&Node::Resource(from.clone())) {
                let Some(target) = self.resources.get(&to) else {
                    continue;
                };
                let allowed = target.phase == decl.phase
                    || target.phase == DEFAULT_PHASE
                    || order.get(&decl.phase).is_some_and(|a| a.contains(&target.phase));
                if !allowed {
                    errors.push(CheckError::PhaseOrder {
                        from: from.clone(),
                        from_phase: decl.phase.clone(),
                        to,
                        to_phase: target.phase.clone(),
                        span,
                    });
                }
            }
        }
        self.errors.extend(errors);
    }

    /// Resources `node` refers to, directly or through lets.
    fn resource_deps(&self, node: &Node) -> Vec<(String, Span)> {
        let mut out = Vec::new();
        let mut seen = std::collections::BTreeSet::new();
        let mut stack: Vec<(Node, Option<Span>)> = vec![(node.clone(), None)];
        while let Some((n, origin)) = stack.pop() {
            for (to, span) in self.edges.get(&n).into_iter().flatten() {
                let span = origin.unwrap_or(*span);
                match to {
                    Node::Resource(r) => out.push((r.clone(), span)),
                    Node::Let(_) => {
                        if seen.insert(to.clone()) {
                            stack.push((to.clone(), Some(span)));
                        }
                    }
                }
            }
        }
        out
    }
}

/// Whether `p` says `default = true`.
fn is_default_provider(p: &Provider) -> bool {
    p.attributes
        .iter()
        .any(|a| a.name.name == crate::schema::DEFAULT_PROVIDER_SETTING && matches!(a.value.kind, ExprKind::Bool(true)))
}
