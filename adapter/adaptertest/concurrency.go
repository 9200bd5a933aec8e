package adaptertest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/nextsession/nextsession/session"
)

// Sizes of the concurrency case: enough goroutines to overlap on two
// cores, few enough rows to stay fast under -race.
const (
	workers   = 8
	perWorker = 10
)

// concurrency has workers goroutines each create a user, then create,
// validate, extend and (every other one) delete sessions, and write an
// expired session now and then, while another goroutine counts, lists and
// sweeps. No call may fail, and afterwards exactly the sessions that
// should remain do.
func (s *suite) concurrency(t *testing.T, a session.Adapter) {
	ctx := t.Context()
	var errs errorList
	extended := s.now.Add(2 * time.Hour)

	users := make([]session.User, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			u, err := a.CreateUser(ctx, s.userFixture())
			if err != nil {
				errs.add("worker %d: CreateUser: %v", w, err)
				return
			}
			users[w] = u
			for i := range perWorker {
				if err := s.sessionRound(ctx, a, u, i, extended); err != nil {
					errs.add("worker %d, session %d: %v", w, i, err)
				}
			}
		})
	}

	stop := make(chan struct{})
	var sweeper sync.WaitGroup
	sweeper.Go(func() {
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := a.CountActive(ctx, "", s.now); err != nil {
				errs.add("CountActive during the run: %v", err)
			}
			if _, err := a.ListSessions(ctx, session.ListQuery{Now: s.now, Limit: 5}); err != nil {
				errs.add("ListSessions during the run: %v", err)
			}
			if _, err := a.DeleteExpired(ctx, s.now, 2); err != nil {
				errs.add("DeleteExpired during the run: %v", err)
			}
		}
	})
	wg.Wait()
	close(stop)
	sweeper.Wait()
	errs.report(t)
	if t.Failed() {
		return
	}

	// Sweep what the sweeper left; then only the kept sessions remain.
	for {
		n, err := a.DeleteExpired(ctx, s.now, 100)
		if err != nil {
			t.Fatalf("DeleteExpired after the run: %v", err)
		}
		if n == 0 {
			break
		}
	}
	kept := int64(perWorker - perWorker/2)
	if n := rows(t, a, ""); n != workers*kept {
		t.Errorf("%d sessions stored after the run, want %d", n, workers*kept)
	}
	if n := count(t, a, "", s.now); n != workers*kept {
		t.Errorf("CountActive(now) after the run = %d, want %d", n, workers*kept)
	}
	for _, u := range users {
		if n := count(t, a, u.ID, s.now); n != kept {
			t.Errorf("CountActive(user %s) after the run = %d, want %d", u.ID, n, kept)
		}
	}
	list, err := a.ListSessions(ctx, session.ListQuery{Now: s.now})
	if err != nil {
		t.Fatalf("ListSessions after the run: %v", err)
	}
	if len(list) != int(workers*kept) {
		t.Errorf("ListSessions after the run: %d sessions, want %d", len(list), workers*kept)
	}
	for _, su := range list {
		if !su.Session.Expires.Equal(extended) {
			t.Errorf("session %s… expires %s after the run, want %s", su.Session.Token[:8], fmtTime(su.Session.Expires), fmtTime(extended))
			break
		}
	}
}

// sessionRound is one worker's turn: create a session, read it, extend it,
// read it again, and delete it when i is odd. Every third turn also writes
// an expired session for the sweeper.
func (s *suite) sessionRound(ctx context.Context, a session.Adapter, u session.User, i int, extended time.Time) error {
	se := s.sessionFixture(u.ID, s.now.Add(time.Hour+time.Duration(i)*time.Millisecond))
	if _, err := a.CreateSession(ctx, se); err != nil {
		return fmt.Errorf("CreateSession: %w", err)
	}
	got, gotU, err := a.GetSessionAndUser(ctx, se.Token)
	if err != nil {
		return fmt.Errorf("GetSessionAndUser after CreateSession: %w", err)
	}
	if got.Token != se.Token || gotU.ID != u.ID || !got.Expires.Equal(se.Expires) {
		return fmt.Errorf("GetSessionAndUser(%s…) = token %s…, user %q, expires %s; want user %q, expires %s",
			se.Token[:8], got.Token[:min(8, len(got.Token))], gotU.ID, fmtTime(got.Expires), u.ID, fmtTime(se.Expires))
	}
	if err := a.UpdateSession(ctx, session.SessionUpdate{Token: se.Token, Expires: extended}); err != nil {
		return fmt.Errorf("UpdateSession: %w", err)
	}
	got, _, err = a.GetSessionAndUser(ctx, se.Token)
	if err != nil {
		return fmt.Errorf("GetSessionAndUser after UpdateSession: %w", err)
	}
	if !got.Expires.Equal(extended) {
		return fmt.Errorf("expires after UpdateSession = %s, want %s", fmtTime(got.Expires), fmtTime(extended))
	}
	if i%3 == 0 {
		old := s.sessionFixture(u.ID, s.now.Add(-time.Duration(i+1)*time.Minute))
		if _, err := a.CreateSession(ctx, old); err != nil {
			return fmt.Errorf("CreateSession (expired): %w", err)
		}
	}
	if i%2 == 1 {
		if err := a.DeleteSession(ctx, se.Token); err != nil {
			return fmt.Errorf("DeleteSession: %w", err)
		}
		if _, _, err := a.GetSessionAndUser(ctx, se.Token); !errors.Is(err, session.ErrNotFound) {
			return fmt.Errorf("GetSessionAndUser after DeleteSession: %v, want session.ErrNotFound", err)
		}
	}
	return nil
}

// errorList gathers errors from many goroutines, to report the first few.
type errorList struct {
	mu   sync.Mutex
	errs []string
}

func (l *errorList) add(format string, args ...any) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.errs = append(l.errs, fmt.Sprintf(format, args...))
}

func (l *errorList) report(t *testing.T) {
	t.Helper()
	l.mu.Lock()
	defer l.mu.Unlock()
	const most = 10
	for i, e := range l.errs {
		if i == most {
			t.Errorf("... and %d more errors", len(l.errs)-most)
			break
		}
		t.Error(e)
	}
}
