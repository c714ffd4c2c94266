//! CloudWatch: metric alarms and dashboards.

pub mod alarm;
pub mod dashboard;

#[cfg(feature = "cloudwatch")]
pub(crate) mod sdk;
