//! WAFv2 web ACLs: AWS managed rule groups plus an optional per-IP rate limit.

pub mod web_acl;
