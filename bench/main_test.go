package bench

import (
	"context"
	"database/sql"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"sync"
	"testing"
	"time"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/store/postgres/pgtest"
)

func TestMain(m *testing.M) {
	code := m.Run()
	stopNodes()
	Cleanup()
	os.Exit(code)
}

var dbNames = []string{"postgres", "sqlite"}

func dialect(name string) adapter.Dialect {
	if name == "postgres" {
		return adapter.Postgres
	}
	return adapter.SQLite
}

// missing skips the benchmark for want of a service, or fails it under
// CI=true, where a benchmark that does not run is a broken one.
func missing(tb testing.TB, msg string) {
	tb.Helper()
	if os.Getenv("CI") == "true" {
		tb.Fatal(msg)
	}
	tb.Skip(msg)
}

// needPostgres skips when the server of pgtest.DSN() is not there, and
// fails under CI=true.
func needPostgres(tb testing.TB, name string) {
	if name != "postgres" {
		return
	}
	db, err := sql.Open("postgres", pgtest.DSN())
	if err == nil {
		err = db.Ping()
		db.Close()
	}
	if err != nil {
		missing(tb, fmt.Sprintf("Postgres at %s: %v (start it or set NEXTSESSION_POSTGRES_DSN)", pgtest.DSN(), err))
	}
}

var (
	fixOnce = map[string]*sync.Once{"postgres": {}, "sqlite": {}}
	fixes   = map[string]*Fixture{}
	fixErrs = map[string]error{}
)

// fixture returns the shared validation fixture of a database, built once
// per process.
func fixture(tb testing.TB, name string) *Fixture {
	needPostgres(tb, name)
	fixOnce[name].Do(func() {
		fixes[name], fixErrs[name] = NewFixture(context.Background(), dialect(name), "bench_validate")
	})
	if fixErrs[name] != nil {
		tb.Fatal(fixErrs[name])
	}
	return fixes[name]
}

// request returns a GET with one cookie.
func request(path, name, value string) *http.Request {
	r := httptest.NewRequest(http.MethodGet, path, nil)
	r.AddCookie(&http.Cookie{Name: name, Value: value})
	return r
}

// serveOnce runs one request through h and fails unless it answers want.
func serveOnce(tb testing.TB, h http.Handler, r *http.Request, want int) {
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	if w.Code != want {
		tb.Fatalf("status %d, want %d: %s", w.Code, want, w.Body.String())
	}
}

// reportCPU reports the process's CPU time per operation since c0: with
// SQLite, the whole cost, and steadier than ns/op when the machine is
// busy; with Postgres, only the client's share.
func reportCPU(b *testing.B, c0 time.Duration) {
	b.ReportMetric(float64(CPUTime()-c0)/float64(b.N), "cpu-ns/op")
}

// reportQueries runs n requests through h (built on the counted handle)
// after a warm-up that prepares its statements, and reports statements
// and lib/pq round trips per request.
func reportQueries(b *testing.B, c *Counter, n int, one func()) {
	b.Helper()
	for range 3 {
		one()
	}
	c.Reset()
	for range n {
		one()
	}
	b.ReportMetric(float64(c.Statements.Load())/float64(n), "queries/op")
	if c.perTrip > 0 {
		b.ReportMetric(float64(c.RoundTrips.Load())/float64(n), "roundtrips/op")
	}
}
