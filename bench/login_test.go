package bench

import (
	"context"
	"database/sql"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
)

// loginImpl builds a handler that signs in (Create) or out (Destroy).
type loginImpl struct {
	name  string
	build func(tb testing.TB, f *Fixture, db *sqlx.DB) http.Handler
	scs   bool
}

func oursManager(tb testing.TB, f *Fixture, db *sqlx.DB) *session.Manager {
	st := Store(f.Dialect, db, adapter.Prisma)
	tb.Cleanup(func() {
		if c, ok := st.(interface{ Close() error }); ok {
			c.Close()
		}
	})
	return session.NewManager(st, session.Config{})
}

func prepare(tb testing.TB, db *sqlx.DB, q string) *sql.Stmt {
	st, err := db.Preparex(db.Rebind(q))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	return st.Stmt
}

var createImpls = []loginImpl{
	// floor: a prepared INSERT and the cookie.
	{name: "floor", build: func(tb testing.TB, f *Fixture, db *sqlx.DB) http.Handler {
		st := prepare(tb, db, `INSERT INTO "Session" ("id", "sessionToken", "userId", "expires", "createdAt") VALUES (?, ?, ?, ?, ?)`)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			id, _ := session.NewUUIDToken()
			tok, _ := session.NewUUIDToken()
			now := time.Now().UTC().Truncate(time.Millisecond)
			exp := now.Add(session.DefaultMaxAge)
			var e, c any = exp, now
			if f.Dialect == adapter.SQLite {
				e, c = exp.UnixMilli(), now.UnixMilli()
			}
			if _, err := st.ExecContext(r.Context(), id, tok, "u1", e, c); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			http.SetCookie(w, &http.Cookie{Name: CookieName, Value: tok, Path: "/", Expires: exp, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		})
	}},
	{name: "ours", build: func(tb testing.TB, f *Fixture, db *sqlx.DB) http.Handler {
		m := oursManager(tb, f, db)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if _, err := m.Create(r.Context(), w, r, "u1"); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
			}
		})
	}},
	// scs: RenewToken then Put, as its docs do at login; LoadAndSave
	// commits (INSERT ... ON CONFLICT) and sets the cookie.
	{name: "scs", scs: true, build: func(tb testing.TB, f *Fixture, db *sqlx.DB) http.Handler {
		sm := SCS(f.Dialect, db.DB)
		return sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := sm.RenewToken(r.Context()); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			sm.Put(r.Context(), "userID", "u1")
		}))
	}},
}

var destroyImpls = []loginImpl{
	{name: "floor", build: func(tb testing.TB, f *Fixture, db *sqlx.DB) http.Handler {
		st := prepare(tb, db, `DELETE FROM "Session" WHERE "sessionToken" = ?`)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c, err := r.Cookie(CookieName)
			if err != nil {
				return
			}
			if _, err := st.ExecContext(r.Context(), c.Value); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
				return
			}
			http.SetCookie(w, &http.Cookie{Name: CookieName, Path: "/", MaxAge: -1, HttpOnly: true, SameSite: http.SameSiteLaxMode})
		})
	}},
	{name: "ours", build: func(tb testing.TB, f *Fixture, db *sqlx.DB) http.Handler {
		m := oursManager(tb, f, db)
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := m.Destroy(r.Context(), w, r); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
			}
		})
	}},
	// scs: LoadAndSave reads the session, Destroy deletes it.
	{name: "scs", scs: true, build: func(tb testing.TB, f *Fixture, db *sqlx.DB) http.Handler {
		sm := SCS(f.Dialect, db.DB)
		return sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if err := sm.Destroy(r.Context()); err != nil {
				http.Error(w, err.Error(), http.StatusInternalServerError)
			}
		}))
	}},
}

// BenchmarkCreate signs in: a POST without a cookie whose handler creates
// a session for user u1 and sets the cookie.
func BenchmarkCreate(b *testing.B) {
	for _, dbn := range dbNames {
		for _, impl := range createImpls {
			b.Run("db="+dbn+"/impl="+impl.name, func(b *testing.B) {
				f := fixture(b, dbn)
				r := httptest.NewRequest(http.MethodPost, "/login", nil)
				h := impl.build(b, f, f.X)
				serveOnce(b, h, r, http.StatusOK)
				b.ReportAllocs()
				for b.Loop() {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					if w.Code != http.StatusOK {
						b.Fatalf("status %d", w.Code)
					}
				}
				hc := impl.build(b, f, f.Counted)
				reportQueries(b, f.Count, 100, func() { serveOnce(b, hc, r, http.StatusOK) })
			})
		}
	}
}

// destroyRequests seeds n sessions of the implementation's kind and
// returns one sign-out request for each.
func destroyRequests(tb testing.TB, f *Fixture, scs bool, n int) []*http.Request {
	ctx := context.Background()
	var toks []string
	var err error
	name := CookieName
	if scs {
		name = "session"
		toks, err = SeedSCS(ctx, f.DB, n, f.SCSData, true)
	} else {
		toks, err = SeedTokens(ctx, f.DB, n)
	}
	if err != nil {
		tb.Fatal(err)
	}
	out := make([]*http.Request, n)
	for i, t := range toks {
		out[i] = httptest.NewRequest(http.MethodPost, "/logout", nil)
		out[i].AddCookie(&http.Cookie{Name: name, Value: t})
	}
	return out
}

// BenchmarkDestroy signs out: a POST carrying a valid session cookie
// (a different session each time) whose handler deletes the session and
// clears the cookie.
func BenchmarkDestroy(b *testing.B) {
	for _, dbn := range dbNames {
		for _, impl := range destroyImpls {
			b.Run("db="+dbn+"/impl="+impl.name, func(b *testing.B) {
				f := fixture(b, dbn)
				h := impl.build(b, f, f.X)
				reqs := destroyRequests(b, f, impl.scs, b.N+1)
				serveOnce(b, h, reqs[b.N], http.StatusOK)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, reqs[i])
					if w.Code != http.StatusOK {
						b.Fatalf("status %d", w.Code)
					}
				}
				b.StopTimer()
				hc := impl.build(b, f, f.Counted)
				reqs = destroyRequests(b, f, impl.scs, 103)
				i := 0
				reportQueries(b, f.Count, 100, func() { serveOnce(b, hc, reqs[i], http.StatusOK); i++ })
			})
		}
	}
}
