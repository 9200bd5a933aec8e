// Package postgres is a session.Adapter on PostgreSQL, through
// github.com/jmoiron/sqlx and github.com/lib/pq, for the tables of any
// NextAuth flavour (see package adapter).
//
//	st, err := postgres.Open("postgres://app@localhost/app", adapter.Prisma)
//	m := session.NewManager(st, session.Config{})
//
// [Open] connects and [Store.Close] closes the connections; [New] takes a
// *sqlx.DB the application opened, which Close leaves open. Errors are
// prefixed "postgres:".
//
// # Queries
//
// Validating a session is one prepared query (the session joined with its
// user), plus one UPDATE on the request that extends it (at most daily by
// default). Statements are prepared once per store, on first use, and
// re-prepared by database/sql on each pooled connection.
//
// Dates are written in UTC with millisecond precision, as JavaScript
// writes them; a timestamp without time zone (Prisma, Drizzle) holds UTC.
//
// # Schema
//
// [Store.CreateSchema] creates the flavour's tables where they are missing
// and the indexes of adapter.Flavour.Indexes:
//
//	CREATE INDEX IF NOT EXISTS "Session_expires_idx" ON "Session" ("expires");
//	CREATE INDEX IF NOT EXISTS "Session_userId_expires_idx" ON "Session" ("userId", "expires");
//
// For tables made by Prisma, call only [Store.CreateIndexes], or nothing.
// [Store.Verify] checks at start-up that the tables have the flavour's shape.
package postgres
