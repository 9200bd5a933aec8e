package adaptertest

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
)

// ownCases runs the cases that are not Auth.js's.
func (s *suite) ownCases(t *testing.T) {
	t.Run("ids", s.ids)
	t.Run("fields", s.fields)
	t.Run("partial", s.partial)
	t.Run("deletes", s.deletes)
	t.Run("missing", s.missing)
	t.Run("ListSessions", s.listSessions)
	t.Run("DeleteUserSessions", s.deleteUserSessions)
	t.Run("CountActive", s.countActive)
	t.Run("DeleteExpired", s.deleteExpired)
	s.test(t, "concurrency", s.concurrency)
	t.Run("races", s.races)
}

// ids: who makes ids and what they look like.
func (s *suite) ids(t *testing.T) {
	s.test(t, "generated and distinct", func(t *testing.T, a session.Adapter) {
		seen := map[string]string{}
		note := func(kind, id string) {
			t.Helper()
			if id == "" {
				return
			}
			if prev, ok := seen[kind+id]; ok {
				t.Errorf("%s id %q made twice (%s)", kind, id, prev)
			}
			seen[kind+id] = kind
		}
		for range 3 {
			u := s.createUser(t, a)
			note("user", u.ID)
			for range 2 {
				note("session", s.createSession(t, a, u.ID, s.now.Add(time.Hour)).ID)
			}
			note("account", s.linkAccount(t, a, accountFixture(u.ID)).ID)
		}
	})

	if s.Flavour.IDs != adapter.IDSerial {
		s.test(t, "CreateUser keeps a given id", func(t *testing.T, a session.Adapter) {
			want := s.userFixture()
			want.ID = s.missingUserID()
			got, err := a.CreateUser(t.Context(), want)
			if err != nil {
				t.Fatalf("CreateUser with ID %q: %v", want.ID, err)
			}
			checkUser(t, "CreateUser with an ID", got, want)
			read, err := a.GetUser(t.Context(), want.ID)
			if err != nil {
				t.Fatalf("GetUser(%q): %v", want.ID, err)
			}
			checkUser(t, "GetUser of a user created with an ID", read, want)
		})
	}

	s.test(t, "Session.ID empty iff the flavour has none", func(t *testing.T, a session.Adapter) {
		u := s.createUser(t, a)
		want := s.createSession(t, a, u.ID, s.now.Add(time.Hour)) // checks CreateSession's ID
		got, _, err := a.GetSessionAndUser(t.Context(), want.Token)
		if err != nil {
			t.Fatalf("GetSessionAndUser: %v", err)
		}
		s.checkSessionID(t, "GetSessionAndUser: Session.ID", got.ID)
		list, err := a.ListSessions(t.Context(), session.ListQuery{Now: s.now, UserID: u.ID})
		if err != nil {
			t.Fatalf("ListSessions: %v", err)
		}
		for _, su := range list {
			s.checkSessionID(t, "ListSessions: Session.ID", su.Session.ID)
		}
	})
}

// fields: what goes in comes out, NULLs and dates included.
func (s *suite) fields(t *testing.T) {
	s.test(t, "device metadata where the flavour has columns", func(t *testing.T, a session.Adapter) {
		u := s.createUser(t, a)
		in := s.sessionFixture(u.ID, s.now.Add(time.Hour))
		in.UserAgent, in.IP = "Mozilla/5.0 (X11; Linux x86_64) ünïcode", "2001:db8::1"
		got, err := a.CreateSession(t.Context(), in)
		if err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		want := in
		want.ID = got.ID
		if s.Flavour.Device.UserAgent == "" {
			want.UserAgent = ""
		}
		if s.Flavour.Device.IP == "" {
			want.IP = ""
		}
		checkSession(t, "CreateSession", got, want)
		read, _, err := a.GetSessionAndUser(t.Context(), in.Token)
		if err != nil {
			t.Fatalf("GetSessionAndUser: %v", err)
		}
		checkSession(t, "GetSessionAndUser", read, want)
		list, err := a.ListSessions(t.Context(), session.ListQuery{Now: s.now, UserID: u.ID})
		if err != nil || len(list) != 1 {
			t.Fatalf("ListSessions = %d rows, %v; want 1", len(list), err)
		}
		checkSession(t, "ListSessions", list[0].Session, want)
	})
	s.test(t, "empty optional user fields", func(t *testing.T, a session.Adapter) {
		want := session.User{Email: "bare@example.com"}
		got, err := a.CreateUser(t.Context(), want)
		if err != nil {
			t.Fatalf("CreateUser with only an email: %v", err)
		}
		want.ID = got.ID
		checkUser(t, "CreateUser with only an email", got, want)
		read, err := a.GetUser(t.Context(), want.ID)
		if err != nil {
			t.Fatalf("GetUser: %v", err)
		}
		checkUser(t, "GetUser of a user with only an email", read, want)
		se := s.createSession(t, a, want.ID, s.now.Add(time.Hour))
		_, joined, err := a.GetSessionAndUser(t.Context(), se.Token)
		if err != nil {
			t.Fatalf("GetSessionAndUser: %v", err)
		}
		checkUser(t, "GetSessionAndUser: user with only an email", joined, want)
	})

	s.test(t, "UpdateUser clears and sets every field", func(t *testing.T, a session.Adapter) {
		u := s.createUser(t, a)
		cleared := session.User{ID: u.ID, Email: u.Email}
		got, err := a.UpdateUser(t.Context(), cleared, session.AllUserFields)
		if err != nil {
			t.Fatalf("UpdateUser clearing Name, Image, EmailVerified: %v", err)
		}
		checkUser(t, "UpdateUser clearing fields", got, cleared)
		read, err := a.GetUser(t.Context(), u.ID)
		if err != nil {
			t.Fatalf("GetUser: %v", err)
		}
		checkUser(t, "GetUser after clearing fields", read, cleared)

		verified := s.now.Add(-time.Minute + time.Millisecond)
		set := session.User{ID: u.ID, Name: "New Name", Email: "new@example.com", Image: "https://example.com/new.png", EmailVerified: &verified}
		if _, err := a.UpdateUser(t.Context(), set, session.AllUserFields); err != nil {
			t.Fatalf("UpdateUser setting every field: %v", err)
		}
		read, err = a.GetUser(t.Context(), u.ID)
		if err != nil {
			t.Fatalf("GetUser: %v", err)
		}
		checkUser(t, "GetUser after setting every field", read, set)
		_, err = a.GetUserByEmail(t.Context(), u.Email)
		wantNotFound(t, "GetUserByEmail(the old email)", err)
	})

	s.test(t, "UpdateUser of a missing user", func(t *testing.T, a session.Adapter) {
		u := s.userFixture()
		u.ID = s.missingUserID()
		_, err := a.UpdateUser(t.Context(), u, session.AllUserFields)
		wantNotFound(t, "UpdateUser of a missing user", err)
	})

	s.test(t, "empty optional account fields", func(t *testing.T, a session.Adapter) {
		u := s.createUser(t, a)
		s.linkAccount(t, a, session.Account{UserID: u.ID, Type: "email", Provider: "email", ProviderAccountID: u.Email})
	})

	s.test(t, "dates round-trip to the millisecond in UTC", func(t *testing.T, a session.Adapter) {
		dates := []time.Time{
			s.now,
			s.now.Add(time.Millisecond),
			s.now.Add(999 * time.Millisecond),
			time.Date(1970, 1, 1, 0, 0, 0, 1e6, time.UTC),
			time.Date(2001, 2, 3, 4, 5, 6, 789e6, time.UTC),
			time.Date(2024, 2, 29, 23, 59, 59, 999e6, time.UTC),
			// Summer time where the server's zone may have it.
			time.Date(2025, 7, 1, 12, 0, 0, 1e6, time.UTC),
			time.Date(2099, 12, 31, 23, 59, 59, 999e6, time.UTC),
		}
		for _, d := range dates {
			u := s.userFixture()
			u.EmailVerified = &d
			u, err := a.CreateUser(t.Context(), u)
			if err != nil {
				t.Fatalf("CreateUser: %v", err)
			}
			read, err := a.GetUser(t.Context(), u.ID)
			if err != nil {
				t.Fatalf("GetUser: %v", err)
			}
			checkTimePtr(t, "GetUser: EmailVerified", read.EmailVerified, &d)

			se := s.sessionFixture(u.ID, d)
			if s.Flavour.SessionCreatedAt {
				se.CreatedAt = d
			}
			if _, err := a.CreateSession(t.Context(), se); err != nil {
				t.Fatalf("CreateSession: %v", err)
			}
			gotS, gotU, err := a.GetSessionAndUser(t.Context(), se.Token)
			if err != nil {
				t.Fatalf("GetSessionAndUser: %v", err)
			}
			checkTime(t, "GetSessionAndUser: Expires", gotS.Expires, d)
			checkTime(t, "GetSessionAndUser: CreatedAt", gotS.CreatedAt, se.CreatedAt)
			checkTimePtr(t, "GetSessionAndUser: user's EmailVerified", gotU.EmailVerified, &d)

			next := d.Add(24*time.Hour + time.Millisecond)
			if err := a.UpdateSession(t.Context(), session.SessionUpdate{Token: se.Token, Expires: next}); err != nil {
				t.Fatalf("UpdateSession: %v", err)
			}
			gotS, _, err = a.GetSessionAndUser(t.Context(), se.Token)
			if err != nil {
				t.Fatalf("GetSessionAndUser after UpdateSession: %v", err)
			}
			checkTime(t, "GetSessionAndUser after UpdateSession: Expires", gotS.Expires, next)

			vt := session.VerificationToken{Identifier: u.Email, Token: hashToken(randomUUID()), Expires: d}
			if _, err := a.CreateVerificationToken(t.Context(), vt); err != nil {
				t.Fatalf("CreateVerificationToken: %v", err)
			}
			gotT, err := a.UseVerificationToken(t.Context(), vt.Identifier, vt.Token)
			if err != nil {
				t.Fatalf("UseVerificationToken: %v", err)
			}
			checkTime(t, "UseVerificationToken: Expires", gotT.Expires, d)
		}
	})

	s.test(t, "CreatedAt", func(t *testing.T, a session.Adapter) {
		u := s.createUser(t, a)
		se := session.Session{Token: randomUUID(), UserID: u.ID, Expires: s.now.Add(time.Hour), CreatedAt: s.now.Add(-42*time.Minute + 5*time.Millisecond)}
		created, err := a.CreateSession(t.Context(), se)
		if err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		want := se.CreatedAt
		if !s.Flavour.SessionCreatedAt {
			// Nowhere to keep it: a read gives zero.
			want = time.Time{}
		} else {
			checkTime(t, "CreateSession: CreatedAt", created.CreatedAt, want)
		}
		got, _, err := a.GetSessionAndUser(t.Context(), se.Token)
		if err != nil {
			t.Fatalf("GetSessionAndUser: %v", err)
		}
		checkTime(t, "GetSessionAndUser: CreatedAt", got.CreatedAt, want)
		list, err := a.ListSessions(t.Context(), session.ListQuery{Now: s.now, UserID: u.ID})
		if err != nil {
			t.Fatalf("ListSessions: %v", err)
		}
		if len(list) != 1 {
			t.Fatalf("ListSessions returned %d sessions, want 1", len(list))
		}
		checkTime(t, "ListSessions: CreatedAt", list[0].Session.CreatedAt, want)
	})
}

// Ids and tokens that name nothing, including ones that are not even of
// the column's type or encoding: each is a miss, never a database error.
var garbage = []string{
	"",
	"0",
	"-1",
	"999999999",
	"99999999999999999999", // overflows bigint
	"1.5",
	"not-a-number",
	"'; DROP TABLE users; --",
	"\x00",
	"nul\x00inside",
	"\xff\xfe invalid UTF-8",
	strings.Repeat("x", 5000),
}

// missing: absent rows and unknown users.
func (s *suite) missing(t *testing.T) {
	s.test(t, "garbage ids are not found", func(t *testing.T, a session.Adapter) {
		ctx := t.Context()
		// Rows exist, so that a lax comparison could find one.
		u := s.createUser(t, a)
		se := s.createSession(t, a, u.ID, s.now.Add(time.Hour))
		acc := s.linkAccount(t, a, accountFixture(u.ID))

		for _, g := range garbage {
			q := quoteShort(g)
			_, err := a.GetUser(ctx, g)
			wantNotFound(t, "GetUser("+q+")", err)
			_, err = a.GetUserByEmail(ctx, g)
			wantNotFound(t, "GetUserByEmail("+q+")", err)
			_, err = a.GetUserByAccount(ctx, acc.Provider, g)
			wantNotFound(t, "GetUserByAccount(github, "+q+")", err)
			_, err = a.GetUserByAccount(ctx, g, acc.ProviderAccountID)
			wantNotFound(t, "GetUserByAccount("+q+", <linked id>)", err)
			_, _, err = a.GetSessionAndUser(ctx, g)
			wantNotFound(t, "GetSessionAndUser("+q+")", err)
			_, err = a.UseVerificationToken(ctx, g, g)
			wantNotFound(t, "UseVerificationToken("+q+", "+q+")", err)
			if err := a.DeleteSession(ctx, g); err != nil {
				t.Errorf("DeleteSession(%s): %v, want nil", q, err)
			}
			// An empty user id names no user: DeleteUserSessions must not
			// take it for "everyone".
			if n, err := a.DeleteUserSessions(ctx, g, ""); err != nil || n != 0 {
				t.Errorf("DeleteUserSessions(%s) = %d, %v; want 0, nil", q, n, err)
			}
			if g == "" {
				continue // "" means all users to CountActive and ListSessions
			}
			if n, err := a.CountActive(ctx, g, longAgo); err != nil || n != 0 {
				t.Errorf("CountActive(%s) = %d, %v; want 0, nil", q, n, err)
			}
			if l, err := a.ListSessions(ctx, session.ListQuery{Now: longAgo, UserID: g}); err != nil || len(l) != 0 {
				t.Errorf("ListSessions(%s) = %d sessions, %v; want 0, nil", q, len(l), err)
			}
		}
		// Nothing was harmed.
		if _, err := a.GetUser(ctx, u.ID); err != nil {
			t.Errorf("GetUser after the garbage: %v", err)
		}
		if _, _, err := a.GetSessionAndUser(ctx, se.Token); err != nil {
			t.Errorf("GetSessionAndUser after the garbage: %v", err)
		}
	})

	s.test(t, "CreateSession for an unknown user", func(t *testing.T, a session.Adapter) {
		ctx := t.Context()
		s.createUser(t, a)
		gone := s.createUser(t, a)
		if err := a.DeleteUser(ctx, gone.ID); err != nil {
			t.Fatalf("DeleteUser: %v", err)
		}
		ids := []string{s.missingUserID(), gone.ID, "not-a-number", "-1", "99999999999999999999", ""}
		for _, id := range ids {
			_, err := a.CreateSession(ctx, s.sessionFixture(id, s.now.Add(time.Hour)))
			wantUnknownUser(t, "CreateSession(user "+quoteShort(id)+")", err)
		}
		if n := rows(t, a, ""); n != 0 {
			t.Errorf("%d sessions stored after CreateSession for unknown users, want 0", n)
		}
	})
}

// quoteShort quotes s for a message, cutting it if it is long.
func quoteShort(s string) string {
	if len(s) > 40 {
		return strings.TrimSuffix(strconv.Quote(s[:20]), `"`) + `..." (` + strconv.Itoa(len(s)) + " bytes)"
	}
	return strconv.Quote(s)
}
