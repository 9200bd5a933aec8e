package session

import (
	"iter"
	"net/http"
	"sort"
	"strings"
	"time"
	"unicode/utf8"
)

// CookieVersion selects the session cookie name of a NextAuth major version.
type CookieVersion int

const (
	// CookieV4 is next-auth.session-token, the name NextAuth v4 uses. It is
	// the default because `npm install next-auth` installs v4.
	CookieV4 CookieVersion = iota
	// CookieV5 is authjs.session-token, the name of Auth.js v5 (next-auth@5
	// and @auth/core).
	CookieV5
)

// SecureMode says when the session cookie carries the __Secure- prefix and
// the Secure attribute.
type SecureMode int

const (
	// SecureAuto uses secure cookies when the request came over TLS. Behind
	// a proxy that ends TLS, use SecureAlways.
	SecureAuto SecureMode = iota
	// SecureAlways always uses secure cookies, as NextAuth does when its
	// URL starts with https://.
	SecureAlways
	// SecureNever never uses secure cookies.
	SecureNever
)

const (
	cookieNameV4 = "next-auth.session-token"
	cookieNameV5 = "authjs.session-token"
	securePrefix = "__Secure-"
)

// CookieName returns the name of the session cookie for a request: the
// configured base name, with the __Secure- prefix when secure cookies apply.
func (m *Manager) CookieName(r *http.Request) string {
	if m.secure(r) {
		return m.secureName
	}
	return m.plainName
}

func (m *Manager) secure(r *http.Request) bool {
	switch m.cfg.Secure {
	case SecureAlways:
		return true
	case SecureNever:
		return false
	}
	return r.TLS != nil
}

// readCookie returns the session cookie's value as Auth.js reads it: the
// Cookie header parsed as its vendored cookie.parse does (the first of a
// repeated name wins, even when empty; names and values trimmed of spaces
// and tabs; values percent-decoded, quotes kept), then every cookie whose
// name starts with the cookie name and whose value is not empty, sorted by
// the number after the last dot and joined. Database sessions never write
// chunks, but leftovers of a JWT setup may be present. present reports
// whether any such cookie was sent.
func readCookie(r *http.Request, name string) (value string, present bool) {
	type chunk struct {
		name, value string
	}
	var chunks []chunk
	for k, v := range sessionCookies(r, name) {
		present = true
		v = decodeURIComponent(v)
		if v != "" {
			chunks = append(chunks, chunk{k, v})
		}
	}
	switch len(chunks) {
	case 0:
		return "", present
	case 1:
		return chunks[0].value, true
	}
	sort.SliceStable(chunks, func(i, j int) bool {
		a, aok := jsParseInt(suffix(chunks[i].name))
		b, bok := jsParseInt(suffix(chunks[j].name))
		// JavaScript's comparator gives NaN for a name without a number,
		// which sort treats as equal.
		return aok && bok && a < b
	})
	var sb strings.Builder
	for _, c := range chunks {
		sb.WriteString(c.value)
		if sb.Len() > maxCookieLen {
			break
		}
	}
	return sb.String(), true
}

// sessionCookies yields the name and raw value of every cookie in the
// request's Cookie headers whose name starts with name, as Auth.js's
// vendored cookie.parse splits them: parts cut at ";" and "=", names and
// values trimmed of spaces and tabs, the first of a repeated name only
// (even when its value is empty).
func sessionCookies(r *http.Request, name string) iter.Seq2[string, string] {
	return func(yield func(string, string) bool) {
		seen := map[string]bool{}
		for _, line := range r.Header.Values("Cookie") {
			for part := range strings.SplitSeq(line, ";") {
				k, v, ok := strings.Cut(part, "=")
				k = strings.Trim(k, " \t")
				if !ok || seen[k] {
					continue
				}
				seen[k] = true
				if strings.HasPrefix(k, name) && !yield(k, strings.Trim(v, " \t")) {
					return
				}
			}
		}
	}
}

// maxCookieLen bounds what is joined from chunks; anything longer cannot be
// a token.
const maxCookieLen = 4096

func suffix(name string) string {
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		if s := name[i+1:]; s != "" {
			return s
		}
		return "0" // JavaScript's name.split(".").pop() || "0"
	}
	return name
}

// decodeURIComponent decodes a cookie value as cookie.js's decode does
// with JavaScript's decodeURIComponent: a value with a malformed escape,
// or with escapes that do not spell UTF-8, is kept as it is.
func decodeURIComponent(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	out := make([]byte, 0, len(s))
	for i := 0; i < len(s); {
		if s[i] != '%' {
			out = append(out, s[i])
			i++
			continue
		}
		start := len(out)
		for i < len(s) && s[i] == '%' {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return s
			}
			out = append(out, unhex(s[i+1])<<4|unhex(s[i+2]))
			i += 3
		}
		if !utf8.Valid(out[start:]) {
			return s
		}
	}
	return string(out)
}

func unhex(c byte) byte {
	switch {
	case c >= 'a':
		return c - 'a' + 10
	case c >= 'A':
		return c - 'A' + 10
	}
	return c - '0'
}

// jsParseInt mimics JavaScript's parseInt(s, 10) for what it needs: leading
// spaces, an optional sign, then digits; ok is false where it gives NaN.
func jsParseInt(s string) (n int64, ok bool) {
	s = strings.TrimLeft(s, " \t\n\r\f\v")
	neg := false
	if s != "" && (s[0] == '-' || s[0] == '+') {
		neg = s[0] == '-'
		s = s[1:]
	}
	for i := 0; i < len(s) && s[i] >= '0' && s[i] <= '9'; i++ {
		ok = true
		if n < 1e15 {
			n = n*10 + int64(s[i]-'0')
		}
	}
	if neg {
		n = -n
	}
	return n, ok
}

// cookie returns a session cookie with NextAuth's attributes: HttpOnly,
// Path=/, SameSite=Lax, and Secure with the __Secure- prefix.
func (m *Manager) cookie(r *http.Request, name, value string) *http.Cookie {
	c := m.cookieAttrs(name, value, m.secure(r))
	return &c
}

// cookieAttrs is the cookie of cookie, for a request that is secure or not.
func (m *Manager) cookieAttrs(name, value string, secure bool) http.Cookie {
	return http.Cookie{
		Name:     name,
		Value:    value,
		Path:     "/",
		Domain:   m.cfg.CookieDomain,
		HttpOnly: true,
		Secure:   secure,
		SameSite: http.SameSiteLaxMode,
	}
}

// setCookieFormats returns the formats of the session cookie, plain and
// secure, for setCookie.
func (m *Manager) setCookieFormats() [2]setCookieFormat {
	return [2]setCookieFormat{
		newSetCookieFormat(m.cookieAttrs(m.plainName, "", false)),
		newSetCookieFormat(m.cookieAttrs(m.secureName, "", true)),
	}
}

// setCookie writes the session cookie, expiring with the session.
func (m *Manager) setCookie(w http.ResponseWriter, r *http.Request, token string, expires time.Time) {
	if v := m.setCookieValue(r, token, expires); v != "" {
		h := w.Header()
		h["Set-Cookie"] = append(h["Set-Cookie"], v)
	}
}

// setCookieValue returns the Set-Cookie value of the session cookie, as
// http.SetCookie would write it ("" when it would write none). It runs on
// every valid read, so it splices token and expiry into the Manager's
// setCookieFormat, and asks net/http only for a value or date that the
// format does not cover.
func (m *Manager) setCookieValue(r *http.Request, token string, expires time.Time) string {
	f := &m.setFormats[0]
	if m.secure(r) {
		f = &m.setFormats[1]
	}
	var buf [160]byte
	if b, ok := f.appendSetCookie(buf[:0], token, expires); ok {
		return string(b)
	}
	cookie := m.cookie(r, m.CookieName(r), token)
	cookie.Expires = expires
	return cookie.String()
}

// maxClearedCookies bounds the Set-Cookie headers one response sends to
// clear chunks; a request may carry thousands of cookies.
const maxClearedCookies = 16

// clearCookie tells the browser to drop the session cookie and every chunk
// of it the request carried, as Auth.js's SessionStore.clean does:
// leftover chunks would otherwise be joined to every later session cookie.
// With keepBase, only the chunks go (the base name is about to be set).
func (m *Manager) clearCookie(w http.ResponseWriter, r *http.Request, keepBase bool) {
	name := m.CookieName(r)
	var names []string
	if !keepBase {
		names = append(names, name)
	}
	for k := range sessionCookies(r, name) {
		if len(names) == maxClearedCookies {
			break
		}
		if k != name {
			names = append(names, k)
		}
	}
	for _, n := range names {
		c := m.cookie(r, n, "")
		c.MaxAge = -1 // written as Max-Age=0
		http.SetCookie(w, c)
	}
}
