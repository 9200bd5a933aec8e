package sqlite

import (
	"fmt"
	"net/url"

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/internal/sqlstore"
)

// BusyTimeout is how long, in milliseconds, a connection opened by Open
// waits for another writer's lock before it fails with "database is
// locked".
const BusyTimeout = 5000

// Store is a session.Adapter on a SQLite database whose tables have the
// shape of one NextAuth flavour. Its methods are those of session.Adapter
// plus CreateSchema, CreateIndexes, Verify, DB, Flavour and Close.
type Store struct {
	*sqlstore.Store
}

var _ session.Adapter = (*Store)(nil)

// New returns a Store on db (opened with the "sqlite3" driver of
// github.com/mattn/go-sqlite3) for tables of flavour f. It panics if db is
// nil or f is not a usable flavour on SQLite (pg-adapter is Postgres only).
func New(db *sqlx.DB, f adapter.Flavour) *Store {
	return &Store{sqlstore.New(db, f, adapter.SQLite)}
}

// Open opens the SQLite file at path the way sessions want it: WAL
// journal (readers never wait for the writer), a BusyTimeout, foreign
// keys on, and transactions that take the write lock when they begin. The
// file is created if missing, with FileMode (owner only); call
// CreateSchema to create the tables.
func Open(path string, f adapter.Flavour) (*Store, error) {
	if err := f.Check(adapter.SQLite); err != nil {
		return nil, err
	}
	if err := createFile(path); err != nil {
		return nil, err
	}
	db, err := sqlx.Open("sqlite3", DSN(path))
	if err != nil {
		return nil, fmt.Errorf("nextsession: opening %s: %w", path, err)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("nextsession: opening %s: %w", path, err)
	}
	return New(db, f), nil
}

// DSN returns the mattn/go-sqlite3 data source name that Open uses for
// the file at path.
func DSN(path string) string {
	v := url.Values{}
	v.Set("_journal_mode", "WAL")
	v.Set("_busy_timeout", fmt.Sprint(BusyTimeout))
	v.Set("_foreign_keys", "on")
	v.Set("_txlock", "immediate")
	v.Set("_synchronous", "NORMAL")
	return "file:" + (&url.URL{Path: path}).EscapedPath() + "?" + v.Encode()
}
