package sqlite_test

import (
	"testing"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/adapter/adaptertest"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/sqlite/sqlitetest"
)

// sqliteFlavours are the flavours that exist on SQLite.
var sqliteFlavours = []adapter.Flavour{adapter.Prisma, adapter.PrismaISO, adapter.PrismaDocs, adapter.Kysely, adapter.Drizzle}

func TestConformance(t *testing.T) {
	// Drizzle's tables with a user agent column, and no IP column.
	device := adapter.Drizzle
	device.Name = "drizzle-device"
	device.Device = adapter.DeviceColumns{UserAgent: "user_agent"}
	for _, f := range append(append(sqliteFlavours, device), adaptertest.MappedFlavours(adapter.SQLite)...) {
		t.Run(f.Name, func(t *testing.T) {
			adaptertest.Run(t, adaptertest.Config{
				Flavour: f,
				New:     func(t *testing.T) session.Adapter { return sqlitetest.Open(t, f) },
			})
		})
	}
}
