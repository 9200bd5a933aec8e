package session_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/nextsession/nextsession/session"
)

func TestCookieNames(t *testing.T) {
	for _, tc := range []struct {
		name   string
		cfg    session.Config
		url    string
		cookie string
		secure bool
	}{
		{"v4 default", session.Config{}, "http://example.com/", "next-auth.session-token", false},
		{"v4 tls", session.Config{}, "https://example.com/", "__Secure-next-auth.session-token", true},
		{"v5", session.Config{CookieVersion: session.CookieV5}, "http://example.com/", "authjs.session-token", false},
		{"v5 tls", session.Config{CookieVersion: session.CookieV5}, "https://example.com/", "__Secure-authjs.session-token", true},
		{"override", session.Config{CookieName: "app.sid", CookieVersion: session.CookieV5}, "http://example.com/", "app.sid", false},
		{"override tls", session.Config{CookieName: "app.sid"}, "https://example.com/", "__Secure-app.sid", true},
		{"always on http", session.Config{Secure: session.SecureAlways}, "http://example.com/", "__Secure-next-auth.session-token", true},
		{"never on tls", session.Config{Secure: session.SecureNever}, "https://example.com/", "next-auth.session-token", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, tc.cfg)
			r := request(tc.url + "login")
			if (r.TLS != nil) != strings.HasPrefix(tc.url, "https") {
				t.Fatal("httptest did not set r.TLS as expected")
			}
			if got := e.m.CookieName(r); got != tc.cookie {
				t.Errorf("CookieName = %q, want %q", got, tc.cookie)
			}
			w := httptest.NewRecorder()
			if _, err := e.m.Create(r.Context(), w, r, e.user.ID); err != nil {
				t.Fatal(err)
			}
			c := oneCookie(t, w)
			checkSessionCookie(t, c, tc.cookie, tc.secure, t0.Add(maxAge))

			// The middleware reads the cookie it set, and sets it again
			// under the same name.
			sn, w := e.serve(request(tc.url, c.cookie))
			if !sn.ok {
				t.Fatal("the cookie Create set is not read back")
			}
			checkSessionCookie(t, oneCookie(t, w), tc.cookie, tc.secure, t0.Add(maxAge))

			// Sign-out clears it under the same name.
			w = httptest.NewRecorder()
			r = request(tc.url+"logout", c.cookie)
			if err := e.m.Destroy(r.Context(), w, r); err != nil {
				t.Fatal(err)
			}
			checkCleared(t, oneCookie(t, w), tc.cookie, tc.secure)
		})
	}
}

func TestCookieDomain(t *testing.T) {
	e := newEnv(t, session.Config{CookieDomain: "example.com"})
	w := httptest.NewRecorder()
	r := request("http://app.example.com/login")
	if _, err := e.m.Create(r.Context(), w, r, e.user.ID); err != nil {
		t.Fatal(err)
	}
	c := oneCookie(t, w)
	if got := c.attrs["domain"]; got != "example.com" {
		t.Errorf("Domain %q, want example.com (%s)", got, c.raw)
	}
}

// On https only the __Secure- cookie is read: a plain-named cookie there
// may have been set by anyone on plain http, so there is no fallback.
func TestNoFallbackFromSecureName(t *testing.T) {
	e := newEnv(t, session.Config{})
	plain := e.login(e.user.ID) // set on http, plain name
	e.a.reset()
	sn, w := e.serve(request("https://example.com/", plain))
	if !sn.called || sn.ok {
		t.Errorf("called=%v ok=%v: the plain cookie was read on https", sn.called, sn.ok)
	}
	if n := e.a.total(); n != 0 {
		t.Errorf("%d adapter calls, want 0", n)
	}
	if h := w.Result().Header.Values("Set-Cookie"); len(h) != 0 {
		t.Errorf("Set-Cookie %v", h)
	}

	// Nor the other way round.
	secure := e.loginOn(request("https://example.com/login"), e.user.ID)
	if sn, _ := e.serve(request("http://example.com/", secure)); sn.ok {
		t.Error("the __Secure- cookie was read on http under SecureAuto")
	}
}

func TestChunkedCookie(t *testing.T) {
	e := newEnv(t, session.Config{})
	tok := e.login(e.user.ID).Value
	const name = "next-auth.session-token"
	for _, tc := range []struct {
		name  string
		parts [][2]string
	}{
		{"in order", [][2]string{{name + ".0", tok[:10]}, {name + ".1", tok[10:20]}, {name + ".2", tok[20:]}}},
		{"out of order", [][2]string{{name + ".2", tok[20:]}, {name + ".0", tok[:10]}, {name + ".1", tok[10:20]}}},
		{"numeric order", [][2]string{
			{name + ".10", tok[33:]}, {name + ".2", tok[2:3]}, {name + ".0", tok[:1]}, {name + ".1", tok[1:2]},
			{name + ".3", tok[3:33]},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := request("http://example.com/")
			for _, p := range tc.parts {
				r.AddCookie(&http.Cookie{Name: p[0], Value: p[1]})
			}
			sn, _ := e.serve(r)
			if !sn.ok || sn.s.Token != tok {
				t.Errorf("chunks not joined: ok=%v token %q, want %q", sn.ok, sn.s.Token, tok)
			}
		})
	}
	// A wrong order is a different token: no session.
	r := request("http://example.com/",
		&http.Cookie{Name: name + ".0", Value: tok[18:]}, &http.Cookie{Name: name + ".1", Value: tok[:18]})
	if sn, _ := e.serve(r); sn.ok {
		t.Error("chunks in the wrong order made a session")
	}
}

// A name sent twice with different values (a browser sends both when
// their Domain or Path differ, and a sibling subdomain can plant one) is
// read differently by the Next.js side's parsers: Auth.js and the Pages
// Router keep the first, the App Router the last. Go reads no session
// then, asks the database nothing and clears nothing, so that it never
// acts as another user than Next.js does. The same cookie twice is read.
func TestRepeatedCookieName(t *testing.T) {
	e := newEnv(t, session.Config{})
	bob := e.newUser("Bob", "bob@example.com")
	ada := e.login(e.user.ID)
	bobs := e.login(bob.ID)
	missing, _ := session.NewUUIDToken()
	name := ada.Name
	for _, tc := range []struct {
		name   string
		header []string
	}{
		{"Ada's then Bob's", []string{name + "=" + ada.Value + "; " + name + "=" + bobs.Value}},
		{"Bob's then Ada's", []string{name + "=" + bobs.Value + "; " + name + "=" + ada.Value}},
		{"in two header lines", []string{name + "=" + ada.Value, name + "=" + bobs.Value}},
		{"no session first", []string{name + "=" + missing + "; " + name + "=" + ada.Value}},
		{"empty first", []string{name + "=; " + name + "=" + ada.Value}},
		{"empty last", []string{name + "=" + ada.Value + "; " + name + "="}},
		{"name padded with a no-break space", []string{name + "=" + ada.Value + "; \u00a0" + name + "=" + bobs.Value}},
		{"name padded with a Latin-1 no-break space", []string{name + "=" + ada.Value + "; \xa0" + name + "=" + bobs.Value}},
		{"chunk twice", []string{name + ".0=" + ada.Value[:10] + "; " + name + ".0=" + bobs.Value[:10] + "; " + name + ".1=" + ada.Value[10:]}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e.a.reset()
			r := request("http://example.com/")
			r.Header["Cookie"] = tc.header
			sn, w := e.serve(r)
			if !sn.called || sn.ok {
				t.Errorf("called %v, signed in %v as %q; want no session", sn.called, sn.ok, sn.u.Email)
			}
			if n := e.a.total(); n != 0 {
				t.Errorf("%d store calls, want none", n)
			}
			if h := w.Result().Header.Values("Set-Cookie"); len(h) != 0 {
				t.Errorf("Set-Cookie %v, want nothing cleared", h)
			}
		})
	}
	r := request("http://example.com/")
	r.Header["Cookie"] = []string{name + "=" + ada.Value + "; " + name + "=" + ada.Value, name + "=" + ada.Value}
	if sn, _ := e.serve(r); !sn.ok || sn.u.ID != e.user.ID {
		t.Errorf("the same cookie three times: signed in %v as %q, want Ada", sn.ok, sn.u.Email)
	}

	// Sign-out deletes every session the name was sent with: a planted
	// cookie must not keep the real session alive.
	r = request("http://example.com/logout")
	r.Header.Set("Cookie", name+"="+bobs.Value+"; "+name+"="+ada.Value)
	w := httptest.NewRecorder()
	if err := e.m.Destroy(r.Context(), w, r); err != nil {
		t.Fatal(err)
	}
	if n := e.rowCount(); n != 0 {
		t.Errorf("%d sessions left after sign-out, want 0", n)
	}
	checkCleared(t, oneCookie(t, w), name, false)
}

// A custom cookie name reads and clears only itself and its chunks
// (name.0, name.1, ...), never an application's cookie whose name starts
// with it.
func TestCustomNamePrefix(t *testing.T) {
	e := newEnv(t, session.Config{CookieName: "sid"})
	tok := e.login(e.user.ID).Value
	others := []string{"sidebar=open", "sid.x=1", "sid.=2", "sid.01=3", "sid_theme=dark", "sid-=4", "sidebar.0=5"}
	for _, tc := range []struct {
		name, header string
	}{
		{"after", "sid=" + tok + "; " + strings.Join(others, "; ")},
		{"before", strings.Join(others, "; ") + "; sid=" + tok},
		{"chunks", strings.Join(others, "; ") + "; sid.1=" + tok[10:] + "; sid.0=" + tok[:10]},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := request("http://example.com/")
			r.Header.Set("Cookie", tc.header)
			sn, w := e.serve(r)
			if !sn.ok || sn.s.Token != tok {
				t.Errorf("signed in %v with %q, want the session of %q", sn.ok, sn.s.Token, tok)
			}
			for _, c := range setCookies(t, w) {
				if c.cookie.Name != "sid" && c.cookie.Name != "sid.0" && c.cookie.Name != "sid.1" {
					t.Errorf("Set-Cookie %s", c.raw)
				}
			}
		})
	}

	// No session, and sign-out: only sid and its chunks are cleared.
	header := strings.Join(others, "; ") + "; sid=00000000-0000-4000-8000-000000000000; sid.3=x"
	r := request("http://example.com/")
	r.Header.Set("Cookie", header)
	_, w := e.serve(r)
	w2 := httptest.NewRecorder()
	if err := e.m.Destroy(r.Context(), w2, r); err != nil {
		t.Fatal(err)
	}
	for _, rec := range []*httptest.ResponseRecorder{w, w2} {
		cleared := map[string]bool{}
		for _, c := range setCookies(t, rec) {
			cleared[c.cookie.Name] = true
		}
		if !cleared["sid"] || !cleared["sid.3"] || len(cleared) != 2 {
			t.Errorf("cleared %v, want sid and sid.3 only", cleared)
		}
	}
}

// A cookie that cannot be a token is no session, costs no query, and
// never makes an error page.
func TestBadCookies(t *testing.T) {
	e := newEnv(t, session.Config{})
	bads := map[string]string{
		"empty":        "",
		"10 KB":        strings.Repeat("a", 10<<10),
		"10 KB uuids":  strings.Repeat("0b5c3f5e-1f1c-4f5e-9c1d-3c2f1e0d9b8a", 10<<10/36),
		"hello":        "hello",
		"invalid utf8": "\xff\xfe\xfd-1f1c-4f5e-9c1d-3c2f1e0d9b8a\x80",
		"sql":          "' OR 1=1 --",
		"sql uuid":     "0b5c3f5e-1f1c-4f5e-9c1d-3c2f1e0d9' OR 1",
		"nul":          "0b5c3f5e-1f1c-4f5e-9c1d-3c2f1e0d9b8\x00",
		"nul only":     "\x00\x00\x00",
		"uuid+1":       "0b5c3f5e-1f1c-4f5e-9c1d-3c2f1e0d9b8ab",
		"uuid no dash": "0b5c3f5ea1f1ca4f5ea9c1da3c2f1e0d9b8a",
		"quoted":       `"0b5c3f5e-1f1c-4f5e-9c1d-3c2f1e0d9b8a"x`,
		"spaces":       "0b5c3f5e 1f1c 4f5e 9c1d 3c2f1e0d9b8a",
		"65 hex":       strings.Repeat("a", 65),
		"unicode":      "0b5c3f5e-1f1c-4f5e-9c1d-3c2f1e0d9bé",
	}
	h := func(sn *seen) http.Handler { return e.m.Middleware(sn.handler()) }
	for name, v := range bads {
		for _, cookieName := range []string{"next-auth.session-token", "next-auth.session-token.0"} {
			t.Run(name+"/"+cookieName, func(t *testing.T) {
				e.a.reset()
				r := request("http://example.com/")
				// Raw header: AddCookie would clean the value up.
				r.Header.Set("Cookie", cookieName+"="+v)
				var sn seen
				w := httptest.NewRecorder()
				func() {
					defer func() {
						if p := recover(); p != nil {
							t.Fatalf("panic: %v", p)
						}
					}()
					h(&sn).ServeHTTP(w, r)
				}()
				if w.Code != http.StatusOK || !sn.called || sn.ok {
					t.Errorf("status %d, called %v, session %v; want 200, called, no session", w.Code, sn.called, sn.ok)
				}
				if n := e.a.total(); n != 0 {
					t.Errorf("%d adapter calls for a cookie that cannot be a token", n)
				}
				for _, c := range setCookies(t, w) {
					if c.cookie.Value != "" {
						t.Errorf("a bad cookie set a session cookie: %s", c.raw)
					}
				}
				// Nor does it reach the database through the other entry
				// points.
				w = httptest.NewRecorder()
				e.m.SessionHandler().ServeHTTP(w, r)
				if w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != "{}" {
					t.Errorf("SessionHandler: %d %q", w.Code, w.Body)
				}
				w = httptest.NewRecorder()
				if err := e.m.Destroy(r.Context(), w, r); err != nil {
					t.Errorf("Destroy: %v", err)
				}
				w = httptest.NewRecorder()
				if _, err := e.m.Create(r.Context(), w, r, e.user.ID); err != nil {
					t.Errorf("Create: %v", err)
				}
				if n := e.a.count("GetSessionAndUser") + e.a.count("DeleteSession"); n != 0 {
					t.Errorf("%d lookups or deletes for a cookie that cannot be a token", n)
				}
			})
		}
	}
}

func TestTokenShape(t *testing.T) {
	for _, tc := range []struct {
		tok  string
		want bool
	}{
		{"0b5c3f5e-1f1c-4f5e-9c1d-3c2f1e0d9b8a", true},
		{"0B5C3F5E-1F1C-4F5E-9C1D-3C2F1E0D9B8A", true},
		{strings.Repeat("ab", 32), true}, // NextAuth v4's hex fallback
		{"", false},
		{"hello", false},
		{strings.Repeat("ab", 32) + "a", false},
		{"0b5c3f5e-1f1c-4f5e-9c1d_3c2f1e0d9b8a", false},
		{"0b5c3f5g-1f1c-4f5e-9c1d-3c2f1e0d9b8a", false},
	} {
		if got := session.IsNextAuthToken(tc.tok); got != tc.want {
			t.Errorf("IsNextAuthToken(%q) = %v, want %v", tc.tok, got, tc.want)
		}
	}
	for range 100 {
		tok, err := session.NewUUIDToken()
		if err != nil || !uuidV4.MatchString(tok) || !session.IsNextAuthToken(tok) {
			t.Fatalf("NewUUIDToken = %q, %v", tok, err)
		}
	}
}

// Leftover chunks of a JWT session (name.0, name.1, ...) joined with the
// database session's cookie make no token. Auth.js then clears every
// cookie it read (SessionStore.clean), so the next sign-in works; clearing
// only the base name leaves the chunks to spoil every later sign-in.
func TestLeftoverChunksAreCleared(t *testing.T) {
	e := newEnv(t, session.Config{})
	const name = "next-auth.session-token"
	chunks := []*http.Cookie{
		{Name: name + ".0", Value: "eyJhbGciOiJkaXIiLCJlbmMiOiJBMjU2R0NNIn0"},
		{Name: name + ".1", Value: "rest-of-an-old-jwt"},
	}

	// No session: every cookie read is cleared, the chunks too.
	sn, w := e.serve(request("http://example.com/", chunks...))
	if sn.ok {
		t.Fatal("chunks of a JWT made a session")
	}
	cleared := map[string]bool{}
	for _, c := range setCookies(t, w) {
		if c.cookie.Value == "" && c.attrs["max-age"] == "0" {
			cleared[c.cookie.Name] = true
		}
	}
	for _, c := range chunks {
		if !cleared[c.Name] {
			t.Errorf("leftover chunk %s not cleared (Set-Cookie: %v)", c.Name, w.Result().Header.Values("Set-Cookie"))
		}
	}

	// Sign-out clears them as well.
	w = httptest.NewRecorder()
	r := request("http://example.com/logout", chunks...)
	if err := e.m.Destroy(r.Context(), w, r); err != nil {
		t.Fatal(err)
	}
	cleared = map[string]bool{}
	for _, c := range setCookies(t, w) {
		if c.cookie.Value == "" && c.attrs["max-age"] == "0" {
			cleared[c.cookie.Name] = true
		}
	}
	for _, c := range chunks {
		if !cleared[c.Name] {
			t.Errorf("Destroy: leftover chunk %s not cleared", c.Name)
		}
	}
}

// A __Host- name, which browsers refuse to take from a sibling subdomain,
// is used as it is: Secure, Path=/, no Domain, on http and https alike.
func TestHostPrefixName(t *testing.T) {
	const name = "__Host-next-auth.session-token"
	e := newEnv(t, session.Config{CookieName: name})
	for _, url := range []string{"http://example.com/", "https://example.com/"} {
		r := request(url + "login")
		if got := e.m.CookieName(r); got != name {
			t.Errorf("%s: CookieName %q, want %q", url, got, name)
		}
		c := oneCookie(t, func() *httptest.ResponseRecorder {
			w := httptest.NewRecorder()
			if _, err := e.m.Create(r.Context(), w, r, e.user.ID); err != nil {
				t.Fatal(err)
			}
			return w
		}())
		checkSessionCookie(t, c, name, true, t0.Add(maxAge))
		if _, ok := c.attrs["domain"]; ok {
			t.Errorf("%s: a Domain on a __Host- cookie: %s", url, c.raw)
		}
		if sn, _ := e.serve(request(url, c.cookie)); !sn.ok {
			t.Errorf("%s: the cookie Create set is not read back", url)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("a __Host- name with a CookieDomain did not panic")
		}
	}()
	session.NewManager(e.a, session.Config{CookieName: name, CookieDomain: "example.com"})
}
