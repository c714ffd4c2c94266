//! Policies: rules written in the language (`policy` blocks), evaluated over
//! the resource graph before anything touches the cloud. Input: the model,
//! the policy modules, and which packs or rules are off. Output: a report of
//! findings, each with its rule, severity, message, the span of the offending
//! attribute, and the suppression that covers it, if any. Findings are data;
//! reporters in the binary render them.

pub mod exposure;
mod functions;
pub mod iam;
mod reach;
pub(crate) mod symbolic;

use std::collections::BTreeSet;

use drone_lang::ast::{Annotation, Expr, ExprKind, Item, Module, Policy};
use drone_lang::{Catalog, Span};
use serde::Serialize;

use crate::error::EvalError;
use crate::eval::Evaluator;
use crate::functions::CallContext;
use crate::model::{Binding, Model, Scope};
use crate::value::Value;

pub use functions::signatures;

use symbolic::Symbolic;

/// How serious a finding is.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Stops `plan` and `run`.
    Error,
    /// Reported; does not stop anything.
    Warning,
    /// For information.
    Info,
}

impl Severity {
    /// The severity a policy's `severity` names; anything else (the checker
    /// refuses it) is an error.
    pub fn from_name(name: Option<&str>) -> Severity {
        match name {
            Some("warning") => Severity::Warning,
            Some("info") => Severity::Info,
            _ => Severity::Error,
        }
    }

    /// The severity's name as written in policies.
    pub fn name(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
            Severity::Info => "info",
        }
    }
}

/// A rule's metadata.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Rule {
    /// Stable id, e.g. `network.public_ingress`.
    pub id: String,
    /// The pack it belongs to (its file's name).
    pub pack: String,
    /// One line naming what the rule requires.
    pub title: String,
    /// Severity of its findings.
    pub severity: Severity,
    /// Why the rule exists.
    pub rationale: Option<String>,
    /// How to fix a finding.
    pub fix: Option<String>,
    /// The same rule's ids in other tools.
    pub aliases: Vec<String>,
    /// Where the rule is written.
    #[serde(skip)]
    pub span: Span,
}

impl Rule {
    /// What a mechanical fix sets, as (attribute, value as written): a `fix`
    /// that begins "set `name = value`" names them, and so does each further
    /// `name = value` in backticks joined to it by "and" ("... (or ...) and
    /// `other = value`"). Other fixes take judgement and give none.
    pub fn assignments(&self) -> Vec<(String, String)> {
        let Some(fix) = self.fix.as_deref().filter(|f| f.starts_with("set `")) else { return Vec::new() };
        let pieces: Vec<&str> = fix.split('`').collect();
        let mut out = Vec::new();
        for (i, code) in pieces.iter().enumerate().skip(1).step_by(2) {
            let joined = i == 1 || pieces[i - 1].trim_end().ends_with(" and");
            let Some((name, value)) = code.split_once(" = ").filter(|_| joined) else { break };
            let is_name = !name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !is_name || value.trim().is_empty() {
                break;
            }
            out.push((name.to_string(), value.trim().to_string()));
        }
        out
    }
}

/// An `@allow` that covers a finding.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Suppression {
    /// Why the finding is acceptable.
    pub reason: String,
    /// The date after which it no longer applies, if any.
    pub until: Option<String>,
    /// Whether that date has passed (the finding counts again).
    pub expired: bool,
    /// Where the annotation is written.
    #[serde(skip)]
    pub span: Span,
}

/// One finding of one rule on one resource.
#[derive(Clone, Debug, PartialEq, Serialize)]
pub struct Finding {
    /// The rule's id.
    pub rule: String,
    /// Its severity (warnings for what cannot be proven before apply).
    pub severity: Severity,
    /// What is wrong, naming the resource and attribute.
    pub message: String,
    /// The resource at fault.
    pub address: String,
    /// The attribute at fault, if the finding is about one.
    pub attribute: Option<String>,
    /// Where: the attribute (or list element) or the resource's name.
    #[serde(skip)]
    pub span: Span,
    /// False when the rule could not decide before apply.
    pub proven: bool,
    /// The suppression covering it, if any (expired ones included).
    pub suppression: Option<Suppression>,
    /// Against a baseline: whether the finding is new or was already there.
    /// None when no baseline was given.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub baseline: Option<BaselineState>,
}

/// A finding compared with a saved baseline.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum BaselineState {
    /// Not in the baseline: it counts.
    New,
    /// Already in the baseline: reported, but does not fail the check.
    Unchanged,
}

impl Finding {
    /// Whether the finding counts: not covered by a live suppression, and
    /// not already in the baseline.
    pub fn active(&self) -> bool {
        self.suppression.as_ref().is_none_or(|s| s.expired) && self.baseline != Some(BaselineState::Unchanged)
    }

    /// What identifies a finding across runs: rule, resource, attribute and
    /// message; spans move when a file is edited, these do not.
    pub fn fingerprint(&self) -> Fingerprint {
        (self.rule.clone(), self.address.clone(), self.attribute.clone(), self.message.clone())
    }
}

/// Every rule evaluated and every finding, in order.
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
pub struct Report {
    /// The rules that ran.
    pub rules: Vec<Rule>,
    /// Findings, ordered by file position.
    pub findings: Vec<Finding>,
}

impl Report {
    /// Active findings of `severity`.
    pub fn active(&self, severity: Severity) -> usize {
        self.findings.iter().filter(|f| f.active() && f.severity == severity).count()
    }

    /// The rule with id `id`.
    pub fn rule(&self, id: &str) -> Option<&Rule> {
        self.rules.iter().find(|r| r.id == id)
    }

    /// Marks each finding new or unchanged against `baseline`, a list of
    /// fingerprints from an earlier report. Each baseline entry covers one
    /// finding, so a second identical finding is new.
    pub fn compare_with_baseline(&mut self, baseline: impl IntoIterator<Item = Fingerprint>) {
        let mut remaining: std::collections::BTreeMap<Fingerprint, usize> = std::collections::BTreeMap::new();
        for key in baseline {
            *remaining.entry(key).or_default() += 1;
        }
        let states: Vec<BaselineState> = self
            .findings
            .iter()
            .map(|finding| match remaining.get_mut(&finding.fingerprint()) {
                Some(n) if *n > 0 => {
                    *n -= 1;
                    BaselineState::Unchanged
                }
                _ => BaselineState::New,
            })
            .collect();
        for (finding, state) in self.findings.iter_mut().zip(states) {
            finding.baseline = Some(state);
        }
    }
}

/// A finding's identity across runs: (rule, address, attribute, message).
pub type Fingerprint = (String, String, Option<String>, String);

/// A policy file: its pack name and syntax tree.
pub struct Pack<'a> {
    /// The pack's name (its file name without extension).
    pub name: String,
    /// The parsed, checked file.
    pub module: &'a Module,
}

/// Evaluates every enabled rule of `packs` over `model`. Rules and packs named
/// in `disabled` (or the model's `disabled_policies`) do not run.
pub fn evaluate(
    packs: &[Pack<'_>],
    model: &Model,
    catalog: &Catalog,
    cx: &CallContext<'_>,
    disabled: &[String],
) -> Result<Report, Vec<EvalError>> {
    let symbolic = Symbolic::new(model, catalog, cx);
    let graph = functions::Graph { model, symbolic: &symbolic };
    let today = cx.host.today();
    let off: BTreeSet<&str> = disabled.iter().chain(&model.disabled_policies).map(String::as_str).collect();
    let mut report = Report::default();
    let mut errors = unknown_names(packs, model);
    for pack in packs {
        if off.contains(pack.name.as_str()) {
            continue;
        }
        for item in &pack.module.items {
            let Item::Policy(policy) = item else { continue };
            let id = policy.id.dotted();
            if off.contains(id.as_str()) {
                continue;
            }
            let evaluator = Evaluator::new(model, catalog, cx, &symbolic).with_functions(&graph).lenient();
            let rule = match metadata(policy, &pack.name, &evaluator) {
                Ok(r) => r,
                Err(e) => {
                    errors.push(e);
                    continue;
                }
            };
            let mut run = RuleRun {
                model,
                evaluator: &evaluator,
                rule: &rule,
                today: &today,
                findings: Vec::new(),
                undecided: BTreeSet::new(),
            };
            if let Err(e) = run.items(&policy.items, &mut Vec::new(), None) {
                errors.push(e);
            }
            report.findings.extend(run.findings);
            report.rules.push(rule);
        }
    }
    report.findings.sort_by(|a, b| (a.span, &a.rule).cmp(&(b.span, &b.rule)));
    if errors.is_empty() {
        Ok(report)
    } else {
        Err(errors)
    }
}

/// Every pack name and rule id `packs` define: what `@allow`, `disabled_policies` and
/// `--disable-policy` may name.
pub fn known_names(packs: &[Pack<'_>]) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for pack in packs {
        names.insert(pack.name.clone());
        for item in &pack.module.items {
            if let Item::Policy(policy) = item {
                names.insert(policy.id.dotted());
            }
        }
    }
    names
}

/// The help for a name that is neither a pack nor a rule: the closest that is.
pub fn unknown_name_help(name: &str, known: &BTreeSet<String>) -> String {
    match drone_lang::suggest::closest(name, known.iter().map(String::as_str)) {
        Some(close) => format!("did you mean `{close}`?"),
        None => "`drone check --format json` lists every rule under `rules`".to_string(),
    }
}

/// The workflow's `@allow`s and `disabled_policies` that name no pack or rule: a
/// misspelled id would otherwise suppress nothing, silently.
fn unknown_names(packs: &[Pack<'_>], model: &Model) -> Vec<EvalError> {
    let known = known_names(packs);
    let unknown = |name: &str, span: Span| EvalError::UnknownRule {
        name: name.to_string(),
        help: unknown_name_help(name, &known),
        span,
    };
    let mut errors = Vec::new();
    if let Some(span) = model.disabled_policies_span {
        errors.extend(model.disabled_policies.iter().filter(|n| !known.contains(*n)).map(|n| unknown(n, span)));
    }
    let annotations = model
        .instances
        .values()
        .flat_map(|i| i.annotations.iter().chain(i.attributes.iter().flat_map(|a| a.annotations.iter())))
        .chain(model.grants.iter().flat_map(|g| g.annotations.iter()));
    let mut seen = BTreeSet::new();
    for annotation in annotations.filter(|a| a.name.name == "allow") {
        let Some(arg) = annotation.args.iter().find(|a| a.name.is_none()) else { continue };
        let Some(path) = arg.value.as_path() else { continue };
        let id = path.iter().map(|i| i.name.as_str()).collect::<Vec<_>>().join(".");
        // A looped resource repeats its annotations once per instance: one error each.
        if !known.contains(&id) && seen.insert((id.clone(), arg.value.span)) {
            errors.push(unknown(&id, arg.value.span));
        }
    }
    errors
}

fn metadata(policy: &Policy, pack: &str, evaluator: &Evaluator<'_>) -> Result<Rule, EvalError> {
    let mut rule = Rule {
        id: policy.id.dotted(),
        pack: pack.to_string(),
        title: String::new(),
        severity: Severity::Error,
        rationale: None,
        fix: None,
        aliases: Vec::new(),
        span: policy.id.span,
    };
    for attr in &policy.attributes {
        let value = evaluator.eval(&attr.value, &Vec::new())?;
        let text = value.as_str().map(String::from);
        match attr.name.name.as_str() {
            "title" => rule.title = text.unwrap_or_default(),
            "severity" => rule.severity = Severity::from_name(text.as_deref()),
            "rationale" => rule.rationale = text,
            "fix" => rule.fix = text,
            "aliases" => {
                rule.aliases =
                    value.as_list().unwrap_or_default().iter().filter_map(|v| v.as_str().map(String::from)).collect()
            }
            _ => {}
        }
    }
    Ok(rule)
}

/// The evaluation of one rule.
struct RuleRun<'r, 'm> {
    model: &'m Model,
    evaluator: &'r Evaluator<'m>,
    rule: &'r Rule,
    today: &'r str,
    findings: Vec<Finding>,
    /// Resources already reported as undecidable for this rule.
    undecided: BTreeSet<String>,
}

impl RuleRun<'_, '_> {
    /// Runs `items` with loop bindings `scope`; `subject` is the innermost
    /// resource being examined (undecidable conditions are reported on it).
    fn items(&mut self, items: &[Item], scope: &mut Scope, subject: Option<&str>) -> Result<(), EvalError> {
        let depth = scope.len();
        for item in items {
            match item {
                Item::Let(l) => scope.push((l.name.name.clone(), Binding::Let(l.value.clone()))),
                Item::For(f) => {
                    let collection = self.evaluator.eval(&f.collection, scope)?;
                    let entries: Vec<(Value, Value)> = match &collection {
                        Value::List(items) => {
                            items.iter().enumerate().map(|(i, v)| (Value::Number(i as f64), v.clone())).collect()
                        }
                        Value::Map(m) => m.iter().map(|(k, v)| (Value::str(k), v.clone())).collect(),
                        Value::Null => Vec::new(),
                        _ => {
                            self.undecidable(subject);
                            continue;
                        }
                    };
                    for (key, value) in entries {
                        let inner_subject = resource_address(&value).or(subject.map(String::from));
                        let mark = scope.len();
                        match &f.second {
                            Some(second) => {
                                scope.push((f.first.name.clone(), Binding::Value(key)));
                                scope.push((second.name.clone(), Binding::Value(value)));
                            }
                            None => scope.push((f.first.name.clone(), Binding::Value(value))),
                        }
                        self.items(&f.items, scope, inner_subject.as_deref())?;
                        scope.truncate(mark);
                    }
                }
                Item::If(i) => match self.evaluator.eval(&i.condition, scope)? {
                    Value::Bool(true) => self.items(&i.then_items, scope, subject)?,
                    Value::Bool(false) => self.items(&i.else_items, scope, subject)?,
                    _ => self.undecidable(subject),
                },
                Item::Flag(flag) => {
                    let message = match self.evaluator.eval(&flag.message, scope)? {
                        Value::String(s) => s,
                        _ => self.rule.title.clone(),
                    };
                    let (address, attribute, index) = self.target(&flag.target, scope)?;
                    self.report(address, attribute, index, message, self.rule.severity, true);
                }
                _ => {}
            }
        }
        scope.truncate(depth);
        Ok(())
    }

    /// What a `flag` points at: a resource, one of its attributes, or one element.
    fn target(&self, expr: &Expr, scope: &Scope) -> Result<(String, Option<String>, Option<usize>), EvalError> {
        let not_a_resource = |span| EvalError::Type {
            expected: "a resource, `resource.attribute` or `resource.attribute[index]`".into(),
            found: "another value".into(),
            span,
            help: "flag the resource (a loop variable over `resources(...)`) or one of its attributes".into(),
        };
        if let ExprKind::Conditional(cond, then, otherwise) = &expr.kind {
            return match self.evaluator.eval(cond, scope)? {
                Value::Bool(true) => self.target(then, scope),
                Value::Bool(false) => self.target(otherwise, scope),
                _ => Err(not_a_resource(cond.span)),
            };
        }
        if let ExprKind::Paren(inner) = &expr.kind {
            return self.target(inner, scope);
        }
        let (base, attribute, index) = match &expr.kind {
            ExprKind::Index(inner, index) => match &inner.kind {
                ExprKind::Member(base, name) => {
                    let i = self.evaluator.eval(index, scope)?.as_i64().map(|n| n as usize);
                    (base.as_ref(), Some(name.name.clone()), i)
                }
                _ => return Err(not_a_resource(expr.span)),
            },
            ExprKind::Member(base, name) => (base.as_ref(), Some(name.name.clone()), None),
            _ => (expr, None, None),
        };
        let value = self.evaluator.eval(base, scope)?;
        if let Some(address) = resource_address(&value) {
            return Ok((address, attribute, index));
        }
        // `flag sg` where `sg.ingress` was meant to be the whole value.
        let value = self.evaluator.eval(expr, scope)?;
        resource_address(&value).map(|a| (a, None, None)).ok_or_else(|| not_a_resource(expr.span))
    }

    fn undecidable(&mut self, subject: Option<&str>) {
        let Some(address) = subject else { return };
        if self.undecided.insert(address.to_string()) {
            let message = format!("cannot prove \"{}\" for {address} until apply", self.rule.title);
            self.report(address.to_string(), None, None, message, Severity::Warning, false);
        }
    }

    fn report(
        &mut self,
        address: String,
        attribute: Option<String>,
        index: Option<usize>,
        message: String,
        severity: Severity,
        proven: bool,
    ) {
        if let Some(id) = address.strip_prefix(GRANT_PREFIX) {
            return self.report_grant(id, message, severity, proven);
        }
        let Some(instance) = self.model.instances.get(&address) else { return };
        let attr = attribute.as_ref().and_then(|name| instance.attributes.iter().find(|a| &a.name.name == name));
        let span = match (attr, index) {
            (Some(a), Some(i)) => match &a.value.kind {
                ExprKind::List(items) => items.get(i).map_or(a.span, |e| e.span),
                _ => a.span,
            },
            (Some(a), None) => a.span,
            (None, _) => instance.name_span,
        };
        let annotations = instance.annotations.iter().chain(attr.into_iter().flat_map(|a| a.annotations.iter()));
        let suppression = annotations.filter_map(|a| suppression(a, &self.rule.id, self.today)).next();
        self.findings.push(Finding {
            rule: self.rule.id.clone(),
            severity,
            message,
            address,
            attribute,
            span,
            proven,
            suppression,
            baseline: None,
        });
    }

    /// A finding about a script's grant: at the grant in the script's `grants`,
    /// suppressed by an `@allow` on the script.
    fn report_grant(&mut self, id: &str, message: String, severity: Severity, proven: bool) {
        let Some(site) = self.model.grants.iter().find(|g| g.id == id) else { return };
        let suppression = site.annotations.iter().filter_map(|a| suppression(a, &self.rule.id, self.today)).next();
        self.findings.push(Finding {
            rule: self.rule.id.clone(),
            severity,
            message,
            address: site.script.clone(),
            attribute: Some("grants".into()),
            span: site.grant.span,
            proven,
            suppression,
            baseline: None,
        });
    }
}

/// The address of a resource value (policies see resources as maps carrying it).
pub fn resource_address(value: &Value) -> Option<String> {
    value.as_map()?.get(symbolic::ADDRESS_KEY)?.as_str().map(String::from)
}

/// What a grant's address starts with (`grant:task delete_posts #1`): grants are no resources.
pub const GRANT_PREFIX: &str = "grant:";

/// The suppression `annotation` gives for `rule`, if it is an `@allow` of it.
fn suppression(annotation: &Annotation, rule: &str, today: &str) -> Option<Suppression> {
    if annotation.name.name != "allow" {
        return None;
    }
    let id = annotation.args.iter().find(|a| a.name.is_none())?.value.as_path()?;
    let id: Vec<&str> = id.iter().map(|i| i.name.as_str()).collect();
    if id.join(".") != rule {
        return None;
    }
    let named = |n: &str| {
        annotation
            .args
            .iter()
            .find(|a| a.name.as_ref().is_some_and(|x| x.name == n))
            .and_then(|a| a.value.as_plain_string())
    };
    let until = named("until");
    let expired = until.as_deref().is_some_and(|u| u < today);
    Some(Suppression { reason: named("reason").unwrap_or_default(), until, expired, span: annotation.span })
}
