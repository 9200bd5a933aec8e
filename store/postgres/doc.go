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
// # Behind a connection pooler
//
// Supabase (port 6543), Neon (a "-pooler" host) and Prisma deployments
// (?pgbouncer=true) give Next.js apps a PgBouncer-like pooler in
// transaction mode: each transaction may run on another server connection,
// so a named prepared statement made on one is missing, or already
// exists, on the next (42P05, 26000). [Open] recognises those DSNs and
// returns a store with [Options.Pooler]: no named prepared statements,
// every statement sent with its arguments as lib/pq's unnamed statement,
// and binary_parameters=yes on the connections so that Parse, Bind and
// Execute go in one exchange, which the pooler keeps on one server
// connection. Validation stays one round trip. For any other pooler, add
// pgbouncer=true to the DSN given to Open, or open the database yourself
// with binary_parameters=yes and use [NewWith] with Options.Pooler;
// [Store.Verify] reports a pooler store whose connections lack it.
//
//	st, err := postgres.Open(os.Getenv("DATABASE_URL"), adapter.Prisma) // "...:6543/postgres?pgbouncer=true"
//
// The cost: the server parses and plans each statement every time (a few
// microseconds for these single-row queries; see BENCHMARKS.md for
// validation direct and through PgBouncer in the same run). In session
// mode a pooler keeps a client on one server connection, and the default
// prepared statements work; keep the pool's SetMaxOpenConns within the
// pooler's pool size, or connections beyond it wait in the pooler's queue. The pooler is not detected by asking it:
// from a client connection PgBouncer is indistinguishable from Postgres
// (its SHOW commands answer only on its admin database), and a
// transaction-mode pooler may hand the same server connection to two
// transactions in a row. A LISTEN needs a direct connection.
//
// [Open] also sets connect_timeout to [DefaultConnectTimeout] when the
// DSN has none, so that a server that accepts connections and then says
// nothing cannot hold a new connection for ever; session.Config.Timeout
// bounds what a request waits for.
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
