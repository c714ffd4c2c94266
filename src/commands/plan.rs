//! `drone plan`: what `run` would change, against the account as it is;
//! optionally saved for `run --plan` to apply exactly.

use std::path::Path;

use drone_lang::Catalog;

use crate::cli::args::{Common, PlanFormat};
use crate::error::CliError;
use crate::session::{announce, apply_moved, drift_only, load_state, plan_against, refreshed, session, targeted};

/// What `drone plan` was asked.
pub(crate) struct PlanRequest<'a> {
    pub(crate) file: &'a Path,
    pub(crate) common: &'a Common,
    pub(crate) format: PlanFormat,
    pub(crate) refresh_only: bool,
    pub(crate) targets: &'a [String],
    pub(crate) out: Option<&'a Path>,
}

/// Refreshes the state and prints the plan (or, with `refresh_only`, only the drift); true
/// when it changes something or found drift.
pub(crate) async fn plan(r: PlanRequest<'_>, catalog: &Catalog) -> Result<bool, CliError> {
    let session = session(r.file, r.common, catalog, true).await?;
    // A plan takes no lock; one made while another run holds it sees resources mid-change.
    if let Some(owner) = crate::store::holder(&session.location).await {
        eprintln!(
            "note: the state is locked by {owner}: that run may be changing these resources, so this plan can be out of date by the time it ends"
        );
    }
    announce(&session).await?;
    let mut state = load_state(&session).await?;
    let moved = apply_moved(&session, &mut state)?;
    let refreshed = refreshed(&session, &state, catalog, r.common.concurrency).await?;
    let plan = if r.refresh_only {
        drift_only(&session.loaded.model.workflow, refreshed.drift, refreshed.recovered)
    } else {
        targeted(&session, plan_against(&session, refreshed, catalog)?.0, r.targets)?
    }
    .with_moved(moved);
    match r.format {
        PlanFormat::Human => print!("{}", crate::plan_view::render(&plan, &session.loaded.model.phases)),
        PlanFormat::Json => println!("{}", serde_json::to_string_pretty(&plan.to_json()).unwrap_or_default()),
    }
    if let Some(out) = r.out {
        crate::commands::saved::write(out, &session, &state, &plan, (&r.common.params, r.targets))?;
        eprintln!(
            "Saved the plan to {}; `drone run {} --plan {}` applies exactly it.",
            out.display(),
            r.file.display(),
            out.display()
        );
    }
    Ok(!plan.is_empty() || !plan.drift.is_empty())
}
