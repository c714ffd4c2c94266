//! Where a workflow's state lives (a local file or an S3 object), the
//! backend that reads and writes it there, and its lock.

use std::path::Path;
use std::sync::Arc;

use drone_engine::lock::{self, LockContext};
use drone_engine::model::Model;
use drone_engine::state::{Backend, LocalBackend, Location, S3Location, State};
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

/// How long the header's state is waited for when the state is read elsewhere: its region may be
/// the one that is down.
const HEADER_PATIENCE: std::time::Duration = std::time::Duration::from_secs(5);

/// When the state was read from another S3 object than the header's (`--state`, as a replica in a
/// standby region is during a failover), a word on how it compares with the header's: behind it,
/// or the header's unreadable. None when they agree, or are not the same state.
pub(crate) async fn compare_with_header(model: &Model, location: &Location, state: &State) -> Option<String> {
    let (Location::S3(chosen), Some(header)) = (location, &model.state_s3) else { return None };
    if chosen.bucket == header.bucket && chosen.key == header.key {
        return None;
    }
    let stored = drone_stdlib::aws::state::stored_serial(header, HEADER_PATIENCE).await;
    lag_note(chosen, (state.serial, &state.lineage), header, stored)
}

/// The note [`compare_with_header`] gives, from the serial and lineage read at each place.
fn lag_note(
    chosen: &S3Location,
    (serial, lineage): (u64, &str),
    header: &S3Location,
    stored: Result<Option<(u64, String)>, String>,
) -> Option<String> {
    match stored {
        Err(reason) => Some(format!(
            "note: the workflow's own state, {header}, cannot be read ({reason}); working from {chosen} (serial \
             {serial}). What runs after that serial created is found again by its tags."
        )),
        Ok(Some((newest, same))) if same == lineage && newest > serial => Some(format!(
            "warning: {chosen} is behind the workflow's own state, {header} (serial {serial}, not {newest}): the \
             latest runs have not reached it yet. Wait for it to catch up, or go on: what they created is found \
             again by its tags."
        )),
        Ok(_) => None,
    }
}

/// Writes `state` whole (a snapshot), saying why when it cannot.
pub(crate) async fn save(backend: &dyn Backend, state: &mut State) -> Result<(), CliError> {
    Ok(backend.save(state).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(bucket: &str) -> S3Location {
        S3Location { bucket: bucket.into(), key: "prod.json".into(), region: None }
    }

    #[test]
    fn a_replica_behind_or_a_header_state_out_of_reach_is_said() {
        let (replica, primary) = (at("state-replica"), at("state"));
        let behind = lag_note(&replica, (12, "L"), &primary, Ok(Some((14, "L".into())))).expect("behind");
        assert!(
            behind.starts_with("warning: s3://state-replica/prod.json is behind")
                && behind.contains("serial 12, not 14")
        );
        let down = lag_note(&replica, (12, "L"), &primary, Err("connection refused".into())).expect("down");
        assert!(down.contains("cannot be read (connection refused)") && down.contains("serial 12"));
        assert_eq!(lag_note(&replica, (14, "L"), &primary, Ok(Some((14, "L".into())))), None, "caught up");
        assert_eq!(lag_note(&replica, (3, "L"), &primary, Ok(Some((14, "other".into())))), None, "another state");
        assert_eq!(lag_note(&replica, (3, "L"), &primary, Ok(None)), None, "nothing there");
    }
}
