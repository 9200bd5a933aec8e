package sqlite_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/sqlite/sqlitetest"
)

// TestMixedDateStorage writes session rows in every way a NextAuth stack
// stores dates on SQLite (integer milliseconds, ISO text with Z, with
// +00:00, and SQLite's own "YYYY-MM-DD HH:MM:SS"), into each flavour's
// table, and checks that reading, counting, listing and sweeping agree
// with the instants they stand for, at the millisecond boundary too.
func TestMixedDateStorage(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 4, 5, 6, 7, 890e6, time.UTC)
	spell := map[string]func(time.Time) any{
		"millis":     func(t time.Time) any { return t.UnixMilli() },
		"millisText": func(t time.Time) any { return fmt.Sprint(t.UnixMilli()) },
		"isoZ":       func(t time.Time) any { return t.Format("2006-01-02T15:04:05.000Z") },
		"isoOffset":  func(t time.Time) any { return t.Format("2006-01-02T15:04:05.000+00:00") },
	}
	offsets := []time.Duration{-time.Hour, -time.Millisecond, 0, time.Millisecond, time.Hour}
	for _, f := range sqliteFlavours {
		t.Run(f.Name, func(t *testing.T) {
			st := sqlitetest.Open(t, f)
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
			insert := fmt.Sprintf(`INSERT INTO %s (%s) VALUES (%s)`, adapter.Quote(f.Tables.Session), cols, vals)
			want := map[string]time.Time{}
			active, expired := 0, 0
			for name, enc := range spell {
				// A text column turns integers into text; numbers only
				// survive as numbers in a DATETIME or INTEGER column.
				if f.SQLiteDates != adapter.DateMillis && (name == "millis" || name == "millisText") {
					continue
				}
				if f.SQLiteDates == adapter.DateMillis && name == "millisText" {
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
			n, err := st.CountActive(ctx, "", now)
			if err != nil || n != int64(active) {
				t.Errorf("CountActive = %d, %v; want %d", n, err, active)
			}
			list, err := st.ListSessions(ctx, u.ID, now, 0)
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
			n, _ = st.CountActive(ctx, "", now)
			if n != int64(active) {
				t.Errorf("after sweep CountActive = %d, want %d", n, active)
			}
		})
	}
}
