package bench

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"sync"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/mattn/go-sqlite3"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/store/postgres/pgtest"
	"github.com/nextsession/nextsession/store/sqlite"
)

// DB is one benchmark database: a handle for timing, and a second handle
// on the same data whose statements are counted.
type DB struct {
	Dialect adapter.Dialect
	// Name is "postgres" or "sqlite", as in benchmark names.
	Name    string
	X       *sqlx.DB
	Counted *sqlx.DB
	Count   *Counter
	// Schema is the Postgres schema; Path the SQLite file.
	Schema, Path string
}

// Close closes both handles.
func (d *DB) Close() {
	d.X.Close()
	d.Counted.Close()
}

var (
	mu       sync.Mutex
	schemas  []string
	tempDirs []string
)

var schemaName = regexp.MustCompile(`^bench_[a-z0-9_]{1,40}$`)

// OpenPostgres drops and creates the schema (whose name starts with
// bench_) on the server of pgtest.DSN() and opens it; the schema's name
// ends with the process id, so that runs in other processes on the same
// server (another checkout's tests, CI) never drop it under this one
// (DB.Schema is the full name). Cleanup drops it.
func OpenPostgres(schema string) (*DB, error) {
	if !schemaName.MatchString(schema) {
		return nil, fmt.Errorf("bench: bad schema name %q", schema)
	}
	schema += "_p" + strconv.Itoa(os.Getpid())
	admin, err := sql.Open("postgres", pgtest.DSN())
	if err != nil {
		return nil, err
	}
	defer admin.Close()
	for _, q := range []string{`DROP SCHEMA IF EXISTS "` + schema + `" CASCADE`, `CREATE SCHEMA "` + schema + `"`} {
		if _, err := admin.Exec(q); err != nil {
			return nil, fmt.Errorf("bench: %s: %w", q, err)
		}
	}
	mu.Lock()
	schemas = append(schemas, schema)
	mu.Unlock()
	return ReopenPostgres(schema)
}

// ReopenPostgres opens a schema that OpenPostgres created, without
// touching it.
func ReopenPostgres(schema string) (*DB, error) {
	dsn := pgtest.WithSchema(pgtest.DSN(), schema)
	x, err := sqlx.Open("postgres", dsn)
	if err != nil {
		return nil, err
	}
	conn, err := pq.NewConnector(dsn)
	if err != nil {
		return nil, err
	}
	counted, c := OpenCounted(conn, true)
	return &DB{Dialect: adapter.Postgres, Name: "postgres", X: x, Counted: sqlx.NewDb(counted, "postgres"), Count: c, Schema: schema}, x.Ping()
}

// OpenSQLite opens (creating it) the file name in a temporary directory
// that Cleanup removes, with the DSN of sqlite.Open: WAL, busy timeout,
// foreign keys, synchronous=NORMAL.
func OpenSQLite(name string) (*DB, error) {
	dir, err := os.MkdirTemp("", "nextsession-bench-")
	if err != nil {
		return nil, err
	}
	mu.Lock()
	tempDirs = append(tempDirs, dir)
	mu.Unlock()
	return OpenSQLiteFile(filepath.Join(dir, name))
}

// OpenSQLiteFile opens the SQLite file at path as OpenSQLite does.
func OpenSQLiteFile(path string) (*DB, error) {
	dsn := sqlite.DSN(path)
	x, err := sqlx.Open("sqlite3", dsn)
	if err != nil {
		return nil, err
	}
	counted, c := OpenCounted(dsnConnector{&sqlite3.SQLiteDriver{}, dsn}, false)
	return &DB{Dialect: adapter.SQLite, Name: "sqlite", X: x, Counted: sqlx.NewDb(counted, "sqlite3"), Count: c, Path: path}, x.Ping()
}

type dsnConnector struct {
	d   driver.Driver
	dsn string
}

func (c dsnConnector) Connect(context.Context) (driver.Conn, error) { return c.d.Open(c.dsn) }
func (c dsnConnector) Driver() driver.Driver                        { return c.d }

// Cleanup drops every schema and removes every file the process made.
func Cleanup() {
	mu.Lock()
	defer mu.Unlock()
	if len(schemas) > 0 {
		if admin, err := sql.Open("postgres", pgtest.DSN()); err == nil {
			for _, s := range schemas {
				admin.Exec(`DROP SCHEMA IF EXISTS "` + s + `" CASCADE`)
			}
			admin.Close()
		}
	}
	for _, d := range tempDirs {
		os.RemoveAll(d)
	}
	schemas, tempDirs = nil, nil
}

// Exec runs statements in order, stopping at the first error.
func (d *DB) Exec(ctx context.Context, stmts ...string) error {
	for _, q := range stmts {
		if _, err := d.X.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("bench: %.80s: %w", q, err)
		}
	}
	return nil
}

// Schema creates the flavour's tables, without the extra indexes.
func (d *DB) CreateTables(ctx context.Context, f adapter.Flavour) error {
	stmts, err := f.Schema(d.Dialect)
	if err != nil {
		return err
	}
	return d.Exec(ctx, stmts...)
}

// CreateIndexes creates the flavour's indexes on Session.expires and
// Session.userId.
func (d *DB) CreateIndexes(ctx context.Context, f adapter.Flavour) error {
	stmts, err := f.Indexes(d.Dialect)
	if err != nil {
		return err
	}
	return d.Exec(ctx, stmts...)
}

// Analyze refreshes planner statistics and, on Postgres, the visibility
// map that index-only scans need.
func (d *DB) Analyze(ctx context.Context) error {
	if d.Dialect == adapter.Postgres {
		return d.Exec(ctx, `VACUUM ANALYZE`)
	}
	return d.Exec(ctx, `ANALYZE`)
}

// Bulk runs one loading statement. On Postgres it runs in a transaction
// with session_replication_role = replica, which skips the per-row
// foreign key triggers: the data is made to satisfy them, and checking a
// million of them triples the load time.
func (d *DB) Bulk(ctx context.Context, q string, args ...any) error {
	if d.Dialect != adapter.Postgres {
		_, err := d.X.ExecContext(ctx, q, args...)
		return err
	}
	tx, err := d.X.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `SET LOCAL session_replication_role = replica`); err != nil {
		return err
	}
	if _, err := tx.ExecContext(ctx, q, args...); err != nil {
		return fmt.Errorf("bench: %.80s: %w", q, err)
	}
	return tx.Commit()
}

// SeedUsers inserts users u1..uN (Prisma-shaped ids, names and emails).
func (d *DB) SeedUsers(ctx context.Context, f adapter.Flavour, n int) error {
	U := adapter.Quote(f.Tables.User)
	if d.Dialect == adapter.Postgres {
		return d.Exec(ctx, fmt.Sprintf(`INSERT INTO %s ("id", "name", "email") SELECT 'u' || i, 'User ' || i, 'user' || i || '@example.com' FROM generate_series(1, %d) i`, U, n))
	}
	return d.Exec(ctx, fmt.Sprintf(`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < %d)
INSERT INTO %s ("id", "name", "email") SELECT 'u' || i, 'User ' || i, 'user' || i || '@example.com' FROM c`, n, U))
}

// SeedSessions inserts n sessions of the Prisma flavour (ids s<offset+i>,
// random UUID-shaped tokens, users u1..u<users>) with one statement: a
// fraction active of them expire 1 to 29 days from now (so none expires
// during a run), the others expired in the last 29 days, spread evenly
// through the table.
func (d *DB) SeedSessions(ctx context.Context, f adapter.Flavour, n, users, offset int, active float64, now time.Time) error {
	S := adapter.Quote(f.Tables.Session)
	// every k-th row (by i) is active, k = 1/active rounded.
	k := 1
	switch {
	case active <= 0:
		k = n + 1
	case active < 1:
		k = int(1/active + 0.5)
	}
	if d.Dialect == adapter.Postgres {
		nowTS := now.UTC().Format("2006-01-02 15:04:05.000")
		return d.Bulk(ctx, fmt.Sprintf(`INSERT INTO %s ("id", "sessionToken", "userId", "expires", "createdAt")
SELECT 's' || (i + %d), gen_random_uuid()::text, 'u' || (1 + i %% %d),
  CASE WHEN i %% %d = 0 THEN $1::timestamp(3) + interval '1 day' + random() * interval '28 days'
       ELSE $1::timestamp(3) - interval '1 minute' - random() * interval '29 days' END,
  $1::timestamp(3) - interval '1 day'
FROM generate_series(1, %d) i`, S, offset, users, k, n), nowTS)
	}
	ms := now.UnixMilli()
	const minute, day, days28, days29 = 60_000, 24 * 3600_000, 28 * 24 * 3600_000, 29 * 24 * 3600_000
	_, err := d.X.ExecContext(ctx, fmt.Sprintf(`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < %d)
INSERT INTO %s ("id", "sessionToken", "userId", "expires", "createdAt")
SELECT 's' || (i + %d), lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))),
  'u' || (1 + i %% %d),
  CASE WHEN i %% %d = 0 THEN ?1 + %d + abs(random()) %% %d ELSE ?1 - %d - abs(random()) %% %d END,
  ?1 - 86400000
FROM c`, n, S, offset, users, k, day, days28, minute, days29), ms)
	return err
}
