//! Recorded state: what drone created, with ids and attributes. Serde JSON
//! with a schema version and a serial. The local backend keeps a snapshot,
//! written atomically (temp file, fsync, rename, fsync of the directory) with
//! mode 0600, and an operation log beside it (`log`), to which every single
//! resource operation is appended and fsynced before the apply moves on: a
//! crash loses nothing already done, and saving costs the size of the change.

use std::collections::{BTreeMap, BTreeSet};
use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use crate::value::{Attributes, Value};

mod backend;
mod log;
mod moves;
mod release;

pub use backend::{Backend, Location, S3Location};
pub use moves::{apply_moves, move_recorded, MoveError};
pub use release::{Release, ReleaseOutcome, ReleaseStep};

/// The state file format's version; bumped on incompatible changes.
pub const SCHEMA_VERSION: u32 = 1;

/// The whole recorded state of one workflow.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct State {
    /// Format version ([`SCHEMA_VERSION`]).
    pub version: u32,
    /// Incremented on every write.
    pub serial: u64,
    /// A random id fixed when the state is created (also salts secret fingerprints).
    pub lineage: String,
    /// The workflow's name.
    pub workflow: String,
    /// Resources by address.
    pub resources: BTreeMap<String, ResourceState>,
    /// Outputs of the last successful run.
    #[serde(default)]
    pub outputs: BTreeMap<String, serde_json::Value>,
    /// Operations started and not known to have finished, by address: what a
    /// killed run was doing. The next refresh resolves each (`refresh.rs`).
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub pending: BTreeMap<String, Intent>,
    /// Releases (`drone release`), oldest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub releases: Vec<Release>,
}

/// An operation on one resource.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Operation {
    /// Create it.
    Create,
    /// Change it in place.
    Update,
    /// Delete it.
    Delete,
}

impl Operation {
    /// The verb, for progress lines.
    pub fn verb(self) -> &'static str {
        match self {
            Operation::Create => "create",
            Operation::Update => "update",
            Operation::Delete => "delete",
        }
    }
}

/// An operation recorded (and on disk) before its first call is made, so
/// that a run killed while it is in flight leaves a trace to look up.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Intent {
    /// What is being done.
    pub operation: Operation,
    /// The resource type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The provider instance making the call.
    pub provider: String,
    /// The resource's phase.
    pub phase: String,
    /// What the resource depends on.
    pub dependencies: BTreeSet<String>,
    /// The idempotency token sent with the call, derived from the lineage,
    /// the address and this intent's serial (its generation).
    pub token: String,
    /// When the operation started, in seconds since the Unix epoch.
    pub started: u64,
    /// The configuration sent (secrets as fingerprints).
    #[serde(serialize_with = "ser_attrs", deserialize_with = "de_attrs")]
    pub attributes: Attributes,
}

impl Intent {
    /// The idempotency token of an operation on `address` recorded at `serial`
    /// of the state with `lineage`: the same for every retry of that
    /// operation, different for every later one.
    pub fn token(lineage: &str, address: &str, serial: u64) -> String {
        use sha2::{Digest, Sha256};
        let mut h = Sha256::new();
        for part in [lineage, address, &serial.to_string()] {
            h.update(part.as_bytes());
            h.update([0]);
        }
        h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
    }
}

/// One recorded resource.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct ResourceState {
    /// The resource type.
    #[serde(rename = "type")]
    pub type_name: String,
    /// The provider's id for it.
    pub id: String,
    /// The provider instance that manages it.
    pub provider: String,
    /// The phase it belongs to.
    pub phase: String,
    /// What it depends on (deletes run in reverse).
    pub dependencies: BTreeSet<String>,
    /// Set when creation failed part-way: the resource exists but may be
    /// misconfigured, so the next plan replaces it.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tainted: bool,
    /// Read, not managed: a `data` block's resource, which drone never changes or deletes.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub data: bool,
    /// Attributes: configuration and computed values (secrets as fingerprints).
    #[serde(serialize_with = "ser_attrs", deserialize_with = "de_attrs")]
    pub attributes: Attributes,
}

impl ResourceState {
    /// What state records of `instance`'s resource `id`: managed, not tainted.
    pub fn of(instance: &crate::model::Instance, id: String, attributes: Attributes) -> ResourceState {
        ResourceState {
            type_name: instance.type_name.clone(),
            id,
            provider: instance.provider.clone(),
            phase: instance.phase.clone(),
            dependencies: instance.deps.clone(),
            tainted: false,
            data: false,
            attributes,
        }
    }
}

fn ser_attrs<S: serde::Serializer>(attrs: &Attributes, s: S) -> Result<S::Ok, S::Error> {
    let json: serde_json::Map<String, serde_json::Value> =
        attrs.iter().map(|(k, v)| (k.clone(), v.to_json())).collect();
    json.serialize(s)
}

fn de_attrs<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Attributes, D::Error> {
    let json = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
    Ok(json.iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect())
}

/// Why state could not be read or written.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum StateError {
    /// Reading or writing the file failed.
    #[error("cannot {action} state file {path}: {source}")]
    #[diagnostic(code("drone::state::io"), help("check the path and its permissions"))]
    Io {
        /// "read" or "write".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
    /// The file is not valid state.
    #[error("state file {path} is not valid: {reason}")]
    #[diagnostic(
        code("drone::state::corrupt"),
        help("restore it from a backup; drone never rewrites a state file it cannot read")
    )]
    Corrupt {
        /// The file.
        path: PathBuf,
        /// What is wrong.
        reason: String,
    },
    /// `drone state migrate` moved the state elsewhere; a tombstone names where.
    #[error("the state at {location} was moved to {to} (`drone state migrate`); nothing was read or changed")]
    #[diagnostic(
        code("drone::state::moved"),
        help("run with `--state {to}`, or set the workflow header's `state` to name it")
    )]
    Moved {
        /// Where the command looked.
        location: String,
        /// Where the state is now.
        to: String,
    },
    /// The file was written by a newer drone.
    #[error("state file {path} has format version {found}; this drone reads version {SCHEMA_VERSION}")]
    #[diagnostic(code("drone::state::version"), help("upgrade drone"))]
    Version {
        /// The file.
        path: PathBuf,
        /// Its version.
        found: u32,
    },
    /// Another writer changed the state since this run read it: writing would
    /// overwrite a newer serial.
    #[error("state at {location} was changed by another writer since it was read (this run holds serial {serial})")]
    #[diagnostic(
        code("drone::state::conflict"),
        help("nothing was overwritten; another drone wrote the state although this run held the lock (was the lock removed by hand?); run again to start from the newer state")
    )]
    Conflict {
        /// Where the state is.
        location: String,
        /// The serial this run last read or wrote.
        serial: u64,
    },
    /// This run's lock was taken over or removed while it ran: it stops
    /// before writing, so its successor's state is not overwritten.
    #[error("this run lost the lock of the state at {location} (taken over or removed while it ran); nothing more was written")]
    #[diagnostic(
        code("drone::state::lock_lost"),
        help("another drone may now be working on this state; its pending operations are recorded as intents, and the next run resolves them")
    )]
    LockLost {
        /// Where the state is.
        location: String,
    },
    /// The state bucket is in another region than the one configured.
    #[error("state bucket of {location} is in {actual}, not in {configured}")]
    #[diagnostic(
        code("drone::state::wrong_region"),
        help("set `region = \"{actual}\"` in the workflow header's `state` (or AWS_REGION for `--state s3://...`)")
    )]
    WrongRegion {
        /// Where the state is.
        location: String,
        /// The region drone was told.
        configured: String,
        /// The bucket's region.
        actual: String,
    },
    /// A remote store refused or failed a read or write.
    #[error("cannot {action} state at {location}: {reason}")]
    #[diagnostic(
        code("drone::state::remote"),
        help("check the bucket, its region, the credentials and AWS_ENDPOINT_URL")
    )]
    Remote {
        /// "read" or "write".
        action: &'static str,
        /// Where the state is.
        location: String,
        /// What the store said.
        reason: String,
    },
    /// The state belongs to another workflow.
    #[error("state file {path} belongs to workflow `{found}`, not `{expected}`")]
    #[diagnostic(code("drone::state::workflow"), help("pass the right state file with --state"))]
    OtherWorkflow {
        /// The file.
        path: PathBuf,
        /// The workflow in the file.
        found: String,
        /// The workflow being run.
        expected: String,
    },
}

impl State {
    /// A fresh, empty state for `workflow`.
    pub fn new(workflow: &str) -> State {
        State {
            version: SCHEMA_VERSION,
            serial: 0,
            lineage: new_lineage(),
            workflow: workflow.to_string(),
            resources: BTreeMap::new(),
            outputs: BTreeMap::new(),
            pending: BTreeMap::new(),
            releases: Vec::new(),
        }
    }
}

fn new_lineage() -> String {
    use sha2::{Digest, Sha256};
    let now = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    let mut h = Sha256::new();
    h.update(now.as_nanos().to_le_bytes());
    h.update(std::process::id().to_le_bytes());
    h.update(format!("{:p}", &now).as_bytes());
    h.finalize().iter().take(16).map(|b| format!("{b:02x}")).collect()
}

/// What `drone state migrate` leaves where a state was: the place it went.
/// Reading it is an error naming that place, so a workflow still pointed at
/// the old place never plans against an empty state (and creates everything
/// again).
#[derive(Debug, Serialize, Deserialize)]
pub struct Tombstone {
    /// Where the state is now (`--state` syntax).
    pub moved_to: String,
    /// The workflow it belongs to.
    pub workflow: String,
    /// Its lineage.
    pub lineage: String,
    /// Its serial when it moved.
    pub serial: u64,
}

impl Tombstone {
    /// The tombstone of `state`, moved to `to`, as it is written.
    pub fn text(state: &State, to: &str) -> String {
        let tombstone = Tombstone {
            moved_to: to.to_string(),
            workflow: state.workflow.clone(),
            lineage: state.lineage.clone(),
            serial: state.serial,
        };
        serde_json::to_string_pretty(&tombstone).unwrap_or_default() + "\n"
    }
}

/// The state in `text`, read from `location`, checked to be of a format
/// this drone reads and of `workflow`.
pub fn parse_state(text: &str, location: &str, workflow: &str) -> Result<State, StateError> {
    let path = PathBuf::from(location);
    let corrupt = |e: serde_json::Error| StateError::Corrupt { path: path.clone(), reason: e.to_string() };
    let version: u32 = serde_json::from_str::<serde_json::Value>(text)
        .map_err(corrupt)?
        .get("version")
        .and_then(serde_json::Value::as_u64)
        .unwrap_or(0) as u32;
    if version > SCHEMA_VERSION {
        return Err(StateError::Version { path, found: version });
    }
    if let Some(to) = serde_json::from_str::<Tombstone>(text).ok().map(|t| t.moved_to) {
        return Err(StateError::Moved { location: location.to_string(), to });
    }
    let state: State = serde_json::from_str(text).map_err(corrupt)?;
    if state.workflow != workflow {
        return Err(StateError::OtherWorkflow { path, found: state.workflow, expected: workflow.into() });
    }
    Ok(state)
}

/// A state file on local disk.
#[derive(Clone, Debug)]
pub struct LocalBackend {
    /// The state file.
    pub path: PathBuf,
    /// Raised when the lock this backend writes under is lost: writes stop.
    pub lost: crate::lock::LockLost,
}

impl LocalBackend {
    /// The state at `path`, written under no lock of its own (see [`LocalBackend::watching`]).
    pub fn new(path: impl Into<PathBuf>) -> LocalBackend {
        LocalBackend { path: path.into(), lost: Default::default() }
    }

    /// The same backend, refusing to write once `lost` is raised.
    pub fn watching(self, lost: crate::lock::LockLost) -> LocalBackend {
        LocalBackend { lost, ..self }
    }

    /// The operation log beside the state file (`<state>.log`).
    pub fn log_path(&self) -> PathBuf {
        log::path_of(&self.path)
    }

    /// Reads the state, or a fresh one when the file does not exist.
    pub fn load(&self, workflow: &str) -> Result<State, StateError> {
        let text = match std::fs::read_to_string(&self.path) {
            Ok(t) => t,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(State::new(workflow)),
            Err(source) => return Err(StateError::Io { action: "read", path: self.path.clone(), source }),
        };
        let mut state = parse_state(&text, &self.path.display().to_string(), workflow)?;
        log::replay(&log::path_of(&self.path), &mut state)?;
        Ok(state)
    }

    /// Records what `state` now holds at `address` (its resource and its
    /// pending intent): appended to the operation log and on disk before this
    /// returns, bumping the serial. A state without a snapshot yet, or whose
    /// log has grown large, is written whole instead.
    pub fn record(&self, state: &mut State, address: &str) -> Result<(), StateError> {
        self.record_many(state, &[address])
    }

    /// [`LocalBackend::record`] for several addresses with one write and one
    /// wait for the disk (the intents of operations started together).
    pub fn record_many(&self, state: &mut State, addresses: &[&str]) -> Result<(), StateError> {
        if addresses.is_empty() {
            return Ok(());
        }
        if self.lost.is_set() {
            return Err(StateError::LockLost { location: self.path.display().to_string() });
        }
        if !self.path.exists() {
            return self.save(state);
        }
        let records: Vec<log::Record> = addresses
            .iter()
            .enumerate()
            .map(|(i, address)| log::Record {
                serial: state.serial + 1 + i as u64,
                address: address.to_string(),
                resource: state.resources.get(*address).cloned(),
                pending: state.pending.get(*address).cloned(),
            })
            .collect();
        let size = log::append(&log::path_of(&self.path), &records)?;
        state.serial += records.len() as u64;
        if size > log::COMPACT_AFTER_BYTES {
            self.save(state)?;
        }
        Ok(())
    }

    /// Removes temporary snapshots a killed writer left beside the state (the
    /// lock makes this process the only writer, and a temporary file is never
    /// the state until it is renamed).
    fn remove_stale_temporaries(&self, dir: &Path) {
        let Some(name) = self.path.file_name().map(|n| n.to_string_lossy().into_owned()) else {
            return;
        };
        let prefix = format!(".{name}.");
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let file = entry.file_name().to_string_lossy().into_owned();
            if file.starts_with(&prefix) && file.ends_with(".tmp") {
                let _ = std::fs::remove_file(entry.path());
            }
        }
    }

    /// Writes `state` whole (a snapshot), atomically, bumping its serial, and
    /// empties the operation log.
    pub fn save(&self, state: &mut State) -> Result<(), StateError> {
        if self.lost.is_set() {
            return Err(StateError::LockLost { location: self.path.display().to_string() });
        }
        state.serial += 1;
        let io = |source| StateError::Io { action: "write", path: self.path.clone(), source };
        let dir = self.path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
        std::fs::create_dir_all(dir).map_err(io)?;
        let text = serde_json::to_string_pretty(state).map_err(|e| io(std::io::Error::other(e)))?;
        self.remove_stale_temporaries(dir);
        // A fresh, private (0600) temporary file beside the state, removed again if
        // anything below fails, then renamed over the state in one step.
        let mut file = tempfile::Builder::new()
            .prefix(&format!(".{}.", self.path.file_name().map_or("state".into(), |n| n.to_string_lossy())))
            .suffix(".tmp")
            .tempfile_in(dir)
            .map_err(io)?;
        file.write_all(text.as_bytes()).map_err(io)?;
        file.write_all(b"\n").map_err(io)?;
        file.as_file().sync_all().map_err(io)?;
        file.persist(&self.path).map_err(|e| io(e.error))?;
        // The rename is durable only once the directory entry is.
        if let Ok(d) = std::fs::File::open(dir) {
            let _ = d.sync_all();
        }
        // The snapshot holds everything the log did: a kill before this removal
        // replays only records newer than the snapshot's serial, that is, none.
        match std::fs::remove_file(log::path_of(&self.path)) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(io(e)),
            _ => {}
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn round_trip_is_atomic_private_and_versioned() {
        let dir = tempfile::tempdir().expect("tempdir");
        let backend = LocalBackend::new(dir.path().join("s.json"));
        let mut state = backend.load("w").expect("fresh");
        assert_eq!(state.serial, 0);
        state.resources.insert(
            "aws.ec2.vpc.main".into(),
            ResourceState {
                type_name: "aws.ec2.vpc".into(),
                id: "vpc-1".into(),
                provider: "default".into(),
                phase: "default".into(),
                dependencies: BTreeSet::new(),
                tainted: false,
                data: false,
                attributes: [("cidr_block".to_string(), Value::str("10.0.0.0/16"))].into(),
            },
        );
        backend.save(&mut state).expect("save");
        let loaded = backend.load("w").expect("load");
        assert_eq!(loaded, state);
        assert_eq!(loaded.serial, 1);
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(&backend.path).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
        assert!(matches!(backend.load("other"), Err(StateError::OtherWorkflow { .. })));
        // A temporary snapshot a killed writer left is removed by the next write.
        let stale = dir.path().join(".s.json.abc123.tmp");
        std::fs::write(&stale, "{ half a snap").expect("stale");
        let mut again = loaded.clone();
        backend.save(&mut again).expect("save");
        assert!(!stale.exists(), "the stale temporary file is gone");
        std::fs::write(&backend.path, "{ not json").expect("write");
        assert!(matches!(backend.load("w"), Err(StateError::Corrupt { .. })));
    }

    fn resource(id: &str) -> ResourceState {
        ResourceState {
            type_name: "aws.ec2.vpc".into(),
            id: id.into(),
            provider: "default".into(),
            phase: "default".into(),
            dependencies: BTreeSet::new(),
            tainted: false,
            data: false,
            attributes: [("cidr_block".to_string(), Value::str("10.0.0.0/16"))].into(),
        }
    }

    #[test]
    fn operations_are_appended_and_replayed_until_a_snapshot() {
        let dir = tempfile::tempdir().expect("tempdir");
        let backend = LocalBackend::new(dir.path().join("s.json"));
        let mut state = backend.load("w").expect("fresh");
        // The first record of a state with no snapshot writes the snapshot (it holds the lineage).
        state.resources.insert("a".into(), resource("vpc-a"));
        backend.record(&mut state, "a").expect("record");
        assert!(!log::path_of(&backend.path).exists());
        for name in ["b", "c"] {
            state.resources.insert(name.into(), resource(&format!("vpc-{name}")));
            backend.record(&mut state, name).expect("record");
        }
        state.resources.remove("a");
        backend.record(&mut state, "a").expect("record");
        let log = std::fs::read_to_string(log::path_of(&backend.path)).expect("log");
        assert_eq!(log.lines().count(), 3, "one line per operation after the snapshot");
        let snapshot: State =
            serde_json::from_str(&std::fs::read_to_string(&backend.path).expect("read")).expect("json");
        assert_eq!(snapshot.serial, 1, "the snapshot was not rewritten");
        assert_eq!(backend.load("w").expect("load"), state, "snapshot + log = what was recorded");

        // A kill mid-append leaves a torn last line: it was never acknowledged.
        let torn = format!("{log}{{\"serial\": 5, \"address\": \"d\", \"reso");
        std::fs::write(log::path_of(&backend.path), torn).expect("write");
        assert_eq!(backend.load("w").expect("load"), state);
        // A broken line that is not the last is corruption, said so.
        std::fs::write(log::path_of(&backend.path), format!("not json\n{log}")).expect("write");
        assert!(matches!(backend.load("w"), Err(StateError::Corrupt { .. })));
        std::fs::write(log::path_of(&backend.path), &log).expect("write");

        // A snapshot holds it all and empties the log; records older than it are skipped.
        backend.save(&mut state).expect("save");
        assert!(!log::path_of(&backend.path).exists());
        assert_eq!(backend.load("w").expect("load"), state);
        std::fs::write(log::path_of(&backend.path), &log).expect("stale log");
        assert_eq!(backend.load("w").expect("load"), state, "a log older than the snapshot changes nothing");
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::remove_file(log::path_of(&backend.path)).expect("rm");
            state.resources.insert("e".into(), resource("vpc-e"));
            backend.record(&mut state, "e").expect("record");
            let mode = std::fs::metadata(log::path_of(&backend.path)).expect("meta").permissions().mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
