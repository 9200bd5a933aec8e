package postgres

import (
	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/internal/sqlstore"
)

// Store is a session.Adapter on a PostgreSQL database whose tables have
// the shape of one NextAuth flavour. Its methods are those of
// session.Adapter plus CreateSchema, CreateIndexes, Verify, DB, Flavour
// and Close.
type Store struct {
	*sqlstore.Store
	pooler bool
}

var _ session.Adapter = (*Store)(nil)

// New returns a Store on db (opened with the "postgres" driver of
// github.com/lib/pq) for tables of flavour f. Statements are prepared on
// first use. It panics if db is nil or f is not a usable flavour.
func New(db *sqlx.DB, f adapter.Flavour) *Store {
	return NewWith(db, f, Options{})
}
