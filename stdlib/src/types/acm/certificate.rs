//! `aws.acm.certificate`: a TLS certificate AWS issues and renews, validated
//! by DNS. With `validation_zone_id`, drone writes the validation records into
//! that hosted zone and waits until the certificate is issued (CloudFront's in
//! us-east-1, a load balancer's in its region); without, the certificate waits
//! for whoever owns the domain's DNS.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.acm.certificate",
    doc: "a TLS certificate AWS issues and renews, validated by DNS",
    taggable: true,
    attributes,
    naming: None,
    // Certificate ids exist only after create; validation records go to a hosted zone.
    arns: |s| {
        let mut arns = crate::types::route53::zones_and_changes();
        arns.push(ArnPattern::new(
            "acm",
            "certificate",
            format!("arn:aws:acm:{}:{}:certificate/*", s.region, s.account),
        ));
        arns
    },
    actions: &[
        (Create, "acm:RequestCertificate"),
        (Create, "acm:AddTagsToCertificate"),
        (Create, "acm:DescribeCertificate"),
        (Create, "route53:ChangeResourceRecordSets"),
        (Create, "route53:GetChange"),
        (Read, "acm:DescribeCertificate"),
        (Read, "acm:ListTagsForCertificate"),
        (Update, "acm:AddTagsToCertificate"),
        (Update, "acm:RemoveTagsFromCertificate"),
        (Delete, "acm:DescribeCertificate"),
        (Delete, "acm:DeleteCertificate"),
        (Delete, "route53:ListResourceRecordSets"),
        (Delete, "route53:ChangeResourceRecordSets"),
        (Delete, "route53:GetChange"),
        (Find, "acm:ListCertificates"),
        (Find, "acm:ListTagsForCertificate"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("acm", sdk::Certificate),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("domain_name", Type::String, "the name it certifies, e.g. \"blog.drone-shuttle.example\"").replaces(),
        optional("subject_alternative_names", Type::list(Type::String), "further names it certifies").replaces(),
        optional(
            "validation_zone_id",
            Type::String,
            "the hosted zone drone writes the DNS validation records into (then create waits until issued)",
        )
        .replaces(),
        computed("id", Type::String, "the certificate's ARN"),
        computed("arn", Type::String, "the certificate's ARN"),
        computed("status", Type::String, "ISSUED, PENDING_VALIDATION, ..."),
    ]
}

#[cfg(feature = "acm")]
mod sdk {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use async_trait::async_trait;
    use aws_sdk_acm::types::{CertificateDetail, CertificateStatus, Tag, ValidationMethod};
    use aws_sdk_acm::Client;
    use aws_sdk_route53::types::{ChangeAction, ResourceRecord, ResourceRecordSet, RrType};
    use drone_engine::provider::{ErrorKind, FindRequest, Found, Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use crate::aws::attrs::{self, observed, required, string, strings, Update};
    use crate::aws::error::{invalid, missing, sdk_error, unless_gone};
    use crate::aws::tagging::{self, Tagging};
    use crate::aws::wait::{self, Poll};
    use crate::aws::{AwsProvider, Ops};
    use crate::types::route53::sdk::{change, record_set, written};

    /// How long DNS validation may take (AWS: usually minutes, up to 72 hours before it gives up).
    const ISSUE_TIMEOUT: Duration = Duration::from_secs(2 * 60 * 60);

    pub struct Certificate;

    #[async_trait]
    impl Ops for Certificate {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "RequestCertificate";
            let names = strings(config, "subject_alternative_names");
            // ACM's idempotency token: up to 32 letters and digits.
            let idempotency: String = token.chars().filter(char::is_ascii_alphanumeric).take(32).collect();
            let out = p
                .acm
                .request_certificate()
                .domain_name(required(config, "domain_name", OP)?)
                .set_subject_alternative_names((!names.is_empty()).then_some(names))
                .validation_method(ValidationMethod::Dns)
                .idempotency_token(idempotency)
                .set_tags(Some(acm_tags(tags, OP)?))
                .customize()
                .config_override(crate::aws::once!(aws_sdk_acm))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let arn = out.certificate_arn().ok_or_else(|| missing(OP, "CertificateArn"))?.to_string();
            let status = match string(config, "validation_zone_id") {
                Some(zone) => validate(p, &arn, zone).await.map_err(|e| e.after_create(&arn))?,
                None => Value::str("PENDING_VALIDATION"),
            };
            Ok(Observed { id: arn.clone(), attributes: observed([("arn", Value::String(arn)), ("status", status)]) })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            const OP: &str = "ListCertificates";
            let domain = written(required(f.config, "domain_name", OP)?);
            let out = p.acm.list_certificates().send().await.map_err(|e| sdk_error(OP, e))?;
            let mut found = Vec::new();
            for summary in out.certificate_summary_list() {
                let (Some(arn), Some(name)) = (summary.certificate_arn(), summary.domain_name()) else { continue };
                if written(name) != domain {
                    continue;
                }
                let tags = list_tags(&p.acm, arn).await?;
                let pairs = tags.iter().map(|t| (t.key(), t.value().unwrap_or_default()));
                found.push(Found { id: arn.to_string(), owner: attrs::owner(pairs, f.tags) });
            }
            found.sort_by_key(|f| f.owner != drone_engine::provider::Owner::This);
            Ok(found.into_iter().next())
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let Some(c) = describe(&p.acm, id).await? else { return Ok(None) };
            let domain = c.domain_name().unwrap_or_default();
            let others: Vec<Value> =
                c.subject_alternative_names().iter().filter(|n| n.as_str() != domain).map(Value::str).collect();
            let mut attributes = observed([
                ("domain_name", Value::str(domain)),
                ("status", attrs::text(c.status().map(|s| s.as_str()))),
                ("arn", attrs::text(c.certificate_arn())),
            ]);
            if prior.contains_key("subject_alternative_names") || !others.is_empty() {
                attributes.insert("subject_alternative_names".into(), Value::List(others));
            }
            if let Some(zone) = prior.get("validation_zone_id") {
                // The records are drone's to keep while the certificate lives: read as the zone they are in.
                attributes.insert("validation_zone_id".into(), zone.clone());
            }
            if prior.contains_key("tags") {
                let tags = list_tags(&p.acm, id).await?;
                attributes.insert(
                    "tags".into(),
                    attrs::user_tags(tags.iter().map(|t| (t.key(), t.value().unwrap_or_default()))),
                );
            }
            Ok(Some(Observed { id: id.to_string(), attributes }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            tagging::sync(&p.acm, u.id, u).await?;
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<(), ProviderError> {
            let Some(c) = describe(&p.acm, id).await? else { return Ok(()) };
            if let Err(e) = p.acm.delete_certificate().certificate_arn(id).send().await {
                unless_gone(sdk_error("DeleteCertificate", e), ())?;
            }
            // Then its validation records: another certificate for the same name shares them, but
            // only while both live; drone made them for this one.
            if let Some(zone) = string(prior, "validation_zone_id") {
                for record in c.domain_validation_options().iter().filter_map(|d| d.resource_record()) {
                    if let Some(current) = record_set(&p.route53, zone, record.name(), "CNAME").await? {
                        // Two certificates for one name share the record: the other one's delete may
                        // have taken it between the read and this change.
                        if let Err(e) = change(&p.route53, zone, ChangeAction::Delete, current).await {
                            if record_set(&p.route53, zone, record.name(), "CNAME").await?.is_some() {
                                return Err(e);
                            }
                        }
                    }
                }
            }
            Ok(())
        }
    }

    /// Writes the certificate's validation records into `zone` and waits until it is issued.
    async fn validate(p: &AwsProvider, arn: &str, zone: &str) -> Result<Value, ProviderError> {
        // ACM adds the records to the description moments after the request.
        let records =
            wait::until("DescribeCertificate", "ACM did not name the validation records", ISSUE_TIMEOUT, || async {
                let c = describe(&p.acm, arn)
                    .await?
                    .ok_or_else(|| missing("DescribeCertificate", "the new certificate"))?;
                let options = c.domain_validation_options();
                let records: Vec<(String, String)> = options
                    .iter()
                    .filter_map(|d| d.resource_record())
                    .map(|r| (r.name().to_string(), r.value().to_string()))
                    .collect();
                Ok(if !options.is_empty() && records.len() == options.len() {
                    Poll::Ready(records)
                } else {
                    Poll::Pending
                })
            })
            .await?;
        let mut written_names = Vec::new();
        for (name, value) in records {
            // Names on one certificate (or two certificates for one name) share a record: once is enough.
            if written_names.contains(&name) {
                continue;
            }
            let set = ResourceRecordSet::builder()
                .name(&name)
                .r#type(RrType::Cname)
                .ttl(300)
                .resource_records(
                    ResourceRecord::builder()
                        .value(value)
                        .build()
                        .map_err(|e| invalid("ChangeResourceRecordSets", e.to_string()))?,
                )
                .build()
                .map_err(|e| invalid("ChangeResourceRecordSets", e.to_string()))?;
            change(&p.route53, zone, ChangeAction::Upsert, set).await?;
            written_names.push(name);
        }
        wait::until("DescribeCertificate", &format!("certificate {arn} was not issued"), ISSUE_TIMEOUT, || async {
            let c = describe(&p.acm, arn).await?.ok_or_else(|| missing("DescribeCertificate", "the certificate"))?;
            match c.status() {
                Some(CertificateStatus::Issued) => Ok(Poll::Ready(Value::str("ISSUED"))),
                Some(CertificateStatus::PendingValidation) | None => Ok(Poll::Pending),
                Some(other) => Err(ProviderError::new(
                    ErrorKind::Rejected,
                    "DescribeCertificate",
                    format!("certificate {arn} is {} instead of issued", other.as_str()),
                )),
            }
        })
        .await
    }

    async fn describe(acm: &Client, arn: &str) -> Result<Option<CertificateDetail>, ProviderError> {
        match acm.describe_certificate().certificate_arn(arn).send().await {
            Ok(out) => Ok(out.certificate().cloned()),
            Err(e) => unless_gone(sdk_error("DescribeCertificate", e), None),
        }
    }

    async fn list_tags(acm: &Client, arn: &str) -> Result<Vec<Tag>, ProviderError> {
        let out = acm.list_tags_for_certificate().certificate_arn(arn).send().await;
        Ok(out.map_err(|e| sdk_error("ListTagsForCertificate", e))?.tags().to_vec())
    }

    fn acm_tags(tags: &BTreeMap<String, String>, operation: &str) -> Result<Vec<Tag>, ProviderError> {
        tags.iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(|e| invalid(operation, e.to_string())))
            .collect()
    }

    #[async_trait]
    impl Tagging for Client {
        async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
            let add = self
                .add_tags_to_certificate()
                .certificate_arn(arn)
                .set_tags(Some(acm_tags(tags, "AddTagsToCertificate")?));
            add.send().await.map(drop).map_err(|e| sdk_error("AddTagsToCertificate", e))
        }

        async fn untag(&self, arn: &str, keys: Vec<String>) -> Result<(), ProviderError> {
            let tags = keys
                .into_iter()
                .map(|k| Tag::builder().key(k).build().map_err(|e| invalid("RemoveTagsFromCertificate", e.to_string())))
                .collect::<Result<Vec<_>, _>>()?;
            let remove = self.remove_tags_from_certificate().certificate_arn(arn).set_tags(Some(tags));
            remove.send().await.map(drop).map_err(|e| sdk_error("RemoveTagsFromCertificate", e))
        }
    }
}
