// The seedc extension: starts `seedc lsp` (stdio) for the JSON files of a workspace that
// holds seedc.toml, and tells it when seedc.toml, seedc.lock, schemas or data change on disk.
const vscode = require("vscode");
const { LanguageClient } = require("vscode-languageclient/node");

let client;

function activate(context) {
  const config = vscode.workspace.getConfiguration("seedc");
  const command = config.get("path", "seedc");
  const serverOptions = { run: { command, args: ["lsp"] }, debug: { command, args: ["lsp"] } };
  const clientOptions = {
    documentSelector: [
      { scheme: "file", language: "json", pattern: "**/data/**/*.json" },
      { scheme: "file", language: "json", pattern: "**/schemas/**/*.json" },
    ],
    synchronize: {
      fileEvents: vscode.workspace.createFileSystemWatcher("**/{seedc.toml,seedc.lock,data/**/*.json,schemas/**/*.json}"),
    },
    initializationOptions: { debounceMs: config.get("debounceMs", 30) },
  };
  client = new LanguageClient("seedc", "seedc", serverOptions, clientOptions);
  context.subscriptions.push(client);
  return client.start();
}

function deactivate() {
  return client ? client.stop() : undefined;
}

module.exports = { activate, deactivate };
