package adapter_test

import (
	"database/sql"
	"errors"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	_ "github.com/mattn/go-sqlite3"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/store/postgres/pgtest"
)

// column is one column of a created table.
type column struct {
	typ     string // as declared (SQLite) or information_schema's data_type (Postgres)
	notNull bool
	pk      bool
	dflt    string
}

// wantColumns are the columns every flavour has, by table role, before
// the optional ones.
var (
	userColumns    = []string{"id", "name", "email", "emailVerified", "image"}
	accountColumns = []string{"userId", "type", "provider", "providerAccountId", "refresh_token", "access_token",
		"expires_at", "token_type", "scope", "id_token", "session_state"}
	vtColumns = []string{"identifier", "token", "expires"}
)

func sessionColumns(f adapter.Flavour) []string {
	var cols []string
	if f.SessionID {
		cols = append(cols, "id")
	}
	cols = append(cols, "sessionToken", "userId", "expires")
	return stamps(cols, f.SessionCreatedAt, f.SessionUpdatedAt)
}

func userColumnsOf(f adapter.Flavour) []string {
	return stamps(userColumns, f.UserCreatedAt, f.UserUpdatedAt)
}

func accountColumnsOf(f adapter.Flavour) []string {
	cols := accountColumns
	if f.AccountID {
		cols = append([]string{"id"}, accountColumns...)
	}
	return stamps(cols, f.AccountCreatedAt, f.AccountUpdatedAt)
}

func stamps(cols []string, created, updated bool) []string {
	cols = slices.Clone(cols)
	if created {
		cols = append(cols, "createdAt")
	}
	if updated {
		cols = append(cols, "updatedAt")
	}
	return cols
}

// updatedAt returns the column list and values to add to an insert into
// a table with an updatedAt column, which has no default.
func updatedAt(has bool, value string) (string, string) {
	if has {
		return `, "updatedAt"`, ", " + value
	}
	return "", ""
}

func keys(m map[string]column) []string {
	var out []string
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

func sorted(s []string) []string {
	s = slices.Clone(s)
	slices.Sort(s)
	return s
}

func checkColumns(t *testing.T, table string, got map[string]column, want []string) {
	t.Helper()
	if g, w := keys(got), sorted(want); !slices.Equal(g, w) {
		t.Errorf("table %s: columns %v, want %v", table, g, w)
	}
}

func pkColumns(cols map[string]column) []string {
	var out []string
	for name, c := range cols {
		if c.pk {
			out = append(out, name)
		}
	}
	slices.Sort(out)
	return out
}

// execAll runs the statements twice: IF NOT EXISTS makes the second run a
// no-op.
func execAll(t *testing.T, db *sql.DB, stmts []string) {
	t.Helper()
	for range 2 {
		for _, q := range stmts {
			if _, err := db.Exec(q); err != nil {
				t.Fatalf("%v\n%s", err, q)
			}
		}
	}
}

func TestSchemaOnSQLite(t *testing.T) {
	for _, f := range adapter.Flavours() {
		t.Run(f.Name, func(t *testing.T) {
			stmts, err := f.Schema(adapter.SQLite)
			if f.PostgresOnly {
				if err == nil {
					t.Fatalf("Schema(SQLite) of a Postgres-only flavour gave %d statements", len(stmts))
				}
				if _, err := f.Indexes(adapter.SQLite); err == nil {
					t.Error("Indexes(SQLite) of a Postgres-only flavour: no error")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			idx, err := f.Indexes(adapter.SQLite)
			if err != nil {
				t.Fatal(err)
			}
			db, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "s.db")+"?_foreign_keys=on")
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			execAll(t, db, stmts)
			execAll(t, db, idx)

			cols := func(table string) map[string]column {
				t.Helper()
				rows, err := db.Query(fmt.Sprintf(`PRAGMA table_info(%s)`, adapter.Quote(table)))
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				out := map[string]column{}
				for rows.Next() {
					var cid, notNull, pk int
					var name, typ string
					var dflt sql.NullString
					if err := rows.Scan(&cid, &name, &typ, &notNull, &dflt, &pk); err != nil {
						t.Fatal(err)
					}
					out[name] = column{typ: typ, notNull: notNull == 1, pk: pk > 0, dflt: dflt.String}
				}
				if len(out) == 0 {
					t.Fatalf("no table %s", table)
				}
				return out
			}
			tb := f.Tables
			user, account, sess, vt := cols(tb.User), cols(tb.Account), cols(tb.Session), cols(tb.VerificationToken)
			checkColumns(t, tb.User, user, userColumnsOf(f))
			checkColumns(t, tb.Account, account, accountColumnsOf(f))
			checkColumns(t, tb.Session, sess, sessionColumns(f))
			checkColumns(t, tb.VerificationToken, vt, vtColumns)

			if got := pkColumns(user); !slices.Equal(got, []string{"id"}) {
				t.Errorf("%s primary key %v", tb.User, got)
			}
			wantSessionPK := []string{"id"}
			switch {
			case !f.SessionID && f.IDs == adapter.IDCUID:
				wantSessionPK = nil // Prisma: sessionToken @unique, no @id
			case !f.SessionID:
				wantSessionPK = []string{"sessionToken"} // Drizzle
			}
			if got := pkColumns(sess); !slices.Equal(got, wantSessionPK) {
				t.Errorf("%s primary key %v, want %v", tb.Session, got, wantSessionPK)
			}
			wantAccountPK := []string{"id"}
			if !f.AccountID {
				wantAccountPK = []string{"provider", "providerAccountId"}
			}
			if got := pkColumns(account); !slices.Equal(got, wantAccountPK) {
				t.Errorf("%s primary key %v, want %v", tb.Account, got, wantAccountPK)
			}
			if got := pkColumns(vt); !slices.Equal(got, []string{"identifier", "token"}) {
				t.Errorf("%s primary key %v", tb.VerificationToken, got)
			}
			for _, c := range []string{"sessionToken", "userId", "expires"} {
				if !sess[c].notNull {
					t.Errorf("%s.%s is nullable", tb.Session, c)
				}
			}

			// Dates are stored as the flavour says: integers for Unix
			// milliseconds, text for ISO.
			wantDate := "TEXT"
			switch {
			case f.IDs == adapter.IDCUID:
				wantDate = "DATETIME" // Prisma's declaration, whatever it holds
			case f.SQLiteDates == adapter.DateMillis:
				wantDate = "INTEGER" // Drizzle's timestamp_ms
			}
			if got := sess["expires"].typ; got != wantDate {
				t.Errorf("%s.expires declared %s, want %s", tb.Session, got, wantDate)
			}

			// The constraints behave: unique email and token, cascading
			// delete of a user's sessions and accounts.
			q := adapter.Quote
			mustExec := func(query string, args ...any) {
				t.Helper()
				if _, err := db.Exec(query, args...); err != nil {
					t.Fatalf("%v\n%s", err, query)
				}
			}
			uc, uv := updatedAt(f.UserUpdatedAt, "0")
			mustExec(fmt.Sprintf(`INSERT INTO %s ("id", "email"%s) VALUES ('u1', 'a@example.com'%s)`, q(tb.User), uc, uv))
			if _, err := db.Exec(fmt.Sprintf(`INSERT INTO %s ("id", "email"%s) VALUES ('u2', 'a@example.com'%s)`, q(tb.User), uc, uv)); err == nil {
				t.Error("two users with one email")
			}
			insertSession := func(id, token string) error {
				sc, sv := updatedAt(f.SessionUpdatedAt, "0")
				c, v := `"sessionToken", "userId", "expires"`+sc, `?, 'u1', ?`+sv
				args := []any{token, time.Now().UnixMilli()}
				if f.SessionID {
					c, v = `"id", `+c, `?, `+v
					args = append([]any{id}, args...)
				}
				_, err := db.Exec(fmt.Sprintf(`INSERT INTO %s (%s) VALUES (%s)`, q(tb.Session), c, v), args...)
				return err
			}
			if err := insertSession("s1", "tok"); err != nil {
				t.Fatal(err)
			}
			if err := insertSession("s2", "tok"); err == nil {
				t.Error("two sessions with one sessionToken")
			}
			if f.SessionCreatedAt {
				var n int
				if err := db.QueryRow(fmt.Sprintf(`SELECT count(*) FROM %s WHERE "createdAt" IS NOT NULL`, q(tb.Session))).Scan(&n); err != nil || n != 1 {
					t.Errorf("createdAt has no default: %d rows with it, %v", n, err)
				}
			}
			ac, av := updatedAt(f.AccountUpdatedAt, "0")
			acol, aval := `"userId", "type", "provider", "providerAccountId"`+ac, `'u1', 'oauth', 'github', '1'`+av
			if f.AccountID {
				acol, aval = `"id", `+acol, `'a1', `+aval
			}
			mustExec(fmt.Sprintf(`INSERT INTO %s (%s) VALUES (%s)`, q(tb.Account), acol, aval))
			if _, err := db.Exec(fmt.Sprintf(`INSERT INTO %s (%s) VALUES (%s)`, q(tb.Account), acol, strings.Replace(aval, "'a1'", "'a2'", 1))); err == nil {
				t.Error("two accounts with one (provider, providerAccountId)")
			}
			mustExec(fmt.Sprintf(`DELETE FROM %s WHERE "id" = 'u1'`, q(tb.User)))
			for _, table := range []string{tb.Session, tb.Account} {
				var n int
				if err := db.QueryRow(fmt.Sprintf(`SELECT count(*) FROM %s`, q(table))).Scan(&n); err != nil || n != 0 {
					t.Errorf("%s: %d rows after deleting the user (%v), want a cascade", table, n, err)
				}
			}

			// The extra indexes exist and serve "expires >= now".
			var names []string
			rows, err := db.Query(fmt.Sprintf(`PRAGMA index_list(%s)`, q(tb.Session)))
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var seq, unique, partial int
				var name, origin string
				if err := rows.Scan(&seq, &name, &unique, &origin, &partial); err != nil {
					t.Fatal(err)
				}
				names = append(names, name)
			}
			rows.Close()
			for _, want := range []string{tb.Session + "_expires_idx", tb.Session + "_userId_expires_idx"} {
				if !slices.Contains(names, want) {
					t.Errorf("index %s missing (have %v)", want, names)
				}
			}
		})
	}
}

func TestSchemaOnPostgres(t *testing.T) {
	for _, f := range adapter.Flavours() {
		t.Run(f.Name, func(t *testing.T) {
			stmts, err := f.Schema(adapter.Postgres)
			if err != nil {
				t.Fatal(err)
			}
			idx, err := f.Indexes(adapter.Postgres)
			if err != nil {
				t.Fatal(err)
			}
			name := "nextsession_adapter_schema_" + strings.ReplaceAll(f.Name, "-", "_")
			db := pgtest.Open(t, name).DB
			f = pgtest.Flavour(t, f, name)
			if stmts, err = f.Schema(adapter.Postgres); err != nil {
				t.Fatal(err)
			}
			if idx, err = f.Indexes(adapter.Postgres); err != nil {
				t.Fatal(err)
			}
			schema := f.TableSchema
			if schema == "" {
				schema = name
			}
			execAll(t, db, stmts)
			execAll(t, db, idx)

			cols := func(table string) map[string]column {
				t.Helper()
				rows, err := db.Query(`SELECT c.column_name, c.data_type, coalesce(c.datetime_precision, -1), c.is_nullable, coalesce(c.column_default, '')
FROM information_schema.columns c WHERE c.table_schema = $1 AND c.table_name = $2`, schema, table)
				if err != nil {
					t.Fatal(err)
				}
				defer rows.Close()
				out := map[string]column{}
				for rows.Next() {
					var name, typ, nullable, dflt string
					var prec int
					if err := rows.Scan(&name, &typ, &prec, &nullable, &dflt); err != nil {
						t.Fatal(err)
					}
					if prec >= 0 && strings.HasPrefix(typ, "timestamp") {
						typ = fmt.Sprintf("%s(%d)", typ, prec)
					}
					out[name] = column{typ: typ, notNull: nullable == "NO", dflt: dflt}
				}
				if len(out) == 0 {
					t.Fatalf("no table %s", table)
				}
				return out
			}
			tb := f.Tables
			user, account, sess, vt := cols(tb.User), cols(tb.Account), cols(tb.Session), cols(tb.VerificationToken)
			checkColumns(t, tb.User, user, userColumnsOf(f))
			checkColumns(t, tb.Account, account, accountColumnsOf(f))
			checkColumns(t, tb.Session, sess, sessionColumns(f))
			checkColumns(t, tb.VerificationToken, vt, vtColumns)

			wantDate := map[adapter.PostgresDate]string{
				adapter.Timestamp3:  "timestamp without time zone(3)",
				adapter.Timestamp:   "timestamp without time zone(6)",
				adapter.TimestampTZ: "timestamp with time zone(6)",
			}[f.PostgresDates]
			for table, c := range map[string]column{
				tb.Session + ".expires":           sess["expires"],
				tb.VerificationToken + ".expires": vt["expires"],
				tb.User + ".emailVerified":        user["emailVerified"],
			} {
				if c.typ != wantDate {
					t.Errorf("%s is %s, want %s", table, c.typ, wantDate)
				}
			}
			wantID, wantRef := "text", "text"
			if f.IDs == adapter.IDPostgresUUID {
				wantID, wantRef = "uuid", "uuid"
			}
			if f.IDs == adapter.IDSerial {
				wantID, wantRef = "integer", "integer"
				if !strings.HasPrefix(user["id"].dflt, "nextval(") {
					t.Errorf("%s.id default %q, want a sequence (SERIAL)", tb.User, user["id"].dflt)
				}
			}
			if user["id"].typ != wantID || sess["userId"].typ != wantRef || account["userId"].typ != wantRef {
				t.Errorf("ids: user.id %s, session.userId %s, account.userId %s; want %s, %s",
					user["id"].typ, sess["userId"].typ, account["userId"].typ, wantID, wantRef)
			}
			if f.SessionCreatedAt && (sess["createdAt"].typ != wantDate || !sess["createdAt"].notNull || sess["createdAt"].dflt == "") {
				t.Errorf("%s.createdAt %+v, want %s NOT NULL with a default", tb.Session, sess["createdAt"], wantDate)
			}

			// Constraints: unique token, the cascade where the flavour
			// declares foreign keys (pg-adapter declares none).
			q := f.QuoteTable
			var uid string
			uc, uv := updatedAt(f.UserUpdatedAt, "now()")
			switch f.IDs {
			case adapter.IDSerial, adapter.IDPostgresUUID:
				if err := db.QueryRow(fmt.Sprintf(`INSERT INTO %s ("email"%s) VALUES ('a@example.com'%s) RETURNING "id"`, q(tb.User), uc, uv)).Scan(&uid); err != nil {
					t.Fatal(err)
				}
			default:
				uid = "u1"
				if _, err := db.Exec(fmt.Sprintf(`INSERT INTO %s ("id", "email"%s) VALUES ($1, 'a@example.com'%s)`, q(tb.User), uc, uv), uid); err != nil {
					t.Fatal(err)
				}
			}
			insertSession := func(id, token string) error {
				sc, sv := updatedAt(f.SessionUpdatedAt, "now()")
				c, v := `"sessionToken", "userId", "expires"`+sc, `$1, $2, now()`+sv
				args := []any{token, uid}
				if f.SessionID && f.IDs != adapter.IDSerial && f.IDs != adapter.IDPostgresUUID {
					c, v = `"id", `+c, `$3, `+v
					args = append(args, id)
				}
				_, err := db.Exec(fmt.Sprintf(`INSERT INTO %s (%s) VALUES (%s)`, q(tb.Session), c, v), args...)
				return err
			}
			if err := insertSession("s1", "tok"); err != nil {
				t.Fatal(err)
			}
			if err := insertSession("s2", "tok"); err == nil {
				t.Error("two sessions with one sessionToken")
			}
			if _, err := db.Exec(fmt.Sprintf(`DELETE FROM %s WHERE "id" = $1`, q(tb.User)), uid); err != nil {
				t.Fatal(err)
			}
			var n int
			if err := db.QueryRow(fmt.Sprintf(`SELECT count(*) FROM %s`, q(tb.Session))).Scan(&n); err != nil {
				t.Fatal(err)
			}
			if wantLeft := map[bool]int{true: 1, false: 0}[f.IDs == adapter.IDSerial]; n != wantLeft {
				t.Errorf("%d sessions left after deleting the user, want %d", n, wantLeft)
			}

			var idxNames []string
			rows, err := db.Query(`SELECT indexname FROM pg_indexes WHERE schemaname = $1 AND tablename = $2`, schema, tb.Session)
			if err != nil {
				t.Fatal(err)
			}
			for rows.Next() {
				var name string
				if err := rows.Scan(&name); err != nil {
					t.Fatal(err)
				}
				idxNames = append(idxNames, name)
			}
			rows.Close()
			for _, want := range []string{tb.Session + "_expires_idx", tb.Session + "_userId_expires_idx"} {
				if !slices.Contains(idxNames, want) {
					t.Errorf("index %s missing (have %v)", want, idxNames)
				}
			}
		})
	}
}

func TestCheck(t *testing.T) {
	if err := (adapter.Flavour{}).Check(adapter.Postgres); err == nil {
		t.Error("the zero Flavour passes Check")
	}
	f := adapter.Prisma
	f.Tables.Session = ""
	if _, err := f.Schema(adapter.Postgres); err == nil {
		t.Error("a flavour with an empty table name gives a schema")
	}
	if _, err := adapter.Prisma.Schema(adapter.Dialect(7)); err == nil {
		t.Error("an unknown dialect gives a schema")
	}
	for _, f := range adapter.Flavours() {
		got, err := adapter.Lookup(strings.ToUpper(f.Name))
		if err != nil || got != f {
			t.Errorf("Lookup(%q) = %v, %v", strings.ToUpper(f.Name), got.Name, err)
		}
	}
	if _, err := adapter.Lookup(""); !errors.Is(err, adapter.ErrUnknownFlavour) {
		t.Errorf("Lookup(\"\") = %v", err)
	}
}

// Mapped table names with quotes in them stay one identifier.
func TestSchemaQuotesNames(t *testing.T) {
	f := adapter.Prisma
	f.Name = "mapped"
	f.Tables = adapter.Tables{User: `my "users"`, Account: "accounts; DROP TABLE x", Session: "Sessions", VerificationToken: "vt"}
	stmts, err := f.Schema(adapter.SQLite)
	if err != nil {
		t.Fatal(err)
	}
	idx, _ := f.Indexes(adapter.SQLite)
	db, err := sql.Open("sqlite3", "file:"+filepath.Join(t.TempDir(), "s.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	execAll(t, db, append(stmts, idx...))
	var n int
	if err := db.QueryRow(`SELECT count(*) FROM sqlite_master WHERE type = 'table'`).Scan(&n); err != nil || n != 4 {
		t.Errorf("%d tables (%v), want 4", n, err)
	}
	if err := db.QueryRow(`SELECT count(*) FROM "my ""users"""`).Scan(&n); err != nil {
		t.Error(err)
	}
}
