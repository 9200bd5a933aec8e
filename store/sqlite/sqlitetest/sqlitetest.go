package sqlitetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/store/sqlite"
)

// Open returns a store on a new file in tb.TempDir() with flavour f's
// schema. The store and its database are closed when the test ends.
func Open(tb testing.TB, f adapter.Flavour) *sqlite.Store {
	tb.Helper()
	st, err := sqlite.Open(filepath.Join(tb.TempDir(), "sessions.db"), f)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { st.Close() })
	if err := st.CreateSchema(context.Background()); err != nil {
		tb.Fatal(err)
	}
	return st
}
