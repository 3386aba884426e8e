#!/usr/bin/env bash
# End-to-end spreadsheet import: upload a CSV over HTTP, then poll until the
# background job reports it completed; rows/s = rows / (upload start →
# completed). Email delivery is asynchronous (outbox) and not included
# there; it is timed apart: from the upload's start until the run's emails
# are all written (the file transport, each synced; or, with BENCH_SMTP=1,
# accepted by a mail server on loopback), as emails/s.
#
#   cargo build --release -p api --bin roster
#   api/benches/import.sh sqlite 10000 3     # backend, rows, runs
#   api/benches/import.sh postgres 10000 3
#
# After each run: how long the per-row report takes to download as CSV;
# at the end, the server's peak resident memory (VmHWM).
#
# Every row is a new person with an account-wide role; every other row
# also gets a role inside a group. Each run imports new emails into the
# same account, so later runs also check against earlier invitations.
set -euo pipefail
backend=${1:-sqlite}; rows=${2:-10000}; runs=${3:-3}
source "$(dirname "$0")/roster_server.sh"
start_roster 18320
sign_in_owner
auth="authorization: Bearer $token"
json "$api/accounts/$account/groups" -H "$auth" -d '{"name":"Design"}' >/dev/null

now() { date +%s.%N; }
emails() { if [ "${BENCH_SMTP:-}" = 1 ]; then cat "$dir/mail/count"; else find "$dir/mail" -name '*.eml' | wc -l; fi; }
sent=$(emails)
for run in $(seq 1 "$runs"); do
  file="$dir/import-$run.csv"
  awk -v n="$rows" -v run="$run" 'BEGIN {
    print "email,first_name,last_name,roles,groups"
    for (i = 1; i <= n; i++) printf "person%d.%d@example.com,Person,%d,developer,%s\n", run, i, i, (i % 2 ? "Design:analyst" : "")
  }' > "$file"
  started=$(now)
  id=$(curl -fs -X POST "$api/accounts/$account/invitation-imports" -H "$auth" -H 'content-type: text/csv' \
         --data-binary "@$file" | jq -r .import_id)
  uploaded=$(now)
  until [ "$(curl -fs "$api/accounts/$account/invitation-imports/$id" -H "$auth" | jq -r .status)" = completed ]; do
    sleep 0.02
  done
  finished=$(now)
  invited=$(curl -fs "$api/accounts/$account/invitation-imports/$id" -H "$auth" | jq .invited)
  [ "$invited" = "$rows" ] || { echo "run $run invited $invited of $rows" >&2; exit 1; }
  report=$(curl -fs -o "$dir/report.csv" -w '%{time_total}' "$api/accounts/$account/invitation-imports/$id/report" -H "$auth" -H 'accept: text/csv')
  [ "$(wc -l < "$dir/report.csv")" -gt "$rows" ] || { echo "run $run: the report has too few lines" >&2; exit 1; }
  sent=$((sent + rows)); delivered=$finished
  if [ "${ROSTER_JOBS:-true}" != false ]; then
    until [ "$(emails)" -ge "$sent" ]; do sleep 0.1; done
    delivered=$(now)
  fi
  awk -v r="$rows" -v s="$started" -v u="$uploaded" -v f="$finished" -v d="$delivered" -v run="$run" -v b="$backend" -v rep="$report" 'BEGIN {
    printf "%-8s run %d: %d rows in %.2f s (upload %.2f s) = %6.0f rows/s; report CSV %.2f s; emails %.1f s = %6.0f/s\n", b, run, r, f - s, u - s, r / (f - s), rep, d - s, r / (d - s) }'
done
echo "peak RSS of the server: $(awk '/VmHWM/ {printf "%.0f MiB", $2 / 1024}' /proc/$roster_pid/status)"

