package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/session"
)

// cachedHandler is ours on a postgres.CachedStore, for as long as the
// benchmark runs.
func cachedHandler(tb testing.TB, f *Fixture, db *sqlx.DB) http.Handler {
	h, stop, err := Cached(context.Background(), f, db)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(stop)
	return h
}

// BenchmarkValidateCache compares, on Postgres, one validated request
// answered from the validation cache (every request after the first is a
// hit) with ours uncached, the prepared one-query floor and scs, as
// BenchmarkValidate serves them. Run with -count to interleave the passes.
func BenchmarkValidateCache(b *testing.B) {
	impls := []validateImpl{
		validateImpls[0], // floor
		{name: "ours", build: oursHandler(session.Config{}, false)},
		{name: "ours-cached", build: cachedHandler},
		validateImpls[len(validateImpls)-1], // scs
	}
	for _, impl := range impls {
		b.Run("db=postgres/impl="+impl.name, func(b *testing.B) {
			f := fixture(b, "postgres")
			r := request("/protected", CookieName, f.Token)
			if impl.scs {
				r = request("/protected", "session", f.SCSToken)
			}
			h := impl.build(b, f, f.X)
			serveOnce(b, h, r, http.StatusOK)
			b.ReportAllocs()
			c0 := CPUTime()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
			}
			reportCPU(b, c0)
			hc := impl.build(b, f, f.Counted)
			reportQueries(b, f.Count, 100, func() { serveOnce(b, hc, r, http.StatusOK) })
		})
	}
}
