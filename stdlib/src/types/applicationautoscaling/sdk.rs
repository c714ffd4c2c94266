//! What the Application Auto Scaling types share through the SDK: their ids.
//! Neither a scalable target nor a policy can be looked up by its ARN, only
//! by namespace, resource and dimension (and a policy's name), so drone's id
//! for them is those parts joined with `|`, which no part contains.

use drone_engine::provider::{ErrorKind, ProviderError};

/// The id of the target or policy with these parts.
pub(super) fn id_of(parts: &[&str]) -> String {
    parts.join("|")
}

/// The parts of an id made by [`id_of`]: `count` of them, or an error naming `operation`.
pub(super) fn parts_of<'a>(id: &'a str, count: usize, operation: &str) -> Result<Vec<&'a str>, ProviderError> {
    let parts: Vec<&str> = id.split('|').collect();
    if parts.len() == count && parts.iter().all(|p| !p.is_empty()) {
        Ok(parts)
    } else {
        let why = format!("`{id}` is not a {count}-part Application Auto Scaling id (NAMESPACE|RESOURCE|DIMENSION...)");
        Err(ProviderError::new(ErrorKind::Rejected, operation, why))
    }
}
