// Package interop holds no code, only tests: the real Auth.js and this
// module share one database, and each checks what the other wrote.
//
// The tests run authjs.mjs, a Node program that calls @auth/core's
// Auth(request, config) with database sessions, once per request
// (sign-in through an email magic link, /session, sign-out), through
// os/exec. They run on Postgres with the @auth/pg-adapter schema
// (schema/postgres.sql, one fresh pgtest schema per test) and on SQLite
// with the @auth/kysely-adapter schema (schema/sqlite.sql, one temporary
// file per test).
//
// # Running
//
//	npm ci --prefix interop
//	go test ./interop/
//
// Without node or interop/node_modules the tests skip with a message; with
// CI=true they fail instead. Postgres is found as in [pgtest.DSN]; the DSN
// must be a postgres:// URL, because the Node side is pointed at the test's
// schema with options=-c search_path=... (node-postgres ignores a
// search_path parameter, which lib/pq honours).
//
// README.md in this folder has the JSON contract of authjs.mjs, the exact
// package versions and what the real Auth.js does, with source lines.
//
// [pgtest.DSN]: https://pkg.go.dev/github.com/nextsession/nextsession/store/postgres/pgtest#DSN
package interop
