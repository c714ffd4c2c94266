//! One module per command: what it does, from arguments already parsed
//! (`cli::args`) to its outcome. What several share is in `session.rs`.

pub(crate) mod apply;
pub(crate) mod check;
pub(crate) mod destroy;
pub(crate) mod fargate;
pub(crate) mod fmt;
pub(crate) mod graph;
pub(crate) mod iam;
pub(crate) mod import;
pub(crate) mod orphans;
pub(crate) mod output;
pub(crate) mod plan;
pub(crate) mod release;
pub(crate) mod run;
pub(crate) mod saved;
pub(crate) mod state;
pub(crate) mod task;
