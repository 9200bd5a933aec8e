package session_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/memory"
)

// t0 is the injected clock's start; its milliseconds show that they are
// kept where they should be.
var t0 = time.Date(2025, 3, 1, 12, 0, 0, 250_000_000, time.UTC)

const (
	maxAge    = session.DefaultMaxAge
	updateAge = session.DefaultUpdateAge
)

// clock is the injected clock. The sweeper reads it from its own
// goroutine, hence the lock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// env is a Manager on a memory store, through a spy, with an injected
// clock set to t0 and one user.
type env struct {
	t     *testing.T
	a     *spy
	m     *session.Manager
	clock *clock
	user  session.User
}

func newEnv(t *testing.T, cfg session.Config) *env {
	t.Helper()
	e := &env{t: t, a: newSpy(), clock: &clock{t: t0}}
	if cfg.Now == nil {
		cfg.Now = e.clock.Now
	}
	e.m = session.NewManager(e.a, cfg)
	t.Cleanup(func() { e.m.Close() })
	e.user = e.newUser("Ada Lovelace", "ada@example.com")
	return e
}

func (e *env) newUser(name, email string) session.User {
	e.t.Helper()
	u, err := e.a.CreateUser(context.Background(), session.User{Name: name, Email: email})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

// request returns a GET request for url carrying the cookies.
func request(url string, cookies ...*http.Cookie) *http.Request {
	r := httptest.NewRequest(http.MethodGet, url, nil)
	for _, c := range cookies {
		r.AddCookie(c)
	}
	return r
}

// login creates a session for the user on a plain http request and
// returns the session cookie that was set.
func (e *env) login(userID string) *http.Cookie {
	e.t.Helper()
	return e.loginOn(request("http://example.com/login"), userID)
}

func (e *env) loginOn(r *http.Request, userID string) *http.Cookie {
	e.t.Helper()
	w := httptest.NewRecorder()
	if _, err := e.m.Create(r.Context(), w, r, userID); err != nil {
		e.t.Fatalf("Create: %v", err)
	}
	cs := setCookies(e.t, w)
	if len(cs) != 1 {
		e.t.Fatalf("Create set %d cookies, want 1", len(cs))
	}
	return cs[0].cookie
}

// row is a Session row as the database holds it.
type row struct {
	userID           string
	expires, created time.Time
}

// row reads the session with the stored token from the store, past the
// spy; ok is false when there is none.
func (e *env) row(stored string) (r row, ok bool) {
	e.t.Helper()
	s, _, err := e.a.Store.GetSessionAndUser(context.Background(), stored)
	if errors.Is(err, session.ErrNotFound) {
		return row{}, false
	}
	if err != nil {
		e.t.Fatal(err)
	}
	return row{s.UserID, s.Expires, s.CreatedAt}, true
}

func (e *env) mustRow(stored string) row {
	e.t.Helper()
	r, ok := e.row(stored)
	if !ok {
		e.t.Fatalf("no Session row for %q", stored)
	}
	return r
}

// rowCount counts every stored session, expired ones too.
func (e *env) rowCount() int {
	e.t.Helper()
	n, err := e.a.Store.CountActive(context.Background(), "", time.Time{})
	if err != nil {
		e.t.Fatal(err)
	}
	return int(n)
}

// insert stores a session with the given expiry directly, and returns its
// token.
func (e *env) insert(userID string, expires time.Time) string {
	e.t.Helper()
	tok, err := session.NewUUIDToken()
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.a.Store.CreateSession(context.Background(), session.Session{
		Token: tok, UserID: userID, Expires: expires, CreatedAt: expires.Add(-maxAge),
	}); err != nil {
		e.t.Fatal(err)
	}
	return tok
}

// setCookie is one Set-Cookie header, raw and parsed.
type setCookie struct {
	raw    string
	cookie *http.Cookie
	// attrs are the attributes after name=value, keyed by their lower-case
	// names.
	attrs map[string]string
}

func setCookies(t *testing.T, w *httptest.ResponseRecorder) []setCookie {
	t.Helper()
	var out []setCookie
	for _, raw := range w.Result().Header.Values("Set-Cookie") {
		c, err := http.ParseSetCookie(raw)
		if err != nil {
			t.Fatalf("bad Set-Cookie %q: %v", raw, err)
		}
		sc := setCookie{raw: raw, cookie: c, attrs: map[string]string{}}
		for _, part := range strings.Split(raw, ";")[1:] {
			k, v, _ := strings.Cut(strings.TrimSpace(part), "=")
			sc.attrs[strings.ToLower(k)] = v
		}
		out = append(out, sc)
	}
	return out
}

// oneCookie returns the only Set-Cookie of w.
func oneCookie(t *testing.T, w *httptest.ResponseRecorder) setCookie {
	t.Helper()
	cs := setCookies(t, w)
	if len(cs) != 1 {
		t.Fatalf("got %d Set-Cookie headers, want 1: %v", len(cs), w.Result().Header.Values("Set-Cookie"))
	}
	return cs[0]
}

// checkSessionCookie checks a cookie that sets a session: NextAuth's
// attributes and nothing else.
func checkSessionCookie(t *testing.T, c setCookie, name string, secure bool, expires time.Time) {
	t.Helper()
	if c.cookie.Name != name {
		t.Errorf("cookie name %q, want %q", c.cookie.Name, name)
	}
	want := map[string]string{
		"path":     "/",
		"expires":  expires.UTC().Format(http.TimeFormat),
		"httponly": "",
		"samesite": "Lax",
	}
	if secure {
		want["secure"] = ""
	}
	checkAttrs(t, c, want)
}

// checkCleared checks a cookie that clears the session cookie.
func checkCleared(t *testing.T, c setCookie, name string, secure bool) {
	t.Helper()
	if c.cookie.Name != name || c.cookie.Value != "" {
		t.Errorf("clearing cookie %q=%q, want %q with an empty value", c.cookie.Name, c.cookie.Value, name)
	}
	want := map[string]string{"path": "/", "max-age": "0", "httponly": "", "samesite": "Lax"}
	if secure {
		want["secure"] = ""
	}
	checkAttrs(t, c, want)
}

func checkAttrs(t *testing.T, c setCookie, want map[string]string) {
	t.Helper()
	if len(c.attrs) != len(want) {
		t.Errorf("Set-Cookie %q: attributes %v, want %v", c.raw, c.attrs, want)
		return
	}
	for k, v := range want {
		if got, ok := c.attrs[k]; !ok || got != v {
			t.Errorf("Set-Cookie %q: attribute %s=%q, want %q", c.raw, k, got, v)
		}
	}
}

var uuidV4 = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestCreate(t *testing.T) {
	e := newEnv(t, session.Config{})
	ctx := context.Background()
	w := httptest.NewRecorder()
	r := request("http://example.com/login")
	s, err := e.m.Create(ctx, w, r, e.user.ID)
	if err != nil {
		t.Fatal(err)
	}
	c := oneCookie(t, w)
	checkSessionCookie(t, c, "next-auth.session-token", false, t0.Add(maxAge))
	tok := c.cookie.Value
	if !uuidV4.MatchString(tok) {
		t.Errorf("token %q is not a UUID v4", tok)
	}
	if s.Token != tok || s.UserID != e.user.ID || !s.Expires.Equal(t0.Add(maxAge)) || !s.CreatedAt.Equal(t0) || s.ID == "" {
		t.Errorf("Create returned %+v", s)
	}
	got := e.mustRow(tok)
	if got.userID != e.user.ID || !got.expires.Equal(t0.Add(maxAge)) || !got.created.Equal(t0) {
		t.Errorf("row %+v, want user %s, expires %v, createdAt %v", got, e.user.ID, t0.Add(maxAge), t0)
	}
}

func TestCreateNewTokenEachLogin(t *testing.T) {
	e := newEnv(t, session.Config{})
	seen := map[string]bool{}
	for range 5 {
		tok := e.login(e.user.ID).Value
		if seen[tok] {
			t.Fatalf("token %q given twice", tok)
		}
		seen[tok] = true
	}
	if n := e.rowCount(); n != 5 {
		t.Errorf("%d rows after 5 logins without cookies, want 5", n)
	}
}

// A session token the request carried, maybe planted by an attacker, is
// never promoted by a login: it is deleted and a new one is issued.
func TestCreateDeletesRequestSession(t *testing.T) {
	e := newEnv(t, session.Config{})
	mallory := e.newUser("Mallory", "mallory@example.com")
	planted := e.login(mallory.ID)

	c := e.loginOn(request("http://example.com/login", planted), e.user.ID)
	if c.Value == planted.Value {
		t.Fatal("login kept the token the request carried")
	}
	if _, ok := e.row(planted.Value); ok {
		t.Error("the request's old session row was not deleted")
	}
	if r := e.mustRow(c.Value); r.userID != e.user.ID {
		t.Errorf("new session is of user %s, want %s", r.userID, e.user.ID)
	}
	if n := e.rowCount(); n != 1 {
		t.Errorf("%d rows, want 1", n)
	}
}

func TestCreateUnknownUser(t *testing.T) {
	e := newEnv(t, session.Config{})
	for _, id := range []string{"no-such-user", ""} {
		w := httptest.NewRecorder()
		r := request("http://example.com/login")
		_, err := e.m.Create(r.Context(), w, r, id)
		if !errors.Is(err, session.ErrUnknownUser) {
			t.Errorf("Create(%q): %v, want ErrUnknownUser", id, err)
		}
		if h := w.Result().Header.Values("Set-Cookie"); len(h) != 0 {
			t.Errorf("Create(%q) set a cookie: %v", id, h)
		}
	}
	if n := e.rowCount(); n != 0 {
		t.Errorf("%d rows, want 0", n)
	}
}

func TestDestroy(t *testing.T) {
	e := newEnv(t, session.Config{})
	c := e.login(e.user.ID)
	other := e.login(e.user.ID)

	w := httptest.NewRecorder()
	r := request("http://example.com/logout", c)
	if err := e.m.Destroy(r.Context(), w, r); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.row(c.Value); ok {
		t.Error("row still there after Destroy")
	}
	e.mustRow(other.Value)
	checkCleared(t, oneCookie(t, w), "next-auth.session-token", false)

	// The old cookie no longer signs in.
	w = httptest.NewRecorder()
	var sn seen
	e.m.Middleware(sn.handler()).ServeHTTP(w, request("http://example.com/", c))
	if sn.ok {
		t.Error("session still valid after Destroy")
	}
}

func TestRevoke(t *testing.T) {
	e := newEnv(t, session.Config{})
	ctx := context.Background()
	c := e.login(e.user.ID)
	keep := e.login(e.user.ID)
	if err := e.m.Revoke(ctx, c.Value); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.row(c.Value); ok {
		t.Error("row still there after Revoke")
	}
	e.mustRow(keep.Value)
	if sn := serveOnce(e, c); sn.ok {
		t.Error("revoked session still valid on the next request")
	}
	if err := e.m.Revoke(ctx, c.Value); err != nil {
		t.Errorf("Revoke of a missing session: %v", err)
	}
}

func TestRevokeUser(t *testing.T) {
	e := newEnv(t, session.Config{})
	bob := e.newUser("Bob", "bob@example.com")
	for range 3 {
		e.login(e.user.ID)
	}
	bobs := e.login(bob.ID)
	n, err := e.m.RevokeUser(context.Background(), e.user.ID)
	if err != nil || n != 3 {
		t.Fatalf("RevokeUser: %d, %v; want 3", n, err)
	}
	if got := e.rowCount(); got != 1 {
		t.Errorf("%d rows left, want Bob's 1", got)
	}
	e.mustRow(bobs.Value)
}

func TestRevokeOthers(t *testing.T) {
	e := newEnv(t, session.Config{})
	bob := e.newUser("Bob", "bob@example.com")
	current := e.login(e.user.ID)
	e.login(e.user.ID)
	e.login(e.user.ID)
	bobs := e.login(bob.ID)

	sn := serveOnce(e, current)
	if !sn.ok {
		t.Fatal("no session")
	}
	n, err := e.m.RevokeOthers(context.Background(), sn.s)
	if err != nil || n != 2 {
		t.Fatalf("RevokeOthers: %d, %v; want 2", n, err)
	}
	e.mustRow(current.Value)
	e.mustRow(bobs.Value)
	if got := e.rowCount(); got != 2 {
		t.Errorf("%d rows, want 2", got)
	}
	if _, err := e.m.RevokeOthers(context.Background(), session.Session{}); !errors.Is(err, session.ErrNoSession) {
		t.Errorf("RevokeOthers without a session: %v, want ErrNoSession", err)
	}
}

func TestRevokeHandle(t *testing.T) {
	e := newEnv(t, session.Config{})
	ctx := context.Background()
	bob := e.newUser("Bob", "bob@example.com")
	target := e.login(e.user.ID)
	e.login(e.user.ID)
	bobs := e.login(bob.ID)
	sn := serveOnce(e, target)
	handle := sn.s.Handle()
	if strings.Contains(handle, target.Value) || len(handle) == 0 {
		t.Fatalf("handle %q", handle)
	}

	// Another user's scan does not find it.
	if ok, err := e.m.RevokeHandle(ctx, bob.ID, handle); ok || err != nil {
		t.Errorf("RevokeHandle by another user: %v, %v; want false, nil", ok, err)
	}
	if ok, err := e.m.RevokeHandle(ctx, e.user.ID, handle); !ok || err != nil {
		t.Fatalf("RevokeHandle: %v, %v; want true, nil", ok, err)
	}
	if _, ok := e.row(target.Value); ok {
		t.Error("row still there")
	}
	if ok, err := e.m.RevokeHandle(ctx, e.user.ID, handle); ok || err != nil {
		t.Errorf("RevokeHandle again: %v, %v; want false, nil", ok, err)
	}
	if ok, err := e.m.RevokeHandle(ctx, "", "nosuchhandle"); ok || err != nil {
		t.Errorf("RevokeHandle of an unknown handle: %v, %v; want false, nil", ok, err)
	}
	// An admin scan over every user.
	bobSession := serveOnce(e, bobs).s
	if ok, err := e.m.RevokeHandle(ctx, "", bobSession.Handle()); !ok || err != nil {
		t.Errorf("RevokeHandle over all users: %v, %v; want true, nil", ok, err)
	}
	if got := e.rowCount(); got != 1 {
		t.Errorf("%d rows, want 1", got)
	}
}

func TestListActive(t *testing.T) {
	e := newEnv(t, session.Config{})
	ctx := context.Background()
	bob := e.newUser("Bob", "bob@example.com")
	now := t0
	a1 := e.insert(e.user.ID, now.Add(time.Hour))
	a2 := e.insert(e.user.ID, now) // expires == now is still active
	e.insert(e.user.ID, now.Add(-time.Millisecond))
	b1 := e.insert(bob.ID, now.Add(2*time.Hour))
	e.insert(bob.ID, now.Add(-time.Hour))

	tokens := func(list []session.SessionUser) []string {
		var out []string
		for _, su := range list {
			out = append(out, su.Session.Token)
		}
		return out
	}
	all, err := e.m.ListActive(ctx, "", 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tokens(all), []string{b1, a1, a2}; !equal(got, want) {
		t.Errorf("ListActive(all) = %v, want %v (newest expiry first)", got, want)
	}
	if all[0].User.Email != "bob@example.com" || all[1].User.Name != "Ada Lovelace" {
		t.Errorf("users not listed with their sessions: %+v", all)
	}
	mine, err := e.m.ListActive(ctx, e.user.ID, 0)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tokens(mine), []string{a1, a2}; !equal(got, want) {
		t.Errorf("ListActive(user) = %v, want %v", got, want)
	}
	one, err := e.m.ListActive(ctx, "", 1)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := tokens(one), []string{b1}; !equal(got, want) {
		t.Errorf("ListActive(limit 1) = %v, want %v", got, want)
	}
	none, err := e.m.ListActive(ctx, "no-such-user", 0)
	if err != nil || len(none) != 0 {
		t.Errorf("ListActive(unknown user) = %v, %v", none, err)
	}
}

func equal(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestCountActiveBoundary(t *testing.T) {
	e := newEnv(t, session.Config{})
	ctx := context.Background()
	bob := e.newUser("Bob", "bob@example.com")
	e.insert(e.user.ID, t0.Add(-time.Millisecond))
	e.insert(e.user.ID, t0)
	e.insert(e.user.ID, t0.Add(time.Millisecond))
	e.insert(bob.ID, t0.Add(time.Hour))

	check := func(at time.Time, all, ada, bobN int64) {
		t.Helper()
		e.clock.Set(at)
		if n, err := e.m.CountActive(ctx); err != nil || n != all {
			t.Errorf("at %v: CountActive = %d, %v; want %d", at, n, err, all)
		}
		if n, err := e.m.CountUserActive(ctx, e.user.ID); err != nil || n != ada {
			t.Errorf("at %v: CountUserActive(ada) = %d, %v; want %d", at, n, err, ada)
		}
		if n, err := e.m.CountUserActive(ctx, bob.ID); err != nil || n != bobN {
			t.Errorf("at %v: CountUserActive(bob) = %d, %v; want %d", at, n, err, bobN)
		}
	}
	check(t0.Add(-time.Millisecond), 4, 3, 1)
	check(t0, 3, 2, 1) // expires == now counts
	check(t0.Add(time.Millisecond), 2, 1, 1)
	check(t0.Add(2*time.Millisecond), 1, 0, 1)
	// The clock's sub-millisecond part does not count a session ended.
	check(t0.Add(time.Millisecond+999*time.Microsecond), 2, 1, 1)
}

func TestSweepBatches(t *testing.T) {
	e := newEnv(t, session.Config{SweepBatch: 3})
	ctx := context.Background()
	for i := range 10 {
		e.insert(e.user.ID, t0.Add(-time.Duration(i+1)*time.Millisecond*997))
	}
	live := []string{
		e.insert(e.user.ID, t0),
		e.insert(e.user.ID, t0.Add(time.Millisecond)),
		e.insert(e.user.ID, t0.Add(maxAge)),
		e.insert(e.user.ID, t0.Add(time.Hour)),
	}
	liveRows := map[string]row{}
	for _, tok := range live {
		liveRows[tok] = e.mustRow(tok)
	}
	e.a.reset()
	n, err := e.m.Sweep(ctx)
	if err != nil || n != 10 {
		t.Fatalf("Sweep = %d, %v; want 10", n, err)
	}
	if c := e.a.count("DeleteExpired"); c != 4 {
		t.Errorf("%d DeleteExpired calls, want 4 (3+3+3+1)", c)
	}
	if got := e.rowCount(); got != len(live) {
		t.Errorf("%d rows left, want %d", got, len(live))
	}
	for tok, before := range liveRows {
		if after := e.mustRow(tok); after != before {
			t.Errorf("live row changed: %+v -> %+v", before, after)
		}
	}
	if n, err := e.m.Sweep(ctx); n != 0 || err != nil {
		t.Errorf("second Sweep = %d, %v; want 0", n, err)
	}

	// A failing store stops the sweep with its error.
	e.insert(e.user.ID, t0.Add(-time.Hour))
	boom := errors.New("boom")
	e.a.fail("DeleteExpired", boom)
	if _, err := e.m.Sweep(ctx); !errors.Is(err, boom) {
		t.Errorf("Sweep on a failing store: %v, want it to wrap %v", err, boom)
	}
}

func TestSweeper(t *testing.T) {
	e := newEnv(t, session.Config{SweepInterval: 5 * time.Millisecond, SweepBatch: 2})
	for i := range 5 {
		e.insert(e.user.ID, t0.Add(-time.Duration(i+1)*time.Minute))
	}
	keep := e.insert(e.user.ID, t0.Add(time.Minute))
	deadline := time.Now().Add(10 * time.Second)
	for e.rowCount() != 1 {
		if time.Now().After(deadline) {
			t.Fatalf("the sweeper left %d rows", e.rowCount())
		}
		time.Sleep(5 * time.Millisecond)
	}
	e.mustRow(keep)

	if err := e.m.Close(); err != nil {
		t.Fatal(err)
	}
	stopped := e.a.count("DeleteExpired")
	e.insert(e.user.ID, t0.Add(-time.Minute))
	time.Sleep(50 * time.Millisecond)
	if n := e.a.count("DeleteExpired"); n != stopped {
		t.Errorf("the sweeper ran %d times after Close", n-stopped)
	}
	if e.rowCount() != 2 {
		t.Error("the sweeper deleted a row after Close")
	}
	if err := e.m.Close(); err != nil {
		t.Errorf("second Close: %v", err)
	}
}

func TestCloseWithoutSweeper(t *testing.T) {
	e := newEnv(t, session.Config{})
	for range 2 {
		if err := e.m.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestAbsoluteLifetime(t *testing.T) {
	const life = 48 * time.Hour
	e := newEnv(t, session.Config{AbsoluteLifetime: life, UpdateAge: session.UpdateAlways})
	c := e.login(e.user.ID)
	hardEnd := t0.Add(life)
	if r := e.mustRow(c.Value); !r.expires.Equal(hardEnd) {
		t.Errorf("created with expires %v, want the hard end %v", r.expires, hardEnd)
	}
	if !c.Expires.Equal(hardEnd.Truncate(time.Second)) {
		t.Errorf("cookie Expires %v, want %v", c.Expires, hardEnd)
	}

	// Used all along, the session is never extended past the hard end.
	for _, at := range []time.Duration{time.Hour, 24 * time.Hour, life - time.Millisecond} {
		e.clock.Set(t0.Add(at))
		w := httptest.NewRecorder()
		var sn seen
		e.m.Middleware(sn.handler()).ServeHTTP(w, request("http://example.com/", c))
		if !sn.ok {
			t.Fatalf("at +%v: no session", at)
		}
		if !sn.s.Expires.Equal(hardEnd) {
			t.Errorf("at +%v: session expires %v, want %v", at, sn.s.Expires, hardEnd)
		}
		if r := e.mustRow(c.Value); !r.expires.Equal(hardEnd) {
			t.Errorf("at +%v: row expires %v, want %v", at, r.expires, hardEnd)
		}
		checkSessionCookie(t, oneCookie(t, w), "next-auth.session-token", false, hardEnd)
	}

	e.clock.Set(hardEnd)
	w := httptest.NewRecorder()
	var sn seen
	e.m.Middleware(sn.handler()).ServeHTTP(w, request("http://example.com/", c))
	if sn.ok {
		t.Error("session valid at its hard end")
	}
	if _, ok := e.row(c.Value); ok {
		t.Error("row not deleted at the hard end")
	}
	checkCleared(t, oneCookie(t, w), "next-auth.session-token", false)
}

// With a lifetime longer than MaxAge the session still ends at the hard
// end, even when the sliding expiry would carry it on.
func TestAbsoluteLifetimeLongerThanMaxAge(t *testing.T) {
	e := newEnv(t, session.Config{MaxAge: 10 * time.Hour, UpdateAge: session.UpdateAlways, AbsoluteLifetime: 25 * time.Hour})
	c := e.login(e.user.ID)
	if r := e.mustRow(c.Value); !r.expires.Equal(t0.Add(10 * time.Hour)) {
		t.Errorf("created with expires %v, want now+MaxAge", r.expires)
	}
	for _, at := range []time.Duration{8 * time.Hour, 15 * time.Hour} {
		e.clock.Set(t0.Add(at))
		if sn := serveOnce(e, c); !sn.ok || !sn.s.Expires.Equal(t0.Add(at+10*time.Hour)) {
			t.Errorf("at +%v: ok=%v expires %v, want now+MaxAge", at, sn.ok, sn.s.Expires)
		}
	}
	e.clock.Set(t0.Add(16 * time.Hour))
	if sn := serveOnce(e, c); !sn.ok || !sn.s.Expires.Equal(t0.Add(25*time.Hour)) {
		t.Errorf("at +16h: ok=%v expires %v, want clamped to the hard end", sn.ok, sn.s.Expires)
	}
	e.clock.Set(t0.Add(25 * time.Hour))
	if sn := serveOnce(e, c); sn.ok {
		t.Error("session valid at its hard end")
	}
	if _, ok := e.row(c.Value); ok {
		t.Error("row not deleted at the hard end")
	}
}

func TestHashTokens(t *testing.T) {
	e := newEnv(t, session.Config{HashTokens: true})
	c := e.login(e.user.ID)
	sum := sha256.Sum256([]byte(c.Value))
	hashed := hex.EncodeToString(sum[:])
	if _, ok := e.row(c.Value); ok {
		t.Error("the database holds the cookie's token")
	}
	e.mustRow(hashed)
	if session.HashToken(c.Value) != hashed {
		t.Error("HashToken is not the hex SHA-256")
	}

	sn := serveOnce(e, c)
	if !sn.ok || sn.u.ID != e.user.ID {
		t.Fatalf("hashed session not validated: %+v", sn)
	}
	if sn.s.Token != hashed {
		t.Errorf("Session.Token = %q, want the stored hash", sn.s.Token)
	}
	// The stored value used as a cookie is no session.
	if sn := serveOnce(e, &http.Cookie{Name: c.Name, Value: hashed}); sn.ok {
		t.Error("the stored hash works as a cookie")
	}

	w := httptest.NewRecorder()
	r := request("http://example.com/logout", c)
	if err := e.m.Destroy(r.Context(), w, r); err != nil {
		t.Fatal(err)
	}
	if _, ok := e.row(hashed); ok {
		t.Error("Destroy left the hashed row")
	}
}

func TestNewManagerPanics(t *testing.T) {
	st := memory.New()
	cases := map[string]func(){
		"nil adapter":               func() { session.NewManager(nil, session.Config{}) },
		"nil *memory.Store":         func() { session.NewManager((*memory.Store)(nil), session.Config{}) },
		"negative MaxAge":           func() { session.NewManager(st, session.Config{MaxAge: -time.Hour}) },
		"negative UpdateAge":        func() { session.NewManager(st, session.Config{UpdateAge: -time.Hour}) },
		"negative AbsoluteLifetime": func() { session.NewManager(st, session.Config{AbsoluteLifetime: -1}) },
		"negative SweepInterval":    func() { session.NewManager(st, session.Config{SweepInterval: -time.Second}) },
		"negative SweepBatch":       func() { session.NewManager(st, session.Config{SweepBatch: -1}) },
	}
	names := make([]string, 0, len(cases))
	for name := range cases {
		names = append(names, name)
	}
	sort.Strings(names)
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			defer func() {
				p := recover()
				if p == nil {
					t.Fatal("no panic")
				}
				if s, ok := p.(string); !ok || !strings.HasPrefix(s, "session: ") {
					t.Errorf("panic %v, want a message prefixed with \"session: \"", p)
				}
			}()
			cases[name]()
		})
	}
	// UpdateAlways is the one negative duration allowed.
	m := session.NewManager(st, session.Config{UpdateAge: session.UpdateAlways})
	m.Close()
}

func TestCountCache(t *testing.T) {
	e := newEnv(t, session.Config{CountCache: 10 * time.Second})
	ctx := context.Background()
	e.insert(e.user.ID, t0.Add(time.Hour))
	want := func(n int64, queries int) {
		t.Helper()
		got, err := e.m.CountActive(ctx)
		if err != nil || got != n {
			t.Errorf("CountActive = %d, %v; want %d", got, err, n)
		}
		if c := e.a.count("CountActive"); c != queries {
			t.Errorf("%d CountActive queries, want %d", c, queries)
		}
	}
	want(1, 1)
	e.insert(e.user.ID, t0.Add(time.Hour))
	want(1, 1) // cached: the new session shows at the next refresh
	e.clock.Set(t0.Add(10*time.Second - time.Millisecond))
	want(1, 1)
	e.clock.Set(t0.Add(10 * time.Second))
	want(2, 2)
	// Per-user counts are never cached.
	if n, _ := e.m.CountUserActive(ctx, e.user.ID); n != 2 {
		t.Errorf("CountUserActive = %d, want 2", n)
	}
	// An error is not cached.
	e.clock.Set(t0.Add(time.Minute))
	e.a.fail("CountActive", errors.New("down"))
	if _, err := e.m.CountActive(ctx); err == nil {
		t.Error("CountActive hid the database error")
	}
	e.a.fail("CountActive", nil)
	e.insert(e.user.ID, t0.Add(time.Hour))
	want(3, 5) // 2 counts, 1 per-user count, 1 failed, 1 now
}

// Create stores the device a sign-in came from where the schema has
// columns for it, and the admin's listing shows it.
func TestCreateRecordsDevice(t *testing.T) {
	st := memory.New()
	ctx := context.Background()
	u, err := st.CreateUser(ctx, session.User{Email: "device@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name, ua, remote string
		clientIP         func(*http.Request) string
		wantUA, wantIP   string
	}{
		{name: "defaults", ua: "Firefox/140", remote: "192.0.2.7:51234", wantUA: "Firefox/140", wantIP: "192.0.2.7"},
		{name: "IPv6", ua: "curl/8", remote: "[2001:db8::5]:443", wantUA: "curl/8", wantIP: "2001:db8::5"},
		{name: "proxy header", ua: "x", remote: "10.0.0.1:1",
			clientIP: func(r *http.Request) string { return r.Header.Get("X-Real-IP") }, wantUA: "x", wantIP: "198.51.100.9"},
		{name: "oversized, invalid UTF-8", ua: strings.Repeat("a", 600) + "\xff", remote: "192.0.2.8:1",
			wantUA: strings.Repeat("a", 512), wantIP: "192.0.2.8"},
		{name: "oversized, cut inside a character", ua: "a" + strings.Repeat("\u00e9", 300), remote: "192.0.2.8:1",
			wantUA: "a" + strings.Repeat("\u00e9", 255), wantIP: "192.0.2.8"},
		// Control characters would reach a terminal, a log line or a CSV
		// export of the dashboard as they are.
		{name: "control characters", remote: "192.0.2.9:1",
			ua:     "Mozilla/5.0\x1b[2J\x1b]0;pwned\x07\r\nX-Admin: yes\x00\x7f\u0085\u009b31m\u202eevil\u2066\u2028end",
			wantUA: "Mozilla/5.0[2J]0;pwnedX-Admin: yes31mevilend", wantIP: "192.0.2.9"},
		{name: "control characters in the client address", ua: "x", remote: "10.0.0.1:1",
			clientIP: func(r *http.Request) string { return "198.51.100.9\r\n\x1b[31m\t" },
			wantUA:   "x", wantIP: "198.51.100.9[31m"},
	} {
		t.Run(c.name, func(t *testing.T) {
			m := session.NewManager(st, session.Config{ClientIP: c.clientIP})
			r := httptest.NewRequest("POST", "/login", nil)
			r.Header.Set("User-Agent", c.ua)
			r.Header.Set("X-Real-IP", "198.51.100.9")
			r.RemoteAddr = c.remote
			s, err := m.Create(ctx, httptest.NewRecorder(), r, u.ID)
			if err != nil {
				t.Fatal(err)
			}
			if s.UserAgent != c.wantUA || s.IP != c.wantIP {
				t.Errorf("Create: device %q %q, want %q %q", s.UserAgent, s.IP, c.wantUA, c.wantIP)
			}
			list, err := m.ListActive(ctx, u.ID, 0)
			if err != nil {
				t.Fatal(err)
			}
			found := false
			for _, su := range list {
				if su.Session.Token == s.Token {
					found = su.Session.UserAgent == c.wantUA && su.Session.IP == c.wantIP
				}
			}
			if !found {
				t.Errorf("ListActive does not show the session with its device")
			}
		})
	}
}
