package postgres

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/nextsession/nextsession/session"
)

// bareCache is a CachedStore without a database or listener, live until
// the test moves its heartbeat.
func bareCache(max int) *CachedStore {
	c := &CachedStore{
		cfg:     CacheConfig{Bound: time.Hour, TTL: time.Hour, MaxEntries: max},
		id:      "test",
		base:    time.Now(),
		entries: map[string]cacheEntry{},
		byHash:  map[[32]byte]string{},
		byUser:  map[string]map[string]struct{}{},
	}
	c.upSince.Store(0)
	c.lastHB.Store(1)
	c.triggerOK.Store(true)
	return c
}

// read is the miss path of GetSessionAndUser split at the database read:
// begin snapshots the generations, end inserts what was read.
func (c *CachedStore) testRead(token, user string) (end func()) {
	h := sha256.Sum256([]byte(token))
	c.mu.RLock()
	g, s := c.global, c.stripes[h[0]]
	c.mu.RUnlock()
	return func() {
		c.put(token, h, g, s, session.Session{Token: token, UserID: user}, session.User{ID: user})
	}
}

func (c *CachedStore) cached(token string) bool {
	c.mu.RLock()
	defer c.mu.RUnlock()
	_, ok := c.entries[token]
	return ok
}

// A read that began before an eviction of its session (by notification,
// of its user, or a flush) must not insert what it read: the row may be
// one the eviction was about.
func TestCacheReadRacingEviction(t *testing.T) {
	hash := func(tok string) string {
		h := sha256.Sum256([]byte(tok))
		return payloadSession + hex.EncodeToString(h[:])
	}
	cases := []struct {
		name  string
		evict func(c *CachedStore)
		other bool // whether a read of another user's session is refused too
	}{
		{"token_notification", func(c *CachedStore) { c.apply(hash("tok")) }, false},
		{"local_delete", func(c *CachedStore) { c.evictToken("tok") }, false},
		{"user_notification", func(c *CachedStore) { c.apply(payloadUser + "u1") }, true},
		{"truncate", func(c *CachedStore) { c.apply(payloadFlush) }, true},
		{"unreadable_payload", func(c *CachedStore) { c.apply("s:zz") }, true},
		{"listener_lost", func(c *CachedStore) { c.markDown(); c.up(); c.lastHB.Store(c.mono()) }, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := bareCache(10)
			end := c.testRead("tok", "u1")
			endOther := c.testRead("other", "u2")
			tc.evict(c)
			end()
			endOther()
			if c.cached("tok") {
				t.Error("a read that began before the eviction was cached")
			}
			if c.cached("other") == tc.other {
				t.Errorf("other session cached = %v, want %v", c.cached("other"), !tc.other)
			}
			// A read that begins after the eviction is cached.
			c.testRead("tok", "u1")()
			if !c.cached("tok") {
				t.Error("a read after the eviction was not cached")
			}
		})
	}
}

func TestCacheEvictions(t *testing.T) {
	c := bareCache(3)
	for i := range 3 {
		c.testRead(fmt.Sprint("t", i), "u1")()
	}
	c.testRead("t3", "u2")()
	if n := len(c.entries); n != 3 {
		t.Fatalf("%d entries, want the bound 3", n)
	}
	if !c.cached("t3") {
		t.Fatal("the newest entry was not kept")
	}
	c.apply(payloadUser + "u1")
	if len(c.entries) != 1 || !c.cached("t3") || len(c.byHash) != 1 || len(c.byUser) != 1 {
		t.Fatalf("after evicting u1: entries %d, byHash %d, byUser %d", len(c.entries), len(c.byHash), len(c.byUser))
	}
	// Another instance's heartbeats and probes, and forged ones (anyone
	// who can connect may NOTIFY), change nothing.
	now := uint64(c.mono())
	other := bareCache(3)
	other.id = "other"
	forged := c.own(payloadHeartbeat, now)
	forged = forged[:strings.LastIndexByte(forged, ':')+1] + strings.Repeat("0", 32)
	for _, p := range []string{
		other.own(payloadHeartbeat, now),             // another instance's
		payloadHeartbeat + "test:" + fmt.Sprint(now), // unsigned
		forged, // wrong MAC
		c.own(payloadHeartbeat, now+uint64(time.Hour)), // sent in the future
		payloadHeartbeat + "test", payloadHeartbeat + "test:x:y", payloadProbe + "x", payloadProbe + "test:1:zz",
	} {
		c.apply(p)
		if !c.cached("t3") || c.lastHB.Load() != 1 {
			t.Fatalf("payload %q was taken for our heartbeat, or emptied the cache", p)
		}
	}
	c.apply(c.own(payloadHeartbeat, now))
	if c.lastHB.Load() != int64(now) {
		t.Fatal("our own heartbeat was not taken")
	}
	c.lastHB.Store(1)
	// Hostile payloads empty the cache rather than panic.
	for _, p := range []string{"s:", "s:" + string(make([]byte, 200)), "h:test:notanumber", "u:", "x", ""} {
		c.testRead("t3", "u2")()
		c.apply(p)
	}
	// The heartbeat says how fresh the cache is; past the bound it is bypassed.
	c.cfg.Bound = time.Millisecond
	c.lastHB.Store(c.mono())
	time.Sleep(2 * time.Millisecond)
	if c.Live() {
		t.Fatal("live with a heartbeat older than the bound")
	}
}

func TestWithConnectTimeout(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"postgres://u@h:5432/db?sslmode=disable", "postgres://u@h:5432/db?connect_timeout=5&sslmode=disable"},
		{"postgres://u@h/db?connect_timeout=2", "postgres://u@h/db?connect_timeout=2"},
		{"host=h dbname=db", "host=h dbname=db connect_timeout=5"},
		{"host=h connect_timeout=9", "host=h connect_timeout=9"},
	} {
		if got := withConnectTimeout(tc.in, 5*time.Second); got != tc.want {
			t.Errorf("withConnectTimeout(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
