//! `aws.elbv2.listener`: a port a load balancer listens on, and what it does with requests.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.elbv2.listener",
    doc: "a port a load balancer listens on, and what it does with requests",
    taggable: true,
    attributes,
    naming: None,
    // A listener's ARN holds its load balancer's name and two ids, none of them its own name.
    arns: |s| {
        let arn = format!("arn:aws:elasticloadbalancing:{}:{}:listener/app/*", s.region, s.account);
        vec![ArnPattern::new("elasticloadbalancing", "listener/app", arn)]
    },
    actions: &[
        (Create, "elasticloadbalancing:CreateListener"),
        (Create, "elasticloadbalancing:AddTags"),
        (Read, "elasticloadbalancing:DescribeListeners"),
        (Read, "elasticloadbalancing:DescribeTags"),
        (Update, "elasticloadbalancing:ModifyListener"),
        (Update, "elasticloadbalancing:AddTags"),
        (Update, "elasticloadbalancing:RemoveTags"),
        (Delete, "elasticloadbalancing:DeleteListener"),
        (Find, "elasticloadbalancing:DescribeListeners"),
        (Find, "elasticloadbalancing:DescribeTags"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("elbv2", sdk::Listener),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("load_balancer_arn", Type::String, "the load balancer's ARN").replaces(),
        required("port", Type::Number, "the port, e.g. 443"),
        required("protocol", Type::one_of(&["HTTP", "HTTPS"]), "\"HTTP\" or \"HTTPS\""),
        optional("certificate_arn", Type::String, "the TLS certificate (ACM) of an HTTPS listener"),
        optional("ssl_policy", Type::String, "the TLS negotiation policy of an HTTPS listener"),
        optional("forward_to", Type::String, "the target group to forward requests to"),
        optional("redirect_to_https", Type::Bool, "answer every request with a redirect to HTTPS on 443"),
        optional(
            "deny_status",
            Type::Number,
            "answer every request no listener rule takes with this status and no body, e.g. 403",
        ),
        computed("id", Type::String, "the listener's ARN"),
        computed("arn", Type::String, "the listener's ARN"),
    ]
}

#[cfg(feature = "elbv2")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_elasticloadbalancingv2::types::{
        Action, ActionTypeEnum, Certificate, FixedResponseActionConfig, ProtocolEnum, RedirectActionConfig,
        RedirectActionStatusCodeEnum,
    };
    use drone_engine::provider::{FindRequest, Found, Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::super::sdk::{elb_tags, found, read_tags};
    use crate::aws::attrs::{boolean, int, number, observed, required, string, text, Update};
    use crate::aws::error::{invalid, missing, sdk_error, unless_gone};
    use crate::aws::tagging;
    use crate::aws::{AwsProvider, Ops};

    pub struct Listener;

    #[async_trait]
    impl Ops for Listener {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "CreateListener";
            let port = int(config, "port").ok_or_else(|| invalid(OP, "`port` must be a whole number"))?;
            let out = p
                .elbv2
                .create_listener()
                .load_balancer_arn(required(config, "load_balancer_arn", OP)?)
                .port(port)
                .protocol(ProtocolEnum::from(required(config, "protocol", OP)?))
                .set_certificates(certificates(config))
                .set_ssl_policy(string(config, "ssl_policy").map(String::from))
                .default_actions(default_action(config, OP)?)
                .set_tags(Some(elb_tags(tags)))
                .customize()
                .config_override(crate::aws::once!(aws_sdk_elasticloadbalancingv2))
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

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            // A load balancer has one listener per port.
            const OP: &str = "DescribeListeners";
            let balancer = required(f.config, "load_balancer_arn", OP)?;
            let port = int(f.config, "port").ok_or_else(|| invalid(OP, "`port` is required"))?;
            let out = match p.elbv2.describe_listeners().load_balancer_arn(balancer).send().await {
                Ok(out) => out,
                Err(e) => return unless_gone(sdk_error(OP, e), None),
            };
            match out.listeners().iter().find(|l| l.port() == Some(port)).and_then(|l| l.listener_arn()) {
                Some(arn) => Ok(Some(found(&p.elbv2, arn, f).await?)),
                None => Ok(None),
            }
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let described = p
                .elbv2
                .describe_listeners()
                .listener_arns(id)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeListeners", e))
                .map(|o| {
                    o.listeners().first().map(|l| {
                        let action = l.default_actions().first();
                        let forward = action
                            .filter(|a| a.r#type() == Some(&ActionTypeEnum::Forward))
                            .and_then(|a| a.target_group_arn());
                        let redirect = action.is_some_and(|a| a.r#type() == Some(&ActionTypeEnum::Redirect));
                        let deny = action
                            .and_then(|a| a.fixed_response_config())
                            .and_then(|f| f.status_code()?.parse::<f64>().ok())
                            .map_or(Value::Null, Value::Number);
                        observed([
                            ("load_balancer_arn", text(l.load_balancer_arn())),
                            ("port", number(l.port())),
                            ("protocol", text(l.protocol().map(|p| p.as_str()))),
                            ("certificate_arn", text(l.certificates().first().and_then(|c| c.certificate_arn()))),
                            ("ssl_policy", text(l.ssl_policy())),
                            ("forward_to", text(forward)),
                            ("redirect_to_https", Value::Bool(redirect)),
                            ("deny_status", deny),
                            ("arn", text(l.listener_arn())),
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
            if u.changed_besides_tags() {
                const OP: &str = "ModifyListener";
                // Only what changed: resending an unchanged certificate makes the service look it up again.
                let action_changed =
                    u.changed("forward_to") || u.changed("redirect_to_https") || u.changed("deny_status");
                p.elbv2
                    .modify_listener()
                    .listener_arn(u.id)
                    .set_port(int(u.config, "port").filter(|_| u.changed("port")))
                    .set_protocol(
                        u.changed("protocol")
                            .then(|| ProtocolEnum::from(string(u.config, "protocol").unwrap_or("HTTP"))),
                    )
                    .set_certificates(certificates(u.config).filter(|_| u.changed("certificate_arn")))
                    .set_ssl_policy(
                        string(u.config, "ssl_policy").filter(|_| u.changed("ssl_policy")).map(String::from),
                    )
                    .set_default_actions(if action_changed { Some(vec![default_action(u.config, OP)?]) } else { None })
                    .send()
                    .await
                    .map_err(|e| sdk_error(OP, e))?;
            }
            tagging::sync(&p.elbv2, u.id, u).await?;
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            p.elbv2
                .delete_listener()
                .listener_arn(id)
                .send()
                .await
                .map(drop)
                .map_err(|e| sdk_error("DeleteListener", e))
        }
    }

    fn certificates(config: &Attributes) -> Option<Vec<Certificate>> {
        string(config, "certificate_arn").map(|arn| vec![Certificate::builder().certificate_arn(arn).build()])
    }

    /// A listener's default action: redirect to HTTPS, forward to a target group,
    /// or answer with a fixed status (requests its rules did not take).
    fn default_action(config: &Attributes, operation: &str) -> Result<Action, ProviderError> {
        if boolean(config, "redirect_to_https") == Some(true) {
            let redirect = RedirectActionConfig::builder()
                .protocol("HTTPS")
                .port("443")
                .status_code(RedirectActionStatusCodeEnum::Http301)
                .build();
            return Ok(Action::builder().r#type(ActionTypeEnum::Redirect).redirect_config(redirect).build());
        }
        if let Some(target) = string(config, "forward_to") {
            return Ok(Action::builder().r#type(ActionTypeEnum::Forward).target_group_arn(target).build());
        }
        let status = int(config, "deny_status").ok_or_else(|| {
            invalid(operation, "a listener needs `forward_to`, `redirect_to_https = true` or `deny_status`")
        })?;
        let fixed =
            FixedResponseActionConfig::builder().status_code(status.to_string()).content_type("text/plain").build();
        Ok(Action::builder().r#type(ActionTypeEnum::FixedResponse).fixed_response_config(fixed).build())
    }
}
