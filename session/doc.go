// Package session gives Go the database sessions of NextAuth (Auth.js)
// with strategy "database": one row per signed-in browser in a Session
// table beside User and Account, which both a Next.js app and Go services
// can read, extend, revoke and count.
//
// The package holds the types ([User], [Account], [Session],
// [VerificationToken]), the interfaces stores implement, and the
// [Manager], which applies NextAuth's rules. It imports no SQL driver.
//
// # Stores
//
// A Manager needs a [Store]: the four session methods of an Auth.js
// adapter (CreateSession, GetSessionAndUser, UpdateSession,
// DeleteSession). Listing, per-user revocation, counting and sweeping are
// optional abilities ([SessionLister], [UserSessionDeleter],
// [ActiveCounter], [ExpiredDeleter]) that the Manager finds by type
// assertion; a Manager method whose store lacks one returns an error
// wrapping errors.ErrUnsupported. [Adapter] is all of it plus Auth.js's
// user, account and verification-token methods: what the stores of this
// module implement (github.com/nextsession/nextsession/store/postgres,
// .../store/sqlite, and .../store/memory, which needs no database) and
// what adapter/adaptertest checks.
//
// # Use
//
//	st, err := postgres.Open(dsn, adapter.Prisma)  // the tables NextAuth made
//	m := session.NewManager(st, session.Config{})   // NextAuth's defaults
//	http.ListenAndServe(addr, m.Middleware(mux))    // every request carries its session
//
// In a handler, [FromContext] returns the user and session; after the
// app's own login [Manager.Create] starts a session NextAuth accepts and
// sets its cookie, and [Manager.Destroy] signs out. Without HTTP (a JSON
// login API, a CLI, a test), [Manager.Start] returns the new session's
// token, [Manager.SetCookie] hands it to a browser, and
// [Manager.Validate] reads it back. [Manager.CountActive] is the admin's
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
// [NextAuthLifetimes] reads a NextAuth config's maxAge and updateAge
// seconds with NextAuth's meaning (its updateAge 0 is every request,
// where Config's zero is the default).
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
// nothing is cached, so several Managers on one database (several
// processes, or a Next.js app beside them) agree at once, except for
// [Manager.CountActive] with [Config.CountCache], which each answers from
// its own count for up to that long.
//
// A database that accepts connections and then never answers costs a
// request at most [Config.Timeout] (5 seconds by default, or the request's
// own deadline when earlier), even where the driver does not give up when
// its context ends; then ErrorFunc answers.
//
// # What an operator sees
//
// [Config.Logger] (slog.Default() unless set) gets one line for each
// request the default ErrorFunc answers (method, path, error), each sweep
// (rows deleted, time taken, or its error) and each revocation; no line
// holds a token or a cookie. [Config.Events] are hooks for audit and
// metrics: sign-in, sign-out, revocation, expiry and sweep, each naming a
// session by its [Session.Handle], never its token. The module
// examples/metrics feeds them to Prometheus.
package session
