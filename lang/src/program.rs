//! A program is a root file plus the files it imports with `use`. Loading goes
//! through [`SourceLoader`], so the language itself does no IO and tests load
//! from memory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::ast::{Item, Module};
use crate::diagnostic::{CheckError, SyntaxError};
use crate::span::{FileId, SourceMap, Span};

/// Reads source files for the loader.
pub trait SourceLoader {
    /// The text of `path`, or why it cannot be read.
    fn load(&self, path: &Path) -> Result<String, String>;
}

/// Loads from the file system.
pub struct FsLoader;

impl SourceLoader for FsLoader {
    fn load(&self, path: &Path) -> Result<String, String> {
        std::fs::read_to_string(path).map_err(|e| e.to_string().to_lowercase())
    }
}

/// The result of parsing one file: the tree and its syntax errors. On an error
/// the tree holds no items, so callers can keep their last good tree.
#[derive(Clone, Debug)]
pub struct Parse {
    /// The syntax tree.
    pub module: Module,
    /// Syntax errors (at most one today: pest stops at the first).
    pub errors: Vec<SyntaxError>,
}

/// Parses one file's text.
pub fn parse(file: FileId, text: &str) -> Parse {
    match crate::lower::parse_module(file, text) {
        Ok(module) => Parse { module, errors: Vec::new() },
        Err(error) => {
            Parse { module: Module { items: Vec::new(), span: Span::new(file, 0, text.len()) }, errors: vec![error] }
        }
    }
}

/// One imported file.
#[derive(Clone, Debug)]
pub struct Import {
    /// The name it is reached by.
    pub alias: String,
    /// Its resolved path.
    pub path: PathBuf,
    /// Its syntax tree.
    pub module: Module,
}

/// A root file and its imports, with all their sources.
#[derive(Clone, Debug)]
pub struct Program {
    /// Every loaded file.
    pub sources: SourceMap,
    /// The root file's id.
    pub root_file: FileId,
    /// The root file's path.
    pub root_path: PathBuf,
    /// The root file's tree.
    pub root: Module,
    /// Imported files by alias.
    pub imports: BTreeMap<String, Import>,
}

/// Errors met while loading: syntax errors, or imports that failed.
#[derive(Clone, Debug, thiserror::Error, miette::Diagnostic, PartialEq)]
pub enum LoadError {
    /// A syntax error in one of the files.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Syntax(#[from] SyntaxError),
    /// An import that could not be loaded.
    #[error(transparent)]
    #[diagnostic(transparent)]
    Check(#[from] CheckError),
}

impl crate::diagnostic::Located for LoadError {
    fn span(&self) -> Span {
        match self {
            LoadError::Syntax(e) => e.span(),
            LoadError::Check(e) => e.span(),
        }
    }
}

/// Loads `root` and the files it imports.
pub fn load(root: &Path, text: String, loader: &dyn SourceLoader) -> (Program, Vec<LoadError>) {
    let mut sources = SourceMap::new();
    let root_file = sources.add(root.display().to_string(), text.clone());
    let parsed = parse(root_file, &text);
    let mut errors: Vec<LoadError> = parsed.errors.into_iter().map(LoadError::from).collect();
    let mut imports = BTreeMap::new();
    let base = root.parent().unwrap_or(Path::new("."));
    for item in &parsed.module.items {
        let Item::Use(use_decl) = item else { continue };
        let Some(rel) = use_decl.path.as_plain_string() else {
            errors.push(import_error(&use_decl.path.span, "<interpolated>", "the path must be a plain string"));
            continue;
        };
        let path = base.join(&rel);
        match loader.load(&path) {
            Ok(text) => {
                let file = sources.add(path.display().to_string(), text.clone());
                let parsed = parse(file, &text);
                errors.extend(parsed.errors.into_iter().map(LoadError::from));
                imports.insert(
                    use_decl.alias.name.clone(),
                    Import { alias: use_decl.alias.name.clone(), path, module: parsed.module },
                );
            }
            Err(reason) => errors.push(import_error(&use_decl.span, &rel, &reason)),
        }
    }
    let program = Program { sources, root_file, root_path: root.to_path_buf(), root: parsed.module, imports };
    (program, errors)
}

fn import_error(span: &Span, path: &str, reason: &str) -> LoadError {
    LoadError::Check(CheckError::Import { path: path.to_string(), reason: reason.to_string(), span: *span })
}
