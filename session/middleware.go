package session

import (
	"context"
	"errors"
	"net/http"
	"time"
	"unicode/utf8"
)

type contextKey struct{}

// FromContext returns the user and session that Middleware found for the
// request; ok is false when there is none.
func FromContext(ctx context.Context) (u User, s Session, ok bool) {
	res, ok := ctx.Value(contextKey{}).(*Result)
	if !ok || res == nil {
		return User{}, Session{}, false
	}
	return res.User, res.Session, true
}

// Middleware validates the request's session cookie and puts the session
// and its user in the request's context (see FromContext). A valid cookie
// is set again with its new expiry; a cookie that names no session is
// cleared. When the database fails, ErrorFunc answers and next is not
// called: an outage never reads as "signed out".
func (m *Manager) Middleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2, err := m.attach(w, r)
		if err != nil {
			m.cfg.ErrorFunc(w, r, err)
			return
		}
		defer removeMultipartFiles(r2, r)
		next.ServeHTTP(w, r2)
	})
}

// removeMultipartFiles removes the temporary files of a multipart form
// that next parsed on the request's copy: net/http removes only those of
// the request it passed in (Go issue 58809), so without this any cookie
// would let an upload fill the disk.
func removeMultipartFiles(cp, orig *http.Request) {
	if cp != orig && cp.MultipartForm != nil && cp.MultipartForm != orig.MultipartForm {
		_ = cp.MultipartForm.RemoveAll()
	}
}

// attach validates the request's session once, writes the cookie, and
// returns the request with the result in its context.
func (m *Manager) attach(w http.ResponseWriter, r *http.Request) (*http.Request, error) {
	if _, ok := r.Context().Value(contextKey{}).(*Result); ok {
		return r, nil
	}
	token, present := readCookie(r, m.CookieName(r))
	if !present {
		return r, nil
	}
	res, err := m.Validate(r.Context(), token)
	switch {
	case errors.Is(err, ErrNoSession):
		m.clearCookie(w, r, false)
		return withResult(r, nil), nil
	case err != nil:
		return r, err
	}
	// The request's copy also holds the values of the headers setCookie
	// adds: one allocation for both.
	x := new(resultRequest)
	m.setCookieSpare(w, r, token, res.cookieExpires, x.headerVals[:0])
	return x.fill(r, &res), nil
}

// resultContext is a request's context with what load found: a *Result,
// nil when the cookie named no session. It is context.WithValue's
// valueCtx holding the Result itself.
type resultContext struct {
	context.Context
	res *Result // nil or &own
	own Result
}

// resultRequest is the request attach passes on, with its context and
// the values of the response headers setCookie adds: one allocation per
// request where r.WithContext, context.WithValue, the escaping Result and
// the header values are four.
//
// The response's header values then point into it: code that keeps them
// past the request (an asynchronous logger, say) keeps the request copy
// and its Result, the user and session included, until it lets go.
type resultRequest struct {
	req        http.Request
	ctx        resultContext
	headerVals [3]string
}

// withResult returns a shallow copy of r (as r.WithContext makes) whose
// context is r's with res (nil for "no session") under contextKey.
func withResult(r *http.Request, res *Result) *http.Request {
	return new(resultRequest).fill(r, res)
}

// fill makes x withResult's answer and returns its request.
func (x *resultRequest) fill(r *http.Request, res *Result) *http.Request {
	x.ctx = resultContext{Context: r.Context()}
	if res != nil {
		x.ctx.own = *res
		x.ctx.res = &x.ctx.own
	}
	x.req = *r.WithContext(&x.ctx)
	return &x.req
}

// Value returns the *Result for contextKey and asks the parent for any
// other key.
func (c *resultContext) Value(key any) any {
	if _, ok := key.(contextKey); ok {
		return c.res
	}
	return c.Context.Value(key)
}

// RequireSession wraps next so that it only sees requests with a valid
// session. Others get 401 Unauthorized, or a redirect to Config.LoginURL
// when it is set. It validates the session itself when Middleware has not.
func (m *Manager) RequireSession(next http.Handler) http.Handler {
	return m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := FromContext(r.Context()); !ok {
			if m.cfg.LoginURL != "" {
				http.Redirect(w, r, m.cfg.LoginURL, http.StatusSeeOther)
				return
			}
			http.Error(w, http.StatusText(http.StatusUnauthorized), http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r)
	}))
}

// SessionHandler serves Auth.js's GET /api/auth/session: the session's
// user (name, email, image) and expiry as JSON, or, with no session, null
// (CookieV5) or {} (CookieV4), so that next-auth's useSession() can be
// pointed at a Go service. It validates the session itself when Middleware
// has not.
func (m *Manager) SessionHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			w.Header().Set("Allow", "GET, HEAD")
			http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
			return
		}
		r, err := m.attach(w, r)
		if err != nil {
			m.cfg.ErrorFunc(w, r, err)
			return
		}
		h := w.Header()
		h.Set("Content-Type", "application/json")
		h.Set("Cache-Control", "private, no-cache, no-store")
		h.Set("Pragma", "no-cache")
		h.Set("Expires", "0")
		res, _ := r.Context().Value(contextKey{}).(*Result)
		if res == nil {
			if m.cfg.CookieVersion == CookieV5 {
				_, _ = w.Write([]byte("null"))
			} else {
				_, _ = w.Write([]byte("{}"))
			}
			return
		}
		_, _ = w.Write(sessionJSON(res.User, res.ReadExpires))
	})
}

// sessionJSON is the body of Auth.js's /session for a session, byte for
// byte what it sends (JSON.stringify, in @auth/core's toResponse): keys
// in this order, null for an empty field, no HTML escaping, no trailing
// newline.
func sessionJSON(u User, expires time.Time) []byte {
	b := make([]byte, 0, 128)
	b = append(b, `{"user":{"name":`...)
	b = appendJSString(b, u.Name)
	b = append(b, `,"email":`...)
	b = appendJSString(b, u.Email)
	b = append(b, `,"image":`...)
	b = appendJSString(b, u.Image)
	b = append(b, `},"expires":"`...)
	b = append(b, FormatISO(expires)...)
	return append(b, `"}`...)
}

// appendJSString appends s as JSON.stringify writes a string, or null
// when s is empty (a NULL column). It escapes what JSON.stringify escapes
// and nothing more: the quote, the backslash and control characters
// (\b \t \n \f \r short, others as \u00xx); U+2028, U+2029, <, > and &
// stay as they are, where encoding/json would escape them. Invalid UTF-8,
// which a JavaScript string cannot hold, becomes U+FFFD as it would on
// its way into Node.
func appendJSString(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for _, r := range s { // an invalid byte comes as utf8.RuneError, U+FFFD
		switch {
		case r == '"':
			b = append(b, '\\', '"')
		case r == '\\':
			b = append(b, '\\', '\\')
		case r == '\b':
			b = append(b, '\\', 'b')
		case r == '\t':
			b = append(b, '\\', 't')
		case r == '\n':
			b = append(b, '\\', 'n')
		case r == '\f':
			b = append(b, '\\', 'f')
		case r == '\r':
			b = append(b, '\\', 'r')
		case r < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[r>>4], hex[r&0xf])
		default:
			b = utf8.AppendRune(b, r)
		}
	}
	return append(b, '"')
}

// FormatISO formats t as JavaScript's Date.prototype.toISOString does:
// UTC, milliseconds, a Z.
func FormatISO(t time.Time) string {
	return t.UTC().Format("2006-01-02T15:04:05.000Z")
}
