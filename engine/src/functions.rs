//! Built-in functions: their signatures (for the checker) and their
//! implementations (for the evaluator). Unknown arguments give unknown results.

use std::collections::BTreeMap;
use std::net::IpAddr;

use drone_lang::{FunctionSig, Type};

use crate::error::FnError;
use crate::host::Host;
use crate::value::{Secret, Value};

struct Builtin {
    name: &'static str,
    params: &'static [&'static str],
    min: usize,
    max: Option<usize>,
    returns: fn() -> Type,
    doc: &'static str,
}

const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "cidrsubnet",
        params: &["prefix", "newbits", "netnum"],
        min: 3,
        max: Some(3),
        returns: || Type::String,
        doc: "the netnum-th subnet of prefix, newbits longer",
    },
    Builtin {
        name: "format",
        params: &["spec", "values..."],
        min: 1,
        max: None,
        returns: || Type::String,
        doc: "printf-style formatting with %s, %d, %v and %%",
    },
    Builtin {
        name: "join",
        params: &["separator", "list"],
        min: 2,
        max: Some(2),
        returns: || Type::String,
        doc: "the list's elements joined by separator",
    },
    Builtin {
        name: "split",
        params: &["separator", "string"],
        min: 2,
        max: Some(2),
        returns: || Type::list(Type::String),
        doc: "the string split at each separator",
    },
    Builtin {
        name: "length",
        params: &["value"],
        min: 1,
        max: Some(1),
        returns: || Type::Number,
        doc: "the number of elements of a list or map, or characters of a string",
    },
    Builtin {
        name: "lookup",
        params: &["map", "key", "default"],
        min: 2,
        max: Some(3),
        returns: || Type::Any,
        doc: "map[key], or default when the key is absent",
    },
    Builtin {
        name: "env",
        params: &["name", "default"],
        min: 1,
        max: Some(2),
        returns: || Type::String,
        doc: "an environment variable, or default when unset",
    },
    Builtin {
        name: "file",
        params: &["path"],
        min: 1,
        max: Some(1),
        returns: || Type::String,
        doc: "a file's text, relative to the workflow file",
    },
    Builtin {
        name: "secret",
        params: &["reference"],
        min: 1,
        max: Some(1),
        returns: || Type::String,
        doc: "a secret (`env:NAME`), never shown in plans, logs or state",
    },
    Builtin {
        name: "jsonencode",
        params: &["value"],
        min: 1,
        max: Some(1),
        returns: || Type::String,
        doc: "the value as JSON text",
    },
    Builtin {
        name: "keys",
        params: &["map"],
        min: 1,
        max: Some(1),
        returns: || Type::list(Type::String),
        doc: "the map's keys, sorted",
    },
    Builtin {
        name: "values",
        params: &["map"],
        min: 1,
        max: Some(1),
        returns: || Type::list(Type::Any),
        doc: "the map's values, in key order",
    },
    Builtin {
        name: "concat",
        params: &["lists..."],
        min: 1,
        max: None,
        returns: || Type::list(Type::Any),
        doc: "the lists joined into one",
    },
    Builtin {
        name: "merge",
        params: &["maps..."],
        min: 1,
        max: None,
        returns: || Type::map(Type::Any),
        doc: "the maps merged, later keys winning",
    },
    Builtin {
        name: "contains",
        params: &["list", "value"],
        min: 2,
        max: Some(2),
        returns: || Type::Bool,
        doc: "whether the list holds the value",
    },
    Builtin {
        name: "upper",
        params: &["string"],
        min: 1,
        max: Some(1),
        returns: || Type::String,
        doc: "the string in upper case",
    },
    Builtin {
        name: "lower",
        params: &["string"],
        min: 1,
        max: Some(1),
        returns: || Type::String,
        doc: "the string in lower case",
    },
    Builtin {
        name: "tostring",
        params: &["value"],
        min: 1,
        max: Some(1),
        returns: || Type::String,
        doc: "a number or bool as a string",
    },
    Builtin {
        name: "range",
        params: &["start", "end"],
        min: 1,
        max: Some(2),
        returns: || Type::list(Type::Number),
        doc: "the numbers from start (default 0) up to end, exclusive",
    },
];

/// Signatures of every built-in function, for the checker's catalog.
pub fn signatures() -> Vec<FunctionSig> {
    BUILTINS
        .iter()
        .map(|b| FunctionSig {
            name: b.name.into(),
            params: b.params.iter().map(|p| p.to_string()).collect(),
            min_args: b.min,
            max_args: b.max,
            returns: (b.returns)(),
            doc: b.doc.into(),
            policy_only: false,
        })
        .collect()
}

/// What a call may reach: the host, and the salt for secret fingerprints.
pub struct CallContext<'a> {
    /// Environment, files and secrets.
    pub host: &'a dyn Host,
    /// Salt for secret fingerprints (the state's lineage).
    pub salt: &'a str,
    /// Whether secrets are resolved (false when only checking).
    pub resolve_secrets: bool,
}

/// Most elements a list or map may hold.
pub const MAX_COLLECTION: usize = 100_000;

/// Longest string a value may be, in bytes.
pub const MAX_STRING: usize = 1024 * 1024;

/// Calls the built-in `name`. The checker has already checked the arity.
/// A result larger than [`MAX_COLLECTION`] elements or [`MAX_STRING`]
/// bytes is an error: evaluation stays bounded whatever the input.
pub fn call(name: &str, args: &[Value], cx: &CallContext<'_>) -> Result<Value, FnError> {
    let value = call_unbounded(name, args, cx)?;
    match &value {
        Value::List(l) if l.len() > MAX_COLLECTION => {
            Err(FnError(format!("the result has {} elements; a list may hold at most {MAX_COLLECTION}", l.len())))
        }
        Value::Map(m) if m.len() > MAX_COLLECTION => {
            Err(FnError(format!("the result has {} keys; a map may hold at most {MAX_COLLECTION}", m.len())))
        }
        Value::String(t) if t.len() > MAX_STRING => {
            Err(FnError(format!("the result is {} bytes; a string may be at most {MAX_STRING}", t.len())))
        }
        _ => Ok(value),
    }
}

fn call_unbounded(name: &str, args: &[Value], cx: &CallContext<'_>) -> Result<Value, FnError> {
    if name != "secret" && args.iter().any(|a| !a.is_known()) && !moves_elements_only(name, args) {
        return Ok(Value::Unknown);
    }
    let arg = |i: usize| args.get(i).unwrap_or(&Value::Null);
    match name {
        "cidrsubnet" => {
            cidrsubnet(string(arg(0), "prefix")?, int(arg(1), "newbits")?, int(arg(2), "netnum")?).map(Value::String)
        }
        "format" => format(string(arg(0), "spec")?, &args[1.min(args.len())..]).map(Value::String),
        "join" => {
            let sep = string(arg(0), "separator")?;
            let mut out = String::new();
            for (i, part) in list(arg(1), "list")?.iter().enumerate() {
                if i > 0 {
                    out.push_str(sep);
                }
                out.push_str(&scalar_text(part)?);
                within_string_limit(&out)?;
            }
            Ok(Value::String(out))
        }
        "split" => {
            Ok(Value::List(string(arg(1), "string")?.split(string(arg(0), "separator")?).map(Value::str).collect()))
        }
        "length" => match arg(0) {
            Value::List(l) => Ok(Value::Number(l.len() as f64)),
            Value::Map(m) => Ok(Value::Number(m.len() as f64)),
            Value::String(s) => Ok(Value::Number(s.chars().count() as f64)),
            other => Err(FnError(format!("cannot take the length of a {}", other.type_name()))),
        },
        "lookup" => {
            let map = map(arg(0), "map")?;
            let key = string(arg(1), "key")?;
            match (map.get(key), args.get(2)) {
                (Some(v), _) => Ok(v.clone()),
                (None, Some(default)) => Ok(default.clone()),
                (None, None) => Err(FnError(format!("no key `{key}` and no default"))),
            }
        }
        "env" => {
            let var = string(arg(0), "name")?;
            match (cx.host.env(var), args.get(1)) {
                (Some(v), _) => Ok(Value::String(v)),
                (None, Some(default)) => Ok(default.clone()),
                (None, None) => {
                    Err(FnError(format!("environment variable `{var}` is not set and no default is given")))
                }
            }
        }
        "file" => cx.host.read_file(string(arg(0), "path")?).map(Value::String).map_err(FnError),
        "secret" => {
            let reference = string(arg(0), "reference")?;
            if !cx.resolve_secrets {
                return Ok(Value::Secret(Secret::unresolved(reference)));
            }
            let plaintext = cx.host.secret(reference).map_err(FnError)?;
            Ok(Value::Secret(Secret::resolved(reference, plaintext, cx.salt)))
        }
        "jsonencode" => Ok(Value::String(arg(0).to_json().to_string())),
        "keys" => Ok(Value::List(map(arg(0), "map")?.keys().map(Value::str).collect())),
        "values" => Ok(Value::List(map(arg(0), "map")?.values().cloned().collect())),
        "concat" => {
            let mut out = Vec::new();
            for (i, a) in args.iter().enumerate() {
                out.extend(list(a, &format!("argument {}", i + 1))?.iter().cloned());
            }
            Ok(Value::List(out))
        }
        "merge" => {
            let mut out = BTreeMap::new();
            for (i, a) in args.iter().enumerate() {
                out.extend(map(a, &format!("argument {}", i + 1))?.clone());
            }
            Ok(Value::map(out))
        }
        "contains" => Ok(Value::Bool(list(arg(0), "list")?.iter().any(|v| v.same(arg(1))))),
        "upper" => Ok(Value::String(string(arg(0), "string")?.to_uppercase())),
        "lower" => Ok(Value::String(string(arg(0), "string")?.to_lowercase())),
        "tostring" => scalar_text(arg(0)).map(Value::String),
        "range" => {
            let (start, end) =
                if args.len() == 2 { (int(arg(0), "start")?, int(arg(1), "end")?) } else { (0, int(arg(0), "end")?) };
            if end - start > 100_000 {
                return Err(FnError("a range may hold at most 100000 numbers".into()));
            }
            Ok(Value::List((start..end).map(|n| Value::Number(n as f64)).collect()))
        }
        other => Err(FnError(format!("`{other}` is not a built-in function"))),
    }
}

fn string<'v>(v: &'v Value, what: &str) -> Result<&'v str, FnError> {
    v.as_str().ok_or_else(|| FnError(format!("{what} must be a string, found {}", v.type_name())))
}

fn int(v: &Value, what: &str) -> Result<i64, FnError> {
    v.as_i64().ok_or_else(|| FnError(format!("{what} must be a whole number, found {}", v.type_name())))
}

fn list<'v>(v: &'v Value, what: &str) -> Result<&'v [Value], FnError> {
    v.as_list().ok_or_else(|| FnError(format!("{what} must be a list, found {}", v.type_name())))
}

fn map<'v>(v: &'v Value, what: &str) -> Result<&'v BTreeMap<String, Value>, FnError> {
    v.as_map().ok_or_else(|| FnError(format!("{what} must be a map, found {}", v.type_name())))
}

/// The text of a scalar, as interpolation writes it.
pub fn scalar_text(v: &Value) -> Result<String, FnError> {
    match v {
        Value::String(s) => Ok(s.clone()),
        Value::Number(n) => Ok(drone_lang::fmt::format_number(*n)),
        Value::Bool(b) => Ok(b.to_string()),
        Value::Null => Ok(String::new()),
        other => Err(FnError(format!("a {} cannot be written as text", other.type_name()))),
    }
}

fn cidrsubnet(prefix: &str, newbits: i64, netnum: i64) -> Result<String, FnError> {
    let net: ipnet::IpNet = prefix.parse().map_err(|_| FnError(format!("`{prefix}` is not a CIDR block")))?;
    let max = if net.addr().is_ipv4() { 32 } else { 128 };
    let new_len = i64::from(net.prefix_len()) + newbits;
    if newbits < 0 || new_len > max {
        return Err(FnError(format!("cannot extend a /{} prefix by {newbits} bits", net.prefix_len())));
    }
    if netnum < 0 || (newbits < 63 && netnum >= 1i64 << newbits) {
        return Err(FnError(format!("netnum {netnum} does not fit in {newbits} bits")));
    }
    let shift = (max - new_len) as u32;
    let addr = match net.network() {
        IpAddr::V4(a) => IpAddr::V4((u32::from(a) | ((netnum as u32).checked_shl(shift).unwrap_or(0))).into()),
        IpAddr::V6(a) => IpAddr::V6((u128::from(a) | ((netnum as u128).checked_shl(shift).unwrap_or(0))).into()),
    };
    Ok(format!("{addr}/{new_len}"))
}

/// Whether `name` only moves elements without looking at them, over
/// arguments whose shape is known (lists and maps, and for `lookup` a known
/// key): then elements known only after apply (references to other
/// resources) pass through as they are, and the policy rules still see what
/// they point at. `concat([aws.ec2.subnet.public.id], [])` is the public
/// subnet, not "unknown".
fn moves_elements_only(name: &str, args: &[Value]) -> bool {
    let shaped = |v: &Value| matches!(v, Value::List(_) | Value::Map(_));
    match name {
        "concat" | "merge" | "keys" | "values" | "length" => args.iter().all(shaped),
        "lookup" => {
            args.first().is_some_and(shaped)
                && args.get(1).is_some_and(Value::is_known)
                && args.get(2).is_none_or(|d| d.is_known() || matches!(d, Value::Ref { .. }))
        }
        _ => false,
    }
}

/// An error once text being built passes [`MAX_STRING`], so it stops growing there.
fn within_string_limit(text: &str) -> Result<(), FnError> {
    if text.len() > MAX_STRING {
        return Err(FnError(format!("the result passes {MAX_STRING} bytes, the most a string may be")));
    }
    Ok(())
}

fn format(spec: &str, args: &[Value]) -> Result<String, FnError> {
    let mut out = String::new();
    let mut args = args.iter();
    let mut chars = spec.chars();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        match chars.next() {
            Some('%') => out.push('%'),
            Some(verb @ ('s' | 'd' | 'v')) => {
                let arg = args.next().ok_or_else(|| FnError(format!("`%{verb}` has no value left to format")))?;
                if verb == 'd' && arg.as_i64().is_none() {
                    return Err(FnError(format!("`%d` needs a whole number, found {}", arg.type_name())));
                }
                out.push_str(&scalar_text(arg)?);
                within_string_limit(&out)?;
            }
            other => return Err(FnError(format!("unknown verb `%{}`", other.map(String::from).unwrap_or_default()))),
        }
    }
    if args.next().is_some() {
        return Err(FnError("more values than `%` verbs".into()));
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn results_past_the_limits_are_errors_not_allocations() {
        let host = MemoryHost::default();
        let cx = CallContext { host: &host, salt: "", resolve_secrets: false };
        let big = call("range", &[Value::Number(0.0), Value::Number(100_000.0)], &cx).expect("range");
        let doubled = call("concat", &[big.clone(), big], &cx).expect_err("doubled");
        assert!(doubled.0.contains("at most 100000"), "{}", doubled.0);
        let long = Value::str("x".repeat(600 * 1024));
        let joined = call("join", &[Value::str(""), Value::List(vec![long.clone(), long.clone()])], &cx);
        assert!(joined.expect_err("joined").0.contains("bytes"));
        let formatted = call("format", &[Value::str("%s%s"), long.clone(), long], &cx);
        assert!(formatted.expect_err("formatted").0.contains("bytes"));
    }
    use crate::host::MemoryHost;

    fn check(name: &str, args: Vec<Value>, expected: Result<Value, &str>) {
        let host = MemoryHost::default();
        let cx = CallContext { host: &host, salt: "s", resolve_secrets: true };
        let got = call(name, &args, &cx);
        match expected {
            Ok(v) => assert_eq!(got, Ok(v), "{name}"),
            Err(msg) => assert!(matches!(&got, Err(FnError(m)) if m.contains(msg)), "{name}: {got:?}"),
        }
    }

    fn n(x: f64) -> Value {
        Value::Number(x)
    }

    #[test]
    fn builtins() {
        check("cidrsubnet", vec![Value::str("10.20.0.0/16"), n(8.0), n(3.0)], Ok(Value::str("10.20.3.0/24")));
        check("cidrsubnet", vec![Value::str("10.20.0.0/16"), n(4.0), n(15.0)], Ok(Value::str("10.20.240.0/20")));
        check("cidrsubnet", vec![Value::str("fd00::/56"), n(8.0), n(1.0)], Ok(Value::str("fd00:0:0:1::/64")));
        check("cidrsubnet", vec![Value::str("10.0.0.0/16"), n(8.0), n(256.0)], Err("does not fit"));
        check("cidrsubnet", vec![Value::str("nope"), n(8.0), n(1.0)], Err("not a CIDR"));
        check("format", vec![Value::str("%s-%d%%"), Value::str("a"), n(3.0)], Ok(Value::str("a-3%")));
        check("format", vec![Value::str("%s")], Err("no value left"));
        check("join", vec![Value::str(","), Value::List(vec![Value::str("a"), n(1.0)])], Ok(Value::str("a,1")));
        check("length", vec![Value::str("héllo")], Ok(n(5.0)));
        check("lookup", vec![Value::map(BTreeMap::new()), Value::str("k"), n(1.0)], Ok(n(1.0)));
        check("lookup", vec![Value::map(BTreeMap::new()), Value::str("k")], Err("no key"));
        check("env", vec![Value::str("NOPE"), Value::str("d")], Ok(Value::str("d")));
        check("env", vec![Value::str("NOPE")], Err("not set"));
        check("file", vec![Value::str("x.txt")], Err("no such file"));
        check("secret", vec![Value::str("env:NOPE")], Err("not set"));
        check("length", vec![Value::Unknown], Ok(Value::Unknown));
        check("range", vec![n(2.0)], Ok(Value::List(vec![n(0.0), n(1.0)])));
    }
}
