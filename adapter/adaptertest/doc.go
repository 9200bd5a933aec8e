// Package adaptertest is the conformance suite that every [session.Adapter]
// passes: the cases of Auth.js's shared adapter tests, translated to Go, and
// the session-management cases that Auth.js does not have.
//
// # Use
//
// A store's test calls [Run] once per schema flavour it supports, with a
// constructor that returns an adapter on empty tables:
//
//	func TestAdapter(t *testing.T) {
//		for _, f := range []adapter.Flavour{adapter.Prisma, adapter.Kysely, adapter.Drizzle} {
//			t.Run(f.Name, func(t *testing.T) {
//				adaptertest.Run(t, adaptertest.Config{
//					Flavour: f,
//					New: func(t *testing.T) session.Adapter { return newStore(t, f) },
//				})
//			})
//		}
//	}
//
// Run calls New at the start of every subtest (the Auth.js cases share
// one, as Auth.js's do), so New must give a clean database each time
// (truncating the four tables is enough). Subtests do not run in parallel
// with each other, but the concurrency cases call the adapter from many
// goroutines at once: run the tests with -race.
//
// # What it checks
//
// The Auth.js cases (packages/utils/adapter.ts in the next-auth repository)
// run as Auth.js writes them, under "authjs": in its order, on one adapter,
// each case reading what the ones before wrote, with its data. Its
// updateUser names only the user's name ([session.UserName]) and its
// updateSession only the expiry, so a store that overwrites the fields an
// update did not name fails the later getUserByAccount and deleteUser.
// Go's idioms stand in for JavaScript's: a missing row is an error wrapping
// [session.ErrNotFound] rather than null, and reads that Auth.js makes
// straight from the database go through the adapter.
//
// The other cases cover what Auth.js leaves open: every update keeps the
// fields it does not name, and an UpdateSession of a missing token fails
// with [session.ErrNotFound]; deletes remove their rows and only theirs;
// the methods beyond Auth.js (ListSessions, DeleteUserSessions,
// CountActive, DeleteExpired) and the promises the [session.Adapter]
// documentation makes: times round-trip to the millisecond in UTC; ids
// have the shape of [adapter.Flavour.IDs]; Session.ID is empty exactly
// when the flavour has no session id column; CreatedAt round-trips where
// the flavour has the column; NULL columns come back as empty values;
// lookups of absent or malformed ids and tokens fail with
// [session.ErrNotFound] and never with a database error; sessions for
// unknown users fail with [session.ErrUnknownUser]. Last, concurrency:
// many goroutines use the adapter at once and lose nothing, and a
// [session.Manager] on it survives races of extension against revocation
// and of sign-ins against the sweeper.
//
// # Time
//
// The suite never sleeps and never reads the clock after it starts: every
// time it passes is an offset from one instant taken at the start of Run,
// in UTC and truncated to the millisecond, as the adapter contract requires.
package adaptertest
