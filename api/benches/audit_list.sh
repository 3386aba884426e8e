#!/usr/bin/env bash
# Audit log listing latency in an account with N events: the newest page,
# and pages filtered by action, action prefix, actor, target and time.
# The events are bulk-inserted into the account's chain, sealed, in time
# order (their hashes do not chain: the listing never checks them), a
# target on every 100th.
#
#   cargo build --release -p api --bin roster
#   api/benches/audit_list.sh postgres 1000000 5     # backend, events, seconds per query
#
# Needs wrk, curl, jq, psql (PostgreSQL) or sqlite3 (SQLite).
set -euo pipefail
backend=${1:-postgres}; events=${2:-1000000}; seconds=${3:-5}
source "$(dirname "$0")/roster_server.sh"
start_roster 18330
sign_in_owner
owner=$(curl -fs "$api/me" -H "authorization: Bearer $token" | jq -r .id)
target_id=01937a2e-0000-7000-8000-00000000beef
case $backend in
  postgres)
    psql -q -h 127.0.0.1 -U postgres "$db" <<SQL
INSERT INTO audit_events (id, chain, seq, account_id, occurred_at, action, actor_type, actor_id, actor_name,
                          targets, changes, prev_hash, hash)
SELECT '00000000-0000-7000-8000-' || lpad(to_hex(n), 12, '0'), '$account', 1 + n, '$account',
       TIMESTAMP '2026-01-01' + make_interval(secs => n),
       (ARRAY['group.created','member.removed','invitation.created','role.updated'])[1 + n % 4],
       'user', CASE WHEN n % 10 = 0 THEN '$owner' ELSE gen_random_uuid()::text END, 'Ada Lovelace',
       '[]', '{"name":{"before":null,"after":"x"}}', md5(n::text), md5((n + 1)::text)
FROM generate_series(1, $events) AS n;
INSERT INTO audit_event_targets (chain, seq, target_id)
SELECT '$account', 1 + n, '$target_id' FROM generate_series(100, $events, 100) AS n;
ANALYZE audit_events; ANALYZE audit_event_targets;
SQL
    ;;
  sqlite)
    sqlite3 "$dir/roster.db" <<SQL
WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < $events)
INSERT INTO audit_events (id, chain, seq, account_id, occurred_at, action, actor_type, actor_id, actor_name,
                          targets, changes, prev_hash, hash)
SELECT printf('00000000-0000-7000-8000-%012x', i), '$account', 1 + i, '$account',
       strftime('%Y-%m-%d %H:%M:%f', '2026-01-01', '+' || i || ' seconds'),
       CASE i % 4 WHEN 0 THEN 'group.created' WHEN 1 THEN 'member.removed' WHEN 2 THEN 'invitation.created' ELSE 'role.updated' END,
       'user', CASE WHEN i % 10 = 0 THEN '$owner' ELSE lower(hex(randomblob(16))) END, 'Ada Lovelace',
       '[]', '{"name":{"before":null,"after":"x"}}', hex(i), hex(i + 1)
FROM n;
WITH RECURSIVE n(i) AS (SELECT 100 UNION ALL SELECT i + 100 FROM n WHERE i + 100 <= $events)
INSERT INTO audit_event_targets (chain, seq, target_id)
SELECT '$account', 1 + i, '$target_id' FROM n;
ANALYZE;
SQL
    ;;
esac
log="$api/accounts/$account/audit-events"
printf 'backend=%s events=%s\n' "$backend" "$events"
for query in "limit=50" "limit=50&action=member.removed" "limit=50&action_prefix=invitation." \
             "limit=50&actor=$owner" "limit=50&target=$target_id" \
             "limit=50&from=2026-01-05T00:00:00Z&to=2026-01-06T00:00:00Z"; do
  count=$(curl -fs "$log?$query" -H "authorization: Bearer $token" | jq '.items | length')
  wrk -t1 -c4 -d"${seconds}s" --latency -H "authorization: Bearer $token" "$log?$query" > "$dir/wrk.txt"
  printf '%-62s %3s items  %8s req/s  p50 %-9s p99 %s\n' "${query//$owner/<owner>}" "$count" \
    "$(awk '/Requests\/sec/ {print $2}' "$dir/wrk.txt")" "$(awk '$1 == "50%" {print $2}' "$dir/wrk.txt")" \
    "$(awk '$1 == "99%" {print $2}' "$dir/wrk.txt")"
done
