//! Where a workflow's state is kept: a local file, or an S3 object shared by
//! a team. The engine writes through [`Backend`]; the S3 implementation lives
//! with the AWS provider (the engine never links an SDK).

use std::path::PathBuf;

use async_trait::async_trait;

use super::{LocalBackend, State, StateError};

/// A place state is read from and written to.
#[async_trait]
pub trait Backend: Send + Sync + std::fmt::Debug {
    /// Where the state lives, as a user writes it: a path or `s3://bucket/key`.
    fn location(&self) -> String;

    /// Reads the state, or a fresh one when none is stored yet.
    async fn load(&self, workflow: &str) -> Result<State, StateError>;

    /// Whether a state is stored there.
    async fn exists(&self) -> Result<bool, StateError>;

    /// Records what `state` now holds at each of `addresses` (resource and
    /// pending intent), durably, before returning; bumps the serial.
    async fn record_many(&self, state: &mut State, addresses: &[&str]) -> Result<(), StateError>;

    /// Writes the whole state, bumping its serial.
    async fn save(&self, state: &mut State) -> Result<(), StateError>;

    /// [`Backend::record_many`] for one address.
    async fn record(&self, state: &mut State, address: &str) -> Result<(), StateError> {
        self.record_many(state, &[address]).await
    }
}

#[async_trait]
impl Backend for LocalBackend {
    fn location(&self) -> String {
        self.path.display().to_string()
    }

    async fn load(&self, workflow: &str) -> Result<State, StateError> {
        LocalBackend::load(self, workflow)
    }

    async fn exists(&self) -> Result<bool, StateError> {
        Ok(self.path.exists())
    }

    async fn record_many(&self, state: &mut State, addresses: &[&str]) -> Result<(), StateError> {
        LocalBackend::record_many(self, state, addresses)
    }

    async fn save(&self, state: &mut State) -> Result<(), StateError> {
        LocalBackend::save(self, state)
    }
}

/// Where state is kept, as `--state` or the workflow header names it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Location {
    /// A local file.
    Local(PathBuf),
    /// An object in S3.
    S3(S3Location),
}

/// An S3 object holding state.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct S3Location {
    /// The bucket.
    pub bucket: String,
    /// The object key.
    pub key: String,
    /// The bucket's region; the environment's when none.
    pub region: Option<String>,
}

impl Location {
    /// `s3://bucket/key` names an S3 object (`?region=REGION` after it when the bucket is not in
    /// the environment's region, as a replica in a standby region is); anything else a local path.
    pub fn parse(text: &str) -> Result<Location, String> {
        let Some(rest) = text.strip_prefix("s3://") else { return Ok(Location::Local(PathBuf::from(text))) };
        let (rest, region) = match rest.split_once('?') {
            Some((rest, query)) => match query.strip_prefix("region=") {
                Some(region) if !region.is_empty() && !region.contains(['&', '/']) => (rest, Some(region.to_string())),
                _ => return Err(format!("`{text}`: the only thing after `?` is `region=REGION`")),
            },
            None => (rest, None),
        };
        match rest.split_once('/') {
            Some((bucket, key)) if !bucket.is_empty() && !key.is_empty() && !key.ends_with('/') => {
                Ok(Location::S3(S3Location { bucket: bucket.into(), key: key.into(), region }))
            }
            _ => Err(format!("`{text}` is not an S3 object: write s3://BUCKET/KEY")),
        }
    }
}

impl std::fmt::Display for Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Location::Local(path) => write!(f, "{}", path.display()),
            Location::S3(s3) => write!(f, "{s3}"),
        }
    }
}

impl std::fmt::Display for S3Location {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "s3://{}/{}", self.bucket, self.key)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn locations() {
        assert_eq!(Location::parse("a/b.json"), Ok(Location::Local("a/b.json".into())));
        let s3 = Location::parse("s3://team-state/shuttle/prod.json").expect("s3");
        assert_eq!(s3.to_string(), "s3://team-state/shuttle/prod.json");
        assert!(Location::parse("s3://bucket").is_err());
        let replica = Location::parse("s3://state-replica/prod.json?region=eu-central-1").expect("replica");
        let expected =
            S3Location { bucket: "state-replica".into(), key: "prod.json".into(), region: Some("eu-central-1".into()) };
        assert_eq!(replica, Location::S3(expected));
        assert!(Location::parse("s3://state/prod.json?versionId=3").is_err());
        assert!(Location::parse("s3://state/prod.json?region=").is_err());
        assert!(Location::parse("s3:///key").is_err());
        assert!(Location::parse("s3://bucket/dir/").is_err());
    }
}
