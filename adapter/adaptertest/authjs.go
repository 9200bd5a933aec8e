package adaptertest

import (
	"testing"
	"time"

	"github.com/nextsession/nextsession/session"
)

// authJS mirrors runBasicTests of Auth.js's shared adapter suite
// (next-auth, packages/utils/adapter.ts). Every case there, by its name:
//
//   - "Required (User, Account, Session) methods exist",
//     "Verification Token methods exist", "Future methods exist": checked
//     by the compiler, since the adapter is a session.Adapter.
//   - createUser, getUser, getUserByEmail, createSession,
//     getSessionAndUser, updateUser, updateSession, linkAccount,
//     getUserByAccount, deleteSession, createVerificationToken,
//     useVerificationToken, unlinkAccount, deleteUser: subtests of the
//     same names below.
//   - getAccount: session.Adapter has no GetAccount, so the subtest asks
//     GetUserByAccount the same four questions (both wrong, provider
//     wrong, account id wrong, both right), on an account with only the
//     required fields.
//   - createAuthenticator, getAuthenticator, listAuthenticatorsByUserId,
//     updateAuthenticatorCounter: not mirrored. They test WebAuthn
//     methods that session.Adapter does not have, and Auth.js itself skips
//     them unless testWebAuthnMethods is set.
//
// Auth.js's cases share one user, session and account, each case reading
// what the one before wrote; here each makes its own rows on a fresh
// adapter, and reads back through the adapter where Auth.js queries the
// database directly.
func (s *suite) authJS(t *testing.T) {
	s.test(t, "createUser", func(t *testing.T, a session.Adapter) {
		want := s.userFixture()
		got, err := a.CreateUser(t.Context(), want)
		if err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		s.checkID(t, "CreateUser: ID", got.ID)
		want.ID = got.ID
		checkUser(t, "CreateUser", got, want)
		read, err := a.GetUser(t.Context(), got.ID)
		if err != nil {
			t.Fatalf("GetUser(%q) after CreateUser: %v", got.ID, err)
		}
		checkUser(t, "GetUser after CreateUser", read, want)
	})

	s.test(t, "getUser", func(t *testing.T, a session.Adapter) {
		u := s.createUser(t, a)
		missing := s.missingUserID()
		_, err := a.GetUser(t.Context(), missing)
		wantNotFound(t, "GetUser("+missing+")", err)
		got, err := a.GetUser(t.Context(), u.ID)
		if err != nil {
			t.Fatalf("GetUser(%q): %v", u.ID, err)
		}
		checkUser(t, "GetUser", got, u)
	})

	s.test(t, "getUserByEmail", func(t *testing.T, a session.Adapter) {
		u := s.createUser(t, a)
		_, err := a.GetUserByEmail(t.Context(), "non-existent-email")
		wantNotFound(t, "GetUserByEmail(non-existent-email)", err)
		got, err := a.GetUserByEmail(t.Context(), u.Email)
		if err != nil {
			t.Fatalf("GetUserByEmail(%q): %v", u.Email, err)
		}
		checkUser(t, "GetUserByEmail", got, u)
	})

	s.test(t, "createSession", func(t *testing.T, a session.Adapter) {
		u := s.createUser(t, a)
		want := s.createSession(t, a, u.ID, s.now.Add(7*24*time.Hour))
		got, _, err := a.GetSessionAndUser(t.Context(), want.Token)
		if err != nil {
			t.Fatalf("GetSessionAndUser after CreateSession: %v", err)
		}
		checkSession(t, "GetSessionAndUser after CreateSession", got, want)
	})

	s.test(t, "getSessionAndUser", func(t *testing.T, a session.Adapter) {
		u := s.createUser(t, a)
		want := s.createSession(t, a, u.ID, s.now.Add(7*24*time.Hour))
		_, _, err := a.GetSessionAndUser(t.Context(), "invalid-token")
		wantNotFound(t, "GetSessionAndUser(invalid-token)", err)
		gotS, gotU, err := a.GetSessionAndUser(t.Context(), want.Token)
		if err != nil {
			t.Fatalf("GetSessionAndUser: %v (the session and user should exist)", err)
		}
		checkSession(t, "GetSessionAndUser: session", gotS, want)
		checkUser(t, "GetSessionAndUser: user", gotU, u)
	})

	s.test(t, "updateUser", func(t *testing.T, a session.Adapter) {
		u := s.createUser(t, a)
		want := u
		want.Name = "Updated Name"
		got, err := a.UpdateUser(t.Context(), want, session.AllUserFields)
		if err != nil {
			t.Fatalf("UpdateUser: %v", err)
		}
		if got.Name != "Updated Name" {
			t.Errorf("UpdateUser returned Name %q, want %q", got.Name, "Updated Name")
		}
		checkUser(t, "UpdateUser", got, want)
		read, err := a.GetUser(t.Context(), u.ID)
		if err != nil {
			t.Fatalf("GetUser after UpdateUser: %v", err)
		}
		checkUser(t, "GetUser after UpdateUser", read, want)
	})

	s.test(t, "updateSession", func(t *testing.T, a session.Adapter) {
		u := s.createUser(t, a)
		want := s.createSession(t, a, u.ID, s.now.Add(7*24*time.Hour))
		expires := s.now.Add(30 * 24 * time.Hour)
		if err := a.UpdateSession(t.Context(), session.SessionUpdate{Token: want.Token, Expires: expires}); err != nil {
			t.Fatalf("UpdateSession: %v", err)
		}
		want.Expires = expires
		got, _, err := a.GetSessionAndUser(t.Context(), want.Token)
		if err != nil {
			t.Fatalf("GetSessionAndUser after UpdateSession: %v", err)
		}
		checkSession(t, "GetSessionAndUser after UpdateSession", got, want)
	})

	s.test(t, "linkAccount", func(t *testing.T, a session.Adapter) {
		u := s.createUser(t, a)
		acc := s.linkAccount(t, a, accountFixture(u.ID))
		got, err := a.GetUserByAccount(t.Context(), acc.Provider, acc.ProviderAccountID)
		if err != nil {
			t.Fatalf("GetUserByAccount after LinkAccount: %v", err)
		}
		checkUser(t, "GetUserByAccount after LinkAccount", got, u)
	})

	s.test(t, "getUserByAccount", func(t *testing.T, a session.Adapter) {
		u := s.createUser(t, a)
		acc := s.linkAccount(t, a, accountFixture(u.ID))
		_, err := a.GetUserByAccount(t.Context(), "invalid-provider", "invalid-provider-account-id")
		wantNotFound(t, "GetUserByAccount(invalid-provider, invalid-provider-account-id)", err)
		got, err := a.GetUserByAccount(t.Context(), acc.Provider, acc.ProviderAccountID)
		if err != nil {
			t.Fatalf("GetUserByAccount: %v", err)
		}
		checkUser(t, "GetUserByAccount", got, u)
	})

	s.test(t, "deleteSession", func(t *testing.T, a session.Adapter) {
		u := s.createUser(t, a)
		se := s.createSession(t, a, u.ID, s.now.Add(7*24*time.Hour))
		if err := a.DeleteSession(t.Context(), se.Token); err != nil {
			t.Fatalf("DeleteSession: %v", err)
		}
		_, _, err := a.GetSessionAndUser(t.Context(), se.Token)
		wantNotFound(t, "GetSessionAndUser after DeleteSession", err)
		if n := rows(t, a, ""); n != 0 {
			t.Errorf("%d sessions stored after DeleteSession, want 0", n)
		}
		// Deleting what is not there is no error.
		if err := a.DeleteSession(t.Context(), se.Token); err != nil {
			t.Errorf("DeleteSession of a deleted session: %v, want nil", err)
		}
	})

	s.test(t, "createVerificationToken", func(t *testing.T, a session.Adapter) {
		want := session.VerificationToken{
			Identifier: "info@example.com",
			Token:      hashToken(randomUUID()),
			Expires:    s.now.Add(15 * time.Minute),
		}
		got, err := a.CreateVerificationToken(t.Context(), want)
		if err != nil {
			t.Fatalf("CreateVerificationToken: %v", err)
		}
		checkVerificationToken(t, "CreateVerificationToken", got, want)
		// Auth.js reads the row directly; the adapter's only reader is
		// UseVerificationToken.
		read, err := a.UseVerificationToken(t.Context(), want.Identifier, want.Token)
		if err != nil {
			t.Fatalf("UseVerificationToken after CreateVerificationToken: %v", err)
		}
		checkVerificationToken(t, "UseVerificationToken after CreateVerificationToken", read, want)
	})

	s.test(t, "useVerificationToken", func(t *testing.T, a session.Adapter) {
		want := session.VerificationToken{
			Identifier: "info@example.com",
			Token:      hashToken(randomUUID()),
			Expires:    s.now.Add(15 * time.Minute),
		}
		if _, err := a.CreateVerificationToken(t.Context(), want); err != nil {
			t.Fatalf("CreateVerificationToken: %v", err)
		}
		// Another identifier's token is not this one.
		_, err := a.UseVerificationToken(t.Context(), "other@example.com", want.Token)
		wantNotFound(t, "UseVerificationToken with another identifier", err)
		got, err := a.UseVerificationToken(t.Context(), want.Identifier, want.Token)
		if err != nil {
			t.Fatalf("UseVerificationToken: %v (the token should exist)", err)
		}
		checkVerificationToken(t, "UseVerificationToken", got, want)
		_, err = a.UseVerificationToken(t.Context(), want.Identifier, want.Token)
		wantNotFound(t, "UseVerificationToken, second use", err)
	})

	s.test(t, "unlinkAccount", func(t *testing.T, a session.Adapter) {
		u := s.createUser(t, a)
		acc := s.linkAccount(t, a, accountFixture(u.ID))
		if _, err := a.GetUserByAccount(t.Context(), acc.Provider, acc.ProviderAccountID); err != nil {
			t.Fatalf("GetUserByAccount before UnlinkAccount: %v", err)
		}
		if err := a.UnlinkAccount(t.Context(), acc.Provider, acc.ProviderAccountID); err != nil {
			t.Fatalf("UnlinkAccount: %v", err)
		}
		_, err := a.GetUserByAccount(t.Context(), acc.Provider, acc.ProviderAccountID)
		wantNotFound(t, "GetUserByAccount after UnlinkAccount", err)
		if _, err := a.GetUser(t.Context(), u.ID); err != nil {
			t.Errorf("GetUser after UnlinkAccount: %v (the user should remain)", err)
		}
		// The row is gone, not hidden: (provider, providerAccountId) is
		// unique, so linking it again succeeds only then.
		s.linkAccount(t, a, acc)
	})

	s.test(t, "deleteUser", func(t *testing.T, a session.Adapter) {
		u := s.createUser(t, a)
		se := s.createSession(t, a, u.ID, s.now.Add(7*24*time.Hour))
		acc := s.linkAccount(t, a, accountFixture(u.ID))
		// Another user's rows must survive.
		other := s.createUser(t, a)
		otherS := s.createSession(t, a, other.ID, s.now.Add(7*24*time.Hour))
		otherA := s.linkAccount(t, a, accountFixture(other.ID))

		if err := a.DeleteUser(t.Context(), u.ID); err != nil {
			t.Fatalf("DeleteUser: %v", err)
		}
		_, err := a.GetUser(t.Context(), u.ID)
		wantNotFound(t, "GetUser after DeleteUser", err)
		_, _, err = a.GetSessionAndUser(t.Context(), se.Token)
		wantNotFound(t, "GetSessionAndUser of the deleted user's session", err)
		_, err = a.GetUserByAccount(t.Context(), acc.Provider, acc.ProviderAccountID)
		wantNotFound(t, "GetUserByAccount of the deleted user's account", err)
		if n := rows(t, a, u.ID); n != 0 {
			t.Errorf("CountActive(deleted user) = %d, want 0: the user's sessions must be deleted", n)
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
		acc.UserID = again.ID
		acc.ID = ""
		s.linkAccount(t, a, acc)
		se2 := se
		se2.UserID = again.ID
		if _, err := a.CreateSession(t.Context(), se2); err != nil {
			t.Errorf("CreateSession with the deleted user's token: %v (the old row should be gone)", err)
		}
	})

	s.test(t, "getAccount", func(t *testing.T, a session.Adapter) {
		u, err := a.CreateUser(t.Context(), session.User{Email: "getAccount@example.com"})
		if err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		acc := s.linkAccount(t, a, session.Account{
			UserID:            u.ID,
			Type:              "oauth",
			Provider:          "auth0",
			ProviderAccountID: randomUUID(),
		})
		for _, q := range []struct{ what, provider, id string }{
			{"both invalid", "invalid-provider", "invalid-provider-account-id"},
			{"invalid provider", "invalid-provider", acc.ProviderAccountID},
			{"invalid provider account id", acc.Provider, "invalid-provider-account-id"},
		} {
			_, err := a.GetUserByAccount(t.Context(), q.provider, q.id)
			wantNotFound(t, "GetUserByAccount, "+q.what, err)
		}
		got, err := a.GetUserByAccount(t.Context(), acc.Provider, acc.ProviderAccountID)
		if err != nil {
			t.Fatalf("GetUserByAccount: %v", err)
		}
		checkUser(t, "GetUserByAccount", got, u)
	})
}
