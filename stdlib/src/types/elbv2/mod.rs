//! Elastic Load Balancing (v2): application load balancers, target groups, listeners and their rules.

pub mod listener;
pub mod listener_rule;
pub mod load_balancer;
pub mod target_group;

#[cfg(feature = "elbv2")]
mod sdk;

/// Elastic Load Balancing's eventual consistency: a target group or listener just made may not be
/// accepted yet by other calls (ECS answers that the target group has no load balancer).
pub const CONSISTENCY: crate::types::Consistency = crate::types::Consistency {
    service: "elasticloadbalancingv2",
    window: std::time::Duration::from_secs(30),
    listing: std::time::Duration::ZERO,
    codes: &[],
};
