package adaptertest_test

import (
	"cmp"
	"context"
	"crypto/rand"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/adapter/adaptertest"
	"github.com/nextsession/nextsession/session"
)

// TestSuiteOnMemory runs the suite on an in-memory adapter that keeps the
// contract, for every flavour, so that a failure in a store's run points at
// the store rather than the suite.
func TestSuiteOnMemory(t *testing.T) {
	for _, f := range adapter.Flavours() {
		t.Run(f.Name, func(t *testing.T) {
			adaptertest.Run(t, adaptertest.Config{
				Flavour: f,
				New:     func(t *testing.T) session.Adapter { return newMemory(f) },
			})
		})
	}
}

// memory is a session.Adapter on maps, guarded by one mutex.
type memory struct {
	f        adapter.Flavour
	mu       sync.Mutex
	serial   int
	users    map[string]session.User
	accounts map[[2]string]session.Account
	sessions map[string]session.Session
	tokens   map[[2]string]session.VerificationToken
}

var _ session.Adapter = (*memory)(nil)

func newMemory(f adapter.Flavour) *memory {
	return &memory{
		f:        f,
		users:    map[string]session.User{},
		accounts: map[[2]string]session.Account{},
		sessions: map[string]session.Session{},
		tokens:   map[[2]string]session.VerificationToken{},
	}
}

// newID makes an id of the flavour's shape.
func (m *memory) newID() string {
	m.serial++
	switch m.f.IDs {
	case adapter.IDSerial:
		return strconv.Itoa(m.serial)
	case adapter.IDUUID, adapter.IDPostgresUUID:
		return fmt.Sprintf("00000000-0000-4000-8000-%012d", m.serial)
	}
	return "c" + strings.ToLower(rand.Text())
}

func notFound(what, key string) error {
	return fmt.Errorf("memory: %s %q: %w", what, key, session.ErrNotFound)
}

func (m *memory) CreateUser(_ context.Context, u session.User) (session.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if u.ID == "" || m.f.IDs == adapter.IDSerial {
		u.ID = m.newID()
	}
	for _, o := range m.users {
		if u.Email != "" && o.Email == u.Email {
			return session.User{}, fmt.Errorf("memory: email %q taken", u.Email)
		}
	}
	m.users[u.ID] = u
	return u, nil
}

func (m *memory) GetUser(_ context.Context, id string) (session.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	u, ok := m.users[id]
	if !ok {
		return u, notFound("user", id)
	}
	return u, nil
}

func (m *memory) GetUserByEmail(_ context.Context, email string) (session.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, u := range m.users {
		if u.Email == email {
			return u, nil
		}
	}
	return session.User{}, notFound("email", email)
}

func (m *memory) GetUserByAccount(_ context.Context, provider, id string) (session.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a, ok := m.accounts[[2]string{provider, id}]; ok {
		if u, ok := m.users[a.UserID]; ok {
			return u, nil
		}
	}
	return session.User{}, notFound("account", provider+"/"+id)
}

func (m *memory) UpdateUser(_ context.Context, u session.User, f session.UserFields) (session.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	old, ok := m.users[u.ID]
	if !ok {
		return session.User{}, notFound("user", u.ID)
	}
	if f&session.UserName != 0 {
		old.Name = u.Name
	}
	if f&session.UserEmail != 0 {
		old.Email = u.Email
	}
	if f&session.UserEmailVerified != 0 {
		old.EmailVerified = u.EmailVerified
	}
	if f&session.UserImage != 0 {
		old.Image = u.Image
	}
	m.users[u.ID] = old
	return old, nil
}

func (m *memory) DeleteUser(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.users, id)
	for k, a := range m.accounts {
		if a.UserID == id {
			delete(m.accounts, k)
		}
	}
	for k, s := range m.sessions {
		if s.UserID == id {
			delete(m.sessions, k)
		}
	}
	return nil
}

func (m *memory) LinkAccount(_ context.Context, a session.Account) (session.Account, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{a.Provider, a.ProviderAccountID}
	if _, ok := m.accounts[k]; ok {
		return session.Account{}, fmt.Errorf("memory: account %v exists", k)
	}
	a.ID = ""
	if m.f.AccountID {
		a.ID = m.newID()
	}
	m.accounts[k] = a
	return a, nil
}

func (m *memory) UnlinkAccount(_ context.Context, provider, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.accounts, [2]string{provider, id})
	return nil
}

func (m *memory) CreateSession(_ context.Context, s session.Session) (session.Session, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.users[s.UserID]; !ok {
		return session.Session{}, fmt.Errorf("memory: user %q: %w", s.UserID, session.ErrUnknownUser)
	}
	if _, ok := m.sessions[s.Token]; ok {
		return session.Session{}, fmt.Errorf("memory: session token exists")
	}
	s.ID = ""
	if m.f.SessionID {
		s.ID = m.newID()
	}
	if !m.f.SessionCreatedAt {
		s.CreatedAt = time.Time{}
	}
	if m.f.Device.UserAgent == "" {
		s.UserAgent = ""
	}
	if m.f.Device.IP == "" {
		s.IP = ""
	}
	m.sessions[s.Token] = s
	return s, nil
}

func (m *memory) GetSessionAndUser(_ context.Context, token string) (session.Session, session.User, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[token]
	if !ok {
		return s, session.User{}, notFound("session", token)
	}
	u, ok := m.users[s.UserID]
	if !ok {
		return session.Session{}, u, notFound("session", token)
	}
	return s, u, nil
}

func (m *memory) UpdateSession(_ context.Context, u session.SessionUpdate) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	s, ok := m.sessions[u.Token]
	if !ok {
		return notFound("session", u.Token)
	}
	if !u.Expires.IsZero() {
		s.Expires = u.Expires
	}
	if u.UserID != "" {
		s.UserID = u.UserID
	}
	m.sessions[u.Token] = s
	return nil
}

func (m *memory) DeleteSession(_ context.Context, token string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.sessions, token)
	return nil
}

func (m *memory) CreateVerificationToken(_ context.Context, t session.VerificationToken) (session.VerificationToken, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.tokens[[2]string{t.Identifier, t.Token}] = t
	return t, nil
}

func (m *memory) UseVerificationToken(_ context.Context, identifier, token string) (session.VerificationToken, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	k := [2]string{identifier, token}
	t, ok := m.tokens[k]
	if !ok {
		return t, notFound("verification token", token)
	}
	delete(m.tokens, k)
	return t, nil
}

func (m *memory) ListSessions(_ context.Context, q session.ListQuery) ([]session.SessionUser, error) {
	userID, now, limit := q.UserID, q.Now, q.Limit
	m.mu.Lock()
	defer m.mu.Unlock()
	var out []session.SessionUser
	for _, s := range m.sessions {
		if (userID == "" || s.UserID == userID) && !s.Expires.Before(now) {
			out = append(out, session.SessionUser{Session: s, User: m.users[s.UserID]})
		}
	}
	slices.SortFunc(out, func(a, b session.SessionUser) int { return b.Session.Expires.Compare(a.Session.Expires) })
	if limit > 0 && len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (m *memory) DeleteUserSessions(_ context.Context, userID, keep string) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for k, s := range m.sessions {
		if s.UserID == userID && s.Token != keep {
			delete(m.sessions, k)
			n++
		}
	}
	return n, nil
}

func (m *memory) CountActive(_ context.Context, userID string, now time.Time) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n int64
	for _, s := range m.sessions {
		if (userID == "" || s.UserID == userID) && !s.Expires.Before(now) {
			n++
		}
	}
	return n, nil
}

func (m *memory) DeleteExpired(_ context.Context, now time.Time, limit int) (int64, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var expired []session.Session
	for _, s := range m.sessions {
		if s.Expires.Before(now) {
			expired = append(expired, s)
		}
	}
	slices.SortFunc(expired, func(a, b session.Session) int { return cmp.Compare(a.Token, b.Token) })
	if limit > 0 && len(expired) > limit {
		expired = expired[:limit]
	}
	for _, s := range expired {
		delete(m.sessions, s.Token)
	}
	return int64(len(expired)), nil
}
