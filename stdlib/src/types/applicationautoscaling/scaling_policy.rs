//! `aws.applicationautoscaling.scaling_policy`: a target-tracking scaling policy: keeps
//! a metric (CPU, requests per task, ...) near a target by moving a scalable
//! target's capacity.

use drone_lang::schema::{AttributeSchema, Type};

use super::NAMESPACES;
use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, field, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.applicationautoscaling.scaling_policy",
    doc: "a target-tracking scaling policy on a scalable target",
    taggable: false,
    attributes,
    naming: Some("name"),
    // Policies are authorized on their scalable target, whose ARN holds an id AWS assigns; target
    // tracking makes and removes its CloudWatch alarms (`TargetTracking-...`) as the caller.
    arns: |s| {
        vec![
            super::any_scalable_target(s),
            ArnPattern::new(
                "cloudwatch",
                "alarm",
                format!("arn:aws:cloudwatch:{}:{}:alarm:TargetTracking-*", s.region, s.account),
            ),
        ]
    },
    actions: &[
        (Create, "application-autoscaling:PutScalingPolicy"),
        (Create, "cloudwatch:PutMetricAlarm"),
        (Create, "cloudwatch:DescribeAlarms"),
        (Read, "application-autoscaling:DescribeScalingPolicies"),
        (Update, "application-autoscaling:PutScalingPolicy"),
        (Update, "cloudwatch:PutMetricAlarm"),
        (Update, "cloudwatch:DescribeAlarms"),
        (Update, "cloudwatch:DeleteAlarms"),
        (Delete, "application-autoscaling:DeleteScalingPolicy"),
        (Delete, "cloudwatch:DeleteAlarms"),
        (Delete, "application-autoscaling:DescribeScalingPolicies"),
        (Find, "application-autoscaling:DescribeScalingPolicies"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("applicationautoscaling", sdk::ScalingPolicy),
};

/// The metrics a target-tracking policy can follow without a custom metric.
pub const PREDEFINED_METRICS: &[&str] = &[
    "ECSServiceAverageCPUUtilization",
    "ECSServiceAverageMemoryUtilization",
    "ALBRequestCountPerTarget",
    "RDSReaderAverageCPUUtilization",
    "RDSReaderAverageDatabaseConnections",
    "DynamoDBReadCapacityUtilization",
    "DynamoDBWriteCapacityUtilization",
    "LambdaProvisionedConcurrencyUtilization",
];

/// The object type of a target-tracking configuration.
pub fn target_tracking_type() -> Type {
    Type::Object(vec![
        field("metric", Type::one_of(PREDEFINED_METRICS), true, "the metric to keep near the target"),
        field("target_value", Type::Number, true, "the value to keep it near (a percentage, or requests per target)"),
        field(
            "resource_label",
            Type::String,
            false,
            "for ALBRequestCountPerTarget: `LB_ARN_SUFFIX/TARGET_GROUP_ARN_SUFFIX`",
        ),
        field("scale_in_cooldown", Type::Number, false, "seconds after a scale-in before another (default 300)"),
        field("scale_out_cooldown", Type::Number, false, "seconds after a scale-out before another (default 300)"),
        field("disable_scale_in", Type::Bool, false, "only ever add capacity (default false)"),
    ])
}

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("name", Type::String, "the policy's name, unique on its scalable target").replaces(),
        required("service_namespace", Type::one_of(NAMESPACES), "the scalable target's namespace").replaces(),
        required("resource_id", Type::String, "the scalable target's resource").replaces(),
        required("scalable_dimension", Type::String, "the scalable target's dimension").replaces(),
        required("target_tracking", target_tracking_type(), "the metric, its target and cooldowns"),
        computed("id", Type::String, "NAMESPACE|RESOURCE|DIMENSION|NAME"),
        computed("arn", Type::String, "the policy's ARN"),
    ]
}

#[cfg(feature = "applicationautoscaling")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_applicationautoscaling::types::{
        MetricType, PolicyType, PredefinedMetricSpecification, ScalableDimension, ScalingPolicy as Described,
        ServiceNamespace, TargetTrackingScalingPolicyConfiguration,
    };
    use drone_engine::provider::{FindRequest, Found, Observed, Owner, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use super::super::sdk::{id_of, parts_of};
    use crate::aws::attrs::{observed, required, Update};
    use crate::aws::error::{invalid, sdk_error};
    use crate::aws::{AwsProvider, Ops};

    pub struct ScalingPolicy;

    #[async_trait]
    impl Ops for ScalingPolicy {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            _tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            let parts = parts("PutScalingPolicy", config)?;
            let arn = put(p, &parts, config).await?;
            Ok(Observed { id: id_of(&parts), attributes: observed([("arn", Value::String(arn))]) })
        }

        /// A policy is unique by its name on its target: the one there is this workflow's.
        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            let parts = parts("DescribeScalingPolicies", f.config)?;
            Ok(describe(p, &parts).await?.map(|_| Found { id: id_of(&parts), owner: Owner::This }))
        }

        async fn read(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let parts = parts_of(id, 4, "DescribeScalingPolicies")?;
            Ok(describe(p, &parts).await?.map(|policy| Observed {
                id: id.to_string(),
                attributes: observed([
                    ("name", Value::str(policy.policy_name())),
                    ("service_namespace", Value::str(policy.service_namespace().as_str())),
                    ("resource_id", Value::str(policy.resource_id())),
                    ("scalable_dimension", Value::str(policy.scalable_dimension().as_str())),
                    ("target_tracking", tracking_object(policy.target_tracking_scaling_policy_configuration())),
                    ("arn", Value::str(policy.policy_arn())),
                ]),
            }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            let parts = parts_of(u.id, 4, "PutScalingPolicy")?;
            put(p, &parts, u.config).await?;
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            const OP: &str = "DeleteScalingPolicy";
            let parts = parts_of(id, 4, OP)?;
            // Deregistering the scalable target deletes its policies with it.
            if describe(p, &parts).await?.is_none() {
                return Ok(());
            }
            p.applicationautoscaling
                .delete_scaling_policy()
                .service_namespace(ServiceNamespace::from(parts[0]))
                .resource_id(parts[1])
                .scalable_dimension(ScalableDimension::from(parts[2]))
                .policy_name(parts[3])
                .send()
                .await
                .map(drop)
                .map_err(|e| sdk_error(OP, e))
        }
    }

    /// Namespace, resource, dimension and name, from a configuration.
    fn parts<'a>(operation: &str, config: &'a Attributes) -> Result<[&'a str; 4], ProviderError> {
        Ok([
            required(config, "service_namespace", operation)?,
            required(config, "resource_id", operation)?,
            required(config, "scalable_dimension", operation)?,
            required(config, "name", operation)?,
        ])
    }

    /// Puts the policy (create or replace in place); its ARN.
    async fn put(p: &AwsProvider, parts: &[&str], config: &Attributes) -> Result<String, ProviderError> {
        const OP: &str = "PutScalingPolicy";
        let out = p
            .applicationautoscaling
            .put_scaling_policy()
            .service_namespace(ServiceNamespace::from(parts[0]))
            .resource_id(parts[1])
            .scalable_dimension(ScalableDimension::from(parts[2]))
            .policy_name(parts[3])
            .policy_type(PolicyType::TargetTrackingScaling)
            .target_tracking_scaling_policy_configuration(tracking(config, OP)?)
            .send()
            .await
            .map_err(|e| sdk_error(OP, e))?;
        Ok(out.policy_arn().to_string())
    }

    /// The target-tracking configuration the workflow writes.
    fn tracking(
        config: &Attributes,
        operation: &str,
    ) -> Result<TargetTrackingScalingPolicyConfiguration, ProviderError> {
        let built = |e: aws_smithy_types::error::operation::BuildError| invalid(operation, e.to_string());
        let t = config
            .get("target_tracking")
            .and_then(Value::as_map)
            .ok_or_else(|| invalid(operation, "`target_tracking` is required"))?;
        let text = |name: &str| t.get(name).and_then(Value::as_str).map(String::from);
        let seconds = |name: &str| t.get(name).and_then(Value::as_i64).and_then(|n| i32::try_from(n).ok());
        let metric = PredefinedMetricSpecification::builder()
            .set_predefined_metric_type(text("metric").map(|m| MetricType::from(m.as_str())))
            .set_resource_label(text("resource_label"))
            .build()
            .map_err(built)?;
        TargetTrackingScalingPolicyConfiguration::builder()
            .set_target_value(t.get("target_value").and_then(Value::as_f64))
            .predefined_metric_specification(metric)
            .set_scale_in_cooldown(seconds("scale_in_cooldown"))
            .set_scale_out_cooldown(seconds("scale_out_cooldown"))
            .set_disable_scale_in(t.get("disable_scale_in").and_then(Value::as_bool))
            .build()
            .map_err(built)
    }

    /// A target-tracking configuration as the workflow writes one.
    fn tracking_object(c: Option<&TargetTrackingScalingPolicyConfiguration>) -> Value {
        let Some(c) = c else { return Value::Null };
        let metric = c.predefined_metric_specification();
        let mut out = BTreeMap::from([
            ("target_value".to_string(), Value::Number(c.target_value())),
            ("metric".to_string(), metric.map_or(Value::Null, |m| Value::str(m.predefined_metric_type().as_str()))),
        ]);
        let optional = [
            ("resource_label", metric.and_then(|m| m.resource_label()).map(Value::str)),
            ("scale_in_cooldown", c.scale_in_cooldown().map(|n| Value::Number(n.into()))),
            ("scale_out_cooldown", c.scale_out_cooldown().map(|n| Value::Number(n.into()))),
            ("disable_scale_in", c.disable_scale_in().map(Value::Bool)),
        ];
        out.extend(optional.into_iter().filter_map(|(k, v)| Some((k.to_string(), v?))));
        Value::map(out)
    }

    /// The policy with these parts (namespace, resource, dimension, name), if there is one.
    async fn describe(p: &AwsProvider, parts: &[&str]) -> Result<Option<Described>, ProviderError> {
        let out = p
            .applicationautoscaling
            .describe_scaling_policies()
            .service_namespace(ServiceNamespace::from(parts[0]))
            .resource_id(parts[1])
            .scalable_dimension(ScalableDimension::from(parts[2]))
            .policy_names(parts[3])
            .send()
            .await
            .map_err(|e| sdk_error("DescribeScalingPolicies", e))?;
        Ok(out.scaling_policies().iter().find(|p| p.policy_name() == parts[3]).cloned())
    }
}
