package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
)

// Store is a session.Adapter on a database of one flavour and dialect.
type Store struct {
	db      *sqlx.DB
	flavour adapter.Flavour
	dialect adapter.Dialect
	q       queries

	// unprepared: every statement is sent with its arguments and no
	// named prepared statement, for transaction-mode poolers.
	unprepared bool
	// stmts holds the prepared statements by query slot.
	stmts []atomic.Pointer[sql.Stmt]

	indexed atomic.Int32 // indexUnknown, indexYes or indexNo
}

var _ session.Adapter = (*Store)(nil)

// Options tune a Store.
type Options struct {
	// Unprepared sends every statement with its arguments (lib/pq's
	// unnamed statement) instead of preparing it once per connection, so
	// that no statement outlives the transaction it runs in: what a
	// transaction-mode pooler needs.
	Unprepared bool
}

// New returns a Store with the zero Options. It panics, as a setup
// mistake, when the flavour is not usable on the dialect or db is nil.
func New(db *sqlx.DB, f adapter.Flavour, d adapter.Dialect) *Store {
	return NewWith(db, f, d, Options{})
}

// NewWith returns a Store with options o; it panics as New does.
func NewWith(db *sqlx.DB, f adapter.Flavour, d adapter.Dialect, o Options) *Store {
	if db == nil {
		panic(d.String() + ": store on a nil *sqlx.DB")
	}
	if err := f.Check(d); err != nil {
		panic(d.String() + ": " + err.Error())
	}
	s := &Store{db: db, flavour: f, dialect: d, unprepared: o.Unprepared}
	s.q = buildQueries(f, d, db.Rebind)
	s.stmts = make([]atomic.Pointer[sql.Stmt], s.q.slots)
	return s
}

// DB returns the database handle.
func (s *Store) DB() *sqlx.DB { return s.db }

// Flavour returns the schema flavour.
func (s *Store) Flavour() adapter.Flavour { return s.flavour }

// CreateSchema creates the flavour's tables and the indexes of
// adapter.Flavour.Indexes where they do not exist yet.
func (s *Store) CreateSchema(ctx context.Context) error {
	if err := s.execDDL(ctx, s.flavour.Schema); err != nil {
		return err
	}
	return s.CreateIndexes(ctx)
}

// CreateIndexes creates only the indexes on Session.expires and
// Session.userId, for a database whose tables already exist.
func (s *Store) CreateIndexes(ctx context.Context) error {
	defer s.indexed.Store(indexUnknown)
	return s.execDDL(ctx, s.flavour.Indexes)
}

func (s *Store) execDDL(ctx context.Context, stmts func(adapter.Dialect) ([]string, error)) error {
	list, err := stmts(s.dialect)
	if err != nil {
		return err
	}
	for _, q := range list {
		if _, err := s.db.ExecContext(ctx, q); err != nil {
			return fmt.Errorf("%s: %s: %w", s.dialect, firstLine(q), err)
		}
	}
	return nil
}

// Verify checks that the database has the flavour's tables and columns,
// that the store can fill every NOT NULL column without a default, and
// that dates are stored as the flavour says (adapter.Flavour.Verify), so
// that a wrong flavour is a clear error at start-up rather than at first
// sign-in.
func (s *Store) Verify(ctx context.Context) error {
	if err := s.flavour.Verify(ctx, s.db.DB, s.dialect); err != nil {
		return fmt.Errorf("%s: %w", s.dialect, err)
	}
	return nil
}

// Close releases the prepared statements. The database handle stays open.
func (s *Store) Close() error {
	var errs []error
	for i := range s.stmts {
		if st := s.stmts[i].Swap(nil); st != nil {
			errs = append(errs, st.Close())
		}
	}
	return errors.Join(errs...)
}

// prepared returns the statement prepared for q, preparing it on first
// use. A failed prepare (the database is down) is tried again next time.
func (s *Store) prepared(ctx context.Context, q query) (*sql.Stmt, error) {
	slot := &s.stmts[q.slot]
	if st := slot.Load(); st != nil {
		return st, nil
	}
	st, err := s.db.PrepareContext(ctx, q.sql)
	if err != nil {
		return nil, err
	}
	if !slot.CompareAndSwap(nil, st) {
		st.Close()
		return slot.Load(), nil
	}
	return st, nil
}

// queryRow, queryRows and exec are where every statement of a Store but
// the DDL and DeleteUser's transaction runs: prepared once per store, or
// sent with its arguments when the store is Unprepared.
func (s *Store) queryRow(ctx context.Context, q query, args []any) (*sql.Row, error) {
	if s.unprepared {
		return s.db.QueryRowContext(ctx, q.sql, args...), nil
	}
	st, err := s.prepared(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryRowContext(ctx, args...), nil
}

func (s *Store) queryRows(ctx context.Context, q query, args []any) (*sql.Rows, error) {
	if s.unprepared {
		return s.db.QueryContext(ctx, q.sql, args...)
	}
	st, err := s.prepared(ctx, q)
	if err != nil {
		return nil, err
	}
	return st.QueryContext(ctx, args...)
}

func (s *Store) exec(ctx context.Context, q query, args []any) (int64, error) {
	var res sql.Result
	var err error
	if s.unprepared {
		res, err = s.db.ExecContext(ctx, q.sql, args...)
	} else {
		var st *sql.Stmt
		if st, err = s.prepared(ctx, q); err != nil {
			return 0, err
		}
		res, err = st.ExecContext(ctx, args...)
	}
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// validID reports whether id can name a row of the flavour.
func (s *Store) validID(id string) bool { return s.q.validID(id) }

// newCUID returns a cuid-shaped id: "c" and 24 base-36 characters from
// crypto/rand, as long as Prisma's cuid().
func newCUID() (string, error) {
	const alphabet = "0123456789abcdefghijklmnopqrstuvwxyz"
	var b [24]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	out := make([]byte, 25)
	out[0] = 'c'
	for i, v := range b {
		out[i+1] = alphabet[int(v)%len(alphabet)]
	}
	return string(out), nil
}

// searchable reports whether every value can be stored in a text column:
// Postgres refuses invalid UTF-8 and NUL bytes with an error, where the
// right answer to a lookup is simply that no row has them.
func searchable(vals ...string) bool {
	for _, v := range vals {
		if !utf8.ValidString(v) || strings.IndexByte(v, 0) >= 0 {
			return false
		}
	}
	return true
}

func nullString(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func firstLine(q string) string {
	if i := strings.IndexByte(q, '\n'); i >= 0 {
		return q[:i]
	}
	return q
}

// notFound is the error of a lookup that finds no row.
func (s *Store) notFound(what string) error {
	return fmt.Errorf("%s: %s: %w", s.dialect, what, session.ErrNotFound)
}

// userScan receives the user columns of a row.
type userScan struct {
	id, name, email, image nullText
	verified               nullDate
}

func (u *userScan) dest() []any {
	return []any{&u.id, &u.name, &u.email, &u.verified, &u.image}
}

func (u *userScan) user() session.User {
	return session.User{
		ID:            u.id.String,
		Name:          u.name.String,
		Email:         u.email.String,
		EmailVerified: u.verified.ptr(),
		Image:         u.image.String,
	}
}

// sessionScan receives the session columns of a row.
type sessionScan struct {
	id, token, userID nullText
	expires, created  nullDate
	userAgent, ip     nullText
}

// dest lists where the session columns go; the device columns are
// selected only for flavours that have any.
func (x *sessionScan) dest(device bool) []any {
	if device {
		return []any{&x.id, &x.token, &x.userID, &x.expires, &x.created, &x.userAgent, &x.ip}
	}
	return []any{&x.id, &x.token, &x.userID, &x.expires, &x.created}
}

func (x *sessionScan) session() session.Session {
	return session.Session{
		ID:        x.id.String,
		Token:     x.token.String,
		UserID:    x.userID.String,
		Expires:   x.expires.Time,
		CreatedAt: x.created.Time,
		UserAgent: x.userAgent.String,
		IP:        x.ip.String,
	}
}

func (s *Store) scanUser(row *sql.Row, what string) (session.User, error) {
	var u userScan
	if err := row.Scan(u.dest()...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return session.User{}, s.notFound(what)
		}
		return session.User{}, err
	}
	return u.user(), nil
}

// CreateUser implements session.Adapter. It returns the user as stored.
func (s *Store) CreateUser(ctx context.Context, u session.User) (session.User, error) {
	if u.ID == "" {
		id, err := s.q.newID()
		if err != nil {
			return session.User{}, err
		}
		u.ID = id // unused where the database makes ids
	}
	row, err := s.queryRow(ctx, s.q.createUser.query, s.q.createUser.args(userIn{u: u, now: time.Now()}))
	if err != nil {
		return session.User{}, err
	}
	got, err := s.scanUser(row, "created user")
	if err != nil {
		return session.User{}, fmt.Errorf("%s: creating user: %w", s.dialect, err)
	}
	return got, nil
}

// GetUser implements session.Adapter.
func (s *Store) GetUser(ctx context.Context, id string) (session.User, error) {
	if !s.validID(id) {
		return session.User{}, s.notFound("user " + quoteID(id))
	}
	row, err := s.queryRow(ctx, s.q.getUser.query, s.q.getUser.args(id))
	if err != nil {
		return session.User{}, err
	}
	return s.scanUser(row, "user "+quoteID(id))
}

// GetUserByEmail implements session.Adapter.
func (s *Store) GetUserByEmail(ctx context.Context, email string) (session.User, error) {
	if email == "" || !searchable(email) {
		return session.User{}, s.notFound("user with empty email")
	}
	row, err := s.queryRow(ctx, s.q.getUserByEmail.query, s.q.getUserByEmail.args(email))
	if err != nil {
		return session.User{}, err
	}
	return s.scanUser(row, "user by email")
}

// GetUserByAccount implements session.Adapter.
func (s *Store) GetUserByAccount(ctx context.Context, provider, providerAccountID string) (session.User, error) {
	if !searchable(provider, providerAccountID) {
		return session.User{}, s.notFound("user by account")
	}
	q := s.q.getUserByAccount
	row, err := s.queryRow(ctx, q.query, q.args(pair{provider, providerAccountID}))
	if err != nil {
		return session.User{}, err
	}
	return s.scanUser(row, "user by account")
}

// UpdateUser implements session.Adapter: the fields not named keep their
// values.
func (s *Store) UpdateUser(ctx context.Context, u session.User, fields session.UserFields) (session.User, error) {
	if !s.validID(u.ID) {
		return session.User{}, s.notFound("user " + quoteID(u.ID))
	}
	q := s.q.updateUser
	row, err := s.queryRow(ctx, q.query, q.args(userIn{u: u, fields: fields, now: time.Now()}))
	if err != nil {
		return session.User{}, err
	}
	return s.scanUser(row, "user "+quoteID(u.ID))
}

// DeleteUser implements session.Adapter: it deletes the user's sessions
// and accounts in the same transaction, for schemas without cascading
// foreign keys. Deleting a missing user is no error.
func (s *Store) DeleteUser(ctx context.Context, id string) error {
	if !s.validID(id) {
		return nil
	}
	tx, err := s.db.BeginTxx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	for _, q := range s.q.deleteUser {
		if _, err := tx.ExecContext(ctx, q, id); err != nil {
			return fmt.Errorf("%s: deleting user: %w", s.dialect, err)
		}
	}
	return tx.Commit()
}

// LinkAccount implements session.Adapter.
func (s *Store) LinkAccount(ctx context.Context, a session.Account) (session.Account, error) {
	if !s.validID(a.UserID) {
		return session.Account{}, fmt.Errorf("%s: linking account: %w", s.dialect, session.ErrUnknownUser)
	}
	if a.ID == "" {
		id, err := s.q.newID()
		if err != nil {
			return session.Account{}, err
		}
		a.ID = id // unused where Account has no id or the database makes it
	}
	row, err := s.queryRow(ctx, s.q.linkAccount.query, s.q.linkAccount.args(accountIn{a: a, now: time.Now()}))
	if err != nil {
		return session.Account{}, err
	}
	var id sql.NullString
	if err := row.Scan(&id); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return session.Account{}, fmt.Errorf("%s: linking account: %w", s.dialect, session.ErrUnknownUser)
		}
		return session.Account{}, fmt.Errorf("%s: linking account: %w", s.dialect, err)
	}
	a.ID = id.String
	return a, nil
}

func nullInt(n int64) any {
	if n == 0 {
		return nil
	}
	return n
}

// UnlinkAccount implements session.Adapter.
func (s *Store) UnlinkAccount(ctx context.Context, provider, providerAccountID string) error {
	if !searchable(provider, providerAccountID) {
		return nil
	}
	_, err := s.exec(ctx, s.q.unlinkAccount.query, s.q.unlinkAccount.args(pair{provider, providerAccountID}))
	return err
}

// CreateSession implements session.Adapter and returns the session as
// stored: without an ID, CreatedAt or device fields where the flavour has
// no such column. The insert selects the user row, so a missing user is
// caught in the same statement even on schemas without foreign keys.
func (s *Store) CreateSession(ctx context.Context, in session.Session) (session.Session, error) {
	if !s.validID(in.UserID) {
		return session.Session{}, fmt.Errorf("%s: user %s: %w", s.dialect, quoteID(in.UserID), session.ErrUnknownUser)
	}
	now := time.Now()
	if in.CreatedAt.IsZero() {
		in.CreatedAt = now
	}
	if in.ID == "" {
		id, err := s.q.newID()
		if err != nil {
			return session.Session{}, err
		}
		in.ID = id // unused where Session has no id or the database makes it
	}
	row, err := s.queryRow(ctx, s.q.createSession.query, s.q.createSession.args(sessionIn{s: in, now: now}))
	if err != nil {
		return session.Session{}, err
	}
	var x sessionScan
	if err := row.Scan(x.dest(s.q.device)...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return session.Session{}, fmt.Errorf("%s: user %s: %w", s.dialect, quoteID(in.UserID), session.ErrUnknownUser)
		}
		return session.Session{}, fmt.Errorf("%s: creating session: %w", s.dialect, err)
	}
	return x.session(), nil
}

// GetSessionAndUser implements session.Adapter with one prepared query.
func (s *Store) GetSessionAndUser(ctx context.Context, token string) (session.Session, session.User, error) {
	if !searchable(token) {
		return session.Session{}, session.User{}, s.notFound("session")
	}
	row, err := s.queryRow(ctx, s.q.getSessionAndUser.query, s.q.getSessionAndUser.args(token))
	if err != nil {
		return session.Session{}, session.User{}, err
	}
	x := getSessionUserScan()
	defer putSessionUserScan(x)
	if err := row.Scan(x.dest(s.q.device)...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return session.Session{}, session.User{}, s.notFound("session")
		}
		return session.Session{}, session.User{}, err
	}
	if !x.u.id.Valid { // a session whose user is gone
		return session.Session{}, session.User{}, s.notFound("session")
	}
	return x.s.session(), x.u.user(), nil
}

// UpdateSession implements session.Store: a missing session, or a user id
// that cannot exist, is ErrNotFound. Where Session has an updatedAt
// column it is set to the time of the update.
func (s *Store) UpdateSession(ctx context.Context, u session.SessionUpdate) error {
	if !searchable(u.Token) || (u.UserID != "" && !s.validID(u.UserID)) {
		return s.notFound("session")
	}
	n, err := s.exec(ctx, s.q.updateSession.query, s.q.updateSession.args(sessionUpdateIn{u: u, now: time.Now()}))
	if err != nil {
		return err
	}
	if n == 0 {
		return s.notFound("session")
	}
	return nil
}

// DeleteSession implements session.Adapter.
func (s *Store) DeleteSession(ctx context.Context, token string) error {
	if !searchable(token) {
		return nil
	}
	_, err := s.exec(ctx, s.q.deleteSession.query, s.q.deleteSession.args(token))
	return err
}

// CreateVerificationToken implements session.Adapter.
func (s *Store) CreateVerificationToken(ctx context.Context, t session.VerificationToken) (session.VerificationToken, error) {
	t.Expires = t.Expires.UTC().Truncate(time.Millisecond)
	if _, err := s.exec(ctx, s.q.createVerificationToken.query, s.q.createVerificationToken.args(t)); err != nil {
		return session.VerificationToken{}, fmt.Errorf("%s: creating verification token: %w", s.dialect, err)
	}
	return t, nil
}

// UseVerificationToken implements session.Adapter: one DELETE ...
// RETURNING, so two concurrent uses cannot both succeed.
func (s *Store) UseVerificationToken(ctx context.Context, identifier, token string) (session.VerificationToken, error) {
	if !searchable(identifier, token) {
		return session.VerificationToken{}, s.notFound("verification token")
	}
	q := s.q.useVerificationToken
	row, err := s.queryRow(ctx, q.query, q.args(pair{identifier, token}))
	if err != nil {
		return session.VerificationToken{}, err
	}
	var t session.VerificationToken
	var exp nullDate
	if err := row.Scan(&t.Identifier, &t.Token, &exp); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return session.VerificationToken{}, s.notFound("verification token")
		}
		return session.VerificationToken{}, err
	}
	t.Expires = exp.Time
	return t, nil
}

// DeleteUserSessions implements session.Adapter.
func (s *Store) DeleteUserSessions(ctx context.Context, userID, keep string) (int64, error) {
	if !s.validID(userID) || !searchable(keep) {
		return 0, nil
	}
	return s.exec(ctx, s.q.deleteUserSessions.query, s.q.deleteUserSessions.args(pair{userID, keep}))
}

// CountActive implements session.Adapter. On SQLite it picks the form of
// the count by whether the table has an index led by expires: summed index
// ranges with one, a single pass over the table without.
func (s *Store) CountActive(ctx context.Context, userID string, now time.Time) (int64, error) {
	indexed, err := s.expiresIndexed(ctx)
	if err != nil {
		return 0, err
	}
	q := s.q.countActive
	if !indexed {
		q = s.q.countActiveScan
	}
	if userID != "" {
		if !s.validID(userID) {
			return 0, nil
		}
		q = s.q.countUserActive
		if !indexed {
			q = s.q.countUserActiveScan
		}
	}
	row, err := s.queryRow(ctx, q.query, q.args(nowIn{now: now, userID: userID}))
	if err != nil {
		return 0, err
	}
	var n int64
	err = row.Scan(&n)
	return n, err
}

// expiresIndexed reports, for SQLite, whether the session table has an
// index led by expires; it asks once, and again after CreateIndexes.
func (s *Store) expiresIndexed(ctx context.Context) (bool, error) {
	if s.dialect == adapter.Postgres {
		return true, nil
	}
	switch s.indexed.Load() {
	case indexYes:
		return true, nil
	case indexNo:
		return false, nil
	}
	q := s.q.expiresIndexed
	row, err := s.queryRow(ctx, q.query, q.args(s.flavour.Tables.Session))
	if err != nil {
		return false, err
	}
	var n int
	if err := row.Scan(&n); err != nil {
		return false, err
	}
	if n > 0 {
		s.indexed.Store(indexYes)
	} else {
		s.indexed.Store(indexNo)
	}
	return n > 0, nil
}

// Values of Store.indexed.
const (
	indexUnknown int32 = iota
	indexYes
	indexNo
)

// DeleteExpired implements session.Adapter.
func (s *Store) DeleteExpired(ctx context.Context, now time.Time, limit int) (int64, error) {
	if limit <= 0 {
		return 0, nil
	}
	return s.exec(ctx, s.q.deleteExpired.query, s.q.deleteExpired.args(nowIn{now: now, limit: limit}))
}

func quoteID(id string) string {
	if len(id) > 40 {
		id = id[:40] + "..."
	}
	return fmt.Sprintf("%q", id)
}
