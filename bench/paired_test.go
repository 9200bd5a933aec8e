package bench

import (
	"io"
	"net/http"
	"net/http/httptest"
	"runtime"
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
	{"ours-notimeout", "floor"},
	{"ours-json", "floor"},
	{"scs", "ours"},
}

// BenchmarkValidatePaired serves the requests of BenchmarkValidate
// through two implementations in turn, pairedBatch requests each, and
// reports each one's wall time per request and the ratios (impl ÷ base)
// of wall time, of the process's CPU time (cpu-ratio) and, into a
// recorder, of the benchmark thread's CPU time (thread-cpu-ratio: the
// goroutine is locked to its thread, and SQLite runs on it; time spent
// waiting for a core on a busy machine does not count, nor does the
// garbage collector's background marking, which cpu-ratio includes). Both sides see the same load on the machine within a few
// hundred microseconds, so the ratio holds still where two benchmarks run
// one after the other, seconds apart on a shared machine, do not. One op
// is one request of each side.
//
// via=recorder calls the handler into an httptest.ResponseRecorder;
// via=http sends real requests over loopback (httptest.NewServer, one
// keep-alive connection per side, one request at a time), where the
// client's and the server's HTTP work, both in this process, count in
// both times.
func BenchmarkValidatePaired(b *testing.B) {
	impls := map[string]validateImpl{}
	for _, v := range validateImpls {
		impls[v.name] = v
	}
	for _, dbn := range dbNames {
		for _, via := range []string{"recorder", "http"} {
			for _, p := range validatePairs {
				b.Run("db="+dbn+"/via="+via+"/vs="+p.base+"/impl="+p.impl, func(b *testing.B) {
					f := fixture(b, dbn)
					var serve [2]func()
					for i, name := range []string{p.base, p.impl} {
						v := impls[name]
						cookie, value := CookieName, f.Token
						if v.scs {
							cookie, value = "session", f.SCSToken
						}
						serve[i] = pairedServer(b, via, name, v.build(b, f, f.X), cookie, value)
						serve[i]()
					}
					var wall, cpu, thread [2]time.Duration
					runtime.LockOSThread()
					defer runtime.UnlockOSThread()
					b.ResetTimer()
					for done := 0; done < b.N; done += pairedBatch {
						n := min(pairedBatch, b.N-done)
						for side := range 2 {
							t0, c0, th0 := time.Now(), CPUTime(), ThreadCPUTime()
							for range n {
								serve[side]()
							}
							thread[side] += ThreadCPUTime() - th0
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
					if via == "recorder" {
						// Over HTTP the server's work is on other threads.
						b.ReportMetric(float64(thread[1])/float64(thread[0]), "thread-cpu-ratio")
					}
				})
			}
		}
	}
}

// pairedServer returns a function that serves one GET /protected with the
// cookie through h, into a recorder or over loopback HTTP, and fails the
// benchmark unless the answer is 200.
func pairedServer(b *testing.B, via, name string, h http.Handler, cookie, value string) func() {
	r := request("/protected", cookie, value)
	if via == "recorder" {
		return func() {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			if w.Code != http.StatusOK {
				b.Fatalf("%s: status %d", name, w.Code)
			}
		}
	}
	srv := httptest.NewServer(h)
	b.Cleanup(srv.Close)
	tr := &http.Transport{MaxIdleConnsPerHost: 1}
	b.Cleanup(tr.CloseIdleConnections)
	client := &http.Client{Transport: tr}
	req, err := http.NewRequest(http.MethodGet, srv.URL+"/protected", nil)
	if err != nil {
		b.Fatal(err)
	}
	req.AddCookie(&http.Cookie{Name: cookie, Value: value})
	return func() {
		resp, err := client.Do(req)
		if err != nil {
			b.Fatal(err)
		}
		_, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil || resp.StatusCode != http.StatusOK {
			b.Fatalf("%s: status %d, %v", name, resp.StatusCode, err)
		}
	}
}
