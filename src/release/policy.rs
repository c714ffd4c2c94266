//! `drone iam --release`: the least-privilege policy of the identity that
//! releases (`drone release`), on the workflow's own pipeline, repositories
//! and services, from the names the workflow gives them.

use drone_lang::Catalog;

use drone_engine::value::Value;

use crate::deployer::{configs_of, resource_names, Named};
use crate::error::CliError;
use crate::pipeline::Loaded;

/// What a release calls, by the resource type the call is scoped to:
/// (type, actions, ARN pattern with REGION, ACCOUNT and NAME).
const SCOPED: [(&str, &[&str], &str); 6] = [
    (
        "aws.codecommit.repository",
        &["codecommit:CreateCommit", "codecommit:GetBranch", "codecommit:GetCommit", "codecommit:GetFolder"],
        "arn:aws:codecommit:REGION:ACCOUNT:NAME",
    ),
    // A connection's ARN ends in an id AWS chooses when it is created.
    (
        "aws.codeconnections.connection",
        &["codeconnections:GetConnection"],
        "arn:aws:codeconnections:REGION:ACCOUNT:connection/*",
    ),
    (
        "aws.codepipeline.pipeline",
        &["codepipeline:GetPipelineExecution", "codepipeline:StartPipelineExecution"],
        "arn:aws:codepipeline:REGION:ACCOUNT:NAME",
    ),
    ("aws.ecr.repository", &["ecr:DescribeImages"], "arn:aws:ecr:REGION:ACCOUNT:repository/NAME"),
    // A service's ARN holds its cluster, which the policy cannot know before apply.
    (
        "aws.ecs.service",
        &["ecs:DescribeServices", "ecs:ListServiceDeployments"],
        "arn:aws:ecs:REGION:ACCOUNT:service/*/NAME",
    ),
    ("aws.ecs.service", &["ecs:StopServiceDeployment"], "arn:aws:ecs:REGION:ACCOUNT:service-deployment/*/NAME/*"),
];

/// Calls IAM cannot scope to a resource (Service Authorization Reference: no resource type).
const UNSCOPED: [&str; 2] = ["ecs:DescribeTaskDefinition", "elasticloadbalancing:DescribeRules"];

/// The release policy of `loaded`, for `account` (`*`: any).
pub(crate) fn release_policy(loaded: &Loaded, catalog: &Catalog, account: &str) -> Result<serde_json::Value, CliError> {
    // A pipeline deploys in its own region: what a release touches is there.
    let names = resource_names(loaded, catalog, None)?;
    let regions: Vec<&str> = names
        .iter()
        .filter(|(_, type_name, ..)| *type_name == "aws.codepipeline.pipeline")
        .map(|(_, _, _, region, _)| region.as_str())
        .collect();
    let names: Vec<&Named<'_>> =
        names.iter().filter(|(_, _, _, region, _)| regions.contains(&region.as_str())).collect();
    if regions.is_empty() {
        return Err(CliError::refused(
            "the workflow declares no `aws.codepipeline.pipeline`: nothing releases through it",
            Some("a workflow's `delivery` component declares the pipeline (stdlib/components/delivery.drone)"),
        ));
    }
    let mut statements: Vec<serde_json::Value> = SCOPED
        .iter()
        .filter_map(|(type_name, actions, pattern)| {
            let resources = arns(&names, type_name, pattern, account);
            (!resources.is_empty())
                .then(|| serde_json::json!({ "Effect": "Allow", "Action": actions, "Resource": resources }))
        })
        .collect();
    // The alarms that roll those services' deployments back, which a release watches.
    let mut alarms = Vec::new();
    for (region, config) in configs_of(loaded, catalog, "aws.ecs.service")? {
        let names = config.get("rollback_alarms").and_then(Value::as_list).unwrap_or_default();
        alarms.extend(
            names
                .iter()
                .filter(|_| regions.contains(&region.as_str()))
                .filter_map(Value::as_str)
                .map(|name| format!("arn:aws:cloudwatch:{region}:{account}:alarm:{name}")),
        );
    }
    alarms.sort();
    alarms.dedup();
    if !alarms.is_empty() {
        statements.push(
            serde_json::json!({ "Effect": "Allow", "Action": ["cloudwatch:DescribeAlarms"], "Resource": alarms }),
        );
    }
    statements.push(serde_json::json!({ "Effect": "Allow", "Action": UNSCOPED, "Resource": "*" }));
    if let Some(s3) = &loaded.model.state_s3 {
        statements.extend(crate::deployer::state_statements(s3));
    }
    Ok(serde_json::json!({ "Version": "2012-10-17", "Statement": statements }))
}

/// The ARNs of every named resource of `type_name`, sorted and without repeats.
fn arns(names: &[&Named<'_>], type_name: &str, pattern: &str, account: &str) -> Vec<String> {
    let mut arns: Vec<String> = names
        .iter()
        .filter(|(_, t, ..)| *t == type_name)
        .filter_map(|(_, _, name, region, _)| {
            let name = name.as_deref()?;
            Some(pattern.replace("REGION", region).replace("ACCOUNT", account).replace("NAME", name))
        })
        .collect();
    arns.sort();
    arns.dedup();
    arns
}
