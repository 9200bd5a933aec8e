// Package bench measures nextsession beside github.com/alexedwards/scs/v2
// and a hand-written floor. It is a separate module so that scs stays out
// of the library's go.mod; see BENCHMARKS.md at the repository root.
//
// The benchmarks are in its tests: BenchmarkValidate and its peers time
// each implementation on its own, BenchmarkValidatePaired serves two in
// alternating batches and reports their ratio, into a recorder or over
// loopback HTTP. run.sh runs them in interleaved passes into results/;
// with -short (as CI runs them, once each) the tables are small.
package bench
