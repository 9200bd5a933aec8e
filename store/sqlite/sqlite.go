package sqlite

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"os"
	"time"

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
// shape of one NextAuth flavour. It is safe for concurrent use.
type Store struct {
	s     *sqlstore.Store
	owned bool // Close closes the database: Open opened it
}

var (
	_ session.Adapter        = (*Store)(nil)
	_ session.NextAuthTables = (*Store)(nil)
	_ session.ContextBound   = (*Store)(nil)
	_ session.SelfBounded    = (*Store)(nil)
)

// New returns a Store on db (opened with the "sqlite3" driver of
// github.com/mattn/go-sqlite3) for tables of flavour f. Close leaves db
// open: it belongs to the caller. New panics, as a setup mistake, if db
// is nil or f is not usable on SQLite (pg-adapter is Postgres only; check
// with f.Check(adapter.SQLite), or use Open, which returns the error).
func New(db *sqlx.DB, f adapter.Flavour) *Store {
	return &Store{s: sqlstore.New(db, f, adapter.SQLite)}
}

// Open opens the SQLite file at path the way sessions want it: WAL
// journal (readers never wait for the writer), a BusyTimeout, foreign
// keys on, and transactions that take the write lock when they begin. The
// file is created if missing, with FileMode (owner only); call
// CreateSchema to create the tables. Close closes the database.
//
// A zero Flavour (adapter.Flavour{}) is read from the file's tables and
// rows with Detect; Store.Flavour says what was found. A new or empty file
// then fails (with adapter.ErrNotNextAuth), and so do tables without rows
// to tell their date storage from (adapter.ErrDatesUnknown): name the
// flavour to create or fill them.
func Open(path string, f adapter.Flavour) (*Store, error) {
	detect := f == (adapter.Flavour{})
	if err := f.Check(adapter.SQLite); err != nil && !detect {
		return nil, fmt.Errorf("sqlite: %w", err)
	}
	if detect {
		if _, err := os.Stat(path); err != nil {
			// Nothing to read the flavour from, and no file made for it.
			return nil, fmt.Errorf("sqlite: %w: %w", adapter.ErrNotNextAuth, err)
		}
	}
	if err := createFile(path); err != nil {
		return nil, err
	}
	db, err := sqlx.Open("sqlite3", DSN(path))
	if err != nil {
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("sqlite: opening %s: %w", path, err)
	}
	if detect {
		if f, err = Detect(context.Background(), db); err != nil {
			db.Close()
			return nil, err
		}
	}
	st := New(db, f)
	st.owned = true
	return st, nil
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

// DB returns the database handle.
func (s *Store) DB() *sqlx.DB { return s.s.DB() }

// Flavour returns the schema flavour.
func (s *Store) Flavour() adapter.Flavour { return s.s.Flavour() }

// NextAuthTables reports true: every flavour is a schema NextAuth reads,
// so session.Config.HashTokens needs session.Config.GoOnly.
func (s *Store) NextAuthTables() bool { return true }

// BoundByContext implements session.ContextBound: mattn/go-sqlite3
// interrupts a statement when its context ends, and a wait for another
// writer's lock ends at BusyTimeout, so a Manager runs the store's calls
// in the request's goroutine.
func (s *Store) BoundByContext() bool { return true }

// SessionCallsSelfBounded implements session.SelfBounded: a call on one
// session is an index lookup whose only wait, for another writer's lock,
// ends at the busy timeout and not with its context; so, while the
// database's connection pool is unlimited (database/sql's default, and
// Open's), a Manager runs such calls without Config.Timeout's timer. With
// SetMaxOpenConns, a call may wait for a connection, which a context
// does end, and the timer stays. A type that embeds Store does not
// inherit the answer (self is this Store).
func (s *Store) SessionCallsSelfBounded() (self session.Store, ok bool) {
	return s, s.s.DB().Stats().MaxOpenConnections == 0
}

// Close releases the prepared statements, and closes the database when
// Open opened it.
func (s *Store) Close() error {
	err := s.s.Close()
	if s.owned {
		err = errors.Join(err, s.s.DB().Close())
	}
	return err
}

// CreateUser stores a new user and returns it with its id. The id is
// made by the store (or the database, for serial ids) when u.ID is empty.
func (s *Store) CreateUser(ctx context.Context, u session.User) (session.User, error) {
	return s.s.CreateUser(ctx, u)
}

// GetUser returns the user with the id, or an error wrapping
// session.ErrNotFound.
func (s *Store) GetUser(ctx context.Context, id string) (session.User, error) {
	return s.s.GetUser(ctx, id)
}

// GetUserByEmail returns the user with the email, or an error wrapping
// session.ErrNotFound.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (session.User, error) {
	return s.s.GetUserByEmail(ctx, email)
}

// GetUserByAccount returns the user linked to the provider's account, or an
// error wrapping session.ErrNotFound.
func (s *Store) GetUserByAccount(ctx context.Context, provider, providerAccountID string) (session.User, error) {
	return s.s.GetUserByAccount(ctx, provider, providerAccountID)
}

// UpdateUser writes the fields of u that fields names to the user with
// u.ID, keeps the others, and returns the whole row; an error wrapping
// session.ErrNotFound when there is no such user.
func (s *Store) UpdateUser(ctx context.Context, u session.User, fields session.UserFields) (session.User, error) {
	return s.s.UpdateUser(ctx, u, fields)
}

// DeleteUser removes the user with its sessions and accounts, in one
// transaction; a missing user is no error.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	return s.s.DeleteUser(ctx, id)
}

// LinkAccount stores an account of the user a.UserID; an error wrapping
// session.ErrUnknownUser when there is no such user.
func (s *Store) LinkAccount(ctx context.Context, a session.Account) (session.Account, error) {
	return s.s.LinkAccount(ctx, a)
}

// UnlinkAccount removes the provider's account; a missing one is no error.
func (s *Store) UnlinkAccount(ctx context.Context, provider, providerAccountID string) error {
	return s.s.UnlinkAccount(ctx, provider, providerAccountID)
}

// CreateSession stores a session; an error wrapping session.ErrUnknownUser
// when se.UserID names no user (checked in the same statement).
func (s *Store) CreateSession(ctx context.Context, se session.Session) (session.Session, error) {
	return s.s.CreateSession(ctx, se)
}

// GetSessionAndUser returns the session with the stored token and its
// user, in one prepared query; an error wrapping session.ErrNotFound when
// there is none.
func (s *Store) GetSessionAndUser(ctx context.Context, token string) (session.Session, session.User, error) {
	return s.s.GetSessionAndUser(ctx, token)
}

// UpdateSession changes the fields u names of the session with u.Token;
// an error wrapping session.ErrNotFound when there is none.
func (s *Store) UpdateSession(ctx context.Context, u session.SessionUpdate) error {
	return s.s.UpdateSession(ctx, u)
}

// DeleteSession removes the session with the stored token; a missing one
// is no error.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	return s.s.DeleteSession(ctx, token)
}

// CreateVerificationToken stores an email sign-in token (Auth.js stores
// it hashed).
func (s *Store) CreateVerificationToken(ctx context.Context, t session.VerificationToken) (session.VerificationToken, error) {
	return s.s.CreateVerificationToken(ctx, t)
}

// UseVerificationToken deletes the token and returns it, in one statement,
// so that two concurrent uses cannot both succeed; an error wrapping
// session.ErrNotFound when there is none.
func (s *Store) UseVerificationToken(ctx context.Context, identifier, token string) (session.VerificationToken, error) {
	return s.s.UseVerificationToken(ctx, identifier, token)
}

// ListSessions returns the active sessions q selects, with their users,
// newest expiry first.
func (s *Store) ListSessions(ctx context.Context, q session.ListQuery) ([]session.SessionUser, error) {
	return s.s.ListSessions(ctx, q)
}

// DeleteUserSessions removes every session of the user but keep, and says
// how many went.
func (s *Store) DeleteUserSessions(ctx context.Context, userID, keep string) (int64, error) {
	return s.s.DeleteUserSessions(ctx, userID, keep)
}

// CountActive counts the sessions with expires >= now, of one user when
// userID is not empty.
func (s *Store) CountActive(ctx context.Context, userID string, now time.Time) (int64, error) {
	return s.s.CountActive(ctx, userID, now)
}

// DeleteExpired removes at most limit sessions with expires < now and says
// how many went.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time, limit int) (int64, error) {
	return s.s.DeleteExpired(ctx, now, limit)
}

// CreateSchema creates the flavour's tables, and the indexes of
// adapter.Flavour.Indexes, where they do not exist yet: for a new
// database. A database made by Prisma or Drizzle needs only CreateIndexes,
// or nothing.
func (s *Store) CreateSchema(ctx context.Context) error {
	return s.s.CreateSchema(ctx)
}

// CreateIndexes creates only the indexes on Session.expires and
// Session.userId, which NextAuth's schemas lack, for a database whose
// tables exist. Everything works without them; counting and per-user
// revocation are faster with them.
func (s *Store) CreateIndexes(ctx context.Context) error {
	return s.s.CreateIndexes(ctx)
}

// Verify checks that the flavour's tables and columns exist, so that a
// wrong flavour is a clear error at start-up rather than at the first
// sign-in.
func (s *Store) Verify(ctx context.Context) error {
	return s.s.Verify(ctx)
}
