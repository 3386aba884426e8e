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

seed_members "$members"
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
