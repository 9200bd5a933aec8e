package sqlite_test

import (
	"testing"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/adapter/adaptertest"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/sqlite/sqlitetest"
)

// sqliteFlavours are the flavours that exist on SQLite.
var sqliteFlavours = []adapter.Flavour{adapter.Prisma, adapter.PrismaISO, adapter.Kysely, adapter.Drizzle}

func TestConformance(t *testing.T) {
	for _, f := range sqliteFlavours {
		t.Run(f.Name, func(t *testing.T) {
			adaptertest.Run(t, adaptertest.Config{
				Flavour: f,
				New:     func(t *testing.T) session.Adapter { return sqlitetest.Open(t, f) },
			})
		})
	}
}
