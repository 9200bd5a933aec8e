package memory

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/nextsession/nextsession/session"
)

// Store is a session.Adapter on maps guarded by one lock. The zero value
// is not usable; call New.
type Store struct {
	mu       sync.RWMutex
	users    map[string]session.User
	accounts map[accountKey]session.Account
	sessions map[string]session.Session // by token
	tokens   map[tokenKey]session.VerificationToken
}

type accountKey struct{ provider, id string }

type tokenKey struct{ identifier, token string }

var (
	_ session.Adapter      = (*Store)(nil)
	_ session.ContextBound = (*Store)(nil)
	_ session.SelfBounded  = (*Store)(nil)
)

// BoundByContext implements session.ContextBound: no call waits for
// anything but the store's lock, so a Manager runs them in the request's
// goroutine.
func (s *Store) BoundByContext() bool { return true }

// SessionCallsSelfBounded implements session.SelfBounded: a call on one
// session holds the store's lock for a map lookup. A type that embeds
// Store does not inherit the answer (self is this Store).
func (s *Store) SessionCallsSelfBounded() (self session.Store, ok bool) { return s, true }

// New returns an empty Store.
func New() *Store {
	return &Store{
		users:    map[string]session.User{},
		accounts: map[accountKey]session.Account{},
		sessions: map[string]session.Session{},
		tokens:   map[tokenKey]session.VerificationToken{},
	}
}

// ErrExists is returned, wrapped, when a row would repeat a unique key: a
// user's id or email, an account's provider and id, a session's token, a
// verification token.
var ErrExists = errors.New("memory: already exists")

func notFound(what string) error {
	return fmt.Errorf("memory: %s: %w", what, session.ErrNotFound)
}

func exists(what string) error {
	return fmt.Errorf("%w: %s", ErrExists, what)
}

// newID returns a random UUID.
func newID() string {
	id, err := session.NewUUIDToken()
	if err != nil {
		panic("memory: crypto/rand failed: " + err.Error())
	}
	return id
}

// ms is t as every store returns it: UTC, cut to the millisecond.
func ms(t time.Time) time.Time {
	if t.IsZero() {
		return t
	}
	return t.UTC().Truncate(time.Millisecond)
}

// msPtr copies *t as ms does, so that no caller shares a stored pointer.
func msPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := ms(*t)
	return &v
}

// user returns a copy of u that shares nothing with it.
func user(u session.User) session.User {
	u.EmailVerified = msPtr(u.EmailVerified)
	return u
}

// emailTaken reports whether another user than id has the email.
func (s *Store) emailTaken(email, id string) bool {
	if email == "" {
		return false
	}
	for _, o := range s.users {
		if o.Email == email && o.ID != id {
			return true
		}
	}
	return false
}

// CreateUser stores u, with a new UUID as its id when u.ID is empty. An
// id or email already stored fails with ErrExists.
func (s *Store) CreateUser(_ context.Context, u session.User) (session.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if u.ID == "" {
		u.ID = newID()
	}
	if _, ok := s.users[u.ID]; ok {
		return session.User{}, exists("user id")
	}
	if s.emailTaken(u.Email, u.ID) {
		return session.User{}, exists("user email")
	}
	u = user(u)
	s.users[u.ID] = u
	return user(u), nil
}

// GetUser returns the user with the id.
func (s *Store) GetUser(_ context.Context, id string) (session.User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	u, ok := s.users[id]
	if !ok {
		return session.User{}, notFound("user")
	}
	return user(u), nil
}

// GetUserByEmail returns the user with the email.
func (s *Store) GetUserByEmail(_ context.Context, email string) (session.User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	for _, u := range s.users {
		if email != "" && u.Email == email {
			return user(u), nil
		}
	}
	return session.User{}, notFound("user by email")
}

// GetUserByAccount returns the user the account is linked to.
func (s *Store) GetUserByAccount(_ context.Context, provider, providerAccountID string) (session.User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if a, ok := s.accounts[accountKey{provider, providerAccountID}]; ok {
		if u, ok := s.users[a.UserID]; ok {
			return user(u), nil
		}
	}
	return session.User{}, notFound("user by account")
}

// UpdateUser writes the fields of u that fields names and returns the
// whole user; the others keep their values.
func (s *Store) UpdateUser(_ context.Context, u session.User, fields session.UserFields) (session.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	old, ok := s.users[u.ID]
	if !ok {
		return session.User{}, notFound("user")
	}
	if fields&session.UserName != 0 {
		old.Name = u.Name
	}
	if fields&session.UserEmail != 0 {
		if s.emailTaken(u.Email, u.ID) {
			return session.User{}, exists("user email")
		}
		old.Email = u.Email
	}
	if fields&session.UserEmailVerified != 0 {
		old.EmailVerified = msPtr(u.EmailVerified)
	}
	if fields&session.UserImage != 0 {
		old.Image = u.Image
	}
	s.users[u.ID] = old
	return user(old), nil
}

// DeleteUser removes the user with its sessions and accounts.
func (s *Store) DeleteUser(_ context.Context, id string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.users, id)
	for k, a := range s.accounts {
		if a.UserID == id {
			delete(s.accounts, k)
		}
	}
	for k, se := range s.sessions {
		if se.UserID == id {
			delete(s.sessions, k)
		}
	}
	return nil
}

// LinkAccount stores the account, with a new UUID as its id when a.ID is
// empty. It fails with session.ErrUnknownUser when a.UserID names no
// user, and with ErrExists when the provider's account is linked already.
func (s *Store) LinkAccount(_ context.Context, a session.Account) (session.Account, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[a.UserID]; !ok {
		return session.Account{}, fmt.Errorf("memory: linking account: %w", session.ErrUnknownUser)
	}
	k := accountKey{a.Provider, a.ProviderAccountID}
	if _, ok := s.accounts[k]; ok {
		return session.Account{}, exists("account")
	}
	if a.ID == "" {
		a.ID = newID()
	}
	s.accounts[k] = a
	return a, nil
}

// UnlinkAccount removes the account.
func (s *Store) UnlinkAccount(_ context.Context, provider, providerAccountID string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.accounts, accountKey{provider, providerAccountID})
	return nil
}

// CreateSession stores the session, with a new UUID as its id when se.ID
// is empty and the current time as CreatedAt when it is zero.
func (s *Store) CreateSession(_ context.Context, se session.Session) (session.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[se.UserID]; !ok {
		return session.Session{}, fmt.Errorf("memory: creating session: %w", session.ErrUnknownUser)
	}
	if _, ok := s.sessions[se.Token]; ok || se.Token == "" {
		return session.Session{}, exists("session token")
	}
	if se.ID == "" {
		se.ID = newID()
	}
	if se.CreatedAt.IsZero() {
		se.CreatedAt = time.Now()
	}
	se.Expires, se.CreatedAt = ms(se.Expires), ms(se.CreatedAt)
	s.sessions[se.Token] = se
	return se, nil
}

// GetSessionAndUser returns the session with the token and its user.
func (s *Store) GetSessionAndUser(_ context.Context, token string) (session.Session, session.User, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	se, ok := s.sessions[token]
	if !ok {
		return session.Session{}, session.User{}, notFound("session")
	}
	u, ok := s.users[se.UserID]
	if !ok {
		return session.Session{}, session.User{}, notFound("session")
	}
	return se, user(u), nil
}

// UpdateSession changes the fields u names of the session with u.Token.
// It fails with session.ErrNotFound when there is none, and with
// session.ErrUnknownUser when u.UserID names no user.
func (s *Store) UpdateSession(_ context.Context, u session.SessionUpdate) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	se, ok := s.sessions[u.Token]
	if !ok {
		return notFound("session")
	}
	if u.UserID != "" {
		if _, ok := s.users[u.UserID]; !ok {
			return fmt.Errorf("memory: updating session: %w", session.ErrUnknownUser)
		}
		se.UserID = u.UserID
	}
	if !u.Expires.IsZero() {
		se.Expires = ms(u.Expires)
	}
	s.sessions[u.Token] = se
	return nil
}

// DeleteSession removes the session with the token.
func (s *Store) DeleteSession(_ context.Context, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, token)
	return nil
}

// CreateVerificationToken stores t; the same identifier and token twice
// fails with ErrExists.
func (s *Store) CreateVerificationToken(_ context.Context, t session.VerificationToken) (session.VerificationToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := tokenKey{t.Identifier, t.Token}
	if _, ok := s.tokens[k]; ok {
		return session.VerificationToken{}, exists("verification token")
	}
	t.Expires = ms(t.Expires)
	s.tokens[k] = t
	return t, nil
}

// UseVerificationToken returns the token and deletes it.
func (s *Store) UseVerificationToken(_ context.Context, identifier, token string) (session.VerificationToken, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	k := tokenKey{identifier, token}
	t, ok := s.tokens[k]
	if !ok {
		return session.VerificationToken{}, notFound("verification token")
	}
	delete(s.tokens, k)
	return t, nil
}

// active reports whether se is one of q's sessions.
func active(se session.Session, userID string, now time.Time) bool {
	return (userID == "" || se.UserID == userID) && !se.Expires.Before(now)
}

// ListSessions returns the active sessions q selects with their users,
// newest expiry first.
func (s *Store) ListSessions(_ context.Context, q session.ListQuery) ([]session.SessionUser, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	// Ties in expiry are ordered by the session's handle, which names it
	// without its token: that is the cursor's key.
	order := func(a, b session.ListCursor) int {
		return cmp.Or(b.Expires.Compare(a.Expires), cmp.Compare(b.Key, a.Key))
	}
	search := strings.ToLower(q.Search)
	var out []session.SessionUser
	for _, se := range s.sessions {
		u, ok := s.users[se.UserID]
		if !ok || !active(se, q.UserID, q.Now) {
			continue
		}
		if search != "" && !strings.Contains(strings.ToLower(u.Email), search) && !strings.Contains(strings.ToLower(u.Name), search) {
			continue
		}
		c := session.ListCursor{Expires: se.Expires, Key: se.Handle()}
		if !q.After.IsZero() && order(q.After, c) >= 0 {
			continue
		}
		out = append(out, session.SessionUser{Session: se, User: user(u), Cursor: c})
	}
	slices.SortFunc(out, func(a, b session.SessionUser) int { return order(a.Cursor, b.Cursor) })
	if q.Limit > 0 && len(out) > q.Limit {
		out = out[:q.Limit]
	}
	return out, nil
}

// DeleteUserSessions removes the user's sessions but keep.
func (s *Store) DeleteUserSessions(_ context.Context, userID, keep string) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var n int64
	for k, se := range s.sessions {
		if userID != "" && se.UserID == userID && k != keep {
			delete(s.sessions, k)
			n++
		}
	}
	return n, nil
}

// CountActive counts sessions with expires >= now, of one user when
// userID is not empty.
func (s *Store) CountActive(_ context.Context, userID string, now time.Time) (int64, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	var n int64
	for _, se := range s.sessions {
		if active(se, userID, now) {
			n++
		}
	}
	return n, nil
}

// DeleteExpired removes at most limit sessions with expires < now, the
// longest expired first.
func (s *Store) DeleteExpired(_ context.Context, now time.Time, limit int) (int64, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var expired []session.Session
	for _, se := range s.sessions {
		if se.Expires.Before(now) {
			expired = append(expired, se)
		}
	}
	slices.SortFunc(expired, func(a, b session.Session) int { return a.Expires.Compare(b.Expires) })
	expired = expired[:min(len(expired), max(limit, 0))]
	for _, se := range expired {
		delete(s.sessions, se.Token)
	}
	return int64(len(expired)), nil
}
