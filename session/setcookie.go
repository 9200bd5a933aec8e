package session

import (
	"net/http"
	"strings"
	"sync/atomic"
	"time"
)

// setCookieFormat is the Set-Cookie value of a session cookie cut around
// the two parts that change from one request to the next, the token and
// the expiry: head + token + mid + expiry + tail. It is made once per
// Manager and cookie name by net/http itself (http.Cookie.String on the
// cookie Manager.cookie describes), so that the attributes, their order
// and their validation stay net/http's; writing a request's cookie then
// costs two copies and a date instead of String's checks, sanitising and
// time formatting on every valid read.
type setCookieFormat struct {
	head, mid, tail string
	ok              bool // false: the format could not be cut; use net/http
}

// formatRefTime is the expiry the format is cut around: any valid time
// whose HTTP date appears nowhere else in the cookie.
var formatRefTime = time.Date(2001, time.February, 3, 4, 5, 6, 0, time.UTC)

// newSetCookieFormat cuts the Set-Cookie value of c (whose Value and
// Expires it replaces) into a setCookieFormat.
func newSetCookieFormat(c http.Cookie) setCookieFormat {
	const ref = "x"
	c.Value, c.Expires = ref, formatRefTime
	s := c.String()
	date := formatRefTime.Format(http.TimeFormat)
	head := c.Name + "="
	if !strings.HasPrefix(s, head+ref+";") || strings.Count(s, date) != 1 {
		return setCookieFormat{}
	}
	i := strings.Index(s, date)
	return setCookieFormat{head: head, mid: s[len(head)+len(ref) : i], tail: s[i+len(date):], ok: true}
}

// cookieSuffix is what follows the token in the Set-Cookie value of a
// format for an expiry in second sec: mid, the HTTP date, tail. The value
// changes once a second, and every valid read writes it, so each Manager
// keeps the latest one per format.
type cookieSuffix struct {
	sec int64
	s   string
}

// value returns the Set-Cookie value of the cookie with value and
// expires, byte for byte what http.Cookie.String writes, taking the part
// after the token from latest when it is for the same second. ok is false
// when String would have to quote or drop bytes of value or when expires
// has no four-digit HTTP date: the caller then leaves it to net/http.
//
// A later second than latest's becomes the new latest (the sliding expiry
// now + MaxAge moves forward once a second); an earlier one (an expiry cut
// at AbsoluteLifetime, different for every session) is written out
// without touching latest, in one allocation as a hit takes.
func (f *setCookieFormat) value(latest *atomic.Pointer[cookieSuffix], value string, expires time.Time) (_ string, ok bool) {
	if !f.ok || !plainCookieValue(value) {
		return "", false
	}
	expires = expires.UTC()
	sec := expires.Unix()
	last := latest.Load()
	if last != nil && last.sec == sec {
		return f.head + value + last.s, true
	}
	if y := expires.Year(); y < 1601 || y > 9999 {
		return "", false
	}
	if last == nil || sec > last.sec {
		var b [64]byte
		last = &cookieSuffix{sec: sec, s: f.mid + string(appendHTTPDate(b[:0], expires)) + f.tail}
		latest.Store(last)
		return f.head + value + last.s, true
	}
	// Concatenation reads the date's bytes in place: one allocation.
	var b [64]byte
	return f.head + value + f.mid + string(appendHTTPDate(b[:0], expires)) + f.tail, true
}

// plainCookieValue reports whether http.Cookie.String writes v as it is:
// not empty, only bytes it allows in a value, and no space or comma, which
// would make it quote v.
func plainCookieValue(v string) bool {
	if v == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		c := v[i]
		if c <= ' ' || c >= 0x7f || c == '"' || c == ';' || c == '\\' || c == ',' {
			return false
		}
	}
	return true
}

const (
	weekdayNames = "SunMonTueWedThuFriSat"
	monthNames   = "JanFebMarAprMayJunJulAugSepOctNovDec"
)

// appendHTTPDate appends t, in UTC with a four-digit year, as
// http.TimeFormat ("Mon, 02 Jan 2006 15:04:05 GMT") writes it.
func appendHTTPDate(b []byte, t time.Time) []byte {
	y, mo, d := t.Date()
	h, mi, s := t.Clock()
	wd := int(t.Weekday()) * 3
	b = append(b, weekdayNames[wd:wd+3]...)
	b = append(b, ',', ' ')
	b = append2(b, d)
	b = append(b, ' ')
	mn := (int(mo) - 1) * 3
	b = append(b, monthNames[mn:mn+3]...)
	b = append(b, ' ')
	b = append2(b, y/100)
	b = append2(b, y%100)
	b = append(b, ' ')
	b = append2(b, h)
	b = append(b, ':')
	b = append2(b, mi)
	b = append(b, ':')
	b = append2(b, s)
	return append(b, " GMT"...)
}

// append2 appends n (0 to 99) as two digits.
func append2(b []byte, n int) []byte {
	return append(b, byte('0'+n/10), byte('0'+n%10))
}
