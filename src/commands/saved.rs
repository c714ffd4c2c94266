//! Saved plans (`drone plan --out PLAN`, `drone run --plan PLAN`): the plan as
//! `plan --format json` gives it (no secret values: they print as
//! `{"sensitive": true}`), with what it was made against: the state's lineage
//! and serial, and a digest of every source file read, the parameters and the
//! targets. `run --plan` plans again under the lock and applies only when all
//! of it is unchanged, the plan itself included (so the account has not
//! drifted since either).

use std::path::Path;

use drone_engine::plan::Plan;
use drone_engine::state::State;
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::error::CliError;
use crate::session::Session;

/// The saved plan's format.
const KIND: &str = "drone-saved-plan";

/// A digest of what the plan was made from: every source file (the workflow,
/// what it `use`s, its components and policy packs), the parameters and the targets.
fn digest(session: &Session, params: &[String], targets: &[String]) -> String {
    let mut hash = Sha256::new();
    for file in session.loaded.program.sources.files() {
        hash.update(file.name.as_bytes());
        hash.update([0]);
        hash.update(file.text.as_bytes());
        hash.update([0]);
    }
    let mut params: Vec<&String> = params.iter().collect();
    params.sort();
    for p in params.iter().map(|p| p.as_str()).chain(["--target"]).chain(targets.iter().map(String::as_str)) {
        hash.update(p.as_bytes());
        hash.update([0]);
    }
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// What a saved plan file holds.
fn document(session: &Session, state: &State, plan: &Plan, params: &[String], targets: &[String]) -> serde_json::Value {
    json!({
        "format_version": 1,
        "kind": KIND,
        "workflow": session.loaded.model.workflow,
        "lineage": state.lineage,
        "serial": state.serial,
        "sources": digest(session, params, targets),
        "plan": plan.to_json(),
    })
}

/// Writes the plan made from `state` (as read, before refresh) to `path`, readable by its owner only.
pub(crate) fn write(
    path: &Path,
    session: &Session,
    state: &State,
    plan: &Plan,
    (params, targets): (&[String], &[String]),
) -> Result<(), CliError> {
    let text = serde_json::to_string_pretty(&document(session, state, plan, params, targets)).unwrap_or_default();
    crate::commands::state::write_private(path, &(text + "\n"))
}

/// Checks that `plan`, made now from `state`, is the one saved at `path`; says what changed when not.
pub(crate) fn matches(
    path: &Path,
    session: &Session,
    state: &State,
    plan: &Plan,
    (params, targets): (&[String], &[String]),
) -> Result<(), CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::unreadable(path.display(), &e))?;
    let saved: serde_json::Value =
        serde_json::from_str(&text).ok().filter(|v: &serde_json::Value| v["kind"] == KIND).ok_or_else(|| {
            CliError::usage(format!("{} is not a plan saved by `drone plan --out`", path.display()), None)
        })?;
    let now = document(session, state, plan, params, targets);
    let stale = |what: &str| {
        CliError::refused(
            format!("the plan in {} is out of date: {what} since it was made; nothing was changed", path.display()),
            Some("make a new plan with `drone plan --out`, review it, and apply that"),
        )
    };
    if saved["workflow"] != now["workflow"] {
        return Err(stale("it was made for another workflow"));
    }
    if saved["serial"] != now["serial"] {
        return Err(stale(&format!("the state moved from serial {} to {}", saved["serial"], now["serial"])));
    }
    // A state not written yet has no lineage of its own until the first write (each read makes one).
    if saved["lineage"] != now["lineage"] && saved["serial"] != 0 {
        return Err(stale("the state was replaced by another of the same serial"));
    }
    if saved["sources"] != now["sources"] {
        return Err(stale("the workflow, a file it reads, its parameters or its targets changed"));
    }
    if saved["plan"] != now["plan"] {
        return Err(stale("the account changed (the same workflow now plans differently)"));
    }
    Ok(())
}
