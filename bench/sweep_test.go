package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
	"time"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
)

// sweepRows is how many expired sessions each sweep deletes: a million,
// or 10,000 with -short (CI runs every benchmark once that way).
func sweepRows() int {
	if testing.Short() {
		return 10_000
	}
	return 1_000_000
}

// idleWindow is how long validations run before the sweep starts.
func idleWindow() time.Duration {
	if testing.Short() {
		return 200 * time.Millisecond
	}
	return 3 * time.Second
}

// newSweepDB builds a database with nextsession's indexes, 1,000 users,
// sweepRows() expired sessions, 10,000 active ones and one more to validate,
// whose token it returns.
func newSweepDB(tb testing.TB, dbn string) (*DB, string) {
	ctx := context.Background()
	var d *DB
	var err error
	if dbn == "postgres" {
		d, err = OpenPostgres("bench_sweep")
	} else {
		d, err = OpenSQLite("sweep.db")
	}
	check := func(err error) {
		if err != nil {
			tb.Fatal(err)
		}
	}
	check(err)
	check(d.CreateTables(ctx, adapter.Prisma))
	check(d.CreateIndexes(ctx, adapter.Prisma))
	check(d.SeedUsers(ctx, adapter.Prisma, 1000))
	now := time.Now()
	check(d.SeedSessions(ctx, adapter.Prisma, sweepRows(), 1000, 0, 0, now))
	check(d.SeedSessions(ctx, adapter.Prisma, 10_000, 1000, sweepRows(), 1, now))
	tok, err := session.NewUUIDToken()
	check(err)
	t := now.UTC().Truncate(time.Millisecond)
	_, err = Store(d.Dialect, d.X, adapter.Prisma).CreateSession(ctx, session.Session{Token: tok, UserID: "u1", Expires: t.Add(session.DefaultMaxAge), CreatedAt: t})
	check(err)
	check(d.Analyze(ctx))
	return d, tok
}

func percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	return sorted[int(p*float64(len(sorted)-1)+0.5)]
}

// BenchmarkSweep deletes sweepRows() expired sessions with Manager.Sweep
// (batches of session.DefaultSweepBatch) while validations run one after
// another through the middleware, and reports validation latency during
// the sweep beside the same loop idle (idleWindow() before it). ns/op is the
// sweep's duration. Run it with -benchtime=1x: each iteration rebuilds
// the table.
func BenchmarkSweep(b *testing.B) {
	for _, dbn := range dbNames {
		b.Run("db="+dbn, func(b *testing.B) {
			needPostgres(b, dbn)
			var idle, busy []time.Duration
			var deleted int64
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				d, tok := newSweepDB(b, dbn)
				st := Store(d.Dialect, d.X, adapter.Prisma)
				m := session.NewManager(st, session.Config{})
				h := m.Middleware(ReadUser)
				r := request("/protected", CookieName, tok)
				validate := func() time.Duration {
					t0 := time.Now()
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					if w.Code != http.StatusOK {
						b.Fatalf("status %d", w.Code)
					}
					return time.Since(t0)
				}
				for range 100 {
					validate()
				}
				for end := time.Now().Add(idleWindow()); time.Now().Before(end); {
					idle = append(idle, validate())
				}
				done := make(chan error, 1)
				b.StartTimer()
				go func() {
					n, err := m.Sweep(context.Background())
					deleted += n
					done <- err
				}()
			loop:
				for {
					select {
					case err := <-done:
						if err != nil {
							b.Fatal(err)
						}
						break loop
					default:
						busy = append(busy, validate())
					}
				}
				b.StopTimer()
				if n, err := m.CountActive(context.Background()); err != nil || n != 10_001 {
					b.Fatalf("after the sweep: %d active, %v", n, err)
				}
				st.(interface{ Close() error }).Close()
				d.Close()
			}
			slices.Sort(idle)
			slices.Sort(busy)
			us := func(d time.Duration) float64 { return float64(d) / 1e3 }
			b.ReportMetric(float64(deleted)/float64(b.N), "deleted/op")
			b.ReportMetric(us(percentile(idle, 0.5)), "idle-p50-µs")
			b.ReportMetric(us(percentile(idle, 0.99)), "idle-p99-µs")
			b.ReportMetric(us(percentile(busy, 0.5)), "sweep-p50-µs")
			b.ReportMetric(us(percentile(busy, 0.99)), "sweep-p99-µs")
			b.ReportMetric(float64(percentile(busy, 0.99))/float64(percentile(idle, 0.99)), "p99-ratio")
			b.ReportMetric(float64(len(busy))/float64(b.N), "validations-during/op")
		})
	}
}
