package sqlstore

import (
	"fmt"
	"strings"

	"github.com/nextsession/nextsession/adapter"
)

// queries holds every statement of a Store, built once from the flavour;
// names come only from the flavour and are quoted, values are always
// parameters.
type queries struct {
	createUser, getUser, getUserByEmail, getUserByAccount, updateUser string
	deleteUser                                                        []string
	linkAccount, unlinkAccount                                        string
	createSession, getSessionAndUser, updateSession, deleteSession    string
	createVerificationToken, useVerificationToken                     string
	list                                                              [listVariants]string
	deleteUserSessions                                                string
	countActive, countUserActive, deleteExpired                       string
	// On SQLite, countActive sums index ranges (fast with an index on
	// expires) and the Scan forms OR them (one pass without one).
	countActiveScan, countUserActiveScan, expiresIndexed string
	verify                                               []string
}

func buildQueries(f adapter.Flavour, d adapter.Dialect, rebind func(string) string) queries {
	q := adapter.Quote
	U, A, S, V := q(f.Tables.User), q(f.Tables.Account), q(f.Tables.Session), q(f.Tables.VerificationToken)
	pg := d == adapter.Postgres
	serial := f.IDs == adapter.IDSerial

	// date is the placeholder of a date value: on Postgres cast to the
	// column's own type, so that no time zone conversion happens.
	date := "?"
	bigint := "?"
	if pg {
		switch f.PostgresDates {
		case adapter.Timestamp3:
			date = "?::timestamp(3)"
		case adapter.Timestamp:
			date = "?::timestamp"
		default:
			date = "?::timestamptz"
		}
		bigint = "?::bigint"
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
	userCols := func(a string) string {
		return strings.Join([]string{col(a, "id"), col(a, "name"), col(a, "email"), dcol(a, "emailVerified"), col(a, "image")}, ", ")
	}
	device := hasDevice(f)
	deviceCol := func(a, name string) string {
		if name == "" {
			return "NULL"
		}
		return col(a, name)
	}
	sessionCols := func(a string) string {
		id, created := "''", "NULL"
		if f.SessionID {
			id = col(a, "id")
		}
		if f.SessionCreatedAt {
			created = dcol(a, "createdAt")
		}
		cols := []string{id, col(a, "sessionToken"), col(a, "userId"), dcol(a, "expires"), created}
		if device {
			cols = append(cols, deviceCol(a, f.Device.UserAgent), deviceCol(a, f.Device.IP))
		}
		return strings.Join(cols, ", ")
	}
	// active is "expires >= now". SQLite may hold integers and ISO text in
	// one column, and sorts every integer below every text: the predicate
	// takes integers >= now in milliseconds, and text >= now as ISO text,
	// as two index ranges.
	active := func(c string) string {
		if pg {
			return fmt.Sprintf("%s >= %s", c, date)
		}
		return fmt.Sprintf("((%[1]s >= ? AND %[1]s < '') OR %[1]s >= ? OR (%[1]s >= ? AND %[1]s < ?))", c)
	}
	expired := func(c string) string {
		if pg {
			return fmt.Sprintf("%s < %s", c, date)
		}
		return fmt.Sprintf("(%[1]s < ? OR (%[1]s >= '' AND %[1]s < ?) OR (%[1]s >= ? AND %[1]s < ?))", c)
	}
	clientID := func(has bool) (col, ph string) {
		if has && !serial {
			return `"id", `, "?, "
		}
		return "", ""
	}
	returningID := func(has bool) string {
		if has {
			return `"id"`
		}
		return "''"
	}

	var x queries
	uid, uph := clientID(true)
	x.createUser = fmt.Sprintf(`INSERT INTO %s (%s"name", "email", "emailVerified", "image") VALUES (%s?, ?, %s, ?) RETURNING "id"`,
		U, uid, uph, date)
	x.getUser = fmt.Sprintf(`SELECT %s FROM %s u WHERE u."id" = ?`, userCols("u"), U)
	x.getUserByEmail = fmt.Sprintf(`SELECT %s FROM %s u WHERE u."email" = ?`, userCols("u"), U)
	x.getUserByAccount = fmt.Sprintf(`SELECT %s FROM %s u JOIN %s a ON a."userId" = u."id" WHERE a."provider" = ? AND a."providerAccountId" = ?`,
		userCols("u"), U, A)
	// Each column is set only when its flag is true, so that one prepared
	// statement serves every partial update.
	flag := "?"
	if pg {
		flag = "?::boolean"
	}
	set := func(c, ph string) string {
		return fmt.Sprintf(`%[1]s = CASE WHEN %[2]s THEN %[3]s ELSE %[1]s END`, q(c), flag, ph)
	}
	x.updateUser = fmt.Sprintf(`UPDATE %s SET %s, %s, %s, %s WHERE "id" = ? RETURNING %s`,
		U, set("name", "?"), set("email", "?"), set("emailVerified", date), set("image", "?"), userCols(""))
	x.deleteUser = []string{
		fmt.Sprintf(`DELETE FROM %s WHERE "userId" = ?`, S),
		fmt.Sprintf(`DELETE FROM %s WHERE "userId" = ?`, A),
		fmt.Sprintf(`DELETE FROM %s WHERE "id" = ?`, U),
	}

	aid, aph := clientID(f.AccountID)
	x.linkAccount = fmt.Sprintf(`INSERT INTO %s (%s"userId", "type", "provider", "providerAccountId", "refresh_token", "access_token", "expires_at", "token_type", "scope", "id_token", "session_state")
SELECT %su."id", ?, ?, ?, ?, ?, %s, ?, ?, ?, ? FROM %s u WHERE u."id" = ? RETURNING %s`,
		A, aid, aph, bigint, U, returningID(f.AccountID))
	x.unlinkAccount = fmt.Sprintf(`DELETE FROM %s WHERE "provider" = ? AND "providerAccountId" = ?`, A)

	sid, sph := clientID(f.SessionID)
	created, createdPh := "", ""
	if f.SessionCreatedAt {
		created, createdPh = `, "createdAt"`, ", "+date
	}
	for _, c := range []string{f.Device.UserAgent, f.Device.IP} {
		if c != "" {
			created, createdPh = created+", "+q(c), createdPh+", ?"
		}
	}
	x.createSession = fmt.Sprintf(`INSERT INTO %s (%s"sessionToken", "expires"%s, "userId")
SELECT %s?, %s%s, u."id" FROM %s u WHERE u."id" = ? RETURNING %s, "userId"`,
		S, sid, created, sph, date, createdPh, U, returningID(f.SessionID))
	if pg {
		x.getSessionAndUser = fmt.Sprintf(`SELECT %s, %s FROM %s s JOIN %s u ON u."id" = s."userId" WHERE s."sessionToken" = ?`,
			sessionCols("s"), userCols("u"), S, U)
	} else {
		// On SQLite (through mattn/go-sqlite3) a JOIN costs 2.7 times the
		// same lookups written as correlated subqueries on the primary
		// key, and twice the allocations; a missing user reads as NULLs.
		var sub []string
		for _, c := range strings.Split(userCols("u"), ", ") {
			sub = append(sub, fmt.Sprintf(`(SELECT %s FROM %s u WHERE u."id" = s."userId")`, c, U))
		}
		x.getSessionAndUser = fmt.Sprintf(`SELECT %s, %s FROM %s s WHERE s."sessionToken" = ?`,
			sessionCols("s"), strings.Join(sub, ", "), S)
	}
	x.updateSession = fmt.Sprintf(`UPDATE %s SET %s, %s WHERE "sessionToken" = ?`, S, set("expires", date), set("userId", "?"))
	x.deleteSession = fmt.Sprintf(`DELETE FROM %s WHERE "sessionToken" = ?`, S)

	x.createVerificationToken = fmt.Sprintf(`INSERT INTO %s ("identifier", "token", "expires") VALUES (?, ?, %s)`, V, date)
	x.useVerificationToken = fmt.Sprintf(`DELETE FROM %s WHERE "identifier" = ? AND "token" = ? RETURNING "identifier", "token", %s`, V, dcol("", "expires"))

	x.list = listStatements(f, pg, listParts{S: S, U: U, sessionCols: sessionCols("s"), userCols: userCols("u"),
		active: active(`s."expires"`), date: date})
	x.deleteUserSessions = fmt.Sprintf(`DELETE FROM %s WHERE "userId" = ? AND "sessionToken" <> ?`, S)
	x.countActiveScan = fmt.Sprintf(`SELECT count(*) FROM %s WHERE %s`, S, active(`"expires"`))
	x.countUserActiveScan = x.countActiveScan + ` AND "userId" = ?`
	x.countActive, x.countUserActive = x.countActiveScan, x.countUserActiveScan
	if !pg {
		x.countActive = sqliteCount(S, f.SQLiteDates, "")
		x.countUserActive = sqliteCount(S, f.SQLiteDates, ` AND "userId" = ?5`)
		x.expiresIndexed = `SELECT count(*) FROM pragma_index_list(?) l JOIN pragma_index_info(l.name) i ON i.seqno = 0 WHERE i.name = 'expires'`
	}
	if pg {
		x.deleteExpired = fmt.Sprintf(`DELETE FROM %[1]s WHERE "sessionToken" IN (SELECT "sessionToken" FROM %[1]s WHERE %[2]s LIMIT ?)`,
			S, expired(`"expires"`))
	} else {
		x.deleteExpired = fmt.Sprintf(`DELETE FROM %[1]s WHERE rowid IN (SELECT rowid FROM %[1]s WHERE %[2]s LIMIT ?)`,
			S, expired(`"expires"`))
	}

	x.verify = []string{
		fmt.Sprintf(`SELECT %s FROM %s u LIMIT 0`, userCols("u"), U),
		fmt.Sprintf(`SELECT %s FROM %s s LIMIT 0`, sessionCols("s"), S),
		fmt.Sprintf(`SELECT "userId", "provider", "providerAccountId", "expires_at" FROM %s LIMIT 0`, A),
		fmt.Sprintf(`SELECT "identifier", "token", "expires" FROM %s LIMIT 0`, V),
	}

	for _, p := range []*string{&x.createUser, &x.getUser, &x.getUserByEmail, &x.getUserByAccount, &x.updateUser,
		&x.linkAccount, &x.unlinkAccount, &x.createSession, &x.getSessionAndUser, &x.updateSession, &x.deleteSession,
		&x.createVerificationToken, &x.useVerificationToken,
		&x.deleteUserSessions, &x.countActive, &x.countUserActive, &x.deleteExpired,
		&x.countActiveScan, &x.countUserActiveScan, &x.expiresIndexed} {
		*p = rebind(*p)
	}
	for i := range x.list {
		x.list[i] = rebind(x.list[i])
	}
	for i := range x.deleteUser {
		x.deleteUser[i] = rebind(x.deleteUser[i])
	}
	return x
}

// sqliteCount counts what active() selects, on SQLite, as separate index
// ranges summed: SQLite runs active()'s ORs as a MULTI-INDEX OR that
// gathers every matching rowid to drop duplicates, 5-7x a bare count with
// the index on expires. The range of the format the flavour writes has no
// upper bound, which a covering index counts fastest; the other ranges are
// normally empty. Integers sort below all text, so for millisecond
// flavours "expires >= ms" takes the active integers and all text, and the
// expired text is subtracted: below now's SQLite text, and from now's day
// with a 'T' to now's ISO text. Arguments as activeArgs: ?1 Unix ms, ?2
// ISO, ?3 SQLite text, ?4 ISO day, then ?5 the user id if any.
func sqliteCount(S string, dates adapter.DateFormat, and string) string {
	n := func(where string) string {
		return fmt.Sprintf(`(SELECT count(*) FROM %s WHERE %s%s)`, S, where, and)
	}
	if dates == adapter.DateMillis {
		return `SELECT ` + n(`"expires" >= ?1`) + ` - ` + n(`"expires" >= '' AND "expires" < ?3`) + ` - ` + n(`"expires" >= ?4 AND "expires" < ?2`)
	}
	return `SELECT ` + n(`"expires" >= ?2`) + ` + ` + n(`"expires" >= ?1 AND "expires" < ''`) + ` + ` + n(`"expires" >= ?3 AND "expires" < ?4`)
}
