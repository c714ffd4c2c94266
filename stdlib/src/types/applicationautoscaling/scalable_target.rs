//! `aws.applicationautoscaling.scalable_target`: a capacity Application Auto
//! Scaling may move between `min_capacity` and `max_capacity` (an ECS service's
//! task count: `service/CLUSTER/SERVICE`, `ecs:service:DesiredCount`).

use drone_lang::schema::{AttributeSchema, Type};

use super::NAMESPACES;
use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.applicationautoscaling.scalable_target",
    doc: "a capacity Application Auto Scaling moves between a minimum and a maximum",
    taggable: false,
    attributes,
    naming: None,
    // Scalable target ARNs hold an id AWS assigns. The first ECS target of an account makes
    // Application Auto Scaling's service-linked role, as the caller.
    arns: |s| {
        vec![
            super::any_scalable_target(s),
            ArnPattern::new(
                "iam",
                "role",
                format!(
                    "arn:aws:iam::{}:role/aws-service-role/ecs.application-autoscaling.amazonaws.com/AWSServiceRoleForApplicationAutoScaling_ECSService",
                    s.account
                ),
            ),
        ]
    },
    actions: &[
        (Create, "application-autoscaling:RegisterScalableTarget"),
        (Create, "iam:CreateServiceLinkedRole"),
        (Read, "application-autoscaling:DescribeScalableTargets"),
        (Update, "application-autoscaling:RegisterScalableTarget"),
        (Delete, "application-autoscaling:DeregisterScalableTarget"),
        (Find, "application-autoscaling:DescribeScalableTargets"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("applicationautoscaling", sdk::ScalableTarget),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("service_namespace", Type::one_of(NAMESPACES), "the service that owns the capacity, e.g. \"ecs\"")
            .replaces(),
        required("resource_id", Type::String, "what is scaled, e.g. \"service/CLUSTER/SERVICE\"").replaces(),
        required("scalable_dimension", Type::String, "which capacity, e.g. \"ecs:service:DesiredCount\"").replaces(),
        required("min_capacity", Type::Number, "the least capacity scaling leaves"),
        required("max_capacity", Type::Number, "the most capacity scaling reaches"),
        computed("id", Type::String, "NAMESPACE|RESOURCE|DIMENSION"),
        computed("arn", Type::String, "the scalable target's ARN"),
    ]
}

#[cfg(feature = "applicationautoscaling")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_applicationautoscaling::types::{ScalableDimension, ScalableTarget as Target, ServiceNamespace};
    use drone_engine::provider::{FindRequest, Found, Observed, Owner, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::super::sdk::{id_of, parts_of};
    use crate::aws::attrs::{self, int, observed, required, Update};
    use crate::aws::error::sdk_error;
    use crate::aws::{AwsProvider, Ops};

    pub struct ScalableTarget;

    #[async_trait]
    impl Ops for ScalableTarget {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            _tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "RegisterScalableTarget";
            let parts = [
                required(config, "service_namespace", OP)?,
                required(config, "resource_id", OP)?,
                required(config, "scalable_dimension", OP)?,
            ];
            let out = register(p, OP, &parts, config).await?;
            Ok(Observed { id: id_of(&parts), attributes: observed([("arn", attrs::text(out.as_deref()))]) })
        }

        /// A target is unique by namespace, resource and dimension: the one there is this workflow's.
        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            const OP: &str = "DescribeScalableTargets";
            let parts = [
                required(f.config, "service_namespace", OP)?,
                required(f.config, "resource_id", OP)?,
                required(f.config, "scalable_dimension", OP)?,
            ];
            Ok(describe(p, &parts).await?.map(|_| Found { id: id_of(&parts), owner: Owner::This }))
        }

        async fn read(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let parts = parts_of(id, 3, "DescribeScalableTargets")?;
            Ok(describe(p, &parts).await?.map(|t| Observed {
                id: id.to_string(),
                attributes: observed([
                    ("service_namespace", Value::str(t.service_namespace().as_str())),
                    ("resource_id", Value::str(t.resource_id())),
                    ("scalable_dimension", Value::str(t.scalable_dimension().as_str())),
                    ("min_capacity", Value::Number(t.min_capacity().into())),
                    ("max_capacity", Value::Number(t.max_capacity().into())),
                    ("arn", attrs::text(t.scalable_target_arn())),
                ]),
            }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            let parts = parts_of(u.id, 3, "RegisterScalableTarget")?;
            register(p, "RegisterScalableTarget", &parts, u.config).await?;
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            const OP: &str = "DeregisterScalableTarget";
            let parts = parts_of(id, 3, OP)?;
            // Deregistering also deletes the target's scaling policies.
            match describe(p, &parts).await? {
                None => Ok(()),
                Some(_) => p
                    .applicationautoscaling
                    .deregister_scalable_target()
                    .service_namespace(ServiceNamespace::from(parts[0]))
                    .resource_id(parts[1])
                    .scalable_dimension(ScalableDimension::from(parts[2]))
                    .send()
                    .await
                    .map(drop)
                    .map_err(|e| sdk_error(OP, e)),
            }
        }
    }

    /// Registers (or re-registers, which updates) the target; its ARN, when AWS answers one.
    async fn register(
        p: &AwsProvider,
        operation: &str,
        parts: &[&str],
        config: &Attributes,
    ) -> Result<Option<String>, ProviderError> {
        let out = p
            .applicationautoscaling
            .register_scalable_target()
            .service_namespace(ServiceNamespace::from(parts[0]))
            .resource_id(parts[1])
            .scalable_dimension(ScalableDimension::from(parts[2]))
            .set_min_capacity(int(config, "min_capacity"))
            .set_max_capacity(int(config, "max_capacity"))
            .send()
            .await
            .map_err(|e| sdk_error(operation, e))?;
        Ok(out.scalable_target_arn().map(String::from))
    }

    /// The target with these parts (namespace, resource, dimension), if registered.
    async fn describe(p: &AwsProvider, parts: &[&str]) -> Result<Option<Target>, ProviderError> {
        let out = p
            .applicationautoscaling
            .describe_scalable_targets()
            .service_namespace(ServiceNamespace::from(parts[0]))
            .resource_ids(parts[1])
            .scalable_dimension(ScalableDimension::from(parts[2]))
            .send()
            .await
            .map_err(|e| sdk_error("DescribeScalableTargets", e))?;
        Ok(out.scalable_targets().iter().find(|t| t.resource_id() == parts[1]).cloned())
    }
}
