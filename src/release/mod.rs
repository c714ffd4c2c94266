//! `drone release`: ships the build's source (`workflows/ghost`) through the
//! workflow's delivery pipeline. Publish (a commit through CodeCommit's API;
//! or a commit named with `--commit`, already on the branch, which is how a
//! source on GitHub is released), build (a pipeline execution pinned to that commit, until ECR holds its
//! image), deploy (ECS moves the service to it with the service's own
//! strategy; drone shows the listener weights as they move, watches the
//! rollback alarms, and stops the deployment with a rollback when one fires).
//! Each step is recorded in state once done, so a killed release resumes
//! where it stopped and never starts a second pipeline run for the same
//! release.

pub(crate) mod policy;
pub(crate) mod source;
pub(crate) mod targets;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use drone_engine::provider::ProviderError;
use drone_engine::state::{Release, ReleaseOutcome, ReleaseStep, State};
use drone_stdlib::aws::release::Commit;
use drone_stdlib::aws::AwsProvider;

use crate::error::CliError;
use targets::Targets;

/// How far back a named commit is looked for on the branch.
const BRANCH_DEPTH: usize = 500;

/// Pipeline execution statuses after which no image will come.
const ENDED_WITHOUT_IMAGE: [&str; 4] = ["Failed", "Stopped", "Superseded", "Cancelled"];

/// What the release is asked to do.
pub(crate) struct Request<'a> {
    /// The build's source directory.
    pub(crate) source: &'a std::path::Path,
    /// The commit message (a default names the release).
    pub(crate) message: Option<&'a str>,
    /// Who releases.
    pub(crate) actor: &'a str,
    /// The author's email address.
    pub(crate) email: &'a str,
    /// How long to wait for the build and the deployment.
    pub(crate) timeout: Duration,
    /// How often to look.
    pub(crate) poll: Duration,
}

/// A release under way: its targets, the providers that reach them, and where its record is saved.
pub(crate) struct Run<'a> {
    pub(crate) targets: &'a Targets,
    pub(crate) pipeline: Arc<AwsProvider>,
    pub(crate) service: Arc<AwsProvider>,
    pub(crate) backend: &'a dyn drone_engine::state::Backend,
}

/// Why a release stopped short.
#[derive(Debug, thiserror::Error)]
pub(crate) enum ReleaseError {
    /// An AWS call failed (the error names the operation).
    #[error(transparent)]
    Call(#[from] ProviderError),
    /// The build's source could not be read.
    #[error(transparent)]
    Source(#[from] source::SourceError),
    /// The commit named is not on the branch the pipeline follows.
    #[error("commit {commit} is not on {repository}@{branch} (within its last {BRANCH_DEPTH} commits)")]
    NotOnBranch { commit: String, repository: String, branch: String },
    /// The source is on GitHub and no commit was named.
    #[error("the pipeline's source is {0} on GitHub, which the team pushes to: name the commit to release")]
    NeedsCommit(String),
    /// The commit named is not a full commit id.
    #[error("`{0}` is not a full commit id (40 hexadecimal characters)")]
    BadCommit(String),
    /// The connection to the source's host cannot be used yet.
    #[error("connection {arn} is {status}: CodePipeline cannot read the source through it")]
    ConnectionNotReady { arn: String, status: String },
    /// A step did not finish in time; the release is recorded and resumes.
    #[error(
        "{0} did not finish within {1} minute(s); `drone release` again resumes the release, `--rollback` ends it"
    )]
    Timeout(&'static str, u64),
    /// Saving the record failed.
    #[error(transparent)]
    State(#[from] CliError),
}

/// A fresh record for a release by `actor` through `targets`' pipeline, of `commit` when one is named.
pub(crate) fn new_record(targets: &Targets, actor: &str, commit: Option<&str>) -> Release {
    let now = std::time::SystemTime::now();
    let stamp = humantime::format_rfc3339_seconds(now).to_string();
    let nanos = now.duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_nanos();
    let compact: String = stamp.chars().filter(char::is_ascii_alphanumeric).collect();
    Release {
        id: format!("r{}-{:05x}{:04x}", compact.to_lowercase(), nanos >> 12, std::process::id() & 0xffff),
        actor: actor.to_string(),
        started: stamp,
        finished: None,
        pipeline: targets.address.clone(),
        step: ReleaseStep::Started,
        commit: commit.map(String::from),
        execution: None,
        image: None,
        previous_task_definition: None,
        task_definition: None,
        outcome: None,
        reason: None,
    }
}

/// The release under way: the last record (`drive` is only called with one).
pub(crate) fn current(state: &State) -> Release {
    state.releases.last().cloned().expect("a release record")
}

/// The unfinished release in `state`, if any (the last one).
pub(crate) fn unfinished(state: &State) -> Option<&Release> {
    state.releases.last().filter(|r| r.step != ReleaseStep::Done)
}

impl Run<'_> {
    /// Whether a new release of `commit` (none: publish the source directory) can start: the
    /// commit is a full id on the branch, and a connection to the source's host is usable.
    pub(crate) async fn admit(&self, commit: Option<&str>) -> Result<(), ReleaseError> {
        let t = self.targets;
        if let Some(commit) = commit {
            if commit.len() != 40 || !commit.bytes().all(|b| b.is_ascii_hexdigit()) {
                return Err(ReleaseError::BadCommit(commit.into()));
            }
        }
        match (&t.connection, commit) {
            (Some(_), None) => Err(ReleaseError::NeedsCommit(t.repository.clone())),
            (Some(arn), Some(_)) => {
                let status = self.pipeline.connection_status(arn).await?;
                match status.as_str() {
                    "AVAILABLE" => Ok(()),
                    _ => Err(ReleaseError::ConnectionNotReady { arn: arn.clone(), status }),
                }
            }
            // On the branch, so a release never ships what skipped the branch's reviews.
            (None, Some(commit)) => {
                let on_branch = self.pipeline.on_branch(&t.repository, &t.branch, commit, BRANCH_DEPTH).await?;
                on_branch.then_some(()).ok_or_else(|| ReleaseError::NotOnBranch {
                    commit: commit.into(),
                    repository: t.repository.clone(),
                    branch: t.branch.clone(),
                })
            }
            (None, None) => Ok(()),
        }
    }

    /// Takes the release in `state`'s last record from where it stopped to its end.
    pub(crate) async fn drive(&self, state: &mut State, request: &Request<'_>) -> Result<ReleaseOutcome, ReleaseError> {
        let deadline = Instant::now() + request.timeout;
        loop {
            let record = current(state);
            match record.step {
                ReleaseStep::Started => self.publish(state, request).await?,
                ReleaseStep::Published => self.start_build(state).await?,
                ReleaseStep::Building => self.await_image(state, request, deadline).await?,
                ReleaseStep::Deploying => self.await_deployment(state, request, deadline).await?,
                ReleaseStep::Done => return Ok(record.outcome.unwrap_or(ReleaseOutcome::Failed)),
            }
        }
    }

    /// Changes the last record and saves state: the step is done once this returns.
    async fn record(&self, state: &mut State, change: impl FnOnce(&mut Release)) -> Result<(), ReleaseError> {
        if let Some(record) = state.releases.last_mut() {
            change(record);
        }
        crate::store::save(self.backend, state).await?;
        Ok(())
    }

    async fn finish(
        &self,
        state: &mut State,
        outcome: ReleaseOutcome,
        reason: Option<String>,
    ) -> Result<(), ReleaseError> {
        let now = crate::progress::stamp();
        self.record(state, |r| {
            r.step = ReleaseStep::Done;
            r.outcome = Some(outcome);
            r.reason = reason;
            r.finished = Some(now);
        })
        .await
    }

    /// Commits what differs between the source directory and the branch's head; or, for a
    /// release of a named commit, makes sure the branch holds it.
    async fn publish(&self, state: &mut State, request: &Request<'_>) -> Result<(), ReleaseError> {
        let t = self.targets;
        if let Some(commit) = current(state).commit {
            // Named with `--commit`, and admitted (`admit`) before the release was recorded.
            eprintln!("publish: releasing {}@{} at {}", t.repository, t.branch, short(&commit));
            return self.record(state, |r| r.step = ReleaseStep::Published).await;
        }
        let local = source::files(request.source)?;
        let head = self.pipeline.branch_head(&t.repository, &t.branch).await?;
        let remote = match &head {
            Some(head) => self.pipeline.tree(&t.repository, head).await?,
            None => BTreeMap::new(),
        };
        let change = source::diff(&local, &remote);
        let summary = change.summary();
        let commit = match (&head, change.is_empty()) {
            (Some(head), true) => {
                eprintln!(
                    "publish: {} is already at {}@{}; releasing it",
                    request.source.display(),
                    t.branch,
                    short(head)
                );
                head.clone()
            }
            _ => {
                let id = state.releases.last().map(|r| r.id.clone()).unwrap_or_default();
                let default = format!("Release {id}: {summary} from {}", request.source.display());
                let commit = Commit {
                    repository: &t.repository,
                    branch: &t.branch,
                    parent: head.as_deref(),
                    author: request.actor,
                    email: request.email,
                    message: request.message.unwrap_or(&default),
                    put: change.put,
                    delete: change.delete,
                };
                let made = self.pipeline.create_commit(commit).await?;
                eprintln!("publish: committed {} to {}@{} ({summary})", short(&made), t.repository, t.branch);
                made
            }
        };
        self.record(state, |r| {
            r.commit = Some(commit);
            r.step = ReleaseStep::Published;
        })
        .await
    }

    /// Starts the pipeline at the release's commit (the release's id is the request token, so a
    /// start whose reply was lost, resumed, finds the execution it made).
    async fn start_build(&self, state: &mut State) -> Result<(), ReleaseError> {
        let t = self.targets;
        let record = current(state);
        let commit = record.commit.clone().unwrap_or_default();
        let running = self.service.service_rollout(&t.service_ref()).await?;
        let execution = self.pipeline.start_execution(&t.pipeline, &t.source_action, &commit, &record.id).await?;
        eprintln!("build: pipeline {} started at {} (execution {execution})", t.pipeline, short(&commit));
        self.record(state, |r| {
            r.execution = Some(execution);
            r.previous_task_definition = Some(running.task_definition);
            r.step = ReleaseStep::Building;
        })
        .await
    }

    /// Waits until the build has pushed the commit's image, or the execution ends without one.
    async fn await_image(
        &self,
        state: &mut State,
        request: &Request<'_>,
        deadline: Instant,
    ) -> Result<(), ReleaseError> {
        let t = self.targets;
        let record = current(state);
        let (commit, execution) = (record.commit.unwrap_or_default(), record.execution.unwrap_or_default());
        // The buildspec tags each image with the commit's first 12 characters and the build number.
        let prefix = short(&commit);
        // This release's build pushes after the release began (an earlier release of the commit
        // left an image of its own).
        let since = humantime::parse_rfc3339(&record.started).unwrap_or(std::time::UNIX_EPOCH);
        eprintln!("build: waiting for {}:{prefix}-* in ECR", t.image_repository());
        loop {
            let found = self.pipeline.image_tagged(t.image_repository(), prefix, since).await?;
            if let Some(digest) = found {
                let image = format!("{}@{digest}", t.image_repository_url);
                eprintln!("build: image {image}");
                return self
                    .record(state, |r| {
                        r.image = Some(image);
                        r.step = ReleaseStep::Deploying;
                    })
                    .await;
            }
            let status = self.pipeline.execution_status(&t.pipeline, &execution).await?;
            if ENDED_WITHOUT_IMAGE.contains(&status.as_str()) {
                let reason = format!("pipeline execution {execution} ended {status} before pushing an image");
                eprintln!("build: {reason}");
                return self.finish(state, ReleaseOutcome::Failed, Some(reason)).await;
            }
            pause(request, deadline, "the build")?.await;
        }
    }

    /// Follows ECS's deployment of the image to its end, rolling it back when an alarm fires.
    async fn await_deployment(
        &self,
        state: &mut State,
        request: &Request<'_>,
        deadline: Instant,
    ) -> Result<(), ReleaseError> {
        let t = self.targets;
        let record = current(state);
        let image = record.image.clone().unwrap_or_default();
        // A rollback already asked for (by an alarm before a kill, or `--rollback`) keeps its reason.
        let mut watch =
            Watch { seen: record.task_definition.clone(), rollback: record.reason.clone(), ..Watch::default() };
        eprintln!("deploy: waiting for {}/{} to run it", t.cluster, t.service);
        loop {
            let rollout = self.service.service_rollout(&t.service_ref()).await?;
            let primary = rollout.deployments.iter().find(|(status, _, _)| status == "PRIMARY").cloned();
            let Some((_, rollout_state, definition)) = primary else {
                pause(request, deadline, "the deployment")?.await;
                continue;
            };
            let runs_image = self.runs(&mut watch, &definition, &image).await?;
            if runs_image && watch.seen.is_none() {
                eprintln!("deploy: ECS deploys {definition}");
                watch.seen = Some(definition.clone());
                self.record(state, |r| r.task_definition = Some(definition.clone())).await?;
            }
            if let Some(rule) = &rollout.production_rule {
                let weights = self.service.rule_weights(rule).await?;
                watch.traffic(&weights);
            }
            match (runs_image, rollout_state.as_str()) {
                (true, "COMPLETED") => {
                    eprintln!("deploy: {definition} serves all traffic");
                    return self.finish(state, ReleaseOutcome::Succeeded, None).await;
                }
                (true, "FAILED") => {
                    let reason = "ECS stopped the deployment (its circuit breaker or alarms) and rolled it back";
                    return self.finish(state, ReleaseOutcome::RolledBack, Some(reason.into())).await;
                }
                (false, "COMPLETED") if watch.seen.is_some() => {
                    let reason = watch
                        .rollback
                        .clone()
                        .unwrap_or_else(|| format!("ECS rolled the service back to {definition}"));
                    eprintln!("deploy: rolled back; {definition} serves all traffic");
                    return self.finish(state, ReleaseOutcome::RolledBack, Some(reason)).await;
                }
                _ => {}
            }
            if runs_image && watch.rollback.is_none() {
                let firing = self.service.alarms_firing(&t.alarms).await?;
                if !firing.is_empty() {
                    let reason = format!("alarm {} in ALARM during the deployment", firing.join(", "));
                    eprintln!("deploy: {reason}: rolling back");
                    self.service.roll_back_deployment(&t.service_ref()).await?;
                    self.record(state, |r| r.reason = Some(reason.clone())).await?;
                    watch.rollback = Some(reason);
                }
            }
            pause(request, deadline, "the deployment")?.await;
        }
    }

    /// Whether task definition `arn` runs `image` (each definition is described once).
    async fn runs(&self, watch: &mut Watch, arn: &str, image: &str) -> Result<bool, ReleaseError> {
        if !watch.images.contains_key(arn) {
            let images = self.service.task_images(arn).await?;
            watch.images.insert(arn.to_string(), images);
        }
        Ok(watch.images[arn].iter().any(|i| i == image))
    }
}

/// What the deployment watch has learnt so far.
#[derive(Default)]
struct Watch {
    /// The task definition that runs the image, once ECS deploys it.
    seen: Option<String>,
    /// Each task definition's images.
    images: BTreeMap<String, Vec<String>>,
    /// The listener weights last shown.
    weights: Vec<(String, i32)>,
    /// Why drone rolled the deployment back, once it has.
    rollback: Option<String>,
}

impl Watch {
    /// Shows the production rule's weights when they change.
    fn traffic(&mut self, weights: &[(String, i32)]) {
        if weights == self.weights.as_slice() {
            return;
        }
        let mut shares: Vec<(&str, i32)> = weights.iter().map(|(group, weight)| (group_name(group), *weight)).collect();
        shares.sort();
        let shares: Vec<String> = shares.iter().map(|(group, weight)| format!("{group} {weight}")).collect();
        eprintln!("deploy: traffic {}", shares.join(" · "));
        self.weights = weights.to_vec();
    }
}

/// A target group's name from its ARN (`...:targetgroup/NAME/ID`).
fn group_name(arn: &str) -> &str {
    arn.split("targetgroup/").nth(1).and_then(|rest| rest.split('/').next()).unwrap_or(arn)
}

/// A commit's first 12 characters, as git and the buildspec's tags show it.
pub(crate) fn short(commit: &str) -> &str {
    commit.char_indices().nth(12).map_or(commit, |(end, _)| &commit[..end])
}

/// Sleeps `request.poll`, or fails once `deadline` has passed.
fn pause(
    request: &Request<'_>,
    deadline: Instant,
    what: &'static str,
) -> Result<impl std::future::Future<Output = ()>, ReleaseError> {
    if Instant::now() >= deadline {
        return Err(ReleaseError::Timeout(what, request.timeout.as_secs().div_ceil(60)));
    }
    Ok(tokio::time::sleep(request.poll))
}
