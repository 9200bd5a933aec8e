package session_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nextsession/nextsession/session"
)

// seen records what a handler behind the middleware found.
type seen struct {
	called bool
	ok     bool
	u      session.User
	s      session.Session
}

func (sn *seen) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		sn.called = true
		sn.u, sn.s, sn.ok = session.FromContext(r.Context())
		w.Write([]byte("ok"))
	})
}

// serveOnce sends one plain http request with the cookie through the
// middleware and says what the handler saw.
func serveOnce(e *env, c *http.Cookie) seen {
	e.t.Helper()
	var sn seen
	w := httptest.NewRecorder()
	e.m.Middleware(sn.handler()).ServeHTTP(w, request("http://example.com/", c))
	if w.Code != http.StatusOK {
		e.t.Fatalf("status %d: %s", w.Code, w.Body)
	}
	return sn
}

// serve sends r through the middleware.
func (e *env) serve(r *http.Request) (seen, *httptest.ResponseRecorder) {
	var sn seen
	w := httptest.NewRecorder()
	e.m.Middleware(sn.handler()).ServeHTTP(w, r)
	return sn, w
}

func TestFromContextWithoutMiddleware(t *testing.T) {
	u, s, ok := session.FromContext(context.Background())
	if ok || u != (session.User{}) || s != (session.Session{}) {
		t.Errorf("FromContext of an empty context = %+v, %+v, %v", u, s, ok)
	}
}

func TestMiddlewareValidSession(t *testing.T) {
	e := newEnv(t, session.Config{})
	c := e.login(e.user.ID)
	e.clock.Set(t0.Add(time.Hour))
	e.a.reset()

	sn, w := e.serve(request("http://example.com/", c))
	if !sn.called || !sn.ok {
		t.Fatalf("no session in the context: %+v", sn)
	}
	if sn.u.ID != e.user.ID || sn.u.Email != "ada@example.com" || sn.u.Name != "Ada Lovelace" {
		t.Errorf("user %+v", sn.u)
	}
	if sn.s.Token != c.Value || sn.s.UserID != e.user.ID || !sn.s.Expires.Equal(t0.Add(maxAge)) || !sn.s.CreatedAt.Equal(t0) {
		t.Errorf("session %+v", sn.s)
	}
	// Not due for update: no write, but the cookie moves forward.
	checkSessionCookie(t, oneCookie(t, w), "next-auth.session-token", false, t0.Add(time.Hour+maxAge))
	if r := e.mustRow(c.Value); !r.expires.Equal(t0.Add(maxAge)) {
		t.Errorf("row expires %v, want unchanged %v", r.expires, t0.Add(maxAge))
	}
	if n := e.a.total(); n != 1 {
		t.Errorf("%d adapter calls, want 1 (GetSessionAndUser)", n)
	}
}

func TestMiddlewareNoCookie(t *testing.T) {
	e := newEnv(t, session.Config{})
	sn, w := e.serve(request("http://example.com/"))
	if !sn.called || sn.ok {
		t.Errorf("called=%v ok=%v, want the handler called without a session", sn.called, sn.ok)
	}
	if h := w.Result().Header.Values("Set-Cookie"); len(h) != 0 {
		t.Errorf("Set-Cookie %v on a request without a cookie", h)
	}
	if n := e.a.total(); n != 0 {
		t.Errorf("%d adapter calls, want 0", n)
	}
}

// NextAuth's rule: a read extends the session when
// expires - maxAge + updateAge <= now.
func TestSlidingExpiryBoundary(t *testing.T) {
	e := newEnv(t, session.Config{})
	c := e.login(e.user.ID)
	boundary := t0.Add(maxAge).Add(-maxAge).Add(updateAge) // t0 + 24h

	e.clock.Set(boundary.Add(-time.Millisecond))
	e.a.reset()
	sn, w := e.serve(request("http://example.com/", c))
	if !sn.ok {
		t.Fatal("no session")
	}
	if r := e.mustRow(c.Value); !r.expires.Equal(t0.Add(maxAge)) {
		t.Errorf("1ms before the boundary: row expires %v, want unchanged %v", r.expires, t0.Add(maxAge))
	}
	if n := e.a.count("UpdateSession"); n != 0 {
		t.Errorf("1ms before the boundary: %d UpdateSession calls", n)
	}
	if !sn.s.Expires.Equal(t0.Add(maxAge)) {
		t.Errorf("1ms before the boundary: Session.Expires %v", sn.s.Expires)
	}
	checkSessionCookie(t, oneCookie(t, w), "next-auth.session-token", false, boundary.Add(-time.Millisecond).Add(maxAge))

	e.clock.Set(boundary)
	sn, w = e.serve(request("http://example.com/", c))
	if !sn.ok {
		t.Fatal("no session")
	}
	want := boundary.Add(maxAge)
	if r := e.mustRow(c.Value); !r.expires.Equal(want) {
		t.Errorf("at the boundary: row expires %v, want %v", r.expires, want)
	}
	if !sn.s.Expires.Equal(want) {
		t.Errorf("at the boundary: Session.Expires %v, want %v", sn.s.Expires, want)
	}
	checkSessionCookie(t, oneCookie(t, w), "next-auth.session-token", false, want)

	// Right after an update, the next one is a whole updateAge away.
	e.clock.Set(boundary.Add(time.Hour))
	e.a.reset()
	e.serve(request("http://example.com/", c))
	if n := e.a.count("UpdateSession"); n != 0 {
		t.Errorf("an hour after an update: %d UpdateSession calls", n)
	}
}

func TestUpdateAlways(t *testing.T) {
	e := newEnv(t, session.Config{UpdateAge: session.UpdateAlways})
	c := e.login(e.user.ID)
	for _, d := range []time.Duration{time.Second, time.Second + time.Millisecond, time.Minute} {
		now := t0.Add(d)
		e.clock.Set(now)
		if sn, _ := e.serve(request("http://example.com/", c)); !sn.ok {
			t.Fatal("no session")
		}
		if r := e.mustRow(c.Value); !r.expires.Equal(now.Add(maxAge)) {
			t.Errorf("at +%v: row expires %v, want %v", d, r.expires, now.Add(maxAge))
		}
	}
}

func TestExpiredSession(t *testing.T) {
	e := newEnv(t, session.Config{})
	c := e.login(e.user.ID)
	c2 := e.login(e.user.ID)
	expires := t0.Add(maxAge)

	// expires == now is still valid.
	e.clock.Set(expires)
	if sn, _ := e.serve(request("http://example.com/", c)); !sn.ok {
		t.Fatal("session invalid when expires == now")
	}

	e.clock.Set(expires.Add(time.Millisecond))
	sn, w := e.serve(request("http://example.com/", c2))
	if !sn.called || sn.ok {
		t.Fatalf("called=%v ok=%v, want the handler called without a session", sn.called, sn.ok)
	}
	if _, ok := e.row(c2.Value); ok {
		t.Error("expired row not deleted")
	}
	checkCleared(t, oneCookie(t, w), "next-auth.session-token", false)
}

func TestCookieWithoutRow(t *testing.T) {
	e := newEnv(t, session.Config{})
	tok, _ := session.NewUUIDToken()
	sn, w := e.serve(request("http://example.com/", &http.Cookie{Name: "next-auth.session-token", Value: tok}))
	if !sn.called || sn.ok {
		t.Errorf("called=%v ok=%v", sn.called, sn.ok)
	}
	checkCleared(t, oneCookie(t, w), "next-auth.session-token", false)

	// Cleared the same way on https.
	sn, w = e.serve(request("https://example.com/", &http.Cookie{Name: "__Secure-next-auth.session-token", Value: tok}))
	if sn.ok {
		t.Error("session without a row")
	}
	checkCleared(t, oneCookie(t, w), "__Secure-next-auth.session-token", true)
}

func TestDatabaseError(t *testing.T) {
	e := newEnv(t, session.Config{})
	c := e.login(e.user.ID)
	down := errors.New("database is down")
	e.a.fail("GetSessionAndUser", down)

	sn, w := e.serve(request("http://example.com/", c))
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", w.Code)
	}
	if sn.called {
		t.Error("the handler was called during an outage")
	}
	if h := w.Result().Header.Values("Set-Cookie"); len(h) != 0 {
		t.Errorf("an outage touched the cookie: %v", h)
	}
	e.mustRow(c.Value)

	e.a.fail("GetSessionAndUser", nil)
	sn, w = e.serve(request("http://example.com/", c))
	if w.Code != http.StatusOK || !sn.ok {
		t.Errorf("after the outage: status %d, session %v", w.Code, sn.ok)
	}
}

func TestUpdateError(t *testing.T) {
	e := newEnv(t, session.Config{})
	c := e.login(e.user.ID)
	e.clock.Set(t0.Add(updateAge))
	e.a.fail("UpdateSession", errors.New("disk full"))
	sn, w := e.serve(request("http://example.com/", c))
	if w.Code != http.StatusServiceUnavailable || sn.called {
		t.Errorf("status %d, handler called %v; want 503 and not called", w.Code, sn.called)
	}
}

func TestCustomErrorFunc(t *testing.T) {
	var got error
	calls := 0
	e := newEnv(t, session.Config{ErrorFunc: func(w http.ResponseWriter, r *http.Request, err error) {
		calls++
		got = err
		http.Error(w, "try again", http.StatusTeapot)
	}})
	c := e.login(e.user.ID)
	down := errors.New("database is down")
	e.a.fail("GetSessionAndUser", down)
	sn, w := e.serve(request("http://example.com/", c))
	if calls != 1 || !errors.Is(got, down) {
		t.Errorf("ErrorFunc called %d times with %v, want once with an error wrapping %v", calls, got, down)
	}
	if w.Code != http.StatusTeapot || sn.called {
		t.Errorf("status %d, handler called %v", w.Code, sn.called)
	}
}

func TestRequireSession(t *testing.T) {
	e := newEnv(t, session.Config{})
	c := e.login(e.user.ID)
	var sn seen
	h := e.m.RequireSession(sn.handler())

	w := httptest.NewRecorder()
	h.ServeHTTP(w, request("http://example.com/private"))
	if w.Code != http.StatusUnauthorized || sn.called {
		t.Errorf("without a session: status %d, handler called %v; want 401", w.Code, sn.called)
	}

	w = httptest.NewRecorder()
	h.ServeHTTP(w, request("http://example.com/private", c))
	if w.Code != http.StatusOK || !sn.ok || sn.u.ID != e.user.ID {
		t.Errorf("with a session: status %d, %+v", w.Code, sn)
	}

	// Inside Middleware the session is read once.
	e.a.reset()
	sn = seen{}
	w = httptest.NewRecorder()
	e.m.Middleware(e.m.RequireSession(sn.handler())).ServeHTTP(w, request("http://example.com/private", c))
	if !sn.ok || e.a.count("GetSessionAndUser") != 1 {
		t.Errorf("nested: ok=%v, %d reads; want 1", sn.ok, e.a.count("GetSessionAndUser"))
	}

	e2 := newEnv(t, session.Config{LoginURL: "/login?next=x"})
	sn = seen{}
	w = httptest.NewRecorder()
	e2.m.RequireSession(sn.handler()).ServeHTTP(w, request("http://example.com/private"))
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/login?next=x" || sn.called {
		t.Errorf("with LoginURL: status %d, Location %q; want 303 to /login?next=x", w.Code, w.Header().Get("Location"))
	}
}

func TestSessionHandler(t *testing.T) {
	e := newEnv(t, session.Config{})
	c := e.login(e.user.ID)
	readExpires := t0.Add(maxAge)
	now := t0.Add(25 * time.Hour) // an update is due
	e.clock.Set(now)

	w := httptest.NewRecorder()
	e.m.SessionHandler().ServeHTTP(w, request("http://example.com/api/auth/session", c))
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	want := `{"user":{"name":"Ada Lovelace","email":"ada@example.com","image":null},"expires":"2025-03-31T12:00:00.250Z"}`
	if got := strings.TrimSpace(w.Body.String()); got != want {
		t.Errorf("body\n%s\nwant\n%s", got, want)
	}
	if session.FormatISO(readExpires) != "2025-03-31T12:00:00.250Z" {
		t.Errorf("FormatISO = %s", session.FormatISO(readExpires))
	}
	if got := w.Header().Get("Cache-Control"); got != "private, no-cache, no-store" {
		t.Errorf("Cache-Control %q", got)
	}
	if got := w.Header().Get("Content-Type"); !strings.HasPrefix(got, "application/json") {
		t.Errorf("Content-Type %q", got)
	}
	if r := e.mustRow(c.Value); !r.expires.Equal(now.Add(maxAge)) {
		t.Errorf("row expires %v, want extended to %v", r.expires, now.Add(maxAge))
	}
	checkSessionCookie(t, oneCookie(t, w), "next-auth.session-token", false, now.Add(maxAge))

	// Behind Middleware it reads the session once and reports the same.
	e.clock.Set(now.Add(25 * time.Hour))
	e.a.reset()
	w = httptest.NewRecorder()
	e.m.Middleware(e.m.SessionHandler()).ServeHTTP(w, request("http://example.com/api/auth/session", c))
	var body struct {
		User    map[string]any
		Expires string
	}
	if err := json.Unmarshal(w.Body.Bytes(), &body); err != nil {
		t.Fatalf("%v: %s", err, w.Body)
	}
	if body.Expires != session.FormatISO(now.Add(maxAge)) || e.a.count("GetSessionAndUser") != 1 {
		t.Errorf("behind Middleware: expires %s (want %s), %d reads", body.Expires, session.FormatISO(now.Add(maxAge)), e.a.count("GetSessionAndUser"))
	}
}

func TestSessionHandlerWithoutSession(t *testing.T) {
	for _, tc := range []struct {
		version session.CookieVersion
		body    string
	}{{session.CookieV4, "{}"}, {session.CookieV5, "null"}} {
		e := newEnv(t, session.Config{CookieVersion: tc.version})
		for _, h := range []http.Handler{e.m.SessionHandler(), e.m.Middleware(e.m.SessionHandler())} {
			w := httptest.NewRecorder()
			h.ServeHTTP(w, request("http://example.com/api/auth/session"))
			if w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != tc.body {
				t.Errorf("version %v: %d %q, want 200 %s", tc.version, w.Code, w.Body, tc.body)
			}
			if got := w.Header().Get("Cache-Control"); got != "private, no-cache, no-store" {
				t.Errorf("Cache-Control %q", got)
			}
		}
		// An expired session reads as none and its cookie is cleared.
		c := e.login(e.user.ID)
		e.clock.Set(t0.Add(maxAge + time.Millisecond))
		w := httptest.NewRecorder()
		e.m.SessionHandler().ServeHTTP(w, request("http://example.com/api/auth/session", c))
		if strings.TrimSpace(w.Body.String()) != tc.body {
			t.Errorf("version %v, expired: %q, want %s", tc.version, w.Body, tc.body)
		}
		checkCleared(t, oneCookie(t, w), c.Name, false)
	}
}

func TestSessionHandlerDatabaseError(t *testing.T) {
	e := newEnv(t, session.Config{})
	c := e.login(e.user.ID)
	e.a.fail("GetSessionAndUser", errors.New("down"))
	w := httptest.NewRecorder()
	e.m.SessionHandler().ServeHTTP(w, request("http://example.com/api/auth/session", c))
	if w.Code != http.StatusServiceUnavailable {
		t.Errorf("status %d, want 503", w.Code)
	}
	if strings.Contains(w.Body.String(), "{}") || strings.Contains(w.Body.String(), "null") {
		t.Errorf("an outage answered as signed out: %q", w.Body)
	}
}

func TestSessionHandlerImageAndNulls(t *testing.T) {
	e := newEnv(t, session.Config{})
	u, err := e.a.CreateUser(context.Background(), session.User{Email: "x@example.com", Image: "https://example.com/a.png"})
	if err != nil {
		t.Fatal(err)
	}
	c := e.login(u.ID)
	w := httptest.NewRecorder()
	e.m.SessionHandler().ServeHTTP(w, request("http://example.com/api/auth/session", c))
	want := `{"user":{"name":null,"email":"x@example.com","image":"https://example.com/a.png"},"expires":"2025-03-31T12:00:00.250Z"}`
	if got := strings.TrimSpace(w.Body.String()); got != want {
		t.Errorf("body\n%s\nwant\n%s", got, want)
	}
}

// A response that sets or clears the session cookie is kept from shared
// caches (Cache-Control: private, Vary: Cookie): a CDN that stored one
// would hand a user's session, or a sign-out, to the next visitor. A
// Cache-Control set before the middleware, or by the handler, is kept.
func TestSessionResponsesNotShared(t *testing.T) {
	e := newEnv(t, session.Config{})
	c := e.login(e.user.ID)
	private := func(t *testing.T, what string, h http.Header, cacheControl string) {
		t.Helper()
		if got := h.Get("Cache-Control"); got != cacheControl {
			t.Errorf("%s: Cache-Control %q, want %q", what, got, cacheControl)
		}
		vary := strings.ToLower(strings.Join(h.Values("Vary"), ","))
		if !strings.Contains(vary, "cookie") {
			t.Errorf("%s: Vary %q, want Cookie in it", what, vary)
		}
		if strings.Count(vary, "cookie") > 1 {
			t.Errorf("%s: Vary %q names Cookie twice", what, vary)
		}
	}
	handler := func(cacheControl string) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if cacheControl != "" {
				w.Header().Set("Cache-Control", cacheControl)
			}
			w.Write([]byte("hello"))
		})
	}

	w := httptest.NewRecorder()
	e.m.Middleware(handler("")).ServeHTTP(w, request("http://example.com/", c))
	private(t, "signed in", w.Header(), "private")

	w = httptest.NewRecorder()
	e.m.Middleware(handler("no-store")).ServeHTTP(w, request("http://example.com/", c))
	private(t, "handler's own Cache-Control", w.Header(), "no-store")

	w = httptest.NewRecorder()
	w.Header().Set("Cache-Control", "no-cache")
	w.Header().Set("Vary", "Accept-Encoding, cookie")
	e.m.Middleware(handler("")).ServeHTTP(w, request("http://example.com/", c))
	private(t, "upstream headers", w.Header(), "no-cache")

	w = httptest.NewRecorder()
	e.m.Middleware(handler("")).ServeHTTP(w, request("http://example.com/",
		&http.Cookie{Name: c.Name, Value: "00000000-0000-4000-8000-000000000000"}))
	private(t, "cookie cleared", w.Header(), "private")

	w = httptest.NewRecorder()
	r := request("http://example.com/login")
	if _, err := e.m.Create(r.Context(), w, r, e.user.ID); err != nil {
		t.Fatal(err)
	}
	private(t, "Create", w.Header(), "private")

	w = httptest.NewRecorder()
	r = request("http://example.com/logout", c)
	if err := e.m.Destroy(r.Context(), w, r); err != nil {
		t.Fatal(err)
	}
	private(t, "Destroy", w.Header(), "private")

	// A handler that adds to the headers the middleware set, behind an
	// upstream that set a cookie of its own, changes only what it adds.
	c = e.login(e.user.ID)
	w = httptest.NewRecorder()
	w.Header().Add("Set-Cookie", "theme=dark")
	e.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Add("Vary", "Accept-Encoding")
		w.Header().Add("Cache-Control", "must-revalidate")
		w.Header().Add("Set-Cookie", "seen=1")
	})).ServeHTTP(w, request("http://example.com/", c))
	h := w.Header()
	if got := h.Values("Cache-Control"); !slices.Equal(got, []string{"private", "must-revalidate"}) {
		t.Errorf("handler's additions: Cache-Control %q", got)
	}
	if got := h.Values("Vary"); !slices.Equal(got, []string{"Cookie", "Accept-Encoding"}) {
		t.Errorf("handler's additions: Vary %q", got)
	}
	if got := h.Values("Set-Cookie"); len(got) != 3 || got[0] != "theme=dark" || !strings.HasPrefix(got[1], c.Name+"="+c.Value+";") || got[2] != "seen=1" {
		t.Errorf("handler's additions: Set-Cookie %q", got)
	}

	// A response without the cookie is the application's to cache.
	w = httptest.NewRecorder()
	e.m.Middleware(handler("")).ServeHTTP(w, request("http://example.com/"))
	if h := w.Header(); h.Get("Cache-Control") != "" || h.Get("Vary") != "" {
		t.Errorf("no cookie: Cache-Control %q, Vary %q; want neither", h.Get("Cache-Control"), h.Get("Vary"))
	}
}

// A handler behind the middleware that parses a multipart upload leaves no
// temporary files, whatever cookie came with it: net/http removes only
// those of the request it passed in, not of the copy the middleware
// hands on.
func TestMultipartTempFilesRemoved(t *testing.T) {
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp) // os.TempDir, where multipart spools, reads it
	e := newEnv(t, session.Config{})
	valid := e.login(e.user.ID)

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	fw, err := mw.CreateFormFile("upload", "big.bin")
	if err != nil {
		t.Fatal(err)
	}
	fw.Write(bytes.Repeat([]byte("x"), 2<<20))
	mw.Close()

	srv := httptest.NewServer(e.m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseMultipartForm(1 << 10); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		if len(r.MultipartForm.File["upload"]) != 1 {
			http.Error(w, "no file", http.StatusBadRequest)
		}
	})))
	defer srv.Close()
	for _, tc := range []struct {
		name   string
		cookie *http.Cookie
	}{
		{"no cookie", nil},
		{"valid cookie", valid},
		{"junk cookie", &http.Cookie{Name: valid.Name, Value: "x"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, err := http.NewRequest("POST", srv.URL, bytes.NewReader(body.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			r.Header.Set("Content-Type", mw.FormDataContentType())
			if tc.cookie != nil {
				r.AddCookie(tc.cookie)
			}
			res, err := srv.Client().Do(r)
			if err != nil {
				t.Fatal(err)
			}
			msg, _ := io.ReadAll(res.Body)
			res.Body.Close()
			if res.StatusCode != http.StatusOK {
				t.Fatalf("status %d: %s", res.StatusCode, msg)
			}
			// The server finishes the request (and removes what it
			// removes) after the response is sent.
			var left []string
			for range 100 {
				left, _ = filepath.Glob(filepath.Join(tmp, "multipart-*"))
				if len(left) == 0 {
					break
				}
				time.Sleep(10 * time.Millisecond)
			}
			if len(left) != 0 {
				t.Errorf("temporary files left: %v", left)
			}
		})
	}
}
