//! `aws.efs.mount_target`: an NFS endpoint of a file system in one subnet.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.efs.mount_target",
    doc: "an NFS endpoint of a file system in one subnet",
    taggable: false,
    attributes,
    naming: None,
    // A mount target is an interface in the subnet, which EFS creates as the caller.
    arns: |s| {
        vec![
            ArnPattern::new(
                "elasticfilesystem",
                "file-system",
                format!("arn:aws:elasticfilesystem:{}:{}:file-system/*", s.region, s.account),
            ),
            ArnPattern::new(
                "ec2",
                "network-interface",
                format!("arn:aws:ec2:{}:{}:network-interface/*", s.region, s.account),
            ),
        ]
    },
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
        (Find, "elasticfilesystem:DescribeMountTargets"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("efs", sdk::MountTarget),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("file_system_id", Type::String, "the file system").replaces(),
        required("subnet_id", Type::String, "the subnet the endpoint lives in").replaces(),
        required("security_groups", Type::list(Type::String), "the security groups of the endpoint"),
        computed("id", Type::String, "the mount target id, e.g. fsmt-0123"),
        computed("ip_address", Type::String, "the endpoint's address in the subnet"),
    ]
}

#[cfg(feature = "efs")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_efs::types::LifeCycleState;
    use drone_engine::provider::{FindRequest, Found, Observed, Owner, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::super::sdk::{wait_until, Kind, Wanted};
    use crate::aws::attrs::{like_prior, observed, required, strings, text, Update};
    use crate::aws::error::{sdk_error, unless_gone};
    use crate::aws::{AwsProvider, Ops};

    pub struct MountTarget;

    #[async_trait]
    impl Ops for MountTarget {
        /// Mount targets take no tags.
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            _: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "CreateMountTarget";
            let out = p
                .efs
                .create_mount_target()
                .file_system_id(required(config, "file_system_id", OP)?)
                .subnet_id(required(config, "subnet_id", OP)?)
                .set_security_groups(Some(strings(config, "security_groups")))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let id = out.mount_target_id().to_string();
            let ip = out.ip_address().unwrap_or_default().to_string();
            wait_until(&p.efs, &id, Kind::MountTarget, Wanted::Available).await.map_err(|e| e.after_create(&id))?;
            Ok(Observed { id, attributes: observed([("ip_address", Value::String(ip))]) })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            // One mount target per file system and subnet; it has no tags, and
            // the file system it belongs to is this workflow's.
            const OP: &str = "DescribeMountTargets";
            let file_system = required(f.config, "file_system_id", OP)?;
            let subnet = required(f.config, "subnet_id", OP)?;
            let out = match p.efs.describe_mount_targets().file_system_id(file_system).send().await {
                Ok(out) => out,
                Err(e) => return unless_gone(sdk_error(OP, e), None),
            };
            Ok(out
                .mount_targets()
                .iter()
                .find(|t| t.subnet_id() == subnet && t.life_cycle_state() != &LifeCycleState::Deleted)
                .map(|t| Found { id: t.mount_target_id().to_string(), owner: Owner::This }))
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let out = match p.efs.describe_mount_targets().mount_target_id(id).send().await {
                Ok(out) => out,
                Err(e) => return unless_gone(sdk_error("DescribeMountTargets", e), None),
            };
            let Some(target) = out.mount_targets().first().filter(|t| t.life_cycle_state() != &LifeCycleState::Deleted)
            else {
                return Ok(None);
            };
            let groups = p
                .efs
                .describe_mount_target_security_groups()
                .mount_target_id(id)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeMountTargetSecurityGroups", e))?;
            let groups = groups.security_groups().iter().map(Value::str).collect();
            let attributes = observed([
                ("file_system_id", Value::str(target.file_system_id())),
                ("subnet_id", Value::str(target.subnet_id())),
                ("security_groups", like_prior(prior.get("security_groups"), groups, |a, b| a == b)),
                ("ip_address", text(target.ip_address())),
            ]);
            Ok(Some(Observed { id: id.to_string(), attributes }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            if u.changed("security_groups") {
                p.efs
                    .modify_mount_target_security_groups()
                    .mount_target_id(u.id)
                    .set_security_groups(Some(strings(u.config, "security_groups")))
                    .send()
                    .await
                    .map_err(|e| sdk_error("ModifyMountTargetSecurityGroups", e))?;
            }
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            p.efs
                .delete_mount_target()
                .mount_target_id(id)
                .send()
                .await
                .map_err(|e| sdk_error("DeleteMountTarget", e))?;
            // The file system refuses deletion until its mount targets are gone.
            wait_until(&p.efs, id, Kind::MountTarget, Wanted::Gone).await
        }
    }
}
