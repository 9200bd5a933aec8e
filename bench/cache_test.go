package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/postgres"
	"github.com/nextsession/nextsession/store/postgres/pgtest"
)

// cachedHandler is ours on a postgres.CachedStore: the trigger is
// installed on the fixture for as long as the benchmark runs.
func cachedHandler(tb testing.TB, f *Fixture, db *sqlx.DB) http.Handler {
	ctx := context.Background()
	st := postgres.New(db, adapter.Prisma)
	tb.Cleanup(func() { st.Close() })
	if err := st.InstallCacheTrigger(ctx, f.Schema); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.RemoveCacheTrigger(ctx) })
	cs, err := postgres.NewCache(ctx, st, postgres.CacheConfig{
		ListenDSN: pgtest.WithSchema(pgtest.DSN(), f.Schema),
		Channel:   f.Schema,
	})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { cs.Close() })
	for deadline := time.Now().Add(5 * time.Second); !cs.Live(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			tb.Fatal("the cache did not become live")
		}
	}
	return session.NewManager(cs, session.Config{}).Middleware(ReadUser)
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
