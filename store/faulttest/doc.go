// Package faulttest injects database faults into tests: a TCP proxy that
// sits between a store and its database server and can cut every
// connection, refuse new ones, hold every byte (a black hole: a database
// that accepts connections and never answers), and come back.
//
//	p := faulttest.NewProxy(t, "127.0.0.1:5432")
//	db := sqlx.MustOpen("postgres", "postgres://u@"+p.Addr()+"/db")
//	p.Cut()     // every open connection is reset, new ones are refused
//	p.BlackHole() // connections stay open, nothing is answered
//	p.Restore() // connections go through again
//
// It also holds SessionRows, to compare session rows before and after a
// fault, and Log, a log destination to check what a fault logged. The
// concurrency races every store runs are part of the conformance suite,
// adapter/adaptertest.
//
// It is for tests only: it logs nothing, buffers nothing beyond a copy
// buffer, and stops with the test.
package faulttest
