//! `aws.ecs.service`: an ECS service on Fargate: keeps `desired_count` tasks running.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, field, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.ecs.service",
    doc: "an ECS service on Fargate: keeps `desired_count` tasks running",
    taggable: true,
    attributes,
    naming: Some("name"),
    // The cluster's name is not the service's; `*` stands for it.
    arns: |s| {
        vec![ArnPattern::new("ecs", "service", format!("arn:aws:ecs:{}:{}:service/*/{}", s.region, s.account, s.name))]
    },
    actions: &[
        (Create, "ecs:CreateService"),
        (Create, "ecs:TagResource"),
        (Read, "ecs:DescribeServices"),
        (Update, "ecs:UpdateService"),
        (Update, "ecs:TagResource"),
        (Update, "ecs:UntagResource"),
        (Delete, "ecs:DeleteService"),
        (Find, "ecs:DescribeServices"),
    ],
    // A blue/green deployment's load balancer role.
    passes_roles_to: &["ecs.amazonaws.com"],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("ecs", sdk::Service),
};

/// The object type of a service's load balancer attachment.
pub fn load_balancer_type() -> Type {
    Type::Object(vec![
        field("target_group_arn", Type::String, true, "the target group's ARN"),
        field("container_name", Type::String, true, "the container that receives the traffic"),
        field("container_port", Type::Number, true, "the port of that container"),
        field(
            "alternate_target_group_arn",
            Type::String,
            false,
            "blue/green: the target group a new revision starts in before traffic shifts to it",
        ),
        field(
            "production_listener_rule_arn",
            Type::String,
            false,
            "blue/green: the listener rule whose weights ECS shifts between the two groups",
        ),
        field("role_arn", Type::String, false, "blue/green: the role ECS shifts the listener rule's traffic with"),
    ])
}

/// The share of `desired_count` a deployment keeps healthy when the workflow says nothing.
const DEFAULT_MINIMUM_HEALTHY: i32 = 100;

/// The share of `desired_count` a deployment may run at once when the workflow says nothing.
const DEFAULT_MAXIMUM: i32 = 200;

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("name", Type::String, "the service's name").replaces(),
        required("cluster", Type::String, "the cluster's ARN").replaces(),
        required("task_definition", Type::String, "the task definition's ARN"),
        optional("desired_count", Type::Number, "how many tasks to keep running (default 1)"),
        required("subnets", Type::list(Type::String), "the subnets tasks are placed in"),
        required("security_groups", Type::list(Type::String), "the security groups of the tasks"),
        optional("assign_public_ip", Type::Bool, "give each task a public IP (default false)").guarded(),
        optional("load_balancer", load_balancer_type(), "the target group the tasks register in"),
        optional(
            "enable_execute_command",
            Type::Bool,
            "let people with `ecs:ExecuteCommand` run commands in the tasks (ECS Exec; default false; new tasks only)",
        ),
        optional(
            "deployment",
            Type::one_of(&["rolling", "blue_green", "linear", "canary"]),
            "how a new revision takes over (default rolling); the others start it beside the old one in the load balancer's alternate target group and shift the listener rule's traffic: all at once, in equal steps, or a first share then the rest",
        ),
        optional(
            "shift_percent",
            Type::Number,
            "linear: the share of traffic each step moves; canary: the share the first step moves",
        ),
        optional(
            "bake_minutes",
            Type::Number,
            "blue/green, linear and canary: how long each traffic step (and the whole shift) runs, watched by the alarms, before the next step and before the old revision is retired",
        ),
        optional(
            "minimum_healthy_percent",
            Type::Number,
            "the share of `desired_count` a deployment keeps running and healthy (default 100: no capacity lost)",
        ),
        optional("maximum_percent", Type::Number, "the share of `desired_count` a deployment may run at once (default 200)"),
        optional(
            "circuit_breaker",
            Type::Bool,
            "stop a deployment whose tasks keep failing to start or to pass health checks, and roll it back (default true)",
        ),
        optional(
            "rollback_alarms",
            Type::list(Type::String),
            "CloudWatch alarms (names) whose ALARM state stops a deployment and rolls it back",
        ),
        optional(
            "pipeline_releases",
            Type::Bool,
            "a delivery pipeline deploys new revisions of the task definition's family (`drone release`): a later revision running reads as the declared one, so a plan never rolls a release back (default false)",
        ),
        computed("id", Type::String, "the service's ARN"),
        computed("arn", Type::String, "the service's ARN"),
    ]
}

/// Whether task definition `live` is a later revision of `declared`'s family
/// (`arn:...:task-definition/FAMILY:REVISION`): what a release registers.
fn later_revision(declared: &str, live: &str) -> bool {
    let split = |arn: &str| {
        let (family, revision) = arn.rsplit_once(':')?;
        Some((family.to_string(), revision.parse::<u64>().ok()?))
    };
    match (split(declared), split(live)) {
        (Some((family, declared)), Some((live_family, live))) => family == live_family && live > declared,
        _ => false,
    }
}

#[cfg(feature = "ecs")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_ecs::types::{
        AdvancedConfiguration, AssignPublicIp, AwsVpcConfiguration, CanaryConfiguration, DeploymentAlarms,
        DeploymentCircuitBreaker, DeploymentConfiguration, DeploymentStrategy, LaunchType, LinearConfiguration,
        LoadBalancer, NetworkConfiguration, Service as Described, ServiceField,
    };
    use drone_engine::provider::{FindRequest, Found, Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::super::sdk::{ecs_tags, owner_of, tags_of};
    use crate::aws::attrs::{
        self, boolean, int, like_prior, observed, prior_if_same, required, string, strings, Update,
    };
    use crate::aws::error::{invalid, missing, sdk_error};
    use crate::aws::tagging;
    use crate::aws::{AwsProvider, Ops};

    pub struct Service;

    #[async_trait]
    impl Ops for Service {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            token: &str,
        ) -> Result<Observed, ProviderError> {
            create_service(p, config, tags, token).await
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            const OP: &str = "DescribeServices";
            let out = p
                .ecs
                .describe_services()
                .cluster(required(f.config, "cluster", OP)?)
                .services(required(f.config, "name", OP)?)
                .include(ServiceField::Tags)
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            let active = out.services().iter().find(|s| s.status() == Some("ACTIVE"));
            Ok(active.and_then(|s| Some(Found { id: s.service_arn()?.to_string(), owner: owner_of(s.tags(), f) })))
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
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
            let found = out.services().iter().find(|s| s.status() == Some("ACTIVE"));
            Ok(found.map(|s| Observed { id: id.to_string(), attributes: service_attributes(s, prior) }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            let service_fields = [
                "task_definition",
                "desired_count",
                "subnets",
                "security_groups",
                "assign_public_ip",
                "enable_execute_command",
                "minimum_healthy_percent",
                "maximum_percent",
                "circuit_breaker",
                "rollback_alarms",
                "deployment",
                "shift_percent",
                "bake_minutes",
                "load_balancer",
            ];
            if service_fields.iter().any(|f| u.changed(f)) {
                const OP: &str = "UpdateService";
                p.ecs
                    .update_service()
                    .cluster(service_cluster(u.id, u.prior))
                    .service(u.id)
                    .task_definition(required(u.config, "task_definition", OP)?)
                    .desired_count(int(u.config, "desired_count").unwrap_or(1))
                    .network_configuration(network(u.config, OP)?)
                    .enable_execute_command(boolean(u.config, "enable_execute_command") == Some(true))
                    .deployment_configuration(deployment(u.config, OP)?)
                    .set_load_balancers(load_balancer(u.config))
                    .send()
                    .await
                    .map_err(|e| sdk_error(OP, e))?;
            }
            tagging::sync(&p.ecs, u.id, u).await?;
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<(), ProviderError> {
            // `force` stops the tasks too, instead of scaling to zero first.
            p.ecs
                .delete_service()
                .cluster(service_cluster(id, prior))
                .service(id)
                .force(true)
                .send()
                .await
                .map(drop)
                .map_err(|e| sdk_error("DeleteService", e))
        }
    }

    async fn create_service(
        p: &AwsProvider,
        config: &Attributes,
        tags: &BTreeMap<String, String>,
        token: &str,
    ) -> Result<Observed, ProviderError> {
        const OP: &str = "CreateService";
        let out = p
            .ecs
            .create_service()
            .cluster(required(config, "cluster", OP)?)
            .service_name(required(config, "name", OP)?)
            .client_token(token)
            .task_definition(required(config, "task_definition", OP)?)
            .desired_count(int(config, "desired_count").unwrap_or(1))
            .launch_type(LaunchType::Fargate)
            .network_configuration(network(config, OP)?)
            .set_load_balancers(load_balancer(config))
            .enable_execute_command(boolean(config, "enable_execute_command") == Some(true))
            .deployment_configuration(deployment(config, OP)?)
            .set_tags(Some(ecs_tags(tags)))
            .send()
            .await
            .map_err(|e| sdk_error(OP, e))?;
        let arn = out.service().and_then(|s| s.service_arn()).ok_or_else(|| missing(OP, "ServiceArn"))?.to_string();
        Ok(Observed { id: arn.clone(), attributes: observed([("arn", Value::String(arn))]) })
    }

    /// The workflow's name of each ECS deployment strategy (`deployment`).
    const STRATEGIES: [(&str, DeploymentStrategy); 4] = [
        ("rolling", DeploymentStrategy::Rolling),
        ("blue_green", DeploymentStrategy::BlueGreen),
        ("linear", DeploymentStrategy::Linear),
        ("canary", DeploymentStrategy::Canary),
    ];

    /// How a new revision replaces the running one: a rolling deployment that never drops below
    /// `minimum_healthy_percent`, stopped and rolled back by the circuit breaker or an alarm.
    fn deployment(config: &Attributes, operation: &str) -> Result<DeploymentConfiguration, ProviderError> {
        let breaker = boolean(config, "circuit_breaker").unwrap_or(true);
        let alarms = strings(config, "rollback_alarms");
        let alarms = DeploymentAlarms::builder()
            .enable(!alarms.is_empty())
            .rollback(!alarms.is_empty())
            .set_alarm_names(Some(alarms))
            .build()
            .map_err(|e| invalid(operation, e.to_string()))?;
        let breaker = DeploymentCircuitBreaker::builder().enable(breaker).rollback(breaker).build();
        let bake = int(config, "bake_minutes");
        let shift = config.get("shift_percent").and_then(Value::as_f64);
        let named = string(config, "deployment").unwrap_or("rolling");
        let strategy =
            STRATEGIES.iter().find(|(name, _)| *name == named).map_or(DeploymentStrategy::Rolling, |s| s.1.clone());
        let shifted = strategy != DeploymentStrategy::Rolling;
        let builder = DeploymentConfiguration::builder()
            .minimum_healthy_percent(int(config, "minimum_healthy_percent").unwrap_or(super::DEFAULT_MINIMUM_HEALTHY))
            .maximum_percent(int(config, "maximum_percent").unwrap_or(super::DEFAULT_MAXIMUM))
            .deployment_circuit_breaker(breaker)
            .alarms(alarms)
            .set_bake_time_in_minutes(bake.filter(|_| shifted))
            .set_linear_configuration((strategy == DeploymentStrategy::Linear).then(|| {
                LinearConfiguration::builder().set_step_percent(shift).set_step_bake_time_in_minutes(bake).build()
            }))
            .set_canary_configuration((strategy == DeploymentStrategy::Canary).then(|| {
                CanaryConfiguration::builder().set_canary_percent(shift).set_canary_bake_time_in_minutes(bake).build()
            }))
            .strategy(strategy);
        Ok(builder.build())
    }

    /// The deployment settings as the workflow writes them; a default the workflow leaves out is
    /// left out, so it reads back as unset.
    fn deployment_attributes(s: &Described, prior: &Attributes) -> Attributes {
        let d = s.deployment_configuration();
        let breaker = d.and_then(|d| d.deployment_circuit_breaker()).is_some_and(|b| b.enable() && b.rollback());
        let alarms: Vec<Value> = d
            .and_then(|d| d.alarms())
            .filter(|a| a.enable() && a.rollback())
            .map(|a| a.alarm_names().iter().map(Value::str).collect())
            .unwrap_or_default();
        let strategy = d.and_then(|d| d.strategy()).cloned().unwrap_or(DeploymentStrategy::Rolling);
        let deployment = STRATEGIES.iter().find(|(_, s)| *s == strategy).map_or("rolling", |s| s.0);
        let (shift, step_bake) = match &strategy {
            DeploymentStrategy::Linear => {
                let l = d.and_then(|d| d.linear_configuration());
                (l.and_then(|l| l.step_percent()), l.and_then(|l| l.step_bake_time_in_minutes()))
            }
            DeploymentStrategy::Canary => {
                let c = d.and_then(|d| d.canary_configuration());
                (c.and_then(|c| c.canary_percent()), c.and_then(|c| c.canary_bake_time_in_minutes()))
            }
            _ => (None, None),
        };
        let bake = d.and_then(|d| d.bake_time_in_minutes()).or(step_bake);
        let mut out = observed([
            ("deployment", Value::str(deployment)),
            ("shift_percent", shift.map_or(Value::Null, Value::Number)),
            ("bake_minutes", attrs::number(bake.filter(|_| deployment != "rolling"))),
            ("minimum_healthy_percent", attrs::number(d.and_then(|d| d.minimum_healthy_percent()))),
            ("maximum_percent", attrs::number(d.and_then(|d| d.maximum_percent()))),
            ("circuit_breaker", Value::Bool(breaker)),
            ("rollback_alarms", like_prior(prior.get("rollback_alarms"), alarms, |a, b| a == b)),
        ]);
        let defaults = [
            ("minimum_healthy_percent", Value::Number(super::DEFAULT_MINIMUM_HEALTHY.into())),
            ("maximum_percent", Value::Number(super::DEFAULT_MAXIMUM.into())),
            ("circuit_breaker", Value::Bool(true)),
            ("rollback_alarms", Value::List(Vec::new())),
            ("deployment", Value::str("rolling")),
        ];
        attrs::drop_defaults(&mut out, prior, &defaults);
        out
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

    /// The target group a service's tasks register in, if any, and for a blue/green deployment
    /// the other group, the production listener rule and the role ECS shifts traffic with.
    fn load_balancer(config: &Attributes) -> Option<Vec<LoadBalancer>> {
        let lb = config.get("load_balancer").and_then(Value::as_map)?;
        let text = |name: &str| lb.get(name).and_then(Value::as_str).map(String::from);
        let port = lb.get("container_port").and_then(Value::as_i64).and_then(|n| i32::try_from(n).ok());
        let advanced = text("alternate_target_group_arn").map(|alternate| {
            AdvancedConfiguration::builder()
                .alternate_target_group_arn(alternate)
                .set_production_listener_rule(text("production_listener_rule_arn"))
                .set_role_arn(text("role_arn"))
                .build()
        });
        Some(vec![LoadBalancer::builder()
            .set_target_group_arn(text("target_group_arn"))
            .set_container_name(text("container_name"))
            .set_container_port(port)
            .set_advanced_configuration(advanced)
            .build()])
    }

    /// The load balancer attachment as the workflow writes it. After a blue/green deployment ECS
    /// has swapped the two target groups: while they are the two the workflow names, either way
    /// round reads as the workflow has them.
    fn load_balancer_attribute(lb: &LoadBalancer, prior: Option<&Value>) -> Value {
        let advanced = lb.advanced_configuration();
        let mut fields = BTreeMap::from([
            ("target_group_arn".to_string(), attrs::text(lb.target_group_arn())),
            ("container_name".to_string(), attrs::text(lb.container_name())),
            ("container_port".to_string(), attrs::number(lb.container_port())),
        ]);
        if let Some(a) = advanced {
            fields.insert("alternate_target_group_arn".into(), attrs::text(a.alternate_target_group_arn()));
            fields.insert("production_listener_rule_arn".into(), attrs::text(a.production_listener_rule()));
            fields.insert("role_arn".into(), attrs::text(a.role_arn()));
        }
        let declared = |k: &str| prior.and_then(Value::as_map).and_then(|m| m.get(k)).and_then(Value::as_str);
        let (live, other) = (lb.target_group_arn(), advanced.and_then(|a| a.alternate_target_group_arn()));
        let swapped = live.is_some()
            && other.is_some()
            && declared("target_group_arn") == other
            && declared("alternate_target_group_arn") == live;
        if swapped {
            fields.insert("target_group_arn".into(), attrs::text(other));
            fields.insert("alternate_target_group_arn".into(), attrs::text(live));
        }
        Value::map(fields)
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

    fn service_attributes(s: &Described, prior: &Attributes) -> Attributes {
        let vpc = s.network_configuration().and_then(|n| n.awsvpc_configuration());
        let list = |items: Option<&[String]>| items.unwrap_or_default().iter().map(Value::str).collect::<Vec<_>>();
        let subnets = list(vpc.map(|v| v.subnets()));
        let groups = list(vpc.map(|v| v.security_groups()));
        let public = vpc.and_then(|v| v.assign_public_ip()) == Some(&AssignPublicIp::Enabled);
        let load_balancer = s
            .load_balancers()
            .first()
            .map_or(Value::Null, |lb| load_balancer_attribute(lb, prior.get("load_balancer")));
        // The workflow may name the cluster by name or by ARN.
        let cluster = prior_if_same(prior.get("cluster"), attrs::text(s.cluster_arn()), |recorded, arn| {
            match (recorded.as_str(), arn.as_str()) {
                (Some(r), Some(a)) => r == a || a.ends_with(&format!(":cluster/{r}")),
                _ => false,
            }
        });
        // A release's revision reads as the declared one: the pipeline, not drone, moves it on.
        let released = boolean(prior, "pipeline_releases") == Some(true);
        let task_definition = prior_if_same(prior.get("task_definition"), attrs::text(s.task_definition()), |d, l| {
            released && matches!((d.as_str(), l.as_str()), (Some(d), Some(l)) if super::later_revision(d, l))
        });
        let mut attributes = observed([
            ("name", attrs::text(s.service_name())),
            ("cluster", cluster),
            ("task_definition", task_definition),
            ("desired_count", Value::Number(s.desired_count().into())),
            ("subnets", like_prior(prior.get("subnets"), subnets, |a, b| a == b)),
            ("security_groups", like_prior(prior.get("security_groups"), groups, |a, b| a == b)),
            ("assign_public_ip", Value::Bool(public)),
            ("load_balancer", load_balancer),
            ("enable_execute_command", Value::Bool(s.enable_execute_command())),
            ("tags", tags_of(s.tags())),
            ("arn", attrs::text(s.service_arn())),
        ]);
        attributes.extend(deployment_attributes(s, prior));
        if let Some(flag) = prior.get("pipeline_releases") {
            attributes.insert("pipeline_releases".into(), flag.clone());
        }
        attributes
    }
}

#[cfg(test)]
mod tests {
    use super::later_revision;

    #[test]
    fn only_a_later_revision_of_the_same_family_is_a_release() {
        let arn = |family: &str, revision: u32| {
            format!("arn:aws:ecs:eu-west-1:123456789012:task-definition/{family}:{revision}")
        };
        assert!(later_revision(&arn("shuttle-prod-ghost", 3), &arn("shuttle-prod-ghost", 4)));
        assert!(!later_revision(&arn("shuttle-prod-ghost", 4), &arn("shuttle-prod-ghost", 3)));
        assert!(!later_revision(&arn("shuttle-prod-ghost", 3), &arn("shuttle-prod-ghost", 3)));
        assert!(!later_revision(&arn("shuttle-prod-ghost", 3), &arn("shuttle-prod-other", 9)));
        assert!(!later_revision("shuttle-prod-ghost", &arn("shuttle-prod-ghost", 9)));
    }
}
