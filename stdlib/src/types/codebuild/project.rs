//! `aws.codebuild.project`: a CodeBuild project a pipeline runs, with the buildspec given, or
//! written by drone for a container image build (the only kind that runs privileged).

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, field, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.codebuild.project",
    doc: "a CodeBuild project a pipeline runs: its buildspec given, or written by drone for an image build",
    taggable: true,
    attributes,
    naming: Some("name"),
    arns: |s| {
        vec![ArnPattern::new(
            "codebuild",
            "project",
            format!("arn:aws:codebuild:{}:{}:project/{}", s.region, s.account, s.name),
        )]
    },
    actions: &[
        (Create, "codebuild:CreateProject"),
        (Read, "codebuild:BatchGetProjects"),
        (Update, "codebuild:UpdateProject"),
        (Delete, "codebuild:DeleteProject"),
        (Find, "codebuild:BatchGetProjects"),
    ],
    passes_roles_to: &["codebuild.amazonaws.com"],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("codebuild", sdk::Project),
};

/// The compute types a project can run on.
const COMPUTE_TYPES: &[&str] =
    &["BUILD_GENERAL1_SMALL", "BUILD_GENERAL1_MEDIUM", "BUILD_GENERAL1_LARGE", "BUILD_GENERAL1_2XLARGE"];

/// The build image when the workflow names none: Amazon Linux with Docker.
pub const DEFAULT_IMAGE: &str = "aws/codebuild/amazonlinux2-x86_64-standard:5.0";

/// The build's size when the workflow names none.
pub const DEFAULT_COMPUTE_TYPE: &str = "BUILD_GENERAL1_SMALL";

/// Minutes a build may run when the workflow says nothing (CodeBuild's default).
pub const DEFAULT_TIMEOUT: i32 = 60;

fn image_build_type() -> Type {
    Type::Object(vec![
        field("repository_url", Type::String, true, "the ECR repository the image is pushed to"),
        field("container_name", Type::String, true, "the task definition's container that runs the image"),
        field("dockerfile", Type::String, false, "the Dockerfile's path in the source (default \"Dockerfile\")"),
    ])
}

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("name", Type::String, "the project's name").replaces(),
        optional("description", Type::String, "what the project builds"),
        required("service_role_arn", Type::String, "the role the build runs as"),
        optional(
            "image_build",
            image_build_type(),
            "build the source's Dockerfile and push the image to ECR by digest: drone writes the buildspec, and the build runs privileged (Docker needs it)",
        ),
        optional("buildspec", Type::String, "the buildspec, when the project does not build an image"),
        optional("build_image", Type::String, "the image builds run in (default Amazon Linux standard 5.0)"),
        optional("compute_type", Type::one_of(COMPUTE_TYPES), "the build's size (default BUILD_GENERAL1_SMALL)"),
        optional("environment_variables", Type::map(Type::String), "plain-text variables every build sees"),
        optional("log_group", Type::String, "the CloudWatch log group builds write to"),
        optional("timeout_minutes", Type::Number, "how long a build may run (default 60)"),
        computed("id", Type::String, "the project's name"),
        computed("arn", Type::String, "the project's ARN"),
        computed("privileged_mode", Type::Bool, "whether builds run privileged (image builds only)"),
    ]
}

#[cfg(feature = "codebuild")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_codebuild::types::{
        ArtifactsType, CloudWatchLogsConfig, ComputeType, EnvironmentType, EnvironmentVariable,
        EnvironmentVariableType, LogsConfig, LogsConfigStatusType, Project as Described, ProjectArtifacts,
        ProjectEnvironment, ProjectSource, SourceType, Tag,
    };
    use drone_engine::provider::{FindRequest, Found, Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::{DEFAULT_COMPUTE_TYPE, DEFAULT_IMAGE, DEFAULT_TIMEOUT};
    use crate::aws::attrs::{self, int, observed, owner, present, required, string, string_map, text, Update};
    use crate::aws::error::{invalid, missing, sdk_error};
    use crate::aws::{AwsProvider, Ops};
    use crate::types::codebuild::buildspec::{image_buildspec, ImageBuild};

    /// What a project's configuration asks of CodeBuild, built once for create and update.
    struct Settings {
        source: ProjectSource,
        artifacts: ProjectArtifacts,
        environment: ProjectEnvironment,
        logs: LogsConfig,
        timeout: i32,
    }

    /// The buildspec drone writes for `image_build`, if the configuration has one.
    fn written_buildspec(config: &Attributes) -> Option<String> {
        let b = present(config, "image_build")?.as_map()?;
        Some(image_buildspec(&ImageBuild {
            repository_url: string(b, "repository_url")?,
            container_name: string(b, "container_name")?,
            dockerfile: string(b, "dockerfile").unwrap_or("Dockerfile"),
        }))
    }

    fn settings(config: &Attributes, operation: &str) -> Result<Settings, ProviderError> {
        let fail = |e: aws_sdk_codebuild::error::BuildError| invalid(operation, e.to_string());
        let written = written_buildspec(config);
        let privileged = written.is_some();
        let buildspec = match (written, string(config, "buildspec")) {
            (Some(_), Some(_)) => return Err(invalid(operation, "set `image_build` or `buildspec`, not both")),
            (None, None) => return Err(invalid(operation, "set `image_build` or `buildspec`")),
            (Some(w), None) => w,
            (None, Some(b)) => b.to_string(),
        };
        let source =
            ProjectSource::builder().r#type(SourceType::Codepipeline).buildspec(buildspec).build().map_err(fail)?;
        let artifacts = ProjectArtifacts::builder().r#type(ArtifactsType::Codepipeline).build().map_err(fail)?;
        let variables = string_map(config, "environment_variables")
            .into_iter()
            .map(|(name, value)| {
                EnvironmentVariable::builder()
                    .name(name)
                    .value(value)
                    .r#type(EnvironmentVariableType::Plaintext)
                    .build()
            })
            .collect::<Result<Vec<_>, _>>()
            .map_err(fail)?;
        let environment = ProjectEnvironment::builder()
            .r#type(EnvironmentType::LinuxContainer)
            .image(string(config, "build_image").unwrap_or(DEFAULT_IMAGE))
            .compute_type(ComputeType::from(string(config, "compute_type").unwrap_or(DEFAULT_COMPUTE_TYPE)))
            .privileged_mode(privileged)
            .set_environment_variables(Some(variables))
            .build()
            .map_err(fail)?;
        let cloudwatch = CloudWatchLogsConfig::builder()
            .status(LogsConfigStatusType::Enabled)
            .set_group_name(string(config, "log_group").map(String::from))
            .build()
            .map_err(fail)?;
        let logs = LogsConfig::builder().cloud_watch_logs(cloudwatch).build();
        Ok(Settings {
            source,
            artifacts,
            environment,
            logs,
            timeout: int(config, "timeout_minutes").unwrap_or(DEFAULT_TIMEOUT),
        })
    }

    /// Whether `project`'s builds run privileged, as its `privileged_mode` reads.
    fn privileged(project: Option<&Described>) -> Value {
        Value::Bool(project.and_then(|p| p.environment()).and_then(|e| e.privileged_mode()).unwrap_or(false))
    }

    fn codebuild_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
        tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
    }

    /// The project named `name`, if it exists.
    async fn describe(p: &AwsProvider, name: &str) -> Result<Option<Described>, ProviderError> {
        let out =
            p.codebuild.batch_get_projects().names(name).send().await.map_err(|e| sdk_error("BatchGetProjects", e))?;
        Ok(out.projects().iter().find(|project| project.name() == Some(name)).cloned())
    }

    /// The type's operations.
    pub struct Project;

    #[async_trait]
    impl Ops for Project {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "CreateProject";
            let name = required(config, "name", OP)?;
            let s = settings(config, OP)?;
            let out = p
                .codebuild
                .create_project()
                .name(name)
                .set_description(string(config, "description").map(String::from))
                .service_role(required(config, "service_role_arn", OP)?)
                .source(s.source)
                .artifacts(s.artifacts)
                .environment(s.environment)
                .logs_config(s.logs)
                .timeout_in_minutes(s.timeout)
                .set_tags(Some(codebuild_tags(tags)))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let project = out.project().ok_or_else(|| missing(OP, "project"))?;
            Ok(Observed {
                id: name.to_string(),
                attributes: observed([("arn", text(project.arn())), ("privileged_mode", privileged(Some(project)))]),
            })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            let name = required(f.config, "name", "BatchGetProjects")?;
            let Some(project) = describe(p, name).await? else { return Ok(None) };
            let owner = owner(project.tags().iter().filter_map(|t| Some((t.key()?, t.value()?))), f.tags);
            Ok(Some(Found { id: name.to_string(), owner }))
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let Some(project) = describe(p, id).await? else { return Ok(None) };
            let environment = project.environment();
            let spec = project.source().and_then(|s| s.buildspec());
            // The workflow names an image build or a buildspec; the project holds the buildspec. It
            // reads as the image build when it is the one drone writes for it, and as itself when not.
            let mut attributes = match written_buildspec(prior) {
                Some(written) if spec == Some(written.as_str()) => observed([
                    ("image_build", prior.get("image_build").cloned().unwrap_or(Value::Null)),
                    ("buildspec", Value::Null),
                ]),
                _ => observed([("image_build", Value::Null), ("buildspec", text(spec))]),
            };
            let variables = environment
                .map(|e| {
                    e.environment_variables()
                        .iter()
                        .filter(|v| v.r#type().is_none_or(|t| *t == EnvironmentVariableType::Plaintext))
                        .map(|v| (v.name().to_string(), Value::str(v.value())))
                        .collect()
                })
                .unwrap_or_default();
            let log_group = project.logs_config().and_then(|l| l.cloud_watch_logs()).and_then(|c| c.group_name());
            attributes.extend(observed([
                ("name", text(project.name())),
                ("description", text(project.description().filter(|d| !d.is_empty()))),
                ("service_role_arn", text(project.service_role())),
                ("build_image", text(environment.map(|e| e.image()))),
                ("compute_type", text(environment.map(|e| e.compute_type().as_str()))),
                ("environment_variables", Value::map(variables)),
                ("log_group", text(log_group)),
                ("timeout_minutes", attrs::number(project.timeout_in_minutes())),
                ("arn", text(project.arn())),
                ("privileged_mode", privileged(Some(&project))),
            ]));
            if prior.contains_key("tags") {
                let tags = project.tags().iter().filter_map(|t| Some((t.key()?, t.value()?)));
                attributes.insert("tags".into(), attrs::user_tags(tags));
            }
            attrs::drop_defaults(
                &mut attributes,
                prior,
                &[
                    ("build_image", Value::str(DEFAULT_IMAGE)),
                    ("compute_type", Value::str(DEFAULT_COMPUTE_TYPE)),
                    ("timeout_minutes", Value::Number(f64::from(DEFAULT_TIMEOUT))),
                    ("environment_variables", Value::map(BTreeMap::new())),
                ],
            );
            Ok(Some(Observed { id: id.to_string(), attributes }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            const OP: &str = "UpdateProject";
            // UpdateProject replaces what it is given, tags included: everything is sent.
            let s = settings(u.config, OP)?;
            let out = p
                .codebuild
                .update_project()
                .name(u.id)
                .description(string(u.config, "description").unwrap_or_default())
                .service_role(required(u.config, "service_role_arn", OP)?)
                .source(s.source)
                .artifacts(s.artifacts)
                .environment(s.environment)
                .logs_config(s.logs)
                .timeout_in_minutes(s.timeout)
                .set_tags(Some(codebuild_tags(u.tags)))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            Ok(Observed {
                id: u.id.to_string(),
                attributes: observed([("privileged_mode", privileged(out.project()))]),
            })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _prior: &Attributes) -> Result<(), ProviderError> {
            // DeleteProject succeeds for a project that is already gone.
            p.codebuild.delete_project().name(id).send().await.map(drop).map_err(|e| sdk_error("DeleteProject", e))
        }
    }
}
