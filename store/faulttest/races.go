package faulttest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nextsession/nextsession/session"
)

// Sizes of the races: enough requests to overlap on two cores under
// -race, few enough to take a second or two on SQLite and Postgres.
const (
	Goroutines = 50
	Requests   = 20
)

// RacesConfig says how to get a store for RunRaces.
type RacesConfig struct {
	// New returns an adapter on empty tables.
	New func(t *testing.T) session.Adapter
}

// RunRaces runs, through a session.Manager and its middleware, the races a
// store must survive (run it under -race):
//
//   - Extend: Goroutines x Requests requests validate one session that is
//     due for update: every one is accepted, and the session is extended,
//     never lost.
//   - Revoke: the same load with a Revoke in the middle: once Revoke has
//     returned, no request that starts accepts the token, and no
//     concurrent extension brings the row back.
//   - RevokeMidRead: a revoke that lands between a request's lookup and
//     its extension: the request is refused and the row stays gone. A
//     request that needs no extension was served by its lookup: the
//     revoke takes effect from the next one.
//   - CreateSweep: Goroutines x Requests sign-ins while a sweeper deletes
//     expired rows in small batches: every live session survives, those
//     expiring exactly now included; every expired one goes. Sessions are
//     stored hashed here, and the rows hold SHA-256 hex of the cookies.
func RunRaces(t *testing.T, cfg RacesConfig) {
	t.Run("Extend", func(t *testing.T) { raceExtend(t, cfg.New(t)) })
	t.Run("Revoke", func(t *testing.T) { raceRevoke(t, cfg.New(t)) })
	t.Run("RevokeMidRead", func(t *testing.T) { raceRevokeMidRead(t, cfg.New(t)) })
	t.Run("CreateSweep", func(t *testing.T) { raceCreateSweep(t, cfg.New(t)) })
}

// t0 is the start of every race's clock.
var t0 = time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)

// clock is a settable, concurrency-safe clock.
type clock struct{ ns atomic.Int64 }

func newClock(t time.Time) *clock {
	c := &clock{}
	c.set(t)
	return c
}

func (c *clock) now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *clock) set(t time.Time)     { c.ns.Store(t.UnixNano()) }
func (c *clock) add(d time.Duration) { c.ns.Add(int64(d)) }

// counter counts the calls that write a session.
type counter struct {
	session.Adapter
	updates, deletes atomic.Int64
}

func (c *counter) UpdateSession(ctx context.Context, u session.SessionUpdate) error {
	c.updates.Add(1)
	return c.Adapter.UpdateSession(ctx, u)
}

func (c *counter) DeleteSession(ctx context.Context, token string) error {
	c.deletes.Add(1)
	return c.Adapter.DeleteSession(ctx, token)
}

// signIn creates a user and a session for it, returning the cookie.
func signIn(t *testing.T, m *session.Manager, a session.Adapter, email string) (*http.Cookie, session.Session) {
	t.Helper()
	u, err := a.CreateUser(t.Context(), session.User{Name: email, Email: email})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	s, err := m.Create(t.Context(), w, httptest.NewRequest("POST", "/login", nil), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	cs := w.Result().Cookies()
	if len(cs) != 1 {
		t.Fatalf("sign-in set %d cookies", len(cs))
	}
	return cs[0], s
}

// get sends one request with the cookie through h and returns the status.
func get(h http.Handler, c *http.Cookie) int {
	r := httptest.NewRequest("GET", "/", nil)
	r.AddCookie(c)
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	return w.Code
}

func ok(http.ResponseWriter, *http.Request) {}

// load runs Goroutines x Requests calls of fn, each with its goroutine and
// request number, and returns the first error.
func load(fn func(g, i int) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, Goroutines)
	for g := range Goroutines {
		wg.Go(func() {
			for i := range Requests {
				if err := fn(g, i); err != nil {
					errs <- fmt.Errorf("goroutine %d, request %d: %w", g, i, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	return <-errs
}

func raceExtend(t *testing.T, a session.Adapter) {
	clk := newClock(t0)
	ca := &counter{Adapter: a}
	m := session.NewManager(ca, session.Config{Now: clk.now})
	c, s := signIn(t, m, a, "extend@example.com")

	// A day and a bit later the session is due for update; the clock then
	// moves a millisecond per request.
	clk.add(session.DefaultUpdateAge + time.Minute)
	due := clk.now()
	h := m.RequireSession(http.HandlerFunc(ok))
	if err := load(func(int, int) error {
		clk.add(time.Millisecond)
		if code := get(h, c); code != http.StatusOK {
			return fmt.Errorf("status %d", code)
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	got, _, err := a.GetSessionAndUser(t.Context(), s.Token)
	if err != nil {
		t.Fatalf("the session is lost: %v", err)
	}
	lo, hi := due.Add(session.DefaultMaxAge), clk.now().Add(session.DefaultMaxAge)
	if got.Expires.Before(lo) || got.Expires.After(hi) {
		t.Errorf("expires %v, want between %v and %v", got.Expires, lo, hi)
	}
	if n := ca.updates.Load(); n < 1 || ca.deletes.Load() != 0 {
		t.Errorf("%d extensions and %d deletes, want at least 1 and 0", n, ca.deletes.Load())
	}
	t.Logf("%d requests, %d extensions", Goroutines*Requests, ca.updates.Load())
}

func raceRevoke(t *testing.T, a session.Adapter) {
	clk := newClock(t0)
	// Extending on every read makes each request write, racing the delete.
	m := session.NewManager(a, session.Config{Now: clk.now, UpdateAge: session.UpdateAlways})
	c, s := signIn(t, m, a, "revoke@example.com")
	h := m.RequireSession(http.HandlerFunc(ok))

	var started atomic.Int64
	var revoked atomic.Bool
	revokeDone := make(chan error, 1)
	var accepted, refused atomic.Int64
	err := load(func(g, i int) error {
		clk.add(time.Millisecond)
		if started.Add(1) == Goroutines*Requests/3 {
			go func() {
				err := m.Revoke(context.Background(), s.Token)
				revoked.Store(true)
				revokeDone <- err
			}()
		}
		after := revoked.Load()
		code := get(h, c)
		switch {
		case code == http.StatusOK && after:
			return errors.New("a request that started after Revoke returned was accepted")
		case code == http.StatusOK:
			accepted.Add(1)
		case code == http.StatusUnauthorized:
			refused.Add(1)
		default:
			return fmt.Errorf("status %d", code)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if err := <-revokeDone; err != nil {
		t.Fatal(err)
	}
	if _, _, err := a.GetSessionAndUser(t.Context(), s.Token); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("after the race the revoked row is back: %v", err)
	}
	if code := get(h, c); code != http.StatusUnauthorized {
		t.Errorf("revoked token: status %d", code)
	}
	t.Logf("%d accepted before the revoke took effect, %d refused", accepted.Load(), refused.Load())
}

// revokeAfterRead deletes a session right after GetSessionAndUser has
// read it, as a Revoke on another instance would between a request's
// lookup and its extension.
type revokeAfterRead struct {
	session.Adapter
	token string
}

func (r *revokeAfterRead) GetSessionAndUser(ctx context.Context, token string) (session.Session, session.User, error) {
	s, u, err := r.Adapter.GetSessionAndUser(ctx, token)
	if err == nil && token == r.token {
		if err := r.Adapter.DeleteSession(ctx, token); err != nil {
			return s, u, fmt.Errorf("revoking in between: %w", err)
		}
	}
	return s, u, err
}

func raceRevokeMidRead(t *testing.T, a session.Adapter) {
	clk := newClock(t0)
	for _, tc := range []struct {
		name      string
		updateAge time.Duration
		want      int
	}{
		{"due for extension", session.UpdateAlways, http.StatusUnauthorized},
		{"not due", 0, http.StatusOK},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := session.NewManager(a, session.Config{Now: clk.now, UpdateAge: tc.updateAge})
			c, s := signIn(t, m, a, "midread-"+strings.ReplaceAll(tc.name, " ", "-")+"@example.com")
			clk.add(time.Minute)
			h := session.NewManager(&revokeAfterRead{a, s.Token}, session.Config{Now: clk.now, UpdateAge: tc.updateAge}).
				RequireSession(http.HandlerFunc(ok))
			if code := get(h, c); code != tc.want {
				t.Errorf("revoked between lookup and extension: status %d, want %d", code, tc.want)
			}
			if _, _, err := a.GetSessionAndUser(t.Context(), s.Token); !errors.Is(err, session.ErrNotFound) {
				t.Errorf("the revoked row is back: %v", err)
			}
			if code := get(h, c); code != http.StatusUnauthorized {
				t.Errorf("the next request: status %d, want 401", code)
			}
		})
	}
}

func raceCreateSweep(t *testing.T, a session.Adapter) {
	ctx := t.Context()
	if nt, ok := a.(session.NextAuthTables); ok && nt.NextAuthTables() {
		func() {
			defer func() {
				if recover() == nil {
					t.Error("HashTokens without GoOnly on NextAuth's tables did not panic")
				}
			}()
			session.NewManager(a, session.Config{HashTokens: true})
		}()
	}
	const batch = 7
	cfg := session.Config{HashTokens: true, GoOnly: true, SweepBatch: batch}
	clk := newClock(t0)
	cfg.Now = clk.now
	m := session.NewManager(a, cfg)

	// Rows that expired a day ago, and rows that expire exactly at t0 and
	// so are still active then.
	const expired, edge = 150, 50
	for i := range expired + edge {
		clk.set(t0.Add(-session.DefaultMaxAge))
		if i < expired {
			clk.add(-24 * time.Hour)
		}
		signIn(t, m, a, fmt.Sprintf("old%d@example.com", i))
	}
	clk.set(t0)

	users := make([]string, 10)
	for i := range users {
		u, err := a.CreateUser(ctx, session.User{Email: fmt.Sprintf("new%d@example.com", i)})
		if err != nil {
			t.Fatal(err)
		}
		users[i] = u.ID
	}
	tokens := make([][]string, Goroutines)
	stop := make(chan struct{})
	var sweeps, swept atomic.Int64
	var sweeper sync.WaitGroup
	sweepErr := make(chan error, 1)
	sweeper.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			n, err := m.Sweep(ctx)
			if err != nil {
				sweepErr <- err
				return
			}
			sweeps.Add(1)
			swept.Add(n)
		}
	})
	err := load(func(g, i int) error {
		w := httptest.NewRecorder()
		if _, err := m.Create(ctx, w, httptest.NewRequest("POST", "/login", nil), users[(g+i)%len(users)]); err != nil {
			return err
		}
		tokens[g] = append(tokens[g], w.Result().Cookies()[0].Value)
		return nil
	})
	close(stop)
	sweeper.Wait()
	if err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-sweepErr:
		t.Fatalf("Sweep: %v", err)
	default:
	}
	n, err := m.Sweep(ctx)
	if err != nil {
		t.Fatal(err)
	}
	swept.Add(n)

	if swept.Load() != expired {
		t.Errorf("swept %d rows, want the %d expired ones", swept.Load(), expired)
	}
	created := Goroutines * Requests
	if got, err := m.CountActive(ctx); err != nil || got != int64(created+edge) {
		t.Errorf("CountActive = %d, %v; want %d created and %d expiring now", got, err, created, edge)
	}
	list, err := m.ListActive(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	stored := map[string]bool{}
	for _, su := range list {
		stored[su.Session.Token] = true
	}
	h := m.RequireSession(http.HandlerFunc(ok))
	for _, g := range tokens {
		for _, raw := range g {
			if !stored[session.HashToken(raw)] {
				t.Fatalf("no row holds sha256 of cookie %q", raw)
			}
			if stored[raw] {
				t.Fatalf("a row holds the raw cookie %q", raw)
			}
			if code := get(h, &http.Cookie{Name: m.CookieName(httptest.NewRequest("GET", "/", nil)), Value: raw}); code != http.StatusOK {
				t.Fatalf("a live session was lost: status %d", code)
			}
		}
	}
	t.Logf("%d sign-ins during %d sweeps; %d expired rows swept, none live", created, sweeps.Load(), swept.Load())
}
