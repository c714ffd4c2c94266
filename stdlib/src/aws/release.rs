//! What `drone release` calls: a commit of the build's source through
//! CodeCommit's API, a pipeline execution pinned to it, the image it pushes
//! to ECR, and the ECS deployment that runs it, with the listener weights and
//! alarms that deployment is judged by.

use std::collections::BTreeMap;

use aws_sdk_codecommit::types::{DeleteFileEntry, PutFileEntry};
use aws_sdk_codepipeline::types::{SourceRevisionOverride, SourceRevisionType};
use aws_sdk_ecs::types::{ServiceDeploymentStatus, StopServiceDeploymentStopType};
use aws_smithy_types::Blob;
use drone_engine::provider::ProviderError;
use sha1::{Digest, Sha1};

use super::error::{invalid, sdk_error};
use super::AwsProvider;

/// A commit to make: who, why, and the files it puts and deletes.
pub struct Commit<'a> {
    /// The CodeCommit repository.
    pub repository: &'a str,
    /// The branch it goes on.
    pub branch: &'a str,
    /// The branch's head it builds on (none for a repository's first commit).
    pub parent: Option<&'a str>,
    /// The author's name.
    pub author: &'a str,
    /// The author's email address.
    pub email: &'a str,
    /// The commit message.
    pub message: &'a str,
    /// Files added or changed: path and content.
    pub put: Vec<(String, Vec<u8>)>,
    /// Files removed.
    pub delete: Vec<String>,
}

/// An ECS service's deployments as `DescribeServices` shows them, newest first.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct ServiceRollout {
    /// The task definition the service runs (or is moving to).
    pub task_definition: String,
    /// Each deployment: status (`PRIMARY`, `ACTIVE`), rollout state, task definition.
    pub deployments: Vec<(String, String, String)>,
    /// The production listener rule of a blue/green, linear or canary service.
    pub production_rule: Option<String>,
}

/// An ECS service a release deploys to.
pub struct ServiceRef<'a> {
    /// Its cluster's name.
    pub cluster: &'a str,
    /// Its name.
    pub name: &'a str,
    /// Its ARN (what IAM authorizes the calls against).
    pub arn: &'a str,
}

/// The blob id git gives `content` (what CodeCommit reports for a file).
pub fn blob_id(content: &[u8]) -> String {
    let mut hash = Sha1::new();
    hash.update(format!("blob {}\0", content.len()).as_bytes());
    hash.update(content);
    hash.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

impl AwsProvider {
    /// Runs a release's call with its calls journaled against (`type_name`, `id`), and a denied
    /// call's error naming the IAM action it needed.
    async fn scoped<T>(
        &self,
        type_name: &str,
        id: &str,
        call: impl std::future::Future<Output = Result<T, ProviderError>>,
    ) -> Result<T, ProviderError> {
        super::journal::scoped(self.journal.as_ref(), "release", type_name, Some(id), call, |_| None).await
    }

    /// The commit at the tip of `branch`, or none when the branch does not exist yet.
    pub async fn branch_head(&self, repository: &str, branch: &str) -> Result<Option<String>, ProviderError> {
        self.scoped("aws.codecommit.repository", repository, async {
            match self.codecommit.get_branch().repository_name(repository).branch_name(branch).send().await {
                Ok(out) => Ok(out.branch().and_then(|b| b.commit_id()).map(String::from)),
                Err(e) if e.as_service_error().is_some_and(|s| s.is_branch_does_not_exist_exception()) => Ok(None),
                Err(e) => Err(sdk_error("GetBranch", e)),
            }
        })
        .await
    }

    /// Every file of `commit`, by path, with its blob id.
    pub async fn tree(&self, repository: &str, commit: &str) -> Result<BTreeMap<String, String>, ProviderError> {
        self.scoped("aws.codecommit.repository", repository, async {
            let mut files = BTreeMap::new();
            let mut folders = vec![String::from("/")];
            while let Some(folder) = folders.pop() {
                let out = self
                    .codecommit
                    .get_folder()
                    .repository_name(repository)
                    .commit_specifier(commit)
                    .folder_path(&folder)
                    .send()
                    .await
                    .map_err(|e| sdk_error("GetFolder", e))?;
                for file in out.files() {
                    if let (Some(path), Some(blob)) = (file.absolute_path(), file.blob_id()) {
                        files.insert(path.trim_start_matches('/').to_string(), blob.to_string());
                    }
                }
                folders.extend(out.sub_folders().iter().filter_map(|f| f.absolute_path()).map(String::from));
            }
            Ok(files)
        })
        .await
    }

    /// Whether `commit` is `branch`'s head or one of its ancestors, looking `depth` commits back:
    /// a release ships only what reached the branch.
    pub async fn on_branch(
        &self,
        repository: &str,
        branch: &str,
        commit: &str,
        depth: usize,
    ) -> Result<bool, ProviderError> {
        let Some(head) = self.branch_head(repository, branch).await? else { return Ok(false) };
        self.scoped("aws.codecommit.repository", repository, async {
            let mut queue = std::collections::VecDeque::from([head]);
            let mut seen = std::collections::BTreeSet::new();
            while let Some(id) = queue.pop_front() {
                if id == commit {
                    return Ok(true);
                }
                if seen.len() >= depth || !seen.insert(id.clone()) {
                    continue;
                }
                let out = self
                    .codecommit
                    .get_commit()
                    .repository_name(repository)
                    .commit_id(&id)
                    .send()
                    .await
                    .map_err(|e| sdk_error("GetCommit", e))?;
                queue.extend(out.commit().map(|c| c.parents().to_vec()).unwrap_or_default());
            }
            Ok(false)
        })
        .await
    }

    /// The status of CodeConnections connection `arn`: PENDING until its handshake is completed
    /// in the console, then AVAILABLE.
    pub async fn connection_status(&self, arn: &str) -> Result<String, ProviderError> {
        self.scoped("aws.codeconnections.connection", arn, async {
            let out = self
                .codeconnections
                .get_connection()
                .connection_arn(arn)
                .send()
                .await
                .map_err(|e| sdk_error("GetConnection", e))?;
            Ok(out.connection().and_then(|c| c.connection_status()).map(|s| s.as_str().to_string()).unwrap_or_default())
        })
        .await
    }

    /// Makes `commit`; returns its id.
    pub async fn create_commit(&self, commit: Commit<'_>) -> Result<String, ProviderError> {
        let repository = commit.repository;
        self.scoped("aws.codecommit.repository", repository, async {
            let put = commit
                .put
                .into_iter()
                .map(|(path, content)| PutFileEntry::builder().file_path(path).file_content(Blob::new(content)).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| invalid("CreateCommit", e.to_string()))?;
            let delete = commit
                .delete
                .into_iter()
                .map(|path| DeleteFileEntry::builder().file_path(path).build())
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| invalid("CreateCommit", e.to_string()))?;
            let out = self
                .codecommit
                .create_commit()
                .repository_name(commit.repository)
                .branch_name(commit.branch)
                .set_parent_commit_id(commit.parent.map(String::from))
                .author_name(commit.author)
                .email(commit.email)
                .commit_message(commit.message)
                .set_put_files(Some(put).filter(|p| !p.is_empty()))
                .set_delete_files(Some(delete).filter(|d| !d.is_empty()))
                .send()
                .await
                .map_err(|e| sdk_error("CreateCommit", e))?;
            out.commit_id().map(String::from).ok_or_else(|| invalid("CreateCommit", "no commit id in the answer"))
        })
        .await
    }

    /// Starts `pipeline` at `commit` of its source action `action`; `token` makes a repeated
    /// request (a lost reply, a resumed release) answer with the execution it started.
    pub async fn start_execution(
        &self,
        pipeline: &str,
        action: &str,
        commit: &str,
        token: &str,
    ) -> Result<String, ProviderError> {
        self.scoped("aws.codepipeline.pipeline", pipeline, async {
            let revision = SourceRevisionOverride::builder()
                .action_name(action)
                .revision_type(SourceRevisionType::CommitId)
                .revision_value(commit)
                .build()
                .map_err(|e| invalid("StartPipelineExecution", e.to_string()))?;
            let out = self
                .codepipeline
                .start_pipeline_execution()
                .name(pipeline)
                .source_revisions(revision)
                .client_request_token(token)
                .send()
                .await
                .map_err(|e| sdk_error("StartPipelineExecution", e))?;
            out.pipeline_execution_id()
                .map(String::from)
                .ok_or_else(|| invalid("StartPipelineExecution", "no execution id in the answer"))
        })
        .await
    }

    /// The status of an execution: `InProgress`, `Succeeded`, `Failed`, `Stopped`, `Superseded` ...
    pub async fn execution_status(&self, pipeline: &str, execution: &str) -> Result<String, ProviderError> {
        self.scoped("aws.codepipeline.pipeline", pipeline, async {
            let out = self
                .codepipeline
                .get_pipeline_execution()
                .pipeline_name(pipeline)
                .pipeline_execution_id(execution)
                .send()
                .await
                .map_err(|e| sdk_error("GetPipelineExecution", e))?;
            Ok(out.pipeline_execution().and_then(|e| e.status()).map(|s| s.as_str().to_string()).unwrap_or_default())
        })
        .await
    }

    /// The digest of the image in `repository` tagged `PREFIX-...` and pushed at `since` or later, if
    /// one has been: a commit released again is built again, and its earlier image is not this build's.
    pub async fn image_tagged(
        &self,
        repository: &str,
        prefix: &str,
        since: std::time::SystemTime,
    ) -> Result<Option<String>, ProviderError> {
        let since = since.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_secs() as i64);
        let tag = format!("{prefix}-");
        self.scoped("aws.ecr.repository", repository, async {
            let mut pages = self.ecr.describe_images().repository_name(repository).into_paginator().send();
            while let Some(page) = pages.next().await {
                let page = page.map_err(|e| sdk_error("DescribeImages", e))?;
                for image in page.image_details() {
                    let recent = image.image_pushed_at().is_none_or(|at| at.secs() >= since);
                    if recent && image.image_tags().iter().any(|t| t.starts_with(&tag)) {
                        return Ok(image.image_digest().map(String::from));
                    }
                }
            }
            Ok(None)
        })
        .await
    }

    /// The deployments of `service` in `cluster`.
    pub async fn service_rollout(&self, service: &ServiceRef<'_>) -> Result<ServiceRollout, ProviderError> {
        let (cluster, name) = (service.cluster, service.name);
        self.scoped("aws.ecs.service", service.arn, async {
            let out = self
                .ecs
                .describe_services()
                .cluster(cluster)
                .services(name)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeServices", e))?;
            let Some(found) = out.services().first() else {
                return Err(invalid("DescribeServices", format!("no service {name} in {cluster}")));
            };
            let text = |s: Option<&str>| s.unwrap_or_default().to_string();
            Ok(ServiceRollout {
                task_definition: text(found.task_definition()),
                deployments: found
                    .deployments()
                    .iter()
                    .map(|d| {
                        let rollout = d.rollout_state().map(|s| s.as_str());
                        (text(d.status()), text(rollout), text(d.task_definition()))
                    })
                    .collect(),
                production_rule: found
                    .load_balancers()
                    .iter()
                    .find_map(|lb| lb.advanced_configuration().and_then(|a| a.production_listener_rule()))
                    .map(String::from),
            })
        })
        .await
    }

    /// The container images of task definition `arn`.
    pub async fn task_images(&self, arn: &str) -> Result<Vec<String>, ProviderError> {
        self.scoped("aws.ecs.task_definition", arn, async {
            let out = self
                .ecs
                .describe_task_definition()
                .task_definition(arn)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeTaskDefinition", e))?;
            Ok(out
                .task_definition()
                .map(|d| d.container_definitions().iter().filter_map(|c| c.image()).map(String::from).collect())
                .unwrap_or_default())
        })
        .await
    }

    /// Stops `service`'s deployment in progress, if any, rolling it back; says whether there was one.
    pub async fn roll_back_deployment(&self, service: &ServiceRef<'_>) -> Result<bool, ProviderError> {
        let (cluster, name) = (service.cluster, service.name);
        self.scoped("aws.ecs.service", service.arn, async {
            let out = self
                .ecs
                .list_service_deployments()
                .cluster(cluster)
                .service(name)
                .status(ServiceDeploymentStatus::InProgress)
                .send()
                .await
                .map_err(|e| sdk_error("ListServiceDeployments", e))?;
            let Some(arn) = out.service_deployments().iter().find_map(|d| d.service_deployment_arn()) else {
                return Ok(false);
            };
            self.ecs
                .stop_service_deployment()
                .service_deployment_arn(arn)
                .stop_type(StopServiceDeploymentStopType::Rollback)
                .send()
                .await
                .map_err(|e| sdk_error("StopServiceDeployment", e))?;
            Ok(true)
        })
        .await
    }

    /// The weight each target group gets from listener rule `arn`.
    pub async fn rule_weights(&self, arn: &str) -> Result<Vec<(String, i32)>, ProviderError> {
        self.scoped("aws.elbv2.listener_rule", arn, async {
            let out =
                self.elbv2.describe_rules().rule_arns(arn).send().await.map_err(|e| sdk_error("DescribeRules", e))?;
            Ok(out
                .rules()
                .iter()
                .flat_map(|r| r.actions())
                .filter_map(|a| a.forward_config())
                .flat_map(|f| f.target_groups())
                .map(|g| (g.target_group_arn().unwrap_or_default().to_string(), g.weight().unwrap_or(1)))
                .collect())
        })
        .await
    }

    /// The alarms of `names` that are in ALARM.
    pub async fn alarms_firing(&self, names: &[String]) -> Result<Vec<String>, ProviderError> {
        self.scoped("aws.cloudwatch.alarm", names.first().map_or("", String::as_str), async {
            if names.is_empty() {
                return Ok(Vec::new());
            }
            let out = self
                .cloudwatch
                .describe_alarms()
                .set_alarm_names(Some(names.to_vec()))
                .send()
                .await
                .map_err(|e| sdk_error("DescribeAlarms", e))?;
            Ok(out
                .metric_alarms()
                .iter()
                .filter(|a| a.state_value().is_some_and(|s| s.as_str() == "ALARM"))
                .filter_map(|a| a.alarm_name().map(String::from))
                .collect())
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_ids_are_gits() {
        // `printf 'FROM x\n' | git hash-object --stdin`
        assert_eq!(blob_id(b"FROM x\n"), "280c0670b91f73abccbe053855ca05f6f4467caa");
        // `git hash-object /dev/null`
        assert_eq!(blob_id(b""), "e69de29bb2d1d6434b8b29ae775ad8c2e48c5391");
    }
}
