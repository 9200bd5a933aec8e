#!/usr/bin/env bash
# Runs wrk against benchserver on loopback: for each database, the modes
# (ours, cached on Postgres, scs, none), DURATION each (default 30s), 2 threads, 16
# connections. Output: one wrk report per run, preceded by "== db mode".
set -euo pipefail
cd "$(dirname "$0")"
DURATION=${DURATION:-30s}
bin="$(mktemp -d)/benchserver"
go build -o "$bin" ./cmd/benchserver
for db in ${DBS:-postgres sqlite}; do
  modes="ours scs none"
  [ "$db" = postgres ] && modes="ours cached scs none"
  for mode in ${MODES:-$modes}; do
    out=$(mktemp)
    "$bin" -db "$db" -mode "$mode" >"$out" 2>&1 &
    pid=$!
    for _ in $(seq 1 600); do grep -q '^listening:' "$out" && break; sleep 0.1; done
    addr=$(sed -n 's/^listening: //p' "$out")
    cookie=$(sed -n 's/^cookie: //p' "$out")
    [ -n "$addr" ] || { cat "$out"; kill "$pid"; exit 1; }
    curl -sf -H "Cookie: $cookie" "http://$addr/protected" >/dev/null
    echo "== $db $mode"
    wrk -t2 -c16 -d"$DURATION" --latency -H "Cookie: $cookie" "http://$addr/protected"
    kill -TERM "$pid"
    wait "$pid" || true
    rm -f "$out"
  done
done
