//! `drone run` / `plan` / `destroy` against moto_server, read back with the
//! AWS SDK attribute by attribute.

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

use aws_sdk_ec2::types::{Filter, VpcAttributeName};

use super::support::{assert_exit, drone, prod, run, sdk_config, text, Moto, DB_PASSWORD, PROD_RESOURCES};

fn state_json(path: &Path) -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(path).expect("state file")).expect("state json")
}

fn id(state: &serde_json::Value, address: &str) -> String {
    state["resources"][address]["id"].as_str().unwrap_or_else(|| panic!("{address} not in state")).to_string()
}

fn tags(tags: &[aws_sdk_ec2::types::Tag]) -> BTreeMap<String, String> {
    tags.iter().map(|t| (t.key().unwrap_or_default().to_string(), t.value().unwrap_or_default().to_string())).collect()
}

#[tokio::test(flavor = "multi_thread")]
async fn prod_workflow_runs_replans_clean_updates_one_attribute_and_destroys() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let state_path = dir.path().join("state.json");
    let journal = dir.path().join("calls.jsonl");
    let drone_at = |args: &[&str]| run(prod(&moto.url, &state_path, args).arg("--call-log").arg(&journal));

    let out = drone_at(&["run", "workflows/prod.drone", "--yes"]);
    assert_exit(&out, 0);
    let (stdout, stderr) = text(&out);
    assert!(stdout.contains(&format!("Apply complete: {PROD_RESOURCES} created, 0 updated, 0 deleted.")), "{stdout}");
    assert!(stderr.contains("provider primary: account 123456789012 in eu-west-1 via http://127.0.0.1"), "{stderr}");
    assert!(!stdout.contains(DB_PASSWORD) && !stderr.contains(DB_PASSWORD), "the password leaked into output");
    let raw_state = std::fs::read_to_string(&state_path).expect("state");
    assert!(!raw_state.contains(DB_PASSWORD), "the password leaked into state");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(std::fs::metadata(&state_path).expect("meta").permissions().mode() & 0o777, 0o600);
    }
    let state = state_json(&state_path);
    assert_eq!(state["resources"].as_object().map(|o| o.len()), Some(PROD_RESOURCES));
    // AWS generates the database password and keeps it in a secret (replicated to the standby):
    // drone records neither it nor any value read from it, only where it is.
    let cluster_attrs = &state["resources"]["data.primary.aws.rds.cluster.ghost"]["attributes"];
    assert!(cluster_attrs.get("master_password").is_none(), "{cluster_attrs}");
    let secret_arn = state["resources"]["aws.secretsmanager.secret.db_admin"]["attributes"]["arn"]
        .as_str()
        .expect("the secret's ARN in state")
        .to_string();
    assert!(
        secret_arn.starts_with("arn:aws:secretsmanager:eu-west-1:123456789012:secret:shuttle-prod/db-admin-"),
        "{secret_arn}"
    );
    assert_eq!(cluster_attrs["master_password_secret"]["secret_arn"], secret_arn.as_str());

    let config = sdk_config(&moto.url).await;
    let ec2 = aws_sdk_ec2::Client::new(&config);
    let s3 = super::support::s3_client(&config);
    let iam = aws_sdk_iam::Client::new(&config);
    let ecs = aws_sdk_ecs::Client::new(&config);
    let rds = aws_sdk_rds::Client::new(&config);

    // Network.
    let vpc_id = id(&state, "network.primary.aws.ec2.vpc.main");
    let vpcs = ec2.describe_vpcs().vpc_ids(&vpc_id).send().await.expect("vpc");
    let vpc = &vpcs.vpcs()[0];
    assert_eq!(vpc.cidr_block(), Some("10.20.0.0/16"));
    let vpc_tags = tags(vpc.tags());
    assert_eq!(vpc_tags.get("drone:address").map(String::as_str), Some("network.primary.aws.ec2.vpc.main"));
    assert_eq!(vpc_tags.get("drone:workflow").map(String::as_str), Some("shuttle-prod"));
    assert_eq!(vpc_tags.get("Name").map(String::as_str), Some("shuttle-prod"));
    let hostnames = ec2
        .describe_vpc_attribute()
        .vpc_id(&vpc_id)
        .attribute(VpcAttributeName::EnableDnsHostnames)
        .send()
        .await
        .expect("attr");
    assert_eq!(hostnames.enable_dns_hostnames().and_then(|v| v.value()), Some(true));

    let mut public_ids = BTreeSet::new();
    let mut private_ids = BTreeSet::new();
    for (i, zone) in ["eu-west-1a", "eu-west-1b", "eu-west-1c"].iter().enumerate() {
        for (tier, offset, public) in [("public", 0, true), ("private", 10, false)] {
            let subnet_id = id(&state, &format!("network.primary.aws.ec2.subnet.{tier}[\"{zone}\"]"));
            let out = ec2.describe_subnets().subnet_ids(&subnet_id).send().await.expect("subnet");
            let subnet = &out.subnets()[0];
            assert_eq!(subnet.vpc_id(), Some(vpc_id.as_str()));
            assert_eq!(subnet.cidr_block(), Some(format!("10.20.{}.0/24", i + offset).as_str()));
            assert_eq!(subnet.availability_zone(), Some(*zone));
            assert_eq!(subnet.map_public_ip_on_launch(), Some(public), "{tier} {zone}");
            assert_eq!(tags(subnet.tags()).get("tier").map(String::as_str), Some(tier));
            if public {
                public_ids.insert(subnet_id)
            } else {
                private_ids.insert(subnet_id)
            };
        }
    }

    let igw_id = id(&state, "network.primary.aws.ec2.internet_gateway.main");
    let igws = ec2.describe_internet_gateways().internet_gateway_ids(&igw_id).send().await.expect("igw");
    assert_eq!(igws.internet_gateways()[0].attachments()[0].vpc_id(), Some(vpc_id.as_str()));

    let table = |address: String| {
        let ec2 = ec2.clone();
        let table_id = id(&state, &address);
        async move {
            ec2.describe_route_tables().route_table_ids(&table_id).send().await.expect("rt").route_tables()[0].clone()
        }
    };
    let associated = |rt: &aws_sdk_ec2::types::RouteTable| -> BTreeSet<String> {
        rt.associations().iter().filter_map(|a| a.subnet_id().map(String::from)).collect()
    };
    let default_route = |rt: &aws_sdk_ec2::types::RouteTable| {
        rt.routes().iter().find(|r| r.destination_cidr_block() == Some("0.0.0.0/0")).cloned().expect("default route")
    };
    let public = table("network.primary.aws.ec2.route_table.public".into()).await;
    assert_eq!(associated(&public), public_ids);
    assert_eq!(default_route(&public).gateway_id(), Some(igw_id.as_str()));
    // Each zone's private subnet goes out through the NAT gateway in the same zone's public subnet.
    let mut nat_ids = Vec::new();
    for zone in ["eu-west-1a", "eu-west-1b", "eu-west-1c"] {
        let nat_id = id(&state, &format!("network.primary.aws.ec2.nat_gateway.main[\"{zone}\"]"));
        let nats = ec2.describe_nat_gateways().nat_gateway_ids(&nat_id).send().await.expect("nat");
        let nat = &nats.nat_gateways()[0];
        assert_eq!(
            nat.subnet_id(),
            Some(id(&state, &format!("network.primary.aws.ec2.subnet.public[\"{zone}\"]")).as_str())
        );
        let eip = id(&state, &format!("network.primary.aws.ec2.eip.nat[\"{zone}\"]"));
        assert_eq!(nat.nat_gateway_addresses()[0].allocation_id(), Some(eip.as_str()));
        let private = table(format!("network.primary.aws.ec2.route_table.private[\"{zone}\"]")).await;
        let subnet = id(&state, &format!("network.primary.aws.ec2.subnet.private[\"{zone}\"]"));
        assert_eq!(associated(&private), BTreeSet::from([subnet.clone()]));
        assert!(private_ids.contains(&subnet));
        let route = default_route(&private);
        assert_eq!(route.nat_gateway_id(), Some(nat_id.as_str()), "{zone}");
        assert_eq!(route.gateway_id(), None, "{zone}");
        nat_ids.push(nat_id);
    }

    let group = |name: &str| {
        let ec2 = ec2.clone();
        let owner = if name == "db" { "data" } else { "ghost" };
        let gid = id(&state, &format!("{owner}.primary.aws.ec2.security_group.{name}"));
        async move { ec2.describe_security_groups().group_ids(&gid).send().await.expect("sg").security_groups()[0].clone() }
    };
    // The load balancer admits CloudFront's origin-facing addresses, and no address range.
    let alb = group("alb").await;
    assert!(alb.ip_permissions().iter().all(|p| p.ip_ranges().is_empty() && p.ipv6_ranges().is_empty()));
    let lists = ec2.describe_managed_prefix_lists().send().await.expect("prefix lists");
    let cloudfront_list = lists
        .prefix_lists()
        .iter()
        .find(|l| l.prefix_list_name() == Some("com.amazonaws.global.cloudfront.origin-facing"))
        .and_then(|l| l.prefix_list_id())
        .expect("CloudFront's managed prefix list");
    let admitted: Vec<(Option<i32>, &str)> = alb
        .ip_permissions()
        .iter()
        .flat_map(|p| p.prefix_list_ids().iter().map(move |l| (p.from_port(), l.prefix_list_id().unwrap_or_default())))
        .collect();
    assert_eq!(admitted, [(Some(443), cloudfront_list)]);
    let tasks = group("tasks").await;
    let db = group("db").await;
    let tasks_in = &tasks.ip_permissions()[0];
    assert_eq!((tasks_in.from_port(), tasks_in.to_port()), (Some(2368), Some(2368)));
    assert_eq!(tasks_in.user_id_group_pairs()[0].group_id(), alb.group_id());
    assert_eq!(db.ip_permissions().len(), 1);
    let db_in = &db.ip_permissions()[0];
    assert_eq!(db_in.from_port(), Some(3306));
    assert!(db_in.ip_ranges().is_empty(), "the database must not be reachable by CIDR");
    assert_eq!(db_in.user_id_group_pairs()[0].group_id(), tasks.group_id());
    assert!(db.ip_permissions_egress().is_empty(), "declared `egress = []` removes the default egress");

    // Storage.
    let bucket = "shuttle-prod-artifacts";
    let versioning = s3.get_bucket_versioning().bucket(bucket).send().await.expect("versioning");
    assert_eq!(versioning.status(), Some(&aws_sdk_s3::types::BucketVersioningStatus::Enabled));
    let encryption = s3.get_bucket_encryption().bucket(bucket).send().await.expect("encryption");
    let rule = &encryption.server_side_encryption_configuration().expect("config").rules()[0];
    assert_eq!(rule.apply_server_side_encryption_by_default().map(|d| d.sse_algorithm().as_str()), Some("AES256"));
    let block = s3.get_public_access_block().bucket(bucket).send().await.expect("pab");
    let block = block.public_access_block_configuration().expect("block");
    assert_eq!(
        (
            block.block_public_acls(),
            block.ignore_public_acls(),
            block.block_public_policy(),
            block.restrict_public_buckets()
        ),
        (Some(true), Some(true), Some(true), Some(true))
    );
    let bucket_tags = s3.get_bucket_tagging().bucket(bucket).send().await.expect("tags");
    assert!(bucket_tags.tag_set().iter().any(|t| t.key() == "drone:address" && t.value() == "aws.s3.bucket.artifacts"));

    // Identity and compute.
    let role = iam.get_role().role_name("shuttle-prod-task-execution").send().await.expect("role");
    let trust =
        role.role().map(|r| r.assume_role_policy_document().unwrap_or_default().to_string()).unwrap_or_default();
    assert!(trust.contains("ecs-tasks.amazonaws.com"), "{trust}");
    let attached =
        iam.list_attached_role_policies().role_name("shuttle-prod-task-execution").send().await.expect("attached");
    assert_eq!(attached.attached_policies()[0].policy_name(), Some("AmazonECSTaskExecutionRolePolicy"));
    let cluster_arn = id(&state, "ghost.primary.aws.ecs.cluster.main");
    let clusters = ecs
        .describe_clusters()
        .clusters(&cluster_arn)
        .include(aws_sdk_ecs::types::ClusterField::Settings)
        .send()
        .await
        .expect("cluster");
    let cluster = &clusters.clusters()[0];
    assert_eq!(cluster.cluster_name(), Some("shuttle-prod"));
    assert_eq!(cluster.settings()[0].value(), Some("enabled"));

    // Database.
    let groups =
        rds.describe_db_subnet_groups().db_subnet_group_name("shuttle-prod-ghost").send().await.expect("subnet group");
    let in_group: BTreeSet<String> =
        groups.db_subnet_groups()[0].subnets().iter().filter_map(|s| s.subnet_identifier().map(String::from)).collect();
    assert_eq!(in_group, private_ids, "the database lives in the private subnets");
    let dbs = rds.describe_db_clusters().db_cluster_identifier("shuttle-prod-ghost").send().await.expect("db cluster");
    let dbc = &dbs.db_clusters()[0];
    assert_eq!(dbc.engine(), Some("aurora-mysql"));
    assert_eq!(dbc.storage_encrypted(), Some(true));
    assert_eq!(dbc.backup_retention_period(), Some(7));
    assert_eq!(dbc.db_subnet_group(), Some("shuttle-prod-ghost"));
    assert_eq!(dbc.vpc_security_groups()[0].vpc_security_group_id(), db.group_id());
    // Its password is the workflow's secret's (JSON `username`, `password`), not one RDS manages;
    // it is the writer of the global database made from it.
    assert!(dbc.master_user_secret().is_none(), "{dbc:?}");
    assert_eq!(dbc.global_cluster_identifier(), Some("shuttle-prod"));
    let secrets = aws_sdk_secretsmanager::Client::new(&config);
    let value = secrets.get_secret_value().secret_id(&secret_arn).send().await.expect("secret value");
    let value: serde_json::Value = serde_json::from_str(value.secret_string().expect("text")).expect("json");
    assert_eq!(value["username"], "ghost");
    assert_eq!(value["password"].as_str().map(str::len), Some(32));
    let capacity = dbc.serverless_v2_scaling_configuration().expect("Serverless v2");
    assert_eq!((capacity.min_capacity(), capacity.max_capacity()), (Some(1.0), Some(16.0)));
    // Its compute: a Serverless v2 writer and a reader, in two zones.
    let members: Vec<(&str, bool)> = dbc
        .db_cluster_members()
        .iter()
        .map(|m| (m.db_instance_identifier().unwrap_or_default(), m.is_cluster_writer().unwrap_or(false)))
        .collect();
    assert_eq!(members.len(), 2, "{members:?}");
    assert_eq!(members.iter().filter(|(_, writer)| *writer).count(), 1, "{members:?}");
    let instances = rds.describe_db_instances().send().await.expect("db instances");
    let instances: Vec<_> =
        instances.db_instances().iter().filter(|i| i.db_cluster_identifier() == Some("shuttle-prod-ghost")).collect();
    let zones: BTreeSet<&str> = instances.iter().filter_map(|i| i.availability_zone()).collect();
    assert_eq!(zones, BTreeSet::from(["eu-west-1a", "eu-west-1b"]));
    assert!(instances.iter().all(|i| i.db_instance_class() == Some("db.serverless")));

    // Ghost gets the password from that secret through ECS `secrets`, and nothing secret-looking in its environment.
    let definition = ecs
        .describe_task_definition()
        .task_definition(id(&state, "ghost.primary.aws.ecs.task_definition.ghost"))
        .send()
        .await
        .expect("task definition");
    let definition = definition.task_definition().expect("task definition");
    let ghost = &definition.container_definitions()[0];
    let secrets: Vec<(&str, &str)> = ghost.secrets().iter().map(|s| (s.name(), s.value_from())).collect();
    let reference = format!("{secret_arn}:password::");
    assert_eq!(secrets, [("database__connection__password", reference.as_str())]);
    for variable in ghost.environment() {
        let name = variable.name().unwrap_or_default().to_lowercase();
        assert!(!["password", "secret", "token"].iter().any(|w| name.contains(w)), "{name} in Ghost's environment");
    }
    // The execution role may read exactly that secret.
    let execution = definition.execution_role_arn().and_then(|a| a.rsplit('/').next()).expect("execution role");
    let policy = iam.get_role_policy().role_name(execution).policy_name("db_password").send().await.expect("policy");
    let document = drone_stdlib::aws::percent_decode(policy.policy_document()).expect("URL-encoded policy");
    let document: serde_json::Value = serde_json::from_str(&document).expect("policy JSON");
    assert_eq!(
        document["Statement"],
        serde_json::json!([{ "Effect": "Allow", "Action": "secretsmanager:GetSecretValue", "Resource": secret_arn }])
    );

    // The edge: CloudFront in front of the load balancer, over HTTPS, behind the web ACL.
    let cloudfront = aws_sdk_cloudfront::Client::new(&config);
    let us_east_1 = aws_sdk_wafv2::config::Builder::from(&config).region(aws_config::Region::new("us-east-1"));
    let wafv2 = aws_sdk_wafv2::Client::from_conf(us_east_1.build());
    let acl_id = id(&state, "edge.primary.aws.wafv2.web_acl.edge");
    let acl = wafv2
        .get_web_acl()
        .name("shuttle-prod-edge")
        .scope(aws_sdk_wafv2::types::Scope::Cloudfront)
        .id(&acl_id)
        .send()
        .await
        .expect("web acl");
    let acl = acl.web_acl().expect("web acl");
    assert!(acl.arn().starts_with("arn:aws:wafv2:us-east-1:123456789012:global/webacl/shuttle-prod-edge/"));
    let rules: Vec<&str> = acl.rules().iter().map(|r| r.name()).collect();
    assert_eq!(
        rules,
        [
            "AWSManagedRulesCommonRuleSet",
            "AWSManagedRulesKnownBadInputsRuleSet",
            "AWSManagedRulesSQLiRuleSet",
            "rate-limit"
        ]
    );
    assert!(acl.default_action().is_some_and(|a| a.allow().is_some()));
    let distribution_id = id(&state, "edge.primary.aws.cloudfront.distribution.ghost");
    let got = cloudfront.get_distribution().id(&distribution_id).send().await.expect("distribution");
    let distribution = got.distribution().expect("distribution");
    assert_eq!(distribution.status(), "Deployed");
    let dc = distribution.distribution_config().expect("config");
    let load_balancer =
        state["resources"]["ghost.primary.aws.elbv2.load_balancer.public"]["attributes"]["dns_name"].as_str();
    assert_eq!(dc.origins().map(|o| o.items()[0].domain_name()), load_balancer);
    let behavior = dc.default_cache_behavior().expect("default behavior");
    assert_eq!(behavior.viewer_protocol_policy(), &aws_sdk_cloudfront::types::ViewerProtocolPolicy::RedirectToHttps);
    assert_eq!(dc.web_acl_id(), Some(acl.arn()));
    assert!(dc.enabled());
    let cf_tags = cloudfront.list_tags_for_resource().resource(distribution.arn()).send().await.expect("tags");
    let cf_tags = cf_tags.tags().map(|t| t.items()).unwrap_or_default();
    assert!(cf_tags
        .iter()
        .any(|t| t.key() == "drone:address" && t.value() == Some("edge.primary.aws.cloudfront.distribution.ghost")));

    // The customer's domain: its zone answers blog.drone-shuttle.example with CloudFront (A and
    // AAAA aliases); CloudFront serves the certificate drone requested in us-east-1, the load
    // balancer the one in the region, both issued after drone wrote their DNS validation.
    let route53 = aws_sdk_route53::Client::new(&config);
    let zone_id = id(&state, "aws.route53.zone.public");
    let sets = route53.list_resource_record_sets().hosted_zone_id(&zone_id).send().await.expect("record sets");
    let aliases: BTreeSet<(String, String, String)> = sets
        .resource_record_sets()
        .iter()
        .filter_map(|r| {
            let a = r.alias_target()?;
            Some((
                r.name().to_string(),
                r.r#type().as_str().to_string(),
                a.dns_name().trim_end_matches('.').to_string(),
            ))
        })
        .collect();
    let cdn_domain = distribution.domain_name().to_string();
    assert_eq!(
        aliases,
        BTreeSet::from([
            ("blog.drone-shuttle.example.".to_string(), "A".to_string(), cdn_domain.clone()),
            ("blog.drone-shuttle.example.".to_string(), "AAAA".to_string(), cdn_domain.clone()),
        ])
    );
    let edge_config = config.to_builder().region(aws_config::Region::new("us-east-1")).build();
    let edge_certificate = id(&state, "edge.primary.aws.acm.certificate.edge");
    let region_certificate = id(&state, "ghost.primary.aws.acm.certificate.alb");
    assert!(edge_certificate.starts_with("arn:aws:acm:us-east-1:123456789012:certificate/"), "{edge_certificate}");
    assert!(region_certificate.starts_with("arn:aws:acm:eu-west-1:123456789012:certificate/"), "{region_certificate}");
    for (acm_config, arn) in [(&edge_config, &edge_certificate), (&config, &region_certificate)] {
        let acm = aws_sdk_acm::Client::new(acm_config);
        let described = acm.describe_certificate().certificate_arn(arn).send().await.expect("certificate");
        let certificate = described.certificate().expect("certificate");
        assert_eq!(certificate.domain_name(), Some("blog.drone-shuttle.example"));
        assert_eq!(certificate.status(), Some(&aws_sdk_acm::types::CertificateStatus::Issued));
        let record = certificate.domain_validation_options()[0].resource_record().expect("validation record");
        assert!(
            sets.resource_record_sets().iter().any(|r| r.name() == record.name() && r.r#type().as_str() == "CNAME"),
            "the validation record {} is in the zone",
            record.name()
        );
    }
    assert_eq!(dc.viewer_certificate().and_then(|v| v.acm_certificate_arn()), Some(edge_certificate.as_str()));
    assert_eq!(dc.is_ipv6_enabled(), Some(true));

    // CloudFront proves itself with a secret header, over HTTPS; the listener forwards only requests
    // that carry it and answers 403 to the rest.
    let origin = &dc.origins().expect("origins").items()[0];
    assert_eq!(
        origin.custom_origin_config().map(|c| c.origin_protocol_policy()),
        Some(&aws_sdk_cloudfront::types::OriginProtocolPolicy::HttpsOnly)
    );
    let sent = &origin.custom_headers().expect("custom headers").items()[0];
    assert_eq!(sent.header_name(), "X-Origin-Verify");
    assert!(sent.header_value().len() >= 48, "a generated value");
    let elb = aws_sdk_elasticloadbalancingv2::Client::new(&config);
    let listener_arn = id(&state, "ghost.primary.aws.elbv2.listener.https");
    let listeners = elb.describe_listeners().listener_arns(&listener_arn).send().await.expect("listener");
    let listener = &listeners.listeners()[0];
    assert_eq!(listener.certificates()[0].certificate_arn(), Some(region_certificate.as_str()));
    let default = &listener.default_actions()[0];
    assert_eq!(default.fixed_response_config().and_then(|f| f.status_code()), Some("403"));
    let rules = elb.describe_rules().listener_arn(&listener_arn).send().await.expect("rules");
    let rule = rules.rules().iter().find(|r| r.priority() == Some("10")).expect("the origin rule");
    let header = rule.conditions().iter().find_map(|c| c.http_header_config()).expect("a header condition");
    assert_eq!(header.http_header_name(), Some("X-Origin-Verify"));
    assert_eq!(header.values(), [sent.header_value().to_string()], "the listener wants what CloudFront sends");
    // All of the rule's traffic goes to Ghost's live target group (the other is blue/green's idle one).
    let forward = rule.actions()[0].forward_config().expect("a weighted forward");
    let live = forward.target_groups().iter().find(|t| t.weight() == Some(100)).and_then(|t| t.target_group_arn());
    assert_eq!(live, Some(id(&state, "ghost.primary.aws.elbv2.target_group.ghost").as_str()));
    let raw_state = std::fs::read_to_string(&state_path).expect("state");
    assert!(!raw_state.contains(sent.header_value()), "the origin secret leaked into state");
    assert!(!stdout.contains(sent.header_value()), "the origin secret leaked into output");

    // Delivery: the repository, the image build and the pipeline from one to the other.
    let pipelines = aws_sdk_codepipeline::Client::new(&config);
    let pipeline = pipelines.get_pipeline().name("shuttle-prod").send().await.expect("pipeline");
    let declared = pipeline.pipeline().expect("declaration");
    let stages: Vec<&str> = declared.stages().iter().map(|s| s.name()).collect();
    assert_eq!(stages, ["Source", "Build", "Deploy"]);
    assert_eq!(declared.artifact_store().map(|s| s.location()), Some("shuttle-prod-artifacts"));
    let source = &declared.stages()[0].actions()[0];
    let configuration = source.configuration().expect("source configuration");
    assert_eq!(configuration.get("RepositoryName").map(String::as_str), Some("shuttle-prod-ghost"));
    assert_eq!(configuration.get("BranchName").map(String::as_str), Some("main"));
    let deploy = &declared.stages()[2].actions()[0];
    assert_eq!(deploy.action_type_id().map(|t| t.provider()), Some("ECS"));
    assert_eq!(deploy.configuration().and_then(|c| c.get("ServiceName")).map(String::as_str), Some("ghost"));
    assert!(declared.role_arn().ends_with(":role/shuttle-prod-pipeline"), "{}", declared.role_arn());
    let codecommit = aws_sdk_codecommit::Client::new(&config);
    let repository = codecommit.get_repository().repository_name("shuttle-prod-ghost").send().await.expect("repo");
    assert!(repository.repository_metadata().and_then(|m| m.clone_url_http()).is_some());
    let codebuild = aws_sdk_codebuild::Client::new(&config);
    let projects = codebuild.batch_get_projects().names("shuttle-prod-ghost").send().await.expect("project");
    let project = &projects.projects()[0];
    assert_eq!(project.environment().and_then(|e| e.privileged_mode()), Some(true), "an image build runs privileged");
    let buildspec = project.source().and_then(|s| s.buildspec()).expect("buildspec");
    let image_repository = state["resources"]["ghost.primary.aws.ecr.repository.ghost"]["attributes"]["url"]
        .as_str()
        .expect("the image repository's URL")
        .to_string();
    assert!(buildspec.contains(&format!("docker push '{image_repository}'")), "{buildspec}");
    assert!(project.service_role().is_some_and(|r| r.ends_with(":role/shuttle-prod-ghost-build")));

    // A second plan against the same world changes nothing.
    let out = drone_at(&["plan", "workflows/prod.drone"]);
    assert_exit(&out, 0);
    assert!(
        text(&out).0.contains(&format!("No changes: {PROD_RESOURCES} resource(s) match the workflow.")),
        "{}",
        text(&out).0
    );

    // One changed argument plans exactly what it reaches: a new Ghost version is a new task
    // definition and the service updated in place to run it, in both regions.
    let out = drone_at(&["plan", "workflows/prod.drone", "--format", "json", "--param", "ghost_version=5.97.0"]);
    assert_exit(&out, 0);
    let plan: serde_json::Value = serde_json::from_str(&text(&out).0).expect("plan json");
    let actions: Vec<(&str, &str)> = plan["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["action"] != "noop")
        .map(|a| (a["action"].as_str().unwrap_or_default(), a["address"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(
        actions,
        [
            ("replace", "ghost.primary.aws.ecs.task_definition.ghost"),
            ("update", "ghost.primary.aws.ecs.service.ghost"),
            ("replace", "ghost.standby.aws.ecs.task_definition.ghost"),
            ("update", "ghost.standby.aws.ecs.service.ghost"),
        ],
        "{plan:#}"
    );
    // A new host name is a new certificate for each end, new records and a new site URL, and
    // nothing else: the zone, the network and the database stay.
    let out =
        drone_at(&["plan", "workflows/prod.drone", "--format", "json", "--param", "domain=www.drone-shuttle.example"]);
    assert_exit(&out, 0);
    let plan: serde_json::Value = serde_json::from_str(&text(&out).0).expect("plan json");
    let touched: BTreeSet<String> = plan["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter(|a| a["action"] != "noop")
        .map(|a| format!("{} {}", a["action"].as_str().unwrap_or_default(), a["address"].as_str().unwrap_or_default()))
        .collect();
    for expected in [
        "replace ghost.primary.aws.acm.certificate.alb",
        "replace edge.primary.aws.acm.certificate.edge",
        "replace edge.primary.aws.route53.record.site[\"A\"]",
        "update edge.primary.aws.cloudfront.distribution.ghost",
    ] {
        assert!(touched.contains(expected), "{expected} missing from {touched:#?}");
    }
    assert!(
        !touched.iter().any(|t| t.contains("route53.zone") || t.contains("aws.ec2.") || t.contains("rds.")),
        "{touched:#?}"
    );

    // Scale on demand: Ghost's task count is a scalable target, tracked on CPU and on requests per task.
    let scaling = aws_sdk_applicationautoscaling::Client::new(&config);
    let ecs_namespace = aws_sdk_applicationautoscaling::types::ServiceNamespace::Ecs;
    let targets = scaling.describe_scalable_targets().service_namespace(ecs_namespace.clone()).send().await;
    let targets = targets.expect("scalable targets");
    let target = &targets.scalable_targets()[0];
    assert_eq!(target.resource_id(), "service/shuttle-prod/ghost");
    assert_eq!((target.min_capacity(), target.max_capacity()), (2, 10));
    let policies = scaling.describe_scaling_policies().service_namespace(ecs_namespace).send().await;
    let policies = policies.expect("scaling policies");
    let mut tracked: Vec<(String, f64, Option<String>)> = policies
        .scaling_policies()
        .iter()
        .filter_map(|p| {
            let c = p.target_tracking_scaling_policy_configuration()?;
            let metric = c.predefined_metric_specification()?;
            Some((
                metric.predefined_metric_type().as_str().to_string(),
                c.target_value(),
                metric.resource_label().map(String::from),
            ))
        })
        .collect();
    tracked.sort_by(|a, b| a.0.cmp(&b.0));
    let lb_arn = id(&state, "ghost.primary.aws.elbv2.load_balancer.public");
    let tg_arn = id(&state, "ghost.primary.aws.elbv2.target_group.ghost");
    let label = format!(
        "{}/{}",
        lb_arn.split_once(":loadbalancer/").expect("lb arn").1,
        &tg_arn[tg_arn.find("targetgroup/").expect("tg arn")..]
    );
    assert_eq!(
        tracked,
        [
            ("ALBRequestCountPerTarget".to_string(), 1000.0, Some(label)),
            ("ECSServiceAverageCPUUtilization".to_string(), 60.0, None),
        ]
    );

    // Autoscaling scales the service out; drone reports it and leaves it (lifecycle.ignore_changes).
    let service_arn = id(&state, "ghost.primary.aws.ecs.service.ghost");
    ecs.update_service().cluster(&cluster_arn).service(&service_arn).desired_count(5).send().await.expect("scale out");
    let out = drone_at(&["plan", "workflows/prod.drone"]);
    assert_exit(&out, 0);
    let shown = text(&out).0;
    assert!(shown.contains("desired_count : 2 -> 5  (kept: lifecycle.ignore_changes)"), "{shown}");
    assert!(shown.contains(&format!("No changes: {PROD_RESOURCES} resource(s) match the workflow.")), "{shown}");

    // A release: Ghost's new version replaces the task definition and updates the service, and the
    // hook after that update invalidates the edge cache; the service keeps the count autoscaling set.
    let out = drone_at(&["run", "workflows/prod.drone", "--yes", "--param", "ghost_version=5.97.0"]);
    assert_exit(&out, 0);
    assert!(text(&out).1.contains("invalidated the edge cache"), "{}", text(&out).1);
    let invalidations =
        cloudfront.list_invalidations().distribution_id(&distribution_id).send().await.expect("invalidations");
    let items = invalidations.invalidation_list().map(|l| l.items()).unwrap_or_default();
    assert_eq!(items.len(), 1, "one invalidation, for the one release");
    let services = ecs.describe_services().cluster(&cluster_arn).services(&service_arn).send().await.expect("service");
    assert_eq!(services.services()[0].desired_count(), 5, "the release left autoscaling's task count alone");
    let invalidation = cloudfront
        .get_invalidation()
        .distribution_id(&distribution_id)
        .id(items[0].id())
        .send()
        .await
        .expect("invalidation");
    let paths = invalidation
        .invalidation()
        .and_then(|i| i.invalidation_batch())
        .and_then(|b| b.paths())
        .map(|p| p.items().to_vec())
        .unwrap_or_default();
    assert_eq!(paths, ["/*"]);

    // Releases shift traffic: ECS's canary strategy, on two target groups and the production
    // listener rule, watched by Ghost's alarms. ECS runs the shift; drone declares it.
    let ghost = &services.services()[0];
    let deployment = ghost.deployment_configuration().expect("deployment configuration");
    assert_eq!(deployment.strategy(), Some(&aws_sdk_ecs::types::DeploymentStrategy::Canary));
    assert_eq!(deployment.canary_configuration().and_then(|c| c.canary_percent()), Some(10.0));
    assert_eq!(deployment.bake_time_in_minutes(), Some(5));
    assert_eq!(deployment.minimum_healthy_percent(), Some(100));
    assert!(deployment.deployment_circuit_breaker().is_some_and(|b| b.enable() && b.rollback()));
    let watched = deployment.alarms().map(|a| a.alarm_names().to_vec()).unwrap_or_default();
    assert_eq!(
        watched,
        [
            "shuttle-prod-ghost-http-5xx",
            "shuttle-prod-ghost-response-time",
            "shuttle-prod-ghost-unhealthy",
            "shuttle-prod-ghost-green-unhealthy"
        ]
    );
    let blue = id(&state, "ghost.primary.aws.elbv2.target_group.ghost");
    let green = id(&state, "ghost.primary.aws.elbv2.target_group.ghost_green");
    // Each group's unhealthy tasks are watched: after a release the two swap places.
    let cloudwatch = aws_sdk_cloudwatch::Client::new(&config);
    for (alarm, group) in
        [("shuttle-prod-ghost-unhealthy", "ghost"), ("shuttle-prod-ghost-green-unhealthy", "ghost_green")]
    {
        let out = cloudwatch.describe_alarms().alarm_names(alarm).send().await.expect("alarm");
        let dimensions = out.metric_alarms()[0].dimensions();
        let target_group = dimensions.iter().find(|d| d.name() == Some("TargetGroup")).and_then(|d| d.value());
        let suffix =
            &state["resources"][format!("ghost.primary.aws.elbv2.target_group.{group}")]["attributes"]["arn_suffix"];
        assert_eq!(target_group, suffix.as_str(), "{alarm}");
    }
    let rule_arn = id(&state, "ghost.primary.aws.elbv2.listener_rule.from_cloudfront");
    let attached = &ghost.load_balancers()[0];
    let advanced = attached.advanced_configuration().expect("blue/green settings");
    assert_eq!(attached.target_group_arn(), Some(blue.as_str()));
    assert_eq!(advanced.alternate_target_group_arn(), Some(green.as_str()));
    assert_eq!(advanced.production_listener_rule(), Some(rule_arn.as_str()));
    assert!(advanced.role_arn().is_some_and(|r| r.ends_with(":role/shuttle-prod-ghost-traffic")));
    let weights = |rules: aws_sdk_elasticloadbalancingv2::operation::describe_rules::DescribeRulesOutput| {
        let forward = rules.rules()[0].actions()[0].forward_config().cloned().expect("a weighted forward");
        forward
            .target_groups()
            .iter()
            .map(|t| (t.target_group_arn().unwrap_or_default().to_string(), t.weight().unwrap_or(1)))
            .collect::<BTreeMap<String, i32>>()
    };
    let rules = elb.describe_rules().rule_arns(&rule_arn).send().await.expect("rule");
    assert_eq!(weights(rules), BTreeMap::from([(blue.clone(), 100), (green.clone(), 0)]));
    // What ECS leaves after a completed shift: the rule's weight on green, and the service's two
    // groups swapped. drone does not fight it: the plan is empty.
    let tuple = |arn: &str, weight: i32| {
        aws_sdk_elasticloadbalancingv2::types::TargetGroupTuple::builder().target_group_arn(arn).weight(weight).build()
    };
    let shifted = aws_sdk_elasticloadbalancingv2::types::Action::builder()
        .r#type(aws_sdk_elasticloadbalancingv2::types::ActionTypeEnum::Forward)
        .forward_config(
            aws_sdk_elasticloadbalancingv2::types::ForwardActionConfig::builder()
                .target_groups(tuple(&blue, 0))
                .target_groups(tuple(&green, 100))
                .build(),
        )
        .build();
    elb.modify_rule().rule_arn(&rule_arn).actions(shifted).send().await.expect("shift the rule");
    let swapped = aws_sdk_ecs::types::LoadBalancer::builder()
        .target_group_arn(&green)
        .container_name("ghost")
        .container_port(2368)
        .advanced_configuration(
            aws_sdk_ecs::types::AdvancedConfiguration::builder()
                .alternate_target_group_arn(&blue)
                .set_production_listener_rule(advanced.production_listener_rule().map(String::from))
                .set_role_arn(advanced.role_arn().map(String::from))
                .build(),
        )
        .build();
    ecs.update_service()
        .cluster(&cluster_arn)
        .service(&service_arn)
        .load_balancers(swapped)
        .send()
        .await
        .expect("swap the groups");
    let rules = elb.describe_rules().rule_arns(&rule_arn).send().await.expect("rule");
    assert_eq!(weights(rules), BTreeMap::from([(blue.clone(), 0), (green.clone(), 100)]));
    let out = drone_at(&["plan", "workflows/prod.drone", "--param", "ghost_version=5.97.0"]);
    assert_exit(&out, 0);
    let shown = text(&out).0;
    assert!(shown.contains(&format!("No changes: {PROD_RESOURCES} resource(s) match the workflow.")), "{shown}");

    // Objects (two versions of one key) in the artifacts bucket and an image in Ghost's
    // repository: neither can be deleted while it holds them, so the workflow's hooks empty them.
    for body in ["v1", "v2"] {
        s3.put_object()
            .bucket(bucket)
            .key("themes/casper.zip")
            .body(body.as_bytes().to_vec().into())
            .send()
            .await
            .expect("put");
    }
    let ecr = aws_sdk_ecr::Client::new(&config);
    let manifest = serde_json::json!({
        "schemaVersion": 2,
        "mediaType": "application/vnd.docker.distribution.manifest.v2+json",
        "config": { "mediaType": "application/vnd.docker.container.image.v1+json", "size": 1, "digest": "sha256:0000000000000000000000000000000000000000000000000000000000000000" },
        "layers": []
    });
    ecr.put_image()
        .repository_name("shuttle-prod-ghost")
        .image_manifest(manifest.to_string())
        .image_tag("6.0")
        .send()
        .await
        .expect("put image");

    // Destroy leaves nothing of the workflow behind.
    let out = drone_at(&["destroy", "workflows/prod.drone", "--yes"]);
    assert_exit(&out, 0);
    let stderr = text(&out).1;
    assert!(stderr.contains("emptied 2 object versions of the artifacts bucket"), "{stderr}");
    assert!(stderr.contains("deleted 1 images of Ghost's repository"), "{stderr}");
    assert!(text(&out).0.contains(&format!("Destroy complete: {PROD_RESOURCES} deleted.")), "{}", text(&out).0);
    assert!(!text(&out).0.contains("output "), "destroy printed outputs: {}", text(&out).0);
    assert_eq!(state_json(&state_path)["resources"].as_object().map(|o| o.len()), Some(0));
    // What the outputs named is gone, so are they.
    assert_eq!(state_json(&state_path)["outputs"].as_object().map(|o| o.len()), Some(0));
    let ours = Filter::builder().name("tag:drone:workflow").values("shuttle-prod").build();
    assert!(ec2.describe_vpcs().filters(ours.clone()).send().await.expect("vpcs").vpcs().is_empty());
    assert!(ec2.describe_subnets().filters(ours.clone()).send().await.expect("subnets").subnets().is_empty());
    assert!(ec2
        .describe_security_groups()
        .filters(ours.clone())
        .send()
        .await
        .expect("sgs")
        .security_groups()
        .is_empty());
    assert!(ec2.describe_route_tables().filters(ours.clone()).send().await.expect("rts").route_tables().is_empty());
    assert!(ec2
        .describe_internet_gateways()
        .filters(ours.clone())
        .send()
        .await
        .expect("igws")
        .internet_gateways()
        .is_empty());
    let nats = ec2.describe_nat_gateways().set_nat_gateway_ids(Some(nat_ids)).send().await.expect("nats");
    assert!(nats.nat_gateways().iter().all(|g| g.state() == Some(&aws_sdk_ec2::types::NatGatewayState::Deleted)));
    assert!(ec2.describe_addresses().filters(ours).send().await.expect("eips").addresses().is_empty());
    assert!(!s3.list_buckets().send().await.expect("buckets").buckets().iter().any(|b| b.name() == Some(bucket)));
    assert!(iam.get_role().role_name("shuttle-prod-task-execution").send().await.is_err());
    let clusters = ecs.describe_clusters().clusters(&cluster_arn).send().await.expect("clusters");
    assert!(clusters.clusters().iter().all(|c| c.status() != Some("ACTIVE")));
    assert!(rds.describe_db_clusters().send().await.expect("db clusters").db_clusters().is_empty());
    assert!(rds.describe_db_instances().send().await.expect("db instances").db_instances().is_empty());
    assert!(rds.describe_db_subnet_groups().send().await.expect("groups").db_subnet_groups().is_empty());
    assert!(cloudfront.get_distribution().id(&distribution_id).send().await.is_err());
    let scope = aws_sdk_wafv2::types::Scope::Cloudfront;
    assert!(wafv2.list_web_acls().scope(scope).send().await.expect("web acls").web_acls().is_empty());
    // The zone could go only once the certificates had taken their validation records with them.
    assert!(route53.list_hosted_zones().send().await.expect("zones").hosted_zones().is_empty());
    for acm_config in [&edge_config, &config] {
        let acm = aws_sdk_acm::Client::new(acm_config);
        assert!(acm.list_certificates().send().await.expect("certificates").certificate_summary_list().is_empty());
    }

    // Every call of the run, the re-plan and the destroy is allowed by `drone iam`'s policy.
    super::deployer::assert_calls_allowed(&journal, &super::deployer::prod_policy());
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_call_mid_run_keeps_what_succeeded_in_state() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("reject.drone");
    std::fs::write(
        &file,
        r#"workflow "reject" {}

resource aws.ec2.vpc main {
  cidr_block = "10.40.0.0/16"
}

resource aws.ec2.subnet good {
  vpc_id     = aws.ec2.vpc.main.id
  cidr_block = "10.40.1.0/24"
}

// The range `good` already holds (made first, as the tag refers to it): EC2 rejects it, which
// drone cannot know before the call (a range outside the VPC's, `check` refuses).
resource aws.ec2.subnet bad {
  vpc_id     = aws.ec2.vpc.main.id
  cidr_block = "10.40.1.0/24"
  tags       = { beside = aws.ec2.subnet.good.id }
}

resource aws.ec2.route_table app {
  vpc_id     = aws.ec2.vpc.main.id
  subnet_ids = [aws.ec2.subnet.bad.id]
}

resource aws.s3.bucket independent {
  name                = "reject-independent"
  versioning          = true
  encryption          = "AES256"
  public_access_block = { block_public_acls = true, ignore_public_acls = true, block_public_policy = true, restrict_public_buckets = true }
  policy              = { Version = "2012-10-17", Statement = [{ Effect = "Deny", Principal = "*", Action = "s3:*", Resource = ["arn:aws:s3:::reject-independent", "arn:aws:s3:::reject-independent/*"], Condition = { Bool = { "aws:SecureTransport" = "false" } } }] }
}
"#,
    )
    .expect("write");
    let state_path = dir.path().join("state.json");
    let out = run(drone(Some(&moto.url)).arg("run").arg(&file).arg("--state").arg(&state_path));
    assert_exit(&out, 5);
    let (stdout, _) = text(&out);
    assert!(stdout.contains("Apply failed: 3 created, 0 updated, 0 deleted, 1 failed, 1 skipped."), "{stdout}");
    assert!(
        stdout.contains("failed  aws.ec2.subnet.bad (create): CreateSubnet failed: InvalidSubnet.Conflict"),
        "{stdout}"
    );
    assert!(
        stdout.contains("skipped aws.ec2.route_table.app (create): `aws.ec2.subnet.bad` did not succeed"),
        "{stdout}"
    );
    let state = state_json(&state_path);
    let recorded: BTreeSet<&str> =
        state["resources"].as_object().expect("resources").keys().map(String::as_str).collect();
    assert_eq!(recorded, BTreeSet::from(["aws.ec2.vpc.main", "aws.ec2.subnet.good", "aws.s3.bucket.independent"]));
    assert!(!dir.path().join("state.json.lock").exists());

    // Fixing the cause and running again creates only what is missing.
    let fixed = std::fs::read_to_string(&file)
        .expect("read")
        .replace("cidr_block = \"10.40.1.0/24\"\n  tags", "cidr_block = \"10.40.2.0/24\"\n  tags");
    std::fs::write(&file, fixed).expect("write");
    let out = run(drone(Some(&moto.url)).arg("run").arg(&file).arg("--state").arg(&state_path));
    assert_exit(&out, 0);
    assert!(text(&out).0.contains("Apply complete: 2 created, 0 updated, 0 deleted."), "{}", text(&out).0);
}

/// Ctrl-C (SIGINT) during `drone run`: what was in flight finishes and is
/// saved, nothing starts after it, the lock is released, and the next run
/// carries out the rest.
#[tokio::test(flavor = "multi_thread")]
async fn an_interrupted_run_saves_what_finished_and_the_next_run_completes() {
    use std::io::{BufRead, BufReader};
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("tempdir");
    let state_path = dir.path().join("state.json");
    let prod = |args: &[&str]| prod(&moto.url, &state_path, args);
    let mut child = prod(&["run", "workflows/prod.drone", "--yes", "--concurrency", "1"])
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn drone");
    // The plan fills more than a pipe holds: stdout is read meanwhile, or drone would block on it.
    let mut stdout_pipe = child.stdout.take().expect("stdout");
    let stdout_reader = std::thread::spawn(move || {
        let mut text = String::new();
        std::io::Read::read_to_string(&mut stdout_pipe, &mut text).map(|_| text).unwrap_or_default()
    });
    let mut lines = BufReader::new(child.stderr.take().expect("stderr")).lines();
    let mut seen = Vec::new();
    for line in lines.by_ref() {
        let line = line.expect("line");
        let first_done = line.contains(" done in ");
        seen.push(line);
        if first_done {
            let pid = child.id().to_string();
            assert!(std::process::Command::new("kill").args(["-INT", &pid]).status().expect("kill").success());
            break;
        }
    }
    // Read on to the end, as a terminal would.
    seen.extend(lines.map_while(Result::ok));
    let status = child.wait().expect("wait");
    let stdout = stdout_reader.join().expect("stdout");
    assert_eq!(status.code(), Some(130), "{stdout}\n{}", seen.join("\n"));
    assert!(stdout.contains("Apply interrupted: "), "{stdout}");
    assert!(seen.iter().any(|l| l.starts_with("interrupted: finishing the operations in flight")), "{seen:?}");
    let recorded = state_json(&state_path)["resources"].as_object().map(|o| o.len()).unwrap_or(0);
    assert!((1..PROD_RESOURCES).contains(&recorded), "{recorded} recorded\n{stdout}");
    assert!(!dir.path().join("state.json.lock").exists(), "the interrupted run released its lock");

    let out = run(&mut prod(&["run", "workflows/prod.drone", "--yes"]));
    assert_exit(&out, 0);
    let (stdout, _) = text(&out);
    assert!(
        stdout.contains(&format!("Apply complete: {} created, 0 updated, 0 deleted.", PROD_RESOURCES - recorded)),
        "{stdout}"
    );
    let out = run(&mut prod(&["plan", "workflows/prod.drone"]));
    assert_exit(&out, 0);
    assert!(
        text(&out).0.contains(&format!("No changes: {PROD_RESOURCES} resource(s) match the workflow.")),
        "{}",
        text(&out).0
    );
    assert_exit(&run(&mut prod(&["destroy", "workflows/prod.drone", "--yes"])), 0);
}
