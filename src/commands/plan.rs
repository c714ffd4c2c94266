//! `drone plan`: what `run` would change, against the account as it is.

use std::path::Path;

use drone_lang::Catalog;

use crate::cli::args::{Common, PlanFormat};
use crate::error::Outcome;
use crate::exit::Exit;
use crate::session::{announce, apply_moved, drift_only, load_state, plan_against, refreshed, session};

/// Refreshes `file`'s state and prints the plan (or, with `refresh_only`, only the drift).
pub(crate) async fn plan(
    file: &Path,
    common: &Common,
    format: PlanFormat,
    refresh_only: bool,
    catalog: &Catalog,
) -> Outcome {
    let session = session(file, common, catalog, true).await?;
    // A plan takes no lock; one made while another run holds it sees resources mid-change.
    if let Some(owner) = crate::store::holder(&session.location).await {
        eprintln!(
            "note: the state is locked by {owner}: that run may be changing these resources, so this plan can be out of date by the time it ends"
        );
    }
    announce(&session).await?;
    let mut state = load_state(&session).await?;
    let moved = apply_moved(&session, &mut state)?;
    let refreshed = refreshed(&session, &state, catalog, common.concurrency).await?;
    let plan = if refresh_only {
        drift_only(&session.loaded.model.workflow, refreshed.drift, refreshed.recovered)
    } else {
        plan_against(&session, refreshed, catalog)?.0
    }
    .with_moved(moved);
    match format {
        PlanFormat::Human => print!("{}", crate::plan_view::render(&plan, &session.loaded.model.phases)),
        PlanFormat::Json => println!("{}", serde_json::to_string_pretty(&plan.to_json()).unwrap_or_default()),
    }
    Ok(Exit::Success)
}
