#!/usr/bin/env bash
# HTTP load benchmark: the release binary against a scratch database seeded
# with 100 users (each with 5 badges, 5 goals and their activity), driven by
# wrk on loopback. Prints throughput and latency for:
#   - users(100 ids) with badges, goals, stats and activity (the batching path)
#   - me (one user, authenticated)
#
#   benches/load.sh                       # 15 s per scenario, 4 connections
#   DURATION=60s CONNECTIONS=16 benches/load.sh
#
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and wrk.
set -euo pipefail
cd "$(dirname "$0")/.."

duration=${DURATION:-15s}
connections=${CONNECTIONS:-4}
port=${PORT:-18080}
db=user_service_load
server=postgres://postgres@127.0.0.1:5432

cargo build --quiet --release
bin=target/release/user-service
export DATABASE_URL="$server/$db" PORT=$port CONSUMER_ENABLED=false \
  RATE_LIMIT_PER_IP=0 RATE_LIMIT_PER_USER=0 RUST_LOG=warn \
  JWT_SECRET=load-benchmark-secret-load-benchmark-secret

psql -X -q "$server/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
"$bin" migrate >/dev/null
psql -X -q -v ON_ERROR_STOP=1 "$DATABASE_URL" <<'SQL'
INSERT INTO auth_users (auth_user_id, username) SELECT 'load-' || n, 'user' || n FROM generate_series(1, 100) n;
INSERT INTO profiles (auth_user_id, display_name, skills) SELECT 'load-' || n, 'User ' || n, ARRAY['rust', 'sql'] FROM generate_series(1, 100) n;
INSERT INTO badges (id, auth_user_id, name, date_achieved)
  SELECT gen_random_uuid(), 'load-' || n, 'Badge ' || b, now() - b * interval '1 day'
    FROM generate_series(1, 100) n, generate_series(1, 5) b;
INSERT INTO learning_goals (id, auth_user_id, title, status, streak_count, created_at, updated_at)
  SELECT gen_random_uuid(), 'load-' || n, 'Goal ' || g, 'IN_PROGRESS', g, now(), now()
    FROM generate_series(1, 100) n, generate_series(1, 5) g;
INSERT INTO activity_events (id, auth_user_id, kind, occurred_at, summary)
  SELECT gen_random_uuid(), 'load-' || n, 'GOAL_CREATED', now() - e * interval '1 hour', 'Created a goal'
    FROM generate_series(1, 100) n, generate_series(1, 10) e;
ANALYZE;
SQL

"$bin" serve &
pid=$!
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true' EXIT
for _ in $(seq 1 50); do curl -sf "localhost:$port/health" >/dev/null && break; sleep 0.2; done
token=$("$bin" token --sub load-1)

script=$(mktemp --suffix=.lua)
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null || true; rm -f "$script"' EXIT

# db_statements_total from /metrics.
statements() {
  curl -s "localhost:$port/metrics" | awk '/^db_statements_total / { printf "%d", $2 }'
}

run() { # name body
  local body=$2
  cat >"$script" <<LUA
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Authorization"] = "Bearer $token"
wrk.body = [[$body]]
LUA
  echo "--- $1 ($connections connections, $duration)"
  local answer
  answer=$(curl -s "localhost:$port/graphql" -H 'content-type: application/json' \
    -H "authorization: Bearer $token" -d "$body")
  if ! grep -q '"data"' <<<"$answer" || grep -q '"errors"' <<<"$answer"; then
    echo "the query fails: ${answer:0:300}" >&2
    exit 1
  fi
  local before after report requests
  before=$(statements)
  report=$(wrk -t 2 -c "$connections" -d "$duration" --latency -s "$script" "http://127.0.0.1:$port/graphql")
  after=$(statements)
  grep -E "Requests/sec|Latency |50%|99%|Non-2xx" <<<"$report"
  requests=$(grep -oE "^ +[0-9]+ requests" <<<"$report" | grep -oE "[0-9]+")
  echo "    SQL statements per request: $(( (after - before) / (requests > 0 ? requests : 1) ))"
}

ids=$(seq -s, 1 100 | sed 's/\([0-9]\+\)/\\"load-\1\\"/g')
run "users(100 ids) with badges, goals, stats, activity" \
  "{\"query\":\"{ users(authUserIds: [$ids]) { authUserId displayName badges { id name } goals { id title streakCount } stats { badgeCount longestStreak } activity(first: 5) { kind } } }\"}"
run "me" '{"query":"{ me { authUserId username plan goals { id title } } }"}'
