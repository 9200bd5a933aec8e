package main

import (
	"context"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/nextsession/nextsession/session"
)

var (
	rowHandle = regexp.MustCompile(`<tr data-user="[^"]*" data-handle="([0-9a-f]+)"`)
	nextLink  = regexp.MustCompile(`id="next-page" rel="next" href="([^"]+)"`)
)

func handles(page string) []string {
	var out []string
	for _, m := range rowHandle.FindAllStringSubmatch(page, -1) {
		out = append(out, m[1])
	}
	return out
}

// TestDashboardAt20000 runs the dashboard over 20,003 active sessions on
// both databases: the page stays small, the count is exact, the pages
// follow one another without repeats, and search and per-user views find
// the sessions they should. It logs the page's size and time.
func TestDashboardAt20000(t *testing.T) {
	const demo = 20000
	run := func(t *testing.T, s *server) {
		if err := seedSessions(context.Background(), s.st, demo); err != nil {
			t.Fatal(err)
		}
		ts, admin := adminServer(t, s)
		newBrowser(t, ts).signIn("alice@example.com", "alice-password")
		newBrowser(t, ts).signIn("bob@example.com", "bob-password")

		var page string
		var times []time.Duration
		for range 5 {
			start := time.Now()
			var res *http.Response
			res, page = admin.get("/admin")
			times = append(times, time.Since(start))
			wantStatus(t, res, http.StatusOK, "")
		}
		slices.Sort(times)
		t.Logf("/admin at %d sessions: %d bytes, median %v (of %v)", demo+3, len(page), times[len(times)/2], times)
		if len(page) > 200<<10 {
			t.Errorf("/admin is %d bytes, want under 200 KB", len(page))
		}
		if !strings.Contains(page, `aria-live="polite">20,003<`) {
			t.Errorf("/admin does not show the exact count 20,003")
		}
		if !strings.Contains(page, "<svg") || !strings.Contains(page, "Sign-ins per day") {
			t.Error("/admin has no chart")
		}

		// Four pages: full, in order, no session twice.
		seen := map[string]bool{}
		path := "/admin"
		for i := range 4 {
			res, page := admin.get(path)
			wantStatus(t, res, http.StatusOK, "")
			hs := handles(page)
			if len(hs) != s.cfg.PageSize {
				t.Fatalf("page %d lists %d sessions, want %d", i+1, len(hs), s.cfg.PageSize)
			}
			for _, h := range hs {
				if seen[h] {
					t.Fatalf("page %d repeats session %s", i+1, h)
				}
				seen[h] = true
			}
			m := nextLink.FindStringSubmatch(page)
			if m == nil {
				t.Fatalf("page %d has no next page", i+1)
			}
			path = strings.ReplaceAll(m[1], "&amp;", "&")
			if strings.Contains(path, admin.token()) {
				t.Fatal("a page link holds a session token")
			}
		}

		// Search: alice's one session among 20,003.
		res, page := admin.get("/admin?q=" + url.QueryEscape("ALICE@"))
		wantStatus(t, res, http.StatusOK, "")
		if hs := handles(page); len(hs) != 1 || !strings.Contains(page, `data-user="alice@example.com"`) {
			t.Errorf("search ALICE@ lists %d sessions, want alice's one", len(hs))
		}
		// One user's sessions, from the link of their row.
		alice, err := s.st.GetUserByEmail(context.Background(), "alice@example.com")
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(page, `href="/admin?user=`+url.QueryEscape(alice.ID)+`"`) {
			t.Error("alice's row does not link to her sessions")
		}
		res, page = admin.get("/admin?user=" + url.QueryEscape(alice.ID))
		wantStatus(t, res, http.StatusOK, "")
		if hs := handles(page); len(hs) != 1 || !strings.Contains(page, "Sessions of Alice") {
			t.Errorf("alice's sessions: %d rows", len(hs))
		}
	}
	t.Run("sqlite", func(t *testing.T) {
		run(t, newTestServer(t, config{SQLitePath: filepath.Join(t.TempDir(), "admin.db")}))
	})
	t.Run("postgres", func(t *testing.T) {
		cfg := pgConfig(t, "example_admin_big")
		// Test data need not survive a crash: commit without waiting for the disk.
		cfg.DatabaseURL += "&synchronous_commit=off"
		run(t, newTestServer(t, cfg))
	})
}

// TestDashboardHostileQuery: whatever the query string holds, the
// dashboard answers a page (the first one for a cursor it cannot read)
// and never an error.
func TestDashboardHostileQuery(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		_, admin := adminServer(t, s)
		for _, q := range []string{
			"after=x", "after=1.", "after=.x", "after=99999999999999999999.1", "after=-5.abc", "after=1.%00", "after=1.%ff",
			"after=1700000000000.'%3B%20DROP%20TABLE%20%22Session%22%3B--", "user=%00", "user='", "user=" + strings.Repeat("9", 400),
			"q=%25", "q=_", "q=%5C", "q=%00", "q=%ff%fe", "q=" + strings.Repeat("a", 5000), "q=%3Cscript%3Ealert(1)%3C/script%3E",
			"v=x&after=1.1", "q=a&q=b&user=1&user=2",
		} {
			for _, path := range []string{"/admin?", "/admin/live?"} {
				res, body := admin.get(path + q)
				if res.StatusCode != http.StatusOK {
					t.Errorf("GET %s%s: %s", path, q, res.Status)
				}
				if strings.Contains(body, "<script>alert") {
					t.Errorf("GET %s%s echoes markup unescaped", path, q)
				}
			}
		}
		wantCount(t, s, 1)
	})
}

// TestDeviceShown: a sign-in from Chrome on macOS shows as such, with its
// address, on the dashboard and on the user's own page.
func TestDeviceShown(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		ts, admin := adminServer(t, s)
		alice := newBrowser(t, ts)
		alice.agent = chromeOnMac
		alice.signIn("alice@example.com", "alice-password")
		_, page := admin.get("/admin")
		row := page[strings.Index(page, `data-user="alice@example.com"`):]
		row = row[:strings.Index(row, "</tr>")]
		for _, want := range []string{"Chrome on macOS", "127.0.0.1", "just now"} {
			if !strings.Contains(row, want) {
				t.Errorf("alice's row lacks %q:\n%s", want, row)
			}
		}
		if !strings.Contains(page, "exact to within 1 day") {
			t.Error("the dashboard does not say how exact last active is")
		}
		_, page = alice.get("/account")
		if !strings.Contains(page, "Chrome on macOS") {
			t.Error("alice's own page does not show her device")
		}
	})
}

const chromeOnMac = "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36"

func TestDescribeDevice(t *testing.T) {
	for ua, want := range map[string]string{
		chromeOnMac: "Chrome on macOS",
		"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1": "Safari on iOS",
		"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0":                                                        "Firefox on Windows",
		"":             "Unknown device",
		"\x1b[31m\r\n": "Unknown device",
	} {
		if got := describeDevice(ua); got != want {
			t.Errorf("describeDevice(%q) = %q, want %q", ua, got, want)
		}
	}
}

// TestEvents: the event stream answers text/event-stream with the count,
// sends the rows when they change (a sign-in, a revocation made through
// the store, as another app would), and ends with "signedout" when the
// admin's own session goes. Streams beyond MaxStreams get 503, and the
// page falls back to /admin/live.
func TestEvents(t *testing.T) {
	eachBackend(t, func(t *testing.T, s *server) {
		s.cfg.Refresh = 50 * time.Millisecond
		s.cfg.MaxStreams = 1
		s.streams = make(chan struct{}, 1)
		ts, admin := adminServer(t, s)

		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, ts.URL+"/admin/events", nil)
		res, err := admin.c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		if ct := res.Header.Get("Content-Type"); res.StatusCode != http.StatusOK || ct != "text/event-stream" {
			t.Fatalf("/admin/events: %s, Content-Type %q", res.Status, ct)
		}
		events := readEvents(res.Body)
		want := func(name, contains string) {
			t.Helper()
			for {
				select {
				case e, ok := <-events:
					if !ok {
						t.Fatalf("stream ended before %s %q", name, contains)
					}
					if e[0] == name && strings.Contains(e[1], contains) {
						return
					}
				case <-ctx.Done():
					t.Fatalf("no %s event with %q", name, contains)
				}
			}
		}
		want("count", "1")
		want("rows", `data-user="admin@example.com"`)

		// A second stream is refused while the first is open.
		res2, _ := admin.get("/admin/events")
		if res2.StatusCode != http.StatusServiceUnavailable || res2.Header.Get("Retry-After") == "" {
			t.Errorf("a stream over the bound: %s, want 503 with Retry-After", res2.Status)
		}

		alice := newBrowser(t, ts)
		alice.signIn("alice@example.com", "alice-password")
		want("count", "2")
		want("rows", `data-user="alice@example.com"`)

		// Revoked elsewhere (straight in the database): gone from the list.
		aliceUser, _ := s.st.GetUserByEmail(context.Background(), "alice@example.com")
		if _, err := s.st.DeleteUserSessions(context.Background(), aliceUser.ID, ""); err != nil {
			t.Fatal(err)
		}
		want("count", "1")

		// The admin's own session revoked: the stream says so and ends.
		if err := s.st.DeleteSession(context.Background(), admin.token()); err != nil {
			t.Fatal(err)
		}
		want("signedout", "")
	})
}

// readEvents parses a text/event-stream into [event, data] pairs.
func readEvents(r interface{ Read([]byte) (int, error) }) <-chan [2]string {
	out := make(chan [2]string, 16)
	go func() {
		defer close(out)
		buf := make([]byte, 0, 64<<10)
		tmp := make([]byte, 8<<10)
		for {
			n, err := r.Read(tmp)
			buf = append(buf, tmp[:n]...)
			for {
				i := strings.Index(string(buf), "\n\n")
				if i < 0 {
					break
				}
				var name string
				var data []string
				for _, line := range strings.Split(string(buf[:i]), "\n") {
					if v, ok := strings.CutPrefix(line, "event: "); ok {
						name = v
					} else if v, ok := strings.CutPrefix(line, "data: "); ok {
						data = append(data, v)
					}
				}
				buf = buf[i+2:]
				if name != "" {
					out <- [2]string{name, strings.Join(data, "\n")}
				}
			}
			if err != nil {
				return
			}
		}
	}()
	return out
}

// TestRevokeKeepsThePage: revoking from page 2 of a search returns to it.
func TestRevokeKeepsThePage(t *testing.T) {
	s := newTestServer(t, config{SQLitePath: filepath.Join(t.TempDir(), "admin.db"), PageSize: 3, DemoSessions: 10})
	_, admin := adminServer(t, s)
	_, page := admin.get("/admin?q=demo.example")
	next := strings.ReplaceAll(nextLink.FindStringSubmatch(page)[1], "&amp;", "&")
	_, page = admin.get(next)
	hs := handles(page)
	list, err := s.m.ListSessions(context.Background(), session.ListQuery{Search: "demo.example"})
	if err != nil {
		t.Fatal(err)
	}
	var target session.SessionUser
	for _, su := range list {
		if su.Session.Handle() == hs[0] {
			target = su
		}
	}
	back := next[strings.Index(next, "?")+1:]
	res, _ := admin.post("/admin/revoke", url.Values{"handle": {hs[0]}, "user": {target.User.ID}, "back": {back}})
	wantStatus(t, res, http.StatusSeeOther, next)
	wantFlash(t, admin, next, "Session revoked")
	// A back field pointing elsewhere is re-read as a view: it stays on /admin.
	res, _ = admin.post("/admin/revoke", url.Values{"handle": {"x"}, "user": {"x"}, "back": {"//evil.example/"}})
	wantStatus(t, res, http.StatusSeeOther, "/admin")
}

func TestChartScale(t *testing.T) {
	for n, want := range map[int64]int64{0: 1, 1: 1, 2: 2, 3: 5, 7: 10, 10: 10, 11: 20, 21: 50, 51: 100, 2054: 5000} {
		if got := scale(n); got != want {
			t.Errorf("scale(%d) = %d, want %d", n, got, want)
		}
	}
}
