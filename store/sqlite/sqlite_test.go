package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/adapter/adaptertest"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/sqlite"
)

// sqliteFlavours are the flavours that exist on SQLite.
var sqliteFlavours = []adapter.Flavour{adapter.Prisma, adapter.PrismaISO, adapter.Kysely, adapter.Drizzle}

// open returns a store on a new file with the flavour's tables.
func open(t testing.TB, f adapter.Flavour) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "sessions.db"), f)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		st.Close()
		st.DB().Close()
	})
	if err := st.CreateSchema(context.Background()); err != nil {
		t.Fatal(err)
	}
	return st
}

func TestConformance(t *testing.T) {
	for _, f := range sqliteFlavours {
		t.Run(f.Name, func(t *testing.T) {
			adaptertest.Run(t, adaptertest.Config{
				Flavour: f,
				New:     func(t *testing.T) session.Adapter { return open(t, f) },
			})
		})
	}
}
