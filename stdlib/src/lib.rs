//! drone's standard library: the resource types the language knows (one
//! module each in `types`, named once in `registry`; their descriptions are
//! always compiled) and the AWS provider behind them (one cargo feature per
//! service, so language work never builds the AWS SDK).

pub mod grants;
pub mod permissions;
pub mod registry;
pub mod schema;
pub mod types;

#[cfg(feature = "sdk")]
pub mod aws;

pub use schema::catalog;
