package main

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
)

//go:embed templates static
var assets embed.FS

// config is what a server needs; main fills it from flags.
type config struct {
	// DatabaseURL, when set, is a postgres:// URL; otherwise SQLitePath is used.
	DatabaseURL string
	SQLitePath  string
	// Flavour is the schema's; empty, it is read from the database.
	Flavour adapter.Flavour
	// flavourFrom says where Flavour came from, for the start-up line.
	flavourFrom string
	// Seed creates the demo users.
	Seed bool
	// DemoSessions is how many demo sessions (of demo users) to add.
	DemoSessions int
	// Refresh is how often the dashboard's live view (the event stream or,
	// when that fails, polling) rereads the count and the list. Default 2s.
	Refresh time.Duration
	// PageSize is how many sessions a page of the dashboard lists. Default 50.
	PageSize int
	// MaxStreams bounds the dashboards updated through an open event
	// stream at once; the others poll. Default 16.
	MaxStreams int
	// DBTimeout bounds the database work of a request. Default 5s.
	DBTimeout time.Duration
	// BcryptCost is the cost of the password hashes made. Default bcrypt.DefaultCost.
	BcryptCost int
	Log        *slog.Logger
}

// Sign-in throttling: failures per account (the email, whether or not it
// exists) and per client address, as token buckets.
const (
	accountBurst, accountEvery = 5, 30 * time.Second
	clientBurst, clientEvery   = 20, 5 * time.Second
	throttleKeys               = 10000
)

// The sessions' lifetimes, which "last active" is derived from.
const (
	maxAge    = session.DefaultMaxAge
	updateAge = session.DefaultUpdateAge
)

// server is the dashboard: an http.Handler over a session.Manager.
type server struct {
	cfg     config
	st      store
	m       *session.Manager
	pages   map[string]*template.Template
	log     *slog.Logger
	handler http.Handler
	// dummyHash is compared against when the email is unknown, so that a
	// wrong email takes as long as a wrong password.
	dummyHash []byte
	// compareHash is bcrypt's comparison (a variable for the tests).
	compareHash func(hash, password []byte) error
	// accounts and clients throttle failed sign-ins.
	accounts, clients *throttle
	// chartSVG is the charts drawn at chartAt.
	chartMu  sync.Mutex
	chartSVG template.HTML
	chartAt  time.Time
	// streams holds a token per open event stream; closing stop ends them.
	streams  chan struct{}
	stop     chan struct{}
	stopOnce sync.Once
}

// newServer opens the database, creates the tables that are missing and
// seeds the demo users if asked.
func newServer(ctx context.Context, cfg config) (*server, error) {
	if cfg.Refresh <= 0 {
		cfg.Refresh = 2 * time.Second
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 50
	}
	if cfg.MaxStreams <= 0 {
		cfg.MaxStreams = 16
	}
	if cfg.DBTimeout <= 0 {
		cfg.DBTimeout = 5 * time.Second
	}
	if cfg.BcryptCost == 0 {
		cfg.BcryptCost = bcrypt.DefaultCost
	}
	if cfg.Log == nil {
		cfg.Log = slog.Default()
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("not a password"), cfg.BcryptCost)
	if err != nil {
		return nil, err
	}
	st, f, from, err := openStore(ctx, cfg.DatabaseURL, cfg.SQLitePath, cfg.Flavour)
	if err != nil {
		return nil, err
	}
	cfg.Flavour, cfg.flavourFrom = f, from
	if err := setUp(ctx, st, cfg); err != nil {
		closeStore(st)
		return nil, err
	}
	s := &server{
		cfg:         cfg,
		st:          st,
		pages:       pages,
		log:         cfg.Log,
		dummyHash:   dummy,
		compareHash: bcrypt.CompareHashAndPassword,
		accounts:    newThrottle(accountBurst, accountEvery, throttleKeys),
		clients:     newThrottle(clientBurst, clientEvery, throttleKeys),
		streams:     make(chan struct{}, cfg.MaxStreams),
		stop:        make(chan struct{}),
	}
	s.m = session.NewManager(st, session.Config{
		LoginURL: "/signin", SweepInterval: time.Hour, MaxAge: maxAge, UpdateAge: updateAge,
		ErrorFunc: s.sessionUnavailable,
	})
	s.handler = s.routes()
	return s, nil
}

func setUp(ctx context.Context, st store, cfg config) error {
	if err := st.CreateSchema(ctx); err != nil {
		return fmt.Errorf("creating tables: %w", err)
	}
	d := adapter.SQLite
	if cfg.DatabaseURL != "" {
		d = adapter.Postgres
	}
	if err := addDeviceColumns(ctx, st.DB(), d, cfg.Flavour); err != nil {
		return fmt.Errorf("adding device columns: %w", err)
	}
	if _, err := st.DB().ExecContext(ctx, credentialSchema(cfg.Flavour)); err != nil {
		return fmt.Errorf("creating credential table: %w", err)
	}
	if cfg.Seed {
		if err := seed(ctx, st, demoUsers, cfg.BcryptCost); err != nil {
			return err
		}
	}
	return seedSessions(ctx, st, cfg.DemoSessions)
}

// ServeHTTP serves the dashboard's pages.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// EndStreams ends the open event streams (the browsers reconnect): for a
// shutdown, which waits for open connections.
func (s *server) EndStreams() { s.stopOnce.Do(func() { close(s.stop) }) }

// Close ends the event streams, stops the session sweeper and closes the
// database.
func (s *server) Close() error {
	s.EndStreams()
	s.m.Close()
	return closeStore(s.st)
}

func (s *server) routes() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /api/auth/session", s.m.SessionHandler())

	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /signin", s.signInPage)
	mux.HandleFunc("POST /signin", s.signIn)
	mux.HandleFunc("POST /signout", s.signOut)
	mux.Handle("GET /account", s.m.RequireSession(http.HandlerFunc(s.account)))
	mux.Handle("POST /account/revoke-others", s.m.RequireSession(http.HandlerFunc(s.revokeOthers)))

	mux.Handle("GET /admin", s.adminOnly(s.dashboard))
	mux.Handle("GET /admin/live", s.adminOnly(s.live))
	mux.Handle("POST /admin/revoke", s.adminOnly(s.revoke))
	mux.Handle("POST /admin/revoke-user", s.adminOnly(s.revokeUser))

	root := http.NewServeMux()
	static, _ := fs.Sub(assets, "static")
	root.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	// The event stream outlives any request deadline: it bounds each of
	// its reads itself.
	root.Handle("GET /admin/events", s.m.Middleware(s.adminOnly(s.events)))
	root.Handle("/", withDeadline(s.cfg.DBTimeout, s.m.Middleware(formsOnly(mux))))
	// Every form posts to this origin; CrossOriginProtection refuses
	// cross-site POSTs by their Sec-Fetch-Site or Origin header.
	return securityHeaders(http.NewCrossOriginProtection().Handler(root))
}

func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		next.ServeHTTP(w, r)
	})
}

// adminOnly lets admins through. Without a session, pages redirect to the
// sign-in form and the JSON endpoint answers 401; others get 403.
func (s *server) adminOnly(next http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _, ok := session.FromContext(r.Context())
		if !ok {
			if r.URL.Path == "/admin/live" || r.URL.Path == "/admin/events" {
				writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "signed out"})
				return
			}
			http.Redirect(w, r, "/signin?next="+url.QueryEscape("/admin"), http.StatusSeeOther)
			return
		}
		admin, err := isAdmin(r.Context(), s.st.DB(), u.ID)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		if !admin {
			s.render(w, r, http.StatusForbidden, "error", errorPage{
				Title:   "Admins only",
				Message: "You are signed in as " + u.Email + ", who is not an admin.",
			})
			return
		}
		next(w, r)
	})
}

func (s *server) home(w http.ResponseWriter, r *http.Request) {
	if _, _, ok := session.FromContext(r.Context()); ok {
		http.Redirect(w, r, "/account", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/signin", http.StatusSeeOther)
}

type signInPage struct {
	Email, Next, Error, Flash string
}

func (s *server) signInPage(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusOK, "signin", signInPage{Next: localPath(r.FormValue("next")), Flash: s.takeFlash(w, r)})
}

// maxEmail bounds the email kept as a throttle key.
const maxEmail = 320

func (s *server) signIn(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	email, password := normalizeEmail(r.PostFormValue("email")), r.PostFormValue("password")
	if len(email) > maxEmail {
		email = email[:maxEmail]
	}
	next := localPath(r.PostFormValue("next"))
	page := signInPage{Email: email, Next: next}
	client := clientKey(r)
	// Throttled before the password is looked at, with the same answer for
	// any email, so that the answer tells nothing of the account.
	if wait := max(s.accounts.wait(email), s.clients.wait(client)); wait > 0 {
		retryAfter(w, wait)
		page.Error = "Too many failed sign-ins. Try again in a moment."
		s.render(w, r, http.StatusTooManyRequests, "signin", page)
		return
	}
	userID, c, err := credentialByEmail(ctx, s.st, email)
	if err != nil && !errors.Is(err, errNoCredential) {
		s.fail(w, r, err)
		return
	}
	// An unknown email is compared against a dummy hash of the same cost:
	// both failures take as long and read the same.
	hash := s.dummyHash
	if err == nil {
		hash = []byte(c.PasswordHash)
	}
	if s.compareHash(hash, []byte(password)) != nil || err != nil {
		s.accounts.fail(email)
		s.clients.fail(client)
		page.Error = "Wrong email or password."
		s.render(w, r, http.StatusUnauthorized, "signin", page)
		return
	}
	if _, err := s.m.Create(ctx, w, r, userID); err != nil {
		s.fail(w, r, err)
		return
	}
	if next == "" {
		next = "/account"
		if c.IsAdmin {
			next = "/admin"
		}
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *server) signOut(w http.ResponseWriter, r *http.Request) {
	if err := s.m.Destroy(r.Context(), w, r); err != nil {
		s.fail(w, r, err)
		return
	}
	s.redirect(w, r, "/signin", "signed-out", 0)
}

type errorPage struct {
	Title, Message string
}

// fail answers a request whose database work failed: 503, as the
// middleware does when it cannot read the session, since what failed is a
// database that is down, slow or locked, which a retry may find back. The
// error is logged, not shown.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("database unavailable", "method", r.Method, "path", r.URL.Path, "err", err)
	w.Header().Set("Retry-After", "5")
	s.render(w, r, http.StatusServiceUnavailable, "error", errorPage{Title: "Database unavailable", Message: "The server could not reach its database. Try again in a moment."})
}

// sessionUnavailable is the middleware's ErrorFunc: the session could not
// be read because the database failed.
func (s *server) sessionUnavailable(w http.ResponseWriter, r *http.Request, err error) {
	s.fail(w, r, fmt.Errorf("reading the session: %w", err))
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func parsePages() (map[string]*template.Template, error) {
	funcs := template.FuncMap{
		"date": func(t time.Time) string {
			if t.IsZero() {
				return "—"
			}
			return t.UTC().Format("Jan 2, 15:04")
		},
		"iso":    session.FormatISO,
		"device": describeDevice,
		"ago":    ago,
		"num":    thousands,
	}
	base, err := template.New("layout.html").Funcs(funcs).ParseFS(assets, "templates/layout.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, name := range []string{"signin", "account", "admin", "error"} {
		t, err := template.Must(base.Clone()).ParseFS(assets, "templates/"+name+".html")
		if err != nil {
			return nil, err
		}
		pages[name] = t
	}
	return pages, nil
}

func (s *server) render(w http.ResponseWriter, r *http.Request, status int, page string, data any) {
	var buf bytes.Buffer
	if err := s.pages[page].ExecuteTemplate(&buf, "layout.html", data); err != nil {
		s.log.Error("rendering page", "page", page, "path", r.URL.Path, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

// thousands writes n with comma separators: 20,003.
func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}
