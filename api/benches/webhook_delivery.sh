#!/usr/bin/env bash
# Webhook deliveries per second to a local receiver: N deliveries are
# queued (one group created per delivery, with the server's own jobs off),
# then `roster run-jobs --kind webhook` drains them; deliveries/s = N /
# drain time (process start included). Every delivery is signed, POSTed
# over HTTP/1.1 keep-alive and recorded (attempt + job) in the database.
#
#   cargo build --release -p api --bin roster --example webhook_sink
#   api/benches/webhook_delivery.sh [sqlite|postgres] [deliveries]
set -euo pipefail
backend=${1:-sqlite}; deliveries=${2:-3000}
export ROSTER_JOBS=false ROSTER_WEBHOOK_ALLOW_PRIVATE_NETWORKS=true
source "$(dirname "$0")/roster_server.sh"
start_roster 18310
"$target/examples/webhook_sink" 127.0.0.1:18311 1 &
until curl -fs -o /dev/null -X POST -d '{}' localhost:18311/; do sleep 0.1; done
sign_in_owner
auth="authorization: Bearer $token"
json "$api/accounts/$account/webhooks" -H "$auth" \
  -d '{"url":"http://127.0.0.1:18311/roster","event_types":["group.created"]}' >/dev/null
seq 1 "$deliveries" | xargs -P 4 -I{} curl -fs -o /dev/null -X POST -H 'content-type: application/json' \
  -H "$auth" -d '{"name":"Group {}"}' "$api/accounts/$account/groups"
started=$(date +%s.%N)
ROSTER_DATABASE_URL=$url ROSTER_DATA_DIR=$dir ROSTER_LOG=warn "$target/roster" run-jobs --kind webhook
finished=$(date +%s.%N)
awk -v n="$deliveries" -v s="$started" -v f="$finished" -v b="$backend" \
  'BEGIN { printf "%-8s %d deliveries in %.2f s = %6.0f deliveries/s\n", b, n, f - s, n / (f - s) }'
