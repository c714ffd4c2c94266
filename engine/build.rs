//! Turns the IAM action catalogue (`data/iam-actions.tsv`) into static tables, so `drone check`
//! reads the catalogue straight from the binary instead of building it on every run
//! (`src/policy/iam/catalogue.rs` includes the result).

use std::fmt::Write;

fn main() {
    let path = "data/iam-actions.tsv";
    println!("cargo:rerun-if-changed={path}");
    let text = std::fs::read_to_string(path).expect("the IAM action catalogue");
    let version =
        text.lines().find_map(|l| l.strip_prefix("# drone IAM action catalogue, version ")).unwrap_or("unknown").trim();
    let names = |field: &str| if field == "-" { String::new() } else { field.to_string() };
    let mut actions = Vec::new();
    let mut arns = Vec::new();
    for line in text.lines() {
        let fields: Vec<&str> = line.split('\t').collect();
        match fields.as_slice() {
            ["action", name, access, types, keys] => actions.push((*name, *access, names(types), names(keys))),
            ["arn", service, kind, format] => arns.push((*service, *kind, *format)),
            _ => {}
        }
    }
    // Each service's actions are together in the file (a test holds it to that order):
    // the range of each, by lower-cased prefix, in prefix order for binary search.
    let service = |name: &str| name.split_once(':').map_or(name, |(s, _)| s).to_ascii_lowercase();
    let mut services: Vec<(String, usize, usize)> = Vec::new();
    for (i, (name, ..)) in actions.iter().enumerate() {
        let prefix = service(name);
        match services.last_mut() {
            Some((last, _, end)) if *last == prefix => *end = i + 1,
            _ => services.push((prefix, i, i + 1)),
        }
    }
    services.sort();
    arns.sort();
    let mut out = String::new();
    let _ = writeln!(out, "/// The catalogue's version line.\nstatic VERSION: &str = {version:?};\n");
    let _ = writeln!(
        out,
        "/// Every action, in name order without regard to case.\nstatic ACTIONS: [Action; {}] = [",
        actions.len()
    );
    for (name, access, types, keys) in &actions {
        let _ = writeln!(
            out,
            "    Action {{ name: {name:?}, access: {access:?}, resource_types: Names({types:?}), condition_keys: Names({keys:?}) }},"
        );
    }
    let _ = writeln!(out, "];\n\n/// Lower-cased service prefix to the range of its actions, by prefix.");
    let _ = writeln!(out, "static SERVICES: [(&str, usize, usize); {}] = [", services.len());
    for (prefix, start, end) in &services {
        let _ = writeln!(out, "    ({prefix:?}, {start}, {end}),");
    }
    let _ = writeln!(out, "];\n\n/// `(service, resource type, ARN format)`, in order of service and type.");
    let _ = writeln!(out, "static ARNS: [(&str, &str, &str); {}] = [", arns.len());
    for (service, kind, format) in &arns {
        let _ = writeln!(out, "    ({service:?}, {kind:?}, {format:?}),");
    }
    let _ = writeln!(out, "];");
    let dir = std::env::var("OUT_DIR").expect("OUT_DIR");
    std::fs::write(std::path::Path::new(&dir).join("iam_catalogue.rs"), out).expect("write iam_catalogue.rs");
}
