package session

import "time"

// SessionPeeker is a Store that can answer a session read from memory,
// without waiting on anything (postgres.CachedStore does). Validate asks
// it first, outside Config.Timeout: a session it holds that is neither
// expired nor due for its sliding update is the answer, with no database
// call; any other case goes through GetSessionAndUser, under the timeout,
// as without it.
type SessionPeeker interface {
	// PeekSessionAndUser returns the session with the stored token and
	// its user when they are at hand; ok is false otherwise. It must not
	// block.
	PeekSessionAndUser(token string) (s Session, u User, ok bool)
}

// verdict is what NextAuth's rules make of a session read at now.
type verdict struct {
	expired    bool      // refuse it and delete the row
	due        bool      // write newExpires to the row
	newExpires time.Time // the cookie's expiry, and the row's when due
}

// judge applies NextAuth's rules (and AbsoluteLifetime) to s.
func (m *Manager) judge(s Session) verdict {
	now := m.now()
	hardEnd := time.Time{}
	if m.cfg.AbsoluteLifetime > 0 && !s.CreatedAt.IsZero() {
		hardEnd = s.CreatedAt.Add(m.cfg.AbsoluteLifetime)
	}
	v := verdict{
		expired:    s.Expires.Before(now) || (!hardEnd.IsZero() && !now.Before(hardEnd)),
		newExpires: now.Add(m.cfg.MaxAge),
	}
	if !hardEnd.IsZero() && hardEnd.Before(v.newExpires) {
		v.newExpires = hardEnd
	}
	v.due = !s.Expires.Add(-m.cfg.MaxAge).Add(m.cfg.UpdateAge).After(now) && v.newExpires.After(s.Expires)
	return v
}

// peek answers Validate from a SessionPeeker when that needs no write.
func (m *Manager) peek(token string) (Result, bool) {
	if m.peeker == nil {
		return Result{}, false
	}
	s, u, ok := m.peeker.PeekSessionAndUser(m.stored(token))
	if !ok {
		return Result{}, false
	}
	v := m.judge(s)
	if v.expired || v.due {
		return Result{}, false
	}
	return Result{Session: s, User: u, ReadExpires: s.Expires, cookieExpires: v.newExpires}, true
}
