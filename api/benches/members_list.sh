#!/usr/bin/env bash
# Latency of one page of GET /v1/accounts/{id}/members (limit 50) as the
# account grows: the first page and a page deep in the list (keyset cursor
# at the middle), so a flat curve shows pagination never scans what it skips;
# then searches (`q`): an email found once, a name found eleven times, and a
# text found nowhere (the worst case for a scan).
#
#   cargo build --release -p api --bin roster
#   api/benches/members_list.sh sqlite 1000      # or 100000
#   api/benches/members_list.sh postgres 1000000
#
# Members are seeded directly in SQL (a developer each); the caller is the
# account's owner. 2 workers; wrk with 2 threads and 8 connections (or
# BENCH_CONNECTIONS), 10 s.
set -euo pipefail
backend=${1:-sqlite}; members=${2:-1000}
source "$(dirname "$0")/roster_server.sh"
start_roster 18310
sign_in_owner

started=$(date +%s)
case $backend in
  postgres) psql -q -h 127.0.0.1 -U postgres "$db" <<SQL
INSERT INTO users (id, email, first_name, last_name, email_verified, created_at, updated_at)
  SELECT 'a0000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'), 'user' || i || '@example.com', 'First' || i, 'Last' || i, true, now(), now()
  FROM generate_series(1, $members) i;
INSERT INTO memberships (id, account_id, user_id, created_at)
  SELECT 'b0000000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'), '$account', 'a0000000-0000-4000-8000-' || lpad(to_hex(i), 12, '0'), now()
  FROM generate_series(1, $members) i;
INSERT INTO role_assignments (id, membership_id, role_id, created_at)
  SELECT 'c0000000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'), 'b0000000-0000-7000-8000-' || lpad(to_hex(i), 12, '0'),
         (SELECT id FROM roles WHERE key = 'developer' AND account_id IS NULL), now()
  FROM generate_series(1, $members) i;
ANALYZE;
SQL
  ;;
  sqlite) python3 - "$dir/roster.db" "$members" "$account" <<'PY'
import sqlite3, sys
path, n, account = sys.argv[1], int(sys.argv[2]), sys.argv[3]
db = sqlite3.connect(path)
series = "WITH RECURSIVE s(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM s WHERE i < ?) "
now = "strftime('%Y-%m-%d %H:%M:%f', 'now')"
db.execute(series + f"INSERT INTO users (id, email, first_name, last_name, email_verified, created_at, updated_at) "
           f"SELECT printf('a0000000-0000-4000-8000-%012x', i), 'user' || i || '@example.com', 'First' || i, 'Last' || i, 1, {now}, {now} FROM s", (n,))
db.execute(series + f"INSERT INTO memberships (id, account_id, user_id, created_at) "
           f"SELECT printf('b0000000-0000-7000-8000-%012x', i), ?, printf('a0000000-0000-4000-8000-%012x', i), {now} FROM s", (n, account))
db.execute(series + f"INSERT INTO role_assignments (id, membership_id, role_id, created_at) "
           f"SELECT printf('c0000000-0000-7000-8000-%012x', i), printf('b0000000-0000-7000-8000-%012x', i), "
           f"(SELECT id FROM roles WHERE key = 'developer' AND account_id IS NULL), {now} FROM s", (n,))
db.commit()
db.execute("ANALYZE")
PY
  ;;
esac
echo "seeded $members members in $(( $(date +%s) - started )) s"
middle=$(printf 'b0000000-0000-7000-8000-%012x' $(( members / 2 )))
first=$(curl -fs "$api/accounts/$account/members?limit=50" -H "authorization: Bearer $token" | jq '.items | length')
deep=$(curl -fs "$api/accounts/$account/members?limit=50&cursor=$middle" -H "authorization: Bearer $token" | jq '.items | length')
[ "$first" = 50 ] && [ "$deep" = 50 ] || { echo "unexpected page sizes: $first $deep" >&2; exit 1; }
measure() {
  wrk -t2 -c"${BENCH_CONNECTIONS:-8}" -d10s --latency -H "authorization: Bearer $token" "$1" |
    awk -v name="$2" '/Requests\/sec/ {rps=$2} / 50%/ {p50=$2} / 99%/ {p99=$2} /Non-2xx/ {bad=$NF}
      END {printf "%-12s %8.0f req/s  p50 %-8s p99 %-8s%s\n", name, rps, p50, p99, (bad ? "  non-2xx " bad : "")}'
}
echo "backend=$backend members=$members"
measure "$api/accounts/$account/members?limit=50" "first page"
measure "$api/accounts/$account/members?limit=50&cursor=$middle" "middle page"
measure "$api/accounts/$account/members?limit=50&q=user$(( members / 3 ))@" "search email"
measure "$api/accounts/$account/members?limit=50&q=first$(( members / 13 ))" "search name"
measure "$api/accounts/$account/members?limit=50&q=zqxj" "search none"
