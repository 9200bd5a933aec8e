package bench

import (
	"context"
	"time"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
)

// Fixture is a database with Prisma's tables (and nextsession's indexes),
// 1,000 users and 10,000 sessions, scs's table with 10,000 sessions, and
// one session of each kind for user u1 to validate.
type Fixture struct {
	*DB
	Token    string // nextsession's cookie value for u1
	SCSToken string // scs's cookie value for u1
	SCSData  []byte // what scs stores for that session
}

// NewFixture builds a Fixture on a fresh database: a Postgres schema or a
// SQLite file of the given name.
func NewFixture(ctx context.Context, d adapter.Dialect, name string) (*Fixture, error) {
	var db *DB
	var err error
	if d == adapter.Postgres {
		db, err = OpenPostgres(name)
	} else {
		db, err = OpenSQLite(name + ".db")
	}
	if err != nil {
		return nil, err
	}
	f := &Fixture{DB: db}
	if err := db.CreateTables(ctx, adapter.Prisma); err != nil {
		return nil, err
	}
	if err := db.CreateIndexes(ctx, adapter.Prisma); err != nil {
		return nil, err
	}
	if err := db.SeedUsers(ctx, adapter.Prisma, 1000); err != nil {
		return nil, err
	}
	if err := db.SeedSessions(ctx, adapter.Prisma, 10000, 1000, 0, 1, time.Now()); err != nil {
		return nil, err
	}
	tok, err := session.NewUUIDToken()
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	st := Store(d, db.X, adapter.Prisma)
	if _, err := st.CreateSession(ctx, session.Session{Token: tok, UserID: "u1", Expires: now.Add(session.DefaultMaxAge), CreatedAt: now}); err != nil {
		return nil, err
	}
	f.Token = tok
	if err := SCSTable(ctx, db); err != nil {
		return nil, err
	}
	sm := SCS(d, db.X.DB)
	if f.SCSToken, f.SCSData, err = SCSSession(ctx, sm, "u1"); err != nil {
		return nil, err
	}
	if _, err := SeedSCS(ctx, db, 10000, f.SCSData, false); err != nil {
		return nil, err
	}
	return f, db.Analyze(ctx)
}
