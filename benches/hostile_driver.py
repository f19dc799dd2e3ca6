#!/usr/bin/env python3
"""Hostile clients for benches/hostile_load.sh: each sends one of issue 9's
documents in a loop until DURATION seconds pass, then prints how many
requests were answered with which status and code. Bounded: a fixed number
of clients, each waits for its answer (5 s timeout) before sending again."""
import json, os, socket, sys, threading, time, collections

port = int(sys.argv[1]); token = sys.argv[2]; duration = float(sys.argv[3])
deep = "[" * 3000 + '"x"' + "]" * 3000
frags = "fragment F0 on Query { __typename }\n" + "\n".join(
    f"fragment F{i} on Query {{ {' '.join(['...F%d' % (i - 1)] * 10)} }}" for i in range(1, 9)
) + "\nquery { ...F8 }"
ids = ",".join(['"load-1"'] * 100)
aliases = " ".join(f"a{i}: users(authUserIds: [{ids}]) {{ goals {{ id title }} }}" for i in range(30))
amplify = [{"query": "{ " + aliases + " }"}] * 10
docs = {
    "deep_list": {"query": "{ users(authUserIds: %s) { authUserId } }" % deep},
    "fragments": {"query": frags},
    "amplify_batch": amplify,
    "big_variables": {"query": "query($v: [ID!]!) { users(authUserIds: $v) { authUserId } }",
                      "variables": {"v": ["x" * 60] * 200000}},
    "bad_token": {"query": "{ me { authUserId } }"},
}
counts = collections.Counter(); lock = threading.Lock(); end = time.time() + duration

def post(body, auth):
    data = json.dumps(body).encode()
    head = (f"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer {auth}\r\nContent-Length: {len(data)}\r\nConnection: close\r\n\r\n").encode()
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(head + data)
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    status = reply.split(b" ", 2)[1].decode() if reply else "none"
    code = "-"
    for c in (b"GRAPHQL_PARSE_FAILED", b"GRAPHQL_VALIDATION_FAILED", b"BAD_USER_INPUT",
              b"UNAUTHENTICATED", b"SERVICE_UNAVAILABLE", b"INTERNAL_SERVER_ERROR"):
        if c in reply:
            code = c.decode(); break
    return status, code

def client(name):
    while time.time() < end:
        try:
            auth = "x.y.z" if name == "bad_token" else token
            status, code = post(docs[name], auth)
        except Exception as e:
            status, code = "error", type(e).__name__
        with lock:
            counts[(name, status, code)] += 1

def slowloris():
    while time.time() < end:
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=30)
            s.sendall(b"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n")
            try:
                s.recv(1024); status = "closed"
            except socket.timeout:
                status = "held-30s"
            s.close()
        except Exception as e:
            status = type(e).__name__
        with lock:
            counts[("slowloris", status, "-")] += 1

threads = [threading.Thread(target=client, args=(n,)) for n in docs] + [threading.Thread(target=slowloris) for _ in range(4)]
for t in threads: t.start()
for t in threads: t.join()
for (name, status, code), n in sorted(counts.items()):
    print(f"    {name:14} status={status:8} code={code:26} {n}")
