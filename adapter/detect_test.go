package adapter_test

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/adapter/adaptertest"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/postgres"
	"github.com/nextsession/nextsession/store/postgres/pgtest"
	"github.com/nextsession/nextsession/store/sqlite"
)

// detectable are the flavours Detect must find on the dialect: every
// predefined one, the mapped ones of the conformance suite, and one with
// device columns.
func detectable(d adapter.Dialect) []adapter.Flavour {
	device := adapter.Drizzle
	device.Name = "drizzle-device"
	device.Device = adapter.DeviceColumns{UserAgent: "user_agent", IP: "ip"}
	var out []adapter.Flavour
	for _, f := range append(append(adapter.Flavours(), device), adaptertest.MappedFlavours(d)...) {
		// PrismaISO differs from Prisma only on SQLite.
		if f.Check(d) == nil && (d == adapter.SQLite || f != adapter.PrismaISO) {
			out = append(out, f)
		}
	}
	return out
}

// expected is what Detect returns for a database of flavour f on the
// dialect: f itself when it is predefined, else f named "detected" with
// the other dialect's date storage zero.
func expected(f adapter.Flavour, d adapter.Dialect) adapter.Flavour {
	if _, err := adapter.Lookup(f.Name); err != nil {
		f.Name = "detected"
		if d == adapter.Postgres {
			f.SQLiteDates = 0
		} else {
			f.PostgresDates = 0
		}
	}
	return f
}

// addRows signs a user in through a store of the flavour, so that the
// tables hold ids and dates.
func addRows(t *testing.T, st session.Adapter) {
	t.Helper()
	ctx := context.Background()
	u, err := st.CreateUser(ctx, session.User{Email: "detect@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.CreateSession(ctx, session.Session{Token: "tok", UserID: u.ID, Expires: time.Now().Add(time.Hour)}); err != nil {
		t.Fatal(err)
	}
}

func openSQLite(t *testing.T) *sqlx.DB {
	t.Helper()
	db, err := sqlx.Open("sqlite3", sqlite.DSN(filepath.Join(t.TempDir(), "d.db")))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

func TestDetectSQLite(t *testing.T) {
	ctx := context.Background()
	for _, f := range detectable(adapter.SQLite) {
		t.Run(f.Name, func(t *testing.T) {
			db := openSQLite(t)
			st := sqlite.New(db, f)
			if err := st.CreateSchema(ctx); err != nil {
				t.Fatal(err)
			}
			want := expected(f, adapter.SQLite)

			// Empty tables: the declared types decide, but DATETIME,
			// which Prisma declares for both of its date formats.
			got, err := sqlite.Detect(ctx, db)
			if errors.Is(err, adapter.ErrDatesUnknown) != (f.IDs == adapter.IDCUID) {
				t.Errorf("on empty tables: %v; want ErrDatesUnknown exactly for Prisma's DATETIME", err)
			}
			if errors.Is(err, adapter.ErrDatesUnknown) {
				if !strings.Contains(err.Error(), "DATETIME") {
					t.Errorf("error does not name the declared type: %v", err)
				}
				got.Name, got.SQLiteDates = want.Name, want.SQLiteDates
				if got != want {
					t.Errorf("on empty tables with dates unknown: %+v, want %+v", got, want)
				}
			} else if err != nil {
				t.Fatal(err)
			} else if got.Name = want.Name; got != want {
				t.Errorf("on empty tables: %+v, want %+v", got, want)
			}

			addRows(t, st)
			got, err = sqlite.Detect(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Errorf("Detect = %+v, want %+v", got, want)
			}
		})
	}
}

func TestDetectPostgres(t *testing.T) {
	ctx := context.Background()
	for _, f := range detectable(adapter.Postgres) {
		t.Run(f.Name, func(t *testing.T) {
			name := "nextsession_detect_" + strings.NewReplacer("-", "_").Replace(f.Name)
			pgtest.Open(t, name)
			f := pgtest.Flavour(t, f, name)
			path := name
			if f.TableSchema != "" {
				path += "," + f.TableSchema // found in the search_path, not the current schema
			}
			db, err := sqlx.Open("postgres", pgtest.WithSchema(pgtest.DSN(), path))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			st := postgres.New(db, f)
			t.Cleanup(func() { st.Close() })
			if err := st.CreateSchema(ctx); err != nil {
				t.Fatal(err)
			}
			want := expected(f, adapter.Postgres)
			for _, rows := range []bool{false, true} {
				if rows {
					addRows(t, st)
				}
				got, err := postgres.Detect(ctx, db)
				if err != nil {
					t.Fatal(err)
				}
				if got.Name == "detected" && want.Name != "detected" {
					// The renamed schema of a predefined flavour.
					got.Name = want.Name
					got.PostgresOnly = want.PostgresOnly
				}
				if got != want {
					t.Errorf("rows %v: Detect = %+v, want %+v", rows, got, want)
				}
			}
		})
	}
}

// Supabase's tables are found in next_auth with the search_path elsewhere.
func TestDetectSupabaseSchema(t *testing.T) {
	ctx := context.Background()
	db := pgtest.Open(t, "nextsession_detect_next_auth")
	pgtest.Schema(t, adapter.Supabase.TableSchema)
	st := postgres.New(db, adapter.Supabase)
	t.Cleanup(func() { st.Close() })
	if err := st.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	got, err := postgres.Detect(ctx, db)
	if err != nil || got != adapter.Supabase {
		t.Fatalf("Detect = %+v, %v; want adapter.Supabase", got, err)
	}
}

// A database that is not NextAuth's, or whose tables lack a column, is an
// error that says what was looked for and what was found.
func TestDetectErrors(t *testing.T) {
	ctx := context.Background()
	exec := func(t *testing.T, db *sqlx.DB, stmts ...string) {
		t.Helper()
		for _, q := range stmts {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%s: %v", q, err)
			}
		}
	}
	t.Run("not NextAuth", func(t *testing.T) {
		db := openSQLite(t)
		// Supabase Auth's own tables look close, but are not NextAuth's.
		exec(t, db, `CREATE TABLE orders (id INTEGER PRIMARY KEY, total INTEGER)`,
			`CREATE TABLE users (id TEXT PRIMARY KEY, email TEXT, email_confirmed_at TEXT)`,
			`CREATE TABLE sessions (id TEXT PRIMARY KEY, user_id TEXT, not_after TEXT)`)
		_, err := sqlite.Detect(ctx, db)
		if !errors.Is(err, adapter.ErrNotNextAuth) {
			t.Fatalf("Detect = %v, want ErrNotNextAuth", err)
		}
		for _, want := range []string{"sessionToken", "session_token", "orders", "sessions", "users"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("error does not name %q: %v", want, err)
			}
		}
	})
	t.Run("empty", func(t *testing.T) {
		_, err := sqlite.Detect(ctx, openSQLite(t))
		if !errors.Is(err, adapter.ErrNotNextAuth) || !strings.Contains(err.Error(), "tables found: none") {
			t.Fatalf("Detect = %v", err)
		}
	})
	t.Run("missing column", func(t *testing.T) {
		db := openSQLite(t)
		f := adaptertest.MappedFlavours(adapter.SQLite)[0]
		if err := sqlite.New(db, f).CreateSchema(ctx); err != nil {
			t.Fatal(err)
		}
		exec(t, db, `ALTER TABLE "sessions" RENAME COLUMN "expires" TO "expires_at"`)
		_, err := sqlite.Detect(ctx, db)
		want := `Session (table "sessions") has no expires column; it has: id, session_token, user_id, expires_at, created_at`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Detect = %v\nwant it to say: %s", err, want)
		}
	})
}

// Verify explains why an explicit flavour does not fit: a missing table or
// column, a NOT NULL column it cannot fill, dates stored otherwise.
func TestVerifyMessages(t *testing.T) {
	ctx := context.Background()
	sqliteWith := func(t *testing.T, made adapter.Flavour, rows bool) *sqlx.DB {
		t.Helper()
		db := openSQLite(t)
		st := sqlite.New(db, made)
		if err := st.CreateSchema(ctx); err != nil {
			t.Fatal(err)
		}
		if rows {
			addRows(t, st)
		}
		return db
	}
	noStamp := adapter.PrismaDocs
	noStamp.SessionUpdatedAt = false
	renamed := adapter.Prisma
	renamed.Columns.Session.Expires = "expiresAt"
	for _, c := range []struct {
		name        string
		made, asked adapter.Flavour
		rows        bool
		want        []string
	}{
		{"other tables", adapter.Drizzle, adapter.Prisma, false,
			[]string{`no User table "User" in schema main (tables there: account, session, user, verificationToken)`}},
		{"missing column", adapter.Prisma, renamed, false,
			[]string{`Session has no expires column "expiresAt"; it has: id, sessionToken, userId, expires, createdAt`}},
		{"NOT NULL without default", adapter.PrismaDocs, noStamp, false,
			[]string{`Session has a column "updatedAt" that is NOT NULL without a default, which the store does not write (set Flavour.SessionUpdatedAt`}},
		{"dates", adapter.PrismaISO, adapter.Prisma, true,
			[]string{`Session.expires holds ISO text ending in +00:00 in its newest row; flavour prisma writes integer milliseconds`}},
	} {
		t.Run(c.name, func(t *testing.T) {
			db := sqliteWith(t, c.made, c.rows)
			err := c.asked.Verify(ctx, db.DB, adapter.SQLite)
			if err == nil {
				t.Fatal("Verify passed")
			}
			for _, w := range c.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Verify = %v\nwant it to say: %s", err, w)
				}
			}
			if err := sqlite.New(db, c.made).Verify(ctx); err != nil {
				t.Errorf("the flavour that made the tables: %v", err)
			}
		})
	}
	t.Run("postgres date type", func(t *testing.T) {
		db := pgtest.Open(t, "nextsession_verify_dates")
		if err := postgres.New(db, adapter.Kysely).CreateSchema(ctx); err != nil {
			t.Fatal(err)
		}
		err := adapter.Prisma.Verify(ctx, db.DB, adapter.Postgres)
		want := `Session.expires is timestamp with time zone; flavour prisma writes timestamp(3) without time zone`
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Fatalf("Verify = %v\nwant it to say: %s", err, want)
		}
	})
}

// Columns a user names are quoted: hostile names stay one identifier.
func TestMappedHostileNames(t *testing.T) {
	ctx := context.Background()
	f := adapter.Kysely
	f.Name = "hostile"
	f.Columns.Session.SessionToken = `tok"; DROP TABLE "User"; --`
	f.Columns.User.Email = "e'mail"
	f.Naming = adapter.SnakeCase
	db := openSQLite(t)
	st := sqlite.New(db, f)
	if err := st.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	addRows(t, st)
	s, u, err := st.GetSessionAndUser(ctx, "tok")
	if err != nil || u.Email != "detect@example.com" || s.Token != "tok" {
		t.Fatalf("GetSessionAndUser = %+v, %+v, %v", s, u, err)
	}
	var tables []string
	if err := db.Select(&tables, `SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name`); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(tables, []string{"Account", "Session", "User", "VerificationToken"}) {
		t.Errorf("tables %v", tables)
	}
}

// Two columns of one table with one name are a setup mistake.
func TestCheckDuplicateColumns(t *testing.T) {
	f := adapter.Prisma
	f.Columns.Session.Expires = "userId"
	err := f.Check(adapter.SQLite)
	if err == nil || !strings.Contains(err.Error(), `Session has two columns named "userId"`) {
		t.Fatalf("Check = %v", err)
	}
}

// A schema a user extended with an updatedAt column NOT NULL without a
// default (Kysely's or Drizzle's tables with a column of the app's): Verify
// says the store cannot fill it and which field declares it; with the
// field set, the store writes it and Detect finds it.
func TestOptionalNotNullColumns(t *testing.T) {
	ctx := context.Background()
	for _, base := range []adapter.Flavour{adapter.Kysely, adapter.Drizzle} {
		t.Run(base.Name, func(t *testing.T) {
			db := openSQLite(t)
			st := sqlite.New(db, base)
			if err := st.CreateSchema(ctx); err != nil {
				t.Fatal(err)
			}
			// SQLite adds a NOT NULL column only with a default: remake
			// the table as the app's migration would.
			cols := `"id" TEXT NOT NULL PRIMARY KEY, "sessionToken" TEXT NOT NULL, "userId" TEXT NOT NULL, "expires" TEXT NOT NULL` // Kysely
			if !base.SessionID {                                                                                                    // Drizzle
				cols = `"sessionToken" TEXT NOT NULL PRIMARY KEY, "userId" TEXT NOT NULL, "expires" INTEGER NOT NULL`
			}
			cols += `, "updated_at" TEXT NOT NULL`
			for _, q := range []string{`DROP TABLE ` + adapter.Quote(base.Tables.Session), `CREATE TABLE ` + adapter.Quote(base.Tables.Session) + ` (` + cols + `)`} {
				if _, err := db.Exec(q); err != nil {
					t.Fatal(err)
				}
			}
			err := st.Verify(ctx)
			want := `Session (table "` + base.Tables.Session + `") has a column "updated_at" that is NOT NULL without a default, which the store does not write (set Flavour.SessionUpdatedAt, and Columns.Session.UpdatedAt if its name differs)`
			if base.Tables.Session == "Session" {
				want = strings.Replace(want, `Session (table "Session")`, "Session", 1)
			}
			if err == nil || !strings.Contains(err.Error(), want) {
				t.Fatalf("Verify = %v\nwant it to say: %s", err, want)
			}

			f := base
			f.SessionUpdatedAt = true
			f.Columns.Session.UpdatedAt = "updated_at"
			st = sqlite.New(db, f)
			if err := st.Verify(ctx); err != nil {
				t.Fatal(err)
			}
			addRows(t, st)
			got, err := sqlite.Detect(ctx, db)
			if err != nil {
				t.Fatal(err)
			}
			if !got.SessionUpdatedAt || got.Names().Session.UpdatedAt != "updated_at" {
				t.Errorf("Detect = %+v, want Session.updated_at found", got)
			}
		})
	}
}
