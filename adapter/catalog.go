package adapter

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
)

// Catalog is what Detect and Verify read of a database: its tables and
// their columns, from information_schema on Postgres and from
// sqlite_master and pragma table_info on SQLite.
type Catalog struct {
	Dialect Dialect
	// CurrentSchema is the schema unqualified names resolve to on
	// Postgres (current_schema()); "main" on SQLite.
	CurrentSchema string
	// Schemas are the schemas read, in the order Detect prefers them:
	// on Postgres those of the search_path, then the ones asked for;
	// "main" on SQLite.
	Schemas []string
	// Tables lists the tables, ordered by schema and name.
	Tables []CatalogTable
	db     *sql.DB
}

// CatalogTable is one table of a Catalog.
type CatalogTable struct {
	Schema  string
	Name    string
	Columns []CatalogColumn
}

// CatalogColumn is one column of a CatalogTable.
type CatalogColumn struct {
	Name string
	// Type is the declared type on SQLite, information_schema's
	// data_type on Postgres (text, uuid, integer, timestamp with time
	// zone, ...).
	Type string
	// Precision is the fractional-second digits of a Postgres timestamp,
	// -1 otherwise.
	Precision int
	NotNull   bool
	// HasDefault is true when the database fills the column by itself:
	// a default, a serial or identity column, SQLite's INTEGER PRIMARY
	// KEY.
	HasDefault bool
}

// ReadCatalog reads the tables and columns of the database that db
// (opened with lib/pq or mattn/go-sqlite3) is connected to: on Postgres,
// those of the schemas in the connection's search_path and of the
// schemas named.
func ReadCatalog(ctx context.Context, db *sql.DB, d Dialect, schemas ...string) (*Catalog, error) {
	c := &Catalog{Dialect: d, db: db}
	var err error
	switch d {
	case Postgres:
		err = c.readPostgres(ctx, schemas)
	case SQLite:
		err = c.readSQLite(ctx)
	default:
		err = fmt.Errorf("unknown dialect %v", d)
	}
	if err != nil {
		return nil, fmt.Errorf("adapter: reading the catalog: %w", err)
	}
	return c, nil
}

func (c *Catalog) readPostgres(ctx context.Context, extra []string) error {
	var current sql.NullString
	var path string
	if err := c.db.QueryRowContext(ctx, `SELECT current_schema(), array_to_json(current_schemas(false))::text`).Scan(&current, &path); err != nil {
		return err
	}
	if err := json.Unmarshal([]byte(path), &c.Schemas); err != nil {
		return err
	}
	c.CurrentSchema = current.String // NULL when no schema of the search_path exists
	for _, s := range extra {
		if s != "" && !slices.Contains(c.Schemas, s) {
			c.Schemas = append(c.Schemas, s)
		}
	}
	list, _ := json.Marshal(c.Schemas)
	rows, err := c.db.QueryContext(ctx, `SELECT table_schema, table_name, column_name, data_type,
  coalesce(datetime_precision, -1), is_nullable = 'NO',
  column_default IS NOT NULL OR is_identity = 'YES' OR is_generated <> 'NEVER'
FROM information_schema.columns
WHERE table_schema IN (SELECT json_array_elements_text($1::json))
ORDER BY table_schema, table_name, ordinal_position`, string(list))
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var schema, table string
		var col CatalogColumn
		if err := rows.Scan(&schema, &table, &col.Name, &col.Type, &col.Precision, &col.NotNull, &col.HasDefault); err != nil {
			return err
		}
		if n := len(c.Tables); n == 0 || c.Tables[n-1].Schema != schema || c.Tables[n-1].Name != table {
			c.Tables = append(c.Tables, CatalogTable{Schema: schema, Name: table})
		}
		t := &c.Tables[len(c.Tables)-1]
		t.Columns = append(t.Columns, col)
	}
	return rows.Err()
}

func (c *Catalog) readSQLite(ctx context.Context) error {
	c.CurrentSchema, c.Schemas = "main", []string{"main"}
	rows, err := c.db.QueryContext(ctx, `SELECT m.name, p.name, p.type, p."notnull", p.dflt_value IS NOT NULL,
  p.pk = 1 AND upper(p.type) = 'INTEGER' AND (SELECT count(*) FROM pragma_table_info(m.name) WHERE pk > 0) = 1
FROM sqlite_master m JOIN pragma_table_info(m.name) p
WHERE m.type = 'table' AND m.name NOT LIKE 'sqlite\_%' ESCAPE '\'
ORDER BY m.name, p.cid`)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var table string
		var rowid bool
		col := CatalogColumn{Precision: -1}
		if err := rows.Scan(&table, &col.Name, &col.Type, &col.NotNull, &col.HasDefault, &rowid); err != nil {
			return err
		}
		col.HasDefault = col.HasDefault || rowid
		if n := len(c.Tables); n == 0 || c.Tables[n-1].Name != table {
			c.Tables = append(c.Tables, CatalogTable{Schema: "main", Name: table})
		}
		t := &c.Tables[len(c.Tables)-1]
		t.Columns = append(t.Columns, col)
	}
	return rows.Err()
}

// table returns the table of the name in the schema ("" is the current
// one), or nil.
func (c *Catalog) table(schema, name string) *CatalogTable {
	if schema == "" {
		schema = c.CurrentSchema
	}
	for i := range c.Tables {
		if t := &c.Tables[i]; t.Schema == schema && t.Name == name {
			return t
		}
	}
	return nil
}

// inSchema lists the names of the tables of a schema.
func (c *Catalog) inSchema(schema string) []string {
	var out []string
	for _, t := range c.Tables {
		if t.Schema == schema {
			out = append(out, t.Name)
		}
	}
	return out
}

// column returns the column of the name, or nil.
func (t *CatalogTable) column(name string) *CatalogColumn {
	for i := range t.Columns {
		if t.Columns[i].Name == name {
			return &t.Columns[i]
		}
	}
	return nil
}

func (t *CatalogTable) columnNames() []string {
	out := make([]string, len(t.Columns))
	for i, c := range t.Columns {
		out[i] = c.Name
	}
	return out
}

// quoted returns the table's name for SQL, with its schema on Postgres.
func (c *Catalog) quoted(t *CatalogTable) string {
	if c.Dialect == Postgres {
		return Quote(t.Schema) + "." + Quote(t.Name)
	}
	return Quote(t.Name)
}

// sqliteDates returns how the newest row of the table stores the date
// column on SQLite, and false when no row holds a date there. The newest
// row is what the tool that writes today wrote.
func (c *Catalog) sqliteDates(ctx context.Context, t *CatalogTable, column string) (DateFormat, string, bool, error) {
	var kind, text string
	err := c.db.QueryRowContext(ctx, fmt.Sprintf(`SELECT typeof(%[1]s), CAST(%[1]s AS TEXT) FROM %[2]s WHERE %[1]s IS NOT NULL ORDER BY rowid DESC LIMIT 1`,
		Quote(column), c.quoted(t))).Scan(&kind, &text)
	if err == sql.ErrNoRows {
		return 0, "", false, nil
	}
	if err != nil {
		return 0, "", false, err
	}
	switch {
	case kind == "integer" || kind == "real":
		return DateMillis, "integer milliseconds", true, nil
	case strings.HasSuffix(text, "Z"):
		return DateISO, "ISO text ending in Z", true, nil
	case strings.HasSuffix(text, "+00:00"):
		return DateISOOffset, "ISO text ending in +00:00", true, nil
	}
	return 0, fmt.Sprintf("text %q", text), false, nil
}

// describe names a date format for messages.
func (f DateFormat) describe() string {
	switch f {
	case DateISO:
		return "ISO text ending in Z"
	case DateISOOffset:
		return "ISO text ending in +00:00"
	}
	return "integer milliseconds"
}

// describe names a Postgres date type for messages.
func (p PostgresDate) describe() string {
	switch p {
	case Timestamp3:
		return "timestamp(3) without time zone"
	case Timestamp:
		return "timestamp without time zone"
	}
	return "timestamp with time zone"
}

// postgresDate reads the flavour's date type from a column's type.
func postgresDate(c *CatalogColumn) (PostgresDate, bool) {
	switch c.Type {
	case "timestamp with time zone":
		return TimestampTZ, true
	case "timestamp without time zone":
		if c.Precision == 3 {
			return Timestamp3, true
		}
		return Timestamp, true
	}
	return 0, false
}

// Verify checks that the database has the flavour's tables and columns,
// that the store can fill every NOT NULL column without a default, and
// that dates are stored as the flavour says: on Postgres the column type
// of Session.expires, on SQLite the format of the newest row's. Its error
// names what it looked for and what it found.
func (f Flavour) Verify(ctx context.Context, db *sql.DB, d Dialect) error {
	if err := f.Check(d); err != nil {
		return err
	}
	c, err := ReadCatalog(ctx, db, d, f.TableSchema)
	if err != nil {
		return err
	}
	return c.Verify(ctx, f)
}

// Verify is Flavour.Verify on a catalog already read.
func (c *Catalog) Verify(ctx context.Context, f Flavour) error {
	schema := f.TableSchema
	if schema == "" {
		schema = c.CurrentSchema
	}
	var problems []string
	for _, t := range f.tableColumns() {
		ct := c.table(schema, t.name)
		if ct == nil {
			have := c.inSchema(schema)
			if len(have) == 0 {
				have = []string{"none"}
			}
			problems = append(problems, fmt.Sprintf("no %s table %q in schema %s (tables there: %s)", t.role, t.name, schema, strings.Join(have, ", ")))
			continue
		}
		for _, col := range t.cols {
			if ct.column(col.name) == nil {
				problems = append(problems, fmt.Sprintf("%s has no %s column %q; it has: %s", tableDesc(t), col.role, col.name, strings.Join(ct.columnNames(), ", ")))
			}
		}
		for _, cc := range ct.Columns {
			if cc.NotNull && !cc.HasDefault && !slices.Contains(t.names(), cc.Name) {
				problems = append(problems, fmt.Sprintf("%s has a column %q that is NOT NULL without a default, which the store does not write%s",
					tableDesc(t), cc.Name, stampHint(t.role, cc.Name)))
			}
		}
		if err := c.verifyDates(ctx, f, t, ct, &problems); err != nil {
			return err
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("adapter: the database does not have the tables of flavour %s: %s", f.Name, strings.Join(problems, "; "))
	}
	return nil
}

func tableDesc(t table) string {
	if t.role == t.name {
		return t.role
	}
	return fmt.Sprintf("%s (table %q)", t.role, t.name)
}

// stampHint says which flavour field declares a createdAt or updatedAt
// column.
func stampHint(role, column string) string {
	var which string
	switch norm(column) {
	case "createdat":
		which = "CreatedAt"
	case "updatedat":
		which = "UpdatedAt"
	default:
		return "; give it a default or make it nullable"
	}
	if role == "VerificationToken" {
		return "; give it a default"
	}
	return fmt.Sprintf(" (set Flavour.%s%s, and Columns.%s.%s if its name differs)", role, which, role, which)
}

// verifyDates checks the date storage of the flavour's date columns of
// one table against the database.
func (c *Catalog) verifyDates(ctx context.Context, f Flavour, t table, ct *CatalogTable, problems *[]string) error {
	for _, col := range t.cols {
		if col.kind != kindDate && col.kind != kindDateReq && col.kind != kindCreated && col.kind != kindUpdated {
			continue
		}
		cc := ct.column(col.name)
		if cc == nil {
			continue
		}
		if c.Dialect == Postgres {
			if got, ok := postgresDate(cc); !ok {
				*problems = append(*problems, fmt.Sprintf("%s.%s is %s, not a timestamp", t.role, col.name, cc.Type))
			} else if got != f.PostgresDates {
				*problems = append(*problems, fmt.Sprintf("%s.%s is %s; flavour %s writes %s (set PostgresDates)",
					t.role, col.name, got.describe(), f.Name, f.PostgresDates.describe()))
			}
			continue
		}
		if col.kind != kindDateReq { // the expires columns decide
			continue
		}
		got, desc, ok, err := c.sqliteDates(ctx, ct, col.name)
		if err != nil {
			return err
		}
		if ok && got != f.SQLiteDates {
			*problems = append(*problems, fmt.Sprintf("%s.%s holds %s in its newest row; flavour %s writes %s, which would mix two formats (set SQLiteDates)",
				t.role, col.name, desc, f.Name, f.SQLiteDates.describe()))
		}
	}
	return nil
}

// norm folds a column name for matching: lower case without underscores,
// so that sessionToken, session_token and SessionToken are one name.
func norm(name string) string {
	return strings.ReplaceAll(strings.ToLower(name), "_", "")
}
