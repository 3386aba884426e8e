#!/usr/bin/env bash
# The authorization check (user token) served by one instance, then by two
# instances of Roster on one PostgreSQL side by side, in one run: wrk's
# connections all on the first, then split between both (two wrk processes
# at once, their requests per second added). Every instance has 2 workers
# and its own authorization cache; the second listens for the first's
# changes. On one machine both share its cores, so two instances cannot
# serve more than one; the run shows what running two costs.
#
#   cargo build --release -p api --bin roster
#   api/benches/two_instances.sh [seconds] [connections]
set -euo pipefail
backend=postgres; seconds=${1:-10}; connections=${2:-32}
source "$(dirname "$0")/roster_server.sh"
start_roster 18320
first=$api
start_sibling 18321
second=$api
api=$first
sign_in_owner
add_developer
body="{\"user_id\":\"$developer\",\"permissions\":[\"certifications:apply\",\"members:manage\"]}"
for base in "$first" "$second"; do
  curl -fs -X POST "$base/accounts/$account/authorization-checks" -H "authorization: Bearer $token" \
    -H 'content-type: application/json' -d "$body" | grep -q '"allowed":false'
done
cat > "$dir/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer $token"
LUA
check() { echo "$1/accounts/$account/authorization-checks"; }
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$dir/post.lua" "$(check "$first")" > "$dir/one.txt"
half=$((connections / 2))
wrk -t1 -c"$half" -d"${seconds}s" --latency -s "$dir/post.lua" "$(check "$first")" > "$dir/a.txt" &
alongside=$!
wrk -t1 -c"$half" -d"${seconds}s" --latency -s "$dir/post.lua" "$(check "$second")" > "$dir/b.txt"
wait "$alongside"
rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
p99() { awk '/ 99%/ {print $2}' "$1"; }
printf 'connections=%s seconds=%s\n' "$connections" "$seconds"
printf '%-32s %10s req/s  p99 %s\n' "one instance" "$(rps "$dir/one.txt")" "$(p99 "$dir/one.txt")"
printf '%-32s %10s req/s  p99 %s\n' "two instances: first" "$(rps "$dir/a.txt")" "$(p99 "$dir/a.txt")"
printf '%-32s %10s req/s  p99 %s\n' "two instances: second" "$(rps "$dir/b.txt")" "$(p99 "$dir/b.txt")"
awk -v a="$(rps "$dir/a.txt")" -v b="$(rps "$dir/b.txt")" 'BEGIN {printf "two instances together: %.0f req/s\n", a + b}'
