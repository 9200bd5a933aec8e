package interop

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/postgres"
	"github.com/nextsession/nextsession/store/postgres/pgtest"
)

// Sizes of the many-instances test.
const (
	instances    = 4
	sweepExpired = 50_000 // expired rows the concurrent sweeps share
	sweepLive    = 5_000  // live rows they must leave
	sweepBatch   = 500
	countTTL     = time.Minute // CountCache; the test moves the clocks past it
)

// instance is one Go process's worth of nextsession: its own pool and
// its own Manager, on the shared database.
type instance struct {
	st *postgres.Store
	m  *session.Manager
}

// TestManyInstances runs several Managers with separate connection pools,
// as several processes would, beside the real Auth.js, on one Postgres
// database (pg-adapter's tables):
//
//   - a revocation made by any of them (Revoke, RevokeUser, Destroy, or
//     Auth.js's signout) is refused by every other at its next request;
//   - all of them sweeping at once delete every expired row exactly once
//     (their counts add up) and no live one, while validations go on; the
//     validation latency during the sweeps beside idle is logged;
//   - CountActive agrees across instances, and with CountCache each
//     answers the old or the new count until its TTL has passed, then the
//     new one.
func TestManyInstances(t *testing.T) {
	requireAuthjs(t)
	e := newEnv(t, "postgres")
	var schema string
	if err := e.db.Get(&schema, `SELECT current_schema()`); err != nil {
		t.Fatal(err)
	}
	var offset atomic.Int64 // added to every instance's clock
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	quiet := slog.New(slog.DiscardHandler)
	insts := make([]instance, instances)
	for i := range insts {
		st, err := postgres.Open(pgtest.WithSchema(pgtest.DSN(), schema), adapter.PgAdapter)
		if err != nil {
			t.Fatal(err)
		}
		st.DB().SetMaxOpenConns(4)
		cfg := v5
		cfg.Now, cfg.Logger, cfg.SweepBatch, cfg.CountCache = now, quiet, sweepBatch, countTTL
		insts[i] = instance{st: st, m: session.NewManager(st, cfg)}
		t.Cleanup(func() {
			insts[i].m.Close()
			st.Close()
		})
	}
	js := e.authjs()
	ctx := context.Background()

	// mustSee checks that every instance, and Auth.js after a
	// revocation (each of its calls starts Node), sees the session or not.
	mustSee := func(what, header string, want bool) {
		t.Helper()
		for i, in := range insts {
			if ok := goRead(t, in.m, httpURL, header).ok; ok != want {
				t.Errorf("%s: instance %d sees a session: %v, want %v", what, i, ok, want)
			}
		}
		if want {
			return
		}
		if js.session(t, header).session(t) != nil {
			t.Errorf("%s: Auth.js still sees the session", what)
		}
	}

	t.Run("revocation", func(t *testing.T) {
		in := js.signin(t, "ivy@example.com")
		uid := in.UserID
		header := func(c *http.Cookie) string { return c.Name + "=" + c.Value }
		for i, inst := range insts {
			// A session made by the instance after the one that revokes it.
			s, c := goCreate(t, insts[(i+1)%instances].m, httpURL, uid)
			mustSee(fmt.Sprintf("session %d before Revoke", i), header(c), true)
			if err := inst.m.Revoke(ctx, s.Token); err != nil {
				t.Fatal(err)
			}
			mustSee(fmt.Sprintf("session %d after Revoke on instance %d", i, i), header(c), false)

			_, c = goCreate(t, inst.m, httpURL, uid)
			mustSee(fmt.Sprintf("session %d before Destroy", i), header(c), true)
			r := httptest.NewRequest(http.MethodPost, httpURL+"/logout", nil)
			r.AddCookie(c)
			if err := insts[(i+2)%instances].m.Destroy(ctx, httptest.NewRecorder(), r); err != nil {
				t.Fatal(err)
			}
			mustSee(fmt.Sprintf("session %d after Destroy on instance %d", i, (i+2)%instances), header(c), false)
		}
		// Auth.js's sign-in, everyone sees it; RevokeUser on the last
		// instance takes it and a Go session of the same user.
		_, c := goCreate(t, insts[0].m, httpURL, uid)
		mustSee("Auth.js session before RevokeUser", in.cookieHeader(), true)
		if n, err := insts[instances-1].m.RevokeUser(ctx, uid); err != nil || n != 2 {
			t.Fatalf("RevokeUser = %d, %v; want 2", n, err)
		}
		mustSee("Auth.js session after RevokeUser", in.cookieHeader(), false)
		mustSee("Go session after RevokeUser", header(c), false)
		// Auth.js's signout of a Go session.
		_, c = goCreate(t, insts[1].m, httpURL, uid)
		mustSee("Go session before Auth.js signout", header(c), true)
		js.signout(t, header(c))
		mustSee("Go session after Auth.js signout", header(c), false)
	})

	t.Run("sweeps", func(t *testing.T) {
		if _, err := e.db.Exec(`TRUNCATE sessions`); err != nil {
			t.Fatal(err)
		}
		// The indexes a production table has: the docs' schema has none
		// on "sessionToken" (pg-adapter's own test schema makes it
		// UNIQUE), so each validation would scan the table; and
		// nextsession's on expires and userId.
		if _, err := e.db.Exec(`CREATE UNIQUE INDEX IF NOT EXISTS sessions_token_key ON sessions ("sessionToken")`); err != nil {
			t.Fatal(err)
		}
		if err := insts[0].st.CreateIndexes(ctx); err != nil {
			t.Fatal(err)
		}
		u := e.goUser(t, "sweep@example.com", "Sweep", "")
		// Expired rows in the past, live ones from a minute ahead; their
		// tokens say which is which.
		if _, err := e.db.Exec(`INSERT INTO sessions ("userId", expires, "sessionToken")
			SELECT $1::integer, now() - interval '1 hour' - g * interval '1 second', 'expired-' || g FROM generate_series(1, $2) g
			UNION ALL
			SELECT $1::integer, now() + interval '1 minute' + g * interval '1 second', 'live-' || g FROM generate_series(1, $3) g`,
			u.ID, sweepExpired, sweepLive); err != nil {
			t.Fatal(err)
		}
		e.db.Exec(`ANALYZE sessions`)
		// A session per instance to validate, and one from Auth.js.
		var headers []string
		for _, inst := range insts {
			_, c := goCreate(t, inst.m, httpURL, u.ID)
			headers = append(headers, c.Name+"="+c.Value)
		}

		// validate runs validations on every instance for d, or until
		// stop is closed, and returns their latencies.
		validate := func(d time.Duration, stop <-chan struct{}) []time.Duration {
			var mu sync.Mutex
			var all []time.Duration
			var wg sync.WaitGroup
			end := time.Now().Add(d)
			for i, inst := range insts {
				h := inst.m.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
				wg.Go(func() {
					var mine []time.Duration
				loop:
					for time.Now().Before(end) {
						select {
						case <-stop:
							break loop
						default:
						}
						r := httptest.NewRequest(http.MethodGet, httpURL+"/", nil)
						r.Header.Set("Cookie", headers[i])
						w := httptest.NewRecorder()
						start := time.Now()
						h.ServeHTTP(w, r)
						mine = append(mine, time.Since(start))
						if w.Code != http.StatusOK || len(w.Result().Cookies()) == 0 || w.Result().Cookies()[0].MaxAge < 0 {
							t.Errorf("instance %d: a live session failed validation during the sweeps: %d", i, w.Code)
							return
						}
					}
					mu.Lock()
					all = append(all, mine...)
					mu.Unlock()
				})
			}
			wg.Wait()
			return all
		}
		idle := validate(2*time.Second, nil) // idle before

		stop := make(chan struct{})
		var busy []time.Duration
		var validating sync.WaitGroup
		validating.Go(func() { busy = validate(time.Hour, stop) })
		var deleted atomic.Int64
		each := make([]int64, instances)
		var sweeping sync.WaitGroup
		start := time.Now()
		for i, inst := range insts {
			sweeping.Go(func() {
				n, err := inst.m.Sweep(ctx)
				deleted.Add(n)
				each[i] = n
				if err != nil {
					t.Errorf("instance %d: Sweep: %v", i, err)
				}
			})
		}
		sweeping.Wait()
		took := time.Since(start)
		close(stop)
		validating.Wait()
		idle = append(idle, validate(2*time.Second, nil)...) // and idle after

		if got := deleted.Load(); got != sweepExpired {
			t.Errorf("the sweeps deleted %d rows in all; %d had expired", got, sweepExpired)
		}
		var expiredLeft, liveLeft int
		e.db.Get(&expiredLeft, `SELECT count(*) FROM sessions WHERE "sessionToken" LIKE 'expired-%'`)
		e.db.Get(&liveLeft, `SELECT count(*) FROM sessions WHERE "sessionToken" LIKE 'live-%'`)
		if expiredLeft != 0 || liveLeft != sweepLive {
			t.Errorf("after the sweeps: %d expired and %d live rows; want 0 and %d", expiredLeft, liveLeft, sweepLive)
		}
		slices.Sort(idle)
		slices.Sort(busy)
		p := func(s []time.Duration, q float64) time.Duration {
			if len(s) == 0 {
				return 0
			}
			return s[int(q*float64(len(s)-1)+0.5)].Round(time.Microsecond)
		}
		t.Logf("%d instances sweeping %d expired rows at once (batches of %d; each deleted %v) took %v; validations on all %d: idle p50 %v p99 %v (%d), during the sweeps p50 %v p99 %v (%d); p99 ratio %.2f",
			instances, sweepExpired, sweepBatch, each, took.Round(time.Millisecond), instances,
			p(idle, 0.5), p(idle, 0.99), len(idle), p(busy, 0.5), p(busy, 0.99), len(busy),
			float64(p(busy, 0.99))/float64(max(p(idle, 0.99), 1)))
	})

	t.Run("count", func(t *testing.T) {
		counts := func() []int64 {
			var out []int64
			for i, inst := range insts {
				n, err := inst.m.CountActive(ctx)
				if err != nil {
					t.Fatalf("instance %d: %v", i, err)
				}
				out = append(out, n)
			}
			return out
		}
		// Sessions that outlive the clock moves below.
		if _, err := e.db.Exec(`DELETE FROM sessions WHERE expires < now() + interval '1 day'`); err != nil {
			t.Fatal(err)
		}
		u := e.goUser(t, "count@example.com", "Count", "")
		for _, inst := range insts {
			goCreate(t, inst.m, httpURL, u.ID)
		}
		offset.Add(int64(2 * countTTL)) // past any count cached before
		before := counts()
		if before[0] < instances {
			t.Fatalf("instance 0 counts %d sessions, at least %d exist", before[0], instances)
		}
		for i, n := range before {
			if n != before[0] {
				t.Fatalf("instance %d counts %d, instance 0 %d", i, n, before[0])
			}
		}
		// Auth.js signs in: within the TTL an instance answers the cached
		// count or the new one, never anything else; after it, the new.
		js.signin(t, "jay@example.com")
		for i, n := range counts() {
			if n != before[0] && n != before[0]+1 {
				t.Errorf("within CountCache, instance %d counts %d; want %d or %d", i, n, before[0], before[0]+1)
			}
		}
		offset.Add(int64(countTTL))
		for i, n := range counts() {
			if n != before[0]+1 {
				t.Errorf("after CountCache, instance %d counts %d; want %d", i, n, before[0]+1)
			}
		}
	})
}
