package sqlite_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/sqlite/sqlitetest"
)

// TestManagerFlavours runs NextAuth's rules through a Manager on every
// SQLite flavour: Unix milliseconds (Prisma, Drizzle), ISO text with an
// offset (Prisma 7) and with Z (Kysely); a Session id or none (Drizzle);
// createdAt or none. The date encodings are where SQLite stores differ.
func TestManagerFlavours(t *testing.T) {
	t0 := time.Date(2025, 3, 1, 12, 0, 0, 250_000_000, time.UTC)
	maxAge, updateAge := session.DefaultMaxAge, session.DefaultUpdateAge
	for _, f := range sqliteFlavours {
		t.Run(f.Name, func(t *testing.T) {
			st := sqlitetest.Open(t, f)
			ctx := context.Background()
			u, err := st.CreateUser(ctx, session.User{Name: "Ada", Email: "ada@example.com"})
			if err != nil {
				t.Fatal(err)
			}
			var clock atomic.Int64 // Unix nanoseconds; the sweeper reads it too
			set := func(t time.Time) { clock.Store(t.UnixNano()) }
			set(t0)
			now := func() time.Time { return time.Unix(0, clock.Load()).UTC() }
			m := session.NewManager(st, session.Config{Now: now, SweepBatch: 2})
			defer m.Close()

			token, _, err := m.Start(ctx, u.ID, session.Device{})
			if err != nil {
				t.Fatal(err)
			}
			expires := func() (time.Time, bool) {
				s, _, err := st.GetSessionAndUser(ctx, token)
				if errors.Is(err, session.ErrNotFound) {
					return time.Time{}, false
				}
				if err != nil {
					t.Fatal(err)
				}
				if f.SessionCreatedAt && !s.CreatedAt.Equal(t0) {
					t.Errorf("createdAt %v, want %v", s.CreatedAt, t0)
				}
				return s.Expires, true
			}
			valid := func() bool {
				_, err := m.Validate(ctx, token)
				if err != nil && !errors.Is(err, session.ErrNoSession) {
					t.Fatal(err)
				}
				return err == nil
			}
			if got, _ := expires(); !got.Equal(t0.Add(maxAge)) {
				t.Errorf("expires %v, want %v", got, t0.Add(maxAge))
			}

			boundary := t0.Add(updateAge)
			set(boundary.Add(-time.Millisecond))
			if !valid() {
				t.Fatal("no session")
			}
			if got, _ := expires(); !got.Equal(t0.Add(maxAge)) {
				t.Errorf("1ms before the boundary: expires %v, want unchanged", got)
			}
			set(boundary)
			if !valid() {
				t.Fatal("no session")
			}
			end := boundary.Add(maxAge)
			if got, _ := expires(); !got.Equal(end) {
				t.Errorf("at the boundary: expires %v, want %v", got, end)
			}

			other, _, err := m.Start(ctx, u.ID, session.Device{}) // expires at end as well
			if err != nil {
				t.Fatal(err)
			}
			for _, tc := range []struct {
				at   time.Time
				want int64
			}{{end.Add(-time.Millisecond), 2}, {end, 2}, {end.Add(time.Millisecond), 0}} {
				set(tc.at)
				if n, err := m.CountActive(ctx); n != tc.want || err != nil {
					t.Errorf("at %v: CountActive = %d, %v; want %d", tc.at, n, err, tc.want)
				}
			}

			set(end)
			if !valid() {
				t.Error("invalid when expires == now")
			}
			set(end.Add(maxAge).Add(time.Millisecond))
			if valid() {
				t.Error("valid after expiry")
			}
			if _, ok := expires(); ok {
				t.Error("expired row not deleted")
			}
			for range 4 {
				if _, err := st.CreateSession(ctx, session.Session{Token: randomToken(t), UserID: u.ID, Expires: t0, CreatedAt: t0}); err != nil {
					t.Fatal(err)
				}
			}
			if n, err := m.Sweep(ctx); n != 5 || err != nil {
				t.Errorf("Sweep = %d, %v; want 5 (4 + the other sign-in)", n, err)
			}
			if _, err := m.Validate(ctx, other); !errors.Is(err, session.ErrNoSession) {
				t.Errorf("swept session: %v, want ErrNoSession", err)
			}
		})
	}
}

func randomToken(t *testing.T) string {
	tok, err := session.NewUUIDToken()
	if err != nil {
		t.Fatal(err)
	}
	return tok
}
