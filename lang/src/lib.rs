//! The `.drone` language: grammar, syntax tree, parser, formatter, name
//! resolution and type checking, and their diagnostics. This crate knows
//! nothing of AWS, the engine, tokio or the language server protocol; resource
//! types and functions reach it as data through [`Catalog`].

pub mod address;
pub mod ast;
pub mod bounds;
mod check;
pub mod components;
pub mod diagnostic;
pub mod duration;
pub mod fmt;
pub mod grants;
pub mod incremental;
mod lower;
pub mod path;
pub mod program;
pub mod schema;
pub mod shift;
pub mod span;
pub mod suggest;
pub mod trivia;

pub use check::{check, check_policies, DEFAULT_PHASE};
pub use diagnostic::{CheckError, Located, SyntaxError};
pub use incremental::ItemCache;
pub use program::{load, load_with, parse, read_confined, FsLoader, LoadError, Parse, Program, SourceLoader};
pub use schema::{AttributeSchema, Catalog, Field, FunctionSig, Presence, ResourceSchema, Type};
pub use span::{FileId, SourceFile, SourceMap, Span};
