package faulttest

import (
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
)

// SessionRows returns every session row of flavour f as text (user id and
// expiry by token), to compare before and after a fault: a fault test
// passes only if no row was lost or altered.
func SessionRows(t testing.TB, db *sqlx.DB, f adapter.Flavour) map[string]string {
	t.Helper()
	rows, err := db.Queryx(`SELECT "sessionToken", CAST("userId" AS TEXT), CAST("expires" AS TEXT) FROM ` + adapter.Quote(f.Tables.Session))
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[string]string{}
	for rows.Next() {
		var tok, user, exp string
		if err := rows.Scan(&tok, &user, &exp); err != nil {
			t.Fatal(err)
		}
		out[tok] = user + " " + exp
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}
