//! `drone destroy`: deletes every resource the workflow's state records, then
//! checks that nothing carrying this state's tags is left.

use std::path::Path;

use drone_engine::plan;
use drone_engine::refresh;
use drone_lang::Catalog;

use crate::cli::args::Common;
use crate::error::{CliError, Outcome};
use crate::exit::Exit;
use crate::session::{announce, apply_moved, confirm, load_state, session, take_lock, workflow_scripts};

/// Destroys what `file`'s state records, once confirmed.
pub(crate) async fn destroy(file: &Path, common: &Common, yes: bool, catalog: &Catalog) -> Outcome {
    // Destroying is never blocked by policy: it is how a bad resource goes away.
    let session = session(file, common, catalog, false).await?;
    let _lock = take_lock(&session, file, "destroy").await?;
    announce(&session).await?;
    let mut state = load_state(&session).await?;
    if !apply_moved(&session, &mut state)?.is_empty() {
        crate::store::save(session.backend.as_ref(), &mut state).await?;
    }
    // What a killed run created is destroyed too: its pending creates are looked up first.
    let (mut state, recovered) = refresh::recover(&state, &session.providers)
        .await
        .map_err(|e| CliError::execution("resolving the operations an earlier run left unfinished", e))?;
    if !recovered.is_empty() {
        crate::store::save(session.backend.as_ref(), &mut state).await?;
    }
    // What `data` blocks read is not destroyed, only forgotten.
    state.resources.retain(|_, r| !r.data);
    // Protected resources stop the destroy before any call, not half-way through it.
    let protected: Vec<&str> = session
        .loaded
        .model
        .instances
        .values()
        .filter(|i| i.prevent_destroy.is_some() && state.resources.contains_key(&i.address))
        .map(|i| i.address.as_str())
        .collect();
    if !protected.is_empty() {
        return Err(CliError::refused(
            format!("{} {} `lifecycle.prevent_destroy`; nothing was destroyed", protected.join(", "), if protected.len() == 1 { "has" } else { "have" }),
            Some("set `prevent_destroy = false` (in prod.drone: `--param protect_data=false`) if it really must go, or `drone state rm` it to leave it standing"),
        ));
    }
    let plan = plan::plan_destroy(&state).with_recovered(recovered).with_regions(&session.loaded.model);
    print!("{}", crate::plan_view::render(&plan, &session.loaded.model.phases));
    let former = state.resources.clone();
    if plan.is_empty() && !state.outputs.is_empty() {
        // Nothing is left to delete; what the outputs named is gone.
        state.outputs.clear();
        crate::store::save(session.backend.as_ref(), &mut state).await?;
    }
    if !plan.is_empty() {
        if !confirm("Destroy these resources?", yes) {
            eprintln!("cancelled; nothing was changed");
            return Ok(Exit::Declined);
        }
        let scripts = workflow_scripts(&session, catalog, &state)?;
        let purpose = crate::commands::apply::Purpose::Destroy;
        let exit =
            crate::commands::apply::execute(&session, (plan, state), scripts.clone(), catalog, common, purpose).await?;
        if exit != Exit::Success {
            return Ok(exit);
        }
        let after = drone_engine::scripts::ScriptEvent::Destroyed;
        if let Some(scripts) = scripts.filter(|s| s.wants(&after)) {
            scripts.run(after, Default::default()).await.map_err(|why| CliError::Hook(why.to_string()))?;
        }
    }
    // Destroyed means nothing of this state's is left, recorded or not.
    crate::commands::orphans::left_after_destroy(file, &session, catalog, &former, common.concurrency).await
}
