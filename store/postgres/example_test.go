package postgres_test

import (
	"context"
	"log"
	"net/http"
	"os"

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/postgres"
)

// Share the database of a Next.js app whose Prisma schema created the
// tables: check their shape at start-up, then serve with sessions.
func ExampleOpen() {
	st, err := postgres.Open(os.Getenv("DATABASE_URL"), adapter.Prisma)
	if err != nil {
		log.Fatal(err) // a bad URL, or the database does not answer
	}
	defer st.Close() // closes the connections too: Open opened them
	ctx := context.Background()
	if err := st.Verify(ctx); err != nil {
		log.Fatal(err) // a wrong flavour, or Prisma's migrations have not run
	}
	// Optional: the indexes that make counting and per-user revoking fast.
	if err := st.CreateIndexes(ctx); err != nil {
		log.Fatal(err)
	}

	m := session.NewManager(st, session.Config{Secure: session.SecureAlways}) // behind a TLS proxy
	defer m.Close()

	mux := http.NewServeMux()
	mux.Handle("GET /api/auth/session", m.SessionHandler())
	mux.Handle("/account/", m.RequireSession(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _, _ := session.FromContext(r.Context())
		w.Write([]byte("signed in as " + u.Email))
	})))
	log.Fatal(http.ListenAndServe(":8080", m.Middleware(mux)))
}

// New takes a database the application opened itself, and leaves it open
// on Close. Here the flavour's tables were renamed (Prisma's @@map): a
// copy of the flavour with other table names.
func ExampleNew_mappedTables() {
	db, err := sqlx.Open("postgres", os.Getenv("DATABASE_URL"))
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	f := adapter.Prisma
	f.Tables = adapter.Tables{User: "users", Account: "accounts", Session: "sessions", VerificationToken: "verification_tokens"}
	st := postgres.New(db, f)
	if err := st.Verify(context.Background()); err != nil {
		log.Fatal(err)
	}
}
