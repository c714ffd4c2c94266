//! drone's engine: evaluates a checked program to a resource graph, plans it
//! against recorded state, and applies the plan concurrently through the
//! [`provider::Provider`] trait, which the standard library implements for
//! AWS. It calls no AWS API and links no SDK; the AWS knowledge it does hold
//! is what policies evaluate (IAM document semantics and the action
//! catalogue, reachability through gateways and routes, in `policy/`). Never
//! prints; the CLI renders what it returns. Time, environment, files and
//! processes come through [`host::Host`].

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
pub mod validate;
pub mod value;

pub use error::EvalError;
pub use model::Model;
pub use value::Value;
