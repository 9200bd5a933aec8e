package session_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/memory"
)

// peeker answers PeekSessionAndUser from what the store held when it was
// filled, and counts the reads that reach the store.
type peeker struct {
	*memory.Store
	held  map[string]session.SessionUser
	reads atomic.Int64
}

func (p *peeker) PeekSessionAndUser(token string) (session.Session, session.User, bool) {
	su, ok := p.held[token]
	return su.Session, su.User, ok
}

func (p *peeker) GetSessionAndUser(ctx context.Context, token string) (session.Session, session.User, error) {
	p.reads.Add(1)
	return p.Store.GetSessionAndUser(ctx, token)
}

// A SessionPeeker's answer is taken without a store read when NextAuth's
// rules need no write; a held session that is due for its update or has
// expired goes to the store, which extends or deletes it.
func TestSessionPeeker(t *testing.T) {
	ctx := context.Background()
	p := &peeker{Store: memory.New(), held: map[string]session.SessionUser{}}
	start := time.Date(2026, 5, 6, 7, 8, 9, 0, time.UTC)
	now := start
	m := session.NewManager(p, session.Config{Now: func() time.Time { return now }, UpdateAge: time.Hour})
	u, err := p.CreateUser(ctx, session.User{Email: "peek@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	token, s, err := m.Start(ctx, u.ID, session.Device{})
	if err != nil {
		t.Fatal(err)
	}
	p.held[s.Token] = session.SessionUser{Session: s, User: u}

	res, err := m.Validate(ctx, token)
	if err != nil || res.User.Email != u.Email || !res.ReadExpires.Equal(s.Expires) {
		t.Fatalf("Validate = %+v, %v", res, err)
	}
	if n := p.reads.Load(); n != 0 {
		t.Fatalf("%d store reads for a held session not due", n)
	}

	now = start.Add(2 * time.Hour) // due
	res, err = m.Validate(ctx, token)
	if err != nil || !res.Session.Expires.Equal(now.Add(session.DefaultMaxAge)) {
		t.Fatalf("a due held session: %+v, %v", res, err)
	}
	if p.reads.Load() != 1 {
		t.Fatal("a due held session was not read through the store")
	}
	now = start.Add(session.DefaultMaxAge + 3*time.Hour) // past the extended expiry too
	if _, err := m.Validate(ctx, token); !errors.Is(err, session.ErrNoSession) {
		t.Fatalf("an expired held session: %v", err)
	}
	if _, _, err := p.Store.GetSessionAndUser(ctx, s.Token); !errors.Is(err, session.ErrNotFound) {
		t.Errorf("the expired session's row is still there: %v", err)
	}
}
