package session

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
)

// hostileHeaders are Cookie headers of about 1 MB shaped to make reading
// the session cookie expensive: tiny cookies by the thousand, or thousands
// of chunks of the session cookie.
func hostileHeaders() map[string]string {
	var tiny, chunks, repeats strings.Builder
	for i := 0; tiny.Len() < 1<<20; i++ {
		fmt.Fprintf(&tiny, "c%d=v; ", i)
	}
	for i := 0; chunks.Len() < 1<<20; i++ {
		fmt.Fprintf(&chunks, "%s.%d=x; ", cookieNameV4, 99999-i%90000)
	}
	for repeats.Len() < 1<<20 {
		fmt.Fprintf(&repeats, "%s.5=x; ", cookieNameV4)
	}
	return map[string]string{"tiny cookies": tiny.String(), "chunks": chunks.String(), "one chunk repeated": repeats.String()}
}

// plainSplit is the floor: the header cut into names and values, as any
// reader of it must.
func plainSplit(r *http.Request) int {
	n := 0
	for _, line := range r.Header.Values("Cookie") {
		for part := range strings.SplitSeq(line, ";") {
			k, v, _ := strings.Cut(part, "=")
			n += len(strings.TrimSpace(k)) + len(v)
		}
	}
	return n
}

// allocated runs fn n times and returns the bytes and allocations per
// run, as testing.AllocsPerRun counts them.
func allocated(n int, fn func()) (bytes, allocs uint64) {
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	fn()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	for range n {
		fn()
	}
	runtime.ReadMemStats(&after)
	return (after.TotalAlloc - before.TotalAlloc) / uint64(n), (after.Mallocs - before.Mallocs) / uint64(n)
}

// Reading the session cookie from a hostile header takes no memory that
// grows with the header, as splitting it does not: the reader keeps only
// the session cookie's names, at most maxSessionChunks of them. (Its time
// beside a plain split is BenchmarkCookieRead's pair.)
func TestCookieReadCostBounded(t *testing.T) {
	for name, h := range hostileHeaders() {
		t.Run(name, func(t *testing.T) {
			r := &http.Request{Header: http.Header{"Cookie": {h}}}
			floorBytes, floorAllocs := allocated(5, func() { plainSplit(r) })
			bytes, allocs := allocated(5, func() { readCookie(r, cookieNameV4) })
			// Allow what joining and decoding one token's worth takes.
			if limit := floorBytes + 2*maxCookieLen; bytes > limit {
				t.Errorf("%d bytes allocated per read of a %d-byte header, want at most %d (plain split: %d)",
					bytes, len(h), limit, floorBytes)
			}
			if allocs > floorAllocs+4 {
				t.Errorf("%d allocations per read, plain split %d", allocs, floorAllocs)
			}
		})
	}
}

func BenchmarkCookieRead(b *testing.B) {
	for name, h := range hostileHeaders() {
		r := &http.Request{Header: http.Header{"Cookie": {h}}}
		b.Run(strings.ReplaceAll(name, " ", "_")+"/plain_split", func(b *testing.B) {
			for b.Loop() {
				plainSplit(r)
			}
		})
		b.Run(strings.ReplaceAll(name, " ", "_")+"/readCookie", func(b *testing.B) {
			for b.Loop() {
				readCookie(r, cookieNameV4)
			}
		})
	}
}
