package bench

import (
	"context"
	"net/http"

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/postgres"
	"github.com/nextsession/nextsession/store/postgres/pgtest"
)

// Cached returns nextsession's middleware on a postgres.CachedStore over
// the fixture's Postgres schema, with the cache trigger installed, and a
// function that stops the listener and removes the trigger.
func Cached(ctx context.Context, f *Fixture, db *sqlx.DB) (http.Handler, func(), error) {
	st := postgres.New(db, adapter.Prisma)
	if err := st.InstallCacheTrigger(ctx, f.Schema); err != nil {
		return nil, nil, err
	}
	cs, err := postgres.NewCache(ctx, st, postgres.CacheConfig{
		ListenDSN: pgtest.WithSchema(pgtest.DSN(), f.Schema),
		Channel:   f.Schema,
	})
	if err != nil {
		st.RemoveCacheTrigger(ctx)
		return nil, nil, err
	}
	stop := func() {
		cs.Close()
		st.RemoveCacheTrigger(context.Background())
		st.Close()
	}
	return session.NewManager(cs, session.Config{}).Middleware(ReadUser), stop, nil
}
