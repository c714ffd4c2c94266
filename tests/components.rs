//! Components against moto_server: `stdlib/components/network.drone`
//! instantiated twice (the second in a standby region, through the instance's
//! `provider`), its resources at stable addresses under each instance, outputs
//! feeding the workflow, an existing VPC moved into an instance with `moved`
//! (kept, not replaced), and everything destroyed.

use std::path::Path;
use std::process::Output;

use super::account::assert_matches_state;
use super::support::{assert_exit, drone, root, run, text, Moto};

const HEADER: &str = r#"workflow "components" {}

use "network.drone" as net

provider aws main {
  region  = "eu-west-1"
  default = true
}

provider aws standby {
  region = "eu-central-1"
}
"#;

/// Before components: the VPC alone, declared directly, as the component declares it.
const DIRECT_VPC: &str = r#"
resource aws.ec2.vpc main {
  cidr_block           = "10.70.0.0/16"
  enable_dns_support   = true
  enable_dns_hostnames = true
  tags                 = { Name = "blue" }
}
"#;

const PRIMARY: &str = r#"
instance net.network primary {
  name  = "blue"
  cidr  = "10.70.0.0/16"
  zones = ["eu-west-1a", "eu-west-1b"]
}

moved {
  from = "aws.ec2.vpc.main"
  to   = "network.primary.aws.ec2.vpc.main"
}

resource aws.rds.db_subnet_group data {
  name       = "blue-data"
  subnet_ids = network.primary.private_subnet_ids
}

output vpc = network.primary.vpc_id
"#;

/// The same component in the standby region: the instance's provider is its resources'.
const SECONDARY: &str = r#"
instance net.network secondary {
  provider = standby
  name     = "green"
  cidr     = "10.71.0.0/16"
  zones    = ["eu-central-1a"]
  tags     = { team = "green" }
}
"#;

fn drone_in(moto: &Moto, dir: &Path, args: &[&str]) -> Output {
    let mut cmd = drone(Some(&moto.url));
    cmd.current_dir(dir).args(args).args(["--state", "state.json"]);
    run(&mut cmd)
}

fn write(dir: &Path, parts: &[&str]) {
    std::fs::write(dir.join("w.drone"), parts.concat()).expect("write");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_component_instantiated_twice_with_a_resource_moved_into_it() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("dir");
    std::fs::copy(root().join("stdlib/components/network.drone"), dir.path().join("network.drone")).expect("copy");

    write(dir.path(), &[HEADER, DIRECT_VPC]);
    assert_exit(&drone_in(&moto, dir.path(), &["run", "w.drone", "--yes"]), 0);
    let out = drone_in(&moto, dir.path(), &["state", "show", "w.drone", "aws.ec2.vpc.main"]);
    let vpc: serde_json::Value = serde_json::from_str(&text(&out).0).expect("vpc");

    // Into the component: the VPC moves under the instance and stays; the rest is created.
    write(dir.path(), &[HEADER, PRIMARY]);
    let out = drone_in(&moto, dir.path(), &["plan", "w.drone", "--format", "json"]);
    assert_exit(&out, 0);
    let plan: serde_json::Value = serde_json::from_str(&text(&out).0).expect("plan");
    assert_eq!(plan["moved"][0]["to"], "network.primary.aws.ec2.vpc.main", "{plan:#}");
    let actions: Vec<(String, String)> = plan["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .map(|a| {
            (
                a["address"].as_str().unwrap_or_default().to_string(),
                a["action"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    assert!(actions.contains(&("network.primary.aws.ec2.vpc.main".into(), "noop".into())), "{actions:?}");
    assert!(
        actions.contains(&(r#"network.primary.aws.ec2.subnet.private["eu-west-1b"]"#.into(), "create".into())),
        "{actions:?}"
    );
    // The rest of the network (15, its flow log with its group and role among them) and the subnet
    // group that reads its output.
    assert_eq!(actions.iter().filter(|(_, a)| a == "create").count(), 16, "{actions:?}");
    let out = drone_in(&moto, dir.path(), &["run", "w.drone", "--yes"]);
    assert_exit(&out, 0);
    assert!(text(&out).0.contains("output vpc = "), "{}", text(&out).0);
    let out = drone_in(&moto, dir.path(), &["state", "show", "w.drone", "network.primary.aws.ec2.vpc.main"]);
    assert_exit(&out, 0);
    let moved: serde_json::Value = serde_json::from_str(&text(&out).0).expect("moved vpc");
    assert_eq!(moved["id"], vpc["id"], "the VPC was kept, not replaced");

    // A second instance, in the standby region: only its own resources are created, at its own
    // addresses, and the plan says where each lives.
    write(dir.path(), &[HEADER, PRIMARY, SECONDARY]);
    let out = drone_in(&moto, dir.path(), &["plan", "w.drone", "--no-color"]);
    let shown = text(&out).0;
    assert!(shown.contains("+ network.secondary.aws.ec2.vpc.main (create in eu-central-1)"), "{shown}");
    let out = drone_in(&moto, dir.path(), &["run", "w.drone", "--yes"]);
    assert_exit(&out, 0);
    assert!(text(&out).0.contains("Apply complete: 11 created, 0 updated, 0 deleted."), "{}", text(&out).0);
    let out = drone_in(&moto, dir.path(), &["state", "list", "w.drone"]);
    let listed = text(&out).0;
    assert!(listed.contains("network.secondary.aws.ec2.nat_gateway.main[\"eu-central-1a\"]"), "{listed}");
    assert_eq!(listed.lines().count(), 17 + 11, "{listed}");
    let standby =
        super::account::in_region(&moto.url, &super::support::sdk_config(&moto.url).await, "eu-central-1").await;
    let vpcs = aws_sdk_ec2::Client::new(&standby).describe_vpcs().send().await.expect("vpcs");
    assert!(
        vpcs.vpcs().iter().any(|v| v.cidr_block() == Some("10.71.0.0/16")),
        "the secondary network is in the standby region: {vpcs:?}"
    );
    assert_matches_state(&moto.url, &dir.path().join("state.json"), "components").await;
    let out = drone_in(&moto, dir.path(), &["plan", "w.drone"]);
    assert!(text(&out).0.contains("No changes: 28 resource(s) match the workflow."), "{}", text(&out).0);

    let out = drone_in(&moto, dir.path(), &["destroy", "w.drone", "--yes"]);
    assert_exit(&out, 0);
    super::account::assert_empty(&moto.url).await;
}

/// Policies see through components: a rule's finding on a resource an
/// instance owns names its address under the instance and points into the
/// component's file.
#[test]
fn policies_judge_what_components_declare() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("open.drone"),
        r#"component open_db {
  input vpc: string

  resource aws.ec2.security_group db {
    name    = "db"
    vpc_id  = vpc
    ingress = [{ port = 3306, cidr = "0.0.0.0/0" }]
  }
}
"#,
    )
    .expect("write");
    std::fs::write(
        dir.path().join("w.drone"),
        r#"use "open.drone" as o

resource aws.ec2.vpc main {
  cidr_block = "10.0.0.0/16"
}

instance o.open_db legacy {
  vpc = aws.ec2.vpc.main.id
}
"#,
    )
    .expect("write");
    let out = run(drone(None).current_dir(dir.path()).args(["check", "w.drone", "--format", "json"]));
    assert_exit(&out, 4);
    let report: serde_json::Value = serde_json::from_str(&text(&out).0).expect("json");
    let finding = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .find(|f| f["rule"] == "network.public_ingress")
        .unwrap_or_else(|| panic!("no public_ingress finding: {report:#}"));
    assert_eq!(finding["address"], "open_db.legacy.aws.ec2.security_group.db");
    assert!(finding["file"].as_str().unwrap_or_default().ends_with("open.drone"), "{finding}");
    assert_eq!(finding["line"], 7);
}
