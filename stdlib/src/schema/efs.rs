//! Schemas of EFS file systems and their mount targets.

use drone_lang::schema::{ResourceSchema, Type};

use super::{computed, optional, required, resource, AttributeExt};

pub(super) fn schemas() -> Vec<ResourceSchema> {
    vec![
        resource(
            "aws.efs.file_system",
            "an EFS file system: shared storage that tasks mount over NFS",
            true,
            vec![
                required("name", Type::String, "the file system's name (also its creation token)").replaces(),
                optional("encrypted", Type::Bool, "encrypt data at rest").replaces(),
                optional("kms_key_id", Type::String, "the KMS key for encryption (default: the AWS managed key)")
                    .replaces(),
                computed("id", Type::String, "the file system id, e.g. fs-0123"),
                computed("arn", Type::String, "the file system's ARN"),
            ],
        ),
        resource(
            "aws.efs.mount_target",
            "an NFS endpoint of a file system in one subnet",
            false,
            vec![
                required("file_system_id", Type::String, "the file system").replaces(),
                required("subnet_id", Type::String, "the subnet the endpoint lives in").replaces(),
                required("security_groups", Type::list(Type::String), "the security groups of the endpoint"),
                computed("id", Type::String, "the mount target id, e.g. fsmt-0123"),
                computed("ip_address", Type::String, "the endpoint's address in the subnet"),
            ],
        ),
    ]
}
