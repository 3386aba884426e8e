#!/usr/bin/env bash
# A directory's load on the SCIM service: provisioning (POST /scim/v2/Users,
# each a new member with the account's directory role, a welcome email in
# the outbox and audit events) and Entra's probe before each create
# (GET /Users?filter=userName eq "…") in an account of N members.
#
#   cargo build --release -p api --bin roster
#   api/benches/scim_http.sh postgres 100000     # or sqlite; N members for the probe
#
# 2 workers; wrk with 2 threads and 8 connections (or BENCH_CONNECTIONS),
# BENCH_SECONDS (20) of creates, 10 s of probes. The token's rate limit is
# lifted for the measurement.
set -euo pipefail
backend=${1:-sqlite}; members=${2:-100000}; seconds=${BENCH_SECONDS:-20}
export ROSTER_RATE_LIMIT_SCIM_TOKEN=1000000000/1m
source "$(dirname "$0")/roster_server.sh"
start_roster 18420
sign_in_owner
scim=${api%/v1}/scim/v2
curl -fs -X PUT -H 'content-type: application/json' -H "authorization: Bearer $token" \
  "$api/accounts/$account/directory-settings" -d '{"default_roles":["developer"]}' >/dev/null
export SCIM_TOKEN=$(json "$api/accounts/$account/scim-tokens" -H "authorization: Bearer $token" -d '{"name":"bench"}' | jq -r .token)

cat > "$dir/create.lua" <<'LUA'
local threads = 0
function setup(thread) threads = threads + 1; thread:set("prefix", "t" .. threads) end
function init() n = 0 end
function request()
  n = n + 1
  local body = string.format('{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"%s-%d@bench.test",'
    .. '"name":{"givenName":"Bench","familyName":"N%d"},"externalId":"%s-%d","active":true}', prefix, n, n, prefix, n)
  return wrk.format("POST", nil, {["content-type"] = "application/scim+json",
    ["authorization"] = "Bearer " .. os.getenv("SCIM_TOKEN")}, body)
end
LUA
report() { # $1: name; wrk's output on stdin
  awk -v name="$1" '/Requests\/sec/ {rps=$2} / 50%/ {p50=$2} / 99%/ {p99=$2} /Non-2xx/ {bad=$NF} /requests in/ {n=$1}
    END {printf "%-28s %7d requests %8.0f req/s  p50 %-8s p99 %-8s%s\n", name, n, rps, p50, p99, (bad ? "  non-2xx " bad : "")}'
}
echo "backend=$backend members=$members load=$(cut -d' ' -f1-3 /proc/loadavg)"
wrk -t2 -c"${BENCH_CONNECTIONS:-8}" -d"${seconds}s" --latency -s "$dir/create.lua" "$scim/Users" | report "POST /Users (new member)"
created=$(curl -fs -H "authorization: Bearer $SCIM_TOKEN" "$scim/Users?count=0" | jq .totalResults)
echo "members after the creates: $created"

seed_members "$members"
probe="$scim/Users?filter=userName%20eq%20%22user$(( members / 2 ))%40example.com%22"
[ "$(curl -fs -H "authorization: Bearer $SCIM_TOKEN" "$probe" | jq .totalResults)" = 1 ] || { echo "the probe finds no one" >&2; exit 1; }
wrk -t2 -c"${BENCH_CONNECTIONS:-8}" -d10s --latency -H "authorization: Bearer $SCIM_TOKEN" "$probe" | report "GET userName eq (of $members)"
external="$scim/Users?filter=externalId%20eq%20%22t1-$(( created / 4 ))%22"
wrk -t2 -c"${BENCH_CONNECTIONS:-8}" -d10s --latency -H "authorization: Bearer $SCIM_TOKEN" "$external" | report "GET externalId eq"

# Deactivation → refusal on another instance: the directory deactivates a
# member on the first instance; how long until the second instance's
# authorization check about them answers false (its cache hears of the
# change through PostgreSQL's NOTIFY; SQLite instances poll). 20 rounds.
first=$api
start_sibling 18421
sibling=$api
api=$first
person=$(curl -fs -X POST -H 'content-type: application/scim+json' -H "authorization: Bearer $SCIM_TOKEN" "$scim/Users" \
  -d '{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"leaver@bench.test","active":true}' | jq -r .id)
allowed() {
  curl -fs -X POST -H 'content-type: application/json' -H "authorization: Bearer $token" "$sibling/accounts/$account/authorization-checks" \
    -d "{\"user_id\":\"$person\",\"permissions\":[\"certifications:apply\"]}" | jq -r .allowed
}
set_active() {
  curl -fs -o /dev/null -X PATCH -H 'content-type: application/scim+json' -H "authorization: Bearer $SCIM_TOKEN" "$scim/Users/$person" \
    -d "{\"schemas\":[\"urn:ietf:params:scim:api:messages:2.0:PatchOp\"],\"Operations\":[{\"op\":\"replace\",\"value\":{\"active\":$1}}]}"
}
: > "$dir/refusals"
for _ in $(seq 20); do
  until [ "$(allowed)" = true ]; do :; done
  started=$(date +%s%N)
  set_active false
  until [ "$(allowed)" = false ]; do :; done
  echo $(( ($(date +%s%N) - started) / 1000 )) >> "$dir/refusals"
  set_active true
done
sort -n "$dir/refusals" | awk '{v[NR] = $1} END {printf "%-28s p50 %.1f ms  max %.1f ms (20 rounds, PATCH included)\n", "deactivated → refused there", v[int(NR / 2 + 0.5)] / 1000, v[NR] / 1000}'
