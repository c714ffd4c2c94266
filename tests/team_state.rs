//! State for a team, against moto_server: `workflows/bootstrap.drone` makes
//! the state bucket; prod then keeps its state in S3 (`--state s3://...`),
//! written conditionally (a stale copy is refused), versioned (`state
//! history`), moved in and out (`pull`, `push`, `migrate`) without touching a
//! resource; the lock is an S3 object with a lease that a running drone
//! renews, refuses a second run with the holder's details, and is taken over
//! once the lease has run out.

use std::path::{Path, PathBuf};
use std::process::{Child, Stdio};
use std::time::{Duration, Instant};

use drone_engine::lock::LockOwner;

use super::account::{assert_empty, assert_matches_states};
use super::faults::{FaultProxy, Faults};
use super::support::{assert_exit, drone, prod, root, run, sdk_config, text, Moto, PROD_RESOURCES};

const BUCKET: &str = "drone-shuttle-state";
const KEY: &str = "shuttle-prod.json";

/// Where bootstrap replicates the state bucket, in the standby region.
const REPLICA: &str = "drone-shuttle-state-replica";

fn s3_url() -> String {
    format!("s3://{BUCKET}/{KEY}")
}

async fn s3(moto: &Moto) -> aws_sdk_s3::Client {
    let config = sdk_config(&moto.url).await;
    super::support::s3_client(&config)
}

/// The lock object's holder, if any.
async fn lock_holder(s3: &aws_sdk_s3::Client) -> Option<LockOwner> {
    let out = s3.get_object().bucket(BUCKET).key(format!("{KEY}.lock")).send().await.ok()?;
    let bytes = out.body.collect().await.ok()?.into_bytes();
    serde_json::from_slice(&bytes).ok()
}

/// Writes a lock object as another host's drone would.
async fn put_lock(s3: &aws_sdk_s3::Client, owner: &LockOwner) {
    let body = serde_json::to_vec(owner).expect("json");
    s3.put_object().bucket(BUCKET).key(format!("{KEY}.lock")).body(body.into()).send().await.expect("put lock");
}

fn elsewhere(lease: Duration, expired: bool) -> LockOwner {
    let until = if expired { std::time::SystemTime::now() - lease } else { std::time::SystemTime::now() + lease };
    LockOwner {
        host: "ci-runner-7.example".into(),
        pid: 4242,
        user: "ci".into(),
        time: "2026-11-27T09:00:00Z".into(),
        operation: "run".into(),
        lease_until: Some(humantime::format_rfc3339_seconds(until).to_string()),
    }
}

/// `drone state ARGS` on prod.drone with the S3 state (or `--state` given in `args`).
fn state_cmd(moto: &Moto, args: &[&str]) -> std::process::Output {
    let mut cmd = drone(Some(&moto.url));
    cmd.current_dir(root()).arg("state").args(args);
    run(&mut cmd)
}

#[tokio::test(flavor = "multi_thread")]
async fn prod_keeps_its_state_in_s3_under_a_leased_lock() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("dir");
    let bootstrap_state = dir.path().join("bootstrap.json");
    let s3 = s3(&moto).await;

    // Phase 1 of the seed: the state bucket, on local state.
    let mut cmd = drone(Some(&moto.url));
    cmd.current_dir(root()).args(["run", "workflows/bootstrap.drone", "--yes", "--state"]).arg(&bootstrap_state);
    let out = run(&mut cmd);
    assert_exit(&out, 0);
    let versioning = s3.get_bucket_versioning().bucket(BUCKET).send().await.expect("versioning");
    assert_eq!(versioning.status().map(|s| s.as_str()), Some("Enabled"));

    // Prod on S3 state.
    let remote = PathBuf::from(s3_url());
    let out = run(&mut prod(&moto.url, &remote, &["run", "workflows/prod.drone", "--yes"]));
    assert_exit(&out, 0);
    assert!(lock_holder(&s3).await.is_none(), "the lock is released at the end");
    assert_account_matches(&moto, dir.path(), &bootstrap_state).await;
    let out = run(&mut prod(&moto.url, &remote, &["plan", "workflows/prod.drone"]));
    assert_exit(&out, 0);
    assert!(
        text(&out).0.contains(&format!("No changes: {PROD_RESOURCES} resource(s) match the workflow.")),
        "{}",
        text(&out).0
    );
    let head = s3.head_object().bucket(BUCKET).key(KEY).send().await.expect("state object");
    assert_eq!(head.server_side_encryption().map(|s| s.as_str()), Some("AES256"));
    let serial: u64 = head.metadata().and_then(|m| m.get("serial")).and_then(|s| s.parse().ok()).expect("serial");

    // The state outlives its region: bootstrap replicates the bucket to the standby region.
    let replication = s3.get_bucket_replication().bucket(BUCKET).send().await.expect("replication");
    let replication = replication.replication_configuration().expect("configuration");
    assert!(replication.role().ends_with(":role/drone-shuttle-state-replication"), "{replication:?}");
    let rule = replication.rules().first().expect("a rule");
    assert_eq!(rule.destination().map(|d| d.bucket()), Some("arn:aws:s3:::drone-shuttle-state-replica"));
    assert_eq!(rule.status().as_str(), "Enabled");
    let location = s3.get_bucket_location().bucket(REPLICA).send().await.expect("replica location");
    assert_eq!(location.location_constraint().map(|l| l.as_str()), Some(super::account::STANDBY_REGION));
    // moto copies no object, so the copy S3 replication makes is made here; prod then runs from the
    // replica, in its own region, with its lock there.
    let standby = aws_sdk_s3::Client::new(
        &super::account::in_region(&moto.url, &sdk_config(&moto.url).await, super::account::STANDBY_REGION).await,
    );
    standby
        .copy_object()
        .bucket(REPLICA)
        .key(KEY)
        .copy_source(format!("{BUCKET}/{KEY}"))
        .send()
        .await
        .expect("replicate the state");
    // The header's own place (this test runs prod at KEY through --state) holds the same state.
    let header_key = "shuttle-prod.state.json";
    s3.copy_object().bucket(BUCKET).key(header_key).copy_source(format!("{BUCKET}/{KEY}")).send().await.expect("copy");
    let replica = format!("s3://{REPLICA}/{KEY}?region={}", super::account::STANDBY_REGION);
    let out = run(&mut prod(&moto.url, &PathBuf::from(&replica), &["plan", "workflows/prod.drone"]));
    assert_exit(&out, 0);
    assert!(
        text(&out).0.contains(&format!("No changes: {PROD_RESOURCES} resource(s) match the workflow.")),
        "{}",
        text(&out).0
    );
    assert!(!text(&out).1.contains("behind"), "caught up: {}", text(&out).1);
    // A replica that has not caught up (an older serial) says so, against the header's state.
    let versions = s3.list_object_versions().bucket(BUCKET).prefix(KEY).send().await.expect("versions");
    // The oldest: a run writes its intents and results under one serial, so the previous version may share it.
    let older = versions.versions().iter().rfind(|v| v.key() == Some(KEY)).expect("older");
    let source = format!("{BUCKET}/{KEY}?versionId={}", older.version_id().unwrap_or_default());
    standby.copy_object().bucket(REPLICA).key(KEY).copy_source(source).send().await.expect("an older copy");
    let out = run(&mut prod(&moto.url, &PathBuf::from(&replica), &["plan", "workflows/prod.drone"]));
    assert_exit(&out, 0);
    let warned = text(&out).1;
    assert!(warned.contains(&format!("is behind the workflow's own state, s3://{BUCKET}/{header_key}")), "{warned}");
    assert!(warned.contains(&format!("not {serial})")), "{warned}");

    // History: every write is a version, newest first, with its serial.
    let out = state_cmd(&moto, &["history", "workflows/prod.drone", "--state", &s3_url(), "--limit", "5"]);
    assert_exit(&out, 0);
    let history = text(&out).0;
    let lines: Vec<&str> = history.lines().collect();
    assert_eq!(lines.len(), 5, "{history}");
    assert!(lines[0].contains(&format!("serial {serial}\t")) && lines[0].ends_with("(current)"), "{history}");

    // `state` commands find the header's S3 state even when a required parameter is missing.
    std::fs::write(
        dir.path().join("header.drone"),
        format!("workflow \"shuttle-prod\" {{\n  state = {{ backend = \"s3\", bucket = \"{BUCKET}\", key = \"{KEY}\" }}\n}}\n\nparam needed: string\n"),
    )
    .expect("write");
    let out = run(drone(Some(&moto.url)).current_dir(dir.path()).args(["state", "list", "header.drone"]));
    assert_exit(&out, 0);
    assert_eq!(text(&out).0.lines().count(), PROD_RESOURCES, "{}", text(&out).0);

    // A holder elsewhere within its lease: refused at once, named, with exit 6.
    put_lock(&s3, &elsewhere(Duration::from_secs(600), false)).await;
    let out = run(&mut prod(&moto.url, &remote, &["run", "workflows/prod.drone", "--yes"]));
    assert_exit(&out, 6);
    let stderr = text(&out).1;
    assert!(stderr.contains("ci@ci-runner-7.example (pid 4242, `run`"), "{stderr}");
    assert!(stderr.contains(&format!("drone state unlock workflows/prod.drone --state {}", s3_url())), "{stderr}");
    // By hand: refused while the lease holds, done with --force, and recorded.
    let out = state_cmd(&moto, &["unlock", "workflows/prod.drone", "--state", &s3_url()]);
    assert_exit(&out, 6);
    let out = state_cmd(&moto, &["unlock", "workflows/prod.drone", "--state", &s3_url(), "--force"]);
    assert_exit(&out, 0);
    assert!(lock_holder(&s3).await.is_none());
    let record = s3.get_object().bucket(BUCKET).key(format!("{KEY}.lock.unlocked")).send().await.expect("record");
    let record: serde_json::Value =
        serde_json::from_slice(&record.body.collect().await.expect("body").into_bytes()).expect("json");
    assert_eq!(record["removed"]["host"], "ci-runner-7.example");
    assert_eq!(record["forced"], true);
    assert_eq!(record["unlocked_by"]["operation"], "unlock");

    // A holder whose lease ran out (killed on its host): taken over, said so.
    put_lock(&s3, &elsewhere(Duration::from_secs(30), true)).await;
    let out = run(&mut prod(&moto.url, &remote, &["run", "workflows/prod.drone", "--yes"]));
    assert_exit(&out, 0);
    assert!(text(&out).1.contains("took over the lock left by ci@ci-runner-7.example"), "{}", text(&out).1);

    // A stale copy never overwrites a newer serial; --force restores it on purpose.
    let older = dir.path().join("older.json");
    assert_exit(
        &state_cmd(&moto, &["pull", "workflows/prod.drone", older.to_str().expect("utf-8"), "--state", &s3_url()]),
        0,
    );
    let out = state_cmd(
        &moto,
        &["rm", "workflows/prod.drone", "ghost.primary.aws.logs.log_group.ghost", "--state", &s3_url()],
    );
    assert_exit(&out, 0);
    let out = state_cmd(&moto, &["push", "workflows/prod.drone", older.to_str().expect("utf-8"), "--state", &s3_url()]);
    assert_exit(&out, 2);
    assert!(text(&out).1.contains("older than serial"), "{}", text(&out).1);
    let out = state_cmd(
        &moto,
        &["push", "workflows/prod.drone", older.to_str().expect("utf-8"), "--state", &s3_url(), "--force"],
    );
    assert_exit(&out, 0);
    let out = run(&mut prod(&moto.url, &remote, &["plan", "workflows/prod.drone"]));
    assert!(
        text(&out).0.contains(&format!("No changes: {PROD_RESOURCES} resource(s)")),
        "the pushed copy records the log group again"
    );

    // Out to a local file and back in, touching no resource.
    let local = dir.path().join("prod-local.json");
    let out = state_cmd(
        &moto,
        &["migrate", "workflows/prod.drone", "--state", &s3_url(), "--to", local.to_str().expect("utf-8")],
    );
    assert_exit(&out, 0);
    // The old place refuses to be used, naming the new one: no plan against an empty state,
    // no run creating a second platform.
    let out = run(&mut prod(&moto.url, &remote, &["plan", "workflows/prod.drone"]));
    assert_exit(&out, 5);
    let moved = format!("the state at {} was moved to {}", s3_url(), local.display());
    assert!(text(&out).1.contains(&moved), "{}", text(&out).1);
    let out = run(&mut prod(&moto.url, &remote, &["run", "workflows/prod.drone", "--yes"]));
    assert_exit(&out, 5);
    assert!(text(&out).1.contains(&moved), "{}", text(&out).1);
    assert!(!text(&out).1.contains("create "), "a run against the tombstone started creating");
    let out = run(&mut prod(&moto.url, &local, &["plan", "workflows/prod.drone"]));
    assert!(text(&out).0.contains(&format!("No changes: {PROD_RESOURCES} resource(s)")), "{}", text(&out).0);
    let out = state_cmd(
        &moto,
        &["migrate", "workflows/prod.drone", "--state", local.to_str().expect("utf-8"), "--to", &s3_url()],
    );
    assert_exit(&out, 0);
    let out = run(&mut prod(&moto.url, &local, &["plan", "workflows/prod.drone"]));
    assert_exit(&out, 5);
    assert!(text(&out).1.contains(&format!("was moved to {}", s3_url())), "{}", text(&out).1);
    let out = run(&mut prod(&moto.url, &remote, &["plan", "workflows/prod.drone"]));
    assert!(text(&out).0.contains(&format!("No changes: {PROD_RESOURCES} resource(s)")), "{}", text(&out).0);
    let out = state_cmd(&moto, &["migrate", "workflows/prod.drone", "--state", &s3_url(), "--to", &s3_url()]);
    assert_exit(&out, 2);

    // A destroy renews its lease while it works (slowed down, so that it works a while).
    let slow = FaultProxy::new(&moto.url, Faults { pause: Duration::from_millis(60), ..Faults::default() });
    let mut destroy = prod(&slow.url, &remote, &["destroy", "workflows/prod.drone", "--yes"]);
    let mut destroy =
        destroy.env("DRONE_LOCK_LEASE", "3").stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("destroy");
    let mut leases = std::collections::BTreeSet::new();
    let started = Instant::now();
    while destroy.try_wait().expect("wait").is_none() && started.elapsed() < Duration::from_secs(300) {
        if let Some(holder) = lock_holder(&s3).await {
            assert_eq!(holder.operation, "destroy");
            leases.insert(holder.lease_until.clone().expect("a lease"));
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(destroy.wait().expect("destroy").success());
    assert!(leases.len() >= 2, "the lease was renewed while the destroy ran: {leases:?}");
    assert!(lock_holder(&s3).await.is_none(), "released at the end");
    assert_matches_states(&moto.url, &[(&bootstrap_state, "shuttle-bootstrap")]).await;

    // Only the state bucket and its replica are left, which bootstrap's own state records.
    for (client, bucket) in [(&s3, BUCKET), (&standby, REPLICA)] {
        let versions = client.list_object_versions().bucket(bucket).send().await.expect("versions");
        let mut remove = Vec::new();
        for v in versions.versions() {
            remove.push((v.key().unwrap_or_default().to_string(), v.version_id().map(String::from)));
        }
        for m in versions.delete_markers() {
            remove.push((m.key().unwrap_or_default().to_string(), m.version_id().map(String::from)));
        }
        for (key, version) in remove {
            let delete = client.delete_object().bucket(bucket).key(key).set_version_id(version);
            delete.send().await.expect("empty the bucket");
        }
    }
    let mut cmd = drone(Some(&moto.url));
    cmd.current_dir(root()).args(["destroy", "workflows/bootstrap.drone", "--yes", "--state"]).arg(&bootstrap_state);
    assert_exit(&run(&mut cmd), 0);
    assert_empty(&moto.url).await;
}

/// Starts `cmd`, and waits until it holds the S3 lock (taken anew or over a gone holder's).
async fn holding(s3: &aws_sdk_s3::Client, cmd: &mut std::process::Command) -> Child {
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    wait_for_holder(s3, |holder| holder.pid == child.id()).await;
    child
}

async fn wait_for_holder(s3: &aws_sdk_s3::Client, is_it: impl Fn(&LockOwner) -> bool) {
    let started = Instant::now();
    while !lock_holder(s3).await.is_some_and(|h| is_it(&h)) {
        assert!(started.elapsed() < Duration::from_secs(60), "the run never took the lock");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

/// Pulls prod's S3 state into `dir` and asserts that the account holds
/// exactly what it and bootstrap's state (at `bootstrap`) record.
async fn assert_account_matches(moto: &Moto, dir: &Path, bootstrap: &Path) {
    let pulled = dir.join("pulled.json");
    let out = state_cmd(moto, &["pull", "workflows/prod.drone", pulled.to_str().expect("utf-8"), "--state", &s3_url()]);
    assert_exit(&out, 0);
    assert_matches_states(&moto.url, &[(&pulled, "shuttle-prod"), (bootstrap, "shuttle-bootstrap")]).await;
}

/// Runs bootstrap on local state at `state`.
fn bootstrap(moto: &Moto, state: &Path) {
    let mut cmd = drone(Some(&moto.url));
    cmd.current_dir(root()).args(["run", "workflows/bootstrap.drone", "--yes", "--state"]).arg(state);
    assert_exit(&run(&mut cmd), 0);
}

#[tokio::test(flavor = "multi_thread")]
async fn concurrent_killed_and_dispossessed_runs_on_s3_state() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("dir");
    let bootstrap_state = dir.path().join("bootstrap.json");
    bootstrap(&moto, &bootstrap_state);
    let s3 = s3(&moto).await;
    let remote = PathBuf::from(s3_url());
    let slow = FaultProxy::new(&moto.url, Faults { pause: Duration::from_millis(60), ..Faults::default() });

    // kill -9 mid-run, creates in flight: the lock stays behind.
    let mut killed = prod(&slow.url, &remote, &["run", "workflows/prod.drone", "--yes"]);
    let mut killed = holding(&s3, killed.env("DRONE_LOCK_LEASE", "2")).await;
    tokio::time::sleep(Duration::from_millis(1500)).await;
    killed.kill().expect("kill -9");
    let _ = killed.wait();
    assert!(lock_holder(&s3).await.is_some(), "a killed run releases nothing");

    // Two runs at once: the first takes the killed run's lock over at once (its holder is gone),
    // resolves what was in flight and converges; the second, meanwhile, is refused, naming the holder.
    let at = Instant::now();
    let first = holding(&s3, &mut prod(&slow.url, &remote, &["run", "workflows/prod.drone", "--yes"])).await;
    eprintln!("a killed run's lock taken over by the next run after {:.2} s", at.elapsed().as_secs_f64());
    let second = run(&mut prod(&moto.url, &remote, &["run", "workflows/prod.drone", "--yes"]));
    assert_exit(&second, 6);
    let user =
        drone_engine::host::Host::machine(&drone_engine::host::SystemHost { base_dir: ".".into(), root: ".".into() })
            .user;
    assert!(text(&second).1.contains(&format!("state is locked by {user}@")), "{}", text(&second).1);
    let first = first.wait_with_output().expect("first");
    assert_exit(&first, 0);
    assert!(text(&first).1.contains("which is no longer running"), "{}", text(&first).1);
    assert_account_matches(&moto, dir.path(), &bootstrap_state).await;

    // Dispossessed mid-run (the lock removed by hand and taken by another): the run stops
    // before its next state write, exit 6; the state it leaves is whole.
    let mut victim = prod(&slow.url, &remote, &["destroy", "workflows/prod.drone", "--yes"]);
    let victim = holding(&s3, victim.env("DRONE_LOCK_LEASE", "2")).await;
    let out = state_cmd(&moto, &["unlock", "workflows/prod.drone", "--state", &s3_url(), "--force"]);
    assert_exit(&out, 0);
    put_lock(&s3, &elsewhere(Duration::from_secs(600), false)).await;
    let victim = victim.wait_with_output().expect("victim");
    assert_exit(&victim, 6);
    assert!(text(&victim).1.contains("lost the lock"), "{}", text(&victim).1);
    // The other holder finished (its lock is removed); a run then finishes the destroy the victim began.
    s3.delete_object().bucket(BUCKET).key(format!("{KEY}.lock")).send().await.expect("release");
    let out = run(&mut prod(&moto.url, &remote, &["destroy", "workflows/prod.drone", "--yes"]));
    assert_exit(&out, 0);
    assert_matches_states(&moto.url, &[(&bootstrap_state, "shuttle-bootstrap")]).await;

    // Bad places and bad objects: each its own diagnostic, nothing written.
    let missing = PathBuf::from("s3://no-such-state-bucket/prod.json");
    let out = run(&mut prod(&moto.url, &missing, &["plan", "workflows/prod.drone"]));
    assert_exit(&out, 5);
    assert!(text(&out).1.contains("NoSuchBucket"), "{}", text(&out).1);
    s3.put_object()
        .bucket(BUCKET)
        .key("corrupt.json")
        .body(b"{ half a state".to_vec().into())
        .send()
        .await
        .expect("put");
    let out = run(&mut prod(
        &moto.url,
        &PathBuf::from(format!("s3://{BUCKET}/corrupt.json")),
        &["plan", "workflows/prod.drone"],
    ));
    assert_exit(&out, 5);
    assert!(text(&out).1.contains("drone::state::corrupt"), "{}", text(&out).1);
    // A bucket in another region than the header says.
    std::fs::write(
        dir.path().join("elsewhere.drone"),
        format!("workflow \"elsewhere\" {{\n  state = {{ backend = \"s3\", bucket = \"{BUCKET}\", key = \"e.json\", region = \"us-east-1\" }}\n}}\n"),
    )
    .expect("write");
    let out = run(drone(Some(&moto.url)).current_dir(dir.path()).args(["plan", "elsewhere.drone"]));
    assert_exit(&out, 5);
    assert!(text(&out).1.contains("drone::state::wrong_region"), "{}", text(&out).1);
    assert!(text(&out).1.contains("is in eu-west-1, not in us-east-1"), "{}", text(&out).1);
    let mut cmd = drone(Some(&moto.url));
    cmd.current_dir(root()).args(["plan", "workflows/bootstrap.drone", "--state", &s3_url()]);
    let out = run(&mut cmd);
    assert_exit(&out, 5);
    assert!(text(&out).1.contains("belongs to workflow `shuttle-prod`"), "{}", text(&out).1);
}

/// Lost, cut-off and throttled replies on the way to S3 as well: a state or
/// lock write whose reply was lost is recognised as this run's own when the
/// SDK's retry fails its condition, never taken for another writer's.
#[tokio::test(flavor = "multi_thread")]
async fn s3_state_writes_survive_lost_replies() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("dir");
    let bootstrap_state = dir.path().join("bootstrap.json");
    bootstrap(&moto, &bootstrap_state);
    let remote = PathBuf::from(s3_url());
    let faults = Faults { lose: 0.08, drop: 0.02, throttle: 0.05, seed: 5, ..Faults::default() };
    let proxy = FaultProxy::new(&moto.url, faults);
    let out = run(prod(&proxy.url, &remote, &["run", "workflows/prod.drone", "--yes"]).env("DRONE_CALL_TIMEOUT", "5"));
    let stderr = text(&out).1;
    assert!(!stderr.contains("drone::state::conflict") && !stderr.contains("lock_lost"), "{stderr}");
    assert!(proxy.faults.load(std::sync::atomic::Ordering::SeqCst) > 0, "the proxy disturbed nothing");
    drop(proxy);
    let out = run(&mut prod(&moto.url, &remote, &["run", "workflows/prod.drone", "--yes"]));
    assert_exit(&out, 0);
    assert_account_matches(&moto, dir.path(), &bootstrap_state).await;
}
