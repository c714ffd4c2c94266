//! ECR repositories.

pub mod repository;
