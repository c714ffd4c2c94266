//! Executing a plan. Deletions first (dependants before what they depend on),
//! then phase by phase, creations and updates in dependency order, at most
//! `concurrency` operations in flight. A failure skips the failed resource's
//! dependants but lets independent branches finish; a phase with failures
//! stops the phases after it. Every single operation is recorded in state
//! (appended to its log) before the next result is taken.

use std::collections::{BTreeMap, BTreeSet};
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use drone_lang::Catalog;
use futures::stream::{FuturesUnordered, StreamExt};

use crate::budget::{service_of, Budgets};
use crate::eval::Resolver;
use crate::frontier::Frontier;
use crate::functions::CallContext;
use crate::model::Model;
use crate::plan::{evaluate_config, ActionKind, Plan};
use crate::provider::{ErrorKind, Observed, Provider, ProviderError, UpdateRequest};
use crate::resolve;
use crate::retry::{with_retries, Retry};
use crate::scripts::{snapshot, ScriptEvent, Scripts, Snapshot};
use crate::state::{Backend, Intent, ResourceState, State, StateError};
use crate::value::{Attributes, Value};

/// How to apply.
#[derive(Clone, Debug)]
pub struct ApplyOptions {
    /// Most operations in flight at once.
    pub concurrency: usize,
    /// Attempts for a retryable failure (throttling, eventual consistency).
    pub attempts: u32,
    /// First backoff; doubles each attempt, capped at 20 seconds.
    pub backoff: Duration,
}

impl ApplyOptions {
    /// How a failed call is retried.
    pub fn retry(&self) -> Retry {
        Retry { attempts: self.attempts, backoff: self.backoff }
    }
}

impl Default for ApplyOptions {
    fn default() -> Self {
        ApplyOptions { concurrency: 8, attempts: 6, backoff: Duration::from_millis(500) }
    }
}

pub use crate::state::Operation;

/// What became of one operation.
#[derive(Clone, Debug, PartialEq)]
pub enum Status {
    /// It succeeded.
    Done,
    /// It failed, and why.
    Failed(String),
    /// It was not attempted because something it depends on failed.
    Skipped(String),
}

/// One operation's outcome.
#[derive(Clone, Debug, PartialEq)]
pub struct Outcome {
    /// The resource.
    pub address: String,
    /// What was attempted.
    pub operation: Operation,
    /// What became of it.
    pub status: Status,
    /// A create that found its resource already there, made by this state
    /// (by a run whose record was lost, or forgotten with `drone state rm`),
    /// and recorded it instead of making another.
    pub adopted: bool,
}

/// Everything an apply did.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Report {
    /// Outcomes in completion order.
    pub outcomes: Vec<Outcome>,
    /// Each service's concurrency budget at the end (lower where it throttled).
    pub concurrency: BTreeMap<String, usize>,
    /// Phase hooks and steps that failed: (phase, why).
    pub phase_failures: Vec<(String, String)>,
}

impl Report {
    /// Whether every operation succeeded.
    pub fn succeeded(&self) -> bool {
        self.outcomes.iter().all(|o| o.status == Status::Done) && self.phase_failures.is_empty()
    }

    /// Addresses whose `operation` ended with `Done`.
    pub fn done(&self, operation: Operation) -> Vec<&str> {
        self.outcomes
            .iter()
            .filter(|o| o.operation == operation && o.status == Status::Done)
            .map(|o| o.address.as_str())
            .collect()
    }
}

/// Progress events, for the live view or log lines.
pub trait Observer: Sync {
    /// An operation started.
    fn started(&self, address: &str, operation: Operation);
    /// An operation ended (or was skipped).
    fn finished(&self, outcome: &Outcome, elapsed: Duration);
}

/// An observer that ignores events.
pub struct Silent;

impl Observer for Silent {
    fn started(&self, _: &str, _: Operation) {}
    fn finished(&self, _: &Outcome, _: Duration) {}
}

/// State and where it is saved.
pub struct Store {
    /// The state, updated as operations finish.
    pub state: State,
    /// Where it is written.
    pub backend: Arc<dyn Backend>,
}

/// Providers by instance name.
pub type Providers = BTreeMap<String, Arc<dyn Provider>>;

/// Everything apply reads.
pub struct ApplyInput<'a> {
    /// The model (configurations and dependencies).
    pub model: &'a Model,
    /// Schemas.
    pub catalog: &'a Catalog,
    /// The plan to carry out.
    pub plan: &'a Plan,
    /// The providers.
    pub providers: &'a Providers,
    /// Environment and secrets.
    pub cx: &'a CallContext<'a>,
    /// Limits and retries.
    pub options: &'a ApplyOptions,
    /// Progress.
    pub observer: &'a dyn Observer,
    /// Set when the user asks to stop (Ctrl-C): operations in flight finish
    /// and are saved, none starts after it.
    pub stop: Option<&'a AtomicBool>,
    /// The workflow's hooks and steps, if it has any.
    pub scripts: Option<Arc<dyn Scripts>>,
}

/// Why operations that did not start were skipped after a stop.
const INTERRUPTED: &str = "interrupted before it started";

/// Whether the user asked to stop.
fn stopping(input: &ApplyInput<'_>) -> bool {
    input.stop.is_some_and(|s| s.load(Ordering::SeqCst))
}

/// Carries out `input.plan`, saving `store` after every operation. Returns the
/// report, or a state error if state could not be saved (the run stops then).
pub async fn apply(input: &ApplyInput<'_>, store: &mut Store) -> Result<Report, StateError> {
    let budgets = Arc::new(Budgets::new(input.options.concurrency));
    let mut report = run_stages(input, store, &budgets).await?;
    report.concurrency = budgets.limits();
    Ok(report)
}

/// What state records a resource replaced with `create_before_destroy` under, from the moment
/// its replacement starts until it is deleted: not an address of the workflow, so a run
/// killed in between plans its deletion like any resource the workflow no longer has.
pub fn deposed(address: &str) -> String {
    format!("{address}#deposed")
}

/// Whether `address` is a replacement that makes the new resource before deleting the old.
fn creates_first(input: &ApplyInput<'_>, address: &str) -> bool {
    input.model.instances.get(address).is_some_and(|i| i.create_before_destroy)
}

async fn run_stages(input: &ApplyInput<'_>, store: &mut Store, budgets: &Arc<Budgets>) -> Result<Report, StateError> {
    let mut report = Report::default();
    let deletes: BTreeSet<String> = input
        .plan
        .actions
        .iter()
        .filter(|a| match a.kind {
            ActionKind::Delete => true,
            ActionKind::Replace => !creates_first(input, &a.address),
            _ => false,
        })
        .map(|a| a.address.clone())
        .collect();
    // Create-before-destroy replacements: the old resource steps aside in state, to be deleted
    // once everything has been made.
    let mut stepped_aside = Vec::new();
    for a in input.plan.actions.iter().filter(|a| a.kind == ActionKind::Replace && creates_first(input, &a.address)) {
        if let Some(old) = store.state.resources.remove(&a.address) {
            store.state.resources.insert(deposed(&a.address), old);
            stepped_aside.push(a.address.clone());
        }
    }
    // Every move aside in one write: the address emptied, and the place it went.
    let asides: Vec<String> = stepped_aside.iter().map(|a| deposed(a)).collect();
    let moved: Vec<&str> = stepped_aside.iter().chain(&asides).map(String::as_str).collect();
    store.backend.record_many(&mut store.state, &moved).await?;
    // A delete waits for the deletes of everything that depends on it.
    let mut waits: BTreeMap<String, BTreeSet<String>> = deletes.iter().map(|a| (a.clone(), BTreeSet::new())).collect();
    for (address, r) in &store.state.resources {
        if deletes.contains(address) {
            for dep in r.dependencies.iter().filter(|d| deletes.contains(*d)) {
                waits.entry(dep.clone()).or_default().insert(address.clone());
            }
        }
    }
    let ok = run_stage(input, store, &mut report, budgets, Operation::Delete, waits).await?;
    if !ok {
        let why = if stopping(input) { INTERRUPTED } else { "an earlier deletion failed" };
        skip_rest(input, &mut report, |_| true, why);
        return Ok(report);
    }
    for phase in &input.model.phases {
        let jobs: BTreeMap<String, Operation> = input
            .plan
            .actions
            .iter()
            .filter(|a| &a.phase == phase)
            .filter_map(|a| match a.kind {
                ActionKind::Create | ActionKind::Replace => Some((a.address.clone(), Operation::Create)),
                ActionKind::Update => Some((a.address.clone(), Operation::Update)),
                _ => None,
            })
            .collect();
        let waits = jobs
            .keys()
            .map(|a| {
                let deps = input
                    .model
                    .instances
                    .get(a)
                    .map(|i| i.deps.iter().filter(|d| jobs.contains_key(*d)).cloned().collect())
                    .unwrap_or_default();
                (a.clone(), deps)
            })
            .collect();
        let ops: BTreeMap<String, Operation> = jobs;
        let changes = !ops.is_empty();
        let mut ok = true;
        if changes {
            ok = phase_event(input, store, &mut report, ScriptEvent::PhaseStarts(phase.clone())).await;
            if !ok {
                skip_rest(input, &mut report, |a| &a.phase == phase, "a hook before the phase failed");
            }
        }
        ok = ok && run_stage_with(input, store, &mut report, budgets, &ops, waits).await?;
        if ok && changes {
            ok = phase_event(input, store, &mut report, ScriptEvent::PhaseDone(phase.clone())).await;
        }
        if !ok {
            let later: BTreeSet<&String> = input.model.phases.iter().skip_while(|p| *p != phase).skip(1).collect();
            let why = if stopping(input) { INTERRUPTED.to_string() } else { format!("phase `{phase}` failed") };
            skip_rest(input, &mut report, |a| later.contains(&a.phase), &why);
            return Ok(report);
        }
    }
    // The replaced resources go last, once everything that may refer to them points at the new ones.
    let old: BTreeMap<String, BTreeSet<String>> = stepped_aside
        .iter()
        .map(|a| (deposed(a), BTreeSet::new()))
        .filter(|(d, _)| store.state.resources.contains_key(d))
        .collect();
    if !old.is_empty() {
        run_stage(input, store, &mut report, budgets, Operation::Delete, old).await?;
    }
    Ok(report)
}

/// Runs the scripts at a phase's start or end; a failure fails the phase.
async fn phase_event(input: &ApplyInput<'_>, store: &Store, report: &mut Report, event: ScriptEvent) -> bool {
    let Some(scripts) = input.scripts.as_ref().filter(|s| s.wants(&event)) else { return true };
    let phase = match &event {
        ScriptEvent::PhaseStarts(p) | ScriptEvent::PhaseDone(p) => p.clone(),
        _ => String::new(),
    };
    match scripts.run(event, snapshot(&store.state)).await {
        Ok(()) => true,
        Err(why) => {
            report.phase_failures.push((phase, why));
            false
        }
    }
}

/// The hooks an operation runs before and after it, with what state holds as it starts.
#[derive(Clone)]
struct OperationHooks {
    scripts: Option<Arc<dyn Scripts>>,
    before: bool,
    after: bool,
    resources: Snapshot,
}

impl OperationHooks {
    fn new(input: &ApplyInput<'_>, state: &State, op: Operation, address: &str) -> OperationHooks {
        let scripts = input.scripts.clone();
        let wants = |e: ScriptEvent| scripts.as_ref().is_some_and(|s| s.wants(&e));
        let before = wants(ScriptEvent::Before(op, address.to_string()));
        let after = wants(ScriptEvent::After(op, address.to_string()));
        let resources = if before || after { snapshot(state) } else { Snapshot::default() };
        OperationHooks { scripts, before, after, resources }
    }

    /// Whether a hook runs before the operation.
    fn runs_before(&self) -> bool {
        self.scripts.is_some() && self.before
    }

    async fn before(&self, op: Operation, address: &str) -> Result<(), Failure> {
        match &self.scripts {
            Some(s) if self.before => s
                .run(ScriptEvent::Before(op, address.to_string()), self.resources.clone())
                .await
                .map_err(|e| Failure::plain(format!("hook before {} failed: {e}", op.verb()))),
            _ => Ok(()),
        }
    }

    /// Runs the `after` hooks; `observed` is what the operation left (none for a delete).
    async fn after(&self, op: Operation, address: &str, observed: Option<&Observed>) -> Result<(), String> {
        let Some(s) = self.scripts.as_ref().filter(|_| self.after) else { return Ok(()) };
        let mut resources = (*self.resources).clone();
        match observed {
            Some(o) => {
                let mut attrs: serde_json::Map<String, serde_json::Value> =
                    o.attributes.iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
                attrs.insert("id".into(), o.id.clone().into());
                resources.insert(address.to_string(), serde_json::Value::Object(attrs));
            }
            None => {
                resources.remove(address);
            }
        }
        s.run(ScriptEvent::After(op, address.to_string()), Arc::new(resources))
            .await
            .map_err(|e| format!("hook after {} failed: {e}", op.verb()))
    }
}

fn skip_rest(
    input: &ApplyInput<'_>,
    report: &mut Report,
    select: impl Fn(&crate::plan::Action) -> bool,
    because: &str,
) {
    for a in input.plan.actions.iter().filter(|a| select(a)) {
        let operation = match a.kind {
            ActionKind::Create | ActionKind::Replace => Operation::Create,
            ActionKind::Update => Operation::Update,
            ActionKind::Delete => Operation::Delete,
            ActionKind::NoOp => continue,
        };
        if report.outcomes.iter().any(|o| o.address == a.address && o.operation == operation) {
            continue;
        }
        let outcome =
            Outcome { address: a.address.clone(), operation, status: Status::Skipped(because.into()), adopted: false };
        input.observer.finished(&outcome, Duration::ZERO);
        report.outcomes.push(outcome);
    }
}

async fn run_stage(
    input: &ApplyInput<'_>,
    store: &mut Store,
    report: &mut Report,
    budgets: &Arc<Budgets>,
    op: Operation,
    waits: BTreeMap<String, BTreeSet<String>>,
) -> Result<bool, StateError> {
    let ops = waits.keys().map(|a| (a.clone(), op)).collect();
    run_stage_with(input, store, report, budgets, &ops, waits).await
}

/// A failed operation: why, what a failed create had already made, and
/// whether it may have taken effect all the same (its intent then stays
/// pending for the next run to look up).
struct Failure {
    reason: String,
    /// What the operation made or changed before it failed, to record.
    created: Option<Observed>,
    uncertain: bool,
    /// Whether what it made is marked for replacement: a create that did not
    /// finish is; an update whose `after` hook failed is not (the update holds,
    /// and replacing a database or a service over a hook would be far worse).
    taint: bool,
}

impl Failure {
    fn plain(reason: String) -> Failure {
        Failure { reason, created: None, uncertain: false, taint: false }
    }
}

/// An operation ready to run: the intent to record before its first call, and the call.
struct Prepared {
    intent: Intent,
    call: Pending,
}

type Pending = Pin<Box<dyn Future<Output = (String, Operation, Instant, Result<Finished, Failure>)> + Send>>;

/// What a finished operation leaves: the resource as recorded (none after a
/// delete), and whether a create found it already made and adopted it.
struct Finished {
    observed: Option<Observed>,
    adopted: bool,
}

async fn run_stage_with(
    input: &ApplyInput<'_>,
    store: &mut Store,
    report: &mut Report,
    budgets: &Arc<Budgets>,
    ops: &BTreeMap<String, Operation>,
    waits: BTreeMap<String, BTreeSet<String>>,
) -> Result<bool, StateError> {
    let mut frontier = Frontier::new(&waits, |address| service_for(input, &store.state, address));
    let mut in_flight: FuturesUnordered<Pending> = FuturesUnordered::new();
    let mut all_ok = true;
    loop {
        // What a failed prerequisite doomed is skipped (which may doom more).
        while let Some((address, failed)) = frontier.take_doomed() {
            let op = ops.get(&address).copied().unwrap_or(Operation::Create);
            let outcome = Outcome {
                address: address.clone(),
                operation: op,
                status: Status::Skipped(format!("`{failed}` did not succeed")),
                adopted: false,
            };
            input.observer.finished(&outcome, Duration::ZERO);
            report.outcomes.push(outcome);
            frontier.settle(&address, false);
            all_ok = false;
        }
        // Start what is ready, as far as the limit and each service's budget allow; nothing after a stop.
        let mut starting: Vec<(String, Prepared)> = Vec::new();
        let services = if stopping(input) { Vec::new() } else { frontier.services() };
        for service in services {
            while in_flight.len() + starting.len() < input.options.concurrency.max(1) {
                if !budgets.try_start(&service) {
                    break;
                }
                let Some(address) = frontier.take(&service) else {
                    budgets.finished(&service);
                    break;
                };
                let op = ops.get(&address).copied().unwrap_or(Operation::Create);
                input.observer.started(&address, op);
                // Each operation's generation: the serial its intent is recorded at.
                let generation = store.state.serial + 1 + starting.len() as u64;
                match start(input, &store.state, &address, op, generation, budgets.clone(), service.clone()) {
                    Ok(prepared) => starting.push((address.clone(), prepared)),
                    Err(reason) => {
                        budgets.finished(&service);
                        let outcome = Outcome {
                            address: address.clone(),
                            operation: op,
                            status: Status::Failed(reason),
                            adopted: false,
                        };
                        input.observer.finished(&outcome, Duration::ZERO);
                        report.outcomes.push(outcome);
                        frontier.settle(&address, false);
                        all_ok = false;
                    }
                }
            }
        }
        // Intent before action: every call about to start is on disk first.
        for (address, prepared) in &starting {
            store.state.pending.insert(address.clone(), prepared.intent.clone());
        }
        let addresses: Vec<&str> = starting.iter().map(|(a, _)| a.as_str()).collect();
        store.backend.record_many(&mut store.state, &addresses).await?;
        in_flight.extend(starting.into_iter().map(|(_, prepared)| prepared.call));
        let Some((address, op, started, result)) = in_flight.next().await else {
            if frontier.is_empty() {
                break;
            }
            if stopping(input) {
                // Everything in flight has finished and been saved; the rest never starts.
                for address in frontier.take_all() {
                    let operation = ops.get(&address).copied().unwrap_or(Operation::Create);
                    let outcome =
                        Outcome { address, operation, status: Status::Skipped(INTERRUPTED.into()), adopted: false };
                    input.observer.finished(&outcome, Duration::ZERO);
                    report.outcomes.push(outcome);
                }
                all_ok = false;
                break;
            }
            continue;
        };
        let service = service_for(input, &store.state, &address);
        budgets.finished(&service);
        let mut adopted = false;
        let status = match result {
            Ok(Finished { observed, adopted: found }) => {
                adopted = found;
                budgets.succeeded(&service);
                store.state.pending.remove(&address);
                record(input, &mut store.state, &address, op, observed);
                store.backend.record(&mut store.state, &address).await?;
                frontier.settle(&address, true);
                Status::Done
            }
            Err(Failure { reason, created, uncertain, taint }) => {
                if let Some(observed) = created {
                    // Keep what the failed operation made; a create that did not finish
                    // is marked for replacement.
                    record(input, &mut store.state, &address, op, Some(observed));
                    if let Some(r) = store.state.resources.get_mut(&address).filter(|_| taint) {
                        r.tainted = true;
                    }
                }
                // An operation that may have taken effect stays pending: the next
                // refresh looks its resource up. Any other failure is settled.
                if !uncertain {
                    store.state.pending.remove(&address);
                }
                store.backend.record(&mut store.state, &address).await?;
                frontier.settle(&address, false);
                all_ok = false;
                Status::Failed(reason)
            }
        };
        let outcome = Outcome { address, operation: op, status, adopted };
        input.observer.finished(&outcome, started.elapsed());
        report.outcomes.push(outcome);
    }
    Ok(all_ok)
}

/// Resolves references against recorded state (id included).
pub struct Live<'a>(pub &'a State);

impl Resolver for Live<'_> {
    fn instance(&self, address: &str) -> Value {
        match self.0.resources.get(address) {
            Some(r) => {
                let mut attrs = r.attributes.clone();
                attrs.entry("id".into()).or_insert_with(|| Value::str(&r.id));
                Value::map(attrs)
            }
            None => Value::Unknown,
        }
    }
}

/// The service whose budget an operation on `address` counts against.
fn service_for(input: &ApplyInput<'_>, state: &State, address: &str) -> String {
    let type_name = input
        .model
        .instances
        .get(address)
        .map(|i| i.type_name.as_str())
        .or_else(|| state.resources.get(address).map(|r| r.type_name.as_str()))
        .unwrap_or(address);
    service_of(type_name).to_string()
}

/// Prepares one operation: evaluates configuration against live state, then
/// returns its intent (to record before the call) and the provider call as
/// an owned future that reports throttling to `budgets` for `service`.
/// `generation` makes the operation's idempotency token.
fn start(
    input: &ApplyInput<'_>,
    state: &State,
    address: &str,
    op: Operation,
    generation: u64,
    budgets: Arc<Budgets>,
    service: String,
) -> Result<Prepared, String> {
    let options = input.options.clone();
    let throttled = move || budgets.throttled(&service);
    let owned = address.to_string();
    let started = Instant::now();
    let token = Intent::token(&state.lineage, address, generation);
    let now = input.cx.host.now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().as_secs();
    if op == Operation::Delete {
        let recorded = state.resources.get(address).cloned().ok_or_else(|| format!("`{address}` is not in state"))?;
        let provider = provider(input, &recorded.provider)?;
        let intent = Intent {
            operation: op,
            type_name: recorded.type_name.clone(),
            provider: recorded.provider.clone(),
            phase: recorded.phase.clone(),
            dependencies: recorded.dependencies.clone(),
            token,
            started: now,
            attributes: Attributes::new(),
        };
        let hooks = OperationHooks::new(input, state, op, address);
        let call = Box::pin(async move {
            // A `before delete` hook readies a resource for its deletion; one already gone
            // (deleted out of band since the refresh) needs neither: the deletion is done.
            if hooks.runs_before() {
                let read = || provider.read(&recorded.type_name, &recorded.id, &recorded.attributes);
                if let Ok(None) = with_retries(&options.retry(), &throttled, read).await {
                    return (owned, op, started, Ok(Finished { observed: None, adopted: false }));
                }
            }
            if let Err(refused) = hooks.before(op, &owned).await {
                return (owned, op, started, Err(refused));
            }
            let result = with_retries(&options.retry(), &throttled, || {
                provider.delete(&recorded.type_name, &recorded.id, &recorded.attributes)
            })
            .await;
            let result = match result {
                Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
                other => other,
            };
            let mut result = result
                .map(|()| Finished { observed: None, adopted: false })
                .map_err(|e| Failure { uncertain: e.indeterminate(), ..Failure::plain(e.to_string()) });
            if result.is_ok() {
                // The resource is gone; its intent stays for the next refresh to settle.
                if let Err(reason) = hooks.after(op, &owned, None).await {
                    result = Err(Failure { reason, created: None, uncertain: true, taint: false });
                }
            }
            (owned, op, started, result)
        });
        return Ok(Prepared { intent, call });
    }
    let instance = input.model.instances.get(address).ok_or_else(|| format!("`{address}` is not in the workflow"))?;
    let config =
        evaluate_config(input.model, input.catalog, input.cx, &Live(state), instance).map_err(|e| e.to_string())?;
    if let Some((name, _)) = config.iter().find(|(_, v)| !v.is_known()) {
        return Err(format!("attribute `{name}` is still unknown; a resource it refers to did not report it"));
    }
    let provider = provider(input, &instance.provider)?;
    let tags = drone_tags(&input.model.workflow, address, &state.lineage);
    let type_name = instance.type_name.clone();
    let schema = input.catalog.resource(&type_name).cloned();
    let prior = state.resources.get(address).cloned();
    // The resource a create-before-destroy replacement replaces: never taken for the new one.
    let replacing = state.resources.get(&deposed(address)).map(|r| r.id.clone());
    // An update leaves what something else owns (`lifecycle.ignore_changes`) as the account has it.
    let config = match (&op, &prior) {
        (Operation::Update, Some(prior)) => {
            crate::plan::keep_ignored(config, &prior.attributes, &instance.ignore_changes).0
        }
        _ => config,
    };
    let changed: Vec<String> = input
        .plan
        .actions
        .iter()
        .find(|a| a.address == address)
        .map(|a| a.changes.iter().map(|c| c.attribute.clone()).collect())
        .unwrap_or_default();
    // An update keeps what the provider computed at create (ARNs, endpoints): the
    // update call returns only what it changed, and later references need the rest.
    let carried: Attributes = match (&op, &prior, &schema) {
        (Operation::Update, Some(prior), Some(schema)) => schema
            .attributes
            .iter()
            .filter(|a| a.computed() && !config.contains_key(&a.name))
            .filter_map(|a| prior.attributes.get(&a.name).map(|v| (a.name.clone(), v.clone())))
            .collect(),
        _ => Attributes::new(),
    };
    let intent = Intent {
        operation: op,
        type_name: type_name.clone(),
        provider: instance.provider.clone(),
        phase: instance.phase.clone(),
        dependencies: instance.deps.clone(),
        token: token.clone(),
        started: now,
        attributes: config.clone(),
    };
    let hooks = OperationHooks::new(input, state, op, address);
    let call = Box::pin(async move {
        if let Err(refused) = hooks.before(op, &owned).await {
            return (owned, op, started, Err(refused));
        }
        let c = resolve::Create {
            provider: provider.as_ref(),
            schema: schema.as_ref(),
            type_name: &type_name,
            address: &owned,
            config: &config,
            tags: &tags,
            token: &token,
            retry: options.retry(),
            throttled: &throttled,
            replacing: replacing.as_deref(),
        };
        let result = match (op, &prior) {
            (Operation::Update, Some(prior)) => {
                let request = UpdateRequest {
                    type_name: &type_name,
                    address: &owned,
                    id: &prior.id,
                    prior: &prior.attributes,
                    config: &config,
                    changed: &changed,
                    tags: &tags,
                };
                resolve::update(&c, request).await.map(|o| (o, false))
            }
            _ => resolve::create(&c).await,
        };
        let result = match result {
            // Recorded attributes: the configuration, overlaid with what the provider computed.
            Ok((mut observed, adopted)) => {
                let mut attrs = config.clone();
                attrs.extend(carried);
                attrs.append(&mut observed.attributes);
                let observed = Observed { id: observed.id, attributes: attrs };
                match hooks.after(op, &owned, Some(&observed)).await {
                    Ok(()) => Ok(Finished { observed: Some(observed), adopted }),
                    // Kept; a created resource is marked for replacement, an updated one is not.
                    Err(reason) => {
                        let taint = op != Operation::Update;
                        Err(Failure { reason, created: Some(observed), uncertain: false, taint })
                    }
                }
            }
            Err(e) => Err(failure(e, &config)),
        };
        (owned, op, started, result)
    });
    Ok(Prepared { intent, call })
}

/// The tags drone gives every resource it creates: they find it again.
pub fn drone_tags(workflow: &str, address: &str, lineage: &str) -> BTreeMap<String, String> {
    [
        ("drone:workflow".to_string(), workflow.to_string()),
        ("drone:address".to_string(), address.to_string()),
        ("drone:lineage".to_string(), lineage.to_string()),
    ]
    .into()
}

/// A failed operation as apply records it.
fn failure(e: ProviderError, config: &Attributes) -> Failure {
    let created = e.created.clone().map(|id| Observed { id, attributes: config.clone() });
    Failure { reason: e.to_string(), uncertain: e.indeterminate() && created.is_none(), created, taint: true }
}

fn provider(input: &ApplyInput<'_>, name: &str) -> Result<Arc<dyn Provider>, String> {
    input.providers.get(name).cloned().ok_or_else(|| format!("provider `{name}` is not configured"))
}

fn record(input: &ApplyInput<'_>, state: &mut State, address: &str, op: Operation, observed: Option<Observed>) {
    match (op, observed) {
        (Operation::Delete, _) => {
            state.resources.remove(address);
        }
        (_, Some(observed)) => {
            let Some(instance) = input.model.instances.get(address) else {
                return;
            };
            let mut attributes: Attributes = observed.attributes;
            attributes.insert("id".into(), Value::str(&observed.id));
            state.resources.insert(address.to_string(), ResourceState::of(instance, observed.id, attributes));
        }
        (_, None) => {}
    }
}

/// Evaluates the workflow's outputs against recorded state.
pub fn outputs(
    model: &Model,
    catalog: &Catalog,
    state: &State,
    cx: &CallContext<'_>,
) -> Result<BTreeMap<String, Value>, crate::error::EvalError> {
    let resolver = Live(state);
    let evaluator = crate::eval::Evaluator::new(model, catalog, cx, &resolver);
    model.outputs.iter().map(|o| Ok((o.name.clone(), evaluator.eval(&o.value, &Vec::new())?))).collect()
}
