//! What evaluation reads from the outside world: environment variables, files
//! and secrets. Behind a trait so evaluation stays a pure function in tests.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::SystemTime;

/// The outside world as evaluation sees it.
pub trait Host: Sync {
    /// An environment variable.
    fn env(&self, name: &str) -> Option<String>;
    /// A file's text, relative to the workflow's directory.
    fn read_file(&self, path: &str) -> Result<String, String>;
    /// The plaintext of a secret reference such as `env:NAME`.
    fn secret(&self, reference: &str) -> Result<String, String>;
    /// Today's date, `YYYY-MM-DD` in UTC (suppressions expire by it).
    fn today(&self) -> String {
        humantime::format_rfc3339_seconds(self.now()).to_string()[..10].to_string()
    }
    /// The current time (a lock's lease is reckoned by it).
    fn now(&self) -> SystemTime;
    /// This machine, user and process: who holds a lock taken now.
    fn machine(&self) -> Machine;
    /// Whether process `pid` runs on this machine, where the system can tell.
    fn process_alive(&self, pid: u32) -> Option<bool>;
}

/// Who a process is: what a lock records of its holder.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Machine {
    /// The host's name.
    pub host: String,
    /// The user's name.
    pub user: String,
    /// The process id.
    pub pid: u32,
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

    fn now(&self) -> SystemTime {
        SystemTime::now()
    }

    fn machine(&self) -> Machine {
        Machine {
            host: std::fs::read_to_string("/etc/hostname")
                .map(|h| h.trim().to_string())
                .unwrap_or_else(|_| "localhost".into()),
            user: std::env::var("USER").or_else(|_| std::env::var("USERNAME")).unwrap_or_else(|_| "unknown".into()),
            pid: std::process::id(),
        }
    }

    fn process_alive(&self, pid: u32) -> Option<bool> {
        let proc = Path::new("/proc");
        proc.join("self").exists().then(|| proc.join(pid.to_string()).exists())
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
    /// The time `now()` gives (the epoch when unset).
    pub now: Option<SystemTime>,
    /// The processes that run on this pretend machine.
    pub running: Vec<u32>,
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

    fn now(&self) -> SystemTime {
        self.now.unwrap_or(SystemTime::UNIX_EPOCH)
    }

    fn machine(&self) -> Machine {
        Machine { host: "memory".into(), user: "test".into(), pid: 1 }
    }

    fn process_alive(&self, pid: u32) -> Option<bool> {
        Some(self.running.contains(&pid))
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
