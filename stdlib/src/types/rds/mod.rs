//! RDS: DB subnet groups and Aurora clusters.

pub mod cluster;
pub mod db_subnet_group;

#[cfg(feature = "rds")]
mod sdk;
