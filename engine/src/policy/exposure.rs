//! What a security group rule really admits: the protocols and ports EC2
//! opens for it (protocol `all`, or any protocol but TCP, UDP and ICMP, opens
//! every port whatever the rule's ports say), and whether its source range is
//! the internet (any range wider than a /8, however it is written: two /1s
//! are the whole internet as surely as `0.0.0.0/0`).

use std::net::{Ipv4Addr, Ipv6Addr};

use crate::value::Value;

/// The traffic a rule admits.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Admission {
    /// `tcp`, `udp`, `icmp`, `icmpv6`, `all`, or another IP protocol's number.
    pub protocol: String,
    /// The first port (ICMP: type) admitted.
    pub from: i64,
    /// The last port admitted.
    pub to: i64,
}

/// A rule whose admission depends on values known only after apply.
#[derive(Debug, PartialEq, Eq)]
pub struct Undecided;

impl Admission {
    /// The admission of one ingress or egress rule as the provider sends it.
    pub fn of(rule: &Value) -> Result<Admission, Undecided> {
        let Some(r) = rule.as_map() else { return Err(Undecided) };
        let protocol = match r.get("protocol") {
            None | Some(Value::Null) => "tcp".to_string(),
            Some(Value::String(p)) => match p.to_ascii_lowercase().as_str() {
                "-1" | "all" => "all".to_string(),
                "6" => "tcp".to_string(),
                "17" => "udp".to_string(),
                "1" => "icmp".to_string(),
                "58" => "icmpv6".to_string(),
                other => other.to_string(),
            },
            Some(_) => return Err(Undecided),
        };
        let number = |key: &str| match r.get(key) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(Some(*n as i64)),
            Some(_) => Err(Undecided),
        };
        // EC2 ignores the ports of every protocol but these four.
        if !["tcp", "udp", "icmp", "icmpv6"].contains(&protocol.as_str()) {
            return Ok(Admission { protocol, from: 0, to: 65535 });
        }
        let (from, to) = match (number("port")?, number("from_port")?, number("to_port")?) {
            (Some(p), _, _) => (p, p),
            (None, Some(f), Some(t)) => (f, t),
            (None, Some(f), None) => (f, f),
            // -1 (ICMP) or nothing: every port or type.
            _ => (-1, -1),
        };
        let (from, to) = if from < 0 || to < 0 { (0, 65535) } else { (from, to) };
        Ok(Admission { protocol, from, to })
    }

    /// Whether a TCP connection to `port` is admitted.
    pub fn admits_tcp(&self, port: i64) -> bool {
        matches!(self.protocol.as_str(), "tcp" | "all") && self.from <= port && port <= self.to
    }

    /// The traffic in words: "every protocol and port", "tcp port 443", "udp ports 0-65535".
    pub fn describe(&self) -> String {
        match self.protocol.as_str() {
            "all" => "every protocol and port".to_string(),
            p if !["tcp", "udp", "icmp", "icmpv6"].contains(&p) => format!("protocol {p} on every port"),
            p if self.from == self.to => format!("{p} port {}", self.from),
            p => format!("{p} ports {}-{}", self.from, self.to),
        }
    }
}

/// Whether a CIDR block is the internet: wider than a /8 (IPv4) or a /16
/// (IPv6), and not wholly private, loopback or link-local. Host bits are
/// ignored, as EC2 ignores them. Text that is not a CIDR block is not.
pub fn is_internet_range(cidr: &str) -> bool {
    let Some((address, length)) = cidr.trim().split_once('/') else { return false };
    let Ok(length) = length.parse::<u8>() else { return false };
    if let Ok(v4) = address.parse::<Ipv4Addr>() {
        let first = v4.octets()[0];
        return length < 8 || length == 8 && ![0, 10, 127].contains(&first);
    }
    if let Ok(v6) = address.parse::<Ipv6Addr>() {
        let first = v6.segments()[0];
        let unique_local = length >= 7 && first & 0xfe00 == 0xfc00;
        let link_local = length >= 10 && first & 0xffc0 == 0xfe80;
        return length <= 16 && !unique_local && !link_local;
    }
    false
}

/// The internet range a rule admits from (`cidr` or `ipv6_cidr`), if any.
pub fn internet_source(rule: &Value) -> Result<Option<String>, Undecided> {
    let Some(r) = rule.as_map() else { return Err(Undecided) };
    for key in ["cidr", "ipv6_cidr"] {
        match r.get(key) {
            Some(Value::String(s)) if is_internet_range(s) => return Ok(Some(s.clone())),
            Some(Value::String(_) | Value::Null) | None => {}
            Some(_) => return Err(Undecided),
        }
    }
    Ok(None)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(json: serde_json::Value) -> Value {
        Value::from_json(&json)
    }

    #[test]
    fn internet_ranges_however_written() {
        for cidr in ["0.0.0.0/0", "0.0.0.0/1", "128.0.0.0/1", "1.2.3.4/0", "3.0.0.0/8", "::/0", "2000::/3", "0::0/0"] {
            assert!(is_internet_range(cidr), "{cidr}");
        }
        for cidr in
            ["10.0.0.0/8", "10.0.0.0/16", "203.0.113.0/24", "fc00::/7", "fd12::/16", "fe80::/10", "x/0", "0.0.0.0"]
        {
            assert!(!is_internet_range(cidr), "{cidr}");
        }
    }

    #[test]
    fn protocols_that_ignore_ports() {
        let all = Admission::of(&rule(serde_json::json!({"protocol": "all", "port": 443}))).expect("known");
        assert_eq!((all.from, all.to), (0, 65535));
        assert!(all.admits_tcp(5432));
        let minus_one = Admission::of(&rule(serde_json::json!({"protocol": "-1", "port": 443}))).expect("known");
        assert_eq!(minus_one.describe(), "every protocol and port");
        let esp = Admission::of(&rule(serde_json::json!({"protocol": "50", "port": 443}))).expect("known");
        assert_eq!(esp.describe(), "protocol 50 on every port");
        assert!(!esp.admits_tcp(443), "ESP carries no TCP");
        let tcp = Admission::of(&rule(serde_json::json!({"protocol": "6", "from_port": 443, "to_port": 443})))
            .expect("known");
        assert_eq!(tcp.describe(), "tcp port 443");
        let udp = Admission::of(&rule(serde_json::json!({"protocol": "udp", "port": 443}))).expect("known");
        assert!(!udp.admits_tcp(443));
        assert_eq!(Admission::of(&rule(serde_json::json!({"port": "x"}))), Err(Undecided));
    }
}
