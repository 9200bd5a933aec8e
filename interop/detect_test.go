package interop

import (
	"context"
	"testing"
	"time"

	"github.com/nextsession/nextsession/adapter"
)

// Detect reads, from each database the real Auth.js adapters wrote (a
// sign-in: user, verification token, session), the flavour the Go side
// was configured with: pg-adapter, Kysely, Drizzle on the app's snake_case
// tables, and the Prisma models of the Auth.js docs on both databases,
// whose SQLite dates Prisma 7 writes as ISO text with +00:00.
func TestDetectAuthjsDatabases(t *testing.T) {
	eachEnv(t, allEnvs, func(t *testing.T, e *env) {
		e.authjs().signin(t, "detect@example.com")
		d := adapter.SQLite
		if e.kind == "postgres" {
			d = adapter.Postgres
		}
		got, err := adapter.Detect(context.Background(), e.db.DB, d)
		if err != nil {
			t.Fatal(err)
		}
		want := e.flavour
		if _, err := adapter.Lookup(want.Name); err != nil {
			want.Name, want.PostgresDates = "detected", 0 // a mapped flavour, on SQLite
		}
		if got != want {
			t.Errorf("Detect = %+v\nwant     %+v", got, want)
		}
	})
}

// On the Prisma models of the Auth.js docs, updatedAt is written by
// whichever side writes the row: Prisma on Auth.js's sign-in and
// extension, the Go store on Go's; each side's later write moves it
// forward, and each side reads the other's.
func TestPrismaUpdatedAt(t *testing.T) {
	eachEnv(t, []string{"postgres-prisma", "sqlite-prisma"}, func(t *testing.T, e *env) {
		js, m := e.authjs(), e.manager(v5)
		n := e.flavour.Names().Session
		updatedAt := func(token string) time.Time {
			t.Helper()
			var v any
			q := e.db.Rebind(`SELECT ` + map[bool]string{true: "", false: "+"}[e.kind == "postgres"] + adapter.Quote(n.UpdatedAt) +
				` FROM ` + e.sessionTable() + ` WHERE ` + adapter.Quote(n.SessionToken) + ` = ?`)
			if err := e.db.QueryRow(q, token).Scan(&v); err != nil {
				t.Fatal(err)
			}
			switch x := v.(type) {
			case time.Time:
				return x.UTC()
			case string:
				if got, err := time.Parse(time.RFC3339Nano, x); err == nil {
					return got.UTC()
				}
			}
			t.Fatalf("updatedAt holds %#v", v)
			return time.Time{}
		}

		in := js.signin(t, "stamps@example.com")
		byPrisma := updatedAt(in.SessionToken)
		if time.Since(byPrisma) > time.Minute {
			t.Fatalf("Prisma's updatedAt %v is not the sign-in's time", byPrisma)
		}
		// Go extends the session when due: updatedAt moves forward.
		e.setExpires(t, in.SessionToken, time.Now().Add(maxAge-updateAge-time.Minute))
		time.Sleep(5 * time.Millisecond)
		if saw := goRead(t, m, httpURL, in.cookieHeader()); !saw.ok {
			t.Fatal("Go sees no session")
		}
		byGo := updatedAt(in.SessionToken)
		if !byGo.After(byPrisma) {
			t.Errorf("Go's extension left updatedAt at %v (Prisma wrote %v)", byGo, byPrisma)
		}
		// Prisma reads the row Go wrote, and extends it in turn.
		e.setExpires(t, in.SessionToken, time.Now().Add(maxAge-updateAge-time.Minute))
		if body := js.session(t, in.cookieHeader()).session(t); body == nil {
			t.Fatal("Auth.js sees no session after Go's write")
		}
		if again := updatedAt(in.SessionToken); !again.After(byGo) {
			t.Errorf("Prisma's extension left updatedAt at %v (Go wrote %v)", again, byGo)
		}

		// A session Go creates carries Go's stamps, and Prisma reads it.
		s, c := goCreate(t, m, httpURL, in.UserID)
		if u := updatedAt(s.Token); time.Since(u) > time.Minute {
			t.Errorf("Go's CreateSession wrote updatedAt %v", u)
		}
		if body := js.session(t, c.Name+"="+c.Value).session(t); body == nil {
			t.Error("Auth.js sees no session for Go's cookie")
		}
	})
}
