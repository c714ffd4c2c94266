//! `data` blocks: a resource another workflow (or a person) keeps is looked
//! up by name and read, its values are used before anything runs, and drone
//! never changes or deletes it.

use super::support::{assert_exit, drone, run, sdk_config, text, Moto};

const ZONE: &str = r#"workflow "dns" {}

provider aws main {
  region  = "eu-west-1"
  default = true
}

resource aws.route53.zone shared {
  name    = "shared.example"
  comment = "kept by the DNS team"
}
"#;

const SITE: &str = r#"workflow "site" {}

provider aws main {
  region  = "eu-west-1"
  default = true
}

param zone: string = "shared.example"

// The DNS team's zone: looked up by name, never changed here.
data aws.route53.zone shared {
  name = zone
}

resource aws.route53.record www {
  zone_id = aws.route53.zone.shared.id
  name    = "www.${zone}"
  type    = "A"
  ttl     = 60
  records = ["192.0.2.10"]
}

output zone_id = aws.route53.zone.shared.id
"#;

fn drone_in(moto: &Moto, dir: &std::path::Path, args: &[&str]) -> std::process::Output {
    run(drone(Some(&moto.url)).current_dir(dir).args(args))
}

#[tokio::test(flavor = "multi_thread")]
async fn a_data_block_reads_an_existing_zone_and_never_changes_it() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("zone.drone"), ZONE).expect("write");
    std::fs::write(dir.path().join("site.drone"), SITE).expect("write");
    let site = |args: &[&str]| {
        let mut all = args.to_vec();
        all.extend(["site.drone", "--state", "site.json"]);
        drone_in(&moto, dir.path(), &all)
    };

    // Before the zone exists: a clear error, and nothing is made.
    let out = site(&["run", "--yes"]);
    assert_exit(&out, 5);
    assert!(
        text(&out).1.contains("`data aws.route53.zone.shared`: no aws.route53.zone matches name = \"shared.example\""),
        "{}",
        text(&out).1
    );

    // A type drone finds only by the tags it gives cannot be read: there is no name to look for.
    let vpc = "workflow \"reader\" {}\n\ndata aws.ec2.vpc theirs {\n  cidr_block = \"10.0.0.0/16\"\n}\n";
    std::fs::write(dir.path().join("vpc.drone"), vpc).expect("write");
    let out = drone_in(&moto, dir.path(), &["plan", "vpc.drone", "--state", "vpc.json"]);
    assert_exit(&out, 5);
    assert!(
        text(&out).1.contains("aws.ec2.vpc has none (drone finds those by the tags it gives them)"),
        "{}",
        text(&out).1
    );

    let out = drone_in(&moto, dir.path(), &["run", "zone.drone", "--yes", "--state", "zone.json"]);
    assert_exit(&out, 0);
    let route53 = aws_sdk_route53::Client::new(&sdk_config(&moto.url).await);
    let zones = route53.list_hosted_zones().send().await.expect("zones");
    let zone_id = zones.hosted_zones()[0].id().rsplit('/').next().expect("id").to_string();

    // The record goes into the zone the block found; the zone is only read.
    let out = site(&["run", "--yes"]);
    assert_exit(&out, 0);
    let (stdout, _) = text(&out);
    assert!(stdout.contains("Apply complete: 1 created, 0 updated, 0 deleted."), "{stdout}");
    assert!(stdout.contains(&format!("output zone_id = \"{zone_id}\"")), "{stdout}");
    let sets = route53.list_resource_record_sets().hosted_zone_id(&zone_id).send().await.expect("records");
    assert!(sets.resource_record_sets().iter().any(|r| r.name() == "www.shared.example."), "{sets:?}");
    let out = site(&["plan"]);
    assert!(text(&out).0.contains("No changes: 1 resource(s) match the workflow."), "{}", text(&out).0);
    let out = site(&["state", "list"]);
    assert!(text(&out).0.contains(&format!("aws.route53.zone.shared\t{zone_id}\t(data)")), "{}", text(&out).0);

    // Changed by its owners: read again, not reported as drift, not changed back.
    route53.update_hosted_zone_comment().id(&zone_id).comment("renamed by the DNS team").send().await.expect("comment");
    let out = site(&["plan"]);
    assert!(!text(&out).0.contains("changed outside drone"), "{}", text(&out).0);
    assert!(text(&out).0.contains("No changes"), "{}", text(&out).0);

    // Destroying the site deletes its record, and only forgets the zone.
    let out = site(&["destroy", "--yes"]);
    assert_exit(&out, 0);
    let (stdout, _) = text(&out);
    assert!(stdout.contains("Destroy complete: 1 deleted."), "{stdout}");
    let zone = route53.get_hosted_zone().id(&zone_id).send().await.expect("the zone is still there");
    let kept = zone.hosted_zone().and_then(|z| z.config()).and_then(|c| c.comment());
    assert_eq!(kept, Some("renamed by the DNS team"));
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("site.json")).expect("state")).expect("json");
    assert_eq!(state["resources"].as_object().map(|r| r.len()), Some(0), "{state:#}");

    // The deployer needs only to find and read the zone.
    let out = run(drone(None).current_dir(dir.path()).args(["iam", "site.drone", "--account", "123456789012"]));
    assert_exit(&out, 0);
    let (policy, _) = text(&out);
    assert!(policy.contains("route53:GetHostedZone") && policy.contains("route53:ListHostedZonesByName"), "{policy}");
    assert!(!policy.contains("route53:CreateHostedZone") && !policy.contains("route53:DeleteHostedZone"), "{policy}");
}

#[test]
fn a_data_block_must_say_what_identifies_the_resource() {
    let dir = tempfile::tempdir().expect("dir");
    // It names the zone; nothing else of the zone is required.
    std::fs::write(dir.path().join("site.drone"), SITE).expect("write");
    let out = run(drone(None).current_dir(dir.path()).args(["check", "site.drone"]));
    assert_exit(&out, 0);
    let out = run(drone(None).current_dir(dir.path()).args(["fmt", "--check", "site.drone"]));
    assert_exit(&out, 0);
    std::fs::write(dir.path().join("nameless.drone"), SITE.replace("  name = zone\n", "")).expect("write");
    let out = run(drone(None).current_dir(dir.path()).args(["check", "nameless.drone"]));
    assert_exit(&out, 3);
    assert!(text(&out).1.contains("missing required attribute `name` on aws.route53.zone"), "{}", text(&out).1);
    // What a `data` block reads is someone else's: policies judge what the workflow manages.
    let read = "workflow \"reader\" {}\n\ndata aws.s3.bucket theirs {\n  name = \"someone-elses-bucket\"\n}\n";
    std::fs::write(dir.path().join("reader.drone"), read).expect("write");
    let out = run(drone(None).current_dir(dir.path()).args(["check", "reader.drone"]));
    assert_exit(&out, 0);
    assert!(text(&out).0.contains("policy: 0 errors, 0 warnings"), "{}", text(&out).0);
}
