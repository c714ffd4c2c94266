//! `aws.wafv2.web_acl`: a WAF web ACL: rules that inspect and block web requests.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, field, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.wafv2.web_acl",
    doc: "a WAF web ACL: rules that inspect and block web requests",
    taggable: true,
    attributes,
    naming: Some("name"),
    // The scope (global or regional) and id are in the ARN; the rule groups are AWS's, in no account of ours.
    arns: |s| {
        vec![
            ArnPattern::new(
                "wafv2",
                "webacl",
                format!("arn:aws:wafv2:{}:{}:*/webacl/{}/*", s.region, s.account, s.name),
            ),
            ArnPattern::new("wafv2", "managedruleset", format!("arn:aws:wafv2:{}:*:*/managedruleset/*", s.region)),
        ]
    },
    actions: &[
        (Create, "wafv2:CreateWebACL"),
        (Read, "wafv2:GetWebACL"),
        (Read, "wafv2:ListTagsForResource"),
        (Update, "wafv2:TagResource"),
        (Update, "wafv2:UntagResource"),
        // The lock token of the version being replaced.
        (Update, "wafv2:GetWebACL"),
        (Update, "wafv2:UpdateWebACL"),
        (Delete, "wafv2:GetWebACL"),
        (Delete, "wafv2:DeleteWebACL"),
        (Find, "wafv2:ListWebACLs"),
        (Find, "wafv2:ListTagsForResource"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("wafv2", sdk::WebAcl),
};

/// The object type of one managed rule group in a web ACL.
pub fn managed_rule_group_type() -> Type {
    Type::Object(vec![
        field("name", Type::String, true, "the group, e.g. \"AWSManagedRulesCommonRuleSet\""),
        field("vendor", Type::String, false, "who publishes it (default \"AWS\")"),
    ])
}

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("name", Type::String, "the web ACL's name").replaces(),
        optional(
            "scope",
            Type::one_of(&["REGIONAL", "CLOUDFRONT"]),
            "\"REGIONAL\" (default; load balancers) or \"CLOUDFRONT\" (managed in us-east-1)",
        )
        .replaces(),
        optional("description", Type::String, "what it protects"),
        optional(
            "default_action",
            Type::one_of(&["allow", "block"]),
            "for requests no rule decides: \"allow\" (default) or \"block\"",
        ),
        optional(
            "managed_rule_groups",
            Type::list(managed_rule_group_type()),
            "managed rule groups, evaluated in the order written",
        ),
        optional("rate_limit", Type::Number, "block an IP address above this many requests per 5 minutes"),
        computed("id", Type::String, "the web ACL's id"),
        computed("arn", Type::String, "the web ACL's ARN, for a distribution's `web_acl_id`"),
    ]
}

#[cfg(feature = "wafv2")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;

    use aws_sdk_wafv2::types::{
        AllowAction, BlockAction, DefaultAction, ManagedRuleGroupStatement, NoneAction, OverrideAction,
        RateBasedStatement, RateBasedStatementAggregateKeyType, Rule, RuleAction, Scope, Statement, Tag,
        VisibilityConfig,
    };
    use aws_sdk_wafv2::Client;
    use aws_smithy_types::error::operation::BuildError;
    use drone_engine::provider::{ErrorKind, FindRequest, Found, Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use crate::aws::attrs::{
        int, objects, observed, prior_if_same, required, same_fields, string, text, user_tags, Update,
    };
    use crate::aws::error::{invalid, missing, sdk_error, unless_gone};
    use crate::aws::tagging::{self, Tagging};
    use crate::aws::{AwsProvider, Ops};

    /// The region every CLOUDFRONT-scope web ACL lives in.
    const GLOBAL_REGION: &str = "us-east-1";

    /// The web ACL's scope; a CLOUDFRONT one only from us-east-1, where AWS keeps them.
    fn scope(p: &AwsProvider, config: &Attributes, operation: &str) -> Result<Scope, ProviderError> {
        match string(config, "scope").unwrap_or("REGIONAL") {
            "REGIONAL" => Ok(Scope::Regional),
            "CLOUDFRONT" => match p.region()? {
                GLOBAL_REGION => Ok(Scope::Cloudfront),
                other => Err(invalid(
                    operation,
                    format!(
                        "a CLOUDFRONT web ACL is managed in {GLOBAL_REGION}, but this provider is in {other}; \
                         give the resource `provider = ` a provider block with region = \"{GLOBAL_REGION}\""
                    ),
                )),
            },
            other => Err(invalid(operation, format!("`scope` is \"REGIONAL\" or \"CLOUDFRONT\", not \"{other}\""))),
        }
    }

    fn built(operation: &str, e: BuildError) -> ProviderError {
        invalid(operation, e.to_string())
    }

    fn visibility(metric: &str, operation: &str) -> Result<VisibilityConfig, ProviderError> {
        // Metric names allow letters, digits, '-' and '_'.
        let metric: String =
            metric.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
        VisibilityConfig::builder()
            .sampled_requests_enabled(true)
            .cloud_watch_metrics_enabled(true)
            .metric_name(metric)
            .build()
            .map_err(|e| built(operation, e))
    }

    fn default_action(config: &Attributes, operation: &str) -> Result<DefaultAction, ProviderError> {
        match string(config, "default_action").unwrap_or("allow") {
            "allow" => Ok(DefaultAction::builder().allow(AllowAction::builder().build()).build()),
            "block" => Ok(DefaultAction::builder().block(BlockAction::builder().build()).build()),
            other => Err(invalid(operation, format!("`default_action` is \"allow\" or \"block\", not \"{other}\""))),
        }
    }

    /// The managed rule groups, in the order written, then the rate limit.
    fn rules(config: &Attributes, operation: &str) -> Result<Vec<Rule>, ProviderError> {
        let mut rules = Vec::new();
        for (priority, group) in objects(config, "managed_rule_groups").into_iter().enumerate() {
            let name = group.get("name").and_then(Value::as_str).ok_or_else(|| {
                invalid(
                    operation,
                    "each of `managed_rule_groups` needs a `name`, e.g. \"AWSManagedRulesCommonRuleSet\"",
                )
            })?;
            let vendor = group.get("vendor").and_then(Value::as_str).unwrap_or("AWS");
            let statement = ManagedRuleGroupStatement::builder()
                .vendor_name(vendor)
                .name(name)
                .build()
                .map_err(|e| built(operation, e))?;
            rules.push(
                Rule::builder()
                    .name(name)
                    .priority(priority as i32)
                    .statement(Statement::builder().managed_rule_group_statement(statement).build())
                    // The group's own actions (block, count) apply.
                    .override_action(OverrideAction::builder().none(NoneAction::builder().build()).build())
                    .visibility_config(visibility(name, operation)?)
                    .build()
                    .map_err(|e| built(operation, e))?,
            );
        }
        if let Some(limit) = int(config, "rate_limit") {
            let statement = RateBasedStatement::builder()
                .limit(i64::from(limit))
                .aggregate_key_type(RateBasedStatementAggregateKeyType::Ip)
                .build()
                .map_err(|e| built(operation, e))?;
            rules.push(
                Rule::builder()
                    .name("rate-limit")
                    .priority(rules.len() as i32)
                    .statement(Statement::builder().rate_based_statement(statement).build())
                    .action(RuleAction::builder().block(BlockAction::builder().build()).build())
                    .visibility_config(visibility("rate-limit", operation)?)
                    .build()
                    .map_err(|e| built(operation, e))?,
            );
        }
        Ok(rules)
    }

    async fn lock_token(waf: &Client, name: &str, scope: &Scope, id: &str) -> Result<String, ProviderError> {
        let out = waf
            .get_web_acl()
            .name(name)
            .scope(scope.clone())
            .id(id)
            .send()
            .await
            .map_err(|e| sdk_error("GetWebACL", e))?;
        out.lock_token().map(String::from).ok_or_else(|| missing("GetWebACL", "LockToken"))
    }

    #[async_trait]
    impl Tagging for Client {
        async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
            let tags = tags
                .iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(|e| built("TagResource", e)))
                .collect::<Result<Vec<_>, _>>()?;
            let tag = self.tag_resource().resource_arn(arn).set_tags(Some(tags));
            tag.send().await.map(drop).map_err(|e| sdk_error("TagResource", e))
        }

        async fn untag(&self, arn: &str, keys: Vec<String>) -> Result<(), ProviderError> {
            let untag = self.untag_resource().resource_arn(arn).set_tag_keys(Some(keys));
            untag.send().await.map(drop).map_err(|e| sdk_error("UntagResource", e))
        }
    }

    /// The type's operations.
    pub struct WebAcl;

    #[async_trait]
    impl Ops for WebAcl {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "CreateWebACL";
            let scope = scope(p, config, OP)?;
            let name = required(config, "name", OP)?;
            let tags = tags
                .iter()
                .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(|e| built(OP, e)))
                .collect::<Result<Vec<_>, _>>()?;
            let out = p
                .wafv2
                .create_web_acl()
                .name(name)
                .scope(scope)
                .set_description(string(config, "description").map(String::from))
                .default_action(default_action(config, OP)?)
                .visibility_config(visibility(name, OP)?)
                .set_rules(Some(rules(config, OP)?))
                .set_tags(Some(tags))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let summary = out.summary().ok_or_else(|| missing(OP, "Summary"))?;
            let id = summary.id().ok_or_else(|| missing(OP, "Id"))?.to_string();
            let arn = summary.arn().ok_or_else(|| missing(OP, "ARN"))?.to_string();
            Ok(Observed { id, attributes: observed([("arn", Value::String(arn))]) })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            const OP: &str = "ListWebACLs";
            let scope = scope(p, f.config, OP)?;
            let name = required(f.config, "name", OP)?;
            let mut marker: Option<String> = None;
            loop {
                let out = p
                    .wafv2
                    .list_web_acls()
                    .scope(scope.clone())
                    .set_next_marker(marker.take())
                    .send()
                    .await
                    .map_err(|e| sdk_error(OP, e))?;
                if let Some(acl) = out.web_acls().iter().find(|a| a.name() == Some(name)) {
                    let (Some(id), Some(arn)) = (acl.id(), acl.arn()) else {
                        return Err(missing(OP, "Id"));
                    };
                    let tags = p
                        .wafv2
                        .list_tags_for_resource()
                        .resource_arn(arn)
                        .send()
                        .await
                        .map_err(|e| sdk_error("ListTagsForResource", e))?;
                    let list = tags.tag_info_for_resource().map(|t| t.tag_list()).unwrap_or_default();
                    let owner = crate::aws::attrs::owner(list.iter().map(|t| (t.key(), t.value())), f.tags);
                    return Ok(Some(Found { id: id.to_string(), owner }));
                }
                match out.next_marker().filter(|m| !m.is_empty() && !out.web_acls().is_empty()) {
                    Some(next) => marker = Some(next.to_string()),
                    None => return Ok(None),
                }
            }
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let scope = scope(p, prior, "GetWebACL")?;
            let name = required(prior, "name", "GetWebACL")?;
            let out = match p.wafv2.get_web_acl().name(name).scope(scope.clone()).id(id).send().await {
                Ok(out) => out,
                Err(e) => return unless_gone(sdk_error("GetWebACL", e), None),
            };
            let Some(acl) = out.web_acl() else {
                return Ok(None);
            };
            let mut rules: Vec<&Rule> = acl.rules().iter().collect();
            rules.sort_by_key(|r| r.priority());
            // Managed groups in their order of evaluation, each spelled as the workflow wrote it.
            let recorded = prior.get("managed_rule_groups").and_then(Value::as_list).unwrap_or_default();
            let groups = rules
                .iter()
                .filter_map(|r| r.statement()?.managed_rule_group_statement())
                .enumerate()
                .map(|(i, g)| {
                    let group = Value::map(BTreeMap::from([
                        ("name".to_string(), Value::str(g.name())),
                        ("vendor".to_string(), Value::str(g.vendor_name())),
                    ]));
                    prior_if_same(recorded.get(i), group, |a, b| same_fields(a, b, &[("vendor", Value::str("AWS"))]))
                })
                .collect();
            let rate_limit = rules
                .iter()
                .find_map(|r| r.statement()?.rate_based_statement())
                .map_or(Value::Null, |r| Value::Number(r.limit() as f64));
            let default_action = match acl.default_action() {
                Some(a) if a.block().is_some() => "block",
                _ => "allow",
            };
            let scope = if scope == Scope::Cloudfront { "CLOUDFRONT" } else { "REGIONAL" };
            let mut attributes = observed([
                ("name", Value::str(acl.name())),
                // The scope is part of the web ACL's identity: it was found in this one.
                ("scope", Value::str(scope)),
                ("description", text(acl.description())),
                ("default_action", Value::str(default_action)),
                ("managed_rule_groups", Value::List(groups)),
                ("rate_limit", rate_limit),
                ("arn", Value::str(acl.arn())),
            ]);
            // Tags are a request of their own: read when the workflow sets them.
            if prior.contains_key("tags") {
                let out = p
                    .wafv2
                    .list_tags_for_resource()
                    .resource_arn(acl.arn())
                    .send()
                    .await
                    .map_err(|e| sdk_error("ListTagsForResource", e))?;
                let tags = out.tag_info_for_resource().map(|t| t.tag_list()).unwrap_or_default();
                attributes.insert("tags".into(), user_tags(tags.iter().map(|t| (t.key(), t.value()))));
            }
            Ok(Some(Observed { id: id.to_string(), attributes }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            const OP: &str = "UpdateWebACL";
            let scope = scope(p, u.config, OP)?;
            let name = required(u.config, "name", OP)?;
            let arn = string(u.prior, "arn").ok_or_else(|| missing(OP, "the web ACL's ARN in state"))?.to_string();
            tagging::sync(&p.wafv2, &arn, u).await?;
            if u.changed_besides_tags() {
                let token = lock_token(&p.wafv2, name, &scope, u.id).await?;
                p.wafv2
                    .update_web_acl()
                    .name(name)
                    .scope(scope)
                    .id(u.id)
                    .lock_token(token)
                    .set_description(string(u.config, "description").map(String::from))
                    .default_action(default_action(u.config, OP)?)
                    .visibility_config(visibility(name, OP)?)
                    .set_rules(Some(rules(u.config, OP)?))
                    .send()
                    .await
                    .map_err(|e| sdk_error(OP, e))?;
            }
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<(), ProviderError> {
            const OP: &str = "DeleteWebACL";
            let scope = scope(p, prior, OP)?;
            let name = required(prior, "name", OP)?;
            let token = match lock_token(&p.wafv2, name, &scope, id).await {
                Ok(token) => token,
                Err(e) if e.kind == ErrorKind::NotFound => return Ok(()),
                Err(e) => return Err(e),
            };
            let call = p.wafv2.delete_web_acl().name(name).scope(scope).id(id).lock_token(token);
            call.send().await.map(drop).map_err(|e| sdk_error(OP, e))
        }
    }
}
