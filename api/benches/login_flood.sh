#!/usr/bin/env bash
# What an unauthenticated sign-in flood costs: peak and remaining memory of
# the server, how the flood's requests are answered, and the latency of a
# signed-in GET /v1/me measured before and during the flood.
#
#   cargo build --release -p api --bin roster
#   api/benches/login_flood.sh [sqlite|postgres] [seconds] [clients]
#
# Needs wrk, curl, jq and perl.
set -euo pipefail
backend=${1:-sqlite}; seconds=${2:-20}; clients=${3:-200}
source "$(dirname "$0")/roster_server.sh"
start_roster 18400
server=$!
sign_in_owner

cat > "$dir/flood.lua" <<'LUA'
wrk.method = "POST"
wrk.body = '{"email":"owner@example.com","password":"not the right password"}'
wrk.headers["content-type"] = "application/json"
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) refused = 0; unauthorized = 0; other = 0 end
function response(status, headers, body)
  if status == 429 then refused = refused + 1
  elseif status == 401 then unauthorized = unauthorized + 1
  else other = other + 1 end
end
function done(summary, latency, requests)
  local r, u, o = 0, 0, 0
  for _, t in ipairs(threads) do r = r + t:get("refused"); u = u + t:get("unauthorized"); o = o + t:get("other") end
  io.write(string.format("flood answers: 401 %d, 429 %d, other %d\n", u, r, o))
end
LUA
me() { wrk -t1 -c2 -d"$1" --latency -H "authorization: Bearer $token" "$api/me"; }
rss() { awk -v k="$1:" '$1 == k {printf "%.0f MiB", $2 / 1024}' "/proc/$server/status"; }
p() { awk -v q="$1%" '$1 == q {print $2}'; }

before=$(me 5s)
wrk -t2 -c"$clients" -d"${seconds}s" --timeout 10s -s "$dir/flood.lua" "$api/auth/login" > "$dir/flood.txt" &
flood=$!
sleep 2
during=$(me "$((seconds - 4))s")
wait $flood
sleep 1
printf 'backend=%s clients=%s seconds=%s\n' "$backend" "$clients" "$seconds"
grep -E 'Requests/sec|flood answers' "$dir/flood.txt"
printf 'server RSS: peak %s, after the flood %s\n' "$(rss VmHWM)" "$(rss VmRSS)"
printf 'GET /v1/me before the flood: p50 %s p99 %s\n' "$(p 50 <<<"$before")" "$(p 99 <<<"$before")"
printf 'GET /v1/me during the flood: p50 %s p99 %s\n' "$(p 50 <<<"$during")" "$(p 99 <<<"$during")"
