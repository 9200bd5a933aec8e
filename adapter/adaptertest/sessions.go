package adaptertest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nextsession/nextsession/session"
)

// fleet is two users with sessions around s.now: some expired, one
// expiring exactly at s.now (still active), each expiry distinct.
type fleet struct {
	a, b           session.User
	users          map[string]session.User
	a1, a2, a3, a4 session.Session // a3 expired
	b1, b2, b3     session.Session // b2 expired
}

func (s *suite) fleet(t *testing.T, a session.Adapter) fleet {
	t.Helper()
	f := fleet{a: s.createUser(t, a), b: s.createUser(t, a)}
	f.users = map[string]session.User{f.a.ID: f.a, f.b.ID: f.b}
	f.a1 = s.createSession(t, a, f.a.ID, s.now.Add(time.Hour))
	f.b1 = s.createSession(t, a, f.b.ID, s.now.Add(2*time.Hour))
	f.a2 = s.createSession(t, a, f.a.ID, s.now.Add(3*time.Hour))
	f.a3 = s.createSession(t, a, f.a.ID, s.now.Add(-time.Millisecond))
	f.b2 = s.createSession(t, a, f.b.ID, s.now.Add(-time.Hour))
	f.a4 = s.createSession(t, a, f.a.ID, s.now)
	f.b3 = s.createSession(t, a, f.b.ID, s.now.Add(4*time.Hour))
	return f
}

// checkList checks that list holds the want sessions in order, each with
// its user.
func checkList(t *testing.T, what string, list []session.SessionUser, users map[string]session.User, want ...session.Session) {
	t.Helper()
	var got, wanted []string
	for _, su := range list {
		got = append(got, su.Session.Token[:8])
	}
	for _, se := range want {
		wanted = append(wanted, se.Token[:8])
	}
	if strings.Join(got, " ") != strings.Join(wanted, " ") {
		t.Errorf("%s: got tokens [%s], want [%s]", what, strings.Join(got, " "), strings.Join(wanted, " "))
		return
	}
	for i, su := range list {
		checkSession(t, what+": session "+want[i].Token[:8], su.Session, want[i])
		checkUser(t, what+": user of session "+want[i].Token[:8], su.User, users[want[i].UserID])
	}
}

func (s *suite) listSessions(t *testing.T) {
	list := func(t *testing.T, a session.Adapter, userID string, now time.Time, limit int) []session.SessionUser {
		t.Helper()
		l, err := a.ListSessions(t.Context(), session.ListQuery{Now: now, UserID: userID, Limit: limit})
		if err != nil {
			t.Fatalf("ListSessions(%q, %s, %d): %v", userID, fmtTime(now), limit, err)
		}
		return l
	}

	s.test(t, "all active, newest expiry first", func(t *testing.T, a session.Adapter) {
		f := s.fleet(t, a)
		checkList(t, "ListSessions(all, now)", list(t, a, "", s.now, 0), f.users, f.b3, f.a2, f.b1, f.a1, f.a4)
		// b1 expires exactly then: still listed.
		checkList(t, "ListSessions(all, now+2h)", list(t, a, "", s.now.Add(2*time.Hour), 0), f.users, f.b3, f.a2, f.b1)
		checkList(t, "ListSessions(all, now+4h+1ms)", list(t, a, "", s.now.Add(4*time.Hour+time.Millisecond), 0), f.users)
	})

	s.test(t, "per user", func(t *testing.T, a session.Adapter) {
		f := s.fleet(t, a)
		checkList(t, "ListSessions(user a)", list(t, a, f.a.ID, s.now, 0), f.users, f.a2, f.a1, f.a4)
		checkList(t, "ListSessions(user b)", list(t, a, f.b.ID, s.now, 0), f.users, f.b3, f.b1)
		checkList(t, "ListSessions(unknown user)", list(t, a, s.missingUserID(), s.now, 0), f.users)
	})

	s.test(t, "limit", func(t *testing.T, a session.Adapter) {
		f := s.fleet(t, a)
		checkList(t, "ListSessions(all, limit 2)", list(t, a, "", s.now, 2), f.users, f.b3, f.a2)
		checkList(t, "ListSessions(user a, limit 1)", list(t, a, f.a.ID, s.now, 1), f.users, f.a2)
		checkList(t, "ListSessions(user a, limit 3)", list(t, a, f.a.ID, s.now, 3), f.users, f.a2, f.a1, f.a4)
		checkList(t, "ListSessions(all, limit 100)", list(t, a, "", s.now, 100), f.users, f.b3, f.a2, f.b1, f.a1, f.a4)
	})

	s.test(t, "pages", func(t *testing.T, a session.Adapter) {
		f := s.fleet(t, a)
		// Two more sessions expiring with b1: ties that the key orders.
		t1 := s.createSession(t, a, f.a.ID, f.b1.Expires)
		s.createSession(t, a, f.b.ID, f.b1.Expires)
		full := list(t, a, "", s.now, 0)
		if len(full) != 7 {
			t.Fatalf("ListSessions(all) = %d sessions, want 7", len(full))
		}
		for i, su := range full {
			if i > 0 && su.Session.Expires.After(full[i-1].Session.Expires) {
				t.Errorf("ListSessions(all): row %d expires after row %d", i, i-1)
			}
			c := su.Cursor
			if !c.Expires.Equal(su.Session.Expires) || c.Key == "" || strings.Contains(c.Key, su.Session.Token) {
				t.Errorf("row %d: Cursor = %+v; want its expiry and a key that is not the token", i, c)
			}
		}
		tokens := func(l []session.SessionUser) string {
			var out []string
			for _, su := range l {
				out = append(out, su.Session.Token[:8])
			}
			return strings.Join(out, " ")
		}
		page := func(t *testing.T, q session.ListQuery) []session.SessionUser {
			t.Helper()
			q.Now = s.now
			l, err := a.ListSessions(t.Context(), q)
			if err != nil {
				t.Fatalf("ListSessions(%+v): %v", q, err)
			}
			return l
		}
		readAll := func(t *testing.T, q session.ListQuery) []session.SessionUser {
			t.Helper()
			var got []session.SessionUser
			for range 20 {
				l := page(t, q)
				got = append(got, l...)
				if len(l) < q.Limit {
					return got
				}
				q.After = l[len(l)-1].Cursor
			}
			t.Fatalf("paging %+v did not end", q)
			return nil
		}
		for _, size := range []int{1, 2, 3, 7} {
			if got := readAll(t, session.ListQuery{Limit: size}); tokens(got) != tokens(full) {
				t.Errorf("pages of %d: [%s], want [%s]", size, tokens(got), tokens(full))
			}
		}
		checkList(t, "pages of 2 of user a", readAll(t, session.ListQuery{UserID: f.a.ID, Limit: 2}), f.users, f.a2, t1, f.a1, f.a4)
		// A cursor whose row was deleted meanwhile continues where it was.
		first := page(t, session.ListQuery{Limit: 3})
		if err := a.DeleteSession(t.Context(), first[2].Session.Token); err != nil {
			t.Fatal(err)
		}
		if got, want := tokens(page(t, session.ListQuery{Limit: 10, After: first[2].Cursor})), tokens(full[3:]); got != want {
			t.Errorf("after a deleted row: [%s], want [%s]", got, want)
		}
		// Forged cursors: no error, no token.
		for _, c := range []session.ListCursor{
			{Key: "x"}, {Expires: s.now.Add(time.Hour), Key: "'; DROP TABLE x; --"}, {Expires: s.now, Key: "-1"},
			{Expires: s.now, Key: "99999999999999999999999"}, {Expires: s.now, Key: "a\x00b"}, {Expires: s.now, Key: "\xff"},
			{Expires: s.now.Add(time.Hour)},
		} {
			if _, err := a.ListSessions(t.Context(), session.ListQuery{Now: s.now, After: c}); err != nil {
				t.Errorf("ListSessions(After %+v): %v, want no error", c, err)
			}
		}
	})

	s.test(t, "search", func(t *testing.T, a session.Adapter) {
		mk := func(name, email string) session.User {
			u := s.userFixture()
			u.Name, u.Email = name, fmt.Sprintf(email, s.seq.Add(1))
			got, err := a.CreateUser(t.Context(), u)
			if err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
			return got
		}
		ada, grace, odd := mk("Ada Lovelace", "ada%d@example.com"), mk("Grace Hopper", "grace%d@Navy.mil"), mk("100%_real", "odd%d@example.org")
		users := map[string]session.User{ada.ID: ada, grace.ID: grace, odd.ID: odd}
		ada1 := s.createSession(t, a, ada.ID, s.now.Add(time.Hour))
		ada2 := s.createSession(t, a, ada.ID, s.now.Add(3*time.Hour))
		grace1 := s.createSession(t, a, grace.ID, s.now.Add(2*time.Hour))
		odd1 := s.createSession(t, a, odd.ID, s.now.Add(4*time.Hour))
		s.createSession(t, a, ada.ID, s.now.Add(-time.Hour)) // expired
		search := func(t *testing.T, q session.ListQuery) []session.SessionUser {
			t.Helper()
			q.Now = s.now
			l, err := a.ListSessions(t.Context(), q)
			if err != nil {
				t.Fatalf("ListSessions(Search %q): %v", q.Search, err)
			}
			return l
		}
		checkList(t, "Search LOVELACE (name)", search(t, session.ListQuery{Search: "LOVELACE"}), users, ada2, ada1)
		checkList(t, "Search navy.MIL (email)", search(t, session.ListQuery{Search: "navy.MIL"}), users, grace1)
		checkList(t, "Search example (emails)", search(t, session.ListQuery{Search: "example"}), users, odd1, ada2, ada1)
		checkList(t, "Search % (literal)", search(t, session.ListQuery{Search: "%"}), users, odd1)
		checkList(t, "Search _ (literal)", search(t, session.ListQuery{Search: "_"}), users, odd1)
		checkList(t, "Search nobody", search(t, session.ListQuery{Search: "nobody"}), users)
		checkList(t, "Search a, user grace", search(t, session.ListQuery{Search: "a", UserID: grace.ID}), users, grace1)
		l := search(t, session.ListQuery{Search: "example", Limit: 1})
		checkList(t, "Search example, page 2", search(t, session.ListQuery{Search: "example", Limit: 1, After: l[0].Cursor}), users, ada2)
		for _, hostile := range []string{"'; DROP TABLE x; --", "\\", "\\%", "a\x00b", "\xff\xfe", strings.Repeat("%", 1000)} {
			search(t, session.ListQuery{Search: hostile})
		}
		checkList(t, "after hostile searches", search(t, session.ListQuery{}), users, odd1, ada2, grace1, ada1)
	})

	s.test(t, "empty", func(t *testing.T, a session.Adapter) {
		l, err := a.ListSessions(t.Context(), session.ListQuery{Now: s.now})
		if err != nil || len(l) != 0 {
			t.Errorf("ListSessions on empty tables = %d sessions, %v; want 0, nil", len(l), err)
		}
	})
}

func (s *suite) deleteUserSessions(t *testing.T) {
	del := func(t *testing.T, a session.Adapter, userID, keep string) int64 {
		t.Helper()
		n, err := a.DeleteUserSessions(t.Context(), userID, keep)
		if err != nil {
			t.Fatalf("DeleteUserSessions(%q, %q): %v", userID, keep, err)
		}
		return n
	}
	exists := func(t *testing.T, a session.Adapter, se session.Session, want bool) {
		t.Helper()
		_, _, err := a.GetSessionAndUser(t.Context(), se.Token)
		switch {
		case want && err != nil:
			t.Errorf("GetSessionAndUser(%s…): %v, want the session kept", se.Token[:8], err)
		case !want:
			wantNotFound(t, "GetSessionAndUser("+se.Token[:8]+"…) of a deleted session", err)
		}
	}

	s.test(t, "all", func(t *testing.T, a session.Adapter) {
		f := s.fleet(t, a)
		if n := del(t, a, f.a.ID, ""); n != 4 {
			t.Errorf("DeleteUserSessions(a, \"\") = %d, want 4 (expired ones too)", n)
		}
		if n := rows(t, a, f.a.ID); n != 0 {
			t.Errorf("%d sessions of a left, want 0", n)
		}
		for _, se := range []session.Session{f.a1, f.a2, f.a3, f.a4} {
			exists(t, a, se, false)
		}
		for _, se := range []session.Session{f.b1, f.b2, f.b3} {
			exists(t, a, se, true)
		}
		if n := del(t, a, f.a.ID, ""); n != 0 {
			t.Errorf("DeleteUserSessions(a) again = %d, want 0", n)
		}
		if _, err := a.GetUser(t.Context(), f.a.ID); err != nil {
			t.Errorf("GetUser(a) after DeleteUserSessions: %v (the user should remain)", err)
		}
	})

	s.test(t, "all but keep", func(t *testing.T, a session.Adapter) {
		f := s.fleet(t, a)
		if n := del(t, a, f.a.ID, f.a2.Token); n != 3 {
			t.Errorf("DeleteUserSessions(a, keep a2) = %d, want 3", n)
		}
		exists(t, a, f.a2, true)
		for _, se := range []session.Session{f.a1, f.a3, f.a4} {
			exists(t, a, se, false)
		}
		if n := rows(t, a, f.b.ID); n != 3 {
			t.Errorf("%d sessions of b left, want 3", n)
		}
		// keep names another user's session: all of a's go, b's stays.
		if n := del(t, a, f.a.ID, f.b1.Token); n != 1 {
			t.Errorf("DeleteUserSessions(a, keep b1) = %d, want 1", n)
		}
		exists(t, a, f.a2, false)
		exists(t, a, f.b1, true)
		if n := rows(t, a, ""); n != 3 {
			t.Errorf("%d sessions left in all, want 3 (b's)", n)
		}
	})
}

func (s *suite) countActive(t *testing.T) {
	s.test(t, "boundary", func(t *testing.T, a session.Adapter) {
		u, v := s.createUser(t, a), s.createUser(t, a)
		s.createSession(t, a, u.ID, s.now)                        // counts: expires == now
		s.createSession(t, a, u.ID, s.now.Add(-time.Millisecond)) // does not
		s.createSession(t, a, u.ID, s.now.Add(time.Hour))
		s.createSession(t, a, v.ID, s.now.Add(time.Millisecond))
		s.createSession(t, a, v.ID, s.now.Add(-time.Hour))

		for _, c := range []struct {
			what   string
			userID string
			now    time.Time
			want   int64
		}{
			{"all at now", "", s.now, 3},
			{"u at now", u.ID, s.now, 2},
			{"v at now", v.ID, s.now, 1},
			{"all at now+1ms", "", s.now.Add(time.Millisecond), 2},
			{"u at now+1ms", u.ID, s.now.Add(time.Millisecond), 1},
			{"v at now+1ms", v.ID, s.now.Add(time.Millisecond), 1},
			{"v at now+2ms", v.ID, s.now.Add(2 * time.Millisecond), 0},
			{"all at now-1ms", "", s.now.Add(-time.Millisecond), 4},
			{"unknown user", s.missingUserID(), s.now, 0},
		} {
			if n := count(t, a, c.userID, c.now); n != c.want {
				t.Errorf("CountActive, %s = %d, want %d", c.what, n, c.want)
			}
		}
	})

	s.test(t, "empty", func(t *testing.T, a session.Adapter) {
		if n := count(t, a, "", s.now); n != 0 {
			t.Errorf("CountActive on empty tables = %d, want 0", n)
		}
	})
}

func (s *suite) deleteExpired(t *testing.T) {
	sweep := func(t *testing.T, a session.Adapter, limit int) int64 {
		t.Helper()
		n, err := a.DeleteExpired(t.Context(), s.now, limit)
		if err != nil {
			t.Fatalf("DeleteExpired(now, %d): %v", limit, err)
		}
		return n
	}

	s.test(t, "in batches", func(t *testing.T, a session.Adapter) {
		u, v := s.createUser(t, a), s.createUser(t, a)
		var active []session.Session
		for i, d := range []time.Duration{
			-time.Millisecond, -time.Second, -time.Minute, -time.Hour,
			-24 * time.Hour, -30 * 24 * time.Hour, -2 * time.Millisecond,
		} {
			owner := u.ID
			if i%2 == 1 {
				owner = v.ID
			}
			s.createSession(t, a, owner, s.now.Add(d))
		}
		for _, d := range []time.Duration{0, time.Millisecond, 24 * time.Hour} {
			active = append(active, s.createSession(t, a, v.ID, s.now.Add(d)))
		}

		left := int64(10)
		for i, want := range []int64{3, 3, 1, 0, 0} {
			n := sweep(t, a, 3)
			if n != want {
				t.Errorf("DeleteExpired(now, 3), call %d = %d, want %d", i+1, n, want)
			}
			left -= n
			if got := rows(t, a, ""); got != left {
				t.Errorf("after DeleteExpired call %d: %d sessions stored, want %d", i+1, got, left)
			}
			if got := count(t, a, "", s.now); got != 3 {
				t.Errorf("after DeleteExpired call %d: CountActive(now) = %d, want 3: only expired rows may go", i+1, got)
			}
		}
		for _, se := range active {
			if _, _, err := a.GetSessionAndUser(t.Context(), se.Token); err != nil {
				t.Errorf("GetSessionAndUser of an active session after DeleteExpired: %v", err)
			}
		}
		if n := rows(t, a, u.ID); n != 0 {
			t.Errorf("%d sessions of u left, want 0 (all expired)", n)
		}
	})

	s.test(t, "limit above the number of rows", func(t *testing.T, a session.Adapter) {
		u := s.createUser(t, a)
		s.createSession(t, a, u.ID, s.now.Add(-time.Millisecond))
		s.createSession(t, a, u.ID, s.now.Add(-time.Hour))
		keep := s.createSession(t, a, u.ID, s.now)
		if n := sweep(t, a, 1000); n != 2 {
			t.Errorf("DeleteExpired(now, 1000) = %d, want 2", n)
		}
		if n := rows(t, a, ""); n != 1 {
			t.Errorf("%d sessions left, want 1", n)
		}
		if _, _, err := a.GetSessionAndUser(t.Context(), keep.Token); err != nil {
			t.Errorf("GetSessionAndUser of the session expiring at now: %v, want it kept", err)
		}
	})

	s.test(t, "empty", func(t *testing.T, a session.Adapter) {
		if n := sweep(t, a, 10); n != 0 {
			t.Errorf("DeleteExpired on empty tables = %d, want 0", n)
		}
	})
}
