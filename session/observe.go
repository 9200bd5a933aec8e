package session

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"sync"
	"time"
)

// DefaultTimeout bounds each database call of a request when
// Config.Timeout is zero.
const DefaultTimeout = 5 * time.Second

// NoTimeout as Config.Timeout leaves database calls unbounded but for the
// caller's own context, and saves the timer that a bound costs each call
// (and, for a store that is not ContextBound, the goroutine: a few
// microseconds and 7 allocations). Use it only with a store whose calls
// end when their context does.
const NoTimeout time.Duration = -1

// Events are hooks the Manager calls after something happened to a
// session, for audit logs and metrics, as Auth.js's events. Each is
// optional. They run as part of the call that caused them, after it
// succeeded, and may run concurrently with each other: keep them quick and
// safe for concurrent use. No event carries a token; Event.Handle
// names the session (the Handle that ListActive's sessions have).
type Events struct {
	// SignIn follows Manager.Create.
	SignIn func(ctx context.Context, e Event)
	// SignOut follows Manager.Destroy of a request that carried a token.
	SignOut func(ctx context.Context, e Event)
	// Revoke follows Revoke, RevokeHandle, RevokeUser and RevokeOthers.
	Revoke func(ctx context.Context, e Event)
	// Expire follows a read that found its session expired (by MaxAge or
	// AbsoluteLifetime) and deleted it.
	Expire func(ctx context.Context, e Event)
	// Sweep follows each sweep of the background sweeper, failed or not.
	Sweep func(ctx context.Context, e SweepEvent)
}

// Event describes what happened to one session or to a user's sessions.
type Event struct {
	// UserID is the user's id where the Manager knows it.
	UserID string
	// Handle names the session (Session.Handle); empty when the event is
	// about several sessions.
	Handle string
	// Count is how many sessions the event concerns: 1 for one session,
	// the number deleted for RevokeUser and RevokeOthers.
	Count int64
}

// SweepEvent describes one sweep.
type SweepEvent struct {
	Deleted int64         // expired rows deleted
	Took    time.Duration // how long the sweep took
	Err     error         // why it stopped early, or nil
}

// handle names the session stored under storedToken without revealing it.
func handle(storedToken string) string {
	return Session{Token: storedToken}.Handle()
}

// emit calls hook when it is set.
func emit[E any](ctx context.Context, hook func(context.Context, E), e E) {
	if hook != nil {
		hook(ctx, e)
	}
}

// revoked logs a revocation and tells Events.Revoke.
func (m *Manager) revoked(ctx context.Context, how string, e Event) {
	m.cfg.Logger.LogAttrs(ctx, slog.LevelInfo, "session: revoked",
		slog.String("by", how), slog.String("user", e.UserID), slog.String("handle", e.Handle), slog.Int64("sessions", e.Count))
	emit(ctx, m.cfg.Events.Revoke, e)
}

// swept logs a sweep and tells Events.Sweep: one line per sweep that
// deleted rows or failed (at Debug level when there was nothing to do).
func (m *Manager) swept(ctx context.Context, e SweepEvent) {
	switch {
	case e.Err != nil:
		m.cfg.Logger.LogAttrs(ctx, slog.LevelError, "session: sweep failed",
			slog.Int64("deleted", e.Deleted), slog.Duration("took", e.Took), slog.String("error", e.Err.Error()))
	default:
		level := slog.LevelInfo
		if e.Deleted == 0 {
			level = slog.LevelDebug
		}
		m.cfg.Logger.LogAttrs(ctx, level, "session: swept expired sessions",
			slog.Int64("deleted", e.Deleted), slog.Duration("took", e.Took))
	}
	emit(ctx, m.cfg.Events.Sweep, e)
}

// loggingErrorFunc is the default ErrorFunc: it logs the request's method,
// path and error (never its cookies or query string), then answers 503.
func loggingErrorFunc(l *slog.Logger) func(http.ResponseWriter, *http.Request, error) {
	return func(w http.ResponseWriter, r *http.Request, err error) {
		l.LogAttrs(r.Context(), slog.LevelError, "session: cannot read the session",
			slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
		defaultErrorFunc(w, r, err)
	}
}

// ContextBound is a Store whose calls return soon after their context
// ends, or after a wait of the store's own bound, whatever the database
// does (the memory store; SQLite, whose driver interrupts a statement when
// its context ends and whose wait for a lock ends at its busy timeout).
// The Manager then bounds them
// (Config.Timeout) by their context alone, in the caller's goroutine.
// The calls of other stores each run in a goroutine of their own, so that
// a driver stuck on a database that never answers (lib/pq waits for the
// server to confirm a cancel) cannot hold a request past the bound.
type ContextBound interface {
	// BoundByContext reports whether the store's calls end with their
	// context.
	BoundByContext() bool
}

// SelfBounded is a ContextBound store whose calls on one session
// (GetSessionAndUser, UpdateSession and DeleteSession by token, and
// CreateSession) have, at times, no wait that a deadline would shorten:
// an index lookup, and a wait for another writer's lock that only the
// store's own bound ends. SQLite is one while its connection pool is
// unlimited: its busy handler, which waits for the lock up to the busy
// timeout, does not heed a context, so Config.Timeout could not shorten
// that wait anyway. The Manager then runs those calls under the caller's
// context as it is, without Config.Timeout's timer: it saves the timer's
// allocations and, where the caller's context could otherwise never be
// cancelled (context.Background; a net/http request's context always
// can be), the watch that database/sql and the driver keep on a
// cancellable context during every statement. Calls on many sessions
// (Sweep) keep the bound: they run as long as the table is large.
type SelfBounded interface {
	ContextBound
	// SessionCallsSelfBounded reports whether calls on one session are
	// self-bounded now, with the store itself (the method's receiver) as
	// self, a comparable value such as a pointer. The Manager heeds ok
	// only when self is the very store it was given, so that a type that
	// embeds a self-bounded store, and may wait elsewhere, does not
	// inherit the answer.
	SessionCallsSelfBounded() (self Store, ok bool)
}

// selfBounded reports whether a call on one session may run under the
// caller's context as it is, without Config.Timeout's timer (see
// SelfBounded). Callers test it before making the closure that within
// takes, which would otherwise be allocated on every call.
func (m *Manager) selfBounded() bool {
	if m.bounded == nil {
		return false
	}
	self, ok := m.bounded.SessionCallsSelfBounded()
	return ok && self == m.st
}

// within runs f with ctx bounded by Config.Timeout and returns when f does
// or when the bound passes, whichever is first: in the caller's goroutine
// for a ContextBound store, else with f in a goroutine of its own, which
// finishes by itself after the caller is answered at the bound. That
// goroutine is counted in wg when wg is not nil.
func within[T any](m *Manager, ctx context.Context, wg *sync.WaitGroup, f func(context.Context) (T, error)) (T, error) {
	if m.cfg.Timeout == NoTimeout {
		return f(ctx)
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	if m.inline {
		defer cancel()
		v, err := f(ctx)
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("session: waiting for the database: %w", err)
		}
		return v, err
	}
	type result struct {
		v   T
		err error
	}
	done := make(chan result, 1)
	if wg != nil {
		wg.Add(1)
	}
	go func() {
		if wg != nil {
			defer wg.Done()
		}
		defer cancel()
		v, err := f(ctx)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		// f may have finished just now: prefer its answer.
		select {
		case r := <-done:
			return r.v, r.err
		default:
		}
		var zero T
		return zero, fmt.Errorf("session: waiting for the database: %w", ctx.Err())
	}
}
