//! A program is a root file plus the files it imports with `use`. Loading goes
//! through [`SourceLoader`], so the language itself does no IO and tests load
//! from memory.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::ast::{Item, Module};
use crate::bounds::MAX_FILE_BYTES;
use crate::diagnostic::{CheckError, SyntaxError};
use crate::span::{FileId, SourceMap, Span};

/// Reads source files for the loader.
pub trait SourceLoader {
    /// The text of `path`, or why it cannot be read.
    fn load(&self, path: &Path) -> Result<String, String>;
}

/// Loads from the file system, only under one root directory.
pub struct FsLoader {
    /// The directory files may be read from.
    pub root: PathBuf,
}

impl SourceLoader for FsLoader {
    fn load(&self, path: &Path) -> Result<String, String> {
        read_confined(&self.root, path)
    }
}

/// The text of `path`, read only when it is a regular file inside `root`
/// once `..` and symbolic links are resolved (never a device, a directory or
/// a file of `/proc` outside it) and at most [`MAX_FILE_BYTES`] long. The
/// error names the path's trouble, never the file's content.
pub fn read_confined(root: &Path, path: &Path) -> Result<String, String> {
    use std::io::Read;
    let lower = |e: std::io::Error| e.to_string().to_lowercase();
    let root = root.canonicalize().map_err(|e| format!("the root directory {}: {}", root.display(), lower(e)))?;
    let real = path.canonicalize().map_err(lower)?;
    if !real.starts_with(&root) {
        return Err(format!(
            "it is outside the root directory {} (the root is `--root DIR` when given, else the repository the workflow is in: the nearest directory above it holding `.git`, else the workflow's own directory; `--root DIR` widens it)",
            root.display()
        ));
    }
    let meta = std::fs::metadata(&real).map_err(lower)?;
    if !meta.is_file() {
        return Err("it is not a regular file".into());
    }
    let mut bytes = Vec::new();
    let limit = MAX_FILE_BYTES as u64;
    std::fs::File::open(&real).and_then(|f| f.take(limit + 1).read_to_end(&mut bytes)).map_err(lower)?;
    if bytes.len() as u64 > limit {
        return Err(format!("it is larger than {MAX_FILE_BYTES} bytes"));
    }
    String::from_utf8(bytes).map_err(|_| "it is not UTF-8 text".into())
}

/// The result of parsing one file: the tree and its syntax errors. Each
/// top-level item is parsed on its own (`incremental.rs`): the tree holds the
/// items that parse, and each broken item gives its own error.
#[derive(Clone, Debug)]
pub struct Parse {
    /// The syntax tree.
    pub module: Module,
    /// Syntax errors: one per item that does not parse (pest stops at the
    /// first error within an item).
    pub errors: Vec<SyntaxError>,
    /// How many of the broken items are in the tree all the same, read with
    /// their unclosed brackets closed (an editor's half-typed block).
    pub recovered: usize,
}

/// Parses one file's text.
pub fn parse(file: FileId, text: &str) -> Parse {
    crate::incremental::parse_by_items(file, text, None)
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
    load_with(root, text, loader, &mut |file, text| parse(file, text))
}

/// Loads `root` and the files it imports, parsing each with `parse` (an
/// editor passes an [`crate::ItemCache`]'s, to reuse unchanged items): the
/// root first, then each import.
pub fn load_with(
    root: &Path,
    text: String,
    loader: &dyn SourceLoader,
    parse: &mut dyn FnMut(FileId, &str) -> Parse,
) -> (Program, Vec<LoadError>) {
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
        // Only workflow files: an error in any other file would print its content.
        if !rel.ends_with(".drone") {
            errors.push(import_error(&use_decl.span, &rel, "only `.drone` files can be used"));
            continue;
        }
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
    let mut program = Program { sources, root_file, root_path: root.to_path_buf(), root: parsed.module, imports };
    // Components expand into ordinary items here, so everything after loading sees those.
    errors.extend(crate::components::expand(&mut program).into_iter().map(LoadError::from));
    (program, errors)
}

fn import_error(span: &Span, path: &str, reason: &str) -> LoadError {
    LoadError::Check(CheckError::Import { path: path.to_string(), reason: reason.to_string(), span: *span })
}
