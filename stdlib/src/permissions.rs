//! What the AWS provider calls, as IAM actions: per resource type and stage
//! (read, create, update, delete), and the resource ARNs each type's calls
//! touch. `drone iam` builds the deployer's least-privilege policy from this;
//! the call journal maps SDK operations to the same action names, and the
//! tests check the two agree.

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
}

/// The actions one resource type needs.
pub struct TypePermissions {
    /// The drone type, e.g. `aws.ec2.vpc`.
    pub type_name: &'static str,
    /// (stage, IAM action) pairs.
    pub actions: &'static [(Stage, &'static str)],
}

use Stage::{Create, Delete, Read, Update};

const EC2_TAGS: [(Stage, &str); 3] =
    [(Create, "ec2:CreateTags"), (Update, "ec2:CreateTags"), (Update, "ec2:DeleteTags")];

/// Every type the provider implements.
pub const TYPES: &[TypePermissions] = &[
    TypePermissions {
        type_name: "aws.ec2.vpc",
        actions: &[
            (Create, "ec2:CreateVpc"),
            (Create, "ec2:ModifyVpcAttribute"),
            (Read, "ec2:DescribeVpcs"),
            (Read, "ec2:DescribeVpcAttribute"),
            (Update, "ec2:ModifyVpcAttribute"),
            (Delete, "ec2:DeleteVpc"),
            EC2_TAGS[0],
            EC2_TAGS[1],
            EC2_TAGS[2],
        ],
    },
    TypePermissions {
        type_name: "aws.ec2.subnet",
        actions: &[
            (Create, "ec2:CreateSubnet"),
            (Create, "ec2:ModifySubnetAttribute"),
            (Read, "ec2:DescribeSubnets"),
            (Update, "ec2:ModifySubnetAttribute"),
            (Delete, "ec2:DeleteSubnet"),
            EC2_TAGS[0],
            EC2_TAGS[1],
            EC2_TAGS[2],
        ],
    },
    TypePermissions {
        type_name: "aws.ec2.internet_gateway",
        actions: &[
            (Create, "ec2:CreateInternetGateway"),
            (Create, "ec2:AttachInternetGateway"),
            (Read, "ec2:DescribeInternetGateways"),
            (Update, "ec2:AttachInternetGateway"),
            (Update, "ec2:DetachInternetGateway"),
            (Delete, "ec2:DetachInternetGateway"),
            (Delete, "ec2:DeleteInternetGateway"),
            EC2_TAGS[0],
            EC2_TAGS[1],
            EC2_TAGS[2],
        ],
    },
    TypePermissions {
        type_name: "aws.ec2.eip",
        actions: &[
            (Create, "ec2:AllocateAddress"),
            (Read, "ec2:DescribeAddresses"),
            (Delete, "ec2:ReleaseAddress"),
            EC2_TAGS[0],
            EC2_TAGS[1],
            EC2_TAGS[2],
        ],
    },
    TypePermissions {
        type_name: "aws.ec2.nat_gateway",
        actions: &[
            (Create, "ec2:CreateNatGateway"),
            (Create, "ec2:DescribeNatGateways"),
            (Read, "ec2:DescribeNatGateways"),
            (Delete, "ec2:DeleteNatGateway"),
            (Delete, "ec2:DescribeNatGateways"),
            EC2_TAGS[0],
            EC2_TAGS[1],
            EC2_TAGS[2],
        ],
    },
    TypePermissions {
        type_name: "aws.ec2.route_table",
        actions: &[
            (Create, "ec2:CreateRouteTable"),
            (Create, "ec2:CreateRoute"),
            (Create, "ec2:AssociateRouteTable"),
            (Read, "ec2:DescribeRouteTables"),
            (Update, "ec2:CreateRoute"),
            (Update, "ec2:DeleteRoute"),
            (Update, "ec2:AssociateRouteTable"),
            (Update, "ec2:DisassociateRouteTable"),
            (Delete, "ec2:DisassociateRouteTable"),
            (Delete, "ec2:DeleteRouteTable"),
            EC2_TAGS[0],
            EC2_TAGS[1],
            EC2_TAGS[2],
        ],
    },
    TypePermissions {
        type_name: "aws.ec2.security_group",
        actions: &[
            (Create, "ec2:CreateSecurityGroup"),
            (Create, "ec2:RevokeSecurityGroupEgress"),
            (Create, "ec2:AuthorizeSecurityGroupIngress"),
            (Create, "ec2:AuthorizeSecurityGroupEgress"),
            (Read, "ec2:DescribeSecurityGroups"),
            (Update, "ec2:AuthorizeSecurityGroupIngress"),
            (Update, "ec2:AuthorizeSecurityGroupEgress"),
            (Update, "ec2:RevokeSecurityGroupIngress"),
            (Update, "ec2:RevokeSecurityGroupEgress"),
            (Delete, "ec2:DeleteSecurityGroup"),
            EC2_TAGS[0],
            EC2_TAGS[1],
            EC2_TAGS[2],
        ],
    },
    TypePermissions {
        type_name: "aws.cloudfront.distribution",
        actions: &[
            (Create, "cloudfront:CreateDistribution"),
            (Create, "cloudfront:TagResource"),
            // Waiting for the deployment.
            (Create, "cloudfront:GetDistribution"),
            (Read, "cloudfront:GetDistribution"),
            (Read, "cloudfront:ListTagsForResource"),
            (Update, "cloudfront:TagResource"),
            (Update, "cloudfront:UntagResource"),
            (Update, "cloudfront:GetDistributionConfig"),
            (Update, "cloudfront:UpdateDistribution"),
            (Update, "cloudfront:GetDistribution"),
            // Disable, wait, delete.
            (Delete, "cloudfront:GetDistributionConfig"),
            (Delete, "cloudfront:UpdateDistribution"),
            (Delete, "cloudfront:GetDistribution"),
            (Delete, "cloudfront:DeleteDistribution"),
        ],
    },
    TypePermissions {
        type_name: "aws.wafv2.web_acl",
        actions: &[
            (Create, "wafv2:CreateWebACL"),
            (Read, "wafv2:GetWebACL"),
            (Read, "wafv2:ListTagsForResource"),
            (Update, "wafv2:TagResource"),
            (Update, "wafv2:UntagResource"),
            // The lock token of the version being replaced.
            (Update, "wafv2:GetWebACL"),
            (Update, "wafv2:UpdateWebACL"),
            (Delete, "wafv2:GetWebACL"),
            (Delete, "wafv2:DeleteWebACL"),
        ],
    },
    TypePermissions {
        type_name: "aws.s3.bucket",
        actions: &[
            (Create, "s3:CreateBucket"),
            (Create, "s3:PutBucketTagging"),
            (Create, "s3:PutBucketVersioning"),
            (Create, "s3:PutEncryptionConfiguration"),
            (Create, "s3:PutBucketPublicAccessBlock"),
            (Create, "s3:PutBucketPolicy"),
            (Read, "s3:ListBucket"),
            (Read, "s3:GetBucketVersioning"),
            (Read, "s3:GetEncryptionConfiguration"),
            (Read, "s3:GetBucketPublicAccessBlock"),
            (Read, "s3:GetBucketPolicy"),
            (Read, "s3:GetBucketTagging"),
            (Update, "s3:PutBucketTagging"),
            (Update, "s3:PutBucketVersioning"),
            (Update, "s3:PutEncryptionConfiguration"),
            (Update, "s3:PutBucketPublicAccessBlock"),
            (Update, "s3:PutBucketPolicy"),
            (Update, "s3:DeleteBucketPolicy"),
            (Delete, "s3:DeleteBucket"),
            // Emptying a bucket with `force_destroy`.
            (Delete, "s3:ListBucketVersions"),
            (Delete, "s3:DeleteObject"),
            (Delete, "s3:DeleteObjectVersion"),
        ],
    },
    TypePermissions {
        type_name: "aws.iam.role",
        actions: &[
            (Create, "iam:CreateRole"),
            (Create, "iam:TagRole"),
            (Create, "iam:PutRolePolicy"),
            (Create, "iam:AttachRolePolicy"),
            (Read, "iam:GetRole"),
            (Read, "iam:ListRolePolicies"),
            (Read, "iam:GetRolePolicy"),
            (Read, "iam:ListAttachedRolePolicies"),
            (Update, "iam:UpdateAssumeRolePolicy"),
            (Update, "iam:UpdateRole"),
            (Update, "iam:PutRolePolicy"),
            (Update, "iam:DeleteRolePolicy"),
            (Update, "iam:AttachRolePolicy"),
            (Update, "iam:DetachRolePolicy"),
            (Update, "iam:TagRole"),
            (Update, "iam:UntagRole"),
            (Delete, "iam:ListRolePolicies"),
            (Delete, "iam:DeleteRolePolicy"),
            (Delete, "iam:ListAttachedRolePolicies"),
            (Delete, "iam:DetachRolePolicy"),
            (Delete, "iam:DeleteRole"),
        ],
    },
    TypePermissions {
        type_name: "aws.ecs.cluster",
        actions: &[
            (Create, "ecs:CreateCluster"),
            (Create, "ecs:TagResource"),
            (Read, "ecs:DescribeClusters"),
            (Update, "ecs:UpdateCluster"),
            (Update, "ecs:TagResource"),
            (Update, "ecs:UntagResource"),
            (Delete, "ecs:DeleteCluster"),
        ],
    },
    TypePermissions {
        type_name: "aws.ecs.task_definition",
        actions: &[
            (Create, "ecs:RegisterTaskDefinition"),
            (Create, "ecs:TagResource"),
            (Read, "ecs:DescribeTaskDefinition"),
            (Update, "ecs:TagResource"),
            (Update, "ecs:UntagResource"),
            (Delete, "ecs:DeregisterTaskDefinition"),
        ],
    },
    TypePermissions {
        type_name: "aws.ecs.service",
        actions: &[
            (Create, "ecs:CreateService"),
            (Create, "ecs:TagResource"),
            (Read, "ecs:DescribeServices"),
            (Update, "ecs:UpdateService"),
            (Update, "ecs:TagResource"),
            (Update, "ecs:UntagResource"),
            (Delete, "ecs:DeleteService"),
        ],
    },
    TypePermissions {
        type_name: "aws.elbv2.load_balancer",
        actions: &[
            (Create, "elasticloadbalancing:CreateLoadBalancer"),
            (Create, "elasticloadbalancing:AddTags"),
            // Waiting for it to become active.
            (Create, "elasticloadbalancing:DescribeLoadBalancers"),
            (Read, "elasticloadbalancing:DescribeLoadBalancers"),
            (Read, "elasticloadbalancing:DescribeTags"),
            (Update, "elasticloadbalancing:SetSecurityGroups"),
            (Update, "elasticloadbalancing:SetSubnets"),
            (Update, "elasticloadbalancing:AddTags"),
            (Update, "elasticloadbalancing:RemoveTags"),
            (Delete, "elasticloadbalancing:DeleteLoadBalancer"),
        ],
    },
    TypePermissions {
        type_name: "aws.elbv2.target_group",
        actions: &[
            (Create, "elasticloadbalancing:CreateTargetGroup"),
            (Create, "elasticloadbalancing:AddTags"),
            (Read, "elasticloadbalancing:DescribeTargetGroups"),
            (Read, "elasticloadbalancing:DescribeTags"),
            (Update, "elasticloadbalancing:ModifyTargetGroup"),
            (Update, "elasticloadbalancing:AddTags"),
            (Update, "elasticloadbalancing:RemoveTags"),
            (Delete, "elasticloadbalancing:DeleteTargetGroup"),
        ],
    },
    TypePermissions {
        type_name: "aws.elbv2.listener",
        actions: &[
            (Create, "elasticloadbalancing:CreateListener"),
            (Create, "elasticloadbalancing:AddTags"),
            (Read, "elasticloadbalancing:DescribeListeners"),
            (Read, "elasticloadbalancing:DescribeTags"),
            (Update, "elasticloadbalancing:ModifyListener"),
            (Update, "elasticloadbalancing:AddTags"),
            (Update, "elasticloadbalancing:RemoveTags"),
            (Delete, "elasticloadbalancing:DeleteListener"),
        ],
    },
    TypePermissions {
        type_name: "aws.ecr.repository",
        actions: &[
            (Create, "ecr:CreateRepository"),
            (Create, "ecr:TagResource"),
            (Read, "ecr:DescribeRepositories"),
            (Read, "ecr:ListTagsForResource"),
            (Update, "ecr:PutImageScanningConfiguration"),
            (Update, "ecr:PutImageTagMutability"),
            (Update, "ecr:TagResource"),
            (Update, "ecr:UntagResource"),
            (Delete, "ecr:DeleteRepository"),
        ],
    },
    TypePermissions {
        type_name: "aws.logs.log_group",
        actions: &[
            (Create, "logs:CreateLogGroup"),
            (Create, "logs:TagResource"),
            (Create, "logs:PutRetentionPolicy"),
            (Read, "logs:DescribeLogGroups"),
            (Read, "logs:ListTagsForResource"),
            (Update, "logs:PutRetentionPolicy"),
            (Update, "logs:DeleteRetentionPolicy"),
            (Update, "logs:TagResource"),
            (Update, "logs:UntagResource"),
            (Delete, "logs:DeleteLogGroup"),
        ],
    },
    TypePermissions {
        type_name: "aws.efs.file_system",
        actions: &[
            (Create, "elasticfilesystem:CreateFileSystem"),
            (Create, "elasticfilesystem:TagResource"),
            // Waiting for it to become available.
            (Create, "elasticfilesystem:DescribeFileSystems"),
            (Read, "elasticfilesystem:DescribeFileSystems"),
            (Update, "elasticfilesystem:TagResource"),
            (Update, "elasticfilesystem:UntagResource"),
            (Delete, "elasticfilesystem:DeleteFileSystem"),
        ],
    },
    TypePermissions {
        type_name: "aws.efs.mount_target",
        actions: &[
            (Create, "elasticfilesystem:CreateMountTarget"),
            // EFS makes the endpoint's network interface as the caller.
            (Create, "ec2:CreateNetworkInterface"),
            (Create, "ec2:DescribeNetworkInterfaces"),
            (Create, "ec2:DescribeSubnets"),
            // Waiting for it to become available, and to be gone.
            (Create, "elasticfilesystem:DescribeMountTargets"),
            (Read, "elasticfilesystem:DescribeMountTargets"),
            (Read, "elasticfilesystem:DescribeMountTargetSecurityGroups"),
            (Update, "elasticfilesystem:ModifyMountTargetSecurityGroups"),
            (Delete, "elasticfilesystem:DeleteMountTarget"),
            (Delete, "elasticfilesystem:DescribeMountTargets"),
        ],
    },
    TypePermissions {
        type_name: "aws.rds.db_subnet_group",
        actions: &[
            (Create, "rds:CreateDBSubnetGroup"),
            (Create, "rds:AddTagsToResource"),
            (Read, "rds:DescribeDBSubnetGroups"),
            (Read, "rds:ListTagsForResource"),
            (Update, "rds:ModifyDBSubnetGroup"),
            (Update, "rds:AddTagsToResource"),
            (Update, "rds:RemoveTagsFromResource"),
            (Delete, "rds:DeleteDBSubnetGroup"),
        ],
    },
    TypePermissions {
        type_name: "aws.rds.cluster",
        actions: &[
            (Create, "rds:CreateDBCluster"),
            (Create, "rds:AddTagsToResource"),
            // Waiting for the cluster to become available.
            (Create, "rds:DescribeDBClusters"),
            (Read, "rds:DescribeDBClusters"),
            (Update, "rds:ModifyDBCluster"),
            (Update, "rds:AddTagsToResource"),
            (Update, "rds:RemoveTagsFromResource"),
            (Delete, "rds:DeleteDBCluster"),
            (Delete, "rds:DescribeDBClusters"),
        ],
    },
];

/// Types whose create hands an IAM role to a service (which then acts as
/// it), so the deployer needs `iam:PassRole` on those roles, for that service.
pub const PASSES_ROLES: &[(&str, &str)] = &[("aws.ecs.task_definition", "ecs-tasks.amazonaws.com")];

/// The permissions of `type_name`, if the provider implements it.
pub fn for_type(type_name: &str) -> Option<&'static TypePermissions> {
    TYPES.iter().find(|t| t.type_name == type_name)
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
            "DeleteObjects" => s3(&["DeleteObject", "DeleteObjectVersion"]),
            other => s3(&[other]),
        };
    }
    // The SDK names the service "Elastic Load Balancing v2"; IAM says `elasticloadbalancing`.
    if service.to_ascii_lowercase().replace(' ', "").starts_with("elasticloadbalancing") {
        return vec![format!("elasticloadbalancing:{operation}")];
    }
    if service.eq_ignore_ascii_case("efs") {
        return vec![format!("elasticfilesystem:{operation}")];
    }
    // "CloudWatch Logs" in the SDK, `logs` in IAM.
    if service.to_ascii_lowercase().ends_with("logs") {
        return vec![format!("logs:{operation}")];
    }
    if service.eq_ignore_ascii_case("sts") && operation == "GetCallerIdentity" {
        // AWS allows it to every identity, even under an explicit Deny.
        return Vec::new();
    }
    vec![format!("{}:{operation}", service.to_ascii_lowercase())]
}

#[cfg(test)]
mod tests {
    #[test]
    fn every_action_is_in_the_iam_catalogue() {
        let catalogue = drone_engine::policy::iam::catalogue::catalogue();
        for t in super::TYPES {
            for (_, action) in t.actions {
                assert!(catalogue.get(action).is_some(), "{}: {action}", t.type_name);
            }
        }
    }
}

/// One resource the deployer manages, as `drone iam` sees it before apply.
pub struct Managed<'a> {
    /// Its type.
    pub type_name: &'a str,
    /// Its name (bucket, role, cluster name; RDS identifier), if known before apply.
    pub name: Option<&'a str>,
    /// Its region, or `*` when the provider block does not say.
    pub region: &'a str,
}

/// The ARN patterns a resource's calls touch, keyed by the IAM catalogue's
/// (service, resource type). EC2 ids exist only after create, so EC2
/// patterns end in `/*`, bounded by region and account.
fn arns(r: &Managed<'_>, account: &str) -> Vec<(&'static str, &'static str, String)> {
    let name = r.name.unwrap_or("*");
    let region = r.region;
    let ec2 = |kind: &'static str| ("ec2", kind, format!("arn:aws:ec2:{region}:{account}:{kind}/*"));
    match r.type_name {
        "aws.ec2.vpc" => vec![ec2("vpc")],
        "aws.ec2.subnet" => vec![ec2("subnet")],
        "aws.ec2.internet_gateway" => vec![ec2("internet-gateway")],
        "aws.ec2.route_table" => vec![ec2("route-table")],
        "aws.ec2.eip" => vec![ec2("elastic-ip")],
        // A gateway is created in a subnet, from an address.
        "aws.ec2.nat_gateway" => vec![ec2("natgateway")],
        "aws.ec2.security_group" => vec![ec2("security-group"), ec2("security-group-rule")],
        "aws.s3.bucket" => {
            vec![("s3", "bucket", format!("arn:aws:s3:::{name}")), ("s3", "object", format!("arn:aws:s3:::{name}/*"))]
        }
        "aws.iam.role" => vec![("iam", "role", format!("arn:aws:iam::{account}:role/{name}"))],
        "aws.ecs.cluster" => vec![("ecs", "cluster", format!("arn:aws:ecs:{region}:{account}:cluster/{name}"))],
        // Every revision of the family.
        "aws.ecs.task_definition" => {
            vec![("ecs", "task-definition", format!("arn:aws:ecs:{region}:{account}:task-definition/{name}:*"))]
        }
        // The cluster's name is not the service's; `*` stands for it.
        "aws.ecs.service" => vec![("ecs", "service", format!("arn:aws:ecs:{region}:{account}:service/*/{name}"))],
        "aws.elbv2.load_balancer" => {
            let arn = format!("arn:aws:elasticloadbalancing:{region}:{account}:loadbalancer/app/{name}/*");
            vec![("elasticloadbalancing", "loadbalancer/app", arn)]
        }
        "aws.elbv2.target_group" => {
            let arn = format!("arn:aws:elasticloadbalancing:{region}:{account}:targetgroup/{name}/*");
            vec![("elasticloadbalancing", "targetgroup", arn)]
        }
        // A listener's ARN holds its load balancer's name and two ids, none of them its own name.
        "aws.elbv2.listener" => {
            let arn = format!("arn:aws:elasticloadbalancing:{region}:{account}:listener/app/*");
            vec![("elasticloadbalancing", "listener/app", arn)]
        }
        "aws.ecr.repository" => {
            vec![("ecr", "repository", format!("arn:aws:ecr:{region}:{account}:repository/{name}"))]
        }
        "aws.logs.log_group" => {
            vec![("logs", "log-group", format!("arn:aws:logs:{region}:{account}:log-group:{name}"))]
        }
        // File system ids exist only after create.
        "aws.efs.file_system" => {
            vec![(
                "elasticfilesystem",
                "file-system",
                format!("arn:aws:elasticfilesystem:{region}:{account}:file-system/*"),
            )]
        }
        // A mount target is an interface in the subnet, which EFS creates as the caller.
        "aws.efs.mount_target" => vec![
            ("elasticfilesystem", "file-system", format!("arn:aws:elasticfilesystem:{region}:{account}:file-system/*")),
            ec2("network-interface"),
        ],
        // Distribution ids exist only after create; CloudFront ARNs have no region.
        "aws.cloudfront.distribution" => {
            vec![("cloudfront", "distribution", format!("arn:aws:cloudfront::{account}:distribution/*"))]
        }
        // The scope (global or regional) and id are in the ARN; the rule groups are AWS's, in no account of ours.
        "aws.wafv2.web_acl" => vec![
            ("wafv2", "webacl", format!("arn:aws:wafv2:{region}:{account}:*/webacl/{name}/*")),
            ("wafv2", "managedruleset", format!("arn:aws:wafv2:{region}:*:*/managedruleset/*")),
        ],
        "aws.rds.db_subnet_group" => vec![("rds", "subgrp", format!("arn:aws:rds:{region}:{account}:subgrp:{name}"))],
        "aws.rds.cluster" => vec![("rds", "cluster", format!("arn:aws:rds:{region}:{account}:cluster:{name}"))],
        _ => Vec::new(),
    }
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
/// actions that accept nothing else. `account` may be `*`.
pub fn deployer_policy(resources: &[Managed<'_>], account: &str) -> Result<serde_json::Value, PolicyError> {
    use std::collections::{BTreeMap, BTreeSet};
    let catalogue = drone_engine::policy::iam::catalogue::catalogue();
    // Learning the account (sts:GetCallerIdentity) needs no permission: AWS allows it to every identity.
    let mut actions: BTreeSet<&'static str> = BTreeSet::new();
    let mut patterns: BTreeMap<(&str, &str), BTreeSet<String>> = BTreeMap::new();
    for r in resources {
        let permissions = for_type(r.type_name).ok_or_else(|| PolicyError::UnknownType(r.type_name.to_string()))?;
        actions.extend(permissions.actions.iter().map(|(_, a)| *a));
        for (service, kind, arn) in arns(r, account) {
            patterns.entry((service, kind)).or_default().insert(arn);
        }
    }
    // Actions grouped by the exact resource list they need, one statement per group.
    let mut groups: BTreeMap<Vec<String>, BTreeSet<&str>> = BTreeMap::new();
    for action in actions {
        let service = action.split_once(':').map_or(action, |(s, _)| s);
        let resources: BTreeSet<String> = match catalogue.get(action) {
            Some(a) if a.resource_level() => {
                let named: BTreeSet<String> = a
                    .resource_types
                    .iter()
                    .filter_map(|kind| patterns.get(&(service, *kind)))
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
        groups.entry(resources.into_iter().collect()).or_default().insert(action);
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
                    "Sid": "DroneActionsWithoutResourceArns",
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

/// `iam:PassRole` on the workflow's own roles, only to the services its
/// types hand roles to; nothing when no type passes a role or the workflow
/// manages no role (a role made elsewhere must be granted by whoever made it).
fn pass_role(resources: &[Managed<'_>], account: &str) -> Option<serde_json::Value> {
    let mut services: Vec<&str> = resources
        .iter()
        .filter_map(|r| PASSES_ROLES.iter().find(|(t, _)| *t == r.type_name).map(|(_, service)| *service))
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
