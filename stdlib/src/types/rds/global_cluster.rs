//! `aws.rds.global_cluster`: an Aurora global database, made from an existing
//! cluster (its writer) so that the data it holds is kept; secondary clusters
//! in other regions join it with `global_cluster_identifier`.

use drone_lang::schema::{AttributeSchema, Type};

use crate::permissions::Stage::{Create, Delete, Find, Read, Update};
use crate::schema::{computed, field, optional, required, AttributeExt};
use crate::types::{ArnPattern, TypeDef};

/// The type.
pub static TYPE: TypeDef = TypeDef {
    name: "aws.rds.global_cluster",
    doc: "an Aurora global database: one writer cluster, read-only secondaries in other regions",
    taggable: false,
    attributes,
    naming: Some("identifier"),
    // Global clusters have no region in their ARN. CreateGlobalCluster also acts on the source
    // cluster: its own pattern, from the cluster's resource, which is in the same phase.
    arns: |s| {
        vec![ArnPattern::new("rds", "global-cluster", format!("arn:aws:rds::{}:global-cluster:{}", s.account, s.name))]
    },
    actions: &[
        (Create, "rds:CreateGlobalCluster"),
        (Create, "rds:DescribeGlobalClusters"),
        (Read, "rds:DescribeGlobalClusters"),
        (Update, "rds:ModifyGlobalCluster"),
        (Update, "rds:DescribeGlobalClusters"),
        // Its members leave before it goes: AWS deletes no global database with members.
        (Delete, "rds:DescribeGlobalClusters"),
        (Delete, "rds:RemoveFromGlobalCluster"),
        (Delete, "rds:DeleteGlobalCluster"),
        (Find, "rds:DescribeGlobalClusters"),
    ],
    passes_roles_to: &[],
    #[cfg(feature = "sdk")]
    ops: crate::types::ops!("rds", sdk::GlobalCluster),
};

fn attributes() -> Vec<AttributeSchema> {
    vec![
        required("identifier", Type::String, "the global database's identifier").replaces(),
        optional(
            "source_cluster_arn",
            Type::String,
            "the cluster it is made from, which becomes its first writer (its data is kept)",
        )
        .replaces()
        // The writer moves with a failover: the source is how it began, not a setting AWS keeps.
        .drone_side(),
        optional("engine", Type::one_of(&["aurora-mysql", "aurora-postgresql"]), "the engine (taken from the source)")
            .replaces(),
        optional("engine_version", Type::String, "the engine version (taken from the source)"),
        optional("deletion_protection", Type::Bool, "whether deletion is refused"),
        computed("id", Type::String, "the global database's identifier"),
        computed("arn", Type::String, "the global database's ARN"),
        computed("members", Type::list(member_type()), "its clusters, the writer first"),
        computed("writer_region", Type::String, "the region of the cluster that takes writes now"),
    ]
}

/// The object type of a global database's member.
pub fn member_type() -> Type {
    Type::Object(vec![
        field("cluster_arn", Type::String, true, "the member cluster's ARN"),
        field("writer", Type::Bool, true, "whether it takes writes"),
    ])
}

#[cfg(feature = "rds")]
pub(crate) mod sdk {
    use std::collections::BTreeMap;
    use std::time::Duration;

    use async_trait::async_trait;
    use aws_sdk_rds::types::GlobalCluster as Described;
    use aws_sdk_rds::Client;
    use drone_engine::provider::{FindRequest, Found, Observed, Owner, ProviderError};
    use drone_engine::value::{Attributes, Value};

    use crate::aws::attrs::{self, boolean, observed, prior_if_same, required, string, Update};
    use crate::aws::error::{missing, sdk_error, unless_gone};
    use crate::aws::wait::{self, Poll};
    use crate::aws::{AwsProvider, Ops};

    /// How long a global database may take to settle after a change.
    const TIMEOUT: Duration = Duration::from_secs(60 * 60);

    pub struct GlobalCluster;

    #[async_trait]
    impl Ops for GlobalCluster {
        async fn create(
            &self,
            p: &AwsProvider,
            config: &Attributes,
            _tags: &BTreeMap<String, String>,
            _token: &str,
        ) -> Result<Observed, ProviderError> {
            const OP: &str = "CreateGlobalCluster";
            let id = required(config, "identifier", OP)?;
            let out = p
                .rds
                .create_global_cluster()
                .global_cluster_identifier(id)
                .set_source_db_cluster_identifier(string(config, "source_cluster_arn").map(String::from))
                .set_engine(string(config, "engine").map(String::from))
                .set_engine_version(string(config, "engine_version").map(String::from))
                .set_deletion_protection(boolean(config, "deletion_protection"))
                .send()
                .await
                .map_err(|e| sdk_error(OP, e))?;
            out.global_cluster().ok_or_else(|| missing(OP, "GlobalCluster"))?;
            let made = settled(&p.rds, id).await.map_err(|e| e.after_create(id))?;
            Ok(Observed { id: id.to_string(), attributes: computed(&made) })
        }

        async fn find(&self, p: &AwsProvider, f: &FindRequest<'_>) -> Result<Option<Found>, ProviderError> {
            let id = required(f.config, "identifier", "DescribeGlobalClusters")?;
            // Global databases carry no tags here. One made from the cluster this workflow names as
            // its source is this one's (a create whose reply was lost); any other is nobody's drone knows.
            let source = string(f.config, "source_cluster_arn");
            Ok(describe(&p.rds, id).await?.map(|g| {
                let ours =
                    source.is_some_and(|s| g.global_cluster_members().iter().any(|m| m.db_cluster_arn() == Some(s)));
                Found { id: id.to_string(), owner: if ours { Owner::This } else { Owner::Untagged } }
            }))
        }

        async fn read(&self, p: &AwsProvider, id: &str, prior: &Attributes) -> Result<Option<Observed>, ProviderError> {
            Ok(describe(&p.rds, id).await?.map(|g| {
                let version = prior_if_same(
                    prior.get("engine_version"),
                    attrs::text(g.engine_version()),
                    |a, b| matches!((a.as_str(), b.as_str()), (Some(a), Some(b)) if b.starts_with(a)),
                );
                let mut attributes = observed([
                    ("identifier", Value::str(id)),
                    ("engine", attrs::text(g.engine())),
                    ("engine_version", version),
                    ("deletion_protection", g.deletion_protection().map_or(Value::Null, Value::Bool)),
                ]);
                attributes.extend(computed(&g));
                Observed { id: id.to_string(), attributes }
            }))
        }

        async fn update(&self, p: &AwsProvider, u: &Update<'_>) -> Result<Observed, ProviderError> {
            const OP: &str = "ModifyGlobalCluster";
            if u.changed("deletion_protection") || u.changed("engine_version") {
                p.rds
                    .modify_global_cluster()
                    .global_cluster_identifier(u.id)
                    .set_deletion_protection(
                        boolean(u.config, "deletion_protection").filter(|_| u.changed("deletion_protection")),
                    )
                    .set_engine_version(
                        string(u.config, "engine_version").filter(|_| u.changed("engine_version")).map(String::from),
                    )
                    .set_allow_major_version_upgrade(u.changed("engine_version").then_some(true))
                    .send()
                    .await
                    .map_err(|e| sdk_error(OP, e))?;
            }
            let now = settled(&p.rds, u.id).await?;
            Ok(Observed { id: u.id.to_string(), attributes: computed(&now) })
        }

        async fn delete(&self, p: &AwsProvider, id: &str, _prior: &Attributes) -> Result<(), ProviderError> {
            let Some(g) = describe(&p.rds, id).await? else { return Ok(()) };
            // Secondaries first: AWS takes the writer out only when it is the last member.
            let mut members: Vec<_> = g.global_cluster_members().iter().collect();
            members.sort_by_key(|m| m.is_writer().unwrap_or(false));
            for member in members {
                let Some(arn) = member.db_cluster_arn() else { continue };
                let remove =
                    p.rds.remove_from_global_cluster().global_cluster_identifier(id).db_cluster_identifier(arn);
                if let Err(e) = remove.send().await {
                    unless_gone(sdk_error("RemoveFromGlobalCluster", e), ())?;
                }
            }
            wait::until("DescribeGlobalClusters", &format!("global database `{id}` kept members"), TIMEOUT, || async {
                Ok(match describe(&p.rds, id).await? {
                    Some(g) if !g.global_cluster_members().is_empty() => Poll::Pending,
                    _ => Poll::Ready(()),
                })
            })
            .await?;
            match p.rds.delete_global_cluster().global_cluster_identifier(id).send().await {
                Ok(_) => Ok(()),
                Err(e) => unless_gone(sdk_error("DeleteGlobalCluster", e), ()),
            }
        }
    }

    /// The global database `id`; none when there is none.
    pub(crate) async fn describe(rds: &Client, id: &str) -> Result<Option<Described>, ProviderError> {
        const OP: &str = "DescribeGlobalClusters";
        match rds.describe_global_clusters().global_cluster_identifier(id).send().await {
            // Identifiers are matched here too: an endpoint may answer with every global database.
            Ok(out) => Ok(out
                .global_clusters()
                .iter()
                .find(|g| g.global_cluster_identifier().is_some_and(|g| g.eq_ignore_ascii_case(id)))
                .cloned()),
            Err(e) => unless_gone(sdk_error(OP, e), None),
        }
    }

    /// Polls the global database `id` until it is available.
    async fn settled(rds: &Client, id: &str) -> Result<Described, ProviderError> {
        let what = format!("global database `{id}` did not become available");
        wait::until("DescribeGlobalClusters", &what, TIMEOUT, || async {
            Ok(match describe(rds, id).await? {
                Some(g) if g.status() == Some("available") => Poll::Ready(g),
                _ => Poll::Pending,
            })
        })
        .await
    }

    /// What AWS decides of a global database: its ARN, members and writer's region.
    fn computed(g: &Described) -> Attributes {
        let mut members: Vec<_> = g.global_cluster_members().iter().collect();
        members.sort_by_key(|m| !m.is_writer().unwrap_or(false));
        let writer_region = members
            .iter()
            .find(|m| m.is_writer().unwrap_or(false))
            .and_then(|m| m.db_cluster_arn())
            .and_then(|arn| arn.split(':').nth(3))
            .map_or(Value::Null, Value::str);
        let members = members
            .iter()
            .map(|m| {
                Value::map(BTreeMap::from([
                    ("cluster_arn".to_string(), attrs::text(m.db_cluster_arn())),
                    ("writer".to_string(), Value::Bool(m.is_writer().unwrap_or(false))),
                ]))
            })
            .collect();
        observed([
            ("arn", attrs::text(g.global_cluster_arn())),
            ("members", Value::List(members)),
            ("writer_region", writer_region),
        ])
    }
}
