//! EFS: file systems and mount targets.

pub mod file_system;
pub mod mount_target;

#[cfg(feature = "efs")]
mod sdk;
