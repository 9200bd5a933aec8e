package session

import (
	"context"
	"time"
)

// User is a row of NextAuth's User table. Empty strings and nil times stand
// for NULL columns.
type User struct {
	ID            string
	Name          string
	Email         string
	EmailVerified *time.Time
	Image         string
}

// Account links a User to an OAuth or other provider, as in NextAuth's
// Account table. Empty strings and zero numbers stand for NULL columns.
type Account struct {
	// ID is empty for schema flavours whose Account table has no id column.
	ID                string
	UserID            string
	Type              string
	Provider          string
	ProviderAccountID string
	RefreshToken      string
	AccessToken       string
	ExpiresAt         int64
	TokenType         string
	Scope             string
	IDToken           string
	SessionState      string
}

// Session is a row of NextAuth's Session table: one per signed-in browser.
type Session struct {
	// ID is the row's primary key; it is empty for schema flavours whose
	// Session table is keyed by the token (Drizzle).
	ID string
	// Token is the value stored in the sessionToken column: the cookie value,
	// or its SHA-256 when Config.HashTokens is set.
	Token  string
	UserID string
	// Expires is when the session ends unless it is extended.
	Expires time.Time
	// CreatedAt is zero for schema flavours without a createdAt column.
	CreatedAt time.Time
	// UserAgent and IP describe the device that signed in, where the
	// flavour has columns for them (adapter.Flavour.Device); else empty.
	UserAgent string
	IP        string
}

// VerificationToken is a row of NextAuth's VerificationToken table, used for
// email sign-in links.
type VerificationToken struct {
	Identifier string
	Token      string
	Expires    time.Time
}

// Store is what a Manager needs to sign users in, validate their sessions
// and sign them out: the four session methods of an Auth.js adapter. A
// custom store (Redis, an existing ORM) implements these; the Manager finds
// the optional abilities below (SessionLister, UserSessionDeleter,
// ActiveCounter, ExpiredDeleter) by type assertion, and a Manager method
// whose store lacks one returns an error wrapping errors.ErrUnsupported.
//
// Methods that look up one row return an error wrapping ErrNotFound when
// there is none. A token that cannot exist in the database (invalid UTF-8,
// a NUL byte) is simply not found: no method answers it with a database
// error. Times passed in and returned are UTC, truncated to the
// millisecond, as JavaScript's Date keeps them.
type Store interface {
	// CreateSession stores s. It fails with ErrUnknownUser when s.UserID
	// names no user.
	CreateSession(ctx context.Context, s Session) (Session, error)
	// GetSessionAndUser reads a session and its user, in one query where
	// the database allows it.
	GetSessionAndUser(ctx context.Context, token string) (Session, User, error)
	// UpdateSession changes the fields that u names of the session with
	// u.Token. It fails with ErrNotFound when no session has the token (it
	// was revoked meanwhile), so that an extension racing a revocation is
	// no session.
	UpdateSession(ctx context.Context, u SessionUpdate) error
	// DeleteSession removes the session with the token; a missing one is no error.
	DeleteSession(ctx context.Context, token string) error
}

// SessionUpdate names a session by its token and the fields to change,
// as Auth.js's updateSession takes a partial session. A zero field is left
// as it is.
type SessionUpdate struct {
	// Token is the stored token of the session to change (required).
	Token string
	// Expires, when not zero, is the new expiry.
	Expires time.Time
	// UserID, when not empty, moves the session to another user.
	UserID string
}

// SessionLister is a Store that can list active sessions, for admin pages
// (Manager.ListActive, Manager.RevokeHandle).
type SessionLister interface {
	// ListSessions returns the sessions that q selects, with their users,
	// newest expiry first.
	ListSessions(ctx context.Context, q ListQuery) ([]SessionUser, error)
}

// ListQuery selects sessions for SessionLister.ListSessions. The listing
// is ordered by expiry, newest first, then by a tiebreak the store chooses
// (ListCursor.Key), so that it can be read page by page: Limit rows, then
// Limit more After the last one's Cursor. Each page is a keyset query on
// the database, not an offset over the rows before it.
type ListQuery struct {
	// Now: only sessions with expires >= Now are listed.
	Now time.Time
	// UserID, when not empty, lists that user's sessions only.
	UserID string
	// Limit, when > 0, is the most rows returned.
	Limit int
	// After, when not zero, lists only the sessions that come after it in
	// the order above: pass the Cursor of the last row of the page before.
	After ListCursor
	// Search, when not empty, lists only the sessions of users whose email
	// or name contains it, ignoring case (on SQLite, the case of ASCII
	// letters only). It is matched as plain text: % and _ are no wildcards.
	Search string
}

// ListCursor is a position in a listing (SessionUser.Cursor,
// ListQuery.After). It holds no token, so it may be put in a URL: Key is
// a non-secret tiebreak among sessions of equal expiry that the store
// chooses (the SQL stores use the session's id, or a value derived from
// the row where the schema has no id). A cursor that names no row still
// works: the listing continues after the place it would have had.
type ListCursor struct {
	Expires time.Time
	Key     string
}

// IsZero reports whether c is the zero cursor: the start of a listing.
func (c ListCursor) IsZero() bool { return c.Expires.IsZero() && c.Key == "" }

// UserSessionDeleter is a Store that can delete all sessions of a user
// (Manager.RevokeUser, Manager.RevokeOthers).
type UserSessionDeleter interface {
	// DeleteUserSessions removes every session of the user except the one
	// whose token is keep (none when keep is empty) and says how many went.
	// An empty userID deletes nothing.
	DeleteUserSessions(ctx context.Context, userID, keep string) (int64, error)
}

// ActiveCounter is a Store that can count active sessions
// (Manager.CountActive, Manager.CountUserActive).
type ActiveCounter interface {
	// CountActive counts sessions with expires >= now, of one user when
	// userID is not empty.
	CountActive(ctx context.Context, userID string, now time.Time) (int64, error)
}

// ExpiredDeleter is a Store that can delete expired sessions in batches
// (Manager.Sweep and the background sweeper).
type ExpiredDeleter interface {
	// DeleteExpired removes at most limit sessions with expires < now and
	// says how many went.
	DeleteExpired(ctx context.Context, now time.Time, limit int) (int64, error)
}

// UserFields names fields of a User, for a partial update.
type UserFields uint8

// The User fields UpdateUser can change.
const (
	UserName UserFields = 1 << iota
	UserEmail
	UserEmailVerified
	UserImage

	// AllUserFields writes the whole row but its id.
	AllUserFields = UserName | UserEmail | UserEmailVerified | UserImage
)

// Adapter is the whole Auth.js-shaped storage interface that the SQL
// stores implement and adapter/adaptertest checks: a Store with every
// optional ability, plus the user, account and verification-token methods
// of an Auth.js adapter, with the same meaning. A Manager needs only the
// Store part.
type Adapter interface {
	Store
	SessionLister
	UserSessionDeleter
	ActiveCounter
	ExpiredDeleter

	CreateUser(ctx context.Context, u User) (User, error)
	GetUser(ctx context.Context, id string) (User, error)
	GetUserByEmail(ctx context.Context, email string) (User, error)
	GetUserByAccount(ctx context.Context, provider, providerAccountID string) (User, error)
	// UpdateUser writes the fields of u that fields names to the row with
	// u's ID, leaving the others as they are (Auth.js's updateUser takes a
	// partial user), and returns the whole row after the update. It fails
	// with ErrNotFound when no user has that id.
	UpdateUser(ctx context.Context, u User, fields UserFields) (User, error)
	// DeleteUser removes the user with its sessions and accounts; a missing
	// user is no error.
	DeleteUser(ctx context.Context, id string) error
	LinkAccount(ctx context.Context, a Account) (Account, error)
	// UnlinkAccount removes the account; a missing one is no error.
	UnlinkAccount(ctx context.Context, provider, providerAccountID string) error
	CreateVerificationToken(ctx context.Context, t VerificationToken) (VerificationToken, error)
	// UseVerificationToken returns the token and deletes it; ErrNotFound
	// when there is none.
	UseVerificationToken(ctx context.Context, identifier, token string) (VerificationToken, error)
}

// SessionUser is a session with its user, as listed for an admin.
type SessionUser struct {
	Session Session
	User    User
	// Cursor is the row's place in the listing: ListQuery.After set to it
	// lists the rows that follow.
	Cursor ListCursor
}
