//! Tools for humans over state, against moto_server: `drone import` records
//! a resource made outside drone (nothing in the cloud changes, and the plan
//! then shows only what differs), `drone state rm` forgets one (the resource
//! stays), `drone state orphans` finds what carries this state's tags but is
//! not recorded, adopts or deletes it, and `drone destroy` says when any is left.

use std::path::Path;
use std::process::Output;

use super::support::{assert_exit, drone, run, sdk_config, text, Moto};

const WORKFLOW: &str = r#"workflow "imports" {}

provider aws main {
  region  = "eu-west-1"
  default = true
}

resource aws.s3.bucket logs {
  name          = "imported-logs"
  versioning    = true
  encryption    = "AES256"
  force_destroy = true
  tags          = { team = "platform" }
}
"#;

/// A moto, a directory holding `WORKFLOW` as `w.drone`, and the bucket it
/// names, made through the SDK (as a person or another tool would).
async fn a_bucket_made_by_hand() -> (Moto, tempfile::TempDir, aws_sdk_s3::Client) {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("w.drone"), WORKFLOW).expect("write");
    let config = sdk_config(&moto.url).await;
    let s3 = super::support::s3_client(&config);
    let location = aws_sdk_s3::types::CreateBucketConfiguration::builder()
        .location_constraint(aws_sdk_s3::types::BucketLocationConstraint::EuWest1)
        .build();
    s3.create_bucket().bucket("imported-logs").create_bucket_configuration(location).send().await.expect("bucket");
    (moto, dir, s3)
}

fn drone_in(moto: &Moto, dir: &Path, args: &[&str]) -> Output {
    let mut cmd = drone(Some(&moto.url));
    cmd.current_dir(dir).args(args).args(["--state", "state.json"]);
    run(&mut cmd)
}

#[tokio::test(flavor = "multi_thread")]
async fn import_records_a_resource_made_outside_drone_and_state_rm_forgets_it() {
    let (moto, dir, s3) = a_bucket_made_by_hand().await;
    // Made by hand: versioned, no encryption, another tag.
    let on = aws_sdk_s3::types::VersioningConfiguration::builder()
        .status(aws_sdk_s3::types::BucketVersioningStatus::Enabled)
        .build();
    s3.put_bucket_versioning().bucket("imported-logs").versioning_configuration(on).send().await.expect("versioning");

    // Addresses and ids that do not fit are refused, each with its own error.
    let out = drone_in(&moto, dir.path(), &["import", "w.drone", "aws.s3.bucket.log", "imported-logs"]);
    assert_exit(&out, 2);
    assert!(text(&out).1.contains("did you mean `aws.s3.bucket.logs`?"), "{}", text(&out).1);
    let out = drone_in(&moto, dir.path(), &["import", "w.drone", "aws.s3.bucket.logs", "no-such-bucket"]);
    assert_exit(&out, 5);
    assert!(text(&out).1.contains("there is no aws.s3.bucket with id `no-such-bucket`"), "{}", text(&out).1);
    assert!(!dir.path().join("state.json").exists(), "a failed import writes no state");

    let out = drone_in(&moto, dir.path(), &["import", "w.drone", "aws.s3.bucket.logs", "imported-logs"]);
    assert_exit(&out, 0);
    assert!(text(&out).0.contains("Imported aws.s3.bucket.logs (imported-logs)"), "{}", text(&out).0);
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("state.json")).expect("state")).expect("json");
    let recorded = &state["resources"]["aws.s3.bucket.logs"];
    assert_eq!(recorded["id"], "imported-logs");
    assert_eq!(recorded["attributes"]["versioning"], true);
    assert_eq!(recorded["attributes"]["arn"], "arn:aws:s3:::imported-logs");
    assert_eq!(recorded["attributes"]["force_destroy"], true, "drone-side switches come from the workflow");
    let out = drone_in(&moto, dir.path(), &["import", "w.drone", "aws.s3.bucket.logs", "imported-logs"]);
    assert_exit(&out, 2);
    assert!(text(&out).1.contains("state already records `aws.s3.bucket.logs` as imported-logs"), "{}", text(&out).1);

    // The plan updates what differs, in place: nothing is created.
    let plan = |dir: &Path| {
        let out = drone_in(&moto, dir, &["plan", "w.drone", "--format", "json", "--disable-policy", "data"]);
        assert_exit(&out, 0);
        serde_json::from_str::<serde_json::Value>(&text(&out).0).expect("plan")
    };
    let before = plan(dir.path());
    let action = &before["actions"][0];
    assert_eq!(action["action"], "update", "{before}");
    let changed: Vec<&str> =
        action["changes"].as_array().expect("changes").iter().filter_map(|c| c["attribute"].as_str()).collect();
    assert_eq!(changed, ["encryption", "tags"], "{before}");
    let out = drone_in(&moto, dir.path(), &["run", "w.drone", "--yes", "--disable-policy", "data"]);
    assert_exit(&out, 0);
    assert!(text(&out).0.contains("Apply complete: 0 created, 1 updated, 0 deleted."), "{}", text(&out).0);
    let encryption = s3.get_bucket_encryption().bucket("imported-logs").send().await;
    assert!(encryption.is_ok(), "the run encrypted the imported bucket");

    // Forgotten: state no longer holds it, the bucket stays, and the plan would create it.
    let out = drone_in(&moto, dir.path(), &["state", "rm", "w.drone", "aws.s3.bucket.nope"]);
    assert_exit(&out, 2);
    let out = drone_in(&moto, dir.path(), &["state", "rm", "w.drone", "aws.s3.bucket.logs"]);
    assert_exit(&out, 0);
    assert!(text(&out).0.contains("removed aws.s3.bucket.logs (imported-logs) from state"), "{}", text(&out).0);
    assert!(s3.head_bucket().bucket("imported-logs").send().await.is_ok(), "state rm touched the bucket");
    assert_eq!(plan(dir.path())["actions"][0]["action"], "create");

    // The run gave it this state's tags: forgotten, it is an orphan, and adopting records it again.
    let out = drone_in(&moto, dir.path(), &["state", "orphans", "w.drone"]);
    assert_exit(&out, 0);
    assert!(text(&out).0.contains("aws.s3.bucket.logs  imported-logs  (not recorded)"), "{}", text(&out).0);
    let out = drone_in(&moto, dir.path(), &["state", "orphans", "w.drone", "--adopt"]);
    assert_exit(&out, 0);
    assert!(text(&out).0.contains("Adopted 1 orphan(s)"), "{}", text(&out).0);
    assert_eq!(plan(dir.path())["actions"][0]["action"], "noop");

    // Forgotten again, a run meets the bucket's name taken by this state's own bucket: it adopts
    // it and says so, in progress and in the summary, rather than "create ... done".
    assert_exit(&drone_in(&moto, dir.path(), &["state", "rm", "w.drone", "aws.s3.bucket.logs"]), 0);
    let out = drone_in(&moto, dir.path(), &["run", "w.drone", "--yes", "--disable-policy", "data"]);
    assert_exit(&out, 0);
    let (stdout, stderr) = text(&out);
    assert!(stdout.contains("Apply complete: 0 created, 1 adopted, 0 updated, 0 deleted."), "{stdout}");
    assert!(stderr.contains("create aws.s3.bucket.logs adopted in"), "{stderr}");
    assert_eq!(plan(dir.path())["actions"][0]["action"], "noop");
}

const TWO: &str = r#"workflow "orphans" {}

provider aws main {
  region  = "eu-west-1"
  default = true
}

resource aws.ec2.vpc main {
  cidr_block = "10.9.0.0/16"
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn a_second_copy_is_found_reported_by_destroy_and_deleted() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("w.drone"), TWO).expect("write");
    let out = drone_in(&moto, dir.path(), &["run", "w.drone", "--yes"]);
    assert_exit(&out, 0);
    // A second copy, as a create repeated without a lookup would have made it: the same tags.
    let ec2 = aws_sdk_ec2::Client::new(&sdk_config(&moto.url).await);
    let first = ec2.describe_vpcs().filters(tag_key("drone:address")).send().await.expect("vpcs");
    let tags = first.vpcs()[0].tags().to_vec();
    let spec = aws_sdk_ec2::types::TagSpecification::builder()
        .resource_type(aws_sdk_ec2::types::ResourceType::Vpc)
        .set_tags(Some(tags))
        .build();
    let copy = ec2.create_vpc().cidr_block("10.9.0.0/16").tag_specifications(spec).send().await.expect("copy");
    let copy = copy.vpc().and_then(|v| v.vpc_id()).expect("id").to_string();

    let out = drone_in(&moto, dir.path(), &["state", "orphans", "w.drone"]);
    assert_exit(&out, 0);
    assert!(text(&out).0.contains(&format!("aws.ec2.vpc.main  {copy}  (a second copy")), "{}", text(&out).0);
    let out = drone_in(&moto, dir.path(), &["destroy", "w.drone", "--yes"]);
    assert_exit(&out, 5);
    assert!(text(&out).1.contains(&copy) && text(&out).1.contains("--delete"), "{}", text(&out).1);
    let out = drone_in(&moto, dir.path(), &["state", "orphans", "w.drone", "--delete"]);
    assert_exit(&out, 0);
    assert!(text(&out).0.contains("Deleted 1 of 1 orphan(s)."), "{}", text(&out).0);
    let out = drone_in(&moto, dir.path(), &["destroy", "w.drone", "--yes"]);
    assert_exit(&out, 0);
    let left = ec2.describe_vpcs().filters(tag_key("drone:address")).send().await.expect("vpcs");
    assert!(left.vpcs().is_empty(), "{:?}", left.vpcs());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_name_taken_by_another_is_refused_naming_its_owner() {
    let (moto, dir, s3) = a_bucket_made_by_hand().await;
    // Another state's resource, by its tags.
    let tag = |k: &str, v: &str| aws_sdk_s3::types::Tag::builder().key(k).value(v).build().expect("tag");
    let tagging = aws_sdk_s3::types::Tagging::builder()
        .tag_set(tag("drone:workflow", "billing"))
        .tag_set(tag("drone:address", "aws.s3.bucket.archive"))
        .tag_set(tag("drone:lineage", "0123abcd"))
        .build()
        .expect("tagging");
    s3.put_bucket_tagging().bucket("imported-logs").tagging(tagging).send().await.expect("tags");
    let out = drone_in(&moto, dir.path(), &["run", "w.drone", "--yes", "--disable-policy", "data"]);
    assert_exit(&out, 5);
    let owner = "belongs to `aws.s3.bucket.archive` of workflow `billing` (state lineage 0123abcd)";
    assert!(text(&out).0.contains(owner), "{}", text(&out).0);
    // Made by hand: nobody's that drone knows, so it is not taken over either.
    s3.delete_bucket_tagging().bucket("imported-logs").send().await.expect("untag");
    let out = drone_in(&moto, dir.path(), &["run", "w.drone", "--yes", "--disable-policy", "data"]);
    assert_exit(&out, 5);
    let help = "drone did not make it; adopt it with `drone import aws.s3.bucket.logs imported-logs`";
    assert!(text(&out).0.contains(help), "{}", text(&out).0);
}

fn tag_key(key: &str) -> aws_sdk_ec2::types::Filter {
    aws_sdk_ec2::types::Filter::builder().name("tag-key").values(key).build()
}

const BEFORE_MOVE: &str = r#"workflow "moves" {}

provider aws main {
  region  = "eu-west-1"
  default = true
}

resource aws.ec2.vpc net {
  cidr_block = "10.60.0.0/16"
}

for zone in ["eu-west-1a", "eu-west-1b"] {
  resource aws.ec2.subnet app {
    vpc_id            = aws.ec2.vpc.net.id
    cidr_block        = zone == "eu-west-1a" ? "10.60.1.0/24" : "10.60.2.0/24"
    availability_zone = zone
  }
}
"#;

/// The same resources under new names, with `moved` blocks saying so.
const AFTER_MOVE: &str = r#"workflow "moves" {}

provider aws main {
  region  = "eu-west-1"
  default = true
}

resource aws.ec2.vpc main {
  cidr_block = "10.60.0.0/16"
}

for zone in ["eu-west-1a", "eu-west-1b"] {
  resource aws.ec2.subnet private {
    vpc_id            = aws.ec2.vpc.main.id
    cidr_block        = zone == "eu-west-1a" ? "10.60.1.0/24" : "10.60.2.0/24"
    availability_zone = zone
  }
}

moved {
  from = "aws.ec2.vpc.net"
  to   = "aws.ec2.vpc.main"
}

moved {
  from = "aws.ec2.subnet.app"
  to   = "aws.ec2.subnet.private"
}
"#;

#[tokio::test(flavor = "multi_thread")]
async fn moved_blocks_and_state_mv_rename_without_touching_a_resource() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("w.drone"), BEFORE_MOVE).expect("write");
    let out = drone_in(&moto, dir.path(), &["run", "w.drone", "--yes"]);
    assert_exit(&out, 0);
    let ids = |dir: &Path| {
        let out = drone_in(&moto, dir, &["state", "list", "w.drone"]);
        assert_exit(&out, 0);
        text(&out).0
    };
    let before = ids(dir.path());

    // Renamed blocks with `moved`: the plan moves them in state and changes nothing in the cloud.
    std::fs::write(dir.path().join("w.drone"), AFTER_MOVE).expect("write");
    let out = drone_in(&moto, dir.path(), &["plan", "w.drone"]);
    assert_exit(&out, 0);
    let plan = text(&out).0;
    assert!(plan.contains("  > aws.ec2.vpc.net -> aws.ec2.vpc.main"), "{plan}");
    assert!(plan.contains(r#"  > aws.ec2.subnet.app["eu-west-1b"] -> aws.ec2.subnet.private["eu-west-1b"]"#), "{plan}");
    assert!(plan.contains("No changes: 3 resource(s) match the workflow."), "{plan}");
    assert_eq!(ids(dir.path()), before, "plan writes nothing");
    let out = drone_in(&moto, dir.path(), &["run", "w.drone", "--yes"]);
    assert_exit(&out, 0);
    let after = ids(dir.path());
    let vpc =
        before.lines().find(|l| l.starts_with("aws.ec2.vpc.net\t")).and_then(|l| l.split('\t').nth(1)).expect("vpc");
    assert!(after.contains(&format!("aws.ec2.vpc.main\t{vpc}")), "{after}");
    assert!(!after.contains(".app"), "{after}");
    // Moved resources are this state's, not orphans, though their tags name the old address.
    let out = drone_in(&moto, dir.path(), &["state", "orphans", "w.drone"]);
    assert_exit(&out, 0);
    assert!(!text(&out).0.contains("not recorded"), "{}", text(&out).0);

    // By hand: one instance, and back; a taken address is refused.
    let b = r#"aws.ec2.subnet.private["eu-west-1b"]"#;
    let out = drone_in(&moto, dir.path(), &["state", "mv", "w.drone", b, "aws.ec2.subnet.spare"]);
    assert_exit(&out, 0);
    assert!(
        text(&out).0.contains("moved aws.ec2.subnet.private[\"eu-west-1b\"] to aws.ec2.subnet.spare"),
        "{}",
        text(&out).0
    );
    let out = drone_in(&moto, dir.path(), &["state", "mv", "w.drone", "aws.ec2.subnet.spare", "aws.ec2.vpc.main"]);
    assert_exit(&out, 2);
    assert!(text(&out).1.contains("already records a resource at `aws.ec2.vpc.main`"), "{}", text(&out).1);
    let out = drone_in(&moto, dir.path(), &["state", "mv", "w.drone", "aws.ec2.subnet.spare", b]);
    assert_exit(&out, 0);
    let out = drone_in(&moto, dir.path(), &["state", "mv", "w.drone", "aws.ec2.subnet.nowhere", b]);
    assert_exit(&out, 2);
    let out = drone_in(&moto, dir.path(), &["plan", "w.drone"]);
    assert!(text(&out).0.contains("No changes: 3 resource(s) match the workflow."), "{}", text(&out).0);

    let out = drone_in(&moto, dir.path(), &["destroy", "w.drone", "--yes"]);
    assert_exit(&out, 0);
}

/// CloudWatch's PutMetricAlarm and PutDashboard replace whatever has the name. An alarm and a
/// dashboard someone made by hand under the workflow's names are refused, never overwritten.
#[tokio::test(flavor = "multi_thread")]
async fn an_alarm_or_dashboard_made_by_hand_is_not_overwritten() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("dir");
    let workflow = r#"workflow "watch" {}

provider aws main {
  region  = "eu-west-1"
  default = true
}

resource aws.cloudwatch.alarm cpu {
  name       = "shared-cpu"
  namespace  = "AWS/ECS"
  metric     = "CPUUtilization"
  threshold  = 80
  comparison = "GreaterThanThreshold"
}

resource aws.cloudwatch.dashboard main {
  name = "shared"
  body = { widgets = [{ type = "text", width = 6, height = 2, properties = { markdown = "drone's" } }] }
}
"#;
    std::fs::write(dir.path().join("w.drone"), workflow).expect("write");
    let cw = aws_sdk_cloudwatch::Client::new(&sdk_config(&moto.url).await);
    let theirs = aws_sdk_cloudwatch::types::ComparisonOperator::LessThanThreshold;
    cw.put_metric_alarm()
        .alarm_name("shared-cpu")
        .namespace("Team/Billing")
        .metric_name("Invoices")
        .statistic(aws_sdk_cloudwatch::types::Statistic::Sum)
        .period(300)
        .evaluation_periods(1)
        .threshold(1.0)
        .comparison_operator(theirs.clone())
        .send()
        .await
        .expect("their alarm");
    let body = r#"{"widgets":[{"type":"text","width":6,"height":2,"properties":{"markdown":"theirs"}}]}"#;
    cw.put_dashboard().dashboard_name("shared").dashboard_body(body).send().await.expect("their dashboard");

    let out = drone_in(&moto, dir.path(), &["run", "w.drone", "--yes", "--disable-policy", "operations"]);
    assert_exit(&out, 5);
    let (stdout, _) = text(&out);
    assert!(stdout.contains("adopt it with `drone import aws.cloudwatch.alarm.cpu shared-cpu`"), "{stdout}");
    assert!(stdout.contains("adopt it with `drone import aws.cloudwatch.dashboard.main shared`"), "{stdout}");
    let alarms = cw.describe_alarms().alarm_names("shared-cpu").send().await.expect("alarms");
    let alarm = alarms.metric_alarms().first().expect("their alarm is still there");
    assert_eq!((alarm.namespace(), alarm.comparison_operator()), (Some("Team/Billing"), Some(&theirs)));
    let dashboard = cw.get_dashboard().dashboard_name("shared").send().await.expect("their dashboard");
    assert!(dashboard.dashboard_body().is_some_and(|b| b.contains("theirs")), "{dashboard:?}");
}
