package bench

import (
	"context"
	"net/http"
	"testing"

	"github.com/jmoiron/sqlx"
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
	var impls []validateImpl
	for _, name := range []string{"floor", "ours", "ours-cached", "scs"} {
		if name == "ours-cached" {
			impls = append(impls, validateImpl{name: name, build: cachedHandler})
		}
		for _, impl := range validateImpls {
			if impl.name == name {
				impls = append(impls, impl)
			}
		}
	}
	for _, impl := range impls {
		b.Run("db=postgres/impl="+impl.name, func(b *testing.B) { benchValidate(b, "postgres", impl) })
	}
}
