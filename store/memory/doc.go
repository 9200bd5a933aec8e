// Package memory is a session.Adapter that keeps its rows in memory: no
// database, no cgo, no SQL driver. It passes the same conformance suite
// (adapter/adaptertest) as the SQL stores, and is safe for concurrent use.
//
// It suits tests, examples and a single Go process that may forget its
// sessions on restart. NextAuth cannot read it, since nothing is shared.
//
//	st := memory.New()
//	u, _ := st.CreateUser(ctx, session.User{Email: "ada@example.com"})
//	m := session.NewManager(st, session.Config{})
//	token, s, err := m.Start(ctx, u.ID, session.Device{})
//
// Ids are random UUIDs unless the caller gives one. Listing, counting and
// sweeping look at every session: fine for thousands, not for millions.
package memory
