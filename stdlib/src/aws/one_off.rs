//! One-off Fargate tasks (`drone task --on fargate`): a role holding exactly
//! a task's grants, a task definition for drone's own image, `RunTask` in
//! private subnets without a public IP, and what it printed.

use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, Compatibility, ContainerDefinition, ContainerOverride, KeyValuePair,
    LaunchType, LogConfiguration, LogDriver, NetworkConfiguration, NetworkMode, Secret, TaskOverride,
};
use drone_engine::provider::ProviderError;

use super::error::{invalid, sdk_error};
use super::AwsProvider;

/// The container's name in every one-off task definition.
pub const CONTAINER: &str = "drone";

/// A one-off task: what it runs and where.
pub struct OneOff<'a> {
    /// The task definition family (one per workflow and task).
    pub family: &'a str,
    /// drone's image.
    pub image: &'a str,
    /// The role ECS pulls the image and writes logs with.
    pub execution_role: &'a str,
    /// The role the task runs as: exactly its grants.
    pub task_role: &'a str,
    /// Where its output goes (stream prefix `drone`).
    pub log_group: &'a str,
    /// The region of `log_group`.
    pub region: &'a str,
    /// Environment variables read from the secret store: (name, SSM parameter or secret ARN).
    pub secrets: &'a [(String, String)],
    /// Plain environment variables.
    pub environment: &'a [(String, String)],
    /// The ECS cluster.
    pub cluster: &'a str,
    /// Private subnets.
    pub subnets: &'a [String],
    /// Security groups.
    pub security_groups: &'a [String],
    /// drone's command line in the container (`task FILE NAME --arg ...`).
    pub command: &'a [String],
}

/// A task as `DescribeTasks` last saw it.
#[derive(Clone, Debug, PartialEq)]
pub struct TaskStatus {
    /// `PROVISIONING` ... `RUNNING` ... `STOPPED`.
    pub last_status: String,
    /// The container's exit code, once stopped.
    pub exit_code: Option<i32>,
    /// Why it stopped.
    pub stopped_reason: Option<String>,
}

impl AwsProvider {
    /// Creates (or updates) role `name`, assumable by ECS tasks, holding `policy` inline; returns its ARN.
    pub async fn ensure_task_role(&self, name: &str, policy: &serde_json::Value) -> Result<String, ProviderError> {
        let trust = serde_json::json!({
            "Version": "2012-10-17",
            "Statement": [{ "Effect": "Allow", "Principal": { "Service": "ecs-tasks.amazonaws.com" }, "Action": "sts:AssumeRole" }]
        })
        .to_string();
        let arn = match self.iam.get_role().role_name(name).send().await {
            Ok(found) => found.role().map(|r| r.arn().to_string()),
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_entity_exception()) => {
                let created = self
                    .iam
                    .create_role()
                    .role_name(name)
                    .assume_role_policy_document(&trust)
                    .description("drone: a one-off task with exactly its grants")
                    .send()
                    .await
                    .map_err(|e| sdk_error("CreateRole", e))?;
                created.role().map(|r| r.arn().to_string())
            }
            Err(e) => return Err(sdk_error("GetRole", e)),
        };
        self.iam
            .put_role_policy()
            .role_name(name)
            .policy_name("drone-task-grants")
            .policy_document(policy.to_string())
            .send()
            .await
            .map_err(|e| sdk_error("PutRolePolicy", e))?;
        arn.ok_or_else(|| invalid("GetRole", "no role ARN in the answer"))
    }

    /// Registers the task definition and starts the task; returns the task's ARN.
    pub async fn run_one_off(&self, t: &OneOff<'_>) -> Result<String, ProviderError> {
        let logs = LogConfiguration::builder()
            .log_driver(LogDriver::Awslogs)
            .options("awslogs-group", t.log_group)
            .options("awslogs-region", t.region)
            .options("awslogs-stream-prefix", CONTAINER)
            .build()
            .map_err(|e| invalid("RegisterTaskDefinition", e.to_string()))?;
        let secrets = t
            .secrets
            .iter()
            .map(|(name, from)| Secret::builder().name(name).value_from(from).build())
            .collect::<Result<Vec<_>, _>>()
            .map_err(|e| invalid("RegisterTaskDefinition", e.to_string()))?;
        let container = ContainerDefinition::builder()
            .name(CONTAINER)
            .image(t.image)
            .essential(true)
            // The whole task's size: the container is all there is.
            .cpu(256)
            .memory(512)
            .readonly_root_filesystem(false)
            .log_configuration(logs)
            .set_secrets(Some(secrets))
            .build();
        let registered = self
            .ecs
            .register_task_definition()
            .family(t.family)
            .network_mode(NetworkMode::Awsvpc)
            .requires_compatibilities(Compatibility::Fargate)
            .cpu("256")
            .memory("512")
            .execution_role_arn(t.execution_role)
            .task_role_arn(t.task_role)
            .container_definitions(container)
            .send()
            .await
            .map_err(|e| sdk_error("RegisterTaskDefinition", e))?;
        let definition = registered
            .task_definition()
            .and_then(|d| d.task_definition_arn())
            .ok_or_else(|| invalid("RegisterTaskDefinition", "no task definition ARN in the answer"))?;
        let vpc = AwsVpcConfiguration::builder()
            .set_subnets(Some(t.subnets.to_vec()))
            .set_security_groups(Some(t.security_groups.to_vec()))
            .assign_public_ip(AssignPublicIp::Disabled)
            .build()
            .map_err(|e| invalid("RunTask", e.to_string()))?;
        let environment = t.environment.iter().map(|(k, v)| KeyValuePair::builder().name(k).value(v).build()).collect();
        let overrides = TaskOverride::builder()
            .task_role_arn(t.task_role)
            .container_overrides(
                ContainerOverride::builder()
                    .name(CONTAINER)
                    .set_command(Some(t.command.to_vec()))
                    .set_environment(Some(environment))
                    .build(),
            )
            .build();
        let ran = self
            .ecs
            .run_task()
            .cluster(t.cluster)
            .task_definition(definition)
            .launch_type(LaunchType::Fargate)
            .count(1)
            .started_by("drone")
            .network_configuration(NetworkConfiguration::builder().awsvpc_configuration(vpc).build())
            .overrides(overrides)
            .send()
            .await
            .map_err(|e| sdk_error("RunTask", e))?;
        if let Some(failure) = ran.failures().first() {
            return Err(invalid("RunTask", failure.reason().unwrap_or("the task was not started").to_string()));
        }
        ran.tasks()
            .first()
            .and_then(|task| task.task_arn())
            .map(String::from)
            .ok_or_else(|| invalid("RunTask", "no task in the answer"))
    }

    /// The task's status now.
    pub async fn one_off_status(&self, cluster: &str, task: &str) -> Result<TaskStatus, ProviderError> {
        let out = self
            .ecs
            .describe_tasks()
            .cluster(cluster)
            .tasks(task)
            .send()
            .await
            .map_err(|e| sdk_error("DescribeTasks", e))?;
        let task = out.tasks().first().ok_or_else(|| invalid("DescribeTasks", format!("{task} is not known")))?;
        Ok(TaskStatus {
            last_status: task.last_status().unwrap_or("UNKNOWN").to_string(),
            exit_code: task.containers().iter().find(|c| c.name() == Some(CONTAINER)).and_then(|c| c.exit_code()),
            stopped_reason: task.stopped_reason().map(String::from),
        })
    }

    /// Lines the task wrote since `token`, and the token to read on from.
    pub async fn one_off_log(
        &self,
        group: &str,
        stream: &str,
        token: Option<String>,
    ) -> Result<(Vec<String>, Option<String>), ProviderError> {
        let out = self
            .logs
            .get_log_events()
            .log_group_name(group)
            .log_stream_name(stream)
            .start_from_head(true)
            .set_next_token(token)
            .send()
            .await
            .map_err(|e| sdk_error("GetLogEvents", e))?;
        let lines = out.events().iter().filter_map(|e| e.message().map(String::from)).collect();
        Ok((lines, out.next_forward_token().map(String::from)))
    }
}
