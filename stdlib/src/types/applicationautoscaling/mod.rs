//! Application Auto Scaling: scalable targets (an ECS service's task count,
//! an Aurora cluster's readers, ...) and the policies that move them.

pub mod scalable_target;
pub mod scaling_policy;

#[cfg(feature = "applicationautoscaling")]
mod sdk;

/// Every scalable target of the account in the scope's region: their ARNs hold ids AWS assigns,
/// and scaling policies are authorized on their target.
pub fn any_scalable_target(s: &crate::types::Scope<'_>) -> crate::types::ArnPattern {
    crate::types::ArnPattern::new(
        "application-autoscaling",
        "ScalableTarget",
        format!("arn:aws:application-autoscaling:{}:{}:scalable-target/*", s.region, s.account),
    )
}

/// The namespaces drone lets a workflow scale.
pub const NAMESPACES: &[&str] = &["ecs", "rds", "dynamodb", "lambda", "elasticache"];
