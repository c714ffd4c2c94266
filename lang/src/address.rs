//! Resource addresses as users write them in `moved` blocks and `drone state
//! mv`: `aws.ec2.vpc.main`, or one instance of a loop,
//! `aws.ec2.subnet.private["eu-west-1a"]` (the key JSON-quoted).

/// A parsed resource address.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Address {
    /// The block it names, `type.name` (e.g. `aws.ec2.vpc.main`).
    pub decl: String,
    /// The loop key, for one instance of a looped block.
    pub key: Option<String>,
}

impl Address {
    /// Parses `text`; `None` unless it is a type path of at least three
    /// segments and a name, optionally followed by one `["key"]`.
    pub fn parse(text: &str) -> Option<Address> {
        let (decl, key) = match text.find('[') {
            Some(at) => {
                let quoted = text[at..].strip_prefix("[\"")?.strip_suffix("\"]")?;
                (&text[..at], Some(unquote(quoted)?))
            }
            None => (text, None),
        };
        let segments: Vec<&str> = decl.split('.').collect();
        let valid = |s: &&str| {
            !s.is_empty()
                && s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && s.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
        };
        (segments.len() >= 4 && segments.iter().all(valid)).then(|| Address { decl: decl.to_string(), key })
    }
}

/// The text of a quoted key: `\"` and `\\` unescaped; a bare quote is not a key.
fn unquote(quoted: &str) -> Option<String> {
    let mut out = String::new();
    let mut chars = quoted.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => out.push(chars.next().filter(|n| *n == '"' || *n == '\\')?),
            '"' => return None,
            c => out.push(c),
        }
    }
    Some(out)
}

impl std::fmt::Display for Address {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.key {
            Some(k) => write!(f, "{}[\"{}\"]", self.decl, k.replace('\\', "\\\\").replace('"', "\\\"")),
            None => write!(f, "{}", self.decl),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses() {
        let a = Address::parse("aws.ec2.vpc.main").expect("plain");
        assert_eq!((a.decl.as_str(), a.key), ("aws.ec2.vpc.main", None));
        let a = Address::parse(r#"aws.ec2.subnet.private["eu-west-1a"]"#).expect("keyed");
        assert_eq!(a.key.as_deref(), Some("eu-west-1a"));
        assert_eq!(a.to_string(), r#"aws.ec2.subnet.private["eu-west-1a"]"#);
        for bad in [
            "aws.ec2.vpc",
            "aws.ec2.vpc.",
            "aws..vpc.main",
            "aws.ec2.vpc.main[a]",
            "aws.ec2.vpc.main[\"a\"",
            "1aws.ec2.vpc.x",
        ] {
            assert!(Address::parse(bad).is_none(), "{bad}");
        }
    }
}
