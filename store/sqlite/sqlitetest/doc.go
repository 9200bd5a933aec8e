// Package sqlitetest opens a SQLite store on a new temporary file for
// tests, the way applications open one (sqlite.Open: WAL, busy timeout,
// foreign keys), with the flavour's tables and indexes created.
package sqlitetest
