//! IAM roles: trust policy, inline policies, managed policy attachments, tags.

pub mod role;

/// IAM's eventual consistency: a role or policy is usable by other services (ECS assuming it, a
/// freshly attached policy taking effect) only some seconds after IAM answers.
pub const CONSISTENCY: crate::types::Consistency = crate::types::Consistency {
    service: "iam",
    window: std::time::Duration::from_secs(30),
    listing: std::time::Duration::ZERO,
    codes: &[],
};
