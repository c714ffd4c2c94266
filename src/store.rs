//! Where a workflow's state lives (a local file or an S3 object), the
//! backend that reads and writes it there, and its lock.

use std::path::Path;
use std::sync::Arc;

use drone_engine::lock::{self, LockContext};
use drone_engine::model::Model;
use drone_engine::state::{Backend, LocalBackend, Location, State};
use drone_stdlib::aws::state::{S3Backend, S3Lock, S3LockGuard};

use crate::error::CliError;
use crate::exit::Exit;

/// Where state lives: `--state` (a path or `s3://bucket/key`), else the
/// header's `state` (a path relative to the workflow file, or an S3 object),
/// else `.drone/<workflow>.state.json` beside the file.
pub(crate) fn location(workflow_file: &Path, model: &Model, flag: Option<&str>) -> Result<Location, CliError> {
    if let Some(flag) = flag {
        return Location::parse(flag).map_err(|message| CliError::usage(message, None));
    }
    if let Some(s3) = &model.state_s3 {
        return Ok(Location::S3(s3.clone()));
    }
    let dir = workflow_file.parent().unwrap_or(Path::new(""));
    Ok(Location::Local(match &model.state_path {
        Some(p) => dir.join(p),
        None => dir.join(".drone").join(format!("{}.state.json", model.workflow)),
    }))
}

/// The backend for `location`, which stops writing once the lock taken
/// through `cx` is lost.
pub(crate) async fn backend(location: &Location, cx: &LockContext) -> Arc<dyn Backend> {
    match location {
        Location::Local(path) => Arc::new(LocalBackend::new(path.clone()).watching(cx.lost.clone())),
        Location::S3(s3) => Arc::new(S3Backend::connect(s3).await.watching(cx.lost.clone())),
    }
}

/// The lock context of a command working on `workflow_file`: the system's
/// clock, machine and processes, and a lost flag of its own.
pub(crate) fn lock_context(workflow_file: &Path) -> LockContext {
    LockContext::new(Arc::new(crate::pipeline::host_for(workflow_file)))
}

/// A held state lock, released when dropped.
#[derive(Debug)]
pub(crate) enum StateLock {
    /// The lock file beside a local state.
    Local(lock::LockGuard),
    /// The lock object beside an S3 state (boxed: it carries a client and a heartbeat).
    S3(Box<S3LockGuard>),
}

/// The command that unlocks the state at `location` of `file`, as it can be run.
pub(crate) fn unlock_command(file: &Path, location: &Location) -> String {
    format!("drone state unlock {} --state {location}", file.display())
}

/// Locks the state at `location` for `operation`; says so when it takes
/// over a lock whose holder is gone.
pub(crate) async fn lock(
    location: &Location,
    file: &Path,
    operation: &str,
    cx: &LockContext,
) -> Result<StateLock, CliError> {
    let owner = cx.owner(operation);
    let unlock = unlock_command(file, location);
    let acquired = match location {
        Location::Local(path) => lock::acquire(path, &owner, &unlock, cx).map(StateLock::Local),
        Location::S3(s3) => {
            S3Lock::connect(s3).await.acquire(&owner, &unlock, cx).await.map(|g| StateLock::S3(Box::new(g)))
        }
    };
    let guard = acquired?;
    let replaced = match &guard {
        StateLock::Local(g) => g.replaced.clone(),
        StateLock::S3(g) => g.replaced.clone(),
    };
    if let Some(gone) = &replaced {
        let why = if gone.liveness(cx) == lock::Liveness::Expired {
            format!("whose lease ran out at {}", gone.lease_until.as_deref().unwrap_or("an unknown time"))
        } else {
            "which is no longer running".to_string()
        };
        eprintln!("note: took over the lock left by {gone}, {why}");
    }
    Ok(guard)
}

/// Who holds the lock of the state at `location`, if anyone (an unreadable
/// remote lock counts as none: this is for a note, never a decision).
pub(crate) async fn holder(location: &Location) -> Option<lock::LockOwner> {
    match location {
        Location::Local(path) => lock::holder(path),
        Location::S3(s3) => S3Lock::connect(s3).await.holder().await.ok().flatten().map(|(owner, _)| owner),
    }
}

/// Removes the lock of the state at `location` by hand (`drone state unlock`).
pub(crate) async fn unlock(location: &Location, file: &Path, force: bool, cx: &LockContext) -> Result<Exit, CliError> {
    let command = unlock_command(file, location);
    let result = match location {
        Location::Local(path) => lock::unlock(path, force, &command, cx),
        Location::S3(s3) => S3Lock::connect(s3).await.unlock(force, &command, cx).await,
    };
    match result {
        Ok(Some(owner)) => println!("removed the lock held by {owner}"),
        Ok(None) => println!("{location} is not locked"),
        Err(e) => return Err(e.into()),
    }
    Ok(Exit::Success)
}

/// Reads the state, saying why when it cannot.
pub(crate) async fn load(backend: &dyn Backend, workflow: &str) -> Result<State, CliError> {
    Ok(backend.load(workflow).await?)
}

/// Writes `state` whole (a snapshot), saying why when it cannot.
pub(crate) async fn save(backend: &dyn Backend, state: &mut State) -> Result<(), CliError> {
    Ok(backend.save(state).await?)
}
