//! The account as the tests see it, past drone and past any proxy: every
//! resource of every type drone manages, listed through the SDK by the ids
//! drone records, to hold against state. A fresh moto holds nothing of these
//! types but what the test made, except EC2's defaults, which are told apart
//! by drone's tags (every EC2 create tags in the same call).

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use super::support::sdk_config;

/// Resource ids by drone type name.
pub type Inventory = BTreeMap<String, BTreeSet<String>>;

/// The standby region of the tests' disaster-recovery layouts.
pub const STANDBY_REGION: &str = "eu-central-1";

/// Everything of drone's types in the account at `url`: each regional type in
/// the primary region (eu-west-1) and the standby's (DR); WAF's CLOUDFRONT
/// scope, CloudFront and the edge's monitoring from us-east-1; IAM, S3,
/// Route 53 and global databases account-wide.
pub async fn inventory(url: &str) -> Inventory {
    let config = sdk_config(url).await;
    let edge = in_region(url, &config, "us-east-1").await;
    let standby = in_region(url, &config, STANDBY_REGION).await;
    let mut out = Inventory::new();
    for region in [&config, &standby] {
        regional(&mut out, region).await;
    }
    edge_and_global(&mut out, &config, &edge).await;
    // A type the inventory does not list could be orphaned unseen by every test that looks.
    let missing: Vec<&str> =
        drone_stdlib::registry::TYPES.iter().map(|t| t.name).filter(|name| !out.contains_key(*name)).collect();
    assert!(missing.is_empty(), "tests/account.rs lists no {missing:?}: list every registered type");
    out.retain(|_, ids| !ids.is_empty());
    out
}

/// Adds `ids` to the inventory's list of type `t` (made even when empty: the type is listed).
fn put(out: &mut Inventory, t: &str, ids: Vec<String>) {
    out.entry(t.to_string()).or_default().extend(ids);
}

fn ids(v: Vec<Option<&str>>) -> Vec<String> {
    v.into_iter().flatten().map(String::from).collect()
}

/// The regional types, in `region`.
async fn regional(out: &mut Inventory, region: &aws_config::SdkConfig) {
    let here = region.region().map(|r| r.to_string()).unwrap_or_default();
    let ec2 = aws_sdk_ec2::Client::new(region);
    let ours = || aws_sdk_ec2::types::Filter::builder().name("tag-key").values("drone:workflow").build();
    let vpcs = ec2.describe_vpcs().filters(ours()).send().await.expect("vpcs");
    put(out, "aws.ec2.vpc", ids(vpcs.vpcs().iter().map(|v| v.vpc_id()).collect()));
    let subnets = ec2.describe_subnets().filters(ours()).send().await.expect("subnets");
    put(out, "aws.ec2.subnet", ids(subnets.subnets().iter().map(|s| s.subnet_id()).collect()));
    let groups = ec2.describe_security_groups().filters(ours()).send().await.expect("groups");
    put(out, "aws.ec2.security_group", ids(groups.security_groups().iter().map(|g| g.group_id()).collect()));
    let gateways = ec2.describe_internet_gateways().filters(ours()).send().await.expect("igws");
    put(
        out,
        "aws.ec2.internet_gateway",
        ids(gateways.internet_gateways().iter().map(|g| g.internet_gateway_id()).collect()),
    );
    let tables = ec2.describe_route_tables().filters(ours()).send().await.expect("route tables");
    put(out, "aws.ec2.route_table", ids(tables.route_tables().iter().map(|t| t.route_table_id()).collect()));
    let addresses = ec2.describe_addresses().filters(ours()).send().await.expect("addresses");
    put(out, "aws.ec2.eip", ids(addresses.addresses().iter().map(|a| a.allocation_id()).collect()));
    let nats = ec2.describe_nat_gateways().filter(ours()).send().await.expect("nat gateways");
    let live =
        nats.nat_gateways().iter().filter(|g| !matches!(g.state().map(|s| s.as_str()), Some("deleted" | "deleting")));
    put(out, "aws.ec2.nat_gateway", ids(live.map(|g| g.nat_gateway_id()).collect()));
    let flow_logs = ec2.describe_flow_logs().filter(ours()).send().await.expect("flow logs");
    put(out, "aws.ec2.flow_log", ids(flow_logs.flow_logs().iter().map(|f| f.flow_log_id()).collect()));
    let logs = aws_sdk_cloudwatchlogs::Client::new(region);
    let groups = logs.describe_log_groups().send().await.expect("log groups");
    put(out, "aws.logs.log_group", ids(groups.log_groups().iter().map(|g| g.log_group_name()).collect()));

    let ecr = aws_sdk_ecr::Client::new(region);
    let repositories = ecr.describe_repositories().send().await.expect("repositories");
    put(out, "aws.ecr.repository", ids(repositories.repositories().iter().map(|r| r.repository_name()).collect()));
    let registry = ecr.describe_registry().send().await.expect("registry");
    let rules = registry.replication_configuration().map(|c| c.rules().to_vec()).unwrap_or_default();
    let prefixes = rules.iter().flat_map(|r| r.repository_filters().iter().map(|f| f.filter().to_string()));
    put(out, "aws.ecr.replication_rule", prefixes.collect());
    let efs = aws_sdk_efs::Client::new(region);
    let systems = efs.describe_file_systems().send().await.expect("file systems");
    let systems: Vec<String> = systems
        .file_systems()
        .iter()
        .filter(|f| f.life_cycle_state().as_str() != "deleted")
        .map(|f| f.file_system_id().to_string())
        .collect();
    put(out, "aws.efs.mount_target", Vec::new()); // listed per file system
    for fs in &systems {
        let targets = efs.describe_mount_targets().file_system_id(fs).send().await.expect("mount targets");
        let live = targets.mount_targets().iter().filter(|t| t.life_cycle_state().as_str() != "deleted");
        put(out, "aws.efs.mount_target", live.map(|t| t.mount_target_id().to_string()).collect());
    }
    put(out, "aws.efs.file_system", systems);
    // A replication is listed by both regions: it is counted in its source's.
    let replications = efs.describe_replication_configurations().send().await.expect("replications");
    let sourced = replications.replications().iter().filter(|r| r.source_file_system_region() == here);
    put(out, "aws.efs.replication_configuration", sourced.map(|r| r.source_file_system_id().to_string()).collect());

    let codecommit = aws_sdk_codecommit::Client::new(region);
    let repositories = codecommit.list_repositories().send().await.expect("code repositories");
    let names = repositories.repositories().iter().map(|r| r.repository_name());
    put(out, "aws.codecommit.repository", ids(names.collect()));
    let connections = aws_sdk_codeconnections::Client::new(region);
    let listed = connections.list_connections().send().await.expect("connections");
    put(out, "aws.codeconnections.connection", ids(listed.connections().iter().map(|c| c.connection_arn()).collect()));
    let codebuild = aws_sdk_codebuild::Client::new(region);
    let projects = codebuild.list_projects().send().await.expect("build projects");
    put(out, "aws.codebuild.project", projects.projects().to_vec());
    let codepipeline = aws_sdk_codepipeline::Client::new(region);
    let pipelines = codepipeline.list_pipelines().send().await.expect("pipelines");
    put(out, "aws.codepipeline.pipeline", ids(pipelines.pipelines().iter().map(|p| p.name()).collect()));

    let elb = aws_sdk_elasticloadbalancingv2::Client::new(region);
    let balancers = elb.describe_load_balancers().send().await.expect("load balancers");
    let arns = ids(balancers.load_balancers().iter().map(|b| b.load_balancer_arn()).collect());
    put(out, "aws.elbv2.listener", Vec::new()); // listed per load balancer
    put(out, "aws.elbv2.listener_rule", Vec::new()); // listed per listener
    for arn in &arns {
        let listeners = elb.describe_listeners().load_balancer_arn(arn).send().await.expect("listeners");
        let listener_arns = ids(listeners.listeners().iter().map(|l| l.listener_arn()).collect());
        for listener in &listener_arns {
            let rules = elb.describe_rules().listener_arn(listener).send().await.expect("rules");
            // The default rule is the listener's own default action.
            let made = rules.rules().iter().filter(|r| r.is_default() != Some(true)).map(|r| r.rule_arn());
            put(out, "aws.elbv2.listener_rule", ids(made.collect()));
        }
        put(out, "aws.elbv2.listener", listener_arns);
    }
    put(out, "aws.elbv2.load_balancer", arns);
    let groups = elb.describe_target_groups().send().await.expect("target groups");
    put(out, "aws.elbv2.target_group", ids(groups.target_groups().iter().map(|g| g.target_group_arn()).collect()));

    let rds = aws_sdk_rds::Client::new(region);
    let clusters = rds.describe_db_clusters().send().await.expect("db clusters");
    put(out, "aws.rds.cluster", ids(clusters.db_clusters().iter().map(|c| c.db_cluster_identifier()).collect()));
    let instances = rds.describe_db_instances().send().await.expect("db instances");
    let instance_ids = instances.db_instances().iter().map(|i| i.db_instance_identifier());
    put(out, "aws.rds.cluster_instance", ids(instance_ids.collect()));
    let groups = rds.describe_db_subnet_groups().send().await.expect("db subnet groups");
    let named = groups.db_subnet_groups().iter().filter(|g| g.db_subnet_group_name() != Some("default"));
    put(out, "aws.rds.db_subnet_group", ids(named.map(|g| g.db_subnet_group_name()).collect()));

    let scaling = aws_sdk_applicationautoscaling::Client::new(region);
    let ecs_namespace = aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs;
    let targets = scaling.describe_scalable_targets().service_namespace(ecs_namespace.clone()).send().await;
    let targets = targets.expect("scalable targets");
    let target_ids = targets
        .scalable_targets()
        .iter()
        .map(|t| format!("ecs|{}|{}", t.resource_id(), t.scalable_dimension().as_str()));
    put(out, "aws.applicationautoscaling.scalable_target", target_ids.collect());
    let policies = scaling.describe_scaling_policies().service_namespace(ecs_namespace).send().await;
    let policies = policies.expect("scaling policies");
    let policy_ids = policies
        .scaling_policies()
        .iter()
        .map(|p| format!("ecs|{}|{}|{}", p.resource_id(), p.scalable_dimension().as_str(), p.policy_name()));
    put(out, "aws.applicationautoscaling.scaling_policy", policy_ids.collect());

    let secrets = aws_sdk_secretsmanager::Client::new(region);
    let listed = secrets.list_secrets().send().await.expect("secrets");
    // Secrets a service keeps for itself (RDS's master passwords, `rds!cluster-...`) are that
    // service's, and a replica is its primary secret's (state records the primary).
    let ours = listed.secret_list().iter().filter(|s| {
        s.owning_service().is_none()
            && !s.name().is_some_and(|n| n.starts_with("rds!"))
            && s.primary_region().is_none_or(|p| p == here)
    });
    put(out, "aws.secretsmanager.secret", ids(ours.map(|s| s.arn()).collect()));

    let ecs = aws_sdk_ecs::Client::new(region);
    let clusters = ecs.list_clusters().send().await.expect("clusters");
    put(out, "aws.ecs.cluster", Vec::new()); // listed when there are any, with their services
    put(out, "aws.ecs.service", Vec::new());
    if !clusters.cluster_arns().is_empty() {
        let described = ecs
            .describe_clusters()
            .set_clusters(Some(clusters.cluster_arns().to_vec()))
            .send()
            .await
            .expect("clusters");
        let active: Vec<String> = described
            .clusters()
            .iter()
            .filter(|c| c.status() == Some("ACTIVE"))
            .filter_map(|c| c.cluster_arn().map(String::from))
            .collect();
        for cluster in &active {
            let services = ecs.list_services().cluster(cluster).send().await.expect("services");
            if services.service_arns().is_empty() {
                continue;
            }
            let described = ecs
                .describe_services()
                .cluster(cluster)
                .set_services(Some(services.service_arns().to_vec()))
                .send()
                .await
                .expect("services");
            let live = described.services().iter().filter(|s| s.status() == Some("ACTIVE"));
            put(out, "aws.ecs.service", ids(live.map(|s| s.service_arn()).collect()));
        }
        put(out, "aws.ecs.cluster", active);
    }
    let definitions = ecs
        .list_task_definitions()
        .status(aws_sdk_ecs::types::TaskDefinitionStatus::Active)
        .send()
        .await
        .expect("task definitions");
    put(out, "aws.ecs.task_definition", definitions.task_definition_arns().to_vec());

    let waf = aws_sdk_wafv2::Client::new(region);
    let acls = waf.list_web_acls().scope("REGIONAL".into()).send().await.expect("web acls");
    put(out, "aws.wafv2.web_acl", ids(acls.web_acls().iter().map(|a| a.id()).collect()));
    monitoring(out, region).await;
    let dashboards = aws_sdk_cloudwatch::Client::new(region).list_dashboards().send().await.expect("dashboards");
    let names = dashboards.dashboard_entries().iter().map(|d| d.dashboard_name());
    put(out, "aws.cloudwatch.dashboard", ids(names.collect()));
}

/// Certificates, topics, subscriptions and alarms in `region` (each region the platform or its edge lives in).
async fn monitoring(out: &mut Inventory, region: &aws_config::SdkConfig) {
    let acm = aws_sdk_acm::Client::new(region);
    let certificates = acm.list_certificates().send().await.expect("certificates");
    let arns = certificates.certificate_summary_list().iter().map(|c| c.certificate_arn());
    put(out, "aws.acm.certificate", ids(arns.collect()));
    let sns = aws_sdk_sns::Client::new(region);
    let topics = sns.list_topics().send().await.expect("topics");
    put(out, "aws.sns.topic", ids(topics.topics().iter().map(|t| t.topic_arn()).collect()));
    let subscriptions = sns.list_subscriptions().send().await.expect("subscriptions");
    let arns = subscriptions.subscriptions().iter().map(|s| s.subscription_arn());
    put(out, "aws.sns.subscription", ids(arns.collect()));
    let cloudwatch = aws_sdk_cloudwatch::Client::new(region);
    let alarms = cloudwatch.describe_alarms().send().await.expect("alarms");
    // Target tracking's own alarms belong to their scaling policies (AWS makes and removes them).
    let ours =
        alarms.metric_alarms().iter().filter(|a| !a.alarm_name().is_some_and(|n| n.starts_with("TargetTracking-")));
    put(out, "aws.cloudwatch.alarm", ids(ours.map(|a| a.alarm_name()).collect()));
}

/// The edge's types (us-east-1) and the account-wide ones.
async fn edge_and_global(out: &mut Inventory, config: &aws_config::SdkConfig, edge: &aws_config::SdkConfig) {
    let iam = aws_sdk_iam::Client::new(config);
    let roles = iam.list_roles().send().await.expect("roles");
    put(out, "aws.iam.role", roles.roles().iter().map(|r| r.role_name().to_string()).collect());
    let s3 = aws_sdk_s3::Client::new(config);
    let buckets = s3.list_buckets().send().await.expect("buckets");
    put(out, "aws.s3.bucket", ids(buckets.buckets().iter().map(|b| b.name()).collect()));
    let rds = aws_sdk_rds::Client::new(config);
    let globals = rds.describe_global_clusters().send().await.expect("global clusters");
    let names = globals.global_clusters().iter().map(|g| g.global_cluster_identifier());
    put(out, "aws.rds.global_cluster", ids(names.collect()));

    let waf_edge = aws_sdk_wafv2::Client::new(edge);
    let acls = waf_edge.list_web_acls().scope("CLOUDFRONT".into()).send().await.expect("web acls");
    put(out, "aws.wafv2.web_acl", ids(acls.web_acls().iter().map(|a| a.id()).collect()));
    monitoring(out, edge).await;
    let route53 = aws_sdk_route53::Client::new(config);
    let zones = route53.list_hosted_zones().send().await.expect("hosted zones");
    put(out, "aws.route53.zone", Vec::new());
    put(out, "aws.route53.record", Vec::new()); // listed per zone
    for zone in zones.hosted_zones() {
        let id = zone.id().rsplit('/').next().unwrap_or_default().to_string();
        let sets = route53.list_resource_record_sets().hosted_zone_id(&id).send().await.expect("record sets");
        // The zone's own NS and SOA records are Route 53's; ACM's validation records belong to their
        // certificates (which remove them; a zone that keeps any cannot be deleted).
        let validation = |r: &aws_sdk_route53::types::ResourceRecordSet| {
            r.resource_records().iter().any(|v| v.value().contains("acm-validations.aws"))
        };
        let ours = sets
            .resource_record_sets()
            .iter()
            .filter(|r| !matches!(r.r#type().as_str(), "NS" | "SOA") && !validation(r));
        let records = ours
            .map(|r| format!("{id}_{}_{}", r.name().trim_end_matches('.').to_ascii_lowercase(), r.r#type().as_str()));
        put(out, "aws.route53.record", records.collect());
        put(out, "aws.route53.zone", vec![id]);
    }
    let checks = route53.list_health_checks().send().await.expect("health checks");
    put(out, "aws.route53.health_check", checks.health_checks().iter().map(|c| c.id().to_string()).collect());
    let cloudfront = aws_sdk_cloudfront::Client::new(edge);
    let distributions = cloudfront.list_distributions().send().await.expect("distributions");
    let items = distributions.distribution_list().map(|l| l.items().to_vec()).unwrap_or_default();
    put(out, "aws.cloudfront.distribution", items.iter().map(|d| d.id().to_string()).collect());
}

/// What state at `path` (snapshot and log) records, as an inventory.
pub fn recorded(path: &Path, workflow: &str) -> Inventory {
    let state = drone_engine::state::LocalBackend::new(path.to_path_buf()).load(workflow).expect("state loads");
    let mut out = Inventory::new();
    for r in state.resources.values() {
        out.entry(r.type_name.clone()).or_default().insert(r.id.clone());
    }
    out
}

/// Panics, naming each orphan (in the account, not in state) and each
/// phantom (in state, not in the account), unless the two agree exactly.
pub async fn assert_matches_state(url: &str, state: &Path, workflow: &str) {
    assert_matches_states(url, &[(state, workflow)]).await
}

/// [`assert_matches_state`] for an account several states share: it holds
/// exactly what they record together.
pub async fn assert_matches_states(url: &str, states: &[(&Path, &str)]) {
    let account = inventory(url).await;
    let mut recorded_all = Inventory::new();
    for (path, workflow) in states {
        for (t, ids) in recorded(path, workflow) {
            recorded_all.entry(t).or_default().extend(ids);
        }
    }
    let recorded = recorded_all;
    let mut problems = Vec::new();
    let types: BTreeSet<&String> = account.keys().chain(recorded.keys()).collect();
    for t in types {
        let (a, r) = (account.get(t).cloned().unwrap_or_default(), recorded.get(t).cloned().unwrap_or_default());
        for orphan in a.difference(&r) {
            problems.push(format!("orphan {t} {orphan}: in the account, not in state"));
        }
        for phantom in r.difference(&a) {
            problems.push(format!("phantom {t} {phantom}: in state, not in the account"));
        }
    }
    assert!(problems.is_empty(), "the account and state disagree:\n{}", problems.join("\n"));
}

/// `config`'s credentials and endpoint, in `region`.
pub async fn in_region(url: &str, config: &aws_config::SdkConfig, region: &'static str) -> aws_config::SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest())
        .region(aws_config::Region::new(region))
        .endpoint_url(url)
        .credentials_provider(config.credentials_provider().expect("credentials"))
        .load()
        .await
}

/// Panics unless the account holds nothing of drone's types.
pub async fn assert_empty(url: &str) {
    let left = inventory(url).await;
    assert!(left.is_empty(), "left behind: {left:?}");
}
