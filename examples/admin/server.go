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
	"strings"
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
	Flavour     adapter.Flavour
	// Seed creates the demo users.
	Seed bool
	// Refresh is how often the dashboard fetches the count. Default 5s.
	Refresh time.Duration
	// BcryptCost is the cost of the password hashes made. Default bcrypt.DefaultCost.
	BcryptCost int
	Log        *slog.Logger
}

// server is the dashboard: an http.Handler over a session.Manager.
type server struct {
	st      store
	m       *session.Manager
	pages   map[string]*template.Template
	refresh time.Duration
	log     *slog.Logger
	handler http.Handler
	// dummyHash is compared against when the email is unknown, so that a
	// wrong email takes as long as a wrong password.
	dummyHash []byte
}

// newServer opens the database, creates the tables that are missing and
// seeds the demo users if asked.
func newServer(ctx context.Context, cfg config) (*server, error) {
	if cfg.Flavour.Name == "" {
		cfg.Flavour = adapter.Prisma
	}
	if cfg.Refresh <= 0 {
		cfg.Refresh = 5 * time.Second
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
	st, err := openStore(cfg.DatabaseURL, cfg.SQLitePath, cfg.Flavour)
	if err != nil {
		return nil, err
	}
	if err := setUp(ctx, st, cfg); err != nil {
		closeStore(st)
		return nil, err
	}
	s := &server{
		st:        st,
		m:         session.NewManager(st, session.Config{LoginURL: "/signin", SweepInterval: time.Hour}),
		pages:     pages,
		refresh:   cfg.Refresh,
		log:       cfg.Log,
		dummyHash: dummy,
	}
	s.handler = s.routes()
	return s, nil
}

func setUp(ctx context.Context, st store, cfg config) error {
	if err := st.CreateSchema(ctx); err != nil {
		return fmt.Errorf("creating tables: %w", err)
	}
	if _, err := st.DB().ExecContext(ctx, credentialSchema(cfg.Flavour)); err != nil {
		return fmt.Errorf("creating credential table: %w", err)
	}
	if cfg.Seed {
		return seed(ctx, st, demoUsers, cfg.BcryptCost)
	}
	return nil
}

// ServeHTTP serves the dashboard's pages.
func (s *server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// Close stops the session sweeper and closes the database.
func (s *server) Close() error {
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
	mux.Handle("GET /admin/count", s.adminOnly(s.count))
	mux.Handle("POST /admin/revoke", s.adminOnly(s.revoke))
	mux.Handle("POST /admin/revoke-user", s.adminOnly(s.revokeUser))

	root := http.NewServeMux()
	static, _ := fs.Sub(assets, "static")
	root.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	root.Handle("/", s.m.Middleware(mux))
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
			if strings.HasSuffix(r.URL.Path, "/count") {
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
	s.render(w, r, http.StatusOK, "signin", signInPage{Next: localPath(r.FormValue("next")), Flash: flash(r)})
}

func (s *server) signIn(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	email, password := normalizeEmail(r.PostFormValue("email")), r.PostFormValue("password")
	next := localPath(r.PostFormValue("next"))
	userID, c, err := credentialByEmail(ctx, s.st, email)
	if err != nil && !errors.Is(err, errNoCredential) {
		s.fail(w, r, err)
		return
	}
	hash := s.dummyHash
	if err == nil {
		hash = []byte(c.PasswordHash)
	}
	if bcrypt.CompareHashAndPassword(hash, []byte(password)) != nil || err != nil {
		s.render(w, r, http.StatusUnauthorized, "signin", signInPage{Email: email, Next: next, Error: "Wrong email or password."})
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
	http.Redirect(w, r, "/signin?msg=signed-out", http.StatusSeeOther)
}

// row is a session as the pages show it: by handle, never by token.
type row struct {
	Handle    string
	UserID    string
	Name      string
	Email     string
	Created   time.Time
	Expires   time.Time
	ThisOne   bool
	UserCount int
}

func (s *server) rows(ctx context.Context, userID string, current session.Session) ([]row, error) {
	list, err := s.m.ListActive(ctx, userID, 0)
	if err != nil {
		return nil, err
	}
	perUser := map[string]int{}
	for _, su := range list {
		perUser[su.User.ID]++
	}
	rows := make([]row, len(list))
	for i, su := range list {
		rows[i] = row{
			Handle:    su.Session.Handle(),
			UserID:    su.User.ID,
			Name:      su.User.Name,
			Email:     su.User.Email,
			Created:   su.Session.CreatedAt,
			Expires:   su.Session.Expires,
			ThisOne:   su.Session.Token == current.Token,
			UserCount: perUser[su.User.ID],
		}
	}
	return rows, nil
}

type accountPage struct {
	User     session.User
	Admin    bool
	Sessions []row
	Flash    string
}

func (s *server) account(w http.ResponseWriter, r *http.Request) {
	u, cur, _ := session.FromContext(r.Context())
	rows, err := s.rows(r.Context(), u.ID, cur)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	admin, err := isAdmin(r.Context(), s.st.DB(), u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "account", accountPage{User: u, Admin: admin, Sessions: rows, Flash: flash(r)})
}

func (s *server) revokeOthers(w http.ResponseWriter, r *http.Request) {
	_, cur, _ := session.FromContext(r.Context())
	n, err := s.m.RevokeOthers(r.Context(), cur)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/account?msg=others-signed-out&n=%d", n), http.StatusSeeOther)
}

type dashboardPage struct {
	User      session.User
	Admin     bool
	Active    int64
	Sessions  []row
	Flash     string
	RefreshMS int64
}

func (s *server) dashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u, cur, _ := session.FromContext(ctx)
	n, err := s.m.CountActive(ctx)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	rows, err := s.rows(ctx, "", cur)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, r, http.StatusOK, "admin", dashboardPage{
		User: u, Admin: true, Active: n, Sessions: rows, Flash: flash(r), RefreshMS: s.refresh.Milliseconds(),
	})
}

func (s *server) count(w http.ResponseWriter, r *http.Request) {
	n, err := s.m.CountActive(r.Context())
	if err != nil {
		s.log.Error("counting sessions", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"error": "database unavailable"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]int64{"active": n})
}

func (s *server) revoke(w http.ResponseWriter, r *http.Request) {
	// The row's user narrows the search to that user's sessions (an index
	// range), not every active session.
	found := false
	if userID := r.PostFormValue("user"); userID != "" {
		var err error
		found, err = s.m.RevokeHandle(r.Context(), userID, r.PostFormValue("handle"))
		if err != nil {
			s.fail(w, r, err)
			return
		}
	}
	msg := "revoked"
	if !found {
		msg = "gone"
	}
	http.Redirect(w, r, "/admin?msg="+msg, http.StatusSeeOther)
}

func (s *server) revokeUser(w http.ResponseWriter, r *http.Request) {
	u, _, _ := session.FromContext(r.Context())
	userID := r.PostFormValue("user")
	n, err := s.m.RevokeUser(r.Context(), userID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	if userID == u.ID {
		// The admin signed themselves out too: clear the cookie.
		_ = s.m.Destroy(r.Context(), w, r)
		http.Redirect(w, r, "/signin?msg=signed-out-everywhere", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin?msg=user-signed-out&n=%d", n), http.StatusSeeOther)
}

// flash turns the msg query parameter into a message. Only known keys are
// shown, so that a link cannot put words on the page.
func flash(r *http.Request) string {
	n := r.FormValue("n")
	switch r.FormValue("msg") {
	case "signed-out":
		return "You are signed out."
	case "signed-out-everywhere":
		return "You are signed out on every device."
	case "revoked":
		return "Session revoked: that browser is signed out."
	case "gone":
		return "That session no longer exists: it was already revoked, signed out or expired."
	case "user-signed-out":
		return "Signed out everywhere: " + plural(n, "session") + " revoked."
	case "others-signed-out":
		return "Signed out other devices: " + plural(n, "session") + " revoked."
	}
	return ""
}

func plural(n, noun string) string {
	if n == "1" {
		return "1 " + noun
	}
	if n == "" || strings.Trim(n, "0123456789") != "" {
		n = "0"
	}
	return n + " " + noun + "s"
}

// localPath returns p if it is a path on this site, else "": the sign-in
// form never redirects elsewhere.
func localPath(p string) string {
	if !strings.HasPrefix(p, "/") || strings.HasPrefix(p, "//") || strings.HasPrefix(p, "/\\") {
		return ""
	}
	return p
}

type errorPage struct {
	Title, Message string
}

// fail logs an unexpected error and answers 500 without its details.
func (s *server) fail(w http.ResponseWriter, r *http.Request, err error) {
	s.log.Error("request failed", "method", r.Method, "path", r.URL.Path, "err", err)
	s.render(w, r, http.StatusInternalServerError, "error", errorPage{Title: "Something went wrong", Message: "The server could not do that. Try again in a moment."})
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
			return t.UTC().Format("Jan 2, 15:04 UTC")
		},
		"iso": session.FormatISO,
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
