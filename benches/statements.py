#!/usr/bin/env python3
"""The SQL the service sends for one request, from PostgreSQL's statement log,
and pgbench scripts that replay exactly those statements.

    statements.py capture LOG OFFSET DATABASE > one.json
        the statements logged (log_statement = 'all') for DATABASE since byte
        OFFSET of LOG, in order: [{"pid", "name", "sql", "params"}]
    statements.py pgbench SHAPE CAPTURE.json OUTDIR [--scripts N] [--users N] [--seed N]
        pgbench scripts (-M prepared) running the captured statements, with the
        user-id parameter (an array, or one id) replaced: `one` by the id of
        a random user (pgbench variable :n), `many` by a fixed random list of
        as many ids per script (N scripts, picked at random by pgbench).
        Prints the paths.

Only the standard library.
"""
from __future__ import annotations

import json
import os
import random
import re
import sys

LINE = re.compile(r"\[(?P<pid>\d+)\] \S*@(?P<db>\S+) (?P<level>LOG|DETAIL):  (?P<text>.*)$")
EXECUTE = re.compile(r"^(?:execute (?P<name>[^:]+)|statement): (?P<sql>.*)$")
PARAM = re.compile(r"\$(\d+) = ('(?:[^']|'')*'|NULL)")
IDS = re.compile(r"^'\{([A-Za-z0-9_,-]*)\}'$")
ID = re.compile(r"^'[A-Za-z0-9_-]+'$")


def capture(log_path: str, offset: int, database: str) -> list[dict]:
    with open(log_path, "rb") as f:
        f.seek(offset)
        text = f.read().decode("utf-8", errors="replace")
    out: list[dict] = []
    for line in text.splitlines():
        m = LINE.search(line)
        if not m or m["db"] != database:
            continue
        if m["level"] == "LOG":
            e = EXECUTE.match(m["text"])
            if e:
                out.append({"pid": int(m["pid"]), "name": e["name"] or "(simple)",
                            "sql": e["sql"], "params": {}})
        elif m["text"].startswith("parameters: ") and out and out[-1]["pid"] == int(m["pid"]):
            out[-1]["params"] = {f"${k}": v for k, v in PARAM.findall(m["text"])}
    return out


def replay_sql(stmt: dict, ids_expr: str, id_expr: str) -> str:
    """The statement with its user-id array parameter replaced by `ids_expr`,
    a single user-id parameter by `id_expr`, and its other parameters (the
    flags asking for badges and goals) by the literal values logged."""
    sql = stmt["sql"]
    # Highest numbers first, so $1 does not match the start of $10.
    for key in sorted(stmt["params"], key=lambda k: -int(k[1:])):
        value = stmt["params"][key]
        if value in ("'t'", "'f'"):
            replacement = value + "::boolean"
        elif IDS.match(value):
            replacement = ids_expr
        elif ID.match(value):
            replacement = id_expr
        else:
            sys.exit(f"cannot replay {key} = {value[:80]} in: {sql[:200]}")
        sql = re.sub(re.escape(key) + r"(?!\d)", lambda _: replacement, sql)
    return sql.rstrip(";") + ";"


def pgbench(shape: str, capture_path: str, outdir: str, scripts: int, users: int, seed: int) -> list[str]:
    with open(capture_path) as f:
        stmts = json.load(f)
    if not stmts:
        sys.exit(f"{capture_path}: no statements captured")
    os.makedirs(outdir, exist_ok=True)
    if shape == "one":
        id_expr = "('u' || lpad(:n::text, greatest(5, length(:n::text)), '0'))"
        path = os.path.join(outdir, "one.sql")
        with open(path, "w") as f:
            f.write(f"\\set n random(1, {users})\n")
            for s in stmts:
                f.write(replay_sql(s, f"ARRAY[{id_expr}]", id_expr) + "\n")
        return [path]
    # many: as many ids as the captured request sent
    first = next(v for s in stmts for v in s["params"].values() if IDS.match(v))
    batch = len(IDS.match(first)[1].split(","))
    rng = random.Random(seed)
    paths = []
    for k in range(scripts):
        chosen = rng.sample(range(1, users + 1), batch)
        lit = "'{" + ",".join("u" + str(i).zfill(5) for i in chosen) + "}'::text[]"
        path = os.path.join(outdir, f"many_{k:03d}.sql")
        with open(path, "w") as f:
            for s in stmts:
                f.write(replay_sql(s, lit, f"'u{chosen[0]:05d}'") + "\n")
        paths.append(path)
    return paths


def main() -> int:
    args = sys.argv[1:]
    if len(args) == 4 and args[0] == "capture":
        json.dump(capture(args[1], int(args[2]), args[3]), sys.stdout, indent=1)
        print()
        return 0
    if len(args) >= 4 and args[0] == "pgbench":
        opts = {"--scripts": 16, "--users": 10000, "--seed": 20261201}
        rest = args[4:]
        for k, v in zip(rest[::2], rest[1::2]):
            opts[k] = int(v)
        for p in pgbench(args[1], args[2], args[3], opts["--scripts"], opts["--users"], opts["--seed"]):
            print(p)
        return 0
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
