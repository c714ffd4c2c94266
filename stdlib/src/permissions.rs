//! `drone iam`'s deployer policy, from what each registered type says it
//! calls (IAM actions per stage) and touches (ARN patterns); and the mapping
//! from SDK operations to IAM action names that the call journal uses, which
//! the tests hold against the policy.

use crate::registry;
use crate::types::Scope;

/// A stage of a resource's life, as the provider sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Stage {
    /// Refresh: read the resource back.
    Read,
    /// Create it.
    Create,
    /// Change it in place.
    Update,
    /// Delete it.
    Delete,
    /// Look a resource up by the identity drone gave it: an interrupted
    /// create's, a taken name's, and after a destroy, whatever is left.
    Find,
}

/// The IAM actions an SDK operation needs. Most are `service:Operation`;
/// S3's operation names differ from its action names.
pub fn actions_for_operation(service: &str, operation: &str) -> Vec<String> {
    let s3 = |a: &[&str]| a.iter().map(|a| format!("s3:{a}")).collect();
    if service.eq_ignore_ascii_case("s3") {
        return match operation {
            "HeadBucket" | "ListObjectsV2" | "ListObjects" => s3(&["ListBucket"]),
            "PutBucketEncryption" | "DeleteBucketEncryption" => s3(&["PutEncryptionConfiguration"]),
            "GetBucketEncryption" => s3(&["GetEncryptionConfiguration"]),
            "PutPublicAccessBlock" | "DeletePublicAccessBlock" => s3(&["PutBucketPublicAccessBlock"]),
            "GetPublicAccessBlock" => s3(&["GetBucketPublicAccessBlock"]),
            "DeleteBucketTagging" => s3(&["PutBucketTagging"]),
            "ListObjectVersions" => s3(&["ListBucketVersions"]),
            "PutBucketLifecycleConfiguration" | "DeleteBucketLifecycle" => s3(&["PutLifecycleConfiguration"]),
            "GetBucketLifecycleConfiguration" => s3(&["GetLifecycleConfiguration"]),
            "PutBucketReplication" | "DeleteBucketReplication" => s3(&["PutReplicationConfiguration"]),
            "GetBucketReplication" => s3(&["GetReplicationConfiguration"]),
            "DeleteObjects" => s3(&["DeleteObject", "DeleteObjectVersion"]),
            other => s3(&[other]),
        };
    }
    // The SDK names the service "Elastic Load Balancing v2"; IAM says `elasticloadbalancing`.
    if service.to_ascii_lowercase().replace(' ', "").starts_with("elasticloadbalancing") {
        return vec![format!("elasticloadbalancing:{operation}")];
    }
    // "Application Auto Scaling" in the SDK, `application-autoscaling` in IAM.
    if service.eq_ignore_ascii_case("application auto scaling") {
        return vec![format!("application-autoscaling:{operation}")];
    }
    if service.eq_ignore_ascii_case("efs") {
        return vec![format!("elasticfilesystem:{operation}")];
    }
    // "CloudWatch Logs" in the SDK, `logs` in IAM.
    if service.to_ascii_lowercase().ends_with("logs") {
        return vec![format!("logs:{operation}")];
    }
    // One request, two authorizations: the distribution and its tags.
    if service.eq_ignore_ascii_case("cloudfront") && operation == "CreateDistributionWithTags" {
        return vec!["cloudfront:CreateDistribution".into(), "cloudfront:TagResource".into()];
    }
    if service.eq_ignore_ascii_case("sts") && operation == "GetCallerIdentity" {
        // AWS allows it to every identity, even under an explicit Deny.
        return Vec::new();
    }
    // "Secrets Manager" in the SDK, `secretsmanager` in IAM.
    vec![format!("{}:{operation}", service.to_ascii_lowercase().replace(' ', ""))]
}

/// One resource the deployer manages, as `drone iam` sees it before apply.
pub struct Managed<'a> {
    /// Its type.
    pub type_name: &'a str,
    /// Its name (bucket, role, cluster name; RDS identifier), if known before apply.
    pub name: Option<&'a str>,
    /// Its region, or `*` when the provider block does not say.
    pub region: &'a str,
    /// Read by a `data` block: only looked up and read, never changed.
    pub read_only: bool,
}

/// Why no policy can be generated.
#[derive(Debug, thiserror::Error)]
pub enum PolicyError {
    /// A type the provider does not implement.
    #[error("`{0}` is not implemented by the AWS provider, so drone cannot say what it calls")]
    UnknownType(String),
}

/// The least-privilege IAM policy for the identity that plans, applies and
/// destroys `resources`: every action the provider calls for their types,
/// each scoped to the ARNs of the resource types it accepts, and `*` only for
/// actions that accept nothing else; and what the workflow's scripts' `grants`
/// call, each action on its grant's targets only (merged into the statements
/// with the same resources, so the policy stays within IAM's size limits).
/// `account` may be `*`.
pub fn deployer_policy(
    resources: &[Managed<'_>],
    grants: &[Granted<'_>],
    account: &str,
) -> Result<serde_json::Value, PolicyError> {
    use std::collections::{BTreeMap, BTreeSet};
    let catalogue = drone_engine::policy::iam::catalogue::catalogue();
    // Learning the account (sts:GetCallerIdentity) needs no permission: AWS allows it to every identity.
    let mut actions: BTreeSet<&'static str> = BTreeSet::new();
    let mut patterns: BTreeMap<(&str, &str), BTreeSet<String>> = BTreeMap::new();
    for r in resources {
        let t = registry::get(r.type_name).ok_or_else(|| PolicyError::UnknownType(r.type_name.to_string()))?;
        let read = |stage: &Stage| matches!(stage, Stage::Read | Stage::Find);
        actions.extend(t.actions.iter().filter(|(stage, _)| !r.read_only || read(stage)).map(|(_, a)| *a));
        let scope = Scope { name: r.name.unwrap_or("*"), region: r.region, account };
        for arn in (t.arns)(&scope) {
            patterns.entry((arn.service, arn.kind)).or_default().insert(arn.pattern);
        }
    }
    let own = actions.clone();
    let scripted = script_resources(grants, account);
    actions.extend(scripted.keys().copied());
    // Actions grouped by the exact resource list they need, one statement per group.
    let mut groups: BTreeMap<Vec<String>, BTreeSet<&str>> = BTreeMap::new();
    for action in actions {
        let service = action.split_once(':').map_or(action, |(s, _)| s);
        let resources: BTreeSet<String> = match catalogue.get(action) {
            Some(a) if a.resource_level() => {
                let named: BTreeSet<String> = a
                    .resource_types
                    .iter()
                    .filter_map(|kind| patterns.get(&(service, kind)))
                    .flatten()
                    .cloned()
                    .collect();
                if named.is_empty() {
                    patterns.iter().filter(|((s, _), _)| *s == service).flat_map(|(_, p)| p.iter().cloned()).collect()
                } else {
                    named
                }
            }
            _ => BTreeSet::from(["*".to_string()]),
        };
        // A type's own stages need this action here; a script's grant, on its targets.
        let resources = match (own.contains(action), scripted.get(action)) {
            (true, Some(granted)) => resources.union(granted).cloned().collect(),
            (false, Some(granted)) => granted.clone(),
            (_, None) => resources,
        };
        groups.entry(without_subsumed(resources)).or_default().insert(action);
    }
    let mut statements: Vec<serde_json::Value> = groups
        .into_iter()
        .map(|(resources, actions)| {
            let actions: Vec<&str> = actions.into_iter().collect();
            // `*` only for actions that accept no resource ARN at all; there is one such
            // group, named. The others need no Sid: their actions name their service, and
            // a numbered Sid in each costs a policy that is near IAM's size limits 700 characters.
            if resources == ["*"] {
                serde_json::json!({
                    "Sid": "NoResourceArns",
                    "Effect": "Allow",
                    "Action": actions,
                    "Resource": resources,
                })
            } else {
                serde_json::json!({ "Effect": "Allow", "Action": actions, "Resource": resources })
            }
        })
        .collect();
    statements.extend(pass_role(resources, account));
    Ok(serde_json::json!({ "Version": "2012-10-17", "Statement": statements }))
}

/// `patterns` without those another of them already covers (`cluster:*` covers
/// `cluster:shuttle-prod-ghost`): the same permission, in fewer characters.
fn without_subsumed(patterns: std::collections::BTreeSet<String>) -> Vec<String> {
    patterns.iter().filter(|p| !patterns.iter().any(|q| q != *p && covers(q, p))).cloned().collect()
}

/// Whether every ARN the pattern `narrow` matches, `wide` matches too: `wide`'s
/// `*` stands for any text (of `narrow`'s, wildcards included), its `?` for one
/// character that is not a `*`.
fn covers(wide: &str, narrow: &str) -> bool {
    fn go(w: &[u8], n: &[u8]) -> bool {
        match (w.first(), n.first()) {
            (None, None) => true,
            (Some(b'*'), _) => go(&w[1..], n) || (!n.is_empty() && go(w, &n[1..])),
            (Some(b'?'), Some(c)) => *c != b'*' && go(&w[1..], &n[1..]),
            (Some(a), Some(b)) => a == b && go(&w[1..], &n[1..]),
            _ => false,
        }
    }
    go(wide.as_bytes(), narrow.as_bytes())
}

/// `iam:PassRole` on the workflow's own roles, only to the services its
/// types hand roles to; nothing when no type passes a role or the workflow
/// manages no role (a role made elsewhere must be granted by whoever made it).
fn pass_role(resources: &[Managed<'_>], account: &str) -> Option<serde_json::Value> {
    let mut services: Vec<&str> = resources
        .iter()
        .filter_map(|r| registry::get(r.type_name))
        .flat_map(|t| t.passes_roles_to.iter().copied())
        .collect();
    services.sort_unstable();
    services.dedup();
    let mut roles: Vec<String> = resources
        .iter()
        .filter(|r| r.type_name == "aws.iam.role")
        .map(|r| format!("arn:aws:iam::{account}:role/{}", r.name.unwrap_or("*")))
        .collect();
    roles.sort_unstable();
    roles.dedup();
    if services.is_empty() || roles.is_empty() {
        return None;
    }
    Some(serde_json::json!({
        "Sid": "DronePassRole",
        "Effect": "Allow",
        "Action": ["iam:PassRole"],
        "Resource": roles,
        "Condition": { "StringEquals": { "iam:PassedToService": services } },
    }))
}

/// A grant a script holds, with its targets as `drone iam` sees them.
pub struct Granted<'a> {
    /// The grant's kind, `s3.delete_objects`.
    pub kind: &'a str,
    /// The resources it is on.
    pub targets: Vec<Managed<'a>>,
}

/// Each action the scripts' grants call, with the ARNs of their targets that
/// the action accepts. Grants without AWS actions (`read`, `mysql`) add nothing.
fn script_resources(
    grants: &[Granted<'_>],
    account: &str,
) -> std::collections::BTreeMap<&'static str, std::collections::BTreeSet<String>> {
    let catalogue = drone_engine::policy::iam::catalogue::catalogue();
    let mut out: std::collections::BTreeMap<&'static str, std::collections::BTreeSet<String>> = Default::default();
    for grant in grants {
        let Some(def) = crate::grants::get(grant.kind) else { continue };
        // A grant whose targets are all elsewhere (another phase's resources) needs nothing here.
        if grant.targets.is_empty() && def.targets.0 > 0 {
            continue;
        }
        let patterns: Vec<crate::types::ArnPattern> = grant
            .targets
            .iter()
            .filter_map(|t| {
                let scope = Scope { name: t.name.unwrap_or("*"), region: t.region, account };
                registry::get(t.type_name).map(|ty| (ty.arns)(&scope))
            })
            .flatten()
            .collect();
        for action in def.actions {
            let accepted = catalogue.get(action).map(|a| a.resource_types.to_vec()).unwrap_or_default();
            let resources = out.entry(*action).or_default();
            if accepted.is_empty() {
                resources.insert("*".to_string());
            }
            resources.extend(patterns.iter().filter(|p| accepted.contains(&p.kind)).map(|p| p.pattern.clone()));
        }
    }
    out
}

/// A policy giving exactly `grants`' actions on their targets, one statement
/// per set of resources (the role a one-off task runs as); `None` when the
/// grants call no AWS action.
pub fn grants_policy(grants: &[Granted<'_>], account: &str) -> Option<serde_json::Value> {
    use std::collections::{BTreeMap, BTreeSet};
    let mut groups: BTreeMap<Vec<String>, BTreeSet<&str>> = BTreeMap::new();
    for (action, resources) in script_resources(grants, account) {
        groups.entry(without_subsumed(resources)).or_default().insert(action);
    }
    let statements: Vec<serde_json::Value> = groups
        .into_iter()
        .map(|(resources, actions)| {
            serde_json::json!({ "Effect": "Allow", "Action": actions.into_iter().collect::<Vec<_>>(), "Resource": resources })
        })
        .collect();
    (!statements.is_empty()).then(|| serde_json::json!({ "Version": "2012-10-17", "Statement": statements }))
}

#[cfg(test)]
mod tests {
    use super::{covers, without_subsumed};

    #[test]
    fn a_pattern_covers_what_its_wildcards_match_and_no_more() {
        assert!(covers("arn:aws:rds:*:1:cluster:*", "arn:aws:rds:eu-west-1:1:cluster:shuttle-prod"));
        assert!(covers("arn:aws:rds:*:1:cluster:*", "arn:aws:rds:*:1:cluster:shuttle-*"));
        assert!(
            !covers("arn:aws:rds:eu-west-1:1:cluster:*", "arn:aws:rds:*:1:cluster:x"),
            "a region is not any region"
        );
        assert!(covers("arn:aws:secretsmanager:r:1:secret:db-??????", "arn:aws:secretsmanager:r:1:secret:db-abcdef"));
        assert!(!covers("arn:aws:s3:::b?", "arn:aws:s3:::b*"), "one character is not any text");
        assert!(!covers("arn:aws:s3:::bucket", "arn:aws:s3:::bucket/*"));
    }

    #[test]
    fn covered_patterns_are_left_out_and_the_rest_kept_in_order() {
        let kept = without_subsumed(
            ["arn:aws:rds::1:global-cluster:*", "arn:aws:rds::1:global-cluster:shuttle-prod", "arn:aws:s3:::b"]
                .map(String::from)
                .into(),
        );
        assert_eq!(kept, ["arn:aws:rds::1:global-cluster:*", "arn:aws:s3:::b"]);
    }
}
