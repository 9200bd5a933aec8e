package main

import (
	"context"
	"errors"
	"flag"
	"log"
	"log/slog"
	"net/http"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/postgres"
	"github.com/nextsession/nextsession/store/sqlite"
)

func main() {
	addr := flag.String("addr", "127.0.0.1:8080", "address to listen on")
	dbPath := flag.String("db", "nextsession-metrics.db", "SQLite file, used when DATABASE_URL is not set")
	flag.Parse()

	st, err := openStore(context.Background(), os.Getenv("DATABASE_URL"), *dbPath)
	if err != nil {
		log.Fatal(err)
	}
	reg := prometheus.NewRegistry()
	m := session.NewManager(st, session.Config{
		Logger:        slog.Default(),
		Events:        NewMetrics(reg).Events(),
		SweepInterval: time.Minute,
	})
	defer m.Close()

	srv := &http.Server{Addr: *addr, Handler: newMux(m, reg), ReadHeaderTimeout: 5 * time.Second}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	go func() {
		<-ctx.Done()
		srv.Shutdown(context.Background())
	}()
	log.Printf("nextsession metrics example on http://%s (sessions at /api/auth/session, metrics at /metrics)", *addr)
	if err := srv.ListenAndServe(); !errors.Is(err, http.ErrServerClosed) {
		log.Fatal(err)
	}
}

// openStore opens Postgres when url is set (a pooler URL works too, see
// postgres.Open), else the SQLite file, and creates the tables if needed.
func openStore(ctx context.Context, url, path string) (session.Adapter, error) {
	if url != "" {
		st, err := postgres.Open(url, adapter.Prisma)
		if err != nil {
			return nil, err
		}
		return st, st.CreateSchema(ctx)
	}
	st, err := sqlite.Open(path, adapter.Prisma)
	if err != nil {
		return nil, err
	}
	return st, st.CreateSchema(ctx)
}

// newMux serves Auth.js's session endpoint behind the middleware, and the
// metrics apart from it, so that a scrape costs no session lookup.
func newMux(m *session.Manager, reg *prometheus.Registry) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /api/auth/session", m.Middleware(m.SessionHandler()))
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	return mux
}
