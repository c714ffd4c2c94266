//! `drone output`: the workflow's outputs as the last successful run recorded
//! them in state, for scripts and for people. Reads state only.

use std::path::Path;

use drone_lang::Catalog;

use crate::error::{CliError, Outcome};
use crate::exit::Exit;
use crate::render::did_you_mean;

/// Prints one output (a string bare, anything else as JSON) or all of them.
pub(crate) async fn output(
    file: &Path,
    name: Option<&str>,
    json: bool,
    state_flag: Option<&str>,
    catalog: &Catalog,
) -> Outcome {
    let (workflow, _, backend, _) = crate::commands::state::state_of(file, state_flag, catalog).await?;
    let state = crate::store::load(backend.as_ref(), &workflow).await?;
    let shown = |v: &serde_json::Value| match v {
        // A secret's value is never in state: only its fingerprint.
        v if v.get("$sensitive").is_some() => serde_json::json!("(sensitive)"),
        v => v.clone(),
    };
    match name {
        Some(name) => {
            let Some(value) = state.outputs.get(name) else {
                let help = did_you_mean(name, state.outputs.keys().map(String::as_str));
                let known = if state.outputs.is_empty() { "; state records none: run the workflow first" } else { "" };
                return Err(CliError::refused(format!("no output `{name}` in state{help}{known}"), None));
            };
            match (json, shown(value)) {
                (false, serde_json::Value::String(text)) => println!("{text}"),
                (_, value) => println!("{}", serde_json::to_string_pretty(&value).unwrap_or_default()),
            }
        }
        None if json => {
            let all: serde_json::Map<String, serde_json::Value> =
                state.outputs.iter().map(|(k, v)| (k.clone(), shown(v))).collect();
            println!("{}", serde_json::to_string_pretty(&all).unwrap_or_default());
        }
        None => {
            let width = state.outputs.keys().map(String::len).max().unwrap_or(0);
            for (name, value) in &state.outputs {
                println!("{name:width$} = {}", serde_json::to_string(&shown(value)).unwrap_or_default());
            }
        }
    }
    Ok(Exit::Success)
}
