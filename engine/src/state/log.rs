//! The operation log: beside the state file (`<state>.log`), one compact
//! JSON line per resource operation, appended and fsynced before the apply
//! moves on, so saving after an operation costs the size of the change, not
//! of the whole state. Loading replays the log over the snapshot; a snapshot
//! (`LocalBackend::save`) empties it. A kill mid-append leaves at most a torn
//! last line, which was never acknowledged and is ignored.

use std::io::Write;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::{Intent, ResourceState, State, StateError};

/// When the log has grown past this, the next record writes a snapshot instead.
pub(super) const COMPACT_AFTER_BYTES: u64 = 8 * 1024 * 1024;

/// What state now records at `address`: its resource (none: removed) and
/// the operation in flight on it (none: nothing is). An intent is one record,
/// its result the next.
#[derive(Debug, PartialEq, Serialize, Deserialize)]
pub(super) struct Record {
    /// The state's serial after this record.
    pub(super) serial: u64,
    /// The resource's address.
    pub(super) address: String,
    /// What is recorded there now; none when the resource was removed.
    pub(super) resource: Option<ResourceState>,
    /// The operation started and not yet finished there, if any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub(super) pending: Option<Intent>,
}

/// The log file of the state file `state`.
pub(super) fn path_of(state: &Path) -> PathBuf {
    let mut name = state.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".log");
    state.with_file_name(name)
}

/// Appends `records` to the log at `path` in one write and waits until they
/// are on disk; the log's size afterwards.
pub(super) fn append(path: &Path, records: &[Record]) -> Result<u64, StateError> {
    let io = |source| StateError::Io { action: "write", path: path.to_path_buf(), source };
    let mut lines = String::new();
    for record in records {
        lines.push_str(&serde_json::to_string(record).map_err(|e| io(std::io::Error::other(e)))?);
        lines.push('\n');
    }
    let mut file = open_append(path).map_err(io)?;
    file.write_all(lines.as_bytes()).map_err(io)?;
    file.sync_data().map_err(io)?;
    file.metadata().map(|m| m.len()).map_err(io)
}

/// Applies the log at `path` to `state` (records newer than its serial).
pub(super) fn replay(path: &Path, state: &mut State) -> Result<(), StateError> {
    let text = match std::fs::read_to_string(path) {
        Ok(text) => text,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => return Err(StateError::Io { action: "read", path: path.to_path_buf(), source }),
    };
    let complete = text.ends_with('\n');
    let lines: Vec<&str> = text.lines().filter(|l| !l.trim().is_empty()).collect();
    for (i, line) in lines.iter().enumerate() {
        let record: Record = match serde_json::from_str(line) {
            Ok(record) => record,
            // The last line of a log whose writer was killed mid-append: never acknowledged.
            Err(_) if i + 1 == lines.len() && !complete => break,
            Err(e) => {
                return Err(StateError::Corrupt { path: path.to_path_buf(), reason: format!("line {}: {e}", i + 1) })
            }
        };
        if record.serial <= state.serial {
            continue;
        }
        match record.resource {
            Some(resource) => state.resources.insert(record.address.clone(), resource),
            None => state.resources.remove(&record.address),
        };
        match record.pending {
            Some(intent) => state.pending.insert(record.address, intent),
            None => state.pending.remove(&record.address),
        };
        state.serial = record.serial;
    }
    Ok(())
}

#[cfg(unix)]
fn open_append(path: &Path) -> std::io::Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    std::fs::OpenOptions::new().append(true).create(true).mode(0o600).open(path)
}

#[cfg(not(unix))]
fn open_append(path: &Path) -> std::io::Result<std::fs::File> {
    std::fs::OpenOptions::new().append(true).create(true).open(path)
}
