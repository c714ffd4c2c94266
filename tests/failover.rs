//! Disaster recovery (issue 25) against moto: prod with its warm standby
//! region, read back through the SDK; `drone task failover` with the primary
//! region down (the fault proxy answers every request signed for eu-west-1
//! with a 503), then `failback`, each read back; the plan after a failover
//! reverses the content's replication instead of undoing the failover, and
//! proposes nothing once run; destroy leaves nothing, in either region.

use std::path::Path;
use std::sync::atomic::Ordering;

use super::account::{assert_empty, assert_matches_state, in_region, STANDBY_REGION};
use super::faults::{FaultProxy, Faults};
use super::support::{assert_exit, prod, run, sdk_config, text, Moto, PROD_RESOURCES};

const PROD: &str = "workflows/prod.drone";
const WORKFLOW: &str = "shuttle-prod";

/// The global database as AWS describes it: (writer's region, every member's region).
async fn global_database(config: &aws_config::SdkConfig) -> (String, Vec<String>) {
    let rds = aws_sdk_rds::Client::new(config);
    let out = rds.describe_global_clusters().global_cluster_identifier(WORKFLOW).send().await.expect("describe");
    let global =
        out.global_clusters().iter().find(|g| g.global_cluster_identifier() == Some(WORKFLOW)).expect("global");
    let region = |arn: &str| arn.split(':').nth(3).unwrap_or_default().to_string();
    let members = global.global_cluster_members();
    let writer = members.iter().find(|m| m.is_writer() == Some(true)).and_then(|m| m.db_cluster_arn()).map(region);
    let mut regions: Vec<String> = members.iter().filter_map(|m| m.db_cluster_arn()).map(region).collect();
    regions.sort();
    (writer.unwrap_or_default(), regions)
}

/// The standby's Ghost service: (desired tasks, the scaling floor autoscaling keeps).
async fn standby_size(standby: &aws_config::SdkConfig) -> (i32, i32) {
    let ecs = aws_sdk_ecs::Client::new(standby);
    let services = ecs.describe_services().cluster("shuttle-prod-dr").services("ghost").send().await.expect("services");
    let desired = services.services().first().expect("the standby's service").desired_count();
    let scaling = aws_sdk_applicationautoscaling::Client::new(standby);
    let targets = scaling
        .describe_scalable_targets()
        .service_namespace(aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs)
        .send()
        .await
        .expect("scalable targets");
    let floor = targets.scalable_targets().first().expect("the standby's scalable target").min_capacity();
    (desired, floor)
}

/// `drone task prod.drone ARGS` against `url`, its audit log in `dir`.
fn task(url: &str, state: &Path, dir: &Path, args: &[&str]) -> std::process::Output {
    let mut cmd = prod(url, state, &[&["task", PROD], args].concat());
    run(cmd.env("DRONE_AUDIT_LOG", dir.join("audit.jsonl")))
}

/// What a task printed: its script's lines go to stderr, drone's summary to stdout.
fn both(out: &std::process::Output) -> String {
    let (stdout, stderr) = text(out);
    format!("{stdout}{stderr}")
}

/// CloudFront's paths to Ghost: (its origins' load balancers, the origin group's members and the
/// statuses it fails over on, the default behaviour's target, each write path with its target).
async fn edge_paths(
    config: &aws_config::SdkConfig,
) -> (Vec<String>, Vec<String>, Vec<i32>, String, Vec<(String, String)>) {
    let cloudfront = aws_sdk_cloudfront::Client::new(config);
    let listed = cloudfront.list_distributions().send().await.expect("distributions");
    let items = listed.distribution_list().map(|l| l.items().to_vec()).unwrap_or_default();
    let id = items.first().expect("the distribution").id().to_string();
    let out = cloudfront.get_distribution_config().id(&id).send().await.expect("config");
    let c = out.distribution_config().expect("config");
    let origins = c.origins().expect("origins").items().iter().map(|o| o.domain_name().to_string()).collect();
    let group = c.origin_groups().and_then(|g| g.items().first()).expect("an origin group");
    let members = group.members().expect("members").items().iter().map(|m| m.origin_id().to_string()).collect();
    let statuses =
        group.failover_criteria().and_then(|f| f.status_codes()).map(|s| s.items().to_vec()).unwrap_or_default();
    let default = c.default_cache_behavior().expect("default").target_origin_id().to_string();
    let writes = c
        .cache_behaviors()
        .map(|b| b.items().iter().map(|b| (b.path_pattern().to_string(), b.target_origin_id().to_string())).collect())
        .unwrap_or_default();
    (origins, members, statuses, default, writes)
}

/// The EFS replications `config`'s region holds: (source region, destination region) each.
async fn content_replications(config: &aws_config::SdkConfig) -> Vec<(String, String)> {
    let efs = aws_sdk_efs::Client::new(config);
    let out = efs.describe_replication_configurations().send().await.expect("replications");
    let pairs = out.replications().iter().map(|r| {
        let to = r.destinations().first().map(|d| d.region().to_string()).unwrap_or_default();
        (r.source_file_system_region().to_string(), to)
    });
    pairs.collect()
}

/// The replication overwrite protection of Ghost's content file system in `config`'s region.
async fn content_protection(config: &aws_config::SdkConfig) -> String {
    let efs = aws_sdk_efs::Client::new(config);
    let out = efs.describe_file_systems().send().await.expect("file systems");
    let fs = out.file_systems().iter().find(|f| f.name().is_some_and(|n| n.ends_with("-content"))).expect("content");
    let protection = fs.file_system_protection().and_then(|p| p.replication_overwrite_protection());
    protection.map(|p| p.as_str().to_string()).unwrap_or_default()
}

fn writes_to(origin: &str) -> Vec<(String, String)> {
    ["/ghost/*", "/members/*"].iter().map(|p| (p.to_string(), origin.to_string())).collect()
}

fn plan_is_empty(url: &str, state: &Path) -> String {
    let out = run(&mut prod(url, state, &["plan", PROD]));
    assert_exit(&out, 0);
    let shown = text(&out).0;
    assert!(shown.contains(&format!("No changes: {PROD_RESOURCES} resource(s) match the workflow.")), "{shown}");
    shown
}

#[tokio::test(flavor = "multi_thread")]
async fn failover_with_the_primary_region_down_moves_the_writer_and_scales_the_standby_then_failback_returns() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("dir");
    let state = dir.path().join("prod.json");
    let out = run(&mut prod(&moto.url, &state, &["run", PROD, "--yes"]));
    assert_exit(&out, 0);
    let config = sdk_config(&moto.url).await;
    let standby = in_region(&moto.url, &config, STANDBY_REGION).await;

    // Read back: a global database with members in two regions, the writer in the primary's;
    // the standby's own Ghost service and load balancer; the password replicated to the standby.
    let regions = vec!["eu-central-1".to_string(), "eu-west-1".to_string()];
    assert_eq!(global_database(&config).await, ("eu-west-1".to_string(), regions.clone()));
    assert_eq!(standby_size(&standby).await, (1, 1), "the standby runs warm: one task");
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&standby);
    let balancers = elb.describe_load_balancers().names("shuttle-prod-dr-public").send().await.expect("standby LB");
    assert_eq!(balancers.load_balancers().len(), 1);
    let secrets = aws_sdk_secretsmanager::Client::new(&config);
    let admin = secrets.describe_secret().secret_id("shuttle-prod/db-admin").send().await.expect("secret");
    let replicas: Vec<_> = admin.replication_status().iter().filter_map(|r| r.region()).collect();
    assert_eq!(replicas, ["eu-central-1"], "the password is replicated to the standby");
    // The artifacts and the load balancer's logs are copied to versioned, encrypted buckets in the
    // standby region, each through a role of its own.
    let s3 = super::support::s3_client(&config);
    for bucket in ["shuttle-prod-artifacts", "shuttle-prod-logs"] {
        let out = s3.get_bucket_replication().bucket(bucket).send().await.expect("replication");
        let rules = out.replication_configuration().expect("configuration");
        assert_eq!(rules.role(), format!("arn:aws:iam::123456789012:role/{bucket}-replication"));
        let destination = rules.rules().first().and_then(|r| r.destination()).map(|d| d.bucket().to_string());
        assert_eq!(destination, Some(format!("arn:aws:s3:::{bucket}-replica")));
        let copy = format!("{bucket}-replica");
        let located = s3.get_bucket_location().bucket(&copy).send().await.expect("location");
        assert_eq!(located.location_constraint().map(|l| l.as_str()), Some("eu-central-1"));
        let versioning = s3.get_bucket_versioning().bucket(&copy).send().await.expect("versioning");
        assert_eq!(versioning.status().map(|s| s.as_str()), Some("Enabled"));
        s3.get_bucket_encryption().bucket(&copy).send().await.expect("the copy is encrypted");
    }
    // Ghost's and drone's images are copied to the standby region as they are pushed; the standby's
    // Ghost runs from the copy of Ghost's repository, of the same name.
    let ecr = aws_sdk_ecr::Client::new(&config);
    let registry = ecr.describe_registry().send().await.expect("registry");
    let rules = registry.replication_configuration().expect("replication").rules();
    let copies: Vec<(String, Vec<String>)> = rules
        .iter()
        .map(|r| {
            let prefix = r.repository_filters().first().map(|f| f.filter().to_string()).unwrap_or_default();
            (prefix, r.destinations().iter().map(|d| d.region().to_string()).collect())
        })
        .collect();
    assert_eq!(copies, [("shuttle-prod".to_string(), vec!["eu-central-1".to_string()])]);
    let standby_ecr = aws_sdk_ecr::Client::new(&standby);
    let repositories = standby_ecr.describe_repositories().send().await.expect("standby repositories");
    let names: Vec<&str> = repositories.repositories().iter().filter_map(|r| r.repository_name()).collect();
    assert_eq!(names, ["shuttle-prod-ghost"], "the standby's Ghost uses the copy of the primary's repository");
    // Ghost's content is replicated into the standby's file system, read-only meanwhile.
    let forward = vec![("eu-west-1".to_string(), "eu-central-1".to_string())];
    assert_eq!(content_replications(&config).await, forward);
    assert_eq!(content_replications(&standby).await, forward, "both sides know it");
    assert_eq!(content_protection(&standby).await, "REPLICATING");
    assert_eq!(content_protection(&config).await, "ENABLED");
    // The failover path: CloudFront's origin group over both load balancers, reads failing over on
    // a server error, writes (every method) to the primary's.
    let edge = in_region(&moto.url, &config, "us-east-1").await;
    let (origins, members, statuses, default, writes) = edge_paths(&edge).await;
    assert!(
        origins[0].starts_with("shuttle-prod-public-") && origins[1].starts_with("shuttle-prod-dr-public-"),
        "{origins:?}"
    );
    assert_eq!((members, statuses), (vec!["origin".to_string(), "failover".to_string()], vec![500, 502, 503, 504]));
    assert_eq!((default.as_str(), writes), ("origin-with-failover", writes_to("origin")));

    // Route 53 reads the primary's health from its server-error alarm (unhealthy, too, when its
    // region's CloudWatch answers nothing), and an alarm on that check notifies the edge's topic.
    let route53 = aws_sdk_route53::Client::new(&config);
    let checks = route53.list_health_checks().send().await.expect("health checks");
    let check = checks.health_checks().first().expect("a health check on the primary");
    let metric = check.health_check_config().expect("config");
    assert_eq!(metric.r#type().as_str(), "CLOUDWATCH_METRIC");
    let alarm = metric.alarm_identifier().expect("the alarm it reads");
    assert_eq!((alarm.region().as_str(), alarm.name()), ("eu-west-1", "shuttle-prod-ghost-http-5xx"));
    assert_eq!(metric.insufficient_data_health_status().map(|s| s.as_str()), Some("Unhealthy"));
    let watchers = aws_sdk_cloudwatch::Client::new(&edge);
    let down = watchers.describe_alarms().alarm_names("shuttle-prod-primary-down").send().await.expect("alarms");
    let down = down.metric_alarms().first().expect("the primary-down alarm, in us-east-1");
    let dimension = down.dimensions().first().map(|d| (d.name().unwrap_or_default(), d.value().unwrap_or_default()));
    assert_eq!(dimension, Some(("HealthCheckId", check.id())));
    assert!(down.alarm_actions().first().is_some_and(|a| a.ends_with(":shuttle-prod-edge-alarms")), "{down:?}");

    // The primary region goes down: every request signed for eu-west-1 is answered 503.
    let down = FaultProxy::new(&moto.url, Faults { down: Some("eu-west-1"), ..Faults::default() });
    let out = run(&mut prod(&down.url, &state, &["plan", PROD]));
    assert_ne!(out.status.code(), Some(0), "the proxy really takes the primary region down");
    let refused_by_plan = down.faults.load(Ordering::SeqCst);
    assert!(refused_by_plan > 0);
    let out = task(&down.url, &state, dir.path(), &["failover"]);
    assert_exit(&out, 0);
    let shown = both(&out);
    for step in [
        "1/5 database: the cluster in eu-central-1 takes writes (",
        "2/5 content: Ghost's files in eu-central-1 are writable (replication ended) (",
        "3/5 scaling: the standby keeps 2 to 10 tasks (",
        "4/5 service: Ghost wants 2 tasks",
        "5/5 edge: writes go to the standby (2 paths moved;",
        "failover complete in ",
    ] {
        assert!(shown.contains(step), "{step}:\n{shown}");
    }
    assert_eq!(down.faults.load(Ordering::SeqCst), refused_by_plan, "failover called nothing in the primary region");
    assert!(down.forwarded.load(Ordering::SeqCst) > 0, "it called the standby's region");
    drop(down);

    // Read back: the writer is in the standby's region, and the standby runs at prod's size.
    assert_eq!(global_database(&config).await, ("eu-central-1".to_string(), regions.clone()));
    assert_eq!(standby_size(&standby).await, (2, 2));
    assert_eq!(edge_paths(&edge).await.4, writes_to("failover"), "writes go to the standby");
    assert_eq!(content_replications(&standby).await, [], "the standby's side of the replication ended");
    assert_eq!(content_protection(&standby).await, "ENABLED", "the standby's content is writable");

    // With the primary region back, the plan keeps the new layout and says which region writes:
    // Ghost's content now flows from the standby back into the primary's file system.
    let out = run(&mut prod(&moto.url, &state, &["plan", PROD]));
    assert_exit(&out, 0);
    let shown = text(&out).0;
    assert!(shown.contains("Plan: 0 to create, 1 to update, 1 to replace, 0 to delete,"), "{shown}");
    assert!(shown.contains("replication_overwrite_protection : true -> false"), "{shown}");
    assert!(shown.contains("  db_writer_region   = \"eu-central-1\""), "{shown}");
    let source = shown.lines().find(|l| l.trim_start().starts_with("source_file_system_arn")).expect("{shown}");
    assert!(source.contains("-> \"arn:aws:elasticfilesystem:eu-central-1:"), "{source}");
    // Failback waits for the standby's content to be back in the primary.
    let out = task(&moto.url, &state, dir.path(), &["failback"]);
    assert_ne!(out.status.code(), Some(0));
    assert!(both(&out).contains("Ghost's content is not replicated back into"), "{}", both(&out));
    assert_eq!(global_database(&config).await.0, "eu-central-1", "failback refused before it moved anything");
    let out = run(&mut prod(&moto.url, &state, &["run", PROD, "--yes"]));
    assert_exit(&out, 0);
    let backward = vec![("eu-central-1".to_string(), "eu-west-1".to_string())];
    assert_eq!(content_replications(&config).await, backward);
    assert_eq!(content_protection(&config).await, "REPLICATING");
    plan_is_empty(&moto.url, &state);

    let out = task(&moto.url, &state, dir.path(), &["failback"]);
    assert_exit(&out, 0);
    let shown = both(&out);
    assert!(shown.contains("1/5 database: the cluster in eu-west-1 takes writes ("), "{shown}");
    assert!(shown.contains("2/5 content: Ghost's files in eu-west-1 are writable again ("), "{shown}");
    assert!(shown.contains("3/5 edge: writes go to the primary (2 paths moved)"), "{shown}");
    assert!(shown.contains("5/5 service: the standby's Ghost wants 1 tasks"), "{shown}");
    assert_eq!(global_database(&config).await, ("eu-west-1".to_string(), regions));
    assert_eq!(standby_size(&standby).await, (1, 1));
    assert_eq!(edge_paths(&edge).await.4, writes_to("origin"), "writes go to the primary again");
    assert_eq!((content_replications(&config).await, content_protection(&config).await), (vec![], "ENABLED".into()));
    // The next run replicates the primary's content into the standby again.
    let out = run(&mut prod(&moto.url, &state, &["run", PROD, "--yes"]));
    assert_exit(&out, 0);
    assert!(text(&out).0.contains("Apply complete: 1 created, 1 updated, 0 deleted."), "{}", text(&out).0);
    assert_eq!(content_replications(&standby).await, forward);
    assert_eq!(content_protection(&standby).await, "REPLICATING");
    // Each move is in the audit log, in order.
    let audit = std::fs::read_to_string(dir.path().join("audit.jsonl")).expect("audit log");
    let steps: Vec<String> = audit
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).expect("audit record"))
        .map(|r| {
            format!(
                "{} {}",
                r["record"]["task"].as_str().unwrap_or_default(),
                r["record"]["step"].as_str().unwrap_or_default()
            )
        })
        .collect();
    assert_eq!(
        steps,
        [
            "failover database",
            "failover content",
            "failover service",
            "failover edge",
            "failback database",
            "failback content",
            "failback service"
        ],
        "{audit}"
    );
    plan_is_empty(&moto.url, &state);
    assert_matches_state(&moto.url, &state, WORKFLOW).await;

    assert_exit(&run(&mut prod(&moto.url, &state, &["destroy", PROD, "--yes"])), 0);
    assert_empty(&moto.url).await;
}

/// When the global database itself cannot fail over, `mode=detach` takes the
/// standby's cluster out of it to write alone; failback then refuses, naming
/// why, rather than switching over to a cluster that no longer replicates.
#[tokio::test(flavor = "multi_thread")]
async fn a_detach_failover_leaves_the_standby_writing_alone_and_failback_refuses() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("dir");
    let state = dir.path().join("prod.json");
    assert_exit(&run(&mut prod(&moto.url, &state, &["run", PROD, "--yes"])), 0);
    let config = sdk_config(&moto.url).await;
    let standby = in_region(&moto.url, &config, STANDBY_REGION).await;

    let down = FaultProxy::new(&moto.url, Faults { down: Some("eu-west-1"), ..Faults::default() });
    let out = task(&down.url, &state, dir.path(), &["failover", "--arg", "mode=detach"]);
    assert_exit(&out, 0);
    assert!(both(&out).contains("1/5 database: the standby's cluster, on its own takes writes"), "{}", both(&out));
    assert_eq!(down.faults.load(Ordering::SeqCst), 0, "failover called nothing in the primary region");
    drop(down);
    assert_eq!(global_database(&config).await, ("eu-west-1".to_string(), vec!["eu-west-1".to_string()]));
    let rds = aws_sdk_rds::Client::new(&standby);
    let clusters = rds.describe_db_clusters().db_cluster_identifier("shuttle-prod-dr-ghost").send().await.expect("dr");
    let alone = clusters.db_clusters().first().expect("the standby's cluster");
    assert!(alone.global_cluster_identifier().is_none(), "{alone:?}");
    assert_eq!(standby_size(&standby).await, (2, 2));

    let out = task(&moto.url, &state, dir.path(), &["failback"]);
    assert_ne!(out.status.code(), Some(0));
    let shown = both(&out);
    assert!(shown.contains("data.standby.aws.rds.cluster.ghost is not in"), "{shown}");
    assert!(shown.contains("(after a detach failover): failback cannot switch over"), "{shown}");
}
