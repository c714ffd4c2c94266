//! Schema of ECR repositories, where the platform's container images live.

use drone_lang::schema::{ResourceSchema, Type};

use super::{computed, optional, required, resource, AttributeExt};

pub(super) fn schemas() -> Vec<ResourceSchema> {
    vec![resource(
        "aws.ecr.repository",
        "an ECR repository of container images",
        true,
        vec![
            required("name", Type::String, "the repository's name").replaces(),
            optional("scan_on_push", Type::Bool, "scan every pushed image for known vulnerabilities"),
            optional("immutable_tags", Type::Bool, "refuse to move a tag to another image once pushed"),
            optional("force_delete", Type::Bool, "delete the images too when the repository is deleted").drone_side(),
            computed("id", Type::String, "the repository's name"),
            computed("arn", Type::String, "the repository's ARN"),
            computed("url", Type::String, "the repository's URL for `docker push`"),
        ],
    )]
}
