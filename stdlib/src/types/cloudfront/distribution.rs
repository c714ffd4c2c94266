//! `aws.cloudfront.distribution`: a CloudFront distribution: the global HTTPS entry point in front of one
//! origin, or of two in an origin group (a standby region's load balancer reads fail over to).

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, optional, required};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.cloudfront.distribution",
    doc: "a CloudFront distribution: the global HTTPS entry point in front of one origin",
    taggable: true,
    attributes,
    naming: None,
    // Distribution ids exist only after create; CloudFront ARNs have no region.
    arns: |s| {
        vec![
            ArnPattern::new("cloudfront", "distribution", format!("arn:aws:cloudfront::{}:distribution/*", s.account)),
            crate::types::secretsmanager::any_secret(s),
        ]
    },
    actions: &[
        (Create, "cloudfront:CreateDistribution"),
        (Create, "cloudfront:TagResource"),
        // Waiting for the deployment.
        (Create, "cloudfront:GetDistribution"),
        (Read, "cloudfront:GetDistribution"),
        (Read, "cloudfront:ListTagsForResource"),
        (Update, "cloudfront:TagResource"),
        (Update, "cloudfront:UntagResource"),
        (Update, "cloudfront:GetDistributionConfig"),
        (Update, "cloudfront:UpdateDistribution"),
        (Update, "cloudfront:GetDistribution"),
        // Disable, wait, delete.
        (Delete, "cloudfront:GetDistributionConfig"),
        (Delete, "cloudfront:UpdateDistribution"),
        (Delete, "cloudfront:GetDistribution"),
        (Delete, "cloudfront:DeleteDistribution"),
        // The origin header's value, from its secret.
        (Create, "secretsmanager:GetSecretValue"),
        (Read, "secretsmanager:GetSecretValue"),
        (Update, "secretsmanager:GetSecretValue"),
        (Find, "cloudfront:ListDistributions"),
        (Find, "cloudfront:ListTagsForResource"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("cloudfront", sdk::Distribution),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("origin_domain", Type::String, "the origin's DNS name, e.g. a load balancer's `dns_name`"),
        optional(
            "origin_protocol_policy",
            Type::one_of(&["https-only", "http-only", "match-viewer"]),
            "how CloudFront reaches the origin: \"https-only\" (default), \"http-only\" or \"match-viewer\"",
        ),
        optional(
            "viewer_protocol_policy",
            Type::one_of(&["redirect-to-https", "https-only", "allow-all"]),
            "what viewers may use: \"redirect-to-https\" (default), \"https-only\" or \"allow-all\"",
        ),
        optional("aliases", Type::list(Type::String), "the public host names it answers for"),
        optional(
            "certificate_arn",
            Type::String,
            "an ACM certificate in us-east-1 for the aliases (default: the *.cloudfront.net certificate)",
        ),
        optional(
            "minimum_protocol_version",
            Type::String,
            "the oldest TLS viewers may use with `certificate_arn`, e.g. \"TLSv1.2_2021\" (the default)",
        ),
        optional("web_acl_id", Type::String, "the ARN of a CLOUDFRONT-scope WAFv2 web ACL"),
        optional("cache_policy_id", Type::String, "a cache policy (default: AWS's CachingDisabled)"),
        optional(
            "origin_request_policy_id",
            Type::String,
            "what is forwarded to the origin (default: AWS's AllViewer)",
        ),
        optional(
            "price_class",
            Type::one_of(&["PriceClass_100", "PriceClass_200", "PriceClass_All"]),
            "\"PriceClass_100\" (default), \"PriceClass_200\" or \"PriceClass_All\"",
        ),
        optional(
            "origin_secret_header",
            crate::types::secretsmanager::secret_header_type(),
            "a header CloudFront adds to every origin request, its value a secret's (the origin admits only requests that carry it)",
        ),
        optional(
            "failover_origin",
            failover_origin_type(),
            "a second origin (a standby region's load balancer) that GET, HEAD and OPTIONS requests fail over to \
             when the first answers 500, 502, 503 or 504 or cannot be reached",
        ),
        optional(
            "write_paths",
            Type::list(Type::String),
            "path patterns (`/ghost/*`) whose requests, every method, go uncached to `write_origin`; with a \
             `failover_origin`, the only paths that take POST, PUT, PATCH and DELETE (CloudFront fails over reads only)",
        ),
        optional(
            "write_origin",
            Type::one_of(&["primary", "failover"]),
            "the origin `write_paths` go to: \"primary\" (default), or \"failover\" once the standby writes",
        ),
        optional("enabled", Type::Bool, "whether it serves requests (default true)"),
        optional("comment", Type::String, "a note shown in the console"),
        computed("id", Type::String, "the distribution id, e.g. \"E2QWRUHAPOMQZL\""),
        computed("arn", Type::String, "the distribution's ARN"),
        computed("domain_name", Type::String, "its *.cloudfront.net name, for DNS"),
        computed("hosted_zone_id", Type::String, "the hosted zone for Route 53 alias records"),
    ]
}

/// The object type of a distribution's failover origin.
pub fn failover_origin_type() -> Type {
    Type::Object(vec![
        crate::schema::field("domain", Type::String, true, "its DNS name, e.g. the standby load balancer's `dns_name`"),
        crate::schema::field(
            "secret_header",
            crate::types::secretsmanager::secret_header_type(),
            false,
            "the header CloudFront adds to its requests, its value a secret's (the standby's own)",
        ),
    ])
}

#[cfg(feature = "cloudfront")]
pub(crate) mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use std::time::Duration;

    use aws_sdk_cloudfront::types::{
        Aliases, AllowedMethods, CacheBehavior, CacheBehaviors, CachedMethods, CustomHeaders, CustomOriginConfig,
        DefaultCacheBehavior, DistributionConfig, DistributionConfigWithTags, Method, MinimumProtocolVersion, Origin,
        OriginCustomHeader, OriginGroup, OriginGroupFailoverCriteria, OriginGroupMember, OriginGroupMembers,
        OriginGroups, OriginProtocolPolicy, OriginSslProtocols, Origins, PriceClass, SslProtocol, SslSupportMethod,
        StatusCodes, Tag, TagKeys, Tags, ViewerCertificate, ViewerProtocolPolicy,
    };
    use aws_sdk_cloudfront::Client;
    use drone_engine::provider::{FindRequest, Found, Observed, Owner, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use crate::aws::attrs::{boolean, like_prior, observed, required, string, strings, text, user_tags, Update};
    use crate::aws::error::{invalid, missing, sdk_error, unless_gone};
    use crate::aws::tagging::{self, Tagging};
    use crate::aws::wait::{self, Poll};
    use crate::aws::{AwsProvider, Ops};
    use crate::types::secretsmanager::sdk::SecretHeader;

    /// AWS's managed cache policy "CachingDisabled": an application origin decides what is cacheable.
    const CACHING_DISABLED: &str = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad";
    /// AWS's managed origin request policy "AllViewer": the origin sees the viewer's headers, cookies and query.
    const ALL_VIEWER: &str = "216adef6-5c7f-47e4-b989-5492eafa07d3";
    /// The hosted zone of every CloudFront domain name, for Route 53 alias records.
    const HOSTED_ZONE_ID: &str = "Z2FDTNDATAQYW2";
    /// Deploying a change to every edge location takes minutes, sometimes tens of them.
    const DEPLOY_TIMEOUT: Duration = Duration::from_secs(45 * 60);
    /// The origin's id inside the distribution.
    const ORIGIN_ID: &str = "origin";
    /// The failover origin's id, and the group's that holds both.
    const FAILOVER_ID: &str = "failover";
    const GROUP_ID: &str = "origin-with-failover";
    /// What the origin answers that sends a request to the failover origin (with connection failures and timeouts).
    const FAILOVER_STATUSES: [i32; 4] = [500, 502, 503, 504];

    /// The secret headers of a distribution's origins, read from their secrets.
    #[derive(Default)]
    struct Headers {
        primary: Option<SecretHeader>,
        failover: Option<SecretHeader>,
    }

    impl Headers {
        /// The headers `config` names, their values read now.
        async fn of(p: &AwsProvider, config: &Attributes) -> Result<Headers, ProviderError> {
            let failover = match config.get("failover_origin").and_then(Value::as_map) {
                Some(origin) => SecretHeader::of(p, origin, "secret_header").await?,
                None => None,
            };
            Ok(Headers { primary: SecretHeader::of(p, config, "origin_secret_header").await?, failover })
        }
    }

    fn computed(arn: &str, domain: &str) -> Attributes {
        observed([
            ("arn", Value::str(arn)),
            ("domain_name", Value::str(domain)),
            ("hosted_zone_id", Value::str(HOSTED_ZONE_ID)),
        ])
    }

    /// The attributes a distribution's configuration holds, as the workflow writes them.
    fn configured(c: &DistributionConfig, prior: &Attributes) -> Attributes {
        let behavior = c.default_cache_behavior();
        let certificate = c.viewer_certificate();
        let acm = certificate.and_then(|v| v.acm_certificate_arn());
        let aliases = c.aliases().map(|a| a.items()).unwrap_or_default().iter().map(Value::str).collect();
        let behaviors = c.cache_behaviors().map(|b| b.items()).unwrap_or_default();
        let write_paths: Vec<&str> = behaviors.iter().map(|b| b.path_pattern()).collect();
        // Without write paths, where writes would go is nothing AWS keeps: the workflow's word stands.
        let write_origin = match behaviors.first().map(|b| b.target_origin_id()) {
            Some(FAILOVER_ID) => Value::str("failover"),
            Some(_) => Value::str("primary"),
            None => prior.get("write_origin").cloned().unwrap_or(Value::Null),
        };
        let origin = c.origins().and_then(|o| o.items().iter().find(|o| o.id() == ORIGIN_ID));
        observed([
            ("origin_domain", text(origin.map(|o| o.domain_name()))),
            (
                "origin_protocol_policy",
                text(origin.and_then(|o| o.custom_origin_config()).map(|c| c.origin_protocol_policy().as_str())),
            ),
            ("viewer_protocol_policy", text(behavior.map(|b| b.viewer_protocol_policy().as_str()))),
            ("aliases", like_prior(prior.get("aliases"), aliases, |a, b| a == b)),
            ("certificate_arn", text(acm)),
            (
                "minimum_protocol_version",
                text(
                    certificate
                        .filter(|_| acm.is_some())
                        .and_then(|v| v.minimum_protocol_version())
                        .map(|m| m.as_str()),
                ),
            ),
            ("web_acl_id", text(c.web_acl_id().filter(|w| !w.is_empty()))),
            ("cache_policy_id", text(behavior.and_then(|b| b.cache_policy_id()))),
            ("origin_request_policy_id", text(behavior.and_then(|b| b.origin_request_policy_id()))),
            ("price_class", text(c.price_class().map(|p| p.as_str()))),
            ("enabled", Value::Bool(c.enabled())),
            ("comment", Value::str(c.comment())),
            (
                "write_paths",
                like_prior(prior.get("write_paths"), write_paths.iter().map(|p| Value::str(*p)).collect(), |a, b| {
                    a == b
                }),
            ),
            ("write_origin", write_origin),
        ])
    }

    /// Waits until the distribution's last change has reached every edge location.
    async fn deployed(cf: &Client, id: &str, operation: &str) -> Result<(), ProviderError> {
        let what = format!("distribution {id} was not deployed");
        wait::until(operation, &what, DEPLOY_TIMEOUT, || async {
            let out = cf.get_distribution().id(id).send().await.map_err(|e| sdk_error("GetDistribution", e))?;
            match out.distribution().map(|d| d.status()) {
                Some("Deployed") => Ok(Poll::Ready(())),
                _ => Ok(Poll::Pending),
            }
        })
        .await
    }

    #[async_trait]
    impl Tagging for Client {
        async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
            let tags = Tags::builder().set_items(Some(cloudfront_tags(tags, "TagResource")?)).build();
            self.tag_resource().resource(arn).tags(tags).send().await.map(drop).map_err(|e| sdk_error("TagResource", e))
        }

        async fn untag(&self, arn: &str, keys: Vec<String>) -> Result<(), ProviderError> {
            let keys = TagKeys::builder().set_items(Some(keys)).build();
            let untag = self.untag_resource().resource(arn).tag_keys(keys);
            untag.send().await.map(drop).map_err(|e| sdk_error("UntagResource", e))
        }
    }

    fn cloudfront_tags(tags: &BTreeMap<String, String>, operation: &str) -> Result<Vec<Tag>, ProviderError> {
        tags.iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(|e| invalid(operation, e.to_string())))
            .collect()
    }

    /// One of `allowed` values of `attr`, or `default` when unset; else an error from `operation`.
    fn choice<'a>(
        operation: &str,
        config: &'a Attributes,
        attr: &str,
        allowed: &[&str],
        default: &'a str,
    ) -> Result<&'a str, ProviderError> {
        let value = string(config, attr).unwrap_or(default);
        if allowed.contains(&value) {
            Ok(value)
        } else {
            Err(invalid(operation, format!("`{attr}` is one of {}, not \"{value}\"", allowed.join(", "))))
        }
    }

    /// The whole distribution configuration from the resource's attributes.
    fn distribution_config(
        config: &Attributes,
        reference: &str,
        headers: &Headers,
        operation: &str,
    ) -> Result<DistributionConfig, ProviderError> {
        let built = |e: aws_smithy_types::error::operation::BuildError| invalid(operation, e.to_string());
        let origin_policy = choice(
            operation,
            config,
            "origin_protocol_policy",
            &["https-only", "http-only", "match-viewer"],
            "https-only",
        )?;
        let custom = CustomOriginConfig::builder()
            .http_port(80)
            .https_port(443)
            .origin_protocol_policy(OriginProtocolPolicy::from(origin_policy))
            .origin_ssl_protocols(
                OriginSslProtocols::builder().quantity(1).items(SslProtocol::TlSv12).build().map_err(built)?,
            )
            .build()
            .map_err(built)?;
        let custom_headers = |header: Option<&SecretHeader>| -> Result<CustomHeaders, ProviderError> {
            match header {
                Some(h) => {
                    let item = OriginCustomHeader::builder()
                        .header_name(&h.name)
                        .header_value(&h.value)
                        .build()
                        .map_err(built)?;
                    CustomHeaders::builder().quantity(1).items(item).build().map_err(built)
                }
                None => CustomHeaders::builder().quantity(0).build().map_err(built),
            }
        };
        let origin = |id: &str, domain: &str, header: Option<&SecretHeader>| -> Result<Origin, ProviderError> {
            Origin::builder()
                .id(id)
                .domain_name(domain)
                .custom_origin_config(custom.clone())
                .custom_headers(custom_headers(header)?)
                .build()
                .map_err(built)
        };
        let mut origins =
            vec![origin(ORIGIN_ID, required(config, "origin_domain", operation)?, headers.primary.as_ref())?];
        let failover = config.get("failover_origin").and_then(Value::as_map);
        if let Some(f) = failover {
            let domain =
                f.get("domain").and_then(Value::as_str).ok_or_else(|| missing(operation, "failover_origin.domain"))?;
            origins.push(origin(FAILOVER_ID, domain, headers.failover.as_ref())?);
        }
        let every_method =
            [Method::Get, Method::Head, Method::Options, Method::Put, Method::Post, Method::Patch, Method::Delete];
        let methods = |items: &[Method]| -> Result<AllowedMethods, ProviderError> {
            let cached =
                CachedMethods::builder().quantity(2).items(Method::Get).items(Method::Head).build().map_err(built)?;
            AllowedMethods::builder()
                .quantity(items.len() as i32)
                .set_items(Some(items.to_vec()))
                .cached_methods(cached)
                .build()
                .map_err(built)
        };
        // CloudFront fails over GET, HEAD and OPTIONS only, and refuses other methods on a
        // behaviour whose target is an origin group: writes take `write_paths`.
        let (target, allowed) = match failover {
            Some(_) => (GROUP_ID, methods(&every_method[..3])?),
            None => (ORIGIN_ID, methods(&every_method)?),
        };
        let viewer_policy = choice(
            operation,
            config,
            "viewer_protocol_policy",
            &["redirect-to-https", "https-only", "allow-all"],
            "redirect-to-https",
        )?;
        let behavior = DefaultCacheBehavior::builder()
            .target_origin_id(target)
            .viewer_protocol_policy(ViewerProtocolPolicy::from(viewer_policy))
            .cache_policy_id(string(config, "cache_policy_id").unwrap_or(CACHING_DISABLED))
            .origin_request_policy_id(string(config, "origin_request_policy_id").unwrap_or(ALL_VIEWER))
            .allowed_methods(allowed)
            .compress(true)
            .build()
            .map_err(built)?;
        let writes_to = match choice(operation, config, "write_origin", &["primary", "failover"], "primary")? {
            "failover" if failover.is_none() => {
                return Err(invalid(operation, "`write_origin = \"failover\"` needs a `failover_origin`".to_string()))
            }
            "failover" => FAILOVER_ID,
            _ => ORIGIN_ID,
        };
        let writes = strings(config, "write_paths")
            .iter()
            .map(|path| {
                CacheBehavior::builder()
                    .path_pattern(path)
                    .target_origin_id(writes_to)
                    .viewer_protocol_policy(ViewerProtocolPolicy::from(viewer_policy))
                    .cache_policy_id(CACHING_DISABLED)
                    .origin_request_policy_id(ALL_VIEWER)
                    .allowed_methods(methods(&every_method)?)
                    .compress(true)
                    .build()
                    .map_err(built)
            })
            .collect::<Result<Vec<_>, _>>()?;
        let behaviors =
            CacheBehaviors::builder().quantity(writes.len() as i32).set_items(Some(writes).filter(|w| !w.is_empty()));
        let groups = match failover {
            Some(_) => {
                let statuses = StatusCodes::builder()
                    .quantity(FAILOVER_STATUSES.len() as i32)
                    .set_items(Some(FAILOVER_STATUSES.to_vec()))
                    .build()
                    .map_err(built)?;
                let member = |id: &str| OriginGroupMember::builder().origin_id(id).build().map_err(built);
                let members = OriginGroupMembers::builder()
                    .quantity(2)
                    .items(member(ORIGIN_ID)?)
                    .items(member(FAILOVER_ID)?)
                    .build()
                    .map_err(built)?;
                let group = OriginGroup::builder()
                    .id(GROUP_ID)
                    .failover_criteria(OriginGroupFailoverCriteria::builder().status_codes(statuses).build())
                    .members(members)
                    .build()
                    .map_err(built)?;
                OriginGroups::builder().quantity(1).items(group).build().map_err(built)?
            }
            None => OriginGroups::builder().quantity(0).build().map_err(built)?,
        };
        let aliases = strings(config, "aliases");
        let certificate = match string(config, "certificate_arn") {
            Some(arn) => {
                let versions: Vec<&str> = MinimumProtocolVersion::values().to_vec();
                let minimum = choice(operation, config, "minimum_protocol_version", &versions, "TLSv1.2_2021")?;
                ViewerCertificate::builder()
                    .acm_certificate_arn(arn)
                    .ssl_support_method(SslSupportMethod::SniOnly)
                    .minimum_protocol_version(MinimumProtocolVersion::from(minimum))
                    .build()
            }
            None => ViewerCertificate::builder().cloud_front_default_certificate(true).build(),
        };
        let price = choice(
            operation,
            config,
            "price_class",
            &["PriceClass_All", "PriceClass_200", "PriceClass_100"],
            "PriceClass_100",
        )?;
        DistributionConfig::builder()
            .caller_reference(reference)
            .comment(string(config, "comment").unwrap_or("managed by drone"))
            .enabled(boolean(config, "enabled").unwrap_or(true))
            .origins(Origins::builder().quantity(origins.len() as i32).set_items(Some(origins)).build().map_err(built)?)
            .origin_groups(groups)
            .default_cache_behavior(behavior)
            .cache_behaviors(behaviors.build().map_err(built)?)
            .aliases(Aliases::builder().quantity(aliases.len() as i32).set_items(Some(aliases)).build().map_err(built)?)
            .viewer_certificate(certificate)
            .set_web_acl_id(string(config, "web_acl_id").map(String::from))
            .price_class(PriceClass::from(price))
            // Viewers reach it over IPv6 too (a domain's AAAA alias answers with these addresses).
            .is_ipv6_enabled(true)
            .build()
            .map_err(built)
    }

    /// Sends the write paths of distribution `id` to its failover origin (`to_failover`) or back to
    /// its first; returns how many behaviours changed. The rest of its configuration is kept as it is.
    pub(crate) async fn route_writes(cf: &Client, id: &str, to_failover: bool) -> Result<usize, ProviderError> {
        const OP: &str = "UpdateDistribution";
        let current =
            cf.get_distribution_config().id(id).send().await.map_err(|e| sdk_error("GetDistributionConfig", e))?;
        let mut config = current.distribution_config().cloned().ok_or_else(|| missing(OP, "DistributionConfig"))?;
        let has_failover = config.origins().is_some_and(|o| o.items().iter().any(|o| o.id() == FAILOVER_ID));
        if to_failover && !has_failover {
            return Err(invalid(OP, format!("distribution {id} has no failover origin")));
        }
        let target = if to_failover { FAILOVER_ID } else { ORIGIN_ID };
        let mut changed = 0;
        if let Some(behaviors) = config.cache_behaviors.as_mut() {
            for b in behaviors.items.iter_mut().flatten() {
                if [ORIGIN_ID, FAILOVER_ID].contains(&b.target_origin_id.as_str()) && b.target_origin_id != target {
                    b.target_origin_id = target.to_string();
                    changed += 1;
                }
            }
        }
        if changed > 0 {
            let update = cf.update_distribution().id(id).set_if_match(current.e_tag().map(String::from));
            update.distribution_config(config).send().await.map_err(|e| sdk_error(OP, e))?;
        }
        Ok(changed)
    }

    /// The type's operations.
    pub struct Distribution;

    #[async_trait]
    impl Ops for Distribution {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "CreateDistributionWithTags";
            // The caller reference is the create's token: a repeated request makes
            // nothing new, and each create (a new generation) has its own.
            let with_tags = DistributionConfigWithTags::builder()
                .distribution_config(distribution_config(config, token, &Headers::of(p, config).await?, OP)?)
                .tags(Tags::builder().set_items(Some(cloudfront_tags(tags, OP)?)).build())
                .build();
            let out = p
                .cloudfront
                .create_distribution_with_tags()
                .distribution_config_with_tags(with_tags)
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let dist = out.distribution().ok_or_else(|| missing(OP, "Distribution"))?;
            let id = dist.id().to_string();
            let arn = dist.arn().to_string();
            let domain = dist.domain_name().to_string();
            deployed(&p.cloudfront, &id, OP).await.map_err(|e| e.after_create(&id))?;
            Ok(Observed { id, attributes: computed(&arn, &domain) })
        }

        /// A distribution has no name: the one tagged with the address and this
        /// state's lineage is looked for among them all (recovery only).
        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            let mut marker: Option<String> = None;
            loop {
                let out = p
                    .cloudfront
                    .list_distributions()
                    .set_marker(marker.take())
                    .send()
                    .await
                    .map_err(|e| sdk_error("ListDistributions", e))?;
                let Some(list) = out.distribution_list() else {
                    return Ok(None);
                };
                for summary in list.items() {
                    let tags = p
                        .cloudfront
                        .list_tags_for_resource()
                        .resource(summary.arn())
                        .send()
                        .await
                        .map_err(|e| sdk_error("ListTagsForResource", e))?;
                    let items = tags.tags().map(|t| t.items()).unwrap_or_default();
                    let pairs = items.iter().map(|t| (t.key(), t.value().unwrap_or_default()));
                    if crate::aws::attrs::owner(pairs, f.tags) == Owner::This {
                        return Ok(Some(Found { id: summary.id().to_string(), owner: Owner::This }));
                    }
                }
                match list.next_marker().filter(|_| list.is_truncated()) {
                    Some(next) => marker = Some(next.to_string()),
                    None => return Ok(None),
                }
            }
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let out = match p.cloudfront.get_distribution().id(id).send().await {
                Ok(out) => out,
                Err(e) => return unless_gone(sdk_error("GetDistribution", e), None),
            };
            let Some(dist) = out.distribution() else {
                return Ok(None);
            };
            let mut attributes = computed(dist.arn(), dist.domain_name());
            if let Some(c) = dist.distribution_config() {
                attributes.extend(configured(c, prior));
                let origin = |id: &str| c.origins().and_then(|o| o.items().iter().find(|o| o.id() == id));
                let sent = |o: &Origin| o.custom_headers().and_then(|h| h.items().first()).cloned();
                let wanted = Headers::of(p, prior).await?;
                // A header's value is compared with the secret's, never returned.
                let header = |sent: Option<OriginCustomHeader>, secret: Option<&SecretHeader>| match sent {
                    None => Value::Null,
                    Some(sent) => SecretHeader::read_back(secret, sent.header_name(), sent.header_value()),
                };
                let primary = origin(ORIGIN_ID).and_then(sent);
                attributes.insert("origin_secret_header".into(), header(primary, wanted.primary.as_ref()));
                let failover = origin(FAILOVER_ID).map(|o| {
                    let mut f = BTreeMap::from([("domain".to_string(), Value::str(o.domain_name()))]);
                    if let Some(sent) = sent(o) {
                        f.insert("secret_header".into(), header(Some(sent), wanted.failover.as_ref()));
                    }
                    Value::map(f)
                });
                attributes.insert("failover_origin".into(), failover.unwrap_or(Value::Null));
            }
            // Tags are a request of their own: read when the workflow sets them.
            if prior.contains_key("tags") {
                let out = p
                    .cloudfront
                    .list_tags_for_resource()
                    .resource(dist.arn())
                    .send()
                    .await
                    .map_err(|e| sdk_error("ListTagsForResource", e))?;
                let tags = out.tags().map(|t| t.items()).unwrap_or_default();
                attributes
                    .insert("tags".into(), user_tags(tags.iter().map(|t| (t.key(), t.value().unwrap_or_default()))));
            }
            Ok(Some(Observed { id: id.to_string(), attributes }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            const OP: &str = "UpdateDistribution";
            let arn = string(u.prior, "arn").ok_or_else(|| missing(OP, "the distribution's ARN in state"))?.to_string();
            tagging::sync(&p.cloudfront, &arn, u).await?;
            if u.changed_besides_tags() {
                let current = p.cloudfront.get_distribution_config().id(u.id).send().await;
                let current = current.map_err(|e| sdk_error("GetDistributionConfig", e))?;
                // The new configuration keeps the distribution's own caller reference.
                let reference =
                    current.distribution_config().map(|c| c.caller_reference().to_string()).unwrap_or_default();
                p.cloudfront
                    .update_distribution()
                    .id(u.id)
                    .set_if_match(current.e_tag().map(String::from))
                    .distribution_config(distribution_config(
                        u.config,
                        &reference,
                        &Headers::of(p, u.config).await?,
                        OP,
                    )?)
                    .send()
                    .await
                    .map_err(|e| sdk_error(OP, e))?;
                deployed(&p.cloudfront, u.id, OP).await?;
            }
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _prior: &Attributes) -> Result<(), ProviderError> {
            const OP: &str = "DeleteDistribution";
            let cf = &p.cloudfront;
            let current = match cf.get_distribution_config().id(id).send().await {
                Ok(out) => out,
                Err(e) => return unless_gone(sdk_error("GetDistributionConfig", e), ()),
            };
            let mut etag = current.e_tag().map(String::from);
            // AWS deletes only a disabled, deployed distribution.
            if let Some(config) = current.distribution_config().filter(|c| c.enabled()) {
                let mut disabled = config.clone();
                disabled.enabled = false;
                let out = cf
                    .update_distribution()
                    .id(id)
                    .set_if_match(etag)
                    .distribution_config(disabled)
                    .send()
                    .await
                    .map_err(|e| sdk_error("UpdateDistribution", e))?;
                etag = out.e_tag().map(String::from);
            }
            deployed(cf, id, OP).await?;
            let latest = cf.get_distribution().id(id).send().await.map_err(|e| sdk_error("GetDistribution", e))?;
            etag = latest.e_tag().map(String::from).or(etag);
            cf.delete_distribution().id(id).set_if_match(etag).send().await.map(drop).map_err(|e| sdk_error(OP, e))
        }
    }
}
