//! Refresh: recorded state against the account. Every recorded resource is
//! read back through its provider; what changed outside drone becomes
//! [`Drift`] (an attribute the workflow sets whose value in the account differs
//! from the recorded one, or a resource that is gone), and the refreshed state
//! holds the account's values, so the plan proposes the update that restores
//! the workflow's. Attributes the workflow does not set are not in state and
//! so never drift; computed ones follow the account silently. First, every
//! operation a killed run left pending is resolved (`recover`).

use std::collections::BTreeMap;
use std::sync::Arc;

use drone_lang::Catalog;
use futures::stream::StreamExt;

use crate::apply::{drone_tags, Providers};
use crate::provider::{ErrorKind, FindRequest, Found, Observed, Owner, Provider, ProviderError};
use crate::retry::{with_retries, Retry};
use crate::state::{Operation, ResourceState, State};
use crate::value::Value;

/// State as the account has it, and how that differs from what was recorded.
#[derive(Clone, Debug, PartialEq)]
pub struct Refreshed {
    /// The recorded state with the account's values (gone resources removed).
    pub state: State,
    /// What changed outside drone, by address.
    pub drift: Vec<Drift>,
    /// Operations an earlier run left unfinished, and what became of them.
    pub recovered: Vec<Recovered>,
}

/// An operation a killed or failed run left pending, resolved.
#[derive(Clone, Debug, PartialEq)]
pub struct Recovered {
    /// The resource's address.
    pub address: String,
    /// Its type.
    pub type_name: String,
    /// The operation that was in flight.
    pub operation: Operation,
    /// For a create: the id of the resource it made, found and adopted
    /// (none: it made nothing, and the plan creates it). Updates are settled
    /// by reading the resource back.
    pub adopted: Option<String>,
    /// For a delete: the resource is gone, so the deletion is settled and
    /// state no longer records it (its hooks do not run again).
    pub deleted: bool,
}

/// Resolves every pending intent in `state`: a create is looked up by its
/// token, tags or name, and what it made is adopted into state; updates and
/// deletes are left to the read that follows (the account says where they
/// stand). Returns the state without pending intents and what was resolved.
pub async fn recover(state: &State, providers: &Providers) -> Result<(State, Vec<Recovered>), ProviderError> {
    let mut out = state.clone();
    let mut recovered = Vec::new();
    for (address, intent) in std::mem::take(&mut out.pending) {
        let mut adopted = None;
        if intent.operation == Operation::Create && !out.resources.contains_key(&address) {
            let provider = providers.get(&intent.provider).ok_or_else(|| unconfigured(&intent.provider, &address))?;
            let tags = drone_tags(&state.workflow, &address, &state.lineage);
            let request = FindRequest {
                type_name: &intent.type_name,
                address: &address,
                config: &intent.attributes,
                tags: &tags,
                token: &intent.token,
            };
            let mut found = with_retries(&Retry::default(), &|| {}, || provider.find(request)).await?;
            // A listing may leave out what was made moments ago: look again once it would show.
            let lag = provider.listing_lag(&intent.type_name);
            let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
            let shows_at = std::time::Duration::from_secs(intent.started + 1) + lag;
            if found.is_none() && shows_at > now {
                tokio::time::sleep(shows_at - now).await;
                found = with_retries(&Retry::default(), &|| {}, || provider.find(request)).await?;
            }
            // Another's resource under this name means this create never happened.
            if let Some(Found { id, owner: Owner::This | Owner::Untagged }) = found {
                let mut attributes = intent.attributes.clone();
                attributes.insert("id".into(), Value::str(&id));
                out.resources.insert(
                    address.clone(),
                    ResourceState {
                        type_name: intent.type_name.clone(),
                        id: id.clone(),
                        provider: intent.provider.clone(),
                        phase: intent.phase.clone(),
                        dependencies: intent.dependencies.clone(),
                        tainted: false,
                        data: false,
                        attributes,
                    },
                );
                adopted = Some(id);
            }
        }
        let mut deleted = false;
        if intent.operation == Operation::Delete {
            if let Some(recorded) = out.resources.get(&address) {
                let provider =
                    providers.get(&recorded.provider).ok_or_else(|| unconfigured(&recorded.provider, &address))?;
                let read = || provider.read(&recorded.type_name, &recorded.id, &recorded.attributes);
                if with_retries(&Retry::default(), &|| {}, read).await?.is_none() {
                    out.resources.remove(&address);
                    deleted = true;
                }
            }
        }
        let operation = intent.operation;
        recovered.push(Recovered { address, type_name: intent.type_name, operation, adopted, deleted });
    }
    Ok((out, recovered))
}

/// One resource changed outside drone.
#[derive(Clone, Debug, PartialEq)]
pub struct Drift {
    /// The resource's address.
    pub address: String,
    /// Its type.
    pub type_name: String,
    /// Its provider's id.
    pub id: String,
    /// Whether it was deleted (then `changes` is empty).
    pub deleted: bool,
    /// The attributes that differ.
    pub changes: Vec<DriftChange>,
}

/// One attribute changed outside drone.
#[derive(Clone, Debug, PartialEq)]
pub struct DriftChange {
    /// The attribute.
    pub attribute: String,
    /// The value drone recorded.
    pub recorded: Value,
    /// The value in the account.
    pub actual: Value,
    /// Whether the value is secret (never shown).
    pub sensitive: bool,
}

/// Reads every recorded resource back from its provider, at most
/// `concurrency` at once, many ids per request where the provider batches.
pub async fn refresh(
    state: &State,
    catalog: &Catalog,
    providers: &Providers,
    concurrency: usize,
) -> Result<Refreshed, ProviderError> {
    let (recovered_state, recovered) = recover(state, providers).await?;
    let state = &recovered_state;
    let mut refreshed = state.clone();
    let mut drift = Vec::new();
    let mut results = futures::stream::iter(batches(state, providers)?.into_iter().map(|batch| async move {
        let asked: Vec<(&str, &crate::value::Attributes)> =
            batch.members.iter().map(|(_, r)| (r.id.as_str(), &r.attributes)).collect();
        // Reads are safe to repeat: throttling is waited out, not fatal.
        let observed =
            with_retries(&Retry::default(), &|| {}, || batch.provider.read_many(&batch.type_name, &asked)).await?;
        if observed.len() != asked.len() {
            let why =
                format!("asked for {} resources, answered {} (a bug in the provider)", asked.len(), observed.len());
            return Err(ProviderError::new(ErrorKind::Unsupported, "refresh", why));
        }
        let addresses = batch.members.iter().map(|(a, _)| a.to_string());
        Ok::<_, ProviderError>(addresses.zip(observed).collect::<Vec<_>>())
    }))
    .buffer_unordered(concurrency.max(1));
    let mut all = Vec::new();
    while let Some(result) = results.next().await {
        all.extend(result?);
    }
    for (address, observed) in all {
        let Some(recorded) = refreshed.resources.get_mut(&address) else {
            continue;
        };
        // What an interrupted operation left half done is not a change made outside drone.
        let interrupted = recovered.iter().any(|r| r.address == address);
        match observed {
            // A delete that a killed run finished is simply done.
            None if interrupted => {
                refreshed.resources.remove(&address);
            }
            None => {
                drift.push(Drift {
                    address: address.clone(),
                    type_name: recorded.type_name.clone(),
                    id: recorded.id.clone(),
                    deleted: true,
                    changes: Vec::new(),
                });
                refreshed.resources.remove(&address);
            }
            Some(o) => {
                let changes = merge(catalog, recorded, o);
                if !changes.is_empty() && !interrupted {
                    drift.push(Drift {
                        address,
                        type_name: recorded.type_name.clone(),
                        id: recorded.id.clone(),
                        deleted: false,
                        changes,
                    });
                }
            }
        }
    }
    drift.sort_by(|a, b| a.address.cmp(&b.address));
    Ok(Refreshed { state: refreshed, drift, recovered })
}

/// Resources of one type on one provider, read together.
struct Batch<'a> {
    provider: &'a Arc<dyn Provider>,
    type_name: String,
    members: Vec<(&'a str, &'a ResourceState)>,
}

/// The recorded resources grouped by provider and type, in batches of the
/// size each provider reads in one request.
fn batches<'a>(state: &'a State, providers: &'a Providers) -> Result<Vec<Batch<'a>>, ProviderError> {
    let mut groups: BTreeMap<(&str, &str), Vec<(&str, &ResourceState)>> = BTreeMap::new();
    // What `data` blocks read is read again by `lookup::look_up`, not here.
    for (address, r) in state.resources.iter().filter(|(_, r)| !r.data) {
        groups.entry((r.provider.as_str(), r.type_name.as_str())).or_default().push((address.as_str(), r));
    }
    let mut out = Vec::new();
    for ((provider_name, type_name), members) in groups {
        let provider = providers.get(provider_name).ok_or_else(|| unconfigured(provider_name, members[0].0))?;
        let size = provider.batch_size(type_name).max(1);
        for chunk in members.chunks(size) {
            out.push(Batch { provider, type_name: type_name.to_string(), members: chunk.to_vec() });
        }
    }
    Ok(out)
}

fn unconfigured(provider: &str, address: &str) -> ProviderError {
    let why = format!("provider `{provider}` of `{address}` is not configured");
    ProviderError::new(ErrorKind::Unsupported, "refresh", why)
}

/// Overlays what the provider read on the recorded attributes it holds, and
/// returns the changes to attributes the workflow sets. A guarded attribute
/// the workflow leaves unset is recorded as none, so a value set outside
/// drone is drift too.
fn merge(catalog: &Catalog, recorded: &mut ResourceState, observed: Observed) -> Vec<DriftChange> {
    let schema = catalog.resource(&recorded.type_name);
    let mut changes = Vec::new();
    for (name, actual) in observed.attributes {
        let attribute = schema.and_then(|s| s.attribute(&name));
        let managed = attribute.is_some_and(|a| a.settable() && a.read_back);
        let slot = match recorded.attributes.get_mut(&name) {
            Some(slot) => slot,
            // Only what drone manages: an attribute the user never set is the
            // provider's to choose, not drift, unless a rule depends on it.
            None if managed && attribute.is_some_and(|a| a.guarded) => {
                if same_or_both_unset(&Value::Null, &actual) {
                    continue;
                }
                recorded.attributes.entry(name.clone()).or_insert(Value::Null)
            }
            // What AWS computes is recorded as the account has it (an adopted
            // resource arrives with its configuration only).
            None if attribute.is_some_and(|a| !a.settable()) => {
                recorded.attributes.insert(name, actual);
                continue;
            }
            None => continue,
        };
        if managed && !same_or_both_unset(slot, &actual) {
            changes.push(DriftChange {
                attribute: name,
                recorded: slot.clone(),
                actual: actual.clone(),
                sensitive: attribute.is_some_and(|a| a.sensitive),
            });
        }
        *slot = actual;
    }
    changes
}

/// Whether two values mean the same, `null`, `false` and an empty list or
/// map all counting as unset (AWS answers "none" in each of these ways).
pub(crate) fn same_or_both_unset(a: &Value, b: &Value) -> bool {
    let unset = |v: &Value| match v {
        Value::Null | Value::Bool(false) => true,
        Value::List(l) => l.is_empty(),
        Value::Map(m) => m.is_empty(),
        _ => false,
    };
    a.same(b) || (unset(a) && unset(b))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unset_values_agree_whatever_their_shape() {
        assert!(same_or_both_unset(&Value::Null, &Value::List(Vec::new())));
        assert!(same_or_both_unset(&Value::Map(Default::default()), &Value::Null));
        assert!(same_or_both_unset(&Value::Null, &Value::Bool(false)));
        assert!(!same_or_both_unset(&Value::Null, &Value::str("x")));
        assert!(!same_or_both_unset(&Value::Bool(true), &Value::Bool(false)));
        assert!(!same_or_both_unset(&Value::List(vec![Value::str("a")]), &Value::List(Vec::new())));
    }
}
