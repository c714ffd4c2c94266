//! Precomputes where each field of the IAM action catalogue (`data/iam-actions.tsv`) lies in
//! the file's text, so `drone check` builds the catalogue from offsets instead of splitting
//! 22,000 lines on every run (`src/policy/iam/catalogue.rs` includes the result).

use std::fmt::Write;

fn main() {
    let path = "data/iam-actions.tsv";
    println!("cargo:rerun-if-changed={path}");
    let text = std::fs::read_to_string(path).expect("the IAM action catalogue");
    let mut actions = String::new();
    let mut arns = String::new();
    let (mut action_count, mut arn_count) = (0, 0);
    let mut start = 0;
    for line in text.split_inclusive('\n') {
        let body = line.trim_end_matches(['\n', '\r']);
        let mut fields = Vec::new();
        let mut at = start;
        for field in body.split('\t') {
            fields.push((at, at + field.len()));
            at += field.len() + 1;
        }
        let kind = &text[fields[0].0..fields[0].1];
        let spans: Vec<String> = fields[1..].iter().flat_map(|(s, e)| [s.to_string(), e.to_string()]).collect();
        match (kind, fields.len()) {
            ("action", 5) => {
                let _ = writeln!(actions, "    [{}],", spans.join(", "));
                action_count += 1;
            }
            ("arn", 4) => {
                let _ = writeln!(arns, "    [{}],", spans.join(", "));
                arn_count += 1;
            }
            _ => {}
        }
        start += line.len();
    }
    let out = format!(
        "/// Byte ranges in the catalogue's text of each action line's name, access level, resource\n\
         /// types and condition keys.\n\
         static ACTION_FIELDS: [[u32; 8]; {action_count}] = [\n{actions}];\n\n\
         /// Byte ranges of each ARN line's service, resource type and format.\n\
         static ARN_FIELDS: [[u32; 6]; {arn_count}] = [\n{arns}];\n"
    );
    let dir = std::env::var("OUT_DIR").expect("OUT_DIR");
    std::fs::write(std::path::Path::new(&dir).join("iam_fields.rs"), out).expect("write iam_fields.rs");
}
