//! `drone iam`: the deployer's generated policy passes the built-in IAM rules,
//! and every (action, ARN) pair a real run called is allowed by it.

use std::path::Path;

use drone_engine::policy::iam::catalogue::catalogue;

use super::support::{assert_exit, drone, root, run, text};

const ACCOUNT: &str = "123456789012";
const REGION: &str = "eu-west-1";

/// The policy `drone iam` prints for the prod workflow.
pub fn prod_policy() -> serde_json::Value {
    let out = run(drone(None).current_dir(root()).args(["iam", "workflows/prod.drone", "--account", ACCOUNT]));
    assert_exit(&out, 0);
    // Too large for one managed policy (6,144 characters) or one inline role policy (10,240): drone
    // says so, and `--managed` packs it into managed policies that fit, granting exactly the same.
    assert!(
        text(&out).1.contains("an inline role policy 10240: attach it as managed policies with --managed"),
        "{}",
        text(&out).1
    );
    let whole: serde_json::Value = serde_json::from_str(&text(&out).0).expect("policy json");
    let documents = managed(&[]);
    assert!(documents.len() <= 10, "{} managed policies: more than IAM attaches to a role", documents.len());
    assert_eq!(statements_of(&documents), statements_of(std::slice::from_ref(&whole)));
    for phase in ["bootstrap", "network", "platform", "standby", "edge", "delivery"] {
        let out = run(drone(None).current_dir(root()).args([
            "iam",
            "workflows/prod.drone",
            "--account",
            ACCOUNT,
            "--phase",
            phase,
        ]));
        assert_exit(&out, 0);
        let policy: serde_json::Value = serde_json::from_str(&text(&out).0).expect("policy json");
        assert_eq!(statements_of(&managed(&["--phase", phase])), statements_of(&[policy]), "phase {phase}");
    }
    serde_json::from_str(&text(&out).0).expect("policy json")
}

/// `drone iam workflows/prod.drone --managed` with `args`: its documents, each checked to fit.
fn managed(args: &[&str]) -> Vec<serde_json::Value> {
    let out = run(drone(None)
        .current_dir(root())
        .args(["iam", "workflows/prod.drone", "--account", ACCOUNT, "--managed"])
        .args(args));
    assert_exit(&out, 0);
    let documents: Vec<serde_json::Value> = serde_json::from_str(&text(&out).0).expect("managed policies json");
    for document in &documents {
        let size = document.to_string().chars().filter(|c| !c.is_whitespace()).count();
        assert!(size <= 6_144, "a managed policy of {size} characters");
    }
    documents
}

/// Every statement of `documents`, as (actions, resource, condition) triples: the same whether a
/// statement lists its resources at once or is cut into several.
fn statements_of(documents: &[serde_json::Value]) -> std::collections::BTreeSet<String> {
    let mut out = std::collections::BTreeSet::new();
    for statement in documents.iter().flat_map(|d| d["Statement"].as_array().cloned().unwrap_or_default()) {
        for resource in strings(&statement["Resource"]) {
            out.insert(format!(
                "{} {} {} {resource}",
                statement["Effect"], statement["Action"], statement["Condition"]
            ));
        }
    }
    out
}

/// IAM's wildcard match (`*`, `?`), case-insensitive: written out here so the
/// test does not judge drone with drone's own matcher.
fn matches(pattern: &str, text: &str) -> bool {
    fn go(p: &[u8], t: &[u8]) -> bool {
        match (p.first(), t.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&p[1..], t) || (!t.is_empty() && go(p, &t[1..])),
            (Some(b'?'), Some(_)) => go(&p[1..], &t[1..]),
            (Some(a), Some(b)) if a.eq_ignore_ascii_case(b) => go(&p[1..], &t[1..]),
            _ => false,
        }
    }
    go(pattern.as_bytes(), text.as_bytes())
}

/// A policy element (`Action`, `Resource`) as a list.
pub fn strings(v: &serde_json::Value) -> Vec<String> {
    match v {
        serde_json::Value::String(s) => vec![s.clone()],
        serde_json::Value::Array(items) => items.iter().filter_map(|i| i.as_str().map(String::from)).collect(),
        _ => Vec::new(),
    }
}

/// The ARN AWS evaluates for a call on a resource of `type_name` with `id`.
fn arn(type_name: &str, id: &str, region: &str) -> String {
    let ec2 = |kind: &str| format!("arn:aws:ec2:{region}:{ACCOUNT}:{kind}/{id}");
    match type_name {
        "aws.ec2.vpc" => ec2("vpc"),
        "aws.ec2.subnet" => ec2("subnet"),
        "aws.ec2.internet_gateway" => ec2("internet-gateway"),
        "aws.ec2.route_table" => ec2("route-table"),
        "aws.ec2.eip" => ec2("elastic-ip"),
        "aws.ec2.nat_gateway" => ec2("natgateway"),
        "aws.ec2.security_group" => ec2("security-group"),
        "aws.ec2.flow_log" => ec2("vpc-flow-log"),
        "aws.s3.bucket" => format!("arn:aws:s3:::{id}"),
        "aws.iam.role" => format!("arn:aws:iam::{ACCOUNT}:role/{id}"),
        // ECS resources are recorded by their ARN.
        "aws.ecs.cluster" | "aws.ecs.task_definition" | "aws.ecs.service" => id.to_string(),
        // So are load balancers, target groups and listeners.
        t if t.starts_with("aws.elbv2.") => id.to_string(),
        "aws.efs.file_system" => format!("arn:aws:elasticfilesystem:{region}:{ACCOUNT}:file-system/{id}"),
        // Mount target calls are authorized on their file system; the journal has only the target's id.
        "aws.efs.mount_target" => format!("arn:aws:elasticfilesystem:{region}:{ACCOUNT}:file-system/*"),
        // A replication is its source file system's id, asked in either side's region.
        "aws.efs.replication_configuration" => format!("arn:aws:elasticfilesystem:{region}:{ACCOUNT}:file-system/{id}"),
        "aws.ecr.repository" => format!("arn:aws:ecr:{region}:{ACCOUNT}:repository/{id}"),
        // A replication rule is the registry's, which IAM names by no ARN.
        "aws.ecr.replication_rule" => "*".to_string(),
        "aws.logs.log_group" => format!("arn:aws:logs:{region}:{ACCOUNT}:log-group:{id}"),
        "aws.cloudfront.distribution" => format!("arn:aws:cloudfront::{ACCOUNT}:distribution/{id}"),
        // The journal has the web ACL's id; its name is prod's (the only workflow checked here).
        "aws.wafv2.web_acl" => format!("arn:aws:wafv2:us-east-1:{ACCOUNT}:global/webacl/shuttle-prod-edge/{id}"),
        "aws.rds.db_subnet_group" => format!("arn:aws:rds:{region}:{ACCOUNT}:subgrp:{id}"),
        "aws.rds.cluster" => format!("arn:aws:rds:{region}:{ACCOUNT}:cluster:{id}"),
        "aws.rds.cluster_instance" => format!("arn:aws:rds:{region}:{ACCOUNT}:db:{id}"),
        // A global database's ARN has no region.
        "aws.rds.global_cluster" => format!("arn:aws:rds::{ACCOUNT}:global-cluster:{id}"),
        // Secrets and certificates are recorded by their ARN.
        "aws.secretsmanager.secret" | "aws.acm.certificate" => id.to_string(),
        "aws.route53.zone" => format!("arn:aws:route53:::hostedzone/{id}"),
        "aws.route53.health_check" => format!("arn:aws:route53:::healthcheck/{id}"),
        // A record's id begins with its zone's.
        "aws.route53.record" => format!("arn:aws:route53:::hostedzone/{}", id.split('_').next().unwrap_or_default()),
        // Topics are recorded by their ARN; a subscription's ARN is its topic's and an id.
        "aws.sns.topic" => id.to_string(),
        "aws.sns.subscription" => id.rsplit_once(':').map_or(id, |(topic, _)| topic).to_string(),
        // Alarms by their name, in the region the call went to (the edge's: us-east-1).
        "aws.cloudwatch.alarm" => format!("arn:aws:cloudwatch:{region}:{ACCOUNT}:alarm:{id}"),
        "aws.cloudwatch.dashboard" => format!("arn:aws:cloudwatch::{ACCOUNT}:dashboard/{id}"),
        "aws.codecommit.repository" => format!("arn:aws:codecommit:{region}:{ACCOUNT}:{id}"),
        "aws.codebuild.project" => format!("arn:aws:codebuild:{region}:{ACCOUNT}:project/{id}"),
        "aws.codepipeline.pipeline" => format!("arn:aws:codepipeline:{region}:{ACCOUNT}:{id}"),
        // A connection's id is its ARN.
        "aws.codeconnections.connection" => id.to_string(),
        // Scaling calls are authorized on the scalable target, whose ARN holds an id AWS assigns.
        t if t.starts_with("aws.applicationautoscaling.") => {
            format!("arn:aws:application-autoscaling:{region}:{ACCOUNT}:scalable-target/0123456789abcdef")
        }
        other => panic!("no ARN format for {other}"),
    }
}

/// The ARN AWS authorizes `action` against, for a call about resource `id`:
/// the resource itself, except where AWS checks its parent (a listener is
/// created on its load balancer).
fn authorized_arn(action: &str, type_name: &str, id: &str, region: &str) -> String {
    if action == "elasticloadbalancing:CreateListener" {
        // listener/app/NAME/LB-ID/LISTENER-ID -> loadbalancer/app/NAME/LB-ID
        if let Some((prefix, rest)) = id.split_once(":listener/") {
            let parent = rest.rsplit_once('/').map_or(rest, |(lb, _)| lb);
            return format!("{prefix}:loadbalancer/{parent}");
        }
    }
    if action == "elasticloadbalancing:CreateRule" {
        // listener-rule/app/NAME/LB-ID/LISTENER-ID/RULE-ID -> listener/app/NAME/LB-ID/LISTENER-ID
        if let Some((prefix, rest)) = id.split_once(":listener-rule/") {
            let listener = rest.rsplit_once('/').map_or(rest, |(l, _)| l);
            return format!("{prefix}:listener/{listener}");
        }
    }
    // A deployment is stopped by its own ARN, under its service's: service-deployment/CLUSTER/NAME/ID.
    if action == "ecs:StopServiceDeployment" {
        return format!("{}/0123456789abcdef", id.replace(":service/", ":service-deployment/"));
    }
    // Route 53 changes are polled by their own id, which the journal does not hold.
    if action == "route53:GetChange" {
        return "arn:aws:route53:::change/C0123456789ABCDEFGHIJ".into();
    }
    // A certificate's DNS validation writes into a zone the journal does not name.
    if action.starts_with("route53:") && type_name == "aws.acm.certificate" {
        return "arn:aws:route53:::hostedzone/Z0123456789ABCDEFGHIJ".into();
    }
    // A type that sends a secret's value (CloudFront's origin header, a listener rule's condition)
    // reads it from the secret, whose ARN the journal does not hold: the origin secret's.
    if action == "secretsmanager:GetSecretValue" && type_name != "aws.secretsmanager.secret" {
        return format!("arn:aws:secretsmanager:{region}:{ACCOUNT}:secret:shuttle-prod-origin-verify-AbCdEf");
    }
    // Object-level S3 actions (a hook emptying a bucket) are authorized on the bucket's objects.
    if type_name == "aws.s3.bucket" && catalogue().get(action).is_some_and(|a| a.resource_types.contains("object")) {
        return format!("arn:aws:s3:::{id}/an-object");
    }
    arn(type_name, id, region)
}

/// Checks every call in `journal` against `policy`: its action is allowed on
/// its resource's ARN (calls without a resource, on `*`).
pub fn assert_calls_allowed(journal: &Path, policy: &serde_json::Value) {
    let (checked, related) = calls_allowed(journal, policy);
    assert!(checked > 50, "the journal holds only {checked} calls");
    assert!(related > 10, "only {related} calls named another resource AWS authorizes them against");
}

/// [`assert_calls_allowed`]'s check, without the journal's expected size: the calls checked, and
/// the other resources they named that were checked too.
pub fn calls_allowed(journal: &Path, policy: &serde_json::Value) -> (usize, usize) {
    let text = std::fs::read_to_string(journal).expect("journal");
    let statements = policy["Statement"].as_array().expect("statements");
    let (mut checked, mut related) = (0, 0);
    for line in text.lines() {
        let call: serde_json::Value = serde_json::from_str(line).expect("journal line");
        let action = call["action"].as_str().expect("action");
        // Where the call went: a standby's resources are in another region than the primary's.
        let region = call["region"].as_str().unwrap_or(REGION);
        let target = match (call["type"].as_str(), call["id"].as_str()) {
            (Some(t), Some(id)) => authorized_arn(action, t, id, region),
            (None, _) => "*".to_string(),
            // A lookup by tags or name lists before it knows an id: the action must be allowed at all.
            (Some(_), None) if call["stage"] == "find" => {
                let somewhere = statements
                    .iter()
                    .any(|s| s["Effect"] == "Allow" && strings(&s["Action"]).iter().any(|a| matches(a, action)));
                assert!(somewhere, "the generated policy does not allow {action}");
                checked += 1;
                continue;
            }
            (Some(t), None) => panic!("a {t} call without a resource id: {call}"),
        };
        let allowed = |target: &str| {
            statements.iter().any(|s| {
                s["Effect"] == "Allow"
                    && strings(&s["Action"]).iter().any(|a| matches(a, action))
                    && strings(&s["Resource"]).iter().any(|r| matches(r, target))
            })
        };
        assert!(allowed(&target), "the generated policy does not allow {action} on {target}");
        checked += 1;
        // The other resources the request named, where AWS authorizes this action against them
        // (the catalogue lists their type for it): a subnet's VPC, a NAT gateway's subnet and address.
        let accepted = catalogue().get(action).map(|a| a.resource_types).unwrap_or_default();
        for reference in strings(&call["references"]) {
            let arn = reference_arn(&reference, region);
            if accepted.contains(arn_resource_type(&arn)) {
                assert!(allowed(&arn), "the generated policy does not allow {action} on {arn}, which the call named");
                related += 1;
            }
        }
    }
    (checked, related)
}

/// A reference from the journal as an ARN: EC2 ids become their ARNs.
fn reference_arn(reference: &str, region: &str) -> String {
    if reference.starts_with("arn:") {
        return reference.to_string();
    }
    let kinds = [
        ("vpc-", "vpc"),
        ("subnet-", "subnet"),
        ("igw-", "internet-gateway"),
        ("rtb-", "route-table"),
        ("sg-", "security-group"),
        ("nat-", "natgateway"),
        ("eipalloc-", "elastic-ip"),
    ];
    let kind = kinds.iter().find(|(prefix, _)| reference.starts_with(prefix)).map(|(_, kind)| *kind);
    let kind = kind.unwrap_or_else(|| panic!("an unknown EC2 id in the journal: {reference}"));
    format!("arn:aws:ec2:{region}:{ACCOUNT}:{kind}/{reference}")
}

/// The IAM resource type of an ARN, as the Service Authorization Reference
/// names it: `vpc` for `...:vpc/vpc-1`, `loadbalancer/app` for a load
/// balancer, `webacl` for `...:global/webacl/name/id`.
fn arn_resource_type(arn: &str) -> &str {
    let parts: Vec<&str> = arn.splitn(6, ':').collect();
    let (service, resource) = (parts.get(2).copied().unwrap_or_default(), parts.get(5).copied().unwrap_or_default());
    let segments: Vec<&str> = resource.split('/').collect();
    match service {
        "elasticloadbalancing" if matches!(segments[0], "loadbalancer" | "listener") && segments.len() > 1 => {
            let end = segments[0].len() + 1 + segments[1].len();
            &resource[..end]
        }
        "wafv2" => segments.get(1).copied().unwrap_or_default(),
        _ => resource.split(['/', ':']).next().unwrap_or_default(),
    }
}

#[test]
fn the_generated_policy_passes_the_built_in_iam_rules() {
    let policy = prod_policy();
    let star_actions: Vec<String> = policy["Statement"]
        .as_array()
        .expect("statements")
        .iter()
        .filter(|s| strings(&s["Resource"]) == ["*"])
        .flat_map(|s| strings(&s["Action"]))
        .collect();
    assert!(star_actions.contains(&"ec2:DescribeVpcs".to_string()), "{star_actions:?}");
    assert!(!star_actions.iter().any(|a| a.starts_with("iam:") || a.starts_with("s3:")), "{star_actions:?}");

    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("deployer.json"), policy.to_string()).expect("write");
    let workflow = dir.path().join("deployer.drone");
    std::fs::write(
        &workflow,
        r#"resource aws.iam.role deployer {
  name               = "shuttle-deployer"
  assume_role_policy = {
    Version   = "2012-10-17"
    Statement = [{ Effect = "Allow", Principal = { Service = "codebuild.amazonaws.com" }, Action = "sts:AssumeRole" }]
  }
  inline_policies    = { deploy = file("deployer.json") }
}
"#,
    )
    .expect("write");
    let out = run(drone(None).arg("check").arg(&workflow).args(["--format", "json"]));
    let report: serde_json::Value = serde_json::from_str(&text(&out).0).expect("report");
    assert_eq!(report["findings"], serde_json::json!([]), "{report:#}");
    assert_exit(&out, 0);
}

#[test]
fn iam_limits_to_a_phase_and_rejects_an_unknown_one() {
    let phase =
        |name: &str| run(drone(None).current_dir(root()).args(["iam", "workflows/prod.drone", "--phase", name]));
    let out = phase("bootstrap");
    assert_exit(&out, 0);
    let policy: serde_json::Value = serde_json::from_str(&text(&out).0).expect("json");
    let actions: Vec<String> =
        policy["Statement"].as_array().expect("statements").iter().flat_map(|s| strings(&s["Action"])).collect();
    assert!(!actions.iter().any(|a| a.starts_with("rds:")), "bootstrap creates no database: {actions:?}");
    let out = phase("nonesuch");
    assert_exit(&out, 2);
    assert!(text(&out).1.contains("no phase `nonesuch`"), "{}", text(&out).1);
}
