// Package session gives Go the database sessions of NextAuth (Auth.js)
// with strategy "database": one row per signed-in browser in a Session
// table beside User and Account, which both a Next.js app and Go services
// can read, extend, revoke and count.
//
// The package holds the types ([User], [Account], [Session],
// [VerificationToken]), the [Adapter] interface that stores implement
// (github.com/nextsession/nextsession/store/postgres and .../store/sqlite),
// and the [Manager], which applies NextAuth's rules. It imports no SQL
// driver.
//
// # Use
//
//	st := postgres.New(db, adapter.Prisma)          // the tables NextAuth made
//	m := session.NewManager(st, session.Config{})   // NextAuth's defaults
//	http.ListenAndServe(addr, m.Middleware(mux))    // every request carries its session
//
// In a handler, [FromContext] returns the user and session; after the
// app's own login [Manager.Create] starts a session NextAuth accepts, and
// [Manager.Destroy] signs out. [Manager.CountActive] is the admin's
// "Active Sessions".
//
// # NextAuth's rules
//
// A session lives [Config.MaxAge] (30 days) from its last extension. A
// read finds the row by the cookie's token; no row, or expires < now, is
// no session (the expired row is deleted). When expires - MaxAge +
// UpdateAge <= now the row's expiry is written forward to now + MaxAge
// (UpdateAge defaults to 24 hours, so at most one write a day per
// session), and the cookie is set again with that expiry on every valid
// read. Sign-in makes a new random UUID token; sign-out deletes the row.
//
// The cookie is next-auth.session-token ([CookieV4], the default, because
// `npm install next-auth` installs v4) or authjs.session-token
// ([CookieV5]), with the __Secure- prefix and the Secure attribute over
// https, HttpOnly, Path=/ and SameSite=Lax. Chunked cookies (name.0,
// name.1, left over from a JWT setup) are joined as Auth.js joins them; on
// https only the __Secure- name is read. Unlike Auth.js, only the name
// and its chunks count (a cookie "sidebar" is no part of "sid"), and a name
// sent twice with different values is no session: the Next.js side reads
// such a header differently depending on its parser, and Go never acts as
// a different user than Next.js does (see SECURITY.md).
//
// # Beyond NextAuth
//
// [Manager.ListActive], [Manager.RevokeUser] ("sign out everywhere"),
// [Manager.RevokeOthers], [Manager.CountUserActive], a background sweeper
// ([Config.SweepInterval]) that deletes expired rows in batches, an
// absolute lifetime ([Config.AbsoluteLifetime]), device metadata (the
// User-Agent and address of the sign-in, where the schema has columns for
// them), a cached count for dashboards ([Config.CountCache]) and stored
// token hashes ([Config.HashTokens]; NextAuth cannot read such sessions).
//
// # Failure
//
// A cookie that cannot be a token (empty, too long, wrong shape, invalid
// UTF-8) is no session, and costs no query. A database error is never
// taken for "signed out": [Manager.Middleware] hands it to
// [Config.ErrorFunc], which answers 503 by default, and the next request
// tries the database again. Revocation takes effect on the next request:
// nothing is cached.
package session
