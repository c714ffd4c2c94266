//! The resource types drone knows, one module per type. Each module holds
//! the type's whole description, built without any AWS SDK: its schema (with
//! attribute docs, which changes replace it, which values AWS computes), the
//! attribute that names it, the ARNs its calls touch, the IAM actions the
//! provider calls at each stage and the services it hands roles to; and,
//! behind its service's cargo feature, its create, read, update and delete.
//! [`crate::registry`] names every type once: the catalog, `drone iam`,
//! provider dispatch, `drone check --list-types` and the tests derive from it.

pub mod acm;
pub mod applicationautoscaling;
pub mod cloudfront;
pub mod cloudwatch;
pub mod codebuild;
pub mod codecommit;
pub mod codeconnections;
pub mod codepipeline;
pub mod ec2;
pub mod ecr;
pub mod ecs;
pub mod efs;
pub mod elbv2;
pub mod iam;
pub mod logs;
pub mod rds;
pub mod route53;
pub mod s3;
pub mod secretsmanager;
pub mod sns;
pub mod wafv2;

use std::time::Duration;

use drone_lang::schema::{AttributeSchema, ResourceSchema};

use crate::permissions::Stage;

/// One resource type: everything drone knows about it.
pub struct TypeDef {
    /// The dotted name, e.g. `aws.ec2.vpc`.
    pub name: &'static str,
    /// One line describing it.
    pub doc: &'static str,
    /// Whether it carries tags (a `tags` attribute is added; drone adds its own).
    pub taggable: bool,
    /// Its attributes, in documentation order (`tags` excluded).
    pub attributes: fn() -> Vec<AttributeSchema>,
    /// The attribute whose value names it before it exists (for ARNs), if any.
    pub naming: Option<&'static str>,
    /// The ARNs its calls touch, for a resource of this type in `scope`.
    pub arns: fn(&Scope<'_>) -> Vec<ArnPattern>,
    /// The IAM actions the provider calls for it, by stage.
    pub actions: &'static [(Stage, &'static str)],
    /// The services it hands IAM roles to (needing `iam:PassRole`).
    pub passes_roles_to: &'static [&'static str],
    /// Its create, read, update and delete, when drone is built with its service.
    #[cfg(feature = "sdk")]
    pub(crate) ops: Option<&'static dyn crate::aws::Ops>,
}

impl TypeDef {
    /// The schema the checker and planner use.
    pub fn schema(&self) -> ResourceSchema {
        crate::schema::resource(self.name, self.doc, self.taggable, (self.attributes)())
    }

    /// The service part of the name: `aws.ec2.vpc` -> `ec2`.
    pub fn service(&self) -> &'static str {
        self.name.split('.').nth(1).unwrap_or(self.name)
    }
}

/// Where a resource lives, as `drone iam` knows it before apply.
#[derive(Clone, Copy, Debug)]
pub struct Scope<'a> {
    /// Its name, or `*` when not known before apply.
    pub name: &'a str,
    /// Its region, or `*`.
    pub region: &'a str,
    /// The account, or `*`.
    pub account: &'a str,
}

/// An ARN pattern, keyed by the IAM catalogue's (service, resource type).
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ArnPattern {
    /// The IAM service prefix, e.g. `ec2`.
    pub service: &'static str,
    /// The catalogue's resource type, e.g. `security-group`.
    pub kind: &'static str,
    /// The pattern, e.g. `arn:aws:ec2:eu-west-1:123456789012:security-group/*`.
    pub pattern: String,
}

impl ArnPattern {
    /// A pattern for (service, kind).
    pub fn new(service: &'static str, kind: &'static str, pattern: String) -> ArnPattern {
        ArnPattern { service, kind, pattern }
    }
}

/// A type's operations when drone is built with `feature`, else none:
/// `ops!("ec2", Vpc)`.
#[cfg(feature = "sdk")]
macro_rules! ops {
    ($feature:literal, $ops:expr) => {{
        #[cfg(feature = $feature)]
        let ops: Option<&'static dyn crate::aws::Ops> = Some(&$ops);
        #[cfg(not(feature = $feature))]
        let ops: Option<&'static dyn crate::aws::Ops> = None;
        ops
    }};
}
#[cfg(feature = "sdk")]
pub(crate) use ops;

/// What a service documents of its eventual consistency.
#[derive(Clone, Copy, Debug)]
pub struct Consistency {
    /// The service as the SDK's operation metadata names it, lower case without
    /// spaces (`ec2`, `iam`, `elasticloadbalancingv2`).
    pub service: &'static str,
    /// How long after this service creates a resource other calls (its own or
    /// other services') may not see it yet.
    pub window: Duration,
    /// How long a listing (a Describe by tags or name, as crash recovery looks
    /// a resource up) may leave out one this service just created.
    pub listing: Duration,
    /// Error codes this service answers, besides its "not found" ones, when it
    /// cannot see yet what was just made (by it or by another service).
    pub codes: &'static [&'static str],
}
