#!/usr/bin/env bash
# Requests per second and p99 latency of POST /v1/accounts/{id}/authorization-checks
# against a bare actix-web JSON handler, with the same load generator in the
# same run, both servers with 2 workers.
#
#   cargo build --release -p api --bin roster --example bare_json
#   api/benches/authorization_http.sh [sqlite|postgres] [seconds] [connections]
#   SSO_REQUIRED=1 api/benches/authorization_http.sh …   # the account requires single sign-on
#
# The check asks about a member other than the caller (a developer), so each
# request verifies a JWT, loads the caller's and the developer's roles from
# the database and resolves them against the catalogue. The same check is
# then made with a partner's API key (members:read), the way a backend
# integrates: the key is looked up by digest, its creator's roles limit it,
# and its rate limit is counted (raised here so the run measures the work,
# not the 429s).
set -euo pipefail
backend=${1:-sqlite}; seconds=${2:-10}; connections=${3:-32}
export ROSTER_RATE_LIMIT_API_KEY=${ROSTER_RATE_LIMIT_API_KEY:-1000000000/1m}
source "$(dirname "$0")/roster_server.sh"
start_roster 18300
"$target/examples/bare_json" 127.0.0.1:18301 2 &
until curl -fs -o /dev/null -X POST -H 'content-type: application/json' -d '{"user_id":"x","permissions":[]}' localhost:18301/check; do sleep 0.1; done

sign_in_owner
add_developer
if [ "${SSO_REQUIRED:-}" = 1 ]; then
  # The account requires single sign-on of its people at example.com: its
  # verified domain (written directly, no DNS here), a connection, the
  # policy. The owner signs in again as its break-glass owner; the
  # developer's password sign-in is refused.
  insert="INSERT INTO account_domains (id, account_id, domain, token, verified_at, checked_at, created_at, enrollment)
    VALUES ('$(cat /proc/sys/kernel/random/uuid)', '$account', 'example.com', 'bench', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, CURRENT_TIMESTAMP, 'manual')"
  case $backend in
    sqlite) sqlite3 "$dir/roster.db" "$insert" ;;
    postgres) psql -q -h 127.0.0.1 -U postgres -d "$db" -c "$insert" ;;
  esac
  json "$api/accounts/$account/sso-connections" -H "authorization: Bearer $token" \
    -d '{"name":"IdP","issuer":"https://idp.example.org","client_id":"roster","client_secret":"s"}' >/dev/null
  curl -fs -X PUT "$api/accounts/$account/sso-policy" -H "authorization: Bearer $token" -H 'content-type: application/json' \
    -d '{"sso_required":true}' | grep -q '"sso_required":true'
  token=$(json "$api/auth/login" -d '{"email":"owner@example.com","password":"correct horse battery"}' | jq -r .access_token)
  curl -s -X POST -H 'content-type: application/json' -d '{"email":"dev@example.com","password":"correct horse battery"}' \
    "$api/auth/login" | grep -q '"code":"sso_required"'
fi
body="{\"user_id\":\"$developer\",\"permissions\":[\"certifications:apply\",\"members:manage\"]}"
curl -fs -X POST "$api/accounts/$account/authorization-checks" -H "authorization: Bearer $token" -H 'content-type: application/json' -d "$body" | grep -q '"allowed":false'

partner=$(json "$api/accounts/$account/partners" -H "authorization: Bearer $token" -d '{"name":"Backend"}' | jq -r .id)
key=$(json "$api/accounts/$account/api-keys" -H "authorization: Bearer $token" \
  -d "{\"name\":\"bench\",\"partner_id\":\"$partner\",\"permissions\":[\"members:read\"]}" | jq -r .secret)
curl -fs -X POST "$api/accounts/$account/authorization-checks" -H "authorization: Bearer $key" -H 'content-type: application/json' -d "$body" | grep -q '"allowed":false'

cat > "$dir/key.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer $key"
LUA
cat > "$dir/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '$body'
wrk.headers["content-type"] = "application/json"
wrk.headers["authorization"] = "Bearer $token"
LUA
# Each server gets the same load; wrk's report is kept for the record.
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$dir/post.lua" http://127.0.0.1:18301/check > "$dir/bare.txt"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$dir/post.lua" "$api/accounts/$account/authorization-checks" > "$dir/roster.txt"
wrk -t2 -c"$connections" -d"${seconds}s" --latency -s "$dir/key.lua" "$api/accounts/$account/authorization-checks" > "$dir/key.txt"
rps() { awk '/Requests\/sec/ {print $2}' "$1"; }
p99() { awk '/ 99%/ {print $2}' "$1"; }
errors() { awk '/Non-2xx/ {print $NF} END {}' "$1"; }
printf 'backend=%s connections=%s seconds=%s\n' "$backend" "$connections" "$seconds"
printf '%-28s %10s req/s  p99 %s %s\n' "bare actix-web handler" "$(rps "$dir/bare.txt")" "$(p99 "$dir/bare.txt")" "$(errors "$dir/bare.txt")"
printf '%-28s %10s req/s  p99 %s %s\n' "authorization-checks (user)" "$(rps "$dir/roster.txt")" "$(p99 "$dir/roster.txt")" "$(errors "$dir/roster.txt")"
printf '%-28s %10s req/s  p99 %s %s\n' "authorization-checks (key)" "$(rps "$dir/key.txt")" "$(p99 "$dir/key.txt")" "$(errors "$dir/key.txt")"
awk -v a="$(rps "$dir/roster.txt")" -v b="$(rps "$dir/bare.txt")" 'BEGIN {printf "ratio (user token / bare) = %.2f\n", a / b}'
awk -v a="$(rps "$dir/key.txt")" -v b="$(rps "$dir/bare.txt")" 'BEGIN {printf "ratio (API key / bare) = %.2f\n", a / b}'
