//! The world as drone's scripts see it from the command line: resources by
//! address (a snapshot of state), the AWS provider for host functions,
//! databases at their endpoint (or through `--tunnel`) with the workflow's
//! credentials, and the audit log beside the workflow. [`WorkflowScripts`]
//! binds the workflow's hooks and steps to apply's events.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use drone_engine::functions::CallContext;
use drone_engine::scripts::{ScriptEvent, Scripts, Snapshot};
use drone_engine::state::{Operation, State};
use drone_engine::value::Value;
use drone_lang::ast::{HookOn, HookWhen, ResourceOp, ScriptKind};
use drone_lang::{Catalog, SourceMap};
use drone_script::host::{AwsCall, DbTarget, ScriptHost, WriterMove};
use drone_script::ScriptSpec;
use drone_stdlib::aws::AwsProvider;

use crate::error::CliError;
use crate::render::diagnostics;

/// What every script of one run shares.
pub(crate) struct Bindings {
    providers: BTreeMap<String, Arc<AwsProvider>>,
    /// The provider instance of each address (state's records and the workflow's instances).
    placement: BTreeMap<String, String>,
    runtime: tokio::runtime::Handle,
    tunnels: BTreeMap<String, (String, u16)>,
    databases: BTreeMap<String, BTreeMap<String, Value>>,
    audit: PathBuf,
}

impl Bindings {
    /// Binds the session's workflow: its providers, its clusters' credentials
    /// (secrets resolved now, kept in memory only) and `--tunnel`s.
    pub(crate) fn new(
        session: &crate::session::Session,
        catalog: &Catalog,
        state: &State,
        tunnels: &[String],
    ) -> Result<Bindings, CliError> {
        let mut placement: BTreeMap<String, String> =
            session.loaded.model.instances.values().map(|i| (i.address.clone(), i.provider.clone())).collect();
        placement.extend(state.resources.iter().map(|(a, r)| (a.clone(), r.provider.clone())));
        Ok(Bindings {
            providers: session.aws.clone(),
            placement,
            runtime: tokio::runtime::Handle::current(),
            tunnels: parse_tunnels(tunnels)?,
            databases: databases(session, catalog, state)?,
            audit: audit_path(&session.loaded.program.root_path),
        })
    }

    /// A host for one script run that reads `resources`.
    pub(crate) fn host(self: &Arc<Self>, script: &str, resources: Snapshot) -> Arc<Host> {
        Arc::new(Host { bindings: self.clone(), resources, script: script.to_string() })
    }
}

/// `--tunnel ADDRESS=HOST:PORT`: reach a database through a local port.
fn parse_tunnels(raw: &[String]) -> Result<BTreeMap<String, (String, u16)>, CliError> {
    raw.iter()
        .map(|t| {
            let parsed = t.split_once('=').and_then(|(address, at)| {
                let (host, port) = at.rsplit_once(':')?;
                Some((address.to_string(), (host.to_string(), port.parse().ok()?)))
            });
            parsed.ok_or_else(|| {
                CliError::usage(
                    format!("`--tunnel {t}` must be written ADDRESS=HOST:PORT"),
                    Some("e.g. --tunnel aws.rds.cluster.ghost=127.0.0.1:3307".into()),
                )
            })
        })
        .collect()
}

/// Credentials of every database cluster, from the workflow.
fn databases(
    session: &crate::session::Session,
    catalog: &Catalog,
    state: &State,
) -> Result<BTreeMap<String, BTreeMap<String, Value>>, CliError> {
    let host = crate::pipeline::host_for(&session.loaded.program.root_path);
    let cx = CallContext { host: &host, salt: &state.lineage, resolve_secrets: true };
    let resolver = drone_engine::apply::Live(state);
    let model = &session.loaded.model;
    let evaluator = drone_engine::eval::Evaluator::new(model, catalog, &cx, &resolver);
    let mut out = BTreeMap::new();
    for instance in model.instances.values().filter(|i| i.type_name == "aws.rds.cluster") {
        let mut settings = BTreeMap::new();
        for attr in &instance.attributes {
            let name = attr.name.name.as_str();
            const SETTINGS: [&str; 6] = [
                "master_username",
                "master_password",
                "manage_master_password",
                "master_password_secret",
                "database_name",
                "port",
            ];
            if SETTINGS.contains(&name) {
                match evaluator.eval(&attr.value, &instance.scope) {
                    Ok(value) => {
                        settings.insert(name.to_string(), value);
                    }
                    Err(e) => return Err(diagnostics(std::slice::from_ref(&e), &session.loaded.program.sources)),
                }
            }
        }
        out.insert(instance.address.clone(), settings);
    }
    Ok(out)
}

/// Audit records go to `DRONE_AUDIT_LOG` if set (drone's image sets it; on Fargate the
/// task's log group keeps the `audit:` lines too), else beside the workflow, in `.drone/audit.jsonl`.
fn audit_path(file: &Path) -> PathBuf {
    if let Some(path) = std::env::var_os("DRONE_AUDIT_LOG") {
        return PathBuf::from(path);
    }
    crate::pipeline::dir_of(file).join(".drone").join("audit.jsonl")
}

/// One script run's host.
pub(crate) struct Host {
    bindings: Arc<Bindings>,
    resources: Snapshot,
    script: String,
}

impl Host {
    fn record(&self, address: &str) -> Result<(&serde_json::Value, String), String> {
        let attrs =
            self.resources.get(address).ok_or_else(|| format!("{address} is not in state: run the workflow first"))?;
        let id = attrs.get("id").and_then(|i| i.as_str()).unwrap_or_default().to_string();
        Ok((attrs, id))
    }

    fn provider(&self, address: &str) -> Result<Arc<AwsProvider>, String> {
        let name = self.bindings.placement.get(address).ok_or_else(|| format!("{address} has no provider"))?;
        self.bindings.providers.get(name).cloned().ok_or_else(|| format!("provider `{name}` is not configured"))
    }
}

/// Where a cluster's password comes from when AWS keeps it (`manage_master_password`).
const DB_PASSWORD_VARIABLE: &str = "DRONE_DB_PASSWORD";

impl Host {
    /// The password of a cluster whose password Secrets Manager keeps, given to drone in
    /// `DRONE_DB_PASSWORD`: by ECS from the secret under `--on fargate` (the task's `secrets`),
    /// or by whoever runs a `--tunnel` run. Drone itself never reads the secret.
    fn managed_password(&self, address: &str, settings: &BTreeMap<String, Value>) -> Result<String, String> {
        if let Ok(password) = std::env::var(DB_PASSWORD_VARIABLE) {
            return Ok(password);
        }
        // The workflow's own secret (its ARN, or unknown until the secret exists), or the one AWS manages.
        let kept = settings.get("master_password_secret").filter(|v| !matches!(v, Value::Null));
        let secret = match kept {
            Some(kept) => kept
                .as_map()
                .and_then(|s| s.get("secret_arn"))
                .and_then(Value::as_str)
                .map_or_else(|| "its `master_password_secret`".into(), String::from),
            None if settings.get("manage_master_password") == Some(&Value::Bool(true)) => self
                .record(address)
                .ok()
                .and_then(|(attrs, _)| attrs.get("master_secret_arn").and_then(|v| v.as_str()).map(String::from))
                .unwrap_or_else(|| "its `master_secret_arn`".into()),
            None => {
                return Err(format!(
                    "{address} sets none of `master_password`, `master_password_secret` and `manage_master_password`"
                ))
            }
        };
        Err(format!(
            "its password is kept by AWS in Secrets Manager ({secret}); give it to drone in \
             {DB_PASSWORD_VARIABLE} (e.g. from `aws secretsmanager get-secret-value --secret-id <arn>`, key \
             `password`), or run with `--on fargate`, where ECS hands it over from the secret"
        ))
    }
}

impl ScriptHost for Host {
    fn resource(&self, address: &str) -> Result<serde_json::Value, String> {
        self.record(address).map(|(attrs, _)| attrs.clone())
    }

    fn aws(&self, call: &AwsCall) -> Result<serde_json::Value, String> {
        let (attrs, id) = self.record(call.target())?;
        // A call on a global database goes to the region of the cluster it names: the writer's
        // region may be the one that is down.
        let provider = self.provider(call.placed_at())?;
        let arn = |address: &str| -> Result<String, String> {
            let (attrs, _) = self.record(address)?;
            attrs.get("arn").and_then(|a| a.as_str()).map(String::from).ok_or_else(|| format!("{address} has no ARN"))
        };
        let text = |name: &str| attrs.get(name).and_then(|v| v.as_str()).unwrap_or_default().to_string();
        let runtime = &self.bindings.runtime;
        let count = |n: usize| serde_json::Value::from(n as u64);
        let result = match call {
            AwsCall::EmptyBucket { .. } => runtime.block_on(provider.empty_bucket(&id)).map(count),
            AwsCall::DeleteObjects { objects, .. } => {
                runtime.block_on(provider.delete_objects(&id, objects)).map(count)
            }
            AwsCall::ListObjects { .. } => runtime.block_on(provider.list_object_versions(&id)).map(|objects| {
                objects
                    .into_iter()
                    .map(|(key, version)| serde_json::json!({ "key": key, "version_id": version }))
                    .collect()
            }),
            AwsCall::EmptyRepository { .. } => runtime.block_on(provider.empty_repository(&id)).map(count),
            AwsCall::Invalidate { paths, .. } => runtime.block_on(provider.invalidate(&id, paths)).map(Into::into),
            AwsCall::RouteWrites { to_failover, .. } => runtime.block_on(provider.route_writes(&id, *to_failover)),
            AwsCall::GlobalCluster { .. } => runtime.block_on(provider.global_cluster(&id)),
            AwsCall::MoveWriter { to, how, .. } => {
                let (failover, allow_data_loss) = match how {
                    WriterMove::Failover { allow_data_loss } => (true, *allow_data_loss),
                    WriterMove::Switchover => (false, false),
                };
                runtime.block_on(provider.move_writer(&id, &arn(to)?, failover, allow_data_loss))
            }
            AwsCall::Detach { cluster, .. } => runtime.block_on(provider.detach(&id, &arn(cluster)?)),
            AwsCall::Replication { through, .. } => runtime.block_on(provider.efs_replication(&id, &arn(through)?)),
            AwsCall::StopReplication { through, local_only, .. } => {
                runtime.block_on(provider.stop_replication(&id, &arn(through)?, *local_only))
            }
            AwsCall::ScaleService { count, .. } => {
                runtime.block_on(provider.scale_service(&text("cluster"), &text("name"), *count))
            }
            AwsCall::SetCapacity { min, max, .. } => runtime.block_on(provider.set_capacity(
                &text("service_namespace"),
                &text("resource_id"),
                &text("scalable_dimension"),
                (*min, *max),
            )),
        };
        result.map_err(|e| e.to_string())
    }

    fn database(&self, address: &str) -> Result<DbTarget, String> {
        let settings = self.bindings.databases.get(address).ok_or_else(|| format!("{address} is not declared"))?;
        let text = |name: &str| match settings.get(name) {
            Some(Value::Secret(s)) => s.expose().map(String::from),
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        let (host, port) = match self.bindings.tunnels.get(address) {
            Some((host, port)) => (host.clone(), *port),
            None => {
                let (attrs, _) = self.record(address)?;
                let endpoint = attrs
                    .get("endpoint")
                    .and_then(|e| e.as_str())
                    .ok_or_else(|| format!("{address} has no endpoint in state"))?;
                let port = match settings.get("port") {
                    Some(Value::Number(n)) => *n as u16,
                    _ => 3306,
                };
                (endpoint.to_string(), port)
            }
        };
        Ok(DbTarget {
            host,
            port,
            user: text("master_username").ok_or("the cluster has no master_username")?,
            password: match text("master_password") {
                Some(password) => password,
                None => self.managed_password(address, settings)?,
            },
            database: text("database_name").unwrap_or_default(),
        })
    }

    fn http_get(&self, url: &str) -> Result<(u16, String), String> {
        // No redirects (they could leave the granted host), a deadline, a bounded body.
        let config = ureq::Agent::config_builder()
            .max_redirects(0)
            .http_status_as_error(false)
            .timeout_global(Some(std::time::Duration::from_secs(30)))
            .build();
        let agent: ureq::Agent = config.into();
        let mut response = agent.get(url).call().map_err(|e| e.to_string())?;
        let status = response.status().as_u16();
        let body =
            response.body_mut().with_config().limit(8 * 1024 * 1024).read_to_string().map_err(|e| e.to_string())?;
        Ok((status, body))
    }

    fn audit(&self, record: serde_json::Value) -> Result<(), String> {
        let who = crate::session::actor();
        let when = crate::progress::stamp();
        let line = serde_json::json!({ "script": self.script, "who": who, "when": when, "record": record });
        let path = &self.bindings.audit;
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .map_err(|e| format!("{}: {e}", path.display()))?;
        writeln!(file, "{line}").map_err(|e| e.to_string())?;
        eprintln!("audit: {line}");
        Ok(())
    }
}

/// The workflow's hooks and steps, bound to apply's events.
pub(crate) struct WorkflowScripts {
    specs: Vec<ScriptSpec>,
    bindings: Arc<Bindings>,
    sources: Arc<SourceMap>,
}

impl WorkflowScripts {
    /// `None` when the workflow has no hook or step.
    pub(crate) fn new(specs: &[ScriptSpec], bindings: Bindings, sources: &SourceMap) -> Option<WorkflowScripts> {
        let specs: Vec<ScriptSpec> = specs.iter().filter(|s| s.kind != ScriptKind::Task).cloned().collect();
        (!specs.is_empty()).then(|| WorkflowScripts {
            specs,
            bindings: Arc::new(bindings),
            sources: Arc::new(sources.clone()),
        })
    }

    /// The scripts that run at `event`, in order: a phase's steps before its `after phase` hooks.
    fn at(&self, event: &ScriptEvent) -> Vec<&ScriptSpec> {
        let mut steps: Vec<&ScriptSpec> = match event {
            ScriptEvent::PhaseDone(phase) => {
                self.specs.iter().filter(|s| s.kind == ScriptKind::Step && s.phase.as_deref() == Some(phase)).collect()
            }
            _ => Vec::new(),
        };
        let hooks = self.specs.iter().filter(|s| {
            let Some(e) = s.event.as_ref().filter(|_| s.kind == ScriptKind::Hook) else { return false };
            match (event, e.when, &e.on) {
                (ScriptEvent::Before(op, address), HookWhen::Before, HookOn::Resource(on, target))
                | (ScriptEvent::After(op, address), HookWhen::After, HookOn::Resource(on, target)) => {
                    same_op(*op, *on)
                        && drone_script::grants::address(target).is_some_and(|t| declared_at(address) == t)
                }
                (ScriptEvent::PhaseStarts(p), HookWhen::Before, HookOn::Phase(name))
                | (ScriptEvent::PhaseDone(p), HookWhen::After, HookOn::Phase(name)) => &name.name == p,
                (ScriptEvent::Destroyed, HookWhen::After, HookOn::Destroy) => true,
                _ => false,
            }
        });
        steps.extend(hooks);
        steps
    }
}

fn same_op(op: Operation, on: ResourceOp) -> bool {
    matches!(
        (op, on),
        (Operation::Create, ResourceOp::Create)
            | (Operation::Update, ResourceOp::Update)
            | (Operation::Delete, ResourceOp::Delete)
    )
}

/// The block an address was declared by: `aws.s3.bucket.logs["a"]` is `aws.s3.bucket.logs`'s.
pub(crate) fn declared_at(address: &str) -> &str {
    address.split_once('[').map_or(address, |(block, _)| block)
}

#[async_trait::async_trait]
impl Scripts for WorkflowScripts {
    fn wants(&self, event: &ScriptEvent) -> bool {
        !self.at(event).is_empty()
    }

    async fn run(&self, event: ScriptEvent, resources: Snapshot) -> Result<(), String> {
        for spec in self.at(&event) {
            eprintln!("{}", spec.title());
            let host = self.bindings.host(&spec.title(), resources.clone());
            let spec = spec.clone();
            let output: drone_script::engine::Output = Arc::new(|line: &str| eprintln!("  | {line}"));
            let ran =
                tokio::task::spawn_blocking(move || drone_script::run::run(&spec, &[], false, host, output)).await;
            match ran {
                Ok(Ok(_)) => {}
                Ok(Err(error)) => {
                    let rendered = crate::render::render(&error, &self.sources, false);
                    eprint!("{rendered}");
                    return Err(error.to_string());
                }
                Err(panic) => return Err(format!("the script's thread stopped: {panic}")),
            }
        }
        Ok(())
    }
}
