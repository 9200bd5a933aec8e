package adaptertest

import (
	"testing"
	"time"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
)

// authJS is runBasicTests of Auth.js's shared adapter suite (next-auth,
// packages/utils/adapter.ts), case by case in Auth.js's order and with its
// data: the cases share one adapter, user, session and account, each
// reading what the ones before wrote, so that a later case sees what an
// earlier one left. Its updateUser sends only {id, name}, and the later
// getUserByAccount and deleteUser expect the email, image and
// emailVerified that the user was created with.
//
// Go's idioms stand in for JavaScript's: a missing row is an error
// wrapping session.ErrNotFound rather than null; reads that Auth.js makes
// straight from the database (its db.user, db.session, db.account) go
// through the adapter; "... methods exist" is the compiler's check that
// the adapter is a session.Adapter. getAccount asks GetUserByAccount its
// four questions, since session.Adapter has no GetAccount. The WebAuthn
// cases (createAuthenticator and the rest) are not mirrored: Auth.js
// skips them too unless testWebAuthnMethods is set.
func (s *suite) authJS(t *testing.T) {
	a := s.New(t)
	if a == nil {
		t.Fatal("Config.New returned a nil adapter")
	}
	ctx := t.Context()
	verified := s.now
	user := session.User{
		Name:          "Fill Murray",
		Email:         "fill@murray.com",
		Image:         "https://www.fillmurray.com/460/300",
		EmailVerified: &verified,
	}
	if s.Flavour.IDs != adapter.IDSerial {
		user.ID = s.missingUserID()
	}
	se := session.Session{Token: randomUUID(), Expires: s.now.Add(7 * 24 * time.Hour)}
	if s.Flavour.SessionCreatedAt {
		se.CreatedAt = s.now
	}
	const oneMonth = 30 * 24 * time.Hour
	account := accountFixture("") // its user is set by createUser

	// step runs one case; after a case fails, the ones after it, which
	// read what it should have written, are skipped.
	failed := ""
	step := func(name string, f func(t *testing.T)) {
		t.Helper()
		t.Run(name, func(t *testing.T) {
			if failed != "" {
				t.Skipf("skipped: %s failed, and this case reads what it writes", failed)
			}
			f(t)
			if t.Failed() {
				failed = name
			}
		})
	}

	step("createUser", func(t *testing.T) {
		got, err := a.CreateUser(ctx, user)
		if err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		s.checkID(t, "CreateUser: ID", got.ID)
		want := user
		want.ID = got.ID
		db, err := a.GetUser(ctx, got.ID)
		if err != nil {
			t.Fatalf("GetUser(%q) after CreateUser: %v", got.ID, err)
		}
		checkUser(t, "the stored user", db, want)
		user = db
		se.UserID, account.UserID = db.ID, db.ID
	})

	step("getUser", func(t *testing.T) {
		_, err := a.GetUser(ctx, s.missingUserID())
		wantNotFound(t, "GetUser(a new id)", err)
		got, err := a.GetUser(ctx, user.ID)
		if err != nil {
			t.Fatalf("GetUser(%q): %v", user.ID, err)
		}
		checkUser(t, "GetUser", got, user)
	})

	step("getUserByEmail", func(t *testing.T) {
		_, err := a.GetUserByEmail(ctx, "non-existent-email")
		wantNotFound(t, "GetUserByEmail(non-existent-email)", err)
		got, err := a.GetUserByEmail(ctx, user.Email)
		if err != nil {
			t.Fatalf("GetUserByEmail(%q): %v", user.Email, err)
		}
		checkUser(t, "GetUserByEmail", got, user)
	})

	step("createSession", func(t *testing.T) {
		got, err := a.CreateSession(ctx, se)
		if err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		s.checkSessionID(t, "CreateSession: ID", got.ID)
		db, _, err := a.GetSessionAndUser(ctx, got.Token)
		if err != nil {
			t.Fatalf("GetSessionAndUser after CreateSession: %v", err)
		}
		want := se
		want.ID = db.ID
		checkSession(t, "the stored session", db, want)
		se = want
	})

	step("getSessionAndUser", func(t *testing.T) {
		_, _, err := a.GetSessionAndUser(ctx, "invalid-token")
		wantNotFound(t, "GetSessionAndUser(invalid-token)", err)
		gotS, gotU, err := a.GetSessionAndUser(ctx, se.Token)
		if err != nil {
			t.Fatalf("GetSessionAndUser: %v (the session and user should exist)", err)
		}
		checkSession(t, "GetSessionAndUser: session", gotS, se)
		checkUser(t, "GetSessionAndUser: user", gotU, user)
	})

	step("updateUser", func(t *testing.T) {
		const newName = "Updated Name"
		// Auth.js sends {id, name}: nothing else is named.
		got, err := a.UpdateUser(ctx, session.User{ID: user.ID, Name: newName}, session.UserName)
		if err != nil {
			t.Fatalf("UpdateUser({id, name}): %v", err)
		}
		if got.Name != newName {
			t.Errorf("UpdateUser returned name %q, want %q", got.Name, newName)
		}
		db, err := a.GetUser(ctx, user.ID)
		if err != nil {
			t.Fatalf("GetUser after UpdateUser: %v", err)
		}
		if db.Name != newName {
			t.Errorf("stored name %q, want %q", db.Name, newName)
		}
		user.Name = newName
	})

	step("updateSession", func(t *testing.T) {
		expires := s.now.Add(oneMonth)
		db, _, err := a.GetSessionAndUser(ctx, se.Token)
		if err != nil {
			t.Fatalf("GetSessionAndUser: %v", err)
		}
		if db.Expires.Equal(expires) {
			t.Fatalf("the session already expires at %s", fmtTime(expires))
		}
		// Auth.js sends {sessionToken, expires}.
		if err := a.UpdateSession(ctx, session.SessionUpdate{Token: se.Token, Expires: expires}); err != nil {
			t.Fatalf("UpdateSession: %v", err)
		}
		db, _, err = a.GetSessionAndUser(ctx, se.Token)
		if err != nil {
			t.Fatalf("GetSessionAndUser after UpdateSession: %v", err)
		}
		checkTime(t, "expires after UpdateSession", db.Expires, expires)
		se.Expires = expires
	})

	step("linkAccount", func(t *testing.T) {
		got, err := a.LinkAccount(ctx, account)
		if err != nil {
			t.Fatalf("LinkAccount: %v", err)
		}
		s.checkAccountID(t, "LinkAccount: ID", got.ID)
		want := account
		want.ID = got.ID
		checkAccount(t, "LinkAccount", got, want)
		account = want
	})

	step("getUserByAccount", func(t *testing.T) {
		_, err := a.GetUserByAccount(ctx, "invalid-provider", "invalid-provider-account-id")
		wantNotFound(t, "GetUserByAccount(invalid-provider, invalid-provider-account-id)", err)
		got, err := a.GetUserByAccount(ctx, account.Provider, account.ProviderAccountID)
		if err != nil {
			t.Fatalf("GetUserByAccount: %v", err)
		}
		// The email, image and emailVerified that updateUser did not name
		// are still there.
		checkUser(t, "GetUserByAccount", got, user)
	})

	step("deleteSession", func(t *testing.T) {
		if err := a.DeleteSession(ctx, se.Token); err != nil {
			t.Fatalf("DeleteSession: %v", err)
		}
		_, _, err := a.GetSessionAndUser(ctx, se.Token)
		wantNotFound(t, "GetSessionAndUser after DeleteSession", err)
	})

	hashed := session.VerificationToken{
		Identifier: "info@example.com",
		Token:      hashToken(randomUUID()),
		Expires:    s.now.Add(15 * time.Minute),
	}
	step("createVerificationToken", func(t *testing.T) {
		got, err := a.CreateVerificationToken(ctx, hashed)
		if err != nil {
			t.Fatalf("CreateVerificationToken: %v", err)
		}
		checkVerificationToken(t, "CreateVerificationToken", got, hashed)
		// Auth.js reads the row directly; the adapter's only reader is
		// UseVerificationToken, which the next case checks in full.
	})

	step("useVerificationToken", func(t *testing.T) {
		vt := session.VerificationToken{Identifier: "info@example.com", Token: hashToken(randomUUID()), Expires: s.now.Add(15 * time.Minute)}
		if _, err := a.CreateVerificationToken(ctx, vt); err != nil {
			t.Fatalf("CreateVerificationToken: %v", err)
		}
		for _, want := range []session.VerificationToken{hashed, vt} {
			got, err := a.UseVerificationToken(ctx, want.Identifier, want.Token)
			if err != nil {
				t.Fatalf("UseVerificationToken: %v (the token should exist)", err)
			}
			checkVerificationToken(t, "UseVerificationToken", got, want)
			_, err = a.UseVerificationToken(ctx, want.Identifier, want.Token)
			wantNotFound(t, "UseVerificationToken, second use", err)
		}
	})

	step("unlinkAccount", func(t *testing.T) {
		if _, err := a.GetUserByAccount(ctx, account.Provider, account.ProviderAccountID); err != nil {
			t.Fatalf("GetUserByAccount before UnlinkAccount: %v", err)
		}
		if err := a.UnlinkAccount(ctx, account.Provider, account.ProviderAccountID); err != nil {
			t.Fatalf("UnlinkAccount: %v", err)
		}
		_, err := a.GetUserByAccount(ctx, account.Provider, account.ProviderAccountID)
		wantNotFound(t, "GetUserByAccount after UnlinkAccount", err)
	})

	step("deleteUser", func(t *testing.T) {
		db, err := a.GetUser(ctx, user.ID)
		if err != nil {
			t.Fatalf("GetUser: %v", err)
		}
		checkUser(t, "the stored user before DeleteUser", db, user)
		// Re-populate the database with the session and the account.
		re := se
		re.ID = ""
		if _, err := a.CreateSession(ctx, re); err != nil {
			t.Fatalf("CreateSession: %v", err)
		}
		re2 := account
		re2.ID = ""
		if _, err := a.LinkAccount(ctx, re2); err != nil {
			t.Fatalf("LinkAccount: %v", err)
		}
		if err := a.DeleteUser(ctx, user.ID); err != nil {
			t.Fatalf("DeleteUser: %v", err)
		}
		_, err = a.GetUser(ctx, user.ID)
		wantNotFound(t, "GetUser after DeleteUser", err)
		_, _, err = a.GetSessionAndUser(ctx, se.Token)
		wantNotFound(t, "GetSessionAndUser of the deleted user's session", err)
		_, err = a.GetUserByAccount(ctx, account.Provider, account.ProviderAccountID)
		wantNotFound(t, "GetUserByAccount of the deleted user's account", err)
	})

	// getAccount does not depend on the cases before it.
	failed = ""
	step("getAccount", func(t *testing.T) {
		local := session.User{Email: "getAccount@example.com"}
		if s.Flavour.IDs != adapter.IDSerial {
			local.ID = s.missingUserID()
		}
		u, err := a.CreateUser(ctx, local)
		if err != nil {
			t.Fatalf("CreateUser: %v", err)
		}
		acc := session.Account{UserID: u.ID, Type: "oauth", Provider: "auth0", ProviderAccountID: randomUUID()}
		if _, err := a.LinkAccount(ctx, acc); err != nil {
			t.Fatalf("LinkAccount: %v", err)
		}
		for _, q := range []struct{ what, provider, id string }{
			{"both invalid", "invalid-provider", "invalid-provider-account-id"},
			{"invalid provider", "invalid-provider", acc.ProviderAccountID},
			{"invalid provider account id", acc.Provider, "invalid-provider-account-id"},
		} {
			_, err := a.GetUserByAccount(ctx, q.provider, q.id)
			wantNotFound(t, "GetUserByAccount, "+q.what, err)
		}
		got, err := a.GetUserByAccount(ctx, acc.Provider, acc.ProviderAccountID)
		if err != nil {
			t.Fatalf("GetUserByAccount: %v", err)
		}
		checkUser(t, "GetUserByAccount", got, u)
	})
}
