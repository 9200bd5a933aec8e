package adapter

import (
	"errors"
	"fmt"
	"strings"
)

// Dialect is a SQL database family.
type Dialect int

const (
	// Postgres is PostgreSQL.
	Postgres Dialect = iota
	// SQLite is SQLite 3.35 or later.
	SQLite
)

// String returns the dialect's name: postgres or sqlite.
func (d Dialect) String() string {
	switch d {
	case Postgres:
		return "postgres"
	case SQLite:
		return "sqlite"
	}
	return fmt.Sprintf("Dialect(%d)", int(d))
}

// IDKind says how a flavour's primary keys are made.
type IDKind int

const (
	// IDCUID is text holding a cuid, made by the client (Prisma).
	IDCUID IDKind = iota
	// IDUUID is text holding a UUID, made by the client (Kysely, Drizzle).
	IDUUID
	// IDSerial is an integer made by the database (Auth.js pg-adapter).
	IDSerial
	// IDPostgresUUID is a Postgres uuid column (Supabase), made by the
	// client. An id that is not a UUID names no row. Postgres only.
	IDPostgresUUID
)

// DateFormat says how a flavour stores dates on SQLite, which has no date
// type. Whatever it writes, a store reads both integers and ISO text.
type DateFormat int

const (
	// DateMillis is an integer of Unix milliseconds (Prisma's classic
	// engine, Drizzle's timestamp_ms).
	DateMillis DateFormat = iota
	// DateISO is text as JavaScript's toISOString writes it:
	// 2025-01-01T00:00:00.000Z (Kysely).
	DateISO
	// DateISOOffset is ISO text with a numeric offset:
	// 2025-01-01T00:00:00.000+00:00 (Prisma 7 driver adapters).
	DateISOOffset
)

// PostgresDate is the column type a flavour gives dates on Postgres.
type PostgresDate int

const (
	// Timestamp3 is TIMESTAMP(3) without time zone, holding UTC (Prisma).
	Timestamp3 PostgresDate = iota
	// Timestamp is timestamp without time zone, holding UTC (Drizzle).
	Timestamp
	// TimestampTZ is timestamptz (pg-adapter, Kysely).
	TimestampTZ
)

// Tables names a flavour's four tables, as they are spelled in the
// database (they are quoted, so case matters).
type Tables struct {
	User              string
	Account           string
	Session           string
	VerificationToken string
}

// Flavour describes the shape of one NextAuth schema: its table and
// column names, how its ids are made, which optional columns it has and
// how it stores dates.
//
// A Flavour is a plain value: copy one of the predefined flavours and
// change what differs. Tables renames tables, TableSchema puts them in a
// Postgres schema, Naming renames every column at once (SnakeCase for
// Prisma's @map("user_id") or Drizzle's casing: "snake_case"), and Columns
// renames single columns:
//
//	f := adapter.Prisma
//	f.Name = "app"
//	f.Tables = adapter.Tables{User: "users", Account: "accounts", Session: "sessions", VerificationToken: "verification_tokens"}
//	f.Naming = adapter.SnakeCase                  // sessionToken -> session_token, ...
//	f.Columns.Session.Expires = "expires_at"       // one column named otherwise
type Flavour struct {
	// Name identifies the flavour in messages and Lookup.
	Name   string
	Tables Tables
	// TableSchema is the Postgres schema that holds the tables
	// (next_auth for Supabase); empty means the connection's search_path.
	TableSchema string
	// Naming is how column names are spelled where Columns leaves them
	// empty: as Auth.js spells them (the zero value) or in snake_case.
	Naming Naming
	// Columns names single columns; an empty name is the column's name
	// under Naming. Resolved names are in Flavour.Names.
	Columns Columns
	IDs     IDKind
	// SessionID is true when Session has an id column; otherwise the
	// sessionToken is the key (Drizzle).
	SessionID bool
	// AccountID is true when Account has an id column.
	AccountID bool
	// SessionCreatedAt is true when Session has a createdAt column.
	SessionCreatedAt bool
	// SessionUpdatedAt, UserCreatedAt, UserUpdatedAt, AccountCreatedAt
	// and AccountUpdatedAt say which tables have Prisma-style createdAt
	// and updatedAt columns (today's Auth.js docs put both on User,
	// Account and Session). The store writes the time of every insert
	// into createdAt and updatedAt, and of every update into updatedAt,
	// as Prisma's @default(now()) and @updatedAt do, so that a NOT NULL
	// column without a default is always filled.
	SessionUpdatedAt bool
	UserCreatedAt    bool
	UserUpdatedAt    bool
	AccountCreatedAt bool
	AccountUpdatedAt bool
	// PostgresDates is the date column type on Postgres.
	PostgresDates PostgresDate
	// SQLiteDates is how dates are written on SQLite.
	SQLiteDates DateFormat
	// PostgresOnly is true for flavours that exist only on Postgres.
	PostgresOnly bool
	// Device names optional Session columns for what a sign-in came
	// from; none of the predefined flavours has them.
	Device DeviceColumns
}

// DeviceColumns names the text columns of Session that hold a session's
// device metadata, for schemas that add them (for example `userAgent
// String?` and `ip String?` in a Prisma model). An empty name is a column
// the schema lacks. NextAuth ignores such columns.
type DeviceColumns struct {
	UserAgent string
	IP        string
}

var (
	// Prisma is the schema of @auth/prisma-adapter (and the seed app):
	// tables "User", "Account", "Session", "VerificationToken", cuid ids,
	// Session.createdAt, TIMESTAMP(3) on Postgres, Unix milliseconds on
	// SQLite. Use PrismaISO for a Prisma 7 driver-adapter database.
	Prisma = Flavour{
		Name:             "prisma",
		Tables:           Tables{"User", "Account", "Session", "VerificationToken"},
		IDs:              IDCUID,
		SessionID:        true,
		AccountID:        true,
		SessionCreatedAt: true,
		PostgresDates:    Timestamp3,
		SQLiteDates:      DateMillis,
	}
	// PrismaISO is Prisma on SQLite through a Prisma 7 driver adapter,
	// which writes dates as ISO text with a +00:00 offset.
	PrismaISO = withDates(Prisma, "prisma-iso", DateISOOffset)
	// PgAdapter is the schema of @auth/pg-adapter: tables users, accounts,
	// sessions, verification_token, SERIAL ids, timestamptz. Postgres only.
	PgAdapter = Flavour{
		Name:          "pg-adapter",
		Tables:        Tables{"users", "accounts", "sessions", "verification_token"},
		IDs:           IDSerial,
		SessionID:     true,
		AccountID:     true,
		PostgresDates: TimestampTZ,
		PostgresOnly:  true,
	}
	// Kysely is the schema of @auth/kysely-adapter: Prisma's table names,
	// UUID text ids, timestamptz on Postgres, ISO text on SQLite.
	Kysely = Flavour{
		Name:          "kysely",
		Tables:        Tables{"User", "Account", "Session", "VerificationToken"},
		IDs:           IDUUID,
		SessionID:     true,
		AccountID:     true,
		PostgresDates: TimestampTZ,
		SQLiteDates:   DateISO,
	}
	// Drizzle is the schema of @auth/drizzle-adapter's default tables:
	// user, account, session, verificationToken; Session keyed by
	// sessionToken, Account by (provider, providerAccountId); UUID text
	// ids; timestamp on Postgres, Unix milliseconds on SQLite.
	Drizzle = Flavour{
		Name:          "drizzle",
		Tables:        Tables{"user", "account", "session", "verificationToken"},
		IDs:           IDUUID,
		PostgresDates: Timestamp,
		SQLiteDates:   DateMillis,
	}
)

var (
	// PrismaDocs is the Prisma schema of today's Auth.js documentation
	// (the PostgreSQL models of authjs.dev's Prisma adapter page): Prisma's
	// table names, cuid ids, no Session id (sessionToken is unique), no
	// Account id (keyed by provider and providerAccountId), and createdAt
	// and updatedAt on User, Account and Session, updatedAt NOT NULL
	// without a default. TIMESTAMP(3) on Postgres; on SQLite the ISO text
	// of Prisma 7's driver adapters.
	PrismaDocs = Flavour{
		Name:             "prisma-docs",
		Tables:           Prisma.Tables,
		IDs:              IDCUID,
		SessionCreatedAt: true,
		SessionUpdatedAt: true,
		UserCreatedAt:    true,
		UserUpdatedAt:    true,
		AccountCreatedAt: true,
		AccountUpdatedAt: true,
		PostgresDates:    Timestamp3,
		SQLiteDates:      DateISOOffset,
	}
	// Supabase is the schema of @auth/supabase-adapter: tables users,
	// accounts, sessions, verification_tokens in the next_auth schema,
	// uuid ids, timestamptz. Postgres only.
	Supabase = Flavour{
		Name:          "supabase",
		TableSchema:   "next_auth",
		Tables:        Tables{"users", "accounts", "sessions", "verification_tokens"},
		IDs:           IDPostgresUUID,
		SessionID:     true,
		AccountID:     true,
		PostgresDates: TimestampTZ,
		PostgresOnly:  true,
	}
)

func withDates(f Flavour, name string, d DateFormat) Flavour {
	f.Name = name
	f.SQLiteDates = d
	return f
}

// Flavours lists the predefined flavours.
func Flavours() []Flavour {
	return []Flavour{Prisma, PrismaISO, PrismaDocs, PgAdapter, Kysely, Drizzle, Supabase}
}

// ErrUnknownFlavour is returned by Lookup for a name no flavour has.
var ErrUnknownFlavour = errors.New("adapter: unknown flavour")

// Lookup returns the predefined flavour with the name.
func Lookup(name string) (Flavour, error) {
	var names []string
	for _, f := range Flavours() {
		if strings.EqualFold(f.Name, name) {
			return f, nil
		}
		names = append(names, f.Name)
	}
	return Flavour{}, fmt.Errorf("%w %q (have %s)", ErrUnknownFlavour, name, strings.Join(names, ", "))
}

// Check reports whether the flavour can be used on the dialect.
func (f Flavour) Check(d Dialect) error {
	if f.Name == "" {
		return fmt.Errorf("adapter: flavour has no name (use one of adapter.Prisma, adapter.PgAdapter, adapter.Kysely, adapter.Drizzle)")
	}
	t := f.Tables
	if t.User == "" || t.Account == "" || t.Session == "" || t.VerificationToken == "" {
		return fmt.Errorf("adapter: flavour %s: a table name is empty", f.Name)
	}
	if d == SQLite && (f.PostgresOnly || f.IDs == IDSerial || f.IDs == IDPostgresUUID) {
		return fmt.Errorf("adapter: flavour %s exists only on Postgres", f.Name)
	}
	if d == SQLite && f.TableSchema != "" {
		return fmt.Errorf("adapter: flavour %s: TableSchema %q is for Postgres; SQLite has no schemas", f.Name, f.TableSchema)
	}
	if err := f.checkNames(); err != nil {
		return err
	}
	if d != Postgres && d != SQLite {
		return fmt.Errorf("adapter: unknown dialect %v", d)
	}
	return nil
}

// checkNames reports two columns of one table spelled the same, which
// would make every statement on it ambiguous.
func (f Flavour) checkNames() error {
	for _, t := range f.tableColumns() {
		seen := map[string]string{}
		for _, c := range t.cols {
			if other, ok := seen[c.name]; ok {
				return fmt.Errorf("adapter: flavour %s: %s has two columns named %q (%s and %s)", f.Name, t.role, c.name, other, c.role)
			}
			seen[c.name] = c.role
		}
	}
	return nil
}

// Quote quotes a table or column name for SQL, doubling any quote in it.
func Quote(name string) string {
	return `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
}
