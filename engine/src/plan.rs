//! Planning: the desired model against (refreshed) state. A pure function:
//! walks instances in dependency order, evaluates each one's configuration
//! against the planned values of what it refers to, and diffs it against the
//! recorded attributes. Replacements make the replaced resource's computed
//! values unknown, which propagates to its dependants.

use std::collections::BTreeMap;

use drone_lang::{Catalog, ResourceSchema};
use serde::Serialize;

use crate::error::EvalError;
use crate::eval::{Evaluator, Resolver};
use crate::functions::CallContext;
use crate::model::{Instance, Model};
use crate::refresh::{Drift, Recovered};
use crate::state::State;
use crate::value::{Attributes, Value};

/// What the plan will do to one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum ActionKind {
    /// Create it.
    Create,
    /// Change it in place.
    Update,
    /// Delete it and create it anew.
    Replace,
    /// Delete it.
    Delete,
    /// Leave it.
    NoOp,
}

/// One attribute's change.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    /// The attribute.
    pub attribute: String,
    /// Its recorded value.
    pub before: Option<Value>,
    /// Its new value (`Unknown`: known after apply).
    pub after: Option<Value>,
    /// Whether this change forces replacement.
    pub forces_replacement: bool,
}

/// The plan for one resource.
#[derive(Clone, Debug, PartialEq)]
pub struct Action {
    /// The resource's address.
    pub address: String,
    /// Its type.
    pub type_name: String,
    /// Its phase.
    pub phase: String,
    /// Its provider instance.
    pub provider: String,
    /// What happens.
    pub kind: ActionKind,
    /// Attribute changes (empty for deletes and no-ops).
    pub changes: Vec<Change>,
    /// Why, when not evident from the changes (e.g. deleted outside drone).
    pub reason: Option<String>,
    /// Attributes that differ from the workflow but that `lifecycle.ignore_changes` leaves alone.
    pub ignored: Vec<String>,
    /// How the change reaches traffic, where the service stages it (an ECS service's deployment
    /// strategy); said by the caller, which knows the resource types.
    pub rollout: Option<String>,
}

/// A whole plan, in execution order.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Plan {
    /// The workflow.
    pub workflow: String,
    /// Every resource's action.
    pub actions: Vec<Action>,
    /// What changed outside drone since the last run (shown before the actions).
    pub drift: Vec<Drift>,
    /// Operations an earlier run left unfinished, resolved (shown first).
    pub recovered: Vec<Recovered>,
    /// Resources `moved` blocks gave a new address, `(old, new)`: state changes, the cloud does not.
    pub moved: Vec<(String, String)>,
    /// The workflow's outputs as the plan knows them (`Unknown` until apply where they depend on it).
    pub outputs: BTreeMap<String, Value>,
    /// Known outputs whose value differs from the last run's (a failover moved the writer):
    /// `(name, as recorded)`.
    pub outputs_changed: Vec<(String, Value)>,
    /// Each provider's region, by provider name: where each action's resource lives.
    pub regions: BTreeMap<String, String>,
}

impl Plan {
    /// How many actions of `kind` the plan has.
    pub fn count(&self, kind: ActionKind) -> usize {
        self.actions.iter().filter(|a| a.kind == kind).count()
    }

    /// Whether the plan changes nothing.
    pub fn is_empty(&self) -> bool {
        self.actions.iter().all(|a| a.kind == ActionKind::NoOp)
    }

    /// The region the resource of `action` lives in, when its provider names one.
    pub fn region(&self, action: &Action) -> Option<&str> {
        self.regions.get(&action.provider).map(String::as_str)
    }

    /// Records the region of each of `model`'s providers.
    pub fn with_regions(mut self, model: &Model) -> Plan {
        self.regions = model
            .providers
            .iter()
            .filter_map(|(name, p)| Some((name.clone(), p.settings.get("region")?.as_str()?.to_string())))
            .collect();
        self
    }

    /// Attaches what refresh found changed outside drone; a resource deleted
    /// outside drone and now re-created says so.
    pub fn with_drift(mut self, drift: Vec<Drift>) -> Plan {
        for d in drift.iter().filter(|d| d.deleted) {
            if let Some(a) = self.actions.iter_mut().find(|a| a.address == d.address && a.kind == ActionKind::Create) {
                a.reason = Some(format!("deleted outside drone (was {})", d.id));
            }
        }
        self.drift = drift;
        self
    }

    /// Whether the plan leaves `attribute` of `address` as it is in the account
    /// though the workflow says otherwise (`lifecycle.ignore_changes`).
    pub fn ignores(&self, address: &str, attribute: &str) -> bool {
        self.actions.iter().any(|a| a.address == address && a.ignored.iter().any(|i| i == attribute))
    }

    /// Keeps only the actions of `targets` and of what they depend on (a target names one
    /// instance, a block's every instance, or a component instance's every resource). Returns
    /// the plan and the addresses kept only as dependencies; an error names a target that
    /// matches nothing, with the closest address.
    pub fn targeted(mut self, model: &Model, targets: &[String]) -> Result<(Plan, Vec<String>), String> {
        let matches = |address: &str, target: &str| {
            address == target
                || address.starts_with(&format!("{target}["))
                || address.starts_with(&format!("{target}."))
        };
        let mut wanted: std::collections::BTreeSet<String> = std::collections::BTreeSet::new();
        for target in targets {
            let found: Vec<String> =
                self.actions.iter().filter(|a| matches(&a.address, target)).map(|a| a.address.clone()).collect();
            if found.is_empty() {
                let addresses = self.actions.iter().map(|a| a.address.as_str());
                let hint = drone_lang::suggest::closest(target, addresses)
                    .map_or_else(String::new, |c| format!("; did you mean `{c}`?"));
                return Err(format!("`--target {target}` matches no resource of the workflow or its state{hint}"));
            }
            wanted.extend(found);
        }
        let named = wanted.clone();
        let mut stack: Vec<String> = wanted.iter().cloned().collect();
        while let Some(address) = stack.pop() {
            for dep in model.instances.get(&address).map(|i| i.deps.iter()).into_iter().flatten() {
                if wanted.insert(dep.clone()) {
                    stack.push(dep.clone());
                }
            }
        }
        self.actions.retain(|a| wanted.contains(&a.address));
        let pulled = self
            .actions
            .iter()
            .filter(|a| !named.contains(&a.address) && a.kind != ActionKind::NoOp)
            .map(|a| a.address.clone())
            .collect();
        Ok((self, pulled))
    }

    /// Attaches the moves the workflow's `moved` blocks made in state.
    pub fn with_moved(mut self, moved: Vec<(String, String)>) -> Plan {
        self.moved = moved;
        self
    }

    /// Attaches the interrupted operations refresh resolved.
    pub fn with_recovered(mut self, recovered: Vec<Recovered>) -> Plan {
        self.recovered = recovered;
        self
    }

    /// The plan as JSON (documented in README.md): secrets as `(sensitive)`,
    /// unknowns as `(known after apply)`.
    pub fn to_json(&self) -> serde_json::Value {
        let render = |v: &Option<Value>| match v {
            None => serde_json::Value::Null,
            Some(v @ (Value::Unknown | Value::Ref { .. })) if !v.is_known() => serde_json::json!({ "unknown": true }),
            Some(Value::Secret(_)) => serde_json::json!({ "sensitive": true }),
            Some(v) => v.to_json(),
        };
        let shown = |v: &Value, sensitive: bool| {
            if sensitive {
                serde_json::json!({ "sensitive": true })
            } else {
                render(&Some(v.clone()))
            }
        };
        serde_json::json!({
            "format_version": 1,
            "workflow": self.workflow,
            "moved": self.moved.iter().map(|(from, to)| serde_json::json!({ "from": from, "to": to })).collect::<Vec<_>>(),
            "recovered": self.recovered.iter().map(|r| serde_json::json!({
                "address": r.address,
                "type": r.type_name,
                "operation": r.operation.verb(),
                "adopted": r.adopted,
            })).collect::<Vec<_>>(),
            "drift": self.drift.iter().map(|d| serde_json::json!({
                "address": d.address,
                "type": d.type_name,
                "id": d.id,
                "deleted": d.deleted,
                "changes": d.changes.iter().map(|c| serde_json::json!({
                    "attribute": c.attribute,
                    "recorded": shown(&c.recorded, c.sensitive),
                    "actual": shown(&c.actual, c.sensitive),
                    "ignored": self.ignores(&d.address, &c.attribute),
                })).collect::<Vec<_>>(),
            })).collect::<Vec<_>>(),
            "outputs": self.outputs.iter().map(|(k, v)| (k.clone(), render(&Some(v.clone())))).collect::<serde_json::Map<_, _>>(),
            "summary": {
                "create": self.count(ActionKind::Create),
                "update": self.count(ActionKind::Update),
                "replace": self.count(ActionKind::Replace),
                "delete": self.count(ActionKind::Delete),
                "no_op": self.count(ActionKind::NoOp),
            },
            "actions": self.actions.iter().map(|a| { let mut action = serde_json::json!({
                "address": a.address,
                "type": a.type_name,
                "phase": a.phase,
                "provider": a.provider,
                "region": self.region(a),
                "action": a.kind,
                "reason": a.reason,
                "ignored": a.ignored,
                "changes": a.changes.iter().map(|c| serde_json::json!({
                    "attribute": c.attribute,
                    "before": render(&c.before),
                    "after": render(&c.after),
                    "forces_replacement": c.forces_replacement,
                })).collect::<Vec<_>>(),
            });
            if let Some(rollout) = &a.rollout {
                action["rollout"] = serde_json::json!(rollout);
            }
            action }).collect::<Vec<_>>(),
        })
    }
}

struct Planned<'a>(&'a BTreeMap<String, Value>);

impl Resolver for Planned<'_> {
    fn instance(&self, address: &str) -> Value {
        self.0.get(address).cloned().unwrap_or(Value::Unknown)
    }
}

/// Plans `model` against `state`.
pub fn plan(model: &Model, catalog: &Catalog, state: &State, cx: &CallContext<'_>) -> Result<Plan, Vec<EvalError>> {
    let mut planned: BTreeMap<String, Value> = BTreeMap::new();
    let mut actions = Vec::new();
    let mut errors = Vec::new();
    for instance in model.ordered() {
        let Some(schema) = catalog.resource(&instance.type_name) else {
            continue;
        };
        let resolver = Planned(&planned);
        let config = match evaluate_config(model, catalog, cx, &resolver, instance) {
            Ok(c) => c,
            Err(e) => {
                errors.push(e);
                planned.insert(instance.address.clone(), Value::Unknown);
                continue;
            }
        };
        let prior = state.resources.get(&instance.address);
        // A `data` block's resource is read (lookup::look_up), never changed.
        if instance.read_only {
            let read = prior.map_or(Value::Unknown, |p| {
                let mut attrs = p.attributes.clone();
                attrs.entry("id".into()).or_insert_with(|| Value::str(&p.id));
                Value::map(attrs)
            });
            planned.insert(instance.address.clone(), read);
            continue;
        }
        // What something else owns (`lifecycle.ignore_changes`) keeps its recorded value.
        let mut ignored = Vec::new();
        let config = match prior.filter(|p| !p.tainted) {
            Some(prior) => {
                let kept = keep_ignored(config, &prior.attributes, &instance.ignore_changes);
                ignored = kept.1;
                kept.0
            }
            None => config,
        };
        let (kind, changes) = match prior {
            None => (ActionKind::Create, creation_changes(schema, &config)),
            Some(prior) if prior.tainted => (ActionKind::Replace, diff(schema, &config, &prior.attributes)),
            Some(prior) => {
                let changes = diff(schema, &config, &prior.attributes);
                let kind = if changes.is_empty() {
                    ActionKind::NoOp
                } else if changes.iter().any(|c| c.forces_replacement) {
                    ActionKind::Replace
                } else {
                    ActionKind::Update
                };
                (kind, changes)
            }
        };
        planned.insert(instance.address.clone(), planned_value(schema, &config, prior.map(|p| &p.attributes), kind));
        if let (Some(span), ActionKind::Replace) = (instance.prevent_destroy, kind) {
            let forced: Vec<&str> =
                changes.iter().filter(|c| c.forces_replacement).map(|c| c.attribute.as_str()).collect();
            let why = match (forced.is_empty(), prior.is_some_and(|p| p.tainted)) {
                (_, true) => " (its creation did not finish)".to_string(),
                (true, false) => String::new(),
                (false, false) => format!(" (changing {} replaces it)", forced.join(", ")),
            };
            errors.push(EvalError::PreventDestroy { address: instance.address.clone(), action: "replace", why, span });
        }
        actions.push(Action {
            address: instance.address.clone(),
            type_name: instance.type_name.clone(),
            phase: instance.phase.clone(),
            provider: instance.provider.clone(),
            kind,
            changes,
            reason: prior.filter(|p| p.tainted).map(|_| "its creation did not finish".to_string()),
            ignored,
            rollout: None,
        });
    }
    for (address, recorded) in &state.resources {
        if !recorded.data && !model.instances.contains_key(address) {
            actions.push(Action {
                address: address.clone(),
                type_name: recorded.type_name.clone(),
                phase: recorded.phase.clone(),
                provider: recorded.provider.clone(),
                kind: ActionKind::Delete,
                changes: Vec::new(),
                reason: Some("no longer in the workflow".into()),
                ignored: Vec::new(),
                rollout: None,
            });
        }
    }
    // Outputs as far as the plan knows them; one that cannot be evaluated yet is unknown.
    let resolver = Planned(&planned);
    let evaluator = Evaluator::new(model, catalog, cx, &resolver);
    let outputs = model
        .outputs
        .iter()
        .map(|o| (o.name.clone(), evaluator.eval(&o.value, &Vec::new()).unwrap_or(Value::Unknown)))
        .collect();
    let outputs_changed = changed_outputs(&outputs, &state.outputs);
    if errors.is_empty() {
        let plan = Plan { workflow: model.workflow.clone(), actions, outputs, outputs_changed, ..Plan::default() };
        Ok(plan.with_regions(model))
    } else {
        Err(errors)
    }
}

/// The known outputs of `now` whose value is not the one `recorded` (the last run's), with it.
fn changed_outputs(
    now: &BTreeMap<String, Value>,
    recorded: &BTreeMap<String, serde_json::Value>,
) -> Vec<(String, Value)> {
    now.iter()
        .filter(|(_, v)| v.is_known())
        .filter_map(|(name, v)| {
            let before = recorded.get(name).map_or(Value::Null, Value::from_json);
            (before != *v).then(|| (name.clone(), before))
        })
        .collect()
}

/// A plan that deletes everything in `state`.
pub fn plan_destroy(state: &State) -> Plan {
    // What `data` blocks read is not drone's to delete.
    let actions = state
        .resources
        .iter()
        .filter(|(_, r)| !r.data)
        .map(|(address, r)| Action {
            address: address.clone(),
            type_name: r.type_name.clone(),
            phase: r.phase.clone(),
            provider: r.provider.clone(),
            kind: ActionKind::Delete,
            changes: Vec::new(),
            reason: None,
            ignored: Vec::new(),
            rollout: None,
        })
        .collect();
    Plan { workflow: state.workflow.clone(), actions, ..Plan::default() }
}

/// Evaluates an instance's attributes with `resolver` answering references.
pub fn evaluate_config(
    model: &Model,
    catalog: &Catalog,
    cx: &CallContext<'_>,
    resolver: &dyn Resolver,
    instance: &Instance,
) -> Result<Attributes, EvalError> {
    let evaluator = Evaluator::new(model, catalog, cx, resolver);
    let mut config = Attributes::new();
    for attr in
        instance.attributes.iter().filter(|a| !drone_lang::schema::META_ATTRIBUTES.contains(&a.name.name.as_str()))
    {
        let value = evaluator.eval(&attr.value, &instance.scope)?;
        config.insert(attr.name.name.clone(), value);
    }
    Ok(config)
}

/// `config` with each attribute of `ignore` that the resource has taking its
/// recorded value, and the names of those whose value the workflow would change.
pub fn keep_ignored(
    mut config: Attributes,
    recorded: &Attributes,
    ignore: &std::collections::BTreeSet<String>,
) -> (Attributes, Vec<String>) {
    let mut differing = Vec::new();
    for name in ignore {
        let Some(value) = recorded.get(name).filter(|v| !matches!(v, Value::Null)) else { continue };
        if config.get(name).is_some_and(|wanted| !wanted.same(value)) {
            differing.push(name.clone());
        }
        config.insert(name.clone(), value.clone());
    }
    (config, differing)
}

fn creation_changes(schema: &ResourceSchema, config: &Attributes) -> Vec<Change> {
    schema
        .attributes
        .iter()
        .filter_map(|a| match config.get(&a.name) {
            Some(Value::Null) => None,
            Some(v) => Some(Change {
                attribute: a.name.clone(),
                before: None,
                after: Some(v.clone()),
                forces_replacement: false,
            }),
            None if a.computed() => Some(Change {
                attribute: a.name.clone(),
                before: None,
                after: Some(Value::Unknown),
                forces_replacement: false,
            }),
            None => None,
        })
        .collect()
}

/// Attribute changes between configuration and recorded attributes.
pub fn diff(schema: &ResourceSchema, config: &Attributes, prior: &Attributes) -> Vec<Change> {
    let mut changes = Vec::new();
    for attr in schema.attributes.iter().filter(|a| a.settable()) {
        let before = prior.get(&attr.name).filter(|v| !matches!(v, Value::Null));
        let after = config.get(&attr.name).filter(|v| !matches!(v, Value::Null));
        let changed = match (before, after) {
            (_, Some(a)) if !a.is_known() => true,
            (Some(b), Some(a)) => !b.same(a),
            (None, None) => false,
            (Some(_), None) => !attr.computed(),
            (None, Some(_)) => true,
        };
        if changed {
            changes.push(Change {
                attribute: attr.name.clone(),
                before: before.cloned(),
                after: after.cloned(),
                forces_replacement: attr.force_new,
            });
        }
    }
    changes
}

fn planned_value(schema: &ResourceSchema, config: &Attributes, prior: Option<&Attributes>, kind: ActionKind) -> Value {
    let mut out: Attributes = match (kind, prior) {
        (ActionKind::Update | ActionKind::NoOp, Some(prior)) => prior.clone(),
        _ => schema.attributes.iter().filter(|a| a.computed()).map(|a| (a.name.clone(), Value::Unknown)).collect(),
    };
    for (k, v) in config {
        out.insert(k.clone(), v.clone());
    }
    for a in &schema.attributes {
        out.entry(a.name.clone()).or_insert(Value::Null);
    }
    Value::map(out)
}
