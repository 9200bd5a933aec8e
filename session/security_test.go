package session_test

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"testing/cryptotest"
	"time"

	"github.com/nextsession/nextsession/session"
)

// This file tests the security properties of issue 5: hostile cookies,
// headers and forms (TestBadInput, FuzzValidate, FuzzMiddleware), token
// entropy and source, cookie attributes, session fixation and the
// hashed-token mode, on a spy that records what the store is asked.

// probeNow is the fixed clock of these tests.
var probeNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

// probeSetup returns a store with one user and one session, a manager on
// it with cfg (its clock fixed at probeNow unless cfg sets one), and the
// session's cookie token.
func probeSetup(t testing.TB, cfg session.Config) (*spy, *session.Manager, string) {
	t.Helper()
	p := newSpy()
	if cfg.Now == nil {
		cfg.Now = func() time.Time { return probeNow }
	}
	m := session.NewManager(p, cfg)
	u, err := p.CreateUser(context.Background(), session.User{Name: "Ada", Email: "ada@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	if _, err := m.Create(context.Background(), w, httptest.NewRequest("GET", "/", nil), u.ID); err != nil {
		t.Fatal(err)
	}
	token := ""
	for _, c := range w.Result().Cookies() {
		token = c.Value
	}
	if token == "" {
		t.Fatal("Create set no cookie")
	}
	p.reset()
	return p, m, token
}

// badInput is one hostile request: how to spoil it, and what must follow.
type badInput struct {
	name string
	// tls makes the request arrive over TLS.
	tls bool
	// build returns the request; known is the token of a live session.
	build func(known string) *http.Request
	// queries is how many session lookups the request may cause: 0 for a
	// cookie that cannot be a token.
	queries int
	// session is true when the request must be signed in.
	session bool
}

func cookieReq(header ...string) func(string) *http.Request {
	return func(known string) *http.Request {
		r := httptest.NewRequest("GET", "/", nil)
		for _, h := range header {
			r.Header.Add("Cookie", strings.ReplaceAll(h, "KNOWN", known))
		}
		return r
	}
}

const (
	v4           = "next-auth.session-token"
	v5           = "authjs.session-token"
	securePrefix = "__Secure-"
)

func badInputs() []badInput {
	big := strings.Repeat("a", 5000)
	huge := strings.Repeat("0123456789abcdef", 1<<16) // 1 MiB
	var manyChunks, manyNames strings.Builder
	for i := range 2000 {
		fmt.Fprintf(&manyChunks, "%s.%d=%s; ", v4, 1999-i, "0123456789")
		fmt.Fprintf(&manyNames, "%sx%d=KNOWN; ", v4, i)
	}
	return []badInput{
		// The baseline: a live session is found.
		{name: "valid", build: cookieReq(v4 + "=KNOWN"), queries: 1, session: true},
		{name: "valid in second Cookie header", build: cookieReq("a=b", v4+"=KNOWN"), queries: 1, session: true},
		{name: "valid in two chunks", build: func(k string) *http.Request {
			return cookieReq(v4+".0="+k[:10], v4+".1="+k[10:])(k)
		}, queries: 1, session: true},
		{name: "valid in reversed chunks", build: func(k string) *http.Request {
			return cookieReq(v4 + ".1=" + k[10:] + "; " + v4 + ".0=" + k[:10])(k)
		}, queries: 1, session: true},

		// No cookie at all, or an empty one.
		{name: "no cookie", build: cookieReq()},
		{name: "empty Cookie header", build: cookieReq("")},
		{name: "empty value", build: cookieReq(v4 + "=")},
		{name: "quoted empty value", build: cookieReq(v4 + `=""`)},
		// Auth.js keeps the quotes, so a quoted token is no token.
		{name: "quoted token", build: cookieReq(v4 + `="KNOWN"`)},
		{name: "name only", build: cookieReq(v4)},
		{name: "spaces", build: cookieReq(v4 + "=   ")},
		{name: "semicolons", build: cookieReq(";;;; ; ;")},

		// Wrong shapes: refused without a query.
		{name: "oversized 5000", build: cookieReq(v4 + "=" + big)},
		{name: "oversized 1 MiB", build: cookieReq(v4 + "=" + huge)},
		{name: "2000 chunks", build: cookieReq(manyChunks.String())},
		{name: "token plus one char", build: cookieReq(v4 + "=KNOWNa")},
		{name: "token minus one char", build: func(k string) *http.Request { return cookieReq(v4 + "=" + k[1:])(k) }},
		{name: "dashes as underscores", build: func(k string) *http.Request {
			return cookieReq(v4 + "=" + strings.ReplaceAll(k, "-", "_"))(k)
		}},
		{name: "65 hex", build: cookieReq(v4 + "=" + strings.Repeat("a", 65))},
		{name: "35 chars", build: cookieReq(v4 + "=" + strings.Repeat("a", 35))},
		{name: "invalid UTF-8", build: cookieReq(v4 + "=\xff\xfe\xfd")},
		{name: "invalid UTF-8 in UUID shape", build: cookieReq(v4 + "=\xff\xff\xff\xff0000-0000-4000-8000-000000000000")},
		{name: "NUL byte", build: cookieReq(v4 + "=KNOWN\x00")},
		{name: "NUL in UUID shape", build: cookieReq(v4 + "=0000000\x00-0000-4000-8000-000000000000")},
		{name: "SQL quote", build: cookieReq(v4 + "=' OR '1'='1")},
		{name: "SQL quote in UUID shape", build: cookieReq(v4 + "=00000000-0000-4000-8000-00000000'--;")},
		{name: "SQL statement", build: cookieReq(v4 + `='; DROP TABLE "Session"; --`)},
		{name: "SQL LIKE wildcards", build: cookieReq(v4 + "=%%%%%%%%-%%%%-%%%%-%%%%-%%%%%%%%%%%%")},
		{name: "SQL comment", build: cookieReq(v4 + "=KNOWN--")},
		// Auth.js percent-decodes values: an encoded token is the token.
		{name: "percent-encoded token", build: func(k string) *http.Request {
			return cookieReq(v4 + "=" + strings.ReplaceAll(k, "-", "%2D"))(k)
		}, queries: 1, session: true},
		{name: "percent-encoded NUL", build: cookieReq(v4 + "=KNOWN%00")},
		{name: "percent-encoded quote", build: cookieReq(v4 + "=%27%20OR%201=1--")},
		{name: "malformed percent escape", build: cookieReq(v4 + "=KNOWN%zz")},
		{name: "percent-encoded invalid UTF-8", build: cookieReq(v4 + "=%ff%fe")},
		{name: "CRLF", build: cookieReq(v4 + "=KNOWN\r\nX-Injected: 1")},
		{name: "control characters", build: cookieReq(v4 + "=\x01\x02\x03\x7f")},
		{name: "unicode look-alike dash", build: func(k string) *http.Request {
			return cookieReq(v4 + "=" + strings.Replace(k, "-", "\u2010", 1))(k)
		}},
		{name: "2000 names that start with the cookie name", build: cookieReq(manyNames.String())},

		// Shape-valid tokens that name no session: one lookup, no session.
		{name: "unknown UUID", build: cookieReq(v4 + "=00000000-0000-4000-8000-000000000000"), queries: 1},
		{name: "unknown 64 hex", build: cookieReq(v4 + "=" + strings.Repeat("ab", 32)), queries: 1},
		{name: "token in upper case", build: func(k string) *http.Request {
			return cookieReq(v4 + "=" + strings.ToUpper(k))(k)
		}, queries: 1},

		// A name sent twice with different values: Auth.js keeps the first,
		// Next.js's App Router the last. No session, no query.
		{name: "duplicate, garbage first", build: cookieReq(v4 + "=garbage; " + v4 + "=KNOWN")},
		{name: "duplicate, valid first", build: cookieReq(v4 + "=KNOWN; " + v4 + "=garbage")},
		{name: "duplicate, other token last", build: cookieReq(v4 + "=KNOWN; " + v4 + "=00000000-0000-4000-8000-000000000000")},
		{name: "duplicate across headers, garbage first", build: cookieReq(v4+"=garbage", v4+"=KNOWN")},
		{name: "duplicate, empty first", build: cookieReq(v4 + "=; " + v4 + "=KNOWN")},
		// A name without "=" is no cookie to Auth.js; the App Router reads
		// it as "true", which is no token: never another user.
		{name: "name only after the cookie", build: cookieReq(v4 + "=KNOWN; " + v4), queries: 1, session: true},
		{name: "duplicate behind a no-break space", build: cookieReq(v4 + "=KNOWN; \u00a0" + v4 + "=garbage")},
		{name: "duplicate chunk", build: func(k string) *http.Request {
			return cookieReq(v4 + ".0=" + k[:10] + "; " + v4 + ".0=" + k[10:20] + "; " + v4 + ".1=" + k[10:])(k)
		}},
		{name: "same cookie twice", build: cookieReq(v4+"=KNOWN; "+v4+"=KNOWN", v4+"=KNOWN"), queries: 1, session: true},
		{name: "chunks with the whole name too", build: cookieReq(v4 + "=KNOWN; " + v4 + ".0=KNOWN")},
		{name: "10000 repeats of one chunk", build: cookieReq(strings.Repeat(v4+".3=x; ", 10000))},
		{name: "chunk 64", build: cookieReq(v4 + ".64=KNOWN")},

		// Names that start with the cookie name but are no chunk of it.
		{name: "longer name beside the cookie", build: cookieReq(v4 + "s=garbage; " + v4 + "=KNOWN; " + v4 + ".x=1"), queries: 1, session: true},

		// Other names and places: never read.
		{name: "v5 name on a v4 manager", build: cookieReq(v5 + "=KNOWN")},
		{name: "v4 and v5 names, v5 valid", build: cookieReq(v4 + "=garbage; " + v5 + "=KNOWN")},
		{name: "v4 and v5 names, v4 valid", build: cookieReq(v5 + "=garbage; " + v4 + "=KNOWN"), queries: 1, session: true},
		{name: "name in other case", build: cookieReq("Next-Auth.Session-Token=KNOWN")},
		{name: "name with a space", build: cookieReq(" next-auth.session-token =KNOWN"), queries: 1, session: true},
		{name: "secure name over http", build: cookieReq(securePrefix + v4 + "=KNOWN")},
		{name: "secure name over http with X-Forwarded-Proto", build: func(k string) *http.Request {
			r := cookieReq(securePrefix + v4 + "=KNOWN")(k)
			r.Header.Set("X-Forwarded-Proto", "https")
			return r
		}},
		{name: "plain name over https (no fallback)", tls: true, build: cookieReq(v4 + "=KNOWN")},
		{name: "Authorization bearer", build: func(k string) *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Authorization", "Bearer "+k)
			return r
		}},
		{name: "query string", build: func(k string) *http.Request {
			return httptest.NewRequest("GET", "/?"+url.Values{v4: {k}}.Encode(), nil)
		}},
		{name: "form body", build: func(k string) *http.Request {
			r := httptest.NewRequest("POST", "/", strings.NewReader(url.Values{v4: {k}, "sessionToken": {k}}.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}},
		{name: "malformed form body", build: func(k string) *http.Request {
			r := httptest.NewRequest("POST", "/", strings.NewReader("%zz=%%%&;;="+k))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			return r
		}},
		{name: "Set-Cookie sent by the client", build: func(k string) *http.Request {
			r := httptest.NewRequest("GET", "/", nil)
			r.Header.Set("Set-Cookie", v4+"="+k)
			return r
		}},
	}
}

// TestBadInput sends every hostile request through the three entry points
// (Middleware, RequireSession, SessionHandler): each is signed in or not as
// expected, none gets a 5xx, and a cookie that cannot be a token causes no
// query.
func TestBadInput(t *testing.T) {
	tried := 0
	for _, in := range badInputs() {
		for _, entry := range []string{"Middleware", "RequireSession", "SessionHandler"} {
			t.Run(in.name+"/"+entry, func(t *testing.T) {
				tried++
				p, m, known := probeSetup(t, session.Config{Secure: session.SecureAuto})
				var h http.Handler
				signedIn := false
				inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					_, s, ok := session.FromContext(r.Context())
					signedIn = ok && s.Token == known
					_ = r.ParseForm()
					w.WriteHeader(http.StatusOK)
				})
				switch entry {
				case "Middleware":
					h = m.Middleware(inner)
				case "RequireSession":
					h = m.RequireSession(inner)
				default:
					h = m.SessionHandler()
				}
				r := in.build(known)
				if in.tls {
					r.TLS = &tls.ConnectionState{}
				}
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				body, _ := io.ReadAll(w.Body)

				if w.Code >= 500 {
					t.Fatalf("status %d, body %q", w.Code, body)
				}
				if got := p.queries(); got != in.queries {
					t.Errorf("%d session queries (%q), want %d", got, p.askedTokens(), in.queries)
				}
				switch entry {
				case "Middleware":
					if w.Code != http.StatusOK || signedIn != in.session {
						t.Errorf("status %d, signed in %v; want 200, %v", w.Code, signedIn, in.session)
					}
				case "RequireSession":
					want := http.StatusUnauthorized
					if in.session {
						want = http.StatusOK
					}
					if w.Code != want || signedIn != in.session {
						t.Errorf("status %d, signed in %v; want %d, %v", w.Code, signedIn, want, in.session)
					}
				default:
					if r.Method != http.MethodGet {
						if w.Code != http.StatusMethodNotAllowed {
							t.Errorf("%s: status %d, want 405", r.Method, w.Code)
						}
						break
					}
					signedIn = strings.Contains(string(body), `"email":"ada@example.com"`)
					if w.Code != http.StatusOK || signedIn != in.session {
						t.Errorf("status %d, body %q; want 200 and a session: %v", w.Code, body, in.session)
					}
				}
				if !p.has(known) {
					t.Error("the live session was deleted")
				}
			})
		}
	}
	t.Logf("%d hostile requests tried", tried)
}

// TestBadInputDatabaseDown shows that a cookie that cannot be a token is
// "no session" without asking the database, even when the database is
// down, while a shape-valid one gets the error hook's 503.
func TestBadInputDatabaseDown(t *testing.T) {
	for _, in := range badInputs() {
		t.Run(in.name, func(t *testing.T) {
			hook := 0
			p, m, known := probeSetup(t, session.Config{ErrorFunc: func(w http.ResponseWriter, r *http.Request, err error) {
				hook++
				http.Error(w, "down", http.StatusServiceUnavailable)
			}})
			p.fail("", errors.New("connection refused"))
			r := in.build(known)
			if in.tls {
				r.TLS = &tls.ConnectionState{}
			}
			w := httptest.NewRecorder()
			m.RequireSession(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(w, r)
			if in.queries == 0 {
				if w.Code != http.StatusUnauthorized || hook != 0 || p.queries() != 0 {
					t.Errorf("status %d, %d hook calls, %d queries; want 401, 0, 0", w.Code, hook, p.queries())
				}
				return
			}
			if w.Code != http.StatusServiceUnavailable || hook != 1 {
				t.Errorf("status %d, %d hook calls; want 503, 1", w.Code, hook)
			}
			for _, c := range w.Result().Cookies() {
				t.Errorf("an outage set cookie %s", c)
			}
		})
	}
}

// TestSessionHandlerRefusedMethods: anything but GET and HEAD is a clear
// 405, without a query.
func TestSessionHandlerRefusedMethods(t *testing.T) {
	p, m, known := probeSetup(t, session.Config{})
	for _, method := range []string{"POST", "PUT", "DELETE", "PATCH", "OPTIONS", "TRACE", "CONNECT", "BREW"} {
		r := httptest.NewRequest(method, "/api/auth/session", nil)
		r.AddCookie(&http.Cookie{Name: v4, Value: known})
		w := httptest.NewRecorder()
		m.SessionHandler().ServeHTTP(w, r)
		if w.Code != http.StatusMethodNotAllowed || w.Header().Get("Allow") != "GET, HEAD" {
			t.Errorf("%s: status %d, Allow %q", method, w.Code, w.Header().Get("Allow"))
		}
	}
	if p.queries() != 0 {
		t.Errorf("%d queries for refused methods", p.queries())
	}
}

// TestTokenEntropy checks 1000 tokens: all different, UUID v4 shaped with
// the version and variant bits set, and each of the 122 random bits set
// about half the time (the bounds are 6.3 standard deviations out, so a
// good generator fails about once in 10^8 runs).
func TestTokenEntropy(t *testing.T) {
	const n = 1000
	seen := make(map[string]bool, n)
	var ones [128]int
	for range n {
		tok, err := session.NewUUIDToken()
		if err != nil {
			t.Fatal(err)
		}
		if !uuidV4.MatchString(tok) {
			t.Fatalf("token %q is not a lower-case UUID v4", tok)
		}
		if !session.IsNextAuthToken(tok) {
			t.Fatalf("IsNextAuthToken(%q) = false", tok)
		}
		if seen[tok] {
			t.Fatalf("token %q made twice", tok)
		}
		seen[tok] = true
		hexDigits := strings.ReplaceAll(tok, "-", "")
		for i := range 32 {
			var v int
			fmt.Sscanf(hexDigits[i:i+1], "%x", &v)
			for b := range 4 {
				if v&(8>>b) != 0 {
					ones[i*4+b]++
				}
			}
		}
	}
	fixed := map[int]int{48: 0, 49: 1, 50: 0, 51: 0, 64: 1, 65: 0} // version 0100, variant 10
	for bit, c := range ones {
		if want, ok := fixed[bit]; ok {
			if c != want*n {
				t.Errorf("bit %d set %d times, want %d", bit, c, want*n)
			}
			continue
		}
		if c < 400 || c > 600 {
			t.Errorf("bit %d set %d times in %d tokens: not random", bit, c, n)
		}
	}
}

// TestTokenSource proves that tokens, and the tokens session.Manager.Create puts
// in cookies, come from crypto/rand: with crypto/rand made deterministic
// they repeat exactly, which no other source would do.
func TestTokenSource(t *testing.T) {
	draw := func() []string {
		cryptotest.SetGlobalRandom(t, 42)
		var out []string
		for range 3 {
			tok, err := session.NewUUIDToken()
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, tok)
		}
		_, _, known := probeSetup(t, session.Config{})
		return append(out, known)
	}
	a, b := draw(), draw()
	if !slices.Equal(a, b) {
		t.Errorf("tokens do not follow crypto/rand: %q then %q", a, b)
	}
}

// TestCookieAttributes checks the Set-Cookie of sign-in, of a validated
// request and of sign-out against NextAuth's: HttpOnly, Path=/,
// SameSite=Lax, no Domain, Expires at the session's end and no Max-Age;
// Secure exactly when the name has the __Secure- prefix; cleared with
// Max-Age=0.
func TestCookieAttributes(t *testing.T) {
	for _, tc := range []struct {
		name    string
		secure  session.SecureMode
		tls     bool
		version session.CookieVersion
		want    string
	}{
		{"auto over http", session.SecureAuto, false, session.CookieV4, v4},
		{"auto over https", session.SecureAuto, true, session.CookieV4, securePrefix + v4},
		{"always over http", session.SecureAlways, false, session.CookieV4, securePrefix + v4},
		{"never over https", session.SecureNever, true, session.CookieV4, v4},
		{"v5 auto over https", session.SecureAuto, true, session.CookieV5, securePrefix + v5},
		{"v5 never", session.SecureNever, false, session.CookieV5, v5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p := newSpy()
			m := session.NewManager(p, session.Config{Secure: tc.secure, CookieVersion: tc.version, Now: func() time.Time { return probeNow }})
			u, _ := p.CreateUser(context.Background(), session.User{})
			req := func() *http.Request {
				r := httptest.NewRequest("GET", "/", nil)
				if tc.tls {
					r.TLS = &tls.ConnectionState{}
				}
				return r
			}
			setCookie := func(w *httptest.ResponseRecorder) *http.Cookie {
				t.Helper()
				lines := w.Result().Header.Values("Set-Cookie")
				if len(lines) != 1 {
					t.Fatalf("Set-Cookie %q, want one", lines)
				}
				c, err := http.ParseSetCookie(lines[0])
				if err != nil {
					t.Fatal(err)
				}
				if c.Name != tc.want || !c.HttpOnly || c.Path != "/" || c.SameSite != http.SameSiteLaxMode ||
					c.Domain != "" || c.Secure != strings.HasPrefix(c.Name, securePrefix) {
					t.Errorf("Set-Cookie %q: want name %s, HttpOnly, Path=/, SameSite=Lax, no Domain, Secure iff __Secure-", lines[0], tc.want)
				}
				return c
			}

			w := httptest.NewRecorder()
			s, err := m.Create(context.Background(), w, req(), u.ID)
			if err != nil {
				t.Fatal(err)
			}
			c := setCookie(w)
			if c.MaxAge != 0 || !c.Expires.Equal(s.Expires.Truncate(time.Second)) {
				t.Errorf("sign-in cookie Max-Age %d, Expires %v; want none, %v", c.MaxAge, c.Expires, s.Expires)
			}

			r := req()
			r.AddCookie(c)
			w = httptest.NewRecorder()
			m.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(w, r)
			if c2 := setCookie(w); c2.Value != c.Value || c2.MaxAge != 0 || c2.Expires.IsZero() {
				t.Errorf("refreshed cookie %v", c2)
			}

			r = req()
			r.AddCookie(c)
			w = httptest.NewRecorder()
			if err := m.Destroy(context.Background(), w, r); err != nil {
				t.Fatal(err)
			}
			if c3 := setCookie(w); c3.Value != "" || c3.MaxAge >= 0 {
				t.Errorf("sign-out cookie %v, want an empty value and Max-Age=0", c3)
			}
		})
	}
}

// TestFixation: signing in replaces whatever session the request brought,
// live, unknown or garbage; the new token is fresh, and the planted one is
// dead.
func TestFixation(t *testing.T) {
	for _, plant := range []string{"live", "unknown", "garbage", "none"} {
		t.Run(plant, func(t *testing.T) {
			p, m, attacker := probeSetup(t, session.Config{})
			victim, _ := p.CreateUser(context.Background(), session.User{Name: "victim"})
			r := httptest.NewRequest("GET", "/login", nil)
			planted := ""
			switch plant {
			case "live":
				planted = attacker
			case "unknown":
				planted = "11111111-2222-4333-8444-555555555555"
			case "garbage":
				planted = "attacker-chosen"
			}
			if planted != "" {
				r.AddCookie(&http.Cookie{Name: v4, Value: planted})
			}
			w := httptest.NewRecorder()
			s, err := m.Create(context.Background(), w, r, victim.ID)
			if err != nil {
				t.Fatal(err)
			}
			cs := w.Result().Cookies()
			if len(cs) != 1 || cs[0].Value == planted || cs[0].Value == attacker || s.Token == planted {
				t.Fatalf("sign-in kept the planted token %q: cookies %v", planted, cs)
			}
			if !uuidV4.MatchString(cs[0].Value) {
				t.Errorf("new token %q is not a fresh UUID", cs[0].Value)
			}
			if _, err := m.Validate(context.Background(), attacker); plant == "live" && !errors.Is(err, session.ErrNoSession) {
				t.Errorf("the planted session still validates: %v", err)
			}
			res, err := m.Validate(context.Background(), cs[0].Value)
			if err != nil || res.User.ID != victim.ID {
				t.Errorf("new session: %v, user %q", err, res.User.ID)
			}
		})
	}
}

// TestHashedTokens runs the opt-in hashed mode end to end: the cookie holds
// the raw UUID, the store holds its SHA-256 hex and never the raw token,
// the middleware accepts the cookie, a stolen stored value is no cookie,
// and Revoke, RevokeOthers and Destroy work on stored values.
func TestHashedTokens(t *testing.T) {
	p, m, raw := probeSetup(t, session.Config{HashTokens: true})
	if !uuidV4.MatchString(raw) {
		t.Fatalf("cookie %q is not a raw UUID", raw)
	}
	stored := session.HashToken(raw)
	if !regexp.MustCompile(`^[0-9a-f]{64}$`).MatchString(stored) {
		t.Fatalf("HashToken gave %q", stored)
	}
	s, _, err := p.Store.GetSessionAndUser(context.Background(), stored)
	if err != nil {
		t.Fatalf("no row under sha256(cookie)")
	}
	if p.has(raw) {
		t.Fatal("the raw token is stored")
	}

	signedIn := func(cookie string) bool {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(&http.Cookie{Name: v4, Value: cookie})
		w := httptest.NewRecorder()
		m.RequireSession(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {})).ServeHTTP(w, r)
		return w.Code == http.StatusOK
	}
	if !signedIn(raw) {
		t.Fatal("the raw cookie is refused")
	}
	if got := p.askedTokens(); len(got) != 1 || got[0] != stored {
		t.Errorf("looked up %q, want only the hash", got)
	}
	if signedIn(stored) {
		t.Fatal("the stored hash works as a cookie: a database leak gives sessions away")
	}

	// A second session of the same user; revoke the others from the first.
	w := httptest.NewRecorder()
	if _, err := m.Create(context.Background(), w, httptest.NewRequest("GET", "/", nil), s.UserID); err != nil {
		t.Fatal(err)
	}
	raw2 := w.Result().Cookies()[0].Value
	if n, err := m.RevokeOthers(context.Background(), s); err != nil || n != 1 || signedIn(raw2) || !signedIn(raw) {
		t.Errorf("RevokeOthers: %d, %v", n, err)
	}
	list, err := m.ListActive(context.Background(), s.UserID, 0)
	if err != nil || len(list) != 1 || list[0].Session.Token != stored {
		t.Fatalf("ListActive: %v, %v", list, err)
	}
	if ok, err := m.RevokeHandle(context.Background(), s.UserID, list[0].Session.Handle()); !ok || err != nil || signedIn(raw) {
		t.Errorf("RevokeHandle: %v, %v", ok, err)
	}

	// Destroy hashes the cookie before deleting.
	w = httptest.NewRecorder()
	if _, err := m.Create(context.Background(), w, httptest.NewRequest("GET", "/", nil), s.UserID); err != nil {
		t.Fatal(err)
	}
	raw3 := w.Result().Cookies()[0].Value
	r := httptest.NewRequest("POST", "/logout", nil)
	r.AddCookie(&http.Cookie{Name: v4, Value: raw3})
	if err := m.Destroy(context.Background(), httptest.NewRecorder(), r); err != nil {
		t.Fatal(err)
	}
	if p.has(session.HashToken(raw3)) || signedIn(raw3) {
		t.Error("Destroy left the hashed session")
	}
}

var (
	nextAuthTokenRE  = regexp.MustCompile(`^(?:[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}|[0-9a-fA-F]{64})$`)
	plausibleTokenRE = regexp.MustCompile(`^[A-Za-z0-9\-_.~+/=]{1,512}$`)
)

// FuzzValidate gives Validate arbitrary tokens under four configurations
// and checks, against a regular expression written apart from the code,
// that a token that cannot be valid never reaches the adapter, and that a
// plausible one is looked up once, by its stored form, and finds the live
// session only when it is its token.
func FuzzValidate(f *testing.F) {
	f.Add("0b9a1f8e-2c3d-4e5f-8a9b-0c1d2e3f4a5b", uint8(0))
	f.Add(strings.Repeat("f", 64), uint8(1))
	f.Add("abc_DEF-123.~+/=", uint8(2))
	f.Add("' OR 1=1 --", uint8(3))
	f.Fuzz(func(t *testing.T, token string, mode uint8) {
		var cfg session.Config
		valid := nextAuthTokenRE.MatchString
		switch mode % 4 {
		case 1:
			cfg.HashTokens = true
		case 2:
			cfg.NewToken = func() (string, error) { return "custom-" + strings.Repeat("x", 20), nil }
			valid = plausibleTokenRE.MatchString
		case 3:
			cfg.UpdateAge = session.UpdateAlways
			cfg.CookieVersion = session.CookieV5
		}
		p, m, known := probeSetup(t, cfg)
		res, err := m.Validate(context.Background(), token)
		asked := p.askedTokens()
		if !valid(token) {
			if !errors.Is(err, session.ErrNoSession) || len(asked) != 0 {
				t.Fatalf("invalid token %q: err %v, adapter asked %q", token, err, asked)
			}
			return
		}
		stored := token
		if cfg.HashTokens {
			stored = session.HashToken(token)
		}
		if len(asked) == 0 || asked[0] != stored {
			t.Fatalf("token %q: adapter asked %q, want %q first", token, asked, stored)
		}
		if token == known {
			if err != nil || res.User.Email != "ada@example.com" {
				t.Fatalf("the live token: %v", err)
			}
			return
		}
		if !errors.Is(err, session.ErrNoSession) || len(asked) != 1 {
			t.Fatalf("token %q: err %v, adapter asked %q", token, err, asked)
		}
	})
}

// FuzzMiddleware sends arbitrary Cookie headers, over http or https,
// through RequireSession on a store holding one live session: the answer
// is 200 or 401 and nothing else, the adapter sees only tokens of a valid
// shape, and every Set-Cookie is of the cookie name that applies to the
// request (or clears a chunk of it).
func FuzzMiddleware(f *testing.F) {
	f.Add("next-auth.session-token=KNOWN", false)
	f.Add("__Secure-next-auth.session-token=KNOWN", true)
	f.Add("next-auth.session-token=KNOWN; next-auth.session-token=x", false)
	f.Add("next-auth.session-token.0=KNO; next-auth.session-token.1=WN", false)
	f.Fuzz(func(t *testing.T, header string, secure bool) {
		p, m, known := probeSetup(t, session.Config{})
		r := httptest.NewRequest("GET", "/", nil)
		r.Header["Cookie"] = strings.Split(strings.ReplaceAll(header, "KNOWN", known), "\n")
		if secure {
			r.TLS = &tls.ConnectionState{}
		}
		w := httptest.NewRecorder()
		m.RequireSession(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, s, ok := session.FromContext(r.Context()); !ok || s.Token != known {
				t.Errorf("handler reached with session %v %q", ok, s.Token)
			}
		})).ServeHTTP(w, r)
		if w.Code != http.StatusOK && w.Code != http.StatusUnauthorized {
			t.Fatalf("status %d", w.Code)
		}
		for _, tok := range p.askedTokens() {
			if !nextAuthTokenRE.MatchString(tok) {
				t.Fatalf("adapter asked about %q", tok)
			}
		}
		want := m.CookieName(r)
		for _, c := range w.Result().Cookies() {
			// The cookie itself, or a leftover chunk of it being cleared.
			if !strings.HasPrefix(c.Name, want) || !c.HttpOnly || c.Secure != secure || (c.Name != want && c.MaxAge >= 0) {
				t.Fatalf("Set-Cookie %s on a request read as %s", c, want)
			}
		}
		if !p.has(known) && w.Code == http.StatusOK {
			t.Fatal("signed in, but the live session is gone")
		}
	})
}
