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
	"strings"
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
	for _, p := range []string{"@auth/core", "@auth/pg-adapter", "@auth/kysely-adapter", "better-sqlite3", "@edge-runtime/cookies", "cookie"} {
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
}

// env is one database that both sides use: a fresh Postgres schema with the
// pg-adapter tables or a fresh SQLite file with the Kysely tables.
type env struct {
	kind    string // "postgres" or "sqlite"
	db      *sqlx.DB
	store   session.Adapter
	nodeDSN string
}

// eachDB runs body on Postgres and on SQLite, in parallel subtests, each
// with its own empty database named after the test.
func eachDB(t *testing.T, body func(t *testing.T, e *env)) {
	t.Helper()
	requireAuthjs(t)
	t.Parallel()
	for _, kind := range []string{"postgres", "sqlite"} {
		t.Run(kind, func(t *testing.T) {
			t.Parallel()
			body(t, newEnv(t, kind))
		})
	}
}

func newEnv(t *testing.T, kind string) *env {
	t.Helper()
	ddl, err := os.ReadFile(filepath.Join("schema", kind+".sql"))
	if err != nil {
		t.Fatal(err)
	}
	e := &env{kind: kind}
	switch kind {
	case "postgres":
		name := "nextsession_interop_" + strings.ToLower(strings.NewReplacer("/", "_", "-", "_").Replace(
			strings.TrimPrefix(t.Name(), "Test")))
		name = strings.TrimSuffix(name, "_postgres")
		if len(name) > 50 {
			name = name[:50]
		}
		e.db = pgtest.Open(t, name)
		u, err := url.Parse(pgtest.DSN())
		if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
			t.Fatalf("the Node side needs a postgres:// URL, have %q", pgtest.DSN())
		}
		// node-postgres ignores search_path=...; it passes options on.
		q := u.Query()
		q.Set("options", "-c search_path="+name)
		u.RawQuery = q.Encode()
		e.nodeDSN = u.String()
		st := postgres.New(e.db, adapter.PgAdapter)
		t.Cleanup(func() { st.Close() })
		e.store = st
	case "sqlite":
		path := filepath.Join(t.TempDir(), "auth.db")
		st, err := sqlite.Open(path, adapter.Kysely)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			st.Close()
			st.DB().Close()
		})
		e.db, e.store, e.nodeDSN = st.DB(), st, path
	}
	if _, err := e.db.Exec(string(ddl)); err != nil {
		t.Fatalf("creating the %s tables: %v", kind, err)
	}
	return e
}

func (e *env) sessionTable() string {
	if e.kind == "postgres" {
		return "sessions"
	}
	return `"Session"`
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
	q := e.db.Rebind(`SELECT "expires", "userId" FROM ` + e.sessionTable() + ` WHERE "sessionToken" = ?`)
	var r row
	var err error
	if e.kind == "postgres" {
		var uid int64
		err = e.db.QueryRow(q, token).Scan(&r.expires, &uid)
		r.expires = r.expires.UTC()
		r.raw = r.expires.Format(time.RFC3339Nano)
		r.userID = fmt.Sprint(uid)
	} else {
		err = e.db.QueryRow(q, token).Scan(&r.raw, &r.userID)
		if err == nil {
			r.expires, err = time.Parse(time.RFC3339Nano, r.raw)
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
// a timestamptz on Postgres, Date.toISOString() text on SQLite.
func (e *env) setExpires(t *testing.T, token string, exp time.Time) {
	t.Helper()
	var v any = exp.UTC()
	if e.kind == "sqlite" {
		v = session.FormatISO(exp)
	}
	res, err := e.db.Exec(e.db.Rebind(`UPDATE `+e.sessionTable()+` SET "expires" = ? WHERE "sessionToken" = ?`), v, token)
	if err != nil {
		t.Fatal(err)
	}
	if n, _ := res.RowsAffected(); n != 1 {
		t.Fatalf("setting expires: %d rows for token %s", n, token)
	}
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
	in := map[string]any{"db": a.e.kind, "dsn": a.e.nodeDSN, "secret": secret, "baseURL": a.baseURL}
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
