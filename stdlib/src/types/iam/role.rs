//! `aws.iam.role`: an IAM role that a service or principal assumes.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.iam.role",
    doc: "an IAM role that a service or principal assumes",
    taggable: true,
    attributes,
    naming: Some("name"),
    arns: |s| vec![ArnPattern::new("iam", "role", format!("arn:aws:iam::{}:role/{}", s.account, s.name))],
    actions: &[
        (Create, "iam:CreateRole"),
        (Create, "iam:TagRole"),
        (Create, "iam:PutRolePolicy"),
        (Create, "iam:AttachRolePolicy"),
        (Read, "iam:GetRole"),
        (Read, "iam:ListRolePolicies"),
        (Read, "iam:GetRolePolicy"),
        (Read, "iam:ListAttachedRolePolicies"),
        (Update, "iam:UpdateAssumeRolePolicy"),
        (Update, "iam:UpdateRole"),
        (Update, "iam:PutRolePolicy"),
        (Update, "iam:DeleteRolePolicy"),
        (Update, "iam:AttachRolePolicy"),
        (Update, "iam:DetachRolePolicy"),
        (Update, "iam:TagRole"),
        (Update, "iam:UntagRole"),
        (Delete, "iam:ListRolePolicies"),
        (Delete, "iam:DeleteRolePolicy"),
        (Delete, "iam:ListAttachedRolePolicies"),
        (Delete, "iam:DetachRolePolicy"),
        (Delete, "iam:DeleteRole"),
        (Find, "iam:GetRole"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("iam", sdk::Role),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("name", Type::String, "the role's name").replaces(),
        optional("path", Type::String, "the role's path (default \"/\")").replaces(),
        optional("description", Type::String, "what the role is for"),
        required("assume_role_policy", Type::Json, "the trust policy: who may assume the role"),
        optional("inline_policies", Type::map(Type::Json), "inline policy documents by name").guarded(),
        optional("managed_policy_arns", Type::list(Type::String), "managed policies to attach").guarded(),
        optional("max_session_duration", Type::Number, "longest session in seconds (3600 to 43200)"),
        computed("id", Type::String, "the role name"),
        computed("arn", Type::String, "the role's ARN"),
        computed("unique_id", Type::String, "the role's stable unique id"),
    ]
}

#[cfg(feature = "iam")]
mod sdk {
    use std::collections::{BTreeMap, BTreeSet};

    use async_trait::async_trait;

    use aws_sdk_iam::types::Tag;
    use aws_sdk_iam::Client;
    use drone_engine::provider::{FindRequest, Found, Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use crate::aws::attrs::{
        self, document, int, like_prior, observed, parse_document, prior_if_same, required, same_document, string,
        strings, Update,
    };
    use crate::aws::error::{invalid, missing, sdk_error, unless_gone};
    use crate::aws::tagging::{self, Tagging};
    use crate::aws::{AwsProvider, Ops};

    fn inline_policies(config: &Attributes) -> BTreeMap<String, String> {
        config
            .get("inline_policies")
            .and_then(Value::as_map)
            .map(|m| m.iter().map(|(k, v)| (k.clone(), v.to_document())).collect())
            .unwrap_or_default()
    }

    async fn put_policy(iam: &Client, role: &str, name: &str, doc: &str) -> Result<(), ProviderError> {
        iam.put_role_policy()
            .role_name(role)
            .policy_name(name)
            .policy_document(doc)
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error("PutRolePolicy", e))
    }

    async fn delete_policy(iam: &Client, role: &str, name: &str) -> Result<(), ProviderError> {
        iam.delete_role_policy()
            .role_name(role)
            .policy_name(name)
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error("DeleteRolePolicy", e))
    }

    async fn detach_policy(iam: &Client, role: &str, arn: &str) -> Result<(), ProviderError> {
        iam.detach_role_policy()
            .role_name(role)
            .policy_arn(arn)
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error("DetachRolePolicy", e))
    }

    /// IAM's tagging calls, for roles (the only IAM type drone makes), by role name.
    #[async_trait]
    impl Tagging for Client {
        async fn tag(&self, role: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
            let tags = Some(iam_tags(tags)?);
            self.tag_role().role_name(role).set_tags(tags).send().await.map(drop).map_err(|e| sdk_error("TagRole", e))
        }

        async fn untag(&self, role: &str, keys: Vec<String>) -> Result<(), ProviderError> {
            let untag = self.untag_role().role_name(role).set_tag_keys(Some(keys));
            untag.send().await.map(drop).map_err(|e| sdk_error("UntagRole", e))
        }
    }

    fn iam_tags(tags: &BTreeMap<String, String>) -> Result<Vec<Tag>, ProviderError> {
        tags.iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(|e| invalid("TagRole", e.to_string())))
            .collect()
    }

    /// The type's operations.
    pub struct Role;

    #[async_trait]
    impl Ops for Role {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            let iam = &p.iam;
            let name = required(config, "name", "CreateRole")?;
            let trust = document(config, "assume_role_policy")
                .ok_or_else(|| invalid("CreateRole", "`assume_role_policy` is required"))?;
            let out = iam
                .create_role()
                .role_name(name)
                .assume_role_policy_document(trust)
                .set_path(string(config, "path").map(String::from))
                .set_description(string(config, "description").map(String::from))
                .set_max_session_duration(int(config, "max_session_duration"))
                .set_tags(Some(iam_tags(tags)?))
                .send()
                .await
                .map_err(|e| sdk_error("CreateRole", e))?;
            let role = out.role().ok_or_else(|| missing("CreateRole", "Role"))?;
            let configure = async {
                for (policy, doc) in inline_policies(config) {
                    put_policy(iam, name, &policy, &doc).await?;
                }
                for arn in strings(config, "managed_policy_arns") {
                    iam.attach_role_policy()
                        .role_name(name)
                        .policy_arn(arn)
                        .send()
                        .await
                        .map_err(|e| sdk_error("AttachRolePolicy", e))?;
                }
                Ok::<_, ProviderError>(())
            };
            configure.await.map_err(|e| e.after_create(name))?;
            Ok(Observed {
                id: name.to_string(),
                attributes: observed([("arn", Value::str(role.arn())), ("unique_id", Value::str(role.role_id()))]),
            })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            let name = required(f.config, "name", "GetRole")?;
            match p.iam.get_role().role_name(name).send().await {
                Ok(out) => Ok(out.role().map(|r| Found {
                    id: name.to_string(),
                    owner: attrs::owner(r.tags().iter().map(|t| (t.key(), t.value())), f.tags),
                })),
                Err(e) => unless_gone(sdk_error("GetRole", e), None),
            }
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let iam = &p.iam;
            let out = match iam.get_role().role_name(id).send().await {
                Ok(out) => out,
                Err(e) => return unless_gone(sdk_error("GetRole", e), None),
            };
            let Some(role) = out.role() else {
                return Ok(None);
            };
            let trust = role.assume_role_policy_document().and_then(parse_document).unwrap_or(Value::Null);
            let mut attributes = observed([
                ("name", Value::str(role.role_name())),
                ("path", Value::str(role.path())),
                ("description", attrs::text(role.description())),
                ("max_session_duration", attrs::number(role.max_session_duration())),
                ("assume_role_policy", prior_if_same(prior.get("assume_role_policy"), trust, same_document)),
                ("arn", Value::str(role.arn())),
                ("unique_id", Value::str(role.role_id())),
                ("tags", attrs::user_tags(role.tags().iter().map(|t| (t.key(), t.value())))),
            ]);
            // Policies are requests of their own, but always read: drone owns them even
            // when the workflow sets none (an attached AdministratorAccess is drift).
            {
                let names = iam
                    .list_role_policies()
                    .role_name(id)
                    .send()
                    .await
                    .map_err(|e| sdk_error("ListRolePolicies", e))?;
                let recorded = prior.get("inline_policies").and_then(Value::as_map);
                let mut policies = BTreeMap::new();
                for name in names.policy_names() {
                    let out = iam
                        .get_role_policy()
                        .role_name(id)
                        .policy_name(name)
                        .send()
                        .await
                        .map_err(|e| sdk_error("GetRolePolicy", e))?;
                    let doc = parse_document(out.policy_document()).unwrap_or(Value::Null);
                    let doc = prior_if_same(recorded.and_then(|r| r.get(name)), doc, same_document);
                    policies.insert(name.clone(), doc);
                }
                attributes.insert("inline_policies".into(), Value::map(policies));
            }
            {
                let out = iam
                    .list_attached_role_policies()
                    .role_name(id)
                    .send()
                    .await
                    .map_err(|e| sdk_error("ListAttachedRolePolicies", e))?;
                let arns = out.attached_policies().iter().filter_map(|a| a.policy_arn()).map(Value::str).collect();
                attributes.insert(
                    "managed_policy_arns".into(),
                    like_prior(prior.get("managed_policy_arns"), arns, |a, b| a == b),
                );
            }
            Ok(Some(Observed { id: id.to_string(), attributes }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            let iam = &p.iam;
            let name = u.id;
            if u.changed("assume_role_policy") {
                let trust = document(u.config, "assume_role_policy")
                    .ok_or_else(|| invalid("UpdateAssumeRolePolicy", "`assume_role_policy` is required"))?;
                iam.update_assume_role_policy()
                    .role_name(name)
                    .policy_document(trust)
                    .send()
                    .await
                    .map_err(|e| sdk_error("UpdateAssumeRolePolicy", e))?;
            }
            if u.changed("description") || u.changed("max_session_duration") {
                iam.update_role()
                    .role_name(name)
                    .set_description(string(u.config, "description").map(String::from))
                    .set_max_session_duration(int(u.config, "max_session_duration"))
                    .send()
                    .await
                    .map_err(|e| sdk_error("UpdateRole", e))?;
            }
            if u.changed("inline_policies") {
                let before = inline_policies(u.prior);
                let after = inline_policies(u.config);
                for policy in before.keys().filter(|k| !after.contains_key(*k)) {
                    delete_policy(iam, name, policy).await?;
                }
                for (policy, doc) in &after {
                    put_policy(iam, name, policy, doc).await?;
                }
            }
            if u.changed("managed_policy_arns") {
                let before: BTreeSet<String> = strings(u.prior, "managed_policy_arns").into_iter().collect();
                let after: BTreeSet<String> = strings(u.config, "managed_policy_arns").into_iter().collect();
                for arn in before.difference(&after) {
                    detach_policy(iam, name, arn).await?;
                }
                for arn in after.difference(&before) {
                    iam.attach_role_policy()
                        .role_name(name)
                        .policy_arn(arn)
                        .send()
                        .await
                        .map_err(|e| sdk_error("AttachRolePolicy", e))?;
                }
            }
            tagging::sync(iam, name, u).await?;
            Ok(Observed { id: name.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _prior: &Attributes) -> Result<(), ProviderError> {
            let iam = &p.iam;
            // A role can only be deleted once it has no policies; list what AWS has,
            // not what state says, so policies added by hand do not block the delete.
            let inline =
                iam.list_role_policies().role_name(id).send().await.map_err(|e| sdk_error("ListRolePolicies", e))?;
            for policy in inline.policy_names() {
                delete_policy(iam, id, policy).await?;
            }
            let attached = iam
                .list_attached_role_policies()
                .role_name(id)
                .send()
                .await
                .map_err(|e| sdk_error("ListAttachedRolePolicies", e))?;
            for policy in attached.attached_policies() {
                if let Some(arn) = policy.policy_arn() {
                    detach_policy(iam, id, arn).await?;
                }
            }
            iam.delete_role().role_name(id).send().await.map(drop).map_err(|e| sdk_error("DeleteRole", e))
        }
    }
}
