package interop

import (
	"context"
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nextsession/nextsession/session"
)

// parsed is how the Next.js side reads one Cookie header, per parser
// (null: no value).
type parsed struct {
	Invalid string  `json:"invalid"`
	AuthJS  *string `json:"authjs"` // Auth.js v5 (@auth/core's vendored cookie.js)
	Pages   *string `json:"pages"`  // next-auth v4, Pages Router (cookie 0.4.1)
	App     *string `json:"app"`    // next-auth v4, App Router (@edge-runtime/cookies)
}

// nodeParse reads the headers (each a list of header lines, joined with
// "; " as Node.js joins repeated Cookie headers) with each Next.js parser.
func nodeParse(t *testing.T, name string, headers [][]string) []parsed {
	t.Helper()
	enc := make([]string, len(headers))
	for i, h := range headers {
		enc[i] = base64.StdEncoding.EncodeToString([]byte(strings.Join(h, "; ")))
	}
	var out struct {
		Results []parsed `json:"results"`
	}
	authjs{e: &env{}}.run(t, "cookies", map[string]any{"name": name, "headers": enc}, &out)
	if len(out.Results) != len(headers) {
		t.Fatalf("%d results for %d headers", len(out.Results), len(headers))
	}
	return out.Results
}

// tokenStore has a session for every token it is asked about and records
// which: Go's reading of a header is the token it looks up.
type tokenStore struct {
	session.Store
	mu    sync.Mutex
	asked []string
}

func (s *tokenStore) GetSessionAndUser(_ context.Context, token string) (session.Session, session.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.asked = append(s.asked, token)
	return session.Session{Token: token, UserID: "u-" + token, Expires: farFuture}, session.User{ID: "u-" + token}, nil
}

func (s *tokenStore) UpdateSession(context.Context, session.SessionUpdate) error { return nil }

var farFuture = time.Date(3000, 1, 1, 0, 0, 0, 0, time.UTC)

// goToken is the token Go's middleware signs the request in with, "" for
// none.
func goToken(t *testing.T, m *session.Manager, st *tokenStore, header []string) string {
	t.Helper()
	st.mu.Lock()
	st.asked = nil
	st.mu.Unlock()
	var got string
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, s, ok := session.FromContext(r.Context()); ok {
			got = s.Token
		}
	}))
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header["Cookie"] = header
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != http.StatusOK {
		t.Fatalf("status %d", w.Code)
	}
	return got
}

// Go never acts as a different user than the Next.js side, whichever of
// its parsers that side uses: Auth.js v5's, the Pages Router's (first of a
// repeated name wins) or the App Router's (last wins, undecodable pairs
// dropped, a bare name reads "true"). On every hostile header below, when
// Go signs in with a token and a parser reads a token, they are the same;
// Go may read no session where they read one. The want columns pin what
// each side reads, so that the table shows the parsers disagreeing where
// it says they do.
func TestCookieParsers(t *testing.T) {
	requireAuthjs(t)
	const (
		alice = "0b5c3f5e-1f1c-4f5e-9c1d-3c2f1e0d9b8a"
		dave  = "d4ee0000-0000-4000-8000-00000000da7e"
	)
	type row struct {
		name   string
		header []string // {N}: the cookie name, {A}: Alice's token, {D}: Dave's
		// What Go, Auth.js and the App Router read ("" none, "x" a value
		// that is no token).
		goes, authjs, app string
	}
	rows := []row{
		{"plain", []string{"{N}={A}"}, "A", "A", "A"},
		{"among others", []string{"a=1; {N}={A}; b=2"}, "A", "A", "A"},
		{"repeated", []string{"{N}={A}; {N}={D}"}, "", "A", "D"},
		{"repeated, reversed", []string{"{N}={D}; {N}={A}"}, "", "D", "A"},
		{"repeated in two header lines", []string{"{N}={A}", "{N}={D}"}, "", "A", "D"},
		{"repeated without a space", []string{"{N}={A};{N}={D}"}, "", "A", "D"},
		{"same twice", []string{"{N}={A}; {N}={A}"}, "A", "A", "A"},
		{"empty first", []string{"{N}=; {N}={A}"}, "", "", "A"},
		{"empty last", []string{"{N}={A}; {N}="}, "", "A", ""},
		{"undecodable first", []string{"{N}=%E0%A4%A; {N}={A}"}, "", "x", "A"},
		{"undecodable last", []string{"{N}={A}; {N}=%ZZ"}, "", "A", "A"},
		{"bare name last", []string{"{N}={A}; {N}"}, "A", "A", "x"},
		{"bare name first", []string{"{N}; {N}={A}"}, "A", "A", "A"},
		{"spaced name first", []string{" {N} ={A}; {N}={D}"}, "", "A", "x"},
		{"tab before the name", []string{"{N}={A}; \t{N}={D}"}, "", "A", "A"},
		{"Latin-1 no-break space before the name", []string{"\xa0{N}={D}; {N}={A}"}, "", "A", "A"},
		{"quoted", []string{`{N}="{A}"`}, "", "x", "x"},
		{"percent-encoded", []string{"{N}=" + strings.ReplaceAll(alice, "-", "%2D")}, "A", "A", "A"},
		{"chunks", []string{"{N}.0=" + alice[:18] + "; {N}.1=" + alice[18:]}, "A", "A", "A"},
		{"chunks reversed", []string{"{N}.1=" + alice[18:] + "; {N}.0=" + alice[:18]}, "A", "A", "A"},
		{"chunk repeated", []string{"{N}.0=" + alice[:18] + "; {N}.1=" + alice[18:] + "; {N}.1=" + dave[18:]}, "", "A", "x"},
		{"name and a chunk", []string{"{N}={A}; {N}.0=x"}, "", "x", "x"},
		{"longer name beside", []string{"{N}bar=open; {N}={A}"}, "A", "x", "x"},
		{"not a chunk", []string{"{N}={A}; {N}.x=1"}, "A", "x", "x"},
		{"comma", []string{"{N}={A}, {N}={D}"}, "", "x", "x"},
	}
	sub := func(s, name string) string {
		return strings.NewReplacer("{N}", name, "{A}", alice, "{D}", dave).Replace(s)
	}
	for _, name := range []string{"next-auth.session-token", "__Secure-authjs.session-token", "sid"} {
		t.Run(name, func(t *testing.T) {
			headers := make([][]string, len(rows))
			for i, r := range rows {
				for _, h := range r.header {
					headers[i] = append(headers[i], sub(h, name))
				}
			}
			js := nodeParse(t, name, headers)
			st := &tokenStore{}
			cfg := session.Config{CookieName: strings.TrimPrefix(name, "__Secure-")}
			if strings.HasPrefix(name, "__Secure-") {
				cfg.Secure = session.SecureAlways
			}
			m := session.NewManager(st, cfg)
			for i, r := range rows {
				t.Run(r.name, func(t *testing.T) {
					if js[i].Invalid != "" {
						t.Fatalf("Node refused the header: %s", js[i].Invalid)
					}
					g := goToken(t, m, st, headers[i])
					for parser, v := range map[string]*string{"Auth.js": js[i].AuthJS, "Pages Router": js[i].Pages, "App Router": js[i].App} {
						if v != nil && session.IsNextAuthToken(*v) && g != "" && g != *v {
							t.Errorf("Go signs in as %q, the Next.js side with %s as %q", g, parser, *v)
						}
					}
					read := func(v *string) string {
						switch {
						case v == nil:
							return ""
						case *v == alice:
							return "A"
						case *v == dave:
							return "D"
						}
						return "x"
					}
					if got := read(&g); (g == "" && r.goes != "") || (g != "" && got != r.goes) {
						t.Errorf("Go read %q, want %q", g, r.goes)
					}
					if got := read(js[i].AuthJS); got != r.authjs {
						t.Errorf("Auth.js read %v, want %s", got, r.authjs)
					}
					if got := read(js[i].App); got != r.app {
						t.Errorf("the App Router read %v, want %s", got, r.app)
					}
				})
			}
		})
	}
}
