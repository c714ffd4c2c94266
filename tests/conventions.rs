//! The daily conventions a Terraform user builds CI around, end to end
//! against moto_server: `plan --detailed-exitcode`, saved plans (`plan --out`,
//! `run --plan`), `--target`, `lifecycle.prevent_destroy`, `drone output` and
//! outputs in the JSON plan, and a declined confirmation's exit code.

use std::path::Path;
use std::process::Output;

use super::support::{assert_exit, drone, run, sdk_config, text, Moto};

const WORKFLOW: &str = r#"workflow "conventions" {}

param suffix: string = "a"

provider aws main {
  region  = "eu-west-1"
  default = true
}

resource aws.s3.bucket logs {
  name          = "conventions-logs-${suffix}"
  versioning    = true
  encryption    = "AES256"
  force_destroy = true
}

resource aws.logs.log_group app {
  name              = "/conventions/${aws.s3.bucket.logs.name}"
  retention_in_days = 30
}

resource aws.logs.log_group audit {
  name              = "/conventions/audit"
  retention_in_days = 365
}

output logs_bucket = aws.s3.bucket.logs.name
output app_group   = aws.logs.log_group.app.arn
"#;

fn drone_in(moto: &Moto, dir: &Path, args: &[&str]) -> Output {
    let mut cmd = drone(Some(&moto.url));
    cmd.current_dir(dir).args(args).args(["--state", "state.json", "--disable-policy", "data"]);
    run(&mut cmd)
}

fn setup() -> (Moto, tempfile::TempDir) {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("w.drone"), WORKFLOW).expect("write");
    (moto, dir)
}

#[test]
fn detailed_exit_codes_say_whether_anything_would_change() {
    let (moto, dir) = setup();
    let plan = |extra: &[&str]| {
        let mut args = vec!["plan", "w.drone", "--detailed-exitcode"];
        args.extend(extra);
        drone_in(&moto, dir.path(), &args)
    };
    assert_exit(&plan(&[]), 2);
    assert_exit(&drone_in(&moto, dir.path(), &["run", "w.drone", "--yes"]), 0);
    assert_exit(&plan(&[]), 0);
    // Any error is 1, whatever drone's own code for it (here 2, a usage error).
    let out = plan(&["--target", "aws.s3.bucket.nope"]);
    assert_exit(&out, 1);
    assert!(text(&out).1.contains("did you mean `aws.s3.bucket.logs`?"), "{}", text(&out).1);
    // Without the flag, plan keeps drone's codes.
    assert_exit(&drone_in(&moto, dir.path(), &["plan", "w.drone", "--target", "aws.s3.bucket.nope"]), 2);
}

#[test]
fn a_saved_plan_is_applied_exactly_or_refused_when_anything_changed() {
    let (moto, dir) = setup();
    let saved = dir.path().join("reviewed.plan");
    let saved = saved.to_str().expect("utf-8");
    assert_exit(&drone_in(&moto, dir.path(), &["plan", "w.drone", "--out", saved]), 0);
    let file = std::fs::read_to_string(saved).expect("plan file");
    let document: serde_json::Value = serde_json::from_str(&file).expect("json");
    assert_eq!(document["plan"]["summary"]["create"], 3, "{document:#}");
    assert_eq!(document["serial"], 0);

    // Made against another parameter: refused, nothing created.
    let out = drone_in(&moto, dir.path(), &["run", "w.drone", "--plan", saved, "--param", "suffix=b"]);
    assert_exit(&out, 2);
    assert!(text(&out).1.contains("its parameters or its targets changed"), "{}", text(&out).1);
    assert!(!text(&out).1.contains("create "), "{}", text(&out).1);

    // As reviewed: applied without asking.
    let out = drone_in(&moto, dir.path(), &["run", "w.drone", "--plan", saved]);
    assert_exit(&out, 0);
    assert!(text(&out).0.contains("Apply complete: 3 created, 0 updated, 0 deleted."), "{}", text(&out).0);
    // Applied once: the state moved on, so the same plan is refused.
    let out = drone_in(&moto, dir.path(), &["run", "w.drone", "--plan", saved]);
    assert_exit(&out, 2);
    assert!(text(&out).1.contains("the state moved from serial 0 to"), "{}", text(&out).1);

    // A plan made now, then the workflow edited: refused.
    assert_exit(&drone_in(&moto, dir.path(), &["plan", "w.drone", "--out", saved]), 0);
    std::fs::write(dir.path().join("w.drone"), WORKFLOW.replace("retention_in_days = 365", "retention_in_days = 400"))
        .expect("edit");
    let out = drone_in(&moto, dir.path(), &["run", "w.drone", "--plan", saved]);
    assert_exit(&out, 2);
    assert!(text(&out).1.contains("the workflow, a file it reads"), "{}", text(&out).1);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_saved_plan_is_refused_when_the_account_drifted_since() {
    let (moto, dir) = setup();
    assert_exit(&drone_in(&moto, dir.path(), &["run", "w.drone", "--yes"]), 0);
    std::fs::write(dir.path().join("w.drone"), WORKFLOW.replace("retention_in_days = 365", "retention_in_days = 400"))
        .expect("edit");
    let saved = dir.path().join("reviewed.plan");
    let saved = saved.to_str().expect("utf-8");
    assert_exit(&drone_in(&moto, dir.path(), &["plan", "w.drone", "--out", saved]), 0);
    // Someone changes the other log group by hand after the review.
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk_config(&moto.url).await);
    let group = "/conventions/conventions-logs-a";
    logs.put_retention_policy().log_group_name(group).retention_in_days(1).send().await.expect("retention");
    let out = drone_in(&moto, dir.path(), &["run", "w.drone", "--plan", saved]);
    assert_exit(&out, 2);
    assert!(text(&out).1.contains("the account changed"), "{}", text(&out).1);
}

#[test]
fn targeting_plans_and_applies_only_a_resource_and_what_it_depends_on() {
    let (moto, dir) = setup();
    let out = drone_in(&moto, dir.path(), &["plan", "w.drone", "--target", "aws.logs.log_group.app"]);
    assert_exit(&out, 0);
    let (stdout, stderr) = text(&out);
    assert!(stderr.contains("warning: --target is in effect"), "{stderr}");
    assert!(stderr.contains("also planned, because a target depends on them: aws.s3.bucket.logs"), "{stderr}");
    assert!(stdout.contains("Plan: 2 to create"), "{stdout}");
    assert!(!stdout.contains("aws.logs.log_group.audit"), "{stdout}");
    let out = drone_in(&moto, dir.path(), &["run", "w.drone", "--yes", "--target", "aws.logs.log_group.app"]);
    assert_exit(&out, 0);
    assert!(text(&out).0.contains("Apply complete: 2 created"), "{}", text(&out).0);
    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.path().join("state.json")).expect("state")).expect("json");
    let recorded: Vec<&String> = state["resources"].as_object().expect("resources").keys().collect();
    assert_eq!(recorded, ["aws.logs.log_group.app", "aws.s3.bucket.logs"]);
    // The rest follows on the next whole run.
    let out = drone_in(&moto, dir.path(), &["plan", "w.drone"]);
    assert!(
        text(&out).0.contains("Plan: 1 to create, 0 to update, 0 to replace, 0 to delete, 2 unchanged."),
        "{}",
        text(&out).0
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn prevent_destroy_refuses_destroy_and_replacement_before_any_call() {
    let (moto, dir) = setup();
    let protected = WORKFLOW.replace(
        "  force_destroy = true\n}",
        "  force_destroy = true\n  lifecycle     = { prevent_destroy = true }\n}",
    );
    std::fs::write(dir.path().join("w.drone"), &protected).expect("write");
    assert_exit(&drone_in(&moto, dir.path(), &["run", "w.drone", "--yes"]), 0);

    let out = drone_in(&moto, dir.path(), &["destroy", "w.drone", "--yes"]);
    assert_exit(&out, 2);
    assert!(
        text(&out).1.contains("aws.s3.bucket.logs has `lifecycle.prevent_destroy`; nothing was destroyed"),
        "{}",
        text(&out).1
    );
    let s3 = super::support::s3_client(&sdk_config(&moto.url).await);
    assert!(s3.head_bucket().bucket("conventions-logs-a").send().await.is_ok(), "the bucket went");
    let logs = aws_sdk_cloudwatchlogs::Client::new(&sdk_config(&moto.url).await);
    let groups = logs.describe_log_groups().log_group_name_prefix("/conventions/").send().await.expect("groups");
    assert_eq!(groups.log_groups().len(), 2, "destroy deleted something before refusing");

    // Renaming the bucket replaces it: refused at plan, pointing at the setting.
    let out = drone_in(&moto, dir.path(), &["plan", "w.drone", "--param", "suffix=b"]);
    assert_exit(&out, 3);
    let stderr = text(&out).1;
    assert!(
        stderr.contains("`aws.s3.bucket.logs` has `lifecycle.prevent_destroy`, and this plan would replace it"),
        "{stderr}"
    );
    assert!(stderr.contains("name replaces it"), "{stderr}");
    assert!(stderr.contains("protected here"), "{stderr}");

    // Switched off, destroy goes ahead.
    std::fs::write(dir.path().join("w.drone"), protected.replace("prevent_destroy = true", "prevent_destroy = false"))
        .expect("write");
    assert_exit(&drone_in(&moto, dir.path(), &["destroy", "w.drone", "--yes"]), 0);
}

#[test]
fn outputs_are_printed_by_name_as_json_and_in_the_json_plan() {
    let (moto, dir) = setup();
    let out = drone_in(&moto, dir.path(), &["plan", "w.drone", "--format", "json"]);
    let plan: serde_json::Value = serde_json::from_str(&text(&out).0).expect("plan json");
    assert_eq!(plan["outputs"]["logs_bucket"], "conventions-logs-a", "known before apply: {plan:#}");
    assert_eq!(plan["outputs"]["app_group"], serde_json::json!({ "unknown": true }), "{plan:#}");

    let output = |args: &[&str]| {
        let mut cmd = drone(Some(&moto.url));
        cmd.current_dir(dir.path()).args(["output", "w.drone"]).args(args).args(["--state", "state.json"]);
        run(&mut cmd)
    };
    let out = output(&["logs_bucket"]);
    assert_exit(&out, 2);
    assert!(text(&out).1.contains("state records none: run the workflow first"), "{}", text(&out).1);
    assert_exit(&drone_in(&moto, dir.path(), &["run", "w.drone", "--yes"]), 0);
    let out = output(&["logs_bucket"]);
    assert_exit(&out, 0);
    assert_eq!(text(&out).0, "conventions-logs-a\n");
    let out = output(&["--json"]);
    let all: serde_json::Value = serde_json::from_str(&text(&out).0).expect("json");
    assert_eq!(all["logs_bucket"], "conventions-logs-a");
    assert!(all["app_group"].as_str().is_some_and(|a| a.starts_with("arn:aws:logs:eu-west-1:")), "{all}");
    let out = output(&[]);
    assert!(text(&out).0.contains("logs_bucket = \"conventions-logs-a\""), "{}", text(&out).0);
    let out = output(&["logs_bukcet"]);
    assert_exit(&out, 2);
    assert!(text(&out).1.contains("did you mean `logs_bucket`?"), "{}", text(&out).1);
}

/// Declining on a terminal changes nothing and exits 10 (util-linux's `script` gives drone a terminal).
#[test]
fn declining_the_confirmation_exits_non_zero() {
    let (moto, dir) = setup();
    let drone_bin = env!("CARGO_BIN_EXE_drone");
    let command = format!("{drone_bin} run w.drone --state state.json --disable-policy data");
    let mut cmd = drone(Some(&moto.url));
    let out = cmd
        .current_dir(dir.path())
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .current_dir(dir.path())
        .envs(out.get_envs().filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("util-linux script");
    use std::io::Write;
    child.stdin.take().expect("stdin").write_all(b"n\n").expect("answer");
    let out = child.wait_with_output().expect("script");
    assert_eq!(out.status.code(), Some(10), "{}", String::from_utf8_lossy(&out.stdout));
    assert!(String::from_utf8_lossy(&out.stdout).contains("cancelled; nothing was changed"));
    assert!(
        !dir.path().join("state.json").exists() || {
            let state = std::fs::read_to_string(dir.path().join("state.json")).unwrap_or_default();
            !state.contains("aws.s3.bucket.logs")
        }
    );
}

/// `create_before_destroy`: the replacement is made before its predecessor is deleted (the
/// journal of calls shows the order), and state never records both under one address.
#[test]
fn create_before_destroy_makes_the_replacement_first() {
    let (moto, dir) = setup();
    let cbd = WORKFLOW.replace(
        "  retention_in_days = 30\n}",
        "  retention_in_days = 30\n  lifecycle         = { create_before_destroy = true }\n}",
    );
    std::fs::write(dir.path().join("w.drone"), &cbd).expect("write");
    assert_exit(&drone_in(&moto, dir.path(), &["run", "w.drone", "--yes"]), 0);
    // Renaming the bucket renames the group that carries its name: both are replaced, the
    // bucket by deleting first (the default), the group by creating first.
    let journal = dir.path().join("calls.jsonl");
    let out = drone_in(
        &moto,
        dir.path(),
        &["run", "w.drone", "--yes", "--param", "suffix=b", "--call-log", journal.to_str().expect("utf-8")],
    );
    assert_exit(&out, 0);
    assert!(text(&out).0.contains("Apply complete: 2 created, 0 updated, 2 deleted."), "{}", text(&out).0);
    let calls: Vec<serde_json::Value> = std::fs::read_to_string(&journal)
        .expect("journal")
        .lines()
        .map(|l| serde_json::from_str(l).expect("call"))
        .collect();
    let at = |operation: &str, id: &str| {
        calls
            .iter()
            .position(|c| {
                c["operation"].as_str().is_some_and(|o| o.ends_with(operation))
                    && c["id"].as_str().is_some_and(|i| i.contains(id))
            })
            .unwrap_or_else(|| panic!("no {operation} of {id} in {calls:#?}"))
    };
    assert!(at("CreateLogGroup", "conventions-logs-b") < at("DeleteLogGroup", "conventions-logs-a"), "{calls:#?}");
    assert!(at("DeleteBucket", "conventions-logs-a") < at("CreateBucket", "conventions-logs-b"), "{calls:#?}");
    let state = std::fs::read_to_string(dir.path().join("state.json")).expect("state");
    assert!(!state.contains("#deposed"), "{state}");
    assert!(state.contains("/conventions/conventions-logs-b") && !state.contains("/conventions/conventions-logs-a"));
}

/// The small conveniences: `check DIR`, a required parameter unknown to `check`, shell
/// completions, `task --list` and a task's `--help`, object fields in `--list-types`, the
/// policy summary said once.
#[test]
fn the_small_conveniences_of_the_daily_loop() {
    let root = super::support::root();
    let out = run(drone(None).current_dir(&root).args(["check", "workflows"]));
    assert_exit(&out, 0);
    let stdout = text(&out).0;
    for workflow in ["bootstrap", "dev", "prod", "staging"] {
        assert!(stdout.contains(&format!("workflows/{workflow}.drone: ")), "{stdout}");
    }
    // Said once per file: on the file's line, not a second time on its own.
    let out = run(drone(None).current_dir(&root).args(["check", "workflows/prod.drone"]));
    let (stdout, stderr) = text(&out);
    assert_eq!(format!("{stdout}{stderr}").matches("policy: 0 errors").count(), 1, "{stdout}{stderr}");

    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(
        dir.path().join("w.drone"),
        "workflow \"w\" {}\n\nparam bucket: string\n\nresource aws.s3.bucket logs {\n  name          = bucket\n  versioning    = true\n  encryption    = \"AES256\"\n  force_destroy = true\n}\n",
    )
    .expect("write");
    let out = run(drone(None).current_dir(dir.path()).args(["check", "w.drone", "--disable-policy", "data"]));
    assert_exit(&out, 0);
    let out = run(drone(Some("http://127.0.0.1:9")).current_dir(dir.path()).args(["plan", "w.drone"]));
    assert_exit(&out, 3);
    assert!(text(&out).1.contains("missing value for parameter `bucket`"), "{}", text(&out).1);

    let out = run(drone(None).args(["completions", "bash"]));
    assert_exit(&out, 0);
    assert!(text(&out).0.contains("_drone()") && text(&out).0.contains("complete -F _drone"), "{}", text(&out).0);

    let out = run(drone(None).current_dir(&root).args(["task", "workflows/prod.drone", "--list"]));
    assert_exit(&out, 0);
    assert!(text(&out).0.starts_with("delete_posts  (ids: list(string) = []"), "{}", text(&out).0);
    let out = run(drone(None).current_dir(&root).args(["task", "workflows/prod.drone", "delete_posts", "--help"]));
    assert_exit(&out, 0);
    assert!(text(&out).0.contains("  --arg batch=...  number (default 500)"), "{}", text(&out).0);
    assert!(text(&out).0.contains("mysql on data.primary.aws.rds.cluster.ghost"), "{}", text(&out).0);
    let out = run(drone(None).current_dir(&root).args(["task", "workflows/prod.drone", "delete_post", "--help"]));
    assert_exit(&out, 2);
    assert!(text(&out).1.contains("did you mean `delete_posts`?"), "{}", text(&out).1);

    let out = run(drone(None).args(["check", "--list-types"]));
    assert!(text(&out).0.contains("    .mounts (list(object), optional): volumes mounted into the container\n      .volume (string, required)"), "{}", text(&out).0);
}

const LOOPED: &str = r#"workflow "looped" {}

provider aws main {
  region  = "eu-west-1"
  default = true
}

for zone in ["a", "b"] {
  resource aws.logs.log_group zone {
    name              = "/looped/${zone}"
    retention_in_days = 30
  }
}

resource aws.s3.bucket kept {
  name       = "looped-kept"
  versioning = true
  encryption = "AES256"
}
"#;

/// `state show` of a looped block names its instances' keys; a destroy that meets a bucket
/// still holding objects says what to do about it, and calls itself a destroy.
#[tokio::test(flavor = "multi_thread")]
async fn state_show_names_a_loops_keys_and_a_failed_destroy_says_what_to_do() {
    let moto = Moto::start();
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("w.drone"), LOOPED).expect("write");
    assert_exit(&drone_in(&moto, dir.path(), &["run", "w.drone", "--yes"]), 0);
    let out = run(drone(None).current_dir(dir.path()).args([
        "state",
        "show",
        "w.drone",
        "aws.logs.log_group.zone",
        "--state",
        "state.json",
    ]));
    assert_exit(&out, 2);
    let stderr = text(&out).1;
    assert!(stderr.contains("`aws.logs.log_group.zone` is a loop"), "{stderr}");
    assert!(stderr.contains(r#"aws.logs.log_group.zone["a"], aws.logs.log_group.zone["b"]"#), "{stderr}");

    let s3 = super::support::s3_client(&sdk_config(&moto.url).await);
    let body = aws_sdk_s3::primitives::ByteStream::from_static(b"an access log");
    s3.put_object().bucket("looped-kept").key("2026/12/07.log").body(body).send().await.expect("object");
    let out = drone_in(&moto, dir.path(), &["destroy", "w.drone", "--yes"]);
    assert_exit(&out, 5);
    let stdout = text(&out).0;
    assert!(stdout.contains("Destroy failed: 0 created, 0 updated, 2 deleted, 1 failed"), "{stdout}");
    assert!(
        stdout.contains("hint: the bucket still holds objects or object versions: set `force_destroy = true`"),
        "{stdout}"
    );
}

/// On a terminal the plan is coloured; `--no-color` (and `NO_COLOR`) turn it off.
#[test]
fn the_plan_is_coloured_on_a_terminal_unless_asked_not_to_be() {
    let (moto, dir) = setup();
    let on_a_terminal = |extra: &str, no_color_env: bool| {
        let drone_bin = env!("CARGO_BIN_EXE_drone");
        let command = format!("{drone_bin} plan w.drone --state state.json --disable-policy data {extra}");
        let template = drone(Some(&moto.url));
        let mut cmd = std::process::Command::new("script");
        cmd.args(["-qec", &command, "/dev/null"])
            .current_dir(dir.path())
            .envs(template.get_envs().filter_map(|(k, v)| v.map(|v| (k.to_owned(), v.to_owned()))))
            .stdin(std::process::Stdio::null());
        if !no_color_env {
            cmd.env_remove("NO_COLOR");
        }
        let out = cmd.output().expect("util-linux script");
        assert_eq!(out.status.code(), Some(0), "{}", String::from_utf8_lossy(&out.stdout));
        String::from_utf8_lossy(&out.stdout).into_owned()
    };
    let coloured = on_a_terminal("", false);
    assert!(coloured.contains("\x1b[32m+\x1b[0m aws.s3.bucket.logs"), "{coloured:?}");
    let plain = on_a_terminal("--no-color", false);
    assert!(plain.contains("+ aws.s3.bucket.logs") && !plain.contains("\x1b[32m"), "{plain:?}");
    let plain = on_a_terminal("", true);
    assert!(!plain.contains("\x1b[32m"), "{plain:?}");
}
