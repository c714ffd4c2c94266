//! Drift: changes made outside drone, against moto_server. The lifecycle
//! workflow (`tests/workflows/lifecycle.drone`) holds every resource type, and
//! its revision 2 changes every attribute that updates in place; applying
//! revision 2 through a copy of the state changes the account behind the
//! original state's back, attribute by attribute, without this test naming
//! one. A new type or attribute is covered by adding it to the lifecycle.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Output;

use drone_engine::provider::Provider;
use drone_engine::value::{Attributes, Value};
use drone_stdlib::aws::AwsProvider;
use serde_json::Value as Json;

use super::support::{assert_exit, drone, root, run, sdk_config, text, Moto};

const LIFECYCLE: &str = "tests/workflows/lifecycle.drone";

/// The lifecycle workflow on one moto, with a name of its own.
struct Lifecycle<'a> {
    moto: &'a Moto,
    name: String,
}

impl Lifecycle<'_> {
    /// `drone ARGS LIFECYCLE --state STATE` at `revision`.
    fn drone(&self, args: &[&str], state: &Path, revision: u8) -> Output {
        let mut cmd = drone(Some(&self.moto.url));
        cmd.current_dir(root()).args(args).arg(LIFECYCLE).arg("--state").arg(state).args([
            "--param",
            &format!("name={}", self.name),
            "--param",
            &format!("revision={revision}"),
        ]);
        run(&mut cmd)
    }

    /// `drone plan --format json`, parsed.
    fn plan(&self, state: &Path, revision: u8) -> Json {
        let out = self.drone(&["plan", "--format", "json"], state, revision);
        assert_exit(&out, 0);
        serde_json::from_str(&text(&out).0).expect("plan json")
    }

    /// `drone run --yes`, which must succeed.
    fn apply(&self, state: &Path, revision: u8) -> String {
        let out = self.drone(&["run", "--yes"], state, revision);
        assert_exit(&out, 0);
        text(&out).0
    }
}

/// (address, attribute) of every change the plan's in-place updates make.
fn updated(plan: &Json) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for action in plan["actions"].as_array().expect("actions") {
        let kind = action["action"].as_str().unwrap_or_default();
        assert!(matches!(kind, "update" | "noop"), "revision 2 must change everything in place: {action}");
        for change in action["changes"].as_array().into_iter().flatten() {
            out.insert((address(action), change["attribute"].as_str().unwrap_or_default().to_string()));
        }
    }
    out
}

/// (address, attribute) of every drifted attribute in the plan.
fn drifted(plan: &Json) -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    for d in plan["drift"].as_array().expect("drift") {
        assert_eq!(d["deleted"], Json::Bool(false), "nothing was deleted: {d}");
        for change in d["changes"].as_array().into_iter().flatten() {
            out.insert((address(d), change["attribute"].as_str().unwrap_or_default().to_string()));
        }
    }
    out
}

fn address(entry: &Json) -> String {
    entry["address"].as_str().unwrap_or_default().to_string()
}

/// Whether the plan changes nothing and saw nothing change.
fn clean(plan: &Json) -> bool {
    plan["drift"].as_array().is_some_and(Vec::is_empty)
        && plan["actions"].as_array().into_iter().flatten().all(|a| a["action"] == "noop")
}

fn copy(from: &Path, to: &Path) -> PathBuf {
    std::fs::copy(from, to).expect("copy state");
    to.to_path_buf()
}

fn state(path: &Path) -> Json {
    serde_json::from_str(&std::fs::read_to_string(path).expect("state")).expect("state json")
}

#[tokio::test(flavor = "multi_thread")]
async fn every_attribute_changed_outside_drone_is_reported_and_restored() {
    let moto = Moto::start();
    let lifecycle = Lifecycle { moto: &moto, name: "drift-every".into() };
    let dir = tempfile::tempdir().expect("dir");
    let ours = dir.path().join("ours.json");
    lifecycle.apply(&ours, 1);
    assert!(clean(&lifecycle.plan(&ours, 1)), "a fresh run must refresh to no drift and no change");

    // What revision 2 changes in place: the changes made "in the console".
    let expected = updated(&lifecycle.plan(&ours, 2));
    let types: BTreeSet<String> = state(&ours)["resources"]
        .as_object()
        .expect("resources")
        .values()
        .map(|r| r["type"].as_str().unwrap_or_default().to_string())
        .collect();
    let registered: BTreeSet<String> = drone_stdlib::registry::TYPES.iter().map(|t| t.name.to_string()).collect();
    assert_eq!(types, registered, "{LIFECYCLE} must hold a resource of every registered type");
    let changed_types: BTreeSet<&str> =
        expected.iter().map(|(a, _)| a.rsplit_once('.').map_or(a.as_str(), |(t, _)| t)).collect();
    // A type every attribute of which replaces it (an SNS subscription) has nothing to change in place.
    let changeable = drone_stdlib::registry::TYPES.iter().filter(|t| {
        t.taggable
            || t.schema()
                .attributes
                .iter()
                .any(|a| a.presence != drone_lang::schema::Presence::Computed && !a.force_new)
    });
    assert_eq!(changed_types.len(), changeable.count(), "revision 2 must change every type it can: {changed_types:?}");
    let theirs = copy(&ours, &dir.path().join("theirs.json"));
    lifecycle.apply(&theirs, 2);

    let plan = lifecycle.plan(&ours, 1);
    let seen = drifted(&plan);
    let missed: Vec<_> = expected.difference(&seen).collect();
    let invented: Vec<_> = seen.difference(&expected).collect();
    assert!(missed.is_empty() && invented.is_empty(), "drift missed {missed:?}, invented {invented:?}");
    // And the plan proposes to undo each of them.
    assert_eq!(updated(&plan), expected, "the plan must restore exactly what drifted");
    let human = text(&lifecycle.drone(&["plan"], &ours, 1)).0;
    assert!(human.starts_with("Changed outside drone since the last run:\n"), "{human}");
    assert!(human.contains("  ~ aws.elbv2.listener.https (arn:aws:elasticloadbalancing:"), "{human}");

    let out = lifecycle.apply(&ours, 1);
    let resources: BTreeSet<&String> = expected.iter().map(|(a, _)| a).collect();
    assert!(out.contains(&format!("Apply complete: 0 created, {} updated, 0 deleted.", resources.len())), "{out}");
    assert!(clean(&lifecycle.plan(&ours, 1)), "after the run, the account matches the workflow again");
    // The other state sees the same attributes change back: the account really is at revision 1.
    assert_eq!(drifted(&lifecycle.plan(&theirs, 2)), expected);

    // Deleted outside drone: every resource goes (through the other state), and comes back.
    let out = lifecycle.drone(&["destroy", "--yes"], &theirs, 2);
    assert_exit(&out, 0);
    let plan = lifecycle.plan(&ours, 1);
    let gone: BTreeSet<String> = plan["drift"]
        .as_array()
        .expect("drift")
        .iter()
        .inspect(|d| assert_eq!(d["deleted"], Json::Bool(true), "{d}"))
        .map(address)
        .collect();
    let recorded: BTreeSet<String> =
        state(&ours)["resources"].as_object().expect("resources").keys().cloned().collect();
    assert_eq!(gone, recorded);
    for action in plan["actions"].as_array().expect("actions") {
        assert_eq!(action["action"], "create", "{action}");
        assert!(action["reason"].as_str().is_some_and(|r| r.starts_with("deleted outside drone (was ")), "{action}");
    }
    let out = lifecycle.apply(&ours, 1);
    assert!(out.contains(&format!("Apply complete: {} created", recorded.len())), "{out}");
    assert!(clean(&lifecycle.plan(&ours, 1)));
    assert_exit(&lifecycle.drone(&["destroy", "--yes"], &ours, 1), 0);
}

/// Every attribute the workflow sets and AWS keeps, and every one AWS
/// computes, is filled by `read`, for every resource type (the lifecycle
/// holds them all): one that `read` left out could change outside drone
/// unseen, or be missing after `drone import`.
#[tokio::test(flavor = "multi_thread")]
async fn read_fills_every_attribute_the_workflow_sets_for_every_type() {
    let moto = Moto::start();
    let lifecycle = Lifecycle { moto: &moto, name: "drift-read".into() };
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("state.json");
    lifecycle.apply(&path, 1);
    let recorded = state(&path);
    let catalog = drone_stdlib::catalog();
    let config = sdk_config(&moto.url).await;
    let providers: BTreeMap<&str, AwsProvider> = [
        ("main", AwsProvider::from_config(&config, None)),
        (
            "edge",
            AwsProvider::from_config(&config.to_builder().region(aws_config::Region::new("us-east-1")).build(), None),
        ),
        (
            "standby",
            AwsProvider::from_config(
                &config.to_builder().region(aws_config::Region::new("eu-central-1")).build(),
                None,
            ),
        ),
    ]
    .into();
    let mut types = BTreeSet::new();
    let mut gaps = Vec::new();
    for (address, r) in recorded["resources"].as_object().expect("resources") {
        let type_name = r["type"].as_str().expect("type");
        types.insert(type_name.to_string());
        let attributes: Attributes = r["attributes"]
            .as_object()
            .expect("attributes")
            .iter()
            .map(|(k, v)| (k.clone(), Value::from_json(v)))
            .collect();
        let provider = &providers[r["provider"].as_str().expect("provider")];
        let read = provider
            .read(type_name, r["id"].as_str().expect("id"), &attributes)
            .await
            .unwrap_or_else(|e| panic!("reading {address}: {e}"))
            .unwrap_or_else(|| panic!("{address} exists"));
        let schema = catalog.resource(type_name).expect("schema");
        for name in attributes.keys() {
            let Some(attribute) = schema.attribute(name) else { continue };
            // What the workflow sets and AWS keeps, and what AWS computes (an import
            // records only what read reports, and dependants refer to computed values).
            let wanted = (attribute.settable() && attribute.read_back) || (attribute.computed() && name != "id");
            if wanted && !read.attributes.contains_key(name) {
                gaps.push(format!("{type_name}.{name}"));
            }
        }
    }
    assert!(gaps.is_empty(), "read never fills: {gaps:?}");
    let all: BTreeSet<String> = catalog.resources().map(|r| r.type_name.clone()).collect();
    assert_eq!(types, all, "the lifecycle workflow must hold every resource type");
}

/// The changes a person makes in the console that matter most for safety,
/// made through the SDK: each is reported, and `drone run` undoes it.
#[tokio::test(flavor = "multi_thread")]
async fn console_changes_that_weaken_the_platform_are_undone() {
    let moto = Moto::start();
    let lifecycle = Lifecycle { moto: &moto, name: "drift-console".into() };
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("state.json");
    lifecycle.apply(&path, 1);
    let recorded = state(&path);
    let id = |address: &str| recorded["resources"][address]["id"].as_str().expect("id").to_string();
    let config = sdk_config(&moto.url).await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    let s3 = super::support::s3_client(&config);
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&config);
    let logs = aws_sdk_cloudwatchlogs::Client::new(&config);
    let ecs = aws_sdk_ecs::Client::new(&config);

    // The database's group opened to the internet on MySQL's port.
    let db_group = id("aws.ec2.security_group.db");
    let open = aws_sdk_ec2::types::IpPermission::builder()
        .ip_protocol("tcp")
        .from_port(3306)
        .to_port(3306)
        .ip_ranges(aws_sdk_ec2::types::IpRange::builder().cidr_ip("0.0.0.0/0").build())
        .build();
    ec2.authorize_security_group_ingress().group_id(&db_group).ip_permissions(open.clone()).send().await.expect("open");
    // The same on a group whose workflow declares no ingress at all: ingress is guarded, so unset means none.
    let lb_group = id("aws.ec2.security_group.lb");
    ec2.authorize_security_group_ingress().group_id(&lb_group).ip_permissions(open).send().await.expect("open");
    // Administrator rights for the task role.
    let admin = "arn:aws:iam::aws:policy/AdministratorAccess";
    iam.attach_role_policy().role_name(id("aws.iam.role.app")).policy_arn(admin).send().await.expect("attach");
    // The HTTPS listener down to a policy that admits TLS 1.0.
    let listener = id("aws.elbv2.listener.https");
    let weak = "ELBSecurityPolicy-2016-08";
    elb.modify_listener().listener_arn(&listener).ssl_policy(weak).send().await.expect("downgrade");
    // The private subnets' default route pointed at the internet gateway.
    let private_table = id("aws.ec2.route_table.private");
    let igw = id("aws.ec2.internet_gateway.main");
    ec2.replace_route()
        .route_table_id(&private_table)
        .destination_cidr_block("0.0.0.0/0")
        .gateway_id(&igw)
        .send()
        .await
        .expect("route");
    // The bucket's encryption and public access block removed.
    let bucket = id("aws.s3.bucket.store");
    s3.delete_bucket_encryption().bucket(&bucket).send().await.expect("encryption");
    s3.delete_public_access_block().bucket(&bucket).send().await.expect("block");
    // Logs kept a day, the service scaled out, a tag changed.
    let group = id("aws.logs.log_group.app");
    logs.put_retention_policy().log_group_name(&group).retention_in_days(1).send().await.expect("retention");
    let service = id("aws.ecs.service.app");
    ecs.update_service()
        .cluster(id("aws.ecs.cluster.main"))
        .service(&service)
        .desired_count(5)
        .send()
        .await
        .expect("scale");
    let vpc = id("aws.ec2.vpc.main");
    let tag = aws_sdk_ec2::types::Tag::builder().key("stage").value("tampered").build();
    ec2.create_tags().resources(&vpc).tags(tag).send().await.expect("tag");

    let plan = lifecycle.plan(&path, 1);
    let seen = drifted(&plan);
    let expected: BTreeSet<(String, String)> = [
        ("aws.ec2.security_group.db", "ingress"),
        ("aws.ec2.security_group.lb", "ingress"),
        ("aws.iam.role.app", "managed_policy_arns"),
        ("aws.elbv2.listener.https", "ssl_policy"),
        ("aws.ec2.route_table.private", "routes"),
        ("aws.s3.bucket.store", "encryption"),
        ("aws.s3.bucket.store", "public_access_block"),
        ("aws.logs.log_group.app", "retention_in_days"),
        ("aws.ecs.service.app", "desired_count"),
        ("aws.ec2.vpc.main", "tags"),
    ]
    .into_iter()
    .map(|(a, b)| (a.to_string(), b.to_string()))
    .collect();
    assert_eq!(seen, expected);
    let ssl = plan["drift"]
        .as_array()
        .expect("drift")
        .iter()
        .find(|d| d["address"] == "aws.elbv2.listener.https")
        .map(|d| d["changes"][0]["actual"].clone());
    assert_eq!(ssl, Some(Json::String(weak.into())));

    lifecycle.apply(&path, 1);
    assert!(clean(&lifecycle.plan(&path, 1)));
    // Read back with the SDK: each weakening is gone.
    let groups = ec2.describe_security_groups().group_ids(&db_group).group_ids(&lb_group).send().await.expect("sg");
    for group in groups.security_groups() {
        let open_to_all =
            group.ip_permissions().iter().any(|p| p.ip_ranges().iter().any(|r| r.cidr_ip() == Some("0.0.0.0/0")));
        assert!(!open_to_all, "{:?} is still open to the internet", group.group_name());
    }
    assert_eq!(groups.security_groups().len(), 2);
    let attached = iam.list_attached_role_policies().role_name(id("aws.iam.role.app")).send().await.expect("attached");
    assert!(attached.attached_policies().iter().all(|p| p.policy_arn() != Some(admin)));
    let listeners = elb.describe_listeners().listener_arns(&listener).send().await.expect("listener");
    assert_eq!(listeners.listeners()[0].ssl_policy(), Some("ELBSecurityPolicy-TLS13-1-2-2021-06"));
    let tables = ec2.describe_route_tables().route_table_ids(&private_table).send().await.expect("rt");
    let default = tables.route_tables()[0].routes().iter().find(|r| r.destination_cidr_block() == Some("0.0.0.0/0"));
    assert_eq!(default.and_then(|r| r.nat_gateway_id()), Some(id("aws.ec2.nat_gateway.main").as_str()));
    assert!(s3.get_bucket_encryption().bucket(&bucket).send().await.is_ok());
    assert!(s3.get_public_access_block().bucket(&bucket).send().await.is_ok());
    assert_exit(&lifecycle.drone(&["destroy", "--yes"], &path, 1), 0);
}

/// `--refresh-only` accepts what changed into state and changes nothing in the cloud.
#[tokio::test(flavor = "multi_thread")]
async fn refresh_only_accepts_the_account_as_it_is() {
    let moto = Moto::start();
    let lifecycle = Lifecycle { moto: &moto, name: "drift-accept".into() };
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("state.json");
    lifecycle.apply(&path, 1);
    let group = state(&path)["resources"]["aws.logs.log_group.app"]["id"].as_str().expect("id").to_string();
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk_config(&moto.url).await);
    logs.put_retention_policy().log_group_name(&group).retention_in_days(90).send().await.expect("retention");

    let out = lifecycle.drone(&["plan", "--refresh-only"], &path, 1);
    assert_exit(&out, 0);
    let stdout = text(&out).0;
    assert!(
        stdout.contains("  ~ aws.logs.log_group.app (/ecs/drift-accept)\n      retention_in_days : 30 -> 90"),
        "{stdout}"
    );
    assert!(!stdout.contains("update in place"), "{stdout}");
    let out = lifecycle.drone(&["run", "--refresh-only", "--yes"], &path, 1);
    assert_exit(&out, 0);
    assert!(text(&out).0.contains("State updated: 1 resource accepted as the account has them."));
    assert_eq!(state(&path)["resources"]["aws.logs.log_group.app"]["attributes"]["retention_in_days"], 90);
    let found = logs.describe_log_groups().log_group_name_prefix(&group).send().await.expect("groups");
    assert_eq!(found.log_groups()[0].retention_in_days(), Some(90), "refresh-only changed the cloud");
    // Accepted, so no longer drift; the workflow still says 30, so the plan proposes it.
    let plan = lifecycle.plan(&path, 1);
    assert!(plan["drift"].as_array().is_some_and(Vec::is_empty), "{plan}");
    assert!(updated(&plan).contains(&("aws.logs.log_group.app".to_string(), "retention_in_days".to_string())));
    assert_exit(&lifecycle.drone(&["destroy", "--yes"], &path, 1), 0);
}
