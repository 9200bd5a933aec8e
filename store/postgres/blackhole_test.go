package postgres_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/faulttest"
	"github.com/nextsession/nextsession/store/postgres"
	"github.com/nextsession/nextsession/store/postgres/pgtest"
)

// Sizes of the black-hole test.
const (
	holeTimeout = 300 * time.Millisecond
	// holeSlack is what a loaded machine under -race may add to the
	// bound; a hang is unbounded.
	holeSlack  = 1500 * time.Millisecond
	holeVolley = 12 // concurrent requests per volley, three times the pool
	holeRounds = 3
	holePool   = 4
)

// TestBlackHole puts a proxy that accepts connections and then passes
// nothing on between the store and Postgres: every request with a session
// is answered 503 within Config.Timeout (plus scheduling slack), never
// 401, never left hanging, even once every pooled connection is stuck;
// the outage is logged without the cookie. When the proxy passes bytes
// again, the first request succeeds and the stuck connections leave the
// pool.
func TestBlackHole(t *testing.T) {
	f := adapter.Prisma
	schema := "nextsession_blackhole"
	openTables(t, schema, f)
	ctx := context.Background()
	dsn, proxy := throughProxy(t, pgtest.DSN())
	st, err := postgres.Open(pgtest.WithSchema(dsn, schema), f)
	if err != nil {
		t.Fatal(err)
	}
	db := st.DB()
	db.SetMaxOpenConns(holePool)
	t.Cleanup(func() { st.Close() })

	var logs faulttest.Log
	m := session.NewManager(st, session.Config{
		Timeout:       holeTimeout,
		Logger:        logs.Logger(),
		SweepInterval: 50 * time.Millisecond,
	})
	t.Cleanup(func() { m.Close() })

	u, err := st.CreateUser(ctx, session.User{Email: "hole@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	var cookies []*http.Cookie
	for range 4 {
		w := httptest.NewRecorder()
		if _, err := m.Create(ctx, w, httptest.NewRequest("POST", "/login", nil), u.ID); err != nil {
			t.Fatal(err)
		}
		cookies = append(cookies, w.Result().Cookies()[0])
	}
	h := m.RequireSession(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	get := func(c *http.Cookie) (int, time.Duration) {
		r := httptest.NewRequest("GET", "/account", nil)
		r.AddCookie(c)
		w := httptest.NewRecorder()
		start := time.Now()
		h.ServeHTTP(w, r)
		return w.Code, time.Since(start)
	}
	for _, c := range cookies {
		if code, _ := get(c); code != http.StatusOK {
			t.Fatalf("before the black hole: status %d", code)
		}
	}

	proxy.BlackHole()
	var slowest time.Duration
	for round := range holeRounds {
		var wg sync.WaitGroup
		codes := make([]int, holeVolley)
		took := make([]time.Duration, holeVolley)
		for i := range holeVolley {
			wg.Go(func() { codes[i], took[i] = get(cookies[i%len(cookies)]) })
		}
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			t.Fatalf("round %d: requests hang on a black-holed database", round)
		}
		for i, code := range codes {
			slowest = max(slowest, took[i])
			if code != http.StatusServiceUnavailable {
				t.Errorf("round %d, request %d: status %d, want 503", round, i, code)
			}
			if took[i] > holeTimeout+holeSlack {
				t.Errorf("round %d, request %d: answered after %v, bound %v", round, i, took[i], holeTimeout)
			}
		}
	}
	if in := db.Stats().InUse; in > holePool {
		t.Errorf("%d connections in use, pool of %d", in, holePool)
	}
	stuck := db.Stats().InUse
	// A sign-in and a sign-out are bounded too.
	start := time.Now()
	if _, err := m.Create(ctx, httptest.NewRecorder(), httptest.NewRequest("POST", "/login", nil), u.ID); err == nil {
		t.Error("sign-in succeeded into a black hole")
	}
	if d := time.Since(start); d > holeTimeout+holeSlack {
		t.Errorf("sign-in answered after %v, bound %v", d, holeTimeout)
	}

	proxy.Restore()
	if code, d := get(cookies[0]); code != http.StatusOK {
		t.Fatalf("first request after the black hole: status %d after %v", code, d)
	}
	for deadline := time.Now().Add(10 * time.Second); db.Stats().InUse > 0; {
		if time.Now().After(deadline) {
			t.Fatalf("%d connections still in use after the black hole", db.Stats().InUse)
		}
		time.Sleep(10 * time.Millisecond)
	}
	for i, c := range cookies {
		if code, _ := get(c); code != http.StatusOK {
			t.Errorf("after the black hole, session %d: status %d", i, code)
		}
	}

	out := logs.String()
	if n := strings.Count(out, "cannot read the session"); n < holeRounds*holeVolley {
		t.Errorf("%d outage log lines for %d failed requests", n, holeRounds*holeVolley)
	}
	if !strings.Contains(out, "sweep failed") {
		t.Error("no log line for the sweeps that failed during the black hole")
	}
	for _, c := range cookies {
		if strings.Contains(out, c.Value) {
			t.Fatal("a log line holds a session token")
		}
	}
	t.Logf("black hole: %d requests answered 503, the slowest after %v (bound %v); %d of %d pooled connections were stuck; first request after it: 200",
		holeRounds*holeVolley, slowest, holeTimeout, stuck, holePool)
}

// TestOpenConnectTimeout: a connection made by Open to a server that
// accepts and never answers fails after DefaultConnectTimeout instead of
// waiting for ever, even for a caller without a deadline; a DSN's own
// connect_timeout wins.
func TestOpenConnectTimeout(t *testing.T) {
	dsn, proxy := throughProxy(t, pgtest.DSN())
	proxy.BlackHole()
	for _, c := range []struct {
		dsn  string
		want time.Duration
	}{
		{dsn, postgres.DefaultConnectTimeout},
		{dsn + "&connect_timeout=1", time.Second},
	} {
		start := time.Now()
		done := make(chan error, 1)
		go func() {
			st, err := postgres.Open(c.dsn, adapter.Prisma) // Open pings
			if err == nil {
				st.Close()
			}
			done <- err
		}()
		select {
		case err := <-done:
			took := time.Since(start)
			if err == nil {
				t.Errorf("%s: connected through a black hole", c.dsn)
			}
			if took < c.want-100*time.Millisecond {
				t.Errorf("%s: gave up after %v, before the connect timeout %v", c.dsn, took, c.want)
			}
		case <-time.After(c.want + 20*time.Second):
			t.Fatalf("%s: connecting hangs on a server that never answers", c.dsn)
		}
	}
	proxy.Restore()
}

func TestOpenErrors(t *testing.T) {
	for _, dsn := range []string{"postgres://%zz", "host='unterminated", "sslmode=bogus"} {
		if st, err := postgres.Open(dsn, adapter.Prisma); err == nil {
			st.Close()
			t.Errorf("Open(%q) = no error", dsn)
		}
	}
}
