// Command metrics shows nextsession's events feeding Prometheus counters:
// sign-ins, sign-outs, revocations, sessions found expired, and the
// sweeper's deletions, failures and durations, served at /metrics beside
// Auth.js's /api/auth/session.
//
//	go run . -addr 127.0.0.1:8080                 # SQLite file
//	DATABASE_URL=postgres://... go run .           # Postgres, or its pooler
//
// It is a module of its own, so that the library's go.mod does not
// require the Prometheus client. The wiring is in metrics.go: one
// session.Events value whose hooks increment the counters.
package main
