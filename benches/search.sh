#!/usr/bin/env bash
# Benchmark of searchUsers' SQL at 100,000 users: seeds a scratch database,
# prints the query plans (the trigram index must serve selective terms) and
# measures the statement with pgbench. Run from the project root:
#
#   benches/search.sh            # 100,000 users, 10 s per pgbench run
#   USERS=1000000 SECONDS_PER_RUN=30 benches/search.sh
#
# Needs PostgreSQL on 127.0.0.1:5432 (user postgres) and pgbench.
set -euo pipefail
cd "$(dirname "$0")/.."

users=${USERS:-100000}
seconds=${SECONDS_PER_RUN:-10}
db=user_service_bench
server=postgres://postgres@127.0.0.1:5432
psql_db() { psql -X -q -v ON_ERROR_STOP=1 "$server/$db" "$@"; }

psql -X -q "$server/postgres" -c "DROP DATABASE IF EXISTS $db WITH (FORCE)"
psql -X -q "$server/postgres" -c "CREATE DATABASE $db"
DATABASE_URL="$server/$db" cargo run --quiet --release -- migrate

echo "seeding $users users"
psql_db <<SQL
INSERT INTO auth_users (auth_user_id, username, email)
SELECT 'bench-' || n, (ARRAY['ada','grace','linus','barbara','ken'])[1 + n % 5] || n, 'u' || n || '@example.com'
  FROM generate_series(1, $users) n;
INSERT INTO profiles (auth_user_id, display_name, skills, profile_visibility)
SELECT 'bench-' || n, 'Person ' || md5(n::text), ARRAY['skill' || (n % 1000), 'rust'],
       CASE WHEN n % 10 = 0 THEN 'PRIVATE' ELSE 'PUBLIC' END
  FROM generate_series(1, $users) n;
VACUUM ANALYZE;
SQL

query="SELECT a.auth_user_id FROM auth_users a JOIN profiles p ON p.auth_user_id = a.auth_user_id
 WHERE p.search_text ILIKE :pattern AND p.profile_visibility = 'PUBLIC'
 ORDER BY a.auth_user_id LIMIT 21"

# Rare terms must be served by the trigram index; for common ones the
# planner may rightly walk the primary key and stop after 21 matches.
status=0
for term in grace12346 "person 1a2" skill999 skill42 rust; do
  echo "--- plan for '%$term%'"
  plan=$(psql_db -v pattern="'%$term%'" <<<"EXPLAIN ANALYZE $query;")
  echo "$plan" | grep -E "Scan|Execution Time"
  case "$term" in
    grace12346|"person 1a2")
      if ! grep -q profiles_search_text_trgm <<<"$plan"; then
        echo "FAIL: '%$term%' does not use the trigram index" >&2
        status=1
      fi ;;
  esac
done

script=$(mktemp)
trap 'rm -f "$script"' EXIT
cat >"$script" <<SQL
\set n random(1, 999)
SELECT a.auth_user_id FROM auth_users a JOIN profiles p ON p.auth_user_id = a.auth_user_id
 WHERE p.search_text ILIKE '%skill' || :n || '%' AND p.profile_visibility = 'PUBLIC'
 ORDER BY a.auth_user_id LIMIT 21;
SQL
echo "--- pgbench: selective search terms, 2 clients, ${seconds}s"
pgbench -n -c 2 -j 2 -T "$seconds" -f "$script" "$server/$db" | grep -E "latency|tps"
exit $status
