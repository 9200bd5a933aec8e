package bench

import (
	"context"
	"database/sql"
	"fmt"
	"io"
	"net/http"
	"time"

	"github.com/alexedwards/scs/postgresstore"
	"github.com/alexedwards/scs/sqlite3store"
	"github.com/alexedwards/scs/v2"
	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/postgres"
	"github.com/nextsession/nextsession/store/sqlite"
)

// CookieName is the session cookie of the Prisma fixtures (NextAuth v4).
const CookieName = "next-auth.session-token"

// Store returns nextsession's store for the dialect on db.
func Store(d adapter.Dialect, db *sqlx.DB, f adapter.Flavour) session.Adapter {
	if d == adapter.Postgres {
		return postgres.New(db, f)
	}
	return sqlite.New(db, f)
}

// ReadUser is the protected handler behind nextsession's middleware: it
// writes the signed-in user's email.
var ReadUser = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
	u, _, ok := session.FromContext(r.Context())
	if !ok {
		http.Error(w, "no session", http.StatusUnauthorized)
		return
	}
	io.WriteString(w, u.Email)
})

// joinQuery is the one query of a validation, written by hand for the
// Prisma flavour: the session and its user by token. On SQLite the unary
// plus keeps the driver from converting DATETIME integers, as the store
// does.
func joinQuery(d adapter.Dialect) string {
	if d == adapter.Postgres {
		return `SELECT s."id", s."sessionToken", s."userId", s."expires", s."createdAt", u."id", u."name", u."email", u."emailVerified", u."image"
FROM "Session" s JOIN "User" u ON u."id" = s."userId" WHERE s."sessionToken" = $1`
	}
	// On SQLite the fastest single query reads the user through correlated
	// subqueries on its primary key (a JOIN costs 2.7 times as much through
	// mattn/go-sqlite3; see BenchmarkSQLiteLookup): the floor uses it, as
	// the store does.
	return `SELECT s."id", s."sessionToken", s."userId", +s."expires", +s."createdAt",
 (SELECT u."id" FROM "User" u WHERE u."id" = s."userId"), (SELECT u."name" FROM "User" u WHERE u."id" = s."userId"),
 (SELECT u."email" FROM "User" u WHERE u."id" = s."userId"), (SELECT +u."emailVerified" FROM "User" u WHERE u."id" = s."userId"),
 (SELECT u."image" FROM "User" u WHERE u."id" = s."userId")
FROM "Session" s WHERE s."sessionToken" = ?`
}

// sqliteJoinQuery is the JOIN form on SQLite, for comparison.
const sqliteJoinQuery = `SELECT s."id", s."sessionToken", s."userId", +s."expires", +s."createdAt", u."id", u."name", u."email", +u."emailVerified", u."image"
FROM "Session" s JOIN "User" u ON u."id" = s."userId" WHERE s."sessionToken" = ?`

// floorRow receives the join's columns.
type floorRow struct {
	sid, token, uid      string
	expiresT, createdT   time.Time
	expiresMS, createdMS int64
	id                   string
	name, email, image   sql.NullString
	verifiedT            sql.NullTime
	verifiedMS           sql.NullInt64
}

func (x *floorRow) dest(d adapter.Dialect) []any {
	if d == adapter.Postgres {
		return []any{&x.sid, &x.token, &x.uid, &x.expiresT, &x.createdT, &x.id, &x.name, &x.email, &x.verifiedT, &x.image}
	}
	return []any{&x.sid, &x.token, &x.uid, &x.expiresMS, &x.createdMS, &x.id, &x.name, &x.email, &x.verifiedMS, &x.image}
}

func (x *floorRow) expired(d adapter.Dialect, now time.Time) bool {
	if d == adapter.Postgres {
		return x.expiresT.Before(now)
	}
	return x.expiresMS < now.UnixMilli()
}

// Floor is the hand-written lower bound of a validation: read the cookie,
// run the join (prepared once when prepared is true), check the expiry,
// write the email. It sets no cookie and extends nothing.
func Floor(ctx context.Context, d adapter.Dialect, db *sqlx.DB, prepared bool) (http.Handler, error) {
	q := joinQuery(d)
	var st *sql.Stmt
	if prepared {
		var err error
		if st, err = db.PrepareContext(ctx, q); err != nil {
			return nil, err
		}
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(CookieName)
		if err != nil {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		var row *sql.Row
		if st != nil {
			row = st.QueryRowContext(r.Context(), c.Value)
		} else {
			row = db.QueryRowContext(r.Context(), q, c.Value)
		}
		var x floorRow
		if err := row.Scan(x.dest(d)...); err != nil || x.expired(d, time.Now()) {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		io.WriteString(w, x.email.String)
	}), nil
}

// userQuery reads a user row by id, the five columns of session.User.
func userQuery(d adapter.Dialect) string {
	if d == adapter.SQLite {
		return `SELECT "id", "name", "email", +"emailVerified", "image" FROM "User" WHERE "id" = ?`
	}
	return `SELECT "id", "name", "email", "emailVerified", "image" FROM "User" WHERE "id" = $1`
}

// TwoQueries is what the Auth.js adapters do (pg-adapter, Kysely): the
// session by token, then its user by id, two prepared statements here.
func TwoQueries(ctx context.Context, d adapter.Dialect, db *sqlx.DB) (http.Handler, error) {
	sq := `SELECT "id", "sessionToken", "userId", "expires", "createdAt" FROM "Session" WHERE "sessionToken" = $1`
	if d == adapter.SQLite {
		sq = `SELECT "id", "sessionToken", "userId", +"expires", +"createdAt" FROM "Session" WHERE "sessionToken" = ?`
	}
	ss, err := db.PrepareContext(ctx, sq)
	if err != nil {
		return nil, err
	}
	us, err := db.PrepareContext(ctx, userQuery(d))
	if err != nil {
		return nil, err
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := r.Cookie(CookieName)
		if err != nil {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		var x floorRow
		dst := x.dest(d)
		if err := ss.QueryRowContext(r.Context(), c.Value).Scan(dst[:5]...); err != nil || x.expired(d, time.Now()) {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		if err := us.QueryRowContext(r.Context(), x.uid).Scan(dst[5:]...); err != nil {
			http.Error(w, "no user", http.StatusUnauthorized)
			return
		}
		io.WriteString(w, x.email.String)
	}), nil
}

// SCSTable creates scs's table and index, as its stores' READMEs give them.
func SCSTable(ctx context.Context, d *DB) error {
	if d.Dialect == adapter.Postgres {
		return d.Exec(ctx, `CREATE TABLE sessions (token TEXT PRIMARY KEY, data BYTEA NOT NULL, expiry TIMESTAMPTZ NOT NULL)`,
			`CREATE INDEX sessions_expiry_idx ON sessions (expiry)`)
	}
	return d.Exec(ctx, `CREATE TABLE sessions (token TEXT PRIMARY KEY, data BLOB NOT NULL, expiry REAL NOT NULL)`,
		`CREATE INDEX sessions_expiry_idx ON sessions (expiry)`)
}

// SCS returns an scs session manager on db's store, with the background
// cleanup off, a 30-day lifetime as NextAuth's, and no idle timeout (so a
// read writes nothing).
func SCS(d adapter.Dialect, db *sql.DB) *scs.SessionManager {
	sm := scs.New()
	sm.Lifetime = 30 * 24 * time.Hour
	if d == adapter.Postgres {
		sm.Store = postgresstore.NewWithCleanupInterval(db, 0)
	} else {
		sm.Store = sqlite3store.NewWithCleanupInterval(db, 0)
	}
	return sm
}

// SCSReadUser is the protected handler behind scs's LoadAndSave: it reads
// the user id the session holds, then that user's row (a statement
// prepared once on db), and writes the email, as ReadUser does behind
// nextsession, which reads the user with the session.
func SCSReadUser(ctx context.Context, d adapter.Dialect, sm *scs.SessionManager, db *sqlx.DB) (http.Handler, error) {
	us, err := db.PrepareContext(ctx, userQuery(d))
	if err != nil {
		return nil, err
	}
	return sm.LoadAndSave(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := sm.GetString(r.Context(), "userID")
		if id == "" {
			http.Error(w, "no session", http.StatusUnauthorized)
			return
		}
		var x floorRow
		if err := us.QueryRowContext(r.Context(), id).Scan(x.dest(d)[5:]...); err != nil {
			http.Error(w, "no user", http.StatusUnauthorized)
			return
		}
		io.WriteString(w, x.email.String)
	})), nil
}

// SCSSession makes an scs session holding userID and returns its token
// and stored data.
func SCSSession(ctx context.Context, sm *scs.SessionManager, userID string) (token string, data []byte, err error) {
	ctx, err = sm.Load(ctx, "")
	if err != nil {
		return "", nil, err
	}
	sm.Put(ctx, "userID", userID)
	token, _, err = sm.Commit(ctx)
	if err != nil {
		return "", nil, err
	}
	ok := false
	data, ok, err = sm.Store.Find(token)
	if err == nil && !ok {
		err = fmt.Errorf("bench: scs session %s not found after commit", token)
	}
	return token, data, err
}

// SeedSCS inserts n scs sessions holding data, expiring in a day, and
// returns their tokens when returning is true.
func SeedSCS(ctx context.Context, d *DB, n int, data []byte, returning bool) ([]string, error) {
	var q string
	if d.Dialect == adapter.Postgres {
		q = fmt.Sprintf(`INSERT INTO sessions (token, data, expiry) SELECT md5(random()::text) || i, $1, now() + interval '1 day' FROM generate_series(1, %d) i`, n)
	} else {
		q = fmt.Sprintf(`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < %d)
INSERT INTO sessions (token, data, expiry) SELECT lower(hex(randomblob(16))) || i, ?1, julianday('now') + 1 FROM c`, n)
	}
	if !returning {
		_, err := d.X.ExecContext(ctx, q, data)
		return nil, err
	}
	var out []string
	err := d.X.SelectContext(ctx, &out, q+` RETURNING token`, data)
	return out, err
}

// SeedTokens inserts n active sessions of user u1 with fresh UUID tokens
// and returns the tokens (for Destroy).
func SeedTokens(ctx context.Context, d *DB, n int) ([]string, error) {
	var q string
	if d.Dialect == adapter.Postgres {
		q = fmt.Sprintf(`INSERT INTO "Session" ("id", "sessionToken", "userId", "expires", "createdAt")
SELECT 'd' || t, t, 'u1', (now() at time zone 'utc')::timestamp(3) + interval '30 days', (now() at time zone 'utc')::timestamp(3)
FROM (SELECT gen_random_uuid()::text AS t FROM generate_series(1, %d)) x RETURNING "sessionToken"`, n)
	} else {
		ms := time.Now().UnixMilli()
		q = fmt.Sprintf(`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < %d),
x(t) AS (SELECT lower(hex(randomblob(4)) || '-' || hex(randomblob(2)) || '-4' || substr(hex(randomblob(2)), 2) || '-a' || substr(hex(randomblob(2)), 2) || '-' || hex(randomblob(6))) FROM c)
INSERT INTO "Session" ("id", "sessionToken", "userId", "expires", "createdAt")
SELECT 'd' || t, t, 'u1', %d + 2592000000, %d FROM x RETURNING "sessionToken"`, n, ms, ms)
	}
	var out []string
	err := d.X.SelectContext(ctx, &out, q)
	return out, err
}
