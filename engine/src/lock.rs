//! The state lock: a file created exclusively beside the state, naming its
//! owner. A second run fails at once with the holder's name; the lock is
//! removed when the guard drops, or by `drone state unlock` after a crash.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

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
}

impl LockOwner {
    /// The current process as owner.
    pub fn current(operation: &str) -> LockOwner {
        LockOwner {
            host: std::fs::read_to_string("/etc/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "localhost".into()),
            pid: std::process::id(),
            user: std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".into()),
            time: humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string(),
            operation: operation.to_string(),
        }
    }
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
        help("wait for that run to finish; if it crashed, run `drone state unlock {workflow}`")
    )]
    Held {
        /// The holder.
        owner: Box<LockOwner>,
        /// The workflow file, for the hint.
        workflow: String,
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

/// A held lock; dropping it releases the lock.
#[derive(Debug)]
pub struct LockGuard {
    path: PathBuf,
}

/// The lock file of a state file.
pub fn lock_path(state: &Path) -> PathBuf {
    let mut name = state.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".lock");
    state.with_file_name(name)
}

/// Takes the lock of `state`, or fails at once naming the holder.
pub fn acquire(state: &Path, owner: &LockOwner, workflow: &str) -> Result<LockGuard, LockError> {
    let path = lock_path(state);
    let io = |source| LockError::Io { path: path.clone(), source };
    if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(io)?;
    }
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&path) {
        Ok(mut file) => {
            let text = serde_json::to_string_pretty(owner).map_err(|e| io(std::io::Error::other(e)))?;
            file.write_all(text.as_bytes()).map_err(io)?;
            file.sync_all().map_err(io)?;
            Ok(LockGuard { path })
        }
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => {
            let owner = Box::new(holder(state).unwrap_or(LockOwner {
                host: "unknown".into(),
                pid: 0,
                user: "unknown".into(),
                time: "unknown".into(),
                operation: "unknown".into(),
            }));
            Err(LockError::Held { owner, workflow: workflow.to_string() })
        }
        Err(e) => Err(io(e)),
    }
}

/// Who holds the lock of `state`, if anyone.
pub fn holder(state: &Path) -> Option<LockOwner> {
    let text = std::fs::read_to_string(lock_path(state)).ok()?;
    serde_json::from_str(&text).ok()
}

/// Removes the lock of `state` regardless of owner; returns the former holder.
pub fn force_unlock(state: &Path) -> Result<Option<LockOwner>, LockError> {
    let owner = holder(state);
    let path = lock_path(state);
    match std::fs::remove_file(&path) {
        Ok(()) => Ok(owner),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(source) => Err(LockError::Io { path, source }),
    }
}

impl Drop for LockGuard {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.path);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn second_holder_is_refused_with_owner() {
        let dir = tempfile::tempdir().expect("tempdir");
        let state = dir.path().join("s.json");
        let guard = acquire(&state, &LockOwner::current("run"), "w.drone").expect("first");
        match acquire(&state, &LockOwner::current("destroy"), "w.drone") {
            Err(LockError::Held { owner, .. }) => assert_eq!(owner.operation, "run"),
            other => panic!("expected Held, got {other:?}"),
        }
        drop(guard);
        let again = acquire(&state, &LockOwner::current("run"), "w.drone").expect("after release");
        std::mem::forget(again);
        assert_eq!(force_unlock(&state).expect("unlock").map(|o| o.operation), Some("run".into()));
        assert!(holder(&state).is_none());
    }
}
