package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
)

// The variants of the listing statement, by what narrows it; queries.list
// is indexed by their sum.
const (
	listByUser = 1 << iota
	listBySearch
	listAfter
	listVariants = 1 << iota
)

// listKey is the tiebreak among sessions of equal expiry, which paging
// needs and which must not reveal the token: the session's id where the
// table has one, else on SQLite the rowid and on Postgres the MD5 of the
// token (one-way, of a random UUID). integer says whether it compares as
// a number.
func listKey(f adapter.Flavour, pg bool) (expr string, integer bool) {
	switch {
	case f.SessionID:
		return `s."id"`, f.IDs == adapter.IDSerial
	case pg:
		return `md5(s."sessionToken")`, false
	}
	return `s.rowid`, true
}

// listParts are the pieces of the listing statements that buildQueries
// knows: the quoted tables, the selected columns of s and u, the active
// predicate on s (Postgres) and the date placeholder.
type listParts struct {
	S, U, sessionCols, userCols, active, date string
}

// sqliteInstant is a SQLite expires as Unix milliseconds, for whatever a
// flavour wrote: numbers or date text.
const sqliteInstant = `(CASE WHEN typeof(s."expires") IN ('integer', 'real') THEN s."expires"
 ELSE ROUND((julianday(s."expires") - 2440587.5) * 86400000) END)`

// listStatements builds every variant of the listing. The page is chosen
// over the sessions alone, sorting only their tokens and keys, and only
// its rows are then joined to their users. On SQLite, numbers sort below
// all text: the numeric expiries are read in the order of the index on
// expires, and the text ones (by their instant) apart, and the two merged,
// so that a page of a table of millisecond dates reads only its rows
// rather than sorting all (20 times faster with 20,000 sessions).
//
// On Postgres the arguments follow in this order: now, the user id, the
// search pattern twice, the cursor's expiry and key, and the limit, each
// where the variant has it. On SQLite they are numbered and always all
// passed: ?1-?4 the active bounds (activeArgs), ?5 the user id, ?6 the
// search pattern, ?7 the cursor's expiry in milliseconds, ?8 its key, ?9
// the limit.
func listStatements(f adapter.Flavour, pg bool, p listParts) [listVariants]string {
	key, integer := listKey(f, pg)
	var out [listVariants]string
	for v := range out {
		// filters narrows the sessions; inst is the expiry as ordered.
		filters := func(inst string) string {
			var b strings.Builder
			user, pattern, after := "?", "?", "?"
			keyPh := "?"
			if !pg {
				user, pattern, after, keyPh = "?5", "?6", "?7", "?8"
				if integer {
					keyPh = "CAST(?8 AS INTEGER)"
				}
			}
			if v&listByUser != 0 {
				fmt.Fprintf(&b, ` AND s."userId" = %s`, user)
			}
			if v&listBySearch != 0 {
				fmt.Fprintf(&b, ` AND s."userId" IN (SELECT u."id" FROM %[1]s u WHERE lower(u."email") LIKE %[2]s ESCAPE '\' OR lower(u."name") LIKE %[2]s ESCAPE '\')`, p.U, pattern)
			}
			if v&listAfter != 0 {
				if pg {
					fmt.Fprintf(&b, ` AND (%s, %s) < (%s, ?)`, inst, key, p.date)
				} else {
					fmt.Fprintf(&b, ` AND (%[1]s < %[2]s OR (%[1]s = %[2]s AND %[3]s < %[4]s))`, inst, after, key, keyPh)
				}
			}
			return b.String()
		}
		page := func(inst, where, limit string) string {
			return fmt.Sprintf(`SELECT s."sessionToken" AS tok, %s AS inst, %s AS k FROM %s s WHERE %s%s ORDER BY inst DESC, k DESC LIMIT %s`,
				inst, key, p.S, where, filters(inst), limit)
		}
		var inner string
		if pg {
			inner = page(`s."expires"`, p.active, "?")
		} else {
			inner = fmt.Sprintf(`SELECT * FROM (%s) UNION ALL SELECT * FROM (%s) ORDER BY inst DESC, k DESC LIMIT ?9`,
				page(`s."expires"`, `s."expires" >= ?1 AND s."expires" < ''`, "?9"),
				page(sqliteInstant, `(s."expires" >= ?2 OR (s."expires" >= ?3 AND s."expires" < ?4))`, "?9"))
		}
		out[v] = fmt.Sprintf(`SELECT %s, %s, x.k FROM (%s) x JOIN %s s ON s."sessionToken" = x.tok JOIN %s u ON u."id" = s."userId" ORDER BY x.inst DESC, x.k DESC`,
			p.sessionCols, p.userCols, inner, p.S, p.U)
	}
	return out
}

// ListSessions implements session.SessionLister.
func (s *Store) ListSessions(ctx context.Context, lq session.ListQuery) ([]session.SessionUser, error) {
	pg := s.dialect == adapter.Postgres
	variant := 0
	args := s.activeArgs(lq.Now)
	// On SQLite every numbered argument is passed (see listStatements).
	var user, pattern, afterMs, afterKey any
	if lq.UserID != "" {
		if !s.validID(lq.UserID) {
			return nil, nil
		}
		variant |= listByUser
		user = lq.UserID
		if pg {
			args = append(args, user)
		}
	}
	if lq.Search != "" {
		if !searchable(lq.Search) {
			return nil, nil
		}
		variant |= listBySearch
		pattern = "%" + likeEscaper.Replace(strings.ToLower(lq.Search)) + "%"
		if pg {
			args = append(args, pattern, pattern)
		}
	}
	if !lq.After.IsZero() {
		if !s.validListKey(lq.After.Key) {
			return nil, nil
		}
		variant |= listAfter
		afterMs, afterKey = lq.After.Expires.UnixMilli(), lq.After.Key
		if pg {
			args = append(args, lq.After.Expires.UTC(), lq.After.Key)
		}
	}
	limit := lq.Limit
	if limit <= 0 {
		limit = -1 // no limit on SQLite
		if pg {
			limit = 1 << 62
		}
	}
	if !pg {
		args = append(args, user, pattern, afterMs, afterKey)
	}
	args = append(args, limit)
	rows, err := s.query(ctx, &s.q.list[variant], args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []session.SessionUser
	for rows.Next() {
		var x struct {
			s   sessionScan
			u   userScan
			key string
		}
		if err := rows.Scan(append(append(x.s.dest(s.device()), x.u.dest()...), &x.key)...); err != nil {
			return nil, err
		}
		se := x.s.session()
		out = append(out, session.SessionUser{Session: se, User: x.u.user(), Cursor: session.ListCursor{Expires: se.Expires, Key: x.key}})
	}
	return out, rows.Err()
}

// likeEscaper makes a search text match itself in LIKE ... ESCAPE '\'.
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// validListKey reports whether key can be a ListCursor.Key of this store,
// so that a forged one lists nothing rather than failing on its type.
func (s *Store) validListKey(key string) bool {
	if _, integer := listKey(s.flavour, s.dialect == adapter.Postgres); !integer {
		return key != "" && len(key) <= 255 && searchable(key)
	}
	if key == "" || len(key) > 18 {
		return false
	}
	for i := 0; i < len(key); i++ {
		if key[i] < '0' || key[i] > '9' {
			return false
		}
	}
	return true
}
