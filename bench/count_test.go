package bench

import (
	"context"
	"database/sql"
	"fmt"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
)

// countSet is one table size for CountActive.
type countSet struct {
	label  string // rows=1M/active=500k
	rows   int
	active float64
}

// benchCountSets are the sets BenchmarkCountActive runs: the smallest
// only with -short (CI runs every benchmark once that way).
func benchCountSets() []countSet {
	if testing.Short() {
		return countSets[:1]
	}
	return countSets
}

var countSets = []countSet{
	{"rows=10k/active=5k", 10_000, 0.5},
	{"rows=100k/active=50k", 100_000, 0.5},
	{"rows=1M/active=500k", 1_000_000, 0.5},
	// as many active sessions as the 100k table, in a 1M table
	{"rows=1M/active=50k", 1_000_000, 0.05},
}

// countDBs holds, per database and set, the table without and with
// nextsession's indexes (the same rows).
type countDBs struct {
	noidx, idx *DB
}

var (
	countMu   sync.Mutex
	countData = map[string]*countDBs{}
)

// countData builds (once per process) the two copies of a set: rows
// inserted by one INSERT ... SELECT (generate_series on Postgres, a
// recursive CTE on SQLite), then copied (INSERT ... SELECT on Postgres,
// VACUUM INTO on SQLite) and indexed.
func countTables(tb testing.TB, dbn string, set countSet) *countDBs {
	countMu.Lock()
	defer countMu.Unlock()
	key := dbn + "/" + set.label
	if c := countData[key]; c != nil {
		return c
	}
	ctx := context.Background()
	start := time.Now()
	name := fmt.Sprintf("bench_count_%d_%d", set.rows, int(set.active*100))
	var c countDBs
	var err error
	check := func(err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	if dbn == "postgres" {
		c.noidx, err = OpenPostgres(name + "_noidx")
	} else {
		c.noidx, err = OpenSQLite(name + "_noidx.db")
	}
	check(err)
	check(c.noidx.CreateTables(ctx, adapter.Prisma))
	check(c.noidx.SeedUsers(ctx, adapter.Prisma, 1000))
	check(c.noidx.SeedSessions(ctx, adapter.Prisma, set.rows, 1000, 0, set.active, time.Now()))
	if dbn == "postgres" {
		c.idx, err = OpenPostgres(name + "_idx")
		check(err)
		check(c.idx.CreateTables(ctx, adapter.Prisma))
		src := `"` + c.noidx.Schema + `"`
		check(c.idx.Exec(ctx, `INSERT INTO "User" SELECT * FROM `+src+`."User"`))
		check(c.idx.Bulk(ctx, `INSERT INTO "Session" SELECT * FROM `+src+`."Session"`))
	} else {
		path := filepath.Join(filepath.Dir(c.noidx.Path), name+"_idx.db")
		check(c.noidx.Exec(ctx, `VACUUM INTO '`+path+`'`))
		c.idx, err = OpenSQLiteFile(path)
		check(err)
	}
	check(c.idx.CreateIndexes(ctx, adapter.Prisma))
	check(c.noidx.Analyze(ctx))
	check(c.idx.Analyze(ctx))
	tb.Logf("%s %s: built both copies in %v", dbn, set.label, time.Since(start).Round(time.Millisecond))
	countData[key] = &c
	return &c
}

// bareCount is the count a hand-written dashboard would run: one range
// on expires, prepared.
func bareCount(d adapter.Dialect) string {
	if d == adapter.Postgres {
		return `SELECT count(*) FROM "Session" WHERE "expires" >= $1::timestamp(3)`
	}
	return `SELECT count(*) FROM "Session" WHERE "expires" >= ?`
}

func bareArg(d adapter.Dialect, now time.Time) any {
	if d == adapter.Postgres {
		return now.UTC()
	}
	return now.UnixMilli()
}

// BenchmarkCountActive counts the active sessions (expires >= now) of a
// table whose other rows expired, with Manager.CountActive (impl=ours) and
// with the bare prepared count on the same table and index (impl=bare),
// without (idx=no) and with (idx=yes) nextsession's index on expires.
func BenchmarkCountActive(b *testing.B) {
	for _, dbn := range dbNames {
		for _, set := range benchCountSets() {
			for _, idx := range []string{"no", "yes"} {
				for _, impl := range []string{"bare", "ours", "ours-cached"} {
					b.Run(fmt.Sprintf("db=%s/%s/idx=%s/impl=%s", dbn, set.label, idx, impl), func(b *testing.B) {
						needPostgres(b, dbn)
						c := countTables(b, dbn, set)
						d := c.noidx
						if idx == "yes" {
							d = c.idx
						}
						ctx := context.Background()
						var count func() (int64, error)
						if impl != "bare" {
							st := Store(d.Dialect, d.X, adapter.Prisma)
							var cfg session.Config
							if impl == "ours-cached" {
								// The dashboard's polling: one count a second at most.
								cfg.CountCache = time.Second
							}
							m := session.NewManager(st, cfg)
							b.Cleanup(func() { st.(interface{ Close() error }).Close() })
							count = func() (int64, error) { return m.CountActive(ctx) }
						} else {
							st, err := d.X.PrepareContext(ctx, bareCount(d.Dialect))
							if err != nil {
								b.Fatal(err)
							}
							b.Cleanup(func() { st.Close() })
							count = func() (int64, error) {
								var n int64
								err := st.QueryRowContext(ctx, bareArg(d.Dialect, time.Now())).Scan(&n)
								return n, err
							}
						}
						n, err := count()
						if err != nil {
							b.Fatal(err)
						}
						b.ReportAllocs()
						c0 := CPUTime()
						for b.Loop() {
							if _, err := count(); err != nil {
								b.Fatal(err)
							}
						}
						reportCPU(b, c0)
						b.ReportMetric(float64(n), "active")
					})
				}
			}
		}
	}
}

// TestCountPlans prints the query plans of both counts on the 100k set
// (go test -run CountPlans -v): the same index range on each database.
func TestCountPlans(t *testing.T) {
	for _, dbn := range dbNames {
		needPostgres(t, dbn)
		c := countTables(t, dbn, countSets[1])
		for _, d := range []*DB{c.noidx, c.idx} {
			explain := "EXPLAIN "
			if d.Dialect == adapter.SQLite {
				explain = "EXPLAIN QUERY PLAN "
			}
			now := time.Now()
			qs := map[string][]any{
				"bare": {bareCount(d.Dialect), bareArg(d.Dialect, now)},
			}
			if d.Dialect == adapter.Postgres {
				qs["ours"] = []any{`SELECT count(*) FROM "Session" WHERE "expires" >= $1::timestamp(3)`, now.UTC()}
			} else {
				qs["ours"] = []any{`SELECT count(*) FROM "Session" WHERE (("expires" >= ? AND "expires" < '') OR "expires" >= ?)`, now.UnixMilli(), now.UTC().Format("2006-01-02T15:04:05.000")}
			}
			for _, name := range []string{"bare", "ours"} {
				q := qs[name]
				rows, err := d.X.Query(explain+q[0].(string), q[1:]...)
				if err != nil {
					t.Fatal(err)
				}
				cols, _ := rows.Columns()
				for rows.Next() {
					vals := make([]sql.RawBytes, len(cols))
					ptrs := make([]any, len(cols))
					for i := range vals {
						ptrs[i] = &vals[i]
					}
					rows.Scan(ptrs...)
					t.Logf("%s %s %s: %s", dbn, d.Schema+filepath.Base(d.Path), name, vals[len(vals)-1])
				}
				rows.Close()
			}
		}
	}
}
