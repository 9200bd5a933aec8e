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
	if err := st.InstallCacheTrigger(ctx, e.pgSchema); err != nil {
		t.Fatal(err)
	}
	e.store = e.cachedStore(t, st)
}

func (e *env) cachedStore(t *testing.T, st *postgres.Store) *postgres.CachedStore {
	t.Helper()
	cs, err := postgres.NewCache(context.Background(), st, postgres.CacheConfig{
		ListenDSN: pgtest.WithSchema(pgtest.DSN(), e.pgSchema),
		Channel:   e.pgSchema,
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
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
// figures go to BENCHMARKS.md; the test fails only when a validation that
// began later than the cache's bound after the revocation accepts the
// session, which the cache guarantees whatever the load.
func TestCachePropagation(t *testing.T) {
	requireAuthjs(t)
	e := newEnv(t, "postgres")
	e.cache(t)
	js := e.authjs()
	ctx := context.Background()
	var watchers []*session.Manager
	var caches []*postgres.CachedStore
	for range 3 {
		db, err := sqlx.Open("postgres", pgtest.WithSchema(pgtest.DSN(), e.pgSchema))
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
			lastAccepted := make([]time.Time, len(watchers)) // start of the last validation that accepted
			var wg sync.WaitGroup
			start := make(chan struct{})
			for i, m := range watchers {
				wg.Go(func() {
					<-start
					for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
						began := time.Now()
						_, err := m.Validate(ctx, cookie.Value)
						if errors.Is(err, session.ErrNoSession) {
							refused[i] = time.Now()
							return
						}
						if err == nil {
							lastAccepted[i] = began
						}
						time.Sleep(200 * time.Microsecond)
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
				if late := lastAccepted[i].Sub(t0); late > bound {
					t.Errorf("%s: instance %d accepted the session in a validation that began %v after the revocation, past the bound %v", writer, i, late, bound)
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

// TestCachePrismaTables runs the real Auth.js with @auth/prisma-adapter
// (Prisma 7) on the Prisma models of the Auth.js docs with the cache
// trigger installed, beside a cached Go instance: sign-in, sliding updates
// (every read, updateAge 0) and sign-out by Auth.js work as without the
// trigger, and each reaches Go's cache; Go's sign-in and revocation reach
// Auth.js.
func TestCachePrismaTables(t *testing.T) {
	requireAuthjs(t)
	t.Parallel()
	ctx := context.Background()
	e := newEnv(t, "postgres-prisma")
	e.cache(t)
	cs := e.store.(*postgres.CachedStore)
	m := e.manager(v5)
	js := e.authjs()

	// Auth.js signs in; Go accepts, the second time from its cache.
	in := js.signin(t, "prisma@example.com")
	for range 2 {
		if saw := goRead(t, m, httpURL, in.cookieHeader()); !saw.ok || saw.user.Email != "prisma@example.com" {
			t.Fatalf("Go's view of Auth.js's session: %+v", saw)
		}
	}
	if cs.Stats().Hits == 0 {
		t.Fatal("the second read was not a hit")
	}

	// Auth.js extends the session on every read; the trigger tells Go.
	before := goRead(t, m, httpURL, in.cookieHeader()).sess.Expires
	time.Sleep(5 * time.Millisecond)
	var res sessionResult
	js.run(t, "session", map[string]any{"cookieHeader": in.cookieHeader(), "updateAge": 0}, &res)
	if res.session(t) == nil || !called(res.Logs, "updateSession") {
		t.Fatalf("Auth.js did not extend its session: %s", res.Body)
	}
	if after := goRead(t, m, httpURL, in.cookieHeader()).sess.Expires; !after.After(before) {
		t.Errorf("Go's expires after Auth.js's extension: %v, before %v", after, before)
	}

	// Go signs in; Auth.js accepts, then signs out: Go's cache drops it.
	_, c := goCreate(t, m, httpURL, in.UserID)
	header := c.Name + "=" + c.Value
	if !goRead(t, m, httpURL, header).ok {
		t.Fatal("Go refuses its own session")
	}
	if body := js.session(t, header).session(t); body == nil || str(body.User.Email) != "prisma@example.com" {
		t.Fatalf("Auth.js's view of Go's session: %s", mustJSON(body))
	}
	out := js.signout(t, header)
	if !called(out.Logs, "deleteSession") {
		t.Fatal("Auth.js did not delete the session")
	}
	if goRead(t, m, httpURL, header).ok {
		t.Fatal("Go still accepts the session Auth.js signed out")
	}

	// Go revokes Auth.js's session; Auth.js has none.
	if err := m.Revoke(ctx, in.SessionToken); err != nil {
		t.Fatal(err)
	}
	if goRead(t, m, httpURL, in.cookieHeader()).ok {
		t.Error("Go accepts the session it revoked")
	}
	if body := js.session(t, in.cookieHeader()).session(t); body != nil {
		t.Errorf("Auth.js still sees %s after Go's Revoke", mustJSON(body))
	}
}
