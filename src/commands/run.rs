//! `drone run`: check, plan and apply a workflow (or exactly a saved plan);
//! with `--refresh-only`, accept what changed outside drone into state instead.

use std::path::Path;

use drone_engine::refresh::Refreshed;
use drone_lang::Catalog;

use crate::cli::args::Common;
use crate::error::Outcome;
use crate::exit::Exit;
use crate::render::count;
use crate::session::{
    announce, apply_moved, confirm, drift_only, load_state, plan_against, refreshed, session, take_lock, targeted,
    workflow_scripts, Session,
};

/// What `drone run` was asked.
pub(crate) struct RunRequest<'a> {
    pub(crate) file: &'a Path,
    pub(crate) common: &'a Common,
    pub(crate) yes: bool,
    pub(crate) refresh_only: bool,
    pub(crate) targets: &'a [String],
    pub(crate) saved: Option<&'a Path>,
}

/// Plans against the refreshed account and applies the plan once confirmed (a saved plan,
/// once it is found unchanged, without asking: it was reviewed when it was made).
pub(crate) async fn run(r: RunRequest<'_>, catalog: &Catalog) -> Outcome {
    let session = session(r.file, r.common, catalog, true).await?;
    let _lock = take_lock(&session, r.file, "run").await?;
    announce(&session).await?;
    let mut state = load_state(&session).await?;
    let recorded = state.clone();
    let moved = apply_moved(&session, &mut state)?;
    let refreshed = refreshed(&session, &state, catalog, r.common.concurrency).await?;
    if r.refresh_only {
        return accept_drift(&session, refreshed, r.yes).await;
    }
    let (plan, mut state) = plan_against(&session, refreshed, catalog)?;
    let plan = targeted(&session, plan, r.targets)?.with_moved(moved);
    if let Some(saved) = r.saved {
        crate::commands::saved::matches(saved, &session, &recorded, &plan, (&r.common.params, r.targets))?;
    }
    print!("{}", crate::plan_view::render(&plan, &session.loaded.model.phases));
    if plan.is_empty() {
        if !plan.recovered.is_empty() || !plan.moved.is_empty() {
            // What the resolved interruptions adopted is recorded even when nothing is left to do.
            crate::store::save(session.backend.as_ref(), &mut state).await?;
        }
        return Ok(Exit::Success);
    }
    if r.saved.is_none() && !confirm("Apply these changes?", r.yes) {
        eprintln!("cancelled; nothing was changed");
        return Ok(Exit::Declined);
    }
    let scripts = workflow_scripts(&session, catalog, &state)?;
    let purpose = crate::commands::apply::Purpose::Apply;
    crate::commands::apply::execute(&session, (plan, state), scripts, catalog, r.common, purpose).await
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
        return Ok(Exit::Declined);
    }
    crate::store::save(session.backend.as_ref(), &mut state).await?;
    println!("State updated: {} accepted as the account has them.", count(drift.len(), "resource"));
    Ok(Exit::Success)
}
