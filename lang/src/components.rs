//! Components: `component NAME { input ...; items }` declares a parameterised
//! group of resources; `instance NAME INSTANCE { args }` (or `instance
//! alias.NAME INSTANCE` for one from a `use`d file) instantiates it. Loading
//! expands every instance in place, before checking, so the checker, the
//! evaluator and the policies see ordinary items:
//! - each input becomes a typed `let` named `NAME.INSTANCE::input`, its value
//!   the argument (spans in the caller's file) or the default (in the
//!   component's); the checker types the argument against the input's type;
//! - each body resource is declared as `TYPE.NAME.INSTANCE::name`, whose
//!   address is `NAME.INSTANCE.TYPE.name` (see [`address_of`]);
//! - each output becomes a `let` named `NAME.INSTANCE::output`;
//! - references inside the body to its inputs, lets and resources, and
//!   references outside to `NAME.INSTANCE.output` or
//!   `NAME.INSTANCE.TYPE.name`, are rewritten to those names.
//!
//! Instances may sit in phases, `for` loops and `if` blocks: their resources
//! then take the loop's keys as any looped resource does.

use std::collections::{BTreeMap, BTreeSet};

use crate::ast::*;
use crate::diagnostic::CheckError;
use crate::program::Program;
use crate::span::Span;
use crate::suggest::{closest, did_you_mean};

/// The most component source (bytes of the bodies copied) all instances of
/// one program may expand to: 16 times the largest file, so that a few
/// hundred bytes of `instance` lines cannot make gigabytes of declarations.
pub const MAX_EXPANSION: usize = 16 * crate::bounds::MAX_FILE_BYTES;

/// The separator between an instance prefix and a name it owns.
pub const OWNED: &str = "::";

/// The address of a resource declared as `type_name.name`: for one an
/// instance owns (`NAME.INSTANCE::name`), `NAME.INSTANCE.type_name.name`.
pub fn address_of(type_name: &str, name: &str) -> String {
    match name.split_once(OWNED) {
        Some((prefix, own)) => format!("{prefix}.{type_name}.{own}"),
        None => format!("{type_name}.{name}"),
    }
}

/// A component as loading knows it.
struct Known {
    component: Component,
    outputs: BTreeSet<String>,
    /// `type.name` of every resource its body declares.
    resources: BTreeSet<String>,
}

/// Expands every instance of `program`; the errors found doing so.
pub fn expand(program: &mut Program) -> Vec<CheckError> {
    let mut errors = Vec::new();
    let mut known: BTreeMap<String, Known> = BTreeMap::new();
    let mut take = |items: &mut Vec<Item>, qualifier: Option<&str>, errors: &mut Vec<CheckError>| {
        items.retain(|item| {
            let Item::Component(c) = item else { return true };
            let key = qualifier.map_or_else(|| c.name.name.clone(), |q| format!("{q}.{}", c.name.name));
            if let Some(first) = known.get(&key) {
                errors.push(CheckError::Duplicate {
                    kind: "component",
                    name: key.clone(),
                    span: c.name.span,
                    first: first.component.name.span,
                });
            } else {
                known.insert(key, describe(c));
            }
            false
        });
    };
    take(&mut program.root.items, None, &mut errors);
    for import in program.imports.values_mut() {
        take(&mut import.module.items, Some(&import.alias), &mut errors);
    }
    if known.is_empty() && !contains_instance(&program.root.items) {
        return errors;
    }
    let mut instances: BTreeMap<(String, String), (String, Span)> = BTreeMap::new();
    let items = std::mem::take(&mut program.root.items);
    let mut state = Expansion { budget: MAX_EXPANSION, reported: BTreeSet::new() };
    program.root.items = instantiate(items, &known, &mut instances, &mut state, &mut errors);
    let outside = Outside { known: &known, instances: &instances };
    let mut errors_outside = Vec::new();
    for item in &mut program.root.items {
        outside.item(item, &mut errors_outside);
    }
    errors.extend(errors_outside);
    errors
}

fn contains_instance(items: &[Item]) -> bool {
    items.iter().any(|i| match i {
        Item::Instance(_) => true,
        Item::Phase(p) => contains_instance(&p.items),
        Item::For(f) => contains_instance(&f.items),
        _ => false,
    })
}

fn describe(c: &Component) -> Known {
    let mut outputs = BTreeSet::new();
    let mut resources = BTreeSet::new();
    fn walk(items: &[Item], outputs: &mut BTreeSet<String>, resources: &mut BTreeSet<String>) {
        for item in items {
            match item {
                Item::Output(o) => {
                    outputs.insert(o.name.name.clone());
                }
                Item::Resource(r) => {
                    resources.insert(format!("{}.{}", r.type_name.dotted(), r.name.name));
                }
                Item::For(f) => walk(&f.items, outputs, resources),
                Item::If(i) => {
                    walk(&i.then_items, outputs, resources);
                    walk(&i.else_items, outputs, resources);
                }
                _ => {}
            }
        }
    }
    walk(&c.items, &mut outputs, &mut resources);
    Known { component: c.clone(), outputs, resources }
}

/// Replaces each instance among `items` (recursively) by its expansion.
/// What expanding instances keeps track of across the whole program.
struct Expansion {
    /// Component source still allowed to be copied, in bytes.
    budget: usize,
    /// Places already reported as reaching outside their component.
    reported: BTreeSet<String>,
}

fn instantiate(
    items: Vec<Item>,
    known: &BTreeMap<String, Known>,
    instances: &mut BTreeMap<(String, String), (String, Span)>,
    state: &mut Expansion,
    errors: &mut Vec<CheckError>,
) -> Vec<Item> {
    let mut out = Vec::with_capacity(items.len());
    for item in items {
        match item {
            Item::Instance(i) => {
                let size = known
                    .get(&component_key(&i))
                    .map_or(0, |k| (k.component.span.end - k.component.span.start) as usize);
                if size > state.budget {
                    if state.budget > 0 {
                        errors.push(CheckError::ExpansionLimit { limit: MAX_EXPANSION, span: i.span });
                    }
                    state.budget = 0;
                    continue;
                }
                state.budget -= size;
                out.extend(expand_instance(&i, known, instances, &mut state.reported, errors))
            }
            Item::Phase(mut p) => {
                p.items = instantiate(p.items, known, instances, state, errors);
                out.push(Item::Phase(p));
            }
            Item::For(mut f) => {
                f.items = instantiate(f.items, known, instances, state, errors);
                out.push(Item::For(f));
            }
            // An instance inside `if` stays, and the checker says it cannot be there.
            other => out.push(other),
        }
    }
    out
}

fn expand_instance(
    i: &Instance,
    known: &BTreeMap<String, Known>,
    instances: &mut BTreeMap<(String, String), (String, Span)>,
    reported: &mut BTreeSet<String>,
    errors: &mut Vec<CheckError>,
) -> Vec<Item> {
    let key = component_key(i);
    let span = Span { end: i.component.last().map_or(i.name.span.start, |c| c.span.end), ..i.span };
    let Some(k) = known.get(&key) else {
        let help = did_you_mean(
            closest(&key, known.keys().map(String::as_str)),
            "declare the component, or `use` the file that does",
        );
        errors.push(CheckError::UnknownComponent { name: key, span, help });
        return Vec::new();
    };
    let component = &k.component;
    let name = component.name.name.clone();
    let prefix = format!("{name}.{}", i.name.name);
    if let Some((_, first)) = instances.get(&(name.clone(), i.name.name.clone())) {
        errors.push(CheckError::Duplicate { kind: "instance", name: prefix, span: i.name.span, first: *first });
        return Vec::new();
    }
    instances.insert((name.clone(), i.name.name.clone()), (key, i.name.span));
    let mut out = Vec::new();
    // Arguments: one per input, each a typed let.
    let inputs: BTreeMap<&str, &Input> = component.inputs.iter().map(|x| (x.name.name.as_str(), x)).collect();
    // `provider = NAME` (unless the component takes an input of that name) is no input: the
    // workflow's provider its resources use where they name none, as Terraform passes a module
    // its providers. One component builds the primary region and a standby alike.
    let provider = (!inputs.contains_key(PROVIDER))
        .then(|| i.attributes.iter().find(|a| a.name.name == PROVIDER))
        .flatten()
        .cloned();
    for a in &i.attributes {
        let reserved = a.name.name == PROVIDER && provider.is_some();
        if !(reserved || inputs.contains_key(a.name.name.as_str())) {
            let help = did_you_mean(
                closest(&a.name.name, inputs.keys().copied()),
                &format!("`{name}` takes {}", list(inputs.keys().copied())),
            );
            errors.push(CheckError::UnknownInput {
                input: a.name.name.clone(),
                component: name.clone(),
                span: a.name.span,
                help,
            });
        }
    }
    for input in &component.inputs {
        let given = i.attributes.iter().find(|a| a.name.name == input.name.name);
        let (value, span) = match (given, &input.default) {
            (Some(a), _) => (a.value.clone(), a.span),
            (None, Some(d)) => (d.clone(), input.span),
            (None, None) => {
                errors.push(CheckError::MissingInput {
                    input: input.name.name.clone(),
                    component: name.clone(),
                    span: i.name.span,
                    declared: input.name.span,
                });
                continue;
            }
        };
        let own = Ident { name: format!("{prefix}{OWNED}{}", input.name.name), span: input.name.span };
        out.push(Item::Let(Let { name: own, ty: Some(input.ty.clone()), value, span }));
    }
    let mut body = Body {
        prefix: &prefix,
        provider,
        owned: BTreeSet::new(),
        resources: &k.resources,
        bound: Vec::new(),
        outside: Default::default(),
    };
    body.owned.extend(component.inputs.iter().map(|x| x.name.name.clone()));
    body.owned.extend(component.items.iter().filter_map(|x| {
        if let Item::Let(l) = x {
            Some(l.name.name.clone())
        } else {
            None
        }
    }));
    for item in &component.items {
        if let Some(item) = body.item(item, true, errors) {
            out.push(item);
        }
    }
    // Reported once per place in the component, however many instances it has.
    for (name, span) in body.outside.into_inner() {
        if reported.insert(format!("{span:?}")) {
            errors.push(CheckError::OutsideComponent { name, component: component.name.name.clone(), span });
        }
    }
    out
}

/// The name an instance's component is known by: `name` or `alias.name`.
fn component_key(i: &Instance) -> String {
    i.component.iter().map(|c| c.name.as_str()).collect::<Vec<_>>().join(".")
}

fn list<'a>(names: impl Iterator<Item = &'a str>) -> String {
    let names: Vec<String> = names.map(|n| format!("`{n}`")).collect();
    if names.is_empty() {
        "no inputs".into()
    } else {
        names.join(", ")
    }
}

/// The attribute naming a resource's provider, and an instance's.
const PROVIDER: &str = "provider";

/// Rewrites a component body for one instance.
struct Body<'k> {
    prefix: &'k str,
    /// The instance's `provider` attribute: given to every resource that names none.
    provider: Option<Attribute>,
    /// Inputs and body-level lets: their names become the instance's.
    owned: BTreeSet<String>,
    /// The body's resources, `type.name`.
    resources: &'k BTreeSet<String>,
    /// Names bound by loops (and loop lets) inside the body, innermost last.
    bound: Vec<String>,
    /// References to names outside the component (which sees only its inputs), with where.
    outside: std::cell::RefCell<Vec<(String, Span)>>,
}

impl Body<'_> {
    fn own(&self, name: &str) -> String {
        format!("{}{OWNED}{name}", self.prefix)
    }

    fn item(&mut self, item: &Item, top: bool, errors: &mut Vec<CheckError>) -> Option<Item> {
        Some(match item {
            Item::Resource(r) => {
                let mut r = r.clone();
                r.name.name = self.own(&r.name.name);
                // `provider` names one of the workflow's providers: the one thing a body takes from it.
                for a in r.attributes.iter_mut().filter(|a| a.name.name != PROVIDER) {
                    self.expr(&mut a.value);
                }
                if let Some(provider) = &self.provider {
                    if !r.attributes.iter().any(|a| a.name.name == PROVIDER) {
                        r.attributes.push(provider.clone());
                    }
                }
                Item::Resource(r)
            }
            Item::Let(l) => {
                let mut l = l.clone();
                self.expr(&mut l.value);
                if top {
                    l.name.name = self.own(&l.name.name);
                } else {
                    self.bound.push(l.name.name.clone());
                }
                Item::Let(l)
            }
            Item::Output(o) => {
                let mut value = o.value.clone();
                self.expr(&mut value);
                let name = Ident { name: self.own(&o.name.name), span: o.name.span };
                Item::Let(Let { name, ty: None, value, span: o.span })
            }
            Item::For(f) => {
                let mut f = f.clone();
                self.expr(&mut f.collection);
                let depth = self.bound.len();
                self.bound.push(f.first.name.clone());
                if let Some(s) = &f.second {
                    self.bound.push(s.name.clone());
                }
                f.items = f.items.iter().filter_map(|x| self.item(x, false, errors)).collect();
                self.bound.truncate(depth);
                Item::For(f)
            }
            Item::If(i) => {
                let mut i = i.clone();
                self.expr(&mut i.condition);
                let depth = self.bound.len();
                i.then_items = i.then_items.iter().filter_map(|x| self.item(x, top, errors)).collect();
                i.else_items = i.else_items.iter().filter_map(|x| self.item(x, top, errors)).collect();
                self.bound.truncate(depth);
                Item::If(i)
            }
            other => {
                errors.push(CheckError::misplaced(
                    other.keyword(),
                    "inside a component (it holds inputs, lets, resources, loops, conditions and outputs)",
                    other.span(),
                ));
                return None;
            }
        })
    }

    fn expr(&self, e: &mut Expr) {
        rewrite(e, &mut |segments, _| {
            let root = segments[0].name.as_str();
            if segments.len() >= 4 {
                for k in 3..segments.len() {
                    let decl = segments[..=k].iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(".");
                    if self.resources.contains(&decl) && !self.bound.iter().any(|b| b == root) {
                        let mut out = segments.to_vec();
                        out[k].name = self.own(&out[k].name);
                        return Some(out);
                    }
                }
            }
            if self.bound.iter().any(|b| b == root) {
                return None;
            }
            if self.owned.contains(root) {
                let mut out = segments.to_vec();
                out[0].name = self.own(root);
                return Some(out);
            }
            let written = segments.iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(".");
            self.outside.borrow_mut().push((written, segments[0].span));
            None
        });
    }
}

/// Rewrites references outside components to instances' outputs and resources.
struct Outside<'k> {
    known: &'k BTreeMap<String, Known>,
    /// `(component, instance)` to the key its component is known by, and where it is declared.
    instances: &'k BTreeMap<(String, String), (String, Span)>,
}

impl Outside<'_> {
    fn item(&self, item: &mut Item, errors: &mut Vec<CheckError>) {
        let mut exprs: Vec<&mut Expr> = Vec::new();
        match item {
            Item::Workflow(w) => exprs.extend(w.attributes.iter_mut().map(|a| &mut a.value)),
            Item::Param(p) => exprs.extend(p.default.iter_mut()),
            Item::Let(l) => exprs.push(&mut l.value),
            Item::Provider(p) => exprs.extend(p.attributes.iter_mut().map(|a| &mut a.value)),
            Item::Resource(r) => exprs.extend(r.attributes.iter_mut().map(|a| &mut a.value)),
            Item::Output(o) => exprs.push(&mut o.value),
            Item::Script(s) => {
                exprs.extend(s.attributes.iter_mut().map(|a| &mut a.value));
                exprs.extend(s.inputs.iter_mut().filter_map(|i| i.default.as_mut()));
                if let Some(HookEvent { on: HookOn::Resource(_, target), .. }) = s.event.as_mut() {
                    exprs.push(target);
                }
            }
            Item::Phase(p) => return p.items.iter_mut().for_each(|i| self.item(i, errors)),
            Item::For(f) => {
                self.expr(&mut f.collection, errors);
                return f.items.iter_mut().for_each(|i| self.item(i, errors));
            }
            Item::If(i) => {
                self.expr(&mut i.condition, errors);
                i.then_items.iter_mut().for_each(|x| self.item(x, errors));
                return i.else_items.iter_mut().for_each(|x| self.item(x, errors));
            }
            _ => {}
        }
        for e in exprs {
            self.expr(e, errors);
        }
    }

    fn expr(&self, e: &mut Expr, errors: &mut Vec<CheckError>) {
        rewrite(e, &mut |segments, span| {
            let component = segments[0].name.as_str();
            let instance = segments.get(1)?;
            let (key, _) = self.instances.get(&(component.to_string(), instance.name.clone()))?;
            let known = self.known.get(key)?;
            let prefix = format!("{component}.{}", instance.name);
            let Some(member) = segments.get(2) else {
                errors.push(CheckError::UnknownOutput {
                    output: String::new(),
                    instance: prefix,
                    span,
                    help: Some(format!("name one of its outputs: {}", list(known.outputs.iter().map(String::as_str)))),
                });
                return None;
            };
            if known.outputs.contains(&member.name) {
                let mut out = vec![Ident { name: format!("{prefix}{OWNED}{}", member.name), span: member.span }];
                out.extend(segments[3..].iter().cloned());
                return Some(out);
            }
            for k in 5..segments.len() {
                let decl = segments[2..=k].iter().map(|s| s.name.as_str()).collect::<Vec<_>>().join(".");
                if known.resources.contains(&decl) {
                    let mut out = segments[2..].to_vec();
                    out[k - 2].name = format!("{prefix}{OWNED}{}", out[k - 2].name);
                    return Some(out);
                }
            }
            let help = did_you_mean(
                closest(&member.name, known.outputs.iter().map(String::as_str)),
                &format!("`{prefix}` has the outputs {}", list(known.outputs.iter().map(String::as_str))),
            );
            errors.push(CheckError::UnknownOutput {
                output: member.name.clone(),
                instance: prefix,
                span: member.span,
                help,
            });
            None
        });
    }
}

/// Rewrites every reference chain (`a.b.c`, a bare name, or the names
/// before an index, splat or call) in `e` with `f`, which gets the chain's
/// names and span and returns the replacement names, if any.
/// Given a reference chain's names and span, the names to write instead, if any.
type Rewriter<'f> = dyn FnMut(&[Ident], Span) -> Option<Vec<Ident>> + 'f;

fn rewrite(e: &mut Expr, f: &mut Rewriter<'_>) {
    if let Some(segments) = names(e) {
        if let Some(new) = f(&segments, e.span) {
            *e = chain(new, e.span);
        }
        return;
    }
    match &mut e.kind {
        ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) | ExprKind::Var(_) => {}
        ExprKind::String(parts) => {
            for p in parts {
                if let StrPart::Interp(x) = p {
                    rewrite(x, f);
                }
            }
        }
        ExprKind::List(items) => items.iter_mut().for_each(|x| rewrite(x, f)),
        ExprKind::Map(entries) => entries.iter_mut().for_each(|x| rewrite(&mut x.value, f)),
        ExprKind::Member(base, _) | ExprKind::Splat(base) | ExprKind::Paren(base) | ExprKind::Unary(_, base) => {
            rewrite(base, f)
        }
        ExprKind::Index(base, index) => {
            rewrite(base, f);
            rewrite(index, f);
        }
        ExprKind::Call(callee, args) => {
            // A callee is a function name, never a reference.
            if names(callee).is_none() {
                rewrite(callee, f);
            }
            args.iter_mut().for_each(|a| rewrite(&mut a.value, f));
        }
        ExprKind::Binary(_, l, r) => {
            rewrite(l, f);
            rewrite(r, f);
        }
        ExprKind::Conditional(c, t, o) => {
            rewrite(c, f);
            rewrite(t, f);
            rewrite(o, f);
        }
    }
}

/// The names of a pure reference chain: `Var` followed by members only.
fn names(e: &Expr) -> Option<Vec<Ident>> {
    match &e.kind {
        ExprKind::Var(v) => Some(vec![v.clone()]),
        ExprKind::Member(base, name) => {
            let mut out = names(base)?;
            out.push(name.clone());
            Some(out)
        }
        _ => None,
    }
}

/// The chain `a.b.c` from its names.
fn chain(names: Vec<Ident>, span: Span) -> Expr {
    let mut iter = names.into_iter();
    let root = iter.next().unwrap_or(Ident { name: String::new(), span });
    let mut e = Expr { span: Span { end: root.span.end, ..span }, kind: ExprKind::Var(root) };
    for name in iter {
        e = Expr { span: Span { end: name.span.end, ..span }, kind: ExprKind::Member(Box::new(e), name) };
    }
    e
}
