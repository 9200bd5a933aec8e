#!/usr/bin/env bash
# Runs the benchmarks of BENCHMARKS.md into results/$RUN/ (default run1):
#   RUN=run1 ./run.sh        # everything: validate, paired, count, sweep, wrk
#   RUN=run2 ./run.sh validate paired
#   BEFORE=d618f32 ./run.sh before   # ours ÷ floor on SQLite, the library at
#                                    # BEFORE beside this one, pass by pass
# Each part is PASSES interleaved passes (default 6): the test binary is
# built once and run once per pass, every sub-benchmark once a pass, so
# that the load of a shared machine falls on every implementation alike;
# benchstat then gives medians and their spread over the passes.
# Postgres: NEXTSESSION_POSTGRES_DSN, default postgres://postgres@127.0.0.1:5432/test?sslmode=disable
# Needs: wrk (apt-get install wrk), benchstat (go install golang.org/x/perf/cmd/benchstat@latest),
# node and interop/node_modules (npm ci --prefix interop) for the Auth.js rows.
set -euo pipefail
cd "$(dirname "$0")"
run=${RUN:-run1}
passes=${PASSES:-6}
out=results/$run
mkdir -p "$out"
BENCHSTAT=${BENCHSTAT:-$(go env GOPATH)/bin/benchstat}
parts=${*:-validate paired count sweep wrk}
bin="$(mktemp -d)/bench.test"
go test -c -o "$bin" .
{ echo "nproc: $(nproc)"; grep -m1 'model name' /proc/cpuinfo; go version;
  psql "${NEXTSESSION_POSTGRES_DSN:-postgres://postgres@127.0.0.1:5432/test?sslmode=disable}" -Atc 'select version()' 2>/dev/null || true
  node --version 2>/dev/null || true; echo "start ($parts): $(date -u +%FT%TZ) $(uptime)"; } >> "$out/machine.txt"
# passes NAME COUNT BENCH-REGEXP [flags...]: COUNT runs of the binary, one
# sub-benchmark run each, appended to $out/NAME.txt.
passes() {
  local name=$1 n=$2 re=$3
  shift 3
  : > "$out/$name.txt"
  for i in $(seq "$n"); do
    echo "# pass $i $(date -u +%T) load: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/$name.txt"
    "$bin" -test.run '^$' -test.bench "$re" -test.timeout 60m "$@" | tee -a "$out/$name.txt" ||
      echo "# pass $i FAILED (see above); the other passes go on" | tee -a "$out/$name.txt"
  done
}
for part in $parts; do
  case $part in
  validate)
    passes validate "$passes" '^(BenchmarkValidate|BenchmarkValidateAuthJS|BenchmarkCreate|BenchmarkDestroy)$' -test.benchtime 1s
    "$BENCHSTAT" -col /impl -table .name "$out/validate.txt" > "$out/validate.benchstat.txt" ;;
  paired)
    passes paired "$passes" '^BenchmarkValidatePaired$' -test.benchtime 1s
    "$BENCHSTAT" "$out/paired.txt" > "$out/paired.benchstat.txt" ;;
  count)
    passes count "$(( (passes + 1) / 2 ))" '^BenchmarkCountActive$' -test.benchtime 1s
    "$BENCHSTAT" -col /impl "$out/count.txt" > "$out/count.benchstat.txt" ;;
  before)
    # The library at $BEFORE with this tree's paired benchmark, and this
    # tree, in alternate processes: ours ÷ floor on SQLite, before and after.
    src=$(mktemp -d)
    git -C .. archive "${BEFORE:?set BEFORE to a commit}" | tar -x -C "$src"
    cp paired_test.go cpu.go "$src/bench/"
    (cd "$src/bench" && go test -c -o "$src/before.test" .)
    re='^BenchmarkValidatePaired$/db=sqlite/via=(recorder|http)/vs=floor/impl=ours$'
    : > "$out/before.txt"
    for i in $(seq "$passes"); do
      echo "# pass $i $(date -u +%T) load: $(cut -d' ' -f1-3 /proc/loadavg)" >> "$out/before.txt"
      (cd "$src/bench" && "$src/before.test" -test.run '^$' -test.bench "$re" -test.benchtime 1s) |
        sed 's/impl=ours/impl=before/' | tee -a "$out/before.txt" || echo "# FAILED" >> "$out/before.txt"
      "$bin" -test.run '^$' -test.bench "$re" -test.benchtime 1s | sed 's/impl=ours/impl=after/' |
        tee -a "$out/before.txt" || echo "# FAILED" >> "$out/before.txt"
    done
    "$BENCHSTAT" -col /impl "$out/before.txt" > "$out/before.benchstat.txt" ;;
  sweep)
    passes sweep 1 '^BenchmarkSweep$' -test.benchtime 1x ;;
  wrk)
    ./wrk.sh | tee "$out/wrk.txt" ;;
  esac
done
echo "end ($parts): $(date -u +%FT%TZ) $(uptime)" >> "$out/machine.txt"
