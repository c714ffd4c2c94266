//! Reading a secret's value for a call that needs it (a CloudFront origin
//! header, a listener rule's condition): asked of Secrets Manager at the
//! moment of the call, passed to that call, and never returned to the engine.

use drone_engine::provider::ProviderError;

use crate::aws::error::{missing, sdk_error};
use crate::aws::AwsProvider;

/// The current value of the secret `arn` (its text; one JSON key of it with `key`).
pub(crate) async fn value(p: &AwsProvider, arn: &str, key: Option<&str>) -> Result<String, ProviderError> {
    const OP: &str = "GetSecretValue";
    // A secret is read in its own region (the edge's CloudFront reads the platform region's secret).
    let region = arn.split(':').nth(3).filter(|r| !r.is_empty());
    let client = match region {
        Some(r) if p.secretsmanager.config().region().map(|c| c.as_ref()) != Some(r) => {
            let config = p.secretsmanager.config().to_builder().region(aws_config::Region::new(r.to_string()));
            aws_sdk_secretsmanager::Client::from_conf(config.build())
        }
        _ => p.secretsmanager.clone(),
    };
    let out = client.get_secret_value().secret_id(arn).send().await.map_err(|e| sdk_error(OP, e))?;
    let text = out.secret_string().ok_or_else(|| missing(OP, "SecretString"))?;
    match key {
        None => Ok(text.to_string()),
        Some(key) => serde_json::from_str::<serde_json::Value>(text)
            .ok()
            .and_then(|j| j.get(key).and_then(|v| v.as_str()).map(String::from))
            .ok_or_else(|| missing(OP, &format!("the key `{key}` of the secret's JSON"))),
    }
}

/// A header whose value is a secret's (`secret_header = { name, secret_arn }`):
/// CloudFront adds it to origin requests and a listener rule requires it.
pub(crate) struct SecretHeader {
    /// The header's name.
    pub name: String,
    /// The secret holding its value.
    pub secret_arn: String,
    /// The value, read now.
    pub value: String,
}

impl SecretHeader {
    /// The header `attr` of `config` names, with its value read from its secret; none when unset.
    pub(crate) async fn of(
        p: &AwsProvider,
        config: &drone_engine::value::Attributes,
        attr: &str,
    ) -> Result<Option<SecretHeader>, ProviderError> {
        use drone_engine::value::Value;
        let Some(header) = config.get(attr).and_then(Value::as_map) else { return Ok(None) };
        let text = |k: &str| header.get(k).and_then(Value::as_str).map(String::from);
        let (Some(name), Some(secret_arn)) = (text("name"), text("secret_arn")) else { return Ok(None) };
        let value = self::value(p, &secret_arn, None).await?;
        Ok(Some(SecretHeader { name, secret_arn, value }))
    }

    /// A header AWS holds (`name: value`) as read back against `secret`, the one the workflow
    /// names: the workflow's form when the value is the secret's, else its name with a
    /// `secret_arn` that says it differs (the value itself is never shown).
    pub(crate) fn read_back(secret: Option<&SecretHeader>, name: &str, value: &str) -> drone_engine::value::Value {
        use drone_engine::value::Value;
        let secret = match secret {
            Some(s) if name.eq_ignore_ascii_case(&s.name) && value == s.value => s.secret_arn.clone(),
            Some(_) => "(a value that is not the secret's)".into(),
            None => "(a value that is not a secret's)".into(),
        };
        Value::map(std::collections::BTreeMap::from([
            ("name".to_string(), Value::str(name)),
            ("secret_arn".to_string(), Value::String(secret)),
        ]))
    }
}
