package postgres_test

import (
	"context"
	"database/sql"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/adapter/adaptertest"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/postgres"
	"github.com/nextsession/nextsession/store/postgres/pgtest"
)

func TestIsPoolerDSN(t *testing.T) {
	for _, c := range []struct {
		dsn  string
		want bool
	}{
		{"postgres://app@db.example.com:5432/app", false},
		{"postgres://app@db.example.com/app?pgbouncer=true", true},
		{"postgres://app@db.example.com/app?pgbouncer=TRUE&connection_limit=1", true},
		{"postgres://app@db.example.com/app?pgbouncer=false", false},
		{"postgres://postgres.abc:pw@aws-0-eu-west-1.pooler.supabase.com:6543/postgres", true},
		{"postgres://postgres.abc:pw@aws-0-eu-west-1.pooler.supabase.com:5432/postgres", false}, // session mode
		{"postgresql://u:p@ep-cool-darkness-123456-pooler.us-east-2.aws.neon.tech/neondb?sslmode=require", true},
		{"postgresql://u:p@ep-cool-darkness-123456.us-east-2.aws.neon.tech/neondb?sslmode=require", false},
		{"postgresql://u:p@db.example.com/x-pooler", false}, // a database name is no host
		{"host=ep-x-pooler.eu-central-1.aws.neon.tech dbname=neondb user=u", true},
		{"host=localhost port=6543 dbname=app", true},
		{"host=localhost port=5432 dbname=app", false},
		{"postgres://%zz", false},
		{"", false},
		{"host='unterminated", false},
	} {
		if got := postgres.IsPoolerDSN(c.dsn); got != c.want {
			t.Errorf("IsPoolerDSN(%q) = %v, want %v", c.dsn, got, c.want)
		}
	}
}

// openTables returns a direct handle on a fresh schema with the tables
// of flavour f.
func openTables(tb testing.TB, schema string, f adapter.Flavour) *sqlx.DB {
	tb.Helper()
	db := pgtest.Open(tb, schema)
	if err := postgres.New(db, f).CreateSchema(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return db
}

// pooled is a store through a PgBouncer, and a direct handle on the same
// schema for setting up and checking.
type pooled struct {
	st     *postgres.Store
	direct *sqlx.DB
	pgb    *pgtest.PgBouncer
}

// openPooled starts a PgBouncer in mode before a fresh schema of flavour
// f and opens a store through it: with postgres.Open and the pgbouncer=true
// mark in transaction mode, as a Prisma user's DATABASE_URL would; with
// prepared statements (postgres.New) in session mode, which keeps them.
func openPooled(t *testing.T, mode string, f adapter.Flavour) pooled {
	t.Helper()
	schema := "nextsession_pgb_" + mode[:4] + "_" + strings.ReplaceAll(f.Name, "-", "_")
	direct := openTables(t, schema, f)
	pgb := pgtest.StartPgBouncer(t, mode, schema)
	var st *postgres.Store
	if mode == pgtest.TransactionMode {
		var err error
		if st, err = postgres.Open(pgb.DSN(schema)+"&pgbouncer=true", f); err != nil {
			t.Fatal(err)
		}
	} else {
		db, err := sqlx.Open("postgres", pgb.DSN(schema))
		if err != nil {
			t.Fatal(err)
		}
		// In session mode each client connection holds a server
		// connection until it closes: more clients than the pooler's
		// pool wait in its queue, past Config.Timeout under load.
		db.SetMaxOpenConns(pgtest.PoolSize)
		st = postgres.New(db, f)
		t.Cleanup(func() { db.Close() })
	}
	t.Cleanup(func() { st.Close() }) // closes the database Open opened
	if err := st.Verify(context.Background()); err != nil {
		t.Fatal(err)
	}
	return pooled{st: st, direct: direct, pgb: pgb}
}

// TestPgBouncer runs the conformance suite (with its concurrency runs and
// races through a Manager's middleware) and the workload through
// a real PgBouncer, in transaction mode and in session mode.
func TestPgBouncer(t *testing.T) {
	for _, mode := range []string{pgtest.TransactionMode, pgtest.SessionMode} {
		t.Run(mode, func(t *testing.T) {
			for _, f := range []adapter.Flavour{adapter.Prisma, adapter.PgAdapter} {
				t.Run(f.Name, func(t *testing.T) {
					p := openPooled(t, mode, f)
					t.Logf("PgBouncer %s, pool_mode = %s", p.pgb.Version(), mode)
					truncate := func(t *testing.T) session.Adapter {
						tb := f.Tables
						q := `TRUNCATE ` + strings.Join([]string{adapter.Quote(tb.Session), adapter.Quote(tb.Account),
							adapter.Quote(tb.VerificationToken), adapter.Quote(tb.User)}, ", ") + ` RESTART IDENTITY CASCADE`
						if _, err := p.direct.Exec(q); err != nil {
							t.Fatal(err)
						}
						return p.st
					}
					t.Run("adaptertest", func(t *testing.T) {
						adaptertest.Run(t, adaptertest.Config{Flavour: f, New: truncate})
					})
					t.Run("workers", func(t *testing.T) {
						truncate(t)
						ops, errs, first := poolerWorkload(t, p.st)
						t.Logf("%d workers: %d errors in %d operations", poolerWorkers, errs, ops)
						if errs != 0 {
							t.Errorf("%d errors in %d operations through PgBouncer in %s mode; the first: %v", errs, ops, mode, first)
						}
					})
				})
			}
		})
	}
}

// TestPgBouncerPreparedFails shows what pooler mode prevents: named
// prepared statements through a transaction-mode PgBouncer fail. If this
// ever passes with no error, the pooler no longer multiplexes and the
// tests above prove nothing.
func TestPgBouncerPreparedFails(t *testing.T) {
	schema := "nextsession_pgb_prepared"
	openTables(t, schema, adapter.Prisma)
	pgb := pgtest.StartPgBouncer(t, pgtest.TransactionMode, schema)
	db, err := sqlx.Open("postgres", pgb.DSN(schema))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := postgres.New(db, adapter.Prisma)
	t.Cleanup(func() { st.Close() })
	ops, errs, first := poolerWorkload(t, st)
	t.Logf("prepared statements through transaction mode: %d errors in %d operations; the first: %v", errs, ops, first)
	if errs == 0 {
		t.Error("no error with named prepared statements through a transaction-mode pooler")
	}

	// Pooler mode on a handle opened without binary_parameters: Verify
	// says what is missing.
	np := postgres.NewWith(db, adapter.Prisma, postgres.Options{Pooler: true})
	if err := np.Verify(context.Background()); err == nil || !strings.Contains(err.Error(), "binary_parameters") {
		t.Errorf("Verify of a pooler store without binary_parameters: %v", err)
	}
}

// Size of the workload.
const (
	poolerWorkers = 16
	poolerRounds  = 20
)

// poolerWorkload has poolerWorkers goroutines share st through one
// Manager, each signing in and then validating, counting, signing out and
// validating again, poolerRounds times. It returns the operations done,
// the errors and the first error.
func poolerWorkload(t *testing.T, st *postgres.Store) (ops, errs int64, first error) {
	t.Helper()
	ctx := context.Background()
	var nops, nerrs atomic.Int64
	var firstErr atomic.Pointer[error]
	fail := func(err error) {
		nerrs.Add(1)
		firstErr.CompareAndSwap(nil, &err)
	}
	m := session.NewManager(st, session.Config{
		ErrorFunc: func(w http.ResponseWriter, r *http.Request, err error) {
			firstErr.CompareAndSwap(nil, &err) // counted by the caller
			w.WriteHeader(http.StatusServiceUnavailable)
		},
	})
	t.Cleanup(func() { m.Close() })
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, _, ok := session.FromContext(r.Context()); !ok {
			w.WriteHeader(http.StatusUnauthorized)
		}
	}))
	get := func(c *http.Cookie) int {
		r := httptest.NewRequest("GET", "/", nil)
		r.AddCookie(c)
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Code
	}
	var wg sync.WaitGroup
	for w := range poolerWorkers {
		wg.Go(func() {
			u, err := st.CreateUser(ctx, session.User{Email: fmt.Sprintf("worker%d@example.com", w)})
			nops.Add(1)
			if err != nil {
				fail(err)
				return
			}
			for range poolerRounds {
				rec := httptest.NewRecorder()
				_, err := m.Create(ctx, rec, httptest.NewRequest("POST", "/login", nil), u.ID)
				nops.Add(1)
				if err != nil {
					fail(err)
					continue
				}
				c := rec.Result().Cookies()[0]
				nops.Add(1)
				if code := get(c); code != http.StatusOK {
					fail(fmt.Errorf("validating a live session: status %d", code))
				}
				nops.Add(1)
				if n, err := m.CountUserActive(ctx, u.ID); err != nil || n != 1 {
					fail(fmt.Errorf("counting: %d, %v", n, err))
				}
				r := httptest.NewRequest("POST", "/logout", nil)
				r.AddCookie(c)
				nops.Add(1)
				if err := m.Destroy(ctx, httptest.NewRecorder(), r); err != nil {
					fail(err)
				}
				nops.Add(1)
				if code := get(c); code != http.StatusUnauthorized {
					fail(fmt.Errorf("validating a destroyed session: status %d", code))
				}
			}
		})
	}
	wg.Wait()
	if p := firstErr.Load(); p != nil {
		first = *p
	}
	return nops.Load(), nerrs.Load(), first
}

// BenchmarkValidatePooler validates one session, through the Manager, on
// four paths in the same run: direct with prepared statements (the
// default), direct in pooler mode (the cost of the mode itself), and
// through PgBouncer in transaction mode (pooler mode) and session mode
// (prepared). Compare with benchstat over -count runs.
func BenchmarkValidatePooler(b *testing.B) {
	f := adapter.Prisma
	schema := "nextsession_pgb_bench"
	direct := openTables(b, schema, f)
	ctx := context.Background()
	tx := pgtest.StartPgBouncer(b, pgtest.TransactionMode, schema)
	se := pgtest.StartPgBouncer(b, pgtest.SessionMode, schema)
	open := func(dsn string) *postgres.Store {
		st, err := postgres.Open(dsn, f)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { st.Close() })
		return st
	}
	paths := []struct {
		name string
		st   *postgres.Store
	}{
		{"direct", postgres.New(direct, f)},
		{"direct-pooler-mode", open(pgtest.WithSchema(pgtest.DSN(), schema) + "&pgbouncer=true")},
		{"pgbouncer-transaction", open(tx.DSN(schema) + "&pgbouncer=true")},
		{"pgbouncer-session", open(se.DSN(schema))},
	}
	u, err := paths[0].st.CreateUser(ctx, session.User{Email: "bench@example.com"})
	if err != nil {
		b.Fatal(err)
	}
	m0 := session.NewManager(paths[0].st, session.Config{})
	rec := httptest.NewRecorder()
	if _, err := m0.Create(ctx, rec, httptest.NewRequest("POST", "/", nil), u.ID); err != nil {
		b.Fatal(err)
	}
	token := rec.Result().Cookies()[0].Value
	for _, p := range paths {
		m := session.NewManager(p.st, session.Config{})
		b.Run(p.name, func(b *testing.B) {
			for b.Loop() {
				if _, err := m.Validate(ctx, token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// countingDialer counts the writes on the connections it makes: lib/pq
// writes once per exchange, so writes per call are its round trips.
type countingDialer struct {
	net.Dialer
	writes atomic.Int64
}

func (d *countingDialer) Dial(network, addr string) (net.Conn, error) {
	return d.DialContext(context.Background(), network, addr)
}

func (d *countingDialer) DialTimeout(network, addr string, timeout time.Duration) (net.Conn, error) {
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	return d.DialContext(ctx, network, addr)
}

func (d *countingDialer) DialContext(ctx context.Context, network, addr string) (net.Conn, error) {
	c, err := d.Dialer.DialContext(ctx, network, addr)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: c, writes: &d.writes}, nil
}

type countingConn struct {
	net.Conn
	writes *atomic.Int64
}

func (c *countingConn) Write(p []byte) (int, error) {
	c.writes.Add(1)
	return c.Conn.Write(p)
}

// TestPoolerRoundTrips: validation through a transaction-mode PgBouncer
// in pooler mode is one round trip, as with prepared statements directly;
// without binary_parameters the same unprepared query would take two.
func TestPoolerRoundTrips(t *testing.T) {
	f := adapter.Prisma
	schema := "nextsession_pgb_trips"
	direct := openTables(t, schema, f)
	ctx := context.Background()
	pgb := pgtest.StartPgBouncer(t, pgtest.TransactionMode, schema)
	u, err := postgres.New(direct, f).CreateUser(ctx, session.User{Email: "trips@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	m0 := session.NewManager(postgres.New(direct, f), session.Config{})
	rec := httptest.NewRecorder()
	if _, err := m0.Create(ctx, rec, httptest.NewRequest("POST", "/", nil), u.ID); err != nil {
		t.Fatal(err)
	}
	token := rec.Result().Cookies()[0].Value

	for _, c := range []struct {
		name   string
		dsn    string
		pooler bool
		binary bool
		want   int64
	}{
		{"direct prepared", pgtest.WithSchema(pgtest.DSN(), schema), false, false, 1},
		{"pgbouncer pooler mode", pgb.DSN(schema), true, true, 1},
		{"pgbouncer unprepared without binary_parameters", pgb.DSN(schema), true, false, 2},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg, err := pq.NewConfig(c.dsn)
			if err != nil {
				t.Fatal(err)
			}
			cfg.BinaryParameters = c.binary
			conn, err := pq.NewConnectorConfig(cfg)
			if err != nil {
				t.Fatal(err)
			}
			d := &countingDialer{}
			conn.Dialer(d)
			db := sqlx.NewDb(sql.OpenDB(conn), "postgres")
			db.SetMaxOpenConns(1)
			t.Cleanup(func() { db.Close() })
			st := postgres.NewWith(db, f, postgres.Options{Pooler: c.pooler})
			m := session.NewManager(st, session.Config{})
			if _, err := m.Validate(ctx, token); err != nil { // connects, prepares
				t.Fatal(err)
			}
			const n = 10
			before := d.writes.Load()
			for range n {
				if _, err := m.Validate(ctx, token); err != nil {
					t.Fatal(err)
				}
			}
			if got := (d.writes.Load() - before) / n; got != c.want {
				t.Errorf("%d round trips per validation, want %d", got, c.want)
			}
		})
	}
}
