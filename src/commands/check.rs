//! `drone check`: the pull-request gate. Loads, checks and judges each
//! workflow by its policies without touching the cloud, and reports in the
//! format asked for.

use std::path::PathBuf;

use drone_engine::policy::Severity;
use drone_lang::Catalog;

use crate::cli::args::{CheckFormat, PolicyArgs};
use crate::error::Outcome;
use crate::exit::Exit;
use crate::findings::Problem;
use crate::pipeline;
use crate::render::count;
use crate::session::params;

/// Checks `files`; the exit code is the worst outcome among them.
pub(crate) fn check(
    files: &[PathBuf],
    raw_params: &[String],
    format: CheckFormat,
    policy: &PolicyArgs,
    catalog: &Catalog,
) -> Outcome {
    let params = params(raw_params)?;
    let mut worst = Exit::Success;
    let mut reports = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        let report = pipeline::load(file, &params, catalog).and_then(|mut loaded| {
            crate::policies::evaluate(&mut loaded, catalog, &policy.selection()).map(|r| (r, loaded))
        });
        match report {
            Ok((report, loaded)) => {
                let exit = if report.active(Severity::Error) > 0 {
                    Exit::Policy
                } else if report.active(Severity::Warning) > 0 {
                    Exit::PolicyWarnings
                } else {
                    Exit::Success
                };
                worst = worse(worst, exit);
                match format {
                    CheckFormat::Human => {
                        crate::findings::human(&report, &loaded.program.sources);
                        println!(
                            "{}: {} in {}; {}",
                            file.display(),
                            count(loaded.model.instances.len(), "resource"),
                            count(loaded.model.phases.len(), "phase"),
                            crate::findings::summary(&report)
                        );
                    }
                    CheckFormat::Github => print!("{}", crate::findings::github(&report, &loaded.program.sources)),
                    CheckFormat::Json | CheckFormat::Sarif => {}
                }
                reports.push((report, loaded.program.sources));
            }
            // Every format says why a file could not be judged: PR annotations show language errors too.
            Err(e) => match format {
                CheckFormat::Human => worst = worse(worst, crate::render::failure(e)),
                CheckFormat::Github => {
                    let found = e.problems(&file.display().to_string());
                    print!("{}", found.iter().map(Problem::github).collect::<String>());
                    worst = worse(worst, crate::render::failure(e));
                }
                CheckFormat::Json | CheckFormat::Sarif => {
                    problems.extend(e.problems(&file.display().to_string()));
                    worst = worse(worst, crate::render::failure(e));
                }
            },
        }
    }
    match format {
        CheckFormat::Json => {
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::findings::json(&reports, &problems)).unwrap_or_default()
            )
        }
        CheckFormat::Sarif => {
            println!(
                "{}",
                serde_json::to_string_pretty(&crate::findings::sarif(&reports, &problems)).unwrap_or_default()
            )
        }
        _ => {}
    }
    Ok(worst)
}

/// The more serious of two outcomes: other failures, then policy errors,
/// then policy warnings, then success.
fn worse(a: Exit, b: Exit) -> Exit {
    let rank = |e: Exit| match e {
        Exit::Success => 0,
        Exit::PolicyWarnings => 1,
        Exit::Policy => 2,
        _ => 3,
    };
    if rank(b) > rank(a) {
        b
    } else {
        a
    }
}

/// `drone check --list-types`: every resource type with its attributes.
pub(crate) fn list_types(catalog: &Catalog) -> String {
    let mut out = String::new();
    for r in catalog.resources() {
        out.push_str(&format!("{}: {}\n", r.type_name, r.doc));
        for a in &r.attributes {
            let mode = match a.presence {
                drone_lang::Presence::Required => "required",
                drone_lang::Presence::Optional => "optional",
                drone_lang::Presence::Computed => "computed",
                drone_lang::Presence::OptionalComputed => "optional, computed",
            };
            let replaces = if a.force_new { ", replaces" } else { "" };
            // Whether a change made outside drone shows as drift.
            let drift = match (a.settable(), a.read_back, a.guarded) {
                (false, _, _) => "",
                (true, false, _) => ", not read back",
                (true, true, true) => ", guarded even when unset",
                (true, true, false) => "",
            };
            out.push_str(&format!("  {} ({}, {mode}{replaces}{drift}): {}\n", a.name, a.ty, a.doc));
        }
    }
    out
}
