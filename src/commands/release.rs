//! `drone release FILE`: publishes the build's source and follows it through
//! the workflow's delivery pipeline to the running service (`crate::release`);
//! `--history` lists past releases from state, `--rollback` ends the one under
//! way by rolling its deployment back.

use std::path::{Path, PathBuf};
use std::time::Duration;

use drone_engine::state::{Release, ReleaseOutcome, ReleaseStep};
use drone_lang::Catalog;

use crate::cli::args::Common;
use crate::error::{CliError, Outcome};
use crate::exit::Exit;
use crate::release::targets::Targets;
use crate::release::{self, Request, Run};
use crate::session::{announce, confirm, load_state, session, take_lock};

/// What `drone release` was asked.
pub(crate) struct ReleaseArgs<'a> {
    pub(crate) file: &'a Path,
    pub(crate) common: &'a Common,
    pub(crate) source: Option<&'a Path>,
    pub(crate) message: Option<&'a str>,
    pub(crate) commit: Option<&'a str>,
    pub(crate) pipeline: Option<&'a str>,
    pub(crate) timeout_minutes: u64,
    pub(crate) yes: bool,
    pub(crate) rollback: bool,
}

/// A workflow named as an environment (`prod`) is `workflows/prod.drone`.
pub(crate) fn workflow_file(given: &Path) -> PathBuf {
    let named = Path::new("workflows").join(given).with_extension("drone");
    if !given.exists() && given.extension().is_none() && given.components().count() == 1 && named.exists() {
        return named;
    }
    given.to_path_buf()
}

/// Releases, resumes the release under way, or rolls it back.
pub(crate) async fn release(args: ReleaseArgs<'_>, catalog: &Catalog) -> Outcome {
    let session = session(args.file, args.common, catalog, false).await?;
    let _lock = take_lock(&session, args.file, "release").await?;
    let mut state = load_state(&session).await?;
    let targets = Targets::find(&state, args.pipeline).map_err(|e| {
        CliError::refused(e.to_string(), Some("`drone release` ships through the pipeline a workflow's `delivery` component declares (stdlib/components/delivery.drone)"))
    })?;
    let connected = |name: &str| {
        session.aws.get(name).cloned().ok_or_else(|| CliError::Internal(format!("provider `{name}` was not connected")))
    };
    let run = Run {
        targets: &targets,
        pipeline: connected(&targets.provider)?,
        service: connected(&targets.service_provider)?,
        backend: session.backend.as_ref(),
    };
    let actor = crate::session::actor();
    if args.rollback {
        return roll_back(&run, &mut state, &actor).await;
    }
    let source = args
        .source
        .map(Path::to_path_buf)
        .unwrap_or_else(|| args.file.parent().unwrap_or(Path::new(".")).join("ghost"));
    match release::unfinished(&state) {
        Some(r) => eprintln!(
            "resuming release {} (started {} by {}), after step `{}`",
            r.id,
            r.started,
            r.actor,
            r.step.label()
        ),
        None => {
            let what = match args.commit {
                Some(commit) => {
                    format!("commit {} of {}@{}", release::short(commit), targets.repository, targets.branch)
                }
                None => source.display().to_string(),
            };
            let question = format!(
                "Release {what} through pipeline {} to {}/{}?",
                targets.pipeline, targets.cluster, targets.service
            );
            if !confirm(&question, args.yes) {
                eprintln!("cancelled; nothing was released");
                return Ok(Exit::Declined);
            }
            run.admit(args.commit).await.map_err(refused)?;
            // Recorded before any call that changes something: a release killed from here on
            // resumes as itself.
            state.releases.push(release::new_record(&targets, &actor, args.commit));
            crate::store::save(session.backend.as_ref(), &mut state).await?;
        }
    }
    announce(&session).await?;
    let email = std::env::var("DRONE_ACTOR_EMAIL").unwrap_or_else(|_| format!("{actor}@users.noreply.drone"));
    let request = Request {
        source: &source,
        message: args.message,
        actor: &actor,
        email: &email,
        timeout: Duration::from_secs(args.timeout_minutes * 60),
        poll: poll_interval(),
    };
    let started = std::time::Instant::now();
    let outcome = run.drive(&mut state, &request).await.map_err(failed)?;
    let record = release::current(&state);
    eprintln!("release {}: {} in {:.0?}{}", record.id, outcome.label(), started.elapsed(), reason(&record));
    Ok(exit_for(outcome))
}

/// Ends the release under way: its deployment is stopped with a rollback and waited out.
async fn roll_back(run: &Run<'_>, state: &mut drone_engine::state::State, actor: &str) -> Outcome {
    let Some(record) = release::unfinished(state).cloned() else {
        return Err(CliError::refused(
            "no release is under way",
            Some("`drone release FILE --history` lists past releases"),
        ));
    };
    if record.step < ReleaseStep::Deploying {
        return Err(CliError::refused(
            format!(
                "release {} has not reached its deployment (it is `{}`): nothing runs it yet",
                record.id,
                record.step.label()
            ),
            Some("`drone release FILE` resumes it; stop its pipeline execution in CodePipeline to abandon it"),
        ));
    }
    let t = run.targets;
    let stopped = run
        .service
        .roll_back_deployment(&t.service_ref())
        .await
        .map_err(|e| CliError::execution("StopServiceDeployment", e))?;
    eprintln!("rollback: {}", if stopped { "ECS is rolling the deployment back" } else { "no deployment in progress" });
    let request = Request {
        source: Path::new("."),
        message: None,
        actor,
        email: "",
        timeout: Duration::from_secs(30 * 60),
        poll: poll_interval(),
    };
    if let Some(r) = state.releases.last_mut() {
        // The deployment watch reads this as the rollback's reason.
        r.reason = Some(format!("rolled back by {actor}"));
    }
    crate::store::save(run.backend, state).await?;
    let outcome = run.drive(state, &request).await.map_err(failed)?;
    let record = release::current(state);
    eprintln!("release {}: {}{}", record.id, outcome.label(), reason(&record));
    Ok(exit_for(outcome))
}

/// How often a release looks again: 5 s (`DRONE_RELEASE_POLL_MS` for tests).
fn poll_interval() -> Duration {
    Duration::from_millis(std::env::var("DRONE_RELEASE_POLL_MS").ok().and_then(|v| v.parse().ok()).unwrap_or(5000))
}

fn failed(e: release::ReleaseError) -> CliError {
    match e {
        release::ReleaseError::State(e) => e,
        other => CliError::Execution {
            doing: "the release".into(),
            reason: other.to_string(),
            help: Some("each step done is recorded: `drone release FILE` resumes the release from there".into()),
        },
    }
}

/// A release that cannot start: nothing was recorded or changed.
fn refused(e: release::ReleaseError) -> CliError {
    use release::ReleaseError::{BadCommit, ConnectionNotReady, NeedsCommit, NotOnBranch};
    let help = match &e {
        NeedsCommit(_) => "push it to the branch, then `drone release FILE --commit SHA` (the full id)",
        BadCommit(_) => "give the full id: `git rev-parse HEAD`",
        NotOnBranch { .. } => "only what reached the pipeline's branch is released: merge it there first",
        ConnectionNotReady { .. } => {
            "AWS creates connections PENDING: complete the handshake once in the console (Developer Tools > Settings > Connections > Update pending connection), then release again"
        }
        _ => return failed(e),
    };
    CliError::refused(e.to_string(), Some(help))
}

fn exit_for(outcome: ReleaseOutcome) -> Exit {
    match outcome {
        ReleaseOutcome::Succeeded => Exit::Success,
        ReleaseOutcome::RolledBack => Exit::RolledBack,
        ReleaseOutcome::Failed => Exit::Execution,
    }
}

fn reason(record: &Release) -> String {
    record.reason.as_ref().map(|r| format!(": {r}")).unwrap_or_default()
}

/// `--history`: who released which image, when, and how it ended.
pub(crate) async fn history(file: &Path, state_flag: Option<&str>, json: bool, catalog: &Catalog) -> Outcome {
    let (workflow, _, backend, _) = crate::commands::state::state_of(file, state_flag, catalog).await?;
    let state = crate::store::load(backend.as_ref(), &workflow).await?;
    if json {
        println!("{}", serde_json::to_string_pretty(&state.releases).unwrap_or_default());
        return Ok(Exit::Success);
    }
    if state.releases.is_empty() {
        eprintln!("no releases recorded for {workflow}");
        return Ok(Exit::Success);
    }
    println!("{:<28} {:<20} {:<12} {:<12} {:<19} OUTCOME", "RELEASE", "STARTED", "BY", "COMMIT", "IMAGE");
    for r in &state.releases {
        let digest = r
            .image
            .as_deref()
            .and_then(|i| i.split_once("@sha256:"))
            .map(|(_, d)| format!("sha256:{}", &d[..d.len().min(12)]));
        let outcome = match (r.outcome, r.step) {
            (Some(o), _) => o.label().to_string(),
            (None, step) => format!("under way ({})", step.label()),
        };
        println!(
            "{:<28} {:<20} {:<12} {:<12} {:<19} {outcome}{}",
            r.id,
            r.started,
            r.actor,
            r.commit.as_deref().map(release::short).unwrap_or("-"),
            digest.as_deref().unwrap_or("-"),
            reason(r),
        );
    }
    Ok(Exit::Success)
}
