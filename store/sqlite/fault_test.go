package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/faulttest"
	"github.com/nextsession/nextsession/store/sqlite"
)

// TestLockedFile: another process holds the write lock (BEGIN IMMEDIATE)
// longer than sqlite.BusyTimeout. Reads keep working under WAL; a request
// that must write (an extension, a sign-in) waits BusyTimeout, then fails
// through ErrorFunc with 503, never 401; when the lock goes, the same
// request succeeds with no restart, and no row was lost or altered. A lock
// held for less than BusyTimeout only delays a write.
func TestLockedFile(t *testing.T) {
	f := adapter.Prisma
	path := filepath.Join(t.TempDir(), "sessions.db")
	st, err := sqlite.Open(path, f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	if err := st.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}

	now := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	clock := now
	var hookMu sync.Mutex
	var hookErrs []error
	m := session.NewManager(st, session.Config{
		Now: func() time.Time { return clock },
		// Above BusyTimeout (which the default equals), so that the
		// lock's own error is what ErrorFunc sees.
		Timeout: 2 * time.Duration(sqlite.BusyTimeout) * time.Millisecond,
		ErrorFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			hookMu.Lock()
			hookErrs = append(hookErrs, err)
			hookMu.Unlock()
			http.Error(w, "unavailable", http.StatusServiceUnavailable)
		},
	})
	u, err := st.CreateUser(ctx, session.User{Email: "locked@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	login := func() (*http.Cookie, error) {
		w := httptest.NewRecorder()
		if _, err := m.Create(ctx, w, httptest.NewRequest("POST", "/login", nil), u.ID); err != nil {
			return nil, err
		}
		return w.Result().Cookies()[0], nil
	}
	// fresh needs no write to validate; due was created 25 hours ago and
	// is extended by its next request.
	fresh, err := login()
	if err != nil {
		t.Fatal(err)
	}
	clock = now.Add(-25 * time.Hour)
	due, err := login()
	if err != nil {
		t.Fatal(err)
	}
	clock = now
	h := m.RequireSession(http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	get := func(c *http.Cookie) int {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(c)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}

	other, err := sqlx.Open("sqlite3", sqlite.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	before := faulttest.SessionRows(t, other, f)

	// The other writer takes the lock (the DSN's _txlock=immediate makes
	// Begin a BEGIN IMMEDIATE) and changes a row it will not commit.
	tx, err := other.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`UPDATE "Session" SET "expires" = 0`); err != nil {
		t.Fatal(err)
	}

	busy := time.Duration(sqlite.BusyTimeout) * time.Millisecond
	var wg sync.WaitGroup
	var dueCode int
	var dueTook time.Duration
	var loginErr error
	wg.Go(func() {
		start := time.Now()
		dueCode = get(due)
		dueTook = time.Since(start)
	})
	wg.Go(func() { _, loginErr = login() })

	// Meanwhile reads work, and see only committed rows.
	for range 20 {
		start := time.Now()
		if code := get(fresh); code != http.StatusOK {
			t.Fatalf("a read while the file is locked: status %d", code)
		}
		if took := time.Since(start); took > busy/2 {
			t.Errorf("a read waited %v for the writer", took)
		}
	}
	if n, err := m.CountActive(ctx); err != nil || n != 2 {
		t.Errorf("CountActive while locked = %d, %v", n, err)
	}
	wg.Wait()
	if dueCode != http.StatusServiceUnavailable {
		t.Errorf("an extension while locked: status %d, want 503", dueCode)
	}
	if dueTook < busy-busy/10 || dueTook > busy+3*time.Second {
		t.Errorf("the extension failed after %v, want about BusyTimeout (%v)", dueTook, busy)
	}
	if loginErr == nil || !strings.Contains(loginErr.Error(), "locked") {
		t.Errorf("a sign-in while locked: %v, want database is locked", loginErr)
	}
	hookMu.Lock()
	if len(hookErrs) != 1 || !strings.Contains(hookErrs[0].Error(), "locked") || errors.Is(hookErrs[0], session.ErrNoSession) {
		t.Errorf("ErrorFunc got %v, want one database is locked", hookErrs)
	}
	hookMu.Unlock()

	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}
	if after := faulttest.SessionRows(t, other, f); len(after) != len(before) {
		t.Fatalf("rows before %v, after %v", before, after)
	} else {
		for tok, row := range before {
			if after[tok] != row {
				t.Errorf("row %s altered: %q became %q", tok, row, after[tok])
			}
		}
	}

	// A lock shorter than BusyTimeout only delays the write.
	tx, err = other.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	release := time.AfterFunc(busy/5, func() { _ = tx.Rollback() })
	defer release.Stop()
	start := time.Now()
	if code := get(due); code != http.StatusOK {
		t.Fatalf("after the lock: status %d", code)
	}
	if took := time.Since(start); took < busy/5-50*time.Millisecond {
		t.Errorf("the write did not wait for the lock (%v)", took)
	}
	s, _, err := st.GetSessionAndUser(ctx, due.Value)
	if err != nil || !s.Expires.Equal(now.Add(session.DefaultMaxAge)) {
		t.Errorf("after the lock the due session: %v, %v; want extended to %v", s.Expires, err, now.Add(session.DefaultMaxAge))
	}
	if _, err := login(); err != nil {
		t.Errorf("sign-in after the lock: %v", err)
	}
}

// TestTimeoutOnSQLite: Config.Timeout cannot shorten a wait for another
// writer's lock (SQLite's busy handler does not heed a context), which is
// why calls on one session run without its timer while the pool is
// unlimited (SelfBounded); with SetMaxOpenConns, a call that waits for a
// connection is bounded by Timeout again.
func TestTimeoutOnSQLite(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sessions.db")
	ctx := context.Background()
	const busy = 600 * time.Millisecond
	dsn := sqlite.DSN(path)
	short := strings.Replace(dsn, fmt.Sprintf("_busy_timeout=%d", sqlite.BusyTimeout), "_busy_timeout=600", 1)
	if short == dsn {
		t.Fatalf("no busy timeout in %s", dsn)
	}
	db, err := sqlx.Open("sqlite3", short)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := sqlite.New(db, adapter.Prisma)
	t.Cleanup(func() { st.Close() })
	if err := st.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateUser(ctx, session.User{Email: "timeout@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	m := session.NewManager(st, session.Config{Timeout: 50 * time.Millisecond})
	token, _, err := m.Start(ctx, u.ID, session.Device{})
	if err != nil {
		t.Fatal(err)
	}
	if self, ok := st.SessionCallsSelfBounded(); !ok || self != session.Store(st) {
		t.Errorf("SessionCallsSelfBounded = %v, %v with an unlimited pool, want the store, true", self, ok)
	}

	// Another writer holds the lock: a sign-in waits the busy timeout,
	// not the 50ms Timeout, and then fails; with the timer (a pool of 100
	// connections makes the calls no longer self-bounded) and without.
	other, err := sqlx.Open("sqlite3", dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	tx, err := other.Beginx()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tx.Exec(`DELETE FROM "Session" WHERE 0`); err != nil {
		t.Fatal(err)
	}
	for _, maxOpen := range []int{0, 100} {
		db.SetMaxOpenConns(maxOpen)
		if _, ok := st.SessionCallsSelfBounded(); ok != (maxOpen == 0) {
			t.Errorf("SetMaxOpenConns(%d): SessionCallsSelfBounded says %v", maxOpen, ok)
		}
		start := time.Now()
		_, _, err = m.Start(ctx, u.ID, session.Device{})
		took := time.Since(start)
		if err == nil {
			t.Errorf("SetMaxOpenConns(%d): a sign-in while locked succeeded", maxOpen)
		}
		if took < busy-busy/10 {
			t.Errorf("SetMaxOpenConns(%d): the sign-in gave up after %v, before the busy timeout (%v): %v", maxOpen, took, busy, err)
		}
		// Reads are not held by the writer (WAL).
		if _, err := m.Validate(ctx, token); err != nil {
			t.Errorf("SetMaxOpenConns(%d): a read while locked: %v", maxOpen, err)
		}
	}
	if err := tx.Rollback(); err != nil {
		t.Fatal(err)
	}

	// One connection, held elsewhere: a validation waits for it no longer
	// than Timeout.
	db.SetMaxOpenConns(1)
	if _, ok := st.SessionCallsSelfBounded(); ok {
		t.Error("SessionCallsSelfBounded is true with a pool of one connection")
	}
	conn, err := db.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// The caller's own deadline, far off, only keeps a broken bound from
	// hanging the test.
	far, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	start := time.Now()
	_, err = m.Validate(far, token)
	took := time.Since(start)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("a validation waiting for the pool: %v, want the deadline", err)
	}
	if took > busy {
		t.Errorf("a validation waited %v for the pool (Timeout 50ms)", took)
	}
	conn.Close()
	if _, err := m.Validate(ctx, token); err != nil {
		t.Errorf("after the connection came back: %v", err)
	}
}
