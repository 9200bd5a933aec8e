package session_test

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/memory"
)

// spy is a memory store that counts the calls a Manager makes, records
// the tokens it asks about (so that a test can prove a bad cookie never
// reaches the store), and fails the methods it is told to, as a database
// that is down. Its methods are the Store's and the abilities'.
type spy struct {
	*memory.Store

	mu    sync.Mutex
	calls map[string]int
	asked []string         // tokens of session reads, updates and deletes
	errs  map[string]error // by method; "" fails every method
}

func newSpy() *spy {
	return &spy{Store: memory.New(), calls: map[string]int{}, errs: map[string]error{}}
}

// hit records a call of method (about token, when not empty) and returns
// the error it is to fail with.
func (s *spy) hit(method, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls[method]++
	if token != "" {
		s.asked = append(s.asked, token)
	}
	if err := s.errs[""]; err != nil {
		return err
	}
	return s.errs[method]
}

// fail makes method return err, every method when method is empty; a nil
// err makes it work again.
func (s *spy) fail(method string, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.errs[method] = err
}

func (s *spy) count(method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls[method]
}

func (s *spy) total() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, v := range s.calls {
		n += v
	}
	return n
}

// askedTokens returns the tokens of the session reads, updates and
// deletes so far; queries says how many there were.
func (s *spy) askedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.asked)
}

func (s *spy) queries() int { return len(s.askedTokens()) }

func (s *spy) reset() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls, s.asked = map[string]int{}, nil
}

// has reports whether a session with the stored token exists, without
// counting as a call.
func (s *spy) has(stored string) bool {
	_, _, err := s.Store.GetSessionAndUser(context.Background(), stored)
	return err == nil
}

func (s *spy) CreateSession(ctx context.Context, se session.Session) (session.Session, error) {
	if err := s.hit("CreateSession", ""); err != nil {
		return session.Session{}, err
	}
	return s.Store.CreateSession(ctx, se)
}

func (s *spy) GetSessionAndUser(ctx context.Context, token string) (session.Session, session.User, error) {
	if err := s.hit("GetSessionAndUser", token); err != nil {
		return session.Session{}, session.User{}, err
	}
	return s.Store.GetSessionAndUser(ctx, token)
}

func (s *spy) UpdateSession(ctx context.Context, u session.SessionUpdate) error {
	if err := s.hit("UpdateSession", u.Token); err != nil {
		return err
	}
	return s.Store.UpdateSession(ctx, u)
}

func (s *spy) DeleteSession(ctx context.Context, token string) error {
	if err := s.hit("DeleteSession", token); err != nil {
		return err
	}
	return s.Store.DeleteSession(ctx, token)
}

func (s *spy) ListSessions(ctx context.Context, q session.ListQuery) ([]session.SessionUser, error) {
	if err := s.hit("ListSessions", ""); err != nil {
		return nil, err
	}
	return s.Store.ListSessions(ctx, q)
}

func (s *spy) DeleteUserSessions(ctx context.Context, userID, keep string) (int64, error) {
	if err := s.hit("DeleteUserSessions", ""); err != nil {
		return 0, err
	}
	return s.Store.DeleteUserSessions(ctx, userID, keep)
}

func (s *spy) CountActive(ctx context.Context, userID string, now time.Time) (int64, error) {
	if err := s.hit("CountActive", ""); err != nil {
		return 0, err
	}
	return s.Store.CountActive(ctx, userID, now)
}

func (s *spy) DeleteExpired(ctx context.Context, now time.Time, limit int) (int64, error) {
	if err := s.hit("DeleteExpired", ""); err != nil {
		return 0, err
	}
	return s.Store.DeleteExpired(ctx, now, limit)
}
