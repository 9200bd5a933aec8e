package session

import (
	"net/http"
	"slices"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"
)

// The fuzz targets of issue 5. Seed corpora live in testdata/fuzz; .ci/fuzz
// runs each target for a bounded time. Without -fuzz, go test runs the
// seeds as ordinary tests.

// fuzzCookieNames are the names a request may be read with.
// v4 is the default cookie name.
const v4 = cookieNameV4

var fuzzCookieNames = []string{cookieNameV4, cookieNameV5, securePrefix + cookieNameV4, securePrefix + cookieNameV5}

// FuzzReadCookie reads arbitrary Cookie headers (several header lines when
// the input has newlines) and compares readCookie with jsSessionChunks, a
// model written after Auth.js's JavaScript. On a header of the kind a
// browser sends for cookies Auth.js wrote (the name or its chunks name.0,
// name.1, ..., each once, among other cookies whose names do not start
// with the name) both read the same. On any header, what Go reads is
// bounded, the __Secure- name never falls back to the plain one, and when
// both read something of a token's shape it is the same token.
func FuzzReadCookie(f *testing.F) {
	f.Add("next-auth.session-token=0b9a1f8e-2c3d-4e5f-8a9b-0c1d2e3f4a5b", uint8(0))
	f.Add("next-auth.session-token.1=def; next-auth.session-token.0=abc", uint8(0))
	f.Add("__Secure-authjs.session-token.2=c\n__Secure-authjs.session-token.0=a; __Secure-authjs.session-token.1=b", uint8(3))
	f.Fuzz(func(t *testing.T, header string, pick uint8) {
		name := fuzzCookieNames[int(pick)%len(fuzzCookieNames)]
		lines := strings.Split(header, "\n")
		r := &http.Request{Header: http.Header{"Cookie": lines}}
		value, present := readCookie(r, name)
		if v2, p2 := readCookie(r, name); v2 != value || p2 != present {
			t.Fatalf("not deterministic: %q %v then %q %v", value, present, v2, p2)
		}
		if value != "" && !present {
			t.Fatalf("value %q without a cookie", value)
		}
		if len(value) > maxCookieLen {
			t.Fatalf("%d bytes read", len(value))
		}
		if strings.HasPrefix(name, securePrefix) && !strings.Contains(header, securePrefix) && present {
			t.Fatal("the __Secure- name read a plain cookie")
		}

		joined := strings.Join(lines, "; ")
		chunks, sent := jsSessionChunks(joined, name)
		slices.SortStableFunc(chunks, func(a, b jsChunk) int { return int(min(max(a.num-b.num, -1), 1)) })
		var js strings.Builder
		for _, c := range chunks {
			js.WriteString(c.value)
		}
		if value != "" && IsNextAuthToken(value) && IsNextAuthToken(js.String()) && value != js.String() {
			t.Fatalf("read token %q, Auth.js reads token %q", value, js.String())
		}
		if !authJSShaped(joined, name) {
			return
		}
		if present != sent {
			t.Fatalf("present = %v, Auth.js: %v", present, sent)
		}
		if value != js.String() {
			t.Fatalf("read %q, Auth.js reads %q", value, js.String())
		}
	})
}

// authJSShaped says whether a Cookie header is one a browser could send
// holding cookies Auth.js wrote under name: every cookie whose name starts
// with name is name itself or a chunk name.<n> (n in plain digits, at most
// 64 chunks), sent once; not the name and chunks both; at most
// maxCookieLen bytes of them; names with nothing around them that any
// parser trims; and values that decode.
func authJSShaped(header, name string) bool {
	seen := map[string]bool{}
	base, chunks, total := false, 0, 0
	for part := range strings.SplitSeq(header, ";") {
		k, v, ok := strings.Cut(part, "=")
		if !ok {
			continue
		}
		k = strings.TrimLeft(k, " ")
		if t := trimJSSpace(k); strings.HasPrefix(t, name) && t != k {
			return false
		}
		if !strings.HasPrefix(k, name) {
			continue
		}
		if seen[k] {
			return false
		}
		seen[k] = true
		if n := jsSuffixNumber(k); k != name && (n < 0 || k != name+"."+strconv.FormatInt(n, 10) || n >= maxSessionChunks) {
			return false
		}
		v = strings.Trim(v, " \t")
		if strings.Contains(v, "%") && jsDecode(v) == v {
			return false
		}
		if v == "" {
			continue
		}
		total += len(v)
		if k == name {
			base = true
		} else {
			chunks++
		}
	}
	return total <= maxCookieLen && !(base && chunks > 0)
}

// jsChunk is a session cookie chunk as Auth.js's SessionStore keeps it,
// with the number of its name, or -1 when that is not plain digits.
type jsChunk struct {
	name, value string
	num         int64
}

// jsSessionChunks models Auth.js (@auth/core 0.41, lib/vendored/cookie.js
// parse and lib/utils/cookie.js SessionStore) on a Cookie header: the
// non-empty values of the first cookie of each name that starts with
// prefix, in header order; sent says whether any such name was parsed.
func jsSessionChunks(header, prefix string) (chunks []jsChunk, sent bool) {
	seen := map[string]bool{}
	n := len(header)
	if n < 2 {
		return nil, false
	}
	trim := func(s string) string { return strings.Trim(s, " \t") }
	for index := 0; index < n; {
		eq := strings.Index(header[index:], "=")
		if eq < 0 {
			break
		}
		eq += index
		end := n
		if semi := strings.Index(header[index:], ";"); semi >= 0 {
			end = index + semi
		}
		if eq > end {
			// Back up to the last ';' before the '='.
			index = strings.LastIndex(header[:eq], ";") + 1
			continue
		}
		key := trim(header[index:eq])
		if !seen[key] {
			seen[key] = true
			value := jsDecode(trim(header[eq+1 : end]))
			if strings.HasPrefix(key, prefix) {
				sent = true
				if value != "" {
					chunks = append(chunks, jsChunk{key, value, jsSuffixNumber(key)})
				}
			}
		}
		index = end + 1
	}
	return chunks, sent
}

// jsDecode is cookie.js's decode: decodeURIComponent when there is a '%',
// the value as it is where that throws.
func jsDecode(s string) string {
	if !strings.Contains(s, "%") {
		return s
	}
	var out []byte
	for i := 0; i < len(s); {
		if s[i] != '%' {
			out = append(out, s[i])
			i++
			continue
		}
		// A run of escapes must spell UTF-8, or decodeURIComponent throws.
		var run []byte
		for i < len(s) && s[i] == '%' {
			if i+2 >= len(s) || !isHex(s[i+1]) || !isHex(s[i+2]) {
				return s
			}
			b, _ := strconv.ParseUint(s[i+1:i+3], 16, 8)
			run = append(run, byte(b))
			i += 3
		}
		if !utf8.Valid(run) {
			return s
		}
		out = append(out, run...)
	}
	return string(out)
}

// jsSuffixNumber is parseInt(name.split(".").pop() || "0") where the text
// is plain digits (at most 15), and -1 otherwise.
func jsSuffixNumber(name string) int64 {
	s := name[strings.LastIndex(name, ".")+1:]
	if s == "" {
		s = "0"
	}
	if len(s) > 15 {
		return -1
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || strings.ContainsAny(s, "+-") {
		return -1
	}
	return n
}

// TestReadCookieAsAuthJS pins places where readCookie read a header
// differently from Auth.js (found by FuzzReadCookie): escapes that are not
// UTF-8, which decodeURIComponent refuses, so that Auth.js keeps the value
// as it is. And where it now reads less on purpose: a name ending in "."
// (which JavaScript numbers 0) is no chunk Auth.js writes.
func TestReadCookieAsAuthJS(t *testing.T) {
	for _, tc := range []struct{ header, want string }{
		{v4 + "=%ff%fe", "%ff%fe"},
		{v4 + "=%C3x%A9", "%C3x%A9"},
		{v4 + "=%C3%A9", "\u00e9"},
		{v4 + ".1=b; " + v4 + ".=a", "b"},
		{v4 + ".=a; " + v4 + ".1=b", "b"},
	} {
		r := &http.Request{Header: http.Header{"Cookie": {tc.header}}}
		if got, _ := readCookie(r, v4); got != tc.want {
			t.Errorf("%q read as %q, want %q", tc.header, got, tc.want)
		}
	}
}
