#!/usr/bin/env bash
# Where the service's CPU goes on one hot read: the release binary under
# valgrind's callgrind (instruction counts, repeatable on a noisy machine),
# driven by wrk for a few seconds, on the database benches/hot_reads.sh seeds.
#
#   benches/profile.sh one            # or: many
#   SECONDS_UNDER_LOAD=20 BENCH_BIN=target/release/user-service benches/profile.sh many
#   SERVICE_PRELOAD=/usr/lib/x86_64-linux-gnu/libmimalloc.so.2 benches/profile.sh many   # another allocator
#
# Prints instructions per request and the functions that cost the most
# (inclusive and self). The raw profile stays in target/bench/profile-*/.
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$(pwd)
kit=$(cd "${BENCH_KIT:-$repo/../shared/bench}" && pwd)
shape=${1:-one}
port=${PORT:-18091}
db=${BENCH_DB:-user_service_bench}
server=${PG_SERVER:-postgres://postgres@127.0.0.1:5432}
target_dir=${CARGO_TARGET_DIR:-$repo/target}
bin=${BENCH_BIN:-$target_dir/release/user-service}
secs=${SECONDS_UNDER_LOAD:-15}
out=$target_dir/bench/profile-$shape-$(date -u +%Y%m%d-%H%M%S)
mkdir -p "$out"
command -v valgrind >/dev/null || apt-get install -y valgrind >/dev/null
[ -x "$bin" ] || cargo build --release --locked --quiet

export DATABASE_URL="$server/$db" HOST=127.0.0.1 PORT=$port CONSUMER_ENABLED=false \
  RATE_LIMIT_PER_IP=0 RATE_LIMIT_PER_USER=0 RUST_LOG=${RUST_LOG:-warn} \
  DATABASE_POOL_SIZE=${POOL:-10} DATABASE_MAX_OVERFLOW=0 RUN_MIGRATIONS=false \
  JWT_SECRET=hot-reads-benchmark-secret-hot-reads-benchmark-secret
url="http://127.0.0.1:$port/graphql"

# The kit's documents, rotating over users as bench.py does.
python3 - "$kit/targets.toml" "$shape" >"$out/bodies.jsonl" <<'PY'
import json, random, sys, tomllib
qs = tomllib.load(open(sys.argv[1], "rb"))["querysets"]["contract"]
rng = random.Random(1)
for _ in range(2000):
    if sys.argv[2] == "one":
        print(json.dumps({"query": qs["one"], "variables": {"id": "u" + str(rng.randint(1, 10000)).zfill(5)}}))
    else:
        ids = ["u" + str(i).zfill(5) for i in rng.sample(range(1, 10001), 50)]
        print(json.dumps({"query": qs["many"], "variables": {"ids": ids}}))
PY

env ${SERVICE_PRELOAD:+LD_PRELOAD=$SERVICE_PRELOAD} valgrind --tool=callgrind --callgrind-out-file="$out/callgrind.out" "$bin" serve >"$out/service.log" 2>&1 &
pid=$!
trap 'kill -INT $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 600); do
  curl -sf "http://127.0.0.1:$port/health" >/dev/null && break
  sleep 0.2
done
wrk -t 1 -c 4 -d "${secs}s" --timeout 10s -s "$kit/wrk/graphql.lua" "$url" -- "$out/bodies.jsonl" | tee "$out/wrk.txt"
requests=$(awk '/requests in/ { print $1 }' "$out/wrk.txt")
kill -INT "$pid"
wait "$pid" 2>/dev/null || true
trap - EXIT
total=$(callgrind_annotate "$out/callgrind.out" 2>/dev/null | awk '/PROGRAM TOTALS/ { gsub(",", "", $1); print $1 }')
echo "requests answered: $requests; instructions: $total; per request: $(( total / (requests > 0 ? requests : 1) ))" | tee "$out/summary.txt"
echo "--- inclusive" | tee -a "$out/summary.txt"
# (head closes the pipe early: not a failure)
callgrind_annotate --inclusive=yes "$out/callgrind.out" 2>/dev/null | sed -n '/file:function/,$p' | head -45 | cut -c1-200 | tee -a "$out/summary.txt" || true
echo "--- self" | tee -a "$out/summary.txt"
callgrind_annotate "$out/callgrind.out" 2>/dev/null | sed -n '/file:function/,$p' | head -35 | cut -c1-200 | tee -a "$out/summary.txt" || true
echo "profile: $out"
