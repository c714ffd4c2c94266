//! ECS: clusters, task definitions and Fargate services.

pub mod cluster;
pub mod service;
pub mod task_definition;

#[cfg(feature = "ecs")]
mod sdk;
