//! The AWS provider: implements the engine's `Provider` with the official AWS
//! SDK for Rust, configured by aws-config (credential chain, profiles, region,
//! `AWS_ENDPOINT_URL`). Each service sits behind its own cargo feature.

pub(crate) mod attrs;
pub mod consistency;
pub(crate) mod error;
mod journal;
#[cfg(feature = "s3")]
#[cfg(all(feature = "ecs", feature = "iam", feature = "logs"))]
pub mod one_off;
mod ops;
#[cfg(all(
    feature = "codecommit",
    feature = "codepipeline",
    feature = "codeconnections",
    feature = "ecr",
    feature = "ecs",
    feature = "elbv2",
    feature = "cloudwatch"
))]
pub mod release;
mod scripts;
pub mod state;
pub(crate) mod tagging;
#[cfg(any(feature = "ec2", feature = "rds", feature = "elbv2", feature = "efs", feature = "cloudfront"))]
pub(crate) mod wait;

use std::collections::BTreeMap;
use std::time::Duration;

use async_trait::async_trait;
use aws_config::BehaviorVersion;
use drone_engine::provider::{
    CreateRequest, ErrorKind, FindRequest, Found, Observed, Provider, ProviderError, Tagged, Target, UpdateRequest,
};
use drone_engine::value::{Attributes, Value};

use crate::registry;
use error::unless_gone;

pub use attrs::percent_decode;
pub use error::sdk_error;
pub use journal::{Call, Journal};
pub(crate) use ops::once;
pub(crate) use ops::Ops;

/// One AWS account and region, with a client per enabled service.
pub struct AwsProvider {
    region: Option<String>,
    endpoint: Option<String>,
    sts: aws_sdk_sts::Client,
    account: tokio::sync::OnceCell<String>,
    journal: Option<Journal>,
    #[cfg(feature = "ec2")]
    pub(crate) ec2: aws_sdk_ec2::Client,
    #[cfg(feature = "s3")]
    pub(crate) s3: aws_sdk_s3::Client,
    #[cfg(feature = "iam")]
    pub(crate) iam: aws_sdk_iam::Client,
    #[cfg(feature = "ecs")]
    pub(crate) ecs: aws_sdk_ecs::Client,
    #[cfg(feature = "rds")]
    pub(crate) rds: aws_sdk_rds::Client,
    #[cfg(feature = "elbv2")]
    pub(crate) elbv2: aws_sdk_elasticloadbalancingv2::Client,
    #[cfg(feature = "ecr")]
    pub(crate) ecr: aws_sdk_ecr::Client,
    #[cfg(feature = "logs")]
    pub(crate) logs: aws_sdk_cloudwatchlogs::Client,
    #[cfg(feature = "efs")]
    pub(crate) efs: aws_sdk_efs::Client,
    #[cfg(feature = "cloudfront")]
    pub(crate) cloudfront: aws_sdk_cloudfront::Client,
    #[cfg(feature = "wafv2")]
    pub(crate) wafv2: aws_sdk_wafv2::Client,
    #[cfg(feature = "applicationautoscaling")]
    pub(crate) applicationautoscaling: aws_sdk_applicationautoscaling::Client,
    #[cfg(feature = "secretsmanager")]
    pub(crate) secretsmanager: aws_sdk_secretsmanager::Client,
    #[cfg(feature = "route53")]
    pub(crate) route53: aws_sdk_route53::Client,
    #[cfg(feature = "acm")]
    pub(crate) acm: aws_sdk_acm::Client,
    #[cfg(feature = "sns")]
    pub(crate) sns: aws_sdk_sns::Client,
    #[cfg(feature = "cloudwatch")]
    pub(crate) cloudwatch: aws_sdk_cloudwatch::Client,
    #[cfg(feature = "codecommit")]
    pub(crate) codecommit: aws_sdk_codecommit::Client,
    #[cfg(feature = "codebuild")]
    pub(crate) codebuild: aws_sdk_codebuild::Client,
    #[cfg(feature = "codepipeline")]
    pub(crate) codepipeline: aws_sdk_codepipeline::Client,
    #[cfg(feature = "codeconnections")]
    pub(crate) codeconnections: aws_sdk_codeconnections::Client,
}

impl AwsProvider {
    /// Configures clients from a provider block's settings (`region`,
    /// `profile`) and the standard environment; with a journal, every API
    /// call is recorded in it.
    pub async fn connect(settings: &BTreeMap<String, Value>, journal: Option<Journal>) -> AwsProvider {
        let mut loader = aws_config::defaults(BehaviorVersion::latest()).timeout_config(
            aws_config::timeout::TimeoutConfig::builder()
                .connect_timeout(Duration::from_secs(5))
                .operation_attempt_timeout(call_timeout())
                .build(),
        );
        if let Some(region) = settings.get("region").and_then(Value::as_str) {
            loader = loader.region(aws_config::Region::new(region.to_string()));
        }
        if let Some(profile) = settings.get("profile").and_then(Value::as_str) {
            loader = loader.profile_name(profile);
        }
        AwsProvider::from_config(&loader.load().await, journal)
    }

    /// A provider for the account, region and endpoint of `config`; with a
    /// journal, every API call is recorded in it.
    pub fn from_config(config: &aws_config::SdkConfig, journal: Option<Journal>) -> AwsProvider {
        let endpoint = config.endpoint_url().map(String::from);
        // Each service's config, with the call recorder (which writes to the journal, if any).
        macro_rules! conf {
            ($sdk:ident, $builder:expr) => {{
                let builder = $builder
                    .interceptor(journal::Recorder { journal: journal.clone() })
                    .interceptor(consistency::Freshness);
                $sdk::Client::from_conf(builder.build())
            }};
        }
        AwsProvider {
            region: config.region().map(|r| r.to_string()),
            sts: conf!(aws_sdk_sts, aws_sdk_sts::config::Builder::from(config)),
            account: tokio::sync::OnceCell::new(),
            #[cfg(feature = "ec2")]
            ec2: conf!(aws_sdk_ec2, aws_sdk_ec2::config::Builder::from(config)),
            // Local endpoints serve buckets by path, not by virtual host.
            #[cfg(feature = "s3")]
            s3: conf!(aws_sdk_s3, aws_sdk_s3::config::Builder::from(config).force_path_style(endpoint.is_some())),
            #[cfg(feature = "iam")]
            iam: conf!(aws_sdk_iam, aws_sdk_iam::config::Builder::from(config)),
            #[cfg(feature = "ecs")]
            ecs: conf!(aws_sdk_ecs, aws_sdk_ecs::config::Builder::from(config)),
            #[cfg(feature = "rds")]
            rds: conf!(aws_sdk_rds, aws_sdk_rds::config::Builder::from(config)),
            #[cfg(feature = "elbv2")]
            elbv2: conf!(aws_sdk_elasticloadbalancingv2, aws_sdk_elasticloadbalancingv2::config::Builder::from(config)),
            #[cfg(feature = "ecr")]
            ecr: conf!(aws_sdk_ecr, aws_sdk_ecr::config::Builder::from(config)),
            #[cfg(feature = "logs")]
            logs: conf!(aws_sdk_cloudwatchlogs, aws_sdk_cloudwatchlogs::config::Builder::from(config)),
            #[cfg(feature = "efs")]
            efs: conf!(aws_sdk_efs, aws_sdk_efs::config::Builder::from(config)),
            #[cfg(feature = "cloudfront")]
            cloudfront: conf!(aws_sdk_cloudfront, aws_sdk_cloudfront::config::Builder::from(config)),
            #[cfg(feature = "wafv2")]
            wafv2: conf!(aws_sdk_wafv2, aws_sdk_wafv2::config::Builder::from(config)),
            #[cfg(feature = "applicationautoscaling")]
            applicationautoscaling: conf!(
                aws_sdk_applicationautoscaling,
                aws_sdk_applicationautoscaling::config::Builder::from(config)
            ),
            #[cfg(feature = "secretsmanager")]
            secretsmanager: conf!(aws_sdk_secretsmanager, aws_sdk_secretsmanager::config::Builder::from(config)),
            #[cfg(feature = "route53")]
            route53: conf!(aws_sdk_route53, aws_sdk_route53::config::Builder::from(config)),
            #[cfg(feature = "acm")]
            acm: conf!(aws_sdk_acm, aws_sdk_acm::config::Builder::from(config)),
            #[cfg(feature = "sns")]
            sns: conf!(aws_sdk_sns, aws_sdk_sns::config::Builder::from(config)),
            #[cfg(feature = "cloudwatch")]
            cloudwatch: conf!(aws_sdk_cloudwatch, aws_sdk_cloudwatch::config::Builder::from(config)),
            #[cfg(feature = "codecommit")]
            codecommit: conf!(aws_sdk_codecommit, aws_sdk_codecommit::config::Builder::from(config)),
            #[cfg(feature = "codebuild")]
            codebuild: conf!(aws_sdk_codebuild, aws_sdk_codebuild::config::Builder::from(config)),
            #[cfg(feature = "codepipeline")]
            codepipeline: conf!(aws_sdk_codepipeline, aws_sdk_codepipeline::config::Builder::from(config)),
            #[cfg(feature = "codeconnections")]
            codeconnections: conf!(aws_sdk_codeconnections, aws_sdk_codeconnections::config::Builder::from(config)),
            journal,
            endpoint,
        }
    }

    /// Runs `call`, a call one type makes about a resource of another (`type_name`), with its
    /// calls journaled against that resource, whose id `id` reads from the answer.
    pub(crate) async fn about<T>(
        &self,
        type_name: &str,
        call: impl std::future::Future<Output = Result<T, ProviderError>>,
        id: impl Fn(&T) -> Option<String>,
    ) -> Result<T, ProviderError> {
        journal::scoped(self.journal.as_ref(), "read", type_name, None, call, id).await
    }

    /// The region, or an error saying how to set one.
    pub(crate) fn region(&self) -> Result<&str, ProviderError> {
        self.region.as_deref().ok_or_else(|| {
            ProviderError::new(
                ErrorKind::Rejected,
                "configure",
                "no AWS region is configured; set `region` in the provider block or AWS_REGION",
            )
        })
    }

    /// The account id, asked of STS once.
    pub(crate) async fn account(&self) -> Result<String, ProviderError> {
        self.account
            .get_or_try_init(|| async {
                let out = self.sts.get_caller_identity().send().await.map_err(|e| sdk_error("GetCallerIdentity", e))?;
                Ok::<_, ProviderError>(out.account().unwrap_or_default().to_string())
            })
            .await
            .cloned()
    }
}

/// How long one attempt of a call may take before the client gives up on
/// its reply: `DRONE_CALL_TIMEOUT` seconds, else 60.
fn call_timeout() -> Duration {
    let seconds = std::env::var("DRONE_CALL_TIMEOUT").ok().and_then(|s| s.parse::<f64>().ok());
    Duration::from_secs_f64(seconds.filter(|s| *s > 0.0).unwrap_or(60.0))
}

/// The operations of `type_name`, or why there are none.
fn ops(type_name: &str) -> Result<&'static dyn Ops, ProviderError> {
    let Some(t) = registry::get(type_name) else {
        return Err(ProviderError::new(
            ErrorKind::Unsupported,
            "dispatch",
            format!("unknown resource type `{type_name}`"),
        ));
    };
    t.ops.ok_or_else(|| {
        let why = format!("`{type_name}` needs drone built with the `{}` feature", t.service());
        ProviderError::new(ErrorKind::Unsupported, "dispatch", why)
    })
}

#[async_trait]
impl Provider for AwsProvider {
    async fn identity(&self) -> Result<Target, ProviderError> {
        let region = self.region()?.to_string();
        Ok(Target { account: self.account().await?, region, endpoint: self.endpoint.clone() })
    }

    async fn create(&self, r: CreateRequest<'_>) -> Result<Observed, ProviderError> {
        let created = |o: &Observed| Some(o.id.clone());
        // A create that names what was just made (a subnet in a new VPC) waits for it to show.
        let create = consistency::patiently(|| self.create_unjournaled(r));
        journal::scoped(self.journal.as_ref(), "create", r.type_name, None, create, created).await
    }

    async fn read(&self, type_name: &str, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
        // Nothing there, for an id made moments ago, is not yet there rather than deleted.
        let read = consistency::read_patiently(id, || self.read_unjournaled(type_name, id, prior));
        journal::scoped(self.journal.as_ref(), "read", type_name, Some(id), read, |_| None).await
    }

    fn listing_lag(&self, type_name: &str) -> Duration {
        registry::get(type_name)
            .and_then(|t| consistency::of_service(t.service()))
            .map_or(Duration::ZERO, |c| c.listing)
    }

    fn batch_size(&self, type_name: &str) -> usize {
        ops(type_name).map_or(1, |o| o.batch_size())
    }

    async fn read_many(
        &self,
        type_name: &str,
        resources: &[(&str, &Attributes)],
    ) -> Result<Vec<Option<Observed>>, ProviderError> {
        let first = resources.first().map(|(id, _)| *id);
        let read = async { ops(type_name)?.read_many(self, resources).await };
        let mut found = journal::scoped(self.journal.as_ref(), "read", type_name, first, read, |_| None).await?;
        // What a batch did not find but was made moments ago is read on its own, patiently.
        for (slot, (id, prior)) in found.iter_mut().zip(resources) {
            if slot.is_none() && consistency::fresh_until(id).is_some() {
                *slot = self.read(type_name, id, prior).await?;
            }
        }
        Ok(found)
    }

    async fn find(&self, f: FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
        let find = async { ops(f.type_name)?.find(self, &f).await };
        journal::scoped(self.journal.as_ref(), "find", f.type_name, None, find, |_| None).await
    }

    /// Only a type with a name of its own can be looked up: the others drone finds by its tags.
    async fn look_up(&self, f: FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
        if registry::get(f.type_name).is_some_and(|t| t.naming.is_none()) {
            let why = format!(
                "a `data` block reads a resource found by its name, and {} has none (drone finds those by the tags it gives them)",
                f.type_name
            );
            return Err(ProviderError::new(ErrorKind::Rejected, "look up", why));
        }
        self.find(f).await
    }

    async fn find_all(&self, f: FindRequest<'_>) -> Result<Vec<Found>, ProviderError> {
        let find = async { ops(f.type_name)?.find_all(self, &f).await };
        journal::scoped(self.journal.as_ref(), "find", f.type_name, None, find, |_| None).await
    }

    async fn tagged(
        &self,
        type_name: &str,
        tags: &BTreeMap<String, String>,
    ) -> Result<Option<Vec<Tagged>>, ProviderError> {
        let list = async { ops(type_name)?.tagged(self, tags).await };
        journal::scoped(self.journal.as_ref(), "find", type_name, None, list, |_| None).await
    }

    async fn update(&self, r: UpdateRequest<'_>) -> Result<Observed, ProviderError> {
        let update = consistency::patiently(|| self.update_unjournaled(r));
        journal::scoped(self.journal.as_ref(), "update", r.type_name, Some(r.id), update, |_| None).await
    }

    async fn delete(&self, type_name: &str, id: &str, prior: &Attributes) -> Result<(), ProviderError> {
        // "Already gone" is a finished delete, for every type (a fresh id's "not found" is not).
        let delete = async {
            consistency::patiently(|| self.delete_unjournaled(type_name, id, prior))
                .await
                .or_else(|e| unless_gone(e, ()))
        };
        journal::scoped(self.journal.as_ref(), "delete", type_name, Some(id), delete, |_| None).await
    }
}

/// The provider operations proper; `Provider`'s methods add the journal.
impl AwsProvider {
    async fn create_unjournaled(&self, r: CreateRequest<'_>) -> Result<Observed, ProviderError> {
        let tags = attrs::merged_tags(r.config, r.tags);
        ops(r.type_name)?.create(self, r.config, &tags, r.token).await
    }

    async fn read_unjournaled(
        &self,
        type_name: &str,
        id: &str,
        prior: &Attributes,
    ) -> Result<Option<Observed>, ProviderError> {
        // A resource deleted part-way through its read answers "not found" to a later call
        // (its policies, its tags): gone, whichever call learnt it.
        ops(type_name)?.read(self, id, prior).await.or_else(|e| error::unless_gone(e, None))
    }

    async fn update_unjournaled(&self, r: UpdateRequest<'_>) -> Result<Observed, ProviderError> {
        let tags = attrs::merged_tags(r.config, r.tags);
        let change = attrs::Update { id: r.id, prior: r.prior, config: r.config, changed: r.changed, tags: &tags };
        ops(r.type_name)?.update(self, &change).await
    }

    async fn delete_unjournaled(&self, type_name: &str, id: &str, prior: &Attributes) -> Result<(), ProviderError> {
        ops(type_name)?.delete(self, id, prior).await
    }
}
