package sqlite_test

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/faulttest"
	"github.com/nextsession/nextsession/store/sqlite"
)

// openFresh opens a store the way users do (sqlite.Open: WAL, busy
// timeout) on a new file with the flavour's tables.
func openFresh(t *testing.T, f adapter.Flavour) *sqlite.Store {
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

// TestRaces runs the shared concurrency races on integer and ISO text
// dates (run with -race).
func TestRaces(t *testing.T) {
	for _, f := range []adapter.Flavour{adapter.Prisma, adapter.PrismaISO} {
		t.Run(f.Name, func(t *testing.T) {
			faulttest.RunRaces(t, faulttest.RacesConfig{
				New: func(t *testing.T) session.Adapter { return openFresh(t, f) },
			})
		})
	}
}
