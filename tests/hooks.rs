//! Hooks and steps during `run` and `destroy`, against moto: a step runs in
//! its phase and reads what it was granted, a phase hook after it, and the hook
//! before a versioned bucket's deletion empties it (versions and delete
//! markers), without which the deletion fails.

use aws_sdk_s3::primitives::ByteStream;

use crate::faults::{FaultProxy, Faults};
use crate::support::{assert_exit, drone, root, run, s3_client, sdk_config, text, Moto};

const HOOKS: &str = "tests/workflows/hooks.drone";

/// An S3 client of `moto`.
async fn s3(moto: &Moto) -> aws_sdk_s3::Client {
    s3_client(&sdk_config(&moto.url).await)
}

async fn fill(moto: &Moto, bucket: &str) {
    let s3 = s3(moto).await;
    for key in ["a.txt", "b.txt", "c.txt"] {
        for body in ["one", "two"] {
            s3.put_object()
                .bucket(bucket)
                .key(key)
                .body(ByteStream::from_static(body.as_bytes()))
                .send()
                .await
                .expect("put");
        }
    }
    s3.delete_object().bucket(bucket).key("a.txt").send().await.expect("delete marker");
    let versions = s3.list_object_versions().bucket(bucket).send().await.expect("list");
    assert_eq!(versions.versions().len() + versions.delete_markers().len(), 7);
}

#[tokio::test(flavor = "multi_thread")]
async fn hooks_and_steps_run_at_their_events_and_empty_a_versioned_bucket_before_its_deletion() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("dir");
    let state = dir.path().join("s.json");
    let drone_at = |args: &[&str]| {
        let mut cmd = drone(Some(&moto.url));
        cmd.current_dir(root()).args(args).arg(HOOKS).arg("--state").arg(&state);
        cmd
    };
    let out = run(&mut drone_at(&["run", "--yes"]));
    assert_exit(&out, 0);
    let stderr = text(&out).1;
    let step = stderr.find("step: released into drone-hooks-artifacts, logs in /drone/drone-hooks/releases");
    let hook = stderr.find("hook: after phase release");
    assert!(step.is_some() && hook.is_some() && step < hook, "the step, then the phase hook:\n{stderr}");

    fill(&moto, "drone-hooks-artifacts").await;
    // The hook's listing is throttled 4 times, past the SDK's own 3 attempts: it is
    // retried as provider calls are, rather than failing the bucket's deletion.
    let faults = Faults { throttle_first: Some(("?versions", 4)), ..Faults::default() };
    let proxy = FaultProxy::new(&moto.url, faults);
    let mut destroy = drone(Some(&proxy.url));
    destroy.current_dir(root()).args(["destroy", "--yes"]).arg(HOOKS).arg("--state").arg(&state);
    let out = run(&mut destroy);
    assert_exit(&out, 0);
    assert_eq!(proxy.faults.load(std::sync::atomic::Ordering::SeqCst), 4);
    let stderr = text(&out).1;
    assert!(stderr.contains("hook: emptied 7 object versions"), "{stderr}");
    assert!(stderr.contains("hook: after destroy"), "{stderr}");
    let listed = run(&mut drone_at(&["state", "list"]));
    assert!(!text(&listed).0.contains("aws.s3.bucket.artifacts"), "the bucket is gone from state");
}

#[tokio::test(flavor = "multi_thread")]
async fn without_the_hook_the_versioned_bucket_cannot_be_deleted() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("dir");
    // The same workflow without its hooks.
    let source = std::fs::read_to_string(root().join(HOOKS)).expect("workflow");
    let cut = source.find("hook empty_artifacts").expect("hook");
    let path = dir.path().join("bare.drone");
    std::fs::write(&path, &source[..cut]).expect("write");
    let state = dir.path().join("s.json");
    let drone_at = |args: &[&str]| {
        let mut cmd = drone(Some(&moto.url));
        cmd.args(args).arg(&path).arg("--state").arg(&state).arg("--root").arg(dir.path());
        cmd
    };
    assert_exit(&run(&mut drone_at(&["run", "--yes"])), 0);
    fill(&moto, "drone-hooks-artifacts").await;
    let out = run(&mut drone_at(&["destroy", "--yes"]));
    assert_exit(&out, 5);
    assert!(text(&out).0.contains("BucketNotEmpty"), "{}", text(&out).0);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_task_deletes_the_object_versions_it_chose() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("dir");
    let state = dir.path().join("s.json");
    let mut apply = drone(Some(&moto.url));
    apply.current_dir(root()).args(["run", "--yes", HOOKS]).arg("--state").arg(&state);
    assert_exit(&run(&mut apply), 0);
    fill(&moto, "drone-hooks-artifacts").await;

    let mut prune = drone(Some(&moto.url));
    prune.current_dir(root()).args(["task", HOOKS, "prune", "--arg", "prefix=a."]).arg("--state").arg(&state);
    let out = run(&mut prune);
    assert_exit(&out, 0);
    // a.txt's two versions and its delete marker; b.txt and c.txt keep theirs.
    assert!(text(&out).1.contains("task: deleted 3 versions under a."), "{}", text(&out).1);
    let left = s3(&moto).await.list_object_versions().bucket("drone-hooks-artifacts").send().await.expect("list");
    let mut keys: Vec<&str> = left.versions().iter().filter_map(|v| v.key()).collect();
    keys.sort_unstable();
    assert_eq!(keys, ["b.txt", "b.txt", "c.txt", "c.txt"]);
    assert!(left.delete_markers().is_empty());

    // Something that is not an object is refused before any call.
    let bad = std::fs::read_to_string(root().join(HOOKS)).expect("workflow").replace(
        "s3::delete_objects(\"aws.s3.bucket.artifacts\", doomed)",
        "s3::delete_objects(\"aws.s3.bucket.artifacts\", [42])",
    );
    let path = dir.path().join("bad.drone");
    std::fs::write(&path, bad).expect("write");
    let mut refused = drone(Some(&moto.url));
    refused.args(["task"]).arg(&path).args(["prune", "--arg", "prefix=b."]).arg("--state").arg(&state);
    refused.arg("--root").arg(dir.path());
    let out = run(&mut refused);
    assert_exit(&out, 9);
    assert!(text(&out).1.contains("s3::delete_objects takes keys"), "{}", text(&out).1);
}
