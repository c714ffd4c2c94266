//! `drone iam` against moto_server with IAM enforcement: a user holding only
//! the generated policy runs, updates and destroys a workflow; without any one
//! of the policy's actions that lifecycle fails, and drone's error names the
//! action.
//!
//! moto judges IAM more coarsely than AWS; each difference is adapted to here,
//! where it is handled, never by loosening the policy beyond it:
//! - it evaluates resource ARNs for S3 only (EC2, IAM, ECS and RDS calls are
//!   checked against `*`), so statements of those services are widened to `*`;
//! - it authorizes DeleteObjects against the bucket's ARN (AWS: each object's);
//! - it names each call's action `service:Operation`, where AWS's name differs
//!   for some (S3's `PutBucketEncryption` is `s3:PutEncryptionConfiguration`):
//!   scripts/moto_server.py checks AWS's names instead;
//! - it does not check the role a call hands to a service (`iam:PassRole`),
//!   nor what a service does on the caller's behalf, so dropping those cannot
//!   be seen there (`MOTO_BLIND`); the offline journal check in deployer.rs
//!   covers the calls, and the statements keep no conditions, which moto
//!   evaluates only for trust policies.

use serde_json::{json, Value};

use super::deployer::{prod_policy, strings};
use super::support::{assert_exit, drone, root, run, sdk_config, text, Moto, PROD_RESOURCES};

const ACCOUNT: &str = "123456789012";
const LIFECYCLE: &str = "tests/workflows/lifecycle.drone";

/// Actions moto never checks: calls it serves without authorizing them, or
/// that AWS makes on the caller's behalf and moto does not make at all.
const MOTO_BLIND: &[(&str, &str)] = &[
    ("iam:PassRole", "moto does not check the role a task definition hands to ECS"),
    ("ec2:CreateNetworkInterface", "moto does not check the interface EFS makes for a mount target as the caller"),
    ("ec2:DescribeNetworkInterfaces", "moto does not check the interface EFS makes for a mount target as the caller"),
    ("iam:CreateServiceLinkedRole", "moto's Application Auto Scaling makes no service-linked role"),
];

/// The policy `drone iam` prints for the lifecycle workflow's copy `name`.
fn generated(name: &str) -> Value {
    let param = format!("name={name}");
    let out = run(drone(None).current_dir(root()).args(["iam", LIFECYCLE, "--account", ACCOUNT, "--param", &param]));
    assert_exit(&out, 0);
    serde_json::from_str(&text(&out).0).expect("policy json")
}

/// Every action in `policy`, in order, once each.
fn actions(policy: &Value) -> Vec<String> {
    let mut all: Vec<String> = Vec::new();
    for statement in policy["Statement"].as_array().expect("statements") {
        for action in strings(&statement["Action"]) {
            if !all.contains(&action) {
                all.push(action);
            }
        }
    }
    all
}

/// `policy` as moto can judge it (see the module comment), without `dropped`.
fn for_moto(policy: &Value, dropped: Option<&str>) -> Value {
    let mut statements = Vec::new();
    for statement in policy["Statement"].as_array().expect("statements") {
        let actions: Vec<String> =
            strings(&statement["Action"]).into_iter().filter(|a| Some(a.as_str()) != dropped).collect();
        if actions.is_empty() {
            continue;
        }
        let s3_only = actions.iter().all(|a| a.starts_with("s3:"));
        let resources: Vec<String> = if s3_only {
            let mut resources = strings(&statement["Resource"]);
            let buckets: Vec<String> =
                resources.iter().filter_map(|r| r.strip_suffix("/*")).map(String::from).collect();
            resources.extend(buckets);
            resources
        } else {
            vec!["*".to_string()]
        };
        statements.push(json!({ "Effect": "Allow", "Action": actions, "Resource": resources }));
    }
    json!({ "Version": "2012-10-17", "Statement": statements })
}

/// An IAM user's access key.
struct Keys {
    id: String,
    secret: String,
}

/// Creates IAM user `user` holding `policy` (the only unauthenticated
/// requests moto lets through), and returns its keys.
async fn deployer(moto: &Moto, user: &str, policy: &Value) -> Keys {
    let iam = aws_sdk_iam::Client::new(&sdk_config(&moto.url).await);
    as_admin(moto, "CreateUser", || iam.create_user().user_name(user).send()).await;
    let document = policy.to_string();
    let created =
        as_admin(moto, "CreatePolicy", || iam.create_policy().policy_name(user).policy_document(&document).send())
            .await;
    let arn = created.policy().and_then(|p| p.arn()).expect("policy arn");
    as_admin(moto, "AttachUserPolicy", || iam.attach_user_policy().user_name(user).policy_arn(arn).send()).await;
    let key = as_admin(moto, "CreateAccessKey", || iam.create_access_key().user_name(user).send()).await;
    let key = key.access_key().expect("access key");
    Keys { id: key.access_key_id().to_string(), secret: key.secret_access_key().to_string() }
}

/// One call as moto's administrator: each attempt gets a window of one
/// unauthenticated request (a transport retry inside the SDK can spend it,
/// so a refused attempt is tried again with a new window).
async fn as_admin<T, E, F, Fut>(moto: &Moto, what: &str, call: F) -> T
where
    E: std::fmt::Debug,
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = Result<T, E>>,
{
    let mut attempt = 0;
    loop {
        moto.open_auth_window(1);
        match call().await {
            Ok(v) => return v,
            Err(e) if attempt < 3 && format!("{e:?}").contains("InvalidClientTokenId") => attempt += 1,
            Err(e) => panic!("{what}: {e:?}"),
        }
    }
}

/// Removes every replication rule of the registry, as moto's administrator.
async fn clear_replication_rules(moto: &Moto) {
    let ecr = aws_sdk_ecr::Client::new(&sdk_config(&moto.url).await);
    let none =
        aws_sdk_ecr::types::ReplicationConfiguration::builder().set_rules(Some(Vec::new())).build().expect("empty");
    as_admin(moto, "PutReplicationConfiguration", || {
        ecr.put_replication_configuration().replication_configuration(none.clone()).send()
    })
    .await;
}

/// Puts an object into `bucket` as moto's administrator, so the destroy has
/// object versions to delete.
async fn leave_an_object(moto: &Moto, bucket: &str) {
    moto.open_auth_window(1);
    let conf = sdk_config(&moto.url).await;
    let s3 = super::support::s3_client(&conf);
    s3.put_object()
        .bucket(bucket)
        .key("left-behind.txt")
        .body(b"left behind".to_vec().into())
        .send()
        .await
        .expect("PutObject");
}

/// The step of the lifecycle that failed, with drone's output.
#[derive(Debug)]
struct Failure {
    step: &'static str,
    output: String,
}

/// run (revision 1), update (revision 2), destroy of the lifecycle
/// workflow's copy `name`, as the user with `keys`.
async fn lifecycle(moto: &Moto, keys: &Keys, name: &str) -> Result<(), Failure> {
    let dir = tempfile::tempdir().expect("dir");
    let state = dir.path().join("state.json");
    let name_param = format!("name={name}");
    let step = |step: &'static str, args: &[&str]| {
        let mut cmd = drone(Some(&moto.url));
        cmd.current_dir(root())
            .env("AWS_ACCESS_KEY_ID", &keys.id)
            .env("AWS_SECRET_ACCESS_KEY", &keys.secret)
            .args(args)
            .args(["--param", &name_param, "--yes"])
            .arg("--state")
            .arg(&state);
        let out = run(&mut cmd);
        let (stdout, stderr) = text(&out);
        match out.status.code() {
            Some(0) => Ok(()),
            _ => Err(Failure { step, output: format!("{stdout}\n{stderr}") }),
        }
    };
    step("run", &["run", LIFECYCLE])?;
    step("update", &["run", LIFECYCLE, "--param", "revision=2"])?;
    // After the update, which removes the bucket policy: moto judges its TLS-only Deny as denying everything.
    leave_an_object(moto, &format!("{name}-store")).await;
    step("destroy", &["destroy", LIFECYCLE, "--param", "revision=2"])
}

#[tokio::test(flavor = "multi_thread")]
async fn the_deployer_policy_is_enough_and_every_action_in_it_is_needed() {
    let moto = Moto::start_enforcing();
    // Each round has its own copy of the workflow and its own user, so failed
    // rounds' leftovers never meet the next one (resetting moto costs seconds).
    let whole = generated("lifecycle-whole");
    let all = actions(&whole);
    assert!(all.len() > 60, "{all:?}");
    let keys = deployer(&moto, "whole", &for_moto(&whole, None)).await;
    if let Err(failure) = lifecycle(&moto, &keys, "lifecycle-whole").await {
        panic!("with the whole policy, the {} failed:\n{}", failure.step, failure.output);
    }

    // Every round runs, so one failure lists every action moto judges otherwise than this file says.
    let mut wrong = Vec::new();
    for (round, action) in all.iter().enumerate() {
        let name = format!("lifecycle-{round}");
        let policy = for_moto(&generated(&name), Some(action));
        let keys = deployer(&moto, &format!("without-{round}"), &policy).await;
        let outcome = lifecycle(&moto, &keys, &name).await;
        // The registry's replication rules are the account's, 10 at most: a failed round's rule
        // would use up the next rounds' room.
        clear_replication_rules(&moto).await;
        match (MOTO_BLIND.iter().find(|(a, _)| a == action), outcome) {
            (Some(_), Ok(())) => {}
            (Some((_, why)), Err(f)) => wrong.push(format!(
                "{action} is listed as unseen by moto ({why}), yet the {} failed without it:\n{}",
                f.step, f.output
            )),
            (None, Ok(())) => wrong.push(format!("without {action} the whole lifecycle still succeeded")),
            (None, Err(f)) => {
                let named = f.output.lines().any(|l| l.contains("drone needs") && l.contains(&format!("`{action}`")));
                if !named {
                    wrong.push(format!(
                        "without {action} the {} failed, but the error does not name it:\n{}",
                        f.step, f.output
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n\n"));
    let unused: Vec<_> = MOTO_BLIND.iter().filter(|(a, _)| !all.contains(&a.to_string())).collect();
    assert!(unused.is_empty(), "MOTO_BLIND lists actions the policy no longer holds: {unused:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn prod_runs_and_destroys_with_only_the_generated_policy() {
    let moto = Moto::start_enforcing();
    let keys = deployer(&moto, "deployer", &for_moto(&prod_policy(), None)).await;
    // The team's state bucket, made beforehand (workflows/bootstrap.drone, by an administrator):
    // the deployer reads and writes prod's state and lock there with only the policy's own grants.
    let config = sdk_config(&moto.url).await;
    let s3 = super::support::s3_client(&config);
    let location = aws_sdk_s3::types::CreateBucketConfiguration::builder()
        .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
        .build();
    as_admin(&moto, "CreateBucket", || {
        s3.create_bucket().bucket("drone-shuttle-state").create_bucket_configuration(location.clone()).send()
    })
    .await;
    let dir = tempfile::tempdir().expect("dir");
    // Throwaway copy: deletion protection off, and with it the production rule that demands it.
    let as_user = |keys: &Keys, args: &[&str]| {
        let mut cmd = drone(Some(&moto.url));
        cmd.current_dir(root())
            .env("AWS_ACCESS_KEY_ID", &keys.id)
            .env("AWS_SECRET_ACCESS_KEY", &keys.secret)
            .env("DRONE_AUDIT_LOG", dir.path().join("audit.jsonl"))
            .args(args)
            .args(["--param", "protect_data=false", "--disable-policy", "data.rds_deletion_protection"]);
        run(&mut cmd)
    };
    let out = as_user(&keys, &["run", "workflows/prod.drone", "--yes"]);
    assert_exit(&out, 0);
    assert!(text(&out).0.contains(&format!("{PROD_RESOURCES} created")), "{}", text(&out).0);
    // The failover task's grants are in the policy, and it needs each: without FailoverGlobalCluster,
    // AWS refuses the move and nothing changes.
    let without = deployer(&moto, "no-failover", &for_moto(&prod_policy(), Some("rds:FailoverGlobalCluster"))).await;
    let out = as_user(&without, &["task", "workflows/prod.drone", "failover"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(text(&out).1.contains("FailoverGlobalCluster"), "{}", text(&out).1);
    // Failover, the run that turns Ghost's content's replication around, failback, and the run
    // that turns it back: the deployer's policy covers each, in both regions.
    for (task, changes) in
        [("failover", "1 created, 1 updated, 1 deleted"), ("failback", "1 created, 1 updated, 0 deleted")]
    {
        let out = as_user(&keys, &["task", "workflows/prod.drone", task]);
        assert_exit(&out, 0);
        assert!(text(&out).1.contains(&format!("{task} complete in ")), "{}", text(&out).1);
        let out = as_user(&keys, &["run", "workflows/prod.drone", "--yes"]);
        assert_exit(&out, 0);
        assert!(text(&out).0.contains(changes), "{}", text(&out).0);
    }
    let out = as_user(&keys, &["destroy", "workflows/prod.drone", "--yes"]);
    assert_exit(&out, 0);
    assert!(text(&out).0.contains(&format!("{PROD_RESOURCES} deleted")), "{}", text(&out).0);
}

/// Scripts' grants in `drone iam`: each action on its grant's targets (prod's
/// hooks: ECR's and CloudFront's), and the hooks workflow (tests/workflows/hooks.drone)
/// runs, empties its bucket and destroys under IAM enforcement with only its policy.
#[tokio::test(flavor = "multi_thread")]
async fn hooks_run_with_only_the_generated_policy_which_names_their_grants() {
    let out = run(drone(None).current_dir(root()).args(["iam", "tests/workflows/hooks.drone", "--account", ACCOUNT]));
    assert_exit(&out, 0);
    let policy: Value = serde_json::from_str(&text(&out).0).expect("policy JSON");
    let granted = |action: &str| resources_for(&policy, action);
    for action in ["s3:ListBucketVersions", "s3:DeleteObjectVersion"] {
        let resources = granted(action);
        assert!(
            resources.iter().any(|r| r.starts_with("arn:aws:s3:::drone-hooks-artifacts")),
            "{action} on the hook's bucket: {resources:?}"
        );
    }
    assert!(
        text(&out).1.contains("hook empty_artifacts: s3.delete_objects on aws.s3.bucket.artifacts"),
        "{}",
        text(&out).1
    );
    // prod's hooks: ECR's and CloudFront's actions on exactly their targets.
    let prod = super::deployer::prod_policy();
    let on = |action: &str| resources_for(&prod, action);
    assert_eq!(
        on("ecr:BatchDeleteImage"),
        [
            "arn:aws:ecr:eu-central-1:123456789012:repository/shuttle-prod-ghost",
            "arn:aws:ecr:eu-west-1:123456789012:repository/shuttle-prod-ghost"
        ]
    );
    assert_eq!(on("cloudfront:CreateInvalidation"), ["arn:aws:cloudfront::123456789012:distribution/*"]);

    let moto = Moto::start_enforcing();
    let keys = deployer(&moto, "hooks-deployer", &for_moto(&policy, None)).await;
    let dir = tempfile::tempdir().expect("dir");
    let state = dir.path().join("s.json");
    let as_deployer = |command: &str| {
        let mut cmd = drone(Some(&moto.url));
        cmd.current_dir(root())
            .env("AWS_ACCESS_KEY_ID", &keys.id)
            .env("AWS_SECRET_ACCESS_KEY", &keys.secret)
            .args([command, "tests/workflows/hooks.drone", "--yes", "--state"])
            .arg(&state);
        run(&mut cmd)
    };
    assert_exit(&as_deployer("run"), 0);
    leave_an_object(&moto, "drone-hooks-artifacts").await;
    let out = as_deployer("destroy");
    assert_exit(&out, 0);
    assert!(text(&out).1.contains("hook: emptied 1 object versions"), "{}", text(&out).1);
}

/// Every resource `policy` allows `action` on.
fn resources_for(policy: &Value, action: &str) -> Vec<String> {
    policy["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .filter(|s| strings(&s["Action"]).iter().any(|a| a == action))
        .flat_map(|s| strings(&s["Resource"]))
        .collect()
}
