package sqlite_test

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/sqlite"
	"github.com/nextsession/nextsession/store/sqlite/sqlitetest"
)

// TestMixedDateStorage writes session rows in every way a NextAuth stack
// stores dates on SQLite (integer milliseconds, ISO text with Z and with
// +00:00), into each flavour's table, with and without the index on
// expires (the store counts differently), and checks that reading,
// counting, listing and sweeping agree with the instants the rows stand
// for, at the millisecond boundary too.
func TestMixedDateStorage(t *testing.T) {
	for _, f := range sqliteFlavours {
		for _, indexed := range []bool{true, false} {
			t.Run(fmt.Sprintf("%s/indexed=%v", f.Name, indexed), func(t *testing.T) {
				var st *sqlite.Store
				if indexed {
					st = sqlitetest.Open(t, f)
				} else {
					st = openWithoutIndexes(t, f)
				}
				testMixedDates(t, st, f)
			})
		}
	}
}

// openWithoutIndexes opens a store whose tables are the flavour's alone,
// as Prisma or Drizzle create them.
func openWithoutIndexes(t *testing.T, f adapter.Flavour) *sqlite.Store {
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "bare.db"), f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	stmts, err := f.Schema(adapter.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range stmts {
		if _, err := st.DB().Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	return st
}

func testMixedDates(t *testing.T, st *sqlite.Store, f adapter.Flavour) {
	ctx := context.Background()
	now := time.Date(2026, 3, 4, 5, 6, 7, 890e6, time.UTC)
	spell := map[string]func(time.Time) any{
		"millis":    func(t time.Time) any { return t.UnixMilli() },
		"isoZ":      func(t time.Time) any { return t.Format("2006-01-02T15:04:05.000Z") },
		"isoOffset": func(t time.Time) any { return t.Format("2006-01-02T15:04:05.000+00:00") },
	}
	offsets := []time.Duration{-time.Hour, -time.Millisecond, 0, time.Millisecond, time.Hour}

	u, err := st.CreateUser(ctx, session.User{Email: "mixed@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	cols, vals := `"sessionToken", "userId", "expires"`, "?, ?, ?"
	if f.SessionID {
		cols, vals = `"id", `+cols, "?, "+vals
	}
	if f.SessionCreatedAt {
		cols, vals = cols+`, "createdAt"`, vals+", ?"
	}
	if f.SessionUpdatedAt {
		cols, vals = cols+`, "updatedAt"`, vals+", ?"
	}
	insert := fmt.Sprintf(`INSERT INTO %s (%s) VALUES (%s)`, adapter.Quote(f.Tables.Session), cols, vals)
	want := map[string]time.Time{}
	active, expired := 0, 0
	for name, enc := range spell {
		// A TEXT column turns integers into text: numbers only stay
		// numbers in the DATETIME or INTEGER columns of millisecond flavours.
		if name == "millis" && f.SQLiteDates != adapter.DateMillis {
			continue
		}
		for i, off := range offsets {
			token := fmt.Sprintf("%s-%d", name, i)
			exp := now.Add(off)
			args := []any{token, u.ID, enc(exp)}
			if f.SessionID {
				args = append([]any{"id-" + token}, args...)
			}
			if f.SessionCreatedAt {
				args = append(args, enc(now.Add(-time.Hour)))
			}
			if f.SessionUpdatedAt {
				args = append(args, enc(now.Add(-time.Hour)))
			}
			if _, err := st.DB().Exec(insert, args...); err != nil {
				t.Fatalf("%s: %v", token, err)
			}
			want[token] = exp
			if off >= 0 {
				active++
			} else {
				expired++
			}
		}
	}
	for token, exp := range want {
		s, _, err := st.GetSessionAndUser(ctx, token)
		if err != nil {
			t.Fatalf("%s: %v", token, err)
		}
		if !s.Expires.Equal(exp) {
			t.Errorf("%s: Expires = %v, want %v", token, s.Expires, exp)
		}
	}
	for _, userID := range []string{"", u.ID} {
		n, err := st.CountActive(ctx, userID, now)
		if err != nil || n != int64(active) {
			t.Errorf("CountActive(%q) = %d, %v; want %d", userID, n, err, active)
		}
	}
	list, err := st.ListSessions(ctx, session.ListQuery{Now: now, UserID: u.ID})
	if err != nil || len(list) != active {
		t.Errorf("ListSessions = %d rows, %v; want %d", len(list), err, active)
	}
	for i := 1; i < len(list); i++ {
		if list[i].Session.Expires.After(list[i-1].Session.Expires) {
			t.Errorf("ListSessions not newest first at %d", i)
		}
	}
	gone, err := st.DeleteExpired(ctx, now, 1000)
	if err != nil || gone != int64(expired) {
		t.Errorf("DeleteExpired = %d, %v; want %d", gone, err, expired)
	}
	if n, _ := st.CountActive(ctx, "", now); n != int64(active) {
		t.Errorf("after sweep CountActive = %d, want %d", n, active)
	}
}

// TestOrphanSession: a session whose user row is gone (a database without
// foreign keys enforced, as SQLite is by default) is no session, not a
// session of an empty user.
func TestOrphanSession(t *testing.T) {
	ctx := context.Background()
	for _, f := range sqliteFlavours {
		t.Run(f.Name, func(t *testing.T) {
			db, err := sqlx.Open("sqlite3", filepath.Join(t.TempDir(), "nofk.db")) // foreign_keys off
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			db.SetMaxOpenConns(1)
			st := sqlite.New(db, f)
			defer st.Close()
			if err := st.CreateSchema(ctx); err != nil {
				t.Fatal(err)
			}
			u, err := st.CreateUser(ctx, session.User{Email: "gone@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			s, err := st.CreateSession(ctx, session.Session{Token: "orphan", UserID: u.ID, Expires: time.Now().Add(time.Hour)})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := db.Exec(`DELETE FROM ` + adapter.Quote(f.Tables.User)); err != nil {
				t.Fatal(err)
			}
			if _, _, err := st.GetSessionAndUser(ctx, s.Token); !errors.Is(err, session.ErrNotFound) {
				t.Errorf("GetSessionAndUser of an orphan = %v, want ErrNotFound", err)
			}
		})
	}
}
