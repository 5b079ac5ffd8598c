#!/usr/bin/env python3
"""A scripted language server for the bridge's transport tests (never used outside them).

FAKE_MODE selects the behaviour of `textDocument/references`:
  normal       answer [] at once
  hang         never answer (the client must time out and send $/cancelRequest)
  crash_once   exit on the first references request of the first process (FAKE_STATE marks it),
               answer normally after the restart
  crash_always exit on every references request
  noisy        before each answer: junk on stdout, an answer to an unknown id, and the frame
               itself split in two writes
Custom requests: fake/openDocs -> number of didOpen received; fake/cancelled -> cancelled ids.
"""
import json
import os
import sys
import time

MODE = os.environ.get("FAKE_MODE", "normal")
STATE = os.environ.get("FAKE_STATE", "")
out = sys.stdout.buffer
inp = sys.stdin.buffer
opened = 0
cancelled = []


def send(obj, split=False):
    body = json.dumps(obj).encode()
    frame = b"Content-Length: %d\r\n\r\n" % len(body) + body
    if split:
        half = len(frame) // 2
        out.write(frame[:half])
        out.flush()
        time.sleep(0.05)
        out.write(frame[half:])
    else:
        out.write(frame)
    out.flush()


def read():
    length = None
    while True:
        line = inp.readline()
        if not line:
            return None
        line = line.strip()
        if not line:
            break
        k, _, v = line.partition(b":")
        if k.lower() == b"content-length":
            length = int(v)
    return json.loads(inp.read(length))


while True:
    msg = read()
    if msg is None:
        break
    method, mid = msg.get("method"), msg.get("id")
    if method == "initialize":
        send({"jsonrpc": "2.0", "id": mid, "result": {"capabilities": {"referencesProvider": True, "callHierarchyProvider": True}, "serverInfo": {"name": "fake", "version": "0"}}})
    elif method == "textDocument/didOpen":
        opened += 1
    elif method == "$/cancelRequest":
        cancelled.append(msg["params"]["id"])
    elif method == "fake/openDocs":
        send({"jsonrpc": "2.0", "id": mid, "result": opened})
    elif method == "fake/cancelled":
        send({"jsonrpc": "2.0", "id": mid, "result": cancelled})
    elif method == "shutdown":
        send({"jsonrpc": "2.0", "id": mid, "result": None})
    elif method == "exit":
        sys.exit(0)
    elif method == "textDocument/references":
        if MODE == "hang":
            continue
        if MODE == "crash_always" or (MODE == "crash_once" and STATE and not os.path.exists(STATE)):
            if STATE:
                open(STATE, "w").close()
            os._exit(1)
        if MODE == "noisy":
            out.write(b"debug: a server printing to stdout\n")
            send({"jsonrpc": "2.0", "id": 999999, "result": "for nobody"})
            send({"jsonrpc": "2.0", "id": mid, "result": [{"uri": "file:///x/%24a.ts", "range": {"start": {"line": 1, "character": 2}, "end": {"line": 1, "character": 3}}}]}, split=True)
        else:
            send({"jsonrpc": "2.0", "id": mid, "result": []})
    elif mid is not None:
        send({"jsonrpc": "2.0", "id": mid, "error": {"code": -32601, "message": "unknown"}})
