//! drone's scripts: the rhai tasks, steps and hooks a workflow declares.
//! `spec` reads them out of a loaded program (grants included), `check`
//! compiles them and refuses what is known to be wrong before anything runs,
//! `engine` is the one hardened rhai engine every script runs in, `host` binds
//! the functions a script may call (each checks its grant first), `sql` and
//! `mysql` are the database functions, and `run` puts them together.
//! Nothing here talks to AWS: the AWS calls go through [`host::ScriptHost`].

pub mod check;
pub mod engine;
pub mod error;
pub mod grants;
pub mod host;
pub mod mysql;
pub mod run;
pub mod spec;
pub mod sql;

pub use error::ScriptError;
pub use spec::{collect, ScriptSpec};
