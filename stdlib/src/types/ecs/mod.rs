//! ECS: clusters, task definitions and Fargate services.

pub mod cluster;
pub mod service;
pub mod task_definition;

#[cfg(feature = "ecs")]
mod sdk;

/// What ECS answers when it cannot see yet what IAM or Elastic Load Balancing just made: a
/// `ClientException` ("ECS was unable to assume the role '...'") or an
/// `InvalidParameterException` naming the target group. It makes nothing others wait for.
pub const CONSISTENCY: crate::types::Consistency = crate::types::Consistency {
    service: "ecs",
    window: std::time::Duration::ZERO,
    listing: std::time::Duration::ZERO,
    codes: &["ClientException", "InvalidParameterException"],
};
