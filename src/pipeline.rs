//! The shared front half of every command: load, check, expand. Returns the
//! model or renders every diagnostic found and says which exit code applies.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use drone_engine::functions::CallContext;
use drone_engine::host::SystemHost;
use drone_engine::model::Model;
use drone_lang::{Catalog, FsLoader, Program};

use crate::error::CliError;
use crate::render::diagnostics;

/// A workflow that loaded, checked and expanded cleanly.
pub struct Loaded {
    /// The program (sources for later diagnostics).
    pub program: Program,
    /// The expanded model.
    pub model: Model,
    /// Its tasks, steps and hooks, compiled (never run here).
    pub scripts: Vec<drone_script::ScriptSpec>,
}

/// Loads, checks and expands `path`. Secrets are not resolved here.
pub fn load(path: &Path, params: &BTreeMap<String, String>, catalog: &Catalog) -> Result<Loaded, CliError> {
    load_with(path, params, catalog, false)
}

/// [`load`] as `check` sees a workflow: a required parameter given no value is unknown, not an
/// error (as `terraform validate` does), so a pull request is checked without production's values.
pub fn load_for_check(path: &Path, params: &BTreeMap<String, String>, catalog: &Catalog) -> Result<Loaded, CliError> {
    load_with(path, params, catalog, true)
}

fn load_with(
    path: &Path,
    params: &BTreeMap<String, String>,
    catalog: &Catalog,
    missing_unknown: bool,
) -> Result<Loaded, CliError> {
    let text = std::fs::read_to_string(path).map_err(|e| CliError::unreadable(path.display(), &e))?;
    let (program, load_errors) = drone_lang::load(path, text, &FsLoader { root: root_for(path) });
    if !load_errors.is_empty() {
        return Err(diagnostics(&load_errors, &program.sources));
    }
    let mut program = program;
    let errors = drone_lang::check(&program, catalog);
    if !errors.is_empty() {
        return Err(diagnostics(&errors, &program.sources));
    }
    let scripts = scripts(&mut program, &root_for(path))?;
    let host = host_for(path);
    let cx = CallContext { host: &host, salt: "", resolve_secrets: false };
    let input = drone_engine::eval::EvalInput { params, cx: &cx, missing_unknown };
    match drone_engine::eval::expand(&program, catalog, &input) {
        Ok(model) => {
            // Values AWS would refuse are errors now, with their span, not at apply.
            let invalid = drone_engine::validate::validate(&model, catalog, &cx);
            if invalid.is_empty() {
                Ok(Loaded { program, model, scripts })
            } else {
                Err(diagnostics(&invalid, &program.sources))
            }
        }
        Err(errors) => Err(diagnostics(&errors, &program.sources)),
    }
}

/// Reads and compiles every script the program declares; runs none.
fn scripts(program: &mut Program, root: &Path) -> Result<Vec<drone_script::ScriptSpec>, CliError> {
    let specs = drone_script::collect(program, root).map_err(|errors| diagnostics(&errors, &program.sources))?;
    let errors: Vec<drone_script::ScriptError> = specs.iter().flat_map(drone_script::check::check).collect();
    if !errors.is_empty() {
        return Err(diagnostics(&errors, &program.sources));
    }
    Ok(specs)
}

/// The host that `file()` and `env()` read through, relative to the workflow's directory.
pub fn host_for(path: &Path) -> SystemHost {
    SystemHost { base_dir: dir_of(path), root: root_for(path) }
}

/// `--root`, set once when the command line is read.
static ROOT: std::sync::OnceLock<PathBuf> = std::sync::OnceLock::new();

/// Sets the directory `use` and `file()` may read under (`--root`); by
/// default the repository the workflow belongs to (the nearest directory
/// above it holding `.git`), else the workflow's own directory.
pub fn set_root(root: PathBuf) {
    let _ = ROOT.set(root);
}

/// The directory files of the workflow at `path` may be read from.
pub fn root_for(path: &Path) -> PathBuf {
    ROOT.get().cloned().unwrap_or_else(|| {
        let dir = dir_of(path);
        let absolute = std::fs::canonicalize(&dir).unwrap_or_else(|_| dir.clone());
        absolute.ancestors().find(|a| a.join(".git").exists()).map_or(dir, Path::to_path_buf)
    })
}

/// The directory of the workflow at `path` (`.` for a bare file name).
pub fn dir_of(path: &Path) -> PathBuf {
    match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => PathBuf::from("."),
    }
}
