package adapter_test

import (
	"errors"
	"fmt"

	"github.com/nextsession/nextsession/adapter"
)

// Pick the flavour by name, from configuration say.
func ExampleLookup() {
	f, err := adapter.Lookup("drizzle")
	if err != nil {
		panic(err)
	}
	fmt.Println(f.Tables.Session, "has an id column:", f.SessionID)
	fmt.Println("on SQLite:", f.Check(adapter.SQLite) == nil)

	pg, _ := adapter.Lookup("pg-adapter")
	fmt.Println(pg.Tables.Session, "on SQLite:", pg.Check(adapter.SQLite))

	_, err = adapter.Lookup("typeorm")
	fmt.Println(errors.Is(err, adapter.ErrUnknownFlavour))
	// Output:
	// session has an id column: false
	// on SQLite: true
	// sessions on SQLite: adapter: flavour pg-adapter exists only on Postgres
	// true
}

// The indexes NextAuth's schemas lack, to add to a migration.
func ExampleFlavour_Indexes() {
	stmts, err := adapter.Prisma.Indexes(adapter.Postgres)
	if err != nil {
		panic(err)
	}
	for _, s := range stmts {
		fmt.Println(s + ";")
	}
	// Output:
	// CREATE INDEX IF NOT EXISTS "Session_expires_idx" ON "Session" ("expires");
	// CREATE INDEX IF NOT EXISTS "Session_userId_expires_idx" ON "Session" ("userId", "expires");
}

// Schema gives the tables a flavour's own tooling would create.
func ExampleFlavour_Schema() {
	stmts, err := adapter.Drizzle.Schema(adapter.SQLite)
	if err != nil {
		panic(err)
	}
	fmt.Println(stmts[len(stmts)-2])
	// Output:
	// CREATE TABLE IF NOT EXISTS "session" (
	//   "sessionToken" TEXT NOT NULL PRIMARY KEY,
	//   "userId" TEXT NOT NULL,
	//   "expires" INTEGER NOT NULL,
	//   CONSTRAINT "session_userId_fkey" FOREIGN KEY ("userId") REFERENCES "user" ("id") ON DELETE CASCADE ON UPDATE CASCADE
	// )
}

// A Prisma schema whose models are mapped to snake_case (@@map("sessions"),
// @map("session_token")) with one field left unmapped: rename the tables,
// set Naming, and name the exception in Columns.
func ExampleFlavour_mappedColumns() {
	f := adapter.Prisma
	f.Name = "app"
	f.Tables = adapter.Tables{User: "users", Account: "accounts", Session: "sessions", VerificationToken: "verification_tokens"}
	f.Naming = adapter.SnakeCase
	f.Columns.User.EmailVerified = "emailVerified"

	n := f.Names()
	fmt.Println(n.Session.SessionToken, n.Session.UserID, n.Session.Expires)
	fmt.Println(n.Account.ProviderAccountID, n.Account.RefreshToken, n.User.EmailVerified)
	stmts, _ := f.Indexes(adapter.Postgres)
	fmt.Println(stmts[1])
	// Output:
	// session_token user_id expires
	// provider_account_id refresh_token emailVerified
	// CREATE INDEX IF NOT EXISTS "sessions_userId_expires_idx" ON "sessions" ("user_id", "expires")
}

// Tables in a Postgres schema of their own, as Supabase's adapter keeps
// them: each part of the name is quoted.
func ExampleFlavour_QuoteTable() {
	fmt.Println(adapter.Supabase.QuoteTable(adapter.Supabase.Tables.Session))
	f := adapter.Kysely
	f.TableSchema = "auth"
	fmt.Println(f.QuoteTable(f.Tables.User))
	// Output:
	// "next_auth"."sessions"
	// "auth"."User"
}
