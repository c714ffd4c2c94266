//! `aws.ecs.task_definition`: an ECS task definition: the containers of a task and the roles they run with.

use std::collections::BTreeMap;

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, field, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.ecs.task_definition",
    doc: "an ECS task definition: the containers of a task and the roles they run with",
    taggable: true,
    attributes,
    naming: Some("family"),
    // Every revision of the family.
    arns: |s| {
        vec![ArnPattern::new(
            "ecs",
            "task-definition",
            format!("arn:aws:ecs:{}:{}:task-definition/{}:*", s.region, s.account, s.name),
        )]
    },
    actions: &[
        (Create, "ecs:RegisterTaskDefinition"),
        (Create, "ecs:TagResource"),
        // With `pipeline_release`: what a pipeline released since drone's last revision (the
        // service's own DescribeServices is granted with the service).
        (Create, "ecs:ListTaskDefinitions"),
        (Create, "ecs:DescribeTaskDefinition"),
        (Read, "ecs:DescribeTaskDefinition"),
        (Update, "ecs:TagResource"),
        (Update, "ecs:UntagResource"),
        (Delete, "ecs:DeregisterTaskDefinition"),
        (Find, "ecs:ListTaskDefinitions"),
        (Find, "ecs:DescribeTaskDefinition"),
    ],
    passes_roles_to: &["ecs-tasks.amazonaws.com"],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("ecs", sdk::TaskDefinition),
};

/// The object type of an EFS volume of a task definition.
pub fn efs_volume_type() -> Type {
    Type::Object(vec![
        field("name", Type::String, true, "the volume's name, which containers mount"),
        field("file_system_id", Type::String, true, "the EFS file system"),
    ])
}

/// The object type of a volume mounted into a container.
pub fn mount_type() -> Type {
    Type::Object(vec![
        field("volume", Type::String, true, "the volume's name"),
        field("path", Type::String, true, "where it appears in the container"),
    ])
}

/// The object type of one container in a task definition.
pub fn container_type() -> Type {
    Type::Object(vec![
        field("name", Type::String, true, "the container's name"),
        field("image", Type::String, true, "the image, e.g. \"ghost:5-alpine\""),
        field("essential", Type::Bool, false, "stop the task when this container stops (default true)"),
        field("ports", Type::list(Type::Number), false, "TCP ports the container listens on"),
        field(
            "environment",
            Type::map(Type::String),
            false,
            "environment variables (no secrets: they show in the console)",
        ),
        field(
            "secrets",
            Type::map(Type::String),
            false,
            "environment variables ECS fills at start from Secrets Manager or SSM: name to ARN (a secret's JSON key as `ARN:key::`)",
        ),
        field("command", Type::list(Type::String), false, "the command, overriding the image's"),
        field("read_only_root_filesystem", Type::Bool, false, "mount the root filesystem read-only"),
        field("log_group", Type::String, false, "the CloudWatch Logs group the container's output goes to"),
        field("mounts", Type::list(mount_type()), false, "volumes mounted into the container"),
    ])
}

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("family", Type::String, "the family its revisions share").replaces(),
        required("cpu", Type::Number, "CPU units of the task (256 = a quarter vCPU)").replaces(),
        required("memory", Type::Number, "memory of the task in MiB").replaces(),
        required("containers", Type::list(container_type()), "the task's containers").replaces(),
        optional("efs_volumes", Type::list(efs_volume_type()), "EFS file systems the containers can mount").replaces(),
        optional("execution_role_arn", Type::String, "the role ECS uses to pull images and write logs").replaces(),
        optional("task_role_arn", Type::String, "the role the containers' code runs as").replaces(),
        optional(
            "pipeline_release",
            Type::Object(vec![
                field("cluster", Type::String, true, "the service's cluster (name or ARN)"),
                field("service", Type::String, true, "the service's name"),
                field("containers", Type::list(Type::String), true, "the containers whose image releases change"),
            ]),
            "the service a delivery pipeline releases this family to (`drone release`): a revision drone registers after a release keeps the image the service runs in these containers, unless the workflow changed the container's image since drone's last revision",
        )
        .drone_side(),
        computed("id", Type::String, "the task definition's ARN, with its revision"),
        computed("arn", Type::String, "the task definition's ARN, with its revision"),
        computed("revision", Type::Number, "the revision number in its family"),
    ]
}

/// The images a revision drone registers gives its released containers, where they differ from
/// the declared ones: what the service `running` runs (a release's image, from the same
/// repository) for each container whose declared image is the one drone's last revision was
/// declared with. A container whose image the workflow changed since runs the declared one: the
/// change is the workflow's release.
pub(crate) fn kept_images(
    released: &[String],
    declared: &BTreeMap<String, String>,
    drones_last: &BTreeMap<String, String>,
    running: &BTreeMap<String, String>,
) -> BTreeMap<String, String> {
    released
        .iter()
        .filter_map(|name| {
            let (wanted, before, live) = (declared.get(name)?, drones_last.get(name)?, running.get(name)?);
            (wanted == before && live != wanted && same_repository(wanted, live))
                .then(|| (name.to_string(), live.clone()))
        })
        .collect()
}

/// Whether two image references name the same repository (`REPO:TAG`, `REPO@DIGEST`).
pub(crate) fn same_repository(a: &str, b: &str) -> bool {
    let repository = |image: &str| {
        let image = image.split('@').next().unwrap_or(image);
        match image.rsplit_once(':') {
            // A colon after the last slash starts a tag; one before it is a registry's port.
            Some((repo, tag)) if !tag.contains('/') => repo.to_string(),
            _ => image.to_string(),
        }
    };
    repository(a) == repository(b)
}

#[cfg(feature = "ecs")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_ecs::types::{
        Compatibility, ContainerDefinition, EfsTransitEncryption, EfsVolumeConfiguration, KeyValuePair,
        LogConfiguration, LogDriver, MountPoint, NetworkMode, PortMapping, Secret, Tag, TaskDefinition as Revision,
        TaskDefinitionField, TaskDefinitionStatus, TransportProtocol, Volume,
    };
    use drone_engine::provider::{FindRequest, Found, Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::super::sdk::{ecs_tags, owner_of, tags_of};
    use crate::aws::attrs::{self, int, like_prior, objects, observed, required, string, Update};
    use crate::aws::error::{invalid, missing, sdk_error};
    use crate::aws::tagging;
    use crate::aws::{AwsProvider, Ops};

    pub struct TaskDefinition;

    #[async_trait]
    impl Ops for TaskDefinition {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            register_task_definition(p, config, tags).await
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            // A registration repeated makes a new revision: the newest active one is the candidate.
            const OP: &str = "ListTaskDefinitions";
            let out = p
                .ecs
                .list_task_definitions()
                .family_prefix(required(f.config, "family", OP)?)
                .status(TaskDefinitionStatus::Active)
                .sort(aws_sdk_ecs::types::SortOrder::Desc)
                .max_results(1)
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let Some(arn) = out.task_definition_arns().first() else {
                return Ok(None);
            };
            let described = p
                .ecs
                .describe_task_definition()
                .task_definition(arn)
                .include(TaskDefinitionField::Tags)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeTaskDefinition", e))?;
            Ok(Some(Found { id: arn.clone(), owner: owner_of(described.tags(), f) }))
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let out =
                p.ecs.describe_task_definition().task_definition(id).include(TaskDefinitionField::Tags).send().await;
            let attributes = match out {
                Ok(out) => match out.task_definition() {
                    Some(d) if d.status() == Some(&TaskDefinitionStatus::Active) => {
                        Some(task_definition_attributes(d, out.tags(), prior))
                    }
                    _ => None,
                },
                // An unknown revision is a client error, not a not-found code.
                Err(e) if e.as_service_error().is_some_and(|s| s.meta().code() == Some("ClientException")) => None,
                Err(e) => return Err(sdk_error("DescribeTaskDefinition", e)),
            };
            Ok(attributes.map(|attributes| Observed { id: id.to_string(), attributes }))
        }

        /// A revision cannot change: everything but tags replaces it.
        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            tagging::sync(&p.ecs, u.id, u).await?;
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            p.ecs
                .deregister_task_definition()
                .task_definition(id)
                .send()
                .await
                .map(drop)
                .map_err(|e| sdk_error("DeregisterTaskDefinition", e))
        }
    }

    async fn register_task_definition(
        p: &AwsProvider,
        config: &Attributes,
        tags: &BTreeMap<String, String>,
    ) -> Result<Observed, ProviderError> {
        const OP: &str = "RegisterTaskDefinition";
        let number =
            |name: &str| int(config, name).map(|n| n.to_string()).ok_or_else(|| invalid(OP, format!("`{name}`")));
        let (released, declared) = (released_containers(config), declared_images(config));
        let kept = released_images(p, config, &released, &declared, tags).await?;
        // Each released container's declared image, which the next revision compares its own with.
        let mut tags = tags.clone();
        for name in &released {
            if let Some(image) = declared.get(name) {
                tags.insert(format!("{DECLARED_IMAGE}{name}"), image.clone());
            }
        }
        let out = p
            .ecs
            .register_task_definition()
            .family(required(config, "family", OP)?)
            .cpu(number("cpu")?)
            .memory(number("memory")?)
            // Fargate tasks always use awsvpc networking: each task gets its own interface and security groups.
            .network_mode(NetworkMode::Awsvpc)
            .requires_compatibilities(Compatibility::Fargate)
            .set_container_definitions(Some(
                objects(config, "containers")
                    .into_iter()
                    .map(|c| {
                        let mut definition = container(c, p.region()?)?;
                        if let Some(image) = definition.name().and_then(|name| kept.get(name)) {
                            definition.image = Some(image.clone());
                        }
                        Ok(definition)
                    })
                    .collect::<Result<Vec<_>, ProviderError>>()?,
            ))
            .set_volumes(Some(volumes(config, OP)?))
            .set_execution_role_arn(string(config, "execution_role_arn").map(String::from))
            .set_task_role_arn(string(config, "task_role_arn").map(String::from))
            .set_tags(Some(ecs_tags(&tags)))
            .customize()
            .config_override(crate::aws::once!(aws_sdk_ecs))
            .send()
            .await
            .map_err(|e| sdk_error(OP, e))?;
        let definition = out.task_definition().ok_or_else(|| missing(OP, "TaskDefinition"))?;
        let arn = definition.task_definition_arn().ok_or_else(|| missing(OP, "TaskDefinitionArn"))?.to_string();
        Ok(Observed {
            id: arn.clone(),
            attributes: observed([
                ("arn", Value::String(arn)),
                ("revision", Value::Number(definition.revision().into())),
            ]),
        })
    }

    /// The released images a new revision keeps (`super::kept_images`), by container: what the
    /// service runs, compared with the images drone's last revision of the family was declared
    /// with. None for a family's first revision, or without `pipeline_release`.
    async fn released_images(
        p: &AwsProvider,
        config: &Attributes,
        released: &[String],
        declared: &BTreeMap<String, String>,
        tags: &BTreeMap<String, String>,
    ) -> Result<BTreeMap<String, String>, ProviderError> {
        const OP: &str = "ListTaskDefinitions";
        let release = config.get("pipeline_release").and_then(Value::as_map);
        let (Some(release), Some(address), false) = (release, tags.get("drone:address"), released.is_empty()) else {
            return Ok(BTreeMap::new());
        };
        let text = |name: &str| release.get(name).and_then(Value::as_str).unwrap_or_default().to_string();
        let family = required(config, "family", OP)?;
        // Drone's last revision may be deregistered already (a replacement deletes the old one).
        let mut revisions = Vec::new();
        for status in [TaskDefinitionStatus::Active, TaskDefinitionStatus::Inactive] {
            let out = p
                .ecs
                .list_task_definitions()
                .family_prefix(family)
                .status(status)
                .sort(aws_sdk_ecs::types::SortOrder::Desc)
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            revisions.extend(out.task_definition_arns().iter().filter_map(|arn| {
                let (named, revision) = arn.rsplit_once('/')?.1.rsplit_once(':')?;
                (named == family).then(|| (revision.parse::<u64>().ok(), arn.clone()))
            }));
        }
        // A first revision has nothing to keep.
        if revisions.is_empty() {
            return Ok(BTreeMap::new());
        }
        revisions.sort_by(|a, b| b.cmp(a));
        let images = |d: &Revision| -> BTreeMap<String, String> {
            d.container_definitions()
                .iter()
                .filter_map(|c| Some((c.name()?.to_string(), c.image()?.to_string())))
                .collect()
        };
        // Each revision's images, whether it is drone's, and the images drone declared it with.
        let describe = |arn: String| async move {
            let out = p
                .ecs
                .describe_task_definition()
                .task_definition(&arn)
                .include(TaskDefinitionField::Tags)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeTaskDefinition", e))?;
            let ours = out.tags().iter().any(|t| t.key() == Some("drone:address") && t.value() == Some(address));
            let live = out.task_definition().map(images).unwrap_or_default();
            let mut declared = live.clone();
            for tag in out.tags() {
                if let (Some(name), Some(image)) = (tag.key().and_then(|k| k.strip_prefix(DECLARED_IMAGE)), tag.value())
                {
                    declared.insert(name.to_string(), image.to_string());
                }
            }
            Ok::<_, ProviderError>((live, ours, declared))
        };
        // What the service runs: a release's revision (a rolled-back one's stays in the family),
        // or drone's own, which may have kept one.
        let running = p
            .about(
                "aws.ecs.service",
                async {
                    let out = p
                        .ecs
                        .describe_services()
                        .cluster(text("cluster"))
                        .services(text("service"))
                        .send()
                        .await
                        .map_err(|e| sdk_error("DescribeServices", e))?;
                    Ok(out
                        .services()
                        .first()
                        .map(|s| (s.service_arn().map(String::from), s.task_definition().map(String::from))))
                },
                |found| found.as_ref().and_then(|(arn, _)| arn.clone()),
            )
            .await?;
        let Some(running) = running.and_then(|(_, running)| running) else { return Ok(BTreeMap::new()) };
        let (running, ..) = describe(running).await?;
        for (_, arn) in revisions.iter().take(20) {
            let (_, ours, drones_last) = describe(arn.clone()).await?;
            if ours {
                return Ok(super::kept_images(released, declared, &drones_last, &running));
            }
        }
        Ok(BTreeMap::new())
    }

    /// The tag (prefix, then the container's name) a revision of released containers keeps each
    /// one's declared image in.
    const DECLARED_IMAGE: &str = "drone:image:";

    /// Each container's declared image, by name.
    fn declared_images(config: &Attributes) -> BTreeMap<String, String> {
        objects(config, "containers")
            .iter()
            .filter_map(|c| Some((c.get("name")?.as_str()?.to_string(), c.get("image")?.as_str()?.to_string())))
            .collect()
    }

    /// The containers whose image a pipeline releases (`pipeline_release.containers`).
    fn released_containers(attributes: &Attributes) -> Vec<String> {
        let release = attributes.get("pipeline_release").and_then(Value::as_map);
        let containers = release.and_then(|r| r.get("containers")).and_then(Value::as_list).unwrap_or_default();
        containers.iter().filter_map(|v| v.as_str().map(String::from)).collect()
    }

    /// A task definition's EFS volumes, always with encryption in transit.
    fn volumes(config: &Attributes, operation: &str) -> Result<Vec<Volume>, ProviderError> {
        objects(config, "efs_volumes")
            .into_iter()
            .map(|v| {
                let text = |name: &str| v.get(name).and_then(Value::as_str).map(String::from);
                let efs = EfsVolumeConfiguration::builder()
                    .set_file_system_id(text("file_system_id"))
                    .transit_encryption(EfsTransitEncryption::Enabled)
                    .build()
                    .map_err(|e| invalid(operation, e.to_string()))?;
                Ok(Volume::builder().set_name(text("name")).efs_volume_configuration(efs).build())
            })
            .collect()
    }

    /// One container of a task definition, from its drone object; `region` is
    /// where its log group is.
    fn container(c: &BTreeMap<String, Value>, region: &str) -> Result<ContainerDefinition, ProviderError> {
        let text = |name: &str| c.get(name).and_then(Value::as_str).map(String::from);
        let list = |name: &str| c.get(name).and_then(Value::as_list).unwrap_or_default();
        let ports = list("ports")
            .iter()
            .filter_map(|p| p.as_i64().and_then(|n| i32::try_from(n).ok()))
            .map(|port| PortMapping::builder().container_port(port).protocol(TransportProtocol::Tcp).build())
            .collect();
        let environment = c
            .get("environment")
            .and_then(Value::as_map)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| v.as_str().map(|v| KeyValuePair::builder().name(k).value(v).build()))
                    .collect()
            })
            .unwrap_or_default();
        let secrets = c
            .get("secrets")
            .and_then(Value::as_map)
            .map(|m| {
                m.iter()
                    .filter_map(|(k, v)| Some(Secret::builder().name(k).value_from(v.as_str()?).build()))
                    .collect::<Result<Vec<_>, _>>()
            })
            .transpose()
            .map_err(|e| invalid("RegisterTaskDefinition", e.to_string()))?;
        let command: Vec<String> = list("command").iter().filter_map(|v| v.as_str().map(String::from)).collect();
        // The awslogs driver sends output to the log group, one stream per task, prefixed with the container's name.
        let logs = match text("log_group") {
            Some(group) => Some(
                LogConfiguration::builder()
                    .log_driver(LogDriver::Awslogs)
                    .options("awslogs-group", group)
                    .options("awslogs-region", region)
                    .options("awslogs-stream-prefix", text("name").unwrap_or_default())
                    .build()
                    .map_err(|e| invalid("RegisterTaskDefinition", e.to_string()))?,
            ),
            None => None,
        };
        Ok(ContainerDefinition::builder()
            .set_name(text("name"))
            .set_image(text("image"))
            .essential(c.get("essential").and_then(Value::as_bool).unwrap_or(true))
            .set_port_mappings(Some(ports))
            .set_environment(Some(environment))
            .set_secrets(secrets)
            .set_command((!command.is_empty()).then_some(command))
            .set_readonly_root_filesystem(c.get("read_only_root_filesystem").and_then(Value::as_bool))
            .set_log_configuration(logs)
            .set_mount_points(Some(
                list("mounts")
                    .iter()
                    .filter_map(Value::as_map)
                    .map(|m| {
                        let text = |name: &str| m.get(name).and_then(Value::as_str).map(String::from);
                        MountPoint::builder().set_source_volume(text("volume")).set_container_path(text("path")).build()
                    })
                    .collect(),
            ))
            .build())
    }

    fn task_definition_attributes(d: &Revision, tags: &[Tag], prior: &Attributes) -> Attributes {
        let number = |s: Option<&str>| s.and_then(|s| s.parse::<f64>().ok()).map_or(Value::Null, Value::Number);
        let volumes = d
            .volumes()
            .iter()
            .filter_map(|v| {
                let efs = v.efs_volume_configuration()?;
                Some(Value::map(BTreeMap::from([
                    ("name".to_string(), attrs::text(v.name())),
                    ("file_system_id".to_string(), Value::str(efs.file_system_id())),
                ])))
            })
            .collect();
        let (released, declared) = (released_containers(prior), declared_images(prior));
        let containers = d
            .container_definitions()
            .iter()
            .map(|c| {
                let mut object = container_object(c);
                // A released image this revision kept reads as the declared one (`kept_images`).
                let name = c.name().unwrap_or_default();
                let declared = declared.get(name).filter(|_| released.iter().any(|r| r == name));
                if let (Some(declared), Some(live)) = (declared, c.image()) {
                    if let (true, Value::Map(fields)) = (super::same_repository(declared, live), &mut object) {
                        std::sync::Arc::make_mut(fields).insert("image".into(), Value::str(declared));
                    }
                }
                object
            })
            .collect();
        let mut attributes = observed([
            ("family", attrs::text(d.family())),
            ("cpu", number(d.cpu())),
            ("memory", number(d.memory())),
            ("containers", like_prior(prior.get("containers"), containers, same_container)),
            ("efs_volumes", like_prior(prior.get("efs_volumes"), volumes, |a, b| a.same(b))),
            ("execution_role_arn", attrs::text(d.execution_role_arn())),
            ("task_role_arn", attrs::text(d.task_role_arn())),
            ("tags", tags_of(tags)),
            ("arn", attrs::text(d.task_definition_arn())),
            ("revision", Value::Number(d.revision().into())),
        ]);
        if let Some(release) = prior.get("pipeline_release") {
            attributes.insert("pipeline_release".into(), release.clone());
        }
        attributes
    }

    /// A container definition as the workflow writes one.
    fn container_object(c: &ContainerDefinition) -> Value {
        let strings = |items: &[String]| Value::List(items.iter().map(Value::str).collect());
        let ports =
            c.port_mappings().iter().filter_map(|p| p.container_port()).map(|n| Value::Number(n.into())).collect();
        let environment =
            c.environment().iter().filter_map(|kv| Some((kv.name()?.to_string(), Value::str(kv.value()?)))).collect();
        let secrets = c.secrets().iter().map(|s| (s.name().to_string(), Value::str(s.value_from()))).collect();
        let log_group = c.log_configuration().and_then(|l| l.options()).and_then(|o| o.get("awslogs-group"));
        let mounts = c
            .mount_points()
            .iter()
            .map(|m| {
                Value::map(BTreeMap::from([
                    ("volume".to_string(), attrs::text(m.source_volume())),
                    ("path".to_string(), attrs::text(m.container_path())),
                ]))
            })
            .collect();
        Value::map(BTreeMap::from([
            ("name".to_string(), attrs::text(c.name())),
            ("image".to_string(), attrs::text(c.image())),
            ("essential".to_string(), Value::Bool(c.essential().unwrap_or(true))),
            ("ports".to_string(), Value::List(ports)),
            ("environment".to_string(), Value::map(environment)),
            ("secrets".to_string(), Value::map(secrets)),
            ("command".to_string(), strings(c.command())),
            ("read_only_root_filesystem".to_string(), Value::Bool(c.readonly_root_filesystem().unwrap_or(false))),
            ("log_group".to_string(), attrs::text(log_group.map(String::as_str))),
            ("mounts".to_string(), Value::List(mounts)),
        ]))
    }

    /// Whether two containers are the same, a field left out taking ECS's default.
    fn same_container(a: &Value, b: &Value) -> bool {
        attrs::same_fields(
            a,
            b,
            &[
                ("essential", Value::Bool(true)),
                ("ports", Value::List(Vec::new())),
                ("environment", Value::map(BTreeMap::new())),
                ("secrets", Value::map(BTreeMap::new())),
                ("command", Value::List(Vec::new())),
                ("read_only_root_filesystem", Value::Bool(false)),
                ("mounts", Value::List(Vec::new())),
            ],
        )
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::{kept_images, same_repository};

    const REPO: &str = "123456789012.dkr.ecr.eu-west-1.amazonaws.com/shuttle-prod-ghost";

    fn images(pairs: &[(&str, String)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(name, image)| (name.to_string(), image.clone())).collect()
    }

    #[test]
    fn a_release_is_kept_unless_the_workflow_changed_the_image() {
        let tag = |t: &str| format!("{REPO}:{t}");
        let released = format!("{REPO}@sha256:75a0777a66e7");
        let ghost = ["ghost".to_string()];
        let (before, running) = (images(&[("ghost", tag("5.96.0"))]), images(&[("ghost", released.clone())]));
        // Another change (the task's size): the release's image stays.
        let kept = kept_images(&ghost, &images(&[("ghost", tag("5.96.0"))]), &before, &running);
        assert_eq!(kept, images(&[("ghost", released.clone())]));
        // The workflow's own new image: it is the release.
        assert!(kept_images(&ghost, &images(&[("ghost", tag("5.97.0"))]), &before, &running).is_empty());
        // Containers not named, and images of another repository, are the workflow's.
        assert!(kept_images(&[], &images(&[("ghost", tag("5.96.0"))]), &before, &running).is_empty());
        let elsewhere = images(&[("ghost", "docker.io/library/ghost@sha256:0ff".to_string())]);
        assert!(kept_images(&ghost, &images(&[("ghost", tag("5.96.0"))]), &before, &elsewhere).is_empty());
    }

    #[test]
    fn repositories_are_compared_without_tags_or_digests() {
        assert!(same_repository(&format!("{REPO}:5.96.0"), &format!("{REPO}@sha256:75a0")));
        assert!(same_repository("localhost:5000/ghost:5", "localhost:5000/ghost"));
        assert!(!same_repository("localhost:5000/ghost:5", "localhost:5000/other:5"));
        assert!(!same_repository(&format!("{REPO}:5"), "ghost:5"));
    }
}
