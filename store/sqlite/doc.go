// Package sqlite is a session.Adapter on SQLite, through
// github.com/jmoiron/sqlx and github.com/mattn/go-sqlite3 (cgo), for the
// tables of any NextAuth flavour but pg-adapter (see package adapter).
//
//	st, err := sqlite.Open("app.db", adapter.Prisma)
//	err = st.CreateSchema(ctx)
//	m := session.NewManager(st, session.Config{})
//
// [Open] opens the file and [Store.Close] closes it; [New] takes a
// *sqlx.DB the application opened, which Close leaves open. Errors are
// prefixed "sqlite:".
//
// # Dates
//
// SQLite has no date type. Prisma's classic engine and Drizzle store Unix
// milliseconds, Kysely and Prisma 7's driver adapters ISO text. The store
// writes what the flavour uses and reads both, so rows written by any of
// them are understood. Counting and sweeping compare integers and text
// each in their own range, with no conversion that would defeat the index
// on expires.
//
// # Queries
//
// Validating a session is one prepared query, plus one UPDATE on the
// request that extends it. It reads the user through correlated subqueries
// on its primary key rather than a JOIN: through mattn/go-sqlite3 that is
// 2.5 times faster, with half the allocations. Counting sums one index
// range per date format when Session.expires has an index, and makes one
// pass over the table when it has none.
//
// # Locking
//
// [Open] turns on WAL, so readers never wait for a writer, and sets a busy
// timeout of [BusyTimeout] ms: a writer waits that long for another's lock
// before the request fails (and the middleware answers 503). That wait
// ends at the busy timeout and no sooner, whatever session.Config.Timeout
// says: SQLite's busy handler does not heed a context. So, while the
// database's connection pool is unlimited, the Manager runs the calls on
// one session (a validation, a sign-in, a sign-out) without the timer of
// Config.Timeout ([Store.SessionCallsSelfBounded]); with SetMaxOpenConns, a call
// may also wait for a connection, which the timer does bound. To make
// writers give up sooner, open the database with a smaller _busy_timeout.
package sqlite
