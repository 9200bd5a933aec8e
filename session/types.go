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

// Adapter is the storage behind a Manager. Its first fourteen methods are
// those of an Auth.js adapter, with the same meaning; the rest serve session
// management that Auth.js does not offer.
//
// Methods that look up one row return an error wrapping ErrNotFound when
// there is none. An id or token that cannot exist in the database (not a
// number for a serial id, invalid UTF-8, a NUL byte) is simply not found:
// no method answers it with a database error. Times passed in and returned are UTC, truncated to the
// millisecond, as JavaScript's Date keeps them.
type Adapter interface {
	CreateUser(ctx context.Context, u User) (User, error)
	GetUser(ctx context.Context, id string) (User, error)
	GetUserByEmail(ctx context.Context, email string) (User, error)
	GetUserByAccount(ctx context.Context, provider, providerAccountID string) (User, error)
	// UpdateUser writes every field of u except ID to the row with u's ID;
	// it fails with ErrNotFound when no user has that id.
	UpdateUser(ctx context.Context, u User) (User, error)
	// DeleteUser removes the user with its sessions and accounts; a missing
	// user is no error.
	DeleteUser(ctx context.Context, id string) error
	LinkAccount(ctx context.Context, a Account) (Account, error)
	// UnlinkAccount removes the account; a missing one is no error.
	UnlinkAccount(ctx context.Context, provider, providerAccountID string) error
	// CreateSession stores s. It fails with ErrUnknownUser when s.UserID
	// names no user.
	CreateSession(ctx context.Context, s Session) (Session, error)
	// GetSessionAndUser reads a session and its user in one query.
	GetSessionAndUser(ctx context.Context, token string) (Session, User, error)
	// UpdateSession sets the expiry of the session with the token; a
	// missing one is no error (it was revoked meanwhile).
	UpdateSession(ctx context.Context, token string, expires time.Time) error
	// DeleteSession removes the session with the token; a missing one is no error.
	DeleteSession(ctx context.Context, token string) error
	CreateVerificationToken(ctx context.Context, t VerificationToken) (VerificationToken, error)
	// UseVerificationToken returns the token and deletes it.
	UseVerificationToken(ctx context.Context, identifier, token string) (VerificationToken, error)

	// ListSessions returns the sessions that have not expired at now,
	// newest expiry first: those of one user when userID is not empty, with
	// at most limit rows when limit > 0.
	ListSessions(ctx context.Context, userID string, now time.Time, limit int) ([]SessionUser, error)
	// DeleteUserSessions removes every session of the user except the one
	// whose token is keep (none when keep is empty) and says how many went.
	// An empty userID deletes nothing.
	DeleteUserSessions(ctx context.Context, userID, keep string) (int64, error)
	// CountActive counts sessions with expires >= now, of one user when
	// userID is not empty.
	CountActive(ctx context.Context, userID string, now time.Time) (int64, error)
	// DeleteExpired removes at most limit sessions with expires < now and
	// says how many went.
	DeleteExpired(ctx context.Context, now time.Time, limit int) (int64, error)
}

// SessionUser is a session with its user, as listed for an admin.
type SessionUser struct {
	Session Session
	User    User
}
