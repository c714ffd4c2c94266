//! `aws.efs.file_system`: an EFS file system: shared storage that tasks mount over NFS.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.efs.file_system",
    doc: "an EFS file system: shared storage that tasks mount over NFS",
    taggable: true,
    attributes,
    naming: Some("name"),
    // File system ids exist only after create.
    arns: |s| {
        vec![ArnPattern::new(
            "elasticfilesystem",
            "file-system",
            format!("arn:aws:elasticfilesystem:{}:{}:file-system/*", s.region, s.account),
        )]
    },
    actions: &[
        (Create, "elasticfilesystem:CreateFileSystem"),
        (Create, "elasticfilesystem:TagResource"),
        // Waiting for it to become available.
        (Create, "elasticfilesystem:DescribeFileSystems"),
        (Read, "elasticfilesystem:DescribeFileSystems"),
        (Create, "elasticfilesystem:UpdateFileSystemProtection"),
        (Update, "elasticfilesystem:TagResource"),
        (Update, "elasticfilesystem:UpdateFileSystemProtection"),
        (Update, "elasticfilesystem:UntagResource"),
        (Delete, "elasticfilesystem:DeleteFileSystem"),
        (Find, "elasticfilesystem:DescribeFileSystems"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("efs", sdk::FileSystem),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("name", Type::String, "the file system's name (also its creation token)").replaces(),
        optional("encrypted", Type::Bool, "encrypt data at rest").replaces(),
        optional("kms_key_id", Type::String, "the KMS key for encryption (default: the AWS managed key)").replaces(),
        optional(
            "replication_overwrite_protection",
            Type::Bool,
            "refuse to be a replication's destination (AWS's default); false lets `aws.efs.replication_configuration` replicate into it",
        ),
        computed("id", Type::String, "the file system id, e.g. fs-0123"),
        computed("arn", Type::String, "the file system's ARN"),
    ]
}

#[cfg(feature = "efs")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_efs::types::{LifeCycleState, ReplicationOverwriteProtection as Protection};
    use drone_engine::provider::{FindRequest, Found, Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::super::sdk::{efs_tags, wait_until, Kind, Wanted};
    use crate::aws::attrs::{boolean, observed, required, string, text, user_tags, Update};
    use crate::aws::error::{sdk_error, unless_gone};
    use crate::aws::tagging;
    use crate::aws::{AwsProvider, Ops};

    pub struct FileSystem;

    #[async_trait]
    impl Ops for FileSystem {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "CreateFileSystem";
            let name = required(config, "name", OP)?;
            // The Name tag is what the console shows.
            let mut all = tags.clone();
            all.entry("Name".to_string()).or_insert_with(|| name.to_string());
            let out = p
                .efs
                .create_file_system()
                .creation_token(name)
                .encrypted(boolean(config, "encrypted") == Some(true))
                .set_kms_key_id(string(config, "kms_key_id").map(String::from))
                .set_tags(Some(efs_tags(&all, OP)?))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let id = out.file_system_id().to_string();
            let arn = out.file_system_arn().unwrap_or_default().to_string();
            wait_until(&p.efs, &id, Kind::FileSystem, Wanted::Available).await.map_err(|e| e.after_create(&id))?;
            if boolean(config, "replication_overwrite_protection") == Some(false) {
                protect(p, &id, false).await.map_err(|e| e.after_create(&id))?;
            }
            Ok(Observed { id, attributes: observed([("arn", Value::String(arn))]) })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            // The name is the creation token: EFS makes one file system per token.
            let name = required(f.config, "name", "DescribeFileSystems")?;
            let out = p
                .efs
                .describe_file_systems()
                .creation_token(name)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeFileSystems", e))?;
            Ok(out.file_systems().iter().find(|fs| fs.life_cycle_state() != &LifeCycleState::Deleted).map(|fs| Found {
                id: fs.file_system_id().to_string(),
                owner: crate::aws::attrs::owner(fs.tags().iter().map(|t| (t.key(), t.value())), f.tags),
            }))
        }

        async fn read(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let out = match p.efs.describe_file_systems().file_system_id(id).send().await {
                Ok(out) => out,
                Err(e) => return unless_gone(sdk_error("DescribeFileSystems", e), None),
            };
            let Some(fs) = out.file_systems().first().filter(|f| f.life_cycle_state() != &LifeCycleState::Deleted)
            else {
                return Ok(None);
            };
            let protection = fs.file_system_protection().and_then(|p| p.replication_overwrite_protection());
            // The Name tag is the `name` attribute, not one of the user's tags.
            let tags = fs.tags().iter().filter(|t| t.key() != "Name").map(|t| (t.key(), t.value()));
            use Protection::{Disabled, Replicating};
            let attributes = observed([
                ("name", text(fs.name())),
                ("encrypted", Value::Bool(fs.encrypted().unwrap_or(false))),
                ("kms_key_id", text(fs.kms_key_id())),
                // A destination being replicated into reads REPLICATING: it is not protected.
                ("replication_overwrite_protection", Value::Bool(!matches!(protection, Some(Disabled | Replicating)))),
                ("arn", text(fs.file_system_arn())),
                ("tags", user_tags(tags)),
            ]);
            Ok(Some(Observed { id: id.to_string(), attributes }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            tagging::sync(&p.efs, u.id, u).await?;
            if u.changed("replication_overwrite_protection") {
                protect(p, u.id, boolean(u.config, "replication_overwrite_protection") != Some(false)).await?;
            }
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            p.efs
                .delete_file_system()
                .file_system_id(id)
                .send()
                .await
                .map(drop)
                .map_err(|e| sdk_error("DeleteFileSystem", e))
        }
    }

    /// Turns the file system's replication overwrite protection on or off.
    async fn protect(p: &AwsProvider, id: &str, on: bool) -> Result<(), ProviderError> {
        let protection = if on { Protection::Enabled } else { Protection::Disabled };
        let call =
            p.efs.update_file_system_protection().file_system_id(id).replication_overwrite_protection(protection);
        call.send().await.map(drop).map_err(|e| sdk_error("UpdateFileSystemProtection", e))
    }
}
