package session

import (
	"iter"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode"
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
	hostPrefix   = "__Host-"
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

// readCookie returns the session cookie's value as Auth.js reads it from
// the cookies it writes itself: the cookie name, or its chunks name.0,
// name.1, ... joined in the order of their numbers, values trimmed of
// spaces and tabs and percent-decoded, empty chunks skipped. Database
// sessions never write chunks, but leftovers of a JWT setup may be
// present. present reports whether any such cookie was sent.
//
// It reads less than Auth.js where that keeps Go from ever acting as a
// different user than the Next.js side, whichever parser it uses
// (Auth.js's own and the cookie package keep the first of a repeated
// name, Next.js's App Router keeps the last):
//   - a name sent twice with different values is no session and reads as
//     absent, so that nothing is cleared and nothing is looked up;
//   - only the name itself and its chunks count, not every cookie whose
//     name starts with it (a cookie "sidebar" is no part of "sid");
//   - the name together with chunks, more than maxSessionChunks chunks, or
//     more than maxCookieLen bytes of them read as present but no token.
//
// Its cost is that of one pass over the header: it keeps nothing of the
// cookies that are not the session cookie's, and at most maxSessionChunks
// of those that are.
func readCookie(r *http.Request, name string) (value string, present bool) {
	// vals[0] is the name itself, vals[i+1] its chunk i.
	var vals [maxSessionChunks + 1]string
	var seen [maxSessionChunks + 1]bool
	total, nonEmpty := 0, 0
	for c := range sessionCookies(r, name) {
		present = true
		if c.chunk >= maxSessionChunks {
			return "", true
		}
		i := c.chunk + 1
		if seen[i] {
			if vals[i] != c.value {
				return "", false
			}
			continue
		}
		seen[i], vals[i] = true, c.value
		if c.value != "" {
			nonEmpty++
			if total += len(c.value); total > maxCookieLen {
				return "", true // no token is that long
			}
		}
	}
	// Auth.js would join the name with chunks in an order JavaScript's
	// sort leaves to the engine; it never writes both.
	if vals[0] != "" && nonEmpty > 1 {
		return "", present
	}
	if vals[0] != "" {
		return decodeURIComponent(vals[0]), true
	}
	var sb strings.Builder
	for _, v := range vals[1:] {
		if v != "" {
			sb.WriteString(decodeURIComponent(v))
		}
	}
	return sb.String(), present
}

// signOutTokens returns the tokens a sign-out deletes: the one readCookie
// reads or, when the name was sent with different values, each of them
// (at most maxClearedCookies). present says whether any cookie of the
// session cookie's names was sent.
func signOutTokens(r *http.Request, name string) (tokens []string, present bool) {
	if v, present := readCookie(r, name); present {
		return []string{v}, true
	}
	for c := range sessionCookies(r, name) {
		present = true
		if c.chunk < 0 && c.value != "" && len(tokens) < maxClearedCookies {
			if v := decodeURIComponent(c.value); !slices.Contains(tokens, v) {
				tokens = append(tokens, v)
			}
		}
	}
	return tokens, present
}

// sessionCookie is one cookie of the session cookie's names.
type sessionCookie struct {
	name  string // as sent, trimmed
	chunk int    // -1 for the name itself, else i of name.i
	value string // raw, trimmed of spaces and tabs
}

// sessionCookies yields the cookies in the request's Cookie headers that
// are the session cookie or a chunk of it, split as every parser Next.js
// or Auth.js uses splits them: parts cut at ";" and at their first "=",
// parts without "=" skipped. Names are trimmed of every space any of them
// trims (JavaScript's trim on a Latin-1 header), so that a name they may
// read as the cookie's is never missed; values of spaces and tabs, as
// Auth.js does.
func sessionCookies(r *http.Request, name string) iter.Seq[sessionCookie] {
	return func(yield func(sessionCookie) bool) {
		for _, line := range r.Header.Values("Cookie") {
			for part := range strings.SplitSeq(line, ";") {
				k, v, ok := strings.Cut(part, "=")
				if !ok {
					continue
				}
				k = trimJSSpace(k)
				chunk, ok := chunkNumber(k, name)
				if ok && !yield(sessionCookie{k, chunk, strings.Trim(v, " \t")}) {
					return
				}
			}
		}
	}
}

// maxSessionChunks bounds the chunks read: Auth.js cuts a cookie into
// chunks of 3,936 bytes, so a token of maxCookieLen bytes never needs
// more than two, and a browser keeps about 180 cookies a site.
const maxSessionChunks = 64

// chunkNumber says whether k is name (chunk -1) or one of its chunks as
// Auth.js names them, name.0, name.1, ... (chunk 0, 1, ...).
func chunkNumber(k, name string) (chunk int, ok bool) {
	if !strings.HasPrefix(k, name) {
		return 0, false
	}
	s := k[len(name):]
	if s == "" {
		return -1, true
	}
	if len(s) < 2 || s[0] != '.' || len(s) > 5 || (s[1] == '0' && len(s) > 2) {
		return 0, false
	}
	for _, c := range []byte(s[1:]) {
		if c < '0' || c > '9' {
			return 0, false
		}
		chunk = chunk*10 + int(c-'0')
	}
	return chunk, true
}

// trimJSSpace trims what JavaScript's String.prototype.trim trims, read
// as Latin-1 (as Node.js decodes header bytes: tab, line feed, vertical
// tab, form feed, carriage return, space, and the no-break space 0xA0) or
// as UTF-8 (Unicode spaces and U+FEFF).
func trimJSSpace(s string) string {
	for s != "" {
		if r, n := utf8.DecodeRuneInString(s); n > 1 && isJSSpace(r) {
			s = s[n:]
		} else if isJSSpaceByte(s[0]) {
			s = s[1:]
		} else {
			break
		}
	}
	for s != "" {
		if r, n := utf8.DecodeLastRuneInString(s); n > 1 && isJSSpace(r) {
			s = s[:len(s)-n]
		} else if isJSSpaceByte(s[len(s)-1]) {
			s = s[:len(s)-1]
		} else {
			break
		}
	}
	return s
}

func isJSSpaceByte(c byte) bool { return c == ' ' || (c >= '\t' && c <= '\r') || c == 0xA0 }

func isJSSpace(r rune) bool { return r == '\uFEFF' || unicode.IsSpace(r) }

// maxCookieLen bounds what is joined from chunks; anything longer cannot be
// a token.
const maxCookieLen = 4096

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
	// One array holds the up to three values added, where Header.Set and
	// Add would make one each.
	m.setCookieSpare(w, r, token, expires, make([]string, 0, 3))
}

// setCookieSpare is setCookie with the room for the header values it adds
// in spare (see addHeader).
func (m *Manager) setCookieSpare(w http.ResponseWriter, r *http.Request, token string, expires time.Time, spare []string) {
	h := w.Header()
	spare = keepFromSharedCaches(h, spare)
	if v := m.setCookieValue(r, token, expires); v != "" {
		addHeader(h, "Set-Cookie", v, spare)
	}
}

// addHeader appends v to h's values under key, a canonical header name,
// as Header.Add does; a new key's value goes into spare's free room when
// it has some, and spare is returned with its room used. The value slices
// made from spare are full, so a handler that appends to one gets a copy.
func addHeader(h http.Header, key, v string, spare []string) []string {
	old := h[key]
	if len(old) > 0 || len(spare) == cap(spare) {
		h[key] = append(old, v)
		return spare
	}
	n := len(spare)
	spare = append(spare, v)
	h[key] = spare[n : n+1 : n+1]
	return spare
}

// setCookieValue returns the Set-Cookie value of the session cookie, as
// http.SetCookie would write it ("" when it would write none). It runs on
// every valid read, so it splices token and expiry into the Manager's
// setCookieFormat, and asks net/http only for a value or date that the
// format does not cover.
func (m *Manager) setCookieValue(r *http.Request, token string, expires time.Time) string {
	i := 0
	if m.secure(r) {
		i = 1
	}
	if v, ok := m.setFormats[i].value(&m.setSuffixes[i], token, expires); ok {
		return v
	}
	cookie := m.cookie(r, m.CookieName(r), token)
	cookie.Expires = expires
	return cookie.String()
}

// keepFromSharedCaches marks a response that sets or clears the session
// cookie as private, unless a Cache-Control is already there, and as
// varying with the Cookie header: a shared cache (a CDN, a proxy) that
// stored it would hand one user's session, or a sign-out, to the next
// visitor. The handler runs after this and may still set its own
// Cache-Control.
// The values go into spare's free room where a key is new (see
// addHeader); spare is returned with its room used. The header names are
// written in their canonical form, so the map is read and written directly,
// as Header's methods would after canonicalising.
func keepFromSharedCaches(h http.Header, spare []string) []string {
	if cc := h["Cache-Control"]; len(cc) == 0 || cc[0] == "" {
		delete(h, "Cache-Control")
		spare = addHeader(h, "Cache-Control", "private", spare)
	}
	for _, v := range h["Vary"] {
		for f := range strings.SplitSeq(v, ",") {
			if f = strings.TrimSpace(f); f == "*" || strings.EqualFold(f, "Cookie") {
				return spare
			}
		}
	}
	return addHeader(h, "Vary", "Cookie", spare)
}

// maxClearedCookies bounds the Set-Cookie headers one response sends to
// clear chunks; a request may carry thousands of cookies.
const maxClearedCookies = 16

// clearCookie tells the browser to drop the session cookie and every chunk
// of it the request carried, as Auth.js's SessionStore.clean does:
// leftover chunks would otherwise be joined to every later session cookie.
// With keepBase, only the chunks go (the base name is about to be set).
// Cookies whose names merely start with the name are the application's,
// and are left alone.
func (m *Manager) clearCookie(w http.ResponseWriter, r *http.Request, keepBase bool) {
	name := m.CookieName(r)
	var names []string
	if !keepBase {
		names = append(names, name)
	}
	for c := range sessionCookies(r, name) {
		if len(names) == maxClearedCookies {
			break
		}
		if c.chunk >= 0 && !slices.Contains(names, c.name) {
			names = append(names, c.name)
		}
	}
	if len(names) > 0 {
		keepFromSharedCaches(w.Header(), nil)
	}
	for _, n := range names {
		c := m.cookie(r, n, "")
		c.MaxAge = -1 // written as Max-Age=0
		http.SetCookie(w, c)
	}
}
