package interop

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/nextsession/nextsession/session"
)

// The scenarios of issue 3, each on Postgres (pg-adapter) and SQLite
// (Kysely); the first four also with Drizzle's adapter on snake_case
// tables and Prisma's on the models of the Auth.js docs (allEnvs). Names
// say which side wrote and which side read.

const v5Name = "authjs.session-token"

// 1. A session from an Auth.js sign-in is accepted by the Go middleware,
// with the right user.
func TestAuthjsSessionInGo(t *testing.T) {
	eachEnv(t, allEnvs, func(t *testing.T, e *env) {
		js, m := e.authjs(), e.manager(v5)

		t.Run("new_user", func(t *testing.T) {
			t.Parallel()
			in := js.signin(t, "new@example.com")
			before := e.row(t, in.SessionToken)
			saw := goRead(t, m, httpURL, in.cookieHeader())
			if !saw.ok {
				t.Fatalf("Go sees no session for Auth.js's cookie %q", in.cookieHeader())
			}
			if saw.user.ID != in.UserID || saw.user.Email != "new@example.com" || saw.user.Name != "" || saw.user.Image != "" {
				t.Errorf("Go's user = %+v, want id %s, email new@example.com, no name or image", saw.user, in.UserID)
			}
			if saw.user.EmailVerified == nil {
				t.Errorf("Go's user has no emailVerified; Auth.js sets it at an email sign-in")
			}
			if saw.sess.Token != in.SessionToken || saw.sess.UserID != in.UserID || !saw.sess.Expires.Equal(parseISO(t, in.Expires)) {
				t.Errorf("Go's session = %+v, want token %s, user %s, expires %s", saw.sess, in.SessionToken, in.UserID, in.Expires)
			}
			if c := goCookie(saw.cookies, v5Name); c == nil || c.Value != in.SessionToken {
				t.Errorf("Go did not set the session cookie again: %v", saw.cookies)
			}
			if after := e.row(t, in.SessionToken); after.raw != before.raw {
				t.Errorf("Go wrote a session not due for update: %s -> %s", before.raw, after.raw)
			}

			// Go's SessionHandler answers as Auth.js's /session does,
			// byte for byte.
			jsRes := js.session(t, in.cookieHeader())
			jsBody := jsRes.session(t)
			goB, goRaw := goBody(t, m, httpURL, in.cookieHeader())
			if jsBody == nil || !reflect.DeepEqual(jsBody, goB) {
				t.Errorf("/session bodies differ:\nAuth.js %s\nGo      %s", mustJSON(jsBody), mustJSON(goB))
			}
			if goRaw != jsRes.Text {
				t.Errorf("/session bytes differ:\nAuth.js %q\nGo      %q", jsRes.Text, goRaw)
			}
		})

		t.Run("user_made_in_go", func(t *testing.T) {
			t.Parallel()
			u := e.goUser(t, "alice@example.com", "Alice Example", "https://example.com/alice.png")
			in := js.signin(t, u.Email)
			if in.UserID != u.ID {
				t.Fatalf("Auth.js signed in user %s, want Go's user %s with that email", in.UserID, u.ID)
			}
			saw := goRead(t, m, httpURL, in.cookieHeader())
			if !saw.ok {
				t.Fatal("Go sees no session")
			}
			if saw.user.ID != u.ID || saw.user.Email != u.Email || saw.user.Name != u.Name || saw.user.Image != u.Image {
				t.Errorf("Go's user = %+v, want %+v", saw.user, u)
			}
		})
	})
}

// 2. A session made by Create in Go is accepted by Auth.js, with the same
// user and expires.
func TestGoSessionInAuthjs(t *testing.T) {
	eachEnv(t, allEnvs, func(t *testing.T, e *env) {
		js, m := e.authjs(), e.manager(v5)
		check := func(t *testing.T, userID string, want session.User) {
			s, c := goCreate(t, m, httpURL, userID)
			r := e.row(t, s.Token)
			if !r.found || r.userID != userID || !r.expires.Equal(s.Expires) {
				t.Fatalf("row = %+v, want user %s, expires %s", r, userID, session.FormatISO(s.Expires))
			}
			res := js.session(t, c.Name+"="+c.Value)
			body := res.session(t)
			if body == nil {
				t.Fatalf("Auth.js sees no session for Go's cookie %s (logs %v)", c, res.Logs)
			}
			if str(body.User.Email) != want.Email || str(body.User.Name) != want.Name || str(body.User.Image) != want.Image {
				t.Errorf("Auth.js's user = %s, want %+v", mustJSON(body.User), want)
			}
			if body.Expires != session.FormatISO(s.Expires) {
				t.Errorf("Auth.js's expires = %s, Go's %s", body.Expires, session.FormatISO(s.Expires))
			}
			if called(res.Logs, "updateSession") {
				t.Error("Auth.js updated a fresh session")
			}
			if jc := cookie(res.Cookies, v5Name); jc == nil || jc.Value != c.Value {
				t.Errorf("Auth.js did not set Go's cookie again: %v", res.Cookies)
			}
			if after := e.row(t, s.Token); after.raw != r.raw {
				t.Errorf("row changed: %s -> %s", r.raw, after.raw)
			}
		}

		t.Run("user_made_in_go", func(t *testing.T) {
			t.Parallel()
			u := e.goUser(t, "bob@example.com", "Bob Example", "https://example.com/bob.png")
			check(t, u.ID, u)
		})
		t.Run("user_made_by_authjs", func(t *testing.T) {
			t.Parallel()
			in := js.signin(t, "carol@example.com")
			check(t, in.UserID, session.User{Email: "carol@example.com"})
			if !e.row(t, in.SessionToken).found {
				t.Error("Go's Create removed the user's other session")
			}
		})
	})
}

// 3. Revoked in Go → Auth.js has no session; signed out in Auth.js → Go
// has none.
func TestRevocation(t *testing.T) {
	eachEnv(t, allEnvs, func(t *testing.T, e *env) {
		js, m := e.authjs(), e.manager(v5)

		t.Run("go_destroy", func(t *testing.T) {
			t.Parallel()
			in := js.signin(t, "dan@example.com")
			cs := goDestroy(t, m, httpURL, in.cookieHeader())
			if c := goCookie(cs, v5Name); c == nil || c.MaxAge >= 0 || c.Value != "" {
				t.Errorf("Go's Destroy did not clear the cookie: %v", cs)
			}
			if e.row(t, in.SessionToken).found {
				t.Fatal("Go's Destroy left the row")
			}
			res := js.session(t, in.cookieHeader())
			if body := res.session(t); body != nil {
				t.Fatalf("Auth.js still sees %s after Go's Destroy", mustJSON(body))
			}
			if c := cookie(res.Cookies, v5Name); c == nil || c.MaxAge == nil || *c.MaxAge != 0 {
				t.Errorf("Auth.js did not clear the cookie of a revoked session: %v", res.Cookies)
			}
		})

		t.Run("go_revoke_user", func(t *testing.T) {
			t.Parallel()
			a1 := js.signin(t, "erin@example.com")
			a2 := js.signin(t, "erin@example.com")
			if a2.UserID != a1.UserID || a2.SessionToken == a1.SessionToken {
				t.Fatalf("two sign-ins: users %s, %s, tokens %s, %s", a1.UserID, a2.UserID, a1.SessionToken, a2.SessionToken)
			}
			_, gc := goCreate(t, m, httpURL, a1.UserID)
			other := js.signin(t, "frank@example.com")

			n, err := m.RevokeUser(context.Background(), a1.UserID)
			if err != nil || n != 3 {
				t.Fatalf("RevokeUser = %d, %v; want 3 sessions (two from Auth.js, one from Go)", n, err)
			}
			for _, h := range []string{a1.cookieHeader(), a2.cookieHeader(), gc.Name + "=" + gc.Value} {
				if body := js.session(t, h).session(t); body != nil {
					t.Errorf("Auth.js still sees %s after RevokeUser", mustJSON(body))
				}
			}
			if body := js.session(t, other.cookieHeader()).session(t); body == nil || str(body.User.Email) != "frank@example.com" {
				t.Errorf("another user's session is gone for Auth.js: %s", mustJSON(body))
			}
			if !goRead(t, m, httpURL, other.cookieHeader()).ok {
				t.Error("another user's session is gone for Go")
			}
		})

		signout := func(t *testing.T, header, token string) {
			out := js.signout(t, header)
			if out.Status != http.StatusFound || !called(out.Logs, "deleteSession") {
				t.Errorf("Auth.js signout: status %d, deleteSession called %v", out.Status, called(out.Logs, "deleteSession"))
			}
			if c := cookie(out.Cookies, v5Name); c == nil || c.MaxAge == nil || *c.MaxAge != 0 || c.Value != "" {
				t.Errorf("Auth.js signout did not clear the cookie: %v", out.Cookies)
			}
			if e.row(t, token).found {
				t.Fatal("Auth.js signout left the row")
			}
			saw := goRead(t, m, httpURL, header)
			if saw.ok {
				t.Fatalf("Go still sees %+v after Auth.js signout", saw.sess)
			}
			if c := goCookie(saw.cookies, v5Name); c == nil || c.MaxAge >= 0 {
				t.Errorf("Go did not clear the cookie of a signed-out session: %v", saw.cookies)
			}
		}
		t.Run("authjs_signout_of_go_session", func(t *testing.T) {
			t.Parallel()
			u := e.goUser(t, "gina@example.com", "Gina", "")
			s, c := goCreate(t, m, httpURL, u.ID)
			signout(t, c.Name+"="+c.Value, s.Token)
		})
		t.Run("authjs_signout_of_authjs_session", func(t *testing.T) {
			t.Parallel()
			in := js.signin(t, "hank@example.com")
			if !goRead(t, m, httpURL, in.cookieHeader()).ok {
				t.Fatal("Go sees no session before the signout")
			}
			signout(t, in.cookieHeader(), in.SessionToken)
		})
	})
}

// 4. Sliding expiry: a session due for update is extended by whichever
// side reads it, and the other side sees the new expires; one not due is
// not written.
func TestSlidingExpiry(t *testing.T) {
	eachEnv(t, allEnvs, func(t *testing.T, e *env) {
		js, m := e.authjs(), e.manager(v5)
		// expires - maxAge + updateAge is a minute ago: due.
		due := func() time.Time { return msTime(maxAge-updateAge-time.Minute, 123) }
		// expires - maxAge + updateAge is in an hour: not due.
		notDue := func() time.Time { return msTime(maxAge-updateAge+time.Hour, 456) }

		t.Run("due_read_by_authjs", func(t *testing.T) {
			t.Parallel()
			u := e.goUser(t, "ivy@example.com", "Ivy", "")
			s, c := goCreate(t, m, httpURL, u.ID)
			old := due()
			e.setExpires(t, s.Token, old)
			var res sessionResult
			w := during(func() { res = js.session(t, c.Name+"="+c.Value) })
			body := res.session(t)
			if body == nil || body.Expires != session.FormatISO(old) {
				t.Fatalf("Auth.js body %s, want expires as read, %s", mustJSON(body), session.FormatISO(old))
			}
			if !called(res.Logs, "updateSession") {
				t.Error("Auth.js did not call updateSession on a due session")
			}
			r := e.row(t, s.Token)
			w.wantExtended(t, "row after Auth.js's read", r.expires)
			wantMillis(t, e, r)
			if jc := cookie(res.Cookies, v5Name); jc == nil || jc.Expires == nil || !httpTimeIs(*jc.Expires, r.expires) {
				t.Errorf("Auth.js cookie %v, want Expires = the row's %s", jc, r.raw)
			}

			saw := goRead(t, m, httpURL, c.Name+"="+c.Value)
			if !saw.ok || !saw.sess.Expires.Equal(r.expires) {
				t.Errorf("Go sees ok=%v expires %s, want Auth.js's new %s", saw.ok, session.FormatISO(saw.sess.Expires), r.raw)
			}
			if after := e.row(t, s.Token); after.raw != r.raw {
				t.Errorf("Go wrote a session Auth.js had just extended: %s -> %s", r.raw, after.raw)
			}
		})

		t.Run("due_read_by_go", func(t *testing.T) {
			t.Parallel()
			in := js.signin(t, "jack@example.com")
			old := due()
			e.setExpires(t, in.SessionToken, old)
			var saw goSaw
			w := during(func() { saw = goRead(t, m, httpURL, in.cookieHeader()) })
			if !saw.ok {
				t.Fatal("Go sees no session")
			}
			w.wantExtended(t, "Go's Session.Expires", saw.sess.Expires)
			r := e.row(t, in.SessionToken)
			if !r.expires.Equal(saw.sess.Expires) {
				t.Errorf("row %s, Go's Session.Expires %s", r.raw, session.FormatISO(saw.sess.Expires))
			}
			wantMillis(t, e, r)
			if c := goCookie(saw.cookies, v5Name); c == nil || !c.Expires.Equal(r.expires.Truncate(time.Second)) {
				t.Errorf("Go cookie %v, want Expires = the row's %s", c, r.raw)
			}

			res := js.session(t, in.cookieHeader())
			if body := res.session(t); body == nil || body.Expires != session.FormatISO(r.expires) {
				t.Errorf("Auth.js body %s, want Go's new expires %s", mustJSON(body), session.FormatISO(r.expires))
			}
			if called(res.Logs, "updateSession") {
				t.Error("Auth.js updated a session Go had just extended")
			}
			if after := e.row(t, in.SessionToken); after.raw != r.raw {
				t.Errorf("row changed: %s -> %s", r.raw, after.raw)
			}
		})

		t.Run("not_due", func(t *testing.T) {
			t.Parallel()
			in := js.signin(t, "kate@example.com")
			set := notDue()
			e.setExpires(t, in.SessionToken, set)
			before := e.row(t, in.SessionToken)

			var res sessionResult
			w := during(func() { res = js.session(t, in.cookieHeader()) })
			if body := res.session(t); body == nil || body.Expires != session.FormatISO(set) {
				t.Errorf("Auth.js body %s, want expires %s", mustJSON(body), session.FormatISO(set))
			}
			if called(res.Logs, "updateSession") {
				t.Error("Auth.js called updateSession on a session not due")
			}
			if r := e.row(t, in.SessionToken); r.raw != before.raw {
				t.Errorf("Auth.js wrote a session not due: %s -> %s", before.raw, r.raw)
			}
			// Auth.js re-sets the cookie to now + maxAge all the same.
			if jc := cookie(res.Cookies, v5Name); jc == nil || jc.Expires == nil {
				t.Errorf("Auth.js did not set the cookie again: %v", res.Cookies)
			} else if exp, err := http.ParseTime(*jc.Expires); err != nil {
				t.Error(err)
			} else {
				window{w.from.Truncate(time.Second), w.to}.wantExtended(t, "Auth.js cookie", exp)
			}

			var saw goSaw
			w = during(func() { saw = goRead(t, m, httpURL, in.cookieHeader()) })
			if !saw.ok || !saw.sess.Expires.Equal(set) {
				t.Errorf("Go sees ok=%v expires %s, want %s", saw.ok, session.FormatISO(saw.sess.Expires), session.FormatISO(set))
			}
			if r := e.row(t, in.SessionToken); r.raw != before.raw {
				t.Errorf("Go wrote a session not due: %s -> %s", before.raw, r.raw)
			}
			if c := goCookie(saw.cookies, v5Name); c == nil {
				t.Errorf("Go did not set the cookie again: %v", saw.cookies)
			} else {
				window{w.from.Truncate(time.Second), w.to}.wantExtended(t, "Go cookie", c.Expires)
			}
		})
	})
}

// 5. An expired session is refused, and its row deleted, by whichever side
// reads it first.
func TestExpired(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		js, m := e.authjs(), e.manager(v5)
		// made returns the Cookie header and token of a session made by one side.
		made := map[string]func(t *testing.T, email string) (string, string){
			"go": func(t *testing.T, email string) (string, string) {
				u := e.goUser(t, email, "", "")
				s, c := goCreate(t, m, httpURL, u.ID)
				return c.Name + "=" + c.Value, s.Token
			},
			"authjs": func(t *testing.T, email string) (string, string) {
				in := js.signin(t, email)
				return in.cookieHeader(), in.SessionToken
			},
		}
		authjsReads := func(t *testing.T, header string) sessionResult {
			res := js.session(t, header)
			if body := res.session(t); body != nil {
				t.Fatalf("Auth.js accepted an expired session: %s", mustJSON(body))
			}
			if c := cookie(res.Cookies, v5Name); c == nil || c.MaxAge == nil || *c.MaxAge != 0 {
				t.Errorf("Auth.js did not clear the cookie: %v", res.Cookies)
			}
			return res
		}
		goReads := func(t *testing.T, header string) {
			saw := goRead(t, m, httpURL, header)
			if saw.ok {
				t.Fatalf("Go accepted an expired session: %+v", saw.sess)
			}
			if c := goCookie(saw.cookies, v5Name); c == nil || c.MaxAge >= 0 {
				t.Errorf("Go did not clear the cookie: %v", saw.cookies)
			}
		}
		for _, maker := range []string{"go", "authjs"} {
			t.Run("made_by_"+maker+"_authjs_reads_first", func(t *testing.T) {
				t.Parallel()
				header, token := made[maker](t, "exp-"+maker+"-a@example.com")
				e.setExpires(t, token, msTime(-time.Minute, 789))
				res := authjsReads(t, header)
				if !called(res.Logs, "deleteSession") {
					t.Error("Auth.js did not call deleteSession")
				}
				if e.row(t, token).found {
					t.Fatal("Auth.js left the expired row")
				}
				goReads(t, header)
			})
			t.Run("made_by_"+maker+"_go_reads_first", func(t *testing.T) {
				t.Parallel()
				header, token := made[maker](t, "exp-"+maker+"-b@example.com")
				e.setExpires(t, token, msTime(-time.Minute, 789))
				goReads(t, header)
				if e.row(t, token).found {
					t.Fatal("Go left the expired row")
				}
				res := authjsReads(t, header)
				if !called(res.Logs, "getSessionAndUser") || called(res.Logs, "deleteSession") {
					t.Errorf("Auth.js after Go: want a lookup that finds nothing, got logs %v", res.Logs)
				}
			})
		}
	})
}

// 6. CountActive counts the sessions of both sides, and none that expired.
func TestCountActive(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		js, m := e.authjs(), e.manager(v5)
		ctx := context.Background()
		count := func(t *testing.T, userID string, want int64) {
			t.Helper()
			n, err := m.CountUserActive(ctx, userID)
			if err != nil || n != want {
				t.Errorf("CountUserActive(%q) = %d, %v; want %d", userID, n, err, want)
			}
		}

		a := js.signin(t, "lena@example.com")
		b := js.signin(t, "mike@example.com")
		u := e.goUser(t, "nora@example.com", "Nora", "")
		g1, _ := goCreate(t, m, httpURL, u.ID)
		g2, _ := goCreate(t, m, httpURL, a.UserID)
		count(t, "", 4)
		count(t, a.UserID, 2)
		if n, err := m.CountActive(ctx); err != nil || n != 4 {
			t.Errorf("CountActive = %d, %v; want 4", n, err)
		}

		e.setExpires(t, a.SessionToken, msTime(-time.Second, 1))
		e.setExpires(t, g1.Token, msTime(-time.Minute, 999))
		// Just ahead of now: still active for a count made now.
		e.setExpires(t, b.SessionToken, msTime(time.Minute, 0))
		count(t, "", 2)
		count(t, a.UserID, 1)
		count(t, u.ID, 0)
		if e.countRows(t) != 4 {
			t.Errorf("counting changed the rows: %d, want 4", e.countRows(t))
		}
		list, err := m.ListActive(ctx, "", 0)
		var got []string
		for _, su := range list {
			got = append(got, su.Session.Token)
		}
		if err != nil || len(got) != 2 || !(contains(got, b.SessionToken) && contains(got, g2.Token)) {
			t.Errorf("ListActive = %v, %v; want Auth.js's %s and Go's %s", got, err, b.SessionToken, g2.Token)
		}

		// Auth.js deletes the expired row it reads; the count stays.
		if body := js.session(t, a.cookieHeader()).session(t); body != nil {
			t.Errorf("Auth.js accepted an expired session: %s", mustJSON(body))
		}
		count(t, "", 2)
		if e.countRows(t) != 3 {
			t.Errorf("rows after Auth.js read an expired one: %d, want 3", e.countRows(t))
		}
	})
}

// 7. Cookie names: v5, v4, and __Secure- on https. Go reads what Auth.js
// sets, and Auth.js reads what Go sets.
func TestCookieNames(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		cases := []struct {
			name      string
			base      string
			jsName    string // Auth.js's cookies.sessionToken.name, "" for its default
			want      string
			cfg       session.Config
			secure    bool
			wrongName string // a name neither side may read here
		}{
			{"v5", httpURL, "", "authjs.session-token",
				session.Config{CookieVersion: session.CookieV5}, false,
				"next-auth.session-token"},
			{"v4", httpURL, "next-auth.session-token", "next-auth.session-token",
				session.Config{CookieVersion: session.CookieV4}, false,
				"authjs.session-token"},
			{"v5_https", httpsURL, "", "__Secure-authjs.session-token",
				session.Config{CookieVersion: session.CookieV5, Secure: session.SecureAlways}, true,
				"authjs.session-token"},
			// next-auth v4 adds the prefix itself on https; given to @auth/core
			// as a name, it is used as is.
			{"v4_https", httpsURL, "__Secure-next-auth.session-token", "__Secure-next-auth.session-token",
				session.Config{CookieVersion: session.CookieV4, Secure: session.SecureAlways}, true,
				"next-auth.session-token"},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				t.Parallel()
				js := authjs{e: e, baseURL: tc.base, cookieName: tc.jsName}
				m := e.manager(tc.cfg)

				// Auth.js sets, Go reads.
				in := js.signin(t, "cookie-"+tc.name+"@example.com")
				jc := cookie(in.Cookies, tc.want)
				if in.SessionCookieName != tc.want || jc == nil {
					t.Fatalf("Auth.js set %v, want a %s cookie", in.Cookies, tc.want)
				}
				saw := goRead(t, m, tc.base, in.cookieHeader())
				if !saw.ok || saw.user.ID != in.UserID {
					t.Fatalf("Go (%+v) does not read Auth.js's %s: ok=%v user %q", tc.cfg, tc.want, saw.ok, saw.user.ID)
				}
				gc := goCookie(saw.cookies, tc.want)
				if gc == nil {
					t.Fatalf("Go set %v, want %s", saw.cookies, tc.want)
				}
				sameAttributes(t, jc, gc, tc.secure)

				// Go sets, Auth.js reads.
				u := e.goUser(t, "go-"+tc.name+"@example.com", "Go "+tc.name, "")
				s, c := goCreate(t, m, tc.base, u.ID)
				if c.Name != tc.want {
					t.Fatalf("Go set %s, want %s", c.Name, tc.want)
				}
				res := js.session(t, c.Name+"="+c.Value)
				body := res.session(t)
				if body == nil || str(body.User.Email) != u.Email || body.Expires != session.FormatISO(s.Expires) {
					t.Fatalf("Auth.js does not read Go's %s: %s", c.Name, mustJSON(body))
				}
				jc2 := cookie(res.Cookies, tc.want)
				if jc2 == nil || jc2.Value != c.Value {
					t.Fatalf("Auth.js did not set Go's cookie again: %v", res.Cookies)
				}
				sameAttributes(t, jc2, c, tc.secure)

				// The token under another name is no session for either side.
				wrong := tc.wrongName + "=" + c.Value
				if goRead(t, m, tc.base, wrong).ok {
					t.Errorf("Go (reading %s) took a %s cookie", tc.want, tc.wrongName)
				}
				if tc.secure {
					// Auth.js does not fall back to the plain name on https.
					r := js.session(t, wrong)
					if r.session(t) != nil || called(r.Logs, "getSessionAndUser") {
						t.Errorf("Auth.js (reading %s) took a %s cookie", tc.want, tc.wrongName)
					}
				}
			})
		}
	})
}

// Cookie headers a browser or proxy may send in odd shapes: Go reads the
// token as Auth.js does (lib/vendored/cookie.js parse: values are
// percent-decoded, quotes kept; lib/utils/cookie.js SessionStore: chunks
// sorted by suffix, empty ones skipped), except a name sent twice with
// different values: Auth.js keeps the first, Next.js's App Router the
// last, and Go reads no session (TestCookieParsers).
func TestCookieHeaderShapes(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		js, m := e.authjs(), e.manager(v5)
		u := e.goUser(t, "shapes@example.com", "", "")
		_, c := goCreate(t, m, httpURL, u.ID)
		tok, n := c.Value, v5Name
		const other = "00000000-0000-4000-8000-000000000000"
		cases := []struct {
			name, header string
			want         bool // Auth.js's verdict
			goWant       bool
		}{
			{"chunks_out_of_order", n + ".1=" + tok[18:] + "; " + n + ".0=" + tok[:18], true, true},
			{"first_of_repeated_name", n + "=" + tok + "; " + n + "=" + other, true, false},
			{"repeated_name_other_first", n + "=" + other + "; " + n + "=" + tok, false, false},
			{"repeated_name_empty_first", n + "=; " + n + "=" + tok, false, false},
			{"same_cookie_twice", n + "=" + tok + "; " + n + "=" + tok, true, true},
			{"percent_encoded", n + "=" + strings.ReplaceAll(tok, "-", "%2D"), true, true},
			{"quoted", n + `="` + tok + `"`, false, false},
			{"spaces", " " + n + " =  " + tok + " ;x=y", true, true},
		}
		for _, tc := range cases {
			t.Run(tc.name, func(t *testing.T) {
				jsOK := js.session(t, tc.header).session(t) != nil
				goOK := goRead(t, m, httpURL, tc.header).ok
				if jsOK != tc.want {
					t.Errorf("Auth.js: session %v for %q, want %v", jsOK, tc.header, tc.want)
				}
				if goOK != tc.goWant {
					t.Errorf("Go: session %v for %q, want %v; Auth.js: %v", goOK, tc.header, tc.goWant, jsOK)
				}
			})
		}
	})
}

// 8. Dates written by either side round-trip to the millisecond: the
// row, Auth.js's body and Go's Session.Expires agree.
func TestDates(t *testing.T) {
	eachDB(t, func(t *testing.T, e *env) {
		js, m := e.authjs(), e.manager(v5)

		t.Run("written_by_authjs", func(t *testing.T) {
			t.Parallel()
			var in signinResult
			w := during(func() { in = js.signin(t, "olga@example.com") })
			r := e.row(t, in.SessionToken)
			wantMillis(t, e, r)
			w.wantExtended(t, "Auth.js's new session", r.expires)
			if e.kind == "sqlite" && r.raw != in.Expires {
				t.Errorf("row text %q, Auth.js's Date %q", r.raw, in.Expires)
			}
			if !r.expires.Equal(parseISO(t, in.Expires)) {
				t.Errorf("row %s, Auth.js's Date %s", r.raw, in.Expires)
			}
			if jc := cookie(in.Cookies, v5Name); jc == nil || jc.Expires == nil || !httpTimeIs(*jc.Expires, r.expires) {
				t.Errorf("Auth.js's cookie %v, want Expires = the row's %s", jc, r.raw)
			}
			saw := goRead(t, m, httpURL, in.cookieHeader())
			if !saw.ok || !saw.sess.Expires.Equal(r.expires) || session.FormatISO(saw.sess.Expires) != in.Expires {
				t.Errorf("Go's Session.Expires %s, want %s", session.FormatISO(saw.sess.Expires), in.Expires)
			}
			if v := saw.user.EmailVerified; v == nil || v.Nanosecond()%int(time.Millisecond) != 0 ||
				v.Before(w.from) || v.After(w.to) {
				t.Errorf("Go's emailVerified %v, want the sign-in time, in ms", v)
			}
			if body := js.session(t, in.cookieHeader()).session(t); body == nil || body.Expires != in.Expires {
				t.Errorf("Auth.js body %s, want expires %s", mustJSON(body), in.Expires)
			}
		})

		t.Run("written_by_go", func(t *testing.T) {
			t.Parallel()
			u := e.goUser(t, "paul@example.com", "Paul", "")
			var s session.Session
			var c *http.Cookie
			w := during(func() { s, c = goCreate(t, m, httpURL, u.ID) })
			w.wantExtended(t, "Go's new session", s.Expires)
			if s.Expires.Nanosecond()%int(time.Millisecond) != 0 || s.Expires.Location() != time.UTC {
				t.Errorf("Go's Session.Expires %v is not UTC milliseconds", s.Expires)
			}
			r := e.row(t, s.Token)
			wantMillis(t, e, r)
			if !r.expires.Equal(s.Expires) {
				t.Errorf("row %s, Go's %s", r.raw, session.FormatISO(s.Expires))
			}
			if !c.Expires.Equal(s.Expires.Truncate(time.Second)) {
				t.Errorf("Go's cookie Expires %v, want %v", c.Expires, s.Expires)
			}
			if body := js.session(t, c.Name+"="+c.Value).session(t); body == nil || body.Expires != session.FormatISO(s.Expires) {
				t.Errorf("Auth.js body %s, want expires %s", mustJSON(body), session.FormatISO(s.Expires))
			}
		})

		// Edge milliseconds written into a row (not due for update), read
		// by both.
		for _, ms := range []int{0, 1, 999} {
			t.Run(fmt.Sprintf("ms_%03d", ms), func(t *testing.T) {
				t.Parallel()
				u := e.goUser(t, fmt.Sprintf("ms%d@example.com", ms), "", "")
				s, c := goCreate(t, m, httpURL, u.ID)
				header := c.Name + "=" + c.Value
				set := msTime(maxAge-time.Hour, ms)
				e.setExpires(t, s.Token, set)
				saw := goRead(t, m, httpURL, header)
				if !saw.ok || !saw.sess.Expires.Equal(set) {
					t.Errorf("Go's Session.Expires %s, want %s", session.FormatISO(saw.sess.Expires), session.FormatISO(set))
				}
				if body := js.session(t, header).session(t); body == nil || body.Expires != session.FormatISO(set) {
					t.Errorf("Auth.js body %s, want expires %s", mustJSON(body), session.FormatISO(set))
				}
			})
		}

		// A row with microseconds, as SQL's now() or another tool writes on
		// Postgres: Auth.js's Date keeps the millisecond, so must Go.
		t.Run("microseconds_in_row", func(t *testing.T) {
			t.Parallel()
			u := e.goUser(t, "micro@example.com", "", "")
			s, c := goCreate(t, m, httpURL, u.ID)
			header := c.Name + "=" + c.Value
			set := msTime(maxAge-time.Hour, 123).Add(456 * time.Microsecond)
			var v any = set
			if e.kind == "sqlite" {
				v = set.Format("2006-01-02T15:04:05.000000Z")
			}
			if _, err := e.db.Exec(e.db.Rebind(`UPDATE `+e.sessionTable()+` SET "expires" = ? WHERE "sessionToken" = ?`), v, s.Token); err != nil {
				t.Fatal(err)
			}
			body := js.session(t, header).session(t)
			saw := goRead(t, m, httpURL, header)
			want := set.Truncate(time.Millisecond)
			if body == nil || body.Expires != session.FormatISO(want) {
				t.Errorf("Auth.js body %s, want expires %s", mustJSON(body), session.FormatISO(want))
			}
			if !saw.ok || !saw.sess.Expires.Equal(want) {
				t.Errorf("Go's Session.Expires %s, want %s as Auth.js reads it (the Adapter contract: truncated to the millisecond)",
					saw.sess.Expires.Format(time.RFC3339Nano), session.FormatISO(want))
			}
		})
	})
}

// TestVersions checks that the installed packages are the pinned ones.
func TestVersions(t *testing.T) {
	requireAuthjs(t)
	var pkg struct {
		Dependencies map[string]string `json:"dependencies"`
	}
	readJSON(t, "package.json", &pkg)
	for name, pin := range pkg.Dependencies {
		var got struct {
			Version string `json:"version"`
		}
		readJSON(t, filepath.Join("node_modules", name, "package.json"), &got)
		if got.Version != pin {
			t.Errorf("%s %s installed, %s pinned: run `npm ci --prefix interop`", name, got.Version, pin)
		}
		t.Logf("%s %s", name, got.Version)
	}
	if out, err := exec.Command("node", "--version").Output(); err == nil {
		t.Logf("node %s", strings.TrimSpace(string(out)))
	}
}

// ---- small helpers ------------------------------------------------------

// wantMillis checks that a row written by either side holds milliseconds
// exactly, and on SQLite the value the adapter writes (stored).
func wantMillis(t *testing.T, e *env, r row) {
	t.Helper()
	if !r.found {
		t.Fatal("no row")
	}
	if r.expires.Nanosecond()%int(time.Millisecond) != 0 {
		t.Errorf("row expires %s has more than milliseconds", r.raw)
	}
	if want := fmt.Sprint(e.stored(r.expires)); e.kind == "sqlite" && r.raw != want {
		t.Errorf("row holds %q, want %q as %s's adapter writes it", r.raw, want, e.node)
	}
}

// httpTimeIs reports whether a cookie's Expires attribute is t, to the second.
func httpTimeIs(attr string, t time.Time) bool {
	v, err := http.ParseTime(attr)
	return err == nil && v.Equal(t.Truncate(time.Second))
}

// sameAttributes checks that a cookie set by Auth.js and one set by Go
// carry the same attributes: HttpOnly, Path=/, SameSite=Lax, no Domain,
// Secure exactly on https.
func sameAttributes(t *testing.T, js *jsCookie, g *http.Cookie, secure bool) {
	t.Helper()
	if !js.HTTPOnly || str(js.Path) != "/" || !strings.EqualFold(str(js.SameSite), "lax") || js.Domain != nil || js.Secure != secure {
		t.Errorf("Auth.js cookie %s", js.Raw)
	}
	if !g.HttpOnly || g.Path != "/" || g.SameSite != http.SameSiteLaxMode || g.Domain != "" || g.Secure != secure {
		t.Errorf("Go cookie %s", g.Raw)
	}
	if js.Expires == nil || g.Expires.IsZero() || js.MaxAge != nil || g.MaxAge != 0 {
		t.Errorf("want Expires and no Max-Age on both: Auth.js %s, Go %s", js.Raw, g.Raw)
	}
}

func str(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

func readJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(b, v)
	}
	if err != nil {
		t.Fatal(err)
	}
}
