#!/usr/bin/env bash
# Property-based test of the legacy REST layer against its own OpenAPI
# document: schemathesis (from PyPI) generates requests from /openapi.json
# and checks every answer (no 5xx, status codes, content types, headers and
# bodies as the document says).
#
#   benches/schemathesis.sh                  # the release binary (cargo build --release first)
#   USER_SERVICE_BIN=target/debug/user-service benches/schemathesis.sh
#
# Needs PostgreSQL (TEST_DATABASE_URL's server, default
# postgres://postgres@127.0.0.1:5432/postgres) and python3. It creates a
# virtualenv with schemathesis (SCHEMATHESIS_VENV, default
# ${TMPDIR:-/tmp}/user-service-schemathesis), a fresh database, starts the
# binary on a free port (no event consumer, no rate limits), runs three
# passes (an admin token, a user token, no token) and drops the database.
# MAX_EXAMPLES (default 100) sets the examples per operation. The rules
# JSON Schema cannot state are listed in benches/schemathesis.toml. Exit
# status: schemathesis's (0 when every check passed).
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${USER_SERVICE_BIN:-${CARGO_TARGET_DIR:-target}/release/user-service}
VENV=${SCHEMATHESIS_VENV:-${TMPDIR:-/tmp}/user-service-schemathesis}
VERSION=${SCHEMATHESIS_VERSION:-4.32.5}
MAX_EXAMPLES=${MAX_EXAMPLES:-100}
SERVER=${TEST_DATABASE_URL:-postgres://postgres@127.0.0.1:5432/postgres}
NAME=user_service_schemathesis_$$
DATABASE_URL=${SERVER%/*}/$NAME

if [[ ! -x $BIN ]]; then
    echo "no binary at $BIN: run cargo build --release, or set USER_SERVICE_BIN" >&2
    exit 2
fi
if [[ ! -x $VENV/bin/schemathesis ]]; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install --quiet "schemathesis==$VERSION"
fi

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export DATABASE_URL APP_ENV=test HOST=127.0.0.1 PORT CONSUMER_ENABLED=false \
    RATE_LIMIT_PER_IP=0 RATE_LIMIT_PER_USER=0 AUTH_SERVICE_URL=http://127.0.0.1:9 \
    AUTH_SERVICE_TIMEOUT_MS=50 AUTH_SERVICE_RETRIES=0 RUST_LOG=${RUST_LOG:-error}

"$BIN" migrate >/dev/null
"$BIN" serve &
SERVER_PID=$!
cleanup() {
    kill "$SERVER_PID" 2>/dev/null || true
    wait "$SERVER_PID" 2>/dev/null || true
    psql -q "$SERVER" -c "DROP DATABASE IF EXISTS $NAME WITH (FORCE)" >/dev/null 2>&1 || true
}
trap cleanup EXIT

for _ in $(seq 1 100); do
    curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break
    sleep 0.1
done

ADMIN=$("$BIN" token --sub st-admin --admin --ttl 2h)
USER=$("$BIN" token --sub st-user --ttl 2h)
# A known user, so that reads find someone.
curl -sf -X PUT "http://127.0.0.1:$PORT/users/st-user" -H "authorization: Bearer $USER" \
    -H 'content-type: application/json' -d '{"display_name": "Schemathesis"}' >/dev/null

status=0
run() {
    echo "== schemathesis: $1"
    shift
    "$VENV/bin/schemathesis" --config-file benches/schemathesis.toml \
        run "http://127.0.0.1:$PORT/openapi.json" \
        --checks all --max-examples "$MAX_EXAMPLES" --seed 1 "$@" || status=$?
}
run "admin token" -H "Authorization: Bearer $ADMIN"
run "user token" -H "Authorization: Bearer $USER"
run "no token"
exit $status
