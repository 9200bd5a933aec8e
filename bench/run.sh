#!/usr/bin/env bash
# Runs every benchmark of BENCHMARKS.md once, in order, into results/:
#   ./run.sh            # everything (about 25 minutes on 2 cores)
#   ./run.sh validate   # one part: validate, count, sweep, wrk
# Postgres: NEXTSESSION_POSTGRES_DSN, default postgres://postgres@127.0.0.1:5432/test?sslmode=disable
# Needs: wrk (apt-get install wrk), benchstat (go install golang.org/x/perf/cmd/benchstat@latest),
# node and interop/node_modules (npm ci --prefix interop) for the Auth.js row.
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p results
BENCHSTAT=${BENCHSTAT:-$(go env GOPATH)/bin/benchstat}
parts=${*:-validate count sweep wrk}
{ echo "nproc: $(nproc)"; grep -m1 'model name' /proc/cpuinfo; go version;
  psql "${NEXTSESSION_POSTGRES_DSN:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}" -Atc 'select version()' 2>/dev/null || true
  node --version 2>/dev/null || true; uptime; } > results/machine.txt
for part in $parts; do
  case $part in
  validate)
    go test -run '^$' -bench '^(BenchmarkValidate|BenchmarkValidateAuthJS|BenchmarkCreate|BenchmarkDestroy)$' \
      -count 6 -benchtime 1s -timeout 60m | tee results/validate.txt
    "$BENCHSTAT" -col /impl results/validate.txt > results/validate.benchstat.txt ;;
  count)
    go test -run '^$' -bench '^BenchmarkCountActive$' -count 3 -benchtime 1s -timeout 60m | tee results/count.txt
    "$BENCHSTAT" -col /impl results/count.txt > results/count.benchstat.txt ;;
  sweep)
    go test -run '^$' -bench '^BenchmarkSweep$' -benchtime 1x -count 1 -timeout 60m | tee results/sweep.txt ;;
  wrk)
    ./wrk.sh | tee results/wrk.txt ;;
  esac
done
