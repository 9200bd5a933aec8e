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
