//! The human-readable plan: first what changed outside drone (drift), then one
//! block per changed resource, grouped by phase, attribute-level changes, then
//! a one-line summary, then the outputs. A map or list that changed shows
//! only the keys and elements that changed (a policy document's statements
//! included), with a count of those that did not. Secrets print as
//! `(sensitive)`, unknowns as `(known after apply)`. A plan without actions
//! (`--refresh-only`) shows the drift alone. Colour on a terminal, unless
//! `NO_COLOR` (or `--no-color`).

use std::fmt::Write;

use drone_engine::plan::{ActionKind, Plan};
use drone_engine::refresh::Recovered;
use drone_engine::state::Operation;
use drone_engine::Value;

/// Renders `plan` for standard output: coloured when it is a terminal and `NO_COLOR` is unset.
pub fn render(plan: &Plan, phases: &[String]) -> String {
    let colour = crate::render::coloured(&std::io::stdout());
    render_with(plan, phases, colour)
}

/// ANSI colour of a plan's sign: green to create, yellow to change, magenta to replace, red to delete.
fn paint(text: &str, kind: ActionKind, colour: bool) -> String {
    let code = match kind {
        ActionKind::Create => "32",
        ActionKind::Update => "33",
        ActionKind::Replace => "35",
        ActionKind::Delete => "31",
        ActionKind::NoOp => return text.to_string(),
    };
    if colour {
        format!("\x1b[{code}m{text}\x1b[0m")
    } else {
        text.to_string()
    }
}

/// Renders `plan`, with ANSI colours when `colour`.
pub fn render_with(plan: &Plan, phases: &[String], colour: bool) -> String {
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
        // What the account's changes mean for the outputs (a failover moved the writer).
        if !plan.outputs_changed.is_empty() {
            let _ = writeln!(out, "\nOutputs changed since the last run:");
            let width = plan.outputs_changed.iter().map(|(n, _)| n.len()).max().unwrap_or(0);
            for (name, before) in &plan.outputs_changed {
                let now = plan.outputs.get(name).map_or_else(|| "(unset)".to_string(), show);
                let _ = writeln!(out, "  {name:width$} : {} -> {now}", show(before));
            }
        }
        return out;
    }
    let mut order: Vec<&String> = phases.iter().collect();
    for a in &plan.actions {
        if !order.contains(&&a.phase) {
            order.push(&a.phase);
        }
    }
    let several_regions = {
        let mut regions: Vec<&str> = plan.actions.iter().filter_map(|a| plan.region(a)).collect();
        regions.sort_unstable();
        regions.dedup();
        regions.len() > 1
    };
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
            // Where resources live in several regions (a standby), each says which.
            let label = match plan.region(a) {
                Some(region) if several_regions => format!("{label} in {region}"),
                _ => label.to_string(),
            };
            let _ = write!(out, "  {} {} ({label})", paint(sign, a.kind, colour), a.address);
            if let Some(reason) = &a.reason {
                let _ = write!(out, ": {reason}");
            }
            out.push('\n');
            if let Some(rollout) = &a.rollout {
                let _ = writeln!(out, "      # rollout: {rollout}");
            }
            let width = a.changes.iter().map(|c| c.attribute.len()).max().unwrap_or(0);
            for c in &a.changes {
                let after = c.after.as_ref().map_or("(unset)".to_string(), show);
                match (&a.kind, &c.before, &c.after) {
                    (ActionKind::Create, _, _) | (_, None, _) => {
                        let _ = writeln!(out, "      {:width$} = {after}", c.attribute);
                    }
                    (_, Some(before), Some(now)) if collection(before) && collection(now) => {
                        let note = if c.forces_replacement { "   # forces replacement" } else { "" };
                        let _ = writeln!(out, "      {}:{note}", c.attribute);
                        nested(&mut out, before, now, colour);
                    }
                    (_, Some(before), _) => {
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
    if !plan.outputs.is_empty() {
        let _ = writeln!(out, "\nOutputs:");
        let width = plan.outputs.keys().map(String::len).max().unwrap_or(0);
        for (name, value) in &plan.outputs {
            let _ = writeln!(out, "  {name:width$} = {}", show(value));
        }
    }
    out
}

/// Whether a value is a map or list whose parts are known (shown key by key).
fn collection(v: &Value) -> bool {
    matches!(v, Value::Map(_) | Value::List(_))
}

/// The leaves of `v` by path (`tags.team`, `Statement[0].Action`): scalars, unknowns,
/// secrets, and empty collections.
fn leaves(v: &Value, path: String, out: &mut Vec<(String, Value)>) {
    match v {
        Value::Map(m) if !m.is_empty() => {
            for (k, x) in m.iter() {
                let key =
                    if k.chars().all(|c| c.is_ascii_alphanumeric() || c == '_') { k.clone() } else { format!("{k:?}") };
                leaves(x, if path.is_empty() { key } else { format!("{path}.{key}") }, out);
            }
        }
        Value::List(items) if !items.is_empty() => {
            for (i, x) in items.iter().enumerate() {
                leaves(x, format!("{path}[{i}]"), out);
            }
        }
        other => out.push((path, other.clone())),
    }
}

/// A changed map or list, key by key: what was added (+), removed (-) and changed (~), and how
/// many leaves stayed as they were. A list whose length changed is compared as a whole per
/// element (added and removed elements), as order rarely matters in AWS's lists.
fn nested(out: &mut String, before: &Value, after: &Value, colour: bool) {
    if let (Value::List(old), Value::List(new)) = (before, after) {
        if old.len() != new.len() {
            for x in old.iter().filter(|x| !new.contains(x)) {
                let _ = writeln!(out, "        {} {}", paint("-", ActionKind::Delete, colour), show(x));
            }
            for x in new.iter().filter(|x| !old.contains(x)) {
                let _ = writeln!(out, "        {} {}", paint("+", ActionKind::Create, colour), show(x));
            }
            let kept = new.iter().filter(|x| old.contains(x)).count();
            if kept > 0 {
                let _ = writeln!(out, "        ({kept} unchanged)");
            }
            return;
        }
    }
    let (mut old, mut new) = (Vec::new(), Vec::new());
    leaves(before, String::new(), &mut old);
    leaves(after, String::new(), &mut new);
    let old: std::collections::BTreeMap<String, Value> = old.into_iter().collect();
    let new: std::collections::BTreeMap<String, Value> = new.into_iter().collect();
    let width = old.keys().chain(new.keys()).map(String::len).max().unwrap_or(0);
    let mut unchanged = 0;
    let paths: std::collections::BTreeSet<&String> = old.keys().chain(new.keys()).collect();
    for path in paths {
        match (old.get(path), new.get(path)) {
            (Some(a), Some(b)) if a == b => unchanged += 1,
            (Some(a), Some(b)) => {
                let _ = writeln!(
                    out,
                    "        {} {path:width$} : {} -> {}",
                    paint("~", ActionKind::Update, colour),
                    show(a),
                    show(b)
                );
            }
            (Some(a), None) => {
                let _ = writeln!(out, "        {} {path:width$} = {}", paint("-", ActionKind::Delete, colour), show(a));
            }
            (None, Some(b)) => {
                let _ = writeln!(out, "        {} {path:width$} = {}", paint("+", ActionKind::Create, colour), show(b));
            }
            (None, None) => {}
        }
    }
    if unchanged > 0 {
        let _ = writeln!(out, "        ({unchanged} unchanged)");
    }
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

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use drone_engine::plan::{Action, Change};

    use super::*;

    fn map(entries: &[(&str, Value)]) -> Value {
        Value::map(entries.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    fn plan_changing(attribute: &str, before: Value, after: Value) -> Plan {
        let change =
            Change { attribute: attribute.into(), before: Some(before), after: Some(after), forces_replacement: false };
        let action = Action {
            address: "aws.iam.role.app".into(),
            type_name: "aws.iam.role".into(),
            phase: "default".into(),
            provider: "main".into(),
            kind: ActionKind::Update,
            changes: vec![change],
            reason: None,
            ignored: Vec::new(),
            rollout: None,
        };
        Plan {
            workflow: "w".into(),
            actions: vec![action],
            outputs: BTreeMap::from([("role".to_string(), Value::Unknown)]),
            ..Plan::default()
        }
    }

    #[test]
    fn a_changed_policy_document_shows_only_what_changed_and_colour_only_when_asked() {
        let statement = |actions: Vec<&str>| {
            map(&[
                ("Effect", Value::str("Allow")),
                ("Action", Value::List(actions.into_iter().map(Value::str).collect())),
                ("Resource", Value::str("arn:aws:s3:::logs/*")),
            ])
        };
        let before = map(&[(
            "app",
            map(&[
                ("Version", Value::str("2012-10-17")),
                ("Statement", Value::List(vec![statement(vec!["s3:GetObject"])])),
            ]),
        )]);
        let after = map(&[(
            "app",
            map(&[
                ("Version", Value::str("2012-10-17")),
                ("Statement", Value::List(vec![statement(vec!["s3:GetObject", "s3:PutObject"])])),
            ]),
        )]);
        let plain = render_with(&plan_changing("inline_policies", before.clone(), after.clone()), &[], false);
        assert!(plain.contains("      inline_policies:\n"), "{plain}");
        assert!(plain.contains("+ app.Statement[0].Action[1] = \"s3:PutObject\""), "{plain}");
        assert!(plain.contains("(4 unchanged)"), "{plain}");
        assert!(!plain.contains("Resource"), "unchanged keys are hidden: {plain}");
        assert!(plain.contains("Outputs:\n  role = (known after apply)"), "{plain}");
        assert!(!plain.contains('\x1b'), "{plain}");
        let coloured = render_with(&plan_changing("inline_policies", before, after), &[], true);
        assert!(coloured.contains("\x1b[33m~\x1b[0m aws.iam.role.app"), "{coloured}");
        assert!(coloured.contains("\x1b[32m+\x1b[0m app.Statement[0].Action[1]"), "{coloured}");

        // A list that grew or shrank: its elements in and out.
        let subnets = |ids: &[&str]| Value::List(ids.iter().map(|i| Value::str(*i)).collect());
        let shown = render_with(
            &plan_changing(
                "subnet_ids",
                subnets(&["subnet-a", "subnet-b"]),
                subnets(&["subnet-b", "subnet-c", "subnet-d"]),
            ),
            &[],
            false,
        );
        assert!(
            shown.contains("- \"subnet-a\"") && shown.contains("+ \"subnet-c\"") && shown.contains("+ \"subnet-d\""),
            "{shown}"
        );
        assert!(shown.contains("(1 unchanged)"), "{shown}");
    }
}
