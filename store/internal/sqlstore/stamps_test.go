package sqlstore

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/postgres/pgtest"
)

// TestStamps checks, on the Prisma models of today's Auth.js docs, that
// the store writes createdAt and updatedAt (NOT NULL without a default)
// on every insert, moves updatedAt forward on every update of a user and
// on every sliding extension of a session, and leaves createdAt alone.
func TestStamps(t *testing.T) {
	snake := adapter.PrismaDocs
	snake.Name = "prisma-docs-snake"
	snake.Naming = adapter.SnakeCase
	snake.Columns.Session.UpdatedAt = "last_seen"
	for _, f := range []adapter.Flavour{adapter.PrismaDocs, snake} {
		for _, d := range []adapter.Dialect{adapter.SQLite, adapter.Postgres} {
			t.Run(f.Name+"/"+d.String(), func(t *testing.T) {
				var db *sqlx.DB
				if d == adapter.Postgres {
					db = pgtest.Open(t, "nextsession_stamps_"+map[bool]string{true: "snake", false: "docs"}[f.Naming == adapter.SnakeCase])
				} else {
					var err error
					db, err = sqlx.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "s.db")+"?_foreign_keys=on")
					if err != nil {
						t.Fatal(err)
					}
					t.Cleanup(func() { db.Close() })
				}
				testStamps(t, New(db, f, d))
			})
		}
	}
}

func testStamps(t *testing.T, st *Store) {
	ctx := context.Background()
	if err := st.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	f, n := st.flavour, st.flavour.Names()
	// stamps reads createdAt and updatedAt of the row whose key is key.
	stamps := func(table, created, updated, keyCol, key string) (time.Time, time.Time) {
		t.Helper()
		var c, u nullDate
		plus := "+" // SQLite: undeclared, so that the driver hands over what is stored
		if st.dialect == adapter.Postgres {
			plus = ""
		}
		q := st.db.Rebind(fmt.Sprintf(`SELECT %[1]s%[2]s, %[1]s%[3]s FROM %[4]s WHERE %[5]s = ?`, plus, adapter.Quote(created), adapter.Quote(updated),
			f.QuoteTable(table), adapter.Quote(keyCol)))
		if err := st.db.QueryRow(q, key).Scan(&c, &u); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		if !c.Valid || !u.Valid {
			t.Fatalf("%s: createdAt %v, updatedAt %v: not written", table, c.Valid, u.Valid)
		}
		return c.Time, u.Time
	}
	tick := func() time.Time {
		time.Sleep(3 * time.Millisecond)
		return time.Now().UTC().Truncate(time.Millisecond)
	}
	within := func(what string, got, lo, hi time.Time) {
		t.Helper()
		if got.Before(lo) || got.After(hi) {
			t.Errorf("%s = %v, want between %v and %v", what, got, lo, hi)
		}
	}

	t0 := tick()
	u, err := st.CreateUser(ctx, session.User{Email: "stamps@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	t1 := tick()
	uc, uu := stamps(f.Tables.User, n.User.CreatedAt, n.User.UpdatedAt, n.User.ID, u.ID)
	within("User.createdAt", uc, t0, t1)
	within("User.updatedAt", uu, t0, t1)
	if _, err := st.UpdateUser(ctx, session.User{ID: u.ID, Name: "New"}, session.UserName); err != nil {
		t.Fatal(err)
	}
	t2 := tick()
	uc2, uu2 := stamps(f.Tables.User, n.User.CreatedAt, n.User.UpdatedAt, n.User.ID, u.ID)
	if !uc2.Equal(uc) {
		t.Errorf("UpdateUser moved User.createdAt from %v to %v", uc, uc2)
	}
	within("User.updatedAt after UpdateUser", uu2, t1, t2)

	a, err := st.LinkAccount(ctx, session.Account{UserID: u.ID, Type: "oauth", Provider: "github", ProviderAccountID: "42"})
	if err != nil {
		t.Fatal(err)
	}
	if a.ID != "" {
		t.Errorf("LinkAccount: ID %q on a flavour whose Account has no id", a.ID)
	}
	t3 := tick()
	ac, au := stamps(f.Tables.Account, n.Account.CreatedAt, n.Account.UpdatedAt, n.Account.ProviderAccountID, "42")
	within("Account.createdAt", ac, t2, t3)
	within("Account.updatedAt", au, t2, t3)

	created := t3.Add(-time.Hour)
	s, err := st.CreateSession(ctx, session.Session{Token: "tok", UserID: u.ID, Expires: t3.Add(time.Hour), CreatedAt: created})
	if err != nil {
		t.Fatal(err)
	}
	if s.ID != "" || !s.CreatedAt.Equal(created) {
		t.Errorf("CreateSession = ID %q, CreatedAt %v; want no ID, %v", s.ID, s.CreatedAt, created)
	}
	t4 := tick()
	sc, su := stamps(f.Tables.Session, n.Session.CreatedAt, n.Session.UpdatedAt, n.Session.SessionToken, "tok")
	if !sc.Equal(created) {
		t.Errorf("Session.createdAt = %v, want %v", sc, created)
	}
	within("Session.updatedAt", su, t3, t4)
	for i := range 2 { // two sliding extensions
		if err := st.UpdateSession(ctx, session.SessionUpdate{Token: "tok", Expires: t4.Add(time.Duration(i+2) * time.Hour)}); err != nil {
			t.Fatal(err)
		}
		t5 := tick()
		sc2, su2 := stamps(f.Tables.Session, n.Session.CreatedAt, n.Session.UpdatedAt, n.Session.SessionToken, "tok")
		if !sc2.Equal(created) {
			t.Errorf("extension %d moved Session.createdAt to %v", i, sc2)
		}
		within(fmt.Sprintf("Session.updatedAt after extension %d", i), su2, t4, t5)
		t4 = t5
	}
}
