// Package adapter describes the NextAuth schema flavours a store can work
// on: the table names, how ids are made and how dates are stored by
// Prisma, the Auth.js pg-adapter, Kysely and Drizzle, on Postgres and
// SQLite, and the DDL that creates each.
//
// # Flavours
//
//	flavour     tables                          ids          Postgres dates   SQLite dates
//	Prisma      "User" "Account" "Session" ...  text (cuid)  TIMESTAMP(3)     integer ms
//	PrismaISO   as Prisma                       text (cuid)  TIMESTAMP(3)     ISO text, +00:00
//	PgAdapter   users accounts sessions ...     SERIAL       timestamptz      (Postgres only)
//	Kysely      as Prisma                       text (uuid)  timestamptz      ISO text, Z
//	Drizzle     user account session ...        text (uuid)  timestamp        integer ms
//
// Column names are the same in all of them. Only Prisma's Session has a
// createdAt column; Drizzle's Session is keyed by its token and has no id.
// A Flavour is a plain struct: copy one and change [Flavour.Tables] for a
// schema whose tables were renamed, or set [Flavour.Device] for one whose
// Session table has device columns.
//
// # Schema and indexes
//
// [Flavour.Schema] returns the CREATE TABLE statements of a flavour, for a
// new database; a database made by Prisma or Drizzle needs nothing.
// [Flavour.Indexes] returns the two indexes NextAuth's schemas lack, on
// Session.expires and Session.userId, which make counting active sessions
// and revoking one user's sessions fast. Everything works without them.
package adapter
