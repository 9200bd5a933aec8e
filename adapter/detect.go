package adapter

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"strings"
)

// ErrDatesUnknown is wrapped by the error of Detect when a SQLite
// database holds no date to tell how its dates are stored and the column
// type does not say either (Prisma declares DATETIME whether it writes
// integer milliseconds or ISO text). The flavour Detect returns with it is
// complete but for SQLiteDates: set that and use it.
var ErrDatesUnknown = errors.New("adapter: cannot tell how dates are stored")

// ErrNotNextAuth is wrapped by the error of Detect when no schema of the
// database has NextAuth's tables.
var ErrNotNextAuth = errors.New("adapter: no NextAuth tables found")

// Detect reads the catalog of the database that db (opened with lib/pq or
// mattn/go-sqlite3) is connected to, and returns the flavour of its
// NextAuth tables: their names and schema, column names, id kind, which
// optional columns they have (Session id and createdAt, createdAt and
// updatedAt, device columns) and how dates are stored (column types on
// Postgres; on SQLite the newest row's dates, else the declared type).
// When it matches a predefined flavour that flavour is returned, else
// one named "detected".
//
// On Postgres it looks in the schemas of the connection's search_path, in
// order, then in next_auth (Supabase's); the first that has a Session
// table is the flavour's (its TableSchema unless it is the current
// schema). When a table or required column is missing the error names
// what it looked for and what it found. A flavour is only returned when
// Verify accepts it, but for ErrDatesUnknown.
func Detect(ctx context.Context, db *sql.DB, d Dialect) (Flavour, error) {
	c, err := ReadCatalog(ctx, db, d, Supabase.TableSchema)
	if err != nil {
		return Flavour{}, err
	}
	return c.Detect(ctx)
}

// roleSignature is the column (folded by norm) that marks a table as
// playing a role, and the names a table of that role usually has.
var roles = []struct {
	role  string
	marks []string
	names []string
}{
	{"Session", []string{"sessiontoken"}, []string{"Session", "session", "sessions"}},
	{"Account", []string{"provideraccountid"}, []string{"Account", "account", "accounts"}},
	{"VerificationToken", []string{"identifier", "token", "expires"},
		[]string{"VerificationToken", "verificationToken", "verification_token", "verification_tokens", "verificationTokens"}},
	{"User", []string{"email", "emailverified"}, []string{"User", "user", "users"}},
}

// Detect is the package's Detect on a catalog already read.
func (c *Catalog) Detect(ctx context.Context) (Flavour, error) {
	schema, err := c.nextAuthSchema()
	if err != nil {
		return Flavour{}, err
	}
	f := Flavour{Name: "detected"}
	if c.Dialect == Postgres && schema != c.CurrentSchema {
		f.TableSchema = schema
	}
	found := map[string]*CatalogTable{}
	var used []*CatalogTable
	var problems []string
	for _, r := range roles {
		var cands []*CatalogTable
		for i := range c.Tables {
			t := &c.Tables[i]
			if t.Schema == schema && hasAll(t, r.marks) && !slices.Contains(used, t) {
				cands = append(cands, t)
			}
		}
		if len(cands) > 1 { // prefer a usual name
			var usual []*CatalogTable
			for _, t := range cands {
				if slices.Contains(r.names, t.Name) {
					usual = append(usual, t)
				}
			}
			if len(usual) == 1 {
				cands = usual
			}
		}
		switch len(cands) {
		case 0:
			problems = append(problems, fmt.Sprintf("no %s table (a table with columns %s) in schema %s; tables there: %s",
				r.role, strings.Join(r.marks, ", "), schema, strings.Join(c.inSchema(schema), ", ")))
		case 1:
			found[r.role] = cands[0]
			used = append(used, cands[0])
		default:
			var names []string
			for _, t := range cands {
				names = append(names, t.Name)
			}
			problems = append(problems, fmt.Sprintf("more than one %s table in schema %s: %s", r.role, schema, strings.Join(names, ", ")))
		}
	}
	if len(problems) > 0 {
		return Flavour{}, fmt.Errorf("%w: %s", ErrNotNextAuth, strings.Join(problems, "; "))
	}
	f.Tables = Tables{found["User"].Name, found["Account"].Name, found["Session"].Name, found["VerificationToken"].Name}

	// Optional columns, by their folded names.
	s, a, u := found["Session"], found["Account"], found["User"]
	f.SessionID = s.match("id") != ""
	f.AccountID = a.match("id") != ""
	f.SessionCreatedAt, f.SessionUpdatedAt = s.match("createdAt") != "", s.match("updatedAt") != ""
	f.UserCreatedAt, f.UserUpdatedAt = u.match("createdAt") != "", u.match("updatedAt") != ""
	f.AccountCreatedAt, f.AccountUpdatedAt = a.match("createdAt") != "", a.match("updatedAt") != ""
	f.Device.UserAgent = s.match("userAgent")
	f.Device.IP = s.match("ip", "ipAddress")

	// Column names: snake_case when the session token is, then each
	// column whose name differs is named in Columns.
	if s.match("sessionToken") == "session_token" {
		f.Naming = SnakeCase
	}
	missing := c.nameColumns(&f, found)
	if len(missing) > 0 {
		return Flavour{}, fmt.Errorf("adapter: NextAuth tables in schema %s lack required columns: %s", schema, strings.Join(missing, "; "))
	}

	var datesErr error
	expires := s.column(f.Names().Session.Expires)
	if c.Dialect == Postgres {
		pd, ok := postgresDate(expires)
		if !ok {
			return Flavour{}, fmt.Errorf("adapter: %s.%s is %s, not a timestamp", s.Name, expires.Name, expires.Type)
		}
		f.PostgresDates = pd
	} else {
		datesErr = c.detectSQLiteDates(ctx, &f, found)
	}
	// Prisma's own date types, when no user tells the ids' shape.
	prismaDates := c.Dialect == Postgres && f.PostgresDates == Timestamp3 || c.Dialect == SQLite && strings.EqualFold(expires.Type, "DATETIME")
	if err := c.detectIDs(ctx, &f, u, prismaDates); err != nil {
		return Flavour{}, err
	}
	if datesErr == nil {
		f = predefined(f, c.Dialect)
	}
	if err := c.Verify(ctx, f); err != nil {
		return Flavour{}, err
	}
	return f, datesErr
}

// nextAuthSchema returns the first schema that holds a Session table.
func (c *Catalog) nextAuthSchema() (string, error) {
	for _, schema := range c.Schemas {
		for i := range c.Tables {
			if t := &c.Tables[i]; t.Schema == schema && hasAll(t, roles[0].marks) {
				return schema, nil
			}
		}
	}
	var tables []string
	for _, t := range c.Tables {
		name := t.Name
		if c.Dialect == Postgres {
			name = t.Schema + "." + t.Name
		}
		tables = append(tables, name)
	}
	if len(tables) == 0 {
		tables = []string{"none"}
	}
	if len(tables) > 30 {
		tables = append(tables[:30], fmt.Sprintf("and %d more", len(tables)-30))
	}
	return "", fmt.Errorf("%w: looked for a Session table (a column sessionToken or session_token) in schemas %s; tables found: %s",
		ErrNotNextAuth, strings.Join(c.Schemas, ", "), strings.Join(tables, ", "))
}

// hasAll reports whether the table has a column for every folded name.
func hasAll(t *CatalogTable, folded []string) bool {
	for _, want := range folded {
		if !slices.ContainsFunc(t.Columns, func(c CatalogColumn) bool { return norm(c.Name) == want }) {
			return false
		}
	}
	return true
}

// match returns the name of the table's column that is one of the names
// once folded, or "".
func (t *CatalogTable) match(names ...string) string {
	for _, n := range names {
		for _, c := range t.Columns {
			if norm(c.Name) == norm(n) {
				return c.Name
			}
		}
	}
	return ""
}

// nameColumns sets f.Columns for every column whose name is not the one
// f.Naming spells, and returns the required columns that are missing.
func (c *Catalog) nameColumns(f *Flavour, found map[string]*CatalogTable) []string {
	var missing []string
	cols := reflect.ValueOf(&f.Columns).Elem()
	for i := range cols.NumField() {
		role := cols.Type().Field(i).Name
		t := found[role]
		table := cols.Field(i)
		for j := range table.NumField() {
			authjs := table.Type().Field(j).Tag.Get("authjs")
			name := t.match(authjs)
			if name == "" {
				if !optional(*f, role, authjs) {
					missing = append(missing, fmt.Sprintf("%s has no %s column; it has: %s", tableRole(role, t.Name), authjs, strings.Join(t.columnNames(), ", ")))
				}
				continue
			}
			if name != f.Naming.spell(authjs) {
				table.Field(j).SetString(name)
			}
		}
	}
	return missing
}

func tableRole(role, name string) string {
	return tableDesc(table{role: role, name: name})
}

// optional reports whether a flavour may lack the column (Detect has set
// the flags of the optional columns it found).
func optional(f Flavour, role, authjs string) bool {
	switch authjs {
	case "id":
		return role == "Session" || role == "Account"
	case "createdAt", "updatedAt":
		return true
	}
	return false
}

// detectIDs sets f.IDs from the type of User's id and, for text, the
// shape of an existing id, else from whether the dates have Prisma's
// types.
func (c *Catalog) detectIDs(ctx context.Context, f *Flavour, u *CatalogTable, prismaDates bool) error {
	col := u.column(f.Names().User.ID)
	typ := strings.ToLower(col.Type)
	switch {
	case c.Dialect == Postgres && (typ == "integer" || typ == "bigint"):
		f.IDs = IDSerial
		return nil
	case c.Dialect == Postgres && typ == "uuid":
		f.IDs = IDPostgresUUID
		return nil
	}
	var id string
	err := c.db.QueryRowContext(ctx, fmt.Sprintf(`SELECT %s FROM %s LIMIT 1`, Quote(col.Name), c.quoted(u))).Scan(&id)
	switch {
	case err == sql.ErrNoRows:
		f.IDs = IDUUID
		if prismaDates {
			f.IDs = IDCUID
		}
	case err != nil:
		return fmt.Errorf("adapter: reading a user id: %w", err)
	case len(id) == 36 && strings.Count(id, "-") == 4:
		f.IDs = IDUUID
	default:
		f.IDs = IDCUID
	}
	return nil
}

// detectSQLiteDates sets f.SQLiteDates from the newest date in the
// expires columns, else from the declared type of Session.expires.
func (c *Catalog) detectSQLiteDates(ctx context.Context, f *Flavour, found map[string]*CatalogTable) error {
	n := f.Names()
	var seen []string
	for _, x := range []struct {
		t   *CatalogTable
		col string
	}{{found["Session"], n.Session.Expires}, {found["VerificationToken"], n.VerificationToken.Expires}, {found["User"], n.User.EmailVerified}} {
		format, desc, ok, err := c.sqliteDates(ctx, x.t, x.col)
		if err != nil {
			return err
		}
		if ok {
			f.SQLiteDates = format
			return nil
		}
		if desc != "" {
			seen = append(seen, fmt.Sprintf("%s.%s holds %s", x.t.Name, x.col, desc))
		}
	}
	col := found["Session"].column(n.Session.Expires)
	switch strings.ToUpper(col.Type) {
	case "INTEGER", "BIGINT", "INT":
		f.SQLiteDates = DateMillis
		return nil
	case "TEXT":
		f.SQLiteDates = DateISO
		return nil
	}
	what := "no row holds a date"
	if len(seen) > 0 {
		what = strings.Join(seen, ", ")
	}
	return fmt.Errorf("%w: %s.%s is declared %s and %s (Prisma writes integer milliseconds with its classic engine, ISO text ending in +00:00 through Prisma 7's driver adapters): set SQLiteDates",
		ErrDatesUnknown, found["Session"].Name, col.Name, col.Type, what)
}

// predefined returns the predefined flavour that f is on the dialect, or
// f.
func predefined(f Flavour, d Dialect) Flavour {
	for _, p := range Flavours() {
		if p.Check(d) != nil {
			continue
		}
		q := f
		q.Name, q.PostgresOnly = p.Name, p.PostgresOnly
		if d == Postgres {
			q.SQLiteDates = p.SQLiteDates
		} else {
			q.PostgresDates = p.PostgresDates
		}
		if q == p {
			return p
		}
	}
	f.PostgresOnly = d == Postgres && (f.IDs == IDSerial || f.IDs == IDPostgresUUID)
	return f
}
