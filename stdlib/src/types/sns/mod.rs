//! SNS: topics that fan alarms out, and their subscriptions.

pub mod subscription;
pub mod topic;
