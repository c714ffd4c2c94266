//! EFS: file systems, their mount targets and their replication.

pub mod file_system;
pub mod mount_target;
pub mod replication_configuration;

#[cfg(feature = "efs")]
mod sdk;
