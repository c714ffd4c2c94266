//! Carrying out a plan (for `run` and `destroy`): the apply with progress,
//! Ctrl-C handling, state saved once at the end, and the outcome printed.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;

use drone_engine::apply::{self, ApplyInput, ApplyOptions, Operation, Status, Store};
use drone_engine::functions::CallContext;
use drone_engine::plan::Plan;
use drone_engine::state::State;
use drone_lang::Catalog;

use crate::cli::args::Common;
use crate::error::Outcome;
use crate::exit::Exit;
use crate::pipeline;
use crate::progress::Progress;
use crate::session::Session;

/// Which command carries the plan out: what its summary says, and whether
/// the workflow's outputs are recorded after it or forgotten.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// `run`: outputs evaluated and recorded once everything succeeded.
    Apply,
    /// `destroy`: outputs forgotten, whatever the outcome (they named what is being deleted).
    Destroy,
}

/// Applies `plan` from `state`, saving state as it goes, and prints the outcome.
pub(crate) async fn execute(
    session: &Session,
    (plan, state): (Plan, State),
    scripts: Option<Arc<dyn drone_engine::scripts::Scripts>>,
    catalog: &Catalog,
    common: &Common,
    purpose: Purpose,
) -> Outcome {
    let host = pipeline::host_for(&session.loaded.program.root_path);
    let salt = state.lineage.clone();
    let cx = CallContext { host: &host, salt: &salt, resolve_secrets: true };
    let options = ApplyOptions { concurrency: common.concurrency, ..ApplyOptions::default() };
    let progress = Progress::for_stderr();
    let stop = Arc::new(AtomicBool::new(false));
    let input = ApplyInput {
        model: &session.loaded.model,
        catalog,
        plan: &plan,
        providers: &session.providers,
        cx: &cx,
        options: &options,
        observer: &progress,
        stop: Some(&stop),
        scripts: scripts.clone(),
    };
    let mut store = Store { state, backend: session.backend.clone() };
    let watcher = tokio::spawn(interrupts(stop.clone()));
    let report = apply::apply(&input, &mut store).await;
    watcher.abort();
    let report = report?;
    if purpose == Purpose::Destroy {
        store.state.outputs.clear();
    }
    // One snapshot per run, whatever its outcome: the operation log it replaces
    // held every result as it came.
    crate::store::save(store.backend.as_ref(), &mut store.state).await?;
    let adopted = report.outcomes.iter().filter(|o| o.adopted && o.status == Status::Done).count();
    let created = report.done(Operation::Create).len() - adopted;
    let created = match adopted {
        0 => format!("{created} created"),
        n => format!("{created} created, {n} adopted"),
    };
    let updated = report.done(Operation::Update).len();
    let deleted = report.done(Operation::Delete).len();
    let title = match purpose {
        Purpose::Apply => "Apply",
        Purpose::Destroy => "Destroy",
    };
    if report.succeeded() && purpose == Purpose::Destroy {
        println!("Destroy complete: {deleted} deleted.");
        return Ok(Exit::Success);
    }
    if report.succeeded() {
        if let Ok(outputs) = apply::outputs(&session.loaded.model, catalog, &store.state, &cx) {
            store.state.outputs = outputs.iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
            crate::store::save(store.backend.as_ref(), &mut store.state).await?;
            for (name, value) in &outputs {
                println!("output {name} = {value}");
            }
        }
        println!("Apply complete: {created}, {updated} updated, {deleted} deleted.");
        return Ok(Exit::Success);
    }
    if stop.load(Ordering::SeqCst) {
        let waiting = report.outcomes.iter().filter(|o| matches!(o.status, Status::Skipped(_))).count();
        println!("{title} interrupted: {created}, {updated} updated, {deleted} deleted; {waiting} not started.");
        println!("State records everything that finished; run again to carry out the rest.");
        return Ok(Exit::Interrupted);
    }
    let failed: Vec<_> = report.outcomes.iter().filter(|o| matches!(o.status, Status::Failed(_))).collect();
    let skipped: Vec<_> = report.outcomes.iter().filter(|o| matches!(o.status, Status::Skipped(_))).collect();
    println!(
        "{title} failed: {created}, {updated} updated, {deleted} deleted, {} failed, {} skipped.",
        failed.len() + report.phase_failures.len(),
        skipped.len()
    );
    for o in failed.iter().chain(skipped.iter()) {
        let (label, reason) = match &o.status {
            Status::Failed(r) => ("failed", r),
            Status::Skipped(r) => ("skipped", r),
            Status::Done => continue,
        };
        println!("  {label:<7} {} ({}): {reason}", o.address, o.operation.verb());
        if let Some(hint) = hint_for(reason) {
            println!("          hint: {hint}");
        }
    }
    for (phase, why) in &report.phase_failures {
        println!("  failed  phase `{phase}`'s scripts: {why}");
    }
    println!("State records everything that succeeded; fix the cause and run again.");
    Ok(Exit::Execution)
}

/// Ctrl-C during an apply: the first stops new operations (those in flight
/// finish and are saved); the second leaves at once.
async fn interrupts(stop: Arc<AtomicBool>) {
    if tokio::signal::ctrl_c().await.is_err() {
        return;
    }
    stop.store(true, Ordering::SeqCst);
    eprintln!("interrupted: finishing the operations in flight and starting no more; Ctrl-C again to leave at once");
    if tokio::signal::ctrl_c().await.is_ok() {
        eprintln!("aborted: the operations in flight are recorded as intents; the next run looks up what they did");
        std::process::exit(Exit::Interrupted as i32);
    }
}

/// What to do about a failure AWS explains only in its own terms.
fn hint_for(reason: &str) -> Option<&'static str> {
    let lower = reason.to_lowercase();
    if lower.contains("bucketnotempty") {
        Some("the bucket still holds objects or object versions: set `force_destroy = true` on it and run, then destroy again (or empty it by hand)")
    } else if lower.contains("deletion protection")
        || lower.contains("deletionprotection")
        || lower.contains("protection enabled")
    {
        Some("the resource has deletion protection: set `deletion_protection = false` (prod.drone: `--param protect_data=false`) and run, then destroy again")
    } else {
        None
    }
}
