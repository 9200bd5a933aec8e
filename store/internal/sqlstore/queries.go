package sqlstore

import (
	"fmt"
	"strings"
	"time"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
)

// query is one SQL statement of a Store and its slot in the Store's cache
// of prepared statements.
type query struct {
	slot int
	sql  string
}

// stmt is a statement and the function that makes its arguments from its
// input, written side by side in buildQueries so that each flavour and
// dialect condition is decided once, for the SQL and its arguments
// together.
type stmt[T any] struct {
	query
	args func(T) []any
}

// The inputs of the statements.
type (
	userIn struct {
		u      session.User
		fields session.UserFields
		now    time.Time
	}
	accountIn struct {
		a   session.Account
		now time.Time
	}
	sessionIn struct {
		s   session.Session
		now time.Time
	}
	sessionUpdateIn struct {
		u   session.SessionUpdate
		now time.Time
	}
	// pair is two keys: provider and providerAccountId, or identifier
	// and token.
	pair [2]string
	// nowIn selects by the time, one user (when userID is set) and a
	// limit (count and sweep).
	nowIn struct {
		now    time.Time
		userID string
		limit  int
	}
)

// queries holds every statement of a Store, built once from the flavour;
// names come only from the flavour and are quoted, values are always
// parameters.
type queries struct {
	createUser                      stmt[userIn]
	getUser, getUserByEmail         keyed
	getUserByAccount, unlinkAccount stmt[pair]
	updateUser                      stmt[userIn]
	// deleteUser runs in one transaction, each statement with the user id.
	deleteUser  []string
	linkAccount stmt[accountIn]

	createSession                    stmt[sessionIn]
	getSessionAndUser, deleteSession keyed
	updateSession                    stmt[sessionUpdateIn]

	createVerificationToken stmt[session.VerificationToken]
	useVerificationToken    stmt[pair]

	list                         [listVariants]stmt[session.ListQuery]
	deleteUserSessions           stmt[pair] // user id, token kept
	countActive, countUserActive stmt[nowIn]
	deleteExpired                stmt[nowIn]
	// On SQLite, countActive sums index ranges (fast with an index on
	// expires) and the Scan forms OR them (one pass without one).
	countActiveScan, countUserActiveScan stmt[nowIn]
	expiresIndexed                       keyed

	// device is true when the session columns include the device ones.
	device bool
	// validID reports whether an id can name a row of the flavour.
	validID func(string) bool
	// newID makes a primary key where the client makes them.
	newID func() (string, error)
	// slots is the number of statements.
	slots int
}

// builder numbers the statements of a Store and rebinds their
// placeholders for the driver.
type builder struct {
	n      int
	rebind func(string) string
}

func build[T any](b *builder, sql string, args func(T) []any) stmt[T] {
	return stmt[T]{b.query(sql), args}
}

func (b *builder) query(sql string) query {
	b.n++
	return query{b.n - 1, b.rebind(sql)}
}

// keyed is a statement whose one argument is its input: a token, an id,
// an email. Its args inlines, so that the hot lookup's argument slice
// stays on the stack.
type keyed struct{ query }

func (k keyed) args(v string) []any { return []any{v} }

// values collects the columns of an INSERT with their placeholders and
// the functions that make their arguments; a column whose value is an
// expression without a parameter has no function.
type values[T any] struct {
	cols, phs []string
	vals      []func(T) any
}

func (v *values[T]) add(col, ph string, val func(T) any) {
	v.cols = append(v.cols, adapter.Quote(col))
	v.phs = append(v.phs, ph)
	v.vals = append(v.vals, val)
}

func (v *values[T]) args() func(T) []any {
	return func(in T) []any {
		out := make([]any, 0, len(v.vals)+1)
		for _, f := range v.vals {
			if f != nil {
				out = append(out, f(in))
			}
		}
		return out
	}
}

func both(p pair) []any { return []any{p[0], p[1]} }

func buildQueries(f adapter.Flavour, d adapter.Dialect, rebind func(string) string) queries {
	q := adapter.Quote
	n := f.Names()
	U, A, S, V := f.QuoteTable(f.Tables.User), f.QuoteTable(f.Tables.Account), f.QuoteTable(f.Tables.Session), f.QuoteTable(f.Tables.VerificationToken)
	pg := d == adapter.Postgres
	serial := f.IDs == adapter.IDSerial
	b := &builder{rebind: rebind}
	var x queries

	// date is the placeholder of a date value: on Postgres cast to the
	// column's own type, so that no time zone conversion happens; enc
	// is the value.
	date, bigint, flag := "?", "?", "?"
	if pg {
		switch f.PostgresDates {
		case adapter.Timestamp3:
			date = "?::timestamp(3)"
		case adapter.Timestamp:
			date = "?::timestamp"
		default:
			date = "?::timestamptz"
		}
		bigint, flag = "?::bigint", "?::boolean"
	}
	enc := func(t time.Time) any { return encodeDate(d, f.SQLiteDates, t) }
	encPtr := func(t *time.Time) any {
		if t == nil {
			return nil
		}
		return enc(*t)
	}

	col := func(alias, name string) string {
		if alias == "" {
			return q(name)
		}
		return alias + "." + q(name)
	}
	// dcol selects a date column. On SQLite a unary plus hides the
	// column's declared type from mattn/go-sqlite3, which would otherwise
	// turn DATETIME integers below 1e12 into seconds; dates are decoded here.
	dcol := func(a, name string) string {
		if pg {
			return col(a, name)
		}
		return "+" + col(a, name)
	}
	nu, na, ns, nv := n.User, n.Account, n.Session, n.VerificationToken
	userCols := func(a string) string {
		return strings.Join([]string{col(a, nu.ID), col(a, nu.Name), col(a, nu.Email), dcol(a, nu.EmailVerified), col(a, nu.Image)}, ", ")
	}
	x.device = f.Device.UserAgent != "" || f.Device.IP != ""
	deviceCol := func(a, name string) string {
		if name == "" {
			return "NULL"
		}
		return col(a, name)
	}
	// sessionCols are what sessionScan.dest receives.
	sessionCols := func(a string) string {
		id, created := "''", "NULL"
		if f.SessionID {
			id = col(a, ns.ID)
		}
		if f.SessionCreatedAt {
			created = dcol(a, ns.CreatedAt)
		}
		cols := []string{id, col(a, ns.SessionToken), col(a, ns.UserID), dcol(a, ns.Expires), created}
		if x.device {
			cols = append(cols, deviceCol(a, f.Device.UserAgent), deviceCol(a, f.Device.IP))
		}
		return strings.Join(cols, ", ")
	}
	returningID := func(has bool, name string) string {
		if has {
			return q(name)
		}
		return "''"
	}
	// stamps adds createdAt and updatedAt to an insert where the table
	// has them: both the time of the insert, as Prisma writes them.
	stamps := func(created, updated bool, cn, un string, add func(col string)) {
		if created {
			add(cn)
		}
		if updated {
			add(un)
		}
	}
	// set assigns a column only when its flag is true, so that one
	// prepared statement serves every partial update.
	set := func(c, ph string) string {
		return fmt.Sprintf(`%[1]s = CASE WHEN %[2]s THEN %[3]s ELSE %[1]s END`, q(c), flag, ph)
	}

	// Ids: serial flavours take decimal integers only and uuid columns
	// UUIDs only, so that a garbage id is "not found", not a type error.
	x.validID = func(id string) bool { return id != "" && len(id) <= 255 && searchable(id) }
	switch f.IDs {
	case adapter.IDSerial:
		x.validID = decimalID
	case adapter.IDPostgresUUID:
		x.validID = uuidID
	}
	x.newID = session.NewUUIDToken
	if f.IDs == adapter.IDCUID {
		x.newID = newCUID
	}

	// Users.
	var uv values[userIn]
	if !serial {
		uv.add(nu.ID, "?", func(in userIn) any { return in.u.ID })
	}
	uv.add(nu.Name, "?", func(in userIn) any { return nullString(in.u.Name) })
	uv.add(nu.Email, "?", func(in userIn) any { return nullString(in.u.Email) })
	uv.add(nu.EmailVerified, date, func(in userIn) any { return encPtr(in.u.EmailVerified) })
	uv.add(nu.Image, "?", func(in userIn) any { return nullString(in.u.Image) })
	stamps(f.UserCreatedAt, f.UserUpdatedAt, nu.CreatedAt, nu.UpdatedAt, func(c string) {
		uv.add(c, date, func(in userIn) any { return enc(in.now) })
	})
	x.createUser = build(b, fmt.Sprintf(`INSERT INTO %s (%s) VALUES (%s) RETURNING %s`,
		U, strings.Join(uv.cols, ", "), strings.Join(uv.phs, ", "), userCols("")), uv.args())
	x.getUser = keyed{b.query(fmt.Sprintf(`SELECT %s FROM %s u WHERE u.%s = ?`, userCols("u"), U, q(nu.ID)))}
	x.getUserByEmail = keyed{b.query(fmt.Sprintf(`SELECT %s FROM %s u WHERE u.%s = ?`, userCols("u"), U, q(nu.Email)))}
	x.getUserByAccount = build(b, fmt.Sprintf(`SELECT %s FROM %s u JOIN %s a ON a.%s = u.%s WHERE a.%s = ? AND a.%s = ?`,
		userCols("u"), U, A, q(na.UserID), q(nu.ID), q(na.Provider), q(na.ProviderAccountID)), both)
	sets := []string{set(nu.Name, "?"), set(nu.Email, "?"), set(nu.EmailVerified, date), set(nu.Image, "?")}
	if f.UserUpdatedAt {
		sets = append(sets, q(nu.UpdatedAt)+" = "+date)
	}
	x.updateUser = build(b, fmt.Sprintf(`UPDATE %s SET %s WHERE %s = ? RETURNING %s`, U, strings.Join(sets, ", "), q(nu.ID), userCols("")),
		func(in userIn) []any {
			u, fl := in.u, in.fields
			args := []any{
				fl&session.UserName != 0, nullString(u.Name),
				fl&session.UserEmail != 0, nullString(u.Email),
				fl&session.UserEmailVerified != 0, encPtr(u.EmailVerified),
				fl&session.UserImage != 0, nullString(u.Image)}
			if f.UserUpdatedAt {
				args = append(args, enc(in.now))
			}
			return append(args, u.ID)
		})
	for _, del := range []string{
		fmt.Sprintf(`DELETE FROM %s WHERE %s = ?`, S, q(ns.UserID)),
		fmt.Sprintf(`DELETE FROM %s WHERE %s = ?`, A, q(na.UserID)),
		fmt.Sprintf(`DELETE FROM %s WHERE %s = ?`, U, q(nu.ID)),
	} {
		x.deleteUser = append(x.deleteUser, rebind(del))
	}

	// Accounts: the insert selects the user row, so that a missing user
	// inserts nothing even without a foreign key.
	var av values[accountIn]
	if f.AccountID && !serial {
		av.add(na.ID, "?", func(in accountIn) any { return in.a.ID })
	}
	av.add(na.Type, "?", func(in accountIn) any { return in.a.Type })
	av.add(na.Provider, "?", func(in accountIn) any { return in.a.Provider })
	av.add(na.ProviderAccountID, "?", func(in accountIn) any { return in.a.ProviderAccountID })
	av.add(na.RefreshToken, "?", func(in accountIn) any { return nullString(in.a.RefreshToken) })
	av.add(na.AccessToken, "?", func(in accountIn) any { return nullString(in.a.AccessToken) })
	av.add(na.ExpiresAt, bigint, func(in accountIn) any { return nullInt(in.a.ExpiresAt) })
	av.add(na.TokenType, "?", func(in accountIn) any { return nullString(in.a.TokenType) })
	av.add(na.Scope, "?", func(in accountIn) any { return nullString(in.a.Scope) })
	av.add(na.IDToken, "?", func(in accountIn) any { return nullString(in.a.IDToken) })
	av.add(na.SessionState, "?", func(in accountIn) any { return nullString(in.a.SessionState) })
	stamps(f.AccountCreatedAt, f.AccountUpdatedAt, na.CreatedAt, na.UpdatedAt, func(c string) {
		av.add(c, date, func(in accountIn) any { return enc(in.now) })
	})
	av.add(na.UserID, "u."+q(nu.ID), nil)
	accountArgs := av.args()
	x.linkAccount = build(b, fmt.Sprintf(`INSERT INTO %s (%s)
SELECT %s FROM %s u WHERE u.%s = ? RETURNING %s`,
		A, strings.Join(av.cols, ", "), strings.Join(av.phs, ", "), U, q(nu.ID), returningID(f.AccountID, na.ID)),
		func(in accountIn) []any { return append(accountArgs(in), in.a.UserID) })
	x.unlinkAccount = build(b, fmt.Sprintf(`DELETE FROM %s WHERE %s = ? AND %s = ?`, A, q(na.Provider), q(na.ProviderAccountID)), both)

	// Sessions: the insert selects the user row, as for accounts, and
	// returns the row as stored.
	var sv values[sessionIn]
	if f.SessionID && !serial {
		sv.add(ns.ID, "?", func(in sessionIn) any { return in.s.ID })
	}
	sv.add(ns.SessionToken, "?", func(in sessionIn) any { return in.s.Token })
	sv.add(ns.Expires, date, func(in sessionIn) any { return enc(in.s.Expires) })
	if f.SessionCreatedAt {
		sv.add(ns.CreatedAt, date, func(in sessionIn) any { return enc(in.s.CreatedAt) })
	}
	if f.SessionUpdatedAt {
		sv.add(ns.UpdatedAt, date, func(in sessionIn) any { return enc(in.now) })
	}
	if c := f.Device.UserAgent; c != "" {
		sv.add(c, "?", func(in sessionIn) any { return nullString(in.s.UserAgent) })
	}
	if c := f.Device.IP; c != "" {
		sv.add(c, "?", func(in sessionIn) any { return nullString(in.s.IP) })
	}
	sv.add(ns.UserID, "u."+q(nu.ID), nil)
	sessionArgs := sv.args()
	x.createSession = build(b, fmt.Sprintf(`INSERT INTO %s (%s)
SELECT %s FROM %s u WHERE u.%s = ? RETURNING %s`,
		S, strings.Join(sv.cols, ", "), strings.Join(sv.phs, ", "), U, q(nu.ID), sessionCols("")),
		func(in sessionIn) []any { return append(sessionArgs(in), in.s.UserID) })
	if pg {
		x.getSessionAndUser = keyed{b.query(fmt.Sprintf(`SELECT %s, %s FROM %s s JOIN %s u ON u.%s = s.%s WHERE s.%s = ?`,
			sessionCols("s"), userCols("u"), S, U, q(nu.ID), q(ns.UserID), q(ns.SessionToken)))}
	} else {
		// On SQLite (through mattn/go-sqlite3) a JOIN costs 2.7 times the
		// same lookups written as correlated subqueries on the primary
		// key, and twice the allocations; a missing user reads as NULLs.
		var sub []string
		for _, c := range strings.Split(userCols("u"), ", ") {
			sub = append(sub, fmt.Sprintf(`(SELECT %s FROM %s u WHERE u.%s = s.%s)`, c, U, q(nu.ID), q(ns.UserID)))
		}
		x.getSessionAndUser = keyed{b.query(fmt.Sprintf(`SELECT %s, %s FROM %s s WHERE s.%s = ?`,
			sessionCols("s"), strings.Join(sub, ", "), S, q(ns.SessionToken)))}
	}
	sets = []string{set(ns.Expires, date), set(ns.UserID, "?")}
	if f.SessionUpdatedAt {
		sets = append(sets, q(ns.UpdatedAt)+" = "+date) // moved on by every extension, as @updatedAt
	}
	x.updateSession = build(b, fmt.Sprintf(`UPDATE %s SET %s WHERE %s = ?`, S, strings.Join(sets, ", "), q(ns.SessionToken)),
		func(in sessionUpdateIn) []any {
			var expires, userID any
			if !in.u.Expires.IsZero() {
				expires = enc(in.u.Expires)
			}
			if in.u.UserID != "" {
				userID = in.u.UserID
			}
			args := []any{expires != nil, expires, userID != nil, userID}
			if f.SessionUpdatedAt {
				args = append(args, enc(in.now))
			}
			return append(args, in.u.Token)
		})
	x.deleteSession = keyed{b.query(fmt.Sprintf(`DELETE FROM %s WHERE %s = ?`, S, q(ns.SessionToken)))}

	// Verification tokens.
	x.createVerificationToken = build(b, fmt.Sprintf(`INSERT INTO %s (%s, %s, %s) VALUES (?, ?, %s)`,
		V, q(nv.Identifier), q(nv.Token), q(nv.Expires), date),
		func(t session.VerificationToken) []any { return []any{t.Identifier, t.Token, enc(t.Expires)} })
	x.useVerificationToken = build(b, fmt.Sprintf(`DELETE FROM %s WHERE %s = ? AND %s = ? RETURNING %s, %s, %s`,
		V, q(nv.Identifier), q(nv.Token), q(nv.Identifier), q(nv.Token), dcol("", nv.Expires)), both)

	// Active and expired sessions. On Postgres "expires >= now" is one
	// comparison. SQLite may hold integers and ISO text in one column,
	// and sorts every integer below every text: the predicate takes
	// integers >= now in milliseconds, and text >= now as ISO text, as
	// index ranges. Its arguments, numbered ?1 to ?4, are those of
	// sqliteNow; a user id is ?5.
	exp, uid := "s."+q(ns.Expires), "s."+q(ns.UserID)
	active := fmt.Sprintf("%s >= %s", exp, date)
	expired := fmt.Sprintf("%s < %s", exp, date)
	nowArgs := func(now time.Time) []any { return []any{now.UTC()} }
	userIs := " AND " + uid + " = ?"
	if !pg {
		active = fmt.Sprintf("((%[1]s >= ?1 AND %[1]s < '') OR %[1]s >= ?2 OR (%[1]s >= ?3 AND %[1]s < ?4))", exp)
		expired = fmt.Sprintf("(%[1]s < ?1 OR (%[1]s >= '' AND %[1]s < ?3) OR (%[1]s >= ?4 AND %[1]s < ?2))", exp)
		nowArgs = sqliteNow
		userIs = " AND " + uid + " = ?5"
	}
	withUser := func(in nowIn) []any { return append(nowArgs(in.now), in.userID) }
	x.list = listStatements(b, f, pg, listParts{S: S, U: U, sessionCols: sessionCols("s"), userCols: userCols("u"),
		active: active, date: date, names: n, nowArgs: nowArgs})
	x.deleteUserSessions = build(b, fmt.Sprintf(`DELETE FROM %s WHERE %s = ? AND %s <> ?`, S, q(ns.UserID), q(ns.SessionToken)), both)

	count := fmt.Sprintf(`SELECT count(*) FROM %s s WHERE %s`, S, active)
	x.countActiveScan = build(b, count, func(in nowIn) []any { return nowArgs(in.now) })
	x.countUserActiveScan = build(b, count+userIs, withUser)
	x.countActive, x.countUserActive = x.countActiveScan, x.countUserActiveScan
	if !pg {
		x.countActive = build(b, sqliteCount(S, exp, f.SQLiteDates, ""), func(in nowIn) []any { return nowArgs(in.now) })
		x.countUserActive = build(b, sqliteCount(S, exp, f.SQLiteDates, userIs), withUser)
		x.expiresIndexed = keyed{b.query(fmt.Sprintf(`SELECT count(*) FROM pragma_index_list(?) l JOIN pragma_index_info(l.name) i ON i.seqno = 0 WHERE i.name = %s`,
			sqlString(ns.Expires)))}
	}
	key := q(ns.SessionToken)
	if !pg {
		key = "rowid"
	}
	x.deleteExpired = build(b, fmt.Sprintf(`DELETE FROM %[1]s WHERE %[2]s IN (SELECT s.%[2]s FROM %[1]s s WHERE %[3]s LIMIT ?)`, S, key, expired),
		func(in nowIn) []any { return append(nowArgs(in.now), in.limit) })

	x.slots = b.n
	return x
}

// sqliteNow returns the arguments ?1 to ?4 of the SQLite forms of "expires
// >= now" and "expires < now": now in Unix ms, as ISO text without a zone,
// as SQLite's own date text, and its ISO day.
func sqliteNow(now time.Time) []any {
	now = now.UTC()
	return []any{now.UnixMilli(), now.Format(isoPrefix), now.Format(sqliteDate), now.Format(isoDay)}
}

// sqliteCount counts what the active predicate selects, on SQLite, as
// separate index ranges summed: SQLite runs that predicate's ORs as a
// MULTI-INDEX OR that gathers every matching rowid to drop duplicates,
// 5-7x a bare count with the index on expires. The range of the format the
// flavour writes has no upper bound, which a covering index counts
// fastest; the other ranges are normally empty. Integers sort below all
// text, so for millisecond flavours "expires >= ms" takes the active
// integers and all text, and the expired text is subtracted: below now's
// SQLite text, and from now's day with a 'T' to now's ISO text. Arguments
// as sqliteNow, and the user id as ?5 in and.
func sqliteCount(S, exp string, dates adapter.DateFormat, and string) string {
	n := func(where string) string {
		return fmt.Sprintf(`(SELECT count(*) FROM %s s WHERE %s%s)`, S, fmt.Sprintf(where, exp), and)
	}
	if dates == adapter.DateMillis {
		return `SELECT ` + n(`%[1]s >= ?1`) + ` - ` + n(`%[1]s >= '' AND %[1]s < ?3`) + ` - ` + n(`%[1]s >= ?4 AND %[1]s < ?2`)
	}
	return `SELECT ` + n(`%[1]s >= ?2`) + ` + ` + n(`%[1]s >= ?1 AND %[1]s < ''`) + ` + ` + n(`%[1]s >= ?3 AND %[1]s < ?4`)
}

// sqlString quotes a value as an SQL string literal.
func sqlString(s string) string {
	return `'` + strings.ReplaceAll(s, `'`, `''`) + `'`
}

// decimalID reports whether id can be a serial key: decimal digits that
// fit an int64.
func decimalID(id string) bool {
	if id == "" || len(id) > 18 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if id[i] < '0' || id[i] > '9' {
			return false
		}
	}
	return true
}

// uuidID reports whether id is a UUID as Postgres's uuid type reads it in
// its canonical form (hex digits in 8-4-4-4-12 groups).
func uuidID(id string) bool {
	if len(id) != 36 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return false
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return false
			}
		}
	}
	return true
}
