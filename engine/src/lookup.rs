//! `data` blocks: resources that exist already, found by the attributes the
//! block gives (through the provider's `find`, as crash recovery finds what a
//! create made) and read. Their values are recorded in state, marked `data`,
//! so references resolve before anything runs; drone never creates, changes
//! or deletes them.

use std::collections::BTreeMap;

use drone_lang::Catalog;

use crate::apply::{Live, Providers};
use crate::functions::CallContext;
use crate::model::Model;
use crate::plan::evaluate_config;
use crate::provider::{FindRequest, ProviderError};
use crate::state::{ResourceState, State};
use crate::value::Value;

/// Why a `data` block could not be read.
#[derive(Debug, thiserror::Error)]
pub enum LookupError {
    /// Nothing matches what the block gives.
    #[error("`data {address}`: no {type_name} matches {given}")]
    NotFound {
        /// The block's address.
        address: String,
        /// Its type.
        type_name: String,
        /// What it gave, e.g. `name = "example.com"`.
        given: String,
    },
    /// Its configuration could not be evaluated.
    #[error("`data {address}`: {message}")]
    Config {
        /// The block's address.
        address: String,
        /// Why.
        message: String,
    },
    /// The provider failed.
    #[error("`data {address}`: {source}")]
    Provider {
        /// The block's address.
        address: String,
        /// What failed.
        source: ProviderError,
    },
}

/// `state` with every `data` block of `model` looked up and read, in dependency order, and the
/// records of `data` blocks the workflow no longer has forgotten (never deleted).
pub async fn look_up(
    model: &Model,
    catalog: &Catalog,
    cx: &CallContext<'_>,
    providers: &Providers,
    state: &State,
) -> Result<State, LookupError> {
    let mut out = state.clone();
    out.resources.retain(|address, r| !r.data || model.instances.get(address).is_some_and(|i| i.read_only));
    let no_tags = BTreeMap::new();
    for instance in model.ordered().into_iter().filter(|i| i.read_only) {
        let address = instance.address.clone();
        let config = evaluate_config(model, catalog, cx, &Live(&out), instance)
            .map_err(|e| LookupError::Config { address: address.clone(), message: e.to_string() })?;
        if let Some((name, _)) = config.iter().find(|(_, v)| !v.is_known()) {
            let message = format!("`{name}` is known only after apply; a `data` block is read before anything runs");
            return Err(LookupError::Config { address, message });
        }
        let provider = providers.get(&instance.provider).ok_or_else(|| LookupError::Config {
            address: address.clone(),
            message: format!("no provider `{}`", instance.provider),
        })?;
        let provider_error = |source| LookupError::Provider { address: address.clone(), source };
        let request = FindRequest {
            type_name: &instance.type_name,
            address: &address,
            config: &config,
            tags: &no_tags,
            token: "",
        };
        let not_found = || LookupError::NotFound {
            address: address.clone(),
            type_name: instance.type_name.clone(),
            given: config.iter().map(|(k, v)| format!("{k} = {}", v.to_json())).collect::<Vec<_>>().join(", "),
        };
        let found = provider.look_up(request).await.map_err(provider_error)?.ok_or_else(not_found)?;
        let observed = provider
            .read(&instance.type_name, &found.id, &config)
            .await
            .map_err(provider_error)?
            .ok_or_else(not_found)?;
        let mut attributes = config;
        attributes.extend(observed.attributes);
        attributes.insert("id".into(), Value::str(&found.id));
        out.resources
            .insert(address, ResourceState { data: true, ..ResourceState::of(instance, found.id, attributes) });
    }
    Ok(out)
}
