//! `drone release` against moto_server on prod.drone: the source committed
//! through CodeCommit's API, the pipeline started at that commit, the image
//! awaited in ECR, ECS's canary followed through the production listener
//! rule's weights, an alarm rolling a release back, `kill -9` at each step;
//! and a source on GitHub, read through a CodeConnections connection.
//!
//! moto runs no build and no deployment: this test plays CodeBuild (it pushes
//! the image through ECR's API), the pipeline's ECS action (it registers the
//! revision and updates the service) and ECS's traffic shift (it moves the
//! rule's weights), each through the services' own APIs, as they would.

use std::io::{BufRead, BufReader};
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc::{channel, Receiver};
use std::time::Duration;

use super::support::{assert_exit, prod, run, sdk_config, text, Moto};

const REPOSITORY: &str = "shuttle-prod-ghost";
const CLUSTER: &str = "shuttle-prod";
const PIPELINE: &str = "shuttle-prod";

/// A `drone release` running, its standard error read line by line.
struct Releasing {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Releasing {
    fn start(moto: &Moto, state: &Path, extra: &[&str]) -> Releasing {
        let mut args = vec!["release", "prod", "--yes"];
        args.extend_from_slice(extra);
        let mut child = prod(&moto.url, state, &args)
            .env("DRONE_RELEASE_POLL_MS", "100")
            .env("DRONE_ACTOR", "ana")
            .env("DRONE_ACTOR_EMAIL", "ana@shuttle.example")
            .stderr(Stdio::piped())
            .stdout(Stdio::null())
            .spawn()
            .expect("spawn drone release");
        let stderr = child.stderr.take().expect("stderr");
        let (send, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                if send.send(line).is_err() {
                    break;
                }
            }
        });
        Releasing { child, lines, seen: Vec::new() }
    }

    /// The first line (from now on) that contains `needle`.
    fn wait_for(&mut self, needle: &str) -> String {
        loop {
            match self.lines.recv_timeout(Duration::from_secs(60)) {
                Ok(line) => {
                    self.seen.push(line.clone());
                    if line.contains(needle) {
                        return line;
                    }
                }
                Err(_) => panic!("no line with {needle:?}; so far:\n{}", self.seen.join("\n")),
            }
        }
    }

    fn kill(mut self) {
        self.child.kill().expect("kill -9");
        let _ = self.child.wait();
    }

    /// Waits for the exit; its code and everything printed.
    fn finish(mut self) -> (i32, String) {
        let status = self.child.wait().expect("wait");
        self.seen.extend(self.lines.iter());
        (status.code().unwrap_or(-1), self.seen.join("\n"))
    }
}

/// The AWS side of a release: what CodeBuild, the pipeline and ECS would do.
struct Aws {
    ecr: aws_sdk_ecr::Client,
    ecs: aws_sdk_ecs::Client,
    elb: aws_sdk_elasticloadbalancingv2::Client,
    cloudwatch: aws_sdk_cloudwatch::Client,
    codecommit: aws_sdk_codecommit::Client,
    codepipeline: aws_sdk_codepipeline::Client,
}

impl Aws {
    async fn new(url: &str) -> Aws {
        let config = sdk_config(url).await;
        Aws {
            ecr: aws_sdk_ecr::Client::new(&config),
            ecs: aws_sdk_ecs::Client::new(&config),
            elb: aws_sdk_elasticloadbalancingv2::Client::new(&config),
            cloudwatch: aws_sdk_cloudwatch::Client::new(&config),
            codecommit: aws_sdk_codecommit::Client::new(&config),
            codepipeline: aws_sdk_codepipeline::Client::new(&config),
        }
    }

    /// CodeBuild's push: an image tagged as the buildspec tags it; its digest.
    async fn push(&self, commit_prefix: &str, build: u32) -> String {
        let manifest = serde_json::json!({
            "schemaVersion": 2,
            "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
            "config": { "digest": format!("sha256:{:064x}", build), "size": 1, "mediaType": "application/vnd.docker.container.image.v1+json" },
            "layers": [{ "digest": format!("sha256:{:064x}", (u64::from(build) << 32) | 7), "size": 2, "mediaType": "application/vnd.docker.image.rootfs.diff.tar.gzip" }],
        });
        let out = self
            .ecr
            .put_image()
            .repository_name(REPOSITORY)
            .image_manifest(manifest.to_string())
            .image_tag(format!("{commit_prefix}-{build}"))
            .send()
            .await
            .expect("PutImage");
        out.image().and_then(|i| i.image_id()).and_then(|i| i.image_digest()).expect("digest").to_string()
    }

    async fn service(&self) -> aws_sdk_ecs::types::Service {
        let out = self.ecs.describe_services().cluster(CLUSTER).services("ghost").send().await.expect("service");
        out.services()[0].clone()
    }

    /// The pipeline's ECS action: the service's task definition with the image, then UpdateService.
    async fn deploy(&self, image: &str) -> String {
        let current = self.service().await.task_definition().expect("task definition").to_string();
        let described = self.ecs.describe_task_definition().task_definition(&current).send().await.expect("describe");
        let definition = described.task_definition().expect("definition");
        let containers = definition
            .container_definitions()
            .iter()
            .map(|c| {
                let mut c = c.clone();
                if c.name() == Some("ghost") {
                    c.image = Some(image.to_string());
                }
                c
            })
            .collect();
        let registered = self
            .ecs
            .register_task_definition()
            .family(definition.family().expect("family"))
            .set_container_definitions(Some(containers))
            .set_cpu(definition.cpu().map(String::from))
            .set_memory(definition.memory().map(String::from))
            .set_network_mode(definition.network_mode().cloned())
            .set_requires_compatibilities(Some(definition.requires_compatibilities().to_vec()))
            .set_execution_role_arn(definition.execution_role_arn().map(String::from))
            .set_task_role_arn(definition.task_role_arn().map(String::from))
            .set_volumes(Some(definition.volumes().to_vec()))
            .send()
            .await
            .expect("register");
        let arn = registered.task_definition().and_then(|d| d.task_definition_arn()).expect("arn").to_string();
        self.ecs.update_service().cluster(CLUSTER).service("ghost").task_definition(&arn).send().await.expect("update");
        arn
    }

    /// The image the `ghost` container of task definition `arn` runs.
    async fn ghost_image(&self, arn: &str) -> String {
        let out = self.ecs.describe_task_definition().task_definition(arn).send().await.expect("describe");
        let definition = out.task_definition().expect("definition");
        let ghost = definition.container_definitions().iter().find(|c| c.name() == Some("ghost")).expect("ghost");
        ghost.image().expect("image").to_string()
    }

    /// The production listener rule and its two groups: (rule, live group, alternate group).
    async fn traffic_groups(&self) -> (String, String, String) {
        let service = self.service().await;
        let lb = &service.load_balancers()[0];
        let advanced = lb.advanced_configuration().expect("blue/green settings");
        (
            advanced.production_listener_rule().expect("rule").to_string(),
            lb.target_group_arn().expect("group").to_string(),
            advanced.alternate_target_group_arn().expect("alternate").to_string(),
        )
    }

    async fn weights(&self, rule: &str) -> Vec<(String, i32)> {
        let out = self.elb.describe_rules().rule_arns(rule).send().await.expect("rules");
        let mut weights: Vec<(String, i32)> = out.rules()[0]
            .actions()
            .iter()
            .filter_map(|a| a.forward_config())
            .flat_map(|f| f.target_groups())
            .map(|g| (g.target_group_arn().unwrap_or_default().to_string(), g.weight().unwrap_or(1)))
            .collect();
        weights.sort();
        weights
    }

    /// ECS moving production traffic: `live` gets `live_weight`, `alternate` the rest.
    async fn shift(&self, rule: &str, live: &str, alternate: &str, live_weight: i32) {
        use aws_sdk_elasticloadbalancingv2::types::{Action, ActionTypeEnum, ForwardActionConfig, TargetGroupTuple};
        let group = |arn: &str, weight: i32| TargetGroupTuple::builder().target_group_arn(arn).weight(weight).build();
        let forward = ForwardActionConfig::builder()
            .target_groups(group(live, live_weight))
            .target_groups(group(alternate, 100 - live_weight))
            .build();
        let action = Action::builder().r#type(ActionTypeEnum::Forward).forward_config(forward).build();
        self.elb.modify_rule().rule_arn(rule).actions(action).send().await.expect("ModifyRule");
    }

    async fn alarm(&self, name: &str, state: aws_sdk_cloudwatch::types::StateValue) {
        self.cloudwatch
            .set_alarm_state()
            .alarm_name(name)
            .state_value(state)
            .state_reason("test")
            .send()
            .await
            .expect("SetAlarmState");
    }

    /// The pipeline's executions pinned to `commit`.
    async fn executions_at(&self, commit: &str) -> usize {
        let out = self.codepipeline.list_pipeline_executions().pipeline_name(PIPELINE).send().await.expect("list");
        out.pipeline_execution_summaries()
            .iter()
            .filter(|e| e.source_revisions().iter().any(|r| r.revision_id() == Some(commit)))
            .count()
    }
}

/// The commit prefix in "build: waiting for REPO:PREFIX-* in ECR".
fn prefix_of(line: &str) -> String {
    line.split(&format!("{REPOSITORY}:")).nth(1).and_then(|rest| rest.split("-*").next()).expect("prefix").to_string()
}

fn state_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("state")).expect("json")
}

#[tokio::test(flavor = "multi_thread")]
async fn releases_follow_the_canary_roll_back_on_an_alarm_and_resume_after_kill_9() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state.json");
    // Nothing to release through before the workflow has run.
    let early = run(&mut prod(&moto.url, &state, &["release", "prod", "--yes"]));
    assert_exit(&early, 2);
    assert!(text(&early).1.contains("the state records no `aws.codepipeline.pipeline`: run the workflow first"));
    assert_exit(&run(&mut prod(&moto.url, &state, &["run", "workflows/prod.drone", "--yes"])), 0);
    let aws = Aws::new(&moto.url).await;
    let before = aws.service().await.task_definition().expect("td").to_string();

    // 1. A canary release: 10% to the new revision, then all of it.
    let journal = dir.path().join("calls.jsonl");
    let journal_arg = journal.to_str().expect("utf-8").to_string();
    let mut release = Releasing::start(&moto, &state, &["--call-log", &journal_arg]);
    let published = release.wait_for("publish: committed");
    assert!(published.contains(&format!("to {REPOSITORY}@main (3 files changed)")), "{published}");
    let prefix = prefix_of(&release.wait_for("build: waiting for"));
    let digest = aws.push(&prefix, 1).await;
    let image = release.wait_for("build: image");
    assert!(image.ends_with(&format!("/{REPOSITORY}@{digest}")), "{image}");
    let image = image.trim_start_matches("build: image ").to_string();
    // Before the deploy, all traffic is on the running revision's group.
    release.wait_for("deploy: traffic shuttle-prod-ghost 100 · shuttle-prod-ghost-green 0");
    let revision = aws.deploy(&image).await;
    release.wait_for(&format!("deploy: ECS deploys {revision}"));
    let (rule, blue, green) = aws.traffic_groups().await;
    aws.shift(&rule, &blue, &green, 90).await;
    release.wait_for("deploy: traffic shuttle-prod-ghost 90 · shuttle-prod-ghost-green 10");
    aws.shift(&rule, &blue, &green, 0).await;
    release.wait_for(&format!("deploy: {revision} serves all traffic"));
    let (code, printed) = release.finish();
    assert_eq!(code, 0, "{printed}");
    assert!(printed.contains("succeeded in"), "{printed}");
    // The release's own time against moto (the figure the README quotes), shown with --no-capture.
    eprintln!("{}", printed.lines().last().unwrap_or_default());
    // ECS swapped the groups: green is live, blue stands by.
    let (_, live, standby) = aws.traffic_groups().await;
    assert_eq!((live.as_str(), standby.as_str()), (green.as_str(), blue.as_str()));
    assert_eq!(aws.service().await.task_definition(), Some(revision.as_str()));

    // What the release left: the commit (author, files), one execution pinned to it, the record.
    let branch =
        aws.codecommit.get_branch().repository_name(REPOSITORY).branch_name("main").send().await.expect("branch");
    let commit_id = branch.branch().and_then(|b| b.commit_id()).expect("head").to_string();
    assert!(commit_id.starts_with(&prefix));
    let commit =
        aws.codecommit.get_commit().repository_name(REPOSITORY).commit_id(&commit_id).send().await.expect("commit");
    let author = commit.commit().and_then(|c| c.author()).expect("author");
    assert_eq!((author.name(), author.email()), (Some("ana"), Some("ana@shuttle.example")));
    let folder = aws
        .codecommit
        .get_folder()
        .repository_name(REPOSITORY)
        .commit_specifier("main")
        .folder_path("/")
        .send()
        .await
        .expect("folder");
    let files: Vec<&str> = folder.files().iter().filter_map(|f| f.absolute_path()).collect();
    assert_eq!(files, ["Dockerfile", "README.md", "config.production.json"]);
    assert_eq!(aws.executions_at(&commit_id).await, 1);
    let recorded = &state_json(&state)["releases"][0];
    assert_eq!(recorded["outcome"], "succeeded");
    assert_eq!(recorded["actor"], "ana");
    assert_eq!(recorded["previous_task_definition"], before.as_str());
    assert_eq!(recorded["task_definition"], revision.as_str());

    // The plan after a release changes nothing: the later revision and the swapped groups read as
    // declared.
    let plan = run(&mut prod(&moto.url, &state, &["plan", "workflows/prod.drone", "--detailed-exitcode"]));
    assert_exit(&plan, 0);

    // 2. An alarm during the shift: drone stops the deployment; all traffic goes back.
    let source = dir.path().join("ghost");
    std::fs::create_dir_all(&source).expect("mkdir");
    for file in ["Dockerfile", "README.md", "config.production.json"] {
        std::fs::copy(Path::new("workflows/ghost").join(file), source.join(file)).expect("copy");
    }
    let dockerfile = std::fs::read_to_string(source.join("Dockerfile")).expect("read");
    std::fs::write(source.join("Dockerfile"), dockerfile.replace("5.96.0", "5.97.0")).expect("write");
    let source_arg = source.to_str().expect("utf-8").to_string();
    let args = ["--source", &source_arg, "--message", "Ghost 5.97.0", "--call-log", &journal_arg];
    let mut release = Releasing::start(&moto, &state, &args);
    let published = release.wait_for("publish: committed");
    assert!(published.contains("(1 file changed)"), "{published}");
    let prefix = prefix_of(&release.wait_for("build: waiting for"));
    let digest = aws.push(&prefix, 2).await;
    let image = release.wait_for("build: image").trim_start_matches("build: image ").to_string();
    assert!(image.ends_with(&digest));
    let bad = aws.deploy(&image).await;
    release.wait_for(&format!("deploy: ECS deploys {bad}"));
    aws.shift(&rule, &green, &blue, 90).await;
    release.wait_for("deploy: traffic shuttle-prod-ghost 10 · shuttle-prod-ghost-green 90");
    aws.alarm("shuttle-prod-ghost-http-5xx", aws_sdk_cloudwatch::types::StateValue::Alarm).await;
    release.wait_for("deploy: alarm shuttle-prod-ghost-http-5xx in ALARM during the deployment: rolling back");
    let (code, printed) = release.finish();
    assert_eq!(code, 11, "a rolled-back release exits 11\n{printed}");
    assert!(printed.contains("rolled back in"), "{printed}");
    assert!(printed.ends_with(": alarm shuttle-prod-ghost-http-5xx in ALARM during the deployment"), "{printed}");
    let mut expected = vec![(blue.clone(), 0), (green.clone(), 100)];
    expected.sort();
    assert_eq!(aws.weights(&rule).await, expected, "all traffic back on the old revision");
    assert_eq!(aws.service().await.task_definition(), Some(revision.as_str()));
    aws.alarm("shuttle-prod-ghost-http-5xx", aws_sdk_cloudwatch::types::StateValue::Ok).await;

    // Every call of both releases, the rollback's included, is allowed by `drone iam --release`.
    let iam = ["iam", "workflows/prod.drone", "--release", "--account", "123456789012"];
    let iam = run(super::support::drone(None).current_dir(super::support::root()).args(iam));
    assert_exit(&iam, 0);
    let policy: serde_json::Value = serde_json::from_str(&text(&iam).0).expect("policy");
    let (checked, _) = super::deployer::calls_allowed(&journal, &policy);
    assert!(checked > 20, "the journal holds only {checked} calls");
    let journaled = std::fs::read_to_string(&journal).expect("journal");
    for action in [
        "codecommit:CreateCommit",
        "codepipeline:StartPipelineExecution",
        "ecs:StopServiceDeployment",
        "cloudwatch:DescribeAlarms",
    ] {
        assert!(journaled.contains(&format!("\"{action}\"")), "{action} not journaled");
    }

    // 3. kill -9 at each step; each rerun resumes, and the release happens once.
    std::fs::write(source.join("Dockerfile"), dockerfile.replace("5.96.0", "5.98.0")).expect("write");
    let args = ["--source", source_arg.as_str()];
    let mut release = Releasing::start(&moto, &state, &args);
    release.wait_for("publish: committed");
    release.kill();
    let mut release = Releasing::start(&moto, &state, &args);
    release.wait_for("resuming release");
    let prefix = prefix_of(&release.wait_for("build: waiting for"));
    release.kill();
    let mut release = Releasing::start(&moto, &state, &args);
    release.wait_for("build: waiting for");
    let digest = aws.push(&prefix, 3).await;
    let image = release.wait_for("build: image").trim_start_matches("build: image ").to_string();
    assert!(image.ends_with(&digest));
    release.wait_for("deploy: waiting for");
    release.kill();
    let good = aws.deploy(&image).await;
    let good_image = image.clone();
    let mut release = Releasing::start(&moto, &state, &args);
    release.wait_for(&format!("deploy: ECS deploys {good}"));
    aws.shift(&rule, &green, &blue, 90).await;
    release.wait_for("deploy: traffic shuttle-prod-ghost 10 · shuttle-prod-ghost-green 90");
    release.kill();
    // Killed mid-shift: the record says a deployment is under way, and the rerun follows it.
    let history = run(&mut prod(&moto.url, &state, &["release", "prod", "--history"]));
    assert_exit(&history, 0);
    assert!(text(&history).0.contains("under way (deploying)"), "{}", text(&history).0);
    let mut release = Releasing::start(&moto, &state, &args);
    release.wait_for("resuming release");
    release.wait_for("deploy: traffic shuttle-prod-ghost 10 · shuttle-prod-ghost-green 90");
    aws.shift(&rule, &green, &blue, 0).await;
    let (code, printed) = release.finish();
    assert_eq!(code, 0, "{printed}");
    let head =
        aws.codecommit.get_branch().repository_name(REPOSITORY).branch_name("main").send().await.expect("branch");
    let head = head.branch().and_then(|b| b.commit_id()).expect("head").to_string();
    assert!(head.starts_with(&prefix), "one commit for the release, whatever was killed");
    assert_eq!(aws.executions_at(&head).await, 1, "one pipeline execution for the release");
    let (_, live, _) = aws.traffic_groups().await;
    assert_eq!(live, blue);
    assert_eq!(aws.service().await.task_definition(), Some(good.as_str()));

    // The history: who released which image, when, and how it ended.
    let history = run(&mut prod(&moto.url, &state, &["release", "prod", "--history"]));
    assert_exit(&history, 0);
    let (table, _) = text(&history);
    let rows: Vec<&str> = table.lines().skip(1).collect();
    assert_eq!(rows.len(), 3, "{table}");
    assert!(rows[0].contains("ana") && rows[0].ends_with("succeeded"), "{table}");
    assert!(rows[1].contains("rolled back: alarm shuttle-prod-ghost-http-5xx in ALARM"), "{table}");
    assert!(rows[2].ends_with("succeeded") && rows[2].contains(&format!("sha256:{}", &digest[7..19])), "{table}");
    let json = run(&mut prod(&moto.url, &state, &["release", "prod", "--history", "--json"]));
    let releases: serde_json::Value = serde_json::from_str(&text(&json).0).expect("json");
    assert_eq!(releases[2]["image"], image.as_str());
    let nothing = run(&mut prod(&moto.url, &state, &["release", "prod", "--rollback"]));
    assert_exit(&nothing, 2);
    assert!(text(&nothing).1.contains("no release is under way"), "{}", text(&nothing).1);

    // 4. `--rollback` ends a release whose deployment is under way: all traffic back.
    std::fs::write(source.join("Dockerfile"), dockerfile.replace("5.96.0", "5.99.0")).expect("write");
    let mut release = Releasing::start(&moto, &state, &args);
    let prefix = prefix_of(&release.wait_for("build: waiting for"));
    aws.push(&prefix, 4).await;
    let image = release.wait_for("build: image").trim_start_matches("build: image ").to_string();
    let doomed = aws.deploy(&image).await;
    release.wait_for(&format!("deploy: ECS deploys {doomed}"));
    aws.shift(&rule, &blue, &green, 50).await;
    release.wait_for("deploy: traffic shuttle-prod-ghost 50 · shuttle-prod-ghost-green 50");
    release.kill();
    let rollback = run(prod(&moto.url, &state, &["release", "prod", "--rollback"]).env("DRONE_ACTOR", "ben"));
    assert_exit(&rollback, 11);
    assert!(text(&rollback).1.contains("rolled back: rolled back by ben"), "{}", text(&rollback).1);
    let mut expected = vec![(blue.clone(), 100), (green.clone(), 0)];
    expected.sort();
    assert_eq!(aws.weights(&rule).await, expected);
    assert_eq!(aws.service().await.task_definition(), Some(good.as_str()));

    // 5. A pipeline stopped before its image exists: the release fails (exit 5), nothing deploys.
    std::fs::write(source.join("Dockerfile"), dockerfile.replace("5.96.0", "6.0.0")).expect("write");
    let mut release = Releasing::start(&moto, &state, &args);
    let started = release.wait_for("build: pipeline shuttle-prod started");
    let execution = started.rsplit("(execution ").next().expect("id").trim_end_matches(')').to_string();
    release.wait_for("build: waiting for");
    aws.codepipeline
        .stop_pipeline_execution()
        .pipeline_name(PIPELINE)
        .pipeline_execution_id(&execution)
        .reason("a broken Dockerfile")
        .send()
        .await
        .expect("StopPipelineExecution");
    let (code, printed) = release.finish();
    assert_eq!(code, 5, "{printed}");
    assert!(printed.contains(&format!("pipeline execution {execution} ended Stopped before pushing an image")));
    assert_eq!(aws.service().await.task_definition(), Some(good.as_str()));
    let history = run(&mut prod(&moto.url, &state, &["release", "prod", "--history"]));
    let (table, _) = text(&history);
    let rows: Vec<&str> = table.lines().skip(1).collect();
    assert!(rows[3].ends_with("rolled back: rolled back by ben"), "{table}");
    assert!(rows[4].contains("failed: pipeline execution"), "{table}");

    // 6. A commit named with --commit: only one on the branch is released (the first release's,
    // four commits back), built again (its first image is not this build's), and nothing is
    // committed for it.
    let head_of = || async {
        let branch =
            aws.codecommit.get_branch().repository_name(REPOSITORY).branch_name("main").send().await.expect("branch");
        branch.branch().and_then(|b| b.commit_id()).expect("head").to_string()
    };
    let before_six = head_of().await;
    let stray = "0123456789abcdef0123456789abcdef01234567";
    let refused = run(&mut prod(&moto.url, &state, &["release", "prod", "--yes", "--commit", stray]));
    assert_exit(&refused, 2);
    assert!(text(&refused).1.contains(&format!("commit {stray} is not on {REPOSITORY}@main")), "{}", text(&refused).1);
    let mut release = Releasing::start(&moto, &state, &["--commit", &commit_id]);
    release.wait_for(&format!("publish: releasing {REPOSITORY}@main at {}", &commit_id[..12]));
    let started = release.wait_for("build: pipeline shuttle-prod started");
    let execution = started.rsplit("(execution ").next().expect("id").trim_end_matches(')').to_string();
    aws.codepipeline
        .stop_pipeline_execution()
        .pipeline_name(PIPELINE)
        .pipeline_execution_id(&execution)
        .send()
        .await
        .expect("StopPipelineExecution");
    assert_eq!(release.finish().0, 5);
    assert_eq!(aws.executions_at(&commit_id).await, 2, "the first release's execution, and this one");
    assert_eq!(head_of().await, before_six, "nothing committed");

    let plan = run(&mut prod(&moto.url, &state, &["plan", "workflows/prod.drone", "--detailed-exitcode"]));
    assert_exit(&plan, 0);

    // A plan that gives the services a new revision says how each will reach traffic.
    let args = ["plan", "workflows/prod.drone", "--param", "ghost_version=5.97.0"];
    let plan = run(&mut prod(&moto.url, &state, &args));
    assert_exit(&plan, 0);
    let (shown, _) = text(&plan);
    let primary = shown.split("ghost.primary.aws.ecs.service.ghost (update").nth(1).expect("the primary's update");
    assert!(
        primary.lines().nth(1).is_some_and(|l| l.trim() == "# rollout: canary: 10% of the traffic for 5 min, then all of it for 5 min before the old revision retires; rolled back on ALARM of shuttle-prod-ghost-http-5xx, shuttle-prod-ghost-response-time, shuttle-prod-ghost-unhealthy, shuttle-prod-ghost-green-unhealthy or by the circuit breaker"),
        "{shown}"
    );
    let standby = shown.split("ghost.standby.aws.ecs.service.ghost (update").nth(1).expect("the standby's update");
    assert!(
        standby.lines().nth(1).is_some_and(|l| l.trim().starts_with("# rollout: rolling: tasks replaced")),
        "{shown}"
    );
    let json = run(&mut prod(&moto.url, &state, &[&args[..], &["--format", "json"]].concat()));
    let plan: serde_json::Value = serde_json::from_str(&text(&json).0).expect("json plan");
    let service = plan["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .find(|a| a["address"] == "ghost.primary.aws.ecs.service.ghost");
    assert!(service.and_then(|s| s["rollout"].as_str()).is_some_and(|r| r.starts_with("canary: 10%")), "{plan}");

    // 7. A change drone makes to the task definition after a release (the site's address, in its
    // environment) keeps the released image; a new image of the workflow's own is its release.
    let domain = ["--param", "domain=www.drone-shuttle.example"];
    let with_domain = |args: &[&'static str]| [args, &domain[..]].concat();
    assert_exit(&run(&mut prod(&moto.url, &state, &with_domain(&["run", "workflows/prod.drone", "--yes"]))), 0);
    let running = aws.service().await.task_definition().expect("task definition").to_string();
    assert_ne!(running, good, "a new revision, for the new address");
    assert_eq!(aws.ghost_image(&running).await, good_image, "the release's image, kept");
    let plan =
        run(&mut prod(&moto.url, &state, &with_domain(&["plan", "workflows/prod.drone", "--detailed-exitcode"])));
    assert_exit(&plan, 0);
    // And the change after that: drone's own revision, which kept the release, keeps it again.
    let again = ["run", "workflows/prod.drone", "--yes", "--param", "domain=blog2.drone-shuttle.example"];
    assert_exit(&run(&mut prod(&moto.url, &state, &again)), 0);
    let running = aws.service().await.task_definition().expect("task definition").to_string();
    assert_eq!(aws.ghost_image(&running).await, good_image, "the release's image, kept again");
    let args = [&again[..], &["--param", "ghost_version=5.97.0"]].concat();
    assert_exit(&run(&mut prod(&moto.url, &state, &args)), 0);
    let running = aws.service().await.task_definition().expect("task definition").to_string();
    assert!(aws.ghost_image(&running).await.ends_with("/shuttle-prod-ghost:5.97.0"));
}

/// moto's stand-in for the console's handshake: the connection becomes AVAILABLE.
fn complete_handshake(moto: &Moto, arn: &str) {
    use std::io::{Read, Write};
    let host = moto.url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(host).expect("connect to moto");
    write!(
        stream,
        "POST /moto-api/codeconnections/handshake HTTP/1.1\r\nHost: {host}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{arn}",
        arn.len()
    )
    .expect("write");
    let mut response = String::new();
    stream.read_to_string(&mut response).expect("read");
    assert!(response.starts_with("HTTP/1.1 200"), "{response}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_source_on_github_is_read_through_a_connection_and_released_by_commit() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let state = dir.path().join("state.json");
    fn with<'a>(args: &[&'a str]) -> Vec<&'a str> {
        [args, &["--param", "github_repository=acme/shuttle-ghost"]].concat()
    }
    assert_exit(&run(&mut prod(&moto.url, &state, &with(&["run", "workflows/prod.drone", "--yes"]))), 0);
    let aws = Aws::new(&moto.url).await;
    let config = sdk_config(&moto.url).await;
    let connections = aws_sdk_codeconnections::Client::new(&config);

    // A connection, PENDING as AWS creates it, instead of a CodeCommit repository.
    let listed = connections.list_connections().send().await.expect("ListConnections");
    let [connection] = listed.connections() else { panic!("one connection: {listed:?}") };
    assert_eq!(connection.connection_name(), Some("shuttle-prod-github"));
    assert_eq!(connection.connection_status().map(|s| s.as_str()), Some("PENDING"));
    let arn = connection.connection_arn().expect("arn").to_string();
    let repositories = aws.codecommit.list_repositories().send().await.expect("ListRepositories");
    assert!(repositories.repositories().is_empty(), "{repositories:?}");
    let pipeline = aws.codepipeline.get_pipeline().name(PIPELINE).send().await.expect("GetPipeline");
    let source = &pipeline.pipeline().expect("pipeline").stages()[0].actions()[0];
    assert_eq!(source.action_type_id().map(|t| t.provider()), Some("CodeStarSourceConnection"));
    let configuration = source.configuration().expect("configuration");
    assert_eq!(configuration.get("ConnectionArn"), Some(&arn));
    assert_eq!(configuration.get("FullRepositoryId").map(String::as_str), Some("acme/shuttle-ghost"));
    assert_eq!(configuration.get("BranchName").map(String::as_str), Some("main"));
    // The pipeline's role uses that connection, for that repository only.
    let iam = aws_sdk_iam::Client::new(&config);
    let policy = iam.get_role_policy().role_name("shuttle-prod-pipeline").policy_name("pipeline").send().await;
    let document = drone_stdlib::aws::percent_decode(policy.expect("GetRolePolicy").policy_document())
        .expect("URL-encoded policy");
    let document: serde_json::Value = serde_json::from_str(&document).expect("policy json");
    let uses = document["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .find(|s| s["Action"] == "codeconnections:UseConnection")
        .expect("UseConnection");
    assert_eq!(uses["Resource"], arn.as_str());
    assert_eq!(uses["Condition"]["StringEquals"]["codeconnections:FullRepositoryId"], "acme/shuttle-ghost");
    let plan = run(&mut prod(&moto.url, &state, &with(&["plan", "workflows/prod.drone", "--detailed-exitcode"])));
    assert_exit(&plan, 0);

    // The team pushes to GitHub, so a release names a full commit id, and waits for the handshake.
    let commit = "4f9d2c7be0a1d3f5a6b7c8d9e0f1a2b3c4d5e6f7";
    for (args, said) in [
        (vec![], "name the commit to release"),
        (vec!["--commit", "4f9d2c7"], "`4f9d2c7` is not a full commit id"),
        (vec!["--commit", commit], "is PENDING: CodePipeline cannot read the source through it"),
    ] {
        let refused = run(&mut prod(&moto.url, &state, &with(&[&["release", "prod", "--yes"], &args[..]].concat())));
        assert_exit(&refused, 2);
        assert!(text(&refused).1.contains(said), "{said}: {}", text(&refused).1);
    }
    assert!(state_json(&state)["releases"].as_array().is_none_or(Vec::is_empty), "nothing recorded");

    complete_handshake(&moto, &arn);
    let journal = dir.path().join("calls.jsonl");
    let journal_arg = journal.to_str().expect("utf-8").to_string();
    let mut release = Releasing::start(&moto, &state, &with(&["--commit", commit, "--call-log", &journal_arg]));
    release.wait_for("publish: releasing acme/shuttle-ghost@main at 4f9d2c7be0a1");
    let prefix = prefix_of(&release.wait_for("build: waiting for"));
    assert_eq!(prefix, &commit[..12]);
    let digest = aws.push(&prefix, 1).await;
    let image = release.wait_for("build: image").trim_start_matches("build: image ").to_string();
    assert!(image.ends_with(&digest));
    let revision = aws.deploy(&image).await;
    release.wait_for(&format!("deploy: ECS deploys {revision}"));
    let (rule, blue, green) = aws.traffic_groups().await;
    aws.shift(&rule, &blue, &green, 0).await;
    let (code, printed) = release.finish();
    assert_eq!(code, 0, "{printed}");
    assert_eq!(aws.executions_at(commit).await, 1);
    assert_eq!(state_json(&state)["releases"][0]["commit"], commit);

    // `drone iam --release` covers the connection's status check, and every other call.
    let iam = ["iam", "workflows/prod.drone", "--release", "--account", "123456789012"];
    let iam = run(super::support::drone(None).current_dir(super::support::root()).args(with(&iam)));
    assert_exit(&iam, 0);
    let policy: serde_json::Value = serde_json::from_str(&text(&iam).0).expect("policy");
    super::deployer::calls_allowed(&journal, &policy);
    assert!(std::fs::read_to_string(&journal).expect("journal").contains("\"codeconnections:GetConnection\""));

    // Destroy removes the connection with the rest.
    assert_exit(&run(&mut prod(&moto.url, &state, &with(&["destroy", "workflows/prod.drone", "--yes"]))), 0);
    let listed = connections.list_connections().send().await.expect("ListConnections");
    assert!(listed.connections().is_empty(), "{listed:?}");
}
