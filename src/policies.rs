//! Policy packs: the built-in ones embedded in the binary, plus directories a
//! workflow or the command line adds. Loaded into the workflow's source map,
//! so findings and errors in them render with their source.

use std::path::{Path, PathBuf};

use drone_engine::functions::CallContext;
use drone_engine::policy::{self, Pack, Report};
use drone_lang::ast::Module;
use drone_lang::Catalog;

use crate::error::CliError;
use crate::pipeline::Loaded;
use crate::render::diagnostics;

/// The built-in packs: (name, file, text).
pub const BUILTIN: &[(&str, &str, &str)] = &[
    ("data", "policies/data.drone", include_str!("../policies/data.drone")),
    ("iam", "policies/iam.drone", include_str!("../policies/iam.drone")),
    ("network", "policies/network.drone", include_str!("../policies/network.drone")),
    ("operations", "policies/operations.drone", include_str!("../policies/operations.drone")),
    ("scripts", "policies/scripts.drone", include_str!("../policies/scripts.drone")),
];

/// Which policies to run.
#[derive(Clone, Debug, Default)]
pub struct Selection {
    /// Extra directories of `.drone` policy files.
    pub dirs: Vec<PathBuf>,
    /// Packs or rule ids turned off.
    pub disabled: Vec<String>,
    /// A saved report whose findings do not count.
    pub baseline: Option<PathBuf>,
}

/// Loads the packs into `loaded`'s sources, checks them, and evaluates them
/// over its model. Language errors in a pack are rendered and reported as such.
pub fn evaluate(loaded: &mut Loaded, catalog: &Catalog, selection: &Selection) -> Result<Report, CliError> {
    evaluate_with(loaded, catalog, selection, &mut PackCache::default())
}

/// The packs parsed and checked the last time, kept while their texts stay
/// the same: the language server judges every edit by the same packs.
#[derive(Default)]
pub struct PackCache {
    /// (name, file, text) of each pack.
    sources: Vec<(String, String, String)>,
    /// Each pack's name and tree; their spans' files are set on each use.
    modules: Vec<(String, Module)>,
}

/// [`evaluate`], parsing the packs only when `cache` holds other texts.
pub fn evaluate_with(
    loaded: &mut Loaded,
    catalog: &Catalog,
    selection: &Selection,
    cache: &mut PackCache,
) -> Result<Report, CliError> {
    let baseline = match &selection.baseline {
        Some(path) => Some(crate::baseline::load(path).map_err(|e| CliError::usage(e.to_string(), None))?),
        None => None,
    };
    let sources = pack_sources(loaded, selection)?;
    let ids: Vec<_> =
        sources.iter().map(|(_, file, text)| loaded.program.sources.add(file.clone(), text.clone())).collect();
    if cache.sources != sources || cache.modules.len() != sources.len() {
        cache.modules = parse_packs(&sources, &ids, loaded, catalog)?;
        cache.sources = sources;
    }
    let mut modules = cache.modules.clone();
    for ((_, module), id) in modules.iter_mut().zip(&ids) {
        drone_lang::shift::Shift::shift(module, *id, 0);
    }
    let packs: Vec<Pack<'_>> = modules.iter().map(|(name, module)| Pack { name: name.clone(), module }).collect();
    let known = policy::known_names(&packs);
    if let Some(name) = selection.disabled.iter().find(|n| !known.contains(*n)) {
        return Err(CliError::usage(
            format!("`--disable-policy {name}`: no policy pack or rule is named `{name}`"),
            Some(policy::unknown_name_help(name, &known)),
        ));
    }
    let host = crate::pipeline::host_for(&loaded.program.root_path);
    let cx = CallContext { host: &host, salt: "", resolve_secrets: false };
    let mut report = policy::evaluate(&packs, &loaded.model, catalog, &cx, &selection.disabled)
        .map_err(|errors| diagnostics(&errors, &loaded.program.sources))?;
    if let Some(baseline) = baseline {
        report.compare_with_baseline(baseline);
    }
    Ok(report)
}

/// (name, file, text) of the built-in packs and of every `.drone` file in the
/// workflow's and the command line's policy directories.
fn pack_sources(loaded: &Loaded, selection: &Selection) -> Result<Vec<(String, String, String)>, CliError> {
    let base = loaded.program.root_path.parent().map(Path::to_path_buf).unwrap_or_default();
    let mut sources: Vec<(String, String, String)> =
        BUILTIN.iter().map(|(n, f, t)| (n.to_string(), f.to_string(), t.to_string())).collect();
    let dirs = loaded.model.policy_dirs.iter().map(|d| base.join(d)).chain(selection.dirs.iter().cloned());
    for dir in dirs {
        let entries = std::fs::read_dir(&dir)
            .map_err(|e| CliError::unreadable(format!("policy directory {}", dir.display()), &e))?;
        let mut files: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| p.extension().is_some_and(|x| x == "drone"))
            .collect();
        files.sort();
        for file in files {
            let text = std::fs::read_to_string(&file).map_err(|e| CliError::unreadable(file.display(), &e))?;
            let name = file.file_stem().map(|s| s.to_string_lossy().into_owned()).unwrap_or_default();
            sources.push((name, file.display().to_string(), text));
        }
    }
    Ok(sources)
}

/// Parses and checks each pack (already in the source map as `ids`).
fn parse_packs(
    sources: &[(String, String, String)],
    ids: &[drone_lang::FileId],
    loaded: &Loaded,
    catalog: &Catalog,
) -> Result<Vec<(String, Module)>, CliError> {
    let mut modules = Vec::new();
    let mut errors = Vec::new();
    for ((name, _, text), id) in sources.iter().zip(ids) {
        let parsed = drone_lang::parse(*id, text);
        if !parsed.errors.is_empty() {
            return Err(diagnostics(&parsed.errors, &loaded.program.sources));
        }
        errors.extend(drone_lang::check_policies(&parsed.module, catalog));
        modules.push((name.clone(), parsed.module));
    }
    if !errors.is_empty() {
        return Err(diagnostics(&errors, &loaded.program.sources));
    }
    Ok(modules)
}
