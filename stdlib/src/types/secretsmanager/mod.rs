//! Secrets Manager: secrets whose value AWS generates and keeps, which other
//! types' calls read when they need the value (drone never records it).

pub mod secret;

#[cfg(feature = "secretsmanager")]
pub(crate) mod sdk;

/// The object type of a header whose value is a secret's.
pub fn secret_header_type() -> drone_lang::schema::Type {
    use drone_lang::schema::Type;
    Type::Object(vec![
        crate::schema::field("name", Type::String, true, "the header's name, e.g. \"X-Origin-Verify\""),
        crate::schema::field("secret_arn", Type::String, true, "the `aws.secretsmanager.secret` holding its value"),
    ])
}

/// The object type of a password kept in a secret: `{ secret_arn, key }`.
pub fn secret_key_type() -> drone_lang::schema::Type {
    use drone_lang::schema::Type;
    Type::Object(vec![
        crate::schema::field("secret_arn", Type::String, true, "the `aws.secretsmanager.secret` holding it"),
        crate::schema::field(
            "key",
            Type::String,
            false,
            "the key of the secret's JSON that holds it (default `password`)",
        ),
    ])
}

/// The secrets of the account in any region: what a type that reads a secret header may read.
pub fn any_secret(s: &crate::types::Scope<'_>) -> crate::types::ArnPattern {
    crate::types::ArnPattern::new(
        "secretsmanager",
        "Secret",
        format!("arn:aws:secretsmanager:*:{}:secret:*", s.account),
    )
}
