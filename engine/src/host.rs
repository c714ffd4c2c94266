//! What evaluation reads from the outside world: environment variables, files
//! and secrets. Behind a trait so evaluation stays a pure function in tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The outside world as evaluation sees it.
pub trait Host: Sync {
    /// An environment variable.
    fn env(&self, name: &str) -> Option<String>;
    /// A file's text, relative to the workflow's directory.
    fn read_file(&self, path: &str) -> Result<String, String>;
    /// The plaintext of a secret reference such as `env:NAME`.
    fn secret(&self, reference: &str) -> Result<String, String>;
    /// Today's date, `YYYY-MM-DD` in UTC (suppressions expire by it).
    fn today(&self) -> String;
}

/// The real process environment and file system.
pub struct SystemHost {
    /// Directory that `file()` paths are relative to.
    pub base_dir: PathBuf,
    /// The directory `file()` may read under (`drone_lang::read_confined`).
    pub root: PathBuf,
}

impl Host for SystemHost {
    fn env(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn read_file(&self, path: &str) -> Result<String, String> {
        let full = self.base_dir.join(Path::new(path));
        drone_lang::read_confined(&self.root, &full).map_err(|why| format!("{path}: {why}"))
    }

    fn secret(&self, reference: &str) -> Result<String, String> {
        resolve_secret(reference, |name| std::env::var(name).ok())
    }

    fn today(&self) -> String {
        humantime::format_rfc3339_seconds(std::time::SystemTime::now()).to_string()[..10].to_string()
    }
}

/// A fixed environment for tests.
#[derive(Default)]
pub struct MemoryHost {
    /// Environment variables.
    pub vars: BTreeMap<String, String>,
    /// Files by path.
    pub files: BTreeMap<String, String>,
    /// Today's date, `YYYY-MM-DD`.
    pub today: String,
}

impl Host for MemoryHost {
    fn env(&self, name: &str) -> Option<String> {
        self.vars.get(name).cloned()
    }

    fn read_file(&self, path: &str) -> Result<String, String> {
        self.files.get(path).cloned().ok_or_else(|| format!("{path}: no such file"))
    }

    fn secret(&self, reference: &str) -> Result<String, String> {
        resolve_secret(reference, |name| self.vars.get(name).cloned())
    }

    fn today(&self) -> String {
        self.today.clone()
    }
}

fn resolve_secret(reference: &str, env: impl Fn(&str) -> Option<String>) -> Result<String, String> {
    match reference.split_once(':') {
        Some(("env", name)) => env(name).ok_or_else(|| format!("environment variable `{name}` is not set")),
        Some((scheme, _)) => Err(format!("unsupported secret scheme `{scheme}`")),
        None => Err("a secret reference is `scheme:name`, e.g. `env:DB_PASSWORD`".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_reads_only_regular_files_under_the_root() {
        let base = tempfile::tempdir().expect("dir");
        let root = base.path().join("repo");
        std::fs::create_dir_all(root.join("docs")).expect("mkdir");
        std::fs::write(root.join("docs/policy.json"), "{}").expect("write");
        std::fs::write(base.path().join("outside.txt"), "canary").expect("write");
        let host = SystemHost { base_dir: root.clone(), root: root.clone() };
        assert_eq!(host.read_file("docs/policy.json").as_deref(), Ok("{}"));
        for path in ["/etc/passwd", "../outside.txt", "docs/../../outside.txt", "/proc/self/environ", "docs"] {
            let err = host.read_file(path).expect_err(path);
            assert!(!err.contains("canary"), "{err}");
            assert!(err.starts_with(path), "the error names the path: {err}");
        }
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(base.path().join("outside.txt"), root.join("link.txt")).expect("symlink");
            assert!(host.read_file("link.txt").expect_err("symlink").contains("outside the root"));
        }
    }
}
