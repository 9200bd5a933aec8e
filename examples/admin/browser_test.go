package main

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
)

// TestBrowser drives two headless Chromium browsers, each with its own
// profile and cookies, through the dashboard, on SQLite and on Postgres:
// the admin pages through and searches the list, watches a second browser
// (Chrome on macOS, by its User-Agent) appear in the count and the list
// without a reload (through the event stream, and in a second tab, which
// finds the one allowed stream taken, by polling), revokes a session from page 2, sees a revocation made
// elsewhere leave the list, and signs everyone out. On SQLite it saves
// screenshots, desktop and narrow, to $NEXTSESSION_SCREENSHOTS (a
// directory; docs/ holds the committed ones) or a temporary directory.
//
// Without Chromium (apt-get install chromium) it is skipped, except under
// CI=true, where it fails.
func TestBrowser(t *testing.T) {
	chromium := chromiumPath(t)
	// One event stream at most: a second dashboard falls back to polling.
	cfg := config{Refresh: 250 * time.Millisecond, PageSize: 10, DemoSessions: 45, MaxStreams: 1}
	t.Run("sqlite", func(t *testing.T) {
		cfg := cfg
		cfg.SQLitePath = filepath.Join(t.TempDir(), "admin.db")
		browse(t, chromium, cfg, true)
	})
	t.Run("postgres", func(t *testing.T) {
		cfg := cfg
		cfg.DatabaseURL = pgConfig(t, "example_admin_browser").DatabaseURL
		browse(t, chromium, cfg, false)
	})
}

func browse(t *testing.T, chromium string, cfg config, screenshots bool) {
	s := newTestServer(t, cfg)
	ts := httptest.NewServer(s)
	// The event streams hold their connections open: end them first.
	t.Cleanup(func() { ts.CloseClientConnections(); ts.Close() })

	admin := newChromium(t, chromium, "")
	other := newChromium(t, chromium, chromeOnMac)

	signIn(t, admin, ts.URL, "admin@example.com", "admin-password", "/admin")
	waitCount(t, admin, "46")
	do(t, admin, chromedp.Poll[bool](`document.getElementById("live-status").dataset.state === "live"`, chromedp.WithPollingTimeout(15*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
	if n := rowCount(t, admin); n != cfg.PageSize {
		t.Errorf("first page lists %d sessions, want %d", n, cfg.PageSize)
	}
	for _, want := range []string{"Sign-ins per day", "Active sessions by age"} {
		wantText(t, admin, ".charts", want)
	}
	if !step(t, admin, chromedp.Evaluate[bool](`document.querySelector(".charts svg rect.bar") !== null`)) {
		t.Error("the chart has no bars")
	}

	// Page 2, then a search.
	first := rowHandles(t, admin)
	click(t, admin, "#next-page")
	second := rowHandles(t, admin)
	if len(second) != cfg.PageSize || slices.ContainsFunc(second, func(h string) bool { return slices.Contains(first, h) }) {
		t.Errorf("page 2 = %v, want %d sessions none of page 1 %v", second, cfg.PageSize, first)
	}
	do(t, admin, chromedp.SendKeys(chromedp.CSS(`input[type="search"]`), "grace"))
	click(t, admin, `form[role="search"] button`)
	users := step(t, admin, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#rows tr[data-user]")].map(tr => tr.dataset.user)`))
	if len(users) == 0 || slices.ContainsFunc(users, func(u string) bool { return !strings.HasPrefix(u, "grace") }) {
		t.Errorf("search grace lists %q", users)
	}

	// Back to the first page: a second browser signs in and appears in
	// place, as Chrome on macOS with its address.
	do(t, admin, chromedp.Navigate(ts.URL+"/admin"))
	do(t, admin, chromedp.Evaluate[any]("window.sameDocument = true"))
	do(t, admin, chromedp.Poll[bool](`document.getElementById("live-status").dataset.state === "live"`, chromedp.WithPollingTimeout(15*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
	// A second tab of the admin's finds the one stream taken: it polls.
	tab, closeTab := chromedp.NewContext(admin)
	defer closeTab()
	// The tab lives as long as the context of its first Run: no timeout.
	if err := chromedp.Do(tab); err != nil {
		t.Fatal(err)
	}
	do(t, tab, chromedp.Navigate(ts.URL+"/admin"))
	do(t, tab, chromedp.Poll[bool](`document.getElementById("live-status").dataset.state === "polling"`, chromedp.WithPollingTimeout(15*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))

	signIn(t, other, ts.URL, "alice@example.com", "alice-password", "/account")
	waitCount(t, admin, "47")
	waitCount(t, tab, "47")
	do(t, tab, chromedp.Poll[bool](`document.querySelector('tr[data-user="alice@example.com"]') !== null`, chromedp.WithPollingTimeout(15*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
	closeTab()
	do(t, admin, chromedp.Poll[bool](`document.querySelector('tr[data-user="alice@example.com"]') !== null`, chromedp.WithPollingTimeout(15*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
	if !step(t, admin, chromedp.Evaluate[bool]("window.sameDocument === true")) {
		t.Error("the list changed by reloading the page, not in place")
	}
	wantText(t, admin, `tr[data-user="alice@example.com"]`, "Chrome on macOS")
	wantText(t, admin, `tr[data-user="alice@example.com"]`, "127.0.0.1")
	wantText(t, admin, `tr.this`, "This browser")
	if screenshots {
		screenshot(t, admin, "admin.png", 1280, 0)
		screenshot(t, admin, "admin-narrow.png", 390, 1600)
		do(t, admin, colorScheme("dark"))
		screenshot(t, admin, "admin-dark.png", 1280, 760)
		do(t, admin, colorScheme("light"))
	}

	// Revoke from page 2: back on page 2, with the message, one fewer.
	click(t, admin, "#next-page")
	page2 := step(t, admin, chromedp.Location())
	target := rowHandles(t, admin)[0]
	click(t, admin, `#rows tr[data-handle="`+target+`"] form[action="/admin/revoke"] button`)
	if loc := step(t, admin, chromedp.Location()); loc != page2 {
		t.Errorf("after revoking from page 2 the admin is at %s, want %s", loc, page2)
	}
	wantText(t, admin, ".flash", "Session revoked")
	waitCount(t, admin, "46")
	if slices.Contains(rowHandles(t, admin), target) {
		t.Error("the revoked session is still listed")
	}
	do(t, admin, chromedp.Reload())
	if step(t, admin, chromedp.Evaluate[bool](`document.querySelector(".flash") !== null`)) {
		t.Error("the message came back on reload")
	}

	// Alice is revoked elsewhere (as another app would, in the database):
	// the first page drops her row within the refresh.
	do(t, admin, chromedp.Navigate(ts.URL+"/admin"))
	do(t, admin, chromedp.WaitVisible(chromedp.CSS(`tr[data-user="alice@example.com"]`)))
	alice, err := s.st.GetUserByEmail(context.Background(), "alice@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.st.DeleteUserSessions(context.Background(), alice.ID, ""); err != nil {
		t.Fatal(err)
	}
	waitCount(t, admin, "45")
	do(t, admin, chromedp.Poll[bool](`document.querySelector('tr[data-user="alice@example.com"]') === null`, chromedp.WithPollingTimeout(15*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
	do(t, other, chromedp.Reload())
	if loc := step(t, other, chromedp.Location()); !strings.HasPrefix(loc, ts.URL+"/signin") {
		t.Errorf("alice after revoke and reload is at %s, want the sign-in page", loc)
	}

	// The admin signs themselves out everywhere.
	click(t, admin, `tr[data-user="admin@example.com"] form[action="/admin/revoke-user"] button`)
	wantText(t, admin, ".flash", "signed out on every device")
	do(t, admin, chromedp.Navigate(ts.URL+"/admin"))
	if loc := step(t, admin, chromedp.Location()); !strings.HasPrefix(loc, ts.URL+"/signin") {
		t.Errorf("admin after signing out everywhere is at %s, want the sign-in page", loc)
	}
}

// colorScheme makes the page see prefers-color-scheme: scheme.
func colorScheme(scheme string) chromedp.Action[chromedp.Void] {
	return chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{
			Features: []*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: scheme}},
		})
		return err
	})
}

func rowCount(t *testing.T, ctx context.Context) int {
	t.Helper()
	return len(rowHandles(t, ctx))
}

func rowHandles(t *testing.T, ctx context.Context) []string {
	t.Helper()
	return step(t, ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#rows tr[data-handle]")].map(tr => tr.dataset.handle)`))
}

func chromiumPath(t *testing.T) string {
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	const msg = "chromium is not installed (apt-get install chromium): browser test not run"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// newChromium starts a headless Chromium with a fresh profile and returns
// the context of its first tab.
func newChromium(t *testing.T, path, userAgent string) context.Context {
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(path),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Headless,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("password-store", "basic"),
		chromedp.WindowSize(1280, 900),
	}
	if userAgent != "" {
		opts = append(opts, chromedp.UserAgent(userAgent))
	}
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox) // Chromium refuses to run as root with its sandbox
	}
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(actx)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	// The first Run starts the browser, which lives as long as its context:
	// no timeout here, one per step below.
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("starting chromium: %v", err)
	}
	return ctx
}

// step runs one action with a timeout and returns its value.
func step[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func do[T any](t *testing.T, ctx context.Context, a chromedp.Action[T]) {
	t.Helper()
	step(t, ctx, a)
}

// signIn fills in the sign-in form and checks where it lands.
func signIn(t *testing.T, ctx context.Context, base, email, password, wantPath string) {
	t.Helper()
	do(t, ctx, chromedp.Steps(
		chromedp.Navigate(base+"/signin"),
		chromedp.SendKeys(chromedp.CSS(`input[name="email"]`), email),
		chromedp.SendKeys(chromedp.CSS(`input[name="password"]`), password),
	))
	click(t, ctx, `form[action="/signin"] button[type="submit"]`)
	if loc := step(t, ctx, chromedp.Location()); loc != base+wantPath {
		t.Fatalf("%s signed in and landed on %s, want %s", email, loc, base+wantPath)
	}
}

// click clicks a button that submits a form and waits for the next page.
func click(t *testing.T, ctx context.Context, css string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if _, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(css))); err != nil {
		t.Fatalf("clicking %s: %v", css, err)
	}
}

// waitCount waits until the Active Sessions card shows want.
func waitCount(t *testing.T, ctx context.Context, want string) {
	t.Helper()
	do(t, ctx, chromedp.Poll[bool](`document.getElementById("active-count")?.textContent.trim() === "`+want+`"`,
		chromedp.WithPollingTimeout(15*time.Second), chromedp.WithPollingInterval(50*time.Millisecond)))
}

func wantText(t *testing.T, ctx context.Context, css, want string) {
	t.Helper()
	if got := step(t, ctx, chromedp.Text(chromedp.CSS(css))); !strings.Contains(got, want) {
		t.Errorf("%s reads %q, want it to contain %q", css, got, want)
	}
}

// screenshot saves the page as it looks width CSS pixels wide: whole, or
// its first height pixels.
func screenshot(t *testing.T, ctx context.Context, name string, width, height int64) {
	t.Helper()
	var png []byte
	if height == 0 {
		do(t, ctx, chromedp.EmulateViewport(width, 900))
		png = step(t, ctx, chromedp.FullScreenshot(100))
	} else {
		do(t, ctx, chromedp.EmulateViewport(width, height))
		png = step(t, ctx, chromedp.CaptureScreenshot())
	}
	do(t, ctx, chromedp.EmulateViewport(1280, 900))
	dir := os.Getenv("NEXTSESSION_SCREENSHOTS")
	if dir == "" {
		dir = t.TempDir()
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot: %s", path)
}
