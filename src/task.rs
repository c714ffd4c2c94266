//! `drone task FILE NAME`: runs a task where drone runs, against the
//! resources state records. Its host reads state, calls AWS through the
//! provider, reaches databases at their endpoint (or a `--tunnel`) with the
//! workflow's credentials, and appends audit records beside the workflow.

use std::collections::BTreeMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use drone_engine::functions::CallContext;
use drone_engine::state::State;
use drone_engine::value::Value;
use drone_lang::ast::ScriptKind;
use drone_lang::Catalog;
use drone_script::host::{AwsCall, DbTarget, ScriptHost};
use drone_stdlib::aws::AwsProvider;

use crate::exit::Exit;
use crate::render::print_all;

/// What `drone task` was asked.
pub(crate) struct TaskArgs<'a> {
    pub(crate) file: &'a Path,
    pub(crate) name: &'a str,
    pub(crate) args: &'a [String],
    pub(crate) dry_run: bool,
    pub(crate) tunnels: &'a [String],
}

/// Runs the task and reports how it ended.
pub(crate) async fn task(t: TaskArgs<'_>, common: &crate::cli::Common, catalog: &Catalog) -> Result<Exit, Exit> {
    let session = crate::cli::session(t.file, common, catalog, false).await?;
    let tasks: Vec<&drone_script::ScriptSpec> =
        session.loaded.scripts.iter().filter(|s| s.kind == ScriptKind::Task).collect();
    let Some(spec) = tasks.iter().find(|s| s.name == t.name).copied() else {
        let names: Vec<&str> = tasks.iter().map(|s| s.name.as_str()).collect();
        let hint = drone_lang::suggest::closest(t.name, names.iter().copied())
            .map(|n| format!("did you mean `{n}`?"))
            .unwrap_or_else(|| {
                format!("the workflow's tasks: {}", if names.is_empty() { "none".into() } else { names.join(", ") })
            });
        eprintln!("error: {} declares no task `{}`\n  help: {hint}", t.file.display(), t.name);
        return Err(Exit::Usage);
    };
    let args = t
        .args
        .iter()
        .map(|a| match a.split_once('=') {
            Some((k, v)) if !k.trim().is_empty() => Ok((k.trim().to_string(), v.to_string())),
            _ => {
                eprintln!("error: `--arg {a}` must be written NAME=VALUE");
                Err(Exit::Usage)
            }
        })
        .collect::<Result<Vec<_>, _>>()?;
    let tunnels = parse_tunnels(t.tunnels)?;
    let state = crate::cli::load_state(&session).await?;
    let mut providers = BTreeMap::new();
    for (name, config) in &session.loaded.model.providers {
        providers.insert(name.clone(), Arc::new(AwsProvider::connect(&config.settings, None).await));
    }
    let databases = databases(&session, catalog, &state)?;
    let host = Arc::new(TaskHost {
        state,
        providers,
        runtime: tokio::runtime::Handle::current(),
        tunnels,
        databases,
        audit: audit_path(t.file),
        task: spec.name.clone(),
    });
    eprintln!("task {}{}", spec.name, if t.dry_run { " (dry run: nothing is changed)" } else { "" });
    let spec = spec.clone();
    let dry_run = t.dry_run;
    let output: drone_script::engine::Output = Arc::new(|line: &str| eprintln!("  | {line}"));
    let outcome =
        tokio::task::spawn_blocking(move || drone_script::run::run(&spec, &args, dry_run, host, output)).await;
    match outcome {
        Ok(Ok(report)) => {
            if !report.result.is_null() {
                println!("{}", serde_json::to_string_pretty(&report.result).unwrap_or_default());
            }
            eprintln!(
                "task {} finished: {} SQL statements, {} host calls",
                t.name,
                report.statements,
                report.journal.len()
            );
            Ok(Exit::Success)
        }
        Ok(Err(error)) => {
            print_all(std::slice::from_ref(&error), &session.loaded.program.sources);
            Ok(match error {
                e if e.is_refusal() => Exit::ScriptRefused,
                drone_script::ScriptError::Database { .. } | drone_script::ScriptError::Host { .. } => Exit::Execution,
                drone_script::ScriptError::Argument { .. } => Exit::Usage,
                drone_script::ScriptError::Syntax { .. } | drone_script::ScriptError::UnknownFunction { .. } => {
                    Exit::Language
                }
                _ => Exit::ScriptFailed,
            })
        }
        Err(panic) => {
            eprintln!("error: the task's thread stopped: {panic}");
            Ok(Exit::Internal)
        }
    }
}

/// `--tunnel ADDRESS=HOST:PORT`: reach a database through a local port.
fn parse_tunnels(raw: &[String]) -> Result<BTreeMap<String, (String, u16)>, Exit> {
    raw.iter()
        .map(|t| {
            let parsed = t.split_once('=').and_then(|(address, at)| {
                let (host, port) = at.rsplit_once(':')?;
                Some((address.to_string(), (host.to_string(), port.parse().ok()?)))
            });
            parsed.ok_or_else(|| {
                eprintln!("error: `--tunnel {t}` must be written ADDRESS=HOST:PORT, e.g. aws.rds.cluster.ghost=127.0.0.1:3307");
                Exit::Usage
            })
        })
        .collect()
}

/// Credentials of every database cluster, from the workflow (the password
/// through `secret(...)`, resolved now and kept in memory only).
fn databases(
    session: &crate::cli::Session,
    catalog: &Catalog,
    state: &State,
) -> Result<BTreeMap<String, BTreeMap<String, Value>>, Exit> {
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
            if ["master_username", "master_password", "database_name", "port"].contains(&name) {
                match evaluator.eval(&attr.value, &instance.scope) {
                    Ok(value) => {
                        settings.insert(name.to_string(), value);
                    }
                    Err(e) => {
                        print_all(std::slice::from_ref(&e), &session.loaded.program.sources);
                        return Err(Exit::Language);
                    }
                }
            }
        }
        out.insert(instance.address.clone(), settings);
    }
    Ok(out)
}

/// Audit records go beside the workflow, in `.drone/audit.jsonl`.
fn audit_path(file: &Path) -> PathBuf {
    let dir = file.parent().filter(|p| !p.as_os_str().is_empty()).map_or_else(|| PathBuf::from("."), Path::to_path_buf);
    dir.join(".drone").join("audit.jsonl")
}

struct TaskHost {
    state: State,
    providers: BTreeMap<String, Arc<AwsProvider>>,
    runtime: tokio::runtime::Handle,
    tunnels: BTreeMap<String, (String, u16)>,
    databases: BTreeMap<String, BTreeMap<String, Value>>,
    audit: PathBuf,
    task: String,
}

impl TaskHost {
    fn record(&self, address: &str) -> Result<&drone_engine::state::ResourceState, String> {
        self.state.resources.get(address).ok_or_else(|| format!("{address} is not in state: run the workflow first"))
    }
}

impl ScriptHost for TaskHost {
    fn resource(&self, address: &str) -> Result<serde_json::Value, String> {
        let record = self.record(address)?;
        let mut attrs: serde_json::Map<String, serde_json::Value> =
            record.attributes.iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
        attrs.insert("id".into(), record.id.clone().into());
        Ok(attrs.into())
    }

    fn aws(&self, call: &AwsCall) -> Result<serde_json::Value, String> {
        let (AwsCall::EmptyBucket { bucket } | AwsCall::ListObjects { bucket }) = call;
        let record = self.record(bucket)?;
        let provider = self.providers.get(&record.provider).ok_or("the bucket's provider is not configured")?.clone();
        let id = record.id.clone();
        match call {
            AwsCall::EmptyBucket { .. } => self
                .runtime
                .block_on(provider.empty_bucket(&id))
                .map(|n| serde_json::Value::from(n as u64))
                .map_err(|e| e.to_string()),
            AwsCall::ListObjects { .. } => self
                .runtime
                .block_on(provider.list_object_versions(&id))
                .map(|objects| {
                    objects
                        .into_iter()
                        .map(|(key, version)| serde_json::json!({ "key": key, "version_id": version }))
                        .collect()
                })
                .map_err(|e| e.to_string()),
        }
    }

    fn database(&self, address: &str) -> Result<DbTarget, String> {
        let settings = self.databases.get(address).ok_or_else(|| format!("{address} is not declared"))?;
        let text = |name: &str| match settings.get(name) {
            Some(Value::Secret(s)) => s.expose().map(String::from),
            Some(Value::String(s)) => Some(s.clone()),
            _ => None,
        };
        let (host, port) = match self.tunnels.get(address) {
            Some((host, port)) => (host.clone(), *port),
            None => {
                let record = self.record(address)?;
                let endpoint = match record.attributes.get("endpoint") {
                    Some(Value::String(e)) => e.clone(),
                    _ => return Err(format!("{address} has no endpoint in state")),
                };
                let port = match settings.get("port") {
                    Some(Value::Number(n)) => *n as u16,
                    _ => 3306,
                };
                (endpoint, port)
            }
        };
        Ok(DbTarget {
            host,
            port,
            user: text("master_username").ok_or("the cluster has no master_username")?,
            password: text("master_password").unwrap_or_default(),
            database: text("database_name").unwrap_or_default(),
        })
    }

    fn audit(&self, record: serde_json::Value) -> Result<(), String> {
        let who = std::env::var("DRONE_ACTOR").or_else(|_| std::env::var("USER")).unwrap_or_else(|_| "unknown".into());
        let when = humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string();
        let line = serde_json::json!({ "task": self.task, "who": who, "when": when, "record": record });
        if let Some(dir) = self.audit.parent() {
            std::fs::create_dir_all(dir).map_err(|e| e.to_string())?;
        }
        let mut file = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&self.audit)
            .map_err(|e| format!("{}: {e}", self.audit.display()))?;
        writeln!(file, "{line}").map_err(|e| e.to_string())?;
        eprintln!("audit: {line}");
        Ok(())
    }
}
