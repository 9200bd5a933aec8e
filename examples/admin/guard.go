package main

import (
	"context"
	"errors"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
)

// localPath returns p if it is a path on this site, else "": the sign-in
// form never redirects elsewhere. Browsers drop tabs and newlines from a
// Location and read a backslash as a slash, so "/\t/evil.example" would be
// "//evil.example", another host: any control character, space or
// backslash refuses the path, as do a scheme, a host and a leading "//".
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || len(p) > 2048 {
		return ""
	}
	for _, r := range p {
		if r == '\\' || r < 0x20 || r == 0x7f || unicode.IsSpace(r) || unicode.IsControl(r) || r == unicode.ReplacementChar {
			return ""
		}
	}
	u, err := url.Parse(p)
	if err != nil || u.Scheme != "" || u.Host != "" || u.Opaque != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(u.Path, "//") {
		return ""
	}
	return p
}

// maxFormBytes caps a posted form: the largest this site posts (an email,
// a password and a path) is far below it.
const maxFormBytes = 8 << 10

// formsOnly lets POSTs through only with an urlencoded body of at most
// maxFormBytes, which is all the pages post: a multipart body is refused
// with 415 before anything of it is read (so nothing is spooled to disk),
// a larger one with 413.
func formsOnly(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			next.ServeHTTP(w, r)
			return
		}
		if ct := r.Header.Get("Content-Type"); ct != "" || r.ContentLength != 0 {
			if mt, _, err := mime.ParseMediaType(ct); err != nil || mt != "application/x-www-form-urlencoded" {
				w.Header().Set("Accept-Post", "application/x-www-form-urlencoded")
				http.Error(w, "forms are posted urlencoded", http.StatusUnsupportedMediaType)
				return
			}
		}
		if r.ContentLength > maxFormBytes {
			http.Error(w, http.StatusText(http.StatusRequestEntityTooLarge), http.StatusRequestEntityTooLarge)
			return
		}
		r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
		if err := r.ParseForm(); err != nil {
			status := http.StatusBadRequest
			if _, tooBig := errors.AsType[*http.MaxBytesError](err); tooBig {
				status = http.StatusRequestEntityTooLarge
			}
			http.Error(w, http.StatusText(status), status)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// withDeadline bounds the database work of a request (the session lookup
// and the handler's queries): a database that hangs answers 503 after d
// instead of holding the request and a connection.
func withDeadline(d time.Duration, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), d)
		defer cancel()
		next.ServeHTTP(w, r.WithContext(ctx))
	})
}

// throttle limits failed sign-ins per key (an account, a client address)
// with a token bucket: burst failures at once, then one per every. A key
// that is out of tokens is refused until the next one comes, so an
// attacker who keeps a victim's account drained makes the victim wait at
// most every, never a long lockout. The table holds at most max keys: full
// buckets are dropped first, then arbitrary ones, so hostile clients
// cannot grow it without limit.
type throttle struct {
	burst int
	every time.Duration
	max   int
	now   func() time.Time

	mu   sync.Mutex
	keys map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newThrottle(burst int, every time.Duration, max int) *throttle {
	return &throttle{burst: burst, every: every, max: max, now: time.Now, keys: map[string]*bucket{}}
}

// level returns the key's tokens now, refilled since its last change.
func (t *throttle) level(b *bucket, now time.Time) float64 {
	return min(float64(t.burst), b.tokens+float64(now.Sub(b.at))/float64(t.every))
}

// wait says how long key must wait before its next attempt; 0 means now.
func (t *throttle) wait(key string) time.Duration {
	t.mu.Lock()
	defer t.mu.Unlock()
	b := t.keys[key]
	if b == nil {
		return 0
	}
	lvl := t.level(b, t.now())
	if lvl >= 1 {
		return 0
	}
	return time.Duration((1 - lvl) * float64(t.every))
}

// fail takes a token from key for a failed attempt.
func (t *throttle) fail(key string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	now := t.now()
	b := t.keys[key]
	if b == nil {
		if len(t.keys) >= t.max {
			t.evict(now)
		}
		b = &bucket{tokens: float64(t.burst), at: now}
		t.keys[key] = b
	}
	b.tokens = max(0, t.level(b, now)-1)
	b.at = now
}

// evict makes room: it drops the keys whose bucket is full again (they
// hold nothing), and if none is, one arbitrary key.
func (t *throttle) evict(now time.Time) {
	for k, b := range t.keys {
		if t.level(b, now) >= float64(t.burst) {
			delete(t.keys, k)
		}
	}
	for k := range t.keys {
		if len(t.keys) < t.max {
			return
		}
		delete(t.keys, k)
	}
}

// len returns how many keys the table holds.
func (t *throttle) len() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	return len(t.keys)
}

// clientKey is the throttle key of a request's client: its address, or
// for IPv6 its /64, which one host usually holds whole.
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip := net.ParseIP(host)
	if ip == nil {
		return host
	}
	if ip.To4() == nil {
		return ip.Mask(net.CIDRMask(64, 128)).String() + "/64"
	}
	return ip.String()
}

// retryAfter answers 429 with the whole seconds to wait.
func retryAfter(w http.ResponseWriter, d time.Duration) {
	w.Header().Set("Retry-After", strconv.Itoa(int((d+time.Second-1)/time.Second)))
}
