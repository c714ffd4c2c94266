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
    let nvim = which_nvim();
    let dir = tempfile::tempdir().expect("dir");
    let file = dir.path().join("shop.drone");
    std::fs::write(&file, WORKFLOW).expect("write");
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
        // `let name` (line 3, character 5) and the resource type of `app` (line 5).
        .args(["--cmd", "let g:drone_test_references = [3, 5]", "--cmd", "let g:drone_test_hover = [5, 10]"])
        .args(["-c", &format!("luafile {}", root().join("tests/fixtures/nvim/check.lua").display())])
        .arg(&file)
        .stdin(std::process::Stdio::null())
        .status()
        .expect("run nvim");
    assert!(status.success(), "nvim exited with {status}");
    serde_json::from_str(&std::fs::read_to_string(&out).expect("the script's answers")).expect("json")
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
