#!/usr/bin/env bash
# `make contract`: schemathesis (pinned in requirements.txt, installed into a
# virtual environment under target/) against the real server, once on
# SQLite and once on PostgreSQL, signed in as the owner of an account, with
# every check and every phase (examples, coverage, fuzzing, stateful) for a
# bounded time. Prints the request and failure counts of each run; exits
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
cleanup() {
  [ -n "$server" ] && kill "$server" 2>/dev/null && wait "$server" 2>/dev/null || true
  [ -n "$database" ] && psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

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
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
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
  "$venv/bin/schemathesis" run "$base/openapi.json" --checks all --max-time "$seconds" \
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
  if [ -n "$database" ]; then
    psql -q "$admin_url" -c "DROP DATABASE IF EXISTS $database WITH (FORCE)" >/dev/null; database=""
  fi
done
exit $failed
