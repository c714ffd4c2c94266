//! ECS: clusters, task definitions and Fargate services.

use std::collections::BTreeMap;

use aws_sdk_ecs::types::{
    AssignPublicIp, AwsVpcConfiguration, ClusterField, ClusterSetting, ClusterSettingName, Compatibility,
    ContainerDefinition, EfsTransitEncryption, EfsVolumeConfiguration, KeyValuePair, LaunchType, LoadBalancer,
    LogConfiguration, LogDriver, MountPoint, NetworkConfiguration, NetworkMode, PortMapping, Service, ServiceField,
    Tag, TaskDefinition, TaskDefinitionField, TaskDefinitionStatus, TransportProtocol, Volume,
};
use drone_engine::provider::{Observed, ProviderError};
use drone_engine::value::{Attributes, Value};

use super::attrs::{
    self, boolean, int, like_prior, objects, observed, prior_if_same, required, string, strings, Update,
};
use super::error::{invalid, missing, sdk_error};
use super::AwsProvider;

pub(super) async fn create(
    p: &AwsProvider,
    kind: &str,
    config: &Attributes,
    tags: &BTreeMap<String, String>,
) -> Result<Observed, ProviderError> {
    match kind {
        "cluster" => create_cluster(p, config, tags).await,
        "task_definition" => register_task_definition(p, config, tags).await,
        "service" => create_service(p, config, tags).await,
        other => Err(invalid("create", format!("unknown ECS type `{other}`"))),
    }
}

async fn create_cluster(
    p: &AwsProvider,
    config: &Attributes,
    tags: &BTreeMap<String, String>,
) -> Result<Observed, ProviderError> {
    let out = p
        .ecs
        .create_cluster()
        .cluster_name(required(config, "name", "CreateCluster")?)
        .set_settings(insights(config).map(|s| vec![s]))
        .set_tags(Some(ecs_tags(tags)))
        .send()
        .await
        .map_err(|e| sdk_error("CreateCluster", e))?;
    let arn =
        out.cluster().and_then(|c| c.cluster_arn()).ok_or_else(|| missing("CreateCluster", "ClusterArn"))?.to_string();
    Ok(Observed { id: arn.clone(), attributes: observed([("arn", Value::String(arn))]) })
}

async fn register_task_definition(
    p: &AwsProvider,
    config: &Attributes,
    tags: &BTreeMap<String, String>,
) -> Result<Observed, ProviderError> {
    const OP: &str = "RegisterTaskDefinition";
    let number = |name: &str| int(config, name).map(|n| n.to_string()).ok_or_else(|| invalid(OP, format!("`{name}`")));
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
                .map(|c| container(c, p.region()?))
                .collect::<Result<Vec<_>, _>>()?,
        ))
        .set_volumes(Some(volumes(config, OP)?))
        .set_execution_role_arn(string(config, "execution_role_arn").map(String::from))
        .set_task_role_arn(string(config, "task_role_arn").map(String::from))
        .set_tags(Some(ecs_tags(tags)))
        .send()
        .await
        .map_err(|e| sdk_error(OP, e))?;
    let definition = out.task_definition().ok_or_else(|| missing(OP, "TaskDefinition"))?;
    let arn = definition.task_definition_arn().ok_or_else(|| missing(OP, "TaskDefinitionArn"))?.to_string();
    Ok(Observed {
        id: arn.clone(),
        attributes: observed([("arn", Value::String(arn)), ("revision", Value::Number(definition.revision().into()))]),
    })
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
            m.iter().filter_map(|(k, v)| v.as_str().map(|v| KeyValuePair::builder().name(k).value(v).build())).collect()
        })
        .unwrap_or_default();
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

async fn create_service(
    p: &AwsProvider,
    config: &Attributes,
    tags: &BTreeMap<String, String>,
) -> Result<Observed, ProviderError> {
    const OP: &str = "CreateService";
    let out = p
        .ecs
        .create_service()
        .cluster(required(config, "cluster", OP)?)
        .service_name(required(config, "name", OP)?)
        .task_definition(required(config, "task_definition", OP)?)
        .desired_count(int(config, "desired_count").unwrap_or(1))
        .launch_type(LaunchType::Fargate)
        .network_configuration(network(config, OP)?)
        .set_load_balancers(load_balancer(config))
        .set_tags(Some(ecs_tags(tags)))
        .send()
        .await
        .map_err(|e| sdk_error(OP, e))?;
    let arn = out.service().and_then(|s| s.service_arn()).ok_or_else(|| missing(OP, "ServiceArn"))?.to_string();
    Ok(Observed { id: arn.clone(), attributes: observed([("arn", Value::String(arn))]) })
}

/// A service's subnets, security groups and public-IP choice.
fn network(config: &Attributes, operation: &str) -> Result<NetworkConfiguration, ProviderError> {
    let public = if boolean(config, "assign_public_ip") == Some(true) {
        AssignPublicIp::Enabled
    } else {
        AssignPublicIp::Disabled
    };
    let vpc = AwsVpcConfiguration::builder()
        .set_subnets(Some(strings(config, "subnets")))
        .set_security_groups(Some(strings(config, "security_groups")))
        .assign_public_ip(public)
        .build()
        .map_err(|e| invalid(operation, e.to_string()))?;
    Ok(NetworkConfiguration::builder().awsvpc_configuration(vpc).build())
}

/// The target group a service's tasks register in, if any.
fn load_balancer(config: &Attributes) -> Option<Vec<LoadBalancer>> {
    let lb = config.get("load_balancer").and_then(Value::as_map)?;
    let text = |name: &str| lb.get(name).and_then(Value::as_str).map(String::from);
    let port = lb.get("container_port").and_then(Value::as_i64).and_then(|n| i32::try_from(n).ok());
    Some(vec![LoadBalancer::builder()
        .set_target_group_arn(text("target_group_arn"))
        .set_container_name(text("container_name"))
        .set_container_port(port)
        .build()])
}

/// The cluster a service belongs to: recorded, or read from its ARN
/// (`arn:aws:ecs:region:account:service/cluster/name`).
fn service_cluster(id: &str, prior: &Attributes) -> String {
    if let Some(cluster) = string(prior, "cluster") {
        return cluster.to_string();
    }
    id.split_once(":service/")
        .and_then(|(_, rest)| rest.split_once('/'))
        .map(|(c, _)| c.to_string())
        .unwrap_or_default()
}

pub(super) async fn read(
    p: &AwsProvider,
    kind: &str,
    id: &str,
    prior: &Attributes,
) -> Result<Option<Observed>, ProviderError> {
    let attributes = match kind {
        "task_definition" => {
            let out =
                p.ecs.describe_task_definition().task_definition(id).include(TaskDefinitionField::Tags).send().await;
            match out {
                Ok(out) => match out.task_definition() {
                    Some(d) if d.status() == Some(&TaskDefinitionStatus::Active) => {
                        Some(task_definition_attributes(d, out.tags(), prior))
                    }
                    _ => None,
                },
                // An unknown revision is a client error, not a not-found code.
                Err(e) if e.as_service_error().is_some_and(|s| s.meta().code() == Some("ClientException")) => None,
                Err(e) => return Err(sdk_error("DescribeTaskDefinition", e)),
            }
        }
        "service" => {
            let out = p
                .ecs
                .describe_services()
                .cluster(service_cluster(id, prior))
                .services(id)
                .include(ServiceField::Tags)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeServices", e))?;
            // Deleted services linger as DRAINING, then INACTIVE.
            out.services().iter().find(|s| s.status() == Some("ACTIVE")).map(|s| service_attributes(s, prior))
        }
        _ => {
            let out = p
                .ecs
                .describe_clusters()
                .clusters(id)
                .include(ClusterField::Settings)
                .include(ClusterField::Tags)
                .send()
                .await
                .map_err(|e| sdk_error("DescribeClusters", e))?;
            // Deleted clusters linger as INACTIVE.
            out.clusters().iter().find(|c| c.status() == Some("ACTIVE")).map(|c| {
                let insights = c
                    .settings()
                    .iter()
                    .find(|s| s.name() == Some(&ClusterSettingName::ContainerInsights))
                    .and_then(|s| s.value())
                    .map_or(Value::Null, |v| Value::Bool(v != "disabled"));
                observed([
                    ("name", attrs::text(c.cluster_name())),
                    ("container_insights", insights),
                    ("tags", tags_of(c.tags())),
                ])
            })
        }
    };
    Ok(attributes.map(|attributes| Observed { id: id.to_string(), attributes }))
}

fn tags_of(tags: &[Tag]) -> Value {
    attrs::user_tags(tags.iter().filter_map(|t| Some((t.key()?, t.value().unwrap_or_default()))))
}

fn task_definition_attributes(d: &TaskDefinition, tags: &[Tag], prior: &Attributes) -> Attributes {
    let number = |s: Option<&str>| s.and_then(|s| s.parse::<f64>().ok()).map_or(Value::Null, Value::Number);
    let volumes = d
        .volumes()
        .iter()
        .filter_map(|v| {
            let efs = v.efs_volume_configuration()?;
            Some(Value::Map(BTreeMap::from([
                ("name".to_string(), attrs::text(v.name())),
                ("file_system_id".to_string(), Value::str(efs.file_system_id())),
            ])))
        })
        .collect();
    let containers = d.container_definitions().iter().map(container_object).collect();
    observed([
        ("family", attrs::text(d.family())),
        ("cpu", number(d.cpu())),
        ("memory", number(d.memory())),
        ("containers", like_prior(prior.get("containers"), containers, same_container)),
        ("efs_volumes", like_prior(prior.get("efs_volumes"), volumes, |a, b| a.same(b))),
        ("execution_role_arn", attrs::text(d.execution_role_arn())),
        ("task_role_arn", attrs::text(d.task_role_arn())),
        ("tags", tags_of(tags)),
    ])
}

/// A container definition as the workflow writes one.
fn container_object(c: &ContainerDefinition) -> Value {
    let strings = |items: &[String]| Value::List(items.iter().map(Value::str).collect());
    let ports = c.port_mappings().iter().filter_map(|p| p.container_port()).map(|n| Value::Number(n.into())).collect();
    let environment =
        c.environment().iter().filter_map(|kv| Some((kv.name()?.to_string(), Value::str(kv.value()?)))).collect();
    let log_group = c.log_configuration().and_then(|l| l.options()).and_then(|o| o.get("awslogs-group"));
    let mounts = c
        .mount_points()
        .iter()
        .map(|m| {
            Value::Map(BTreeMap::from([
                ("volume".to_string(), attrs::text(m.source_volume())),
                ("path".to_string(), attrs::text(m.container_path())),
            ]))
        })
        .collect();
    Value::Map(BTreeMap::from([
        ("name".to_string(), attrs::text(c.name())),
        ("image".to_string(), attrs::text(c.image())),
        ("essential".to_string(), Value::Bool(c.essential().unwrap_or(true))),
        ("ports".to_string(), Value::List(ports)),
        ("environment".to_string(), Value::Map(environment)),
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
            ("environment", Value::Map(BTreeMap::new())),
            ("command", Value::List(Vec::new())),
            ("read_only_root_filesystem", Value::Bool(false)),
            ("mounts", Value::List(Vec::new())),
        ],
    )
}

fn service_attributes(s: &Service, prior: &Attributes) -> Attributes {
    let vpc = s.network_configuration().and_then(|n| n.awsvpc_configuration());
    let list = |items: Option<&[String]>| items.unwrap_or_default().iter().map(Value::str).collect::<Vec<_>>();
    let subnets = list(vpc.map(|v| v.subnets()));
    let groups = list(vpc.map(|v| v.security_groups()));
    let public = vpc.and_then(|v| v.assign_public_ip()) == Some(&AssignPublicIp::Enabled);
    let load_balancer = s.load_balancers().first().map_or(Value::Null, |lb| {
        Value::Map(BTreeMap::from([
            ("target_group_arn".to_string(), attrs::text(lb.target_group_arn())),
            ("container_name".to_string(), attrs::text(lb.container_name())),
            ("container_port".to_string(), attrs::number(lb.container_port())),
        ]))
    });
    // The workflow may name the cluster by name or by ARN.
    let cluster = prior_if_same(prior.get("cluster"), attrs::text(s.cluster_arn()), |recorded, arn| {
        match (recorded.as_str(), arn.as_str()) {
            (Some(r), Some(a)) => r == a || a.ends_with(&format!(":cluster/{r}")),
            _ => false,
        }
    });
    observed([
        ("name", attrs::text(s.service_name())),
        ("cluster", cluster),
        ("task_definition", attrs::text(s.task_definition())),
        ("desired_count", Value::Number(s.desired_count().into())),
        ("subnets", like_prior(prior.get("subnets"), subnets, |a, b| a == b)),
        ("security_groups", like_prior(prior.get("security_groups"), groups, |a, b| a == b)),
        ("assign_public_ip", Value::Bool(public)),
        ("load_balancer", load_balancer),
        ("tags", tags_of(s.tags())),
    ])
}

pub(super) async fn update(p: &AwsProvider, kind: &str, u: &Update<'_>) -> Result<Observed, ProviderError> {
    if kind == "cluster" && u.changed("container_insights") {
        let setting = insights(u.config).unwrap_or_else(|| {
            ClusterSetting::builder().name(ClusterSettingName::ContainerInsights).value("disabled").build()
        });
        // UpdateCluster rather than UpdateClusterSettings: the same change, and local endpoints implement it.
        p.ecs
            .update_cluster()
            .cluster(u.id)
            .settings(setting)
            .send()
            .await
            .map_err(|e| sdk_error("UpdateCluster", e))?;
    }
    let service_fields = ["task_definition", "desired_count", "subnets", "security_groups", "assign_public_ip"];
    if kind == "service" && service_fields.iter().any(|f| u.changed(f)) {
        const OP: &str = "UpdateService";
        p.ecs
            .update_service()
            .cluster(service_cluster(u.id, u.prior))
            .service(u.id)
            .task_definition(required(u.config, "task_definition", OP)?)
            .desired_count(int(u.config, "desired_count").unwrap_or(1))
            .network_configuration(network(u.config, OP)?)
            .send()
            .await
            .map_err(|e| sdk_error(OP, e))?;
    }
    if u.changed("tags") {
        let (removed, desired) = super::attrs::tag_changes(u.prior, u.tags);
        if !removed.is_empty() {
            p.ecs
                .untag_resource()
                .resource_arn(u.id)
                .set_tag_keys(Some(removed))
                .send()
                .await
                .map_err(|e| sdk_error("UntagResource", e))?;
        }
        p.ecs
            .tag_resource()
            .resource_arn(u.id)
            .set_tags(Some(ecs_tags(&desired)))
            .send()
            .await
            .map_err(|e| sdk_error("TagResource", e))?;
    }
    Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
}

pub(super) async fn delete(p: &AwsProvider, kind: &str, id: &str, prior: &Attributes) -> Result<(), ProviderError> {
    match kind {
        "task_definition" => p
            .ecs
            .deregister_task_definition()
            .task_definition(id)
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error("DeregisterTaskDefinition", e)),
        // `force` stops the tasks too, instead of scaling to zero first.
        "service" => p
            .ecs
            .delete_service()
            .cluster(service_cluster(id, prior))
            .service(id)
            .force(true)
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error("DeleteService", e)),
        _ => p.ecs.delete_cluster().cluster(id).send().await.map(drop).map_err(|e| sdk_error("DeleteCluster", e)),
    }
}

fn insights(config: &Attributes) -> Option<ClusterSetting> {
    let on = boolean(config, "container_insights")?;
    Some(
        ClusterSetting::builder()
            .name(ClusterSettingName::ContainerInsights)
            .value(if on { "enabled" } else { "disabled" })
            .build(),
    )
}

fn ecs_tags(tags: &BTreeMap<String, String>) -> Vec<Tag> {
    tags.iter().map(|(k, v)| Tag::builder().key(k).value(v).build()).collect()
}
