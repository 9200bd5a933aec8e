package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/adapter/adaptertest"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/postgres"
	"github.com/nextsession/nextsession/store/postgres/pgtest"
)

// pgFlavours are the flavours that exist on Postgres. PrismaISO differs
// from Prisma only on SQLite.
var pgFlavours = []adapter.Flavour{adapter.Prisma, adapter.PrismaDocs, adapter.PgAdapter, adapter.Kysely, adapter.Drizzle, adapter.Supabase}

func schemaFor(f adapter.Flavour) string {
	return "nextsession_pg_" + strings.ReplaceAll(f.Name, "-", "_")
}

func TestConformance(t *testing.T) {
	// Prisma's tables with device columns added to Session.
	device := adapter.Prisma
	device.Name = "prisma-device"
	device.Device = adapter.DeviceColumns{UserAgent: "userAgent", IP: "ip"}
	for _, f := range append(append(pgFlavours, device), adaptertest.MappedFlavours(adapter.Postgres)...) {
		t.Run(f.Name, func(t *testing.T) {
			db := pgtest.Open(t, schemaFor(f))
			f := pgtest.Flavour(t, f, schemaFor(f))
			// The races open many connections: stay well inside
			// max_connections when packages test in parallel.
			db.SetMaxOpenConns(10)
			st := postgres.New(db, f)
			t.Cleanup(func() { st.Close() })
			if err := st.CreateSchema(context.Background()); err != nil {
				t.Fatal(err)
			}
			if err := st.Verify(context.Background()); err != nil {
				t.Fatal(err)
			}
			t.Run("adaptertest", func(t *testing.T) {
				adaptertest.Run(t, adaptertest.Config{
					Flavour: f,
					New: func(t *testing.T) session.Adapter {
						tb := f.Tables
						q := `TRUNCATE ` + strings.Join([]string{f.QuoteTable(tb.Session), f.QuoteTable(tb.Account),
							f.QuoteTable(tb.VerificationToken), f.QuoteTable(tb.User)}, ", ") + ` RESTART IDENTITY CASCADE`
						if _, err := db.Exec(q); err != nil {
							t.Fatal(err)
						}
						return st
					},
				})
			})
		})
	}
}

// Open returns errors, prefixed postgres:, where New would panic; the
// store it returns closes its database.
func TestOpen(t *testing.T) {
	db := pgtest.Open(t, "nextsession_pg_open") // skips or fails without a server
	db.Close()
	if _, err := postgres.Open(pgtest.DSN(), adapter.Flavour{Name: "broken"}); err == nil || !strings.HasPrefix(err.Error(), "postgres: ") {
		t.Errorf("Open with a broken flavour: %v, want an error prefixed postgres:", err)
	}
	if _, err := postgres.Open("postgres://nobody@127.0.0.1:1/none?sslmode=disable&connect_timeout=2", adapter.Prisma); err == nil || !strings.HasPrefix(err.Error(), "postgres: ") {
		t.Errorf("Open of an unreachable server: %v, want an error prefixed postgres:", err)
	}
	st, err := postgres.Open(pgtest.WithSchema(pgtest.DSN(), "nextsession_pg_open"), adapter.Prisma)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.Verify(context.Background()); err == nil || !strings.HasPrefix(err.Error(), "postgres: ") {
		t.Errorf("Verify without tables: %v, want an error prefixed postgres:", err)
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	if err := st.DB().Ping(); err == nil {
		t.Error("the database Open opened is still open after Close")
	}
}

// Open with a zero Flavour reads the flavour from the catalog: today's
// Auth.js docs' Prisma models are found as such and work; a schema
// without NextAuth's tables is an error that says so.
func TestOpenDetects(t *testing.T) {
	const schema = "nextsession_pg_open_detect"
	db := pgtest.Open(t, schema)
	dsn := pgtest.WithSchema(pgtest.DSN(), schema)
	if _, err := postgres.Open(dsn, adapter.Flavour{}); !errors.Is(err, adapter.ErrNotNextAuth) {
		t.Fatalf("Open(zero flavour) on an empty schema: %v, want ErrNotNextAuth", err)
	}
	stmts, err := adapter.PrismaDocs.Schema(adapter.Postgres)
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range stmts {
		db.MustExec(q)
	}
	st, err := postgres.Open(dsn, adapter.Flavour{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := st.Flavour().Name; got != adapter.PrismaDocs.Name {
		t.Fatalf("Open(zero flavour) found %q, want %q", got, adapter.PrismaDocs.Name)
	}
	ctx := context.Background()
	if err := st.Verify(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateUser(ctx, session.User{Email: "detect@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	m := session.NewManager(st, session.Config{})
	token, _, err := m.Start(ctx, u.ID, session.Device{})
	if err != nil {
		t.Fatal(err)
	}
	if res, err := m.Validate(ctx, token); err != nil || res.User.Email != u.Email {
		t.Fatalf("Validate: %+v, %v", res.User, err)
	}
}
