package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/adapter/adaptertest"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/postgres"
	"github.com/nextsession/nextsession/store/postgres/pgtest"
)

// cacheEnv is one database with the cache trigger installed, on which
// instances (each its own pool, store and listener, as separate processes
// would have) are started.
type cacheEnv struct {
	schema string
	f      adapter.Flavour
	db     *sqlx.DB // a direct handle, for SQL from outside
	st     *postgres.Store
}

func newCacheEnv(t *testing.T, name string, f adapter.Flavour) *cacheEnv {
	t.Helper()
	schema := "nextsession_cache_" + name
	db := pgtest.Open(t, schema)
	st := postgres.New(db, f)
	t.Cleanup(func() { st.Close() })
	ctx := context.Background()
	if err := st.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if err := st.InstallCacheTrigger(ctx, schema); err != nil {
		t.Fatal(err)
	}
	return &cacheEnv{schema: schema, f: f, db: db, st: st}
}

// instance is one application instance with a cached store.
type instance struct {
	st *postgres.CachedStore
	m  *session.Manager
}

func (e *cacheEnv) config() postgres.CacheConfig {
	return postgres.CacheConfig{
		ListenDSN: pgtest.WithSchema(pgtest.DSN(), e.schema),
		Channel:   e.schema,
	}
}

// instance starts an instance on its own pool; cfg changes e.config().
func (e *cacheEnv) instance(t *testing.T, change func(*postgres.CacheConfig)) *instance {
	t.Helper()
	db, err := sqlx.Open("postgres", pgtest.WithSchema(pgtest.DSN(), e.schema))
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(4)
	t.Cleanup(func() { db.Close() })
	st := postgres.New(db, e.f)
	t.Cleanup(func() { st.Close() })
	cfg := e.config()
	if change != nil {
		change(&cfg)
	}
	cs, err := postgres.NewCache(context.Background(), st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	if !cs.Live() {
		t.Fatalf("NewCache returned a cache that is not live: %+v", cs.Stats())
	}
	return &instance{st: cs, m: session.NewManager(cs, session.Config{})}
}

func waitLive(t *testing.T, cs *postgres.CachedStore) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); !cs.Live(); {
		if time.Now().After(deadline) {
			t.Fatalf("the cache did not become live: %+v", cs.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// login creates a user and a session through in, and returns the cookie
// token and the user.
func (e *cacheEnv) login(t *testing.T, in *instance, email string) (string, session.User) {
	t.Helper()
	ctx := context.Background()
	u, err := in.st.CreateUser(ctx, session.User{Email: email, Name: "Name of " + email})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	s, err := in.m.Create(ctx, w, httptest.NewRequest("POST", "/login", nil), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	return s.Token, u
}

// eventually waits up to the bound and a margin for ok to hold.
func eventually(t *testing.T, what string, ok func() bool) {
	t.Helper()
	for deadline := time.Now().Add(2 * time.Second); !ok(); {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within 2 s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func accepted(t *testing.T, in *instance, token string) (session.Result, bool) {
	t.Helper()
	res, err := in.m.Validate(context.Background(), token)
	if errors.Is(err, session.ErrNoSession) {
		return res, false
	}
	if err != nil {
		t.Fatal(err)
	}
	return res, true
}

// TestCacheInvalidation: a second validation is answered from memory, and
// every kind of change, by this instance, another one, or plain SQL,
// reaches the cache of every instance.
func TestCacheInvalidation(t *testing.T) {
	for _, f := range []adapter.Flavour{adapter.Prisma, adapter.PgAdapter, adapter.Drizzle} {
		t.Run(f.Name, func(t *testing.T) {
			e := newCacheEnv(t, strings.ReplaceAll(f.Name, "-", "_")+"_inv", f)
			a, b := e.instance(t, nil), e.instance(t, nil)
			ctx := context.Background()
			S, U := adapter.Quote(f.Tables.Session), adapter.Quote(f.Tables.User)

			warm := func(t *testing.T, token string) {
				t.Helper()
				for _, in := range []*instance{a, b} {
					before := in.st.Stats().Hits
					// A heartbeat late past the bound on a loaded machine
					// bypasses the cache for a while: wait it out.
					for try := 0; in.st.Stats().Hits <= before; try++ {
						if try == 10 {
							t.Fatalf("no validation was a hit: %+v", in.st.Stats())
						}
						waitLive(t, in.st)
						if _, ok := accepted(t, in, token); !ok {
							t.Fatal("a fresh session is refused")
						}
					}
				}
			}
			refusedByAll := func(t *testing.T, what, token string) {
				t.Helper()
				for i, in := range []*instance{a, b} {
					eventually(t, fmt.Sprintf("%s seen by instance %d", what, i), func() bool {
						_, ok := accepted(t, in, token)
						return !ok
					})
				}
			}

			t.Run("revoke_on_other_instance", func(t *testing.T) {
				tok, _ := e.login(t, a, "r1@example.com")
				warm(t, tok)
				if err := b.m.Revoke(ctx, tok); err != nil {
					t.Fatal(err)
				}
				// The revoking instance evicts at once, without waiting for the notification.
				if _, ok := accepted(t, b, tok); ok {
					t.Fatal("the revoking instance still accepts the session")
				}
				refusedByAll(t, "Revoke", tok)
			})
			t.Run("sql_delete", func(t *testing.T) {
				tok, _ := e.login(t, a, "r2@example.com")
				warm(t, tok)
				if _, err := e.db.Exec(`DELETE FROM `+S+` WHERE "sessionToken" = $1`, tok); err != nil {
					t.Fatal(err)
				}
				refusedByAll(t, "DELETE", tok)
			})
			t.Run("sql_expire", func(t *testing.T) {
				tok, _ := e.login(t, a, "r3@example.com")
				warm(t, tok)
				if _, err := e.db.Exec(`UPDATE `+S+` SET "expires" = '2001-01-01' WHERE "sessionToken" = $1`, tok); err != nil {
					t.Fatal(err)
				}
				refusedByAll(t, "UPDATE expires", tok)
			})
			t.Run("revoke_user", func(t *testing.T) {
				tok, u := e.login(t, a, "r4@example.com")
				warm(t, tok)
				if n, err := a.m.RevokeUser(ctx, u.ID); err != nil || n != 1 {
					t.Fatalf("RevokeUser = %d, %v", n, err)
				}
				refusedByAll(t, "RevokeUser", tok)
			})
			t.Run("user_update", func(t *testing.T) {
				tok, u := e.login(t, a, "r5@example.com")
				warm(t, tok)
				if _, err := e.db.Exec(`UPDATE `+U+` SET "email" = 'new@example.com' WHERE "id" = $1`, u.ID); err != nil {
					t.Fatal(err)
				}
				for i, in := range []*instance{a, b} {
					eventually(t, fmt.Sprintf("new email seen by instance %d", i), func() bool {
						res, ok := accepted(t, in, tok)
						return ok && res.User.Email == "new@example.com"
					})
				}
			})
			t.Run("user_delete", func(t *testing.T) {
				tok, u := e.login(t, a, "r6@example.com")
				warm(t, tok)
				if err := e.st.DeleteUser(ctx, u.ID); err != nil { // not through the cache
					t.Fatal(err)
				}
				refusedByAll(t, "DeleteUser", tok)
			})
			t.Run("truncate", func(t *testing.T) {
				tok, _ := e.login(t, a, "r7@example.com")
				warm(t, tok)
				flushes := b.st.Stats().Flushes
				if _, err := e.db.Exec(`TRUNCATE ` + S); err != nil {
					t.Fatal(err)
				}
				refusedByAll(t, "TRUNCATE", tok)
				if b.st.Stats().Flushes == flushes {
					t.Error("TRUNCATE did not empty the other instance's cache")
				}
			})
			t.Run("mass_delete", func(t *testing.T) {
				tok, u := e.login(t, a, "r10@example.com")
				warm(t, tok)
				// 1,000 more sessions of the user, then one DELETE of all.
				var cols, vals string
				if f.SessionID && f.IDs != adapter.IDSerial {
					cols, vals = `"id", `, `'m' || g::text, `
				}
				if _, err := e.db.Exec(`INSERT INTO `+S+` (`+cols+`"sessionToken", "userId", "expires") SELECT `+vals+
					`'mass-' || g::text, $1, now() + interval '1 day' FROM generate_series(1, 1000) g`, u.ID); err != nil {
					t.Fatal(err)
				}
				flushes := b.st.Stats().Flushes
				if _, err := e.db.Exec(`DELETE FROM `+S+` WHERE "userId" = $1`, u.ID); err != nil {
					t.Fatal(err)
				}
				refusedByAll(t, "DELETE of 1,001 sessions", tok)
				if b.st.Stats().Flushes == flushes {
					t.Error("a DELETE of more than 1,000 sessions did not empty the other instance's cache")
				}
			})
			t.Run("unchanged_columns_keep_entries", func(t *testing.T) {
				tok, u := e.login(t, a, "r8@example.com")
				warm(t, tok)
				ev := b.st.Stats().Evictions
				// A write that changes nothing a cached entry holds sends nothing.
				if _, err := e.db.Exec(`UPDATE `+U+` SET "email" = "email" WHERE "id" = $1`, u.ID); err != nil {
					t.Fatal(err)
				}
				tok2, _ := e.login(t, a, "r9@example.com") // its notification-free insert comes after
				warm(t, tok2)
				if n := b.st.Stats().Evictions; n != ev {
					t.Errorf("%d evictions for writes that changed nothing cached", n-ev)
				}
			})
		})
	}
}

// TestCacheDocsSQL: the SQL that docs/cache.md prints for migrations is
// the SQL InstallCacheTrigger runs.
func TestCacheDocsSQL(t *testing.T) {
	doc, err := os.ReadFile(filepath.Join("..", "..", "docs", "cache.md"))
	if err != nil {
		t.Fatal(err)
	}
	db, err := sqlx.Open("postgres", pgtest.DSN()) // not connected
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q, err := postgres.New(db, adapter.Prisma).CacheTriggerSQL("")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(doc), "```sql\n"+q+"```") {
		t.Errorf("docs/cache.md does not print the Prisma flavour's trigger SQL; it is:\n%s", q)
	}
}

// TestCacheConformance runs the shared adapter suite on a CachedStore: the
// cache keeps every promise of session.Adapter, reads after its own writes
// included.
func TestCacheConformance(t *testing.T) {
	for _, f := range []adapter.Flavour{adapter.Prisma, adapter.PgAdapter, adapter.Drizzle} {
		t.Run(f.Name, func(t *testing.T) {
			e := newCacheEnv(t, strings.ReplaceAll(f.Name, "-", "_")+"_conf", f)
			in := e.instance(t, nil)
			tb := f.Tables
			truncate := `TRUNCATE ` + strings.Join([]string{adapter.Quote(tb.Session), adapter.Quote(tb.Account),
				adapter.Quote(tb.VerificationToken), adapter.Quote(tb.User)}, ", ") + ` RESTART IDENTITY CASCADE`
			adaptertest.Run(t, adaptertest.Config{
				Flavour: f,
				New: func(t *testing.T) session.Adapter {
					if _, err := e.db.Exec(truncate); err != nil {
						t.Fatal(err)
					}
					// The TRUNCATE's notification empties the cache.
					if err := in.st.Sync(context.Background()); err != nil {
						t.Fatal(err)
					}
					return readTwice{in.st}
				},
			})
			if in.st.Stats().Hits == 0 {
				t.Error("the suite never hit the cache")
			}
		})
	}
}

// readTwice reads every session twice and answers the second read, a hit
// whenever the first was cached: the suite then runs against entries that
// its later writes must evict.
type readTwice struct{ *postgres.CachedStore }

func (r readTwice) GetSessionAndUser(ctx context.Context, token string) (session.Session, session.User, error) {
	if _, _, err := r.CachedStore.GetSessionAndUser(ctx, token); err != nil && !errors.Is(err, session.ErrNotFound) {
		return session.Session{}, session.User{}, err
	}
	return r.CachedStore.GetSessionAndUser(ctx, token)
}

// TestCacheHostileTokens: tokens that cannot be stored are not found, and
// cached nothing; the cache stays usable.
func TestCacheHostileTokens(t *testing.T) {
	e := newCacheEnv(t, "hostile", adapter.Prisma)
	in := e.instance(t, nil)
	ctx := context.Background()
	for _, tok := range []string{"", "\x00", "\xff\xfe", "a\x00b", strings.Repeat("x", 1<<16), "' OR 1=1 --", "s:" + strings.Repeat("0", 64)} {
		if _, _, err := in.st.GetSessionAndUser(ctx, tok); !errors.Is(err, session.ErrNotFound) {
			t.Errorf("token %q: %v, want ErrNotFound", tok, err)
		}
		if err := in.st.DeleteSession(ctx, tok); err != nil {
			t.Errorf("deleting token %q: %v", tok, err)
		}
	}
	if n := in.st.Stats().Entries; n != 0 {
		t.Errorf("%d entries after hostile tokens", n)
	}
	tok, _ := e.login(t, in, "after@example.com")
	for range 2 {
		if _, ok := accepted(t, in, tok); !ok {
			t.Fatal("a real session is refused after hostile tokens")
		}
	}
}

// TestCacheNextAuthRules: on a hit the Manager still applies NextAuth's
// rules: a session due for its sliding update is written to the database
// (and the entry evicted, so the next read takes the new row), and an
// expired one is refused and deleted, whatever the cache holds.
func TestCacheNextAuthRules(t *testing.T) {
	e := newCacheEnv(t, "rules", adapter.Prisma)
	in := e.instance(t, nil)
	ctx := context.Background()
	start := time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)
	now := start
	m := session.NewManager(in.st, session.Config{Now: func() time.Time { return now }, UpdateAge: time.Hour})
	u, err := in.st.CreateUser(ctx, session.User{Email: "rules@example.com"})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	s, err := m.Create(ctx, w, httptest.NewRequest("POST", "/login", nil), u.ID)
	if err != nil {
		t.Fatal(err)
	}
	cookie := w.Result().Cookies()[0].Value
	rowExpires := func() time.Time {
		var exp time.Time
		if err := e.db.Get(&exp, `SELECT "expires" FROM "Session" WHERE "sessionToken" = $1`, s.Token); err != nil {
			t.Fatal(err)
		}
		return exp.UTC()
	}
	validate := func() (session.Result, error) { return m.Validate(ctx, cookie) }
	waitLive(t, in.st)
	for range 2 {
		if _, err := validate(); err != nil {
			t.Fatal(err)
		}
	}
	hits := in.st.Stats().Hits
	if hits == 0 {
		t.Fatal("no hit")
	}

	now = start.Add(2 * time.Hour) // due for update
	waitLive(t, in.st)
	res, err := validate()
	if err != nil {
		t.Fatal(err)
	}
	want := now.Add(session.DefaultMaxAge)
	if !res.Session.Expires.Equal(want) || !rowExpires().Equal(want) {
		t.Fatalf("after a due hit: result expires %v, row %v; want %v", res.Session.Expires, rowExpires(), want)
	}
	if in.st.Stats().Hits <= hits {
		t.Error("the due validation was not answered from the cache before its update")
	}
	res, err = validate() // the entry was evicted: this read takes the new row
	if err != nil || !res.ReadExpires.Equal(want) {
		t.Fatalf("after the update: read expires %v (%v), want %v", res.ReadExpires, err, want)
	}

	now = want.Add(time.Millisecond) // expired, while still cached
	if _, err := validate(); !errors.Is(err, session.ErrNoSession) {
		t.Fatalf("an expired cached session: %v, want ErrNoSession", err)
	}
	var n int
	e.db.Get(&n, `SELECT count(*) FROM "Session" WHERE "sessionToken" = $1`, s.Token)
	if n != 0 {
		t.Error("the expired session's row was not deleted")
	}
}

// TestCacheMappedSchema: on snake_case columns in a schema named by the
// flavour (not the search_path), the trigger watches the mapped columns of
// the qualified tables.
func TestCacheMappedSchema(t *testing.T) {
	schema := "nextsession_cache_mapped"
	f := adapter.Prisma
	f.Name = "prisma-snake"
	f.Naming = adapter.SnakeCase
	f.Tables = adapter.Tables{User: "users", Account: "accounts", Session: "sessions", VerificationToken: "verification_tokens"}
	f.TableSchema = schema
	e := &cacheEnv{schema: schema, f: f}
	e.db = pgtest.Open(t, schema) // creates the schema
	// The store's and the listener's connections keep the default
	// search_path: only the flavour names the schema.
	plain, err := sqlx.Open("postgres", pgtest.DSN())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { plain.Close() })
	e.st = postgres.New(plain, f)
	ctx := context.Background()
	if err := e.st.CreateSchema(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.st.InstallCacheTrigger(ctx, schema); err != nil {
		t.Fatal(err)
	}
	q, _ := e.st.CacheTriggerSQL(schema)
	if !strings.Contains(q, `"`+schema+`"."sessions_nextsession_notify"`) || !strings.Contains(q, `"session_token"`) {
		t.Fatalf("the trigger SQL does not use the qualified, mapped names:\n%s", q)
	}
	cs, err := postgres.NewCache(ctx, e.st, postgres.CacheConfig{ListenDSN: pgtest.DSN(), Channel: schema})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	in := &instance{st: cs, m: session.NewManager(cs, session.Config{})}
	S, U := f.QuoteTable("sessions"), f.QuoteTable("users")
	tok, u := e.login(t, in, "mapped@example.com")
	for range 2 {
		if _, ok := accepted(t, in, tok); !ok {
			t.Fatal("a fresh session is refused")
		}
	}
	if _, err := e.db.Exec(`UPDATE `+U+` SET "email" = 'moved@example.com' WHERE "id" = $1`, u.ID); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the new email", func() bool {
		res, ok := accepted(t, in, tok)
		return ok && res.User.Email == "moved@example.com"
	})
	if _, err := e.db.Exec(`DELETE FROM `+S+` WHERE "session_token" = $1`, tok); err != nil {
		t.Fatal(err)
	}
	eventually(t, "the deletion", func() bool {
		_, ok := accepted(t, in, tok)
		return !ok
	})
}

// A cached store is NextAuth's tables as much as the store it wraps:
// HashTokens without GoOnly panics on it too, so that a cache never hides
// sessions that NextAuth could not read.
func TestCacheHashTokensNeedGoOnly(t *testing.T) {
	e := newCacheEnv(t, "hashtokens", adapter.Prisma)
	in := e.instance(t, nil)
	defer func() {
		if recover() == nil {
			t.Error("NewManager with HashTokens on a CachedStore did not panic")
		}
	}()
	session.NewManager(in.st, session.Config{HashTokens: true})
}
