//! `drone check`: the pull-request gate. Loads, checks and judges each
//! workflow by its policies without touching the cloud, and reports in the
//! format asked for.

use std::path::{Path, PathBuf};

use drone_engine::policy::Severity;
use drone_lang::Catalog;

use crate::cli::args::{CheckFormat, PolicyArgs};
use crate::error::{CliError, Outcome};
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
    let files = workflow_files(files)?;
    let mut worst = Exit::Success;
    let mut reports = Vec::new();
    let mut problems = Vec::new();
    for file in &files {
        let report = pipeline::load_for_check(file, &params, catalog).and_then(|mut loaded| {
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

/// The files to check: each file given, and every `.drone` file under each directory given
/// (hidden directories and `target` left out), in name order.
fn workflow_files(given: &[PathBuf]) -> Result<Vec<PathBuf>, CliError> {
    fn walk(dir: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
        let mut entries: Vec<PathBuf> = std::fs::read_dir(dir)?.filter_map(|e| e.ok().map(|e| e.path())).collect();
        entries.sort();
        for path in entries {
            let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default();
            if path.is_dir() && !name.starts_with('.') && name != "target" {
                walk(&path, out)?;
            } else if path.is_file() && name.ends_with(".drone") {
                out.push(path);
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    for path in given {
        if path.is_dir() {
            let before = out.len();
            walk(path, &mut out).map_err(|e| CliError::unreadable(path.display(), &e))?;
            if out.len() == before {
                return Err(CliError::usage(format!("{} holds no .drone file", path.display()), None));
            }
        } else {
            out.push(path.clone());
        }
    }
    Ok(out)
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
            fields(&a.ty, 2, &mut out);
        }
    }
    out
}

/// The fields of an object type (or of a list's or map's objects), indented under their attribute.
fn fields(ty: &drone_lang::schema::Type, depth: usize, out: &mut String) {
    use drone_lang::schema::Type;
    match ty {
        Type::Object(fields_of) => {
            for f in fields_of {
                let presence = if f.required { "required" } else { "optional" };
                out.push_str(&format!("{}.{} ({}, {presence}): {}\n", "  ".repeat(depth), f.name, f.ty, f.doc));
                self::fields(&f.ty, depth + 1, out);
            }
        }
        Type::List(inner) | Type::Map(inner) => self::fields(inner, depth, out),
        _ => {}
    }
}
