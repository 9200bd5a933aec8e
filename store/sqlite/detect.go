package sqlite

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
)

// Detect reads the catalog of the SQLite database db is connected to, and
// the dates of its newest rows, and returns the flavour of its NextAuth
// tables, as adapter.Detect does: for a database whose flavour the caller
// does not know. On a database whose dates it cannot tell (a Prisma schema
// without rows) the error wraps adapter.ErrDatesUnknown and the flavour
// is complete but for SQLiteDates.
func Detect(ctx context.Context, db *sqlx.DB) (adapter.Flavour, error) {
	f, err := adapter.Detect(ctx, db.DB, adapter.SQLite)
	if err != nil {
		return f, fmt.Errorf("sqlite: %w", err)
	}
	return f, nil
}
