//! Evaluation: a checked program and parameter values in, a [`Model`] out.
//! Loops and conditions are expanded here (they must be decidable before
//! anything runs); attribute values are evaluated later, by the planner and the
//! applier, through [`Evaluator`].

mod expand;
mod expr;

pub use expand::{expand, parse_param, EvalInput};
pub use expr::{Evaluator, Functions, NothingKnown, Resolver};
