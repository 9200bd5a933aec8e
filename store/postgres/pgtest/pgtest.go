package pgtest

import (
	"fmt"
	"net/url"
	"os"
	"regexp"
	"testing"

	"github.com/jmoiron/sqlx"
	_ "github.com/lib/pq" // the driver the Postgres store uses
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
	defer admin.Close()
	for _, q := range []string{
		`DROP SCHEMA IF EXISTS "` + schema + `" CASCADE`,
		`CREATE SCHEMA "` + schema + `"`,
	} {
		if _, err := admin.Exec(q); err != nil {
			tb.Fatalf("pgtest: %s: %v", q, err)
		}
	}
	db, err := sqlx.Open("postgres", WithSchema(DSN(), schema))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		db.Close()
		if a, err := sqlx.Open("postgres", DSN()); err == nil {
			a.Exec(`DROP SCHEMA IF EXISTS "` + schema + `" CASCADE`)
			a.Close()
		}
	})
	return db
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
