//! `drone fmt`: rewrites workflow files in the canonical layout, keeping
//! every comment (or refusing to format a file rather than drop one).

use std::path::PathBuf;

use crate::error::{CliError, Outcome};
use crate::exit::Exit;
use crate::render::print_all;

/// Formats `files` in place, or only says which are not formatted.
pub(crate) fn fmt(files: &[PathBuf], check_only: bool) -> Outcome {
    let mut exit = Exit::Success;
    for file in files {
        let text = std::fs::read_to_string(file).map_err(|e| CliError::unreadable(file.display(), &e))?;
        let mut sources = drone_lang::SourceMap::new();
        let id = sources.add(file.display().to_string(), text.clone());
        let parsed = drone_lang::parse(id, &text);
        if !parsed.errors.is_empty() {
            print_all(&parsed.errors, &sources);
            exit = Exit::Language;
            continue;
        }
        let formatted = match drone_lang::fmt::format(&text, &parsed.module) {
            Ok(f) => f,
            Err(e) => {
                print_all(&[e], &sources);
                exit = Exit::Language;
                continue;
            }
        };
        if formatted == text {
            continue;
        }
        if check_only {
            println!("{}: not formatted", file.display());
            exit = Exit::Language;
        } else {
            std::fs::write(file, formatted).map_err(|e| CliError::unwritable(file.display(), &e))?;
            println!("{}: formatted", file.display());
        }
    }
    Ok(exit)
}
