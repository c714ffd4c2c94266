//! `aws.efs.replication_configuration`: a file system copied, as it changes,
//! into another file system of the account (in another region: a standby's).
//! The destination is a declared file system whose
//! `replication_overwrite_protection` is off; while replicated into it is read-only.
//!
//! A replication lives in its source's region, named by the source's ARN, not
//! in the provider's: a workflow that fails over swaps source and destination
//! (the region that writes is the source), and the replication follows.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read};
use crate::schema::{computed, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.efs.replication_configuration",
    doc: "copies an EFS file system into another (in another region) as it changes",
    taggable: false,
    attributes,
    naming: None,
    // Source and destination are file systems in either region of the workflow.
    arns: |s| {
        vec![ArnPattern::new(
            "elasticfilesystem",
            "file-system",
            format!("arn:aws:elasticfilesystem:*:{}:file-system/*", s.account),
        )]
    },
    actions: &[
        (Create, "elasticfilesystem:DescribeReplicationConfigurations"),
        (Create, "elasticfilesystem:CreateReplicationConfiguration"),
        (Read, "elasticfilesystem:DescribeReplicationConfigurations"),
        (Delete, "elasticfilesystem:DescribeReplicationConfigurations"),
        (Delete, "elasticfilesystem:DeleteReplicationConfiguration"),
        (Find, "elasticfilesystem:DescribeReplicationConfigurations"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("efs", sdk::ReplicationConfiguration),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("source_file_system_arn", Type::String, "the file system that is copied (its region writes)")
            .replaces(),
        required(
            "destination_file_system_arn",
            Type::String,
            "the file system it is copied into: read-only while replicated into",
        )
        .replaces(),
        computed("id", Type::String, "the source file system's id: a file system is in one replication at most"),
    ]
}

/// The region and id of a file system's ARN (`arn:aws:elasticfilesystem:REGION:ACCOUNT:file-system/ID`).
pub fn file_system_of(arn: &str) -> Option<(&str, &str)> {
    let mut parts = arn.splitn(6, ':');
    let (region, resource) = (parts.nth(3)?, parts.nth(1)?);
    let id = resource.strip_prefix("file-system/")?;
    (!region.is_empty() && !id.is_empty()).then_some((region, id))
}

#[cfg(feature = "efs")]
pub(crate) mod sdk {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use async_trait::async_trait;
    use aws_sdk_efs::types::{DeletionMode, DestinationToCreate, ReplicationConfigurationDescription};
    use aws_sdk_efs::Client;
    use drone_engine::provider::{ErrorKind, FindRequest, Found, Observed, Owner, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::file_system_of;
    use crate::aws::attrs::{observed, required, string};
    use crate::aws::error::{invalid, sdk_error, unless_gone};
    use crate::aws::wait::{self, Poll};
    use crate::aws::{AwsProvider, Ops};

    const GONE_TIMEOUT: Duration = Duration::from_secs(20 * 60);

    pub struct ReplicationConfiguration;

    /// A file system named by its ARN: its region's EFS client and its id.
    pub(crate) struct FileSystem {
        pub(crate) client: Client,
        pub(crate) region: String,
        pub(crate) id: String,
    }

    /// The file system `arn` names, with a client for its region.
    pub(crate) fn file_system(p: &AwsProvider, arn: &str, operation: &str) -> Result<FileSystem, ProviderError> {
        let (region, id) =
            file_system_of(arn).ok_or_else(|| invalid(operation, format!("`{arn}` is not a file system's ARN")))?;
        let config = p.efs.config().to_builder().region(aws_sdk_efs::config::Region::new(region.to_string()));
        Ok(FileSystem { client: Client::from_conf(config.build()), region: region.to_string(), id: id.to_string() })
    }

    /// The replication `fs` is in, as its region sees it; `None` when it is in none.
    pub(crate) async fn describe(
        fs: &FileSystem,
    ) -> Result<Option<ReplicationConfigurationDescription>, ProviderError> {
        const OP: &str = "DescribeReplicationConfigurations";
        match fs.client.describe_replication_configurations().file_system_id(&fs.id).send().await {
            Ok(out) => Ok(out.replications().first().cloned()),
            Err(e) => unless_gone(sdk_error(OP, e), None),
        }
    }

    /// The ARN of the file system `r` copies into (AWS describes it by region and id).
    pub(crate) fn destination_arn(r: &ReplicationConfigurationDescription) -> Option<String> {
        let d = r.destinations().first()?;
        let account = r.source_file_system_owner_id().or(d.owner_id()).unwrap_or_default();
        Some(format!("arn:aws:elasticfilesystem:{}:{account}:file-system/{}", d.region(), d.file_system_id()))
    }

    /// Whether `r` copies `source` into `destination`.
    fn copies(r: &ReplicationConfigurationDescription, source: &FileSystem, destination: &FileSystem) -> bool {
        r.source_file_system_id() == source.id
            && r.destinations().iter().any(|d| d.file_system_id() == destination.id && d.region() == destination.region)
    }

    /// Deletes the replication whose source is `source`, asking in `fs`'s region (either side's),
    /// and waits until `fs` is in none. `local_only` leaves the other side's configuration (its
    /// region is down); AWS ends it there once it answers.
    pub(crate) async fn delete(fs: &FileSystem, source: &str, local_only: bool) -> Result<(), ProviderError> {
        const OP: &str = "DeleteReplicationConfiguration";
        let mode = if local_only { DeletionMode::LocalConfigurationOnly } else { DeletionMode::AllConfigurations };
        let call = fs.client.delete_replication_configuration().source_file_system_id(source).deletion_mode(mode);
        if let Err(e) = call.send().await {
            unless_gone(sdk_error(OP, e), ())?;
        }
        let what = format!("the replication of {source} was not deleted in {}", fs.region);
        wait::until("DescribeReplicationConfigurations", &what, GONE_TIMEOUT, || async {
            Ok(if describe(fs).await?.is_some() { Poll::Pending } else { Poll::Ready(()) })
        })
        .await
    }

    #[async_trait]
    impl Ops for ReplicationConfiguration {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            _tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "CreateReplicationConfiguration";
            let source = file_system(p, required(config, "source_file_system_arn", OP)?, OP)?;
            let destination = file_system(p, required(config, "destination_file_system_arn", OP)?, OP)?;
            // A create whose reply was lost made it already: look first.
            let made = describe(&source).await?;
            if !made.as_ref().is_some_and(|r| copies(r, &source, &destination)) {
                let to =
                    DestinationToCreate::builder().region(&destination.region).file_system_id(&destination.id).build();
                let call = source.client.create_replication_configuration().source_file_system_id(&source.id);
                call.destinations(to).send().await.map_err(|e| sdk_error(OP, e))?;
            }
            wait::until(
                "DescribeReplicationConfigurations",
                "the replication did not become enabled",
                GONE_TIMEOUT,
                || {
                    let source = &source;
                    async move {
                        let r = describe(source).await?;
                        let status = r.as_ref().and_then(|r| r.destinations().first()).map(|d| d.status().as_str());
                        // Not described yet is not failed: EFS shows a new replication in its
                        // region a moment after it answers the create.
                        match status {
                            Some("ENABLED") => Ok(Poll::Ready(())),
                            Some("ERROR") => Err(ProviderError::new(
                                ErrorKind::Rejected,
                                "DescribeReplicationConfigurations",
                                format!("the replication of {} failed", source.id),
                            )),
                            _ => Ok(Poll::Pending),
                        }
                    }
                },
            )
            .await
            .map_err(|e| e.after_create(&source.id))?;
            Ok(Observed { id: source.id, attributes: Attributes::new() })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            const OP: &str = "DescribeReplicationConfigurations";
            let source = file_system(p, required(f.config, "source_file_system_arn", OP)?, OP)?;
            let destination = file_system(p, required(f.config, "destination_file_system_arn", OP)?, OP)?;
            // It carries no tags; a replication between this workflow's own two file systems is its.
            Ok(describe(&source).await?.filter(|r| r.source_file_system_id() == source.id).map(|r| Found {
                id: source.id.clone(),
                owner: if copies(&r, &source, &destination) { Owner::This } else { Owner::Untagged },
            }))
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            const OP: &str = "DescribeReplicationConfigurations";
            let Some(arn) = string(prior, "source_file_system_arn") else {
                return Err(invalid(OP, format!("the replication of {id} has no source ARN in state")));
            };
            let source = file_system(p, arn, OP)?;
            let Some(r) = describe(&source).await?.filter(|r| r.source_file_system_id() == id) else {
                return Ok(None);
            };
            let attributes = observed([
                ("source_file_system_arn", Value::str(r.source_file_system_arn())),
                ("destination_file_system_arn", destination_arn(&r).map(Value::String).unwrap_or(Value::Null)),
            ]);
            Ok(Some(Observed { id: id.to_string(), attributes }))
        }

        async fn update(&self, _p: &AwsProvider, u: &crate::aws::attrs::Update<'_>) -> Result<Observed, ProviderError> {
            // Both attributes replace it: nothing changes in place.
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<(), ProviderError> {
            const OP: &str = "DeleteReplicationConfiguration";
            let arn = string(prior, "source_file_system_arn").ok_or_else(|| invalid(OP, "no source ARN in state"))?;
            delete(&file_system(p, arn, OP)?, id, false).await
        }
    }
}

#[cfg(test)]
mod tests {
    use super::file_system_of;

    #[test]
    fn a_file_systems_arn_names_its_region_and_id() {
        let arn = "arn:aws:elasticfilesystem:eu-central-1:123456789012:file-system/fs-0123abcd";
        assert_eq!(file_system_of(arn), Some(("eu-central-1", "fs-0123abcd")));
        assert_eq!(file_system_of("fs-0123abcd"), None);
        assert_eq!(file_system_of("arn:aws:elasticfilesystem:eu-west-1:123456789012:access-point/fsap-1"), None);
        assert_eq!(file_system_of("arn:aws:elasticfilesystem::123456789012:file-system/fs-1"), None);
    }
}
