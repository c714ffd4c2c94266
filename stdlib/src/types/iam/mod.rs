//! IAM roles: trust policy, inline policies, managed policy attachments, tags.

pub mod role;
