//! ECR repositories, and the registry's replication rules.

pub mod replication_rule;
pub mod repository;
