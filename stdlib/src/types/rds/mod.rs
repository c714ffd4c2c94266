//! RDS: DB subnet groups, Aurora clusters and their instances, and global databases.

pub mod cluster;
pub mod cluster_instance;
pub mod db_subnet_group;
pub mod global_cluster;

#[cfg(feature = "rds")]
mod sdk;
