package pgtest

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"testing"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the driver the Postgres store uses

	"github.com/nextsession/nextsession/adapter"
)

// DefaultDSN is the server used when NEXTSESSION_POSTGRES_DSN is not set.
const DefaultDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"

// DSN returns the data source name of the test server.
func DSN() string {
	if dsn := os.Getenv("NEXTSESSION_POSTGRES_DSN"); dsn != "" {
		return dsn
	}
	return DefaultDSN
}

var schemaName = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,50}$`)

// Open returns a connection whose search_path is a fresh, empty schema of
// the given name (dropped first if it exists, and dropped again when the
// test ends), so that tests of different flavours and packages do not
// meet. The name must be a lower-case SQL identifier.
func Open(tb testing.TB, schema string) *sqlx.DB {
	tb.Helper()
	if !schemaName.MatchString(schema) {
		tb.Fatalf("pgtest: bad schema name %q", schema)
	}
	admin, err := sqlx.Open("postgres", DSN())
	if err == nil {
		err = admin.Ping()
	}
	if err != nil {
		if admin != nil {
			admin.Close()
		}
		msg := fmt.Sprintf("pgtest: Postgres at %s is not reachable (%v); start it or set NEXTSESSION_POSTGRES_DSN", DSN(), err)
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	admin.Close()
	Schema(tb, schema)
	db, err := sqlx.Open("postgres", WithSchema(DSN(), schema))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { db.Close() }) // before Schema's cleanup drops it
	return db
}

// Schema makes a fresh, empty schema of the given name on the test server
// (dropped first if it exists, and dropped again when the test ends),
// for tables that live outside a connection's search_path (a flavour's
// TableSchema). The name must be a lower-case SQL identifier.
func Schema(tb testing.TB, schema string) {
	tb.Helper()
	if !schemaName.MatchString(schema) {
		tb.Fatalf("pgtest: bad schema name %q", schema)
	}
	admin, err := sqlx.Open("postgres", DSN())
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	for _, q := range []string{
		`DROP SCHEMA IF EXISTS "` + schema + `" CASCADE`,
		`CREATE SCHEMA "` + schema + `"`,
	} {
		if _, err := admin.Exec(q); err != nil {
			tb.Fatalf("pgtest: %s: %v", q, err)
		}
	}
	tb.Cleanup(func() {
		if a, err := sqlx.Open("postgres", DSN()); err == nil {
			a.Exec(`DROP SCHEMA IF EXISTS "` + schema + `" CASCADE`)
			a.Close()
		}
	})
}

// WithSchema returns dsn with its search_path set to schema.
func WithSchema(dsn, schema string) string {
	u, err := url.Parse(dsn)
	if err != nil || u.Scheme == "" {
		return dsn + " search_path=" + schema
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Flavour returns f with its TableSchema, if it has one, replaced by a
// fresh schema named prefix + "_" + the flavour's own TableSchema, so that
// tests of a schema-qualified flavour (Supabase's next_auth) do not meet.
func Flavour(tb testing.TB, f adapter.Flavour, prefix string) adapter.Flavour {
	tb.Helper()
	if f.TableSchema != "" {
		f.TableSchema = prefix + "_" + f.TableSchema
		Schema(tb, f.TableSchema)
	}
	return f
}
