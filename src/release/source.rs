//! The build's source as a release publishes it: every file under the source
//! directory, compared with the branch's head by git blob id, so a commit
//! puts only what changed and deletes only what is gone.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use drone_stdlib::aws::release::blob_id;

/// Why the source could not be read.
#[derive(Debug, thiserror::Error)]
pub(crate) enum SourceError {
    /// A directory or file could not be read.
    #[error("cannot read {path}: {error}")]
    Unreadable { path: PathBuf, error: std::io::Error },
    /// There is nothing to publish.
    #[error("{0} holds no file to publish")]
    Empty(PathBuf),
}

/// What a commit changes.
#[derive(Debug, Default, PartialEq)]
pub(crate) struct Change {
    /// Files added or changed: path and content.
    pub(crate) put: Vec<(String, Vec<u8>)>,
    /// Files gone.
    pub(crate) delete: Vec<String>,
}

impl Change {
    /// Whether the commit would change nothing.
    pub(crate) fn is_empty(&self) -> bool {
        self.put.is_empty() && self.delete.is_empty()
    }

    /// `2 files changed, 1 deleted`.
    pub(crate) fn summary(&self) -> String {
        let plural = |n: usize| if n == 1 { "" } else { "s" };
        let mut parts = vec![format!("{} file{} changed", self.put.len(), plural(self.put.len()))];
        if !self.delete.is_empty() {
            parts.push(format!("{} deleted", self.delete.len()));
        }
        parts.join(", ")
    }
}

/// Every file under `dir` (hidden ones, such as `.git`, left out), by `/`-separated relative path.
pub(crate) fn files(dir: &Path) -> Result<BTreeMap<String, Vec<u8>>, SourceError> {
    let mut files = BTreeMap::new();
    let mut pending = vec![dir.to_path_buf()];
    while let Some(current) = pending.pop() {
        for entry in std::fs::read_dir(&current).map_err(unreadable(&current))? {
            let path = entry.map_err(unreadable(&current))?.path();
            if path.file_name().and_then(|n| n.to_str()).is_some_and(|n| n.starts_with('.')) {
                continue;
            }
            if path.is_dir() {
                pending.push(path);
            } else {
                let relative = path.strip_prefix(dir).unwrap_or(&path);
                let key = relative.components().map(|c| c.as_os_str().to_string_lossy()).collect::<Vec<_>>().join("/");
                files.insert(key, std::fs::read(&path).map_err(unreadable(&path))?);
            }
        }
    }
    if files.is_empty() {
        return Err(SourceError::Empty(dir.to_path_buf()));
    }
    Ok(files)
}

fn unreadable(path: &Path) -> impl Fn(std::io::Error) -> SourceError + '_ {
    move |error| SourceError::Unreadable { path: path.to_path_buf(), error }
}

/// What turns `remote` (path to blob id) into `local`.
pub(crate) fn diff(local: &BTreeMap<String, Vec<u8>>, remote: &BTreeMap<String, String>) -> Change {
    Change {
        put: local
            .iter()
            .filter(|(path, content)| remote.get(*path) != Some(&blob_id(content)))
            .map(|(path, content)| (path.clone(), content.clone()))
            .collect(),
        delete: remote.keys().filter(|path| !local.contains_key(*path)).cloned().collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_what_changed_is_put_and_only_what_is_gone_deleted() {
        let local: BTreeMap<String, Vec<u8>> = [
            ("Dockerfile".to_string(), b"FROM ghost:5.96.0-alpine\n".to_vec()),
            ("config.production.json".to_string(), b"{}\n".to_vec()),
        ]
        .into();
        let remote: BTreeMap<String, String> = [
            ("Dockerfile".to_string(), blob_id(b"FROM ghost:5.96.0-alpine\n")),
            ("config.production.json".to_string(), blob_id(b"{\"url\": \"old\"}\n")),
            ("old/notes.md".to_string(), blob_id(b"gone")),
        ]
        .into();
        let change = diff(&local, &remote);
        assert_eq!(change.put, vec![("config.production.json".to_string(), b"{}\n".to_vec())]);
        assert_eq!(change.delete, vec!["old/notes.md".to_string()]);
        assert_eq!(change.summary(), "1 file changed, 1 deleted");
        assert!(diff(&local, &local.iter().map(|(p, c)| (p.clone(), blob_id(c))).collect()).is_empty());
    }

    #[test]
    fn the_source_directory_is_read_recursively_without_hidden_files() {
        let dir = tempfile::tempdir().expect("test setup");
        std::fs::create_dir_all(dir.path().join("content/themes")).expect("test setup");
        std::fs::create_dir_all(dir.path().join(".git")).expect("test setup");
        std::fs::write(dir.path().join("Dockerfile"), "FROM ghost\n").expect("test setup");
        std::fs::write(dir.path().join("content/themes/casper.txt"), "theme").expect("test setup");
        std::fs::write(dir.path().join(".git/HEAD"), "ref").expect("test setup");
        let files = files(dir.path()).expect("test setup");
        assert_eq!(files.keys().collect::<Vec<_>>(), ["Dockerfile", "content/themes/casper.txt"]);
        let empty = tempfile::tempdir().expect("test setup");
        assert!(matches!(super::files(empty.path()), Err(SourceError::Empty(_))));
    }
}
