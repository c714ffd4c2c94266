//! Settling operations whose outcome is not simply "done" or "refused": a
//! create whose reply was lost or that met an existing name is looked up
//! before it is repeated (found and ours: adopted); a resource that a create
//! made part-way, or that an update may or may not have changed, is read back
//! and only what still differs from the configuration is changed. So a
//! retried create never makes a second resource, and a failed step is
//! retried without repeating the steps before it.

use std::collections::BTreeMap;

use drone_lang::ResourceSchema;

use crate::provider::{
    CreateRequest, ErrorKind, FindRequest, Found, Observed, Owner, Provider, ProviderError, UpdateRequest,
};
use crate::refresh::same_or_both_unset;
use crate::retry::{backoff, with_retries, with_retries_unless_indeterminate, Retry};
use crate::value::Attributes;

/// Everything a create needs, owned by the operation's future.
pub(crate) struct Create<'a> {
    pub(crate) provider: &'a dyn Provider,
    pub(crate) schema: Option<&'a ResourceSchema>,
    pub(crate) type_name: &'a str,
    pub(crate) address: &'a str,
    pub(crate) config: &'a Attributes,
    pub(crate) tags: &'a BTreeMap<String, String>,
    pub(crate) token: &'a str,
    pub(crate) retry: Retry,
    pub(crate) throttled: &'a (dyn Fn() + Send + Sync),
    /// The id of the resource a create-before-destroy replacement replaces: found under the
    /// new one's name, it is the old one, never adopted as the new.
    pub(crate) replacing: Option<&'a str>,
}

/// How many read-then-update rounds converging may take before it gives up.
const CONVERGE_ROUNDS: u32 = 4;

/// Creates the resource, never twice: a create that may have happened (an
/// indeterminate answer) or whose name is taken is looked up first. True
/// beside the resource when it was not this call's making but found already
/// there, this state's (adopted).
pub(crate) async fn create(c: &Create<'_>) -> Result<(Observed, bool), ProviderError> {
    let request =
        CreateRequest { type_name: c.type_name, address: c.address, config: c.config, tags: c.tags, token: c.token };
    let mut delay = c.retry.backoff;
    let mut attempt = 1;
    // Whether an earlier attempt may have made it (then what is found is this call's own).
    let mut maybe_made = false;
    loop {
        let err = match c.provider.create(request).await {
            Ok(observed) => return Ok((observed, false)),
            Err(e) => e,
        };
        if let Some(id) = err.created.clone() {
            // The resource exists; a step after its creation failed. Finish it,
            // unless the step was refused outright (then it is recorded tainted).
            if !transient(&err) {
                return Err(err);
            }
            return converge(c, &id, false).await.map(|o| (o, false)).map_err(|e| e.after_create(&id));
        }
        if matches!(err.kind, ErrorKind::Indeterminate | ErrorKind::AlreadyExists) {
            let mut found = lookup(c).await.map_err(|e| uncertain(&err, &e))?;
            if found.is_none() && err.kind == ErrorKind::Indeterminate {
                // A request the client gave up on may still be at work on the server, and a
                // listing may leave out what was made moments ago: look once more, after a
                // pause at least as long as the listing's lag, before creating again.
                let lag = c.provider.listing_lag(c.type_name);
                let started = std::time::Instant::now();
                backoff(&mut delay).await;
                if let Some(rest) = lag.checked_sub(started.elapsed()) {
                    tokio::time::sleep(rest).await;
                }
                found = lookup(c).await.map_err(|e| uncertain(&err, &e))?;
            }
            let adopted = err.kind == ErrorKind::AlreadyExists && !maybe_made;
            maybe_made |= err.kind == ErrorKind::Indeterminate;
            match (found, err.kind) {
                (Some(Found { id, .. }), _) if c.replacing == Some(id.as_str()) => {
                    let message = format!(
                        "`{}` cannot be created before its predecessor is deleted: {id}, the resource it replaces, holds the name; give the replacement a name of its own, or drop `create_before_destroy`",
                        c.address
                    );
                    return Err(ProviderError { kind: ErrorKind::AlreadyExists, message, ..err.clone() });
                }
                (Some(Found { id, owner: Owner::This }), _) => {
                    return converge(c, &id, false).await.map(|o| (o, adopted)).map_err(|e| e.after_create(&id));
                }
                // Our own create answered with nothing, then found by name before it was tagged.
                (Some(Found { id, owner: Owner::Untagged }), ErrorKind::Indeterminate) => {
                    return converge(c, &id, true).await.map(|o| (o, false)).map_err(|e| e.after_create(&id));
                }
                (Some(Found { id, owner: Owner::Untagged }), _) => return Err(not_ours(c, &err, &id, None)),
                (Some(Found { id, owner: Owner::Other(who) }), _) => return Err(not_ours(c, &err, &id, Some(&who))),
                (None, ErrorKind::AlreadyExists) => return Err(err),
                (None, _) => {} // It never happened: creating again is safe.
            }
        } else if !err.retryable() {
            return Err(err);
        } else if err.kind == ErrorKind::Throttled {
            (c.throttled)();
        }
        if attempt >= c.retry.attempts {
            return Err(err);
        }
        backoff(&mut delay).await;
        attempt += 1;
    }
}

/// Changes the resource in place; an indeterminate answer is followed by a
/// read and an update of only what still differs.
pub(crate) async fn update(c: &Create<'_>, r: UpdateRequest<'_>) -> Result<Observed, ProviderError> {
    match with_retries_unless_indeterminate(&c.retry, c.throttled, || c.provider.update(r)).await {
        Err(e) if e.indeterminate() => converge(c, r.id, false).await,
        other => other,
    }
}

/// Whether a failure after a create is worth finishing rather than replacing.
fn transient(e: &ProviderError) -> bool {
    matches!(e.kind, ErrorKind::Throttled | ErrorKind::NotReady | ErrorKind::Indeterminate | ErrorKind::Unreachable)
}

/// Looks the resource up by token, tags or name, retrying what may pass.
async fn lookup(c: &Create<'_>) -> Result<Option<Found>, ProviderError> {
    let request =
        FindRequest { type_name: c.type_name, address: c.address, config: c.config, tags: c.tags, token: c.token };
    with_retries(&c.retry, c.throttled, || c.provider.find(request)).await
}

/// Reads the resource `id` back and updates whatever differs from the
/// configuration (its tags too when `untagged`), until nothing does.
async fn converge(c: &Create<'_>, id: &str, untagged: bool) -> Result<Observed, ProviderError> {
    let mut computed = Attributes::new();
    for _ in 0..CONVERGE_ROUNDS {
        let read = with_retries(&c.retry, c.throttled, || c.provider.read(c.type_name, id, c.config)).await?;
        let Some(actual) = read else {
            let why = format!("`{}` ({id}) was created but is gone when read back", c.address);
            return Err(ProviderError::new(ErrorKind::NotReady, "converge", why));
        };
        let (differs, now, from_read) = compare(c, actual.attributes);
        computed.extend(from_read);
        let mut changed = differs;
        if untagged && c.schema.is_some_and(|s| s.taggable) && !changed.iter().any(|n| n == "tags") {
            changed.push("tags".to_string());
        }
        if changed.is_empty() {
            return Ok(Observed { id: id.to_string(), attributes: computed });
        }
        if let Some(name) = changed.iter().find(|n| c.schema.and_then(|s| s.attribute(n)).is_some_and(|a| a.force_new))
        {
            let why = format!("`{name}` of `{}` ({id}) differs and cannot change in place", c.address);
            return Err(ProviderError::new(ErrorKind::Rejected, "converge", why));
        }
        let request = UpdateRequest {
            type_name: c.type_name,
            address: c.address,
            id,
            prior: &now,
            config: c.config,
            changed: &changed,
            tags: c.tags,
        };
        match with_retries_unless_indeterminate(&c.retry, c.throttled, || c.provider.update(request)).await {
            Ok(updated) => {
                computed.extend(updated.attributes);
                return Ok(Observed { id: id.to_string(), attributes: computed });
            }
            // It may have changed: read again and see.
            Err(e) if e.indeterminate() => continue,
            Err(e) => return Err(e),
        }
    }
    let why = format!("`{}` ({id}) did not settle after {CONVERGE_ROUNDS} rounds of read and update", c.address);
    Err(ProviderError::new(ErrorKind::Indeterminate, "converge", why))
}

/// What was read against the configuration: the settable attributes that
/// differ, the attributes as the account has them (the update's prior), and
/// the computed ones to record.
fn compare(c: &Create<'_>, read: Attributes) -> (Vec<String>, Attributes, Attributes) {
    let mut now = c.config.clone();
    let mut computed = Attributes::new();
    let mut differs = Vec::new();
    for (name, actual) in read {
        let attribute = c.schema.and_then(|s| s.attribute(&name));
        match attribute {
            Some(a) if a.settable() && a.read_back => {
                let wanted = c.config.get(&name).cloned().unwrap_or(crate::value::Value::Null);
                // Only what the workflow sets (and guarded values it leaves unset) is the workflow's.
                if (c.config.contains_key(&name) || a.guarded) && !same_or_both_unset(&wanted, &actual) {
                    differs.push(name.clone());
                }
                now.insert(name, actual);
            }
            Some(a) if a.settable() => {}
            _ => {
                computed.insert(name, actual);
            }
        }
    }
    (differs, now, computed)
}

/// The create's error, said with why its outcome could not be learnt.
fn uncertain(create: &ProviderError, lookup: &ProviderError) -> ProviderError {
    let message = format!("{}; looking it up failed too ({lookup}), so the next run looks again", create.message);
    ProviderError { kind: ErrorKind::Indeterminate, message, ..create.clone() }
}

/// The name is taken by a resource that is not this address's.
fn not_ours(c: &Create<'_>, err: &ProviderError, id: &str, owner: Option<&str>) -> ProviderError {
    let message = match owner {
        Some(who) => format!("`{}` cannot be created: {id} already exists and belongs to {who}", c.address),
        None => format!(
            "`{}` cannot be created: {id} already exists and drone did not make it; adopt it with \
             `drone import {} {id}`, or choose another name",
            c.address, c.address
        ),
    };
    ProviderError { kind: ErrorKind::AlreadyExists, message, code: err.code.clone(), ..err.clone() }
}
