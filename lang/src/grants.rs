//! A script's grants as data: what each allows, on which resources, read
//! from the `grants` attribute (the checker has made sure they are literals of
//! known kinds on declared resources). Scripts enforce them (`drone-script`);
//! policies judge them (`grants()`).

use std::collections::BTreeMap;

use crate::ast::{Expr, ExprKind};
use crate::span::Span;

/// One grant: `mysql(aws.rds.cluster.ghost, tables = [...], ops = [...])`.
#[derive(Clone, Debug, PartialEq)]
pub struct Grant {
    /// Its kind: `s3.delete_objects`, `mysql`, `read`.
    pub kind: String,
    /// The resources it is on, as addresses.
    pub targets: Vec<String>,
    /// `mysql`: the tables statements may touch, each with the operations
    /// allowed on it (lower case): `tables = [...]` with `ops = [...]` gives
    /// every table those, `tables = { posts = ["select", "delete"] }` each its own.
    pub tables: BTreeMap<String, Vec<String>>,
    /// `mysql`: every operation allowed on some table (lower case).
    pub ops: Vec<String>,
    /// `http.get`: the hosts (lower case, `host` or `host:port`).
    pub hosts: Vec<String>,
    /// Where it is written.
    pub span: Span,
}

/// Everything a script holds.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Grants(pub Vec<Grant>);

impl Grants {
    /// Reads the grants written in `value` (a list of grant calls).
    pub fn from_expr(value: &Expr) -> Grants {
        let ExprKind::List(items) = &value.kind else { return Grants::default() };
        Grants(items.iter().filter_map(grant).collect())
    }

    /// The grant of `kind` on `target`, if held.
    pub fn find(&self, kind: &str, target: &str) -> Option<&Grant> {
        self.0.iter().find(|g| g.kind == kind && g.targets.iter().any(|t| t == target))
    }

    /// The grants of `kind`.
    pub fn of_kind<'a>(&'a self, kind: &'a str) -> impl Iterator<Item = &'a Grant> + 'a {
        self.0.iter().filter(move |g| g.kind == kind)
    }

    /// Whether the script may read `target`'s attributes: a `read` grant, or
    /// any grant that names it (acting on a resource means knowing it).
    pub fn may_read(&self, target: &str) -> bool {
        self.0.iter().any(|g| g.targets.iter().any(|t| t == target))
    }

    /// Whether a call that needs a grant of `kind` is allowed on `target` (when
    /// the target is not known, whether any grant of the kind is held; `read`
    /// then passes, as any resource may be one the script holds a grant on).
    /// Listing a bucket's objects is part of deleting them.
    pub fn allows(&self, kind: &str, target: Option<&str>) -> bool {
        if kind == "read" {
            return target.is_none_or(|t| self.may_read(t));
        }
        let kinds: &[&str] = if kind == "s3.list_objects" {
            &["s3.list_objects", "s3.delete_objects"]
        } else {
            std::slice::from_ref(&kind)
        };
        kinds.iter().any(|k| self.of_kind(k).any(|g| target.is_none_or(|t| g.targets.iter().any(|x| x == t))))
    }

    /// Whether `http.get` is allowed to `host` (when not known, whether any `http.get` grant is held).
    pub fn allows_host(&self, host: Option<&str>) -> bool {
        self.of_kind("http.get").any(|g| host.is_none_or(|h| g.hosts.iter().any(|x| x == h)))
    }
}

fn grant(expr: &Expr) -> Option<Grant> {
    let ExprKind::Call(callee, args) = &expr.kind else { return None };
    let mut grant = Grant {
        kind: dotted(callee)?,
        targets: Vec::new(),
        tables: BTreeMap::new(),
        ops: Vec::new(),
        hosts: Vec::new(),
        span: expr.span,
    };
    let mut ops = Vec::new();
    let mut tables = None;
    for arg in args {
        match arg.name.as_ref().map(|n| n.name.as_str()) {
            None => grant.targets.extend(address(&arg.value)),
            Some("tables") => tables = Some(&arg.value),
            Some("ops") => ops = strings(&arg.value),
            Some("hosts") => grant.hosts = strings(&arg.value),
            Some(_) => {}
        }
    }
    grant.tables = match tables.map(|t| &t.kind) {
        Some(ExprKind::Map(entries)) => {
            entries.iter().map(|e| (e.key.name.to_ascii_lowercase(), strings(&e.value))).collect()
        }
        Some(_) => tables.map(strings).unwrap_or_default().into_iter().map(|t| (t, ops.clone())).collect(),
        None => BTreeMap::new(),
    };
    let mut union: Vec<String> = grant.tables.values().flatten().cloned().collect();
    union.sort();
    union.dedup();
    grant.ops = if grant.tables.is_empty() { ops } else { union };
    Some(grant)
}

/// The state address a resource reference names: `aws.s3.bucket.logs`, or
/// for one a component instance owns (which loading wrote as
/// `aws.ecr.repository.ghost.primary::ghost`), `ghost.primary.aws.ecr.repository.ghost`.
pub fn address(expr: &Expr) -> Option<String> {
    use crate::components::{address_of, OWNED};
    let written = dotted(expr)?;
    let Some((before, own)) = written.split_once(OWNED) else { return Some(written) };
    // `TYPE.C.I::name`: the component and the instance are the two segments before `::`.
    let parts: Vec<&str> = before.split('.').collect();
    if parts.len() < 3 {
        return Some(written);
    }
    let (type_parts, instance) = parts.split_at(parts.len() - 2);
    Some(address_of(&type_parts.join("."), &format!("{}{OWNED}{own}", instance.join("."))))
}

/// `aws.s3.bucket.logs` for that reference.
pub fn dotted(expr: &Expr) -> Option<String> {
    match &expr.kind {
        ExprKind::Var(name) => Some(name.name.clone()),
        ExprKind::Member(base, name) => Some(format!("{}.{}", dotted(base)?, name.name)),
        _ => None,
    }
}

fn strings(expr: &Expr) -> Vec<String> {
    match &expr.kind {
        ExprKind::List(items) => {
            items.iter().filter_map(|i| i.literal_text()).map(|s| s.to_ascii_lowercase()).collect()
        }
        _ => Vec::new(),
    }
}
