//! Orphans: resources that carry this state's tags (its lineage and an
//! address) but that state does not record: what a run killed before it
//! could write made, or a second copy that a repeated create made. Types
//! that list by tag cheaply (EC2) are listed by the state's lineage, once per
//! type; the others are looked up under every address the workflow and state
//! know, through the same per-type lookup that recovery uses
//! (`Provider::find_all`).

use std::collections::{BTreeMap, BTreeSet};

use drone_lang::Catalog;
use futures::stream::StreamExt;

use crate::apply::{drone_tags, Live, Providers};
use crate::functions::CallContext;
use crate::model::Model;
use crate::plan::evaluate_config;
use crate::provider::{ErrorKind, FindRequest, Owner, ProviderError};
use crate::retry::{with_retries, Retry};
use crate::state::{ResourceState, State};
use crate::value::Attributes;

/// A resource of this state's that state does not record.
#[derive(Clone, Debug, PartialEq)]
pub struct Orphan {
    /// The address its tags name.
    pub address: String,
    /// Its type.
    pub type_name: String,
    /// The provider instance it lives in.
    pub provider: String,
    /// Its id.
    pub id: String,
    /// The configuration it is looked up with (state's, else the workflow's).
    pub config: Attributes,
    /// Whether state records another resource at its address (this one is a duplicate).
    pub duplicate: bool,
}

/// One address to look under.
struct Candidate {
    address: String,
    type_name: String,
    provider: String,
    config: Attributes,
    recorded: Option<String>,
}

/// Where to look, besides the workflow and state.
pub struct Scope<'a> {
    /// The workflow.
    pub model: &'a Model,
    /// Its schemas.
    pub catalog: &'a Catalog,
    /// Recorded state.
    pub state: &'a State,
    /// Resources state recorded before (a destroy's), looked for again under their addresses.
    pub former: &'a BTreeMap<String, ResourceState>,
    /// Environment and secrets for evaluating the workflow's configuration.
    pub cx: &'a CallContext<'a>,
    /// The providers.
    pub providers: &'a Providers,
}

/// Every orphan under the addresses of the workflow, of state and of the
/// formerly recorded resources, at most `concurrency` lookups at once. An
/// address whose identity is not known before apply (a name built from
/// another resource's id) is skipped.
pub async fn orphans(scope: &Scope<'_>, concurrency: usize) -> Result<Vec<Orphan>, ProviderError> {
    let Scope { model, catalog, state, former, cx, providers } = *scope;
    let addresses: BTreeSet<&String> =
        model.instances.keys().chain(state.resources.keys()).chain(former.keys()).collect();
    let mut candidates = Vec::new();
    for address in addresses {
        if let Some(r) = state.resources.get(address) {
            candidates.push(Candidate {
                address: address.clone(),
                type_name: r.type_name.clone(),
                provider: r.provider.clone(),
                config: r.attributes.clone(),
                recorded: Some(r.id.clone()),
            });
        } else if let Some(r) = former.get(address) {
            candidates.push(Candidate {
                address: address.clone(),
                type_name: r.type_name.clone(),
                provider: r.provider.clone(),
                config: r.attributes.clone(),
                recorded: None,
            });
        } else if let Some(instance) = model.instances.get(address) {
            let Ok(config) = evaluate_config(model, catalog, cx, &Live(state), instance) else {
                continue;
            };
            candidates.push(Candidate {
                address: address.clone(),
                type_name: instance.type_name.clone(),
                provider: instance.provider.clone(),
                config,
                recorded: None,
            });
        }
    }
    // Types that list by lineage cheaply (EC2) are scanned once each, which also
    // finds what carries an address no longer known; the rest are looked up per address.
    let mut by_type: BTreeMap<(String, String), Vec<Candidate>> = BTreeMap::new();
    for c in candidates {
        by_type.entry((c.provider.clone(), c.type_name.clone())).or_default().push(c);
    }
    let lineage = drone_tags(&state.workflow, "", &state.lineage);
    let mut per_address = Vec::new();
    let mut out = Vec::new();
    for ((provider_name, type_name), group) in by_type {
        let Some(provider) = providers.get(&provider_name) else {
            continue;
        };
        let listed = with_retries(&Retry::default(), &|| {}, || provider.tagged(&type_name, &lineage)).await?;
        let Some(listed) = listed else {
            per_address.extend(group);
            continue;
        };
        for t in listed {
            let known = group.iter().find(|c| c.address == t.address);
            // Recorded under any address: a moved resource keeps the address tag it was created with.
            let recorded_elsewhere = state.resources.values().any(|r| r.type_name == type_name && r.id == t.id);
            if known.is_some_and(|c| c.recorded.as_ref() == Some(&t.id)) || recorded_elsewhere {
                continue;
            }
            out.push(Orphan {
                address: t.address,
                type_name: type_name.clone(),
                provider: provider_name.clone(),
                id: t.id,
                config: known.map(|c| c.config.clone()).unwrap_or_default(),
                duplicate: known.is_some_and(|c| c.recorded.is_some()),
            });
        }
    }
    let looked = futures::stream::iter(per_address.into_iter().map(|c| async move {
        let Some(provider) = providers.get(&c.provider) else {
            return Ok(Vec::new());
        };
        let tags = drone_tags(&state.workflow, &c.address, &state.lineage);
        let request =
            FindRequest { type_name: &c.type_name, address: &c.address, config: &c.config, tags: &tags, token: "" };
        let found = match with_retries(&Retry::default(), &|| {}, || provider.find_all(request)).await {
            Ok(found) => found,
            // Its identity is not known yet (a name known only after apply): nothing to look under.
            Err(e) if e.kind == ErrorKind::Rejected && c.recorded.is_none() => return Ok(Vec::new()),
            Err(e) => return Err(e),
        };
        Ok(found
            .into_iter()
            .filter(|f| f.owner == Owner::This && Some(&f.id) != c.recorded.as_ref())
            .map(|f| Orphan {
                address: c.address.clone(),
                type_name: c.type_name.clone(),
                provider: c.provider.clone(),
                id: f.id,
                config: c.config.clone(),
                duplicate: c.recorded.is_some(),
            })
            .collect::<Vec<_>>())
    }))
    .buffer_unordered(concurrency.max(1));
    let results: Vec<Result<Vec<Orphan>, ProviderError>> = looked.collect().await;
    for r in results {
        out.extend(r?);
    }
    out.sort_by(|a, b| (&a.address, &a.id).cmp(&(&b.address, &b.id)));
    Ok(out)
}
