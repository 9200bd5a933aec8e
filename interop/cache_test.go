package interop

import (
	"context"
	"errors"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/postgres"
	"github.com/nextsession/nextsession/store/postgres/pgtest"
)

// cache installs the validation cache's trigger on e's Postgres tables and
// puts the Go side on a postgres.CachedStore, so that every interop test
// runs with Auth.js writing to tables that notify.
func (e *env) cache(t *testing.T) {
	t.Helper()
	st, ok := e.store.(*postgres.Store)
	if !ok {
		t.Fatalf("the cache needs a Postgres store, have %T", e.store)
	}
	ctx := context.Background()
	if err := st.InstallCacheTrigger(ctx, e.schema); err != nil {
		t.Fatal(err)
	}
	e.store = e.cachedStore(t, st)
}

func (e *env) cachedStore(t *testing.T, st *postgres.Store) *postgres.CachedStore {
	t.Helper()
	cs, err := postgres.NewCache(context.Background(), st, postgres.CacheConfig{
		ListenDSN: pgtest.WithSchema(pgtest.DSN(), e.schema),
		Channel:   e.schema,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	for deadline := time.Now().Add(5 * time.Second); !cs.Live(); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the cache did not become live")
		}
	}
	return cs
}

// syncCache waits, when m's store is cached, until every change committed
// so far (by Auth.js or SQL) has reached the cache: the interop tests check
// what each side sees once a write has propagated; how long that takes is
// TestCachePropagation's.
func syncCache(t *testing.T, m *session.Manager) {
	t.Helper()
	if cs, ok := m.Store().(*postgres.CachedStore); ok {
		if err := cs.Sync(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
}

// Samples of TestCachePropagation per writer.
const (
	propagationGo     = 100
	propagationSQL    = 100
	propagationAuthjs = 20
)

// TestCachePropagation measures how long a revocation takes to be refused
// by each of three Go instances whose caches hold the session, when the
// revocation is made by another Go instance, by the real Auth.js
// (sign-out) and by a plain SQL DELETE, on pg-adapter's tables. The
// figures go to BENCHMARKS.md; the test fails only when a refusal comes
// later than the cache's bound, which the cache guarantees whatever the
// load.
func TestCachePropagation(t *testing.T) {
	requireAuthjs(t)
	e := newEnv(t, "postgres")
	e.cache(t)
	js := e.authjs()
	ctx := context.Background()
	var watchers []*session.Manager
	var caches []*postgres.CachedStore
	for range 3 {
		db, err := sqlx.Open("postgres", pgtest.WithSchema(pgtest.DSN(), e.schema))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		st := postgres.New(db, adapter.PgAdapter)
		cs := e.cachedStore(t, st)
		caches = append(caches, cs)
		watchers = append(watchers, session.NewManager(cs, v5))
	}
	revoker := e.manager(v5) // the fourth instance, on e.store
	u := e.goUser(t, "propagation@example.com", "", "")
	bound := postgres.DefaultCacheBound

	measure := func(writer string, n int) []time.Duration {
		var all []time.Duration
		for range n {
			w := httptest.NewRecorder()
			s, err := revoker.Create(ctx, w, httptest.NewRequest("POST", "/login", nil), u.ID)
			if err != nil {
				t.Fatal(err)
			}
			cookie := w.Result().Cookies()[0]
			for _, m := range watchers {
				for range 2 {
					if _, err := m.Validate(ctx, cookie.Value); err != nil {
						t.Fatal("a fresh session is refused:", err)
					}
				}
			}
			// Each watcher polls until it refuses the session.
			refused := make([]time.Time, len(watchers))
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, m := range watchers {
				wg.Go(func() {
					<-start
					for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
						_, err := m.Validate(ctx, cookie.Value)
						if errors.Is(err, session.ErrNoSession) {
							refused[i] = time.Now()
							return
						}
						time.Sleep(50 * time.Microsecond)
					}
				})
			}
			close(start)
			var t0 time.Time
			switch writer {
			case "go":
				t0 = time.Now()
				err = revoker.Revoke(ctx, s.Token)
			case "sql":
				t0 = time.Now()
				_, err = e.db.Exec(`DELETE FROM sessions WHERE "sessionToken" = $1`, s.Token)
			case "authjs":
				// Node starts in about half a second: t0 is when a poll of
				// the table first finds the row gone (at most a poll after
				// the commit, so the figure may be low by that much).
				found := make(chan time.Time, 1)
				go func() {
					for {
						var c int
						if err := e.db.Get(&c, `SELECT count(*) FROM sessions WHERE "sessionToken" = $1`, s.Token); err == nil && c == 0 {
							found <- time.Now()
							return
						}
						time.Sleep(100 * time.Microsecond)
					}
				}()
				js.signout(t, v5Name+"="+cookie.Value)
				t0 = <-found
			}
			if err != nil {
				t.Fatal(err)
			}
			wg.Wait()
			for i, at := range refused {
				if at.IsZero() {
					t.Fatalf("%s: instance %d still accepts the revoked session after 10 s", writer, i)
				}
				d := max(at.Sub(t0), 0)
				if d > bound+50*time.Millisecond {
					t.Errorf("%s: instance %d refused the session %v after the revocation, past the bound %v", writer, i, d, bound)
				}
				all = append(all, d)
			}
		}
		return all
	}
	for _, w := range []struct {
		name string
		n    int
	}{{"go", propagationGo}, {"sql", propagationSQL}, {"authjs", propagationAuthjs}} {
		d := measure(w.name, w.n)
		slices.Sort(d)
		q := func(p float64) time.Duration { return d[min(len(d)-1, int(p*float64(len(d))))] }
		t.Logf("revoked by %-6s: %3d refusals on 3 instances: p50 %v, p99 %v, max %v", w.name, len(d), q(0.5), q(0.99), d[len(d)-1])
	}
	var hits int64
	for _, cs := range caches {
		hits += cs.Stats().Hits
	}
	if hits == 0 {
		t.Error("no validation was answered from the cache")
	}
}
