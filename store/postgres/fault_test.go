package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/faulttest"
	"github.com/nextsession/nextsession/store/postgres"
	"github.com/nextsession/nextsession/store/postgres/pgtest"
)

// throughProxy returns dsn with its server replaced by a fault proxy to
// that server.
func throughProxy(t *testing.T, dsn string) (string, *faulttest.Proxy) {
	t.Helper()
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		host := u.Host
		if u.Port() == "" {
			host = net.JoinHostPort(u.Hostname(), "5432")
		}
		p := faulttest.NewProxy(t, host)
		u.Host = p.Addr()
		return u.String(), p
	}
	// key=value form: later keys win in lib/pq.
	host, port := "localhost", "5432"
	for _, kv := range strings.Fields(dsn) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			switch k {
			case "host":
				host = v
			case "port":
				port = v
			}
		}
	}
	p := faulttest.NewProxy(t, net.JoinHostPort(host, port))
	h, pt, _ := net.SplitHostPort(p.Addr())
	return dsn + " host=" + h + " port=" + pt, p
}

// Sizes of the fault test.
const (
	faultSessions = 20
	faultCuts     = 5  // clean cuts, each with a volley of requests
	faultVolley   = 40 // requests while cut
	flapFor       = time.Second
)

// TestDatabaseFaults puts a TCP proxy between the store and Postgres and
// cuts it: while cut, every request with a session is answered by
// ErrorFunc (503), never 401, and its cookie is kept; sign-in, sign-out,
// counting and listing fail with an error, never a wrong answer; once the
// proxy is back the very next request succeeds, with no restart. Then the
// proxy flaps under load: every answer is 200 or 503. No session row is
// lost or altered, and the sweeper, failing during the cuts, resumes.
func TestDatabaseFaults(t *testing.T) {
	for _, f := range []adapter.Flavour{adapter.Prisma, adapter.PgAdapter} {
		t.Run(f.Name, func(t *testing.T) { databaseFaults(t, f) })
	}
}

func databaseFaults(t *testing.T, f adapter.Flavour) {
	schema := "nextsession_fault_" + strings.ReplaceAll(f.Name, "-", "_")
	direct := openTables(t, schema, f)
	ctx := context.Background()
	dsn, proxy := throughProxy(t, pgtest.DSN())
	db, err := sqlx.Open("postgres", pgtest.WithSchema(dsn, schema))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(8)
	t.Cleanup(func() { db.Close() })
	st := postgres.New(db, f)
	t.Cleanup(func() { st.Close() })

	now := time.Date(2026, 7, 8, 9, 10, 11, 0, time.UTC)
	var clock atomic.Int64
	clock.Store(now.Add(-session.DefaultMaxAge - time.Hour).UnixNano())
	var hookCalls atomic.Int64
	var hookMu sync.Mutex
	var hookErr error
	m := session.NewManager(st, session.Config{
		Now: func() time.Time { return time.Unix(0, clock.Load()) },
		ErrorFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			hookCalls.Add(1)
			hookMu.Lock()
			hookErr = err
			hookMu.Unlock()
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
		},
		SweepInterval: 20 * time.Millisecond,
	})
	t.Cleanup(func() { m.Close() })

	u, err := st.CreateUser(ctx, session.User{Email: "faults@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	login := func() (*http.Cookie, error) {
		w := httptest.NewRecorder()
		if _, err := m.Create(ctx, w, httptest.NewRequest("POST", "/login", nil), u.ID); err != nil {
			return nil, err
		}
		return w.Result().Cookies()[0], nil
	}
	// One session that expired an hour before now, for the sweeper.
	stale, err := login()
	if err != nil {
		t.Fatal(err)
	}
	clock.Store(now.UnixNano())
	var cookies []*http.Cookie
	for range faultSessions {
		c, err := login()
		if err != nil {
			t.Fatal(err)
		}
		cookies = append(cookies, c)
	}
	before := faulttest.SessionRows(t, direct, f)
	delete(before, stale.Value)

	h := m.RequireSession(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	get := func(c *http.Cookie) (int, []*http.Cookie) {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(c)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code, w.Result().Cookies()
	}
	for _, c := range cookies {
		if code, _ := get(c); code != http.StatusOK {
			t.Fatalf("before any fault: status %d", code)
		}
	}

	requests := 0
	for cut := range faultCuts {
		proxy.Cut()
		hooks := hookCalls.Load()
		var wg sync.WaitGroup
		codes := make([]int, faultVolley)
		cleared := make([]bool, faultVolley)
		for i := range faultVolley {
			wg.Go(func() {
				code, set := get(cookies[i%len(cookies)])
				codes[i] = code
				cleared[i] = len(set) > 0
			})
		}
		wg.Wait()
		requests += faultVolley
		for i, code := range codes {
			if code != http.StatusServiceUnavailable || cleared[i] {
				t.Fatalf("cut %d, request %d: status %d, cookie cleared %v; want 503 and the cookie kept", cut, i, code, cleared[i])
			}
		}
		if n := hookCalls.Load() - hooks; n != faultVolley {
			t.Errorf("cut %d: ErrorFunc called %d times for %d requests", cut, n, faultVolley)
		}
		hookMu.Lock()
		if errors.Is(hookErr, session.ErrNoSession) || errors.Is(hookErr, session.ErrNotFound) {
			t.Errorf("an outage reached ErrorFunc as %v", hookErr)
		}
		hookMu.Unlock()
		if _, err := login(); err == nil {
			t.Error("sign-in succeeded while the database was cut off")
		}
		r := httptest.NewRequest("POST", "/logout", nil)
		r.AddCookie(cookies[0])
		w := httptest.NewRecorder()
		if err := m.Destroy(ctx, w, r); err == nil || len(w.Result().Cookies()) != 0 {
			t.Errorf("sign-out while cut off: %v, cookies %v; want an error and the cookie kept", err, w.Result().Cookies())
		}
		if n, err := m.CountActive(ctx); err == nil {
			t.Errorf("CountActive while cut off = %d, no error", n)
		}
		if list, err := m.ListActive(ctx, "", 0); err == nil {
			t.Errorf("ListActive while cut off = %d sessions, no error", len(list))
		}

		proxy.Restore()
		// The very next request succeeds: no restart, no warm-up.
		if code, _ := get(cookies[cut%len(cookies)]); code != http.StatusOK {
			t.Fatalf("first request after restoring cut %d: status %d (%v)", cut, code, hookErr)
		}
		requests++
	}

	// Flapping under load: cut and restore every 50 ms for a second.
	stop := make(chan struct{})
	var flaps atomic.Int64
	var flapper sync.WaitGroup
	flapper.Go(func() {
		for {
			select {
			case <-stop:
				proxy.Restore()
				return
			case <-time.After(25 * time.Millisecond):
			}
			proxy.Cut()
			flaps.Add(1)
			time.Sleep(25 * time.Millisecond)
			proxy.Restore()
		}
	})
	deadline := time.Now().Add(flapFor)
	var ok200, ok503 atomic.Int64
	var bad atomic.Value
	var wg sync.WaitGroup
	for g := range 8 {
		wg.Go(func() {
			for i := 0; time.Now().Before(deadline); i++ {
				code, set := get(cookies[(g+i)%len(cookies)])
				switch {
				case code == http.StatusOK:
					ok200.Add(1)
				case code == http.StatusServiceUnavailable && len(set) == 0:
					ok503.Add(1)
				default:
					bad.CompareAndSwap(nil, fmt.Sprintf("status %d, cookies %v", code, set))
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	flapper.Wait()
	if b := bad.Load(); b != nil {
		t.Errorf("while flapping: %v", b)
	}
	requests += int(ok200.Load() + ok503.Load())
	for i, c := range cookies {
		if code, _ := get(c); code != http.StatusOK {
			t.Fatalf("after flapping, session %d: status %d (%v)", i, code, hookErr)
		}
	}

	// The sweeper resumes and takes the expired row; nothing else changed.
	for deadline := time.Now().Add(5 * time.Second); ; {
		if _, ok := faulttest.SessionRows(t, direct, f)[stale.Value]; !ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the sweeper did not resume after the faults")
		}
		time.Sleep(20 * time.Millisecond)
	}
	after := faulttest.SessionRows(t, direct, f)
	lost := 0
	for tok, row := range before {
		if after[tok] != row {
			lost++
			t.Errorf("session %s: %q became %q", tok, row, after[tok])
		}
	}
	if len(after) != len(before) {
		t.Errorf("%d rows before, %d after", len(before), len(after))
	}
	_, severed, refused := proxy.Stats()
	t.Logf("%d cuts and %d flaps: %d connections severed, %d refused; %d requests (%d answered 503 while flapping); %d sessions lost",
		faultCuts, flaps.Load(), severed, refused, requests, ok503.Load(), lost)
}
