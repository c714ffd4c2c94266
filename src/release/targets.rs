//! What a release works on, read from the workflow's state: the pipeline,
//! its source repository (in CodeCommit, or on GitHub through a connection)
//! and branch, the image repository its build pushes
//! to, and the ECS service its deploy updates, with that service's alarms.

use drone_engine::state::{ResourceState, State};
use serde_json::Value as Json;

/// The resources one release goes through.
#[derive(Clone, Debug, PartialEq)]
pub(crate) struct Targets {
    /// The pipeline's address in the workflow.
    pub(crate) address: String,
    /// The provider that manages the pipeline and its repositories.
    pub(crate) provider: String,
    /// The pipeline's name.
    pub(crate) pipeline: String,
    /// Its source action's name.
    pub(crate) source_action: String,
    /// The source repository: a CodeCommit repository's name, or `owner/name` on GitHub.
    pub(crate) repository: String,
    /// The CodeConnections connection the source is read through, when it is not in CodeCommit
    /// (the team pushes to it; a release names a commit).
    pub(crate) connection: Option<String>,
    /// The branch the pipeline follows.
    pub(crate) branch: String,
    /// The ECR repository's URL, where the build pushes the image.
    pub(crate) image_repository_url: String,
    /// The provider that manages the service.
    pub(crate) service_provider: String,
    /// The service's cluster name.
    pub(crate) cluster: String,
    /// The service's name.
    pub(crate) service: String,
    /// The service's ARN.
    pub(crate) service_arn: String,
    /// The alarms that roll a deployment of it back.
    pub(crate) alarms: Vec<String>,
}

/// The source action that reads a repository through a CodeConnections connection.
const CONNECTION_SOURCE: &str = "CodeStarSourceConnection";

/// Why a release cannot find what it works on.
#[derive(Debug, thiserror::Error, PartialEq)]
pub(crate) enum TargetError {
    /// No pipeline is recorded.
    #[error("the state records no `aws.codepipeline.pipeline`: run the workflow first")]
    NoPipeline,
    /// Several are, and none was chosen.
    #[error("the state records {0} pipelines: choose one with --pipeline ({1})")]
    Ambiguous(usize, String),
    /// The chosen one is not recorded.
    #[error("the state records no pipeline at `{0}`")]
    Unknown(String),
    /// The pipeline lacks an action a release needs, or what it names is not recorded.
    #[error("pipeline `{0}`: {1}")]
    Incomplete(String, String),
}

impl Targets {
    /// Finds the pipeline (the one at `chosen`, or the only one) and what it names.
    pub(crate) fn find(state: &State, chosen: Option<&str>) -> Result<Targets, TargetError> {
        let pipelines: Vec<(&String, &ResourceState)> =
            state.resources.iter().filter(|(_, r)| r.type_name == "aws.codepipeline.pipeline" && !r.data).collect();
        let (address, pipeline) = match (chosen, pipelines.as_slice()) {
            (Some(chosen), _) => pipelines
                .iter()
                .find(|(a, _)| *a == chosen)
                .copied()
                .ok_or_else(|| TargetError::Unknown(chosen.into()))?,
            (None, []) => return Err(TargetError::NoPipeline),
            (None, [one]) => *one,
            (None, many) => {
                let names = many.iter().map(|(a, _)| a.as_str()).collect::<Vec<_>>().join(", ");
                return Err(TargetError::Ambiguous(many.len(), names));
            }
        };
        let incomplete = |why: String| TargetError::Incomplete(address.clone(), why);
        let attrs = json(pipeline);
        let action = |providers: &[&str]| {
            attrs["stages"]
                .as_array()
                .into_iter()
                .flatten()
                .flat_map(|s| s["actions"].as_array().into_iter().flatten())
                .find(|a| providers.iter().any(|p| a["provider"] == *p))
                .cloned()
                .ok_or_else(|| incomplete(format!("it has no {} action", providers.join(" or "))))
        };
        let source = action(&["CodeCommit", CONNECTION_SOURCE])?;
        let on_connection = source["provider"] == CONNECTION_SOURCE;
        let build = action(&["CodeBuild"])?;
        let deploy = action(&["ECS"])?;
        let text = |v: &Json| v.as_str().unwrap_or_default().to_string();
        let project_name = text(&build["configuration"]["ProjectName"]);
        let project = state
            .resources
            .values()
            .find(|r| r.type_name == "aws.codebuild.project" && json(r)["name"] == project_name.as_str())
            .ok_or_else(|| incomplete(format!("its build project `{project_name}` is not recorded")))?;
        let image_repository_url = text(&json(project)["image_build"]["repository_url"]);
        if image_repository_url.is_empty() {
            return Err(incomplete(format!("build project `{project_name}` builds no image (`image_build`)")));
        }
        let (cluster, service_name) =
            (text(&deploy["configuration"]["ClusterName"]), text(&deploy["configuration"]["ServiceName"]));
        let service = state
            .resources
            .values()
            .find(|r| {
                let a = json(r);
                r.type_name == "aws.ecs.service"
                    && a["name"] == service_name.as_str()
                    && a["cluster"].as_str().is_some_and(|c| c == cluster || c.ends_with(&format!("/{cluster}")))
            })
            .ok_or_else(|| incomplete(format!("its service `{cluster}/{service_name}` is not recorded")))?;
        let alarms = json(service)["rollback_alarms"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Json::as_str)
            .map(String::from)
            .collect();
        Ok(Targets {
            address: address.clone(),
            provider: pipeline.provider.clone(),
            pipeline: text(&attrs["name"]),
            source_action: text(&source["name"]),
            repository: text(
                &source["configuration"][if on_connection { "FullRepositoryId" } else { "RepositoryName" }],
            ),
            connection: on_connection.then(|| text(&source["configuration"]["ConnectionArn"])),
            branch: text(&source["configuration"]["BranchName"]),
            image_repository_url,
            service_provider: service.provider.clone(),
            cluster,
            service: service_name,
            service_arn: service.id.clone(),
            alarms,
        })
    }

    /// The service as the provider's release calls name it.
    pub(crate) fn service_ref(&self) -> drone_stdlib::aws::release::ServiceRef<'_> {
        drone_stdlib::aws::release::ServiceRef { cluster: &self.cluster, name: &self.service, arn: &self.service_arn }
    }

    /// The ECR repository's name (its URL after the registry).
    pub(crate) fn image_repository(&self) -> &str {
        self.image_repository_url.split_once('/').map_or(self.image_repository_url.as_str(), |(_, name)| name)
    }
}

fn json(resource: &ResourceState) -> Json {
    Json::Object(resource.attributes.iter().map(|(k, v)| (k.clone(), v.to_json())).collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use drone_engine::value::Value;

    fn resource(type_name: &str, provider: &str, attrs: Json) -> ResourceState {
        let attributes =
            attrs.as_object().expect("an object").iter().map(|(k, v)| (k.clone(), Value::from_json(v))).collect();
        ResourceState {
            type_name: type_name.into(),
            id: "id".into(),
            provider: provider.into(),
            phase: "delivery".into(),
            dependencies: Default::default(),
            tainted: false,
            data: false,
            attributes,
        }
    }

    fn pipeline(name: &str) -> ResourceState {
        let action = |name: &str, provider: &str, configuration: Json| serde_json::json!({ "name": name, "provider": provider, "configuration": configuration });
        resource(
            "aws.codepipeline.pipeline",
            "primary",
            serde_json::json!({ "name": name, "stages": [
                { "name": "Source", "actions": [action("Source", "CodeCommit", serde_json::json!({ "RepositoryName": "shuttle-prod-ghost", "BranchName": "main" }))] },
                { "name": "Build", "actions": [action("Image", "CodeBuild", serde_json::json!({ "ProjectName": "shuttle-prod-ghost" }))] },
                { "name": "Deploy", "actions": [action("Service", "ECS", serde_json::json!({ "ClusterName": "shuttle-prod", "ServiceName": "ghost" }))] },
            ] }),
        )
    }

    fn state() -> State {
        let mut state = State::new("shuttle-prod");
        state.resources.insert("ship.primary.aws.codepipeline.pipeline.main".into(), pipeline("shuttle-prod"));
        state.resources.insert(
            "ship.primary.aws.codebuild.project.image".into(),
            resource(
                "aws.codebuild.project",
                "primary",
                serde_json::json!({ "name": "shuttle-prod-ghost", "image_build": { "repository_url": "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shuttle-prod-ghost" } }),
            ),
        );
        let service = |cluster: &str| serde_json::json!({ "name": "ghost", "cluster": format!("arn:aws:ecs:eu-west-1:123456789012:cluster/{cluster}"), "rollback_alarms": ["ghost-http-5xx", "ghost-unhealthy"] });
        state.resources.insert(
            "ghost.dr.aws.ecs.service.ghost".into(),
            resource("aws.ecs.service", "standby", service("shuttle-prod-dr")),
        );
        state.resources.insert(
            "ghost.primary.aws.ecs.service.ghost".into(),
            resource("aws.ecs.service", "primary", service("shuttle-prod")),
        );
        state
    }

    #[test]
    fn the_pipeline_names_its_repository_image_and_service() {
        let targets = Targets::find(&state(), None).expect("test setup");
        assert_eq!(targets.pipeline, "shuttle-prod");
        assert_eq!((targets.repository.as_str(), targets.branch.as_str()), ("shuttle-prod-ghost", "main"));
        assert_eq!(targets.source_action, "Source");
        assert_eq!(targets.image_repository(), "shuttle-prod-ghost");
        // The service of the deploy's cluster, not the standby's of the same name.
        assert_eq!((targets.cluster.as_str(), targets.service_provider.as_str()), ("shuttle-prod", "primary"));
        assert_eq!(targets.alarms, ["ghost-http-5xx", "ghost-unhealthy"]);
    }

    #[test]
    fn a_source_on_github_names_its_connection_and_repository() {
        let mut state = state();
        let pipeline = state.resources.get_mut("ship.primary.aws.codepipeline.pipeline.main").expect("test setup");
        let github = serde_json::json!({ "name": "Source", "provider": "CodeStarSourceConnection", "configuration": {
            "ConnectionArn": "arn:aws:codeconnections:eu-west-1:123456789012:connection/c0ffee",
            "FullRepositoryId": "acme/shuttle-ghost",
            "BranchName": "main",
        } });
        let mut stages = pipeline.attributes["stages"].to_json();
        stages[0]["actions"] = serde_json::json!([github]);
        pipeline.attributes.insert("stages".into(), Value::from_json(&stages));
        let targets = Targets::find(&state, None).expect("test setup");
        assert_eq!((targets.repository.as_str(), targets.branch.as_str()), ("acme/shuttle-ghost", "main"));
        assert_eq!(
            targets.connection.as_deref(),
            Some("arn:aws:codeconnections:eu-west-1:123456789012:connection/c0ffee")
        );
        // A CodeCommit source has none: a release commits to it.
        assert_eq!(Targets::find(&self::state(), None).expect("test setup").connection, None);
    }

    #[test]
    fn no_pipeline_or_several_is_said() {
        assert_eq!(Targets::find(&State::new("w"), None), Err(TargetError::NoPipeline));
        let mut two = state();
        two.resources.insert("other.aws.codepipeline.pipeline.main".into(), pipeline("other"));
        assert!(matches!(Targets::find(&two, None), Err(TargetError::Ambiguous(2, _))));
        let chosen = Targets::find(&two, Some("ship.primary.aws.codepipeline.pipeline.main")).expect("test setup");
        assert_eq!(chosen.pipeline, "shuttle-prod");
        assert_eq!(Targets::find(&two, Some("nope")), Err(TargetError::Unknown("nope".into())));
    }

    #[test]
    fn a_missing_build_project_is_named() {
        let mut state = state();
        state.resources.retain(|_, r| r.type_name != "aws.codebuild.project");
        let err = Targets::find(&state, None).expect_err("no project");
        assert!(err.to_string().contains("build project `shuttle-prod-ghost` is not recorded"), "{err}");
    }
}
