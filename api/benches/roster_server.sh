# Shared by the HTTP benchmarks: `source` it with $backend set, then call
# start_roster PORT (a release roster on a fresh SQLite file or PostgreSQL
# database, both removed on exit) and sign_in_owner (sets $api, $token and
# $account: an owner signed in with a new account), start_sibling PORT (a
# second instance on the same database) and add_developer (sets
# $developer: a member with the developer role). BENCH_STDERR=FILE keeps
# the server's stderr; other ROSTER_* variables reach the server as set.

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
  start_sibling "$1"
}

start_sibling() { # $1: port. Another instance on the database start_roster made; sets $api.
  ROSTER_DATABASE_URL=$url ROSTER_DATA_DIR=$dir ROSTER_BIND=127.0.0.1:$1 ROSTER_WORKERS=2 ROSTER_LOG=warn \
    ROSTER_EMAIL_TRANSPORT="file://$dir/mail" "$target/roster" serve >/dev/null 2>${BENCH_STDERR:-/dev/null} &
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
    ROSTER_DATABASE_URL=$url ROSTER_DATA_DIR=$dir ROSTER_EMAIL_TRANSPORT="file://$dir/mail" ROSTER_LOG=warn \
      "$target/roster" run-jobs --kind email
  fi
  until mail=$(grep -l 'To: owner@example.com' "$dir"/mail/*.eml 2>/dev/null); do sleep 0.1; done
  verify=$(perl -MMIME::QuotedPrint -0777 -ne 'print decode_qp($_)' $mail | grep -o 'token=[A-Za-z0-9_-]*' | head -1 | cut -d= -f2)
  json "$api/auth/verify-email" -d "{\"token\":\"$verify\"}" >/dev/null
  token=$(json "$api/auth/login" -d '{"email":"owner@example.com","password":"correct horse battery"}' | jq -r .access_token)
  account=$(json "$api/accounts" -H "authorization: Bearer $token" -d '{"name":"Bench"}' | jq -r .id)
}
