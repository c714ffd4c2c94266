//! drone's engine: evaluates a checked program to a resource graph, plans it
//! against recorded state, and applies the plan concurrently through the
//! [`provider::Provider`] trait. Knows nothing of AWS: the standard library
//! implements providers. Never prints; the CLI renders what it returns.

pub mod apply;
pub mod budget;
pub mod error;
pub mod eval;
mod frontier;
pub mod functions;
pub mod graph;
pub mod host;
pub mod lock;
pub mod lookup;
pub mod model;
pub mod orphans;
pub mod plan;
pub mod policy;
pub mod provider;
pub mod refresh;
mod resolve;
pub mod retry;
pub mod scripts;
pub mod state;
pub mod value;

pub use error::EvalError;
pub use model::Model;
pub use value::Value;
