//! `aws.codepipeline.pipeline`: a pipeline of stages (source, build, deploy) whose artifacts
//! are kept, encrypted, in an S3 bucket.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, field, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.codepipeline.pipeline",
    doc: "a CodePipeline pipeline: stages of actions (source, build, deploy), artifacts kept encrypted in S3",
    taggable: true,
    attributes,
    naming: Some("name"),
    arns: |s| {
        vec![ArnPattern::new(
            "codepipeline",
            "pipeline",
            format!("arn:aws:codepipeline:{}:{}:{}", s.region, s.account, s.name),
        )]
    },
    actions: &[
        (Create, "codepipeline:CreatePipeline"),
        (Create, "codepipeline:TagResource"),
        (Read, "codepipeline:GetPipeline"),
        (Read, "codepipeline:ListTagsForResource"),
        (Update, "codepipeline:UpdatePipeline"),
        (Update, "codepipeline:TagResource"),
        (Update, "codepipeline:UntagResource"),
        (Delete, "codepipeline:DeletePipeline"),
        (Find, "codepipeline:GetPipeline"),
        (Find, "codepipeline:ListTagsForResource"),
    ],
    passes_roles_to: &["codepipeline.amazonaws.com"],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("codepipeline", sdk::Pipeline),
};

/// What an action does.
const CATEGORIES: &[&str] = &["Source", "Build", "Test", "Deploy", "Approval", "Invoke"];

fn action_type() -> Type {
    Type::Object(vec![
        field("name", Type::String, true, "the action's name, unique in its stage"),
        field("category", Type::one_of(CATEGORIES), true, "what the action does"),
        field("provider", Type::String, true, "who performs it: CodeCommit, CodeBuild, ECS, ..."),
        field("owner", Type::one_of(&["AWS", "ThirdParty", "Custom"]), false, "the provider's owner (default AWS)"),
        field("version", Type::String, false, "the action type's version (default \"1\")"),
        field(
            "configuration",
            Type::map(Type::String),
            false,
            "the provider's settings (RepositoryName, BranchName, ProjectName, ...)",
        ),
        field("input_artifacts", Type::list(Type::String), false, "the artifacts it reads"),
        field("output_artifacts", Type::list(Type::String), false, "the artifacts it makes"),
        field("run_order", Type::Number, false, "its turn within the stage (default 1)"),
    ])
}

fn stage_type() -> Type {
    Type::Object(vec![
        field("name", Type::String, true, "the stage's name"),
        field("actions", Type::list(action_type()), true, "what the stage runs"),
    ])
}

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("name", Type::String, "the pipeline's name").replaces(),
        required("role_arn", Type::String, "the role CodePipeline runs the pipeline as"),
        required("artifact_bucket", Type::String, "the S3 bucket that keeps what each stage hands the next"),
        optional(
            "artifact_kms_key",
            Type::String,
            "the KMS key (ARN or alias) that encrypts the artifacts (default the account's aws/s3 key)",
        ),
        required("stages", Type::list(stage_type()), "the stages, in order (at least two)"),
        computed("id", Type::String, "the pipeline's name"),
        computed("arn", Type::String, "the pipeline's ARN"),
        computed("version", Type::Number, "the structure's version, counted up by each update"),
    ]
}

/// `stages` with every default filled in, so a declaration compares with what AWS describes.
pub fn canonical_stages(stages: &drone_engine::value::Value) -> drone_engine::value::Value {
    use drone_engine::value::Value;
    let action = |a: &Value| -> Value {
        let Some(m) = a.as_map() else { return a.clone() };
        let mut m = m.clone();
        m.retain(|_, v| !matches!(v, Value::Null));
        for (key, default) in [
            ("owner", Value::str("AWS")),
            ("version", Value::str("1")),
            ("configuration", Value::map(Default::default())),
            ("input_artifacts", Value::List(Vec::new())),
            ("output_artifacts", Value::List(Vec::new())),
            ("run_order", Value::Number(1.0)),
        ] {
            m.entry(key.to_string()).or_insert(default);
        }
        Value::map(m)
    };
    let stage = |s: &Value| -> Value {
        let Some(m) = s.as_map() else { return s.clone() };
        let mut m = m.clone();
        if let Some(actions) = m.get("actions").and_then(Value::as_list) {
            let actions = Value::List(actions.iter().map(action).collect());
            m.insert("actions".into(), actions);
        }
        Value::map(m)
    };
    match stages.as_list() {
        Some(list) => Value::List(list.iter().map(stage).collect()),
        None => stages.clone(),
    }
}

#[cfg(feature = "codepipeline")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_codepipeline::types::{
        ActionCategory, ActionDeclaration, ActionOwner, ActionTypeId, ArtifactStore, ArtifactStoreType, EncryptionKey,
        EncryptionKeyType, InputArtifact, OutputArtifact, PipelineDeclaration, PipelineType, StageDeclaration, Tag,
    };
    use aws_sdk_codepipeline::Client;
    use drone_engine::provider::{FindRequest, Found, Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::canonical_stages;
    use crate::aws::attrs::{
        self, int, objects, observed, owner, prior_if_same, required, string, string_map, strings, text, Update,
    };
    use crate::aws::error::{invalid, missing, sdk_error, unless_gone};
    use crate::aws::tagging::{self, Tagging};
    use crate::aws::{AwsProvider, Ops};

    /// One action as CodePipeline declares it, from an action with its defaults filled in
    /// (`canonical_stages`).
    fn action(a: &Attributes, operation: &str) -> Result<ActionDeclaration, ProviderError> {
        let fail = |e: aws_sdk_codepipeline::error::BuildError| invalid(operation, e.to_string());
        let get = |k: &str| string(a, k).unwrap_or_default();
        let type_id = ActionTypeId::builder()
            .category(ActionCategory::from(get("category")))
            .owner(ActionOwner::from(get("owner")))
            .provider(get("provider"))
            .version(get("version"))
            .build()
            .map_err(fail)?;
        let inputs = strings(a, "input_artifacts")
            .into_iter()
            .map(|name| InputArtifact::builder().name(name).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(fail)?;
        let outputs = strings(a, "output_artifacts")
            .into_iter()
            .map(|name| OutputArtifact::builder().name(name).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(fail)?;
        ActionDeclaration::builder()
            .name(get("name"))
            .action_type_id(type_id)
            .set_run_order(int(a, "run_order"))
            .set_configuration(Some(string_map(a, "configuration").into_iter().collect()))
            .set_input_artifacts(Some(inputs))
            .set_output_artifacts(Some(outputs))
            .build()
            .map_err(fail)
    }

    /// The pipeline's declaration, as CreatePipeline and UpdatePipeline take it.
    fn declaration(
        config: &Attributes,
        version: Option<i32>,
        operation: &str,
    ) -> Result<PipelineDeclaration, ProviderError> {
        let fail = |e: aws_sdk_codepipeline::error::BuildError| invalid(operation, e.to_string());
        let declared = canonical_stages(config.get("stages").unwrap_or(&Value::Null));
        let mut stages = Vec::new();
        for s in declared.as_list().into_iter().flatten().filter_map(Value::as_map) {
            let actions =
                objects(s, "actions").into_iter().map(|a| action(a, operation)).collect::<Result<Vec<_>, _>>()?;
            let name = string(s, "name").unwrap_or_default();
            stages.push(StageDeclaration::builder().name(name).set_actions(Some(actions)).build().map_err(fail)?);
        }
        let key = match string(config, "artifact_kms_key") {
            Some(id) => Some(EncryptionKey::builder().id(id).r#type(EncryptionKeyType::Kms).build().map_err(fail)?),
            None => None,
        };
        let store = ArtifactStore::builder()
            .r#type(ArtifactStoreType::S3)
            .location(required(config, "artifact_bucket", operation)?)
            .set_encryption_key(key)
            .build()
            .map_err(fail)?;
        PipelineDeclaration::builder()
            .name(required(config, "name", operation)?)
            .role_arn(required(config, "role_arn", operation)?)
            .artifact_store(store)
            .set_stages(Some(stages))
            .pipeline_type(PipelineType::V2)
            .set_version(version)
            .build()
            .map_err(fail)
    }

    /// `stages` as the workflow writes them.
    fn described_stages(stages: &[StageDeclaration]) -> Value {
        let names = |items: Vec<&str>| Value::List(items.into_iter().map(Value::str).collect());
        Value::List(
            stages
                .iter()
                .map(|s| {
                    let actions = s.actions().iter().map(|a| {
                        let t = a.action_type_id();
                        let configuration = a
                            .configuration()
                            .map(|c| c.iter().map(|(k, v)| (k.clone(), Value::str(v))).collect())
                            .unwrap_or_default();
                        Value::map(observed([
                            ("name", Value::str(a.name())),
                            ("category", text(t.map(|t| t.category().as_str()))),
                            ("owner", text(t.map(|t| t.owner().as_str()))),
                            ("provider", text(t.map(|t| t.provider()))),
                            ("version", text(t.map(|t| t.version()))),
                            ("configuration", Value::map(configuration)),
                            ("input_artifacts", names(a.input_artifacts().iter().map(|i| i.name()).collect())),
                            ("output_artifacts", names(a.output_artifacts().iter().map(|o| o.name()).collect())),
                            ("run_order", attrs::number(a.run_order())),
                        ]))
                    });
                    Value::map(observed([("name", Value::str(s.name())), ("actions", Value::List(actions.collect()))]))
                })
                .collect(),
        )
    }

    fn pipeline_tags(tags: &BTreeMap<String, String>, operation: &str) -> Result<Vec<Tag>, ProviderError> {
        tags.iter()
            .map(|(k, v)| Tag::builder().key(k).value(v).build().map_err(|e| invalid(operation, e.to_string())))
            .collect()
    }

    async fn list_tags(p: &AwsProvider, arn: &str) -> Result<Vec<Tag>, ProviderError> {
        let out = p
            .codepipeline
            .list_tags_for_resource()
            .resource_arn(arn)
            .send()
            .await
            .map_err(|e| sdk_error("ListTagsForResource", e))?;
        Ok(out.tags().to_vec())
    }

    #[async_trait]
    impl Tagging for Client {
        async fn tag(&self, arn: &str, tags: &BTreeMap<String, String>) -> Result<(), ProviderError> {
            let call = self.tag_resource().resource_arn(arn).set_tags(Some(pipeline_tags(tags, "TagResource")?));
            call.send().await.map(drop).map_err(|e| sdk_error("TagResource", e))
        }

        async fn untag(&self, arn: &str, keys: Vec<String>) -> Result<(), ProviderError> {
            let call = self.untag_resource().resource_arn(arn).set_tag_keys(Some(keys));
            call.send().await.map(drop).map_err(|e| sdk_error("UntagResource", e))
        }
    }

    /// The pipeline named `name` and its ARN, if it exists.
    async fn get(p: &AwsProvider, name: &str) -> Result<Option<(PipelineDeclaration, String)>, ProviderError> {
        let out = match p.codepipeline.get_pipeline().name(name).send().await {
            Ok(out) => out,
            Err(e) => return unless_gone(sdk_error("GetPipeline", e), None),
        };
        let arn = out.metadata().and_then(|m| m.pipeline_arn()).unwrap_or_default().to_string();
        Ok(out.pipeline().cloned().map(|d| (d, arn)))
    }

    /// The type's operations.
    pub struct Pipeline;

    #[async_trait]
    impl Ops for Pipeline {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "CreatePipeline";
            let out = p
                .codepipeline
                .create_pipeline()
                .pipeline(declaration(config, None, OP)?)
                .set_tags(Some(pipeline_tags(tags, OP)?))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let pipeline = out.pipeline().ok_or_else(|| missing(OP, "pipeline"))?;
            let name = pipeline.name().to_string();
            // CreatePipeline answers the declaration only; the ARN is the pipeline's name in the region.
            let arn = format!("arn:aws:codepipeline:{}:{}:{name}", p.region()?, p.account().await?);
            Ok(Observed {
                id: name,
                attributes: observed([("arn", Value::String(arn)), ("version", attrs::number(pipeline.version()))]),
            })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            let name = required(f.config, "name", "GetPipeline")?;
            let Some((_, arn)) = get(p, name).await? else { return Ok(None) };
            let tags = list_tags(p, &arn).await?;
            let owner = owner(tags.iter().map(|t| (t.key(), t.value())), f.tags);
            Ok(Some(Found { id: name.to_string(), owner }))
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let Some((pipeline, arn)) = get(p, id).await? else { return Ok(None) };
            let store = pipeline.artifact_store();
            let stages = described_stages(pipeline.stages());
            let same = |a: &Value, b: &Value| canonical_stages(a).same(&canonical_stages(b));
            let mut attributes = observed([
                ("name", Value::str(pipeline.name())),
                ("role_arn", Value::str(pipeline.role_arn())),
                ("artifact_bucket", text(store.map(|s| s.location()))),
                ("artifact_kms_key", text(store.and_then(|s| s.encryption_key()).map(|k| k.id()))),
                ("stages", prior_if_same(prior.get("stages"), stages, same)),
                ("arn", Value::String(arn.clone())),
                ("version", attrs::number(pipeline.version())),
            ]);
            if prior.contains_key("tags") && !arn.is_empty() {
                let tags = list_tags(p, &arn).await?;
                attributes.insert("tags".into(), attrs::user_tags(tags.iter().map(|t| (t.key(), t.value()))));
            }
            Ok(Some(Observed { id: id.to_string(), attributes }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            const OP: &str = "UpdatePipeline";
            let mut attributes = Attributes::new();
            if u.changed_besides_tags() {
                // UpdatePipeline takes the whole structure, with the version it replaces.
                let version = attrs::int(u.prior, "version");
                let out = p
                    .codepipeline
                    .update_pipeline()
                    .pipeline(declaration(u.config, version, OP)?)
                    .send()
                    .await
                    .map_err(|e| sdk_error(OP, e))?;
                let version = out.pipeline().and_then(|d| d.version());
                attributes.insert("version".into(), attrs::number(version));
            }
            if u.changed("tags") {
                let arn = string(u.prior, "arn")
                    .ok_or_else(|| invalid("TagResource", "the pipeline's ARN is not recorded"))?;
                tagging::sync(&p.codepipeline, arn, u).await?;
            }
            Ok(Observed { id: u.id.to_string(), attributes })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _prior: &Attributes) -> Result<(), ProviderError> {
            // DeletePipeline succeeds for a pipeline that is already gone.
            p.codepipeline.delete_pipeline().name(id).send().await.map(drop).map_err(|e| sdk_error("DeletePipeline", e))
        }
    }
}
