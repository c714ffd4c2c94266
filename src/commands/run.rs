//! `drone run`: check, plan and apply a workflow; with `--refresh-only`,
//! accept what changed outside drone into state instead.

use std::path::Path;

use drone_engine::refresh::Refreshed;
use drone_lang::Catalog;

use crate::cli::args::Common;
use crate::error::Outcome;
use crate::exit::Exit;
use crate::render::count;
use crate::session::{
    announce, apply_moved, confirm, drift_only, load_state, plan_against, refreshed, session, take_lock,
    workflow_scripts, Session,
};

/// Plans `file` against the refreshed account and applies the plan once confirmed.
pub(crate) async fn run(file: &Path, common: &Common, yes: bool, refresh_only: bool, catalog: &Catalog) -> Outcome {
    let session = session(file, common, catalog, true).await?;
    let _lock = take_lock(&session, file, "run").await?;
    announce(&session).await?;
    let mut state = load_state(&session).await?;
    let moved = apply_moved(&session, &mut state)?;
    let refreshed = refreshed(&session, &state, catalog, common.concurrency).await?;
    if refresh_only {
        return accept_drift(&session, refreshed, yes).await;
    }
    let (plan, mut state) = plan_against(&session, refreshed, catalog)?;
    let plan = plan.with_moved(moved);
    print!("{}", crate::plan_view::render(&plan, &session.loaded.model.phases));
    if plan.is_empty() {
        if !plan.recovered.is_empty() || !plan.moved.is_empty() {
            // What the resolved interruptions adopted is recorded even when nothing is left to do.
            crate::store::save(session.backend.as_ref(), &mut state).await?;
        }
        return Ok(Exit::Success);
    }
    if !confirm("Apply these changes?", yes) {
        eprintln!("cancelled; nothing was changed");
        return Ok(Exit::Success);
    }
    let scripts = workflow_scripts(&session, catalog, &state)?;
    let purpose = crate::commands::apply::Purpose::Apply;
    crate::commands::apply::execute(&session, (plan, state), scripts, catalog, common, purpose).await
}

/// `run --refresh-only`: records the account's values as state, changing nothing in the cloud.
async fn accept_drift(session: &Session, refreshed: Refreshed, yes: bool) -> Outcome {
    let Refreshed { mut state, drift, recovered } = refreshed;
    let resolved = !recovered.is_empty();
    print!("{}", crate::plan_view::render(&drift_only(&session.loaded.model.workflow, drift.clone(), recovered), &[]));
    if drift.is_empty() {
        if resolved {
            crate::store::save(session.backend.as_ref(), &mut state).await?;
        }
        return Ok(Exit::Success);
    }
    if !confirm("Record these values in state?", yes) {
        eprintln!("cancelled; nothing was changed");
        return Ok(Exit::Success);
    }
    crate::store::save(session.backend.as_ref(), &mut state).await?;
    println!("State updated: {} accepted as the account has them.", count(drift.len(), "resource"));
    Ok(Exit::Success)
}
