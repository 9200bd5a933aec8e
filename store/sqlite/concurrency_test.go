package sqlite_test

import (
	"testing"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/faulttest"
	"github.com/nextsession/nextsession/store/sqlite/sqlitetest"
)

// TestRaces runs the shared concurrency races on integer and ISO text
// dates (run with -race).
func TestRaces(t *testing.T) {
	for _, f := range []adapter.Flavour{adapter.Prisma, adapter.PrismaISO} {
		t.Run(f.Name, func(t *testing.T) {
			faulttest.RunRaces(t, faulttest.RacesConfig{
				New: func(t *testing.T) session.Adapter { return sqlitetest.Open(t, f) },
			})
		})
	}
}
