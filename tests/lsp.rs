//! `drone lsp` through the real binary over stdio, with a small JSON-RPC
//! client: diagnostics on open and after an incremental edit, completion,
//! hover, definition across two files, symbols, formatting, a malformed
//! message answered without ending the session, shutdown and exit.

use std::io::{BufRead, BufReader, Read, Write};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::time::Duration;

use serde_json::{json, Value};

struct Client {
    child: Child,
    stdin: ChildStdin,
    messages: Receiver<Value>,
    next: i64,
    /// The version of the last change sent.
    version: i64,
}

impl Client {
    fn start() -> Client {
        Client::start_with(&[])
    }

    /// Starts `drone lsp` with `env` set.
    fn start_with(env: &[(&str, &str)]) -> Client {
        let mut child = Command::new(env!("CARGO_BIN_EXE_drone"))
            .arg("lsp")
            .envs(env.iter().copied())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("drone lsp");
        let stdin = child.stdin.take().expect("stdin");
        let mut stdout = BufReader::new(child.stdout.take().expect("stdout"));
        let (send, messages) = std::sync::mpsc::channel();
        std::thread::spawn(move || loop {
            let mut length = 0usize;
            loop {
                let mut line = String::new();
                if stdout.read_line(&mut line).unwrap_or(0) == 0 {
                    return;
                }
                let line = line.trim();
                if line.is_empty() {
                    break;
                }
                if let Some(n) = line.strip_prefix("Content-Length:") {
                    length = n.trim().parse().unwrap_or(0);
                }
            }
            let mut body = vec![0u8; length];
            if stdout.read_exact(&mut body).is_err() {
                return;
            }
            let Ok(message) = serde_json::from_slice(&body) else { return };
            if send.send(message).is_err() {
                return;
            }
        });
        Client { child, stdin, messages, next: 1, version: 100 }
    }

    fn raw(&mut self, body: &[u8]) {
        write!(self.stdin, "Content-Length: {}\r\n\r\n", body.len()).expect("write");
        self.stdin.write_all(body).expect("write");
        self.stdin.flush().expect("flush");
    }

    fn send(&mut self, message: Value) {
        self.raw(message.to_string().as_bytes());
    }

    fn next_message(&mut self) -> Value {
        match self.messages.recv_timeout(Duration::from_secs(60)) {
            Ok(message) => message,
            Err(RecvTimeoutError::Timeout) => panic!("no message from the server within a minute"),
            Err(RecvTimeoutError::Disconnected) => panic!("the server closed its output"),
        }
    }

    /// Sends a request and returns its response (notifications in between are dropped).
    fn request(&mut self, method: &str, params: Value) -> Value {
        let id = self.next;
        self.next += 1;
        self.send(json!({ "jsonrpc": "2.0", "id": id, "method": method, "params": params }));
        loop {
            let message = self.next_message();
            if message["id"] == id {
                return message;
            }
        }
    }

    /// Replaces the whole text of the open document `uri`.
    fn change(&mut self, uri: &str, text: &str) {
        self.version += 1;
        let version = self.version;
        self.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": version }, "contentChanges": [{ "text": text }] }),
        );
    }

    /// The labels of the completion items offered at `position`.
    fn completion_labels(&mut self, uri: &str, position: Value) -> Vec<String> {
        let reply =
            self.request("textDocument/completion", json!({ "textDocument": { "uri": uri }, "position": position }));
        let items = reply["result"]["items"].as_array().cloned().unwrap_or_default();
        items.iter().filter_map(|i| i["label"].as_str().map(String::from)).collect()
    }

    /// Opens `uri` with `text` and returns its first diagnostics.
    fn open(&mut self, uri: &str, text: &str) -> Vec<Value> {
        self.notify(
            "textDocument/didOpen",
            json!({ "textDocument": { "uri": uri, "languageId": "drone", "version": 1, "text": text } }),
        );
        self.diagnostics(uri)
    }

    /// The code actions offered for `diagnostics`.
    fn code_actions(&mut self, uri: &str, diagnostics: &[Value]) -> Vec<Value> {
        let range = diagnostics.first().map(|d| d["range"].clone()).unwrap_or(Value::Null);
        let reply = self.request(
            "textDocument/codeAction",
            json!({ "textDocument": { "uri": uri }, "range": range, "context": { "diagnostics": diagnostics } }),
        );
        reply["result"].as_array().cloned().unwrap_or_default()
    }

    /// Ends the session as an editor does, and waits for the server to exit.
    fn stop(mut self) -> Option<i32> {
        self.request("shutdown", Value::Null);
        self.notify("exit", Value::Null);
        self.child.wait().ok().and_then(|s| s.code())
    }

    fn notify(&mut self, method: &str, params: Value) {
        self.send(json!({ "jsonrpc": "2.0", "method": method, "params": params }));
    }

    /// The next diagnostics published for `uri`.
    fn diagnostics(&mut self, uri: &str) -> Vec<Value> {
        loop {
            let message = self.next_message();
            if message["method"] == "textDocument/publishDiagnostics" && message["params"]["uri"] == uri {
                return message["params"]["diagnostics"].as_array().cloned().unwrap_or_default();
            }
        }
    }
}

const MAIN: &str = r#"workflow "editor" {}

use "names.drone" as names

resource aws.logs.log_group app {
  name              = names.app_logs
  retention_in_days = 365
  colour            = "blue"
}

resource aws.logs.log_group audit {
  name              = "${aws.logs.log_group.app.name}-audit"
  retention_in_days = 365
}
"#;

/// `text` with `edits` (ranges on `text`, ASCII) applied.
fn apply_edits(text: &str, edits: &[Value]) -> String {
    let offset = |p: &Value| -> usize {
        let line = p["line"].as_u64().unwrap_or(0) as usize;
        let start: usize = text.split_inclusive('\n').take(line).map(str::len).sum();
        start + p["character"].as_u64().unwrap_or(0) as usize
    };
    let mut spans: Vec<(usize, usize, &str)> = edits
        .iter()
        .map(|e| (offset(&e["range"]["start"]), offset(&e["range"]["end"]), e["newText"].as_str().unwrap_or_default()))
        .collect();
    spans.sort_by_key(|(start, ..)| std::cmp::Reverse(*start));
    let mut out = text.to_string();
    for (start, end, new) in spans {
        out.replace_range(start.min(out.len())..end.min(out.len()), new);
    }
    out
}

fn position(text: &str, needle: &str, after: usize) -> Value {
    let at = text.find(needle).expect("needle") + after;
    let line = text[..at].matches('\n').count();
    let column = at - text[..at].rfind('\n').map_or(0, |i| i + 1);
    json!({ "line": line, "character": column })
}

#[test]
fn the_language_server_answers_over_stdio() {
    let dir = tempfile::tempdir().expect("dir");
    std::fs::write(dir.path().join("names.drone"), "let app_logs = \"/app\"\n").expect("write");
    let main = dir.path().join("main.drone");
    std::fs::write(&main, MAIN).expect("write");
    let uri = format!("file://{}", main.display());
    let names_uri = format!("file://{}", dir.path().join("names.drone").display());

    let mut client = Client::start();
    let init = client.request("initialize", json!({ "processId": null, "rootUri": null, "capabilities": {} }));
    assert_eq!(init["result"]["capabilities"]["textDocumentSync"]["change"], 2, "{init}");
    client.notify("initialized", json!({}));

    // Open: the unknown attribute, with its code, range and did-you-mean.
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "drone", "version": 1, "text": MAIN } }),
    );
    let diagnostics = client.diagnostics(&uri);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    assert_eq!(diagnostics[0]["code"], "drone::type::unknown_attribute");
    assert_eq!(diagnostics[0]["range"]["start"], position(MAIN, "colour", 0));
    assert_eq!(diagnostics[0]["range"]["end"], position(MAIN, "colour", 6));

    // An incremental edit removes the line: clean, as `drone check` says.
    let start = position(MAIN, "  colour", 0);
    let end = position(MAIN, "  colour            = \"blue\"\n", 29);
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 2 }, "contentChanges": [{ "range": { "start": start, "end": end }, "text": "" }] }),
    );
    let diagnostics = client.diagnostics(&uri);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    let text = MAIN.replace("  colour            = \"blue\"\n", "");

    // A policy finding shows with its rule as code.
    let short = text.replace(
        "  retention_in_days = 365\n}\n\nresource aws.logs.log_group audit",
        "}\n\nresource aws.logs.log_group audit",
    );
    client.change(&uri, &short);
    let diagnostics = client.diagnostics(&uri);
    assert!(
        diagnostics.iter().any(|d| d["code"] == "policy::data.log_retention" && d["severity"] == 1),
        "{diagnostics:#?}"
    );
    client.change(&uri, &text);
    assert!(client.diagnostics(&uri).is_empty());

    // The imported file, open and edited: the document that uses it is checked again.
    client.notify("textDocument/didOpen", json!({ "textDocument": { "uri": names_uri, "languageId": "drone", "version": 1, "text": "let app_logs = \"/app\"\n" } }));
    assert!(client.diagnostics(&names_uri).is_empty());
    assert!(client.diagnostics(&uri).is_empty());
    client.change(&names_uri, "let logs = \"/app\"\n");
    assert!(client.diagnostics(&names_uri).is_empty());
    let using = client.diagnostics(&uri);
    assert!(using.iter().any(|d| d["message"].as_str().is_some_and(|m| m.contains("app_logs"))), "{using:#?}");
    client.change(&names_uri, "let app_logs = \"/app\"\n");
    assert!(client.diagnostics(&names_uri).is_empty());
    assert!(client.diagnostics(&uri).is_empty());

    // Completion: resource types after `resource`, attributes inside a block.
    let typed = format!("{text}\nresource ");
    client.change(&uri, &typed);
    let end_of = json!({ "line": typed.matches('\n').count(), "character": 9 });
    let types =
        client.request("textDocument/completion", json!({ "textDocument": { "uri": uri }, "position": end_of }));
    let labels: Vec<&str> =
        types["result"]["items"].as_array().expect("items").iter().filter_map(|i| i["label"].as_str()).collect();
    assert!(labels.contains(&"aws.s3.bucket") && labels.contains(&"aws.rds.cluster"), "{labels:?}");
    client.change(&uri, &text);
    let inside = position(&text, "  retention_in_days = 365\n}\n\nresource aws.logs.log_group audit", 0);
    let attributes =
        client.request("textDocument/completion", json!({ "textDocument": { "uri": uri }, "position": inside }));
    let retention = attributes["result"]["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|i| i["label"] == "retention_in_days")
        .cloned();
    assert!(retention.is_some_and(|r| r["detail"].as_str().is_some_and(|d| d.contains("number"))), "{attributes}");

    // References complete: the names of a type, then a resource's attributes (known after apply too).
    let reference = format!("{text}\noutput arn = aws.logs.log_group.");
    client.change(&uri, &reference);
    let end = json!({ "line": reference.matches('\n').count(), "character": "output arn = aws.logs.log_group.".len() });
    let names = client.request("textDocument/completion", json!({ "textDocument": { "uri": uri }, "position": end }));
    let labels: Vec<&str> =
        names["result"]["items"].as_array().expect("items").iter().filter_map(|i| i["label"].as_str()).collect();
    assert_eq!(labels, ["app", "audit"]);
    let reference = format!("{text}\noutput arn = aws.logs.log_group.app.");
    client.change(&uri, &reference);
    let end =
        json!({ "line": reference.matches('\n').count(), "character": "output arn = aws.logs.log_group.app.".len() });
    let attributes =
        client.request("textDocument/completion", json!({ "textDocument": { "uri": uri }, "position": end }));
    let labels: Vec<&str> =
        attributes["result"]["items"].as_array().expect("items").iter().filter_map(|i| i["label"].as_str()).collect();
    assert!(labels.contains(&"arn") && labels.contains(&"retention_in_days"), "{labels:?}");
    client.change(&uri, &text);

    // Where a value starts: params, lets and functions.
    let valued = format!("{text}\nlet region = \"eu-west-1\"\noutput where = ");
    client.change(&uri, &valued);
    let end = json!({ "line": valued.matches('\n').count(), "character": "output where = ".len() });
    let values = client.request("textDocument/completion", json!({ "textDocument": { "uri": uri }, "position": end }));
    let items = values["result"]["items"].as_array().expect("items");
    assert!(items.iter().any(|i| i["label"] == "region" && i["detail"] == "let"), "{values}");
    assert!(
        items
            .iter()
            .any(|i| i["label"] == "cidrsubnet" && i["detail"].as_str().is_some_and(|d| d.starts_with("cidrsubnet("))),
        "{values}"
    );

    // Hover on a function: its signature.
    let with_call =
        text.replace("\"${aws.logs.log_group.app.name}-audit\"", "lower(\"${aws.logs.log_group.app.name}-audit\")");
    client.change(&uri, &with_call);
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": position(&with_call, "lower(", 2) }),
    );
    assert!(hover["result"]["contents"]["value"].as_str().is_some_and(|v| v.starts_with("`lower(")), "{hover}");
    client.change(&uri, &text);

    // Hover on an attribute: its type, whether it is required, and its doc.
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": position(&text, "retention_in_days", 3) }),
    );
    let shown = hover["result"]["contents"]["value"].as_str().unwrap_or_default().to_string();
    assert!(shown.contains("`retention_in_days`: number"), "{hover}");

    // Definition: a resource in this file, a let in the imported one.
    let reference = position(&text, "aws.logs.log_group.app.name}", 22);
    let definition =
        client.request("textDocument/definition", json!({ "textDocument": { "uri": uri }, "position": reference }));
    assert_eq!(definition["result"]["uri"], uri.as_str());
    assert_eq!(definition["result"]["range"]["start"], position(&text, "app {", 0));
    let imported = client.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": uri }, "position": position(&text, "names.app_logs", 8) }),
    );
    assert_eq!(imported["result"]["uri"], names_uri.as_str(), "{imported}");
    assert_eq!(imported["result"]["range"]["start"], json!({ "line": 0, "character": 4 }));

    // References: the declaration and every use; workspace symbols across the folder's files.
    let references = client.request("textDocument/references", json!({ "textDocument": { "uri": uri }, "position": position(&text, "app {", 1), "context": { "includeDeclaration": true } }));
    let starts: Vec<Value> =
        references["result"].as_array().expect("locations").iter().map(|l| l["range"]["start"].clone()).collect();
    assert_eq!(
        starts,
        [position(&text, "app {", 0), position(&text, "aws.logs.log_group.app.name", 0)],
        "{references}"
    );
    std::fs::write(
        dir.path().join("other.drone"),
        "phase later {\n  resource aws.s3.bucket logs_archive {\n    name = \"x\"\n  }\n}\n",
    )
    .expect("write");
    let symbols = client.request("workspace/symbol", json!({ "query": "log" }));
    let names: Vec<&str> =
        symbols["result"].as_array().expect("symbols").iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(
        names,
        ["aws.logs.log_group.app", "aws.logs.log_group.audit", "aws.s3.bucket.logs_archive"],
        "{symbols}"
    );

    // Components: an instance's output and the component itself, in the file `use` imports.
    let component = "component store {\n  input name: string\n\n  resource aws.logs.log_group main {\n    name              = name\n    retention_in_days = 365\n  }\n\n  output group_name = aws.logs.log_group.main.name\n}\n";
    std::fs::write(dir.path().join("store.drone"), component).expect("write");
    let user = "workflow \"c\" {}\n\nuse \"store.drone\" as lib\n\ninstance lib.store primary {\n  name = \"/c\"\n}\n\noutput where = store.primary.group_name\n";
    let user_uri = format!("file://{}", dir.path().join("user.drone").display());
    let store_uri = format!("file://{}", dir.path().join("store.drone").display());
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": user_uri, "languageId": "drone", "version": 1, "text": user } }),
    );
    let diagnostics = client.diagnostics(&user_uri);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    let output = client.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": user_uri }, "position": position(user, "group_name", 3) }),
    );
    assert_eq!(output["result"]["uri"], store_uri.as_str(), "{output}");
    assert_eq!(output["result"]["range"]["start"], position(component, "group_name", 0));
    let declared = client.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": user_uri }, "position": position(user, "store primary", 2) }),
    );
    assert_eq!(declared["result"]["range"]["start"], position(component, "store {", 0), "{declared}");
    // The component open in the editor, three lines added on top and a new output, unsaved:
    // definition, completion and hover read it as the diagnostics do, not the file on disk.
    let edited = format!(
        "// The store.\n// Its log group.\n\n{}",
        component.replace("\n}\n", "\n  output retention = aws.logs.log_group.main.retention_in_days\n}\n")
    );
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": store_uri, "languageId": "drone", "version": 1, "text": edited } }),
    );
    let _ = client.diagnostics(&store_uri);
    let output = client.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": user_uri }, "position": position(user, "group_name", 3) }),
    );
    assert_eq!(output["result"]["range"]["start"], position(&edited, "group_name", 0), "{output}");
    let typed = user.replace("output where = store.primary.group_name", "output where = store.primary.");
    client.change(&user_uri, &typed);
    let _ = client.diagnostics(&user_uri);
    let labels = client.completion_labels(&user_uri, position(&typed, "store.primary.", 14));
    assert!(labels.contains(&"retention".to_string()) && labels.contains(&"group_name".to_string()), "{labels:?}");
    let hovered = typed.replace("store.primary.", "store.primary.retention");
    client.change(&user_uri, &hovered);
    let _ = client.diagnostics(&user_uri);
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": user_uri }, "position": position(&hovered, "primary.retention", 9) }),
    );
    assert!(hover["result"]["contents"]["value"].as_str().is_some_and(|v| v.contains("output `retention`")), "{hover}");
    client.change(&user_uri, user);
    let _ = client.diagnostics(&user_uri);

    // Symbols and formatting.
    let symbols = client.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": uri } }));
    let names: Vec<&str> =
        symbols["result"].as_array().expect("symbols").iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names, ["aws.logs.log_group.app", "aws.logs.log_group.audit"]);
    let messy = text.replace(
        "retention_in_days = 365\n}\n\nresource aws.logs.log_group audit",
        "retention_in_days    =     365\n}\nresource aws.logs.log_group audit",
    );
    client.change(&uri, &messy);
    let edits = client.request(
        "textDocument/formatting",
        json!({ "textDocument": { "uri": uri }, "options": { "tabSize": 2, "insertSpaces": true } }),
    );
    assert_eq!(edits["result"][0]["newText"], text.as_str(), "{edits}");

    // A malformed message is answered, and the session goes on.
    client.raw(b"{ this is not json");
    let answer = client.next_message();
    assert_eq!(answer["error"]["code"], -32700, "{answer}");
    // Bytes that are not UTF-8 are no JSON message either.
    client.raw(b"{\"jsonrpc\": \"2.0\", \"method\": \"\xff\xfe\"}");
    assert_eq!(client.next_message()["error"]["code"], -32700);
    // A file nested too deep for the parser gets its diagnostic, not a crash.
    let deep_uri = format!("file://{}", dir.path().join("deep.drone").display());
    let deep = format!("let x = {}1{}\n", "[".repeat(100_000), "]".repeat(100_000));
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": deep_uri, "languageId": "drone", "version": 1, "text": deep } }),
    );
    let diagnostics = client.diagnostics(&deep_uri);
    assert!(diagnostics.iter().any(|d| d["code"] == "drone::syntax::too_deep"), "{diagnostics:#?}");
    let unknown = client.request("textDocument/unknownThing", json!({}));
    assert_eq!(unknown["error"]["code"], -32601);
    let still = client.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": uri } }));
    assert!(still["result"].is_array());

    // Quick fixes: the did-you-mean, applied, gives a file that checks clean; a finding gets an @allow.
    let typo = text.replace(
        "retention_in_days = 365\n}\n\nresource aws.logs.log_group audit",
        "retention_in_day = 365\n}\n\nresource aws.logs.log_group audit",
    );
    client.change(&uri, &typo);
    let diagnostics = client.diagnostics(&uri);
    assert_eq!(diagnostics.len(), 1, "{diagnostics:#?}");
    let actions = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri }, "range": diagnostics[0]["range"], "context": { "diagnostics": diagnostics } }),
    );
    let edit = &actions["result"][0]["edit"]["changes"][uri.as_str()][0];
    assert_eq!(edit["newText"], "retention_in_days", "{actions}");
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 9 }, "contentChanges": [{ "range": edit["range"], "text": edit["newText"] }] }),
    );
    assert!(client.diagnostics(&uri).is_empty(), "the fixed file checks clean");
    client.change(&uri, &short);
    let finding = client.diagnostics(&uri);
    let actions = client.request(
        "textDocument/codeAction",
        json!({ "textDocument": { "uri": uri }, "range": finding[0]["range"], "context": { "diagnostics": finding } }),
    );
    let allow = &actions["result"][0]["edit"]["changes"][uri.as_str()][0];
    assert_eq!(allow["newText"], "@allow(data.log_retention, reason = \"\")\n", "{actions}");
    assert_eq!(allow["range"]["start"], position(&short, "resource aws.logs.log_group app", 0));

    // @allow: rule ids complete, and a rule's id shows its title and fix.
    client.change(&uri, &text);
    let allowing = text.replace("resource aws.logs.log_group audit", "@allow(\nresource aws.logs.log_group audit");
    client.change(&uri, &allowing);
    let rules = client.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": uri }, "position": position(&allowing, "@allow(", 7) }),
    );
    let labels: Vec<&str> =
        rules["result"]["items"].as_array().expect("items").iter().filter_map(|i| i["label"].as_str()).collect();
    assert!(
        labels.contains(&"data.log_retention") && labels.contains(&"scripts.unattended_database_writes"),
        "{labels:?}"
    );
    let allowed = text.replace(
        "resource aws.logs.log_group audit",
        "@allow(data.log_retention, reason = \"the archive keeps it\")\nresource aws.logs.log_group audit",
    );
    client.change(&uri, &allowed);
    let rule = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": position(&allowed, "data.log_retention", 6) }),
    );
    assert!(
        rule["result"]["contents"]["value"]
            .as_str()
            .is_some_and(|v| v.contains("log groups set how long they keep events")),
        "{rule}"
    );

    // Rename a resource: the declaration, its references, and a `moved` block; the result checks clean.
    client.change(&uri, &text);
    let renamed = client.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": uri }, "position": position(&text, "app {", 1), "newName": "application" }),
    );
    let edits = renamed["result"]["changes"][uri.as_str()].as_array().expect("edits").clone();
    let after = apply_edits(&text, &edits);
    assert!(after.contains("resource aws.logs.log_group application {"), "{after}");
    assert!(after.contains("${aws.logs.log_group.application.name}-audit"), "{after}");
    assert!(
        after.contains("moved {\n  from = \"aws.logs.log_group.app\"\n  to   = \"aws.logs.log_group.application\"\n}"),
        "{after}"
    );
    client.change(&uri, &after);
    assert!(client.diagnostics(&uri).is_empty(), "the renamed file checks clean");
    client.change(&uri, &text);
    let _ = client.diagnostics(&uri);

    // Shutdown, then exit: the process ends with success.
    let shutdown = client.request("shutdown", Value::Null);
    assert!(shutdown["result"].is_null() && shutdown.get("error").is_none());
    client.notify("exit", Value::Null);
    let status = client.child.wait().expect("wait");
    assert!(status.success(), "{status}");
}

/// Not a test: the latency of diagnostics after a one-character edit in a
/// 5,000-line workflow (`scripts/bench-lsp` runs it). Prints median and worst.
#[test]
#[ignore = "a benchmark: run with scripts/bench-lsp"]
fn bench_diagnostics_after_one_character_edit() {
    let mut text = String::from("workflow \"big\" {}\n\nparam env = \"prod\"\n\n");
    let mut n = 0;
    while text.lines().count() < 5_000 {
        text += &format!(
            "resource aws.logs.log_group g{n} {{\n  name              = \"/big/${{env}}/{n}\"\n  retention_in_days = 365\n  tags              = {{\n    team = \"platform\"\n    index = \"{n}\"\n  }}\n}}\n\n"
        );
        n += 1;
    }
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("big.drone");
    std::fs::write(&path, &text).expect("write");
    let (median, worst) = time_edits(&path, &text, position(&text, "\"/big/", 6));
    println!(
        "{} lines, {n} resources: diagnostics after a one-character edit, median {median:.1} ms, worst {worst:.1} ms (25 edits)",
        text.lines().count()
    );
}

#[test]
#[ignore = "a benchmark: run with scripts/bench-lsp"]
fn bench_prod_diagnostics_after_one_character_edit() {
    let path = super::support::root().join("workflows/prod.drone");
    let text = std::fs::read_to_string(&path).expect("prod.drone");
    // Typed into a comment and taken out again: every edit re-checks the whole workflow.
    let (median, worst) = time_edits(&path, &text, position(&text, "// The standby's resources", 3));
    println!(
        "workflows/prod.drone, {} lines: diagnostics after a one-character edit, median {median:.1} ms, worst {worst:.1} ms (25 edits)",
        text.lines().count()
    );
    // Typed into a resource's value (a role's description): the model changes, not only the text.
    let (median, worst) = time_edits(&path, &text, position(&text, "\"lets ECS start drone's", 5));
    println!(
        "workflows/prod.drone, an edit of a resource's value: median {median:.1} ms, worst {worst:.1} ms (25 edits)"
    );
}

/// Opens `text` (as the file at `path`) and types one character at `at` and takes it out again,
/// 25 times, each until the diagnostics come back (there must be none); the median and worst, in ms.
fn time_edits(path: &std::path::Path, text: &str, at: Value) -> (f64, f64) {
    let uri = format!("file://{}", path.display());
    let mut client = Client::start();
    client.request("initialize", json!({ "processId": null, "rootUri": null, "capabilities": {} }));
    client.notify(
        "textDocument/didOpen",
        json!({ "textDocument": { "uri": uri, "languageId": "drone", "version": 1, "text": text } }),
    );
    let opened = client.diagnostics(&uri);
    assert!(opened.iter().all(|d| d["severity"] != 1), "{opened:#?}");
    let mut times = Vec::new();
    for round in 0..25 {
        let change = if round % 2 == 0 {
            json!({ "range": { "start": at, "end": at }, "text": "x" })
        } else {
            let end = json!({ "line": at["line"], "character": at["character"].as_u64().unwrap_or(0) + 1 });
            json!({ "range": { "start": at, "end": end }, "text": "" })
        };
        let started = std::time::Instant::now();
        client.notify(
            "textDocument/didChange",
            json!({ "textDocument": { "uri": uri, "version": round + 2 }, "contentChanges": [change] }),
        );
        let diagnostics = client.diagnostics(&uri);
        times.push(started.elapsed());
        assert_eq!(diagnostics.len(), opened.len(), "{diagnostics:#?}");
    }
    times.sort();
    client.request("shutdown", Value::Null);
    client.notify("exit", Value::Null);
    let _ = client.child.wait();
    let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
    (ms(times[times.len() / 2]), ms(times[times.len() - 1]))
}

/// A server with one document open: `text`, written to `name` in a fresh directory.
struct Session {
    /// Kept for the session's length.
    dir: tempfile::TempDir,
    path: std::path::PathBuf,
    uri: String,
    client: Client,
    /// The document's first diagnostics.
    diagnostics: Vec<Value>,
}

impl Session {
    fn open(name: &str, text: &str, env: &[(&str, &str)]) -> Session {
        Session::open_among(name, text, &[], env)
    }

    /// [`Session::open`], with `files` (relative path, text) written beside the document first.
    fn open_among(name: &str, text: &str, files: &[(&str, &str)], env: &[(&str, &str)]) -> Session {
        let dir = tempfile::tempdir().expect("dir");
        for (file, content) in files {
            let at = dir.path().join(file);
            std::fs::create_dir_all(at.parent().expect("parent")).expect("mkdir");
            std::fs::write(at, content).expect("write");
        }
        let path = dir.path().join(name);
        let uri = format!("file://{}", path.display());
        std::fs::write(&path, text).expect("write");
        let mut client = Client::start_with(env);
        client.request("initialize", json!({ "processId": null, "rootUri": null, "capabilities": {} }));
        let diagnostics = client.open(&uri, text);
        Session { dir, path, uri, client, diagnostics }
    }
}

impl Session {
    /// References of what `position` names in the document: the locations, and each one's start.
    fn references(&mut self, position: Value) -> (Value, Vec<Value>) {
        let params = json!({ "textDocument": { "uri": self.uri }, "position": position, "context": { "includeDeclaration": true } });
        let found = self.client.request("textDocument/references", params)["result"].clone();
        let starts = found.as_array().expect("locations").iter().map(|l| l["range"]["start"].clone()).collect();
        (found, starts)
    }
}

/// A project outside git: `use` reads under the workspace the client opened (its first workspace
/// folder, else `rootUri`), not only beside the workflow, as `drone check --root` does.
#[test]
fn use_reads_under_the_workspace_the_client_opened() {
    let dir = tempfile::tempdir().expect("dir");
    let component =
        "component bucket {\n  input name: string\n\n  resource aws.s3.bucket b {\n    name = name\n  }\n}\n";
    std::fs::create_dir_all(dir.path().join("components")).expect("mkdir");
    std::fs::create_dir_all(dir.path().join("workflows")).expect("mkdir");
    std::fs::write(dir.path().join("components/bucket.drone"), component).expect("write");
    let workflow = "use \"../components/bucket.drone\" as c\n\ninstance c.bucket logs {\n  name = \"logs\"\n}\n";
    let path = dir.path().join("workflows/w.drone");
    std::fs::write(&path, workflow).expect("write");
    let uri = format!("file://{}", path.display());
    let folder = format!("file://{}", dir.path().display());
    let opened = [
        json!({ "processId": null, "rootUri": null, "capabilities": {} }),
        json!({ "processId": null, "rootUri": folder, "capabilities": {} }),
        json!({ "processId": null, "rootUri": null, "workspaceFolders": [{ "uri": folder, "name": "shuttle" }], "capabilities": {} }),
    ];
    for (i, initialize) in opened.into_iter().enumerate() {
        let mut client = Client::start_with(&[]);
        client.request("initialize", initialize);
        let failed = codes(&client.open(&uri, workflow)).contains(&"drone::import::failed".to_string());
        // Without a workspace, the root is the workflow's own directory: `../components` is outside it.
        assert_eq!(failed, i == 0, "client {i}");
        assert_eq!(client.stop(), Some(0));
    }
}

/// The codes of `diagnostics`.
fn codes(diagnostics: &[Value]) -> Vec<String> {
    diagnostics.iter().filter_map(|d| d["code"].as_str().map(String::from)).collect()
}

#[test]
fn enum_values_complete_and_are_checked() {
    let text = "resource aws.s3.bucket logs {\n  name       = \"logs\"\n  encryption = \"aes256\"\n}\n";
    let Session { dir: _dir, uri, mut client, diagnostics, .. } = Session::open("enums.drone", text, &[]);
    let wrong: Vec<Value> = diagnostics.iter().filter(|d| d["code"] == "drone::type::not_one_of").cloned().collect();
    assert_eq!(wrong.len(), 1, "{diagnostics:#?}");
    assert!(wrong[0]["message"].as_str().is_some_and(|m| m.contains("did you mean `\"AES256\"`")), "{wrong:?}");
    // Its quick fix writes the value the schema has.
    let actions = client.code_actions(&uri, &wrong);
    let edits = actions[0]["edit"]["changes"][&uri].as_array().cloned().unwrap_or_default();
    let fixed = apply_edits(text, &edits);
    assert!(fixed.contains("encryption = \"AES256\""), "{fixed}");
    client.change(&uri, &fixed);
    assert!(!codes(&client.diagnostics(&uri)).iter().any(|c| c.starts_with("drone::type")));

    // After `encryption = `, the values; inside the opened string, the same without quotes.
    let bare = fixed.replace("encryption = \"AES256\"", "encryption = ");
    client.change(&uri, &bare);
    let labels = client.completion_labels(&uri, position(&bare, "encryption = ", "encryption = ".len()));
    assert_eq!(labels, ["\"AES256\"", "\"aws:kms\""]);
    // Each is matched without its quote, so typing `a` keeps both in an editor that filters by prefix.
    let reply = client.request(
        "textDocument/completion",
        json!({ "textDocument": { "uri": uri }, "position": position(&bare, "encryption = ", "encryption = ".len()) }),
    );
    let filters: Vec<&str> =
        reply["result"]["items"].as_array().into_iter().flatten().filter_map(|i| i["filterText"].as_str()).collect();
    assert_eq!(filters, ["AES256", "aws:kms"]);
    // A space typed in a comment offers nothing, where the same text in code would.
    let commented = "resource aws.s3.bucket logs {\n  name = \"logs\"\n  // encryption = \n}\n/*\nresource \n*/\n";
    client.change(&uri, commented);
    for (needle, after) in [("// encryption = ", 16), ("resource \n*/", 9)] {
        let labels = client.completion_labels(&uri, position(commented, needle, after));
        assert!(labels.is_empty(), "in `{needle}`: {labels:?}");
    }
    let opened = fixed.replace("encryption = \"AES256\"", "encryption = \"a");
    client.change(&uri, &opened);
    let labels = client.completion_labels(&uri, position(&opened, "encryption = \"a", "encryption = \"a".len()));
    assert_eq!(labels, ["AES256", "aws:kms"]);
    // A field of an object: a security group rule's protocol.
    let nested = "resource aws.ec2.security_group web {\n  name    = \"web\"\n  vpc_id  = \"vpc-1\"\n  ingress = [{ port = 443, protocol = ";
    client.change(&uri, nested);
    let labels = client.completion_labels(&uri, position(nested, "protocol = ", "protocol = ".len()));
    assert!(labels.contains(&"\"tcp\"".to_string()) && labels.contains(&"\"udp\"".to_string()), "{labels:?}");
    assert_eq!(client.stop(), Some(0));
}

/// The did-you-mean lands on the misspelt name when non-ASCII text comes before it on its line,
/// whatever units the client echoes the diagnostic's range in (Neovim's are bytes there).
#[test]
fn a_did_you_mean_lands_on_its_name_after_non_ascii_text() {
    let text = "param db_password_parameter: string = \"p\"\n\noutput pair = [\"clé🔑\", db_pasword_parameter]\n";
    let Session { dir: _dir, uri, mut client, diagnostics, .. } = Session::open("accents.drone", text, &[]);
    let undefined: Vec<Value> =
        diagnostics.iter().filter(|d| d["code"] == "drone::resolve::undefined").cloned().collect();
    assert_eq!(undefined.len(), 1, "{diagnostics:#?}");
    // In UTF-16, as the server speaks: `é` is one unit, the key two.
    let utf16 = undefined[0]["range"].clone();
    let byte_column = text.lines().nth(2).and_then(|l| l.find("db_pasword")).expect("column");
    assert_eq!(utf16["start"]["character"], byte_column - 3, "{utf16}");
    // The client echoes the range in bytes.
    let mut echoed = undefined[0].clone();
    echoed["range"] = json!({
        "start": { "line": 2, "character": byte_column },
        "end": { "line": 2, "character": byte_column + "db_pasword_parameter".len() },
    });
    let actions = client.code_actions(&uri, &[echoed]);
    let edit = &actions[0]["edit"]["changes"][&uri][0];
    assert_eq!(edit["newText"], "db_password_parameter", "{actions:#?}");
    assert_eq!(edit["range"], utf16, "the range the server sent, not the echo");
    client.notify(
        "textDocument/didChange",
        json!({ "textDocument": { "uri": uri, "version": 9 }, "contentChanges": [{ "range": edit["range"], "text": edit["newText"] }] }),
    );
    let after = client.diagnostics(&uri);
    assert!(!codes(&after).iter().any(|c| c == "drone::resolve::undefined"), "{after:#?}");
    assert_eq!(client.stop(), Some(0));
}

#[test]
fn mechanical_fixes_apply_and_findings_explain_themselves() {
    let text = "resource aws.ecr.repository app {\n  name         = \"app\"\n  scan_on_push = false\n}\n\nresource aws.ecr.repository tools { name = \"tools\" }\n";
    let Session { dir: _dir, path, uri, mut client, diagnostics } = Session::open("fixes.drone", text, &[]);
    let mut found = codes(&diagnostics);
    found.sort();
    assert_eq!(
        found,
        [
            "policy::data.ecr_immutable_tags",
            "policy::data.ecr_immutable_tags",
            "policy::data.ecr_scan_on_push",
            "policy::data.ecr_scan_on_push"
        ],
        "{diagnostics:#?}"
    );

    // Hovering a finding shows its rule's title, why it exists and how to fix it.
    let scan = diagnostics.iter().find(|d| d["code"] == "policy::data.ecr_scan_on_push").expect("finding");
    let hover = client
        .request("textDocument/hover", json!({ "textDocument": { "uri": uri }, "position": scan["range"]["start"] }));
    let shown = hover["result"]["contents"]["value"].as_str().unwrap_or_default();
    assert!(shown.contains("**data.ecr_scan_on_push**") && shown.contains("*Why:*"), "{hover}");
    assert!(shown.contains("*Fix:* set `scan_on_push = true`"), "{hover}");

    // Every finding here has a mechanical fix; applying them one by one leaves a clean file.
    let mut current = text.to_string();
    let mut diagnostics = diagnostics;
    let mut applied = 0;
    while let Some(finding) = diagnostics.first().cloned() {
        let actions = client.code_actions(&uri, std::slice::from_ref(&finding));
        let fix = actions
            .iter()
            .find(|a| a["title"].as_str().is_some_and(|t| t.starts_with("Set `")))
            .unwrap_or_else(|| panic!("no mechanical fix for {finding:#?} in {actions:#?}"));
        let edits = fix["edit"]["changes"][&uri].as_array().cloned().unwrap_or_default();
        current = apply_edits(&current, &edits);
        client.change(&uri, &current);
        diagnostics = client.diagnostics(&uri);
        applied += 1;
        assert!(applied <= 4, "fixes do not converge: {current}");
    }
    assert_eq!(applied, 4);
    assert!(current.contains("  scan_on_push = true\n"), "the value written is replaced: {current}");
    assert!(current.contains("{ name = \"tools\"\n  immutable_tags = true\n  scan_on_push = true\n}"), "{current}");
    std::fs::write(&path, &current).expect("write");
    let check =
        std::process::Command::new(env!("CARGO_BIN_EXE_drone")).args(["check"]).arg(&path).output().expect("check");
    assert!(check.status.success(), "{current}\n{}", String::from_utf8_lossy(&check.stderr));
    assert_eq!(client.stop(), Some(0));
}

#[test]
fn a_broken_file_is_still_checked_where_it_parses() {
    let text = "resource aws.logs.log_group a {\n  name = \n}\n\nresource aws.logs.log_group b {\n  name   = \"b\"\n  colour = \"blue\"\n}\n\noutput b_name = aws.logs.log_group.b.name\n\nlet x = (\n";
    let Session { dir: _dir, uri, mut client, diagnostics, .. } = Session::open("broken.drone", text, &[]);
    assert_eq!(
        codes(&diagnostics),
        ["drone::syntax::unexpected", "drone::syntax::unexpected", "drone::type::unknown_attribute"],
        "{diagnostics:#?}"
    );
    assert_eq!(diagnostics[0]["range"]["start"], json!({ "line": 2, "character": 0 }));
    assert_eq!(diagnostics[2]["range"]["start"], json!({ "line": 6, "character": 2 }));

    // Requests work on the items that parse: symbols, and hover on the broken item's neighbour.
    let symbols = client.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": uri } }));
    let names: Vec<&str> =
        symbols["result"].as_array().expect("symbols").iter().filter_map(|s| s["name"].as_str()).collect();
    assert_eq!(names, ["aws.logs.log_group.b", "output b_name"]);
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": position(text, "aws.logs.log_group b", 4) }),
    );
    assert!(hover["result"]["contents"]["value"].as_str().is_some_and(|v| v.contains("aws.logs.log_group")), "{hover}");
    let definition = client.request(
        "textDocument/definition",
        json!({ "textDocument": { "uri": uri }, "position": position(text, "group.b.name", 6) }),
    );
    assert_eq!(definition["result"]["range"]["start"], json!({ "line": 4, "character": 28 }), "{definition}");

    // The other spans of an error come as related information: where a duplicate was first declared.
    let twice =
        "resource aws.logs.log_group a {\n  name = \"a\"\n}\n\nresource aws.logs.log_group a {\n  name = \"b\"\n}\n";
    client.change(&uri, twice);
    let diagnostics = client.diagnostics(&uri);
    assert_eq!(codes(&diagnostics), ["drone::resolve::duplicate"], "{diagnostics:#?}");
    let related = &diagnostics[0]["relatedInformation"][0];
    assert_eq!(related["message"], "first declared here", "{diagnostics:#?}");
    assert_eq!(related["location"]["uri"], uri.as_str());
    assert_eq!(related["location"]["range"]["start"]["line"], 0, "{related}");
    assert_eq!(client.stop(), Some(0));
}

/// A block whose closing brace is not typed yet (issue 27, item 3) hides nothing: the names
/// undefined before and after it, and the policy findings of the whole file, show beside the
/// syntax error, as they will once the brace is back.
#[test]
fn an_unclosed_block_hides_no_other_finding() {
    let store = "component store {\n  input name: string\n\n  resource aws.logs.log_group main {\n    name              = name\n    retention_in_days = 365\n  }\n}\n";
    let closed = "workflow \"u\" {}\n\nuse \"store.drone\" as lib\n\nlet good = missing_before\n\nphase app {\n  instance lib.store primary {\n    name = \"a\"\n  }\n}\n\nresource aws.s3.bucket open {\n  name = \"u-open-bucket\"\n}\n\noutput where = missing_after\n";
    let mut s = Session::open_among("user.drone", closed, &[("store.drone", store)], &[]);
    let whole: Vec<String> = codes(&s.diagnostics);
    assert!(whole.iter().filter(|c| *c == "drone::resolve::undefined").count() == 2, "{whole:?}");
    // With the names fixed, the policies speak.
    let named = closed.replace("missing_before", "\"x\"").replace("missing_after", "good");
    s.client.change(&s.uri, &named);
    let findings = codes(&s.client.diagnostics(&s.uri));
    assert!(findings.iter().any(|c| c == "policy::data.s3_encryption"), "{findings:?}");

    // The instance's closing brace deleted: the phase, and everything after it, is inside it.
    for (text, expected) in [(closed.to_string(), whole), (named.clone(), findings)] {
        let broken = text.replacen("    name = \"a\"\n  }\n", "    name = \"a\"\n", 1);
        s.client.change(&s.uri, &broken);
        let shown = codes(&s.client.diagnostics(&s.uri));
        assert_eq!(shown[0], "drone::syntax::unexpected", "{shown:?}");
        assert_eq!(shown[1..], expected[..], "the same findings as with the brace: {shown:?}");
    }
}

#[test]
fn a_panicking_handler_answers_with_an_error_and_the_server_goes_on() {
    for method in ["textDocument/hover", "textDocument/publishDiagnostics"] {
        let env = [("DRONE_LSP_PANIC_ON", method)];
        let Session { dir: _dir, uri, mut client, diagnostics, .. } =
            Session::open("panics.drone", "let a = 1\n", &env);
        let hover = client.request(
            "textDocument/hover",
            json!({ "textDocument": { "uri": uri }, "position": { "line": 0, "character": 4 } }),
        );
        if method == "textDocument/hover" {
            assert_eq!(hover["error"]["code"], -32603, "{hover}");
            assert!(diagnostics.is_empty(), "{diagnostics:?}");
        } else {
            assert!(hover["result"]["contents"]["value"].as_str().is_some_and(|v| v.contains("let a")), "{hover}");
            assert!(diagnostics[0]["message"].as_str().is_some_and(|m| m.contains("drone failed")), "{diagnostics:?}");
        }
        // The server goes on: the next request is answered, and the session ends cleanly.
        let symbols = client.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": uri } }));
        assert!(symbols["result"].is_array(), "{symbols}");
        assert_eq!(client.stop(), Some(0));
    }
}

const TEAM_PACK: &str = r#"policy team.log_retention {
  title     = "Log groups keep a year of logs"
  severity  = "warning"
  rationale = "Audits look a year back."
  fix       = "set `retention_in_days = 365`"

  for group in resources("aws.logs.log_group") {
    if group.retention_in_days != 365 {
      flag group, "${address(group)} keeps logs less than a year"
    }
  }
}
"#;

#[test]
fn the_workflows_own_packs_complete_hover_and_fix() {
    let text = "workflow \"team\" {\n  policy_dirs = [\"rules\"]\n}\n\nresource aws.logs.log_group app {\n  name              = \"/app\"\n  retention_in_days = 30\n}\n";
    let files = [("rules/team.drone", TEAM_PACK)];
    let Session { dir: _dir, uri, mut client, diagnostics, .. } = Session::open_among("team.drone", text, &files, &[]);
    let finding = diagnostics.iter().find(|d| d["code"] == "policy::team.log_retention").cloned();
    let finding = finding.unwrap_or_else(|| panic!("{diagnostics:#?}"));
    // The pack's own fix is mechanical too.
    let actions = client.code_actions(&uri, std::slice::from_ref(&finding));
    let fix = actions.iter().find(|a| a["title"] == "Set `retention_in_days = 365`").expect("the pack's fix");
    let fixed = apply_edits(text, fix["edit"]["changes"][&uri].as_array().expect("edits"));
    assert!(fixed.contains("retention_in_days = 365"), "{fixed}");

    // Its rule ids complete inside `@allow(`, and hover with their text.
    let allowing = text.replace("resource aws.logs", "@allow(\nresource aws.logs");
    client.change(&uri, &allowing);
    let labels = client.completion_labels(&uri, position(&allowing, "@allow(", 7));
    assert!(labels.contains(&"team.log_retention".to_string()) && labels.contains(&"data.s3_versioning".to_string()));
    let allowed =
        text.replace("resource aws.logs", "@allow(team.log_retention, reason = \"short-lived\")\nresource aws.logs");
    client.change(&uri, &allowed);
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": position(&allowed, "team.log_retention", 6) }),
    );
    let shown = hover["result"]["contents"]["value"].as_str().unwrap_or_default();
    assert!(shown.contains("Log groups keep a year of logs") && shown.contains("Audits look a year back."), "{hover}");
    assert_eq!(client.stop(), Some(0));
}

#[test]
fn findings_inside_an_imported_component_show_on_its_instance() {
    let component = "component registry {\n  input name: string\n\n  resource aws.ecr.repository images {\n    name = name\n  }\n}\n";
    let text = "use \"comp.drone\" as c\n\ninstance c.registry primary {\n  name = \"app\"\n}\n";
    let files = [("comp.drone", component)];
    let Session { dir: _dir, uri, mut client, diagnostics, .. } = Session::open_among("main.drone", text, &files, &[]);
    assert_eq!(codes(&diagnostics), ["policy::data.ecr_immutable_tags", "policy::data.ecr_scan_on_push"]);
    for finding in &diagnostics {
        assert_eq!(finding["range"]["start"], position(text, "primary", 0), "{finding:#}");
        let message = finding["message"].as_str().unwrap_or_default();
        assert!(message.contains("(in instance `registry.primary`, declared in another file)"), "{message}");
    }
    // No `@allow` is offered here: it belongs on the block in the component's file.
    let actions = client.code_actions(&uri, &diagnostics[..1]);
    assert!(actions.iter().all(|a| !a["title"].as_str().unwrap_or_default().starts_with("Allow")), "{actions:#?}");
    let hover = client.request(
        "textDocument/hover",
        json!({ "textDocument": { "uri": uri }, "position": position(text, "primary", 2) }),
    );
    assert!(
        hover["result"]["contents"]["value"].as_str().is_some_and(|v| v.contains("data.ecr_scan_on_push")),
        "{hover}"
    );

    // The component open beside it: the findings show in its own buffer too, on the block, with
    // their quick fixes there (the mechanical one, and `@allow` above the block).
    let comp_uri = format!("file://{}", _dir.path().join("comp.drone").display());
    let own = client.open(&comp_uri, component);
    assert_eq!(codes(&own), ["policy::data.ecr_immutable_tags", "policy::data.ecr_scan_on_push"], "{own:#?}");
    for finding in &own {
        assert_eq!(finding["range"]["start"]["line"], 3, "{finding:#}");
        let message = finding["message"].as_str().unwrap_or_default();
        assert!(message.contains("(through instance `registry.primary` of main.drone)"), "{message}");
    }
    let actions = client.code_actions(&comp_uri, &own[1..]);
    let titles: Vec<&str> = actions.iter().filter_map(|a| a["title"].as_str()).collect();
    assert!(titles.iter().any(|t| t.starts_with("Allow")), "{titles:?}");
    let fix = actions.iter().find(|a| !a["title"].as_str().unwrap_or_default().starts_with("Allow")).expect("a fix");
    let fixed = apply_edits(component, fix["edit"]["changes"][comp_uri.as_str()].as_array().expect("edits"));
    assert!(fixed.contains("scan_on_push = true"), "{fixed}");
    // Fixed in the component, the workflow's finding goes, and the component's with it.
    client.change(&comp_uri, &fixed);
    let after: Vec<String> = codes(&client.diagnostics(&uri));
    assert_eq!(after, ["policy::data.ecr_immutable_tags"], "{after:?}");
    assert_eq!(client.stop(), Some(0));
}

#[test]
fn params_and_lets_hover_with_their_values_and_secrets_stay_hidden() {
    let text = "param env: string = \"prod\"\n\nlet cidr = cidrsubnet(\"10.0.0.0/16\", 8, 1)\nlet name = \"app-${env}\"\nlet password = secret(\"env:DRONE_TEST_DB_PASSWORD\")\n\noutput shown = [cidr, name, password]\n";
    let env = [("DRONE_TEST_DB_PASSWORD", "hunter2")];
    let Session { dir: _dir, uri, mut client, diagnostics, .. } = Session::open("values.drone", text, &env);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    // Hovers on the name after the keyword of `declaration`.
    let mut hover = |declaration: &str| {
        let name = declaration.find(' ').map_or(0, |space| space + 1);
        let reply = client.request(
            "textDocument/hover",
            json!({ "textDocument": { "uri": uri }, "position": position(text, declaration, name) }),
        );
        reply["result"]["contents"]["value"].as_str().map(String::from).unwrap_or_else(|| reply.to_string())
    };
    let cidr = hover("let cidr");
    assert!(cidr.contains("value: `\"10.0.1.0/24\"` (string)"), "{cidr}");
    let name = hover("let name");
    assert!(name.contains("value: `\"app-prod\"` (string)"), "{name}");
    let env_param = hover("param env");
    assert!(env_param.contains("value: `\"prod\"` (string)"), "{env_param}");
    let password = hover("let password");
    assert!(password.contains("(sensitive)") && !password.contains("hunter2"), "{password}");
    // Inlay hints: each worked-out let's value after it (a literal needs none), secrets hidden.
    let hints = client.request("textDocument/inlayHint", json!({ "textDocument": { "uri": uri } }));
    let shown: Vec<(Value, &str)> = hints["result"]
        .as_array()
        .expect("hints")
        .iter()
        .map(|h| (h["position"]["line"].clone(), h["label"].as_str().unwrap_or_default()))
        .collect();
    assert_eq!(
        shown,
        [(json!(2), " = \"10.0.1.0/24\""), (json!(3), " = \"app-prod\""), (json!(4), " = (sensitive)")],
        "{hints}"
    );
    assert!(!hints.to_string().contains("hunter2"));
    assert_eq!(client.stop(), Some(0));
}

/// A loop's inlay hint lists the keys its resources get, as a plan addresses them.
#[test]
fn a_loop_shows_the_keys_its_resources_get() {
    let text = "resource aws.ec2.vpc main {\n  cidr_block = \"10.0.0.0/16\"\n}\n\nlet zones = { \"eu-west-1a\" = \"10.0.1.0/24\", \"eu-west-1b\" = \"10.0.2.0/24\" }\n\nfor zone, cidr in zones {\n  resource aws.ec2.subnet private {\n    vpc_id            = aws.ec2.vpc.main.id\n    cidr_block        = cidr\n    availability_zone = zone\n  }\n}\n";
    let Session { dir: _dir, uri, mut client, diagnostics, .. } = Session::open("loops.drone", text, &[]);
    assert!(diagnostics.is_empty(), "{diagnostics:#?}");
    let hints = client.request("textDocument/inlayHint", json!({ "textDocument": { "uri": uri } }));
    let shown: Vec<(Value, Value, &str)> = hints["result"]
        .as_array()
        .expect("hints")
        .iter()
        .map(|h| {
            (h["position"]["line"].clone(), h["position"]["character"].clone(), h["label"].as_str().unwrap_or_default())
        })
        .collect();
    // After `zones` on the `for` line (the let is a literal: no hint of its own).
    let column = "for zone, cidr in zones".len();
    assert_eq!(shown, [(json!(6), json!(column), " -> \"eu-west-1a\", \"eu-west-1b\"")], "{hints}");
    assert_eq!(client.stop(), Some(0));
}

/// The editor shows what `drone check` shows before apply: a range AWS would refuse, at its
/// place, and a required parameter without a value is unknown rather than an error.
#[test]
fn values_aws_would_refuse_show_in_the_editor_as_check_reports_them() {
    let text = "param vpc_range: string\n\nresource aws.ec2.vpc main {\n  cidr_block = \"10.0.0.1/16\"\n}\n\nresource aws.ec2.vpc other {\n  cidr_block = vpc_range\n}\n";
    let Session { dir: _dir, client, diagnostics, .. } = Session::open("ranges.drone", text, &[]);
    let invalid: Vec<&Value> = diagnostics.iter().filter(|d| d["code"] == "drone::eval::invalid_value").collect();
    assert_eq!(invalid.len(), 1, "{diagnostics:#?}");
    assert_eq!(invalid[0]["range"]["start"], json!({ "line": 3, "character": 15 }), "{invalid:?}");
    assert!(!codes(&diagnostics).iter().any(|c| c == "drone::eval::missing_param"), "{diagnostics:#?}");
    assert_eq!(client.stop(), Some(0));
}

/// References follow meaning, not text: a let is used where an expression reads it, not where an
/// attribute or map key, a member (`x.name`), a comment or a loop variable of the same name
/// spells it; rename of a let (refused before) rewrites exactly the declaration and those uses.
#[test]
fn references_and_rename_of_a_let_follow_meaning_not_text() {
    let text = "workflow \"refs\" {}\n\n// The name every log group's name begins with.\nlet name = \"shop\"\n\nresource aws.logs.log_group app {\n  name              = \"/${name}/app\"\n  retention_in_days = 365\n  tags              = { name = name }\n}\n\nresource aws.logs.log_group audit {\n  name              = \"${aws.logs.log_group.app.name}-audit\"\n  retention_in_days = 365\n}\n\nfor name in [\"a\", \"b\"] {\n  resource aws.logs.log_group per {\n    name              = \"/per/${name}\"\n    retention_in_days = 365\n  }\n}\n\noutput where = name\n\nhook note after create aws.logs.log_group.app {\n  grants = [read(aws.logs.log_group.app)]\n  script = <<RHAI\n    let app = resource(\"aws.logs.log_group.app\");\n    print(`made ${app.name}`);\n  RHAI\n}\n";
    let mut s = Session::open("refs.drone", text, &[]);
    assert!(s.diagnostics.is_empty(), "{:#?}", s.diagnostics);
    let at = position(text, "let name", 4);
    let (found, starts) = s.references(at.clone());
    assert_eq!(
        starts,
        [
            position(text, "let name", 4),
            position(text, "/${name}", 3),
            position(text, "{ name = name }", 9),
            position(text, "where = name", 8)
        ],
        "{found}"
    );
    // From a use, the same answer.
    assert_eq!(s.references(position(text, "where = name", 9)).0, found);
    // Highlights: the same places, the declaration written, the uses read.
    let lit = s.client.request(
        "textDocument/documentHighlight",
        json!({ "textDocument": { "uri": s.uri }, "position": position(text, "where = name", 9) }),
    );
    let kinds: Vec<(Value, Value)> = lit["result"]
        .as_array()
        .expect("highlights")
        .iter()
        .map(|h| (h["range"]["start"].clone(), h["kind"].clone()))
        .collect();
    let expected: Vec<(Value, Value)> = found
        .as_array()
        .expect("locations")
        .iter()
        .map(|l| l["range"]["start"].clone())
        .zip([3, 2, 2, 2].map(|k| json!(k)))
        .collect();
    assert_eq!(kinds, expected, "{lit}");
    // prepareRename: the name at the cursor; a resource's last segment from a use of its address.
    let prepared = s.client.request(
        "textDocument/prepareRename",
        json!({ "textDocument": { "uri": s.uri }, "position": position(text, "group.app.name", 8) }),
    );
    assert_eq!(prepared["result"]["placeholder"], "app", "{prepared}");
    assert_eq!(prepared["result"]["range"]["start"], position(text, "group.app.name", 6), "{prepared}");
    let refused = s.client.request(
        "textDocument/prepareRename",
        json!({ "textDocument": { "uri": s.uri }, "position": position(text, "retention_in_days", 2) }),
    );
    assert!(refused["error"]["message"].as_str().is_some_and(|m| m.contains("rename works on")), "{refused}");
    // Folding: each block of more than a line, and the comment.
    let folds = s.client.request("textDocument/foldingRange", json!({ "textDocument": { "uri": s.uri } }));
    let lines: Vec<(u64, u64)> = folds["result"]
        .as_array()
        .expect("folds")
        .iter()
        .map(|f| (f["startLine"].as_u64().unwrap_or(0), f["endLine"].as_u64().unwrap_or(0)))
        .collect();
    assert!(lines.contains(&(5, 9)) && lines.contains(&(16, 21)) && lines.contains(&(17, 20)), "{folds}");

    let renamed = s.client.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": s.uri }, "position": at, "newName": "prefix" }),
    );
    let edits = renamed["result"]["changes"][s.uri.as_str()].as_array().expect("edits").clone();
    let after = apply_edits(text, &edits);
    for kept in [
        "// The name every log group's name begins with.",
        "let prefix = \"shop\"",
        "name              = \"/${prefix}/app\"",
        "tags              = { name = prefix }",
        "${aws.logs.log_group.app.name}-audit",
        "for name in",
        "\"/per/${name}\"",
        "output where = prefix",
    ] {
        assert!(after.contains(kept), "{kept}:\n{after}");
    }
    assert!(!after.contains("moved"), "a let has no state to move: {after}");
    s.client.change(&s.uri, &after);
    assert!(s.client.diagnostics(&s.uri).is_empty(), "the renamed file checks clean");

    // A resource: its address in expressions, and in an inline script's strings (a script names
    // resources so); not `app` the script's own variable.
    s.client.change(&s.uri, text);
    let _ = s.client.diagnostics(&s.uri);
    let app = position(text, "group app {", 6);
    let (found, starts) = s.references(app.clone());
    assert_eq!(
        starts,
        [
            app.clone(),
            position(text, "aws.logs.log_group.app.name", 0),
            position(text, "create aws.logs.log_group.app", 7),
            position(text, "read(aws.logs.log_group.app)", 5),
            position(text, "(\"aws.logs.log_group.app\")", 2)
        ],
        "{found}"
    );
    let renamed = s.client.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": s.uri }, "position": app, "newName": "application" }),
    );
    let edits = renamed["result"]["changes"][s.uri.as_str()].as_array().expect("edits").clone();
    let after = apply_edits(text, &edits);
    assert_eq!(after.matches("aws.logs.log_group.application").count(), 5, "{after}");
    assert!(after.contains("let app = resource(\"aws.logs.log_group.application\");"), "{after}");
    assert!(after.contains("print(`made ${app.name}`);"), "{after}");
    s.client.change(&s.uri, &after);
    assert!(s.client.diagnostics(&s.uri).is_empty(), "the renamed file checks clean");
}

/// Components are first-class in symbols (issue 27, item 2): a component file lists the component
/// with its inputs, lets, resources (a loop's too) and outputs; workspace symbols find a resource
/// inside a component; inside one, references and rename of an input or resource stay in its scope
/// (a resource renamed there gets no `moved` block: its address is the instances').
#[test]
fn components_have_symbols_references_and_rename() {
    let component = "component store {\n  input name: string\n  input days: number = 365\n\n  let prefix = \"/${name}\"\n\n  resource aws.logs.log_group main {\n    name              = prefix\n    retention_in_days = days\n  }\n\n  for zone in [\"a\", \"b\"] {\n    resource aws.logs.log_group zonal {\n      name              = \"${prefix}/${zone}\"\n      retention_in_days = days\n    }\n  }\n\n  output group_name = aws.logs.log_group.main.name\n}\n";
    let user = "workflow \"u\" {}\n\nuse \"store.drone\" as lib\n\nparam name = \"shop\"\n\ninstance lib.store primary {\n  name = name\n}\n\noutput where = store.primary.group_name\n";
    let mut s = Session::open_among("store.drone", component, &[("user.drone", user)], &[]);
    let symbols = s.client.request("textDocument/documentSymbol", json!({ "textDocument": { "uri": s.uri } }));
    let top = &symbols["result"][0];
    assert_eq!(top["name"], "component store", "{symbols}");
    let children: Vec<&str> =
        top["children"].as_array().expect("children").iter().filter_map(|c| c["name"].as_str()).collect();
    assert_eq!(
        children,
        [
            "input name",
            "input days",
            "let prefix",
            "aws.logs.log_group.main",
            "aws.logs.log_group.zonal",
            "output group_name"
        ],
        "{symbols}"
    );
    let found = s.client.request("workspace/symbol", json!({ "query": "zonal" }));
    assert_eq!(found["result"][0]["name"], "aws.logs.log_group.zonal", "{found}");
    assert_eq!(found["result"][0]["containerName"], "component store", "{found}");

    // The input `name`: its declaration and the one expression that reads it (not the attribute
    // keys `name = ...`); the workflow's own param `name` is another thing.
    let (_, starts) = s.references(position(component, "input name", 6));
    assert_eq!(starts, [position(component, "input name", 6), position(component, "${name}", 2)]);
    let (_, starts) = s.references(position(component, "= days", 2));
    assert_eq!(starts.len(), 3, "the input and its two uses: {starts:?}");
    let renamed = s.client.request(
        "textDocument/rename",
        json!({ "textDocument": { "uri": s.uri }, "position": position(component, "group main", 6), "newName": "primary" }),
    );
    let edits = renamed["result"]["changes"][s.uri.as_str()].as_array().expect("edits").clone();
    let after = apply_edits(component, &edits);
    assert!(after.contains("resource aws.logs.log_group primary {"), "{after}");
    assert!(after.contains("output group_name = aws.logs.log_group.primary.name"), "{after}");
    assert!(!after.contains("moved"), "{after}");
    s.client.change(&s.uri, &after);
    assert!(s.client.diagnostics(&s.uri).is_empty(), "the renamed component checks clean");
}

/// The position encoding is negotiated: UTF-8 when the client offers it (columns count bytes,
/// no conversion on either side), else the protocol's UTF-16.
#[test]
fn positions_count_bytes_when_the_client_offers_utf8() {
    let text = "let name = \"x\"\nlet tags = { \"clé🔑\" = nmae }\n";
    let line = &text[text.find("let tags").expect("line")..];
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("enc.drone");
    std::fs::write(&path, text).expect("write");
    let uri = format!("file://{}", path.display());
    for (offered, encoding, column) in [
        (json!(["utf-8", "utf-16"]), "utf-8", line.find("nmae").expect("name")),
        (json!(["utf-16"]), "utf-16", line[..line.find("nmae").expect("name")].encode_utf16().count()),
    ] {
        let mut client = Client::start();
        let init = client.request(
            "initialize",
            json!({ "processId": null, "rootUri": null, "capabilities": { "general": { "positionEncodings": offered } } }),
        );
        assert_eq!(init["result"]["capabilities"]["positionEncoding"], encoding, "{init}");
        let diagnostics = client.open(&uri, text);
        assert_eq!(diagnostics[0]["range"]["start"], json!({ "line": 1, "character": column }), "{diagnostics:#?}");
        // The did-you-mean fix lands on the name in either.
        let actions = client.code_actions(&uri, &diagnostics);
        let edit = &actions[0]["edit"]["changes"][uri.as_str()][0];
        assert_eq!(
            (&edit["range"]["start"]["character"], &edit["newText"]),
            (&json!(column), &json!("name")),
            "{edit}"
        );
        assert_eq!(client.stop(), Some(0));
    }
}

/// The server's signature help in `text` (open in `s`), `after` characters into `needle`.
fn signature_help(s: &mut Session, text: &str, needle: &str, after: usize) -> Value {
    s.client.request(
        "textDocument/signatureHelp",
        json!({ "textDocument": { "uri": s.uri }, "position": position(text, needle, after) }),
    )["result"]
        .clone()
}

/// Signature help for built-in functions: the signature, its documentation, and the argument
/// the cursor is at (nested calls and strings stepped over); none outside a call.
#[test]
fn signature_help_names_the_argument_being_typed() {
    let text = "let cidr = \"10.0.0.0/16\"\nlet a = cidrsubnet(cidr, 8, length([\"x,y\", 2]))\nlet b = 1\n";
    let mut s = Session::open("sig.drone", text, &[]);
    let help = |s: &mut Session, needle: &str, after: usize| signature_help(s, text, needle, after);
    let first = help(&mut s, "cidrsubnet(cidr", 11);
    assert!(first["signatures"][0]["label"].as_str().is_some_and(|l| l.starts_with("cidrsubnet(")), "{first}");
    assert_eq!(first["activeParameter"], 0, "{first}");
    assert_eq!(help(&mut s, ", 8,", 3)["activeParameter"], 1);
    // Inside `length(...)`: its own signature; after it, cidrsubnet's third argument.
    let inner = help(&mut s, "\"x,y\"", 3);
    assert!(inner["signatures"][0]["label"].as_str().is_some_and(|l| l.starts_with("length(")), "{inner}");
    assert_eq!(inner["activeParameter"], 0, "the comma inside the string is no separator: {inner}");
    assert_eq!(help(&mut s, "2]))", 3)["activeParameter"], 2);
    assert_eq!(help(&mut s, "let b", 6), Value::Null);
}

/// Inside an `instance` block, signature help shows the component's inputs with their types and
/// defaults: the one on the cursor's line, else the first required input not set yet.
#[test]
fn signature_help_lists_a_components_inputs_inside_its_instance() {
    let text = "component web {\n  input name: string\n  input port: number = 80\n  input zones: list(string)\n\n  output url = \"https://${name}\"\n}\n\ninstance web main {\n  name = \"shop\"\n  \n}\n";
    let mut s = Session::open("inst.drone", text, &[]);
    let help = |s: &mut Session, needle: &str, after: usize| signature_help(s, text, needle, after);
    let on_name = help(&mut s, "name = \"shop\"", 2);
    assert_eq!(
        on_name["signatures"][0]["label"], "web { name: string, port: number = 80, zones: list(string) }",
        "{on_name}"
    );
    assert_eq!(on_name["activeParameter"], 0, "{on_name}");
    let parameters = on_name["signatures"][0]["parameters"].as_array().map(Vec::len);
    assert_eq!(parameters, Some(3));
    // On the empty line: `zones`, the one required input the block does not set.
    assert_eq!(help(&mut s, "\"shop\"\n  ", 9)["activeParameter"], 2);
    // Outside the block: nothing.
    assert_eq!(help(&mut s, "output url", 0), Value::Null);
}

/// Semantic tokens colour a file for editors without a grammar: decoded from the protocol's
/// relative form, each word has the type the legend names.
#[test]
fn semantic_tokens_colour_what_each_word_is() {
    let text = "// Logs.\nparam days: list(number) = [30]\n\n@allow(data.log_retention, reason = \"short\")\nresource aws.logs.log_group app {\n  name              = \"/app\"\n  retention_in_days = length(days) > 0 ? 1 : 2\n  tags              = { team = \"é\" }\n}\n";
    let mut s = Session::open("tok.drone", text, &[]);
    let init_legend = {
        let mut client = Client::start();
        let init = client.request("initialize", json!({ "processId": null, "rootUri": null, "capabilities": {} }));
        assert_eq!(client.stop(), Some(0));
        init["result"]["capabilities"]["semanticTokensProvider"]["legend"]["tokenTypes"].clone()
    };
    let legend: Vec<String> =
        init_legend.as_array().expect("legend").iter().filter_map(|t| t.as_str().map(String::from)).collect();
    let answer = s.client.request("textDocument/semanticTokens/full", json!({ "textDocument": { "uri": s.uri } }));
    let data: Vec<u64> = answer["result"]["data"].as_array().expect("data").iter().filter_map(Value::as_u64).collect();
    let lines: Vec<&str> = text.lines().collect();
    let (mut line, mut start) = (0u64, 0u64);
    let mut tokens = Vec::new();
    for t in data.chunks(5) {
        line += t[0];
        start = if t[0] == 0 { start + t[1] } else { t[1] };
        // UTF-16 columns; every token here is on an ASCII stretch of its line.
        let word: String = lines[line as usize].chars().skip(start as usize).take(t[2] as usize).collect();
        tokens.push((word, legend[t[3] as usize].clone(), t[4]));
    }
    let kind = |word: &str| tokens.iter().find(|(w, ..)| w == word).map(|(_, k, m)| (k.as_str(), *m));
    assert_eq!(kind("// Logs."), Some(("comment", 0)), "{tokens:?}");
    assert_eq!(kind("param"), Some(("keyword", 0)));
    assert_eq!(kind("days"), Some(("variable", 1)), "a declaration: {tokens:?}");
    assert_eq!(kind("list"), Some(("type", 0)), "{tokens:?}");
    assert_eq!(kind("number"), Some(("type", 0)), "{tokens:?}");
    assert_eq!(kind("30"), Some(("number", 0)));
    assert_eq!(kind("@allow"), Some(("decorator", 0)));
    assert_eq!(kind("aws.logs.log_group"), Some(("type", 0)), "{tokens:?}");
    assert_eq!(kind("app"), Some(("variable", 1)));
    assert_eq!(kind("name"), Some(("property", 0)));
    assert_eq!(kind("\"/app\""), Some(("string", 0)));
    assert_eq!(kind("length"), Some(("function", 0)));
    assert_eq!(kind("team"), Some(("property", 0)), "a map key: {tokens:?}");
}

/// A space the editor sends as a completion trigger opens a list only where a space starts
/// something to complete (a resource type after `resource`, a value after `=` or `,`), not while
/// `=` signs are aligned or a string is written; asked for explicitly, completion still answers.
#[test]
fn a_space_triggers_completion_only_where_something_starts() {
    let text = "resource aws.logs.log_group app {\n  name              = \"a b \"\n  retention_in_days = length([1, 2])\n}\n\nresource \n";
    let mut s = Session::open("space.drone", text, &[]);
    let by_space = |s: &mut Session, needle: &str, after: usize| -> Vec<String> {
        let reply = s.client.request(
            "textDocument/completion",
            json!({ "textDocument": { "uri": s.uri }, "position": position(text, needle, after), "context": { "triggerKind": 2, "triggerCharacter": " " } }),
        );
        reply["result"]["items"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|i| i["label"].as_str().map(String::from))
            .collect()
    };
    assert!(by_space(&mut s, "\nresource \n", 10).contains(&"aws.s3.bucket".to_string()));
    assert!(by_space(&mut s, "= length", 2).contains(&"length".to_string()), "a value starts after `= `");
    assert!(by_space(&mut s, "[1, 2]", 4).contains(&"length".to_string()), "and after `, `");
    assert_eq!(by_space(&mut s, "name   ", 5), Vec::<String>::new(), "aligning the `=`");
    assert_eq!(by_space(&mut s, "\"a b \"", 3), Vec::<String>::new(), "inside a string");
    // Asked for (no trigger), the block's attributes are offered where the space was.
    let asked = s.client.completion_labels(&s.uri, position(text, "name   ", 5));
    assert!(asked.contains(&"retention_in_days".to_string()), "{asked:?}");
}
