// maintaind for VS Code: starts `maintaind lsp` (which starts or reaches the daemon) for
// TypeScript and Prisma files, and adds palette commands whose results land in the
// "maintaind" tree view in the explorer, each location clickable. A status bar item shows the
// daemon's state.
import * as vscode from "vscode";
import { LanguageClient, LanguageClientOptions, ServerOptions, TransportKind } from "vscode-languageclient/node";

const KINDS = ["behavior", "rename", "signature", "shape", "return", "remove"];

/** A location as `maintaind lsp` returns it (must-change first). */
interface Location {
  path: string;
  file: string;
  line: number;
  symbol: string;
  relation: string;
  must_change: boolean;
  via: string;
}

type Node = { kind: "group"; label: string; children: Location[] } | { kind: "location"; location: Location };

/** The tree view: the last answer, grouped into "must change" and "touched". */
class Results implements vscode.TreeDataProvider<Node> {
  private changed = new vscode.EventEmitter<Node | undefined>();
  readonly onDidChangeTreeData = this.changed.event;
  private groups: Node[] = [];
  title = "";

  show(title: string, locations: Location[]): void {
    this.title = title;
    const must = locations.filter((l) => l.must_change);
    const touched = locations.filter((l) => !l.must_change);
    this.groups = [
      { kind: "group", label: `must change (${must.length})`, children: must },
      { kind: "group", label: `touched (${touched.length})`, children: touched },
    ];
    this.changed.fire(undefined);
  }

  getChildren(node?: Node): Node[] {
    if (!node) return this.groups;
    return node.kind === "group" ? node.children.map((location) => ({ kind: "location", location })) : [];
  }

  getTreeItem(node: Node): vscode.TreeItem {
    if (node.kind === "group") {
      return new vscode.TreeItem(node.label, vscode.TreeItemCollapsibleState.Expanded);
    }
    const l = node.location;
    const item = new vscode.TreeItem(`${l.file}:${l.line}`, vscode.TreeItemCollapsibleState.None);
    item.description = `${l.relation} ${l.symbol} (${l.via})`;
    item.iconPath = new vscode.ThemeIcon(l.must_change ? "error" : "references");
    const position = new vscode.Position(Math.max(l.line - 1, 0), 0);
    item.command = {
      command: "vscode.open",
      title: "Open",
      arguments: [vscode.Uri.file(l.path), { selection: new vscode.Range(position, position) }],
    };
    return item;
  }
}

let client: LanguageClient | undefined;

async function execute<T>(command: string, args: unknown[]): Promise<T | undefined> {
  if (!client) {
    vscode.window.showErrorMessage("maintaind: the language server is not running");
    return undefined;
  }
  try {
    return await client.sendRequest<T>("workspace/executeCommand", { command, arguments: args });
  } catch (e) {
    vscode.window.showErrorMessage(`maintaind: ${e instanceof Error ? e.message : String(e)}`);
    return undefined;
  }
}

async function showSummary(text: string): Promise<void> {
  const doc = await vscode.workspace.openTextDocument({ content: text, language: "markdown" });
  await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const config = vscode.workspace.getConfiguration("maintaind");
  const exe = config.get<string>("path", "maintaind");
  const serverOptions: ServerOptions = { command: exe, args: ["lsp", "--ts-server", config.get<string>("tsServer", "auto")], transport: TransportKind.stdio };
  const clientOptions: LanguageClientOptions = {
    documentSelector: ["typescript", "typescriptreact", "prisma"].map((language) => ({ scheme: "file", language })),
    outputChannelName: "maintaind",
  };
  client = new LanguageClient("maintaind", "maintaind", serverOptions, clientOptions);

  const results = new Results();
  const view = vscode.window.createTreeView("maintaindResults", { treeDataProvider: results });
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
  status.command = "maintaind.showDaemonStatus";
  status.text = "$(sync~spin) maintaind";
  status.tooltip = "maintaind: starting";
  status.show();
  context.subscriptions.push(view, status);

  const reveal = (title: string, locations: Location[]) => {
    results.show(title, locations);
    view.title = `maintaind: ${title}`;
    view.message = title;
    if (locations.length > 0) void view.reveal(results.getChildren()[0], { expand: true });
  };

  context.subscriptions.push(
    vscode.commands.registerCommand("maintaind.showBlastRadius", async () => {
      const editor = vscode.window.activeTextEditor;
      if (!editor) {
        vscode.window.showErrorMessage("maintaind: put the cursor on a symbol in a TypeScript file first");
        return;
      }
      const change = await vscode.window.showQuickPick(KINDS, { title: "maintaind: which kind of change?", placeHolder: "behavior" });
      if (!change) return;
      const arg = { uri: editor.document.uri.toString(), position: editor.selection.active, change };
      const r = await execute<{ target: { name: string; kind: string }; locations: Location[]; must_change_files: string[]; files: string[]; approximate: boolean }>("maintaind.blastRadius", [arg]);
      if (!r) return;
      reveal(`${r.target.kind} ${r.target.name} (${change}): ${r.must_change_files.length} must change · ${r.files.length} files${r.approximate ? " · approximate" : ""}`, r.locations);
    }),
    vscode.commands.registerCommand("maintaind.planChangePrompt", async () => {
      const request = await vscode.window.showInputBox({ title: "maintaind: what should change?", placeHolder: "add view_count to the article model" });
      if (!request || !request.trim()) return;
      const r = await execute<{ summary: string; manifest: { id: string }; locations: Location[] }>("maintaind.planChange", [request]);
      if (!r) return;
      reveal(`change ${r.manifest.id}`, r.locations.filter((l) => l.must_change));
      await showSummary(r.summary);
    }),
    vscode.commands.registerCommand("maintaind.openManifest", async () => {
      const r = await execute<{ active: boolean; summary: string; locations?: Location[] }>("maintaind.showManifest", []);
      if (!r) return;
      if (!r.active) {
        vscode.window.showInformationMessage(`maintaind: ${r.summary}`);
        return;
      }
      reveal("active manifest", r.locations ?? []);
      await showSummary(r.summary);
    }),
    vscode.commands.registerCommand("maintaind.deactivateManifest", async () => {
      const r = await execute<{ cleared: boolean }>("maintaind.clearManifest", []);
      if (r) vscode.window.showInformationMessage(r.cleared ? "maintaind: no manifest is active now" : "maintaind: no manifest was active");
    }),
    vscode.commands.registerCommand("maintaind.showDaemonStatus", async () => {
      const s = await execute<Record<string, unknown>>("maintaind.status", []);
      if (s) vscode.window.showInformationMessage(`maintaind daemon: ${JSON.stringify(s, null, 1)}`);
    }),
  );

  // The status bar follows the daemon (the language server answers from its status).
  const refresh = async () => {
    if (!client || !client.isRunning()) return;
    try {
      const s = await client.sendRequest<{ state?: string; generation?: number; server?: { kind: string; version: string } | null }>("workspace/executeCommand", { command: "maintaind.status", arguments: [] });
      const server = s.server ? `${s.server.kind} ${s.server.version}` : "no TypeScript server";
      status.text = s.state === "ready" ? "$(check) maintaind" : `$(warning) maintaind: ${s.state ?? "unknown"}`;
      status.tooltip = `maintaind daemon: ${s.state} · registry generation ${s.generation ?? "?"} · ${server}`;
    } catch (e) {
      status.text = "$(error) maintaind";
      status.tooltip = `maintaind: ${e instanceof Error ? e.message : String(e)}`;
    }
  };
  const timer = setInterval(refresh, 10_000);
  context.subscriptions.push({ dispose: () => clearInterval(timer) });
  await client.start();
  await refresh();
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
