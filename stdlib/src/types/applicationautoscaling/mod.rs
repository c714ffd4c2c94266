//! Application Auto Scaling: scalable targets (an ECS service's task count,
//! an Aurora cluster's readers, ...) and the policies that move them.

pub mod scalable_target;
pub mod scaling_policy;

#[cfg(feature = "applicationautoscaling")]
mod sdk;

/// The namespaces drone lets a workflow scale.
pub const NAMESPACES: &[&str] = &["ecs", "rds", "dynamodb", "lambda", "elasticache"];
