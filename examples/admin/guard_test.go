package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

// TestSignInRedirectsOnlyLocally: after sign-in, next is followed only to
// a path of this site. Browsers drop tabs and newlines in a Location and
// read a backslash as a slash, so each of these would leave the site.
func TestSignInRedirectsOnlyLocally(t *testing.T) {
	s := newTestServer(t, config{SQLitePath: filepath.Join(t.TempDir(), "admin.db")})
	ts := httptest.NewServer(s)
	defer ts.Close()
	for next, want := range map[string]string{
		"/admin":                        "/admin",
		"/account?x=1#top":              "/account?x=1#top",
		"//evil.example/":               "/account",
		"https://evil.example":          "/account",
		"/\\evil.example":               "/account",
		"/\t/evil.example":              "/account", // next=/%09/evil.example
		"/\n/evil.example":              "/account",
		"/\r\n/evil.example":            "/account",
		"\t//evil.example":              "/account",
		"/ /evil.example":               "/account",
		"/\u00a0/evil.example":          "/account",
		"/\u2028/evil.example":          "/account",
		"/\x00/evil.example":            "/account",
		"/\x7f/evil.example":            "/account",
		"javascript:alert(1)":           "/account",
		"/\\/evil.example":              "/account",
		"evil.example":                  "/account",
		"":                              "/account",
		"/" + strings.Repeat("a", 5000): "/account",
	} {
		b := newBrowser(t, ts)
		res, _ := b.post("/signin", url.Values{"email": {"alice@example.com"}, "password": {"alice-password"}, "next": {next}})
		wantStatus(t, res, http.StatusSeeOther, want)
		// The sign-in page does not carry such a next either.
		_, page := b.get("/signin?next=" + url.QueryEscape(next))
		if want == "/account" && next != "" && strings.Contains(page, "evil.example") {
			t.Errorf("sign-in page keeps next=%q", next)
		}
	}
}

// signInAs posts a sign-in from the client address addr.
func signInFrom(t *testing.T, s *server, addr, email, password string) *httptest.ResponseRecorder {
	t.Helper()
	form := url.Values{"email": {email}, "password": {password}}
	req := httptest.NewRequest(http.MethodPost, "/signin", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	req.RemoteAddr = addr
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	return rec
}

// TestSignInThrottle: failed sign-ins are limited per account and per
// client address with 429 and Retry-After; a real user waits seconds, not
// a lockout; unknown and known emails are answered alike.
func TestSignInThrottle(t *testing.T) {
	s := newTestServer(t, config{SQLitePath: filepath.Join(t.TempDir(), "admin.db")})
	now := time.Now()
	clock := func() time.Time { return now }
	s.accounts.now, s.clients.now = clock, clock

	// One address guessing alice's password: the first accountBurst
	// failures are 401, then 429 with Retry-After.
	for i := range accountBurst {
		if rec := signInFrom(t, s, "192.0.2.1:1234", "alice@example.com", fmt.Sprint("guess", i)); rec.Code != http.StatusUnauthorized {
			t.Fatalf("failure %d: %d, want 401", i+1, rec.Code)
		}
	}
	rec := signInFrom(t, s, "192.0.2.1:1234", "alice@example.com", "guess")
	if rec.Code != http.StatusTooManyRequests {
		t.Fatalf("after %d failures: %d, want 429", accountBurst, rec.Code)
	}
	if ra, err := strconv.Atoi(rec.Header().Get("Retry-After")); err != nil || ra < 1 || ra > int(accountEvery/time.Second) {
		t.Errorf("Retry-After = %q, want 1..%d seconds", rec.Header().Get("Retry-After"), int(accountEvery/time.Second))
	}
	// From another address too (the account is the key), even with the
	// right password: it is not even checked.
	if rec := signInFrom(t, s, "198.51.100.9:1", "alice@example.com", "alice-password"); rec.Code != http.StatusTooManyRequests {
		t.Errorf("alice from elsewhere while throttled: %d, want 429", rec.Code)
	}
	// Bob is not affected.
	if rec := signInFrom(t, s, "198.51.100.9:1", "bob@example.com", "bob-password"); rec.Code != http.StatusSeeOther {
		t.Errorf("bob while alice is throttled: %d, want 303", rec.Code)
	}
	// After one refill period alice can sign in: a wait, not a lockout.
	now = now.Add(accountEvery)
	if rec := signInFrom(t, s, "198.51.100.9:1", "alice@example.com", "alice-password"); rec.Code != http.StatusSeeOther {
		t.Errorf("alice %v later: %d, want 303", accountEvery, rec.Code)
	}

	// One address spraying many accounts is limited by its address; an
	// unknown email counts like a known one and reads the same.
	var bodies []string
	for i := range clientBurst {
		email := fmt.Sprintf("nobody%d@example.com", i)
		if i == 0 {
			email = "bob@example.com"
		}
		rec := signInFrom(t, s, "[2001:db8:1:2::5]:1", email, "wrong")
		if rec.Code != http.StatusUnauthorized {
			t.Fatalf("spray %d (%s): %d, want 401", i, email, rec.Code)
		}
		bodies = append(bodies, strings.ReplaceAll(rec.Body.String(), email, "EMAIL"))
	}
	if bodies[0] != bodies[1] {
		t.Errorf("wrong password and unknown email answer differently:\n%s\n---\n%s", bodies[0], bodies[1])
	}
	// The same /64 from another address of it: throttled.
	if rec := signInFrom(t, s, "[2001:db8:1:2::99]:1", "someone@example.com", "x"); rec.Code != http.StatusTooManyRequests {
		t.Errorf("same /64 after %d failures: %d, want 429", clientBurst, rec.Code)
	}
}

// TestUnknownEmailRunsBcrypt: an unknown email is compared against a dummy
// hash of the same cost as the real ones, so it takes as long as a wrong
// password.
func TestUnknownEmailRunsBcrypt(t *testing.T) {
	s := newTestServer(t, config{SQLitePath: filepath.Join(t.TempDir(), "admin.db")})
	var calls atomic.Int32
	var hashes []string
	real := s.compareHash
	s.compareHash = func(hash, pw []byte) error {
		calls.Add(1)
		hashes = append(hashes, string(hash[:7])) // $2a$NN$: the cost
		return real(hash, pw)
	}
	for _, email := range []string{"nobody@example.com", "alice@example.com"} {
		if rec := signInFrom(t, s, "192.0.2.7:1", email, "wrong"); rec.Code != http.StatusUnauthorized {
			t.Fatalf("%s: %d", email, rec.Code)
		}
	}
	if calls.Load() != 2 || hashes[0] != hashes[1] {
		t.Errorf("bcrypt ran %d times with costs %q; want once per attempt, at one cost", calls.Load(), hashes)
	}
}

func TestThrottleTableIsBounded(t *testing.T) {
	th := newThrottle(3, time.Minute, 100)
	now := time.Now()
	th.now = func() time.Time { return now }
	for i := range 10000 {
		th.fail(fmt.Sprint("key", i))
	}
	if n := th.len(); n > 100 {
		t.Fatalf("throttle holds %d keys, want at most 100", n)
	}

	// Refilled keys are dropped first; one still in debt stays.
	th = newThrottle(3, time.Minute, 3)
	th.now = func() time.Time { return now }
	th.fail("a")
	th.fail("b")
	now = now.Add(3 * time.Minute) // a and b are full again
	for range 3 {
		th.fail("hot")
	}
	th.fail("c")
	if th.wait("hot") == 0 || th.len() != 2 {
		t.Errorf("after making room: hot waits %v, %d keys; want hot still throttled, 2 keys", th.wait("hot"), th.len())
	}
}

// TestBodyLimits: forms are urlencoded and small; a multipart body is
// refused with 415 before it is read (nothing spooled to disk), a large
// one with 413.
func TestBodyLimits(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	s := newTestServer(t, config{SQLitePath: filepath.Join(t.TempDir(), "admin.db")})

	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	_ = mw.WriteField("email", "alice@example.com")
	_ = mw.WriteField("password", "alice-password")
	fw, _ := mw.CreateFormFile("upload", "big.bin")
	_, _ = fw.Write(bytes.Repeat([]byte("x"), 40<<20)) // over ParseMultipartForm's 32 MB in memory
	_ = mw.Close()

	big := url.Values{"email": {"alice@example.com"}, "password": {"alice-password"}, "pad": {strings.Repeat("x", 1<<20)}}.Encode()
	for _, c := range []struct {
		name, ct string
		body     io.Reader
		length   int64
		want     int
	}{
		{"multipart", mw.FormDataContentType(), bytes.NewReader(mp.Bytes()), int64(mp.Len()), http.StatusUnsupportedMediaType},
		{"json", "application/json", strings.NewReader(`{"email":"alice@example.com"}`), -1, http.StatusUnsupportedMediaType},
		{"no type", "", strings.NewReader("email=alice@example.com&password=alice-password"), -1, http.StatusUnsupportedMediaType},
		{"1 MB urlencoded", "application/x-www-form-urlencoded", strings.NewReader(big), int64(len(big)), http.StatusRequestEntityTooLarge},
		{"1 MB urlencoded, length unknown", "application/x-www-form-urlencoded", strings.NewReader(big), -1, http.StatusRequestEntityTooLarge},
		{"small urlencoded", "application/x-www-form-urlencoded; charset=utf-8", strings.NewReader("email=alice@example.com&password=alice-password"), -1, http.StatusSeeOther},
	} {
		req := httptest.NewRequest(http.MethodPost, "/signin", c.body)
		req.ContentLength = c.length
		if c.ct != "" {
			req.Header.Set("Content-Type", c.ct)
		}
		req.Header.Set("Sec-Fetch-Site", "same-origin")
		rec := httptest.NewRecorder()
		s.ServeHTTP(rec, req)
		if rec.Code != c.want {
			t.Errorf("%s: %d, want %d", c.name, rec.Code, c.want)
		}
	}
	if left, _ := os.ReadDir(tmp); len(left) != 0 {
		t.Errorf("files left in TMPDIR: %v", left)
	}
	// A form without a body (sign out) still works.
	req := httptest.NewRequest(http.MethodPost, "/signout", nil)
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, req)
	if rec.Code != http.StatusSeeOther {
		t.Errorf("empty sign-out post: %d, want 303", rec.Code)
	}
}

// TestDatabaseFailureIs503: a database that fails inside a handler, or
// under the middleware, answers 503 with Retry-After, and is logged.
func TestDatabaseFailureIs503(t *testing.T) {
	var logged bytes.Buffer
	s := newTestServer(t, config{SQLitePath: filepath.Join(t.TempDir(), "admin.db")})
	s.log = newLogger(&logged)
	ts := httptest.NewServer(s)
	defer ts.Close()
	alice := newBrowser(t, ts)
	alice.signIn("alice@example.com", "alice-password")
	s.st.DB().Close()

	res, body := newBrowser(t, ts).post("/signin", url.Values{"email": {"alice@example.com"}, "password": {"alice-password"}})
	if res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" || !strings.Contains(body, "Database unavailable") {
		t.Errorf("sign-in with the database down: %s, Retry-After %q", res.Status, res.Header.Get("Retry-After"))
	}
	res, _ = alice.get("/account") // the middleware cannot read the session
	if res.StatusCode != http.StatusServiceUnavailable {
		t.Errorf("a signed-in page with the database down: %s, want 503", res.Status)
	}
	if n := strings.Count(logged.String(), "database unavailable"); n < 2 {
		t.Errorf("%d failures logged, want both:\n%s", n, logged.String())
	}
	if strings.Contains(logged.String(), alice.token()) {
		t.Error("the log holds the session token")
	}
}

// TestDeadlineOnDatabaseWork: a request's database work has a deadline:
// on a database that hangs (here a table locked by another transaction,
// which Postgres waits for without end) the request answers 503.
func TestDeadlineOnDatabaseWork(t *testing.T) {
	cfg := pgConfig(t, "example_admin_deadline")
	cfg.DBTimeout = 300 * time.Millisecond
	s := newTestServer(t, cfg)
	ts := httptest.NewServer(s)
	defer ts.Close()
	alice := newBrowser(t, ts)
	alice.signIn("alice@example.com", "alice-password")

	tx, err := s.st.DB().BeginTx(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback()
	if _, err := tx.Exec(`LOCK TABLE "Session" IN ACCESS EXCLUSIVE MODE`); err != nil {
		t.Fatal(err)
	}
	done := make(chan *http.Response, 1)
	go func() {
		res, _ := alice.c.Get(ts.URL + "/account")
		done <- res
	}()
	select {
	case res := <-done:
		if res == nil || res.StatusCode != http.StatusServiceUnavailable {
			t.Errorf("/account on a locked table: %v, want 503", res)
		}
	case <-time.After(20 * time.Second):
		t.Fatal("/account on a locked table did not answer: no deadline")
	}
}

// TestServerTimeouts: a client that stalls in its request body is cut off
// by the server's ReadTimeout rather than holding the connection.
func TestServerTimeouts(t *testing.T) {
	hs := newHTTPServer(http.NotFoundHandler())
	if hs.ReadTimeout <= 0 || hs.WriteTimeout <= 0 || hs.IdleTimeout <= 0 || hs.ReadHeaderTimeout <= 0 {
		t.Fatalf("timeouts: read %v, write %v, idle %v, header %v; want all set", hs.ReadTimeout, hs.WriteTimeout, hs.IdleTimeout, hs.ReadHeaderTimeout)
	}
	hs.ReadTimeout = 300 * time.Millisecond
	hs.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { _, _ = io.Copy(io.Discard, r.Body) })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go hs.Serve(ln)
	defer hs.Close()
	c, err := net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	fmt.Fprintf(c, "POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\nabc")
	_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
	if _, err := io.ReadAll(c); err != nil {
		t.Errorf("a stalled body kept the connection open: %v", err)
	}
}
