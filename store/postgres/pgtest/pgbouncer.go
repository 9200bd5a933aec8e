package pgtest

import (
	"bytes"
	"database/sql"
	"fmt"
	"net"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/lib/pq"
)

// PgBouncer is a PgBouncer process started by StartPgBouncer in front of
// the test server.
type PgBouncer struct {
	addr    string
	user    string
	mode    string
	version string
}

// Pool modes of PgBouncer.
const (
	TransactionMode = "transaction"
	SessionMode     = "session"
)

// PoolSize is the number of server connections the PgBouncer of
// StartPgBouncer keeps per database: fewer than the clients of the
// concurrency tests, so that their statements share server connections.
const PoolSize = 4

// StartPgBouncer starts PgBouncer (the pgbouncer program on PATH) on a free
// loopback port in pool mode mode, with one database per schema: the
// database named like the schema is the test server's database with its
// search_path set to the schema. PgBouncer refuses search_path as a
// startup parameter, and its reset query (DISCARD ALL) would undo a SET,
// so the pooler logs in as a role of the schema's name whose default
// search_path is the schema and which has the privileges of the DSN's
// user; the role is dropped when the test ends. The schemas must exist
// (see Open). The process is stopped when the test ends. Without the
// program the test is skipped, and fails under CI=true.
func StartPgBouncer(tb testing.TB, mode string, schemas ...string) *PgBouncer {
	tb.Helper()
	bin, err := exec.LookPath("pgbouncer")
	if err != nil {
		// Debian installs it in /usr/sbin, which a user's PATH may lack.
		bin, err = exec.LookPath("/usr/sbin/pgbouncer")
	}
	if err != nil {
		msg := "pgtest: pgbouncer is not installed (apt-get install pgbouncer)"
		if os.Getenv("CI") == "true" {
			tb.Fatal(msg)
		}
		tb.Skip(msg)
	}
	cfg, err := pq.NewConfig(DSN())
	if err != nil {
		tb.Fatalf("pgtest: %v", err)
	}
	user := cfg.User
	if user == "" {
		user = "postgres"
	}
	dir := tb.TempDir()
	var dbs strings.Builder
	for _, s := range schemas {
		role := serverRole(tb, user, s)
		fmt.Fprintf(&dbs, "%s = host=%s port=%d dbname=%s user=%s\n", s, cfg.Host, cfg.Port, cfg.Database, role)
	}
	var out bytes.Buffer
	var cmd *exec.Cmd
	var exited chan struct{}
	var port int
	// A free port can be taken between asking and binding: try a few.
	for attempt := 0; ; attempt++ {
		port = freePort(tb)
		ini := fmt.Sprintf(`[databases]
%s
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = %s
default_pool_size = %d
max_client_conn = 500
ignore_startup_parameters = extra_float_digits
`, dbs.String(), port, filepath.Join(dir, "userlist.txt"), mode, PoolSize)
		write(tb, filepath.Join(dir, "pgbouncer.ini"), ini)
		write(tb, filepath.Join(dir, "userlist.txt"), fmt.Sprintf("%q \"\"\n", user))
		args := []string{filepath.Join(dir, "pgbouncer.ini")}
		if os.Geteuid() == 0 {
			// PgBouncer refuses to run as root; it reads its files first.
			args = append([]string{"-u", "nobody"}, args...)
		}
		out.Reset()
		cmd = exec.Command(bin, args...)
		cmd.Stdout, cmd.Stderr = &syncWriter{w: &out}, &syncWriter{w: &out}
		if err := cmd.Start(); err != nil {
			tb.Fatalf("pgtest: starting pgbouncer: %v", err)
		}
		exited = make(chan struct{})
		go func(cmd *exec.Cmd, exited chan struct{}) {
			cmd.Wait()
			close(exited)
		}(cmd, exited)
		if waitListening(net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), exited) {
			break
		}
		cmd.Process.Kill()
		<-exited
		if attempt == 4 {
			tb.Fatalf("pgtest: pgbouncer did not start:\n%s", out.String())
		}
	}
	tb.Cleanup(func() {
		cmd.Process.Signal(os.Interrupt)
		select {
		case <-exited:
		case <-time.After(5 * time.Second):
			cmd.Process.Kill()
			<-exited
		}
	})
	version := ""
	if v, err := exec.Command(bin, "--version").Output(); err == nil {
		version = strings.TrimPrefix(strings.SplitN(string(v), "\n", 2)[0], "PgBouncer ")
	}
	return &PgBouncer{addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), user: user, mode: mode, version: version}
}

// DSN returns the URL of schema's database through the pooler.
func (b *PgBouncer) DSN(schema string) string {
	u := url.URL{Scheme: "postgres", User: url.User(b.user), Host: b.addr, Path: "/" + schema, RawQuery: "sslmode=disable"}
	return u.String()
}

// Addr is the pooler's "host:port".
func (b *PgBouncer) Addr() string { return b.addr }

// Mode is the pool mode it was started in.
func (b *PgBouncer) Mode() string { return b.mode }

// Version is the PgBouncer version, as "1.18.0".
func (b *PgBouncer) Version() string { return b.version }

func write(tb testing.TB, path, s string) {
	tb.Helper()
	// Readable by the user PgBouncer switches to.
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		tb.Fatal(err)
	}
}

func freePort(tb testing.TB) int {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// waitListening waits until addr accepts connections, or the process ends.
func waitListening(addr string, exited <-chan struct{}) bool {
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if c, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
			c.Close()
			return true
		}
		select {
		case <-exited:
			return false
		case <-time.After(20 * time.Millisecond):
		}
	}
	return false
}

// syncWriter serialises the writes of the process's two output streams.
type syncWriter struct {
	mu sync.Mutex
	w  *bytes.Buffer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

// serverRole creates the login role that PgBouncer uses for schema: a
// member of user, with search_path set to the schema.
func serverRole(tb testing.TB, user, schema string) string {
	tb.Helper()
	if !schemaName.MatchString(schema) {
		tb.Fatalf("pgtest: bad schema name %q", schema)
	}
	admin, err := sql.Open("postgres", DSN())
	if err != nil {
		tb.Fatal(err)
	}
	defer admin.Close()
	role := schema
	drop := []string{`DROP OWNED BY "` + role + `"`, `DROP ROLE "` + role + `"`}
	if exists(admin, role) {
		for _, q := range drop {
			admin.Exec(q)
		}
	}
	for _, q := range []string{
		`CREATE ROLE "` + role + `" LOGIN`,
		`GRANT "` + user + `" TO "` + role + `"`,
		`ALTER ROLE "` + role + `" SET search_path TO "` + schema + `"`,
	} {
		if _, err := admin.Exec(q); err != nil {
			tb.Fatalf("pgtest: %s: %v", q, err)
		}
	}
	tb.Cleanup(func() {
		a, err := sql.Open("postgres", DSN())
		if err != nil {
			return
		}
		defer a.Close()
		// Connections through the pooler may still be closing.
		a.Exec(`SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = $1`, role)
		for _, q := range drop {
			a.Exec(q)
		}
	})
	return role
}

func exists(db *sql.DB, role string) bool {
	var n int
	return db.QueryRow(`SELECT count(*) FROM pg_roles WHERE rolname = $1`, role).Scan(&n) == nil && n > 0
}
