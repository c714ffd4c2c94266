//! A release's record in state (`drone release`): what it published, built
//! and deployed, written after each step, so a release that was killed
//! resumes where it stopped and `drone release --history` can say who
//! released which image, when, and how it ended.

use serde::{Deserialize, Serialize};

/// How far a release has got: each step is recorded once done.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseStep {
    /// Nothing done yet.
    Started,
    /// The source is committed (`commit`).
    Published,
    /// The pipeline runs at that commit (`execution`).
    Building,
    /// The image is built (`image`); ECS is deploying it.
    Deploying,
    /// Finished (`outcome`).
    Done,
}

impl ReleaseStep {
    /// As progress and `--history` print it.
    pub fn label(self) -> &'static str {
        match self {
            ReleaseStep::Started => "started",
            ReleaseStep::Published => "published",
            ReleaseStep::Building => "building",
            ReleaseStep::Deploying => "deploying",
            ReleaseStep::Done => "done",
        }
    }
}

/// How a release ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReleaseOutcome {
    /// The new image serves all traffic.
    Succeeded,
    /// The deployment was rolled back: traffic is on the previous revision.
    RolledBack,
    /// The pipeline failed or stopped before anything was deployed.
    Failed,
}

impl ReleaseOutcome {
    /// As `--history` prints it.
    pub fn label(self) -> &'static str {
        match self {
            ReleaseOutcome::Succeeded => "succeeded",
            ReleaseOutcome::RolledBack => "rolled back",
            ReleaseOutcome::Failed => "failed",
        }
    }
}

/// One release of the workflow's service.
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
pub struct Release {
    /// Unique within the state; also the pipeline execution's idempotency token.
    pub id: String,
    /// Who released (`DRONE_ACTOR`, else the login name).
    pub actor: String,
    /// When it started (RFC 3339, UTC).
    pub started: String,
    /// When it finished.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub finished: Option<String>,
    /// The pipeline's address in the workflow.
    pub pipeline: String,
    /// The last step done.
    pub step: ReleaseStep,
    /// The commit released.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub commit: Option<String>,
    /// The pipeline execution building it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub execution: Option<String>,
    /// The image built, by digest (`REPOSITORY@sha256:...`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub image: Option<String>,
    /// The task definition the service ran before.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub previous_task_definition: Option<String>,
    /// The task definition that runs the image.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub task_definition: Option<String>,
    /// How it ended.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub outcome: Option<ReleaseOutcome>,
    /// Why, when it did not succeed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
}
