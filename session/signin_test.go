package session_test

import (
	"context"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/memory"
)

// Start signs in without HTTP: the token it returns validates, the store
// holds it (or its hash), and no cookie is involved.
func TestStart(t *testing.T) {
	for _, hash := range []bool{false, true} {
		e := newEnv(t, session.Config{HashTokens: hash})
		ctx := context.Background()
		token, s, err := e.m.Start(ctx, e.user.ID, session.Device{UserAgent: strings.Repeat("ü", 300) + "\xff", IP: "192.0.2.1"})
		if err != nil {
			t.Fatal(err)
		}
		if !uuidV4.MatchString(token) {
			t.Errorf("token %q is not a UUID v4", token)
		}
		stored := token
		if hash {
			stored = session.HashToken(token)
		}
		if s.Token != stored || s.UserID != e.user.ID || !s.Expires.Equal(t0.Add(maxAge)) || !s.CreatedAt.Equal(t0) {
			t.Errorf("Start returned %+v, want token %q, user %s, expires %v", s, stored, e.user.ID, t0.Add(maxAge))
		}
		if len(s.UserAgent) > 512 || !strings.HasPrefix(s.UserAgent, "üü") || strings.ContainsRune(s.UserAgent, '\uFFFD') || s.IP != "192.0.2.1" {
			t.Errorf("device %q (%d bytes), %q: want at most 512 bytes of valid UTF-8 and the IP", s.UserAgent, len(s.UserAgent), s.IP)
		}
		if r := e.mustRow(stored); r.userID != e.user.ID {
			t.Errorf("row of user %q", r.userID)
		}
		res, err := e.m.Validate(ctx, token)
		if err != nil || res.User.ID != e.user.ID {
			t.Errorf("Validate(Start's token) = user %q, %v", res.User.ID, err)
		}
	}
}

func TestStartUnknownUser(t *testing.T) {
	e := newEnv(t, session.Config{})
	for _, id := range []string{"", "no-such-user", "\x00", strings.Repeat("x", 5000)} {
		token, _, err := e.m.Start(context.Background(), id, session.Device{})
		if !errors.Is(err, session.ErrUnknownUser) || token != "" {
			t.Errorf("Start(%.20q) = %q, %v; want no token, ErrUnknownUser", id, token, err)
		}
	}
	if n := e.rowCount(); n != 0 {
		t.Errorf("%d rows, want 0", n)
	}
}

// SetCookie writes the cookie Create writes, and clears leftover chunks.
func TestSetCookie(t *testing.T) {
	e := newEnv(t, session.Config{})
	token, s, err := e.m.Start(context.Background(), e.user.ID, session.Device{})
	if err != nil {
		t.Fatal(err)
	}
	r := request("https://example.com/login", &http.Cookie{Name: "__Secure-next-auth.session-token.0", Value: "old"})
	w := httptest.NewRecorder()
	e.m.SetCookie(w, r, token, s.Expires)
	cs := setCookies(t, w)
	if len(cs) != 2 {
		t.Fatalf("%d Set-Cookie headers, want the cleared chunk and the cookie", len(cs))
	}
	checkCleared(t, cs[0], "__Secure-next-auth.session-token.0", true)
	checkSessionCookie(t, cs[1], "__Secure-next-auth.session-token", true, s.Expires)
	if cs[1].cookie.Value != token {
		t.Errorf("cookie value %q, want the token", cs[1].cookie.Value)
	}
	if sn, _ := e.serve(request("https://example.com/", cs[1].cookie)); !sn.ok {
		t.Error("the cookie SetCookie wrote does not sign in")
	}
}

func TestNextAuthLifetimes(t *testing.T) {
	for _, c := range []struct {
		maxAge, updateAge int
		wantMax, wantUpd  time.Duration
	}{
		{2592000, 86400, session.DefaultMaxAge, session.DefaultUpdateAge}, // NextAuth's defaults
		{3600, 0, time.Hour, session.UpdateAlways},                        // the zero trap
		{60, 120, time.Minute, 2 * time.Minute},
	} {
		m, u := session.NextAuthLifetimes(c.maxAge, c.updateAge)
		if m != c.wantMax || u != c.wantUpd {
			t.Errorf("NextAuthLifetimes(%d, %d) = %v, %v; want %v, %v", c.maxAge, c.updateAge, m, u, c.wantMax, c.wantUpd)
		}
	}
	for _, bad := range [][2]int{{0, 0}, {-1, 10}, {10, -1}, {math.MaxInt, 0}, {10, math.MaxInt}, {math.MinInt, math.MinInt}} {
		func() {
			defer func() {
				if p, ok := recover().(string); !ok || !strings.HasPrefix(p, "session: ") {
					t.Errorf("NextAuthLifetimes(%d, %d): panic %v, want a session: message", bad[0], bad[1], p)
				}
			}()
			session.NextAuthLifetimes(bad[0], bad[1])
		}()
	}

	// updateAge: 0 as NextAuth means it: a read a millisecond after
	// sign-in moves the expiry.
	var cfg session.Config
	cfg.MaxAge, cfg.UpdateAge = session.NextAuthLifetimes(3600, 0)
	e := newEnv(t, cfg)
	c := e.login(e.user.ID)
	e.clock.Set(t0.Add(time.Millisecond))
	if sn := serveOnce(e, c); !sn.ok || !sn.s.Expires.Equal(t0.Add(time.Hour+time.Millisecond)) {
		t.Errorf("read 1ms after sign-in: ok %v, expires %v; want extended to %v", sn.ok, sn.s.Expires, t0.Add(time.Hour+time.Millisecond))
	}
}

// abilities lists the Manager methods that need an optional ability of
// the store, by the ability.
var abilities = []struct {
	method, ability string
	call            func(m *session.Manager) error
}{
	{"ListActive", "SessionLister", func(m *session.Manager) error {
		_, err := m.ListActive(context.Background(), "", 0)
		return err
	}},
	{"RevokeHandle", "SessionLister", func(m *session.Manager) error {
		_, err := m.RevokeHandle(context.Background(), "ada", "handle")
		return err
	}},
	{"RevokeUser", "UserSessionDeleter", func(m *session.Manager) error {
		_, err := m.RevokeUser(context.Background(), "ada")
		return err
	}},
	{"RevokeOthers", "UserSessionDeleter", func(m *session.Manager) error {
		_, err := m.RevokeOthers(context.Background(), session.Session{Token: "t", UserID: "ada"})
		return err
	}},
	{"CountActive", "ActiveCounter", func(m *session.Manager) error {
		_, err := m.CountActive(context.Background())
		return err
	}},
	{"CountUserActive", "ActiveCounter", func(m *session.Manager) error {
		_, err := m.CountUserActive(context.Background(), "ada")
		return err
	}},
	{"Sweep", "ExpiredDeleter", func(m *session.Manager) error {
		_, err := m.Sweep(context.Background())
		return err
	}},
}

// A store with only the four Store methods serves sign-in, validation
// and sign-out; each method that needs an ability says so with
// errors.ErrUnsupported, and works on a store that has it.
func TestAbilities(t *testing.T) {
	small := session.NewManager(&mapStore{users: map[string]session.User{}, sessions: map[string]session.Session{}}, session.Config{})
	full := session.NewManager(memory.New(), session.Config{})
	for _, a := range abilities {
		err := a.call(small)
		if !errors.Is(err, errors.ErrUnsupported) || !strings.Contains(err.Error(), a.ability) {
			t.Errorf("%s on a bare Store: %v, want ErrUnsupported naming %s", a.method, err, a.ability)
		}
		if err := a.call(full); err != nil {
			t.Errorf("%s on the memory store: %v", a.method, err)
		}
	}
	func() {
		defer func() {
			if recover() == nil {
				t.Error("SweepInterval on a store that cannot sweep did not panic")
			}
		}()
		session.NewManager(&mapStore{}, session.Config{SweepInterval: time.Minute})
	}()
}

// The /session body is byte for byte what Auth.js's JSON.stringify sends
// for the same user, hostile characters included, with no newline at the
// end. The expected bodies were printed by Node 20's JSON.stringify.
func TestSessionBodyIsJSONStringify(t *testing.T) {
	for _, c := range []struct {
		user session.User
		want string
	}{
		{session.User{Name: "Bob", Email: "bob@example.com"},
			`{"user":{"name":"Bob","email":"bob@example.com","image":null},"expires":"2025-03-31T12:00:00.250Z"}`},
		{session.User{Name: "A \"q\" \\ <b>&amp; \u2028\u2029 \b\t\n\f\r\x01\x1f\x7f é 😀", Email: "x@example.com", Image: "</script>"},
			"{\"user\":{\"name\":\"A \\\"q\\\" \\\\ <b>&amp; \u2028\u2029 \\b\\t\\n\\f\\r\\u0001\\u001f\x7f é 😀\",\"email\":\"x@example.com\",\"image\":\"</script>\"},\"expires\":\"2025-03-31T12:00:00.250Z\"}"},
		{session.User{Name: "bad \xff UTF-8"},
			`{"user":{"name":"bad ` + "\uFFFD" + ` UTF-8","email":null,"image":null},"expires":"2025-03-31T12:00:00.250Z"}`},
	} {
		e := newEnv(t, session.Config{})
		u, err := e.a.CreateUser(context.Background(), c.user)
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		e.m.SessionHandler().ServeHTTP(w, request("http://example.com/api/auth/session", e.login(u.ID)))
		if got := w.Body.String(); got != c.want {
			t.Errorf("body\n got %q\nwant %q", got, c.want)
		}
	}
}

// Load validates a request's cookie for code that runs without
// Middleware: the session's user, ErrNoSession for no usable cookie (and
// no query for one that cannot be a token), the store's error otherwise.
func TestLoad(t *testing.T) {
	e := newEnv(t, session.Config{})
	c := e.login(e.user.ID)
	e.a.reset()
	res, err := e.m.Load(request("http://example.com/", c))
	if err != nil || res.User.ID != e.user.ID || res.Session.UserID != e.user.ID {
		t.Errorf("Load(valid cookie) = user %q, %v", res.User.ID, err)
	}
	for _, r := range []*http.Request{
		request("http://example.com/"),
		request("http://example.com/", &http.Cookie{Name: c.Name, Value: "garbage"}),
		request("https://example.com/", c), // the plain name is not read over https
	} {
		if _, err := e.m.Load(r); !errors.Is(err, session.ErrNoSession) {
			t.Errorf("Load(%s, %v): %v, want ErrNoSession", r.URL, r.Cookies(), err)
		}
	}
	if n := e.a.queries(); n != 1 {
		t.Errorf("%d session queries, want 1 (the valid cookie's)", n)
	}
	down := errors.New("down")
	e.a.fail("GetSessionAndUser", down)
	if _, err := e.m.Load(request("http://example.com/", c)); !errors.Is(err, down) || errors.Is(err, session.ErrNoSession) {
		t.Errorf("Load with the store down: %v, want the store's error", err)
	}
}
