//! Team state in S3. The state is one object, rewritten whole after every
//! operation, each write conditional on the ETag this process last read or
//! wrote (`If-Match`; `If-None-Match: *` for the first), so a write never
//! overwrites a serial it has not seen; the bucket's versioning keeps every
//! serial. The lock is a second object (`KEY.lock`) created with
//! `If-None-Match: *`, holding the owner and a lease that a heartbeat renews
//! (conditional on its own ETag); an expired lease is taken over conditional
//! on the ETag the taker read, so two takers cannot both win.

use std::sync::Arc;

use async_trait::async_trait;
use aws_config::BehaviorVersion;
use aws_sdk_s3::error::ProvideErrorMetadata;
use aws_sdk_s3::primitives::ByteStream;
use drone_engine::lock::{LockContext, LockError, LockLost, LockOwner};
use drone_engine::state::{parse_state, Backend, S3Location, State, StateError};
use tokio::sync::Mutex;

/// The SHA-256 of a state text, hex: which write an object holds.
fn digest(text: &str) -> String {
    use sha2::{Digest, Sha256};
    Sha256::digest(text.as_bytes()).iter().map(|b| format!("{b:02x}")).collect()
}

/// Connects an S3 client for `location`: its region, or the environment's,
/// and the standard credential chain and `AWS_ENDPOINT_URL`.
pub async fn client(location: &S3Location) -> aws_sdk_s3::Client {
    let mut loader = aws_config::defaults(BehaviorVersion::latest());
    if let Some(region) = &location.region {
        loader = loader.region(aws_config::Region::new(region.clone()));
    }
    let config = loader.load().await;
    // Local endpoints serve buckets by path, not by virtual host.
    let path_style = config.endpoint_url().is_some();
    aws_sdk_s3::Client::from_conf(aws_sdk_s3::config::Builder::from(&config).force_path_style(path_style).build())
}

/// Checks that the bucket exists and is in the region the client uses: a
/// bucket elsewhere answers every object call with a redirect that says
/// nothing useful. The reason, when it is not.
async fn check_bucket(client: &aws_sdk_s3::Client, location: &S3Location) -> Result<(), StateError> {
    let configured = client.config().region().map(|r| r.to_string()).unwrap_or_default();
    let remote = |reason: String| StateError::Remote { action: "read", location: location.to_string(), reason };
    let wrong = |actual: String| StateError::WrongRegion {
        location: location.to_string(),
        configured: configured.clone(),
        actual,
    };
    match client.head_bucket().bucket(&location.bucket).send().await {
        Ok(out) => match out.bucket_region() {
            Some(actual) if !configured.is_empty() && actual != configured => Err(wrong(actual.to_string())),
            _ => Ok(()),
        },
        Err(e) => {
            let status = e.raw_response().map(|r| r.status().as_u16());
            let region = e.raw_response().and_then(|r| r.headers().get("x-amz-bucket-region")).map(String::from);
            match (status, region) {
                (Some(301), Some(actual)) => Err(wrong(actual)),
                (Some(404), _) => Err(remote(format!(
                    "NoSuchBucket: there is no bucket `{}` (make it with workflows/bootstrap.drone)",
                    location.bucket
                ))),
                _ => Err(remote(describe(&e))),
            }
        }
    }
}

/// The serial and lineage a state object's metadata records, without reading the state: one
/// HEAD, given up after `patience` (the region may be down), none when there is no object.
pub async fn stored_serial(
    location: &S3Location,
    patience: std::time::Duration,
) -> Result<Option<(u64, String)>, String> {
    let timeouts = aws_config::timeout::TimeoutConfig::builder().operation_timeout(patience).build();
    let client = client(location).await;
    let config = client
        .config()
        .to_builder()
        .timeout_config(timeouts)
        .retry_config(aws_config::retry::RetryConfig::standard().with_max_attempts(1));
    let client = aws_sdk_s3::Client::from_conf(config.build());
    match client.head_object().bucket(&location.bucket).key(&location.key).send().await {
        Ok(head) => {
            let meta = head.metadata();
            let serial = meta.and_then(|m| m.get("serial")).and_then(|s| s.parse().ok());
            let lineage = meta.and_then(|m| m.get("lineage")).cloned().unwrap_or_default();
            Ok(serial.map(|s| (s, lineage)))
        }
        Err(e)
            if matches!(code(&e).as_deref(), Some("NoSuchKey" | "NotFound"))
                || e.raw_response().is_some_and(|r| r.status().as_u16() == 404) =>
        {
            Ok(None)
        }
        Err(e) => Err(describe(&e)),
    }
}

/// State kept in an S3 object.
#[derive(Debug)]
pub struct S3Backend {
    location: S3Location,
    client: aws_sdk_s3::Client,
    /// The ETag of the object as this process last read or wrote it; none
    /// when there was no object.
    etag: Mutex<Option<String>>,
    /// Set once the bucket was found in the client's region.
    bucket_checked: tokio::sync::OnceCell<()>,
    /// Raised when the lock this backend writes under is lost: writes stop.
    lost: LockLost,
}

/// One stored version of a state object.
#[derive(Clone, Debug, PartialEq)]
pub struct StateVersion {
    /// S3's version id.
    pub version_id: String,
    /// When it was written (RFC 3339).
    pub written: String,
    /// The state's serial in it, when recorded.
    pub serial: Option<u64>,
    /// Its size in bytes.
    pub size: i64,
    /// Whether it is the current version.
    pub latest: bool,
}

/// The S3 error code of a failed call, if the service answered.
fn code<E: ProvideErrorMetadata>(e: &aws_sdk_s3::error::SdkError<E>) -> Option<String> {
    e.as_service_error().and_then(|s| s.code()).map(String::from)
}

/// Whether a failed call was refused by a precondition (`If-Match`, `If-None-Match`).
fn precondition_failed<E: ProvideErrorMetadata>(e: &aws_sdk_s3::error::SdkError<E>) -> bool {
    let status = e.raw_response().map(|r| r.status().as_u16());
    matches!(code(e).as_deref(), Some("PreconditionFailed" | "ConditionalRequestConflict"))
        || matches!(status, Some(412 | 409))
}

fn describe<E: ProvideErrorMetadata + std::error::Error + 'static>(e: &aws_sdk_s3::error::SdkError<E>) -> String {
    let status = e.raw_response().map(|r| format!(" (HTTP {})", r.status().as_u16())).unwrap_or_default();
    match e.as_service_error() {
        Some(s) if s.code().is_some() => {
            format!("{}: {}{status}", s.code().unwrap_or("error"), s.message().unwrap_or(""))
        }
        _ => format!("{}{status}", aws_smithy_types::error::display::DisplayErrorContext(e)),
    }
}

impl S3Backend {
    /// A backend for the object at `location`.
    pub async fn connect(location: &S3Location) -> S3Backend {
        S3Backend {
            location: location.clone(),
            client: client(location).await,
            etag: Mutex::new(None),
            bucket_checked: tokio::sync::OnceCell::new(),
            lost: LockLost::default(),
        }
    }

    /// The same backend, refusing to write once `lost` is raised.
    pub fn watching(self, lost: LockLost) -> S3Backend {
        S3Backend { lost, ..self }
    }

    fn remote(&self, action: &'static str, reason: String) -> StateError {
        StateError::Remote { action, location: self.location.to_string(), reason }
    }

    /// Checks the bucket (see [`check_bucket`]) the first time this backend uses it.
    async fn bucket_ready(&self) -> Result<(), StateError> {
        self.bucket_checked.get_or_try_init(|| check_bucket(&self.client, &self.location)).await.map(|_| ())
    }

    /// The object's text and ETag, or none when there is no object.
    pub async fn read(&self) -> Result<Option<(String, String)>, StateError> {
        self.bucket_ready().await?;
        let out = match self.client.get_object().bucket(&self.location.bucket).key(&self.location.key).send().await {
            Ok(out) => out,
            Err(e) if matches!(code(&e).as_deref(), Some("NoSuchKey" | "NotFound")) => return Ok(None),
            Err(e) => return Err(self.remote("read", describe(&e))),
        };
        let etag = out.e_tag().unwrap_or_default().to_string();
        let bytes = out.body.collect().await.map_err(|e| self.remote("read", e.to_string()))?.into_bytes();
        let text = String::from_utf8(bytes.to_vec()).map_err(|e| self.remote("read", e.to_string()))?;
        Ok(Some((text, etag)))
    }

    /// Writes `state` as the object, conditional on the last ETag seen,
    /// unless this process lost its lock.
    async fn write(&self, state: &State) -> Result<(), StateError> {
        if self.lost.is_set() {
            return Err(StateError::LockLost { location: self.location.to_string() });
        }
        let mut etag = self.etag.lock().await;
        let text = serde_json::to_string_pretty(state).map_err(|e| self.remote("write", e.to_string()))? + "\n";
        let digest = digest(&text);
        let mut put = self
            .client
            .put_object()
            .bucket(&self.location.bucket)
            .key(&self.location.key)
            .content_type("application/json")
            .server_side_encryption(aws_sdk_s3::types::ServerSideEncryption::Aes256)
            .metadata("serial", state.serial.to_string())
            .metadata("lineage", &state.lineage)
            .metadata("sha256", &digest)
            .body(ByteStream::from(text.into_bytes()));
        put = match etag.as_deref() {
            Some(tag) => put.if_match(tag),
            None => put.if_none_match("*"),
        };
        match put.send().await {
            Ok(out) => {
                *etag = out.e_tag().map(String::from);
                Ok(())
            }
            Err(e) if precondition_failed(&e) => {
                // Our own write may have landed and its reply been lost: the SDK's retry then
                // fails the condition it itself satisfied. The object says whose write it holds.
                match self.landed(&digest).await {
                    Some(tag) => {
                        *etag = Some(tag);
                        Ok(())
                    }
                    None => Err(StateError::Conflict { location: self.location.to_string(), serial: state.serial }),
                }
            }
            Err(e) => Err(self.remote("write", describe(&e))),
        }
    }

    /// The ETag of the object if it holds exactly the text whose digest is
    /// `digest` (a write of ours whose reply was lost), else none.
    async fn landed(&self, digest: &str) -> Option<String> {
        // Asked until answered: a lost reply here must not turn our own write into a conflict.
        let mut head = None;
        for attempt in 0..6u32 {
            match self.client.head_object().bucket(&self.location.bucket).key(&self.location.key).send().await {
                Ok(out) => {
                    head = Some(out);
                    break;
                }
                Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => return None,
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(100 << attempt)).await,
            }
        }
        let head = head?;
        let ours = head.metadata()?.get("sha256").is_some_and(|d| d == digest);
        ours.then(|| head.e_tag().unwrap_or_default().to_string())
    }

    /// The stored versions of the state object, newest first, at most `limit`.
    pub async fn history(&self, limit: usize) -> Result<Vec<StateVersion>, StateError> {
        let mut versions = Vec::new();
        let (mut key_marker, mut version_marker) = (None, None);
        loop {
            let out = self
                .client
                .list_object_versions()
                .bucket(&self.location.bucket)
                .prefix(&self.location.key)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(|e| self.remote("read", describe(&e)))?;
            for v in out.versions().iter().filter(|v| v.key() == Some(self.location.key.as_str())) {
                versions.push(StateVersion {
                    version_id: v.version_id().unwrap_or("null").to_string(),
                    written: v.last_modified().map(|t| t.to_string()).unwrap_or_default(),
                    serial: None,
                    size: v.size().unwrap_or(0),
                    latest: v.is_latest().unwrap_or(false),
                });
            }
            if !out.is_truncated().unwrap_or(false) || versions.len() >= limit {
                break;
            }
            key_marker = out.next_key_marker().map(String::from);
            version_marker = out.next_version_id_marker().map(String::from);
        }
        versions.sort_by(|a, b| b.written.cmp(&a.written).then(b.latest.cmp(&a.latest)));
        versions.truncate(limit);
        for v in &mut versions {
            let head = self
                .client
                .head_object()
                .bucket(&self.location.bucket)
                .key(&self.location.key)
                .version_id(&v.version_id)
                .send()
                .await
                .map_err(|e| self.remote("read", describe(&e)))?;
            v.serial = head.metadata().and_then(|m| m.get("serial")).and_then(|s| s.parse().ok());
        }
        Ok(versions)
    }

    /// Replaces the state object with `tombstone` (a move elsewhere), if it is still the
    /// version this backend read; the bucket's versioning keeps the state itself.
    pub async fn retire(&self, tombstone: String) -> Result<(), StateError> {
        let etag = self.etag.lock().await;
        let mut put = self
            .client
            .put_object()
            .bucket(&self.location.bucket)
            .key(&self.location.key)
            .body(ByteStream::from(tombstone.into_bytes()));
        if let Some(tag) = etag.as_deref() {
            put = put.if_match(tag);
        }
        match put.send().await {
            Ok(_) => Ok(()),
            Err(e) if precondition_failed(&e) => {
                Err(StateError::Conflict { location: self.location.to_string(), serial: 0 })
            }
            Err(e) => Err(self.remote("write", describe(&e))),
        }
    }
}

#[async_trait]
impl Backend for S3Backend {
    fn location(&self) -> String {
        self.location.to_string()
    }

    async fn load(&self, workflow: &str) -> Result<State, StateError> {
        match self.read().await? {
            Some((text, etag)) => {
                // Even a tombstone's version is the one a write then replaces.
                *self.etag.lock().await = Some(etag);
                parse_state(&text, &self.location.to_string(), workflow)
            }
            None => {
                *self.etag.lock().await = None;
                Ok(State::new(workflow))
            }
        }
    }

    async fn exists(&self) -> Result<bool, StateError> {
        self.bucket_ready().await?;
        match self.client.head_object().bucket(&self.location.bucket).key(&self.location.key).send().await {
            Ok(_) => Ok(true),
            Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => Ok(false),
            Err(e) => Err(self.remote("read", describe(&e))),
        }
    }

    async fn record_many(&self, state: &mut State, addresses: &[&str]) -> Result<(), StateError> {
        if addresses.is_empty() {
            return Ok(());
        }
        state.serial += addresses.len() as u64;
        self.write(state).await
    }

    async fn save(&self, state: &mut State) -> Result<(), StateError> {
        state.serial += 1;
        self.write(state).await
    }
}

/// The lock of the state object at `location`: the object `KEY.lock`.
#[derive(Clone, Debug)]
pub struct S3Lock {
    client: aws_sdk_s3::Client,
    location: S3Location,
    /// The lock object's key, `KEY.lock`.
    key: String,
}

/// A held S3 lock, its lease renewed by a heartbeat task until released.
#[derive(Debug)]
pub struct S3LockGuard {
    lock: S3Lock,
    owner: LockOwner,
    /// The holder of an expired lock that this one took over.
    pub replaced: Option<LockOwner>,
    etag: Arc<Mutex<String>>,
    stop: Arc<tokio::sync::Notify>,
    heartbeat: Option<tokio::task::JoinHandle<()>>,
}

impl S3Lock {
    /// The lock of the state at `location`.
    pub async fn connect(location: &S3Location) -> S3Lock {
        S3Lock { client: client(location).await, location: location.clone(), key: format!("{}.lock", location.key) }
    }

    fn remote(&self, reason: String) -> LockError {
        LockError::Remote { location: format!("s3://{}/{}", self.location.bucket, self.key), reason }
    }

    /// The current holder and the lock object's ETag, if the lock is held.
    pub async fn holder(&self) -> Result<Option<(LockOwner, String)>, LockError> {
        let out = match self.client.get_object().bucket(&self.location.bucket).key(&self.key).send().await {
            Ok(out) => out,
            Err(e) if matches!(code(&e).as_deref(), Some("NoSuchKey" | "NotFound")) => return Ok(None),
            Err(e) => return Err(self.remote(describe(&e))),
        };
        let etag = out.e_tag().unwrap_or_default().to_string();
        let bytes = out.body.collect().await.map_err(|e| self.remote(e.to_string()))?.into_bytes();
        let owner = serde_json::from_slice(&bytes).unwrap_or_else(|_| LockOwner::unknown());
        Ok(Some((owner, etag)))
    }

    /// Writes `owner` as the lock: created only if absent (`None`), or
    /// replacing exactly the version `etag`. `Ok(None)` when the condition failed.
    async fn put(&self, owner: &LockOwner, etag: Option<&str>) -> Result<Option<String>, LockError> {
        let body = serde_json::to_vec_pretty(owner).map_err(|e| self.remote(e.to_string()))?;
        let mut put =
            self.client.put_object().bucket(&self.location.bucket).key(&self.key).body(ByteStream::from(body));
        put = match etag {
            Some(tag) => put.if_match(tag),
            None => put.if_none_match("*"),
        };
        match put.send().await {
            Ok(out) => Ok(Some(out.e_tag().unwrap_or_default().to_string())),
            // The condition failed: unless the lock now holds exactly this record (our write
            // landed and its reply was lost, so the SDK's retry failed it), someone else's does.
            Err(e) if precondition_failed(&e) => match self.holder().await? {
                Some((holder, tag)) if holder == *owner => Ok(Some(tag)),
                _ => Ok(None),
            },
            Err(e) => Err(self.remote(describe(&e))),
        }
    }

    /// Takes the lock, or fails at once naming the holder; a lock whose
    /// lease expired (or whose holder on this host is gone) is taken over.
    pub async fn acquire(&self, owner: &LockOwner, unlock: &str, cx: &LockContext) -> Result<S3LockGuard, LockError> {
        check_bucket(&self.client, &self.location).await.map_err(|e| self.remote(e.to_string()))?;
        let mut replaced = None;
        let etag = match self.put(owner, None).await? {
            Some(etag) => etag,
            None => {
                let Some((holder, their_etag)) = self.holder().await? else {
                    // Released between our two calls: try once more from the start.
                    return match self.put(owner, None).await? {
                        Some(etag) => Ok(self.guard(owner, etag, None, cx)),
                        None => Err(self.held(unlock).await),
                    };
                };
                if !holder.is_gone(cx) {
                    return Err(LockError::Held { owner: Box::new(holder), unlock: unlock.to_string() });
                }
                // Conditional on the version we judged: another taker's write makes ours fail.
                match self.put(owner, Some(&their_etag)).await? {
                    Some(etag) => {
                        replaced = Some(holder);
                        etag
                    }
                    None => return Err(self.held(unlock).await),
                }
            }
        };
        Ok(self.guard(owner, etag, replaced, cx))
    }

    /// "Held", naming whoever holds the lock now.
    async fn held(&self, unlock: &str) -> LockError {
        let owner = match self.holder().await {
            Ok(Some((owner, _))) => owner,
            _ => LockOwner::unknown(),
        };
        LockError::Held { owner: Box::new(owner), unlock: unlock.to_string() }
    }

    fn guard(&self, owner: &LockOwner, etag: String, replaced: Option<LockOwner>, cx: &LockContext) -> S3LockGuard {
        let etag = Arc::new(Mutex::new(etag));
        let stop = Arc::new(tokio::sync::Notify::new());
        let (lock, beat_owner, beat_etag, beat_stop) = (self.clone(), owner.clone(), etag.clone(), stop.clone());
        let cx = cx.clone();
        let heartbeat = tokio::spawn(async move {
            let mut lease = beat_owner.clone();
            loop {
                // A renewal in flight is finished, never cut off: its new ETag is what release deletes.
                tokio::select! {
                    _ = tokio::time::sleep(cx.lease() / 3) => {}
                    _ = beat_stop.notified() => return,
                }
                let mut tag = beat_etag.lock().await;
                let renewed = beat_owner.renewed(&cx);
                match lock.put(&renewed, Some(&tag)).await {
                    Ok(Some(new)) => {
                        *tag = new;
                        lease = renewed;
                    }
                    // Taken from us (by hand, or over an expired lease): stop writing.
                    Ok(None) => {
                        cx.lost.set();
                        return;
                    }
                    // A failed renewal is tried again at the next beat; once the lease it
                    // last wrote has run out, another run may take the lock: stop writing.
                    Err(_) if lease.lease_expired(&cx) => {
                        cx.lost.set();
                        return;
                    }
                    Err(_) => {}
                }
            }
        });
        S3LockGuard { lock: self.clone(), owner: owner.clone(), replaced, etag, stop, heartbeat: Some(heartbeat) }
    }

    /// Removes the lock by hand; returns the former holder. Refused while
    /// the holder may still be running (its lease holds) unless `force`.
    /// Leaves a record of who unlocked (`KEY.lock.unlocked`).
    pub async fn unlock(&self, force: bool, unlock: &str, cx: &LockContext) -> Result<Option<LockOwner>, LockError> {
        let Some((holder, etag)) = self.holder().await? else { return Ok(None) };
        if !force && !holder.is_gone(cx) {
            let alive = holder.liveness(cx) == drone_engine::lock::Liveness::Alive;
            return Err(LockError::HolderRunning { owner: Box::new(holder), alive, unlock: unlock.to_string() });
        }
        let record = serde_json::json!({ "unlocked_by": cx.owner("unlock"), "removed": holder, "forced": force });
        self.client
            .put_object()
            .bucket(&self.location.bucket)
            .key(format!("{}.unlocked", self.key))
            .body(ByteStream::from(serde_json::to_vec_pretty(&record).unwrap_or_default()))
            .send()
            .await
            .map_err(|e| self.remote(describe(&e)))?;
        match self.client.delete_object().bucket(&self.location.bucket).key(&self.key).if_match(&etag).send().await {
            Ok(_) => Ok(Some(holder)),
            Err(e) if precondition_failed(&e) => Err(self.held(unlock).await),
            Err(e) => Err(self.remote(describe(&e))),
        }
    }
}

impl S3LockGuard {
    /// Stops the heartbeat (after any renewal in flight) and removes the
    /// lock if it is still ours.
    async fn release(&mut self) {
        self.stop.notify_one();
        if let Some(heartbeat) = self.heartbeat.take() {
            let _ = heartbeat.await;
        }
        let tag = self.etag.lock().await.clone();
        let lock = &self.lock;
        match lock.client.delete_object().bucket(&lock.location.bucket).key(&lock.key).if_match(tag).send().await {
            Err(e) if precondition_failed(&e) => {
                // Changed since our last write; delete it only if it still names us.
                if let Ok(Some((holder, etag))) = lock.holder().await {
                    if holder.same_holder(&self.owner) {
                        let _ = lock
                            .client
                            .delete_object()
                            .bucket(&lock.location.bucket)
                            .key(&lock.key)
                            .if_match(etag)
                            .send()
                            .await;
                    }
                }
            }
            _ => {}
        }
    }
}

impl Drop for S3LockGuard {
    /// Releases the lock as the local guard does, on drop. Where no
    /// multi-threaded runtime can wait for it (a panic unwinding elsewhere),
    /// the heartbeat stops and the lease simply runs out.
    fn drop(&mut self) {
        match tokio::runtime::Handle::try_current() {
            Ok(handle) if handle.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread => {
                tokio::task::block_in_place(|| handle.block_on(self.release()))
            }
            _ => {
                if let Some(heartbeat) = self.heartbeat.take() {
                    heartbeat.abort();
                }
            }
        }
    }
}
