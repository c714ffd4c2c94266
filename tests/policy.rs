//! The policy layer through the binary: every rule's failing and passing
//! fixture, the everything-wrong golden report, suppressions, baselines,
//! undecidable values, the output formats, and refusal before any network call.

use std::collections::BTreeSet;
use std::path::Path;

use super::support::{assert_exit, drone, golden, root, run, text};

fn check_json(file: &Path, extra: &[&str]) -> (i32, serde_json::Value) {
    let out = run(drone(None).arg("check").arg(file).args(["--format", "json"]).args(extra));
    let json =
        serde_json::from_str(&text(&out).0).unwrap_or_else(|e| panic!("{}: {e}\n{}", file.display(), text(&out).1));
    (out.status.code().unwrap_or(-1), json)
}

fn findings<'a>(report: &'a serde_json::Value, rule: &str) -> Vec<&'a serde_json::Value> {
    report["findings"].as_array().into_iter().flatten().filter(|f| f["rule"] == rule).collect()
}

/// Violations written so that a rule reading syntax would miss them (the
/// offending value passed through a function): `<rule>.<how>.drone` must be
/// flagged by `<rule>`, proven, as the plain failing fixture is.
#[test]
fn violations_passed_through_functions_are_still_proven() {
    let dir = root().join("tests/policies/evasions");
    let mut tried = 0;
    for entry in std::fs::read_dir(&dir).expect("evasions") {
        let path = entry.expect("entry").path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or_default().to_string();
        let Some(rule) = name.strip_suffix(".drone").and_then(|n| n.rsplit_once('.')).map(|(rule, _)| rule.to_string())
        else {
            continue;
        };
        let (_, report) = check_json(&path, &[]);
        let found = findings(&report, &rule);
        assert!(found.iter().any(|f| f["active"] == true && f["proven"] == true), "{name}: not proven: {report:#}");
        tried += 1;
    }
    assert!(tried >= 17, "only {tried} evasion fixtures");
}

/// A "cannot prove before apply" warning only where a verdict truly waits
/// for apply: none on the platform's workflows or on any fixture, whose
/// values (bucket ARNs included) are all known before apply.
#[test]
fn nothing_known_before_apply_is_reported_as_unprovable() {
    let mut files = vec![root().join("workflows/prod.drone")];
    for dir in ["tests/policies", "tests/policies/evasions"] {
        for entry in std::fs::read_dir(root().join(dir)).expect("fixtures") {
            let path = entry.expect("entry").path();
            if path.extension().is_some_and(|e| e == "drone") {
                files.push(path);
            }
        }
    }
    assert!(files.len() > 90, "{}", files.len());
    for file in &files {
        let (_, report) = check_json(file, &[]);
        let unproven: Vec<_> =
            report["findings"].as_array().expect("findings").iter().filter(|f| f["proven"] == false).collect();
        assert!(unproven.is_empty(), "{}: {unproven:#?}", file.display());
    }
}

/// Every alias a rule gives is one that scripts/check-aliases verified against
/// checkov's and Trivy's own metadata (policies/aliases.tsv), and no verified
/// alias was dropped from its rule: a changed alias needs the script run again.
#[test]
fn every_alias_was_checked_against_the_tools_metadata() {
    let (_, report) = check_json(&root().join("workflows/prod.drone"), &[]);
    let given: BTreeSet<(String, String)> = report["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .flat_map(|r| {
            let id = r["id"].as_str().unwrap_or_default().to_string();
            r["aliases"]
                .as_array()
                .into_iter()
                .flatten()
                .map(move |a| (id.clone(), a.as_str().unwrap_or_default().to_string()))
        })
        .collect();
    let checked: BTreeSet<(String, String)> = std::fs::read_to_string(root().join("policies/aliases.tsv"))
        .expect("policies/aliases.tsv")
        .lines()
        .filter(|l| !l.starts_with('#'))
        .map(|l| {
            let fields: Vec<&str> = l.split('\t').collect();
            assert_eq!(fields.len(), 4, "rule, alias, tool, title: {l}");
            (fields[0].to_string(), fields[1].to_string())
        })
        .collect();
    assert!(given.len() > 30, "{given:?}");
    assert_eq!(given, checked, "run scripts/check-aliases after changing a rule's aliases");
}

#[test]
fn every_rule_has_a_failing_and_a_passing_fixture() {
    let dir = root().join("tests/policies");
    let (_, report) = check_json(&root().join("workflows/prod.drone"), &[]);
    let rules: Vec<String> = report["rules"]
        .as_array()
        .expect("rules")
        .iter()
        .map(|r| r["id"].as_str().unwrap_or_default().to_string())
        .collect();
    assert!(rules.len() >= 17, "{rules:?}");
    for rule in &rules {
        let severity =
            report["rules"].as_array().expect("rules").iter().find(|r| r["id"] == rule.as_str()).expect("rule")
                ["severity"]
                .clone();
        let (code, failing) = check_json(&dir.join(format!("{rule}.fail.drone")), &[]);
        let found = findings(&failing, rule);
        assert!(
            found.iter().any(|f| f["active"] == true && f["proven"] == true && f["severity"] == severity),
            "{rule}: the failing fixture is not flagged: {failing:#}"
        );
        let expected = if severity == "error" { 4 } else { 7 };
        assert_eq!(code, expected, "{rule}: {severity} findings exit {expected}");
        let (_, passing) = check_json(&dir.join(format!("{rule}.pass.drone")), &[]);
        assert!(findings(&passing, rule).is_empty(), "{rule}: the passing fixture is flagged: {passing:#}");
    }
}

#[test]
fn everything_wrong_produces_exactly_the_expected_findings() {
    let (code, report) = check_json(&root().join("tests/policies/all_rules.drone"), &[]);
    assert_eq!(code, 4);
    let lines: Vec<String> = report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .map(|f| {
            let target = match f["attribute"].as_str() {
                Some(a) => format!("{}.{a}", f["address"].as_str().unwrap_or_default()),
                None => f["address"].as_str().unwrap_or_default().to_string(),
            };
            format!(
                "{}:{} {} {} {}: {}",
                f["line"],
                f["column"],
                f["severity"].as_str().unwrap_or_default(),
                f["rule"].as_str().unwrap_or_default(),
                target,
                f["message"].as_str().unwrap_or_default()
            )
        })
        .collect();
    let rules: BTreeSet<&str> =
        report["findings"].as_array().expect("findings").iter().filter_map(|f| f["rule"].as_str()).collect();
    assert_eq!(rules.len(), report["rules"].as_array().map_or(0, Vec::len), "every rule fires at least once");
    golden(&root().join("tests/policies/all_rules.findings"), &(lines.join("\n") + "\n"));
}

#[test]
fn suppressions_need_a_reason_stay_visible_and_expire() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("w.drone");
    let write = |until: &str| {
        std::fs::write(
            &file,
            format!(
                r#"resource aws.s3.bucket logs {{
  name                = "logs"
  encryption          = "AES256"
  public_access_block = {{ block_public_acls = true, ignore_public_acls = true, block_public_policy = true, restrict_public_buckets = true }}
  policy              = {{ Version = "2012-10-17", Statement = [{{ Effect = "Deny", Principal = "*", Action = "s3:*", Resource = ["arn:aws:s3:::logs", "arn:aws:s3:::logs/*"], Condition = {{ Bool = {{ "aws:SecureTransport" = "false" }} }} }}] }}
  @allow(data.s3_versioning, reason = "a scratch bucket, emptied nightly"{until})
  versioning = false
}}
"#
            ),
        )
        .expect("write");
    };
    write("");
    let (code, report) = check_json(&file, &[]);
    assert_eq!(code, 0, "a suppressed finding does not fail the check: {report:#}");
    let f = findings(&report, "data.s3_versioning");
    assert_eq!(f.len(), 1, "suppressed findings stay in the report");
    assert_eq!(f[0]["active"], false);
    assert_eq!(f[0]["suppression"]["reason"], "a scratch bucket, emptied nightly");
    write(", until = \"2001-01-01\"");
    let (code, report) = check_json(&file, &[]);
    assert_eq!(code, 4, "an expired suppression no longer counts");
    assert_eq!(findings(&report, "data.s3_versioning")[0]["suppression"]["expired"], true);
    write(", until = \"2999-01-01\"");
    assert_eq!(check_json(&file, &[]).0, 0);
}

#[test]
fn values_unknown_until_apply_are_reported_as_warnings() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("w.drone");
    std::fs::write(
        &file,
        r#"resource aws.ec2.vpc main {
  cidr_block = "10.0.0.0/16"
}

resource aws.s3.bucket logs {
  name                = "logs"
  encryption          = "AES256"
  public_access_block = { block_public_acls = true, ignore_public_acls = true, block_public_policy = true, restrict_public_buckets = true }
  policy              = { Version = "2012-10-17", Statement = [{ Effect = "Deny", Principal = "*", Action = "s3:*", Resource = ["arn:aws:s3:::logs", "arn:aws:s3:::logs/*"], Condition = { Bool = { "aws:SecureTransport" = "false" } } }] }
  versioning          = aws.ec2.vpc.main.id == "vpc-123"
}
"#,
    )
    .expect("write");
    let (code, report) = check_json(&file, &[]);
    assert_eq!(code, 7, "warnings only: {report:#}");
    let f = findings(&report, "data.s3_versioning");
    assert_eq!(f[0]["severity"], "warning");
    assert_eq!(f[0]["proven"], false);
    assert!(f[0]["message"].as_str().unwrap_or_default().starts_with("cannot prove"));
}

#[test]
fn plan_and_run_refuse_before_any_network_call() {
    let dir = tempfile::tempdir().expect("dir");
    let state = dir.path().join("state.json");
    // A closed port: any AWS call would fail with "endpoint could not be reached".
    let closed = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let endpoint = format!("http://127.0.0.1:{closed}");
    for command in ["plan", "run"] {
        let out = run(drone(Some(&endpoint))
            .arg(command)
            .arg(root().join("tests/policies/data.s3_versioning.fail.drone"))
            .arg("--state")
            .arg(&state));
        assert_exit(&out, 4);
        let (_, stderr) = text(&out);
        assert!(stderr.contains("policy::data.s3_versioning"), "{stderr}");
        assert!(stderr.contains("nothing was planned or changed"), "{stderr}");
        assert!(
            !stderr.contains("provider ") && !stderr.contains("could not be reached"),
            "a provider was contacted: {stderr}"
        );
        assert!(!state.exists());
    }
}

#[test]
fn sarif_github_and_json_outputs() {
    let file = root().join("tests/policies/all_rules.drone");
    let out = run(drone(None).arg("check").arg(&file).args(["--format", "sarif"]));
    assert_exit(&out, 4);
    let sarif: serde_json::Value = serde_json::from_str(&text(&out).0).expect("sarif json");
    assert_eq!(sarif["version"], "2.1.0");
    let run0 = &sarif["runs"][0];
    assert_eq!(run0["tool"]["driver"]["name"], "drone");
    let rules = run0["tool"]["driver"]["rules"].as_array().expect("rules");
    let results = run0["results"].as_array().expect("results");
    assert!(!results.is_empty());
    for r in results {
        let index = r["ruleIndex"].as_u64().expect("index") as usize;
        assert_eq!(rules[index]["id"], r["ruleId"]);
        let region = &r["locations"][0]["physicalLocation"]["region"];
        assert!(region["startLine"].as_u64().is_some_and(|l| l > 1) && region["startColumn"].as_u64().is_some());
        assert!(r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
            .as_str()
            .is_some_and(|u| u.ends_with("all_rules.drone")));
    }
    assert!(rules
        .iter()
        .any(|r| r["properties"]["aliases"].as_array().is_some_and(|a| a.iter().any(|x| x == "AVD-AWS-0107"))));

    let out = run(drone(None).current_dir(root()).args(["check", "workflows/prod.drone", "--format", "sarif"]));
    assert_exit(&out, 0);
    let sarif: serde_json::Value = serde_json::from_str(&text(&out).0).expect("sarif json");
    let suppressed: Vec<_> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter(|r| r["suppressions"][0]["kind"] == "inSource")
        .collect();
    assert_eq!(
        suppressed.len(),
        2,
        "the internet-facing load balancers, each region's declared entry point, are reported as suppressed"
    );
    assert!(suppressed[0]["ruleId"] == "network.internal_load_balancers", "{suppressed:?}");

    let out = run(drone(None).arg("check").arg(&file).args(["--format", "github"]));
    assert_exit(&out, 4);
    let annotations = text(&out).0;
    let first = annotations.lines().next().expect("an annotation");
    assert!(
        first.starts_with("::error file=")
            && first.contains(",line=")
            && first.contains(",title=")
            && first.contains("::"),
        "{first}"
    );
}

/// Validates `drone check --format sarif` output against the official schema,
/// with the `jsonschema` package of the test environment's Python.
#[test]
fn sarif_output_validates_against_the_official_schema() {
    let moto =
        std::env::var("DRONE_MOTO_SERVER").expect("run the tests with scripts/test, which sets DRONE_MOTO_SERVER");
    let python = Path::new(&moto).with_file_name("python");
    let dir = tempfile::tempdir().expect("dir");
    // A baseline holding half of the everything-wrong findings, so results carry both baseline states.
    let out =
        run(drone(None).current_dir(root()).args(["check", "tests/policies/all_rules.drone", "--format", "json"]));
    let mut saved: serde_json::Value = serde_json::from_str(&text(&out).0).expect("json");
    let findings = saved["findings"].as_array_mut().expect("findings");
    findings.truncate(findings.len() / 2);
    let baseline = dir.path().join("baseline.json");
    std::fs::write(&baseline, saved.to_string()).expect("write baseline");
    let baseline = baseline.to_str().expect("utf-8");
    // Language errors are results too.
    let broken = dir.path().join("broken.drone");
    std::fs::write(&broken, "workflow \"broken\" {}\n\nresource aws.s3.bucket logs {\n  bucket = nope\n}\n")
        .expect("write");
    let broken = broken.to_str().expect("utf-8");
    for (name, file, extra) in [
        ("broken", broken, vec![]),
        ("everything", "tests/policies/all_rules.drone", vec![]),
        ("prod", "workflows/prod.drone", vec![]),
        ("baseline", "tests/policies/all_rules.drone", vec!["--baseline", baseline]),
    ] {
        let out = run(drone(None).current_dir(root()).args(["check", file, "--format", "sarif"]).args(extra));
        let path = dir.path().join(format!("{name}.sarif"));
        std::fs::write(&path, &out.stdout).expect("write sarif");
        let check = std::process::Command::new(&python)
            .args(["-c", "import json, sys, jsonschema; jsonschema.validate(json.load(open(sys.argv[1])), json.load(open(sys.argv[2])))"])
            .arg(&path)
            .arg(root().join("tests/schemas/sarif-2.1.0.json"))
            .output()
            .expect("python");
        assert!(check.status.success(), "{file}: SARIF does not validate:\n{}", String::from_utf8_lossy(&check.stderr));
    }
}

#[test]
fn workflows_add_policy_directories_and_turn_rules_off() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::create_dir(dir.path().join("house")).expect("mkdir");
    std::fs::write(
        dir.path().join("house/naming.drone"),
        r#"policy house.bucket_prefix {
  title    = "buckets are prefixed with the team name"
  severity = "warning"

  for bucket in resources("aws.s3.bucket") {
    if length(split("platform-", bucket.name)) < 2 {
      flag bucket.name, "${address(bucket)} is not prefixed with platform-"
    }
  }
}
"#,
    )
    .expect("policy");
    let file = dir.path().join("w.drone");
    std::fs::write(
        &file,
        r#"workflow "w" {
  policy_dirs       = ["house"]
  disabled_policies = ["data"]
}

resource aws.s3.bucket logs {
  name = "logs"
}
"#,
    )
    .expect("workflow");
    let (code, report) = check_json(&file, &[]);
    assert_eq!(code, 7, "{report:#}");
    assert_eq!(findings(&report, "house.bucket_prefix").len(), 1);
    assert!(report["findings"]
        .as_array()
        .expect("findings")
        .iter()
        .all(|f| !f["rule"].as_str().unwrap_or_default().starts_with("data.")));
    let (code, _) = check_json(&file, &["--disable-policy", "house.bucket_prefix"]);
    assert_eq!(code, 0);
}

#[test]
fn a_baseline_fails_only_on_new_findings() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("estate.drone");
    let bucket = |name: &str| format!("resource aws.s3.bucket {name} {{\n  name = \"{name}\"\n}}\n");
    std::fs::write(&file, bucket("old")).expect("write");
    let (code, saved) = check_json(&file, &[]);
    assert_eq!(code, 4, "the existing estate has errors: {saved:#}");
    let baseline = dir.path().join("baseline.json");
    std::fs::write(&baseline, saved.to_string()).expect("write baseline");
    let with_baseline = ["--baseline", baseline.to_str().expect("utf-8")];

    let (code, report) = check_json(&file, &with_baseline);
    assert_eq!(code, 0, "nothing new: {report:#}");
    assert_eq!(report["summary"]["in_baseline"], saved["summary"]["errors"]);
    assert!(report["findings"].as_array().expect("findings").iter().all(|f| f["baseline"] == "unchanged"));

    std::fs::write(&file, format!("{}{}", bucket("old"), bucket("new"))).expect("write");
    let (code, report) = check_json(&file, &with_baseline);
    assert_eq!(code, 4, "the new bucket's findings count: {report:#}");
    let all = report["findings"].as_array().expect("findings");
    for f in all {
        let new = f["address"] == "aws.s3.bucket.new";
        assert_eq!(f["baseline"], if new { "new" } else { "unchanged" }, "{f:#}");
        assert_eq!(f["active"], new, "{f:#}");
    }
    assert_eq!(report["summary"]["errors"], saved["summary"]["errors"], "as many new errors as the old bucket had");

    let out = run(drone(None).arg("check").arg(&file).args(with_baseline).args(["--format", "sarif"]));
    let sarif: serde_json::Value = serde_json::from_str(&text(&out).0).expect("sarif json");
    let states: BTreeSet<&str> = sarif["runs"][0]["results"]
        .as_array()
        .expect("results")
        .iter()
        .filter_map(|r| r["baselineState"].as_str())
        .collect();
    assert_eq!(states, BTreeSet::from(["new", "unchanged"]));
    let out = run(drone(None).arg("check").arg(&file).args(with_baseline));
    assert!(text(&out).0.contains("in baseline"), "{}", text(&out).0);

    std::fs::write(&baseline, "{\"findings\": 3}").expect("write");
    let out = run(drone(None).arg("check").arg(&file).args(with_baseline));
    assert_exit(&out, 2);
    assert!(text(&out).1.contains("is not a drone check report"), "{}", text(&out).1);
}

#[test]
fn a_scripts_grant_finding_is_suppressed_on_the_script_with_a_reason() {
    let dir = tempfile::tempdir().expect("dir");
    let fixture = std::fs::read_to_string(root().join("tests/policies/scripts.unattended_database_writes.fail.drone"))
        .expect("fixture");
    let allowed = fixture.replace(
        "hook prune after destroy {",
        "@allow(scripts.unattended_database_writes, reason = \"the archive's own retention, reviewed by the DBA\")\nhook prune after destroy {",
    );
    let path = dir.path().join("allowed.drone");
    std::fs::write(&path, allowed).expect("write");
    let (code, report) = check_json(&path, &["--root", &dir.path().display().to_string()]);
    assert_eq!(code, 0, "{report:#}");
    let found = findings(&report, "scripts.unattended_database_writes");
    assert_eq!(found.len(), 1, "{report:#}");
    assert_eq!(found[0]["active"], false);
    assert_eq!(found[0]["suppression"]["reason"], "the archive's own retention, reviewed by the DBA");
}

/// A file that does not parse is reported in every format, not only on standard error: the
/// pull request's annotations show the error where it is, with its code.
#[test]
fn language_errors_reach_every_report_format() {
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("broken.drone");
    let text_of = "workflow \"broken\" {}\n\nresource aws.s3.bucket logs {\n  bucket = \"b\"\n\nresource aws.s3.bucket other {\n  bucket = nope\n}\n";
    std::fs::write(&file, text_of).expect("write");
    let check = |format: &str| {
        let out = run(drone(None).current_dir(dir.path()).args(["check", "broken.drone", "--format", format]));
        assert_exit(&out, 3);
        text(&out).0
    };
    let sarif: serde_json::Value = serde_json::from_str(&check("sarif")).expect("sarif json");
    let run0 = &sarif["runs"][0];
    let results = run0["results"].as_array().expect("results");
    assert!(!results.is_empty(), "no result for a file that does not parse: {sarif}");
    for r in results {
        assert_eq!(r["level"], "error", "{r}");
        let index = r["ruleIndex"].as_u64().expect("index") as usize;
        assert_eq!(run0["tool"]["driver"]["rules"][index]["id"], r["ruleId"], "{sarif}");
        assert!(r["ruleId"].as_str().is_some_and(|id| id.starts_with("drone::")), "{r}");
        let place = &r["locations"][0]["physicalLocation"];
        assert_eq!(place["artifactLocation"]["uri"], "broken.drone");
        assert!(place["region"]["startLine"].as_u64().is_some_and(|l| l >= 3), "{r}");
    }
    let json: serde_json::Value = serde_json::from_str(&check("json")).expect("json");
    assert_eq!(json["summary"]["language_errors"].as_u64(), Some(results.len() as u64), "{json}");
    assert_eq!(json["errors"][0]["file"], "broken.drone", "{json}");
    let github = check("github");
    assert!(github.starts_with("::error file=broken.drone,line="), "{github}");
    assert!(github.contains("title=drone%3A%3Asyntax"), "{github}");
}

/// A name that matches nothing would select or suppress nothing, and let a rule pass silently:
/// a misspelled type in a custom rule, and an unknown rule or pack in `@allow`, the header's
/// `disabled_policies` and `--disable-policy`, are each an error with the closest name.
#[test]
fn misspelled_types_and_rule_ids_are_errors_with_the_closest_name() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::create_dir(dir.path().join("house")).expect("mkdir");
    let rule = |ty: &str| {
        format!(
            "policy house.tagged_vpcs {{\n  title    = \"VPCs are tagged\"\n  severity = \"error\"\n\n  for vpc in resources(\"{ty}\") {{\n    if vpc.tags == null {{\n      flag vpc.tags, \"${{address(vpc)}} has no tags\"\n    }}\n  }}\n}}\n"
        )
    };
    let workflow = |header: &str, allow: &str| {
        format!(
            "workflow \"w\" {{\n  policy_dirs = [\"house\"]\n{header}}}\n\n{allow}resource aws.ec2.vpc main {{\n  cidr_block = \"10.0.0.0/16\"\n}}\n"
        )
    };
    let file = dir.path().join("w.drone");
    let check = |extra: &[&str]| {
        let out = run(drone(None).arg("check").arg(&file).args(extra));
        let (stdout, stderr) = text(&out);
        (out.status.code(), format!("{stdout}{stderr}"))
    };

    std::fs::write(dir.path().join("house/vpcs.drone"), rule("aws.ec2.vpcc")).expect("rule");
    std::fs::write(&file, workflow("", "")).expect("workflow");
    let (code, said) = check(&[]);
    assert_eq!(code, Some(3), "{said}");
    assert!(said.contains(r#"there is no resource type "aws.ec2.vpcc"; did you mean "aws.ec2.vpc"?"#), "{said}");
    std::fs::write(dir.path().join("house/vpcs.drone"), rule("aws.ec2.vpc")).expect("rule");
    let (code, said) = check(&[]);
    assert_eq!(code, Some(4), "the rule now selects the VPC and flags it: {said}");
    assert!(said.contains("aws.ec2.vpc.main has no tags"), "{said}");

    std::fs::write(&file, workflow("", "@allow(house.tagged_vpc, reason = \"tagged by the landing zone\")\n"))
        .expect("workflow");
    let (code, said) = check(&[]);
    assert_eq!(code, Some(3), "{said}");
    assert!(said.contains("no policy pack or rule is named `house.tagged_vpc`"), "{said}");
    assert!(said.contains("did you mean `house.tagged_vpcs`?"), "{said}");

    // The pack is named by its file, `vpcs`.
    std::fs::write(&file, workflow("  disabled_policies = [\"vpc\"]\n", "")).expect("workflow");
    let (code, said) = check(&[]);
    assert_eq!(code, Some(3), "{said}");
    assert!(said.contains("no policy pack or rule is named `vpc`") && said.contains("did you mean `vpcs`?"), "{said}");

    std::fs::write(&file, workflow("", "")).expect("workflow");
    let (code, said) = check(&["--disable-policy", "netwrk"]);
    assert_eq!(code, Some(2), "{said}");
    assert!(
        said.contains("no policy pack or rule is named `netwrk`") && said.contains("did you mean `network`?"),
        "{said}"
    );
    let (code, said) = check(&["--disable-policy", "vpcs"]);
    assert_eq!(code, Some(0), "{said}");
}
