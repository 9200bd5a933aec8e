package session_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"sync"
	"time"

	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/memory"
)

// A Go service signs a user in with a session NextAuth accepts, and its
// handlers find the user with FromContext. With a NextAuth app, the store
// is postgres.Open or sqlite.Open on its database; here it is in memory.
func Example() {
	st := memory.New()
	ctx := context.Background()
	ada, err := st.CreateUser(ctx, session.User{Name: "Ada", Email: "ada@example.com"})
	if err != nil {
		log.Fatal(err)
	}

	m := session.NewManager(st, session.Config{}) // NextAuth's defaults
	defer m.Close()

	mux := http.NewServeMux()
	mux.HandleFunc("POST /login", func(w http.ResponseWriter, r *http.Request) {
		// A real handler checks a password or a one-time code first.
		if _, err := m.Create(r.Context(), w, r, ada.ID); err != nil {
			http.Error(w, "cannot sign in", http.StatusInternalServerError)
			return
		}
		fmt.Fprintln(w, "signed in")
	})
	mux.HandleFunc("GET /me", func(w http.ResponseWriter, r *http.Request) {
		u, _, ok := session.FromContext(r.Context())
		if !ok {
			http.Error(w, "not signed in", http.StatusUnauthorized)
			return
		}
		fmt.Fprintf(w, "hello, %s\n", u.Name)
	})
	h := m.Middleware(mux)

	w := httptest.NewRecorder()
	h.ServeHTTP(w, httptest.NewRequest("POST", "/login", nil))
	cookie := w.Result().Cookies()[0]
	fmt.Print(w.Body)
	fmt.Println("cookie:", cookie.Name)

	r := httptest.NewRequest("GET", "/me", nil)
	r.AddCookie(cookie)
	w = httptest.NewRecorder()
	h.ServeHTTP(w, r)
	fmt.Print(w.Body)

	n, err := m.CountActive(ctx)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("active sessions:", n)
	// Output:
	// signed in
	// cookie: next-auth.session-token
	// hello, Ada
	// active sessions: 1
}

// Start signs a user in without HTTP: a JSON login API returns the token,
// a CLI prints it, a test uses it. Validate reads it back; SetCookie hands
// it to a browser.
func ExampleManager_Start() {
	st := memory.New()
	ctx := context.Background()
	ada, err := st.CreateUser(ctx, session.User{Name: "Ada", Email: "ada@example.com"})
	if err != nil {
		log.Fatal(err)
	}
	now := func() time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) }
	m := session.NewManager(st, session.Config{Now: now})

	token, s, err := m.Start(ctx, ada.ID, session.Device{UserAgent: "cli/1.0"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("token is a UUID:", session.IsNextAuthToken(token))
	fmt.Println("expires:", session.FormatISO(s.Expires))

	res, err := m.Validate(ctx, token)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("user:", res.User.Name)

	// The same session in a browser: the cookie NextAuth would set.
	w := httptest.NewRecorder()
	m.SetCookie(w, httptest.NewRequest("POST", "https://example.com/login", nil), token, s.Expires)
	c := w.Result().Cookies()[0]
	fmt.Println("cookie:", c.Name, c.Value == token, c.HttpOnly, c.Secure)
	// Output:
	// token is a UUID: true
	// expires: 2025-01-31T00:00:00.000Z
	// user: Ada
	// cookie: __Secure-next-auth.session-token true true true
}

// NextAuthLifetimes reads a NextAuth config's seconds as NextAuth does:
// updateAge 0 extends the session on every request.
func ExampleNextAuthLifetimes() {
	// session: { maxAge: 7 * 24 * 60 * 60, updateAge: 0 } in the NextAuth config
	var cfg session.Config
	cfg.MaxAge, cfg.UpdateAge = session.NextAuthLifetimes(7*24*60*60, 0)
	fmt.Println(cfg.MaxAge, cfg.UpdateAge == session.UpdateAlways)
	// Output:
	// 168h0m0s true
}

// SessionHandler answers next-auth's useSession() as Auth.js's own
// /api/auth/session does, byte for byte.
func ExampleManager_SessionHandler() {
	st := memory.New()
	ctx := context.Background()
	ada, err := st.CreateUser(ctx, session.User{Name: "Ada", Email: "ada@example.com"})
	if err != nil {
		log.Fatal(err)
	}

	// A fixed clock, so that the expiry printed below does not change.
	now := func() time.Time { return time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC) }
	m := session.NewManager(st, session.Config{CookieVersion: session.CookieV5, Now: now})

	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/login", nil)
	if _, err := m.Create(ctx, w, r, ada.ID); err != nil {
		log.Fatal(err)
	}

	// A server mounts it with mux.Handle("GET /api/auth/session", m.SessionHandler()).
	r = httptest.NewRequest("GET", "/api/auth/session", nil)
	r.AddCookie(w.Result().Cookies()[0])
	w = httptest.NewRecorder()
	m.SessionHandler().ServeHTTP(w, r)
	fmt.Println(w.Body) // Auth.js sends no newline at the end; Println adds one

	w = httptest.NewRecorder()
	m.SessionHandler().ServeHTTP(w, httptest.NewRequest("GET", "/api/auth/session", nil))
	fmt.Println(w.Body)
	// Output:
	// {"user":{"name":"Ada","email":"ada@example.com","image":null},"expires":"2025-01-31T00:00:00.000Z"}
	// null
}

// A custom store needs only the four methods of session.Store (mapStore
// below): sign-in, validation, extension and sign-out work; the Manager
// methods that need an ability the store lacks return an error wrapping
// errors.ErrUnsupported.
func ExampleStore() {
	st := &mapStore{
		users:    map[string]session.User{"ada": {ID: "ada", Name: "Ada"}},
		sessions: map[string]session.Session{},
	}
	m := session.NewManager(st, session.Config{})
	ctx := context.Background()

	token, _, err := m.Start(ctx, "ada", session.Device{})
	if err != nil {
		log.Fatal(err)
	}
	res, err := m.Validate(ctx, token)
	fmt.Println("validate:", res.User.Name, err)

	_, err = m.CountActive(ctx)
	fmt.Println("count:", errors.Is(err, errors.ErrUnsupported))
	_, err = m.ListActive(ctx, "", 0)
	fmt.Println("list:", errors.Is(err, errors.ErrUnsupported))
	_, err = m.RevokeUser(ctx, "ada")
	fmt.Println("revoke user:", errors.Is(err, errors.ErrUnsupported))
	_, err = m.Sweep(ctx)
	fmt.Println("sweep:", errors.Is(err, errors.ErrUnsupported))

	fmt.Println("revoke:", m.Revoke(ctx, token))
	_, err = m.Validate(ctx, token)
	fmt.Println("after revoke:", err)
	// Output:
	// validate: Ada <nil>
	// count: true
	// list: true
	// revoke user: true
	// sweep: true
	// revoke: <nil>
	// after revoke: session: no session
}

// mapStore is the smallest session.Store: sessions in a map, users from
// the app's own records (a map here too).
type mapStore struct {
	mu       sync.Mutex
	users    map[string]session.User
	sessions map[string]session.Session
}

func (s *mapStore) CreateSession(_ context.Context, se session.Session) (session.Session, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.users[se.UserID]; !ok {
		return session.Session{}, session.ErrUnknownUser
	}
	s.sessions[se.Token] = se
	return se, nil
}

func (s *mapStore) GetSessionAndUser(_ context.Context, token string) (session.Session, session.User, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	se, ok := s.sessions[token]
	if !ok {
		return session.Session{}, session.User{}, session.ErrNotFound
	}
	return se, s.users[se.UserID], nil
}

func (s *mapStore) UpdateSession(_ context.Context, u session.SessionUpdate) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	se, ok := s.sessions[u.Token]
	if !ok {
		return session.ErrNotFound
	}
	if !u.Expires.IsZero() {
		se.Expires = u.Expires
	}
	if u.UserID != "" {
		se.UserID = u.UserID
	}
	s.sessions[u.Token] = se
	return nil
}

func (s *mapStore) DeleteSession(_ context.Context, token string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.sessions, token)
	return nil
}
