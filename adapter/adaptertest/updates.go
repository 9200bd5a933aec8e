package adaptertest

import (
	"testing"
	"time"

	"github.com/nextsession/nextsession/session"
)

// partial: an update changes what it names and keeps everything else, as
// Auth.js's updateUser and updateSession take partial rows.
func (s *suite) partial(t *testing.T) {
	fields := []struct {
		name string
		f    session.UserFields
		set  func(u *session.User, v time.Time)
	}{
		{"Name", session.UserName, func(u *session.User, _ time.Time) { u.Name = "Only Name" }},
		{"Email", session.UserEmail, func(u *session.User, _ time.Time) { u.Email = "only-email@example.com" }},
		{"EmailVerified", session.UserEmailVerified, func(u *session.User, v time.Time) { u.EmailVerified = &v }},
		{"Image", session.UserImage, func(u *session.User, _ time.Time) { u.Image = "https://example.com/only.png" }},
	}
	for _, fl := range fields {
		s.test(t, "UpdateUser of "+fl.name+" keeps the other fields", func(t *testing.T, a session.Adapter) {
			u := s.createUser(t, a)
			other := s.createUser(t, a)
			// Only ID and the named field are set: the zero values of the
			// others must not reach the row.
			in := session.User{ID: u.ID}
			fl.set(&in, s.now.Add(3*time.Millisecond))
			want := u
			fl.set(&want, s.now.Add(3*time.Millisecond))
			got, err := a.UpdateUser(t.Context(), in, fl.f)
			if err != nil {
				t.Fatalf("UpdateUser(%s only): %v", fl.name, err)
			}
			checkUser(t, "UpdateUser's result", got, want)
			read, err := a.GetUser(t.Context(), u.ID)
			if err != nil {
				t.Fatalf("GetUser: %v", err)
			}
			checkUser(t, "GetUser after UpdateUser", read, want)
			if read, err := a.GetUser(t.Context(), other.ID); err != nil {
				t.Errorf("GetUser(another user): %v", err)
			} else {
				checkUser(t, "another user after UpdateUser", read, other)
			}
		})
	}

	s.test(t, "UpdateUser naming nothing changes nothing", func(t *testing.T, a session.Adapter) {
		u := s.createUser(t, a)
		got, err := a.UpdateUser(t.Context(), session.User{ID: u.ID, Name: "ignored"}, 0)
		if err != nil {
			t.Fatalf("UpdateUser(no fields): %v", err)
		}
		checkUser(t, "UpdateUser(no fields)", got, u)
		read, err := a.GetUser(t.Context(), u.ID)
		if err != nil {
			t.Fatalf("GetUser: %v", err)
		}
		checkUser(t, "GetUser after UpdateUser(no fields)", read, u)
	})

	s.test(t, "UpdateSession of Expires keeps the other fields", func(t *testing.T, a session.Adapter) {
		u := s.createUser(t, a)
		in := s.sessionFixture(u.ID, s.now.Add(time.Hour))
		in.UserAgent, in.IP = "agent", "192.0.2.1"
		created, err := a.CreateSession(t.Context(), in)
		if err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		want := created
		want.Expires = s.now.Add(48 * time.Hour)
		if err := a.UpdateSession(t.Context(), session.SessionUpdate{Token: in.Token, Expires: want.Expires}); err != nil {
			t.Fatalf("UpdateSession: %v", err)
		}
		got, gotU, err := a.GetSessionAndUser(t.Context(), in.Token)
		if err != nil {
			t.Fatalf("GetSessionAndUser: %v", err)
		}
		checkSession(t, "after UpdateSession of Expires", got, want)
		checkUser(t, "the session's user after UpdateSession", gotU, u)
	})

	s.test(t, "UpdateSession of UserID keeps the other fields", func(t *testing.T, a session.Adapter) {
		u, v := s.createUser(t, a), s.createUser(t, a)
		want := s.createSession(t, a, u.ID, s.now.Add(time.Hour))
		if err := a.UpdateSession(t.Context(), session.SessionUpdate{Token: want.Token, UserID: v.ID}); err != nil {
			t.Fatalf("UpdateSession: %v", err)
		}
		want.UserID = v.ID
		got, gotU, err := a.GetSessionAndUser(t.Context(), want.Token)
		if err != nil {
			t.Fatalf("GetSessionAndUser: %v", err)
		}
		checkSession(t, "after UpdateSession of UserID", got, want)
		checkUser(t, "the session's new user", gotU, v)
	})

	s.test(t, "UpdateSession of a missing token", func(t *testing.T, a session.Adapter) {
		u := s.createUser(t, a)
		live := s.createSession(t, a, u.ID, s.now.Add(time.Hour))
		for _, tok := range []string{randomUUID(), "", live.Token + "x", "\x00", "\xff"} {
			err := a.UpdateSession(t.Context(), session.SessionUpdate{Token: tok, Expires: s.now.Add(2 * time.Hour)})
			wantNotFound(t, "UpdateSession("+quoteShort(tok)+")", err)
		}
		gone := s.createSession(t, a, u.ID, s.now.Add(time.Hour))
		if err := a.DeleteSession(t.Context(), gone.Token); err != nil {
			t.Fatal(err)
		}
		err := a.UpdateSession(t.Context(), session.SessionUpdate{Token: gone.Token, Expires: s.now.Add(2 * time.Hour)})
		wantNotFound(t, "UpdateSession of a deleted session", err)
		if _, _, err := a.GetSessionAndUser(t.Context(), gone.Token); err == nil {
			t.Error("UpdateSession brought a deleted session back")
		}
		got, _, err := a.GetSessionAndUser(t.Context(), live.Token)
		if err != nil {
			t.Fatalf("GetSessionAndUser(live): %v", err)
		}
		checkSession(t, "the live session after updates of others", got, live)
	})
}

// deletes: what a delete removes, and what it leaves.
func (s *suite) deletes(t *testing.T) {
	s.test(t, "DeleteSession", func(t *testing.T, a session.Adapter) {
		u := s.createUser(t, a)
		se := s.createSession(t, a, u.ID, s.now.Add(time.Hour))
		keep := s.createSession(t, a, u.ID, s.now.Add(time.Hour))
		if err := a.DeleteSession(t.Context(), se.Token); err != nil {
			t.Fatalf("DeleteSession: %v", err)
		}
		if n := rows(t, a, ""); n != 1 {
			t.Errorf("%d sessions stored after DeleteSession, want 1", n)
		}
		if _, _, err := a.GetSessionAndUser(t.Context(), keep.Token); err != nil {
			t.Errorf("the other session: %v", err)
		}
		// Deleting what is not there is no error.
		if err := a.DeleteSession(t.Context(), se.Token); err != nil {
			t.Errorf("DeleteSession of a deleted session: %v, want nil", err)
		}
	})

	s.test(t, "UnlinkAccount keeps the user and frees the key", func(t *testing.T, a session.Adapter) {
		u := s.createUser(t, a)
		acc := s.linkAccount(t, a, accountFixture(u.ID))
		if err := a.UnlinkAccount(t.Context(), acc.Provider, acc.ProviderAccountID); err != nil {
			t.Fatalf("UnlinkAccount: %v", err)
		}
		if _, err := a.GetUser(t.Context(), u.ID); err != nil {
			t.Errorf("GetUser after UnlinkAccount: %v (the user should remain)", err)
		}
		// (provider, providerAccountId) is unique: linking it again
		// succeeds only if the row is gone, not hidden.
		acc.ID = ""
		s.linkAccount(t, a, acc)
	})

	s.test(t, "UseVerificationToken of another identifier", func(t *testing.T, a session.Adapter) {
		vt := session.VerificationToken{Identifier: "info@example.com", Token: hashToken(randomUUID()), Expires: s.now.Add(15 * time.Minute)}
		if _, err := a.CreateVerificationToken(t.Context(), vt); err != nil {
			t.Fatalf("CreateVerificationToken: %v", err)
		}
		_, err := a.UseVerificationToken(t.Context(), "other@example.com", vt.Token)
		wantNotFound(t, "UseVerificationToken with another identifier", err)
		if _, err := a.UseVerificationToken(t.Context(), vt.Identifier, vt.Token); err != nil {
			t.Errorf("UseVerificationToken after a try with another identifier: %v", err)
		}
	})

	s.test(t, "DeleteUser removes only its user's rows", func(t *testing.T, a session.Adapter) {
		u := s.createUser(t, a)
		se := s.createSession(t, a, u.ID, s.now.Add(7*24*time.Hour))
		acc := s.linkAccount(t, a, accountFixture(u.ID))
		other := s.createUser(t, a)
		otherS := s.createSession(t, a, other.ID, s.now.Add(7*24*time.Hour))
		otherA := s.linkAccount(t, a, accountFixture(other.ID))

		if err := a.DeleteUser(t.Context(), u.ID); err != nil {
			t.Fatalf("DeleteUser: %v", err)
		}
		if n := rows(t, a, u.ID); n != 0 {
			t.Errorf("CountActive(deleted user) = %d, want 0", n)
		}
		if n := rows(t, a, ""); n != 1 {
			t.Errorf("%d sessions stored after DeleteUser, want 1 (the other user's)", n)
		}
		if _, _, err := a.GetSessionAndUser(t.Context(), otherS.Token); err != nil {
			t.Errorf("GetSessionAndUser of another user's session after DeleteUser: %v", err)
		}
		if _, err := a.GetUserByAccount(t.Context(), otherA.Provider, otherA.ProviderAccountID); err != nil {
			t.Errorf("GetUserByAccount of another user's account after DeleteUser: %v", err)
		}
		// The account and session rows are gone, not orphaned: their keys
		// are unique, so a new user can take them.
		again := s.createUser(t, a)
		acc.UserID, acc.ID = again.ID, ""
		s.linkAccount(t, a, acc)
		se.UserID = again.ID
		if _, err := a.CreateSession(t.Context(), se); err != nil {
			t.Errorf("CreateSession with the deleted user's token: %v (the old row should be gone)", err)
		}
		if err := a.DeleteUser(t.Context(), u.ID); err != nil {
			t.Errorf("DeleteUser of a deleted user: %v, want nil", err)
		}
	})
}
