//! Certificate Manager: TLS certificates AWS issues and renews.

pub mod certificate;
