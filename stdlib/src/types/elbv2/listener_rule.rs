//! `aws.elbv2.listener_rule`: a rule of a listener that forwards the requests
//! carrying a secret header (CloudFront's origin header) to a target group;
//! the listener's default action answers the rest.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.elbv2.listener_rule",
    doc: "a listener rule: requests carrying a secret header go to a target group",
    taggable: true,
    attributes,
    naming: None,
    // Created on its listener; a rule's ARN holds the load balancer's name and three ids.
    arns: |s| {
        let listener = format!("arn:aws:elasticloadbalancing:{}:{}:listener/app/*", s.region, s.account);
        let rule = format!("arn:aws:elasticloadbalancing:{}:{}:listener-rule/app/*", s.region, s.account);
        vec![
            ArnPattern::new("elasticloadbalancing", "listener/app", listener),
            ArnPattern::new("elasticloadbalancing", "listener-rule/app", rule),
            crate::types::secretsmanager::any_secret(s),
        ]
    },
    actions: &[
        (Create, "elasticloadbalancing:CreateRule"),
        (Create, "elasticloadbalancing:AddTags"),
        (Create, "secretsmanager:GetSecretValue"),
        (Read, "elasticloadbalancing:DescribeRules"),
        (Read, "elasticloadbalancing:DescribeTags"),
        (Read, "secretsmanager:GetSecretValue"),
        (Update, "elasticloadbalancing:ModifyRule"),
        (Update, "elasticloadbalancing:SetRulePriorities"),
        (Update, "elasticloadbalancing:AddTags"),
        (Update, "elasticloadbalancing:RemoveTags"),
        (Update, "secretsmanager:GetSecretValue"),
        (Delete, "elasticloadbalancing:DeleteRule"),
        (Find, "elasticloadbalancing:DescribeRules"),
        (Find, "elasticloadbalancing:DescribeTags"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("elbv2", sdk::ListenerRule),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("listener_arn", Type::String, "the listener it belongs to").replaces(),
        required("priority", Type::Number, "the order rules are evaluated in, lowest first (1 to 50000)"),
        required(
            "secret_header",
            crate::types::secretsmanager::secret_header_type(),
            "the header a request must carry, with the secret's value, for the rule to take it",
        ),
        required("forward_to", Type::String, "the target group the rule's requests go to"),
        optional(
            "standby_target_group",
            Type::String,
            "a blue/green deployment's other target group: forwarded to at weight 0 until ECS shifts traffic; either one may be live without the plan counting it as drift",
        ),
        computed("id", Type::String, "the rule's ARN"),
        computed("arn", Type::String, "the rule's ARN"),
    ]
}

#[cfg(feature = "elbv2")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_elasticloadbalancingv2::types::{
        Action, ActionTypeEnum, ForwardActionConfig, HttpHeaderConditionConfig, Rule, RuleCondition, RulePriorityPair,
        TargetGroupTuple,
    };
    use drone_engine::provider::{FindRequest, Found, Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::super::sdk::{elb_tags, found, read_tags};
    use crate::aws::attrs::{int, number, observed, required, string, text, Update};
    use crate::aws::error::{invalid, missing, sdk_error, unless_gone};
    use crate::aws::tagging;
    use crate::aws::{AwsProvider, Ops};
    use crate::types::secretsmanager::sdk::SecretHeader;

    pub struct ListenerRule;

    #[async_trait]
    impl Ops for ListenerRule {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "CreateRule";
            let priority = int(config, "priority").ok_or_else(|| invalid(OP, "`priority` must be a whole number"))?;
            let out = p
                .elbv2
                .create_rule()
                .listener_arn(required(config, "listener_arn", OP)?)
                .priority(priority)
                .conditions(condition(p, config, OP).await?)
                .actions(forward(config, OP)?)
                .set_tags(Some(elb_tags(tags)))
                .customize()
                .config_override(crate::aws::once!(aws_sdk_elasticloadbalancingv2))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let arn = out.rules().first().and_then(|r| r.rule_arn()).ok_or_else(|| missing(OP, "RuleArn"))?;
            Ok(Observed { id: arn.to_string(), attributes: observed([("arn", Value::str(arn))]) })
        }

        /// A listener has one rule per priority.
        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            const OP: &str = "DescribeRules";
            let listener = required(f.config, "listener_arn", OP)?;
            let priority = int(f.config, "priority").map(|n| n.to_string());
            let out = match p.elbv2.describe_rules().listener_arn(listener).send().await {
                Ok(out) => out,
                Err(e) => return unless_gone(sdk_error(OP, e), None),
            };
            match out.rules().iter().find(|r| r.priority() == priority.as_deref()).and_then(|r| r.rule_arn()) {
                Some(arn) => Ok(Some(found(&p.elbv2, arn, f).await?)),
                None => Ok(None),
            }
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let out = match p.elbv2.describe_rules().rule_arns(id).send().await {
                Ok(out) => out,
                Err(e) => return unless_gone(sdk_error("DescribeRules", e), None),
            };
            let Some(rule) = out.rules().first() else { return Ok(None) };
            let secret = SecretHeader::of(p, prior, "secret_header").await?;
            let listener = listener_of(id);
            let mut attributes = observed([
                ("listener_arn", listener.map_or(Value::Null, Value::String)),
                ("priority", number(rule.priority().and_then(|p| p.parse::<i32>().ok()))),
                ("secret_header", header(rule, secret.as_ref())),
                ("arn", text(rule.rule_arn())),
            ]);
            attributes.extend(targets(rule, prior));
            read_tags(&p.elbv2, id, prior, &mut attributes).await?;
            Ok(Some(Observed { id: id.to_string(), attributes }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            if u.changed("priority") {
                let priority = int(u.config, "priority").unwrap_or_default();
                let pair = RulePriorityPair::builder().rule_arn(u.id).priority(priority).build();
                p.elbv2
                    .set_rule_priorities()
                    .rule_priorities(pair)
                    .send()
                    .await
                    .map_err(|e| sdk_error("SetRulePriorities", e))?;
            }
            if u.changed("secret_header") || u.changed("forward_to") || u.changed("standby_target_group") {
                const OP: &str = "ModifyRule";
                p.elbv2
                    .modify_rule()
                    .rule_arn(u.id)
                    .conditions(condition(p, u.config, OP).await?)
                    .actions(forward(u.config, OP)?)
                    .send()
                    .await
                    .map_err(|e| sdk_error(OP, e))?;
            }
            tagging::sync(&p.elbv2, u.id, u).await?;
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            match p.elbv2.delete_rule().rule_arn(id).send().await {
                Ok(_) => Ok(()),
                Err(e) => unless_gone(sdk_error("DeleteRule", e), ()),
            }
        }
    }

    /// The rule's condition: its header, with the secret's value read now.
    async fn condition(p: &AwsProvider, config: &Attributes, operation: &str) -> Result<RuleCondition, ProviderError> {
        let header = SecretHeader::of(p, config, "secret_header")
            .await?
            .ok_or_else(|| invalid(operation, "`secret_header` needs `name` and `secret_arn`"))?;
        let config = HttpHeaderConditionConfig::builder().http_header_name(&header.name).values(&header.value).build();
        Ok(RuleCondition::builder().field("http-header").http_header_config(config).build())
    }

    /// The rule's action: to `forward_to`, or, with a standby, to both at weights 100 and 0 (the
    /// form ECS's blue/green deployments shift).
    fn forward(config: &Attributes, operation: &str) -> Result<Action, ProviderError> {
        let target = required(config, "forward_to", operation)?;
        let action = Action::builder().r#type(ActionTypeEnum::Forward);
        let Some(standby) = string(config, "standby_target_group") else {
            return Ok(action.target_group_arn(target).build());
        };
        let weighted =
            |arn: &str, weight: i32| TargetGroupTuple::builder().target_group_arn(arn).weight(weight).build();
        let config = ForwardActionConfig::builder()
            .target_groups(weighted(target, 100))
            .target_groups(weighted(standby, 0))
            .build();
        Ok(action.forward_config(config).build())
    }

    /// `forward_to` (the group with the most weight) and `standby_target_group` (the other). While
    /// the rule forwards to the two groups the workflow names, whichever ECS made live, they read
    /// as the workflow writes them.
    fn targets(rule: &Rule, prior: &Attributes) -> Attributes {
        let action = rule.actions().iter().find(|a| a.r#type() == Some(&ActionTypeEnum::Forward));
        let mut groups: Vec<(i32, &str)> = action
            .and_then(|a| a.forward_config())
            .map(|f| {
                f.target_groups()
                    .iter()
                    .filter_map(|t| Some((t.weight().unwrap_or(1), t.target_group_arn()?)))
                    .collect()
            })
            .unwrap_or_default();
        if groups.is_empty() {
            groups.extend(action.and_then(|a| a.target_group_arn()).map(|arn| (1, arn)));
        }
        groups.sort_by_key(|(weight, _)| std::cmp::Reverse(*weight));
        let (mut live, mut standby) = (groups.first().map(|g| g.1), groups.get(1).map(|g| g.1));
        let declared = (string(prior, "forward_to"), string(prior, "standby_target_group"));
        if groups.len() == 2 && declared == (standby, live) {
            (live, standby) = declared;
        }
        observed([("forward_to", text(live)), ("standby_target_group", text(standby))])
    }

    /// The header condition as the workflow writes it, compared with the secret's value.
    fn header(rule: &Rule, secret: Option<&SecretHeader>) -> Value {
        let condition = rule.conditions().iter().find_map(|c| c.http_header_config());
        let Some(c) = condition else { return Value::Null };
        let name = c.http_header_name().unwrap_or_default();
        let value = c.values().first().map(String::as_str).unwrap_or_default();
        SecretHeader::read_back(secret, name, value)
    }

    /// The listener a rule belongs to, from the rule's ARN
    /// (`...:listener-rule/app/LB/LB-ID/LISTENER-ID/RULE-ID`).
    fn listener_of(rule_arn: &str) -> Option<String> {
        let (prefix, rest) = rule_arn.split_once(":listener-rule/")?;
        let (listener, _) = rest.rsplit_once('/')?;
        Some(format!("{prefix}:listener/{listener}"))
    }
}
