package adaptertest

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

// Sizes of the concurrency case: enough goroutines to overlap on two
// cores, few enough rows to stay fast under -race.
const (
	workers   = 8
	perWorker = 10
)

// concurrency has workers goroutines each create a user, then create,
// validate, extend and (every other one) delete sessions, and write an
// expired session now and then, while another goroutine counts, lists and
// sweeps. No call may fail, and afterwards exactly the sessions that
// should remain do.
func (s *suite) concurrency(t *testing.T, a session.Adapter) {
	ctx := t.Context()
	var errs errorList
	extended := s.now.Add(2 * time.Hour)

	users := make([]session.User, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			u, err := a.CreateUser(ctx, s.userFixture())
			if err != nil {
				errs.add("worker %d: CreateUser: %v", w, err)
				return
			}
			users[w] = u
			for i := range perWorker {
				if err := s.sessionRound(ctx, a, u, i, extended); err != nil {
					errs.add("worker %d, session %d: %v", w, i, err)
				}
			}
		})
	}

	stop := make(chan struct{})
	var sweeper sync.WaitGroup
	sweeper.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := a.CountActive(ctx, "", s.now); err != nil {
				errs.add("CountActive during the run: %v", err)
			}
			if _, err := a.ListSessions(ctx, session.ListQuery{Now: s.now, Limit: 5}); err != nil {
				errs.add("ListSessions during the run: %v", err)
			}
			if _, err := a.DeleteExpired(ctx, s.now, 2); err != nil {
				errs.add("DeleteExpired during the run: %v", err)
			}
		}
	})
	wg.Wait()
	close(stop)
	sweeper.Wait()
	errs.report(t)
	if t.Failed() {
		return
	}

	// Sweep what the sweeper left; then only the kept sessions remain.
	for {
		n, err := a.DeleteExpired(ctx, s.now, 100)
		if err != nil {
			t.Fatalf("DeleteExpired after the run: %v", err)
		}
		if n == 0 {
			break
		}
	}
	kept := int64(perWorker - perWorker/2)
	if n := rows(t, a, ""); n != workers*kept {
		t.Errorf("%d sessions stored after the run, want %d", n, workers*kept)
	}
	if n := count(t, a, "", s.now); n != workers*kept {
		t.Errorf("CountActive(now) after the run = %d, want %d", n, workers*kept)
	}
	for _, u := range users {
		if n := count(t, a, u.ID, s.now); n != kept {
			t.Errorf("CountActive(user %s) after the run = %d, want %d", u.ID, n, kept)
		}
	}
	list, err := a.ListSessions(ctx, session.ListQuery{Now: s.now})
	if err != nil {
		t.Fatalf("ListSessions after the run: %v", err)
	}
	if len(list) != int(workers*kept) {
		t.Errorf("ListSessions after the run: %d sessions, want %d", len(list), workers*kept)
	}
	for _, su := range list {
		if !su.Session.Expires.Equal(extended) {
			t.Errorf("session %s… expires %s after the run, want %s", su.Session.Token[:8], fmtTime(su.Session.Expires), fmtTime(extended))
			break
		}
	}
}

// sessionRound is one worker's turn: create a session, read it, extend it,
// read it again, and delete it when i is odd. Every third turn also writes
// an expired session for the sweeper.
func (s *suite) sessionRound(ctx context.Context, a session.Adapter, u session.User, i int, extended time.Time) error {
	se := s.sessionFixture(u.ID, s.now.Add(time.Hour+time.Duration(i)*time.Millisecond))
	if _, err := a.CreateSession(ctx, se); err != nil {
		return fmt.Errorf("CreateSession: %w", err)
	}
	got, gotU, err := a.GetSessionAndUser(ctx, se.Token)
	if err != nil {
		return fmt.Errorf("GetSessionAndUser after CreateSession: %w", err)
	}
	if got.Token != se.Token || gotU.ID != u.ID || !got.Expires.Equal(se.Expires) {
		return fmt.Errorf("GetSessionAndUser(%s…) = token %s…, user %q, expires %s; want user %q, expires %s",
			se.Token[:8], got.Token[:min(8, len(got.Token))], gotU.ID, fmtTime(got.Expires), u.ID, fmtTime(se.Expires))
	}
	if err := a.UpdateSession(ctx, session.SessionUpdate{Token: se.Token, Expires: extended}); err != nil {
		return fmt.Errorf("UpdateSession: %w", err)
	}
	got, _, err = a.GetSessionAndUser(ctx, se.Token)
	if err != nil {
		return fmt.Errorf("GetSessionAndUser after UpdateSession: %w", err)
	}
	if !got.Expires.Equal(extended) {
		return fmt.Errorf("expires after UpdateSession = %s, want %s", fmtTime(got.Expires), fmtTime(extended))
	}
	if i%3 == 0 {
		old := s.sessionFixture(u.ID, s.now.Add(-time.Duration(i+1)*time.Minute))
		if _, err := a.CreateSession(ctx, old); err != nil {
			return fmt.Errorf("CreateSession (expired): %w", err)
		}
	}
	if i%2 == 1 {
		if err := a.DeleteSession(ctx, se.Token); err != nil {
			return fmt.Errorf("DeleteSession: %w", err)
		}
		if _, _, err := a.GetSessionAndUser(ctx, se.Token); !errors.Is(err, session.ErrNotFound) {
			return fmt.Errorf("GetSessionAndUser after DeleteSession: %v, want session.ErrNotFound", err)
		}
	}
	return nil
}

// errorList gathers errors from many goroutines, to report the first few.
type errorList struct {
	mu   sync.Mutex
	errs []string
}

func (l *errorList) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, fmt.Sprintf(format, args...))
}

func (l *errorList) report(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	const most = 10
	for i, e := range l.errs {
		if i == most {
			t.Errorf("... and %d more errors", len(l.errs)-most)
			break
		}
		t.Error(e)
	}
}

// Sizes of the races: enough requests to overlap on two cores under
// -race, few enough to take a second or two on SQLite and Postgres.
const (
	raceGoroutines = 50
	raceRequests   = 20
)

// races runs, through a session.Manager and its middleware, the races a
// store must survive (run it under -race), each on a fresh adapter:
//
//   - Extend: raceGoroutines x raceRequests requests validate one session that is
//     due for update: every one is accepted, and the session is extended,
//     never lost.
//   - Revoke: the same load with a Revoke in the middle: once Revoke has
//     returned, no request that starts accepts the token, and no
//     concurrent extension brings the row back.
//   - RevokeMidRead: a revoke that lands between a request's lookup and
//     its extension: the request is refused and the row stays gone. A
//     request that needs no extension was served by its lookup: the
//     revoke takes effect from the next one.
//   - CreateSweep: raceGoroutines x raceRequests sign-ins while a sweeper deletes
//     expired rows in small batches: every live session survives, those
//     expiring exactly now included; every expired one goes. Sessions are
//     stored hashed here, and the rows hold SHA-256 hex of the cookies.
func (s *suite) races(t *testing.T) {
	s.test(t, "Extend", raceExtend)
	s.test(t, "Revoke", raceRevoke)
	s.test(t, "RevokeMidRead", raceRevokeMidRead)
	s.test(t, "CreateSweep", raceCreateSweep)
}

// raceStart is the start of every race's clock.
var raceStart = time.Date(2026, 2, 3, 4, 5, 6, 0, time.UTC)

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

// load runs raceGoroutines x raceRequests calls of fn, each with its goroutine and
// request number, and returns the first error.
func load(fn func(g, i int) error) error {
	var wg sync.WaitGroup
	errs := make(chan error, raceGoroutines)
	for g := range raceGoroutines {
		wg.Go(func() {
			for i := range raceRequests {
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
	clk := newClock(raceStart)
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
	t.Logf("%d requests, %d extensions", raceGoroutines*raceRequests, ca.updates.Load())
}

func raceRevoke(t *testing.T, a session.Adapter) {
	clk := newClock(raceStart)
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
		if started.Add(1) == raceGoroutines*raceRequests/3 {
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
	clk := newClock(raceStart)
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
	clk := newClock(raceStart)
	cfg.Now = clk.now
	m := session.NewManager(a, cfg)

	// Rows that expired a day ago, and rows that expire exactly at raceStart and
	// so are still active then.
	const expired, edge = 150, 50
	for i := range expired + edge {
		clk.set(raceStart.Add(-session.DefaultMaxAge))
		if i < expired {
			clk.add(-24 * time.Hour)
		}
		signIn(t, m, a, fmt.Sprintf("old%d@example.com", i))
	}
	clk.set(raceStart)

	users := make([]string, 10)
	for i := range users {
		u, err := a.CreateUser(ctx, session.User{Email: fmt.Sprintf("new%d@example.com", i)})
		if err != nil {
			t.Fatal(err)
		}
		users[i] = u.ID
	}
	tokens := make([][]string, raceGoroutines)
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
	created := raceGoroutines * raceRequests
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
