package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"golang.org/x/crypto/bcrypt"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/postgres"
	"github.com/nextsession/nextsession/store/sqlite"
)

// store is what both stores offer: a session.Adapter that can create its
// tables and lends its database to the example's own credential table.
type store interface {
	session.Adapter
	CreateSchema(ctx context.Context) error
	DB() *sqlx.DB
	Close() error
}

// openStore opens Postgres when databaseURL is set, else the SQLite file,
// for tables of flavour f. A flavour without a name is read from the
// database (see detectFlavour). from says where the flavour came from.
func openStore(ctx context.Context, databaseURL, sqlitePath string, f adapter.Flavour) (st store, _ adapter.Flavour, from string, err error) {
	from = "from -flavour"
	if f.Name == "" {
		if f, from, err = detectFlavour(ctx, databaseURL, sqlitePath); err != nil {
			return nil, f, from, err
		}
	}
	if f.Device == (adapter.DeviceColumns{}) {
		// The example's own schema records the device of each sign-in.
		f.Device = adapter.DeviceColumns{UserAgent: "userAgent", IP: "ip"}
	}
	if databaseURL == "" {
		st, err = sqlite.Open(sqlitePath, f)
	} else {
		st, err = postgres.Open(databaseURL, f)
	}
	return st, f, from, err
}

// detectFlavour reads the flavour of the NextAuth tables a database already
// has; a new database, or one without NextAuth's tables, gets Prisma's
// (the tables are then created). A database whose tables NextAuth could
// not have made is an error that names what is missing.
func detectFlavour(ctx context.Context, databaseURL, sqlitePath string) (f adapter.Flavour, from string, err error) {
	const fresh = "a new database: NextAuth's Prisma schema"
	if databaseURL == "" {
		if _, statErr := os.Stat(sqlitePath); errors.Is(statErr, fs.ErrNotExist) {
			return adapter.Prisma, fresh, nil // nothing to read, and no file made here
		}
		db, openErr := sqlx.Open("sqlite3", sqlite.DSN(sqlitePath))
		if openErr != nil {
			return f, "", openErr
		}
		defer db.Close()
		f, err = sqlite.Detect(ctx, db)
	} else {
		db, openErr := sqlx.Open("postgres", databaseURL)
		if openErr != nil {
			return f, "", openErr
		}
		defer db.Close()
		f, err = postgres.Detect(ctx, db)
	}
	switch {
	case errors.Is(err, adapter.ErrNotNextAuth):
		return adapter.Prisma, fresh, nil
	case errors.Is(err, adapter.ErrDatesUnknown):
		// Tables without rows: write dates as the flavour does by default.
		return f, "found in the database; no rows to tell its dates by", nil
	case err != nil:
		return f, "", fmt.Errorf("reading the schema (choose one with -flavour): %w", err)
	}
	return f, "found in the database", nil
}

// closeStore closes the store and the database it opened.
func closeStore(st store) error {
	return st.Close()
}

// addDeviceColumns adds the flavour's device columns to a Session table
// made before they existed (CreateSchema adds them to a new one). They are
// nullable text, which NextAuth ignores.
func addDeviceColumns(ctx context.Context, db *sqlx.DB, d adapter.Dialect, f adapter.Flavour) error {
	// The catalog, not a trial SELECT: SQLite reads a double-quoted name
	// that is no column as a string.
	cat, err := adapter.ReadCatalog(ctx, db.DB, d, f.TableSchema)
	if err != nil {
		return err
	}
	schema := f.TableSchema
	if schema == "" {
		schema = cat.CurrentSchema
	}
	have := map[string]bool{}
	for _, t := range cat.Tables {
		if t.Name == f.Tables.Session && t.Schema == schema {
			for _, c := range t.Columns {
				have[c.Name] = true
			}
			break
		}
	}
	S := f.QuoteTable(f.Tables.Session)
	for _, c := range []string{f.Device.UserAgent, f.Device.IP} {
		if c == "" || have[c] {
			continue
		}
		if _, err := db.ExecContext(ctx, `ALTER TABLE `+S+` ADD COLUMN `+adapter.Quote(c)+` TEXT`); err != nil {
			return err
		}
	}
	return nil
}

// credentialTable holds what NextAuth's tables have no room for: a
// password hash and an admin flag per user. It is the example's own table;
// NextAuth never reads it.
const credentialTable = `"AdminCredential"`

func credentialSchema(f adapter.Flavour) string {
	idType := "TEXT"
	switch f.IDs {
	case adapter.IDSerial:
		idType = "INTEGER"
	case adapter.IDPostgresUUID:
		idType = "UUID"
	}
	return fmt.Sprintf(`CREATE TABLE IF NOT EXISTS %s (
  "userId" %s NOT NULL PRIMARY KEY REFERENCES %s (%s) ON DELETE CASCADE,
  "passwordHash" TEXT NOT NULL,
  "isAdmin" BOOLEAN NOT NULL DEFAULT FALSE
)`, credentialTable, idType, f.QuoteTable(f.Tables.User), adapter.Quote(f.Names().User.ID))
}

// credential is a user's row of the credential table.
type credential struct {
	PasswordHash string `db:"passwordHash"`
	IsAdmin      bool   `db:"isAdmin"`
}

// errNoCredential means the user has no password: they cannot sign in here.
var errNoCredential = errors.New("admin: no credential")

func getCredential(ctx context.Context, db *sqlx.DB, userID string) (credential, error) {
	var c credential
	err := db.GetContext(ctx, &c, db.Rebind(`SELECT "passwordHash", "isAdmin" FROM `+credentialTable+` WHERE "userId" = ?`), userID)
	if errors.Is(err, sql.ErrNoRows) {
		return c, errNoCredential
	}
	return c, err
}

// credentialByEmail finds the user with the email and their credential;
// errNoCredential means there is no such user or they have no password.
func credentialByEmail(ctx context.Context, st store, email string) (userID string, c credential, err error) {
	u, err := st.GetUserByEmail(ctx, email)
	if errors.Is(err, session.ErrNotFound) {
		return "", c, errNoCredential
	}
	if err != nil {
		return "", c, err
	}
	c, err = getCredential(ctx, st.DB(), u.ID)
	return u.ID, c, err
}

func isAdmin(ctx context.Context, db *sqlx.DB, userID string) (bool, error) {
	c, err := getCredential(ctx, db, userID)
	if errors.Is(err, errNoCredential) {
		return false, nil
	}
	return c.IsAdmin, err
}

func putCredential(ctx context.Context, db *sqlx.DB, userID, password string, isAdmin bool, cost int) error {
	hash, err := bcrypt.GenerateFromPassword([]byte(password), cost)
	if err != nil {
		return err
	}
	_, err = db.ExecContext(ctx, db.Rebind(`INSERT INTO `+credentialTable+` ("userId", "passwordHash", "isAdmin") VALUES (?, ?, ?)
ON CONFLICT ("userId") DO UPDATE SET "passwordHash" = excluded."passwordHash", "isAdmin" = excluded."isAdmin"`),
		userID, string(hash), isAdmin)
	return err
}

// demoUser is a seeded account whose sign-in details main prints.
type demoUser struct {
	Name, Email, Password string
	Admin                 bool
}

var demoUsers = []demoUser{
	{"Ada Admin", "admin@example.com", "admin-password", true},
	{"Alice", "alice@example.com", "alice-password", false},
	{"Bob", "bob@example.com", "bob-password", false},
}

// seed creates the demo users that do not exist yet, with their passwords.
// A demo user who already has a credential is left alone.
func seed(ctx context.Context, st store, users []demoUser, cost int) error {
	for _, d := range users {
		u, err := st.GetUserByEmail(ctx, d.Email)
		if errors.Is(err, session.ErrNotFound) {
			u, err = st.CreateUser(ctx, session.User{Name: d.Name, Email: d.Email})
		}
		if err != nil {
			return fmt.Errorf("seeding %s: %w", d.Email, err)
		}
		if _, err := getCredential(ctx, st.DB(), u.ID); !errors.Is(err, errNoCredential) {
			if err != nil {
				return fmt.Errorf("seeding %s: %w", d.Email, err)
			}
			continue
		}
		if err := putCredential(ctx, st.DB(), u.ID, d.Password, d.Admin, cost); err != nil {
			return fmt.Errorf("seeding %s: %w", d.Email, err)
		}
	}
	return nil
}

// normalizeEmail is how emails are compared at sign-in.
func normalizeEmail(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// demoDevices are the User-Agents and addresses of the demo sessions.
var demoDevices = []struct{ ua, ip string }{
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36", "203.0.113.24"},
	{"Mozilla/5.0 (iPhone; CPU iPhone OS 18_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Mobile/15E148 Safari/604.1", "198.51.100.7"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:133.0) Gecko/20100101 Firefox/133.0", "192.0.2.113"},
	{"Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36 Edg/131.0.0.0", "2001:db8::4a"},
	{"Mozilla/5.0 (Linux; Android 15; Pixel 9) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Mobile Safari/537.36", "198.51.100.201"},
	{"Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/18.1 Safari/605.1.15", "203.0.113.90"},
}

var demoNames = []string{"Grace", "Linus", "Margaret", "Ken", "Barbara", "Dennis", "Frances", "Edsger", "Radia", "Niklaus"}

// seedSessions adds n demo sessions, ten per demo user, signed in over the
// last 30 days on various devices, so that the dashboard has pages, a
// search and charts to show. It is for trying the dashboard out.
func seedSessions(ctx context.Context, st store, n int) error {
	now := time.Now().UTC().Truncate(time.Millisecond)
	rng := rand.New(rand.NewPCG(1, uint64(now.UnixNano())))
	// run tells this seeding's emails from an earlier one's.
	run := strconv.FormatInt(now.UnixMilli()%(36*36*36), 36)
	var u session.User
	for i := range n {
		if i%10 == 0 {
			name := demoNames[(i/10)%len(demoNames)]
			var err error
			u, err = st.CreateUser(ctx, session.User{
				Name:  fmt.Sprintf("%s %d", name, i/10),
				Email: fmt.Sprintf("%s%d.%s@demo.example", strings.ToLower(name), i/10, run),
			})
			if err != nil {
				return fmt.Errorf("seeding demo users: %w", err)
			}
		}
		// More sign-ins lately; each was last used some time after it.
		created := now.Add(-time.Duration(rng.ExpFloat64() * float64(6*24*time.Hour)))
		if created.Before(now.Add(-29 * 24 * time.Hour)) {
			created = now.Add(-time.Duration(rng.Int64N(int64(29 * 24 * time.Hour))))
		}
		used := created.Add(time.Duration(rng.Int64N(int64(now.Sub(created)) + 1)))
		d := demoDevices[rng.IntN(len(demoDevices))]
		token, err := session.NewUUIDToken()
		if err != nil {
			return err
		}
		if _, err := st.CreateSession(ctx, session.Session{
			Token: token, UserID: u.ID, CreatedAt: created, Expires: used.Add(maxAge).Truncate(time.Millisecond),
			UserAgent: d.ua, IP: d.ip,
		}); err != nil {
			return fmt.Errorf("seeding demo sessions: %w", err)
		}
	}
	return nil
}
