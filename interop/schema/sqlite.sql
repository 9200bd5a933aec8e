-- @auth/kysely-adapter schema for SQLite (Kysely SqliteDialect + better-sqlite3).
-- Tables and camelCase columns as in the adapter's Database interface.
-- Dates are TEXT holding Date.toISOString() ("2025-01-01T00:00:00.000Z"):
-- the adapter writes them with format.to and parses back only strings that
-- match @auth/core's isoDateRE (format.from). Ids are text: createUser sets
-- crypto.randomUUID(); createSession and linkAccount insert no id, so those
-- ids need a default.
CREATE TABLE "User"
(
  "id" TEXT NOT NULL PRIMARY KEY,
  "name" TEXT,
  "email" TEXT NOT NULL UNIQUE,
  "emailVerified" TEXT,
  "image" TEXT
);

CREATE TABLE "Account"
(
  "id" TEXT NOT NULL PRIMARY KEY DEFAULT (lower(hex(randomblob(16)))),
  "userId" TEXT NOT NULL REFERENCES "User" ("id") ON DELETE CASCADE,
  "type" TEXT NOT NULL,
  "provider" TEXT NOT NULL,
  "providerAccountId" TEXT NOT NULL,
  "refresh_token" TEXT,
  "access_token" TEXT,
  "expires_at" INTEGER,
  "token_type" TEXT,
  "scope" TEXT,
  "id_token" TEXT,
  "session_state" TEXT,
  UNIQUE ("provider", "providerAccountId")
);

CREATE INDEX "Account_userId_index" ON "Account" ("userId");

CREATE TABLE "Session"
(
  "id" TEXT NOT NULL PRIMARY KEY DEFAULT (lower(hex(randomblob(16)))),
  "sessionToken" TEXT NOT NULL UNIQUE,
  "userId" TEXT NOT NULL REFERENCES "User" ("id") ON DELETE CASCADE,
  "expires" TEXT NOT NULL
);

CREATE TABLE "VerificationToken"
(
  "identifier" TEXT NOT NULL,
  "token" TEXT NOT NULL UNIQUE,
  "expires" TEXT NOT NULL
);
