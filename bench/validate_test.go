package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
)

// validateImpl builds one way of serving a protected request on db (the
// timed handle or the counted one).
type validateImpl struct {
	name  string
	build func(tb testing.TB, f *Fixture, db *sqlx.DB) http.Handler
	scs   bool // uses scs's cookie
}

func oursHandler(cfg session.Config, json bool) func(tb testing.TB, f *Fixture, db *sqlx.DB) http.Handler {
	return func(tb testing.TB, f *Fixture, db *sqlx.DB) http.Handler {
		st := Store(f.Dialect, db, adapter.Prisma)
		tb.Cleanup(func() {
			if c, ok := st.(interface{ Close() error }); ok {
				c.Close()
			}
		})
		m := session.NewManager(st, cfg)
		if json {
			return m.SessionHandler()
		}
		return m.Middleware(ReadUser)
	}
}

// updateTick is shared by every ours-update handler, so that a handler
// built later still runs ahead of the expiries an earlier one wrote.
var (
	updateStart = time.Now()
	updateTick  atomic.Int64
)

var validateImpls = []validateImpl{
	{name: "floor", build: func(tb testing.TB, f *Fixture, db *sqlx.DB) http.Handler {
		h, err := Floor(context.Background(), f.Dialect, db, true)
		if err != nil {
			tb.Fatal(err)
		}
		return h
	}},
	{name: "floor-unprepared", build: func(tb testing.TB, f *Fixture, db *sqlx.DB) http.Handler {
		h, err := Floor(context.Background(), f.Dialect, db, false)
		if err != nil {
			tb.Fatal(err)
		}
		return h
	}},
	{name: "two-queries", build: func(tb testing.TB, f *Fixture, db *sqlx.DB) http.Handler {
		h, err := TwoQueries(context.Background(), f.Dialect, db)
		if err != nil {
			tb.Fatal(err)
		}
		return h
	}},
	{name: "ours", build: oursHandler(session.Config{}, false)},
	{name: "ours-json", build: oursHandler(session.Config{}, true)},
	// Without Config.Timeout's goroutine per database call.
	{name: "ours-notimeout", build: oursHandler(session.Config{Timeout: session.NoTimeout}, false)},
	// A clock that moves a second per call makes every read due for update.
	{name: "ours-update", build: func(tb testing.TB, f *Fixture, db *sqlx.DB) http.Handler {
		now := func() time.Time { return updateStart.Add(time.Duration(updateTick.Add(1)) * time.Second) }
		return oursHandler(session.Config{UpdateAge: session.UpdateAlways, Now: now}, false)(tb, f, db)
	}},
	{name: "scs", scs: true, build: func(tb testing.TB, f *Fixture, db *sqlx.DB) http.Handler {
		h, err := SCSReadUser(context.Background(), f.Dialect, SCS(f.Dialect, db.DB), db)
		if err != nil {
			tb.Fatal(err)
		}
		return h
	}},
}

// BenchmarkValidate serves one GET with a valid session cookie through
// each implementation to a handler that reads the user, one at a time,
// into an httptest.ResponseRecorder. No update is due except in
// ours-update (UpdateAge: UpdateAlways), which writes the expiry on every
// request.
func BenchmarkValidate(b *testing.B) {
	for _, dbn := range dbNames {
		for _, impl := range validateImpls {
			b.Run("db="+dbn+"/impl="+impl.name, func(b *testing.B) { benchValidate(b, dbn, impl) })
		}
	}
}

// benchValidate times impl on the fixture of dbn, then counts its
// statements per request on the counted handle.
func benchValidate(b *testing.B, dbn string, impl validateImpl) {
	f := fixture(b, dbn)
	r := request("/protected", CookieName, f.Token)
	if impl.scs {
		r = request("/protected", "session", f.SCSToken)
	}
	h := impl.build(b, f, f.X)
	serveOnce(b, h, r, http.StatusOK)
	b.ReportAllocs()
	c0 := CPUTime()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("status %d", w.Code)
		}
	}
	reportCPU(b, c0)
	hc := impl.build(b, f, f.Counted)
	reportQueries(b, f.Count, 100, func() { serveOnce(b, hc, r, http.StatusOK) })
}
