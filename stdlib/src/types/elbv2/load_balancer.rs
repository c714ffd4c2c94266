//! `aws.elbv2.load_balancer`: an application load balancer.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.elbv2.load_balancer",
    doc: "an application load balancer",
    taggable: true,
    attributes,
    naming: Some("name"),
    arns: |s| {
        let arn = format!("arn:aws:elasticloadbalancing:{}:{}:loadbalancer/app/{}/*", s.region, s.account, s.name);
        vec![ArnPattern::new("elasticloadbalancing", "loadbalancer/app", arn)]
    },
    actions: &[
        (Create, "elasticloadbalancing:CreateLoadBalancer"),
        (Create, "elasticloadbalancing:AddTags"),
        // Waiting for it to become active.
        (Create, "elasticloadbalancing:DescribeLoadBalancers"),
        (Read, "elasticloadbalancing:DescribeLoadBalancers"),
        (Read, "elasticloadbalancing:DescribeTags"),
        (Update, "elasticloadbalancing:SetSecurityGroups"),
        (Update, "elasticloadbalancing:SetSubnets"),
        (Create, "elasticloadbalancing:ModifyLoadBalancerAttributes"),
        (Read, "elasticloadbalancing:DescribeLoadBalancerAttributes"),
        (Update, "elasticloadbalancing:ModifyLoadBalancerAttributes"),
        (Update, "elasticloadbalancing:AddTags"),
        (Update, "elasticloadbalancing:RemoveTags"),
        (Delete, "elasticloadbalancing:DeleteLoadBalancer"),
        (Find, "elasticloadbalancing:DescribeLoadBalancers"),
        (Find, "elasticloadbalancing:DescribeTags"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("elbv2", sdk::LoadBalancer),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("name", Type::String, "the load balancer's name").replaces(),
        optional("internal", Type::Bool, "reachable only inside the VPC (default false: internet-facing)").replaces(),
        required("subnets", Type::list(Type::String), "subnets in at least two availability zones"),
        required("security_groups", Type::list(Type::String), "the load balancer's security groups"),
        optional(
            "access_logs",
            Type::Object(vec![
                crate::schema::field(
                    "bucket",
                    Type::String,
                    true,
                    "the S3 bucket (SSE-S3, with ELB's delivery policy)",
                ),
                crate::schema::field("prefix", Type::String, false, "the key prefix, e.g. \"alb\""),
            ]),
            "where every request is logged (an S3 bucket ELB may write to)",
        ),
        computed("id", Type::String, "the load balancer's ARN"),
        computed("arn", Type::String, "the load balancer's ARN"),
        computed(
            "arn_suffix",
            Type::String,
            "the ARN's part after `loadbalancer/` (`app/NAME/ID`), as CloudWatch dimensions and scaling labels name it",
        ),
        computed("dns_name", Type::String, "the DNS name clients connect to"),
    ]
}

#[cfg(feature = "elbv2")]
mod sdk {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use async_trait::async_trait;
    use aws_sdk_elasticloadbalancingv2::types::{LoadBalancerSchemeEnum, LoadBalancerStateEnum, LoadBalancerTypeEnum};
    use aws_sdk_elasticloadbalancingv2::Client;
    use drone_engine::provider::{ErrorKind, FindRequest, Found, Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use aws_sdk_elasticloadbalancingv2::types::LoadBalancerAttribute;

    use super::super::sdk::{arn_suffix, elb_tags, found, read_tags};
    use crate::aws::attrs::{boolean, like_prior, observed, present, required, strings, text, Update};
    use crate::aws::error::{missing, sdk_error, unless_gone};
    use crate::aws::tagging;
    use crate::aws::wait::{self, Poll};
    use crate::aws::{AwsProvider, Ops};

    const PROVISIONING_TIMEOUT: Duration = Duration::from_secs(20 * 60);

    pub struct LoadBalancer;

    #[async_trait]
    impl Ops for LoadBalancer {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "CreateLoadBalancer";
            let scheme = if boolean(config, "internal") == Some(true) {
                LoadBalancerSchemeEnum::Internal
            } else {
                LoadBalancerSchemeEnum::InternetFacing
            };
            let out = p
                .elbv2
                .create_load_balancer()
                .name(required(config, "name", OP)?)
                .r#type(LoadBalancerTypeEnum::Application)
                .scheme(scheme)
                .set_subnets(Some(strings(config, "subnets")))
                .set_security_groups(Some(strings(config, "security_groups")))
                .set_tags(Some(elb_tags(tags)))
                .customize()
                .config_override(crate::aws::once!(aws_sdk_elasticloadbalancingv2))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let lb = out.load_balancers().first().ok_or_else(|| missing(OP, "LoadBalancers"))?;
            let arn = lb.load_balancer_arn().ok_or_else(|| missing(OP, "LoadBalancerArn"))?.to_string();
            let dns = lb.dns_name().unwrap_or_default().to_string();
            wait_active(&p.elbv2, &arn).await.map_err(|e| e.after_create(&arn))?;
            if present(config, "access_logs").is_some() {
                put_access_logs(&p.elbv2, &arn, config).await.map_err(|e| e.after_create(&arn))?;
            }
            Ok(Observed {
                id: arn.clone(),
                attributes: observed([
                    ("arn_suffix", arn_suffix(&arn, "loadbalancer/")),
                    ("arn", Value::String(arn)),
                    ("dns_name", Value::String(dns)),
                ]),
            })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            const OP: &str = "DescribeLoadBalancers";
            let name = required(f.config, "name", OP)?;
            let out = match p.elbv2.describe_load_balancers().names(name).send().await {
                Ok(out) => out,
                Err(e) => return unless_gone(sdk_error(OP, e), None),
            };
            match out.load_balancers().first().and_then(|lb| lb.load_balancer_arn()) {
                Some(arn) => Ok(Some(found(&p.elbv2, arn, f).await?)),
                None => Ok(None),
            }
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let described = p
                .elbv2
                .describe_load_balancers()
                .load_balancer_arns(id)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeLoadBalancers", e))
                .map(|o| {
                    o.load_balancers().first().map(|lb| {
                        let subnets =
                            lb.availability_zones().iter().filter_map(|z| z.subnet_id()).map(Value::str).collect();
                        observed([
                            ("name", text(lb.load_balancer_name())),
                            ("internal", Value::Bool(lb.scheme() == Some(&LoadBalancerSchemeEnum::Internal))),
                            ("subnets", like_prior(prior.get("subnets"), subnets, |a, b| a == b)),
                            (
                                "security_groups",
                                like_prior(
                                    prior.get("security_groups"),
                                    lb.security_groups().iter().map(Value::str).collect(),
                                    |a, b| a == b,
                                ),
                            ),
                            ("dns_name", text(lb.dns_name())),
                            ("arn", text(lb.load_balancer_arn())),
                            ("arn_suffix", arn_suffix(lb.load_balancer_arn().unwrap_or_default(), "loadbalancer/")),
                        ])
                    })
                });
            let Some(mut attributes) = described.or_else(|e| unless_gone(e, None))? else {
                return Ok(None);
            };
            read_tags(&p.elbv2, id, prior, &mut attributes).await?;
            attributes.insert("access_logs".into(), access_logs(&p.elbv2, id).await?);
            Ok(Some(Observed { id: id.to_string(), attributes }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            if u.changed("security_groups") {
                p.elbv2
                    .set_security_groups()
                    .load_balancer_arn(u.id)
                    .set_security_groups(Some(strings(u.config, "security_groups")))
                    .send()
                    .await
                    .map_err(|e| sdk_error("SetSecurityGroups", e))?;
            }
            if u.changed("subnets") {
                p.elbv2
                    .set_subnets()
                    .load_balancer_arn(u.id)
                    .set_subnets(Some(strings(u.config, "subnets")))
                    .send()
                    .await
                    .map_err(|e| sdk_error("SetSubnets", e))?;
            }
            if u.changed("access_logs") {
                put_access_logs(&p.elbv2, u.id, u.config).await?;
            }
            tagging::sync(&p.elbv2, u.id, u).await?;
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            p.elbv2
                .delete_load_balancer()
                .load_balancer_arn(id)
                .send()
                .await
                .map(drop)
                .map_err(|e| sdk_error("DeleteLoadBalancer", e))
        }
    }

    /// Polls until the load balancer is active: provisioning takes minutes.
    /// Turns access logging on to `access_logs`' bucket and prefix, or off when it is unset.
    async fn put_access_logs(elb: &Client, arn: &str, config: &Attributes) -> Result<(), ProviderError> {
        let logs = config.get("access_logs").and_then(Value::as_map);
        let field = |k: &str| logs.and_then(|m| m.get(k)).and_then(Value::as_str).unwrap_or_default().to_string();
        let attribute = |k: &str, v: String| LoadBalancerAttribute::builder().key(k).value(v).build();
        elb.modify_load_balancer_attributes()
            .load_balancer_arn(arn)
            .attributes(attribute("access_logs.s3.enabled", logs.is_some().to_string()))
            .attributes(attribute("access_logs.s3.bucket", field("bucket")))
            .attributes(attribute("access_logs.s3.prefix", field("prefix")))
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error("ModifyLoadBalancerAttributes", e))
    }

    /// Where the load balancer logs requests: `{ bucket, prefix }`, or null when it does not.
    async fn access_logs(elb: &Client, arn: &str) -> Result<Value, ProviderError> {
        const OP: &str = "DescribeLoadBalancerAttributes";
        let out = elb.describe_load_balancer_attributes().load_balancer_arn(arn).send().await;
        let out = out.map_err(|e| sdk_error(OP, e))?;
        let get = |k: &str| out.attributes().iter().find(|a| a.key() == Some(k)).and_then(|a| a.value());
        if get("access_logs.s3.enabled") != Some("true") {
            return Ok(Value::Null);
        }
        let mut logs = BTreeMap::from([("bucket".to_string(), text(get("access_logs.s3.bucket")))]);
        if let Some(prefix) = get("access_logs.s3.prefix").filter(|p| !p.is_empty()) {
            logs.insert("prefix".into(), Value::str(prefix));
        }
        Ok(Value::map(logs))
    }

    async fn wait_active(elb: &Client, arn: &str) -> Result<(), ProviderError> {
        const OP: &str = "DescribeLoadBalancers";
        let what = format!("{arn} did not become active");
        wait::until(OP, &what, PROVISIONING_TIMEOUT, || async {
            let out =
                elb.describe_load_balancers().load_balancer_arns(arn).send().await.map_err(|e| sdk_error(OP, e))?;
            match out.load_balancers().first().and_then(|l| l.state()).and_then(|s| s.code()) {
                Some(LoadBalancerStateEnum::Active) | None => Ok(Poll::Ready(())),
                Some(LoadBalancerStateEnum::Failed) => {
                    Err(ProviderError::new(ErrorKind::Rejected, OP, format!("{arn} failed to provision")))
                }
                Some(_) => Ok(Poll::Pending),
            }
        })
        .await
    }
}
