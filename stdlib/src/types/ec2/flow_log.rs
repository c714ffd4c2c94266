//! `aws.ec2.flow_log`: a VPC's flow log: a record of the traffic its network
//! interfaces accept and reject, delivered to a CloudWatch Logs group by a
//! role the VPC Flow Logs service assumes.

use drone_lang::schema::{AttributeSchema, Type};

use super::{arn, TAG_ACTIONS};
use crate::permissions::Stage::{Create, Delete, Find, Read};
use crate::schema::{computed, optional, required, AttributeExt};
use crate::types::TypeDef;

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.ec2.flow_log",
    doc: "a VPC's flow log: the traffic it accepts and rejects, delivered to CloudWatch Logs",
    taggable: true,
    attributes,
    naming: None,
    arns: |scope| vec![arn(scope, "vpc-flow-log"), arn(scope, "vpc")],
    actions: &[
        (Create, "ec2:CreateFlowLogs"),
        (Read, "ec2:DescribeFlowLogs"),
        (Delete, "ec2:DeleteFlowLogs"),
        TAG_ACTIONS[0],
        TAG_ACTIONS[1],
        TAG_ACTIONS[2],
        (Find, "ec2:DescribeTags"),
        (Find, "ec2:DescribeFlowLogs"),
    ],
    passes_roles_to: &["vpc-flow-logs.amazonaws.com"],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("ec2", sdk::FlowLog),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("vpc_id", Type::String, "the VPC whose traffic is recorded").replaces(),
        required("log_group", Type::String, "the CloudWatch Logs group the records go to").replaces(),
        required("role_arn", Type::String, "the role VPC Flow Logs assumes to write to the group").replaces(),
        optional("traffic_type", Type::one_of(&["ALL", "ACCEPT", "REJECT"]), "what is recorded (default ALL)")
            .replaces(),
        optional(
            "max_aggregation_interval",
            Type::Number,
            "seconds over which a record aggregates packets: 60 or 600 (default 600)",
        )
        .replaces(),
        computed("id", Type::String, "the flow log's id, e.g. \"fl-0abc\""),
        computed("arn", Type::String, "the flow log's ARN"),
    ]
}

#[cfg(feature = "ec2")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_ec2::types::{FlowLogsResourceType, LogDestinationType, ResourceType, TrafficType};
    use drone_engine::provider::{Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::super::sdk::{tag_spec, tags_of, Ec2Type};
    use crate::aws::attrs::{int, number, observed, required, string, text};
    use crate::aws::error::{invalid, missing, sdk_error};
    use crate::aws::AwsProvider;

    pub struct FlowLog;

    #[async_trait]
    impl Ec2Type for FlowLog {
        const ID_PREFIX: &'static str = "fl-";

        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "CreateFlowLogs";
            let vpc = required(config, "vpc_id", OP)?;
            let out = p
                .ec2
                .create_flow_logs()
                .resource_type(FlowLogsResourceType::Vpc)
                .resource_ids(vpc)
                .traffic_type(TrafficType::from(string(config, "traffic_type").unwrap_or("ALL")))
                .log_destination_type(LogDestinationType::CloudWatchLogs)
                .log_group_name(required(config, "log_group", OP)?)
                .deliver_logs_permission_arn(required(config, "role_arn", OP)?)
                .max_aggregation_interval(int(config, "max_aggregation_interval").unwrap_or(600))
                .tag_specifications(tag_spec(ResourceType::VpcFlowLog, tags))
                .client_token(token)
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            // A VPC AWS could not log for is an entry in `Unsuccessful`, not an error.
            if let Some(failed) = out.unsuccessful().first() {
                let why = failed.error().and_then(|e| e.message()).unwrap_or("no reason given");
                return Err(invalid(OP, format!("AWS made no flow log for {vpc}: {why}")));
            }
            let id = out.flow_log_ids().first().ok_or_else(|| missing(OP, "FlowLogIds"))?.to_string();
            let arn = format!("arn:aws:ec2:{}:{}:vpc-flow-log/{id}", p.region()?, p.account().await?);
            Ok(Observed { id, attributes: observed([("arn", Value::String(arn))]) })
        }

        async fn describe(
            &self,
            p: &AwsProvider,
            ids: Vec<String>,
            _: &[(&str, &Attributes)],
        ) -> Result<BTreeMap<String, Attributes>, ProviderError> {
            let (region, account) = (p.region()?, p.account().await?);
            let found = p
                .ec2
                .describe_flow_logs()
                .set_flow_log_ids(Some(ids))
                .send()
                .await
                .map_err(|e| sdk_error("DescribeFlowLogs", e))?;
            let mut out = BTreeMap::new();
            for f in found.flow_logs() {
                let Some(id) = f.flow_log_id() else { continue };
                let attributes = observed([
                    ("vpc_id", text(f.resource_id())),
                    ("log_group", text(f.log_group_name())),
                    ("role_arn", text(f.deliver_logs_permission_arn())),
                    ("traffic_type", text(f.traffic_type().map(|t| t.as_str()))),
                    ("max_aggregation_interval", number(f.max_aggregation_interval())),
                    ("tags", tags_of(f.tags())),
                    ("arn", Value::String(format!("arn:aws:ec2:{region}:{account}:vpc-flow-log/{id}"))),
                ]);
                out.insert(id.to_string(), attributes);
            }
            Ok(out)
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            const OP: &str = "DeleteFlowLogs";
            let out = p.ec2.delete_flow_logs().flow_log_ids(id).send().await.map_err(|e| sdk_error(OP, e))?;
            // Failures are entries in `Unsuccessful`; one that is already gone is deleted.
            match out.unsuccessful().first().and_then(|f| f.error()) {
                None => Ok(()),
                Some(e) if e.code().is_some_and(|c| c.ends_with("NotFound")) => Ok(()),
                Some(e) => Err(invalid(OP, e.message().unwrap_or("no reason given"))),
            }
        }
    }
}
