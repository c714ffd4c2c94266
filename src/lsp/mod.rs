//! `drone lsp`: the language server, over stdio. It reuses the language, the
//! checker, the catalog, the script compiler and the policy engine, so an
//! editor shows exactly what `drone check` prints; it never runs a script,
//! calls AWS or reads state. The JSON-RPC framing is our own (`framing.rs`):
//! a malformed message is answered with a parse error and the session goes
//! on, and a handler that panics answers its request with an internal error
//! and the server keeps serving.

mod analysis;
mod features;
mod fixes;
mod framing;
mod refs;
mod text;
mod tokens;

use std::collections::BTreeMap;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::PathBuf;

use drone_lang::Catalog;
use serde_json::{json, Value};

use crate::exit::Exit;
use framing::Frame;
use text::LineIndex;

/// JSON-RPC error codes.
const PARSE_ERROR: i64 = -32700;
const INVALID_PARAMS: i64 = -32602;
const METHOD_NOT_FOUND: i64 = -32601;
const INTERNAL_ERROR: i64 = -32603;

/// Serves the protocol on stdin and stdout until `exit`.
pub fn serve(catalog: &Catalog) -> Exit {
    let stdin = std::io::stdin();
    let mut input = stdin.lock();
    let stdout = std::io::stdout();
    let mut output = stdout.lock();
    let mut server = Server {
        catalog,
        documents: BTreeMap::new(),
        analyses: BTreeMap::new(),
        caches: analysis::Caches::default(),
        panic_on: std::env::var("DRONE_LSP_PANIC_ON").ok(),
        client_root: None,
        shut_down: false,
        exited: false,
    };
    loop {
        let replies = match framing::read(&mut input) {
            Ok(Frame::Closed) | Err(_) => break,
            Ok(Frame::Malformed(why)) => {
                vec![error(Value::Null, PARSE_ERROR, &format!("not a JSON-RPC message: {why}"))]
            }
            Ok(Frame::Message(message)) => {
                let id = message.get("id").cloned();
                match catch_unwind(AssertUnwindSafe(|| server.handle(&message))) {
                    Ok(replies) => replies,
                    Err(_) => id
                        .map(|id| vec![error(id, INTERNAL_ERROR, "drone failed on this request; the server goes on")])
                        .unwrap_or_default(),
                }
            }
        };
        for reply in &replies {
            if framing::write(&mut output, reply).is_err() {
                return Exit::Internal;
            }
        }
        if server.exited {
            break;
        }
    }
    // The protocol: exit after shutdown is success, without it an error.
    if server.shut_down {
        Exit::Success
    } else {
        Exit::Internal
    }
}

struct Server<'c> {
    catalog: &'c Catalog,
    /// Open documents' texts by URI.
    documents: BTreeMap<String, String>,
    /// The last analysis of each open document.
    analyses: BTreeMap<String, analysis::Analysis>,
    /// What analyses reuse.
    caches: analysis::Caches,
    /// A method whose handler panics on purpose (`DRONE_LSP_PANIC_ON`): the
    /// tests' way to prove that a panic costs one answer, not the session.
    panic_on: Option<String>,
    /// The workspace the client opened (`workspaceFolders`, else `rootUri`): the root `use` may
    /// read under, for the documents inside it.
    client_root: Option<PathBuf>,
    shut_down: bool,
    exited: bool,
}

impl Server<'_> {
    /// The messages to send for `message`.
    fn handle(&mut self, message: &Value) -> Vec<Value> {
        let method = message["method"].as_str().unwrap_or_default();
        let params = &message["params"];
        let id = message.get("id").cloned();
        let Some(id) = id else {
            return self.notification(method, params);
        };
        self.panic_if_asked(method);
        let uri = params["textDocument"]["uri"].as_str().unwrap_or_default().to_string();
        let text = self.documents.get(&uri).cloned();
        let offset = |text: &str| LineIndex::new(text).offset(&params["position"]);
        let result = match method {
            "initialize" => {
                let folder = params["workspaceFolders"][0]["uri"].as_str().or(params["rootUri"].as_str());
                self.client_root = folder.map(|uri| canonical(&path_of(uri)));
                // Bytes when the client offers them: no conversion on either side.
                let offered = params["capabilities"]["general"]["positionEncodings"].as_array();
                let utf8 = offered.is_some_and(|e| e.iter().any(|e| e == "utf-8"));
                text::count_bytes(utf8);
                let mut answer = capabilities();
                answer["capabilities"]["positionEncoding"] = json!(if utf8 { "utf-8" } else { "utf-16" });
                Ok(answer)
            }
            "workspace/symbol" => {
                Ok(features::workspace_symbols(&self.documents, params["query"].as_str().unwrap_or("")))
            }
            "shutdown" => {
                self.shut_down = true;
                Ok(Value::Null)
            }
            "textDocument/hover"
            | "textDocument/completion"
            | "textDocument/definition"
            | "textDocument/formatting"
            | "textDocument/documentSymbol"
            | "textDocument/codeAction"
            | "textDocument/rename"
            | "textDocument/prepareRename"
            | "textDocument/documentHighlight"
            | "textDocument/foldingRange"
            | "textDocument/signatureHelp"
            | "textDocument/semanticTokens/full"
            | "textDocument/inlayHint"
            | "textDocument/references" => match text {
                None => Err((INVALID_PARAMS, format!("`{uri}` is not open"))),
                Some(text) => {
                    // Every open document was analysed at its last change: its tree and rules.
                    let Some(analysis) = self.analyses.get(&uri) else {
                        return vec![error(id, INTERNAL_ERROR, "the document was not analysed")];
                    };
                    let tree = &analysis.tree;
                    let path = path_of(&uri);
                    let rules = match analysis.rules.as_slice() {
                        [] => features::builtin_rules(),
                        rules => rules,
                    };
                    let (values, loop_keys) = (&analysis.values, &analysis.loop_keys);
                    let documents = &self.documents;
                    let cx =
                        features::Context { catalog: self.catalog, file: &path, rules, values, loop_keys, documents };
                    Ok(match method {
                        "textDocument/hover" => with_findings(
                            features::hover(&text, tree, offset(&text), &cx),
                            self.finding_hover(&uri, &params["position"]),
                        ),
                        "textDocument/completion" => {
                            let space = params["context"]["triggerCharacter"] == " ";
                            features::completion(&text, tree, offset(&text), space, &cx)
                        }
                        "textDocument/definition" => features::definition(&uri, &text, tree, offset(&text), &cx),
                        "textDocument/documentSymbol" => features::symbols(&text, tree),
                        "textDocument/codeAction" => features::code_actions(&uri, &text, params),
                        "textDocument/references" => features::references(&uri, &text, tree, offset(&text)),
                        "textDocument/documentHighlight" => features::highlights(&text, tree, offset(&text)),
                        "textDocument/foldingRange" => features::folding_ranges(&text, tree),
                        "textDocument/signatureHelp" => features::signature_help(&text, offset(&text), &cx),
                        "textDocument/semanticTokens/full" => tokens::full(&text),
                        "textDocument/inlayHint" => features::inlay_hints(&text, tree, &cx),
                        "textDocument/prepareRename" => match features::prepare_rename(&text, tree, offset(&text)) {
                            Ok(range) => range,
                            Err(why) => return vec![error(id, INVALID_PARAMS, &why)],
                        },
                        "textDocument/rename" => {
                            let new_name = params["newName"].as_str().unwrap_or_default();
                            match features::rename(&uri, &text, offset(&text), new_name) {
                                Ok(edit) => edit,
                                Err(why) => return vec![error(id, INVALID_PARAMS, &why)],
                            }
                        }
                        _ => match features::formatting(&text) {
                            Ok(edits) => edits,
                            Err(why) => return vec![error(id, INTERNAL_ERROR, &why)],
                        },
                    })
                }
            },
            other => Err((METHOD_NOT_FOUND, format!("drone's language server does not answer `{other}`"))),
        };
        match result {
            Ok(result) => vec![json!({ "jsonrpc": "2.0", "id": id, "result": result })],
            Err((code, why)) => vec![error(id, code, &why)],
        }
    }

    fn notification(&mut self, method: &str, params: &Value) -> Vec<Value> {
        let uri = params["textDocument"]["uri"].as_str().unwrap_or_default().to_string();
        match method {
            "exit" => {
                self.exited = true;
                Vec::new()
            }
            "textDocument/didOpen" => {
                let text = params["textDocument"]["text"].as_str().unwrap_or_default().to_string();
                self.documents.insert(uri.clone(), text);
                self.publish_with_dependents(&uri)
            }
            "textDocument/didChange" => {
                let Some(text) = self.documents.get_mut(&uri) else { return Vec::new() };
                for change in params["contentChanges"].as_array().into_iter().flatten() {
                    text::apply(text, change);
                }
                self.publish_with_dependents(&uri)
            }
            "textDocument/didClose" => {
                self.documents.remove(&uri);
                self.analyses.remove(&uri);
                vec![
                    json!({ "jsonrpc": "2.0", "method": "textDocument/publishDiagnostics", "params": { "uri": uri, "diagnostics": [] } }),
                ]
            }
            _ => Vec::new(),
        }
    }

    fn panic_if_asked(&self, method: &str) {
        if self.panic_on.as_deref() == Some(method) {
            panic!("DRONE_LSP_PANIC_ON asked the `{method}` handler to panic");
        }
    }

    /// The policy findings at `position` of `uri`, as hover text: what each
    /// says, and its rule's title, rationale and fix.
    fn finding_hover(&self, uri: &str, position: &Value) -> Option<String> {
        let at = |p: &Value| (p["line"].as_u64().unwrap_or(0), p["character"].as_u64().unwrap_or(0));
        let here = at(position);
        let texts: Vec<String> = self
            .analyses
            .get(uri)?
            .diagnostics
            .iter()
            .filter(|d| d["data"]["rule"].is_string())
            .filter(|d| at(&d["range"]["start"]) <= here && here <= at(&d["range"]["end"]))
            .map(|d| {
                let data = &d["data"];
                let line = |label: &str, key: &str| {
                    data[key].as_str().map(|text| format!("\n\n*{label}:* {text}")).unwrap_or_default()
                };
                let message = d["message"].as_str().unwrap_or_default().lines().next().unwrap_or_default();
                format!(
                    "**{}**: {}\n\n{message}{}{}",
                    data["rule"].as_str().unwrap_or_default(),
                    data["title"].as_str().unwrap_or_default(),
                    line("Why", "rationale"),
                    line("Fix", "fix"),
                )
            })
            .collect();
        (!texts.is_empty()).then(|| texts.join("\n\n---\n\n"))
    }

    /// Diagnostics for `uri`, and for every other open document that imports
    /// it (a `use`d file's change shows where it is used).
    fn publish_with_dependents(&mut self, uri: &str) -> Vec<Value> {
        let changed = canonical(&path_of(uri));
        let dependents: Vec<String> = self
            .analyses
            .iter()
            .filter(|(other, analysis)| other.as_str() != uri && analysis.imports.contains(&changed))
            .map(|(other, _)| other.clone())
            .collect();
        let mut out = vec![self.publish(uri)];
        for other in dependents {
            out.push(self.publish(&other));
        }
        // The open files it imports show what its instances of them are found to do.
        let imports = self.analyses.get(uri).map(|a| a.imports.clone()).unwrap_or_default();
        let imported: Vec<String> =
            self.analyses.keys().filter(|u| imports.contains(&canonical(&path_of(u)))).cloned().collect();
        for other in imported {
            out.push(self.diagnostics_of(&other));
        }
        out
    }

    /// The document's diagnostics, as a notification.
    fn publish(&mut self, uri: &str) -> Value {
        let text = self.documents.get(uri).cloned().unwrap_or_default();
        let open: BTreeMap<PathBuf, String> = self
            .documents
            .iter()
            .filter(|(u, _)| u.as_str() != uri)
            .map(|(u, t)| (canonical(&path_of(u)), t.clone()))
            .collect();
        // The client's workspace for its documents; elsewhere, as `drone check` chooses (`.git`).
        let path = path_of(uri);
        let root = match &self.client_root {
            Some(root) if canonical(&path).starts_with(root) => root.clone(),
            _ => crate::pipeline::root_for(&path),
        };
        let (catalog, caches) = (self.catalog, &mut self.caches);
        let panic_on = self.panic_on.as_deref();
        let mut analysis = catch_unwind(AssertUnwindSafe(|| {
            if panic_on == Some("textDocument/publishDiagnostics") {
                panic!("DRONE_LSP_PANIC_ON asked the analysis to panic");
            }
            analysis::diagnostics(uri, &path, &root, &text, catalog, &open, caches)
        }))
        .unwrap_or_else(|_| {
            // The caches may be half-updated: start them afresh.
            *caches = analysis::Caches::default();
            let mut stopped = analysis::Analysis::stopped(vec![json!({
                "range": { "start": { "line": 0, "character": 0 }, "end": { "line": 0, "character": 0 } },
                "severity": 1,
                "source": "drone",
                "message": "drone failed while checking this file; please report it",
            })]);
            // Requests still read the items that parse, if parsing is not what failed.
            if let Ok(parsed) = catch_unwind(|| drone_lang::parse(drone_lang::FileId(0), &text)) {
                stopped.tree = parsed.module;
            }
            stopped
        });
        if analysis.rules.is_empty() {
            // A document being typed (`@allow(` opened) does not reach the policies:
            // the rules are those of its last analysis that did.
            analysis.rules = self.analyses.get(uri).map(|a| a.rules.clone()).unwrap_or_default();
        }
        self.analyses.insert(uri.to_string(), analysis);
        self.diagnostics_of(uri)
    }

    /// The diagnostics notification of `uri` from its last analysis, with the findings other open
    /// documents' analyses placed in it (a component's, found through their instances).
    fn diagnostics_of(&self, uri: &str) -> Value {
        let here = canonical(&path_of(uri));
        let own = self.analyses.get(uri).map(|a| a.diagnostics.clone()).unwrap_or_default();
        let mut diagnostics = own;
        for (other, analysis) in &self.analyses {
            if other == uri {
                continue;
            }
            for placed in analysis.elsewhere.get(&here).into_iter().flatten() {
                // Two workflows instantiating it may find the same thing: once is enough.
                let same = |d: &Value| d["range"] == placed["range"] && d["code"] == placed["code"];
                if !diagnostics.iter().any(same) {
                    diagnostics.push(placed.clone());
                }
            }
        }
        json!({ "jsonrpc": "2.0", "method": "textDocument/publishDiagnostics", "params": { "uri": uri, "diagnostics": diagnostics } })
    }
}

/// `path` with links resolved, when it exists.
pub(crate) fn canonical(path: &std::path::Path) -> PathBuf {
    std::fs::canonicalize(path).unwrap_or_else(|_| path.to_path_buf())
}

/// A hover's contents with the findings' text above them.
fn with_findings(hover: Value, findings: Option<String>) -> Value {
    let Some(findings) = findings else { return hover };
    let value = match hover["contents"]["value"].as_str() {
        Some(below) => format!("{findings}\n\n---\n\n{below}"),
        None => findings,
    };
    let mut out = json!({ "contents": { "kind": "markdown", "value": value } });
    if let Some(range) = hover.get("range") {
        out["range"] = range.clone();
    }
    out
}

fn capabilities() -> Value {
    json!({
        "capabilities": {
            "textDocumentSync": { "openClose": true, "change": 2 },
            "hoverProvider": true,
            "completionProvider": { "triggerCharacters": [" ", "."] },
            "definitionProvider": true,
            "documentFormattingProvider": true,
            "documentSymbolProvider": true,
            "codeActionProvider": true,
            "renameProvider": { "prepareProvider": true },
            "referencesProvider": true,
            "documentHighlightProvider": true,
            "foldingRangeProvider": true,
            "signatureHelpProvider": { "triggerCharacters": ["(", ","] },
            "semanticTokensProvider": { "legend": tokens::legend(), "full": true },
            "inlayHintProvider": true,
            "workspaceSymbolProvider": true,
        },
        "serverInfo": { "name": "drone", "version": env!("CARGO_PKG_VERSION") },
    })
}

fn error(id: Value, code: i64, message: &str) -> Value {
    json!({ "jsonrpc": "2.0", "id": id, "error": { "code": code, "message": message } })
}

/// The file a `file://` URI names (percent-decoded); other URIs are read as paths.
pub(crate) fn path_of(uri: &str) -> PathBuf {
    let raw = uri.strip_prefix("file://").unwrap_or(uri);
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes
            .get(i + 1..i + 3)
            .and_then(|h| std::str::from_utf8(h).ok())
            .and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
            }
            (b, _) => {
                out.push(b);
                i += 1;
            }
        }
    }
    PathBuf::from(String::from_utf8_lossy(&out).into_owned())
}
