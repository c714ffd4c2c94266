//! `drone graph`: the resource graph, for reading and for diagrams.

use std::path::Path;

use drone_lang::Catalog;

use crate::cli::args::GraphFormat;
use crate::error::Outcome;
use crate::exit::Exit;
use crate::pipeline;
use crate::session::params;

/// Prints the resource graph of `file` as Graphviz or Mermaid.
pub(crate) fn graph(file: &Path, raw_params: &[String], format: GraphFormat, catalog: &Catalog) -> Outcome {
    let loaded = pipeline::load(file, &params(raw_params)?, catalog)?;
    print!(
        "{}",
        match format {
            GraphFormat::Dot => drone_engine::graph::dot(&loaded.model),
            GraphFormat::Mermaid => drone_engine::graph::mermaid(&loaded.model),
        }
    );
    Ok(Exit::Success)
}
