package postgres

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
)

// Detect reads the catalog of the Postgres database db is connected to
// and returns the flavour of its NextAuth tables, as adapter.Detect does:
// for a database whose flavour the caller does not know.
func Detect(ctx context.Context, db *sqlx.DB) (adapter.Flavour, error) {
	f, err := adapter.Detect(ctx, db.DB, adapter.Postgres)
	if err != nil {
		return f, fmt.Errorf("postgres: %w", err)
	}
	return f, nil
}
