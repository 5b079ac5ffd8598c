// Contribution points: the palette's commands are exactly the server's (one id per action;
// vscode-languageclient registers them, the extension's middleware adds the editor's side);
// the status comes from the server's notification, never a timer; the built bundle and the
// packaged .vsix hold what VS Code loads.
const { test } = require("node:test");
const assert = require("node:assert");
const fs = require("node:fs");
const path = require("node:path");

const here = path.join(__dirname, "..");
const pkg = JSON.parse(fs.readFileSync(path.join(here, "package.json"), "utf8"));
const source = fs.readFileSync(path.join(here, "src/extension.ts"), "utf8");
const lsp = fs.readFileSync(path.join(here, "../../daemon/src/serve/lsp.rs"), "utf8");

const contributed = pkg.contributes.commands.map((c) => c.command);
const registered = [...source.matchAll(/registerCommand\("([^"]+)"/g)].map((m) => m[1]);
const serverCommands = [...lsp.match(/pub const COMMANDS: \[&str; \d+\] = \[([^\]]+)\]/)[1].matchAll(/"([^"]+)"/g)].map((m) => m[1]);

test("one command id per action: the palette's commands are the server's commands", () => {
  assert.deepStrictEqual([...contributed].sort(), [...serverCommands].sort());
});

test("the extension registers no command of its own (vscode-languageclient registers the server's)", () => {
  assert.deepStrictEqual(registered, []);
});

test("every command is in the maintaind category with a title", () => {
  for (const c of pkg.contributes.commands) {
    assert.strictEqual(c.category, "maintaind", c.command);
    assert.ok(c.title && c.title.length > 3, c.command);
  }
});

test("the middleware gives every server command its editor side", () => {
  assert.match(source, /middleware: \{ executeCommand \}/);
  for (const c of serverCommands) assert.ok(source.includes(`case "${c}":`), `no middleware case for ${c}`);
});

test("the extension calls only commands the server offers", () => {
  const called = [...source.matchAll(/"(maintaind\.[A-Za-z]+)"/g)].map((m) => m[1]);
  for (const c of called) assert.ok(serverCommands.includes(c), `${c} is not a maintaind lsp command`);
});

test("the status bar follows the server's notification and never polls", () => {
  assert.ok(lsp.includes('const METHOD: &\'static str = "maintaind/status";'), "maintaind lsp sends maintaind/status");
  assert.match(source, /onNotification\("maintaind\/status"/);
  assert.ok(!/setInterval|setTimeout/.test(source), "no timer in the extension");
});

test("menus reference contributed commands; the tree view id matches", () => {
  for (const entries of Object.values(pkg.contributes.menus)) {
    for (const e of entries) assert.ok(contributed.includes(e.command), e.command);
  }
  const views = Object.values(pkg.contributes.views).flat().map((v) => v.id);
  const used = source.match(/createTreeView\("([^"]+)"/)[1];
  assert.ok(views.includes(used), `${used} not in ${views}`);
});

test("activation covers TypeScript and Prisma; settings are declared", () => {
  for (const lang of ["typescript", "typescriptreact", "prisma"]) assert.ok(pkg.activationEvents.includes(`onLanguage:${lang}`), lang);
  for (const key of source.matchAll(/config\.get<[^>]+>\("([^"]+)"/g)) {
    assert.ok(pkg.contributes.configuration.properties[`maintaind.${key[1]}`], `setting maintaind.${key[1]} is not declared`);
  }
});

test("the bundle exists and exports activate/deactivate", () => {
  const bundlePath = path.join(here, pkg.main);
  assert.ok(fs.existsSync(bundlePath), `${pkg.main} is missing: run npm run build first (build.sh does)`);
  const bundle = fs.readFileSync(bundlePath, "utf8");
  assert.match(bundle, /activate/);
  assert.match(bundle, /deactivate/);
  assert.ok(!/require\("vscode-languageclient/.test(bundle), "vscode-languageclient is bundled, not required at run time");
});
