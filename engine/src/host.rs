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
}

impl Host for SystemHost {
    fn env(&self, name: &str) -> Option<String> {
        std::env::var(name).ok()
    }

    fn read_file(&self, path: &str) -> Result<String, String> {
        let full = self.base_dir.join(Path::new(path));
        std::fs::read_to_string(&full).map_err(|e| format!("{}: {}", full.display(), e.to_string().to_lowercase()))
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
