//! `aws.codecommit.repository`: a Git repository in CodeCommit, the source of a pipeline.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.codecommit.repository",
    doc: "a Git repository in CodeCommit, the source of a pipeline",
    taggable: true,
    attributes,
    naming: Some("name"),
    arns: |s| {
        vec![ArnPattern::new(
            "codecommit",
            "repository",
            format!("arn:aws:codecommit:{}:{}:{}", s.region, s.account, s.name),
        )]
    },
    actions: &[
        (Create, "codecommit:CreateRepository"),
        (Create, "codecommit:TagResource"),
        (Read, "codecommit:GetRepository"),
        (Read, "codecommit:ListTagsForResource"),
        (Update, "codecommit:UpdateRepositoryDescription"),
        (Update, "codecommit:TagResource"),
        (Update, "codecommit:UntagResource"),
        (Delete, "codecommit:DeleteRepository"),
        (Find, "codecommit:GetRepository"),
        (Find, "codecommit:ListTagsForResource"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("codecommit", sdk::Repository),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("name", Type::String, "the repository's name").replaces(),
        optional("description", Type::String, "what the repository holds"),
        computed("id", Type::String, "the repository's name"),
        computed("arn", Type::String, "the repository's ARN"),
        computed("repository_id", Type::String, "the repository's id (a UUID)"),
        computed("clone_url_http", Type::String, "the URL `git clone` takes over HTTPS"),
    ]
}

#[cfg(feature = "codecommit")]
mod sdk {
    use std::collections::{BTreeMap, HashMap};

    use async_trait::async_trait;
    use aws_sdk_codecommit::types::RepositoryMetadata;
    use aws_sdk_codecommit::Client;
    use drone_engine::provider::{FindRequest, Found, Observed, ProviderError};
    use drone_engine::value::Attributes;

    use crate::aws::attrs::{observed, owner, required, string, text, user_tags, Update};
    use crate::aws::error::{invalid, missing, sdk_error, unless_gone};
    use crate::aws::tagging::{self, Tagging};
    use crate::aws::{AwsProvider, Ops};

    /// The repository named `name`, if it exists.
    async fn get(p: &AwsProvider, name: &str) -> Result<Option<RepositoryMetadata>, ProviderError> {
        match p.codecommit.get_repository().repository_name(name).send().await {
            Ok(out) => Ok(out.repository_metadata().cloned()),
            Err(e) => unless_gone(sdk_error("GetRepository", e), None),
        }
    }

    /// Every tag of the repository `arn`.
    async fn list_tags(p: &AwsProvider, arn: &str) -> Result<HashMap<String, String>, ProviderError> {
        let out = p
            .codecommit
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| sdk_error("ListTagsForResource", e))?;
        Ok(out.tags().cloned().unwrap_or_default())
    }

    #[async_trait]
    impl Tagging for Client {
        async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
            let tags: HashMap<String, String> = tags.clone().into_iter().collect();
            let call = self.tag_resource().resource_arn(arn).set_tags(Some(tags));
            call.send().await.map(drop).map_err(|e| sdk_error("TagResource", e))
        }

        async fn untag(&self, arn: &str, keys: Vec<String>) -> Result<(), ProviderError> {
            let call = self.untag_resource().resource_arn(arn).set_tag_keys(Some(keys));
            call.send().await.map(drop).map_err(|e| sdk_error("UntagResource", e))
        }
    }

    /// The computed attributes of `repo`.
    fn computed(repo: &RepositoryMetadata) -> Attributes {
        observed([
            ("arn", text(repo.arn())),
            ("repository_id", text(repo.repository_id())),
            ("clone_url_http", text(repo.clone_url_http())),
        ])
    }

    /// The type's operations.
    pub struct Repository;

    #[async_trait]
    impl Ops for Repository {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "CreateRepository";
            let name = required(config, "name", OP)?;
            let out = p
                .codecommit
                .create_repository()
                .repository_name(name)
                .set_repository_description(string(config, "description").map(String::from))
                .set_tags(Some(tags.clone().into_iter().collect()))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let repo = out.repository_metadata().ok_or_else(|| missing(OP, "repositoryMetadata"))?;
            Ok(Observed { id: name.to_string(), attributes: computed(repo) })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            let name = required(f.config, "name", "GetRepository")?;
            let Some(arn) = get(p, name).await?.and_then(|r| r.arn().map(String::from)) else {
                return Ok(None);
            };
            let tags = list_tags(p, &arn).await?;
            let owner = owner(tags.iter().map(|(k, v)| (k.as_str(), v.as_str())), f.tags);
            Ok(Some(Found { id: name.to_string(), owner }))
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let Some(repo) = get(p, id).await? else { return Ok(None) };
            let mut attributes = computed(&repo);
            attributes.insert("name".into(), text(repo.repository_name()));
            // CodeCommit answers an empty description for none.
            let description = repo.repository_description().filter(|d| !d.is_empty());
            attributes.insert("description".into(), text(description));
            // Tags are a request of their own: read when the workflow sets them.
            if let (Some(arn), true) = (repo.arn(), prior.contains_key("tags")) {
                let tags = list_tags(p, arn).await?;
                attributes.insert("tags".into(), user_tags(tags.iter().map(|(k, v)| (k.as_str(), v.as_str()))));
            }
            Ok(Some(Observed { id: id.to_string(), attributes }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            if u.changed("description") {
                p.codecommit
                    .update_repository_description()
                    .repository_name(u.id)
                    .set_repository_description(string(u.config, "description").map(String::from))
                    .send()
                    .await
                    .map_err(|e| sdk_error("UpdateRepositoryDescription", e))?;
            }
            if u.changed("tags") {
                let arn = string(u.prior, "arn")
                    .ok_or_else(|| invalid("TagResource", "the repository's ARN is not recorded"))?;
                tagging::sync(&p.codecommit, arn, u).await?;
            }
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _prior: &Attributes) -> Result<(), ProviderError> {
            // CodeCommit answers a repository that is already gone with no id, not an error.
            p.codecommit
                .delete_repository()
                .repository_name(id)
                .send()
                .await
                .map(drop)
                .map_err(|e| sdk_error("DeleteRepository", e))
        }
    }
}
