package session_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http/httptest"
	"os"
	"time"

	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/memory"
)

// Events feed an audit trail or metrics; the Logger shows an operator
// revocations, sweeps and outages. Neither ever holds a token.
func ExampleEvents() {
	st := memory.New() // postgres.Open or sqlite.Open on a real database
	ctx := context.Background()
	ada, err := st.CreateUser(ctx, session.User{ID: "ada", Name: "Ada", Email: "ada@example.com"})
	if err != nil {
		log.Fatal(err)
	}

	audit := func(what string) func(context.Context, session.Event) {
		return func(_ context.Context, e session.Event) {
			fmt.Printf("%s: user %s, %d session(s)\n", what, e.UserID, e.Count)
		}
	}
	// Log lines without their time, so that the output is the same on
	// every run.
	logger := slog.New(slog.NewTextHandler(os.Stdout, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey || a.Key == "handle" {
				return slog.Attr{}
			}
			return a
		},
	}))
	m := session.NewManager(st, session.Config{
		Timeout: 2 * time.Second, // what a request may wait for the database
		Logger:  logger,
		Events: session.Events{
			SignIn: audit("sign-in"),
			Revoke: audit("revoked"),
		},
	})
	defer m.Close()

	for range 2 {
		if _, err := m.Create(ctx, httptest.NewRecorder(), httptest.NewRequest("POST", "/login", nil), ada.ID); err != nil {
			log.Fatal(err)
		}
	}
	if _, err := m.RevokeUser(ctx, ada.ID); err != nil {
		log.Fatal(err)
	}
	// Output:
	// sign-in: user ada, 1 session(s)
	// sign-in: user ada, 1 session(s)
	// level=INFO msg="session: revoked" by=RevokeUser user=ada sessions=2
	// revoked: user ada, 2 session(s)
}
