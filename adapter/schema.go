package adapter

import (
	"fmt"
	"strings"
)

// Schema returns the statements that create the flavour's four tables on
// the dialect, as the flavour's own tooling (Prisma migrate, the Auth.js
// docs, Drizzle) would, with IF NOT EXISTS so that running them on an
// existing database changes nothing: quoted names, "User_pkey"-style
// constraint names, TIMESTAMP(3) for Prisma on Postgres and DATETIME on
// SQLite. A flavour with a TableSchema starts with CREATE SCHEMA. It does
// not include Indexes.
func (f Flavour) Schema(d Dialect) ([]string, error) {
	if err := f.Check(d); err != nil {
		return nil, err
	}
	var stmts []string
	add := func(format string, args ...any) { stmts = append(stmts, fmt.Sprintf(format, args...)) }
	if f.TableSchema != "" {
		add("CREATE SCHEMA IF NOT EXISTS %s", Quote(f.TableSchema))
	}
	tables := f.tableColumns()
	userTable, userID := tables[0].name, tables[0].cols[0].name
	n := f.Names()
	for _, t := range tables {
		var lines []string
		var key []string // the primary key's columns, when not inline
		for _, c := range t.cols {
			line := Quote(c.name) + " " + f.columnType(d, c.kind)
			if c.kind == kindID {
				if d == SQLite {
					line += " PRIMARY KEY"
				} else {
					key = []string{c.name}
				}
			}
			lines = append(lines, line)
		}
		var unique [][]string // unique indexes
		switch t.role {
		case "User":
			unique = append(unique, []string{n.User.Email})
		case "Account":
			pair := []string{n.Account.Provider, n.Account.ProviderAccountID}
			if f.AccountID {
				unique = append(unique, pair)
			} else {
				key = pair
			}
		case "Session":
			switch {
			case f.SessionID:
				unique = append(unique, []string{n.Session.SessionToken})
			case f.IDs == IDCUID: // Prisma: sessionToken @unique and no @id
				unique = append(unique, []string{n.Session.SessionToken})
			default:
				key = []string{n.Session.SessionToken}
			}
		case "VerificationToken":
			key = []string{n.VerificationToken.Identifier, n.VerificationToken.Token}
		}
		if key != nil {
			if d == SQLite && len(key) > 1 {
				lines = append(lines, "PRIMARY KEY ("+quoteList(key)+")")
			} else if d == SQLite {
				for i, c := range t.cols {
					if c.name == key[0] {
						lines[i] += " PRIMARY KEY"
					}
				}
			} else {
				lines = append(lines, fmt.Sprintf("CONSTRAINT %s PRIMARY KEY (%s)", Quote(t.name+"_pkey"), quoteList(key)))
			}
		}
		if (t.role == "Account" || t.role == "Session") && f.IDs != IDSerial { // pg-adapter declares no foreign keys
			ref := t.cols[0].name
			for _, c := range t.cols {
				if c.kind == kindUserRef {
					ref = c.name
				}
			}
			lines = append(lines, fmt.Sprintf("CONSTRAINT %s FOREIGN KEY (%s) REFERENCES %s (%s) ON DELETE CASCADE ON UPDATE CASCADE",
				Quote(t.name+"_"+ref+"_fkey"), Quote(ref), f.QuoteTable(userTable), Quote(userID)))
		}
		add("CREATE TABLE IF NOT EXISTS %s (\n  %s\n)", f.QuoteTable(t.name), strings.Join(lines, ",\n  "))
		for _, u := range unique {
			add("CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s (%s)", Quote(t.name+"_"+strings.Join(u, "_")+"_key"), f.QuoteTable(t.name), quoteList(u))
		}
	}
	return stmts, nil
}

func quoteList(names []string) string {
	q := make([]string, len(names))
	for i, n := range names {
		q[i] = Quote(n)
	}
	return strings.Join(q, ", ")
}

// Indexes returns the statements that create the indexes NextAuth's
// schemas lack: on Session.expires, which makes CountActive an index-only
// range scan and lets the sweeper find expired rows, and on Session.userId,
// which makes listing and revoking one user's sessions fast. Everything
// works without them.
func (f Flavour) Indexes(d Dialect) ([]string, error) {
	if err := f.Check(d); err != nil {
		return nil, err
	}
	s, c := f.Tables.Session, f.Names().Session
	return []string{
		fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s (%s)`, Quote(s+"_expires_idx"), f.QuoteTable(s), Quote(c.Expires)),
		fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s (%s, %s)`, Quote(s+"_userId_expires_idx"), f.QuoteTable(s), Quote(c.UserID), Quote(c.Expires)),
	}, nil
}

// columnType is the declared type of a column of the kind.
func (f Flavour) columnType(d Dialect, k colKind) string {
	date := f.dateType(d)
	switch k {
	case kindID:
		switch {
		case f.IDs == IDSerial:
			return "SERIAL"
		case f.IDs == IDPostgresUUID:
			return "UUID NOT NULL DEFAULT gen_random_uuid()"
		}
		return "TEXT NOT NULL"
	case kindUserRef:
		switch f.IDs {
		case IDSerial:
			return "INTEGER NOT NULL"
		case IDPostgresUUID:
			return "UUID" // as Supabase's schema has it
		}
		return "TEXT NOT NULL"
	case kindText:
		return "TEXT"
	case kindKey:
		return "TEXT NOT NULL"
	case kindDate:
		return date
	case kindDateReq, kindUpdated:
		return date + " NOT NULL"
	case kindCreated:
		return date + " NOT NULL DEFAULT CURRENT_TIMESTAMP"
	case kindBigint:
		return "BIGINT"
	}
	panic("adapter: unknown column kind")
}

func (f Flavour) dateType(d Dialect) string {
	if d == SQLite {
		switch {
		case f.IDs == IDCUID:
			// Prisma declares DATETIME, and stores integers (classic
			// engine) or ISO text (Prisma 7 driver adapters) in it.
			return "DATETIME"
		case f.SQLiteDates == DateMillis:
			return "INTEGER" // Drizzle's integer(..., {mode: "timestamp_ms"})
		}
		return "TEXT"
	}
	switch f.PostgresDates {
	case Timestamp3:
		return "TIMESTAMP(3)"
	case Timestamp:
		return "TIMESTAMP"
	}
	return "TIMESTAMPTZ"
}
