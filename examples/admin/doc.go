// Command admin is an "Active Sessions" dashboard on nextsession: sign-in
// with email and password, a page of one's own sessions, and, for admins,
// the count of signed-in browsers with a way to revoke any of them.
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
//
// Passwords and the admin flag live in the example's own "AdminCredential"
// table, beside NextAuth's tables, which it never changes.
package main
