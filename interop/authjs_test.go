package interop

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
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

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/postgres"
	"github.com/nextsession/nextsession/store/postgres/pgtest"
	"github.com/nextsession/nextsession/store/sqlite"
)

// This file is the harness: one database shared by the two sides (env),
// the Node program (authjs), and the Go side's requests (goRead, goCreate).

const (
	secret   = "interop-secret-not-for-production"
	httpURL  = "http://localhost:3000"
	httpsURL = "https://localhost:3000"

	maxAge    = session.DefaultMaxAge
	updateAge = session.DefaultUpdateAge
)

// authjsMissing says what is missing to run the Auth.js side, or "".
func authjsMissing() string {
	if _, err := exec.LookPath("node"); err != nil {
		return "node is not installed"
	}
	for _, p := range []string{"@auth/core", "@auth/pg-adapter", "@auth/kysely-adapter", "better-sqlite3", "@edge-runtime/cookies", "cookie",
		"@auth/drizzle-adapter", "drizzle-orm", "@auth/prisma-adapter", "@prisma/client", "@prisma/adapter-pg",
		"@prisma/adapter-better-sqlite3", "prisma"} {
		if _, err := os.Stat(filepath.Join("node_modules", p, "package.json")); err != nil {
			return "interop/node_modules/" + p + " is missing"
		}
	}
	return ""
}

const installHint = ": install Node 20 and run `npm ci --prefix interop` (needs g++, make, python3) to run the Auth.js interop tests"

// TestMain runs no test when the Auth.js side is missing (outside CI), so
// that a plain `go test ./...` says so on its summary line,
// "ok .../interop [no tests to run]", rather than a bare "ok" over tests
// that all skipped. Under CI=true the tests run and fail.
func TestMain(m *testing.M) {
	flag.Parse()
	if miss := authjsMissing(); miss != "" && os.Getenv("CI") != "true" {
		fmt.Fprintln(os.Stderr, "interop: no test run: "+miss+installHint)
		flag.Set("test.run", "^$")
	}
	os.Exit(m.Run())
}

// requireAuthjs skips the test when Node or the Node packages are missing,
// and fails it instead under CI=true.
func requireAuthjs(t *testing.T) {
	t.Helper()
	if miss := authjsMissing(); miss != "" {
		if os.Getenv("CI") == "true" {
			t.Fatal(miss + installHint)
		}
		t.Skip(miss + installHint)
	}
	generatePrisma.Do(func() {
		// Prisma 7 generates its client without the network; only
		// migrate needs the schema engine, which is never run here.
		for _, db := range []string{"postgres", "sqlite"} {
			c := exec.Command("node", "node_modules/prisma/build/index.js", "generate", "--schema", "prisma/"+db+".prisma")
			c.Env = append(os.Environ(), "PRISMA_SCHEMA_ENGINE_BINARY=/bin/true", "PRISMA_HIDE_UPDATE_MESSAGE=1")
			if out, err := c.CombinedOutput(); err != nil {
				generateErr = fmt.Errorf("prisma generate --schema prisma/%s.prisma: %v\n%s", db, err, out)
				return
			}
		}
	})
	if generateErr != nil {
		t.Fatal(generateErr)
	}
}

// generatePrisma makes the Prisma clients once per test run.
var (
	generatePrisma sync.Once
	generateErr    error
)

// env is one database that both sides use: a fresh Postgres schema or a
// fresh SQLite file, with the tables of one Auth.js adapter.
type env struct {
	kind     string // "postgres" or "sqlite"
	node     string // the Auth.js adapter: pg, kysely, drizzle or prisma
	flavour  adapter.Flavour
	pgSchema string
	db       *sqlx.DB
	store    session.Adapter
	nodeDSN  string
}

// The environments, by name: the database, with the adapter after a dash
// where it is not the database's first one.
var (
	// defaultEnvs are pg-adapter on Postgres (tables from
	// schema/postgres.sql) and Kysely on SQLite (schema/sqlite.sql).
	defaultEnvs = []string{"postgres", "sqlite"}
	// mappedEnvs are @auth/drizzle-adapter on the app's own snake_case
	// tables on SQLite, and @auth/prisma-adapter (Prisma 7, driver
	// adapters) on the Prisma models of the Auth.js docs on both
	// databases; their tables are made by the flavour's Schema.
	mappedEnvs = []string{"sqlite-drizzle", "postgres-prisma", "sqlite-prisma"}
	allEnvs    = append(append([]string(nil), defaultEnvs...), mappedEnvs...)
)

// drizzleSnake is the flavour of the Drizzle tables in authjs.mjs.
var drizzleSnake = func() adapter.Flavour {
	f := adapter.Drizzle
	f.Name = "drizzle-snake"
	f.Tables = adapter.Tables{User: "users", Account: "accounts", Session: "sessions", VerificationToken: "verification_tokens"}
	f.Naming = adapter.SnakeCase
	return f
}()

// eachDB runs body on Postgres and on SQLite, in parallel subtests, each
// with its own empty database named after the test.
func eachDB(t *testing.T, body func(t *testing.T, e *env)) {
	t.Helper()
	eachEnv(t, defaultEnvs, body)
}

// eachEnv runs body in each environment named, in parallel subtests.
func eachEnv(t *testing.T, names []string, body func(t *testing.T, e *env)) {
	t.Helper()
	requireAuthjs(t)
	t.Parallel()
	for _, name := range names {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			body(t, newEnv(t, name))
		})
	}
}

func newEnv(t *testing.T, name string) *env {
	t.Helper()
	kind, node, _ := strings.Cut(name, "-")
	e := &env{kind: kind, node: node}
	var ddl []string
	switch name {
	case "postgres", "sqlite":
		b, err := os.ReadFile(filepath.Join("schema", kind+".sql"))
		if err != nil {
			t.Fatal(err)
		}
		ddl = []string{string(b)}
		e.flavour, e.node = adapter.PgAdapter, "pg"
		if kind == "sqlite" {
			e.flavour, e.node = adapter.Kysely, "kysely"
		}
	case "sqlite-drizzle":
		e.flavour = drizzleSnake
	case "postgres-prisma", "sqlite-prisma":
		e.flavour = adapter.PrismaDocs
	default:
		t.Fatalf("no environment %q", name)
	}
	if ddl == nil {
		var err error
		if ddl, err = e.flavour.Schema(map[string]adapter.Dialect{"postgres": adapter.Postgres, "sqlite": adapter.SQLite}[kind]); err != nil {
			t.Fatal(err)
		}
	}
	switch kind {
	case "postgres":
		name := "nextsession_interop_" + strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(
			strings.TrimPrefix(t.Name(), "Test")))
		name = strings.TrimSuffix(name, "_postgres")
		if len(name) > 43 {
			name = name[:43]
		}
		// The process id keeps runs from other checkouts on the same
		// server out of this schema.
		name += fmt.Sprintf("_%d", os.Getpid()%1000000)
		e.db, e.pgSchema = pgtest.Open(t, name), name
		u, err := url.Parse(pgtest.DSN())
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			t.Fatalf("the Node side needs a postgres:// URL, have %q", pgtest.DSN())
		}
		// node-postgres ignores search_path=...; it passes options on.
		q := u.Query()
		q.Set("options", "-c search_path="+name)
		u.RawQuery = q.Encode()
		e.nodeDSN = u.String()
		st := postgres.New(e.db, e.flavour)
		t.Cleanup(func() { st.Close() })
		e.store = st
	case "sqlite":
		path := filepath.Join(t.TempDir(), "auth.db")
		st, err := sqlite.Open(path, e.flavour)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			st.Close()
			st.DB().Close()
		})
		e.db, e.store, e.nodeDSN = st.DB(), st, path
	}
	for _, q := range ddl {
		if _, err := e.db.Exec(q); err != nil {
			t.Fatalf("creating the %s tables: %v", name, err)
		}
	}
	return e
}

func (e *env) sessionTable() string {
	return e.flavour.QuoteTable(e.flavour.Tables.Session)
}

// row is a session row as the database holds it.
type row struct {
	found   bool
	expires time.Time
	raw     string // the column as text: SQLite's own, Postgres's time formatted
	userID  string
}

func (e *env) row(t *testing.T, token string) row {
	t.Helper()
	n := e.flavour.Names().Session
	plus := "+" // SQLite: the column's text or integer as stored, not the driver's time for DATETIME
	if e.kind == "postgres" {
		plus = ""
	}
	q := e.db.Rebind(fmt.Sprintf(`SELECT %s%s, %s FROM %s WHERE %s = ?`,
		plus, adapter.Quote(n.Expires), adapter.Quote(n.UserID), e.sessionTable(), adapter.Quote(n.SessionToken)))
	var r row
	var err error
	if e.kind == "postgres" {
		err = e.db.QueryRow(q, token).Scan(&r.expires, &r.userID)
		r.expires = r.expires.UTC()
		r.raw = r.expires.Format(time.RFC3339Nano)
	} else {
		err = e.db.QueryRow(q, token).Scan(&r.raw, &r.userID)
		if err == nil {
			if ms, perr := strconv.ParseInt(r.raw, 10, 64); perr == nil {
				r.expires = time.UnixMilli(ms).UTC()
			} else {
				r.expires, err = time.Parse(time.RFC3339Nano, r.raw)
			}
		}
	}
	if err != nil {
		if strings.Contains(err.Error(), "no rows") {
			return row{}
		}
		t.Fatalf("reading the session row: %v", err)
	}
	r.found = true
	return r
}

// setExpires writes a row's expiry directly, as the writing side would:
// a time on Postgres; on SQLite Unix milliseconds or ISO text, as the
// flavour stores them (Date.toISOString() for Kysely).
func (e *env) setExpires(t *testing.T, token string, exp time.Time) {
	t.Helper()
	v := e.stored(exp)
	n := e.flavour.Names().Session
	res, err := e.db.Exec(e.db.Rebind(fmt.Sprintf(`UPDATE %s SET %s = ? WHERE %s = ?`,
		e.sessionTable(), adapter.Quote(n.Expires), adapter.Quote(n.SessionToken))), v, token)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("setting expires: %d rows for token %s", n, token)
	}
}

// stored is a date as the adapter writes it: a time on Postgres; on
// SQLite Unix milliseconds (Drizzle), Date.toISOString() text (Kysely) or
// ISO text with +00:00 (Prisma 7's driver adapter).
func (e *env) stored(t time.Time) any {
	if e.kind == "postgres" {
		return t.UTC()
	}
	switch e.flavour.SQLiteDates {
	case adapter.DateMillis:
		return t.UnixMilli()
	case adapter.DateISOOffset:
		return t.UTC().Format("2006-01-02T15:04:05.000+00:00")
	}
	return session.FormatISO(t)
}

func (e *env) countRows(t *testing.T) int {
	t.Helper()
	var n int
	if err := e.db.QueryRow(`SELECT count(*) FROM ` + e.sessionTable()).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// goUser creates a user from Go.
func (e *env) goUser(t *testing.T, email, name, image string) session.User {
	t.Helper()
	u, err := e.store.CreateUser(context.Background(), session.User{Email: email, Name: name, Image: image})
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func (e *env) manager(cfg session.Config) *session.Manager {
	return session.NewManager(e.store, cfg)
}

// v5 is the Go configuration that matches Auth.js's defaults.
var v5 = session.Config{CookieVersion: session.CookieV5}

// ---- the Node side ------------------------------------------------------

// authjs is one Auth.js configuration on e's database.
type authjs struct {
	e          *env
	baseURL    string
	cookieName string // "" for Auth.js's own choice
}

func (e *env) authjs() authjs { return authjs{e: e, baseURL: httpURL} }

type jsCookie struct {
	Name     string  `json:"name"`
	Value    string  `json:"value"`
	Expires  *string `json:"expires"`
	MaxAge   *int    `json:"maxAge"`
	Path     *string `json:"path"`
	Domain   *string `json:"domain"`
	HTTPOnly bool    `json:"httpOnly"`
	Secure   bool    `json:"secure"`
	SameSite *string `json:"sameSite"`
	Raw      string  `json:"raw"`
}

type jsLog struct {
	Level string `json:"level"`
	Text  string `json:"text"`
}

type signinResult struct {
	Status            int        `json:"status"`
	Location          string     `json:"location"`
	Cookies           []jsCookie `json:"cookies"`
	SessionCookieName string     `json:"sessionCookieName"`
	SessionToken      string     `json:"sessionToken"`
	UserID            string     `json:"userId"`
	Expires           string     `json:"expires"`
	Logs              []jsLog    `json:"logs"`
}

// cookieHeader is what a browser sends after the sign-in: every cookie
// the magic-link response set, the session token among them.
func (r signinResult) cookieHeader() string {
	var parts []string
	for _, c := range r.Cookies {
		if c.Value != "" {
			parts = append(parts, c.Name+"="+url.QueryEscape(c.Value))
		}
	}
	return strings.Join(parts, "; ")
}

type jsSession struct {
	User struct {
		Name  *string `json:"name"`
		Email *string `json:"email"`
		Image *string `json:"image"`
	} `json:"user"`
	Expires string `json:"expires"`
}

type sessionResult struct {
	Status  int               `json:"status"`
	Body    json.RawMessage   `json:"body"`
	Text    string            `json:"text"` // the body as sent
	Cookies []jsCookie        `json:"cookies"`
	Headers map[string]string `json:"headers"`
	Logs    []jsLog           `json:"logs"`
}

// session is the parsed body; nil for null.
func (r sessionResult) session(t *testing.T) *jsSession {
	t.Helper()
	var s *jsSession
	if err := json.Unmarshal(r.Body, &s); err != nil {
		t.Fatalf("Auth.js /session body %s: %v", r.Body, err)
	}
	return s
}

type signoutResult struct {
	Status   int        `json:"status"`
	Location string     `json:"location"`
	Cookies  []jsCookie `json:"cookies"`
	Logs     []jsLog    `json:"logs"`
}

// called reports whether Auth.js called the adapter method.
func called(logs []jsLog, method string) bool {
	for _, l := range logs {
		if strings.HasPrefix(l.Text, "adapter_"+method+" ") {
			return true
		}
	}
	return false
}

// cookie returns the Set-Cookie of that name, nil if none.
func cookie(cs []jsCookie, name string) *jsCookie {
	for i := range cs {
		if cs[i].Name == name {
			return &cs[i]
		}
	}
	return nil
}

func (a authjs) run(t *testing.T, cmd string, extra map[string]any, out any) {
	t.Helper()
	in := map[string]any{"db": a.e.kind, "adapter": a.e.node, "schema": a.e.pgSchema, "dsn": a.e.nodeDSN, "secret": secret, "baseURL": a.baseURL}
	if a.cookieName != "" {
		in["cookieName"] = a.cookieName
	}
	for k, v := range extra {
		in[k] = v
	}
	body, err := json.Marshal(in)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	c := exec.CommandContext(ctx, "node", "authjs.mjs", cmd)
	c.Stdin = bytes.NewReader(body)
	var stdout, stderr bytes.Buffer
	c.Stdout, c.Stderr = &stdout, &stderr
	runErr := c.Run()
	var failed struct {
		Error string `json:"error"`
	}
	_ = json.Unmarshal(stdout.Bytes(), &failed)
	if runErr != nil || failed.Error != "" {
		t.Fatalf("node authjs.mjs %s: %v: %s\nstderr:\n%s", cmd, runErr, failed.Error, stderr.String())
	}
	if err := json.Unmarshal(stdout.Bytes(), out); err != nil {
		t.Fatalf("node authjs.mjs %s: %v in %q", cmd, err, stdout.String())
	}
}

func (a authjs) signin(t *testing.T, email string) signinResult {
	t.Helper()
	var r signinResult
	a.run(t, "signin", map[string]any{"email": email}, &r)
	if r.SessionToken == "" || r.UserID == "" {
		t.Fatalf("Auth.js sign-in gave no session: %+v", r)
	}
	return r
}

func (a authjs) session(t *testing.T, cookieHeader string) sessionResult {
	t.Helper()
	var r sessionResult
	a.run(t, "session", map[string]any{"cookieHeader": cookieHeader}, &r)
	if r.Status != http.StatusOK {
		t.Fatalf("Auth.js /session: status %d", r.Status)
	}
	return r
}

func (a authjs) signout(t *testing.T, cookieHeader string) signoutResult {
	t.Helper()
	var r signoutResult
	a.run(t, "signout", map[string]any{"cookieHeader": cookieHeader}, &r)
	return r
}

// ---- the Go side --------------------------------------------------------

// goSaw is what a handler behind the Go middleware saw, and what the
// middleware answered.
type goSaw struct {
	ok      bool
	user    session.User
	sess    session.Session
	code    int
	cookies []*http.Cookie
}

// goRead sends one request with the Cookie header through m.Middleware.
func goRead(t *testing.T, m *session.Manager, base, cookieHeader string) goSaw {
	t.Helper()
	var saw goSaw
	h := m.Middleware(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		saw.user, saw.sess, saw.ok = session.FromContext(r.Context())
	}))
	r := httptest.NewRequest(http.MethodGet, base+"/", nil)
	if cookieHeader != "" {
		r.Header.Set("Cookie", cookieHeader)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, r)
	saw.code = w.Code
	saw.cookies = w.Result().Cookies()
	if saw.code != http.StatusOK {
		t.Fatalf("Go middleware answered %d: %s", w.Code, w.Body)
	}
	return saw
}

// goBody is Go's SessionHandler's answer to the Cookie header, parsed.
func goBody(t *testing.T, m *session.Manager, base, cookieHeader string) (s *jsSession, raw string) {
	t.Helper()
	r := httptest.NewRequest(http.MethodGet, base+"/api/auth/session", nil)
	r.Header.Set("Cookie", cookieHeader)
	w := httptest.NewRecorder()
	m.SessionHandler().ServeHTTP(w, r)
	if err := json.Unmarshal(w.Body.Bytes(), &s); err != nil {
		t.Fatalf("Go SessionHandler body %q: %v", w.Body, err)
	}
	return s, w.Body.String()
}

// goCreate signs the user in from Go and returns the session and the
// session cookie it set.
func goCreate(t *testing.T, m *session.Manager, base, userID string) (session.Session, *http.Cookie) {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, base+"/login", nil)
	w := httptest.NewRecorder()
	s, err := m.Create(r.Context(), w, r, userID)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range w.Result().Cookies() {
		if c.Name == m.CookieName(r) {
			return s, c
		}
	}
	t.Fatalf("Go Create set no %s cookie: %v", m.CookieName(r), w.Result().Header["Set-Cookie"])
	return s, nil
}

// goDestroy signs the request out from Go.
func goDestroy(t *testing.T, m *session.Manager, base, cookieHeader string) []*http.Cookie {
	t.Helper()
	r := httptest.NewRequest(http.MethodPost, base+"/logout", nil)
	r.Header.Set("Cookie", cookieHeader)
	w := httptest.NewRecorder()
	if err := m.Destroy(r.Context(), w, r); err != nil {
		t.Fatal(err)
	}
	return w.Result().Cookies()
}

// goCookie returns the Set-Cookie of that name, nil if none.
func goCookie(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name {
			return c
		}
	}
	return nil
}

// ---- times --------------------------------------------------------------

func parseISO(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatalf("not an ISO date: %q", s)
	}
	return v.UTC()
}

// window is a span of wall-clock time around a call: an expiry the call
// set to now + maxAge lies in [from + maxAge, to + maxAge].
type window struct{ from, to time.Time }

func during(f func()) window {
	from := time.Now().Truncate(time.Millisecond)
	f()
	return window{from, time.Now()}
}

func (w window) wantExtended(t *testing.T, who string, got time.Time) {
	t.Helper()
	if got.Before(w.from.Add(maxAge)) || got.After(w.to.Add(maxAge)) {
		t.Errorf("%s: expires %s, want now + maxAge in [%s, %s]", who,
			session.FormatISO(got), session.FormatISO(w.from.Add(maxAge)), session.FormatISO(w.to.Add(maxAge)))
	}
}

// msTime returns now + d with a millisecond part of ms, so that a date
// carried through both sides shows whether its milliseconds survived.
func msTime(d time.Duration, ms int) time.Time {
	t := time.Now().Add(d).UTC().Truncate(time.Second)
	return t.Add(time.Duration(ms) * time.Millisecond)
}
