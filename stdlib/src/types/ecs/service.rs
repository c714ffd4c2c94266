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
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("ecs", sdk::Service),
};

/// The object type of a service's load balancer attachment.
pub fn load_balancer_type() -> Type {
    Type::Object(vec![
        field("target_group_arn", Type::String, true, "the target group's ARN"),
        field("container_name", Type::String, true, "the container that receives the traffic"),
        field("container_port", Type::Number, true, "the port of that container"),
    ])
}

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("name", Type::String, "the service's name").replaces(),
        required("cluster", Type::String, "the cluster's ARN").replaces(),
        required("task_definition", Type::String, "the task definition's ARN"),
        optional("desired_count", Type::Number, "how many tasks to keep running (default 1)"),
        required("subnets", Type::list(Type::String), "the subnets tasks are placed in"),
        required("security_groups", Type::list(Type::String), "the security groups of the tasks"),
        optional("assign_public_ip", Type::Bool, "give each task a public IP (default false)").guarded(),
        optional("load_balancer", load_balancer_type(), "the target group the tasks register in").replaces(),
        optional(
            "enable_execute_command",
            Type::Bool,
            "let people with `ecs:ExecuteCommand` run commands in the tasks (ECS Exec; default false; new tasks only)",
        ),
        computed("id", Type::String, "the service's ARN"),
        computed("arn", Type::String, "the service's ARN"),
    ]
}

#[cfg(feature = "ecs")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_ecs::types::{
        AssignPublicIp, AwsVpcConfiguration, LaunchType, LoadBalancer, NetworkConfiguration, Service as Described,
        ServiceField,
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

    fn service_attributes(s: &Described, prior: &Attributes) -> Attributes {
        let vpc = s.network_configuration().and_then(|n| n.awsvpc_configuration());
        let list = |items: Option<&[String]>| items.unwrap_or_default().iter().map(Value::str).collect::<Vec<_>>();
        let subnets = list(vpc.map(|v| v.subnets()));
        let groups = list(vpc.map(|v| v.security_groups()));
        let public = vpc.and_then(|v| v.assign_public_ip()) == Some(&AssignPublicIp::Enabled);
        let load_balancer = s.load_balancers().first().map_or(Value::Null, |lb| {
            Value::map(BTreeMap::from([
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
            ("enable_execute_command", Value::Bool(s.enable_execute_command())),
            ("tags", tags_of(s.tags())),
            ("arn", attrs::text(s.service_arn())),
        ])
    }
}
