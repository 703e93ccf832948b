// The Braid extension: starts `braid lsp` (path from the `braid.path` setting) and shows the standard library,
// which lives inside the braid binary, as read-only `braid-stdlib:` documents.
'use strict';

const vscode = require('vscode');
const { LanguageClient, TransportKind } = require('vscode-languageclient/node');

let client;

function createClient(context) {
  const config = vscode.workspace.getConfiguration('braid');
  const command = config.get('path') || 'braid';
  const serverOptions = {
    run: { command, args: ['lsp'], transport: TransportKind.stdio },
    debug: { command, args: ['lsp'], transport: TransportKind.stdio },
  };
  const clientOptions = {
    documentSelector: [
      { scheme: 'file', language: 'braid' },
      { scheme: 'untitled', language: 'braid' },
      { scheme: 'braid-stdlib', language: 'braid' },
    ],
    initializationOptions: { stdlibScheme: 'braid-stdlib' },
    synchronize: {
      configurationSection: 'braid',
      // Rule files changed on disk by other programs (git checkout, generators) are re-read by the server.
      fileEvents: vscode.workspace.createFileSystemWatcher('**/*.braid'),
    },
  };
  return new LanguageClient('braid', 'Braid', serverOptions, clientOptions);
}

async function activate(context) {
  // The stdlib's files come from the server (`braid/stdlibText`): go to definition opens them read-only.
  const provider = {
    async provideTextDocumentContent(uri) {
      if (!client) return '';
      return client.sendRequest('braid/stdlibText', { textDocument: { uri: uri.toString() } });
    },
  };
  context.subscriptions.push(vscode.workspace.registerTextDocumentContentProvider('braid-stdlib', provider));
  context.subscriptions.push(
    vscode.workspace.onDidOpenTextDocument((doc) => {
      if (doc.uri.scheme === 'braid-stdlib' && doc.languageId !== 'braid') {
        vscode.languages.setTextDocumentLanguage(doc, 'braid');
      }
    })
  );
  context.subscriptions.push(
    vscode.commands.registerCommand('braid.restartServer', async () => {
      if (client) await client.stop();
      client = createClient(context);
      await client.start();
    })
  );
  client = createClient(context);
  try {
    await client.start();
  } catch (err) {
    vscode.window.showErrorMessage(
      `Braid: cannot start \`${vscode.workspace.getConfiguration('braid').get('path')} lsp\`: ${err.message}. ` +
        'Set `braid.path` to the braid executable.'
    );
  }
}

async function deactivate() {
  if (client) await client.stop();
}

module.exports = { activate, deactivate };
