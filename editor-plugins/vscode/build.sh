#!/usr/bin/env bash
# Build, test and package the VS Code extension: npm ci from the lockfile (registry only),
# type-check and bundle with esbuild, check the contribution points, package maintaind.vsix
# and check the package holds the manifest and the bundle. Run by scripts/test.
set -euo pipefail
cd "$(dirname "$0")"
npm ci --no-audit --no-fund --loglevel=error
npm run --silent build
npm test
npm run --silent package
python3 - <<'PY'
import json, zipfile
with zipfile.ZipFile("maintaind.vsix") as z:
    names = set(z.namelist())
    for needed in ("extension/package.json", "extension/dist/extension.js", "extension.vsixmanifest"):
        assert needed in names, f"{needed} missing from maintaind.vsix: {sorted(names)}"
    assert not any(n.startswith("extension/src/") or n.startswith("extension/node_modules/") for n in names), sorted(names)
    pkg = json.loads(z.read("extension/package.json"))
    assert pkg["main"] == "./dist/extension.js"
print("maintaind.vsix: ok")
PY
