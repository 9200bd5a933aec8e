package bench

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// pairedBatch is the number of requests each side serves before the
// other takes its turn in BenchmarkValidatePaired.
const pairedBatch = 32

// validatePairs are the comparisons of BenchmarkValidatePaired: impl
// against base, on the same fixture.
var validatePairs = []struct{ impl, base string }{
	{"ours", "floor"},
	{"ours-json", "floor"},
	{"scs", "ours"},
}

// BenchmarkValidatePaired serves the requests of BenchmarkValidate
// through two implementations in turn, pairedBatch requests each, and
// reports each one's wall and CPU time per request and their ratios
// (impl ÷ base). Both sides see the same load on the machine within a few
// hundred microseconds, so the ratio holds still where two benchmarks run
// one after the other, seconds apart on a shared machine, do not. One op
// is one request of each side.
func BenchmarkValidatePaired(b *testing.B) {
	impls := map[string]validateImpl{}
	for _, v := range validateImpls {
		impls[v.name] = v
	}
	for _, dbn := range dbNames {
		for _, p := range validatePairs {
			b.Run("db="+dbn+"/vs="+p.base+"/impl="+p.impl, func(b *testing.B) {
				f := fixture(b, dbn)
				var h [2]http.Handler
				var r [2]*http.Request
				for i, name := range []string{p.base, p.impl} {
					v := impls[name]
					h[i] = v.build(b, f, f.X)
					r[i] = request("/protected", CookieName, f.Token)
					if v.scs {
						r[i] = request("/protected", "session", f.SCSToken)
					}
					serveOnce(b, h[i], r[i], http.StatusOK)
				}
				var wall, cpu [2]time.Duration
				b.ResetTimer()
				for done := 0; done < b.N; done += pairedBatch {
					n := min(pairedBatch, b.N-done)
					for side := range 2 {
						t0, c0 := time.Now(), CPUTime()
						for range n {
							w := httptest.NewRecorder()
							h[side].ServeHTTP(w, r[side])
							if w.Code != http.StatusOK {
								b.Fatalf("%s: status %d", []string{p.base, p.impl}[side], w.Code)
							}
						}
						wall[side] += time.Since(t0)
						cpu[side] += CPUTime() - c0
					}
				}
				b.StopTimer()
				per := func(d time.Duration) float64 { return float64(d) / float64(b.N) }
				b.ReportMetric(per(wall[0]), "base-ns/op")
				b.ReportMetric(per(wall[1]), "impl-ns/op")
				b.ReportMetric(float64(wall[1])/float64(wall[0]), "ratio")
				b.ReportMetric(float64(cpu[1])/float64(cpu[0]), "cpu-ratio")
			})
		}
	}
}
