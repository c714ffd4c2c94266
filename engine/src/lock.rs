//! The state lock: a file created exclusively beside the state, naming its
//! owner and a lease that the holder renews (a heartbeat every third of the
//! lease) while it works. A second run fails at once with the holder's name;
//! the lock is removed when the guard drops. A lock whose holder is gone is
//! taken over by the next run, saying so: one whose process ran on this host
//! and has exited, or one whose lease has expired (a holder killed on another
//! host renews nothing). `drone state unlock` refuses to remove the lock of a
//! holder that may still be running unless forced. The S3 backend keeps the
//! same record under the same rules (`LockOwner`, `Liveness`).

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::host::Host;

/// Who holds a lock.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct LockOwner {
    /// Host name.
    pub host: String,
    /// Process id.
    pub pid: u32,
    /// User name.
    pub user: String,
    /// When it was taken (RFC 3339, UTC).
    pub time: String,
    /// What it is doing (`run`, `destroy`).
    pub operation: String,
    /// Until when the lock holds without a renewal (RFC 3339, UTC); a lock
    /// written by an older drone has none and never expires.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub lease_until: Option<String>,
}

/// Set when a holder's lock stopped being its own: taken over or removed by
/// hand, or its lease ran out without a renewal. The state backends check it
/// before every write, so a holder that lost its lock stops before writing
/// rather than overwrite its successor. Shared by one session's lock and
/// backend, never by the whole process.
#[derive(Clone, Debug, Default)]
pub struct LockLost(Arc<AtomicBool>);

impl LockLost {
    /// Whether the lock was lost.
    pub fn is_set(&self) -> bool {
        self.0.load(Ordering::SeqCst)
    }

    /// Records that the lock is no longer this holder's.
    pub fn set(&self) {
        self.0.store(true, Ordering::SeqCst);
    }
}

/// The world as a lock sees it: the time, this machine and its processes and
/// the lease's length read through a [`Host`], and the flag its heartbeat
/// raises when the lock is lost.
#[derive(Clone)]
pub struct LockContext {
    /// Time, environment and processes.
    pub host: Arc<dyn Host + Send + Sync>,
    /// Raised when the lock taken through this context is lost.
    pub lost: LockLost,
}

impl LockContext {
    /// A context reading `host`, with a fresh lost flag.
    pub fn new(host: Arc<dyn Host + Send + Sync>) -> LockContext {
        LockContext { host, lost: LockLost::default() }
    }

    /// How long a lock holds without a renewal: `DRONE_LOCK_LEASE` seconds, 60 by default.
    pub fn lease(&self) -> Duration {
        let seconds = self.host.env("DRONE_LOCK_LEASE").and_then(|s| s.parse::<u64>().ok()).unwrap_or(60);
        Duration::from_secs(seconds.max(1))
    }

    /// This process as owner, doing `operation`, with a fresh lease.
    pub fn owner(&self, operation: &str) -> LockOwner {
        let machine = self.host.machine();
        let now = self.host.now();
        LockOwner {
            host: machine.host,
            pid: machine.pid,
            user: machine.user,
            time: rfc3339(now),
            operation: operation.to_string(),
            lease_until: Some(rfc3339(now + self.lease())),
        }
    }
}

impl std::fmt::Debug for LockContext {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LockContext").field("lost", &self.lost).finish_non_exhaustive()
    }
}

fn rfc3339(t: SystemTime) -> String {
    humantime::format_rfc3339_seconds(t).to_string()
}

impl LockOwner {
    /// A holder whose record cannot be read (a lock file or object that is not JSON).
    pub fn unknown() -> LockOwner {
        LockOwner {
            host: "unknown".into(),
            pid: 0,
            user: "unknown".into(),
            time: "unknown".into(),
            operation: "unknown".into(),
            lease_until: None,
        }
    }

    /// The same holder with its lease renewed from now.
    pub fn renewed(&self, cx: &LockContext) -> LockOwner {
        LockOwner { lease_until: Some(rfc3339(cx.host.now() + cx.lease())), ..self.clone() }
    }

    /// Whether `other` is the same holder (a renewal changes only the lease).
    pub fn same_holder(&self, other: &LockOwner) -> bool {
        (&self.host, self.pid, &self.time) == (&other.host, other.pid, &other.time)
    }

    /// Whether the lease has run out by `cx`'s clock (a lock without one never does).
    pub fn lease_expired(&self, cx: &LockContext) -> bool {
        self.lease_until
            .as_deref()
            .and_then(|t| humantime::parse_rfc3339(t).ok())
            .is_some_and(|until| cx.host.now() > until)
    }

    /// What is known of the holder: on this host, whether its process still
    /// runs; elsewhere, whether its lease has run out.
    pub fn liveness(&self, cx: &LockContext) -> Liveness {
        if self.host == cx.host.machine().host {
            match cx.host.process_alive(self.pid) {
                Some(true) => return Liveness::Alive,
                Some(false) => return Liveness::Gone,
                None => {}
            }
        }
        if self.lease_expired(cx) {
            Liveness::Expired
        } else {
            Liveness::Unknown
        }
    }

    /// Whether its lock may be taken over without asking.
    pub fn is_gone(&self, cx: &LockContext) -> bool {
        matches!(self.liveness(cx), Liveness::Gone | Liveness::Expired)
    }
}

/// Whether a lock's holder still runs.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Liveness {
    /// Its process runs on this host.
    Alive,
    /// It ran on this host and its process is gone.
    Gone,
    /// It stopped renewing its lease, which has run out.
    Expired,
    /// It runs on another host within its lease, or this system cannot tell.
    Unknown,
}

impl std::fmt::Display for LockOwner {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}@{} (pid {}, `{}` since {})", self.user, self.host, self.pid, self.operation, self.time)
    }
}

/// Why a lock could not be taken or released.
#[derive(Debug, thiserror::Error, miette::Diagnostic)]
pub enum LockError {
    /// Someone else holds it.
    #[error("state is locked by {owner}")]
    #[diagnostic(
        code("drone::state::locked"),
        help("wait for that run to finish; if it was killed on another host, run `{unlock}`")
    )]
    Held {
        /// The holder.
        owner: Box<LockOwner>,
        /// The command that removes the lock, as it can be run.
        unlock: String,
    },
    /// `drone state unlock` of a lock whose holder may still be running.
    #[error("the lock is held by {owner}, which {}", if *alive { "is still running" } else { "may still be running on that host" })]
    #[diagnostic(
        code("drone::state::holder_running"),
        help("let it finish, or stop it; if you are sure nothing is using the state, `{unlock} --force`")
    )]
    HolderRunning {
        /// The holder.
        owner: Box<LockOwner>,
        /// Whether its process is known to run (on this host).
        alive: bool,
        /// The unlock command, to which `--force` is added.
        unlock: String,
    },
    /// A remote lock object could not be read or written.
    #[error("cannot use lock {location}: {reason}")]
    #[diagnostic(code("drone::state::lock_remote"), help("check the bucket, the credentials and AWS_ENDPOINT_URL"))]
    Remote {
        /// Where the lock is.
        location: String,
        /// What the store said.
        reason: String,
    },
    /// The lock file could not be created or read.
    #[error("cannot use lock file {path}: {source}")]
    #[diagnostic(code("drone::state::lock_io"), help("check the directory's permissions"))]
    Io {
        /// The lock file.
        path: PathBuf,
        /// The cause.
        source: std::io::Error,
    },
}

/// A held lock, renewed by a heartbeat thread; dropping it stops the
/// heartbeat and releases the lock.
#[derive(Debug)]
pub struct LockGuard {
    path: PathBuf,
    /// The holder of a lock left behind by a process that is gone, which this one replaced.
    pub replaced: Option<LockOwner>,
    heartbeat: Option<(std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>)>,
}

/// Renews the lease in the lock file at `path` every third of the lease
/// until told to stop, as long as the file still names `owner`.
fn heartbeat(
    path: PathBuf,
    owner: LockOwner,
    cx: LockContext,
) -> (std::sync::mpsc::Sender<()>, std::thread::JoinHandle<()>) {
    let (stop, stopped) = std::sync::mpsc::channel::<()>();
    let handle = std::thread::spawn(move || {
        while let Err(std::sync::mpsc::RecvTimeoutError::Timeout) = stopped.recv_timeout(cx.lease() / 3) {
            let current: Option<LockOwner> =
                std::fs::read_to_string(&path).ok().and_then(|t| serde_json::from_str(&t).ok());
            if !current.is_some_and(|c| c.same_holder(&owner)) {
                cx.lost.set(); // Taken from us (by hand, or over an expired lease).
                return;
            }
            let _ = write_atomically(&path, &owner.renewed(&cx));
        }
    });
    (stop, handle)
}

/// Replaces the lock file's content in one step (a reader never sees half a record).
fn write_atomically(path: &Path, owner: &LockOwner) -> std::io::Result<()> {
    let dir = path.parent().filter(|p| !p.as_os_str().is_empty()).unwrap_or(Path::new("."));
    let mut file = tempfile::Builder::new().prefix(".lock.").tempfile_in(dir)?;
    file.write_all(serde_json::to_string_pretty(owner).map_err(std::io::Error::other)?.as_bytes())?;
    file.as_file().sync_all()?;
    file.persist(path).map_err(|e| e.error)?;
    Ok(())
}

/// The lock file of a state file.
pub fn lock_path(state: &Path) -> PathBuf {
    let mut name = state.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".lock");
    state.with_file_name(name)
}

/// Takes the lock of `state`, or fails at once naming the holder. A lock
/// left by a process of this host that is gone is taken over. `unlock` is
/// the command that removes the lock by hand, for the error's help.
pub fn acquire(state: &Path, owner: &LockOwner, unlock: &str, cx: &LockContext) -> Result<LockGuard, LockError> {
    let path = lock_path(state);
    let io = |source| LockError::Io { path: path.clone(), source };
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    let mut replaced = None;
    loop {
        match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
            Ok(mut file) => {
                let text = serde_json::to_string_pretty(owner).map_err(|e| io(std::io::Error::other(e)))?;
                file.write_all(text.as_bytes()).map_err(io)?;
                file.sync_all().map_err(io)?;
                let beat = heartbeat(path.clone(), owner.clone(), cx.clone());
                return Ok(LockGuard { path, replaced, heartbeat: Some(beat) });
            }
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                let holder: Option<LockOwner> = serde_json::from_str(&text).ok();
                match holder {
                    // Taken over once: a second stale lock means another process is racing us.
                    Some(stale)
                        if replaced.is_none()
                            && stale.is_gone(cx)
                            && remove_if_unchanged(&path, &text).map_err(io)? =>
                    {
                        replaced = Some(stale);
                    }
                    _ => {
                        let owner = Box::new(holder.unwrap_or_else(LockOwner::unknown));
                        return Err(LockError::Held { owner, unlock: unlock.to_string() });
                    }
                }
            }
            Err(e) => return Err(io(e)),
        }
    }
}

/// Removes the lock file if it still holds `text`, so that a run that took
/// it over meanwhile keeps its lock; false when another process is taking it
/// over right now. The takeover is serialised by a second file created
/// exclusively; the S3 backend will use a conditional delete instead.
fn remove_if_unchanged(path: &Path, text: &str) -> std::io::Result<bool> {
    let mutex = path.with_extension("takeover");
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&mutex) {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => return Ok(false),
        Err(e) => return Err(e),
    }
    let removed = match std::fs::read_to_string(path) {
        Ok(current) if current == text => match std::fs::remove_file(path) {
            Err(e) if e.kind() != std::io::ErrorKind::NotFound => Err(e),
            _ => Ok(true),
        },
        _ => Ok(true),
    };
    let _ = std::fs::remove_file(&mutex);
    removed
}

/// Who holds the lock of `state`, if anyone.
pub fn holder(state: &Path) -> Option<LockOwner> {
    let text = std::fs::read_to_string(lock_path(state)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Removes the lock of `state` by hand, leaving a record of who did
/// (`<lock>.unlocked`); returns the former holder. Refused
/// while the holder may still be running (it runs on this host, or on
/// another one where drone cannot tell) unless `force`. `unlock` is the
/// command, for the error's help.
pub fn unlock(state: &Path, force: bool, unlock: &str, cx: &LockContext) -> Result<Option<LockOwner>, LockError> {
    let owner = holder(state);
    if let Some(owner) = owner.as_ref().filter(|_| !force) {
        let liveness = owner.liveness(cx);
        if !owner.is_gone(cx) {
            return Err(LockError::HolderRunning {
                owner: Box::new(owner.clone()),
                alive: liveness == Liveness::Alive,
                unlock: unlock.to_string(),
            });
        }
    }
    let path = lock_path(state);
    match std::fs::remove_file(&path) {
        Ok(()) => {
            // Who removed whose lock, and whether by force, beside the state.
            let record = serde_json::json!({ "unlocked_by": cx.owner("unlock"), "removed": owner, "forced": force });
            let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
            name.push(".unlocked");
            let _ = std::fs::write(path.with_file_name(name), serde_json::to_vec_pretty(&record).unwrap_or_default());
            Ok(owner)
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(LockError::Io { path, source }),
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        if let Some((stop, handle)) = self.heartbeat.take() {
            let _ = stop.send(());
            let _ = handle.join();
        }
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::host::SystemHost;

    fn system() -> LockContext {
        LockContext::new(Arc::new(SystemHost { base_dir: ".".into(), root: ".".into() }))
    }

    #[test]
    fn second_holder_is_refused_with_owner() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("s.json");
        let guard = acquire(&state, &system().owner("run"), "unlock-it", &system()).expect("first");
        assert_eq!(guard.replaced, None);
        match acquire(&state, &system().owner("destroy"), "unlock-it", &system()) {
            Err(LockError::Held { owner, unlock }) => {
                assert_eq!(owner.operation, "run");
                assert_eq!(unlock, "unlock-it");
            }
            other => panic!("expected Held, got {other:?}"),
        }
        drop(guard);
        let again = acquire(&state, &system().owner("run"), "unlock-it", &system()).expect("after release");
        std::mem::forget(again);
        // This process holds it and runs: refused without force.
        match unlock(&state, false, "unlock-it", &system()) {
            Err(LockError::HolderRunning { alive: true, owner, .. }) => assert_eq!(owner.pid, std::process::id()),
            other => panic!("expected HolderRunning, got {other:?}"),
        }
        assert_eq!(
            unlock(&state, true, "unlock-it", &system()).expect("unlock").map(|o| o.operation),
            Some("run".into())
        );
        assert!(holder(&state).is_none());
    }

    /// The pid of a process that has exited.
    fn dead_pid() -> u32 {
        let mut child = std::process::Command::new("true").spawn().expect("spawn");
        let pid = child.id();
        child.wait().expect("wait");
        pid
    }

    #[test]
    fn a_lock_left_by_a_dead_process_on_this_host_is_taken_over() {
        if system().host.process_alive(1).is_none() {
            return; // No /proc: liveness cannot be told, and the lock is never taken over.
        }
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("s.json");
        let stale = LockOwner { pid: dead_pid(), ..system().owner("run") };
        std::fs::write(lock_path(&state), serde_json::to_string(&stale).expect("json")).expect("write");
        assert_eq!(stale.liveness(&system()), Liveness::Gone);
        let guard = acquire(&state, &system().owner("run"), "unlock-it", &system()).expect("taken over");
        assert_eq!(guard.replaced.as_ref().map(|o| o.pid), Some(stale.pid));
        assert_eq!(holder(&state).map(|o| o.pid), Some(std::process::id()));
        drop(guard);
        // A dead holder's lock may be removed by hand without force.
        std::fs::write(lock_path(&state), serde_json::to_string(&stale).expect("json")).expect("write");
        assert_eq!(unlock(&state, false, "unlock-it", &system()).expect("unlock").map(|o| o.pid), Some(stale.pid));
        // Another host's holder: drone cannot tell, so force is needed.
        let remote = LockOwner { host: "elsewhere.example".into(), ..stale };
        std::fs::write(lock_path(&state), serde_json::to_string(&remote).expect("json")).expect("write");
        assert!(matches!(acquire(&state, &system().owner("run"), "unlock-it", &system()), Err(LockError::Held { .. })));
        assert!(matches!(
            unlock(&state, false, "unlock-it", &system()),
            Err(LockError::HolderRunning { alive: false, .. })
        ));
        assert!(unlock(&state, true, "unlock-it", &system()).is_ok());
    }

    #[test]
    fn a_lock_whose_lease_ran_out_is_taken_over_wherever_its_holder_ran() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("s.json");
        let past = rfc3339(SystemTime::now() - Duration::from_secs(5));
        let remote = LockOwner { host: "elsewhere.example".into(), lease_until: Some(past), ..system().owner("run") };
        assert_eq!(remote.liveness(&system()), Liveness::Expired);
        std::fs::write(lock_path(&state), serde_json::to_string(&remote).expect("json")).expect("write");
        let guard = acquire(&state, &system().owner("run"), "unlock-it", &system()).expect("taken over");
        assert_eq!(guard.replaced.as_ref().map(|o| o.host.as_str()), Some("elsewhere.example"));
        let mine = holder(&state).expect("held");
        assert!(mine.lease_until.is_some() && !mine.lease_expired(&system()));
        drop(guard);
        // Within its lease, a holder elsewhere keeps the lock.
        let live = LockOwner { host: "elsewhere.example".into(), ..system().owner("run") };
        std::fs::write(lock_path(&state), serde_json::to_string(&live).expect("json")).expect("write");
        assert!(matches!(acquire(&state, &system().owner("run"), "unlock-it", &system()), Err(LockError::Held { .. })));
        // A lock written before leases existed never expires.
        let old =
            serde_json::json!({"host": "elsewhere.example", "pid": 1, "user": "u", "time": "t", "operation": "run"});
        let old: LockOwner = serde_json::from_value(old).expect("old record");
        assert!(!old.lease_expired(&system()) && !old.is_gone(&system()));
    }
}
