// Package pgtest opens a throwaway Postgres schema for tests.
//
// The server comes from the NEXTSESSION_POSTGRES_DSN environment variable,
// by default the local server (postgres://postgres@127.0.0.1:5432/test).
// When it cannot be reached the test is skipped with a message saying how
// to run it, except under CI (CI=true), where it fails: a CI run must never
// pass by skipping the database.
//
// [StartPgBouncer] puts a PgBouncer of the test's own, in transaction or
// session mode, in front of that server, for tests of the store behind a
// pooler; without the pgbouncer program the test is skipped, or fails
// under CI.
package pgtest
