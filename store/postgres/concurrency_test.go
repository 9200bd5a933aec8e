package postgres_test

import (
	"context"
	"strings"
	"testing"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/faulttest"
	"github.com/nextsession/nextsession/store/postgres"
	"github.com/nextsession/nextsession/store/postgres/pgtest"
)

// TestRaces runs the shared concurrency races on Prisma's TIMESTAMP(3) and
// pg-adapter's serial ids and timestamptz (run with -race).
func TestRaces(t *testing.T) {
	for _, f := range []adapter.Flavour{adapter.Prisma, adapter.PgAdapter} {
		t.Run(f.Name, func(t *testing.T) {
			schema := "nextsession_races_" + strings.ReplaceAll(f.Name, "-", "_")
			faulttest.RunRaces(t, faulttest.RacesConfig{
				New: func(t *testing.T) session.Adapter {
					db := pgtest.Open(t, schema)
					// Stay well inside max_connections when packages
					// test in parallel.
					db.SetMaxOpenConns(10)
					st := postgres.New(db, f)
					t.Cleanup(func() { st.Close() })
					if err := st.CreateSchema(context.Background()); err != nil {
						t.Fatal(err)
					}
					return st
				},
			})
		})
	}
}
