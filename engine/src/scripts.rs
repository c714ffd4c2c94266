//! Where apply hands over to the workflow's scripts: hooks on resource
//! operations and on phases, and a phase's steps. The engine knows them only
//! through [`Scripts`] (the CLI binds drone-script's runner to it), so it runs
//! no script language itself. A hook that fails stops what it guards: a
//! failed `before` hook fails its operation before any call; a failed `after`
//! hook fails it after the fact (a created resource is kept and marked
//! tainted, as Terraform does with a failed provisioner, so the next run
//! replaces it; an updated one is kept as updated, not tainted: replacing a
//! database or a service because a hook failed would do more harm than the
//! hook); a failed phase hook or step fails the phase.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;

use crate::state::{Operation, State};

/// The moment a script may run at.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScriptEvent {
    /// Just before an operation on the resource at the address (a replacement's delete included).
    Before(Operation, String),
    /// Just after an operation on it succeeded.
    After(Operation, String),
    /// Before the first operation of a phase that has changes.
    PhaseStarts(String),
    /// After every operation of a phase succeeded: its steps, then its `after phase` hooks.
    PhaseDone(String),
    /// After `drone destroy` deleted everything.
    Destroyed,
}

/// What state records, as scripts read it: attributes (with `id`) by address.
pub type Snapshot = Arc<BTreeMap<String, serde_json::Value>>;

/// The workflow's scripts.
#[async_trait]
pub trait Scripts: Send + Sync {
    /// Whether any script runs at `event` (apply skips the rest).
    fn wants(&self, event: &ScriptEvent) -> bool;
    /// Runs every script at `event`, in order; the first failure stops them.
    async fn run(&self, event: ScriptEvent, resources: Snapshot) -> Result<(), String>;
}

/// `state`'s resources as scripts read them.
pub fn snapshot(state: &State) -> Snapshot {
    Arc::new(
        state
            .resources
            .iter()
            .map(|(address, r)| {
                let mut attrs: serde_json::Map<String, serde_json::Value> =
                    r.attributes.iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
                attrs.insert("id".into(), r.id.clone().into());
                (address.clone(), serde_json::Value::Object(attrs))
            })
            .collect(),
    )
}
