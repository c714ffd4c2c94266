//! Expanding a program into resource instances with stable addresses.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;

use drone_lang::ast::{Expr, ExprKind, Item, Param, StrPart};
use drone_lang::path::{chain, resource_path, PathOp, ResourcePath};
use drone_lang::suggest::{closest, did_you_mean};
use drone_lang::{Catalog, Program, Type, DEFAULT_PHASE};

use super::expr::{Evaluator, NothingKnown};
use crate::error::EvalError;
use crate::functions::{scalar_text, CallContext};
use crate::model::{address, Binding, Instance, Model, OutputDecl, ProviderConfig, Scope};
use crate::value::Value;

/// What expansion needs besides the program.
pub struct EvalInput<'a> {
    /// Parameter values given on the command line, as text.
    pub params: &'a BTreeMap<String, String>,
    /// Environment, files, secrets.
    pub cx: &'a CallContext<'a>,
    /// `check`'s view (as `terraform validate`'s): a required parameter given no value is
    /// unknown rather than an error, and what depends on it is unknown until planning.
    pub missing_unknown: bool,
}

/// Expands a checked program into its model; reports every error it finds.
pub fn expand(program: &Program, catalog: &Catalog, input: &EvalInput<'_>) -> Result<Model, Vec<EvalError>> {
    let mut errors = Vec::new();
    let mut model = Model { workflow: default_name(program), ..Model::default() };
    bind_params(program, input, &mut model, &mut errors);
    for import in program.imports.values() {
        for item in &import.module.items {
            if let Item::Let(l) = item {
                model.lets.insert(format!("{}.{}", import.alias, l.name.name), l.value.clone());
            }
        }
    }
    collect_globals(&program.root.items, &mut model);
    model.phases = phase_order(&program.root.items);

    let mut x = Expander { catalog, cx: input.cx, errors, pending: Vec::new(), iterations: 0, exhausted: false };
    x.header(&program.root.items, &mut model);
    x.items(&program.root.items, DEFAULT_PHASE, &Vec::new(), &mut model);
    let Expander { mut errors, pending, .. } = x;
    if model.providers.is_empty() {
        let kinds: BTreeSet<String> =
            pending.iter().filter_map(|p| p.type_name.split('.').next().map(String::from)).collect();
        for kind in kinds {
            model
                .providers
                .insert("default".into(), ProviderConfig { kind, name: "default".into(), settings: BTreeMap::new() });
        }
    }
    // The one marked `default = true`, else the only one (the checker refuses several without a default).
    let marked = model.providers.iter().find(|(_, p)| {
        p.settings.get(drone_lang::schema::DEFAULT_PROVIDER_SETTING) == Some(&crate::value::Value::Bool(true))
    });
    let default_provider = marked
        .or_else(|| model.providers.iter().next())
        .map(|(name, _)| name.clone())
        .unwrap_or_else(|| "default".into());
    for mut instance in pending {
        if instance.provider.is_empty() {
            instance.provider = default_provider.clone();
        }
        if model.instances.contains_key(&instance.address) {
            errors.push(EvalError::DuplicateAddress { address: instance.address.clone(), span: instance.span });
            continue;
        }
        let decl = model.decls.entry(instance.decl.clone()).or_default();
        decl.looped |= instance.key.is_some();
        decl.instances.insert(instance.key.clone().unwrap_or_default(), instance.address.clone());
        model.instances.insert(instance.address.clone(), instance);
    }
    resolve_deps(&mut model, catalog, input.cx);
    if errors.is_empty() {
        Ok(model)
    } else {
        Err(errors)
    }
}

fn default_name(program: &Program) -> String {
    program.root_path.file_stem().map_or_else(|| "workflow".into(), |s| s.to_string_lossy().into_owned())
}

fn bind_params(program: &Program, input: &EvalInput<'_>, model: &mut Model, errors: &mut Vec<EvalError>) {
    let (given, missing_unknown) = (input.params, input.missing_unknown);
    let declared: Vec<&Param> =
        program.root.items.iter().filter_map(|i| if let Item::Param(p) = i { Some(p) } else { None }).collect();
    for name in given.keys() {
        if !declared.iter().any(|p| &p.name.name == name) {
            let help = did_you_mean(
                closest(name, declared.iter().map(|p| p.name.name.as_str())),
                "declare it with `param NAME = default`",
            );
            errors.push(EvalError::UnknownParam {
                name: name.clone(),
                span: program.root.span.to(program.root.span),
                help,
            });
        }
    }
    let host = crate::host::MemoryHost::default();
    let cx = CallContext { host: &host, salt: "", resolve_secrets: false };
    for p in declared {
        let ty = p.ty.as_ref().map(type_of).unwrap_or(Type::Any);
        let value = match (given.get(&p.name.name), &p.default) {
            (Some(text), _) => match parse_param(text, &ty) {
                Ok(v) => v,
                Err(expected) => {
                    errors.push(EvalError::Type {
                        expected: expected.into(),
                        found: format!("`{text}`"),
                        span: p.name.span,
                        help: format!("pass a {expected} with `--param {}=...`", p.name.name),
                    });
                    continue;
                }
            },
            (None, Some(default)) => {
                let empty = Model::default();
                match Evaluator::new(&empty, &Catalog::new(), &cx, &NothingKnown).eval(default, &Vec::new()) {
                    Ok(v) => v,
                    Err(e) => {
                        errors.push(e);
                        continue;
                    }
                }
            }
            (None, None) if missing_unknown => Value::Unknown,
            (None, None) => {
                errors.push(EvalError::MissingParam { name: p.name.name.clone(), span: p.span });
                continue;
            }
        };
        model.params.insert(p.name.name.clone(), value);
    }
}

fn type_of(t: &drone_lang::ast::TypeExpr) -> Type {
    match t.name.name.as_str() {
        "string" => Type::String,
        "number" => Type::Number,
        "bool" => Type::Bool,
        "list" => Type::list(Type::Any),
        "map" => Type::map(Type::Any),
        _ => Type::Any,
    }
}

/// Converts a `--param` text to the parameter's type; on failure, names the type.
pub fn parse_param(text: &str, ty: &Type) -> Result<Value, &'static str> {
    match ty {
        Type::String => Ok(Value::str(text)),
        Type::Number => text.trim().parse::<f64>().map(Value::Number).map_err(|_| "number"),
        Type::Bool => match text.trim() {
            "true" => Ok(Value::Bool(true)),
            "false" => Ok(Value::Bool(false)),
            _ => Err("bool (`true` or `false`)"),
        },
        Type::List(_) => json_param(text).filter(|v| v.as_list().is_some()).ok_or("JSON list"),
        Type::Map(_) => json_param(text).filter(|v| v.as_map().is_some()).ok_or("JSON map"),
        _ => Ok(json_param(text).filter(|v| !matches!(v, Value::String(_))).unwrap_or_else(|| Value::str(text))),
    }
}

fn json_param(text: &str) -> Option<Value> {
    serde_json::from_str::<serde_json::Value>(text).ok().map(|j| Value::from_json(&j))
}

fn collect_globals(items: &[Item], model: &mut Model) {
    for item in items {
        match item {
            Item::Let(l) => {
                model.lets.insert(l.name.name.clone(), l.value.clone());
            }
            Item::Phase(p) => collect_globals(&p.items, model),
            Item::Script(s) => {
                let title = format!("{} {}", s.kind.keyword(), s.name.name);
                let grants = s.attribute("grants").map(|a| drone_lang::grants::Grants::from_expr(&a.value));
                for (i, grant) in grants.unwrap_or_default().0.into_iter().enumerate() {
                    model.grants.push(crate::model::GrantSite {
                        id: format!("{title} #{}", i + 1),
                        script: title.clone(),
                        script_kind: s.kind.keyword(),
                        grant,
                        name_span: s.name.span,
                        annotations: s.annotations.clone(),
                    });
                }
            }
            _ => {}
        }
    }
}

/// Phases in a topological order of `after`, `default` first, ties by declaration.
fn phase_order(items: &[Item]) -> Vec<String> {
    let phases: Vec<(&str, Vec<&str>)> = items
        .iter()
        .filter_map(|i| {
            if let Item::Phase(p) = i {
                Some((p.name.name.as_str(), p.after.iter().map(|a| a.name.as_str()).collect()))
            } else {
                None
            }
        })
        .collect();
    let mut order = vec![DEFAULT_PHASE.to_string()];
    let mut placed: BTreeSet<&str> = BTreeSet::new();
    while placed.len() < phases.len() {
        let next = phases.iter().find(|(n, after)| {
            !placed.contains(n) && after.iter().all(|a| placed.contains(a) || !phases.iter().any(|(p, _)| p == a))
        });
        // The checker rejects phase cycles; fall back to declaration order if one slipped through.
        let Some((name, _)) = next.or_else(|| phases.iter().find(|(n, _)| !placed.contains(n))) else {
            break;
        };
        placed.insert(name);
        order.push(name.to_string());
    }
    order
}

/// Most loop iterations one expansion runs, all loops together.
pub const MAX_ITERATIONS: usize = 1_000_000;

/// Most resource instances one workflow expands to.
pub const MAX_INSTANCES: usize = 100_000;

struct Expander<'a> {
    catalog: &'a Catalog,
    cx: &'a CallContext<'a>,
    errors: Vec<EvalError>,
    pending: Vec<Instance>,
    /// Loop iterations run so far.
    iterations: usize,
    /// Set when a bound was passed: expansion stops.
    exhausted: bool,
}

impl Expander<'_> {
    fn header(&mut self, items: &[Item], model: &mut Model) {
        for item in items {
            match item {
                Item::Workflow(w) => {
                    if let Some(name) = w.name.as_plain_string() {
                        model.workflow = name;
                    }
                    for attr in &w.attributes {
                        let strings = |v: Value| -> Vec<String> {
                            v.as_list()
                                .map(|l| l.iter().filter_map(|x| x.as_str().map(String::from)).collect())
                                .unwrap_or_default()
                        };
                        match attr.name.name.as_str() {
                            "environment" => {
                                model.environment = self
                                    .eval(model, &attr.value, &Vec::new())
                                    .ok()
                                    .and_then(|v| v.as_str().map(String::from))
                            }
                            "policy_dirs" => {
                                model.policy_dirs =
                                    self.eval(model, &attr.value, &Vec::new()).map(strings).unwrap_or_default()
                            }
                            "disabled_policies" => {
                                model.disabled_policies =
                                    self.eval(model, &attr.value, &Vec::new()).map(strings).unwrap_or_default();
                                model.disabled_policies_span = Some(attr.value.span);
                            }
                            _ => {}
                        }
                    }
                    for attr in w.attributes.iter().filter(|a| a.name.name == "state") {
                        let Ok(Value::Map(state)) = self.eval(model, &attr.value, &Vec::new()) else {
                            continue;
                        };
                        let text = |key: &str| state.get(key).and_then(Value::as_str).map(String::from);
                        match state.get("backend").and_then(Value::as_str) {
                            None | Some("local") => {}
                            Some("s3") => match (text("bucket"), text("key")) {
                                (Some(bucket), Some(key)) if !bucket.is_empty() && !key.is_empty() => {
                                    let region = text("region");
                                    model.state_s3 = Some(crate::state::S3Location { bucket, key, region });
                                }
                                _ => self.errors.push(EvalError::Workflow {
                                    message: "an S3 state backend needs `bucket` and `key`".into(),
                                    help: "write `state = { backend = \"s3\", bucket = \"...\", key = \"prod.state.json\", region = \"...\" }`".into(),
                                    span: attr.value.span,
                                }),
                            },
                            Some(other) => self.errors.push(EvalError::Workflow {
                                message: format!("unknown state backend `{other}`"),
                                help: "the state backend is \"local\" (a file beside the workflow) or \"s3\" (an object in a bucket)".into(),
                                span: attr.value.span,
                            }),
                        }
                        model.state_path = state.get("path").and_then(Value::as_str).map(String::from);
                    }
                }
                Item::Provider(p) => {
                    let mut settings = BTreeMap::new();
                    for attr in &p.attributes {
                        match self.eval(model, &attr.value, &Vec::new()) {
                            Ok(Value::String(region))
                                if attr.name.name == "region"
                                    && !crate::validate::REGIONS.contains(&region.as_str()) =>
                            {
                                let help = drone_lang::suggest::closest(&region, crate::validate::REGIONS).map_or_else(
                                    || "write an AWS region, e.g. \"eu-west-1\"".to_string(),
                                    |r| format!("did you mean \"{r}\"?"),
                                );
                                self.errors.push(EvalError::Invalid {
                                    message: format!("`{region}` is not an AWS region"),
                                    help,
                                    span: attr.value.span,
                                });
                            }
                            Ok(v) => {
                                settings.insert(attr.name.name.clone(), v);
                            }
                            Err(e) => self.errors.push(e),
                        }
                    }
                    model.providers.insert(
                        p.name.name.clone(),
                        ProviderConfig { kind: p.kind.name.clone(), name: p.name.name.clone(), settings },
                    );
                }
                Item::Output(o) => model.outputs.push(OutputDecl { name: o.name.name.clone(), value: o.value.clone() }),
                Item::Moved(m) => {
                    let end = |name: &str| {
                        m.attributes
                            .iter()
                            .find(|a| a.name.name == name)
                            .and_then(|a| a.value.as_plain_string())
                            .and_then(|t| drone_lang::address::Address::parse(&t))
                    };
                    // The checker reported a malformed block; only well-formed ones reach here.
                    if let (Some(from), Some(to)) = (end("from"), end("to")) {
                        model.moved.push(crate::model::Move { from, to });
                    }
                }
                Item::Phase(p) => {
                    for item in &p.items {
                        if let Item::Output(o) = item {
                            model.outputs.push(OutputDecl { name: o.name.name.clone(), value: o.value.clone() });
                        }
                    }
                }
                _ => {}
            }
        }
    }

    /// A boolean `lifecycle` setting of a resource, and where it is written.
    fn lifecycle_switch(
        &self,
        model: &Model,
        attributes: &[drone_lang::ast::Attribute],
        key: &str,
        scope: &Scope,
    ) -> Option<(bool, drone_lang::span::Span)> {
        let entry = lifecycle_entry(attributes, key)?;
        let on = self.eval(model, &entry.value, scope).ok()?.as_bool()?;
        Some((on, entry.value.span))
    }

    fn eval(&self, model: &Model, expr: &Expr, scope: &Scope) -> Result<Value, EvalError> {
        Evaluator::new(model, self.catalog, self.cx, &NothingKnown).eval(expr, scope)
    }

    /// Records that bound `what` (`limit`) was passed at `span` and stops expansion.
    fn exhaust(&mut self, what: &'static str, limit: usize, span: drone_lang::span::Span) {
        if !self.exhausted {
            self.errors.push(EvalError::Limit { what, limit, span });
        }
        self.exhausted = true;
    }

    fn items(&mut self, items: &[Item], phase: &str, scope: &Scope, model: &mut Model) {
        for item in items {
            if self.exhausted {
                return;
            }
            match item {
                Item::Resource(r) => {
                    if self.pending.len() >= MAX_INSTANCES {
                        self.exhaust("resource instances", MAX_INSTANCES, r.span);
                        return;
                    }
                    let type_name = r.type_name.dotted();
                    let decl = format!("{type_name}.{}", r.name.name);
                    let key = loop_key(scope);
                    let provider = r
                        .attributes
                        .iter()
                        .find(|a| a.name.name == "provider")
                        .and_then(|a| if let ExprKind::Var(v) = &a.value.kind { Some(v.name.clone()) } else { None })
                        .unwrap_or_default();
                    let attributes = r.attributes.iter().filter(|a| a.name.name != "provider").cloned().collect();
                    let prevent_destroy = self
                        .lifecycle_switch(model, &r.attributes, "prevent_destroy", scope)
                        .filter(|(on, _)| *on)
                        .map(|(_, span)| span);
                    let create_before_destroy = self
                        .lifecycle_switch(model, &r.attributes, "create_before_destroy", scope)
                        .is_some_and(|(on, _)| on);
                    self.pending.push(Instance {
                        address: address(&drone_lang::components::address_of(&type_name, &r.name.name), key.as_deref()),
                        decl,
                        type_name,
                        key,
                        phase: phase.to_string(),
                        provider,
                        attributes,
                        annotations: r.annotations.clone(),
                        scope: Arc::new(scope.clone()),
                        span: r.span,
                        name_span: r.name.span,
                        deps: BTreeSet::new(),
                        ignore_changes: ignored_attributes(&r.attributes),
                        prevent_destroy,
                        create_before_destroy,
                        read_only: r.read_only,
                    });
                }
                Item::Phase(p) => self.items(&p.items, &p.name.name, scope, model),
                Item::Let(l) if !scope.is_empty() => {
                    // Loop-local lets are bound lazily: they may refer to resources.
                    let mut inner = scope.clone();
                    inner.push((l.name.name.clone(), Binding::Let(l.value.clone())));
                    // Later items of this body see it: rebind the rest of the body.
                    let rest =
                        items.iter().skip_while(|i| !std::ptr::eq(*i, item)).skip(1).cloned().collect::<Vec<_>>();
                    self.items(&rest, phase, &inner, model);
                    return;
                }
                Item::For(f) => {
                    let collection = match self.eval(model, &f.collection, scope) {
                        Ok(v) => v,
                        Err(e) => {
                            self.errors.push(e);
                            continue;
                        }
                    };
                    let entries: Vec<(Value, Value)> = match (&collection, &f.second) {
                        (Value::List(items), None) => items.iter().map(|v| (v.clone(), v.clone())).collect(),
                        (Value::List(items), Some(_)) => {
                            items.iter().enumerate().map(|(i, v)| (Value::Number(i as f64), v.clone())).collect()
                        }
                        (Value::Map(m), _) => m.iter().map(|(k, v)| (Value::str(k), v.clone())).collect(),
                        (v, _) if !v.is_known() => {
                            self.errors.push(EvalError::UnknownAtPlan { what: "loop", span: f.collection.span });
                            continue;
                        }
                        (v, _) => {
                            self.errors.push(EvalError::Type {
                                expected: "list or map".into(),
                                found: v.type_name().into(),
                                span: f.collection.span,
                                help: "`for` iterates over a list or a map".into(),
                            });
                            continue;
                        }
                    };
                    // A list's elements key its instances, so they must be known before apply; a map's
                    // keys always are, and its values may hold references, as attributes do.
                    if matches!(collection, Value::List(_)) && entries.iter().any(|(_, v)| !v.is_known()) {
                        self.errors.push(EvalError::UnknownAtPlan { what: "loop", span: f.collection.span });
                        continue;
                    }
                    for (first, second) in entries {
                        self.iterations += 1;
                        if self.iterations > MAX_ITERATIONS {
                            self.exhaust("loop iterations", MAX_ITERATIONS, f.collection.span);
                        }
                        if self.exhausted {
                            return;
                        }
                        // The loop key: the element for `for x in list`, the key for maps,
                        // the element (not its index) for `for i, x in list`.
                        let key_source = match (&collection, &f.second) {
                            (Value::List(_), Some(_)) => &second,
                            _ => &first,
                        };
                        let key = match key_source {
                            Value::String(_) | Value::Number(_) | Value::Bool(_) => {
                                scalar_text(key_source).unwrap_or_default()
                            }
                            other => {
                                self.errors
                                    .push(EvalError::LoopKey { found: other.type_name(), span: f.collection.span });
                                break;
                            }
                        };
                        let mut inner = scope.clone();
                        inner.push((LOOP_KEY.into(), Binding::Value(Value::String(key.clone()))));
                        inner.push((f.first.name.clone(), Binding::Value(first.clone())));
                        if let Some(s) = &f.second {
                            // A map's value may hold what is known only after apply: it is read from
                            // the map when used (`collection[key]`), so apply sees the values known
                            // then and the instance depends on what they refer to.
                            let binding = match &collection {
                                Value::Map(_) => Binding::Let(Expr {
                                    kind: ExprKind::Index(
                                        Box::new(f.collection.clone()),
                                        Box::new(Expr {
                                            kind: ExprKind::String(vec![StrPart::Text(key.clone())]),
                                            span: f.collection.span,
                                        }),
                                    ),
                                    span: f.collection.span,
                                }),
                                _ => Binding::Value(second.clone()),
                            };
                            inner.push((s.name.clone(), binding));
                        }
                        self.items(&f.items, phase, &inner, model);
                    }
                }
                Item::If(i) => match self.eval(model, &i.condition, scope) {
                    Ok(Value::Bool(true)) => self.items(&i.then_items, phase, scope, model),
                    Ok(Value::Bool(false)) => self.items(&i.else_items, phase, scope, model),
                    Ok(Value::Unknown) => {
                        self.errors.push(EvalError::UnknownAtPlan { what: "condition", span: i.condition.span })
                    }
                    Ok(v) => self.errors.push(EvalError::Type {
                        expected: "bool".into(),
                        found: v.type_name().into(),
                        span: i.condition.span,
                        help: "an `if` condition must be true or false".into(),
                    }),
                    Err(e) => self.errors.push(e),
                },
                _ => {}
            }
        }
    }
}

/// A binding name no user can write: it carries the loop key to nested items.
const LOOP_KEY: &str = "@key";

fn loop_key(scope: &Scope) -> Option<String> {
    let keys: Vec<String> = scope
        .iter()
        .filter(|(n, _)| n == LOOP_KEY)
        .filter_map(|(_, b)| if let Binding::Value(Value::String(k)) = b { Some(k.clone()) } else { None })
        .collect();
    (!keys.is_empty()).then(|| keys.join("/"))
}

/// Fills each instance's dependencies from the references in its attributes
/// (directly and through lets).
fn resolve_deps(model: &mut Model, catalog: &Catalog, cx: &CallContext<'_>) {
    let mut let_refs: BTreeMap<String, BTreeSet<Target>> = BTreeMap::new();
    let names: Vec<String> = model.lets.keys().cloned().collect();
    for name in &names {
        let mut refs = BTreeSet::new();
        if let Some(expr) = model.lets.get(name) {
            collect_refs(expr, catalog, model, cx, &Vec::new(), &mut refs);
        }
        let_refs.insert(name.clone(), refs);
    }
    let addresses: Vec<String> = model.instances.keys().cloned().collect();
    for addr in addresses {
        let Some(instance) = model.instances.get(&addr) else {
            continue;
        };
        let mut refs = BTreeSet::new();
        for attr in &instance.attributes {
            collect_refs(&attr.value, catalog, model, cx, &instance.scope, &mut refs);
        }
        for (_, binding) in instance.scope.iter() {
            if let Binding::Let(e) = binding {
                collect_refs(e, catalog, model, cx, &instance.scope, &mut refs);
            }
        }
        let mut deps = BTreeSet::new();
        let mut seen_lets = BTreeSet::new();
        let mut stack: Vec<Target> = refs.into_iter().collect();
        while let Some(t) = stack.pop() {
            match t {
                Target::Let(name) => {
                    if seen_lets.insert(name.clone()) {
                        stack.extend(let_refs.get(&name).into_iter().flatten().cloned());
                    }
                }
                Target::Instance(a) => {
                    deps.insert(a);
                }
                Target::Decl(d) => {
                    deps.extend(model.decls.get(&d).into_iter().flat_map(|x| x.instances.values().cloned()))
                }
            }
        }
        deps.remove(&addr);
        if let Some(instance) = model.instances.get_mut(&addr) {
            instance.deps = deps;
        }
    }
}

#[derive(Clone, PartialEq, Eq, PartialOrd, Ord)]
enum Target {
    Let(String),
    Decl(String),
    Instance(String),
}

fn collect_refs(
    expr: &Expr,
    catalog: &Catalog,
    model: &Model,
    cx: &CallContext<'_>,
    scope: &Scope,
    out: &mut BTreeSet<Target>,
) {
    if let Some(c) = chain(expr) {
        let bound = scope.iter().any(|(n, _)| n == &c.root.name) || model.params.contains_key(&c.root.name);
        if !bound {
            if model.lets.contains_key(&c.root.name) {
                out.insert(Target::Let(c.root.name.clone()));
            } else if let Some(PathOp::Member(m)) = c.ops.first().map(|(op, _)| *op) {
                let qualified = format!("{}.{}", c.root.name, m.name);
                if model.lets.contains_key(&qualified) {
                    out.insert(Target::Let(qualified));
                }
            }
            if let Some(ResourcePath::Resource { type_name, name, consumed, .. }) = resource_path(&c, catalog) {
                let decl = format!("{type_name}.{}", name.name);
                // `decl[key]` with a key known now narrows the dependency to one instance.
                let narrowed = match (c.ops.get(consumed), model.decls.get(&decl)) {
                    (Some((PathOp::Index(index), _)), Some(d)) if d.looped => {
                        let v = Evaluator::new(model, catalog, cx, &NothingKnown).eval(index, scope).ok();
                        v.and_then(|v| scalar_text(&v).ok()).and_then(|k| d.instances.get(&k).cloned())
                    }
                    _ => None,
                };
                out.insert(match narrowed {
                    Some(a) => Target::Instance(a),
                    None => Target::Decl(decl),
                });
            }
        }
        for (op, _) in &c.ops {
            if let PathOp::Index(index) = op {
                collect_refs(index, catalog, model, cx, scope, out);
            }
        }
        return;
    }
    walk_children(expr, &mut |e| collect_refs(e, catalog, model, cx, scope, out));
}

/// Calls `f` on each direct sub-expression.
pub(crate) fn walk_children(expr: &Expr, f: &mut dyn FnMut(&Expr)) {
    use drone_lang::ast::StrPart;
    match &expr.kind {
        ExprKind::String(parts) => parts.iter().for_each(|p| {
            if let StrPart::Interp(e) = p {
                f(e)
            }
        }),
        ExprKind::List(items) => {
            for e in items {
                f(e);
            }
        }
        ExprKind::Map(entries) => entries.iter().for_each(|e| f(&e.value)),
        ExprKind::Member(base, _) | ExprKind::Splat(base) | ExprKind::Paren(base) | ExprKind::Unary(_, base) => f(base),
        ExprKind::Index(base, index) => {
            f(base);
            f(index);
        }
        ExprKind::Call(callee, args) => {
            f(callee);
            args.iter().for_each(|a| f(&a.value));
        }
        ExprKind::Binary(_, a, b) => {
            f(a);
            f(b);
        }
        ExprKind::Conditional(a, b, c) => {
            f(a);
            f(b);
            f(c);
        }
        ExprKind::Null | ExprKind::Bool(_) | ExprKind::Number(_) | ExprKind::Var(_) => {}
    }
}

/// A setting of a resource's `lifecycle` block.
fn lifecycle_entry<'a>(
    attributes: &'a [drone_lang::ast::Attribute],
    key: &str,
) -> Option<&'a drone_lang::ast::MapEntry> {
    let lifecycle = attributes.iter().find(|a| a.name.name == "lifecycle")?;
    let ExprKind::Map(entries) = &lifecycle.value.kind else { return None };
    entries.iter().find(|e| e.key.name == key)
}

/// The attribute names a resource's `lifecycle = { ignore_changes = [...] }`
/// lists (the checker has made sure they are literal names of its attributes).
fn ignored_attributes(attributes: &[drone_lang::ast::Attribute]) -> BTreeSet<String> {
    match lifecycle_entry(attributes, "ignore_changes").map(|e| &e.value.kind) {
        Some(ExprKind::List(names)) => names.iter().filter_map(|n| n.literal_text()).collect(),
        _ => BTreeSet::new(),
    }
}
