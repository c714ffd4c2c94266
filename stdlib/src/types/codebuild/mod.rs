//! CodeBuild projects: the build stage of a pipeline, and the buildspec drone writes for image builds.

pub mod buildspec;
pub mod project;

/// CodeBuild refuses a service role IAM made a moment ago ("CodeBuild is not authorized to
/// perform: sts:AssumeRole on arn:aws:iam::...:role/..."), naming the role.
pub const CONSISTENCY: crate::types::Consistency = crate::types::Consistency {
    service: "codebuild",
    window: std::time::Duration::ZERO,
    listing: std::time::Duration::ZERO,
    codes: &["InvalidInputException"],
};
