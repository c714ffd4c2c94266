//! `aws.cloudwatch.alarm`: a metric alarm: when a metric crosses its
//! threshold for long enough, it notifies its actions (an SNS topic).

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.cloudwatch.alarm",
    doc: "a metric alarm: notifies its actions when a metric crosses its threshold",
    taggable: true,
    attributes,
    naming: Some("name"),
    arns: |s| {
        vec![ArnPattern::new(
            "cloudwatch",
            "alarm",
            format!("arn:aws:cloudwatch:{}:{}:alarm:{}", s.region, s.account, s.name),
        )]
    },
    actions: &[
        (Create, "cloudwatch:PutMetricAlarm"),
        (Create, "cloudwatch:TagResource"),
        (Read, "cloudwatch:DescribeAlarms"),
        (Read, "cloudwatch:ListTagsForResource"),
        (Update, "cloudwatch:PutMetricAlarm"),
        (Update, "cloudwatch:TagResource"),
        (Update, "cloudwatch:UntagResource"),
        (Delete, "cloudwatch:DeleteAlarms"),
        (Find, "cloudwatch:DescribeAlarms"),
        (Find, "cloudwatch:ListTagsForResource"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("cloudwatch", sdk::Alarm),
};

/// How an alarm compares its metric with its threshold.
pub const COMPARISONS: &[&str] =
    &["GreaterThanThreshold", "GreaterThanOrEqualToThreshold", "LessThanThreshold", "LessThanOrEqualToThreshold"];

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("name", Type::String, "the alarm's name").replaces(),
        optional("description", Type::String, "what the alarm means and what to do"),
        required("namespace", Type::String, "the metric's namespace, e.g. \"AWS/ApplicationELB\""),
        required("metric", Type::String, "the metric's name, e.g. \"HTTPCode_Target_5XX_Count\""),
        optional("dimensions", Type::map(Type::String), "the metric's dimensions, e.g. { LoadBalancer = ... }"),
        optional(
            "statistic",
            Type::one_of(&["Average", "Sum", "Minimum", "Maximum", "SampleCount"]),
            "how each period is summarised (default Average)",
        ),
        optional("period", Type::Number, "seconds per data point (default 60)"),
        optional("evaluation_periods", Type::Number, "how many periods the threshold must be crossed (default 1)"),
        required("threshold", Type::Number, "the value compared with the metric"),
        required("comparison", Type::one_of(COMPARISONS), "how the metric is compared with the threshold"),
        optional(
            "treat_missing_data",
            Type::one_of(&["missing", "notBreaching", "breaching", "ignore"]),
            "what a period without data counts as (default missing)",
        ),
        optional("alarm_actions", Type::list(Type::String), "what is notified when it fires (SNS topic ARNs)"),
        optional("ok_actions", Type::list(Type::String), "what is notified when it recovers"),
        computed("id", Type::String, "the alarm's name"),
        computed("arn", Type::String, "the alarm's ARN"),
    ]
}

#[cfg(feature = "cloudwatch")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_cloudwatch::types::{ComparisonOperator, Dimension, MetricAlarm, Statistic};
    use aws_sdk_cloudwatch::Client;
    use drone_engine::provider::{FindRequest, Found, Observed, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use crate::aws::attrs::{self, int, like_prior, observed, required, string, string_map, strings, Update};
    use crate::aws::error::{name_taken, sdk_error};
    use crate::aws::tagging;
    use crate::aws::{AwsProvider, Ops};
    use crate::types::cloudwatch::sdk::{list_tags, pairs, to_tags};

    pub struct Alarm;

    #[async_trait]
    impl Ops for Alarm {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            // PutMetricAlarm replaces an alarm of the same name: one that is there is looked up first.
            let name = required(config, "name", "PutMetricAlarm")?;
            if describe(&p.cloudwatch, name).await?.is_some() {
                return Err(name_taken("PutMetricAlarm", format_args!("the alarm `{name}`")));
            }
            put(p, config, Some(tags)).await?;
            let arn = format!("arn:aws:cloudwatch:{}:{}:alarm:{name}", p.region()?, p.account().await?);
            Ok(Observed { id: name.to_string(), attributes: observed([("arn", Value::String(arn))]) })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            let name = required(f.config, "name", "DescribeAlarms")?;
            let Some(alarm) = describe(&p.cloudwatch, name).await? else { return Ok(None) };
            let tags = list_tags(&p.cloudwatch, alarm.alarm_arn().unwrap_or_default()).await?;
            let owner = attrs::owner(pairs(&tags), f.tags);
            Ok(Some(Found { id: name.to_string(), owner }))
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let Some(a) = describe(&p.cloudwatch, id).await? else { return Ok(None) };
            let dimensions: BTreeMap<String, Value> = a
                .dimensions()
                .iter()
                .map(|d| (d.name().unwrap_or_default().to_string(), attrs::text(d.value())))
                .collect();
            let actions = |prior: Option<&Value>, items: &[String]| {
                like_prior(prior, items.iter().map(Value::str).collect(), |x, y| x == y)
            };
            let mut out = observed([
                ("name", Value::str(id)),
                ("description", attrs::text(a.alarm_description())),
                ("namespace", attrs::text(a.namespace())),
                ("metric", attrs::text(a.metric_name())),
                ("dimensions", if dimensions.is_empty() { Value::Null } else { Value::map(dimensions) }),
                ("statistic", attrs::text(a.statistic().map(|s| s.as_str()))),
                ("period", attrs::number(a.period())),
                ("evaluation_periods", attrs::number(a.evaluation_periods())),
                ("threshold", a.threshold().map_or(Value::Null, Value::Number)),
                ("comparison", attrs::text(a.comparison_operator().map(|c| c.as_str()))),
                ("treat_missing_data", attrs::text(a.treat_missing_data())),
                ("alarm_actions", actions(prior.get("alarm_actions"), a.alarm_actions())),
                ("ok_actions", actions(prior.get("ok_actions"), a.ok_actions())),
                ("arn", attrs::text(a.alarm_arn())),
            ]);
            if prior.contains_key("tags") {
                let tags = list_tags(&p.cloudwatch, a.alarm_arn().unwrap_or_default()).await?;
                out.insert("tags".into(), attrs::user_tags(pairs(&tags)));
            }
            Ok(Some(Observed { id: id.to_string(), attributes: out }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            if u.changed_besides_tags() {
                put(p, u.config, None).await?;
            }
            if let Some(arn) = string(u.prior, "arn") {
                tagging::sync(&p.cloudwatch, arn, u).await?;
            }
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            // Deleting an alarm that is not there succeeds.
            p.cloudwatch
                .delete_alarms()
                .alarm_names(id)
                .send()
                .await
                .map(drop)
                .map_err(|e| sdk_error("DeleteAlarms", e))
        }
    }

    /// Creates or replaces the alarm from `config` (with `tags` on creation).
    async fn put(
        p: &AwsProvider,
        config: &Attributes,
        tags: Option<&BTreeMap<String, String>>,
    ) -> Result<(), ProviderError> {
        const OP: &str = "PutMetricAlarm";
        let name = required(config, "name", OP)?;
        let dimensions =
            string_map(config, "dimensions").into_iter().map(|(k, v)| Dimension::builder().name(k).value(v).build());
        let actions = |attr: &str| Some(strings(config, attr)).filter(|a| !a.is_empty());
        p.cloudwatch
            .put_metric_alarm()
            .alarm_name(name)
            .set_alarm_description(string(config, "description").map(String::from))
            .namespace(required(config, "namespace", OP)?)
            .metric_name(required(config, "metric", OP)?)
            .set_dimensions(Some(dimensions.collect()))
            .statistic(Statistic::from(string(config, "statistic").unwrap_or("Average")))
            .period(int(config, "period").unwrap_or(60))
            .evaluation_periods(int(config, "evaluation_periods").unwrap_or(1))
            .set_threshold(config.get("threshold").and_then(Value::as_f64))
            .comparison_operator(ComparisonOperator::from(required(config, "comparison", OP)?))
            .set_treat_missing_data(string(config, "treat_missing_data").map(String::from))
            .set_alarm_actions(actions("alarm_actions"))
            .set_ok_actions(actions("ok_actions"))
            .set_tags(tags.map(to_tags))
            .send()
            .await
            .map(drop)
            .map_err(|e| sdk_error(OP, e))
    }

    async fn describe(cw: &Client, name: &str) -> Result<Option<MetricAlarm>, ProviderError> {
        let out = cw.describe_alarms().alarm_names(name).send().await.map_err(|e| sdk_error("DescribeAlarms", e))?;
        Ok(out.metric_alarms().iter().find(|a| a.alarm_name() == Some(name)).cloned())
    }
}
