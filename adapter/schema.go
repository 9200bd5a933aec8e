package adapter

import (
	"fmt"
	"strings"
)

// Schema returns the statements that create the flavour's four tables on
// the dialect, as the flavour's own tooling (Prisma migrate, the Auth.js
// docs, Drizzle) would, with IF NOT EXISTS so that running them on an
// existing database changes nothing. It does not include Indexes.
func (f Flavour) Schema(d Dialect) ([]string, error) {
	if err := f.Check(d); err != nil {
		return nil, err
	}
	t := f.Tables
	id := f.idColumn(d)
	ref := "TEXT"
	if f.IDs == IDSerial {
		ref = "INTEGER"
	}
	date := f.dateType(d)
	cascade := func(name string) string {
		if f.IDs == IDSerial { // pg-adapter declares no foreign keys
			return ""
		}
		return fmt.Sprintf(",\n  CONSTRAINT %s FOREIGN KEY (\"userId\") REFERENCES %s (\"id\") ON DELETE CASCADE ON UPDATE CASCADE",
			Quote(name+"_userId_fkey"), Quote(t.User))
	}

	var stmts []string
	add := func(format string, args ...any) { stmts = append(stmts, fmt.Sprintf(format, args...)) }

	add(`CREATE TABLE IF NOT EXISTS %s (
  "id" %s,
  "name" TEXT,
  "email" TEXT,
  "emailVerified" %s,
  "image" TEXT
)`, Quote(t.User), id, date)
	add(`CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s ("email")`, Quote(t.User+"_email_key"), Quote(t.User))

	accountKey := ""
	accountID := ""
	if f.AccountID {
		accountID = fmt.Sprintf(`"id" %s,
  `, id)
	} else {
		accountKey = `,
  PRIMARY KEY ("provider", "providerAccountId")`
	}
	add(`CREATE TABLE IF NOT EXISTS %s (
  %s"userId" %s NOT NULL,
  "type" TEXT NOT NULL,
  "provider" TEXT NOT NULL,
  "providerAccountId" TEXT NOT NULL,
  "refresh_token" TEXT,
  "access_token" TEXT,
  "expires_at" BIGINT,
  "token_type" TEXT,
  "scope" TEXT,
  "id_token" TEXT,
  "session_state" TEXT%s%s
)`, Quote(t.Account), accountID, ref, accountKey, cascade(t.Account))
	if f.AccountID {
		add(`CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s ("provider", "providerAccountId")`,
			Quote(t.Account+"_provider_providerAccountId_key"), Quote(t.Account))
	}

	var cols []string
	if f.SessionID {
		cols = append(cols, `"id" `+id, `"sessionToken" TEXT NOT NULL`)
	} else {
		cols = append(cols, `"sessionToken" TEXT NOT NULL PRIMARY KEY`)
	}
	cols = append(cols, `"userId" `+ref+` NOT NULL`, `"expires" `+date+` NOT NULL`)
	if f.SessionCreatedAt {
		cols = append(cols, `"createdAt" `+date+` NOT NULL DEFAULT CURRENT_TIMESTAMP`)
	}
	for _, c := range []string{f.Device.UserAgent, f.Device.IP} {
		if c != "" {
			cols = append(cols, Quote(c)+" TEXT")
		}
	}
	add("CREATE TABLE IF NOT EXISTS %s (\n  %s%s\n)", Quote(t.Session), strings.Join(cols, ",\n  "), cascade(t.Session))
	if f.SessionID {
		add(`CREATE UNIQUE INDEX IF NOT EXISTS %s ON %s ("sessionToken")`, Quote(t.Session+"_sessionToken_key"), Quote(t.Session))
	}

	add(`CREATE TABLE IF NOT EXISTS %s (
  "identifier" TEXT NOT NULL,
  "token" TEXT NOT NULL,
  "expires" %s NOT NULL,
  PRIMARY KEY ("identifier", "token")
)`, Quote(t.VerificationToken), date)
	return stmts, nil
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
	s := f.Tables.Session
	return []string{
		fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s ("expires")`, Quote(s+"_expires_idx"), Quote(s)),
		fmt.Sprintf(`CREATE INDEX IF NOT EXISTS %s ON %s ("userId", "expires")`, Quote(s+"_userId_expires_idx"), Quote(s)),
	}, nil
}

func (f Flavour) idColumn(d Dialect) string {
	if f.IDs == IDSerial {
		return "SERIAL PRIMARY KEY"
	}
	return "TEXT NOT NULL PRIMARY KEY"
}

func (f Flavour) dateType(d Dialect) string {
	if d == SQLite {
		if f.SQLiteDates == DateMillis {
			if f.IDs == IDCUID {
				// Prisma's classic engine declares DATETIME and stores integers.
				return "DATETIME"
			}
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
