//! drone's standard library: the resource types the language knows (their
//! schemas, always compiled) and the AWS provider behind them (one cargo
//! feature per service, so language work never builds the AWS SDK).

pub mod permissions;
pub mod schema;

#[cfg(feature = "sdk")]
pub mod aws;

pub use schema::catalog;
