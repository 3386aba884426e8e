#!/usr/bin/env bash
# Latency of a single sign-on's last two steps on loopback: the provider's
# redirect back to GET /v1/sso/callback (Roster exchanges the code with the
# provider, validates the ID token, links the user, applies the mapping,
# writes the one-time code) and POST /v1/sso/token (Roster's tokens), with
# the real OpenID provider the tests use (integration-tests/oidc).
#
#   cargo build --release -p api --bin roster
#   npm ci --prefix integration-tests/oidc
#   api/benches/sso_sign_in.sh [sqlite|postgres] [sign-ins]
#
# Each sign-in is a fresh start (state, nonce, PKCE); the provider keeps
# its session cookie, so after the first its login is not asked again.
set -euo pipefail
backend=${1:-sqlite}; rounds=${2:-200}
port=18400
export ROSTER_PUBLIC_URL=http://127.0.0.1:$port
export ROSTER_SSO_ALLOW_PRIVATE_NETWORKS=true
export ROSTER_SSO_REDIRECT_URIS=http://frontend.test/signed-in
source "$(dirname "$0")/roster_server.sh"
start_roster $port
sign_in_owner

secret=bench-client-secret-0123456789abcdef
clients="[{\"client_id\":\"roster\",\"client_secret\":\"$secret\",\"redirect_uris\":[\"$ROSTER_PUBLIC_URL/v1/sso/callback\"]}]"
OIDC_CLIENTS=$clients node "$(dirname "$0")/../../integration-tests/oidc/provider.mjs" > "$dir/idp.out" 2>/dev/null &
until issuer=$(grep -o 'listening [0-9]*' "$dir/idp.out" 2>/dev/null); do sleep 0.1; done
issuer=http://127.0.0.1:${issuer#listening }
json "$issuer/test/accounts" -d '{"sso-person":{"email":"sso@example.org","email_verified":true,"given_name":"S","family_name":"O"}}'
json "$issuer/test/login" -d '{"account":"sso-person"}'
connection=$(json "$api/accounts/$account/sso-connections" -H "authorization: Bearer $token" \
  -d "{\"name\":\"IdP\",\"issuer\":\"$issuer\",\"client_id\":\"roster\",\"client_secret\":\"$secret\",\"default_roles\":[\"developer\"]}" | jq -r .id)

: > "$dir/times"
for _ in $(seq "$rounds"); do
  url=$(curl -fs -o /dev/null -w '%{redirect_url}' "$api/sso/start?connection=$connection&redirect_uri=$ROSTER_SSO_REDIRECT_URIS")
  # Through the provider (its cookies kept) until it sends the browser back.
  while [[ $url != "$ROSTER_PUBLIC_URL/v1/sso/callback"* ]]; do
    url=$(curl -s -b "$dir/jar" -c "$dir/jar" -o /dev/null -w '%{redirect_url}' "$url")
  done
  read -r callback_s frontend < <(curl -s -o /dev/null -w '%{time_total} %{redirect_url}\n' "$url")
  code=${frontend##*code=}
  token_s=$(curl -s -o "$dir/tokens.json" -w '%{time_total}' -X POST -H 'content-type: application/json' \
    -d "{\"code\":\"$code\"}" "$api/sso/token")
  jq -e .access_token "$dir/tokens.json" >/dev/null
  echo "$callback_s $token_s" >> "$dir/times"
done
percentile() { # $1: column (1 callback, 2 token, 3 both), $2: percentile
  awk -v c="$1" '{print (c == 3 ? $1 + $2 : $c) * 1000}' "$dir/times" | sort -n |
    awk -v p="$2" '{v[NR] = $1} END {i = int(NR * p / 100 + 0.999); if (i < 1) i = 1; printf "%.2f", v[i]}'
}
printf 'backend=%s sign-ins=%s\n' "$backend" "$rounds"
printf '%-26s p50 %6s ms  p99 %6s ms\n' "callback (code → ID token)" "$(percentile 1 50)" "$(percentile 1 99)"
printf '%-26s p50 %6s ms  p99 %6s ms\n' "token (one-time code)" "$(percentile 2 50)" "$(percentile 2 99)"
printf '%-26s p50 %6s ms  p99 %6s ms\n' "callback + token" "$(percentile 3 50)" "$(percentile 3 99)"
