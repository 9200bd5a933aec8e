// Command admin is an "Active Sessions" dashboard on nextsession: sign-in
// with email and password, a page of one's own sessions, and, for admins,
// the exact count of signed-in browsers, the list of them in pages (keyset
// paging on the database) with a search by user email or name, each with
// its device ("Chrome on macOS"), address, sign-in time and last activity,
// charts of sign-ins per day and of active sessions by age, and a way to
// revoke any session or sign a user out everywhere. The count and the list
// update live through Server-Sent Events, polling when the stream drops.
//
// It is a module of its own (the library's go.mod stays free of what only
// the example needs). Run it from the repository root:
//
//	go -C examples/admin run .
//
// It serves http://127.0.0.1:8080 on a SQLite file, nextsession-admin.db
// in examples/admin (the directory it runs in), which it creates with NextAuth's Prisma tables
// on first start, and prints the demo users it seeds (admin@example.com is
// the admin). The sessions it writes are ones a Next.js app using NextAuth
// with the Prisma adapter and the same database accepts, and the other way
// round.
//
// To use Postgres instead, set DATABASE_URL:
//
//	DATABASE_URL='postgres://postgres@127.0.0.1:5432/test?sslmode=disable' go -C examples/admin run .
//
// Flags:
//
//	-addr     address to listen on (default 127.0.0.1:8080)
//	-db       SQLite file when DATABASE_URL is not set (default nextsession-admin.db)
//	-flavour  NextAuth schema flavour: prisma, prisma-iso, kysely, drizzle, pg-adapter (default prisma)
//	-seed     create the demo users (default true)
//	-demo-sessions  add that many demo sessions, to try paging, search and the charts
//
// Passwords and the admin flag live in the example's own "AdminCredential"
// table, beside NextAuth's tables. The Session table gets two nullable
// columns, "userAgent" and "ip" (adapter.Flavour.Device), which NextAuth
// ignores.
//
// # Hardening
//
// Failed sign-ins are throttled per account and per client address (429
// with Retry-After; a drained account waits seconds, not a lockout); an
// unknown email costs the same bcrypt comparison as a wrong password. The
// redirect after sign-in goes only to a path of this site. Forms are
// urlencoded and at most 8 KB. The server bounds every phase of a
// connection, each request's database work has a deadline, and a database
// failure answers 503, logged.
package main
