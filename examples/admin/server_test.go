package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/postgres/pgtest"
)

// eachBackend runs test on a fresh SQLite file and on a fresh Postgres
// schema (skipped outside CI when no server is reachable; see pgtest).
func eachBackend(t *testing.T, test func(t *testing.T, s *server)) {
	t.Run("sqlite", func(t *testing.T) {
		test(t, newTestServer(t, config{SQLitePath: filepath.Join(t.TempDir(), "admin.db")}))
	})
	t.Run("postgres", func(t *testing.T) {
		test(t, newTestServer(t, pgConfig(t, "example_admin")))
	})
}

// pgConfig is a configuration on a fresh Postgres schema (skipped outside
// CI when no server is reachable; see pgtest), named by the test's prefix
// and the process, so that two runs of these tests do not meet.
func pgConfig(t *testing.T, prefix string) config {
	schema := fmt.Sprintf("%s_%d", prefix, os.Getpid())
	pgtest.Open(t, schema)
	return config{DatabaseURL: pgtest.WithSchema(pgtest.DSN(), schema)}
}

// adminServer serves s and signs the admin in.
func adminServer(t *testing.T, s *server) (*httptest.Server, *browser) {
	ts := httptest.NewServer(s)
	// The event streams hold their connections open: end them first.
	t.Cleanup(func() { ts.CloseClientConnections(); ts.Close() })
	admin := newBrowser(t, ts)
	admin.signIn("admin@example.com", "admin-password")
	return ts, admin
}

func newTestServer(t testing.TB, cfg config) *server {
	t.Helper()
	cfg.Seed = true
	cfg.BcryptCost = bcrypt.MinCost
	cfg.Log = slog.New(slog.NewTextHandler(testLog{t}, nil))
	s, err := newServer(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// browser is an HTTP client with its own cookie jar that does not follow
// redirects, so that tests see where each answer points.
type browser struct {
	t     *testing.T
	base  string
	c     *http.Client
	agent string // User-Agent, when set
}

func newBrowser(t *testing.T, ts *httptest.Server) *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{t: t, base: ts.URL, c: &http.Client{
		Jar:           jar,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}}
}

func (b *browser) do(method, path string, form url.Values) (*http.Response, string) {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base+path, strings.NewReader(form.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	if b.agent != "" {
		req.Header.Set("User-Agent", b.agent)
	}
	if method == http.MethodPost {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Sec-Fetch-Site", "same-origin")
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	return res, string(body)
}

func (b *browser) get(path string) (*http.Response, string) { return b.do(http.MethodGet, path, nil) }

func (b *browser) post(path string, form url.Values) (*http.Response, string) {
	return b.do(http.MethodPost, path, form)
}

// signIn signs in and checks that it worked.
func (b *browser) signIn(email, password string) {
	b.t.Helper()
	res, body := b.post("/signin", url.Values{"email": {email}, "password": {password}})
	if res.StatusCode != http.StatusSeeOther {
		b.t.Fatalf("sign-in as %s: %s\n%s", email, res.Status, body)
	}
}

func (b *browser) token() string {
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == "next-auth.session-token" {
			return c.Value
		}
	}
	return ""
}

func wantStatus(t *testing.T, res *http.Response, code int, location string) {
	t.Helper()
	if res.StatusCode != code {
		t.Fatalf("%s %s: got %s, want %d", res.Request.Method, res.Request.URL.Path, res.Status, code)
	}
	if location != "" {
		if got := res.Header.Get("Location"); got != location {
			t.Fatalf("%s %s: redirect to %q, want %q", res.Request.Method, res.Request.URL.Path, got, location)
		}
	}
}

// wantFlash loads path and checks that it shows the message of the last
// action once: a reload no longer shows it, and no URL carried it.
func wantFlash(t *testing.T, b *browser, path, want string) {
	t.Helper()
	res, page := b.get(path)
	wantStatus(t, res, http.StatusOK, "")
	if !strings.Contains(page, want) {
		t.Errorf("%s lacks the message %q:\n%s", path, want, page)
	}
	if _, page = b.get(path); strings.Contains(page, `class="flash"`) {
		t.Errorf("%s shows the message again on reload", path)
	}
}

func wantCount(t *testing.T, s *server, want int64) {
	t.Helper()
	n, err := s.m.CountActive(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if n != want {
		t.Fatalf("CountActive = %d, want %d", n, want)
	}
}

func TestSignIn(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		ts := httptest.NewServer(s)
		defer ts.Close()

		bad := newBrowser(t, ts)
		for _, pw := range []string{"wrong", ""} {
			res, body := bad.post("/signin", url.Values{"email": {"alice@example.com"}, "password": {pw}})
			wantStatus(t, res, http.StatusUnauthorized, "")
			if !strings.Contains(body, "Wrong email or password.") {
				t.Errorf("wrong password: page lacks the message:\n%s", body)
			}
		}
		res, _ := bad.post("/signin", url.Values{"email": {"nobody@example.com"}, "password": {"alice-password"}})
		wantStatus(t, res, http.StatusUnauthorized, "")
		if bad.token() != "" {
			t.Error("a failed sign-in set a session cookie")
		}
		wantCount(t, s, 0)

		alice := newBrowser(t, ts)
		res, _ = alice.post("/signin", url.Values{"email": {" Alice@Example.com "}, "password": {"alice-password"}})
		wantStatus(t, res, http.StatusSeeOther, "/account")
		res, body := alice.get("/account")
		wantStatus(t, res, http.StatusOK, "")
		if !strings.Contains(body, "This browser") {
			t.Errorf("account page does not mark this browser:\n%s", body)
		}
		res, body = alice.get("/api/auth/session")
		wantStatus(t, res, http.StatusOK, "")
		var got struct {
			User    struct{ Email string }
			Expires string
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil || got.User.Email != "alice@example.com" || got.Expires == "" {
			t.Errorf("/api/auth/session = %s (%v)", body, err)
		}

		admin := newBrowser(t, ts)
		res, _ = admin.post("/signin", url.Values{"email": {"admin@example.com"}, "password": {"admin-password"}})
		wantStatus(t, res, http.StatusSeeOther, "/admin")
		wantCount(t, s, 2)

		res, _ = alice.post("/signout", nil)
		wantStatus(t, res, http.StatusSeeOther, "/signin")
		res, _ = alice.get("/account")
		wantStatus(t, res, http.StatusSeeOther, "/signin")
		wantCount(t, s, 1)
	})
}

func TestAdminAccess(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		ts := httptest.NewServer(s)
		defer ts.Close()

		anon := newBrowser(t, ts)
		res, _ := anon.get("/admin")
		wantStatus(t, res, http.StatusSeeOther, "/signin?next=%2Fadmin")
		for _, path := range []string{"/admin/live", "/admin/events"} {
			res, body := anon.get(path)
			wantStatus(t, res, http.StatusUnauthorized, "")
			if !strings.Contains(body, `"error"`) {
				t.Errorf("%s without a session: %s", path, body)
			}
		}
		res, _ = anon.post("/admin/revoke-user", url.Values{"user": {"x"}})
		wantStatus(t, res, http.StatusSeeOther, "/signin?next=%2Fadmin")

		bob := newBrowser(t, ts)
		bob.signIn("bob@example.com", "bob-password")
		for _, path := range []string{"/admin", "/admin/live", "/admin/events"} {
			res, body := bob.get(path)
			wantStatus(t, res, http.StatusForbidden, "")
			if !strings.Contains(body, "Admins only") {
				t.Errorf("%s as a non-admin: page lacks the message:\n%s", path, body)
			}
		}
		res, _ = bob.post("/admin/revoke-user", url.Values{"user": {"anyone"}})
		wantStatus(t, res, http.StatusForbidden, "")
		wantCount(t, s, 1)

		admin := newBrowser(t, ts)
		admin.signIn("admin@example.com", "admin-password")
		res, body := admin.get("/admin")
		wantStatus(t, res, http.StatusOK, "")
		for _, want := range []string{"Active Sessions", "Currently logged in", `id="active-count"`, "bob@example.com", "This browser"} {
			if !strings.Contains(body, want) {
				t.Errorf("dashboard lacks %q", want)
			}
		}
		for _, token := range []string{admin.token(), bob.token()} {
			if token == "" || strings.Contains(body, token) {
				t.Errorf("dashboard shows a session token (or the cookie is missing: %q)", token)
			}
		}
	})
}

func TestCount(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		ts, admin := adminServer(t, s)
		newBrowser(t, ts).signIn("alice@example.com", "alice-password")

		// An expired session is neither counted nor listed.
		alice, err := s.st.GetUserByEmail(context.Background(), "alice@example.com")
		if err != nil {
			t.Fatal(err)
		}
		expired := session.Session{
			Token: "00000000-0000-4000-8000-000000000000", UserID: alice.ID,
			Expires: time.Now().Add(-time.Minute).UTC().Truncate(time.Millisecond), CreatedAt: time.Now().Add(-time.Hour).UTC().Truncate(time.Millisecond),
		}
		if _, err := s.st.CreateSession(context.Background(), expired); err != nil {
			t.Fatal(err)
		}

		res, body := admin.get("/admin/live")
		wantStatus(t, res, http.StatusOK, "")
		if ct := res.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type = %q", ct)
		}
		var got struct {
			Active *int64
			Rows   string
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil || got.Active == nil || *got.Active != 2 || strings.Count(got.Rows, "<tr data-user=") != 2 {
			t.Errorf("/admin/live = %s (%v), want active 2 and two rows", body, err)
		}
		_, page := admin.get("/admin")
		if n := strings.Count(page, "<tr data-user="); n != 2 {
			t.Errorf("dashboard lists %d sessions, want 2", n)
		}
		if strings.Contains(page, expired.Handle()) {
			t.Error("dashboard lists the expired session")
		}
	})
}

func TestRevoke(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		ts, admin := adminServer(t, s)
		alice := newBrowser(t, ts)
		alice.signIn("alice@example.com", "alice-password")
		handle := session.Session{Token: alice.token()}.Handle()
		aliceUser, err := s.m.Store().(session.Adapter).GetUserByEmail(context.Background(), "alice@example.com")
		if err != nil {
			t.Fatal(err)
		}
		form := url.Values{"handle": {handle}, "user": {aliceUser.ID}}

		_, page := admin.get("/admin")
		if !strings.Contains(page, `value="`+handle+`"`) {
			t.Fatalf("dashboard has no revoke form for alice's session")
		}
		res, _ := admin.post("/admin/revoke", form)
		wantStatus(t, res, http.StatusSeeOther, "/admin")
		wantFlash(t, admin, "/admin", "Session revoked")
		res, _ = alice.get("/account")
		wantStatus(t, res, http.StatusSeeOther, "/signin")
		wantCount(t, s, 1)

		// The same handle again (from a stale page): a message, not an error.
		res, _ = admin.post("/admin/revoke", form)
		wantStatus(t, res, http.StatusSeeOther, "/admin")
		wantFlash(t, admin, "/admin", "That session no longer exists")
		res, _ = admin.post("/admin/revoke", url.Values{"handle": {"not-a-handle"}, "user": {aliceUser.ID}})
		wantStatus(t, res, http.StatusSeeOther, "/admin")
		wantFlash(t, admin, "/admin", "That session no longer exists")
		res, _ = admin.post("/admin/revoke", url.Values{"handle": {handle}}) // no user
		wantStatus(t, res, http.StatusSeeOther, "/admin")
		wantFlash(t, admin, "/admin", "That session no longer exists")
	})
}

func TestSignOutEverywhere(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		ts, admin := adminServer(t, s)
		phone, laptop, tablet := newBrowser(t, ts), newBrowser(t, ts), newBrowser(t, ts)
		for _, b := range []*browser{phone, laptop, tablet} {
			b.signIn("alice@example.com", "alice-password")
		}
		wantCount(t, s, 4)

		// Alice signs out her other devices from the laptop.
		res, _ := laptop.post("/account/revoke-others", nil)
		wantStatus(t, res, http.StatusSeeOther, "/account")
		wantFlash(t, laptop, "/account", "2 sessions revoked")
		res, _ = phone.get("/account")
		wantStatus(t, res, http.StatusSeeOther, "/signin")
		wantCount(t, s, 2)

		// The admin signs alice out everywhere, then themselves.
		alice, err := s.st.GetUserByEmail(context.Background(), "alice@example.com")
		if err != nil {
			t.Fatal(err)
		}
		res, _ = admin.post("/admin/revoke-user", url.Values{"user": {alice.ID}})
		wantStatus(t, res, http.StatusSeeOther, "/admin")
		wantFlash(t, admin, "/admin", "1 session revoked")
		res, _ = laptop.get("/account")
		wantStatus(t, res, http.StatusSeeOther, "/signin")
		wantCount(t, s, 1)

		me, _ := s.st.GetUserByEmail(context.Background(), "admin@example.com")
		res, _ = admin.post("/admin/revoke-user", url.Values{"user": {me.ID}})
		wantStatus(t, res, http.StatusSeeOther, "/signin")
		wantFlash(t, admin, "/signin", "signed out on every device")
		if admin.token() != "" {
			t.Error("signing oneself out everywhere left the cookie")
		}
		wantCount(t, s, 0)
	})
}

func TestCrossOriginPostRefused(t *testing.T) {
	s := newTestServer(t, config{SQLitePath: filepath.Join(t.TempDir(), "admin.db")})
	form := url.Values{"email": {"admin@example.com"}, "password": {"admin-password"}}
	for _, h := range []http.Header{
		{"Sec-Fetch-Site": {"cross-site"}},
		{"Origin": {"https://evil.example"}},
	} {
		req := httptest.NewRequest(http.MethodPost, "/signin", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		for k, v := range h {
			req.Header[k] = v
		}
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != http.StatusForbidden || rec.Header().Get("Set-Cookie") != "" {
			t.Errorf("cross-origin sign-in with %v: %d, Set-Cookie %q", h, rec.Code, rec.Header().Get("Set-Cookie"))
		}
	}
	wantCount(t, s, 0)
}

func TestSeedIsIdempotent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "admin.db")
	for range 2 {
		s, err := newServer(context.Background(), config{SQLitePath: path, Seed: true, BcryptCost: bcrypt.MinCost})
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
	}
	s := newTestServer(t, config{SQLitePath: path})
	var n int
	if err := s.st.DB().Get(&n, `SELECT count(*) FROM "User"`); err != nil || n != len(demoUsers) {
		t.Fatalf("%d users (%v), want %d", n, err, len(demoUsers))
	}
}

func newLogger(w io.Writer) *slog.Logger { return slog.New(slog.NewTextHandler(w, nil)) }

// testLog sends the server's log to the test's.
type testLog struct{ t testing.TB }

func (l testLog) Write(p []byte) (int, error) {
	l.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}
