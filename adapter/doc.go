// Package adapter describes the NextAuth schema flavours a store can work
// on: the table and column names, how ids are made and how dates are
// stored by Prisma, the Auth.js pg-adapter, Kysely, Drizzle and Supabase,
// on Postgres and SQLite; the DDL that creates each; and Detect, which
// reads a database's catalog and tells its flavour.
//
// # Flavours
//
//	flavour     tables                          ids          Postgres dates   SQLite dates
//	Prisma      "User" "Account" "Session" ...  text (cuid)  TIMESTAMP(3)     integer ms
//	PrismaISO   as Prisma                       text (cuid)  TIMESTAMP(3)     ISO text, +00:00
//	PrismaDocs  as Prisma                       text (cuid)  TIMESTAMP(3)     ISO text, +00:00
//	PgAdapter   users accounts sessions ...     SERIAL       timestamptz      (Postgres only)
//	Kysely      as Prisma                       text (uuid)  timestamptz      ISO text, Z
//	Drizzle     user account session ...        text (uuid)  timestamp        integer ms
//	Supabase    next_auth.users ...             uuid         timestamptz      (Postgres only)
//
// Column names are Auth.js's in all of them (sessionToken, userId,
// providerAccountId, refresh_token, ...). Prisma's Session has a createdAt
// column; Drizzle's Session is keyed by its token and has no id.
// PrismaDocs is the Prisma schema of today's Auth.js documentation: no
// Session or Account id, and createdAt and updatedAt on User, Account and
// Session, which the stores write on every insert and update as Prisma
// does.
//
// # Your own schema
//
// A Flavour is a plain struct: copy one and change what differs.
// [Flavour.Tables] renames tables, [Flavour.TableSchema] puts them in a
// Postgres schema, [Flavour.Naming] spells every column in snake_case (a
// Prisma schema mapped with @map, Drizzle's casing: "snake_case"),
// [Flavour.Columns] renames single columns, and [Flavour.Device] names
// device columns of Session:
//
//	f := adapter.Prisma
//	f.Name = "app"
//	f.Tables = adapter.Tables{User: "users", Account: "accounts", Session: "sessions", VerificationToken: "verification_tokens"}
//	f.Naming = adapter.SnakeCase              // session_token, user_id, email_verified, ...
//	f.Columns.Session.Expires = "expires_at"   // one column named otherwise
//
// [Flavour.Names] shows every name resolved.
//
// # Detect and Verify
//
// [Detect] reads the catalog (information_schema on Postgres,
// sqlite_master and pragma table_info on SQLite) and, on SQLite, the dates
// of the newest rows, and returns the flavour of a database: the predefined
// one it matches, or one named "detected". [Flavour.Verify] checks an
// explicit flavour against a database. Both explain a mismatch by naming
// what they looked for and what they found ("Session (table "sessions")
// has no expires column; it has: id, session_token, user_id,
// expires_at"), including a NOT NULL column without a default that the
// store would not fill and dates stored otherwise than the flavour writes.
//
// # Schema and indexes
//
// [Flavour.Schema] returns the CREATE TABLE statements of a flavour, for a
// new database; a database made by Prisma or Drizzle needs nothing.
// [Flavour.Indexes] returns the two indexes NextAuth's schemas lack, on
// Session.expires and Session.userId, which make counting active sessions
// and revoking one user's sessions fast. Everything works without them.
package adapter
