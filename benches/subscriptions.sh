#!/usr/bin/env bash
# Subscription load: the release binary on a scratch database, N WebSocket
# subscribers (one `myActivity` each, all as one user) while M mutations a
# second create goals, for DURATION seconds. Reports deliveries, delivery
# latency p50/p90/p99 (mutation sent → event read by the subscriber) and the
# server's memory (VmRSS) before, at peak and after.
#
#   benches/subscriptions.sh                                  # 200 subscribers, 20 mutations/s, 20 s
#   SUBSCRIBERS=1000 RATE=50 DURATION=60 benches/subscriptions.sh
#   BIN=target/debug/user-service benches/subscriptions.sh    # skip the release build
#
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and python3.
set -euo pipefail
cd "$(dirname "$0")/.."

subscribers=${SUBSCRIBERS:-200}
rate=${RATE:-20}
duration=${DURATION:-20}
port=${PORT:-18081}
db=user_service_subscriptions_bench
server=postgres://postgres@127.0.0.1:5432

if [[ -z "${BIN:-}" ]]; then
  cargo build --quiet --release
  BIN=${CARGO_TARGET_DIR:-target}/release/user-service
fi
export DATABASE_URL="$server/$db" PORT=$port CONSUMER_ENABLED=false \
  RATE_LIMIT_PER_IP=0 RATE_LIMIT_PER_USER=0 RUST_LOG=warn \
  JWT_SECRET=subscription-benchmark-secret-subscription-benchmark \
  SUBSCRIPTION_MAX_CONNECTIONS_PER_USER=$subscribers \
  SUBSCRIPTION_MAX_CONNECTIONS_PER_IP=$subscribers \
  DATABASE_POOL_SIZE=4 DATABASE_MAX_OVERFLOW=16

psql -X -q "$server/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
"$BIN" migrate >/dev/null
"$BIN" serve &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; psql -X -q "$server/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"' EXIT
for _ in $(seq 1 100); do curl -sf "localhost:$port/health" >/dev/null && break; sleep 0.2; done
token=$("$BIN" token --sub bench-1 --ttl 2h)
# The user exists (no auth-service lookup), and a trigger keeps their goals
# under the 100-per-user cap however long the run.
psql -X -q "$DATABASE_URL" -c "INSERT INTO auth_users (auth_user_id, username) VALUES ('bench-1', 'bench'); INSERT INTO profiles (auth_user_id) VALUES ('bench-1');" >/dev/null
psql -X -q "$DATABASE_URL" -c "CREATE OR REPLACE FUNCTION bench_trim() RETURNS trigger LANGUAGE plpgsql AS \$\$ BEGIN DELETE FROM learning_goals WHERE auth_user_id = NEW.auth_user_id AND id <> NEW.id AND created_at < now() - interval '1 second'; RETURN NULL; END \$\$; " >/dev/null
psql -X -q "$DATABASE_URL" -c "CREATE TRIGGER bench_trim AFTER INSERT ON learning_goals FOR EACH ROW EXECUTE FUNCTION bench_trim();" >/dev/null

python3 benches/subscriptions_driver.py "$port" "$token" "$pid" "$subscribers" "$rate" "$duration" bench-1
