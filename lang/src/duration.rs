//! Durations as workflows write them (a script's `timeout`).

use std::time::Duration;

/// `90s`, `5m`, `1h30m`, `250ms`: digits and a unit, repeated; none when
/// empty or malformed.
pub fn parse(text: &str) -> Option<Duration> {
    let mut rest = text.trim();
    if rest.is_empty() {
        return None;
    }
    let mut total = Duration::ZERO;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        let unit = rest[digits..].bytes().take_while(u8::is_ascii_alphabetic).count();
        let n: u64 = rest[..digits].parse().ok()?;
        total += match &rest[digits..digits + unit] {
            "ms" => Duration::from_millis(n),
            "s" => Duration::from_secs(n),
            "m" => Duration::from_secs(n * 60),
            "h" => Duration::from_secs(n * 3600),
            _ => return None,
        };
        rest = rest[digits + unit..].trim_start();
    }
    Some(total)
}
