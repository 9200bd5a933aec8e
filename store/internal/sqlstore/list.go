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

// listStatements builds every variant of the listing from base, the query
// of active sessions with their users, and instant, the expiry as the
// statement orders by it. The arguments follow in this order: those of
// base, the user id, the search pattern twice, the cursor (on Postgres its
// expiry and key, on SQLite its expiry twice and key), and the limit.
func listStatements(f adapter.Flavour, pg bool, base, instant, date string) [listVariants]string {
	key, integer := listKey(f, pg)
	keyPh := "?"
	if integer && !pg {
		keyPh = "CAST(? AS INTEGER)"
	}
	var out [listVariants]string
	for v := range out {
		var b strings.Builder
		b.WriteString(base)
		if v&listByUser != 0 {
			b.WriteString(` AND s."userId" = ?`)
		}
		if v&listBySearch != 0 {
			b.WriteString(` AND (lower(u."email") LIKE ? ESCAPE '\' OR lower(u."name") LIKE ? ESCAPE '\')`)
		}
		if v&listAfter != 0 {
			if pg {
				fmt.Fprintf(&b, ` AND (%s, %s) < (%s, ?)`, instant, key, date)
			} else {
				fmt.Fprintf(&b, ` AND (%[1]s < ? OR (%[1]s = ? AND %[2]s < %[3]s))`, instant, key, keyPh)
			}
		}
		fmt.Fprintf(&b, ` ORDER BY %s DESC, %s DESC LIMIT ?`, instant, key)
		out[v] = b.String()
	}
	return out
}

// ListSessions implements session.SessionLister.
func (s *Store) ListSessions(ctx context.Context, lq session.ListQuery) ([]session.SessionUser, error) {
	pg := s.dialect == adapter.Postgres
	variant := 0
	args := s.activeArgs(lq.Now)
	if lq.UserID != "" {
		if !s.validID(lq.UserID) {
			return nil, nil
		}
		variant |= listByUser
		args = append(args, lq.UserID)
	}
	if lq.Search != "" {
		if !searchable(lq.Search) {
			return nil, nil
		}
		variant |= listBySearch
		pattern := "%" + likeEscaper.Replace(strings.ToLower(lq.Search)) + "%"
		args = append(args, pattern, pattern)
	}
	if !lq.After.IsZero() {
		if !s.validListKey(lq.After.Key) {
			return nil, nil
		}
		variant |= listAfter
		if pg {
			args = append(args, lq.After.Expires.UTC(), lq.After.Key)
		} else {
			ms := lq.After.Expires.UnixMilli()
			args = append(args, ms, ms, lq.After.Key)
		}
	}
	limit := lq.Limit
	if limit <= 0 {
		limit = -1 // no limit on SQLite
		if pg {
			limit = 1 << 62
		}
	}
	args = append(args, limit)
	st, err := s.stmt(ctx, &s.q.list[variant])
	if err != nil {
		return nil, err
	}
	rows, err := st.QueryContext(ctx, args...)
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
