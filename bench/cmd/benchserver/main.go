// Command benchserver serves one protected endpoint, GET /protected, for
// the wrk runs of BENCHMARKS.md: behind nextsession's middleware
// (-mode ours), scs's LoadAndSave (-mode scs), or nothing (-mode none). It
// builds the same fixture as the Go benchmarks (a bench_wrk_* schema or a
// temporary SQLite file, dropped on exit), prints "cookie: NAME=VALUE" and
// "listening: ADDR", and serves until SIGINT or SIGTERM.
package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"syscall"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/bench"
	"github.com/nextsession/nextsession/session"
)

func main() {
	db := flag.String("db", "postgres", "postgres or sqlite")
	mode := flag.String("mode", "ours", "ours, cached (ours with the validation cache; postgres only), scs or none")
	addr := flag.String("addr", "127.0.0.1:0", "listen address (loopback only)")
	flag.Parse()
	if err := run(*db, *mode, *addr); err != nil {
		log.Fatal(err)
	}
}

func run(dbn, mode, addr string) error {
	defer bench.Cleanup()
	d := adapter.Postgres
	if dbn == "sqlite" {
		d = adapter.SQLite
	}
	ctx := context.Background()
	f, err := bench.NewFixture(ctx, d, "bench_wrk_"+mode)
	if err != nil {
		return err
	}
	defer f.Close()
	var h http.Handler
	cookie := bench.CookieName + "=" + f.Token
	switch mode {
	case "ours":
		m := session.NewManager(bench.Store(d, f.X, adapter.Prisma), session.Config{})
		h = m.Middleware(bench.ReadUser)
	case "cached":
		var stop func()
		if h, stop, err = bench.Cached(ctx, f, f.X); err != nil {
			return err
		}
		defer stop()
	case "scs":
		if h, err = bench.SCSReadUser(ctx, d, bench.SCS(d, f.X.DB), f.X); err != nil {
			return err
		}
		cookie = "session=" + f.SCSToken
	case "none":
		h = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "user1@example.com") })
	default:
		return fmt.Errorf("unknown -mode %q", mode)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /protected", h)
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	if ip := ln.Addr().(*net.TCPAddr).IP; !ip.IsLoopback() {
		return fmt.Errorf("refusing to listen on %s: loopback only", ip)
	}
	fmt.Printf("cookie: %s\nlistening: %s\n", cookie, ln.Addr())
	srv := &http.Server{Handler: mux}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		srv.Shutdown(ctx)
	}()
	if err := srv.Serve(ln); err != http.ErrServerClosed {
		return err
	}
	return nil
}
