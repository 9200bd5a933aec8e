package bench

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
)

// stubAdapter answers GetSessionAndUser from memory, so that
// BenchmarkMiddlewareOverhead measures the middleware alone.
type stubAdapter struct {
	session.Adapter
	s session.Session
	u session.User
}

func (a *stubAdapter) GetSessionAndUser(context.Context, string) (session.Session, session.User, error) {
	return a.s, a.u, nil
}

// BoundByContext implements session.ContextBound: like the memory store,
// the stub never waits, so the Manager calls it inline.
func (a *stubAdapter) BoundByContext() bool { return true }

// SessionCallsSelfBounded implements session.SelfBounded, as the memory
// store does: the Manager sets no timer.
func (a *stubAdapter) SessionCallsSelfBounded() (session.Store, bool) { return a, true }

// BenchmarkMiddlewareOverhead puts Manager.Middleware around an in-memory
// adapter beside a bare handler that reads the cookie and calls the same
// adapter: what the middleware itself costs per request.
func BenchmarkMiddlewareOverhead(b *testing.B) {
	tok, _ := session.NewUUIDToken()
	now := time.Now().UTC().Truncate(time.Millisecond)
	a := &stubAdapter{
		s: session.Session{ID: "s1", Token: tok, UserID: "u1", Expires: now.Add(session.DefaultMaxAge), CreatedAt: now},
		u: session.User{ID: "u1", Name: "User 1", Email: "user1@example.com"},
	}
	bare := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(CookieName)
		if err != nil {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		_, u, _ := a.GetSessionAndUser(r.Context(), c.Value)
		io.WriteString(w, u.Email)
	})
	r := request("/protected", CookieName, tok)
	for _, impl := range []struct {
		name string
		h    http.Handler
	}{{"bare", bare}, {"ours", session.NewManager(a, session.Config{}).Middleware(ReadUser)}} {
		b.Run("impl="+impl.name, func(b *testing.B) {
			serveOnce(b, impl.h, r, http.StatusOK)
			b.ReportAllocs()
			c0 := CPUTime()
			for b.Loop() {
				impl.h.ServeHTTP(httptest.NewRecorder(), r)
			}
			reportCPU(b, c0)
		})
	}
}

// BenchmarkSQLiteLookup times the pieces of a validation's read on SQLite
// (prepared, no HTTP): the store's one query (impl=adapter), the same
// columns by JOIN and by correlated subqueries (the floor's), two
// single-table lookups, and one column by JOIN, by correlated subquery and
// by a lone lookup.
func BenchmarkSQLiteLookup(b *testing.B) {
	f := fixture(b, "sqlite")
	ctx := context.Background()
	st := Store(f.Dialect, f.X, adapter.Prisma)
	b.Cleanup(func() { st.(interface{ Close() error }).Close() })
	// prep prepares q, whose columns are the floor's from lo to hi.
	prep := func(q string, lo, hi int) func(args ...any) error {
		s, err := f.X.PrepareContext(ctx, q)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() { s.Close() })
		return func(args ...any) error {
			var x floorRow
			return s.QueryRowContext(ctx, args...).Scan(x.dest(f.Dialect)[lo:hi]...)
		}
	}
	join := prep(sqliteJoinQuery, 0, 10)
	subq := prep(joinQuery(f.Dialect), 0, 10)
	sess := prep(`SELECT "id", "sessionToken", "userId", +"expires", +"createdAt" FROM "Session" WHERE "sessionToken" = ?`, 0, 5)
	user := prep(`SELECT "id", "name", "email", +"emailVerified", "image" FROM "User" WHERE "id" = ?`, 5, 10)
	join1 := prep(`SELECT u."id" FROM "Session" s JOIN "User" u ON u."id" = s."userId" WHERE s."sessionToken" = ?`, 0, 1)
	subq1 := prep(`SELECT (SELECT u."id" FROM "User" u WHERE u."id" = s."userId") FROM "Session" s WHERE s."sessionToken" = ?`, 0, 1)
	lone1 := prep(`SELECT s."id" FROM "Session" s WHERE s."sessionToken" = ?`, 0, 1)
	for _, c := range []struct {
		name string
		fn   func() error
	}{
		{"adapter", func() error { _, _, err := st.GetSessionAndUser(ctx, f.Token); return err }},
		{"floor-join", func() error { return join(f.Token) }},
		{"two-lookups", func() error {
			if err := sess(f.Token); err != nil {
				return err
			}
			return user("u1")
		}},
		{"one-column-join", func() error { return join1(f.Token) }},
		{"one-column-subquery", func() error { return subq1(f.Token) }},
		{"one-column-lookup", func() error { return lone1(f.Token) }},
		{"floor-subqueries", func() error { return subq(f.Token) }},
	} {
		b.Run("impl="+c.name, func(b *testing.B) {
			if err := c.fn(); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			c0 := CPUTime()
			for b.Loop() {
				if err := c.fn(); err != nil {
					b.Fatal(err)
				}
			}
			reportCPU(b, c0)
		})
	}
}
