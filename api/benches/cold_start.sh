#!/usr/bin/env bash
# Cold-start time and idle memory of `roster serve` on SQLite.
#
#   cargo build --release -p api --bin roster && api/benches/cold_start.sh [runs]
#
# "first start" is a fresh data directory: key generation, database creation
# and every migration. "restart" reuses it. Start time is from exec until
# /healthz first answers 200 (polled every 5 ms); memory is VmRSS after the
# server has idled for 2 seconds.
set -euo pipefail
binary=${ROSTER_BINARY:-target/release/roster}
runs=${1:-10}
port=18181
now_ms() { date +%s%3N; }

measure() { # $1: data dir
  local started pid elapsed rss
  started=$(now_ms)
  ROSTER_DATA_DIR="$1" ROSTER_DATABASE_URL="sqlite://$1/roster.db" ROSTER_BIND="127.0.0.1:$port" \
    ROSTER_LOG=warn "$binary" serve >/dev/null 2>&1 &
  pid=$!
  until curl -fs "http://127.0.0.1:$port/healthz" >/dev/null 2>&1; do sleep 0.005; done
  elapsed=$(( $(now_ms) - started ))
  sleep 2
  rss=$(awk '/VmRSS/ {print $2}' "/proc/$pid/status")
  kill -TERM "$pid"; wait "$pid" || true
  echo "$elapsed $rss"
}

report() { # $1: label, stdin: "ms kib" lines
  sort -n | awk -v label="$1" '{ms[NR]=$1; rss+=$2} END {
    printf "%-12s runs=%d  start median=%d ms  min=%d ms  max=%d ms  idle RSS mean=%.1f MiB\n",
      label, NR, ms[int((NR+1)/2)], ms[1], ms[NR], rss/NR/1024 }'
}

for _ in $(seq "$runs"); do dir=$(mktemp -d); measure "$dir"; rm -rf "$dir"; done | report "first start"
dir=$(mktemp -d); measure "$dir" >/dev/null
for _ in $(seq "$runs"); do measure "$dir"; done | report "restart"
rm -rf "$dir"
