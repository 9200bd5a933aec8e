package memory_test

import (
	"testing"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/adapter/adaptertest"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/memory"
)

// shape describes the memory store to the suite as a flavour would: UUID
// ids, session and account ids, createdAt and device metadata kept.
var shape = adapter.Flavour{
	Name:             "memory",
	IDs:              adapter.IDUUID,
	SessionID:        true,
	AccountID:        true,
	SessionCreatedAt: true,
	Device:           adapter.DeviceColumns{UserAgent: "userAgent", IP: "ip"},
}

func TestConformance(t *testing.T) {
	adaptertest.Run(t, adaptertest.Config{
		Flavour: shape,
		New:     func(*testing.T) session.Adapter { return memory.New() },
	})
}
