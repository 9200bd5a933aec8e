package sqlite_test

import (
	"context"
	"fmt"
	"log"
	"os"
	"path/filepath"

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/sqlite"
)

// Open a SQLite file for sessions and create NextAuth's tables in it, as
// Prisma would (CreateSchema changes nothing where they exist).
func ExampleOpen() {
	dir, err := os.MkdirTemp("", "nextsession-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	st, err := sqlite.Open(filepath.Join(dir, "app.db"), adapter.Prisma)
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close() // closes the file too: Open opened it
	ctx := context.Background()
	if err := st.CreateSchema(ctx); err != nil {
		log.Fatal(err)
	}
	if err := st.Verify(ctx); err != nil {
		log.Fatal(err)
	}

	m := session.NewManager(st, session.Config{})
	defer m.Close()
	n, err := m.CountActive(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("flavour %s, %d active sessions\n", st.Flavour().Name, n)
	// Output:
	// flavour prisma, 0 active sessions
}

// New takes a database the application opened itself; DSN gives the
// settings Open would use. Verify says at start-up whether the tables have
// the flavour's shape.
func ExampleNew() {
	dir, err := os.MkdirTemp("", "nextsession-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	db, err := sqlx.Open("sqlite3", sqlite.DSN(filepath.Join(dir, "app.db")))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	st := sqlite.New(db, adapter.Drizzle)
	defer st.Close()

	ctx := context.Background()
	fmt.Println("before CreateSchema:", st.Verify(ctx) == nil)
	if err := st.CreateSchema(ctx); err != nil {
		log.Fatal(err)
	}
	fmt.Println("after CreateSchema:", st.Verify(ctx) == nil)
	// Output:
	// before CreateSchema: false
	// after CreateSchema: true
}

// Open a database whose flavour is not known (an app's Prisma, Drizzle or
// Kysely tables) and let Detect read it from the catalog and the rows.
func ExampleDetect() {
	dir, err := os.MkdirTemp("", "detect")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	db, err := sqlx.Open("sqlite3", sqlite.DSN(filepath.Join(dir, "app.db")))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	// Tables as an app made them: Drizzle's, with snake_case columns.
	made := adapter.Drizzle
	made.Naming = adapter.SnakeCase
	if err := sqlite.New(db, made).CreateSchema(context.Background()); err != nil {
		log.Fatal(err)
	}

	f, err := sqlite.Detect(context.Background(), db)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(f.Name, f.Tables.Session, f.Naming, f.Names().Session.SessionToken, f.SessionID)
	st := sqlite.New(db, f)
	defer st.Close()
	fmt.Println("verified:", st.Verify(context.Background()) == nil)
	// Output:
	// detected session snake_case session_token false
	// verified: true
}
