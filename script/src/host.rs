//! The functions a script may call beyond rhai's own, and the host behind
//! them. Each checks the script's grant before it acts (resource and action),
//! then goes through [`ScriptHost`], which the CLI implements with the AWS
//! provider and state; every call is journaled with the IAM actions it needs.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use rhai::{Dynamic, Engine, EvalAltResult, Module, NativeCallContext, Position};

use crate::grants::Grants;
use crate::spec::Source;
use crate::ScriptError;

/// A function drone gives scripts.
pub struct HostFn {
    /// As called: `s3::empty_bucket`, `resource`.
    pub path: &'static str,
    /// The grant it needs on its first argument (none: always allowed).
    pub grant: Option<&'static str>,
    /// Its signature, for messages and hovers.
    pub signature: &'static str,
}

/// Every function drone gives scripts.
pub const HOST_FUNCTIONS: &[HostFn] = &[
    HostFn { path: "resource", grant: Some("read"), signature: "resource(address) -> map of its attributes in state" },
    HostFn { path: "audit", grant: None, signature: "audit(record: map): appends to the audit log" },
    HostFn {
        path: "s3::list_objects",
        grant: Some("s3.list_objects"),
        signature: "s3::list_objects(bucket) -> [#{key, version_id}]",
    },
    HostFn {
        path: "s3::empty_bucket",
        grant: Some("s3.delete_objects"),
        signature: "s3::empty_bucket(bucket) -> int (versions and delete markers)",
    },
    HostFn {
        path: "s3::delete_objects",
        grant: Some("s3.delete_objects"),
        signature: "s3::delete_objects(bucket, objects: [key or #{key, version_id}]) -> int (versions deleted)",
    },
    HostFn {
        path: "http::get",
        grant: Some("http.get"),
        signature: "http::get(url) -> #{status, body} (a host the grant names; no redirects)",
    },
    HostFn { path: "exists", grant: Some("read"), signature: "exists(address) -> bool: whether state records it" },
    HostFn {
        path: "ecr::empty_repository",
        grant: Some("ecr.batch_delete_image"),
        signature: "ecr::empty_repository(repository) -> int (images deleted)",
    },
    HostFn {
        path: "cloudfront::invalidate",
        grant: Some("cloudfront.create_invalidation"),
        signature: "cloudfront::invalidate(distribution, paths) -> invalidation id",
    },
    HostFn {
        path: "cloudfront::route_writes",
        grant: Some("cloudfront.update_distribution"),
        signature: "cloudfront::route_writes(distribution, to) -> #{changed, origin}: its write paths go to \
                    \"failover\" or \"primary\"",
    },
    HostFn {
        path: "rds::global_cluster",
        grant: Some("rds.describe_global_cluster"),
        signature: "rds::global_cluster(global, through_cluster) -> #{status, writer, writer_region, members} \
                    (asked in the cluster's region)",
    },
    HostFn {
        path: "rds::failover",
        grant: Some("rds.failover_global_cluster"),
        signature: "rds::failover(global, to_cluster, allow_data_loss) -> #{...} once `to_cluster` writes \
                    (asked in its region: works with the writer's region down)",
    },
    HostFn {
        path: "rds::switchover",
        grant: Some("rds.failover_global_cluster"),
        signature: "rds::switchover(global, to_cluster) -> #{...} once `to_cluster` writes, without data loss",
    },
    HostFn {
        path: "rds::detach",
        grant: Some("rds.remove_from_global_cluster"),
        signature: "rds::detach(global, cluster) -> #{...}: the cluster leaves and takes writes on its own",
    },
    HostFn {
        path: "efs::replication",
        grant: Some("efs.describe_replication_configurations"),
        signature: "efs::replication(replication, through_file_system) -> #{source_file_system_arn, \
                    destination_file_system_arn, status, last_replicated} or () (asked in the file system's region)",
    },
    HostFn {
        path: "efs::stop_replication",
        grant: Some("efs.delete_replication_configuration"),
        signature: "efs::stop_replication(replication, through_file_system, local_only) -> #{stopped}: the \
                    destination becomes writable (`local_only` when the other region is down)",
    },
    HostFn {
        path: "ecs::scale",
        grant: Some("ecs.update_service"),
        signature: "ecs::scale(service, count) -> #{desired, running}",
    },
    HostFn {
        path: "autoscaling::set_capacity",
        grant: Some("applicationautoscaling.register_scalable_target"),
        signature: "autoscaling::set_capacity(target, min, max) -> #{min, max}",
    },
    HostFn {
        path: "mysql::connect",
        grant: Some("mysql"),
        signature: "mysql::connect(cluster) -> db (db.query, db.execute, db.begin, db.commit, db.rollback)",
    },
];

/// Methods of the values host functions return.
pub const HOST_METHODS: &[&str] = &["query", "execute", "begin", "commit", "rollback"];

/// An AWS action a host function asks for, on a resource's address.
#[derive(Clone, Debug, PartialEq)]
pub enum AwsCall {
    /// Every object version and delete marker of a bucket.
    ListObjects {
        /// The bucket's address.
        bucket: String,
    },
    /// Deletes every object version and delete marker.
    EmptyBucket {
        /// The bucket's address.
        bucket: String,
    },
    /// Deletes these object versions: (key, version id; none for the current one).
    DeleteObjects {
        /// The bucket's address.
        bucket: String,
        /// What to delete.
        objects: Vec<(String, Option<String>)>,
    },
    /// Deletes every image.
    EmptyRepository {
        /// The repository's address.
        repository: String,
    },
    /// Invalidates paths of a distribution's cache.
    Invalidate {
        /// The distribution's address.
        distribution: String,
        /// The paths, such as `/*`.
        paths: Vec<String>,
    },
    /// Sends a distribution's write paths to one of its origins.
    RouteWrites {
        /// The distribution's address.
        distribution: String,
        /// To the failover origin, or back to the first.
        to_failover: bool,
    },
    /// Describes a global database, asking in the region of one of its clusters.
    GlobalCluster {
        /// The global database's address.
        global: String,
        /// The address of the cluster whose region is asked.
        through: String,
    },
    /// Moves a global database's writer to one of its clusters, and waits until it writes.
    MoveWriter {
        /// The global database's address.
        global: String,
        /// The address of the cluster that is to write.
        to: String,
        /// How: a failover (losing what the old writer had not replicated, if allowed) or a switchover.
        how: WriterMove,
    },
    /// Takes a cluster out of its global database: it takes writes on its own.
    Detach {
        /// The global database's address.
        global: String,
        /// The cluster's address.
        cluster: String,
    },
    /// Describes a file system replication, asking in the region of one of its file systems.
    Replication {
        /// The replication's address.
        replication: String,
        /// The address of the file system whose region is asked.
        through: String,
    },
    /// Ends a file system replication, asking in the region of one of its file systems: the
    /// destination becomes writable.
    StopReplication {
        /// The replication's address.
        replication: String,
        /// The address of the file system whose region is asked.
        through: String,
        /// Whether only that region's side is deleted (the other region is down).
        local_only: bool,
    },
    /// Sets an ECS service's desired task count.
    ScaleService {
        /// The service's address.
        service: String,
        /// Tasks wanted.
        count: u32,
    },
    /// Sets a scalable target's bounds.
    SetCapacity {
        /// The scalable target's address.
        target: String,
        /// The least capacity.
        min: u32,
        /// The most capacity.
        max: u32,
    },
}

/// How [`AwsCall::MoveWriter`] moves a global database's writer.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum WriterMove {
    /// FailoverGlobalCluster: for an outage; `allow_data_loss` when the writer's region is unreachable.
    Failover {
        /// Whether writes the old writer had not replicated may be lost.
        allow_data_loss: bool,
    },
    /// SwitchoverGlobalCluster: planned, both regions healthy, nothing lost.
    Switchover,
}

impl AwsCall {
    /// The address the call is granted on (its first argument).
    pub fn target(&self) -> &str {
        match self {
            AwsCall::EmptyBucket { bucket }
            | AwsCall::ListObjects { bucket }
            | AwsCall::DeleteObjects { bucket, .. } => bucket,
            AwsCall::EmptyRepository { repository } => repository,
            AwsCall::Invalidate { distribution, .. } | AwsCall::RouteWrites { distribution, .. } => distribution,
            AwsCall::GlobalCluster { global, .. }
            | AwsCall::MoveWriter { global, .. }
            | AwsCall::Detach { global, .. } => global,
            AwsCall::Replication { replication, .. } | AwsCall::StopReplication { replication, .. } => replication,
            AwsCall::ScaleService { service, .. } => service,
            AwsCall::SetCapacity { target, .. } => target,
        }
    }

    /// The address whose provider (region) carries the call.
    pub fn placed_at(&self) -> &str {
        match self {
            AwsCall::GlobalCluster { through, .. } => through,
            AwsCall::MoveWriter { to, .. } => to,
            AwsCall::Detach { cluster, .. } => cluster,
            AwsCall::Replication { through, .. } | AwsCall::StopReplication { through, .. } => through,
            _ => self.target(),
        }
    }
}

/// Where a database is and how to log in.
#[derive(Clone)]
pub struct DbTarget {
    /// Host name or address.
    pub host: String,
    /// TCP port.
    pub port: u16,
    /// User.
    pub user: String,
    /// Password (never printed).
    pub password: String,
    /// Database (schema) name.
    pub database: String,
}

impl std::fmt::Debug for DbTarget {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{}:{}/{}", self.user, self.host, self.port, self.database)
    }
}

/// What the world looks like to a script.
pub trait ScriptHost {
    /// A resource's attributes in state.
    fn resource(&self, address: &str) -> Result<serde_json::Value, String>;
    /// Runs an AWS action; returns its result as JSON.
    fn aws(&self, call: &AwsCall) -> Result<serde_json::Value, String>;
    /// How to reach the database of an `aws.rds.cluster`.
    fn database(&self, address: &str) -> Result<DbTarget, String>;
    /// Keeps an audit record.
    fn audit(&self, record: serde_json::Value) -> Result<(), String>;
    /// GETs `url` (its host already granted): the status and the body as text.
    fn http_get(&self, url: &str) -> Result<(u16, String), String>;
}

/// One call a script made.
#[derive(Clone, Debug, PartialEq)]
pub struct Journaled {
    /// The function.
    pub function: String,
    /// The resource it acted on.
    pub target: String,
}

/// What host functions share during one run.
pub struct Context {
    /// The host.
    pub host: Arc<dyn ScriptHost>,
    /// The script's grants.
    pub grants: Grants,
    /// The script's text, to turn positions into spans.
    pub source: Source,
    /// The first error a host function met, kept whole (rhai carries only text).
    pub failure: RefCell<Option<ScriptError>>,
    /// Calls made, in order.
    pub journal: RefCell<Vec<Journaled>>,
    /// SQL statements sent.
    pub statements: std::cell::Cell<u64>,
    /// When the script's time runs out: a database statement still running then is stopped.
    pub deadline: std::time::Instant,
    /// The script's `timeout`, for messages.
    pub timeout: std::time::Duration,
}

/// The text rhai carries for a failure kept in [`Context::failure`].
pub const HOST_FAILURE: &str = "drone:host-failure";

impl Context {
    /// Keeps `error` and returns the rhai error that unwinds the script.
    pub fn fail(&self, error: ScriptError) -> Box<EvalAltResult> {
        self.failure.borrow_mut().get_or_insert(error);
        Box::new(EvalAltResult::ErrorRuntime(HOST_FAILURE.into(), Position::NONE))
    }

    /// Checks that `function` may act on `target`; journals the call.
    pub fn permit(&self, function: &str, target: &str, pos: Position) -> Result<(), Box<EvalAltResult>> {
        let needed = HOST_FUNCTIONS.iter().find(|f| f.path == function).and_then(|f| f.grant);
        if !needed.is_none_or(|kind| self.grants.allows(kind, Some(target))) {
            let grant = needed.unwrap_or_default().to_string();
            let help = Some(format!("add `{grant}({target})` to the script's `grants`, if it should do this"));
            return Err(self.fail(ScriptError::NotGranted {
                function: function.into(),
                grant,
                on: format!(" on {target}"),
                span: self.source.span(pos),
                help,
            }));
        }
        self.journal.borrow_mut().push(Journaled { function: function.into(), target: target.into() });
        Ok(())
    }

    /// The error of a script whose time ran out while the host worked for it.
    pub fn out_of_time(&self, pos: Position) -> Box<EvalAltResult> {
        self.fail(ScriptError::Limit {
            limit: "time",
            detail: format!(" ({})", crate::run::humane(self.timeout)),
            span: self.source.span(pos),
        })
    }

    /// A count a script passes (tasks, capacity): 0 to 10,000.
    fn count(&self, function: &str, n: i64, pos: Position) -> Result<u32, Box<EvalAltResult>> {
        u32::try_from(n).ok().filter(|n| *n <= 10_000).ok_or_else(|| {
            let message = format!("{function}: {n} is not a count from 0 to 10000");
            self.fail(ScriptError::Failed { message, span: self.source.span(pos) })
        })
    }

    fn aws(&self, function: &str, call: AwsCall, pos: Position) -> Result<Dynamic, Box<EvalAltResult>> {
        self.host.aws(&call).map(|v| to_dynamic(&v)).map_err(|reason| {
            self.fail(ScriptError::Host { function: function.into(), reason, span: self.source.span(pos) })
        })
    }
}

/// An object version to delete: a key (its current version), or a map with
/// `key` and `version_id` (`()` for the current version).
fn object_version(value: &Dynamic) -> Option<(String, Option<String>)> {
    if let Some(key) = value.clone().try_cast::<rhai::ImmutableString>() {
        return Some((key.to_string(), None));
    }
    let map = value.clone().try_cast::<rhai::Map>()?;
    let key = map.get("key")?.clone().try_cast::<rhai::ImmutableString>()?.to_string();
    let version = match map.get("version_id") {
        None => None,
        Some(v) if v.is_unit() => None,
        Some(v) => Some(v.clone().try_cast::<rhai::ImmutableString>()?.to_string()),
    };
    Some((key, version))
}

/// Registers every host function on `engine`, bound to `context`.
pub fn register(engine: &mut Engine, context: Rc<Context>) {
    let c = context.clone();
    engine.register_fn(
        "resource",
        move |call: NativeCallContext, address: &str| -> Result<Dynamic, Box<EvalAltResult>> {
            c.permit("resource", address, call.call_position())?;
            c.host.resource(address).map(|v| to_dynamic(&v)).map_err(|reason| {
                c.fail(ScriptError::Host {
                    function: "resource".into(),
                    reason,
                    span: c.source.span(call.call_position()),
                })
            })
        },
    );
    let c = context.clone();
    engine.register_fn("audit", move |call: NativeCallContext, record: rhai::Map| -> Result<(), Box<EvalAltResult>> {
        c.host.audit(to_json(&Dynamic::from_map(record))).map_err(|reason| {
            c.fail(ScriptError::Host { function: "audit".into(), reason, span: c.source.span(call.call_position()) })
        })
    });

    let mut s3 = Module::new();
    let c = context.clone();
    s3.set_native_fn("list_objects", move |call: NativeCallContext, bucket: &str| {
        c.permit("s3::list_objects", bucket, call.call_position())?;
        c.aws("s3::list_objects", AwsCall::ListObjects { bucket: bucket.into() }, call.call_position())
    });
    let c = context.clone();
    s3.set_native_fn("empty_bucket", move |call: NativeCallContext, bucket: &str| {
        c.permit("s3::empty_bucket", bucket, call.call_position())?;
        c.aws("s3::empty_bucket", AwsCall::EmptyBucket { bucket: bucket.into() }, call.call_position())
    });
    let c = context.clone();
    s3.set_native_fn("delete_objects", move |call: NativeCallContext, bucket: &str, objects: rhai::Array| {
        let pos = call.call_position();
        c.permit("s3::delete_objects", bucket, pos)?;
        let objects = objects.iter().map(object_version).collect::<Option<Vec<_>>>().ok_or_else(|| {
            let message =
                "s3::delete_objects takes keys, or maps with `key` and `version_id` as s3::list_objects gives";
            c.fail(ScriptError::Failed { message: message.into(), span: c.source.span(pos) })
        })?;
        c.aws("s3::delete_objects", AwsCall::DeleteObjects { bucket: bucket.into(), objects }, pos)
    });
    engine.register_static_module("s3", s3.into());

    let c = context.clone();
    engine.register_fn("exists", move |call: NativeCallContext, address: &str| -> Result<bool, Box<EvalAltResult>> {
        c.permit("exists", address, call.call_position())?;
        Ok(c.host.resource(address).is_ok())
    });

    let mut http = Module::new();
    let c = context.clone();
    http.set_native_fn("get", move |call: NativeCallContext, url: &str| -> Result<Dynamic, Box<EvalAltResult>> {
        let pos = call.call_position();
        let host = authority(url).ok_or_else(|| {
            c.fail(ScriptError::Failed { message: format!("`{url}` is not an http(s) URL"), span: c.source.span(pos) })
        })?;
        if !c.grants.allows_host(Some(&host)) {
            return Err(c.fail(ScriptError::NotGranted {
                function: "http::get".into(),
                grant: "http.get".into(),
                on: format!(" for {host}"),
                span: c.source.span(pos),
                help: Some(format!("add `http.get(hosts = [\"{host}\"])` to the script's `grants`, if it should")),
            }));
        }
        c.journal.borrow_mut().push(Journaled { function: "http::get".into(), target: host });
        let (status, body) = c.host.http_get(url).map_err(|reason| {
            c.fail(ScriptError::Host { function: "http::get".into(), reason, span: c.source.span(pos) })
        })?;
        let mut answer = rhai::Map::new();
        answer.insert("status".into(), i64::from(status).into());
        answer.insert("body".into(), body.into());
        Ok(answer.into())
    });
    engine.register_static_module("http", http.into());

    let mut ecr = Module::new();
    let c = context.clone();
    ecr.set_native_fn("empty_repository", move |call: NativeCallContext, repository: &str| {
        c.permit("ecr::empty_repository", repository, call.call_position())?;
        c.aws("ecr::empty_repository", AwsCall::EmptyRepository { repository: repository.into() }, call.call_position())
    });
    engine.register_static_module("ecr", ecr.into());

    let mut cloudfront = Module::new();
    let c = context.clone();
    cloudfront.set_native_fn("invalidate", move |call: NativeCallContext, distribution: &str, paths: rhai::Array| {
        c.permit("cloudfront::invalidate", distribution, call.call_position())?;
        let paths = paths.iter().map(|p| p.to_string()).collect();
        let request = AwsCall::Invalidate { distribution: distribution.into(), paths };
        c.aws("cloudfront::invalidate", request, call.call_position())
    });
    let c = context.clone();
    cloudfront.set_native_fn("route_writes", move |call: NativeCallContext, distribution: &str, to: &str| {
        let pos = call.call_position();
        c.permit("cloudfront::route_writes", distribution, pos)?;
        let to_failover = match to {
            "failover" => true,
            "primary" => false,
            other => {
                let message =
                    format!("cloudfront::route_writes sends writes to \"failover\" or \"primary\", not \"{other}\"");
                return Err(c.fail(ScriptError::Failed { message, span: c.source.span(pos) }));
            }
        };
        let request = AwsCall::RouteWrites { distribution: distribution.into(), to_failover };
        c.aws("cloudfront::route_writes", request, pos)
    });
    engine.register_static_module("cloudfront", cloudfront.into());

    register_failover(engine, &context);
    crate::mysql::register(engine, context);
}

/// The functions that move a platform between regions: a global database's
/// writer, and the capacity of the region that takes over.
fn register_failover(engine: &mut Engine, context: &Rc<Context>) {
    let mut rds = Module::new();
    let c = context.clone();
    rds.set_native_fn("global_cluster", move |call: NativeCallContext, global: &str, through: &str| {
        c.permit("rds::global_cluster", global, call.call_position())?;
        let request = AwsCall::GlobalCluster { global: global.into(), through: through.into() };
        c.aws("rds::global_cluster", request, call.call_position())
    });
    let c = context.clone();
    rds.set_native_fn("failover", move |call: NativeCallContext, global: &str, to: &str, allow_data_loss: bool| {
        c.permit("rds::failover", global, call.call_position())?;
        let how = WriterMove::Failover { allow_data_loss };
        c.aws("rds::failover", AwsCall::MoveWriter { global: global.into(), to: to.into(), how }, call.call_position())
    });
    let c = context.clone();
    rds.set_native_fn("switchover", move |call: NativeCallContext, global: &str, to: &str| {
        c.permit("rds::switchover", global, call.call_position())?;
        let request = AwsCall::MoveWriter { global: global.into(), to: to.into(), how: WriterMove::Switchover };
        c.aws("rds::switchover", request, call.call_position())
    });
    let c = context.clone();
    rds.set_native_fn("detach", move |call: NativeCallContext, global: &str, cluster: &str| {
        c.permit("rds::detach", global, call.call_position())?;
        let request = AwsCall::Detach { global: global.into(), cluster: cluster.into() };
        c.aws("rds::detach", request, call.call_position())
    });
    engine.register_static_module("rds", rds.into());

    let mut efs = Module::new();
    let c = context.clone();
    efs.set_native_fn("replication", move |call: NativeCallContext, replication: &str, through: &str| {
        c.permit("efs::replication", replication, call.call_position())?;
        let request = AwsCall::Replication { replication: replication.into(), through: through.into() };
        c.aws("efs::replication", request, call.call_position())
    });
    let c = context.clone();
    efs.set_native_fn(
        "stop_replication",
        move |call: NativeCallContext, replication: &str, through: &str, local_only: bool| {
            c.permit("efs::stop_replication", replication, call.call_position())?;
            let request =
                AwsCall::StopReplication { replication: replication.into(), through: through.into(), local_only };
            c.aws("efs::stop_replication", request, call.call_position())
        },
    );
    engine.register_static_module("efs", efs.into());

    let mut ecs = Module::new();
    let c = context.clone();
    ecs.set_native_fn("scale", move |call: NativeCallContext, service: &str, count: i64| {
        let pos = call.call_position();
        c.permit("ecs::scale", service, pos)?;
        let count = c.count("ecs::scale", count, pos)?;
        c.aws("ecs::scale", AwsCall::ScaleService { service: service.into(), count }, pos)
    });
    engine.register_static_module("ecs", ecs.into());

    let mut autoscaling = Module::new();
    let c = context.clone();
    autoscaling.set_native_fn("set_capacity", move |call: NativeCallContext, target: &str, min: i64, max: i64| {
        let pos = call.call_position();
        c.permit("autoscaling::set_capacity", target, pos)?;
        let (min, max) =
            (c.count("autoscaling::set_capacity", min, pos)?, c.count("autoscaling::set_capacity", max, pos)?);
        c.aws("autoscaling::set_capacity", AwsCall::SetCapacity { target: target.into(), min, max }, pos)
    });
    engine.register_static_module("autoscaling", autoscaling.into());
}

/// `host` or `host:port` of an `http://` or `https://` URL, lower case; a
/// default port (80, 443) is left out, as grants write hosts.
pub fn authority(url: &str) -> Option<String> {
    let (scheme, rest) = url.split_once("://")?;
    let default = match scheme.to_ascii_lowercase().as_str() {
        "http" => ":80",
        "https" => ":443",
        _ => return None,
    };
    let authority = rest.split(['/', '?', '#']).next()?.to_ascii_lowercase();
    // No credentials in URLs: `user@host` would let the text before `@` pass for the host.
    if authority.is_empty() || authority.contains('@') {
        return None;
    }
    Some(authority.strip_suffix(default).unwrap_or(&authority).to_string())
}

/// JSON to a rhai value.
pub fn to_dynamic(value: &serde_json::Value) -> Dynamic {
    match value {
        serde_json::Value::Null => Dynamic::UNIT,
        serde_json::Value::Bool(b) => (*b).into(),
        serde_json::Value::Number(n) => match n.as_i64() {
            Some(i) => i.into(),
            None => n.as_f64().unwrap_or_default().into(),
        },
        serde_json::Value::String(s) => s.clone().into(),
        serde_json::Value::Array(items) => items.iter().map(to_dynamic).collect::<rhai::Array>().into(),
        serde_json::Value::Object(map) => {
            map.iter().map(|(k, v)| (k.as_str().into(), to_dynamic(v))).collect::<rhai::Map>().into()
        }
    }
}

/// A rhai value to JSON (what has no JSON form becomes its text).
pub fn to_json(value: &Dynamic) -> serde_json::Value {
    if value.is_unit() {
        serde_json::Value::Null
    } else if let Ok(b) = value.as_bool() {
        b.into()
    } else if let Ok(i) = value.as_int() {
        i.into()
    } else if let Ok(f) = value.as_float() {
        serde_json::Number::from_f64(f).map_or(serde_json::Value::Null, Into::into)
    } else if value.is_string() {
        value.to_string().into()
    } else if let Some(items) = value.read_lock::<rhai::Array>() {
        items.iter().map(to_json).collect::<Vec<_>>().into()
    } else if let Some(map) = value.read_lock::<rhai::Map>() {
        map.iter().map(|(k, v)| (k.to_string(), to_json(v))).collect::<serde_json::Map<_, _>>().into()
    } else {
        value.to_string().into()
    }
}

#[cfg(test)]
mod tests {
    use super::authority;

    #[test]
    fn authorities_are_what_grants_write() {
        assert_eq!(authority("https://API.example.com/v1?x=1").as_deref(), Some("api.example.com"));
        assert_eq!(authority("https://api.example.com:443/").as_deref(), Some("api.example.com"));
        assert_eq!(authority("http://127.0.0.1:8080/x").as_deref(), Some("127.0.0.1:8080"));
        assert_eq!(authority("http://evil.example@api.example.com/"), None, "credentials are refused");
        assert_eq!(authority("file:///etc/passwd"), None);
        assert_eq!(authority("api.example.com"), None);
    }
}
