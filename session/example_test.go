package session_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"time"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/sqlite"
)

// A Go service signs a user in with a session NextAuth accepts, and its
// handlers find the user with FromContext.
func Example() {
	dir, err := os.MkdirTemp("", "nextsession-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)

	// The database the Next.js app uses; here a new SQLite file.
	st, err := sqlite.Open(filepath.Join(dir, "app.db"), adapter.Prisma)
	if err != nil {
		log.Fatal(err)
	}
	defer st.DB().Close()
	ctx := context.Background()
	if err := st.CreateSchema(ctx); err != nil {
		log.Fatal(err)
	}
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

// SessionHandler answers next-auth's useSession() as Auth.js's own
// /api/auth/session does.
func ExampleManager_SessionHandler() {
	dir, err := os.MkdirTemp("", "nextsession-example")
	if err != nil {
		log.Fatal(err)
	}
	defer os.RemoveAll(dir)
	st, err := sqlite.Open(filepath.Join(dir, "app.db"), adapter.Prisma)
	if err != nil {
		log.Fatal(err)
	}
	defer st.DB().Close()
	ctx := context.Background()
	if err := st.CreateSchema(ctx); err != nil {
		log.Fatal(err)
	}
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
	fmt.Print(w.Body)

	w = httptest.NewRecorder()
	m.SessionHandler().ServeHTTP(w, httptest.NewRequest("GET", "/api/auth/session", nil))
	fmt.Println(w.Body)
	// Output:
	// {"user":{"name":"Ada","email":"ada@example.com","image":null},"expires":"2025-01-31T00:00:00.000Z"}
	// null
}
