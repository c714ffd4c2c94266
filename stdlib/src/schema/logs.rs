//! Schema of CloudWatch Logs log groups.

use drone_lang::schema::{ResourceSchema, Type};

use super::{computed, optional, required, resource, AttributeExt};

pub(super) fn schemas() -> Vec<ResourceSchema> {
    vec![resource(
        "aws.logs.log_group",
        "a CloudWatch Logs log group",
        true,
        vec![
            required("name", Type::String, "the log group's name, e.g. \"/ecs/ghost\"").replaces(),
            optional("retention_in_days", Type::Number, "days events are kept (1 to 3653; unset: forever)"),
            computed("id", Type::String, "the log group's name"),
            computed("arn", Type::String, "the log group's ARN"),
        ],
    )]
}
