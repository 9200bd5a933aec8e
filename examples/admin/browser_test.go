package main

import (
	"context"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// TestBrowser drives two headless Chromium browsers, each with its own
// profile and cookies, through the dashboard: the admin watches the count
// change in place as the other browser signs in, revokes it, and signs
// everyone out. It saves a screenshot of the dashboard to
// $NEXTSESSION_SCREENSHOT, or to a temporary directory.
//
// Without Chromium (apt-get install chromium) it is skipped, except under
// CI=true, where it fails.
func TestBrowser(t *testing.T) {
	chromium := chromiumPath(t)
	s := newTestServer(t, config{SQLitePath: filepath.Join(t.TempDir(), "admin.db"), Refresh: 250 * time.Millisecond})
	ts := httptest.NewServer(s)
	defer ts.Close()

	admin := newChromium(t, chromium)
	other := newChromium(t, chromium)

	signIn(t, admin, ts.URL, "admin@example.com", "admin-password", "/admin")
	do(t, admin, chromedp.Evaluate[any]("window.sameDocument = true"))
	waitCount(t, admin, "1")

	signIn(t, other, ts.URL, "alice@example.com", "alice-password", "/account")
	waitCount(t, admin, "2")
	if !step(t, admin, chromedp.Evaluate[bool]("window.sameDocument === true")) {
		t.Error("the count changed by reloading the page, not in place")
	}
	do(t, admin, chromedp.Reload())
	rows := step(t, admin, chromedp.Evaluate[[]string](`[...document.querySelectorAll("tr[data-user]")].map(tr => tr.innerText)`))
	if len(rows) != 2 || !strings.Contains(strings.Join(rows, "\n"), "This browser") {
		t.Errorf("dashboard rows = %q, want admin's (this browser) and alice's", rows)
	}
	screenshot(t, admin)

	// The admin revokes alice's session; on reload, alice is signed out.
	click(t, admin, `tr[data-user="alice@example.com"] form[action="/admin/revoke"] button`)
	wantText(t, admin, ".flash", "Session revoked")
	waitCount(t, admin, "1")
	do(t, other, chromedp.Reload())
	if loc := step(t, other, chromedp.Location()); !strings.HasPrefix(loc, ts.URL+"/signin") {
		t.Errorf("alice after revoke and reload is at %s, want the sign-in page", loc)
	}
	do(t, other, chromedp.WaitVisible(chromedp.CSS(`input[name="password"]`)))

	// Alice comes back; the admin signs her out everywhere, then themselves.
	signIn(t, other, ts.URL, "alice@example.com", "alice-password", "/account")
	waitCount(t, admin, "2")
	do(t, admin, chromedp.WaitVisible(chromedp.ID("list-changed")))
	click(t, admin, "#list-changed")
	click(t, admin, `tr[data-user="alice@example.com"] form[action="/admin/revoke-user"] button`)
	wantText(t, admin, ".flash", "1 session revoked")
	waitCount(t, admin, "1")
	click(t, admin, `tr[data-user="admin@example.com"] form[action="/admin/revoke-user"] button`)
	wantText(t, admin, ".flash", "signed out on every device")
	wantCount(t, s, 0)
	do(t, admin, chromedp.Navigate(ts.URL+"/admin"))
	if loc := step(t, admin, chromedp.Location()); !strings.HasPrefix(loc, ts.URL+"/signin") {
		t.Errorf("admin after signing out everywhere is at %s, want the sign-in page", loc)
	}
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
func newChromium(t *testing.T, path string) context.Context {
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
		chromedp.WindowSize(1024, 768),
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
		chromedp.WithPollingTimeout(15*time.Second)))
}

func wantText(t *testing.T, ctx context.Context, css, want string) {
	t.Helper()
	if got := step(t, ctx, chromedp.Text(chromedp.CSS(css))); !strings.Contains(got, want) {
		t.Errorf("%s reads %q, want it to contain %q", css, got, want)
	}
}

func screenshot(t *testing.T, ctx context.Context) {
	t.Helper()
	png := step(t, ctx, chromedp.FullScreenshot(100))
	path := os.Getenv("NEXTSESSION_SCREENSHOT")
	if path == "" {
		path = filepath.Join(t.TempDir(), "admin.png")
	}
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("dashboard screenshot: %s", path)
}
