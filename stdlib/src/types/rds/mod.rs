//! RDS: DB subnet groups, Aurora clusters and their instances.

pub mod cluster;
pub mod cluster_instance;
pub mod db_subnet_group;

#[cfg(feature = "rds")]
mod sdk;
