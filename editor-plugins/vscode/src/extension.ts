// maintaind for VS Code: starts `maintaind lsp` (which starts or reaches the daemon) for
// TypeScript and Prisma files. Each action has one command id, the server's own
// (`maintaind.blastRadius`, `maintaind.planChange`, `maintaind.showManifest`,
// `maintaind.clearManifest`, `maintaind.status`): vscode-languageclient registers them from the
// server's capabilities, and the middleware here adds what an editor needs around them (the
// cursor position, the kind of change, the request text) and shows their results in the
// "maintaind" tree view, whether they came from the palette, the context menu or a code lens.
// The status bar follows the daemon's `maintaind/status` notifications; it never polls.
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

type Status = { state?: string; generation?: number; files?: number; server?: { kind: string; version: string } | null; message?: string };

interface BlastAnswer {
  target: { name: string; kind: string };
  locations: Location[];
  must_change_files: string[];
  files: string[];
  approximate: boolean;
}

async function showSummary(text: string): Promise<void> {
  const doc = await vscode.workspace.openTextDocument({ content: text, language: "markdown" });
  await vscode.window.showTextDocument(doc, { preview: true, viewColumn: vscode.ViewColumn.Beside });
}

function message(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

export async function activate(context: vscode.ExtensionContext): Promise<void> {
  const config = vscode.workspace.getConfiguration("maintaind");
  const exe = config.get<string>("path", "maintaind");
  const serverOptions: ServerOptions = { command: exe, args: ["lsp", "--ts-server", config.get<string>("tsServer", "auto")], transport: TransportKind.stdio };

  const results = new Results();
  const view = vscode.window.createTreeView("maintaindResults", { treeDataProvider: results });
  const status = vscode.window.createStatusBarItem(vscode.StatusBarAlignment.Left, 10);
  status.command = "maintaind.status";
  status.text = "$(sync~spin) maintaind";
  status.tooltip = "maintaind: starting";
  status.show();
  context.subscriptions.push(view, status);

  const showStatus = (s: Status) => {
    const server = s.server ? `${s.server.kind} ${s.server.version}` : "no TypeScript server";
    status.text = s.state === "ready" ? "$(check) maintaind" : s.state === "starting" ? "$(sync~spin) maintaind" : `$(warning) maintaind: ${s.state ?? "unknown"}`;
    status.tooltip = `maintaind daemon: ${s.state}${s.message ? ` (${s.message})` : ""} · registry generation ${s.generation ?? "?"} · ${s.files ?? "?"} files · ${server}`;
  };

  const reveal = (title: string, locations: Location[]) => {
    results.show(title, locations);
    view.title = `maintaind: ${title}`;
    view.message = title;
    if (locations.length > 0) void view.reveal(results.getChildren()[0], { expand: true });
  };

  /** The server's commands with the editor's side around them; `next` sends the request. */
  const executeCommand = async (command: string, args: unknown[], next: (command: string, args: unknown[]) => unknown): Promise<unknown> => {
    try {
      switch (command) {
        case "maintaind.blastRadius": {
          let arg = args[0];
          if (arg === undefined) {
            // From the palette or the context menu: the cursor, and the kind of change.
            const editor = vscode.window.activeTextEditor;
            if (!editor) {
              vscode.window.showErrorMessage("maintaind: put the cursor on a symbol in a TypeScript file first");
              return undefined;
            }
            const change = await vscode.window.showQuickPick(KINDS, { title: "maintaind: which kind of change?", placeHolder: "behavior" });
            if (!change) return undefined;
            arg = { uri: editor.document.uri.toString(), position: editor.selection.active, change };
          }
          const r = (await next(command, [arg])) as BlastAnswer | undefined;
          const change = (arg as { change?: string }).change ?? "behavior";
          if (r) reveal(`${r.target.kind} ${r.target.name} (${change}): ${r.must_change_files.length} must change · ${r.files.length} files${r.approximate ? " · approximate" : ""}`, r.locations);
          return r;
        }
        case "maintaind.planChange": {
          let arg = args[0];
          if (arg === undefined) {
            const request = await vscode.window.showInputBox({ title: "maintaind: what should change?", placeHolder: "add view_count to the article model" });
            if (typeof request !== "string" || !request.trim()) return undefined;
            // Carrying it out is the daemon's (a rename, a validation tag; kept only without new errors).
            const how = await vscode.window.showQuickPick(["Plan only", "Plan and apply when mechanical"], { title: "maintaind: plan, or plan and apply?" });
            if (!how) return undefined;
            arg = how === "Plan only" ? request : { request, apply: true };
          }
          const r = (await next(command, [arg])) as { summary: string; manifest: { id: string }; locations: Location[]; applied?: { outcome: string } } | undefined;
          if (r) {
            reveal(`change ${r.manifest.id}`, r.locations.filter((l) => l.must_change));
            if (r.applied) {
              const first = r.summary.split("\n")[0];
              if (r.applied.outcome === "applied") vscode.window.showInformationMessage(`maintaind: ${first}`);
              else vscode.window.showWarningMessage(`maintaind: ${first}`);
            }
            await showSummary(r.summary);
          }
          return r;
        }
        case "maintaind.showManifest": {
          const r = (await next(command, args)) as { active: boolean; summary: string; locations?: Location[] } | undefined;
          if (r && !r.active) vscode.window.showInformationMessage(`maintaind: ${r.summary}`);
          if (r && r.active) {
            reveal("active manifest", r.locations ?? []);
            await showSummary(r.summary);
          }
          return r;
        }
        case "maintaind.clearManifest": {
          const r = (await next(command, args)) as { cleared: boolean } | undefined;
          if (r) vscode.window.showInformationMessage(r.cleared ? "maintaind: no manifest is active now" : "maintaind: no manifest was active");
          return r;
        }
        case "maintaind.status": {
          const r = (await next(command, args)) as Status | undefined;
          if (r) {
            showStatus(r);
            vscode.window.showInformationMessage(`maintaind daemon: ${JSON.stringify(r, null, 1)}`);
          }
          return r;
        }
        default:
          return await next(command, args);
      }
    } catch (e) {
      vscode.window.showErrorMessage(`maintaind: ${message(e)}`);
      return undefined;
    }
  };

  const clientOptions: LanguageClientOptions = {
    documentSelector: ["typescript", "typescriptreact", "prisma"].map((language) => ({ scheme: "file", language })),
    outputChannelName: "maintaind",
    middleware: { executeCommand },
  };
  client = new LanguageClient("maintaind", "maintaind", serverOptions, clientOptions);
  // Pushed by `maintaind lsp` when it connects, when the daemon is ready, and after each command.
  context.subscriptions.push(client.onNotification("maintaind/status", showStatus));
  try {
    await client.start();
  } catch (e) {
    status.text = "$(error) maintaind";
    status.tooltip = `maintaind: cannot start \`${exe} lsp\`: ${message(e)}`;
    vscode.window.showErrorMessage(`maintaind: cannot start \`${exe} lsp\` (set maintaind.path): ${message(e)}`);
  }
}

export async function deactivate(): Promise<void> {
  await client?.stop();
}
