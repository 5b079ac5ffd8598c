#!/usr/bin/env python3
"""Compact a blast-truth result: RAW.json FIXTURE_DIR -> JSON on stdout with the fixture hash
(FNV-1a 64 over every file's path and bytes in path order, as bench/src/accuracy.rs computes)."""
import json
import os
import sys

raw, fixture = sys.argv[1], sys.argv[2]


def fixture_hash(root):
    h = 0xCBF29CE484222325
    paths = []
    for d, dirs, files in os.walk(root):
        dirs[:] = [x for x in dirs if x not in (".maintaind", "node_modules")]
        for f in files:
            paths.append(os.path.relpath(os.path.join(d, f), root).replace(os.sep, "/"))
    for p in sorted(paths):
        for b in p.encode() + b"\0" + open(os.path.join(root, p), "rb").read() + b"\0":
            h ^= b
            h = (h * 0x100000001B3) & 0xFFFFFFFFFFFFFFFF
    return "%016x" % h


data = json.load(open(raw))
records = [
    {k: r[k] for k in ("file", "symbol", "mutation", "change_kind", "broken_files")}
    for r in data["records"]
    if not r.get("suspect")
]
json.dump(
    {
        "tool": "blast-truth",
        "tsc_version": data.get("tsc_version"),
        "fixture_hash": fixture_hash(fixture),
        "records": records,
    },
    sys.stdout,
    indent=0,
)
print()
