package postgres_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/postgres"
	"github.com/nextsession/nextsession/store/postgres/pgtest"
)

// TestCacheRefusesPooler: a ListenDSN through a transaction pooler, where
// LISTEN cannot work, is refused with a clear error; through a pooler in
// session mode, which keeps one server connection per client, the cache
// works.
func TestCacheRefusesPooler(t *testing.T) {
	e := newCacheEnv(t, "pooler", adapter.Prisma)
	for _, mode := range []string{pgtest.TransactionMode, pgtest.SessionMode} {
		t.Run(mode, func(t *testing.T) {
			dsn := pgtest.StartPgBouncer(t, mode, e.schema).DSN(e.schema)
			// The store's own pool goes through the pooler too, as a
			// deployment on a pooled URL would (in pooler mode behind the
			// transaction pooler).
			storeDSN := dsn
			if mode == pgtest.TransactionMode {
				storeDSN += "&pgbouncer=true"
			}
			st, err := postgres.Open(storeDSN, adapter.Prisma)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { st.Close() })
			cfg := e.config()
			cfg.ListenDSN = dsn // nothing in it says pooler: the probe finds out
			cs, err := postgres.NewCache(context.Background(), st, cfg)
			if mode == pgtest.TransactionMode {
				if err == nil {
					cs.Close()
					t.Fatal("NewCache accepted a listener behind a transaction pooler")
				}
				if !errors.Is(err, postgres.ErrCacheListener) || !strings.Contains(err.Error(), "transaction pooler") {
					t.Fatalf("error %q; want ErrCacheListener naming the transaction pooler", err)
				}
				t.Log(err)
				// A DSN that names a pooler is refused before connecting.
				cfg.ListenDSN = storeDSN
				if _, err := postgres.NewCache(context.Background(), st, cfg); !errors.Is(err, postgres.ErrCacheListener) || !strings.Contains(err.Error(), "pooler") {
					t.Fatalf("ListenDSN with pgbouncer=true: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cs.Close() })
			tok, _ := e.login(t, &instance{st: cs, m: session.NewManager(cs, session.Config{})}, "pooled@example.com")
			if _, _, err := cs.GetSessionAndUser(context.Background(), tok); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// TestCacheTrigger: installing twice is the same as once, NewCache
// refuses a database without the trigger or with another channel's, the
// SQL printed for migrations is what is installed, and removal leaves no
// trace.
func TestCacheTrigger(t *testing.T) {
	e := newCacheEnv(t, "trigger", adapter.PgAdapter)
	ctx := context.Background()
	count := func() (n int) {
		t.Helper()
		// This schema's only: other tests install triggers in theirs.
		if err := e.db.Get(&n, `SELECT count(*) FROM pg_trigger g JOIN pg_class c ON c.oid = g.tgrelid
 JOIN pg_namespace s ON s.oid = c.relnamespace WHERE g.tgname LIKE 'nextsession_notify%' AND s.nspname = $1`, e.schema); err != nil {
			t.Fatal(err)
		}
		return n
	}
	if err := e.st.InstallCacheTrigger(ctx, e.schema); err != nil {
		t.Fatal("installing again:", err)
	}
	if n := count(); n != 6 {
		t.Fatalf("%d triggers, want 6 (3 on each table)", n)
	}
	e.instance(t, nil)

	cfg := e.config()
	cfg.Channel = "another_channel"
	if _, err := postgres.NewCache(ctx, e.st, cfg); !errors.Is(err, postgres.ErrCacheListener) || !strings.Contains(err.Error(), "another_channel") {
		t.Errorf("NewCache on another channel's trigger: %v", err)
	}
	for _, ch := range []string{"Upper", "semi;colon", "quote'd", `dq"`, "", strings.Repeat("a", 64), "é"} {
		if ch == "" {
			continue // the default channel
		}
		if err := e.st.InstallCacheTrigger(ctx, ch); err == nil {
			t.Errorf("channel %q accepted", ch)
		}
		if _, err := e.st.CacheTriggerSQL(ch); err == nil {
			t.Errorf("CacheTriggerSQL accepted channel %q", ch)
		}
	}
	cfg = e.config()
	cfg.ListenDSN = ""
	if _, err := postgres.NewCache(ctx, e.st, cfg); !errors.Is(err, postgres.ErrCacheListener) {
		t.Errorf("NewCache without ListenDSN: %v", err)
	}

	// A running cache notices the removal, and stops answering from memory.
	running := e.instance(t, func(c *postgres.CacheConfig) { c.Bound = 100 * time.Millisecond })
	if err := e.st.RemoveCacheTrigger(ctx); err != nil {
		t.Fatal(err)
	}
	if err := e.st.RemoveCacheTrigger(ctx); err != nil {
		t.Fatal("removing again:", err)
	}
	eventually(t, "the running cache noticing the removal", func() bool { return !running.st.Live() })
	if n := count(); n != 0 {
		t.Fatalf("%d triggers left", n)
	}
	var fns int
	e.db.Get(&fns, `SELECT count(*) FROM pg_proc p JOIN pg_namespace s ON s.oid = p.pronamespace
 WHERE p.proname LIKE '%nextsession_notify' AND s.nspname = $1`, e.schema)
	if fns != 0 {
		t.Fatalf("%d functions left", fns)
	}
	if _, err := postgres.NewCache(ctx, e.st, e.config()); !errors.Is(err, postgres.ErrCacheListener) || !strings.Contains(err.Error(), "missing") {
		t.Errorf("NewCache without the trigger: %v", err)
	}

	// The printed SQL, run as a migration would, is what NewCache expects.
	q, err := e.st.CacheTriggerSQL(e.schema)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.db.Exec(q); err != nil {
		t.Fatal(err)
	}
	e.instance(t, nil)
	waitLive(t, running.st) // and the running one takes it back
}
