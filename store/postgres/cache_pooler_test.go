package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/store/postgres"
	"github.com/nextsession/nextsession/store/postgres/pgtest"
)

// startPgbouncer runs a PgBouncer in the given pool mode in front of the
// test server until the test ends, and returns the test DSN pointed at it.
// Without pgbouncer the test skips, and fails under CI=true.
func startPgbouncer(t *testing.T, mode, schema string) string {
	t.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		for _, p := range []string{"/usr/sbin/pgbouncer", "/usr/local/bin/pgbouncer"} {
			if _, e := os.Stat(p); e == nil {
				bin, err = p, nil
			}
		}
	}
	if err != nil {
		msg := "pgbouncer is not installed (apt-get install pgbouncer) to test the cache behind a pooler"
		if os.Getenv("CI") == "true" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	u, err := url.Parse(pgtest.DSN())
	if err != nil || u.Host == "" {
		t.Fatalf("the pooler test needs a postgres:// URL, have %q", pgtest.DSN())
	}
	user := u.User.Username()
	host, port := u.Hostname(), u.Port()
	if port == "" {
		port = "5432"
	}
	db := strings.TrimPrefix(u.Path, "/")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	lport := ln.Addr().(*net.TCPAddr).Port
	ln.Close()
	// PgBouncer refuses to run as root; it then runs as nobody, who must
	// read the files.
	dir, err := os.MkdirTemp("", "pgbouncer")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	os.Chmod(dir, 0o755)
	users := filepath.Join(dir, "users.txt")
	ini := filepath.Join(dir, "pgbouncer.ini")
	os.WriteFile(users, []byte(fmt.Sprintf("%q \"\"\n", user)), 0o644)
	os.WriteFile(ini, []byte(fmt.Sprintf(`[databases]
%s = host=%s port=%s dbname=%s connect_query='SET search_path TO %s'
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
auth_type = trust
auth_file = %s
pool_mode = %s
unix_socket_dir =
ignore_startup_parameters = extra_float_digits,search_path
`, db, host, port, db, schema, lport, users, mode)), 0o644)
	args := []string{ini}
	if os.Geteuid() == 0 {
		args = []string{"-u", "nobody", ini}
	}
	cmd := exec.Command(bin, args...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		cmd.Process.Kill()
		cmd.Wait()
	})
	addr := fmt.Sprintf("127.0.0.1:%d", lport)
	for deadline := time.Now().Add(5 * time.Second); ; {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("pgbouncer did not start: %s", out.String())
		}
		time.Sleep(20 * time.Millisecond)
	}
	u.Host = addr
	return u.String()
}

// TestCacheRefusesPooler: a ListenDSN through a transaction pooler, where
// LISTEN cannot work, is refused with a clear error; through a pooler in
// session mode, which keeps one server connection per client, the cache
// works.
func TestCacheRefusesPooler(t *testing.T) {
	e := newCacheEnv(t, "pooler", adapter.Prisma)
	for _, mode := range []string{"transaction", "session"} {
		t.Run(mode, func(t *testing.T) {
			dsn := startPgbouncer(t, mode, e.schema)
			// The store's own pool goes through the pooler too, as a
			// deployment on a pooled URL would.
			db, err := sqlx.Open("postgres", dsn)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			st := postgres.New(db, adapter.Prisma)
			cfg := e.config()
			cfg.ListenDSN = dsn
			cs, err := postgres.NewCache(context.Background(), st, cfg)
			if mode == "transaction" {
				if err == nil {
					cs.Close()
					t.Fatal("NewCache accepted a listener behind a transaction pooler")
				}
				if !errors.Is(err, postgres.ErrCacheListener) || !strings.Contains(err.Error(), "transaction pooler") {
					t.Fatalf("error %q; want ErrCacheListener naming the transaction pooler", err)
				}
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { cs.Close() })
			waitLive(t, cs)
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
		if err := e.db.Get(&n, `SELECT count(*) FROM pg_trigger WHERE tgname LIKE 'nextsession_notify%'`); err != nil {
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
	e.db.Get(&fns, `SELECT count(*) FROM pg_proc WHERE proname LIKE '%nextsession_notify'`)
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
