# Shared by the HTTP benchmarks: `source` it with $backend set, then call
# start_roster PORT (a release roster on a fresh SQLite file or PostgreSQL
# database, both removed on exit) and sign_in_owner (sets $api, $token and
# $account: an owner signed in with a new account), start_sibling PORT (a
# second instance on the same database) and add_developer (sets
# $developer: a member with the developer role), seed_members N (N members
# written in SQL). BENCH_STDERR=FILE keeps
# the server's stderr; BENCH_SMTP=1 sends emails over SMTP to smtp_sink.py
# (which counts them in $dir/mail/count) instead of writing files; other
# ROSTER_* variables reach the server as set.

target=${CARGO_TARGET_DIR:-target}/release
dir=$(mktemp -d)
db=
cleanup() {
  kill $(jobs -p) 2>/dev/null || true
  wait 2>/dev/null || true
  rm -rf "$dir"
  [ -z "$db" ] || psql -q -h 127.0.0.1 -U postgres -c "DROP DATABASE IF EXISTS $db WITH (FORCE)" postgres
}
trap cleanup EXIT

json() { curl -fs -X POST -H 'content-type: application/json' "$@"; }

start_roster() { # $1: port
  case $backend in
    sqlite) url="sqlite://$dir/roster.db" ;;
    postgres) db=roster_bench_$$; psql -q -h 127.0.0.1 -U postgres -c "CREATE DATABASE $db" postgres
              url="postgres://postgres@127.0.0.1:5432/$db" ;;
    *) echo "backend must be sqlite or postgres" >&2; exit 2 ;;
  esac
  transport="file://$dir/mail"
  if [ "${BENCH_SMTP:-}" = 1 ]; then
    python3 "$(dirname "${BASH_SOURCE[0]}")/smtp_sink.py" $(($1 + 7)) "$dir/mail" &
    until [ -f "$dir/mail/count" ]; do sleep 0.1; done
    transport="smtp://127.0.0.1:$(($1 + 7))"
  fi
  start_sibling "$1"
}

start_sibling() { # $1: port. Another instance on the database start_roster made; sets $api.
  ROSTER_DATABASE_URL=$url ROSTER_DATA_DIR=$dir ROSTER_BIND=127.0.0.1:$1 ROSTER_WORKERS=2 ROSTER_LOG=warn \
    ROSTER_EMAIL_TRANSPORT=${transport:-file://$dir/mail} "$target/roster" serve >/dev/null 2>${BENCH_STDERR:-/dev/null} &
  roster_pid=${roster_pid:-$!} # the first instance's
  until curl -fs "localhost:$1/readyz" >/dev/null; do sleep 0.1; done
  api=http://127.0.0.1:$1/v1
}

add_developer() { # after sign_in_owner: invites and registers a developer; sets $developer.
  local link
  link=$(json "$api/accounts/$account/invitations" -H "authorization: Bearer $token" \
    -d '{"invitations":[{"email":"dev@example.com","roles":["developer"],"send_email":false}]}' | jq -r '.results[0].accept_url')
  json "$api/invitations/register" -d "{\"token\":\"${link##*token=}\",\"password\":\"correct horse battery\",\"first_name\":\"D\",\"last_name\":\"V\"}" >/dev/null
  developer=$(curl -fs "$api/accounts/$account/members?role=developer" -H "authorization: Bearer $token" | jq -r '.items[0].user_id')
}

sign_in_owner() {
  json "$api/auth/register" -d '{"email":"owner@example.com","password":"correct horse battery","first_name":"O","last_name":"W"}' >/dev/null
  # Inviting needs a verified email: follow the link the verification email carries.
  if [ "${ROSTER_JOBS:-true}" = false ]; then
    ROSTER_DATABASE_URL=$url ROSTER_DATA_DIR=$dir ROSTER_EMAIL_TRANSPORT=$transport ROSTER_LOG=warn \
      "$target/roster" run-jobs --kind email
  fi
  until mail=$(grep -l 'To: owner@example.com' "$dir"/mail/*.eml 2>/dev/null); do sleep 0.1; done
  verify=$(perl -MMIME::QuotedPrint -0777 -ne 'print decode_qp($_)' $mail | grep -o 'token=[A-Za-z0-9_-]*' | head -1 | cut -d= -f2)
  json "$api/auth/verify-email" -d "{\"token\":\"$verify\"}" >/dev/null
  token=$(json "$api/auth/login" -d '{"email":"owner@example.com","password":"correct horse battery"}' | jq -r .access_token)
  account=$(json "$api/accounts" -H "authorization: Bearer $token" -d '{"name":"Bench"}' | jq -r .id)
}

seed_members() { # $1: how many. After sign_in_owner: members of $account, a developer each,
# written in SQL (user{i}@example.com, First{i} Last{i}), then ANALYZE.
local members=$1 started
started=$(date +%s)
case $backend in
  postgres) psql -q -h 127.0.0.1 -U postgres "$db" <<SQL
-- Without triggers: the authorization-change trigger remembers what one
-- transaction changed in a string it searches, which is quadratic in rows.
SET session_replication_role = replica;
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
}
