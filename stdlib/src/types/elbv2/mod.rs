//! Elastic Load Balancing (v2): application load balancers, target groups and listeners.

pub mod listener;
pub mod load_balancer;
pub mod target_group;

#[cfg(feature = "elbv2")]
mod sdk;
