package session_test

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/faulttest"
)

// TestOutageLogged: the default ErrorFunc answers 503 and leaves one log
// line with the method, the path and the error, and never the cookie, the
// token or the query string, whatever the client puts in the path.
func TestOutageLogged(t *testing.T) {
	var logs faulttest.Log
	e := newEnv(t, session.Config{Logger: logs.Logger()})
	c := e.login(e.user.ID)
	e.a.fail("GetSessionAndUser", errors.New("dial tcp 10.0.0.5:5432: connection refused"))
	for _, path := range []string{
		"/account/settings?secret=query-" + c.Value,
		"/a%0Atime=forged%20level=INFO%20msg=fine", // a newline in the path
		"/" + c.Value, // the token in the path
	} {
		before := len(logs.Lines("cannot read the session"))
		_, w := e.serve(request("http://example.com"+path, c))
		if w.Code != http.StatusServiceUnavailable {
			t.Fatalf("%s: status %d, want 503", path, w.Code)
		}
		got := logs.Lines("cannot read the session")
		if len(got) != before+1 {
			t.Fatalf("%s: %d log lines for one outage, want 1:\n%s", path, len(got)-before, logs.String())
		}
		line := got[len(got)-1]
		for _, want := range []string{"level=ERROR", "method=GET", "connection refused"} {
			if !strings.Contains(line, want) {
				t.Errorf("log line %q lacks %q", line, want)
			}
		}
	}
	out := logs.String()
	if strings.Contains(out, "query-") {
		t.Errorf("the log holds the query string:\n%s", out)
	}
	for _, line := range strings.Split(strings.TrimSuffix(out, "\n"), "\n") {
		if !strings.HasPrefix(line, "time=") || !strings.Contains(line, "level=ERROR") {
			t.Errorf("a forged or stray log line: %q", line)
		}
	}
	if !strings.Contains(out, "path=/account/settings ") {
		t.Errorf("the log lacks the path:\n%s", out)
	}
	// The token appears only where the client put it in the path: the
	// cookie itself is never logged.
	if n := strings.Count(out, c.Value); n != 1 {
		t.Errorf("the token appears %d times in the log, want once (the path that held it):\n%s", n, out)
	}
}

// blockingStore is a store whose session read waits until release is
// closed: ignoring its context, as a driver stuck on a database that never
// answers; or, when bound, until its context ends, as a ContextBound store
// (whose calls the Manager runs in the request's goroutine).
type blockingStore struct {
	*spy
	release chan struct{}
	bound   bool
}

func (b *blockingStore) BoundByContext() bool { return b.bound }

func (b *blockingStore) GetSessionAndUser(ctx context.Context, token string) (session.Session, session.User, error) {
	if b.bound {
		select {
		case <-ctx.Done():
			return session.Session{}, session.User{}, ctx.Err()
		case <-b.release:
		}
	}
	<-b.release
	return b.spy.GetSessionAndUser(ctx, token)
}

// TestTimeoutBoundsRequests: a store that never returns costs a request
// Config.Timeout, or the request's own earlier deadline, then ErrorFunc;
// once the store answers again, so does the middleware.
func TestTimeoutBoundsRequests(t *testing.T) {
	e := newEnv(t, session.Config{})
	c := e.login(e.user.ID)
	b := &blockingStore{spy: e.a, release: make(chan struct{})}
	bound := &blockingStore{spy: e.a, release: b.release, bound: true}
	var hookErr error
	for _, tc := range []struct {
		name     string
		store    *blockingStore
		timeout  time.Duration
		deadline time.Duration // the request's own; 0: none
	}{
		{"Config.Timeout", b, 50 * time.Millisecond, 0},
		{"request deadline", b, time.Hour, 50 * time.Millisecond},
		{"ContextBound store", bound, 50 * time.Millisecond, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := session.NewManager(tc.store, session.Config{
				Now:     e.clock.Now,
				Timeout: tc.timeout,
				Logger:  slog.New(slog.DiscardHandler),
				ErrorFunc: func(w http.ResponseWriter, r *http.Request, err error) {
					hookErr = err
					w.WriteHeader(http.StatusServiceUnavailable)
				},
			})
			r := request("http://example.com/", c)
			if tc.deadline > 0 {
				ctx, cancel := context.WithTimeout(r.Context(), tc.deadline)
				defer cancel()
				r = r.WithContext(ctx)
			}
			w := httptest.NewRecorder()
			done := make(chan struct{})
			go func() {
				m.RequireSession(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(w, r)
				close(done)
			}()
			select {
			case <-done:
			case <-time.After(20 * time.Second):
				t.Fatal("the request hangs on a store that never answers")
			}
			if w.Code != http.StatusServiceUnavailable || !errors.Is(hookErr, context.DeadlineExceeded) {
				t.Errorf("status %d, ErrorFunc got %v; want 503 and a deadline error", w.Code, hookErr)
			}
		})
	}
	close(b.release)
	m := session.NewManager(b, session.Config{Now: e.clock.Now, Timeout: time.Second})
	if _, err := m.Validate(context.Background(), c.Value); err != nil {
		t.Errorf("after the store answers again: %v", err)
	}
}

// recorder records every event.
type recorder struct {
	mu     sync.Mutex
	events map[string][]session.Event
	sweeps []session.SweepEvent
}

func (rec *recorder) hook(kind string) func(context.Context, session.Event) {
	return func(_ context.Context, e session.Event) {
		rec.mu.Lock()
		defer rec.mu.Unlock()
		rec.events[kind] = append(rec.events[kind], e)
	}
}

func (rec *recorder) get(kind string) []session.Event {
	rec.mu.Lock()
	defer rec.mu.Unlock()
	return append([]session.Event(nil), rec.events[kind]...)
}

func (rec *recorder) allEvents() session.Events {
	return session.Events{
		SignIn:  rec.hook("signin"),
		SignOut: rec.hook("signout"),
		Revoke:  rec.hook("revoke"),
		Expire:  rec.hook("expire"),
		Sweep: func(_ context.Context, e session.SweepEvent) {
			rec.mu.Lock()
			defer rec.mu.Unlock()
			rec.sweeps = append(rec.sweeps, e)
		},
	}
}

// TestEventsAndLog: sign-in, sign-out, revocation, expiry and sweeps each
// reach their hook once, naming the session by its handle, never its
// token; a revocation and a sweep each leave one log line.
func TestEventsAndLog(t *testing.T) {
	var logs faulttest.Log
	rec := &recorder{events: map[string][]session.Event{}}
	e := newEnv(t, session.Config{Logger: logs.Logger(), Events: rec.allEvents()})
	ctx := context.Background()
	var tokens []string
	check := func(kind string, want ...session.Event) {
		t.Helper()
		got := rec.get(kind)
		if len(got) != len(want) {
			t.Fatalf("%s: %d events %+v, want %d", kind, len(got), got, len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Errorf("%s event %d = %+v, want %+v", kind, i, got[i], want[i])
			}
		}
	}
	handleOf := func(token string) string { return session.Session{Token: token}.Handle() }

	a := e.login(e.user.ID)
	b := e.login(e.user.ID)
	other := e.newUser("Grace Hopper", "grace@example.com")
	g := e.login(other.ID)
	tokens = append(tokens, a.Value, b.Value, g.Value)
	check("signin",
		session.Event{UserID: e.user.ID, Handle: handleOf(a.Value), Count: 1},
		session.Event{UserID: e.user.ID, Handle: handleOf(b.Value), Count: 1},
		session.Event{UserID: other.ID, Handle: handleOf(g.Value), Count: 1})

	w := httptest.NewRecorder()
	if err := e.m.Destroy(ctx, w, request("http://example.com/logout", a)); err != nil {
		t.Fatal(err)
	}
	check("signout", session.Event{Handle: handleOf(a.Value), Count: 1})

	if err := e.m.Revoke(ctx, b.Value); err != nil {
		t.Fatal(err)
	}
	check("revoke", session.Event{Handle: handleOf(b.Value), Count: 1})
	if n := len(logs.Lines("session: revoked")); n != 1 {
		t.Errorf("%d log lines for one revocation:\n%s", n, logs.String())
	}
	c := e.login(other.ID)
	tokens = append(tokens, c.Value)
	if n, err := e.m.RevokeUser(ctx, other.ID); err != nil || n != 2 {
		t.Fatalf("RevokeUser = %d, %v", n, err)
	}
	check("revoke", session.Event{Handle: handleOf(b.Value), Count: 1}, session.Event{UserID: other.ID, Count: 2})
	if got := logs.Lines("session: revoked"); len(got) != 2 || !strings.Contains(got[1], "sessions=2") || !strings.Contains(got[1], "user="+other.ID) {
		t.Errorf("log lines of the revocations: %q", got)
	}

	// A session read after its expiry is deleted: Expire.
	d := e.login(e.user.ID)
	tokens = append(tokens, d.Value)
	e.clock.Set(t0.Add(maxAge + time.Minute))
	if _, err := e.m.Validate(ctx, d.Value); !errors.Is(err, session.ErrNoSession) {
		t.Fatalf("Validate of an expired session: %v", err)
	}
	check("expire", session.Event{UserID: e.user.ID, Handle: handleOf(d.Value), Count: 1})

	// A sweeper on the same store deletes an expired row: one Sweep event
	// and one log line with the count.
	expired := e.insert(e.user.ID, t0.Add(maxAge))
	tokens = append(tokens, expired)
	m := session.NewManager(e.a, session.Config{Now: e.clock.Now, Logger: logs.Logger(), Events: rec.allEvents(), SweepInterval: 5 * time.Millisecond})
	deadline := time.Now().Add(10 * time.Second)
	for {
		rec.mu.Lock()
		var deleted int64
		for _, s := range rec.sweeps {
			deleted += s.Deleted
		}
		rec.mu.Unlock()
		if deleted > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("no sweep event")
		}
		time.Sleep(5 * time.Millisecond)
	}
	m.Close()
	var swept []string
	for _, l := range logs.Lines("swept expired sessions") {
		if strings.Contains(l, "level=INFO") {
			swept = append(swept, l)
		}
	}
	if len(swept) != 1 || !strings.Contains(swept[0], "deleted=1 ") || !strings.Contains(swept[0], "took=") {
		t.Errorf("log lines of the sweep that deleted a row: %q", swept)
	}

	out := logs.String()
	for _, tok := range tokens {
		if strings.Contains(out, tok) {
			t.Errorf("the log holds a token:\n%s", out)
		}
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	for kind, list := range rec.events {
		for _, ev := range list {
			for _, tok := range tokens {
				if ev.Handle == tok || ev.UserID == tok {
					t.Errorf("%s event %+v carries a token", kind, ev)
				}
			}
		}
	}
}

// deadlineStore records whether the context of each session read had a
// deadline.
type deadlineStore struct {
	*spy
	mu        sync.Mutex
	deadlines []bool
}

// selfBoundedStore is a deadlineStore that says its calls on one session
// are self-bounded, and whether its calls end with their context.
type selfBoundedStore struct {
	*deadlineStore
	bound bool
}

func (s *selfBoundedStore) BoundByContext() bool { return s.bound }

func (s *selfBoundedStore) SessionCallsSelfBounded() (session.Store, bool) { return s, true }

func (d *deadlineStore) GetSessionAndUser(ctx context.Context, token string) (session.Session, session.User, error) {
	_, ok := ctx.Deadline()
	d.mu.Lock()
	d.deadlines = append(d.deadlines, ok)
	d.mu.Unlock()
	return d.spy.GetSessionAndUser(ctx, token)
}

// TestNoTimeout: by default a store call gets a deadline; with NoTimeout,
// or on a ContextBound store whose calls on one session are self-bounded
// (SelfBounded), it gets the caller's context as it is, and validation
// works. A wrapper that embeds a self-bounded store (as spy embeds the
// memory store) does not inherit that, nor does a store that is not
// ContextBound. Other negative timeouts are a setup mistake.
func TestNoTimeout(t *testing.T) {
	e := newEnv(t, session.Config{})
	c := e.login(e.user.ID)
	for _, tc := range []struct {
		name     string
		timeout  time.Duration
		store    func(*deadlineStore) session.Store
		deadline bool
	}{
		{"default", 0, func(d *deadlineStore) session.Store { return d }, true},
		{"NoTimeout", session.NoTimeout, func(d *deadlineStore) session.Store { return d }, false},
		{"self-bounded", 0, func(d *deadlineStore) session.Store { return &selfBoundedStore{d, true} }, false},
		{"self-bounded, 1 min", time.Minute, func(d *deadlineStore) session.Store { return &selfBoundedStore{d, true} }, false},
		{"self-bounded, not ContextBound", 0, func(d *deadlineStore) session.Store { return &selfBoundedStore{d, false} }, true},
	} {
		d := &deadlineStore{spy: e.a}
		m := session.NewManager(tc.store(d), session.Config{Now: e.clock.Now, Timeout: tc.timeout, SweepInterval: time.Millisecond})
		if _, err := m.Validate(context.Background(), c.Value); err != nil {
			t.Errorf("%s: Validate: %v", tc.name, err)
		}
		if err := m.Close(); err != nil {
			t.Errorf("%s: Close: %v", tc.name, err)
		}
		d.mu.Lock()
		if len(d.deadlines) != 1 || d.deadlines[0] != tc.deadline {
			t.Errorf("%s: deadlines of the store's context = %v, want [%v]", tc.name, d.deadlines, tc.deadline)
		}
		d.mu.Unlock()
	}
	defer func() {
		if recover() == nil {
			t.Error("NewManager accepted Timeout -2s")
		}
	}()
	session.NewManager(e.a, session.Config{Timeout: -2 * time.Second})
}
