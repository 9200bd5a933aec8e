package postgres_test

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/postgres"
)

// Validate sessions from memory, with every revocation (by this
// instance, another one, the Next.js app or an admin's SQL) refused
// everywhere within the cache's bound. The store's pool may go through a
// transaction pooler; the listener needs a direct URL.
func ExampleNewCache() {
	db, err := sqlx.Open("postgres", os.Getenv("DATABASE_URL")) // may be pooled
	if err != nil {
		log.Fatal(err)
	}
	st := postgres.New(db, adapter.Prisma)
	ctx := context.Background()
	// Once per database; or run st.CacheTriggerSQL("") from a migration.
	if err := st.InstallCacheTrigger(ctx, ""); err != nil {
		log.Fatal(err)
	}
	cs, err := postgres.NewCache(ctx, st, postgres.CacheConfig{
		ListenDSN: os.Getenv("DIRECT_DATABASE_URL"),
	})
	if err != nil {
		log.Fatal(err) // no trigger, a pooler on ListenDSN, or no connection
	}
	defer cs.Close()
	m := session.NewManager(cs, session.Config{})
	log.Fatal(http.ListenAndServe(":8080", m.Middleware(http.NotFoundHandler())))
}
