//! `aws.elbv2.target_group`: where a load balancer sends requests: the IP addresses of Fargate tasks.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.elbv2.target_group",
    doc: "where a load balancer sends requests: the IP addresses of Fargate tasks",
    taggable: true,
    attributes,
    naming: Some("name"),
    arns: |s| {
        let arn = format!("arn:aws:elasticloadbalancing:{}:{}:targetgroup/{}/*", s.region, s.account, s.name);
        vec![ArnPattern::new("elasticloadbalancing", "targetgroup", arn)]
    },
    actions: &[
        (Create, "elasticloadbalancing:CreateTargetGroup"),
        (Create, "elasticloadbalancing:AddTags"),
        (Read, "elasticloadbalancing:DescribeTargetGroups"),
        (Read, "elasticloadbalancing:DescribeTags"),
        (Update, "elasticloadbalancing:ModifyTargetGroup"),
        (Update, "elasticloadbalancing:AddTags"),
        (Update, "elasticloadbalancing:RemoveTags"),
        (Delete, "elasticloadbalancing:DeleteTargetGroup"),
        (Find, "elasticloadbalancing:DescribeTargetGroups"),
        (Find, "elasticloadbalancing:DescribeTags"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("elbv2", sdk::TargetGroup),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("name", Type::String, "the target group's name").replaces(),
        required("port", Type::Number, "the port targets listen on").replaces(),
        optional("protocol", Type::one_of(&["HTTP", "HTTPS"]), "\"HTTP\" (default) or \"HTTPS\"").replaces(),
        required("vpc_id", Type::String, "the VPC of the targets").replaces(),
        optional("health_check_path", Type::String, "the path health checks request (default \"/\")"),
        computed("id", Type::String, "the target group's ARN"),
        computed("arn", Type::String, "the target group's ARN"),
        computed(
            "arn_suffix",
            Type::String,
            "the ARN's part from `targetgroup/` on (`targetgroup/NAME/ID`), as CloudWatch dimensions name it",
        ),
    ]
}

#[cfg(feature = "elbv2")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_elasticloadbalancingv2::types::{ProtocolEnum, TargetTypeEnum};
    use drone_engine::provider::{FindRequest, Found, Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::super::sdk::{arn_suffix, elb_tags, found, read_tags};
    use crate::aws::attrs::{int, number, observed, required, string, text, Update};
    use crate::aws::error::{invalid, missing, sdk_error, unless_gone};
    use crate::aws::tagging;
    use crate::aws::{AwsProvider, Ops};

    pub struct TargetGroup;

    #[async_trait]
    impl Ops for TargetGroup {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "CreateTargetGroup";
            let port = int(config, "port").ok_or_else(|| invalid(OP, "`port` must be a whole number"))?;
            let out = p
                .elbv2
                .create_target_group()
                .name(required(config, "name", OP)?)
                .protocol(ProtocolEnum::from(string(config, "protocol").unwrap_or("HTTP")))
                .port(port)
                .vpc_id(required(config, "vpc_id", OP)?)
                // Fargate tasks register by IP address.
                .target_type(TargetTypeEnum::Ip)
                .set_health_check_path(string(config, "health_check_path").map(String::from))
                .set_tags(Some(elb_tags(tags)))
                .customize()
                .config_override(crate::aws::once!(aws_sdk_elasticloadbalancingv2))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let arn = out
                .target_groups()
                .first()
                .and_then(|t| t.target_group_arn())
                .ok_or_else(|| missing(OP, "TargetGroupArn"))?
                .to_string();
            let suffix = arn_suffix(&arn, "");
            Ok(Observed {
                id: arn.clone(),
                attributes: observed([("arn_suffix", suffix), ("arn", Value::String(arn))]),
            })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            const OP: &str = "DescribeTargetGroups";
            let name = required(f.config, "name", OP)?;
            let out = match p.elbv2.describe_target_groups().names(name).send().await {
                Ok(out) => out,
                Err(e) => return unless_gone(sdk_error(OP, e), None),
            };
            match out.target_groups().first().and_then(|g| g.target_group_arn()) {
                Some(arn) => Ok(Some(found(&p.elbv2, arn, f).await?)),
                None => Ok(None),
            }
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let described = p
                .elbv2
                .describe_target_groups()
                .target_group_arns(id)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeTargetGroups", e))
                .map(|o| {
                    o.target_groups().first().map(|t| {
                        observed([
                            ("name", text(t.target_group_name())),
                            ("port", number(t.port())),
                            ("protocol", text(t.protocol().map(|p| p.as_str()))),
                            ("vpc_id", text(t.vpc_id())),
                            ("health_check_path", text(t.health_check_path())),
                            ("arn", text(t.target_group_arn())),
                            ("arn_suffix", arn_suffix(t.target_group_arn().unwrap_or_default(), "")),
                        ])
                    })
                });
            let Some(mut attributes) = described.or_else(|e| unless_gone(e, None))? else {
                return Ok(None);
            };
            read_tags(&p.elbv2, id, prior, &mut attributes).await?;
            Ok(Some(Observed { id: id.to_string(), attributes }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            if u.changed("health_check_path") {
                p.elbv2
                    .modify_target_group()
                    .target_group_arn(u.id)
                    .health_check_path(string(u.config, "health_check_path").unwrap_or("/"))
                    .send()
                    .await
                    .map_err(|e| sdk_error("ModifyTargetGroup", e))?;
            }
            tagging::sync(&p.elbv2, u.id, u).await?;
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        /// Refused (ResourceInUse, retried) while a listener still forwards to it.
        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            p.elbv2
                .delete_target_group()
                .target_group_arn(id)
                .send()
                .await
                .map(drop)
                .map_err(|e| sdk_error("DeleteTargetGroup", e))
        }
    }
}
