//! What every cloud-facing command shares: the workflow loaded and judged by
//! its policies, where its state lives and its lock, its providers, and the
//! refresh and plan that `plan`, `run` and `destroy` all begin with.

use std::collections::BTreeMap;
use std::io::{BufRead, IsTerminal, Write};
use std::path::Path;
use std::sync::Arc;

use drone_engine::apply::Providers;
use drone_engine::functions::CallContext;
use drone_engine::lock::LockContext;
use drone_engine::plan::{self, Plan};
use drone_engine::policy::Severity;
use drone_engine::provider::Provider;
use drone_engine::refresh::{self, Drift, Recovered, Refreshed};
use drone_engine::state::{Backend, Location, State};
use drone_lang::Catalog;
use drone_stdlib::aws::AwsProvider;

use crate::cli::args::Common;
use crate::error::CliError;
use crate::pipeline::{self, Loaded};

/// A loaded workflow with its state's place and its providers.
pub(crate) struct Session {
    pub(crate) loaded: Loaded,
    pub(crate) location: Location,
    pub(crate) backend: Arc<dyn Backend>,
    /// What the lock reads of the world, and the flag that stops the backend's writes once it is lost.
    pub(crate) lock: LockContext,
    pub(crate) providers: Providers,
    /// The same providers as AWS ones, for what scripts and one-off tasks call.
    pub(crate) aws: BTreeMap<String, Arc<AwsProvider>>,
}

/// Loads `file`, judges it by its policies when `enforce` (before any
/// provider exists: a refused workflow makes no network call), and connects
/// its state and providers.
pub(crate) async fn session(
    file: &Path,
    common: &Common,
    catalog: &Catalog,
    enforce: bool,
) -> Result<Session, CliError> {
    let mut loaded = pipeline::load(file, &params(&common.params)?, catalog)?;
    if enforce {
        let report = crate::policies::evaluate(&mut loaded, catalog, &common.policy.selection())?;
        if !report.findings.is_empty() {
            crate::findings::human(&report, &loaded.program.sources);
            eprintln!("{}", crate::findings::summary(&report));
        }
        if report.active(Severity::Error) > 0 {
            return Err(CliError::Policy);
        }
    }
    let location = crate::store::location(file, &loaded.model, common.state.as_deref())?;
    let lock = crate::store::lock_context(file);
    let backend = crate::store::backend(&location, &lock).await;
    let journal = match &common.call_log {
        Some(path) => Some(drone_stdlib::aws::Journal::open(path).map_err(|e| {
            CliError::usage(format!("cannot open call log {}: {}", path.display(), e.to_string().to_lowercase()), None)
        })?),
        None => None,
    };
    let mut aws = BTreeMap::new();
    for (name, config) in &loaded.model.providers {
        if config.kind != "aws" {
            return Err(CliError::Workflow { message: format!("provider kind `{}` is not supported", config.kind) });
        }
        aws.insert(name.clone(), Arc::new(AwsProvider::connect(&config.settings, journal.clone()).await));
    }
    let providers: Providers = aws.iter().map(|(name, p)| (name.clone(), p.clone() as Arc<dyn Provider>)).collect();
    Ok(Session { loaded, location, backend, lock, providers, aws })
}

/// Who runs drone, as audit logs, tasks and releases record it: `DRONE_ACTOR`, else the login name.
pub(crate) fn actor() -> String {
    std::env::var("DRONE_ACTOR").or_else(|_| std::env::var("USER")).unwrap_or_else(|_| "unknown".into())
}

/// `--param` values by name.
pub(crate) fn params(raw: &[String]) -> Result<BTreeMap<String, String>, CliError> {
    Ok(name_values(raw, "--param")?.into_iter().collect())
}

/// `NAME=VALUE` arguments of `flag`, in order.
pub(crate) fn name_values(raw: &[String], flag: &'static str) -> Result<Vec<(String, String)>, CliError> {
    raw.iter()
        .map(|p| match p.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
            _ => Err(CliError::NameValue { flag, given: p.clone() }),
        })
        .collect()
}

/// Says where changes will land, before any change; fails fast when a
/// provider's endpoint cannot be reached.
pub(crate) async fn announce(session: &Session) -> Result<(), CliError> {
    for (name, provider) in &session.providers {
        // Throttling is waited out; an unreachable endpoint fails at once.
        let retry = drone_engine::retry::Retry::default();
        let target = drone_engine::retry::with_retries(&retry, &|| {}, || provider.identity())
            .await
            .map_err(|e| CliError::Provider { name: name.clone(), reason: e.to_string() })?;
        eprintln!("provider {name}: {target}");
    }
    Ok(())
}

/// The session's state as stored.
pub(crate) async fn load_state(session: &Session) -> Result<State, CliError> {
    let state = crate::store::load(session.backend.as_ref(), &session.loaded.model.workflow).await?;
    if let Some(note) = crate::store::compare_with_header(&session.loaded.model, &session.location, &state).await {
        eprintln!("{note}");
    }
    Ok(state)
}

/// Locks the session's state for `operation`, held until the guard drops.
pub(crate) async fn take_lock(
    session: &Session,
    file: &Path,
    operation: &str,
) -> Result<crate::store::StateLock, CliError> {
    crate::store::lock(&session.location, file, operation, &session.lock).await
}

/// Carries out the workflow's `moved` blocks on `state` (in memory; the
/// caller saves): the moves made, `(old, new)`.
pub(crate) fn apply_moved(session: &Session, state: &mut State) -> Result<Vec<(String, String)>, CliError> {
    drone_engine::state::apply_moves(state, &session.loaded.model.moved).map_err(CliError::from)
}

/// Reads every recorded resource back (what changed outside drone is the drift), then what the
/// workflow's `data` blocks name.
pub(crate) async fn refreshed(
    session: &Session,
    state: &State,
    catalog: &Catalog,
    concurrency: usize,
) -> Result<Refreshed, CliError> {
    let mut refreshed = refresh::refresh(state, catalog, &session.providers, concurrency)
        .await
        .map_err(|e| CliError::execution("refreshing state", e))?;
    let host = pipeline::host_for(&session.loaded.program.root_path);
    let cx = CallContext { host: &host, salt: &refreshed.state.lineage, resolve_secrets: true };
    let model = &session.loaded.model;
    refreshed.state = drone_engine::lookup::look_up(model, catalog, &cx, &session.providers, &refreshed.state)
        .await
        .map_err(|e| CliError::execution("reading data blocks", e))?;
    Ok(refreshed)
}

/// The plan against the account as it is, with its drift; the refreshed
/// state is what an apply of that plan starts from (an update changes the
/// resource from what the account has, not from what was recorded).
pub(crate) fn plan_against(
    session: &Session,
    refreshed: Refreshed,
    catalog: &Catalog,
) -> Result<(Plan, State), CliError> {
    let host = pipeline::host_for(&session.loaded.program.root_path);
    let cx = CallContext { host: &host, salt: &refreshed.state.lineage, resolve_secrets: true };
    let plan = plan::plan(&session.loaded.model, catalog, &refreshed.state, &cx)
        .map_err(|errors| crate::render::diagnostics(&errors, &session.loaded.program.sources))?;
    let mut plan = plan.with_drift(refreshed.drift).with_recovered(refreshed.recovered);
    crate::rollout::annotate(&mut plan, &refreshed.state);
    Ok((plan, refreshed.state))
}

/// `plan` limited to `targets` and what they depend on, with Terraform's warning; the whole
/// plan when no target is given.
pub(crate) fn targeted(session: &Session, plan: Plan, targets: &[String]) -> Result<Plan, CliError> {
    if targets.is_empty() {
        return Ok(plan);
    }
    let (plan, pulled) =
        plan.targeted(&session.loaded.model, targets).map_err(|message| CliError::usage(message, None))?;
    eprintln!("warning: --target is in effect: only the targeted resources and what they depend on are planned; the rest of the workflow may still differ from the account.");
    if !pulled.is_empty() {
        eprintln!("  also planned, because a target depends on them: {}", pulled.join(", "));
    }
    eprintln!("  Use it to repair one resource, then run the whole workflow.");
    Ok(plan)
}

/// A plan that only reports drift (and resolved interruptions): no action, nothing to apply.
pub(crate) fn drift_only(workflow: &str, drift: Vec<Drift>, recovered: Vec<Recovered>) -> Plan {
    Plan { workflow: workflow.to_string(), drift, recovered, ..Plan::default() }
}

/// Asks `question` on the terminal; yes without asking when `yes` or when
/// standard input is not a terminal.
pub(crate) fn confirm(question: &str, yes: bool) -> bool {
    if yes || !std::io::stdin().is_terminal() {
        return true;
    }
    eprint!("{question} [y/N] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    let _ = std::io::stdin().lock().read_line(&mut answer);
    matches!(answer.trim(), "y" | "Y" | "yes")
}

/// The workflow's hooks and steps bound to this run, if it has any.
pub(crate) fn workflow_scripts(
    session: &Session,
    catalog: &Catalog,
    state: &State,
) -> Result<Option<Arc<dyn drone_engine::scripts::Scripts>>, CliError> {
    if session.loaded.scripts.iter().all(|s| s.kind == drone_lang::ast::ScriptKind::Task) {
        return Ok(None);
    }
    let bindings = crate::script_host::Bindings::new(session, catalog, state, &[])?;
    let scripts =
        crate::script_host::WorkflowScripts::new(&session.loaded.scripts, bindings, &session.loaded.program.sources);
    Ok(scripts.map(|s| Arc::new(s) as Arc<dyn drone_engine::scripts::Scripts>))
}
