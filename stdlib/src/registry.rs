//! Every resource type drone knows, named once. Adding a type is its module
//! in `crate::types` and one line here; the catalog, `drone iam`, provider
//! dispatch and the tests all read this list.

use crate::types::{self, TypeDef};

/// The types, in documentation order.
pub static TYPES: &[&TypeDef] = &[
    &types::ec2::vpc::TYPE,
    &types::ec2::subnet::TYPE,
    &types::ec2::internet_gateway::TYPE,
    &types::ec2::eip::TYPE,
    &types::ec2::nat_gateway::TYPE,
    &types::ec2::route_table::TYPE,
    &types::ec2::security_group::TYPE,
    &types::ec2::flow_log::TYPE,
    &types::s3::bucket::TYPE,
    &types::iam::role::TYPE,
    &types::ecs::cluster::TYPE,
    &types::ecs::task_definition::TYPE,
    &types::ecs::service::TYPE,
    &types::applicationautoscaling::scalable_target::TYPE,
    &types::applicationautoscaling::scaling_policy::TYPE,
    &types::rds::db_subnet_group::TYPE,
    &types::rds::cluster::TYPE,
    &types::rds::cluster_instance::TYPE,
    &types::rds::global_cluster::TYPE,
    &types::elbv2::load_balancer::TYPE,
    &types::elbv2::target_group::TYPE,
    &types::elbv2::listener::TYPE,
    &types::elbv2::listener_rule::TYPE,
    &types::ecr::repository::TYPE,
    &types::ecr::replication_rule::TYPE,
    &types::logs::log_group::TYPE,
    &types::efs::file_system::TYPE,
    &types::efs::mount_target::TYPE,
    &types::efs::replication_configuration::TYPE,
    &types::route53::zone::TYPE,
    &types::route53::record::TYPE,
    &types::route53::health_check::TYPE,
    &types::acm::certificate::TYPE,
    &types::cloudfront::distribution::TYPE,
    &types::wafv2::web_acl::TYPE,
    &types::secretsmanager::secret::TYPE,
    &types::sns::topic::TYPE,
    &types::sns::subscription::TYPE,
    &types::cloudwatch::alarm::TYPE,
    &types::cloudwatch::dashboard::TYPE,
    &types::codecommit::repository::TYPE,
    &types::codeconnections::connection::TYPE,
    &types::codebuild::project::TYPE,
    &types::codepipeline::pipeline::TYPE,
];

/// The type named `name`.
pub fn get(name: &str) -> Option<&'static TypeDef> {
    TYPES.iter().copied().find(|t| t.name == name)
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    /// The attribute keys `source` reads from a configuration: the second
    /// argument of every accessor called on `config` (`string(config, "name")`,
    /// `strings(u.config, "subnet_ids")`) and `config.get("name")`.
    fn keys_read(source: &str) -> BTreeSet<&str> {
        let mut keys = BTreeSet::new();
        for opening in ["config, \"", "config.get(\""] {
            for (at, _) in source.match_indices(opening) {
                let rest = &source[at + opening.len()..];
                if let Some(end) = rest.find('"') {
                    keys.insert(&rest[..end]);
                }
            }
        }
        keys
    }

    #[test]
    fn the_keys_read_are_found_in_every_accessors_shape() {
        let source = r#"let a = attrs::string(config, "cidr_block"); let b = strings(u.config, "subnet_ids");
                        let c = config.get("enable_dns"); let d = string(o, "port");"#;
        assert_eq!(keys_read(source), BTreeSet::from(["cidr_block", "subnet_ids", "enable_dns"]));
    }

    /// A key a type's code reads that its schema lacks is a value the workflow
    /// can never set (a typo, or an attribute renamed on one side only).
    #[test]
    fn every_attribute_a_types_code_reads_is_in_its_schema() {
        let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("src/types");
        let mut read = 0;
        for t in TYPES {
            let mut parts = t.name.split('.').skip(1);
            let (Some(service), Some(name)) = (parts.next(), parts.next()) else { panic!("{}", t.name) };
            let path = root.join(service).join(format!("{name}.rs"));
            let source = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            let known: BTreeSet<String> =
                (t.attributes)().into_iter().map(|a| a.name).chain(["tags".to_string()]).collect();
            for key in keys_read(&source) {
                assert!(known.contains(key), "{} reads `{key}`, which its schema does not declare", t.name);
                read += 1;
            }
        }
        assert!(read > 100, "only {read} keys found: the accessors' shape changed");
    }

    use drone_lang::schema::Presence;

    use super::*;
    use crate::permissions::Stage;
    use crate::types::Scope;

    /// Every type has every part: a documented schema with a computed id, a
    /// naming attribute that exists, ARNs, the actions of each stage (all in
    /// the IAM catalogue), tagging actions if it takes tags, and operations
    /// when drone is built with AWS.
    #[test]
    fn every_type_is_complete() {
        let catalogue = drone_engine::policy::iam::catalogue::catalogue();
        let mut names = BTreeSet::new();
        for t in TYPES {
            assert!(names.insert(t.name), "{} is registered twice", t.name);
            assert!(t.name.starts_with(&format!("aws.{}.", t.service())), "{}", t.name);
            let schema = t.schema();
            assert!(!t.doc.is_empty(), "{}", t.name);
            assert!(
                schema.attribute("id").is_some_and(|a| a.presence == Presence::Computed),
                "{} lacks a computed id",
                t.name
            );
            for a in &schema.attributes {
                assert!(!a.doc.is_empty(), "{}.{} has no doc", t.name, a.name);
            }
            if let Some(naming) = t.naming {
                assert!(schema.attribute(naming).is_some_and(|a| a.settable()), "{}: naming `{naming}`", t.name);
            }
            let scope = Scope { name: "x", region: "eu-west-1", account: "123456789012" };
            assert!(!(t.arns)(&scope).is_empty(), "{} has no ARN patterns", t.name);
            for stage in [Stage::Create, Stage::Read, Stage::Delete] {
                assert!(t.actions.iter().any(|(s, _)| *s == stage), "{} has no {stage:?} action", t.name);
            }
            for (_, action) in t.actions {
                assert!(catalogue.get(action).is_some(), "{}: {action} is not in the IAM catalogue", t.name);
            }
            // CodeBuild has no tagging API: UpdateProject replaces a project's tags with the rest.
            if t.taggable && t.name != "aws.codebuild.project" {
                let tagging = |a: &str| a.contains("Tag") && !a.contains("List") && !a.contains("Get");
                assert!(
                    t.actions.iter().any(|(s, a)| *s == Stage::Update && tagging(a)),
                    "{} takes tags but has no tagging action",
                    t.name
                );
            }
            #[cfg(feature = "aws")]
            assert!(t.ops.is_some(), "{} has no operations", t.name);
        }
    }

    #[test]
    fn the_catalog_holds_every_registered_type() {
        let catalog = crate::catalog();
        for t in TYPES {
            assert_eq!(catalog.resource(t.name), Some(&t.schema()));
        }
        assert_eq!(catalog.resources().count(), TYPES.len());
    }
}
