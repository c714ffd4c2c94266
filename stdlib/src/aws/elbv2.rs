//! Elastic Load Balancing (v2): application load balancers, target groups
//! and listeners (with a waiter: a load balancer takes minutes to provision).

use std::collections::BTreeMap;
use std::time::Duration;

use aws_sdk_elasticloadbalancingv2::types::{
    Action, ActionTypeEnum, Certificate, LoadBalancerSchemeEnum, LoadBalancerStateEnum, LoadBalancerTypeEnum,
    ProtocolEnum, RedirectActionConfig, RedirectActionStatusCodeEnum, Tag, TargetTypeEnum,
};
use aws_sdk_elasticloadbalancingv2::Client;
use drone_engine::provider::{ErrorKind, Observed, ProviderError};
use drone_engine::value::{Attributes, Value};

use super::attrs::{
    boolean, int, like_prior, number, observed, required, string, strings, tag_changes, text, user_tags, Update,
};
use super::error::{invalid, missing, sdk_error, unless_gone};
use super::wait::{self, Poll};
use super::AwsProvider;

const PROVISIONING_TIMEOUT: Duration = Duration::from_secs(20 * 60);

pub(super) async fn create(
    p: &AwsProvider,
    kind: &str,
    config: &Attributes,
    tags: &BTreeMap<String, String>,
) -> Result<Observed, ProviderError> {
    let elb = &p.elbv2;
    match kind {
        "load_balancer" => {
            const OP: &str = "CreateLoadBalancer";
            let scheme = if boolean(config, "internal") == Some(true) {
                LoadBalancerSchemeEnum::Internal
            } else {
                LoadBalancerSchemeEnum::InternetFacing
            };
            let out = elb
                .create_load_balancer()
                .name(required(config, "name", OP)?)
                .r#type(LoadBalancerTypeEnum::Application)
                .scheme(scheme)
                .set_subnets(Some(strings(config, "subnets")))
                .set_security_groups(Some(strings(config, "security_groups")))
                .set_tags(Some(elb_tags(tags)))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let lb = out.load_balancers().first().ok_or_else(|| missing(OP, "LoadBalancers"))?;
            let arn = lb.load_balancer_arn().ok_or_else(|| missing(OP, "LoadBalancerArn"))?.to_string();
            let dns = lb.dns_name().unwrap_or_default().to_string();
            wait_active(elb, &arn).await.map_err(|e| e.after_create(&arn))?;
            Ok(Observed {
                id: arn.clone(),
                attributes: observed([("arn", Value::String(arn)), ("dns_name", Value::String(dns))]),
            })
        }
        "target_group" => {
            const OP: &str = "CreateTargetGroup";
            let port = int(config, "port").ok_or_else(|| invalid(OP, "`port` must be a whole number"))?;
            let out = elb
                .create_target_group()
                .name(required(config, "name", OP)?)
                .protocol(ProtocolEnum::from(string(config, "protocol").unwrap_or("HTTP")))
                .port(port)
                .vpc_id(required(config, "vpc_id", OP)?)
                // Fargate tasks register by IP address.
                .target_type(TargetTypeEnum::Ip)
                .set_health_check_path(string(config, "health_check_path").map(String::from))
                .set_tags(Some(elb_tags(tags)))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let arn = out
                .target_groups()
                .first()
                .and_then(|t| t.target_group_arn())
                .ok_or_else(|| missing(OP, "TargetGroupArn"))?
                .to_string();
            Ok(Observed { id: arn.clone(), attributes: observed([("arn", Value::String(arn))]) })
        }
        "listener" => {
            const OP: &str = "CreateListener";
            let port = int(config, "port").ok_or_else(|| invalid(OP, "`port` must be a whole number"))?;
            let out = elb
                .create_listener()
                .load_balancer_arn(required(config, "load_balancer_arn", OP)?)
                .port(port)
                .protocol(ProtocolEnum::from(required(config, "protocol", OP)?))
                .set_certificates(certificates(config))
                .set_ssl_policy(string(config, "ssl_policy").map(String::from))
                .default_actions(default_action(config, OP)?)
                .set_tags(Some(elb_tags(tags)))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let arn = out
                .listeners()
                .first()
                .and_then(|l| l.listener_arn())
                .ok_or_else(|| missing(OP, "ListenerArn"))?
                .to_string();
            Ok(Observed { id: arn.clone(), attributes: observed([("arn", Value::String(arn))]) })
        }
        other => Err(invalid("create", format!("unknown ELBv2 type `{other}`"))),
    }
}

/// Polls until the load balancer is active: provisioning takes minutes.
async fn wait_active(elb: &Client, arn: &str) -> Result<(), ProviderError> {
    const OP: &str = "DescribeLoadBalancers";
    let what = format!("{arn} did not become active");
    wait::until(OP, &what, PROVISIONING_TIMEOUT, || async {
        let out = elb.describe_load_balancers().load_balancer_arns(arn).send().await.map_err(|e| sdk_error(OP, e))?;
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

fn certificates(config: &Attributes) -> Option<Vec<Certificate>> {
    string(config, "certificate_arn").map(|arn| vec![Certificate::builder().certificate_arn(arn).build()])
}

/// A listener's one action: forward to a target group, or redirect to HTTPS.
fn default_action(config: &Attributes, operation: &str) -> Result<Action, ProviderError> {
    if boolean(config, "redirect_to_https") == Some(true) {
        let redirect = RedirectActionConfig::builder()
            .protocol("HTTPS")
            .port("443")
            .status_code(RedirectActionStatusCodeEnum::Http301)
            .build();
        return Ok(Action::builder().r#type(ActionTypeEnum::Redirect).redirect_config(redirect).build());
    }
    let target = string(config, "forward_to")
        .ok_or_else(|| invalid(operation, "a listener needs `forward_to` or `redirect_to_https = true`"))?;
    Ok(Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn(target).build())
}

pub(super) async fn read(
    p: &AwsProvider,
    kind: &str,
    id: &str,
    prior: &Attributes,
) -> Result<Option<Observed>, ProviderError> {
    let elb = &p.elbv2;
    let described = match kind {
        "load_balancer" => elb
            .describe_load_balancers()
            .load_balancer_arns(id)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeLoadBalancers", e))
            .map(|o| {
                o.load_balancers().first().map(|lb| {
                    let subnets =
                        lb.availability_zones().iter().filter_map(|z| z.subnet_id()).map(Value::str).collect();
                    let groups = lb.security_groups().iter().map(Value::str).collect();
                    observed([
                        ("name", text(lb.load_balancer_name())),
                        ("internal", Value::Bool(lb.scheme() == Some(&LoadBalancerSchemeEnum::Internal))),
                        ("subnets", like_prior(prior.get("subnets"), subnets, |a, b| a == b)),
                        ("security_groups", like_prior(prior.get("security_groups"), groups, |a, b| a == b)),
                        ("dns_name", text(lb.dns_name())),
                    ])
                })
            }),
        "target_group" => elb
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
                    ])
                })
            }),
        _ => {
            elb.describe_listeners().listener_arns(id).send().await.map_err(|e| sdk_error("DescribeListeners", e)).map(
                |o| {
                    o.listeners().first().map(|l| {
                        let action = l.default_actions().first();
                        let forward = action
                            .filter(|a| a.r#type() == Some(&ActionTypeEnum::Forward))
                            .and_then(|a| a.target_group_arn());
                        let redirect = action.is_some_and(|a| a.r#type() == Some(&ActionTypeEnum::Redirect));
                        observed([
                            ("load_balancer_arn", text(l.load_balancer_arn())),
                            ("port", number(l.port())),
                            ("protocol", text(l.protocol().map(|p| p.as_str()))),
                            ("certificate_arn", text(l.certificates().first().and_then(|c| c.certificate_arn()))),
                            ("ssl_policy", text(l.ssl_policy())),
                            ("forward_to", text(forward)),
                            ("redirect_to_https", Value::Bool(redirect)),
                        ])
                    })
                },
            )
        }
    };
    let mut attributes = match described {
        Ok(Some(attributes)) => attributes,
        Ok(None) => return Ok(None),
        Err(e) => return unless_gone(e, None),
    };
    // Tags are a request of their own: read when the workflow sets them.
    if prior.contains_key("tags") {
        let out = elb.describe_tags().resource_arns(id).send().await.map_err(|e| sdk_error("DescribeTags", e))?;
        let tags = out.tag_descriptions().first().map(|d| d.tags()).unwrap_or_default();
        attributes.insert(
            "tags".into(),
            user_tags(tags.iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default())))),
        );
    }
    Ok(Some(Observed { id: id.to_string(), attributes }))
}

pub(super) async fn update(p: &AwsProvider, kind: &str, u: &Update<'_>) -> Result<Observed, ProviderError> {
    let elb = &p.elbv2;
    match kind {
        "load_balancer" => {
            if u.changed("security_groups") {
                elb.set_security_groups()
                    .load_balancer_arn(u.id)
                    .set_security_groups(Some(strings(u.config, "security_groups")))
                    .send()
                    .await
                    .map_err(|e| sdk_error("SetSecurityGroups", e))?;
            }
            if u.changed("subnets") {
                elb.set_subnets()
                    .load_balancer_arn(u.id)
                    .set_subnets(Some(strings(u.config, "subnets")))
                    .send()
                    .await
                    .map_err(|e| sdk_error("SetSubnets", e))?;
            }
        }
        "target_group" if u.changed("health_check_path") => {
            elb.modify_target_group()
                .target_group_arn(u.id)
                .health_check_path(string(u.config, "health_check_path").unwrap_or("/"))
                .send()
                .await
                .map_err(|e| sdk_error("ModifyTargetGroup", e))?;
        }
        "listener" if u.changed.iter().any(|c| c != "tags") => {
            const OP: &str = "ModifyListener";
            // Only what changed: resending an unchanged certificate makes the service look it up again.
            let action_changed = u.changed("forward_to") || u.changed("redirect_to_https");
            elb.modify_listener()
                .listener_arn(u.id)
                .set_port(int(u.config, "port").filter(|_| u.changed("port")))
                .set_protocol(
                    u.changed("protocol").then(|| ProtocolEnum::from(string(u.config, "protocol").unwrap_or("HTTP"))),
                )
                .set_certificates(certificates(u.config).filter(|_| u.changed("certificate_arn")))
                .set_ssl_policy(string(u.config, "ssl_policy").filter(|_| u.changed("ssl_policy")).map(String::from))
                .set_default_actions(if action_changed { Some(vec![default_action(u.config, OP)?]) } else { None })
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
        }
        _ => {}
    }
    if u.changed("tags") {
        let (removed, desired) = tag_changes(u.prior, u.tags);
        if !removed.is_empty() {
            elb.remove_tags()
                .resource_arns(u.id)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(|e| sdk_error("RemoveTags", e))?;
        }
        elb.add_tags()
            .resource_arns(u.id)
            .set_tags(Some(elb_tags(&desired)))
            .send()
            .await
            .map_err(|e| sdk_error("AddTags", e))?;
    }
    Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
}

pub(super) async fn delete(p: &AwsProvider, kind: &str, id: &str, _prior: &Attributes) -> Result<(), ProviderError> {
    let elb = &p.elbv2;
    let result = match kind {
        "load_balancer" => elb
            .delete_load_balancer()
            .load_balancer_arn(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error("DeleteLoadBalancer", e)),
        // Refused (ResourceInUse, retried) while a listener still forwards to it.
        "target_group" => elb
            .delete_target_group()
            .target_group_arn(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error("DeleteTargetGroup", e)),
        _ => elb.delete_listener().listener_arn(id).send().await.map(drop).map_err(|e| sdk_error("DeleteListener", e)),
    };
    match result {
        Err(e) if e.kind == ErrorKind::NotFound => Ok(()),
        other => other,
    }
}

fn elb_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}
