//! The human-readable plan: first what changed outside drone (drift), then one
//! block per changed resource, grouped by phase, attribute-level changes, then
//! a one-line summary. Secrets print as `(sensitive)`, unknowns as
//! `(known after apply)`. A plan without actions (`--refresh-only`) shows the
//! drift alone.

use std::fmt::Write;

use drone_engine::plan::{ActionKind, Plan};
use drone_engine::refresh::Recovered;
use drone_engine::state::Operation;
use drone_engine::Value;

/// Renders `plan` for a terminal or a log.
pub fn render(plan: &Plan, phases: &[String]) -> String {
    let mut out = moved(&plan.moved);
    out.push_str(&recovered(&plan.recovered));
    out.push_str(&drift(plan));
    if plan.actions.is_empty() {
        if plan.drift.is_empty() && plan.recovered.is_empty() {
            out.push_str("No changes outside drone: the account matches state.\n");
        }
        return out;
    }
    if plan.is_empty() {
        let _ = writeln!(out, "No changes: {} resource(s) match the workflow.", plan.count(ActionKind::NoOp));
        return out;
    }
    let mut order: Vec<&String> = phases.iter().collect();
    for a in &plan.actions {
        if !order.contains(&&a.phase) {
            order.push(&a.phase);
        }
    }
    for phase in order {
        let actions: Vec<_> = plan.actions.iter().filter(|a| &a.phase == phase && a.kind != ActionKind::NoOp).collect();
        if actions.is_empty() {
            continue;
        }
        let _ = writeln!(out, "phase {phase}:");
        for a in actions {
            let (sign, label) = match a.kind {
                ActionKind::Create => ("+", "create"),
                ActionKind::Update => ("~", "update in place"),
                ActionKind::Replace => ("-/+", "replace"),
                ActionKind::Delete => ("-", "delete"),
                ActionKind::NoOp => (" ", "no change"),
            };
            let _ = write!(out, "  {sign} {} ({label})", a.address);
            if let Some(reason) = &a.reason {
                let _ = write!(out, ": {reason}");
            }
            out.push('\n');
            let width = a.changes.iter().map(|c| c.attribute.len()).max().unwrap_or(0);
            for c in &a.changes {
                let after = c.after.as_ref().map_or("(unset)".to_string(), show);
                match (&a.kind, &c.before) {
                    (ActionKind::Create, _) | (_, None) => {
                        let _ = writeln!(out, "      {:width$} = {after}", c.attribute);
                    }
                    (_, Some(before)) => {
                        let note = if c.forces_replacement { "   # forces replacement" } else { "" };
                        let _ = writeln!(out, "      {:width$} : {} -> {after}{note}", c.attribute, show(before));
                    }
                }
            }
        }
    }
    let _ = writeln!(
        out,
        "\nPlan: {} to create, {} to update, {} to replace, {} to delete, {} unchanged.",
        plan.count(ActionKind::Create),
        plan.count(ActionKind::Update),
        plan.count(ActionKind::Replace),
        plan.count(ActionKind::Delete),
        plan.count(ActionKind::NoOp),
    );
    out
}

/// What `moved` blocks gave a new address (the resources stay as they are).
fn moved(moved: &[(String, String)]) -> String {
    let mut out = String::new();
    if moved.is_empty() {
        return out;
    }
    let _ = writeln!(out, "Moved in state (the resources are untouched):");
    for (from, to) in moved {
        let _ = writeln!(out, "  > {from} -> {to}");
    }
    out.push('\n');
    out
}

/// What an interrupted run left unfinished, and how it was resolved.
fn recovered(recovered: &[Recovered]) -> String {
    let mut out = String::new();
    if recovered.is_empty() {
        return out;
    }
    let _ = writeln!(out, "Resolved operations an earlier run did not finish:");
    for r in recovered {
        let how = match (r.operation, &r.adopted) {
            (Operation::Create, Some(id)) => format!("created {id}; adopted"),
            (Operation::Create, None) => "nothing was created".to_string(),
            (Operation::Delete, _) if r.deleted => "deleted; settled".to_string(),
            (op, _) => format!("{}; read back", op.verb()),
        };
        let _ = writeln!(out, "  ! {} ({}): {how}", r.address, r.type_name);
    }
    out.push('\n');
    out
}

/// The drift section: each resource changed outside drone, recorded -> actual.
fn drift(plan: &Plan) -> String {
    let mut out = String::new();
    if plan.drift.is_empty() {
        return out;
    }
    let _ = writeln!(out, "Changed outside drone since the last run:");
    for d in &plan.drift {
        if d.deleted {
            let _ = writeln!(out, "  - {} ({}): deleted", d.address, d.id);
            continue;
        }
        let _ = writeln!(out, "  ~ {} ({})", d.address, d.id);
        let width = d.changes.iter().map(|c| c.attribute.len()).max().unwrap_or(0);
        for c in &d.changes {
            let (recorded, actual) = if c.sensitive {
                ("(sensitive)".to_string(), "(sensitive)".to_string())
            } else {
                (show(&c.recorded), show(&c.actual))
            };
            let note = if plan.ignores(&d.address, &c.attribute) { "  (kept: lifecycle.ignore_changes)" } else { "" };
            let _ = writeln!(out, "      {:width$} : {recorded} -> {actual}{note}", c.attribute);
        }
    }
    out.push('\n');
    out
}

fn show(v: &Value) -> String {
    v.to_string()
}
