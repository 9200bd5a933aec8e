package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/nextsession/nextsession/adapter"
	"github.com/nextsession/nextsession/session"
	"github.com/nextsession/nextsession/store/faulttest"
	"github.com/nextsession/nextsession/store/postgres"
	"github.com/nextsession/nextsession/store/postgres/pgtest"
)

// Sizes of the randomized test.
const (
	randSessions    = 200
	randRevocations = 2000
	randValidators  = 1 // goroutines per instance
	randBound       = 200 * time.Millisecond
)

// TestCacheRandomized interleaves thousands of revocations, by three
// writers (a Go instance, plain SQL DELETE, SQL UPDATE of expires), with
// validations on three instances, and counts the acceptances of a session
// that began after its revocation had committed: none may begin later
// than the bound after it. With the listener's backend killed now and
// then, or its connection black-holed, the same holds: the cache is
// bypassed until the listener is back and emptied.
func TestCacheRandomized(t *testing.T) {
	for _, mode := range []string{"steady", "terminate", "blackhole"} {
		t.Run(mode, func(t *testing.T) { randomized(t, mode) })
	}
}

func randomized(t *testing.T, mode string) {
	f := adapter.Prisma
	e := newCacheEnv(t, "rand_"+mode, f)
	var proxies []*faulttest.Proxy
	var ins []*instance
	for range 3 {
		ins = append(ins, e.instance(t, func(c *postgres.CacheConfig) {
			c.Bound = randBound
			if mode == "blackhole" {
				dsn, p := throughProxy(t, pgtest.DSN())
				proxies = append(proxies, p)
				c.ListenDSN = pgtest.WithSchema(dsn, e.schema)
			}
		}))
	}
	bound := randBound
	ctx := context.Background()
	S := adapter.Quote(f.Tables.Session)

	var mu sync.Mutex
	var live []string
	revokedAt := sync.Map{} // token -> time.Time after the commit
	for i := range randSessions {
		tok, _ := e.login(t, ins[i%3], fmt.Sprintf("rand%d@example.com", i))
		live = append(live, tok)
	}

	var validations, stale, late atomic.Int64
	var firstErr atomic.Value
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for _, in := range ins {
		for range randValidators {
			wg.Go(func() {
				for {
					select {
					case <-stop:
						return
					default:
					}
					mu.Lock()
					tok := live[rand.IntN(len(live))]
					mu.Unlock()
					start := time.Now()
					_, err := in.m.Validate(ctx, tok)
					validations.Add(1)
					if err != nil && !errors.Is(err, session.ErrNoSession) {
						firstErr.CompareAndSwap(nil, err.Error())
						continue
					}
					if err == nil {
						if at, ok := revokedAt.Load(tok); ok {
							if since := start.Sub(at.(time.Time)); since > bound {
								stale.Add(1)
							} else if since > 50*time.Millisecond {
								late.Add(1)
							}
						}
					}
				}
			})
		}
	}

	// Faults, until the revocations end.
	faultsDone := make(chan struct{})
	var faults atomic.Int64
	go func() {
		defer close(faultsDone)
		for {
			select {
			case <-stop:
				return
			case <-time.After(300 * time.Millisecond):
			}
			switch mode {
			case "terminate":
				var n int
				err := e.db.QueryRow(`SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
WHERE query LIKE 'NOTIFY "' || $1 || '"%' OR query LIKE 'LISTEN "' || $1 || '"%'`, e.schema).Scan(&n)
				if err == nil {
					faults.Add(int64(n))
				}
			case "blackhole":
				p := proxies[rand.IntN(len(proxies))]
				p.BlackHole()
				faults.Add(1)
				time.Sleep(3 * bound)
				p.Restore()
			}
		}
	}()

	writers := []string{"instance", "delete", "expire"}
	for i := range randRevocations {
		mu.Lock()
		k := rand.IntN(len(live))
		tok := live[k]
		mu.Unlock()
		var err error
		switch writers[i%len(writers)] {
		case "instance":
			err = ins[rand.IntN(3)].m.Revoke(ctx, tok)
		case "delete":
			_, err = e.db.Exec(`DELETE FROM `+S+` WHERE "sessionToken" = $1`, tok)
		case "expire":
			_, err = e.db.Exec(`UPDATE `+S+` SET "expires" = '2001-01-01' WHERE "sessionToken" = $1`, tok)
		}
		if err != nil {
			t.Fatal(err)
		}
		if _, loaded := revokedAt.LoadOrStore(tok, time.Now()); !loaded {
			// Replace it with a new session, so that most validations are of live ones.
			nt, _ := e.login(t, ins[i%3], fmt.Sprintf("rand-new%d@example.com", i))
			mu.Lock()
			live[k] = nt
			live = append(live, tok) // keep asking for the revoked one too
			if len(live) > 4*randSessions {
				live = live[len(live)-4*randSessions:]
			}
			mu.Unlock()
		}
	}
	close(stop)
	wg.Wait()
	<-faultsDone
	if err := firstErr.Load(); err != nil {
		t.Errorf("a validation failed: %v", err)
	}
	var st postgres.CacheStats
	for _, in := range ins {
		s := in.st.Stats()
		st.Hits += s.Hits
		st.Misses += s.Misses
		st.Bypassed += s.Bypassed
		st.Flushes += s.Flushes
	}
	t.Logf("%s: %d revocations, %d validations (%d hits, %d misses, %d bypassed), %d faults, %d flushes; accepted after revocation: %d after the bound (%v), %d between 50 ms and the bound",
		mode, randRevocations, validations.Load(), st.Hits, st.Misses, st.Bypassed, faults.Load(), st.Flushes, stale.Load(), bound, late.Load())
	if n := stale.Load(); n != 0 {
		t.Errorf("%d acceptances of a session revoked more than the bound (%v) before", n, bound)
	}
	// Under faults the cache is bypassed much of the time; it must still
	// have answered many validations, or the test proved nothing.
	if st.Hits < 1000 {
		t.Errorf("only %d hits in %d validations: the cache hardly worked", st.Hits, validations.Load())
	}
	if mode != "steady" && (faults.Load() == 0 || st.Bypassed == 0) {
		t.Errorf("%s: %d faults, %d validations bypassed the cache; want both > 0", mode, faults.Load(), st.Bypassed)
	}
	for _, in := range ins {
		waitLive(t, in.st) // every listener is back
	}
}

// TestCacheDatabaseDown: with the database cut off, a cached instance
// stops answering from memory within the bound (its listener is gone):
// validations then fail with an error (503), never "no session", and
// succeed again once the database is back.
func TestCacheDatabaseDown(t *testing.T) {
	e := newCacheEnv(t, "down", adapter.Prisma)
	dsn, proxy := throughProxy(t, pgtest.DSN())
	dsn = pgtest.WithSchema(dsn, e.schema)
	db, err := sqlx.Open("postgres", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	st := postgres.New(db, e.f)
	cfg := e.config()
	cfg.ListenDSN = dsn
	cs, err := postgres.NewCache(context.Background(), st, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cs.Close() })
	waitLive(t, cs)
	in := &instance{st: cs, m: session.NewManager(cs, session.Config{})}
	tok, _ := e.login(t, in, "down@example.com")
	ctx := context.Background()
	for range 2 {
		if _, err := in.m.Validate(ctx, tok); err != nil {
			t.Fatal(err)
		}
	}
	proxy.Cut()
	cut := time.Now()
	for {
		_, err := in.m.Validate(ctx, tok)
		if errors.Is(err, session.ErrNoSession) {
			t.Fatal("a database outage read as no session")
		}
		if err != nil {
			break
		}
		if time.Since(cut) > cfg.Bound+100*time.Millisecond {
			t.Fatalf("still answered from memory %v after the database went away", time.Since(cut))
		}
		time.Sleep(time.Millisecond)
	}
	if cs.Live() {
		t.Error("the cache is live with the database cut off")
	}
	proxy.Restore()
	eventually(t, "validation after the database is back", func() bool {
		_, err := in.m.Validate(ctx, tok)
		return err == nil
	})
	waitLive(t, cs)
}
