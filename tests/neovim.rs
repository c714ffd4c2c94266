//! The language server in Neovim as a user runs it: Debian's Neovim (0.7.2 in
//! bookworm), headless, with editors/nvim on its runtime path and nothing
//! else. Its filetype plugin starts `drone lsp` through Neovim's own client;
//! tests/fixtures/nvim/check.lua then asks what the editor asks (diagnostics,
//! references, hover, rename, symbols, folds, and the did-you-mean fix, which
//! Neovim echoes in its own units) and writes the answers down.

use std::process::Command;

use serde_json::Value;

use super::support::root;

/// A workflow as a user has it open: an undefined name after non-ASCII text on its line, a let
/// that attribute keys and a comment also spell.
const WORKFLOW: &str = "workflow \"nvim\" {}\n\n// The name every log group's name begins with.\nlet name = \"shop\"\n\nresource aws.logs.log_group app {\n  name              = \"/${name}/app\"\n  retention_in_days = 365\n  tags              = { \"clé🔑\" = \"x\", name = nmae }\n}\n\noutput where = name\n";

/// Runs the check script in headless Neovim on `WORKFLOW`; its answers.
fn neovim_answers() -> Value {
    let dir = tempfile::tempdir().expect("dir");
    let globals = ["let g:drone_test_references = [3, 5]", "let g:drone_test_hover = [5, 10]"];
    run_in_neovim(&dir, &[("shop.drone", WORKFLOW)], "check.lua", &globals)
}

/// Writes `files` into `dir`, opens the first in headless Neovim with `globals` set, runs
/// tests/fixtures/nvim/`script`, and returns what it wrote down.
fn run_in_neovim(dir: &tempfile::TempDir, files: &[(&str, &str)], script: &str, globals: &[&str]) -> Value {
    let nvim = which_nvim();
    for (name, text) in files {
        std::fs::write(dir.path().join(name), text).expect("write");
    }
    let file = dir.path().join(files[0].0);
    let out = dir.path().join("answers.json");
    let server = format!("let g:drone_lsp_cmd = ['{}', 'lsp']", env!("CARGO_BIN_EXE_drone"));
    let status = Command::new(nvim)
        .current_dir(dir.path())
        // Neovim's state and swap files stay in the test's directory.
        .env("XDG_STATE_HOME", dir.path())
        .env("XDG_DATA_HOME", dir.path())
        .args(["--headless", "--clean", "-n", "-i", "NONE"])
        .args(["--cmd", &format!("set rtp^={}", root().join("editors/nvim").display())])
        .args(["--cmd", "filetype plugin on", "--cmd", "syntax on", "--cmd", &server])
        .args(["--cmd", &format!("let g:drone_test_out = '{}'", out.display())])
        .args(globals.iter().flat_map(|g| ["--cmd", g]))
        .args(["-c", &run_or_report(&root().join("tests/fixtures/nvim").join(script))])
        .arg(&file)
        .stdin(std::process::Stdio::null())
        .status()
        .expect("run nvim");
    assert!(status.success(), "nvim exited with {status}");
    serde_json::from_str(&std::fs::read_to_string(&out).expect("the script's answers")).expect("json")
}

/// The command that runs the Lua script at `path`: when the script fails, its error is what it
/// writes down, and Neovim quits all the same (it would otherwise wait for a user).
fn run_or_report(path: &std::path::Path) -> String {
    format!(
        "lua local ok, err = pcall(dofile, '{}'); if not ok then vim.fn.writefile({{ vim.fn.json_encode({{ error = tostring(err) }}) }}, vim.g.drone_test_out) end; vim.cmd('qa!')",
        path.display()
    )
}

/// Debian's `nvim`: the README's test command installs it (scripts/neovim.sh).
fn which_nvim() -> &'static str {
    let found = Command::new("nvim").arg("--version").output().is_ok_and(|o| o.status.success());
    assert!(found, "nvim is not installed: scripts/test installs Debian's neovim package");
    "nvim"
}

#[test]
fn neovim_runs_the_language_server_through_its_filetype_plugin() {
    let answers = neovim_answers();
    assert_eq!(answers["filetype"], "drone", "{answers}");
    assert_eq!(answers["syntax"], "drone", "{answers}");
    assert_eq!(answers["commentstring"], "// %s", "{answers}");
    assert_eq!(answers["attached"], true, "the filetype plugin started `drone lsp`: {answers}");
    let codes: Vec<&str> =
        answers["diagnostics"].as_array().expect("diagnostics").iter().filter_map(|d| d["code"].as_str()).collect();
    assert_eq!(codes, ["drone::resolve::undefined"], "{answers}");
    // The let's declaration and its two uses: not the attribute keys, not the comment.
    let lines: Vec<u64> = answers["references"]
        .as_array()
        .expect("references")
        .iter()
        .filter_map(|l| l["range"]["start"]["line"].as_u64())
        .collect();
    assert_eq!(lines, [3, 6, 11], "{answers}");
    let renamed = answers["rename"]["changes"].as_object().and_then(|c| c.values().next()).cloned();
    assert_eq!(renamed.and_then(|e| e.as_array().map(Vec::len)), Some(3), "{answers}");
    assert!(answers["hover"]["contents"]["value"].as_str().is_some_and(|v| v.contains("aws.logs.log_group")));
    let symbols: Vec<&str> =
        answers["symbols"].as_array().expect("symbols").iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(symbols, ["let name", "aws.logs.log_group.app", "output where"], "{answers}");
    assert_eq!(answers["folds"][0]["startLine"], 5, "{answers}");
    // The fix lands on the misspelt name although the client counts the line its own way.
    assert_eq!(answers["actions"][0], "Change to `name`", "{answers}");
    assert_eq!(answers["fixed_line"], "  tags              = { \"clé🔑\" = \"x\", name = name }", "{answers}");
}

/// The component a workflow uses, and the workflow: an instance, an output read from it, and an
/// undefined name after the instance.
const STORE: &str = "component store {\n  input name: string\n\n  resource aws.logs.log_group main {\n    name              = name\n    retention_in_days = 365\n  }\n\n  output group_name = aws.logs.log_group.main.name\n}\n";
const USER: &str = "workflow \"u\" {}\n\nuse \"store.drone\" as lib\n\ninstance lib.store primary {\n  name = \"/u\"\n}\n\noutput where = store.primary.group_name\n\noutput later = missing_after\n";

#[test]
fn neovim_sees_components_unsaved_imports_and_unclosed_blocks() {
    let dir = tempfile::tempdir().expect("dir");
    // The output's name in `store.primary.group_name` (line 8); the instance's `}` (line 6).
    let globals = ["let g:drone_test_output = {'line': 8, 'character': 30}", "let g:drone_test_brace = 6"];
    let answers = run_in_neovim(&dir, &[("user.drone", USER), ("store.drone", STORE)], "components.lua", &globals);
    let top = &answers["symbols"][0];
    assert_eq!(top["name"], "component store", "{answers}");
    let children: Vec<&str> =
        top["children"].as_array().expect("children").iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(children, ["input name", "aws.logs.log_group.main", "output group_name"], "{answers}");
    // The component's buffer has three more lines than its file: definition lands in the buffer.
    assert_eq!(answers["store_modified"], true, "{answers}");
    let definition = if answers["definition"].is_array() { &answers["definition"][0] } else { &answers["definition"] };
    assert_eq!(definition["range"]["start"]["line"], 8 + 3, "{answers}");
    // With the instance's brace gone, the name undefined after it still shows beside the error.
    let broken: Vec<&str> = answers["broken"].as_array().expect("codes").iter().filter_map(Value::as_str).collect();
    assert_eq!(broken, ["drone::resolve::undefined", "drone::syntax::unexpected"], "{answers}");
}

/// A component that declares a repository the data rules find fault with, and a workflow that
/// instantiates it.
const REGISTRY: &str =
    "component registry {\n  input name: string\n\n  resource aws.ecr.repository images {\n    name = name\n  }\n}\n";
const SHIPS: &str =
    "workflow \"ships\" {}\n\nuse \"comp.drone\" as c\n\ninstance c.registry primary {\n  name = \"app\"\n}\n";

#[test]
fn neovim_shows_a_components_findings_in_its_own_buffer_with_their_fixes() {
    let dir = tempfile::tempdir().expect("dir");
    let answers =
        run_in_neovim(&dir, &[("ships.drone", SHIPS), ("comp.drone", REGISTRY)], "component_findings.lua", &[]);
    let codes = |key: &str| -> Vec<String> {
        answers[key].as_array().expect("codes").iter().filter_map(|c| c.as_str().map(String::from)).collect()
    };
    let expected = ["policy::data.ecr_immutable_tags", "policy::data.ecr_scan_on_push"];
    assert_eq!(codes("workflow"), expected, "{answers}");
    assert_eq!(codes("component"), expected, "{answers}");
    // On the repository's block in the component (line 3), not on the workflow's instance.
    assert_eq!(answers["lines"], serde_json::json!([3, 3]), "{answers}");
    let actions: Vec<&str> = answers["actions"].as_array().expect("actions").iter().filter_map(Value::as_str).collect();
    assert!(actions.iter().any(|a| a.starts_with("Allow")), "{answers}");
    assert!(actions.iter().any(|a| !a.starts_with("Allow")), "a mechanical fix as well: {answers}");
}
