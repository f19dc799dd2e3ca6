#!/usr/bin/env python3
"""Subscription load for benches/subscriptions.sh (Python stdlib only).

N subscribers (WebSocket connections, graphql-transport-ws, each with one
`myActivity` subscription as the same user) while mutations are sent at M a
second for DURATION seconds; every mutation creates a goal whose title
carries its send time, so each delivery's latency is measured end to end
(commit, NOTIFY, LISTEN, fan-out, WebSocket). Bounded: fixed subscribers,
fixed mutation rate, one in-flight HTTP request per mutation tick.

Prints deliveries (received / expected), latency p50/p90/p99/max in ms, and
the server's resident memory (VmRSS) before, at peak and after."""
import asyncio, base64, json, os, sys, time

port = int(sys.argv[1]); token = sys.argv[2]; pid = int(sys.argv[3])
subscribers = int(sys.argv[4]); rate = float(sys.argv[5]); duration = float(sys.argv[6])
user = sys.argv[7]

latencies = []; sent = 0; failed_mutations = 0; closed = 0; rss_peak = 0


def rss_kib():
    try:
        with open(f"/proc/{pid}/status") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except OSError:
        pass
    return 0


def frame(text, opcode=1):
    data = text.encode(); mask = os.urandom(4); n = len(data)
    head = bytes([0x80 | opcode])
    if n < 126:
        head += bytes([0x80 | n])
    elif n < 65536:
        head += bytes([0x80 | 126]) + n.to_bytes(2, "big")
    else:
        head += bytes([0x80 | 127]) + n.to_bytes(8, "big")
    return head + mask + bytes(b ^ mask[i % 4] for i, b in enumerate(data))


async def read_frame(reader):
    b1, b2 = await reader.readexactly(2)
    n = b2 & 0x7F
    if n == 126:
        n = int.from_bytes(await reader.readexactly(2), "big")
    elif n == 127:
        n = int.from_bytes(await reader.readexactly(8), "big")
    return b1 & 0x0F, await reader.readexactly(n)


async def subscriber(ready):
    global closed
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write((f"GET /graphql HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nUpgrade: websocket\r\n"
                  f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
                  "Sec-WebSocket-Protocol: graphql-transport-ws\r\n\r\n").encode())
    head = await reader.readuntil(b"\r\n\r\n")
    if b" 101 " not in head.split(b"\r\n")[0]:
        raise SystemExit(f"upgrade refused: {head[:80]!r}")
    writer.write(frame(json.dumps({"type": "connection_init",
                                   "payload": {"Authorization": f"Bearer {token}"}})))
    writer.write(frame(json.dumps({"id": "1", "type": "subscribe",
                                   "payload": {"query": "subscription { myActivity { summary } }"}})))
    await writer.drain()
    ready.set_result(None) if not ready.done() else None
    try:
        while True:
            opcode, payload = await read_frame(reader)
            if opcode == 9:  # ping: answer
                writer.write(frame(payload.decode(errors="replace"), opcode=10))
            elif opcode == 8:
                closed += 1
                return
            elif opcode == 1:
                message = json.loads(payload)
                if message.get("type") == "next":
                    summary = message["payload"]["data"]["myActivity"]["summary"]
                    if "bench@" in summary:
                        sent_ns = int(summary.split("bench@")[1].split('"')[0])
                        latencies.append((time.time_ns() - sent_ns) / 1e6)
    except (asyncio.IncompleteReadError, ConnectionError):
        closed += 1


async def mutate(n):
    global sent, failed_mutations
    title = f"bench@{time.time_ns()}"
    body = json.dumps({"query": 'mutation($u: ID!, $t: String!) { createGoal(authUserId: $u, input: { title: $t }) { id } }',
                       "variables": {"u": user, "t": title}}).encode()
    try:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        writer.write((f"POST /graphql HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                      f"Authorization: Bearer {token}\r\nContent-Length: {len(body)}\r\n"
                      "Connection: close\r\n\r\n").encode() + body)
        answer = await asyncio.wait_for(reader.read(), 10)
        writer.close()
        if b"200 OK" not in answer.split(b"\r\n")[0] or b'"errors"' in answer:
            failed_mutations += 1
        else:
            sent += 1
    except (OSError, asyncio.TimeoutError):
        failed_mutations += 1


async def main():
    global rss_peak
    rss_before = rss_kib()
    loop = asyncio.get_running_loop()
    readies = [loop.create_future() for _ in range(subscribers)]
    tasks = [asyncio.create_task(subscriber(ready)) for ready in readies]
    await asyncio.gather(*readies)
    await asyncio.sleep(1.0)  # let every subscription go live
    interval = 1.0 / rate
    end = time.time() + duration
    pending = set(); n = 0
    while time.time() < end:
        pending.add(asyncio.create_task(mutate(n))); n += 1
        pending = {task for task in pending if not task.done()}
        rss_peak = max(rss_peak, rss_kib())
        await asyncio.sleep(interval)
    await asyncio.gather(*pending)
    await asyncio.sleep(2.0)  # the last deliveries
    rss_peak = max(rss_peak, rss_kib())
    for task in tasks:
        task.cancel()
    await asyncio.sleep(0.5)
    rss_after = rss_kib()
    expected = sent * subscribers
    print(f"subscribers={subscribers} mutations/s={rate} duration={duration}s")
    print(f"mutations: {sent} committed, {failed_mutations} failed; connections closed early: {closed}")
    print(f"deliveries: {len(latencies)} of {expected} expected")
    if latencies:
        latencies.sort()
        pick = lambda q: latencies[min(len(latencies) - 1, int(q * len(latencies)))]
        print(f"latency ms: p50={pick(0.5):.1f} p90={pick(0.9):.1f} p99={pick(0.99):.1f} max={latencies[-1]:.1f}")
    print(f"server RSS KiB: before={rss_before} peak={rss_peak} after={rss_after}")


asyncio.run(main())
