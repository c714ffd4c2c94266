//! Baselines: a saved `drone check --format json` report whose findings no
//! longer fail a check, so an existing estate can adopt drone and still stop
//! every new finding.

use std::path::Path;

use drone_engine::policy::Fingerprint;
use serde::Deserialize;

/// Why a baseline file cannot be used.
#[derive(Debug, thiserror::Error)]
pub enum BaselineError {
    /// The file cannot be read.
    #[error("cannot read baseline {path}: {message}")]
    Read {
        /// The file.
        path: String,
        /// The operating system's reason.
        message: String,
    },
    /// The file is not a report written by `drone check --format json`.
    #[error(
        "{path} is not a drone check report ({message}); write one with `drone check --format json FILE > {path}`"
    )]
    Format {
        /// The file.
        path: String,
        /// What the JSON parser said.
        message: String,
    },
}

#[derive(Deserialize)]
struct SavedReport {
    format_version: u32,
    findings: Vec<SavedFinding>,
}

#[derive(Deserialize)]
struct SavedFinding {
    rule: String,
    address: String,
    attribute: Option<String>,
    message: String,
}

/// The fingerprints of the findings saved in `path`.
pub fn load(path: &Path) -> Result<Vec<Fingerprint>, BaselineError> {
    let shown = path.display().to_string();
    let text = std::fs::read_to_string(path)
        .map_err(|e| BaselineError::Read { path: shown.clone(), message: e.to_string().to_lowercase() })?;
    let saved: SavedReport = serde_json::from_str(&text)
        .map_err(|e| BaselineError::Format { path: shown.clone(), message: e.to_string() })?;
    if saved.format_version != 1 {
        return Err(BaselineError::Format {
            path: shown,
            message: format!("format_version {} is not 1", saved.format_version),
        });
    }
    Ok(saved.findings.into_iter().map(|f| (f.rule, f.address, f.attribute, f.message)).collect())
}
