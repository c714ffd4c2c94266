//! The kinds of grant a script may hold: what each is written as, the
//! resources it applies to, its options, and the IAM actions its host
//! functions call (so `drone iam` gives scripts exactly these, on exactly their
//! targets). Pure data; the functions themselves are `drone-script`'s.

use std::collections::BTreeMap;

use drone_lang::schema::{Field, GrantSchema, Type};

/// One kind of grant.
pub struct GrantDef {
    /// How it is written: `s3.delete_objects`.
    pub name: &'static str,
    /// What it allows, in one line.
    pub doc: &'static str,
    /// The resource types its targets may have (empty: any).
    pub target_types: &'static [&'static str],
    /// Fewest and most targets.
    pub targets: (usize, Option<usize>),
    /// Named options: (name, type, required, doc).
    pub options: &'static [(&'static str, OptionType, bool, &'static str)],
    /// The values an option may hold.
    pub choices: &'static [(&'static str, &'static [&'static str])],
    /// Options that may be a map from their items to another option's value.
    pub keyed: &'static [(&'static str, &'static str)],
    /// The IAM actions its host functions call, on the targets.
    pub actions: &'static [&'static str],
}

/// The type of a grant option.
#[derive(Clone, Copy)]
pub enum OptionType {
    /// `list(string)`
    Strings,
}

/// The statement kinds a `mysql` grant may allow.
pub const SQL_OPERATIONS: &[&str] = &["select", "insert", "update", "delete"];

/// Every kind of grant.
pub const GRANTS: &[GrantDef] = &[
    GrantDef {
        name: "read",
        doc: "read these resources' attributes from state (`resource(\"aws.s3.bucket.logs\")`)",
        target_types: &[],
        targets: (1, None),
        options: &[],
        choices: &[],
        keyed: &[],
        actions: &[],
    },
    GrantDef {
        name: "s3.list_objects",
        doc: "list the object versions of this bucket (`s3::list_objects`)",
        target_types: &["aws.s3.bucket"],
        targets: (1, Some(1)),
        options: &[],
        choices: &[],
        keyed: &[],
        actions: &["s3:ListBucket", "s3:ListBucketVersions"],
    },
    GrantDef {
        name: "s3.delete_objects",
        doc: "delete object versions and delete markers of this bucket (`s3::delete_objects`, `s3::empty_bucket`)",
        target_types: &["aws.s3.bucket"],
        targets: (1, Some(1)),
        options: &[],
        choices: &[],
        keyed: &[],
        actions: &["s3:ListBucket", "s3:ListBucketVersions", "s3:DeleteObject", "s3:DeleteObjectVersion"],
    },
    GrantDef {
        name: "ecr.batch_delete_image",
        doc: "delete every image of this repository (`ecr::empty_repository`)",
        target_types: &["aws.ecr.repository"],
        targets: (1, Some(1)),
        options: &[],
        choices: &[],
        keyed: &[],
        actions: &["ecr:ListImages", "ecr:BatchDeleteImage"],
    },
    GrantDef {
        name: "cloudfront.create_invalidation",
        doc: "invalidate paths of this distribution's cache (`cloudfront::invalidate`)",
        target_types: &["aws.cloudfront.distribution"],
        targets: (1, Some(1)),
        options: &[],
        choices: &[],
        keyed: &[],
        actions: &["cloudfront:CreateInvalidation"],
    },
    GrantDef {
        name: "rds.describe_global_cluster",
        doc: "read this global database's members and writer (`rds::global_cluster`)",
        target_types: &["aws.rds.global_cluster"],
        targets: (1, Some(1)),
        options: &[],
        choices: &[],
        keyed: &[],
        actions: &["rds:DescribeGlobalClusters"],
    },
    GrantDef {
        name: "rds.failover_global_cluster",
        doc: "move this global database's writer to another of its clusters (`rds::failover`, `rds::switchover`)",
        target_types: &["aws.rds.global_cluster"],
        targets: (1, Some(1)),
        options: &[],
        choices: &[],
        keyed: &[],
        actions: &["rds:FailoverGlobalCluster", "rds:SwitchoverGlobalCluster", "rds:DescribeGlobalClusters"],
    },
    GrantDef {
        name: "rds.remove_from_global_cluster",
        doc: "take a cluster out of this global database, to write on its own (`rds::detach`)",
        target_types: &["aws.rds.global_cluster"],
        targets: (1, Some(1)),
        options: &[],
        choices: &[],
        keyed: &[],
        actions: &["rds:RemoveFromGlobalCluster", "rds:DescribeGlobalClusters"],
    },
    GrantDef {
        name: "efs.describe_replication_configurations",
        doc: "read this file system replication's source, destination and status (`efs::replication`)",
        target_types: &["aws.efs.replication_configuration"],
        targets: (1, Some(1)),
        options: &[],
        choices: &[],
        keyed: &[],
        actions: &["elasticfilesystem:DescribeReplicationConfigurations"],
    },
    GrantDef {
        name: "efs.delete_replication_configuration",
        doc: "end this file system replication, making its destination writable (`efs::stop_replication`)",
        target_types: &["aws.efs.replication_configuration"],
        targets: (1, Some(1)),
        options: &[],
        choices: &[],
        keyed: &[],
        actions: &[
            "elasticfilesystem:DeleteReplicationConfiguration",
            "elasticfilesystem:DescribeReplicationConfigurations",
        ],
    },
    GrantDef {
        name: "ecs.update_service",
        doc: "set this ECS service's desired task count (`ecs::scale`)",
        target_types: &["aws.ecs.service"],
        targets: (1, Some(1)),
        options: &[],
        choices: &[],
        keyed: &[],
        actions: &["ecs:UpdateService", "ecs:DescribeServices"],
    },
    GrantDef {
        name: "applicationautoscaling.register_scalable_target",
        doc: "set this scalable target's least and most capacity (`autoscaling::set_capacity`)",
        target_types: &["aws.applicationautoscaling.scalable_target"],
        targets: (1, Some(1)),
        options: &[],
        choices: &[],
        keyed: &[],
        actions: &["application-autoscaling:RegisterScalableTarget", "application-autoscaling:DescribeScalableTargets"],
    },
    GrantDef {
        name: "cloudfront.update_distribution",
        doc: "send this distribution's write paths to its failover origin or back (`cloudfront::route_writes`)",
        target_types: &["aws.cloudfront.distribution"],
        targets: (1, Some(1)),
        options: &[],
        choices: &[],
        keyed: &[],
        actions: &["cloudfront:GetDistributionConfig", "cloudfront:UpdateDistribution"],
    },
    GrantDef {
        name: "http.get",
        doc: "HTTP GET to exactly these hosts, over HTTPS unless a host names its port on loopback (`http::get`)",
        target_types: &[],
        targets: (0, Some(0)),
        options: &[(
            "hosts",
            OptionType::Strings,
            true,
            "the host names (with `:port` when not the default) it may GET from",
        )],
        choices: &[],
        keyed: &[],
        actions: &[],
    },
    GrantDef {
        name: "mysql",
        doc: "run SQL on this database cluster: only on `tables`, only the operations in `ops`, or each table's own \
              (`tables = { posts = [\"select\", \"delete\"], users = [\"select\"] }`) (`mysql::connect`)",
        target_types: &["aws.rds.cluster"],
        targets: (1, Some(1)),
        options: &[
            (
                "tables",
                OptionType::Strings,
                true,
                "the tables statements may touch (or a map: each table's operations)",
            ),
            ("ops", OptionType::Strings, true, "the operations allowed on them: select, insert, update, delete"),
        ],
        choices: &[("ops", SQL_OPERATIONS)],
        keyed: &[("tables", "ops")],
        actions: &[],
    },
];

/// The grant kind written `name`.
pub fn get(name: &str) -> Option<&'static GrantDef> {
    GRANTS.iter().find(|g| g.name == name)
}

impl GrantDef {
    /// The checker's view of it.
    pub fn schema(&self) -> GrantSchema {
        GrantSchema {
            name: self.name.into(),
            doc: self.doc.into(),
            target_types: self.target_types.iter().map(|t| t.to_string()).collect(),
            targets: self.targets,
            options: self
                .options
                .iter()
                .map(|(name, ty, required, doc)| Field {
                    name: name.to_string(),
                    ty: match ty {
                        OptionType::Strings => Type::list(Type::String),
                    },
                    required: *required,
                    doc: doc.to_string(),
                })
                .collect(),
            choices: self
                .choices
                .iter()
                .map(|(option, values)| (option.to_string(), values.iter().map(|v| v.to_string()).collect()))
                .collect::<BTreeMap<_, _>>(),
            keyed: self.keyed.iter().map(|(option, by)| (option.to_string(), by.to_string())).collect(),
        }
    }
}
