// Tokenizes a .drone file with the extension's TextMate grammar, through VS Code's own
// tokenizer (vscode-textmate, with the Oniguruma regex engine of vscode-oniguruma), and
// prints each token as `line:column text -> scopes` (the golden form).
const fs = require("fs");
const path = require("path");
const textmate = require("vscode-textmate");
const oniguruma = require("vscode-oniguruma");

async function main() {
  const [grammarPath, samplePath] = process.argv.slice(2);
  const wasm = fs.readFileSync(require.resolve("vscode-oniguruma/release/onig.wasm")).buffer;
  await oniguruma.loadWASM(wasm);
  const registry = new textmate.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (patterns) => new oniguruma.OnigScanner(patterns),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scope) => {
      if (scope !== "source.drone") return null;
      const text = fs.readFileSync(grammarPath, "utf8");
      return textmate.parseRawGrammar(text, grammarPath);
    },
  });
  const grammar = await registry.loadGrammar("source.drone");
  const lines = fs.readFileSync(samplePath, "utf8").split("\n");
  let stack = textmate.INITIAL;
  const out = [];
  lines.forEach((line, i) => {
    const result = grammar.tokenizeLine(line, stack);
    for (const token of result.tokens) {
      const text = line.substring(token.startIndex, token.endIndex);
      if (text.trim() === "") continue;
      const scopes = token.scopes.filter((s) => s !== "source.drone").join(" ");
      out.push(`${i + 1}:${token.startIndex} ${JSON.stringify(text)} -> ${scopes || "(none)"}`);
    }
    stack = result.ruleStack;
  });
  process.stdout.write(out.join("\n") + "\n");
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
