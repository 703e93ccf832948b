// Manifest tests: package.json and the files it names, exact (locked) dependency versions, the extension's entry
// point loading against a stub `vscode` module, and, given a .vsix, its contents and its vsixmanifest.
// Usage: node test/manifest.test.js [EXTENSION.vsix]
'use strict';

const fs = require('fs');
const path = require('path');
const zlib = require('zlib');
const Module = require('module');

const dir = path.join(__dirname, '..');
const failures = [];
function check(cond, what) {
  if (!cond) failures.push(what);
}
function readJson(rel) {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, rel), 'utf8'));
  } catch (e) {
    failures.push(`${rel}: ${e.message}`);
    return {};
  }
}

const pkg = readJson('package.json');
const lock = readJson('package-lock.json');
check(pkg.name === 'braid' && pkg.publisher === 'braid-lang', 'name and publisher');
check(/^\d+\.\d+\.\d+$/.test(pkg.version || ''), 'version is x.y.z');
check(/^\^1\.\d+\.\d+$/.test((pkg.engines || {}).vscode || ''), 'engines.vscode is ^1.x.y');
check(pkg.license === 'Apache-2.0' && fs.existsSync(path.join(dir, 'LICENSE')), 'license and LICENSE');
check(fs.existsSync(path.join(dir, pkg.main || 'missing')), `main ${pkg.main} exists`);
check((pkg.activationEvents || []).length > 0, 'activation events');
const c = pkg.contributes || {};
const lang = (c.languages || [])[0] || {};
check(lang.id === 'braid' && (lang.extensions || []).includes('.braid'), 'language braid for .braid');
const langConf = readJson(lang.configuration || 'missing');
check(langConf.comments && langConf.comments.lineComment === '//', 'language configuration: comments');
check((langConf.brackets || []).length === 3, 'language configuration: brackets');
check(langConf.indentationRules && langConf.folding, 'language configuration: indentation and folding');
const gram = (c.grammars || [])[0] || {};
const grammar = readJson(gram.path || 'missing');
check(gram.language === 'braid' && gram.scopeName === 'source.braid' && grammar.scopeName === 'source.braid',
      'grammar scope source.braid');
const snippets = readJson(((c.snippets || [])[0] || {}).path || 'missing');
for (const [name, s] of Object.entries(snippets)) {
  check(s.prefix && Array.isArray(s.body) && s.body.length > 0, `snippet ${name} has a prefix and a body`);
}
for (const scope of ['Event rule', 'Session rule', 'Chain rule', 'Group rule']) check(snippets[scope], `snippet: ${scope}`);
const props = ((c.configuration || {}).properties) || {};
check(props['braid.path'] && props['braid.path'].default === 'braid', 'setting braid.path (default braid)');
// Exact versions, and the lockfile agrees with them.
for (const deps of [pkg.dependencies || {}, pkg.devDependencies || {}]) {
  for (const [name, v] of Object.entries(deps)) {
    check(/^\d+\.\d+\.\d+$/.test(v), `${name} pinned to an exact version (${v})`);
    const locked = ((lock.packages || {})[`node_modules/${name}`] || {}).version;
    check(locked === v, `${name}: package-lock.json has ${locked}, package.json ${v}`);
  }
}
check(lock.lockfileVersion >= 2, 'lockfile version 2 or later (npm ci)');

// The entry point loads and exports activate/deactivate (with a stub `vscode`: the real one exists only inside VS Code).
const resolve = Module._resolveFilename;
Module._resolveFilename = function (request, ...rest) {
  if (request === 'vscode') return 'vscode';
  return resolve.call(this, request, ...rest);
};
// Every member of the stub is a class whose members are stubs too (the client extends and reads vscode's classes).
const stub = new Proxy(class {}, { get: (target, prop) => (prop in target ? target[prop] : stub) });
require.cache.vscode = { id: 'vscode', filename: 'vscode', loaded: true, exports: stub };
try {
  const ext = require(path.join(dir, pkg.main));
  check(typeof ext.activate === 'function' && typeof ext.deactivate === 'function', 'extension exports activate/deactivate');
} catch (e) {
  failures.push(`loading ${pkg.main}: ${e.message}`);
}

// The package: a zip whose central directory lists the files.
function zipEntries(file) {
  const buf = fs.readFileSync(file);
  let eocd = buf.length - 22;
  while (eocd >= 0 && buf.readUInt32LE(eocd) !== 0x06054b50) --eocd;
  if (eocd < 0) throw new Error('not a zip file');
  const count = buf.readUInt16LE(eocd + 10);
  let off = buf.readUInt32LE(eocd + 16);
  const entries = {};
  for (let i = 0; i < count; ++i) {
    if (buf.readUInt32LE(off) !== 0x02014b50) throw new Error('bad central directory');
    const method = buf.readUInt16LE(off + 10), csize = buf.readUInt32LE(off + 20);
    const nlen = buf.readUInt16LE(off + 28), xlen = buf.readUInt16LE(off + 30), clen = buf.readUInt16LE(off + 32);
    const local = buf.readUInt32LE(off + 42);
    const name = buf.toString('utf8', off + 46, off + 46 + nlen);
    entries[name] = () => {
      const start = local + 30 + buf.readUInt16LE(local + 26) + buf.readUInt16LE(local + 28);
      const data = buf.subarray(start, start + csize);
      return method === 8 ? zlib.inflateRawSync(data) : data;
    };
    off += 46 + nlen + xlen + clen;
  }
  return entries;
}
const vsix = process.argv[2];
if (vsix) {
  try {
    const entries = zipEntries(vsix);
    for (const f of ['extension.vsixmanifest', '[Content_Types].xml', 'extension/package.json', 'extension/extension.js',
                     'extension/syntaxes/braid.tmLanguage.json', 'extension/language-configuration.json',
                     'extension/snippets/braid.json', 'extension/LICENSE.txt',
                     'extension/node_modules/vscode-languageclient/package.json']) {
      check(entries[f], `${path.basename(vsix)} contains ${f}`);
    }
    for (const name of Object.keys(entries)) {
      check(!name.startsWith('extension/test/'), `${name}: tests are not packaged`);
      check(!/node_modules\/(@vscode\/vsce|vscode-textmate|vscode-oniguruma)\//.test(name), `${name}: dev dependency packaged`);
    }
    const manifest = entries['extension.vsixmanifest'] ? entries['extension.vsixmanifest']().toString('utf8') : '';
    check(manifest.includes(`Id="braid"`) && manifest.includes(`Publisher="braid-lang"`) &&
          manifest.includes(`Version="${pkg.version}"`), 'vsixmanifest identity');
    check(manifest.includes('Microsoft.VisualStudio.Code'), 'vsixmanifest targets VS Code');
    const packed = JSON.parse(entries['extension/package.json']().toString('utf8'));
    check(packed.version === pkg.version && packed.main === pkg.main, 'packaged package.json');
  } catch (e) {
    failures.push(`${vsix}: ${e.message}`);
  }
}

if (failures.length) {
  console.error(failures.join('\n'));
  console.error(`manifest: ${failures.length} problem(s)`);
  process.exit(1);
}
console.log(`manifest: package.json, its files and locked versions are valid${vsix ? `; ${path.basename(vsix)} checked` : ''}`);
