//! `aws.cloudwatch.dashboard`: a CloudWatch dashboard, its widgets written as
//! the dashboard body JSON AWS documents (a `widgets` list). CloudWatch tags
//! alarms but not dashboards: a dashboard found by its name is nobody's that
//! drone knows, unless drone's own create was the one interrupted.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.cloudwatch.dashboard",
    doc: "a CloudWatch dashboard: graphs of metrics and alarms on one page",
    taggable: false,
    attributes,
    naming: Some("name"),
    // Dashboards belong to the account, not a region.
    arns: |s| {
        vec![ArnPattern::new(
            "cloudwatch",
            "dashboard",
            format!("arn:aws:cloudwatch::{}:dashboard/{}", s.account, s.name),
        )]
    },
    actions: &[
        (Create, "cloudwatch:GetDashboard"),
        (Create, "cloudwatch:PutDashboard"),
        (Read, "cloudwatch:GetDashboard"),
        (Update, "cloudwatch:PutDashboard"),
        (Delete, "cloudwatch:DeleteDashboards"),
        (Find, "cloudwatch:GetDashboard"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("cloudwatch", sdk::Dashboard),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("name", Type::String, "the dashboard's name").replaces(),
        required("body", Type::Json, "the widgets: `{ widgets = [{ type = \"metric\", properties = { ... } }] }`"),
        computed("id", Type::String, "the dashboard's name"),
        computed("arn", Type::String, "the dashboard's ARN"),
    ]
}

#[cfg(feature = "cloudwatch")]
mod sdk {
    use std::collections::BTreeMap;

    use async_trait::async_trait;
    use aws_sdk_cloudwatch::operation::get_dashboard::GetDashboardOutput;
    use drone_engine::provider::{FindRequest, Found, Observed, Owner, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use crate::aws::attrs::{document, observed, prior_if_same, required, Update};
    use crate::aws::error::{invalid, name_taken, sdk_error, unless_gone};
    use crate::aws::{AwsProvider, Ops};

    pub struct Dashboard;

    #[async_trait]
    impl Ops for Dashboard {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            _tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "PutDashboard";
            // PutDashboard replaces a dashboard of the same name: one that is there is looked up first.
            let name = required(config, "name", OP)?;
            if get(p, name).await?.is_some() {
                return Err(name_taken(OP, format_args!("the dashboard `{name}`")));
            }
            put(p, config).await?;
            // Dashboards belong to the account, not a region.
            let arn = format!("arn:aws:cloudwatch::{}:dashboard/{name}", p.account().await?);
            Ok(Observed { id: name.to_string(), attributes: observed([("arn", Value::String(arn))]) })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            let name = required(f.config, "name", "GetDashboard")?;
            let found = get(p, name).await?;
            Ok(found.map(|_| Found { id: name.to_string(), owner: Owner::Untagged }))
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            let Some(d) = get(p, id).await? else { return Ok(None) };
            let body = d
                .dashboard_body()
                .and_then(|b| serde_json::from_str::<serde_json::Value>(b).ok())
                .map_or(Value::Null, |j| Value::from_json(&j));
            let arn = d.dashboard_arn().unwrap_or_default();
            let out = observed([
                ("name", Value::str(id)),
                ("body", prior_if_same(prior.get("body"), body, same_body)),
                ("arn", Value::str(arn)),
            ]);
            Ok(Some(Observed { id: id.to_string(), attributes: out }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            put(p, u.config).await?;
            Ok(Observed { id: u.id.to_string(), attributes: Attributes::new() })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _: &Attributes) -> Result<(), ProviderError> {
            match p.cloudwatch.delete_dashboards().dashboard_names(id).send().await {
                Ok(_) => Ok(()),
                Err(e) => unless_gone(sdk_error("DeleteDashboards", e), ()),
            }
        }
    }

    /// Writes the dashboard from `config`; AWS answers what in the body it could not use.
    async fn put(p: &AwsProvider, config: &Attributes) -> Result<(), ProviderError> {
        const OP: &str = "PutDashboard";
        let name = required(config, "name", OP)?;
        let body = document(config, "body").ok_or_else(|| invalid(OP, "`body` is required"))?;
        let out = p
            .cloudwatch
            .put_dashboard()
            .dashboard_name(name)
            .dashboard_body(body)
            .send()
            .await
            .map_err(|e| sdk_error(OP, e))?;
        // Messages about widgets AWS accepted but cannot draw (a metric that does not exist yet is fine).
        let problems: Vec<String> =
            out.dashboard_validation_messages().iter().filter_map(|m| m.message().map(String::from)).collect();
        if problems.is_empty() {
            Ok(())
        } else {
            Err(invalid(OP, format!("the dashboard `{name}` was saved, but AWS says: {}", problems.join("; "))))
        }
    }

    /// The dashboard named `name`; none when there is none.
    async fn get(p: &AwsProvider, name: &str) -> Result<Option<GetDashboardOutput>, ProviderError> {
        match p.cloudwatch.get_dashboard().dashboard_name(name).send().await {
            Ok(out) => Ok(Some(out)),
            Err(e) => unless_gone(sdk_error("GetDashboard", e), None),
        }
    }

    /// Bodies compare as JSON: AWS keeps the text it was given, key order and number forms included.
    fn same_body(a: &Value, b: &Value) -> bool {
        a.to_json() == b.to_json()
    }
}
