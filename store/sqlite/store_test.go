package sqlite_test

import (
	"context"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/internal/sqlstore"
	"github.com/nextsession/nextsession/store/postgres"
	"github.com/nextsession/nextsession/store/sqlite"
)

// Both public store types forward every exported method of the shared
// implementation, so that go doc shows each and none is lost when the
// implementation grows one. (Both are checked here: this needs no
// database.)
func TestStoresForwardEveryMethod(t *testing.T) {
	inner := reflect.TypeFor[*sqlstore.Store]()
	for _, outer := range []reflect.Type{reflect.TypeFor[*sqlite.Store](), reflect.TypeFor[*postgres.Store]()} {
		for m := range inner.Methods() {
			got, ok := outer.MethodByName(m.Name)
			if !ok {
				t.Errorf("%s has no method %s", outer, m.Name)
				continue
			}
			if got.Type.NumIn() != m.Type.NumIn() || got.Type.NumOut() != m.Type.NumOut() {
				t.Errorf("%s.%s has another signature than the implementation's", outer, m.Name)
			}
		}
	}
}

// A store closes the database it opened, and not one it was given.
func TestCloseOwnership(t *testing.T) {
	path := filepath.Join(t.TempDir(), "own.db")
	opened, err := sqlite.Open(path, adapter.Prisma)
	if err != nil {
		t.Fatal(err)
	}
	if err := opened.Close(); err != nil {
		t.Fatal(err)
	}
	if err := opened.DB().Ping(); err == nil || !strings.Contains(err.Error(), "closed") {
		t.Errorf("after Close of an opened store, Ping = %v, want the database closed", err)
	}

	db, err := sqlx.Open("sqlite3", sqlite.DSN(path))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	given := sqlite.New(db, adapter.Prisma)
	if err := given.Close(); err != nil {
		t.Fatal(err)
	}
	if err := db.Ping(); err != nil {
		t.Errorf("after Close of a store on a given database, Ping = %v, want it open", err)
	}
}

// Errors carry the package's name, never an internal one.
func TestErrorPrefix(t *testing.T) {
	if _, err := sqlite.Open(filepath.Join(t.TempDir(), "x.db"), adapter.PgAdapter); err == nil || !strings.HasPrefix(err.Error(), "sqlite: ") {
		t.Errorf("Open with a Postgres-only flavour: %v, want an error prefixed sqlite:", err)
	}
	if _, err := sqlite.Open(filepath.Join(t.TempDir(), "no-such-dir", "x.db"), adapter.Prisma); err == nil || !strings.HasPrefix(err.Error(), "sqlite: ") {
		t.Errorf("Open in a missing directory: %v, want an error prefixed sqlite:", err)
	}
	st, err := sqlite.Open(filepath.Join(t.TempDir(), "x.db"), adapter.Prisma)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	ctx := context.Background()
	if err := st.Verify(ctx); err == nil || !strings.HasPrefix(err.Error(), "sqlite: ") {
		t.Errorf("Verify without tables: %v, want an error prefixed sqlite:", err)
	}
	if err := st.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = st.GetUser(ctx, "nobody")
	if !errors.Is(err, session.ErrNotFound) || !strings.HasPrefix(err.Error(), "sqlite: ") {
		t.Errorf("GetUser of nobody: %v, want ErrNotFound prefixed sqlite:", err)
	}
	_, err = st.CreateSession(ctx, session.Session{Token: "t", UserID: "nobody"})
	if !errors.Is(err, session.ErrUnknownUser) || !strings.HasPrefix(err.Error(), "sqlite: ") {
		t.Errorf("CreateSession for nobody: %v, want ErrUnknownUser prefixed sqlite:", err)
	}
	func() {
		defer func() {
			if p, _ := recover().(string); !strings.HasPrefix(p, "sqlite: ") {
				t.Errorf("New with a Postgres-only flavour: panic %q, want it prefixed sqlite:", p)
			}
		}()
		sqlite.New(st.DB(), adapter.PgAdapter)
	}()
}

// Open with a zero Flavour reads the flavour from the file: a Drizzle
// database with rows is found as Drizzle; a missing file is
// ErrNotNextAuth and is not created.
func TestOpenDetects(t *testing.T) {
	path := filepath.Join(t.TempDir(), "app.db")
	if _, err := sqlite.Open(path, adapter.Flavour{}); !errors.Is(err, adapter.ErrNotNextAuth) {
		t.Fatalf("Open(zero flavour) of a missing file: %v, want ErrNotNextAuth", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("Open(zero flavour) made the file: %v", err)
	}
	ctx := context.Background()
	st, err := sqlite.Open(path, adapter.Drizzle)
	if err != nil {
		t.Fatal(err)
	}
	if err := st.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	u, err := st.CreateUser(ctx, session.User{Email: "detect@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	m := session.NewManager(st, session.Config{})
	token, _, err := m.Start(ctx, u.ID, session.Device{})
	if err != nil {
		t.Fatal(err)
	}
	st.Close()

	st, err = sqlite.Open(path, adapter.Flavour{})
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	if got := st.Flavour(); got.Name != adapter.Drizzle.Name || got.SQLiteDates != adapter.DateMillis {
		t.Fatalf("Open(zero flavour) found %q with dates %v, want drizzle with Unix ms", got.Name, got.SQLiteDates)
	}
	if res, err := session.NewManager(st, session.Config{}).Validate(ctx, token); err != nil || res.User.Email != u.Email {
		t.Fatalf("Validate after detection: %+v, %v", res.User, err)
	}
}
