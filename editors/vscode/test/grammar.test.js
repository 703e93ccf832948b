// Grammar tests: tokenise every .braid file of the repository with vscode-textmate and vscode-oniguruma (the
// engine VS Code uses), check that no token is left without a Braid scope, and compare the tokens of a few tricky
// files with their snapshots (test/snapshots). UPDATE_SNAPSHOTS=1 rewrites the snapshots.
// Usage: node test/grammar.test.js [REPO_ROOT]
'use strict';

const fs = require('fs');
const path = require('path');
const vsctm = require('vscode-textmate');
const oniguruma = require('vscode-oniguruma');

const here = __dirname;
const root = path.resolve(process.argv[2] || path.join(here, '..', '..', '..'));
const grammarPath = path.join(here, '..', 'syntaxes', 'braid.tmLanguage.json');

function braidFiles(dir, out) {
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith('.') || e.name === 'node_modules' || e.name === 'build') continue;
    const p = path.join(dir, e.name);
    if (e.isDirectory()) braidFiles(p, out);
    else if (e.isFile() && e.name.endsWith('.braid')) out.push(p);
  }
  return out;
}

async function loadGrammar() {
  const wasm = fs.readFileSync(path.join(path.dirname(require.resolve('vscode-oniguruma')), 'onig.wasm'));
  await oniguruma.loadWASM(wasm.buffer.slice(wasm.byteOffset, wasm.byteOffset + wasm.byteLength));
  const registry = new vsctm.Registry({
    onigLib: Promise.resolve({
      createOnigScanner: (sources) => new oniguruma.OnigScanner(sources),
      createOnigString: (s) => new oniguruma.OnigString(s),
    }),
    loadGrammar: async (scopeName) => {
      if (scopeName !== 'source.braid') return null;
      return vsctm.parseRawGrammar(fs.readFileSync(grammarPath, 'utf8'), grammarPath);
    },
  });
  return registry.loadGrammar('source.braid');
}

function tokenize(grammar, text) {
  const lines = text.split(/\r?\n/);
  let state = vsctm.INITIAL;
  const out = [];
  for (const line of lines) {
    const r = grammar.tokenizeLine(line, state);
    out.push({ line, tokens: r.tokens.map((t) => ({ text: line.slice(t.startIndex, t.endIndex), scopes: t.scopes })) });
    state = r.ruleStack;
  }
  return out;
}

function snapshot(tokenized) {
  let s = '';
  for (const { line, tokens } of tokenized) {
    if (!line.trim()) continue;
    s += `> ${line}\n`;
    for (const t of tokens) {
      if (!t.text.trim()) continue;
      s += `  ${JSON.stringify(t.text)} ${t.scopes.slice(1).join(' ')}\n`;
    }
  }
  return s;
}

(async () => {
  const grammar = await loadGrammar();
  const files = braidFiles(root, []).sort();
  const failures = [];
  let tokens = 0;
  for (const file of files) {
    const rel = path.relative(root, file);
    const tokenized = tokenize(grammar, fs.readFileSync(file, 'utf8'));
    tokenized.forEach(({ tokens: ts }, i) => {
      for (const t of ts) {
        ++tokens;
        // Every piece of text that is not blank has a Braid scope besides the root.
        if (t.text.trim() && t.scopes.length < 2) failures.push(`${rel}:${i + 1}: unscoped ${JSON.stringify(t.text)}`);
        // Characters the language does not have are `invalid`, which only the syntax-error cases may contain.
        if (t.scopes.some((s) => s.startsWith('invalid.')) && !/^tests\/(fuzz|golden\/BRD00)/.test(rel)) {
          failures.push(`${rel}:${i + 1}: ${JSON.stringify(t.text)} scoped as invalid`);
        }
      }
    });
  }
  // Snapshots of the tricky files.
  // Frozen copies (test/fixtures), so that edits to the shipped rules and stdlib do not move the snapshots:
  // tricky.braid, written for this test; aws_lists.braid (stdlib/aws/lists.braid); chain_rule.braid
  // (rules/aws/credential-access/chain_minted_credential_used_from_other_ip.braid).
  const tricky = ['tricky.braid', 'aws_lists.braid', 'chain_rule.braid', 'group_rule.braid'].map((f) => path.join(here, 'fixtures', f));
  let updated = 0;
  for (const file of tricky) {
    if (!fs.existsSync(file)) {
      failures.push(`missing snapshot source ${file}`);
      continue;
    }
    const snap = path.join(here, 'snapshots', path.basename(file) + '.snap');
    const got = snapshot(tokenize(grammar, fs.readFileSync(file, 'utf8')));
    if (process.env.UPDATE_SNAPSHOTS === '1') {
      fs.writeFileSync(snap, got);
      ++updated;
      continue;
    }
    const want = fs.existsSync(snap) ? fs.readFileSync(snap, 'utf8') : '';
    if (got !== want) {
      const g = got.split('\n'), w = want.split('\n');
      let i = 0;
      while (i < g.length && g[i] === w[i]) ++i;
      failures.push(`${path.relative(here, snap)} differs at line ${i + 1}:\n  want: ${w[i]}\n  got:  ${g[i]}\n` +
                    '  (UPDATE_SNAPSHOTS=1 rewrites it; review the diff)');
    }
  }
  if (failures.length) {
    console.error(failures.slice(0, 50).join('\n'));
    console.error(`grammar: ${failures.length} problem(s) in ${files.length} files`);
    process.exit(1);
  }
  console.log(`grammar: ${files.length} .braid files, ${tokens} tokens, all scoped; ` +
              (updated ? `${updated} snapshots written` : `${tricky.length} snapshots match`));
})().catch((e) => {
  console.error(e);
  process.exit(1);
});
