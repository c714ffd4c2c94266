//! Route 53: public hosted zones and their records (aliases to CloudFront,
//! certificate validation).

pub mod record;
pub mod zone;

#[cfg(feature = "route53")]
pub(crate) mod sdk;
