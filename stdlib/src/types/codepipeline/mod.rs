//! CodePipeline pipelines: source, build and deploy, one per environment.

pub mod pipeline;

/// CodePipeline refuses a service role IAM made a moment ago ("CodePipeline is not authorized to
/// perform AssumeRole on role arn:aws:iam::..."), naming the role.
pub const CONSISTENCY: crate::types::Consistency = crate::types::Consistency {
    service: "codepipeline",
    window: std::time::Duration::ZERO,
    listing: std::time::Duration::ZERO,
    codes: &["InvalidStructureException"],
};
