package bench

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/postgres/pgtest"
)

// The Auth.js comparison runs on the schemas Auth.js's own adapters use:
// @auth/pg-adapter's on Postgres (flavour PgAdapter), @auth/kysely-adapter's
// on SQLite (flavour Kysely, ISO text dates), with nextsession's indexes,
// 1,000 users and 10,000 sessions, and the v5 cookie name.
func authFlavour(dbn string) adapter.Flavour {
	if dbn == "postgres" {
		return adapter.PgAdapter
	}
	return adapter.Kysely
}

type authFix struct {
	db    *DB
	token string
}

var (
	authOnce = map[string]*sync.Once{"postgres": {}, "sqlite": {}}
	authFixs = map[string]*authFix{}
	authErrs = map[string]error{}
)

func newAuthFixture(ctx context.Context, dbn string) (*authFix, error) {
	f := authFlavour(dbn)
	var d *DB
	var err error
	if dbn == "postgres" {
		d, err = OpenPostgres("bench_authjs")
	} else {
		d, err = OpenSQLite("authjs.db")
	}
	if err != nil {
		return nil, err
	}
	if err := d.CreateTables(ctx, f); err != nil {
		return nil, err
	}
	if err := d.CreateIndexes(ctx, f); err != nil {
		return nil, err
	}
	userID := "1"
	if dbn == "postgres" {
		err = d.Exec(ctx, `INSERT INTO users ("name", "email") SELECT 'User ' || i, 'user' || i || '@example.com' FROM generate_series(1, 1000) i`,
			`INSERT INTO sessions ("userId", "expires", "sessionToken") SELECT 1 + i % 1000, now() + interval '1 day' + random() * interval '28 days', gen_random_uuid()::text FROM generate_series(1, 10000) i`)
	} else {
		userID = "u1"
		iso := `strftime('%Y-%m-%dT%H:%M:%fZ', 'now', '+1 day', '+' || (abs(random()) % 2419200) || ' seconds')`
		err = d.Exec(ctx, `WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 1000)
INSERT INTO "User" ("id", "name", "email") SELECT 'u' || i, 'User ' || i, 'user' || i || '@example.com' FROM c`,
			`WITH RECURSIVE c(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM c WHERE i < 10000)
INSERT INTO "Session" ("id", "sessionToken", "userId", "expires") SELECT 's' || i, lower(hex(randomblob(16))), 'u' || (1 + i % 1000), `+iso+` FROM c`)
	}
	if err != nil {
		return nil, err
	}
	tok, err := session.NewUUIDToken()
	if err != nil {
		return nil, err
	}
	now := time.Now().UTC().Truncate(time.Millisecond)
	if _, err := Store(d.Dialect, d.X, f).CreateSession(ctx, session.Session{Token: tok, UserID: userID, Expires: now.Add(session.DefaultMaxAge), CreatedAt: now}); err != nil {
		return nil, err
	}
	return &authFix{db: d, token: tok}, d.Analyze(ctx)
}

func authFixture(tb testing.TB, dbn string) *authFix {
	needPostgres(tb, dbn)
	authOnce[dbn].Do(func() { authFixs[dbn], authErrs[dbn] = newAuthFixture(context.Background(), dbn) })
	if authErrs[dbn] != nil {
		tb.Fatal(authErrs[dbn])
	}
	return authFixs[dbn]
}

// nodeSession is a running bench/authjs/session.mjs.
type nodeSession struct {
	cmd *exec.Cmd
	in  io.WriteCloser
	out *bufio.Reader
}

var (
	nodeMu    sync.Mutex
	nodeProcs = map[string]*nodeSession{}
)

// interopDir returns ../interop when its node_modules are installed and
// node is on PATH.
func interopDir() (string, error) {
	dir, err := filepath.Abs(filepath.Join("..", "interop"))
	if err != nil {
		return "", err
	}
	if _, err := os.Stat(filepath.Join(dir, "node_modules", "@auth", "core")); err != nil {
		return "", fmt.Errorf("interop/node_modules is not installed (npm ci --prefix interop): %v", err)
	}
	if _, err := exec.LookPath("node"); err != nil {
		return "", err
	}
	return dir, nil
}

func startNode(tb testing.TB, dbn string, f *authFix) *nodeSession {
	nodeMu.Lock()
	defer nodeMu.Unlock()
	if p := nodeProcs[dbn]; p != nil {
		return p
	}
	dir, err := interopDir()
	if err != nil {
		missing(tb, err.Error())
	}
	cfg := map[string]string{"db": dbn, "token": f.token, "dsn": f.db.Path}
	if dbn == "postgres" {
		u, err := url.Parse(pgtest.DSN())
		if err != nil {
			tb.Fatal(err)
		}
		q := u.Query()
		q.Set("options", "-c search_path="+f.db.Schema)
		u.RawQuery = q.Encode()
		cfg["dsn"] = u.String()
	}
	cmd := exec.Command("node", filepath.Join("authjs", "session.mjs"), dir)
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	out, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	p := &nodeSession{cmd: cmd, in: in, out: bufio.NewReader(out)}
	line, _ := json.Marshal(cfg)
	fmt.Fprintf(in, "%s\n", line)
	if got, err := p.out.ReadString('\n'); err != nil || got != "ready\n" {
		cmd.Process.Kill()
		cmd.Wait()
		tb.Fatalf("node session.mjs did not start: %q %v", got, err)
	}
	nodeProcs[dbn] = p
	stopNodes = func() {
		for _, p := range nodeProcs {
			fmt.Fprintln(p.in, "quit")
			p.in.Close()
			p.cmd.Wait()
		}
	}
	return p
}

// stopNodes ends the node processes (called from TestMain).
var stopNodes = func() {}

// run has node make n /session calls and returns how long they took.
func (p *nodeSession) run(n int) (time.Duration, error) {
	fmt.Fprintf(p.in, "%d\n", n)
	line, err := p.out.ReadString('\n')
	if err != nil {
		return 0, err
	}
	ns, err := strconv.ParseInt(strings.TrimSpace(line), 10, 64)
	return time.Duration(ns), err
}

// BenchmarkValidateAuthJS puts Auth.js's own GET /auth/session (in Node,
// timed in-process, one call at a time) beside nextsession's
// SessionHandler (the same JSON) and Middleware on the same schema.
// impl=authjs reports no allocations: they are Node's.
func BenchmarkValidateAuthJS(b *testing.B) {
	for _, dbn := range dbNames {
		for _, impl := range []string{"ours", "ours-json", "authjs"} {
			b.Run("db="+dbn+"/impl="+impl, func(b *testing.B) {
				f := authFixture(b, dbn)
				if impl == "authjs" {
					p := startNode(b, dbn, f)
					b.ResetTimer()
					d, err := p.run(b.N)
					if err != nil {
						b.Fatal(err)
					}
					b.ReportMetric(float64(d.Nanoseconds())/float64(b.N), "ns/op")
					return
				}
				st := Store(f.db.Dialect, f.db.X, authFlavour(dbn))
				b.Cleanup(func() { st.(interface{ Close() error }).Close() })
				m := session.NewManager(st, session.Config{CookieVersion: session.CookieV5})
				h := m.Middleware(ReadUser)
				if impl == "ours-json" {
					h = m.SessionHandler()
				}
				r := request("/api/auth/session", "authjs.session-token", f.token)
				serveOnce(b, h, r, http.StatusOK)
				b.ReportAllocs()
				for b.Loop() {
					w := httptest.NewRecorder()
					h.ServeHTTP(w, r)
					if w.Code != http.StatusOK {
						b.Fatalf("status %d", w.Code)
					}
				}
			})
		}
	}
}
