package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/nextsession/nextsession/adapter"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	dbPath := flag.String("db", "nextsession-admin.db", "SQLite file, used when DATABASE_URL is not set")
	flavourName := flag.String("flavour", "", "NextAuth schema flavour (default: read from the database; prisma for a new one)")
	seedDemo := flag.Bool("seed", true, "create the demo users")
	demoSessions := flag.Int("demo-sessions", 0, "add this many demo sessions of demo users, to try paging, search and the charts")
	flag.Parse()
	log.SetFlags(0)

	var flavour adapter.Flavour
	if *flavourName != "" {
		var err error
		if flavour, err = adapter.Lookup(*flavourName); err != nil {
			log.Fatal(err)
		}
	}
	if err := run(*addr, config{
		DatabaseURL: os.Getenv("DATABASE_URL"),
		SQLitePath:  *dbPath,
		Flavour:     flavour,
		Seed:        *seedDemo,

		DemoSessions: *demoSessions,
	}); err != nil {
		log.Fatal(err)
	}
}

func run(addr string, cfg config) error {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	srv, err := newServer(ctx, cfg)
	if err != nil {
		return err
	}
	defer srv.Close()

	where := "SQLite file " + cfg.SQLitePath
	if cfg.DatabaseURL != "" {
		where = "Postgres (DATABASE_URL)"
	}
	f := srv.cfg.Flavour
	fmt.Printf("nextsession admin: %s, %s flavour (%s): tables %s, %s, %s, %s\n", where, f.Name, srv.cfg.flavourFrom,
		f.QuoteTable(f.Tables.User), f.QuoteTable(f.Tables.Account), f.QuoteTable(f.Tables.Session), f.QuoteTable(f.Tables.VerificationToken))
	if cfg.Seed {
		fmt.Println("Demo users (email / password):")
		for _, d := range demoUsers {
			role := ""
			if d.Admin {
				role = "  (admin)"
			}
			fmt.Printf("  %-20s %s%s\n", d.Email, d.Password, role)
		}
	}

	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	hs := newHTTPServer(srv)
	hs.RegisterOnShutdown(srv.EndStreams)
	fmt.Printf("Listening on http://%s/admin\n", ln.Addr())

	errc := make(chan error, 1)
	go func() { errc <- hs.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	shutdown, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := hs.Shutdown(shutdown); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

// newHTTPServer bounds every phase of a connection, so that slow or stalled
// clients cannot hold connections and goroutines: the headers, the whole
// request, the response (the event stream extends its own write deadline
// per event) and an idle keep-alive.
func newHTTPServer(h http.Handler) *http.Server {
	return &http.Server{
		Handler:           h,
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       15 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       60 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}
