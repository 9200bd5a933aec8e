package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/internal/sqlstore"
)

// Store is a session.Adapter on a PostgreSQL database whose tables have
// the shape of one NextAuth flavour. It is safe for concurrent use.
type Store struct {
	s      *sqlstore.Store
	owned  bool // Close closes the database: Open opened it
	pooler bool // Options.Pooler
}

var (
	_ session.Adapter        = (*Store)(nil)
	_ session.NextAuthTables = (*Store)(nil)
)

// Open connects to the database at dsn (a lib/pq URL or key=value
// string) and returns a Store on it for tables of flavour f. Close closes
// the connections. It fails if f is not usable on Postgres or the
// database does not answer. A zero Flavour (adapter.Flavour{}) is read
// from the database's catalog with Detect; Store.Flavour says what was
// found.
//
// A DSN that names a transaction-mode pooler (see IsPoolerDSN) gives a
// store with Options.Pooler, and its connections binary_parameters=yes;
// Prisma's pgbouncer=true is taken off the DSN, as Postgres would refuse
// it. Without connect_timeout in the DSN, DefaultConnectTimeout applies.
func Open(dsn string, f adapter.Flavour) (*Store, error) {
	detect := f == (adapter.Flavour{})
	if err := f.Check(adapter.Postgres); err != nil && !detect {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	cfg, err := pq.NewConfig(dsn)
	if err != nil {
		return nil, fmt.Errorf("postgres: opening database: %w", err)
	}
	pooler := isPooler(cfg)
	delete(cfg.Runtime, "pgbouncer")
	if pooler {
		cfg.BinaryParameters = true
	}
	if cfg.ConnectTimeout == 0 {
		cfg.ConnectTimeout = DefaultConnectTimeout
	}
	c, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: opening database: %w", err)
	}
	db := sqlx.NewDb(sql.OpenDB(c), "postgres")
	if err := db.Ping(); err != nil {
		db.Close()
		return nil, fmt.Errorf("postgres: opening database: %w", err)
	}
	if detect {
		ctx, cancel := context.WithTimeout(context.Background(), DefaultConnectTimeout)
		f, err = Detect(ctx, db)
		cancel()
		if err != nil {
			db.Close()
			return nil, err
		}
	}
	st := NewWith(db, f, Options{Pooler: pooler})
	st.owned = true
	return st, nil
}

// New returns a Store on db (opened with the "postgres" driver of
// github.com/lib/pq) for tables of flavour f. Statements are prepared on
// first use. Close leaves db open: it belongs to the caller. New panics,
// as a setup mistake, if db is nil or f is not usable on Postgres (check
// with f.Check(adapter.Postgres), or use Open, which returns the error).
func New(db *sqlx.DB, f adapter.Flavour) *Store {
	return NewWith(db, f, Options{})
}

// DB returns the database handle.
func (s *Store) DB() *sqlx.DB { return s.s.DB() }

// Flavour returns the schema flavour.
func (s *Store) Flavour() adapter.Flavour { return s.s.Flavour() }

// NextAuthTables reports true: every flavour is a schema NextAuth reads,
// so session.Config.HashTokens needs session.Config.GoOnly.
func (s *Store) NextAuthTables() bool { return true }

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
// sign-in; and, for a store with Options.Pooler, that the connections
// send parameters in binary mode (binary_parameters=yes), which pooled
// statements need.
func (s *Store) Verify(ctx context.Context) error {
	if err := s.s.Verify(ctx); err != nil {
		return err
	}
	if s.pooler {
		return s.verifyBinary(ctx)
	}
	return nil
}
