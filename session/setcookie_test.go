package session

import (
	"crypto/tls"
	"io"
	"log"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"
)

// netHTTPSetCookie is what http.SetCookie writes for the session cookie
// that m sets on r: the reference setCookie must match byte for byte.
func netHTTPSetCookie(m *Manager, r *http.Request, token string, expires time.Time) []string {
	w := httptest.NewRecorder()
	c := m.cookie(r, m.CookieName(r), token)
	c.Expires = expires
	http.SetCookie(w, c)
	return w.Header()["Set-Cookie"]
}

func TestSetCookieMatchesNetHTTP(t *testing.T) {
	log.SetOutput(io.Discard) // net/http logs every byte it drops
	t.Cleanup(func() { log.SetOutput(os.Stderr) })
	expires := time.Date(2026, time.November, 27, 9, 30, 1, 999_000_000, time.FixedZone("x", 5*3600+1800))
	tokens := []string{
		"5f1a6b1e-8c2d-4e3f-9a0b-1c2d3e4f5a6b",
		strings.Repeat("ab", 32),
		"a b", "a,b", `a"b`, "a;b", `a\b`, "a\x00b", "a\x7fb", "é", "\xff", " ", "",
		"a=b", "%41", "__Secure-x", strings.Repeat("x", 5000),
	}
	times := []time.Time{
		expires, expires.UTC(), time.Unix(0, 0), time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(1600, 12, 31, 23, 59, 59, 0, time.UTC), time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC),
		time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC), {},
	}
	configs := []Config{
		{}, {Secure: SecureAlways}, {CookieVersion: CookieV5}, {CookieDomain: "example.com"},
		{CookieDomain: ".example.com"}, {CookieDomain: "bad domain;x"}, {CookieDomain: "127.0.0.1"},
		{CookieDomain: "::1"}, {CookieName: "sid"}, {CookieName: "bad name"}, {CookieName: "a;b=c"},
		{CookieName: "__Host-sid"}, {CookieName: "__Host-sid", Secure: SecureNever},
	}
	plain := httptest.NewRequest(http.MethodGet, "/", nil)
	tlsReq := httptest.NewRequest(http.MethodGet, "https://example.com/", nil)
	tlsReq.TLS = &tls.ConnectionState{}
	for _, cfg := range configs {
		m := NewManager(setCookieStore{}, cfg)
		for _, r := range []*http.Request{plain, tlsReq} {
			for _, tok := range tokens {
				// Each time, another in the same second, and one in the
				// next: the Manager keeps the last second's text.
				for _, exp := range times {
					for _, exp := range []time.Time{exp, exp.Truncate(time.Second), exp.Add(time.Second)} {
						w := httptest.NewRecorder()
						m.setCookie(w, r, tok, exp)
						got, want := w.Header()["Set-Cookie"], netHTTPSetCookie(m, r, tok, exp)
						if strings.Join(got, "\n") != strings.Join(want, "\n") || len(got) != len(want) {
							t.Errorf("config %+v, TLS %v, token %q, expires %v:\n got %q\nwant %q", cfg, r.TLS != nil, tok, exp, got, want)
						}
					}
				}
			}
		}
	}
}

// TestSetCookieAppends checks that setCookie adds its header to those
// already set, as http.SetCookie does.
func TestSetCookieAppends(t *testing.T) {
	m := NewManager(setCookieStore{}, Config{})
	w := httptest.NewRecorder()
	w.Header().Add("Set-Cookie", "other=1")
	m.setCookie(w, httptest.NewRequest(http.MethodGet, "/", nil), "tok", time.Date(2030, 1, 2, 3, 4, 5, 0, time.UTC))
	got := w.Header()["Set-Cookie"]
	want := []string{"other=1", "next-auth.session-token=tok; Path=/; Expires=Wed, 02 Jan 2030 03:04:05 GMT; HttpOnly; SameSite=Lax"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %q, want %q", got, want)
	}
	// The defaults and a domain take the format, not net/http.
	for _, cfg := range []Config{{}, {CookieDomain: "example.com"}} {
		m := NewManager(setCookieStore{}, cfg)
		for i := range m.setFormats {
			if _, ok := m.setFormats[i].value(&m.setSuffixes[i], "5f1a6b1e-8c2d-4e3f-9a0b-1c2d3e4f5a6b", time.Now()); !ok {
				t.Errorf("config %+v: format %d not used", cfg, i)
			}
		}
	}
}

// TestSetCookieAllocs: the session cookie's value costs one allocation,
// whether its expiry is the sliding one every request shares (kept per
// second) or one of its own, earlier (cut at AbsoluteLifetime).
func TestSetCookieAllocs(t *testing.T) {
	m := NewManager(setCookieStore{}, Config{})
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	tok := "5f1a6b1e-8c2d-4e3f-9a0b-1c2d3e4f5a6b"
	sliding := time.Now().Add(DefaultMaxAge)
	cut := []time.Time{sliding.Add(-time.Hour), sliding.Add(-2 * time.Hour)}
	i := 0
	for name, exp := range map[string]func() time.Time{
		"sliding": func() time.Time { return sliding },
		"cut":     func() time.Time { i++; return cut[i%2] },
	} {
		m.setCookieValue(r, tok, exp())
		if n := testing.AllocsPerRun(100, func() { m.setCookieValue(r, tok, exp()) }); n != 1 {
			t.Errorf("%s expiry: %v allocations, want 1", name, n)
		}
	}
}

func TestAppendHTTPDate(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	lo := time.Date(1601, 1, 1, 0, 0, 0, 0, time.UTC).Unix()
	hi := time.Date(9999, 12, 31, 23, 59, 59, 0, time.UTC).Unix()
	for range 100_000 {
		tm := time.Unix(lo+rng.Int64N(hi-lo+1), rng.Int64N(1e9)).UTC()
		if got, want := string(appendHTTPDate(nil, tm)), tm.Format(http.TimeFormat); got != want {
			t.Fatalf("%v: got %q, want %q", tm, got, want)
		}
	}
}

func BenchmarkSetCookie(b *testing.B) {
	m := NewManager(setCookieStore{}, Config{})
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	tok := "5f1a6b1e-8c2d-4e3f-9a0b-1c2d3e4f5a6b"
	exp := time.Now().Add(DefaultMaxAge)
	b.Run("impl=ours", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.setCookie(nopWriter{}, r, tok, exp)
		}
	})
	b.Run("impl=net-http", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			c := m.cookie(r, m.CookieName(r), tok)
			c.Expires = exp
			http.SetCookie(nopWriter{}, c)
		}
	})
}

// setCookieStore is a Store that is never called: setCookie needs only
// the Manager's configuration.
type setCookieStore struct{ Store }

// nopWriter is a ResponseWriter with a fresh header each call.
type nopWriter struct{}

func (nopWriter) Header() http.Header         { return http.Header{} }
func (nopWriter) Write(b []byte) (int, error) { return len(b), nil }
func (nopWriter) WriteHeader(int)             {}
