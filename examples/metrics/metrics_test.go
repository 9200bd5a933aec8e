package main

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/nextsession/nextsession/session"
)

// TestEventsFeedMetrics signs in, out, revokes, lets a session expire and
// sweeps, then scrapes /metrics and finds each counted once.
func TestEventsFeedMetrics(t *testing.T) {
	ctx := context.Background()
	st, err := openStore(ctx, "", filepath.Join(t.TempDir(), "m.db"))
	if err != nil {
		t.Fatal(err)
	}
	var now atomic.Int64
	now.Store(time.Now().UnixNano())
	reg := prometheus.NewRegistry()
	mx := NewMetrics(reg)
	cfg := session.Config{
		Now:    func() time.Time { return time.Unix(0, now.Load()) },
		Logger: slog.New(slog.DiscardHandler),
		Events: mx.Events(),
	}
	m := session.NewManager(st, cfg)
	u, err := st.CreateUser(ctx, session.User{Email: "m@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	signIn := func() *http.Cookie {
		w := httptest.NewRecorder()
		if _, err := m.Create(ctx, w, httptest.NewRequest("POST", "/login", nil), u.ID); err != nil {
			t.Fatal(err)
		}
		return w.Result().Cookies()[0]
	}
	out := signIn()
	r := httptest.NewRequest("POST", "/logout", nil)
	r.AddCookie(out)
	if err := m.Destroy(ctx, httptest.NewRecorder(), r); err != nil {
		t.Fatal(err)
	}
	one := signIn()
	if err := m.Revoke(ctx, one.Value); err != nil {
		t.Fatal(err)
	}
	signIn()
	signIn()
	if _, err := m.RevokeUser(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	late := signIn()
	signIn() // left to the sweeper
	now.Add(int64(session.DefaultMaxAge + time.Hour))
	srv := httptest.NewServer(newMux(m, reg))
	defer srv.Close()
	get := func(path string, c *http.Cookie) string {
		req, _ := http.NewRequest("GET", srv.URL+path, nil)
		if c != nil {
			req.AddCookie(c)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return string(b)
	}
	if body := get("/api/auth/session", late); body != "{}" {
		t.Errorf("an expired session reads as %q", body)
	}
	// A sweeper, as another instance would run it, takes the last one.
	cfg.SweepInterval = 5 * time.Millisecond
	sweeper := session.NewManager(st, cfg)
	for deadline := time.Now().Add(10 * time.Second); testutil.ToFloat64(mx.Swept) < 1; {
		if time.Now().After(deadline) {
			t.Fatal("no sweep counted")
		}
		time.Sleep(5 * time.Millisecond)
	}
	sweeper.Close()

	metrics := get("/metrics", nil)
	for _, want := range []string{
		"nextsession_signins_total 6",
		"nextsession_signouts_total 1",
		`nextsession_revoked_sessions_total{scope="session"} 1`,
		`nextsession_revoked_sessions_total{scope="user"} 2`,
		"nextsession_expired_on_read_total 1",
		"nextsession_swept_sessions_total 1",
		"nextsession_sweep_errors_total 0",
	} {
		if !strings.Contains(metrics, want+"\n") {
			t.Errorf("/metrics lacks %q:\n%s", want, metrics)
		}
	}
}
