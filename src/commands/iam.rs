//! `drone iam`: the least-privilege policy of the identity that runs a
//! workflow (see `deployer.rs`), with a note for each script grant.

use std::path::Path;

use drone_lang::Catalog;

use crate::error::{CliError, Outcome};
use crate::exit::Exit;
use crate::pipeline;
use crate::session::params;

/// Prints the deployer policy of `file` (of one phase, when given), as one
/// document or as managed policy documents.
pub(crate) fn iam(
    file: &Path,
    raw_params: &[String],
    phase: Option<&str>,
    account: &str,
    managed: bool,
    catalog: &Catalog,
) -> Outcome {
    let loaded = pipeline::load(file, &params(raw_params)?, catalog)?;
    let policy = crate::deployer::policy(&loaded, catalog, phase, account)?;
    if managed {
        let documents =
            crate::deployer::managed_documents(&policy).map_err(|e| CliError::usage(e.to_string(), None))?;
        println!("{}", serde_json::to_string_pretty(&documents).unwrap_or_default());
        eprintln!(
            "note: {} managed policies; IAM attaches up to 10 to a role (20 with a quota increase)",
            documents.len()
        );
        return Ok(Exit::Success);
    }
    println!("{}", serde_json::to_string_pretty(&policy).unwrap_or_default());
    for spec in &loaded.scripts {
        for grant in
            spec.grants.0.iter().filter(|g| drone_stdlib::grants::get(&g.kind).is_some_and(|d| !d.actions.is_empty()))
        {
            eprintln!("note: {}: {} on {}", spec.title(), grant.kind, grant.targets.join(", "));
        }
    }
    if let Some(note) = crate::deployer::size_note(&policy) {
        eprintln!("{note}");
    }
    Ok(Exit::Success)
}

/// Prints the policy of the identity that releases `file`'s service (`drone iam --release`).
pub(crate) fn release(file: &Path, raw_params: &[String], account: &str, catalog: &Catalog) -> Outcome {
    let loaded = pipeline::load(file, &params(raw_params)?, catalog)?;
    let policy = crate::release::policy::release_policy(&loaded, catalog, account)?;
    println!("{}", serde_json::to_string_pretty(&policy).unwrap_or_default());
    Ok(Exit::Success)
}
