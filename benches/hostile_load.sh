#!/usr/bin/env bash
# Hostile-load benchmark (issue 9): the release binary on a scratch database
# with 20 users; wrk drives normal traffic (the `user` query) for DURATION
# alone, then again while benches/hostile_driver.py sends issue 9's hostile
# documents in a loop (deep list literal, exponential fragments, the
# amplification batch, oversized variables, slowloris partial requests, bad
# tokens). Prints p99 and req/s of both phases, the peak RSS of the service
# and the refusals by status and code.
#
#   benches/hostile_load.sh                 # 20 s per phase
#   DURATION=10 benches/hostile_load.sh
#
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres), wrk and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${DURATION:-20}
port=${PORT:-18081}
db=user_service_hostile
server=postgres://postgres@127.0.0.1:5432

[ -n "${SKIP_BUILD:-}" ] || cargo build --quiet --release
bin=${CARGO_TARGET_DIR:-target}/release/user-service
export DATABASE_URL="$server/$db" PORT=$port CONSUMER_ENABLED=false \
  RATE_LIMIT_PER_IP=0 RATE_LIMIT_PER_USER=0 RUST_LOG=error \
  JWT_SECRET=hostile-benchmark-secret-hostile-benchmark-secret

psql -X -q "$server/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
"$bin" migrate >/dev/null
psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" <<'SQL'
INSERT INTO auth_users (auth_user_id, username) SELECT 'load-' || n, 'user' || n FROM generate_series(1, 20) n;
INSERT INTO profiles (auth_user_id, display_name) SELECT 'load-' || n, 'User ' || n FROM generate_series(1, 20) n;
INSERT INTO learning_goals (id, auth_user_id, title, status, streak_count, created_at, updated_at)
  SELECT gen_random_uuid(), 'load-' || n, 'Goal ' || g, 'IN_PROGRESS', g, now(), now()
    FROM generate_series(1, 20) n, generate_series(1, 100) g;
ANALYZE;
SQL

"$bin" serve &
pid=$!
script=$(mktemp --suffix=.lua)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; rm -f "$script"; kill ${sampler:-} 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf "localhost:$port/health" >/dev/null && break; sleep 0.2; done
token=$("$bin" token --sub load-1)

# Peak RSS: the kernel's high-water mark, sampled with the current RSS.
( peak=0; while kill -0 $pid 2>/dev/null; do
    rss=$(awk '/VmRSS/ {print $2}' /proc/$pid/status 2>/dev/null || echo 0)
    (( rss > peak )) && peak=$rss && echo "$peak" > "$script.rss"
    sleep 0.2; done ) & sampler=$!

cat >"$script" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
wrk.body = [[{"query":"{ user(authUserId: \"load-2\") { authUserId displayName goals { id title } } }"}]]
LUA
phase() {
  wrk -t 1 -c 4 -d "${duration}s" --latency -s "$script" "http://127.0.0.1:$port/graphql" \
    | grep -E "Requests/sec|99%|Non-2xx|Socket errors"
}
echo "--- normal traffic alone (${duration} s, 4 connections)"
phase
echo "    VmHWM: $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status)"
echo "--- normal traffic with hostile clients"
python3 benches/hostile_driver.py "$port" "$token" "$duration" > "$script.hostile" &
driver=$!
phase
wait $driver
echo "    VmHWM: $(awk '/VmHWM/ {print $2, $3}' /proc/$pid/status), sampled peak VmRSS: $(cat "$script.rss") kB"
echo "--- hostile requests by status and code"
cat "$script.hostile"
curl -sf "localhost:$port/health" >/dev/null && echo "--- /health still answers"
rm -f "$script.rss" "$script.hostile"
