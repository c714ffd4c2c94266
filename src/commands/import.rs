//! `drone import`: records a resource that exists in the account (made by
//! hand, by another tool, or left by a run whose state was lost) under an
//! address of the workflow, reading it back as refresh does. Nothing in the
//! cloud changes; the next plan shows what differs from the workflow.

use std::path::Path;

use drone_engine::eval::NothingKnown;
use drone_engine::functions::CallContext;
use drone_engine::state::ResourceState;
use drone_engine::value::{Attributes, Value};
use drone_lang::Catalog;

use crate::cli::args::Common;
use crate::error::{CliError, Outcome};
use crate::exit::Exit;
use crate::render::{diagnostics, did_you_mean};
use crate::session::{announce, load_state, session, take_lock};

/// Reads resource `id` and records it as `address`.
pub(crate) async fn import(file: &Path, address: &str, id: &str, common: &Common, catalog: &Catalog) -> Outcome {
    let session = session(file, common, catalog, false).await?;
    let model = &session.loaded.model;
    let Some(instance) = model.instances.get(address) else {
        let help = did_you_mean(address, model.instances.keys().map(String::as_str));
        return Err(CliError::refused(format!("the workflow has no resource `{address}`{help}"), None));
    };
    let _lock = take_lock(&session, file, "import").await?;
    announce(&session).await?;
    let mut state = load_state(&session).await?;
    if let Some(recorded) = state.resources.get(address) {
        return Err(CliError::Refused {
            message: format!("state already records `{address}` as {}", recorded.id),
            help: Some(format!("`drone state rm {} {address}` first to record another resource there", file.display())),
        });
    }
    // The workflow's configuration says which attributes to read (as refresh
    // reads what the workflow sets); values known only after apply stay unknown.
    let host = crate::pipeline::host_for(&session.loaded.program.root_path);
    let cx = CallContext { host: &host, salt: &state.lineage, resolve_secrets: false };
    let config = drone_engine::plan::evaluate_config(model, catalog, &cx, &NothingKnown, instance)
        .map_err(|e| diagnostics(&[e], &session.loaded.program.sources))?;
    let provider = session
        .providers
        .get(&instance.provider)
        .ok_or_else(|| CliError::Workflow { message: format!("provider `{}` is not configured", instance.provider) })?;
    let observed = match provider.read(&instance.type_name, id, &config).await {
        Ok(Some(observed)) => observed,
        Ok(None) => {
            let message =
                format!("there is no {} with id `{id}` in the account; nothing was imported", instance.type_name);
            return Err(CliError::Execution { doing: "import".into(), reason: message, help: None });
        }
        Err(e) => return Err(CliError::execution(format!("reading {} `{id}`", instance.type_name), e)),
    };
    let attributes = recorded_attributes(catalog, &instance.type_name, &config, observed.attributes, id);
    state.resources.insert(address.to_string(), ResourceState::of(instance, id.to_string(), attributes));
    crate::store::save(session.backend.as_ref(), &mut state).await?;
    println!("Imported {address} ({id}); `drone plan` shows what differs from the workflow.");
    Ok(Exit::Success)
}

/// What state records for an imported resource: what AWS reports of the
/// attributes the workflow sets and of those AWS computes, and the workflow's
/// own value of drone-side switches (`force_destroy`), which AWS does not
/// keep. Secrets are left out: the account's is unknown, so the plan sets the
/// workflow's.
pub(crate) fn recorded_attributes(
    catalog: &Catalog,
    type_name: &str,
    config: &Attributes,
    observed: Attributes,
    id: &str,
) -> Attributes {
    let schema = catalog.resource(type_name);
    let mut out = Attributes::new();
    for (name, value) in observed {
        let attribute = schema.and_then(|s| s.attribute(&name));
        if config.contains_key(&name) || attribute.is_some_and(|a| a.computed()) {
            out.insert(name, value);
        }
    }
    for (name, value) in config {
        let drone_side =
            schema.and_then(|s| s.attribute(name)).is_some_and(|a| a.settable() && !a.read_back && !a.sensitive);
        if drone_side && value.is_known() {
            out.insert(name.clone(), value.clone());
        }
    }
    out.insert("id".into(), Value::str(id));
    out
}
