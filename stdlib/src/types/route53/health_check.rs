//! `aws.route53.health_check`: Route 53 probing an endpoint from several AWS
//! regions, or reading a CloudWatch alarm's state (`CLOUDWATCH_METRIC`: for an
//! endpoint its probes cannot reach), which failover routing and alarms read.
//! It has no name: drone finds its own by the create's caller reference and by
//! its tags.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.route53.health_check",
    doc: "a Route 53 health check: an endpoint probed from several regions, for failover routing",
    taggable: true,
    attributes,
    naming: None,
    // Health check ids exist only after create; Route 53 is global.
    arns: |_| vec![ArnPattern::new("route53", "healthcheck", "arn:aws:route53:::healthcheck/*".into())],
    actions: &[
        (Create, "route53:CreateHealthCheck"),
        (Create, "route53:ChangeTagsForResource"),
        (Read, "route53:GetHealthCheck"),
        (Read, "route53:ListTagsForResource"),
        (Update, "route53:UpdateHealthCheck"),
        (Update, "route53:ChangeTagsForResource"),
        (Delete, "route53:DeleteHealthCheck"),
        (Find, "route53:ListHealthChecks"),
        (Find, "route53:ListTagsForResource"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("route53", sdk::HealthCheck),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required(
            "type",
            Type::one_of(&["HTTPS", "HTTP", "TCP", "CLOUDWATCH_METRIC"]),
            "how the endpoint is probed: \"HTTPS\" (a 2xx or 3xx answer over TLS), \"HTTP\" or \"TCP\"; \
             \"CLOUDWATCH_METRIC\": unhealthy while `alarm` is in ALARM",
        )
        .replaces(),
        optional("alarm", alarm_type(), "for CLOUDWATCH_METRIC: the CloudWatch alarm whose state is the check's"),
        optional(
            "insufficient_data_health_status",
            Type::one_of(&["Healthy", "Unhealthy", "LastKnownStatus"]),
            "for CLOUDWATCH_METRIC: the status while the alarm has too little data (or its region answers nothing)",
        ),
        optional("fqdn", Type::String, "the endpoint's domain name, e.g. a load balancer's `dns_name`"),
        optional("ip_address", Type::String, "the endpoint's IP address, when it has no domain name"),
        optional("port", Type::Number, "the port probed (default 443 for HTTPS, 80 otherwise)"),
        optional("resource_path", Type::String, "the path requested, e.g. \"/ghost/api/admin/site/\""),
        optional(
            "request_interval",
            Type::Number,
            "seconds between probes from each region: 30, or 10 (a fast check, at a higher price)",
        )
        .replaces(),
        optional(
            "failure_threshold",
            Type::Number,
            "consecutive failed probes (1 to 10, default 3) before the endpoint counts as unhealthy",
        ),
        optional("regions", Type::list(Type::String), "the regions that probe (at least 3; default: every one)"),
        optional("disabled", Type::Bool, "stop probing and count the endpoint as healthy"),
        computed("id", Type::String, "the health check's id, which failover records and alarms name"),
    ]
}

/// The object type of a metric health check's alarm.
fn alarm_type() -> Type {
    Type::Object(vec![
        crate::schema::field("region", Type::String, true, "the alarm's region"),
        crate::schema::field("name", Type::String, true, "the alarm's name"),
    ])
}

#[cfg(feature = "route53")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_route53::types::{
        AlarmIdentifier, CloudWatchRegion, HealthCheckConfig, HealthCheckRegion, HealthCheckType,
        InsufficientDataHealthStatus, TagResourceType,
    };
    use drone_engine::provider::{FindRequest, Found, Observed, Owner, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::super::sdk::Tags;
    use crate::aws::attrs::{self, boolean, int, like_prior, observed, required, string, strings, Update};
    use crate::aws::error::{invalid, missing, sdk_error, unless_gone};
    use crate::aws::tagging::{self, Tagging};
    use crate::aws::{AwsProvider, Ops};

    pub struct HealthCheck;

    /// Route 53's tagging calls for health checks.
    fn checks(p: &AwsProvider) -> Tags<'_> {
        Tags { client: &p.route53, kind: TagResourceType::Healthcheck }
    }

    fn regions(config: &Attributes) -> Option<Vec<HealthCheckRegion>> {
        config
            .get("regions")
            .and_then(Value::as_list)
            .map(|_| strings(config, "regions").iter().map(|r| HealthCheckRegion::from(r.as_str())).collect())
    }

    /// The alarm a metric health check reads, as the API names it.
    fn alarm(config: &Attributes, operation: &str) -> Result<Option<AlarmIdentifier>, ProviderError> {
        let Some(alarm) = config.get("alarm").and_then(Value::as_map) else { return Ok(None) };
        let text = |k: &str| alarm.get(k).and_then(Value::as_str).unwrap_or_default().to_string();
        let built =
            AlarmIdentifier::builder().region(CloudWatchRegion::from(text("region").as_str())).name(text("name"));
        built.build().map(Some).map_err(|e| invalid(operation, e.to_string()))
    }

    fn insufficient_data(config: &Attributes) -> Option<InsufficientDataHealthStatus> {
        string(config, "insufficient_data_health_status").map(InsufficientDataHealthStatus::from)
    }

    #[async_trait]
    impl Ops for HealthCheck {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "CreateHealthCheck";
            let kind = HealthCheckType::from(required(config, "type", OP)?);
            let check = HealthCheckConfig::builder()
                .r#type(kind)
                .set_fully_qualified_domain_name(string(config, "fqdn").map(String::from))
                .set_ip_address(string(config, "ip_address").map(String::from))
                .set_port(int(config, "port"))
                .set_resource_path(string(config, "resource_path").map(String::from))
                .set_request_interval(int(config, "request_interval"))
                .set_failure_threshold(int(config, "failure_threshold"))
                .set_regions(regions(config))
                .set_disabled(boolean(config, "disabled"))
                .set_alarm_identifier(alarm(config, OP)?)
                .set_insufficient_data_health_status(insufficient_data(config))
                .build()
                .map_err(|e| invalid(OP, e.to_string()))?;
            let out = p
                .route53
                .create_health_check()
                // The create's token: a repeated request returns the health check it made.
                .caller_reference(token)
                .health_check_config(check)
                .customize()
                .config_override(crate::aws::once!(aws_sdk_route53))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let id = out.health_check().map(|h| h.id().to_string()).ok_or_else(|| missing(OP, "HealthCheck"))?;
            checks(p).tag(&id, tags).await.map_err(|e| e.after_create(&id))?;
            Ok(Observed { id, attributes: Attributes::new() })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            const OP: &str = "ListHealthChecks";
            let mut marker = None;
            loop {
                let out = p.route53.list_health_checks().set_marker(marker).send().await;
                let out = out.map_err(|e| sdk_error(OP, e))?;
                for check in out.health_checks() {
                    // Made by this create (its caller reference is the token), tagged or not yet.
                    if check.caller_reference() == f.token {
                        return Ok(Some(Found { id: check.id().to_string(), owner: Owner::This }));
                    }
                    let tags = checks(p).list(check.id()).await?;
                    let owner = attrs::owner(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())), f.tags);
                    if owner == Owner::This {
                        return Ok(Some(Found { id: check.id().to_string(), owner }));
                    }
                }
                match out.next_marker() {
                    Some(next) if out.is_truncated() => marker = Some(next.to_string()),
                    _ => return Ok(None),
                }
            }
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let out = match p.route53.get_health_check().health_check_id(id).send().await {
                Ok(out) => out,
                Err(e) => return unless_gone(sdk_error("GetHealthCheck", e), None),
            };
            let Some(config) = out.health_check().and_then(|h| h.health_check_config()) else { return Ok(None) };
            let probing: Vec<Value> = config.regions().iter().map(|r| Value::str(r.as_str())).collect();
            // Every region probes when none is named: as the workflow says when it names none.
            let regions = if probing.is_empty() && prior.get("regions").is_none_or(|r| *r == Value::Null) {
                Value::Null
            } else {
                like_prior(prior.get("regions"), probing, |a, b| a == b)
            };
            let mut attributes = observed([
                ("type", Value::str(config.r#type().as_str())),
                ("fqdn", attrs::text(config.fully_qualified_domain_name())),
                ("ip_address", attrs::text(config.ip_address())),
                ("port", attrs::number(config.port())),
                ("resource_path", attrs::text(config.resource_path())),
                ("request_interval", attrs::number(config.request_interval())),
                ("failure_threshold", attrs::number(config.failure_threshold())),
                ("regions", regions),
                ("disabled", config.disabled().map_or(Value::Null, Value::Bool)),
                (
                    "alarm",
                    config.alarm_identifier().map_or(Value::Null, |a| {
                        Value::map(BTreeMap::from([
                            ("region".to_string(), Value::str(a.region().as_str())),
                            ("name".to_string(), Value::str(a.name())),
                        ]))
                    }),
                ),
                (
                    "insufficient_data_health_status",
                    attrs::text(config.insufficient_data_health_status().map(|s| s.as_str())),
                ),
            ]);
            if prior.contains_key("tags") {
                let tags = checks(p).list(id).await?;
                attributes.insert("tags".into(), attrs::user_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
            }
            Ok(Some(Observed { id: id.to_string(), attributes }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            const OP: &str = "UpdateHealthCheck";
            let settable = [
                "fqdn",
                "ip_address",
                "port",
                "resource_path",
                "failure_threshold",
                "regions",
                "disabled",
                "alarm",
                "insufficient_data_health_status",
            ];
            if settable.iter().any(|a| u.changed(a)) {
                let pick = |name: &str| u.changed(name);
                p.route53
                    .update_health_check()
                    .health_check_id(u.id)
                    .set_fully_qualified_domain_name(
                        string(u.config, "fqdn").filter(|_| pick("fqdn")).map(String::from),
                    )
                    .set_ip_address(string(u.config, "ip_address").filter(|_| pick("ip_address")).map(String::from))
                    .set_port(int(u.config, "port").filter(|_| pick("port")))
                    .set_resource_path(
                        string(u.config, "resource_path").filter(|_| pick("resource_path")).map(String::from),
                    )
                    .set_failure_threshold(int(u.config, "failure_threshold").filter(|_| pick("failure_threshold")))
                    .set_regions(regions(u.config).filter(|_| pick("regions")))
                    .set_disabled(boolean(u.config, "disabled").filter(|_| pick("disabled")))
                    .set_alarm_identifier(alarm(u.config, OP)?.filter(|_| pick("alarm")))
                    .set_insufficient_data_health_status(
                        insufficient_data(u.config).filter(|_| pick("insufficient_data_health_status")),
                    )
                    .send()
                    .await
                    .map_err(|e| sdk_error(OP, e))?;
            }
            tagging::sync(&checks(p), u.id, u).await?;
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            match p.route53.delete_health_check().health_check_id(id).send().await {
                Ok(_) => Ok(()),
                Err(e) => unless_gone(sdk_error("DeleteHealthCheck", e), ()),
            }
        }
    }
}
