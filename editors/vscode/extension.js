// Starts `drone lsp` for .drone files; everything else is the server's.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const command = vscode.workspace.getConfiguration("drone").get("path", "drone");
  const server = { command, args: ["lsp"] };
  client = new LanguageClient(
    "drone",
    "drone",
    { run: server, debug: server },
    { documentSelector: [{ scheme: "file", language: "drone" }] },
  );
  context.subscriptions.push({ dispose: () => client && client.stop() });
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
