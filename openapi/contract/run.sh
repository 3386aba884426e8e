#!/usr/bin/env bash
# `make contract`: schemathesis (pinned in requirements.txt, installed into a
# virtual environment under target/) against the real server, once on
# SQLite and once on PostgreSQL, signed in as the owner of an account, with
# every check and every phase (examples, coverage, fuzzing, stateful) for a
# bounded time; the few refusals no schema can state (database contents,
# the clock, DNS) are allowed per operation, status and problem code in
# schemathesis.toml, each with its reason, by the check in hooks.py (which
# takes the place of schemathesis' positive_data_acceptance). Prints the request and failure counts of each run; exits
# non-zero if any run found a failure.
#
#   CONTRACT_SECONDS   time budget per backend (default 100)
#   CONTRACT_BACKENDS  default "sqlite postgres"
#   ROSTER_TEST_POSTGRES_URL  server to create the PostgreSQL database on
#                      (default postgres://postgres@127.0.0.1:5432/postgres)
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${CONTRACT_SECONDS:-100}
backends=${CONTRACT_BACKENDS:-sqlite postgres}
admin_url=${ROSTER_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/postgres}
venv=target/contract-venv
requirements=openapi/contract/requirements.txt

if ! "$venv/bin/pip" freeze 2>/dev/null | grep -qxF "$(cat "$requirements")"; then
  echo "contract: installing $(cat "$requirements") into $venv"
  python3 -m venv "$venv"
  "$venv/bin/pip" install -q --disable-pip-version-check -r "$requirements"
fi
cargo build -q -p api --bin roster

work=$(mktemp -d)
server=""
database=""
cluster=""
as_postgres=()
[ "$(id -u)" = 0 ] && as_postgres=(runuser -u postgres --)
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  [ -n "$database" ] && psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
  [ -n "$cluster" ] && { "${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$cluster/data" -m immediate stop >/dev/null 2>&1; rm -rf "$cluster"; } || true
  rm -rf "$work"
}
trap cleanup EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# No PostgreSQL where expected: a throwaway cluster, as the test harness does.
if [[ " $backends " == *" postgres "* ]] && ! psql -q "$admin_url" -c 'SELECT 1' >/dev/null 2>&1; then
  pg_bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -x "$pg_bin/initdb" ] || { echo "contract: no PostgreSQL at $admin_url and no initdb to start one" >&2; exit 2; }
  cluster=$(mktemp -d)
  [ "$(id -u)" = 0 ] && chown postgres:postgres "$cluster"
  pg_port=$(free_port)
  "${as_postgres[@]}" "$pg_bin/initdb" -D "$cluster/data" -A trust -U postgres -E UTF8 --no-sync >/dev/null
  "${as_postgres[@]}" "$pg_bin/pg_ctl" -D "$cluster/data" -w -l "$cluster/log" \
    -o "-p $pg_port -k $cluster -c listen_addresses=127.0.0.1" start >/dev/null
  admin_url="postgres://postgres@127.0.0.1:$pg_port/postgres"
  echo "contract: started a throwaway PostgreSQL on port $pg_port"
fi

post() { curl -fsS -X POST -H 'content-type: application/json' "$@"; }

failed=0
for backend in $backends; do
  dir="$work/$backend"
  mkdir -p "$dir"
  case $backend in
    sqlite) url="sqlite://$dir/roster.db" ;;
    postgres)
      database="roster_contract_$$"
      psql -q "$admin_url" -c "CREATE DATABASE $database" >/dev/null
      url="${admin_url%/*}/$database" ;;
    *) echo "contract: unknown backend $backend" >&2; exit 2 ;;
  esac
  port=$(free_port)
  # Rate limits high enough that the fuzzer reaches the logic behind them
  # (integration-tests covers the 429s).
  for limit in LOGIN_PER_EMAIL LOGIN_PER_IP REGISTER_PER_IP PASSWORD_RESET_PER_EMAIL PASSWORD_RESET_PER_IP \
    VERIFICATION_RESEND INVITATIONS_PER_ACCOUNT JOINS_PER_IP SSO_STARTS_PER_IP API_KEY; do
    export "ROSTER_RATE_LIMIT_$limit=1000000/1m"
  done
  # Domain verification asks a DNS server on loopback that knows no name
  # (no records file).
  dns_port=$(free_port)
  python3 .ci/txt_dns.py "$dns_port" &
  dns_server=$!
  export ROSTER_DNS_RESOLVER=127.0.0.1:$dns_port
  ROSTER_DATABASE_URL=$url ROSTER_DATA_DIR=$dir ROSTER_EMAIL_TRANSPORT="file://$dir/mail" \
    ROSTER_BIND=127.0.0.1:$port ROSTER_LOG=warn target/debug/roster serve > "$dir/server.log" 2>&1 &
  server=$!
  base=http://127.0.0.1:$port
  for _ in $(seq 100); do curl -fs -o /dev/null "$base/readyz" && break; sleep 0.1; done

  # The owner: registered, email verified through the link the server sent,
  # signed in, with an account.
  owner='{"email":"owner@example.com","password":"correct horse battery","first_name":"Ada","last_name":"Lovelace"}'
  post "$base/v1/auth/register" -d "$owner" > /dev/null
  for _ in $(seq 100); do ls "$dir"/mail/*.eml > /dev/null 2>&1 && break; sleep 0.1; done
  verification=$(python3 -c 'import email, glob, re, sys
message = email.message_from_binary_file(open(glob.glob(sys.argv[1] + "/mail/*.eml")[0], "rb"))
text = next(part.get_payload(decode=True).decode() for part in message.walk() if part.get_content_type() == "text/plain")
print(re.search(r"token=([A-Za-z0-9_-]+)", text).group(1))' "$dir")
  post "$base/v1/auth/verify-email" -d "{\"token\":\"$verification\"}"
  credentials='{"email":"owner@example.com","password":"correct horse battery"}'
  token=$(post "$base/v1/auth/login" -d "$credentials" | python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')
  post "$base/v1/accounts" -H "authorization: Bearer $token" -d '{"name":"Acme"}' > /dev/null

  echo "contract: schemathesis on $backend for ${seconds}s"
  set +e
  "$venv/bin/schemathesis" --config-file openapi/contract/schemathesis.toml \
    run "$base/openapi.json" --checks all --exclude-checks positive_data_acceptance --max-time "$seconds" \
    --header "Authorization: Bearer $token" --seed 1 --no-color > "$dir/schemathesis.log" 2>&1
  status=$?
  set -e
  summary=$(grep -E 'generated, ' "$dir/schemathesis.log" | tail -1 | sed 's/^ *//')
  echo "contract: $backend: ${summary:-no summary} (exit $status)"
  if [ $status -ne 0 ]; then
    failed=1
    mkdir -p target/contract && cp "$dir/schemathesis.log" "target/contract/$backend.log"
    grep -E '^ +❌ ST|^ +- ST' "$dir/schemathesis.log" | sort | uniq -c | sort -rn | head -20
    echo "contract: full report in target/contract/$backend.log"
  fi
  kill "$server"; wait "$server" 2>/dev/null || true; server=""
  kill "$dns_server" 2>/dev/null; wait "$dns_server" 2>/dev/null || true
  if [ -n "$database" ]; then
    psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null; database=""
  fi
done
exit $failed
