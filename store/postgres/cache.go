package postgres

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"time"

	"github.com/nextsession/nextsession/session"
)

// Defaults of CacheConfig.
const (
	// DefaultCacheChannel is the channel the trigger notifies and the
	// cache listens on.
	DefaultCacheChannel = "nextsession_cache"
	// DefaultCacheBound is how stale a cached entry may be when the
	// listener fails silently.
	DefaultCacheBound = time.Second
	// DefaultCacheTTL is how long an entry lives in the cache.
	DefaultCacheTTL = 5 * time.Minute
	// DefaultCacheEntries is the most entries a cache holds.
	DefaultCacheEntries = 100_000
)

// CacheConfig configures NewCache. Only ListenDSN is required.
type CacheConfig struct {
	// ListenDSN is a direct connection string to the database (not
	// through a transaction pooler, which cannot carry LISTEN). The cache
	// holds one connection on it.
	ListenDSN string
	// Channel is the channel the trigger notifies: the one passed to
	// Store.InstallCacheTrigger. Default DefaultCacheChannel.
	Channel string
	// Bound is the most a revocation by any writer can go unseen when
	// the listener fails: the cache is used only while a heartbeat sent
	// less than Bound ago has come back through the listener, which
	// receives notifications in commit order. Heartbeats go every
	// Bound/4. Default DefaultCacheBound.
	Bound time.Duration
	// TTL is how long an entry lives, whatever the notifications say.
	// Default DefaultCacheTTL.
	TTL time.Duration
	// MaxEntries bounds the cache; when it is full an arbitrary entry
	// makes room. Default DefaultCacheEntries.
	MaxEntries int
}

// ErrCacheListener is returned by NewCache when the listener cannot be
// set up or cannot prove that it receives notifications: the cache is
// then refused rather than run without invalidation.
var ErrCacheListener = errors.New("postgres: cache listener")

// CachedStore is a Store with a validation cache in front of
// GetSessionAndUser: a session read once is answered from memory until a
// notification from the database trigger (any writer: another instance,
// Auth.js, plain SQL), a local change, its TTL or a listener failure
// takes it out. Every other method is the Store's, and every method that
// changes sessions or users evicts what it changes at once, locally.
//
// The Manager on a CachedStore keeps NextAuth's rules: it checks expiry
// on every hit and writes a sliding extension through UpdateSession, which
// evicts the entry. See NewCache for the guarantees.
type CachedStore struct {
	*Store
	cfg       CacheConfig
	listenDSN string   // cfg.ListenDSN with a connect_timeout
	id        string   // names this instance's heartbeats and probes
	key       [32]byte // signs them

	base      time.Time    // monotonic origin of the times below
	upSince   atomic.Int64 // when the listener was last (re)connected; maxInt64 while down
	lastHB    atomic.Int64 // send time of the newest own heartbeat received
	triggerOK atomic.Bool  // the trigger was found at the last check

	mu      sync.RWMutex
	entries map[string]cacheEntry // by stored token
	byHash  map[[32]byte]string   // SHA-256 of the token -> token
	byUser  map[string]map[string]struct{}
	global  uint64      // bumped by user evictions and flushes
	stripes [256]uint64 // bumped by evictions of tokens whose hash starts with the index

	hits, misses, bypassed, evictions, flushes atomic.Int64

	syncMu   sync.Mutex
	syncSeq  uint64
	syncWait map[uint64]chan struct{}

	stop chan struct{}
	done chan struct{}
	once sync.Once
}

type cacheEntry struct {
	s     session.Session
	u     session.User
	hash  [32]byte
	until int64 // TTL end, in mono time
}

var (
	_ session.Adapter       = (*CachedStore)(nil)
	_ session.SessionPeeker = (*CachedStore)(nil)
)

const down = int64(^uint64(0) >> 1)

// NewCache returns st with a validation cache, listening for the trigger's
// notifications on a connection of its own (cfg.ListenDSN). It fails with
// ErrCacheListener, wrapped, when the trigger is missing or differs from
// the one Store.InstallCacheTrigger installs for cfg.Channel, when the
// listener cannot connect, or when a notification sent through st's
// database does not reach the listener within the bound (a transaction
// pooler on ListenDSN, say): no cache is better than one no revocation
// reaches.
//
// The cache is live when NewCache returns. Once running, it is bypassed
// (every validation reads the database) while the listener is down,
// reconnecting, or has not seen its own heartbeat within cfg.Bound, and
// while the trigger is missing (checked every 10 bounds); it is emptied
// whenever the connection is lost, since notifications may have been
// missed. Stop the listener with Close.
func NewCache(ctx context.Context, st *Store, cfg CacheConfig) (*CachedStore, error) {
	if st == nil {
		panic("postgres: NewCache with a nil *Store")
	}
	if cfg.ListenDSN == "" {
		return nil, fmt.Errorf("%w: CacheConfig.ListenDSN is empty (a direct connection string is needed for LISTEN)", ErrCacheListener)
	}
	if cfg.Bound < 0 || cfg.TTL < 0 || cfg.MaxEntries < 0 {
		panic("postgres: negative value in CacheConfig")
	}
	if cfg.Channel == "" {
		cfg.Channel = DefaultCacheChannel
	}
	if cfg.Bound == 0 {
		cfg.Bound = DefaultCacheBound
	}
	if cfg.TTL == 0 {
		cfg.TTL = DefaultCacheTTL
	}
	if cfg.MaxEntries == 0 {
		cfg.MaxEntries = DefaultCacheEntries
	}
	if err := checkChannel(cfg.Channel); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCacheListener, err)
	}
	if IsPoolerDSN(cfg.ListenDSN) {
		return nil, fmt.Errorf("%w: ListenDSN names a transaction pooler, which cannot carry LISTEN: give the database's direct URL", ErrCacheListener)
	}
	if err := st.checkCacheTrigger(ctx, cfg.Channel); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrCacheListener, err)
	}
	var id [8]byte
	if _, err := rand.Read(id[:]); err != nil {
		return nil, err
	}
	c := &CachedStore{
		Store:    st,
		cfg:      cfg,
		id:       hex.EncodeToString(id[:]),
		base:     time.Now(),
		entries:  map[string]cacheEntry{},
		byHash:   map[[32]byte]string{},
		byUser:   map[string]map[string]struct{}{},
		syncWait: map[uint64]chan struct{}{},
		stop:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	if _, err := rand.Read(c.key[:]); err != nil {
		return nil, err
	}
	c.listenDSN = withConnectTimeout(cfg.ListenDSN, c.connectTimeout())
	c.triggerOK.Store(true)
	c.upSince.Store(down)
	conn, err := c.start(ctx)
	if err != nil {
		return nil, err
	}
	go c.run(conn)
	return c, nil
}

// Close stops the listener; the cache is bypassed from then on. The Store
// and its database stay open. It is safe to call more than once.
func (c *CachedStore) Close() error {
	c.once.Do(func() { close(c.stop) })
	<-c.done
	return nil
}

// Sync waits until every change committed before the call has reached
// the cache: it sends a notification through the store's database and
// waits for it to come back through the listener, which receives
// notifications in commit order. It returns at once when the cache is not
// live (validations then read the database). A test, or a request that
// must see a change another writer has just made, calls it.
func (c *CachedStore) Sync(ctx context.Context) error {
	if !c.Live() {
		return nil
	}
	ch := make(chan struct{})
	c.syncMu.Lock()
	c.syncSeq++
	seq := c.syncSeq
	c.syncWait[seq] = ch
	c.syncMu.Unlock()
	defer func() {
		c.syncMu.Lock()
		delete(c.syncWait, seq)
		c.syncMu.Unlock()
	}()
	if _, err := c.DB().ExecContext(ctx, `SELECT pg_notify($1, $2)`, c.cfg.Channel, c.own(payloadProbe, seq)); err != nil {
		return fmt.Errorf("postgres: cache sync: %w", err)
	}
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// synced releases the Sync calls up to seq (all of them when seq is
// maxUint64: the cache was emptied).
func (c *CachedStore) synced(seq uint64) {
	c.syncMu.Lock()
	defer c.syncMu.Unlock()
	for s, ch := range c.syncWait {
		if s <= seq {
			close(ch)
			delete(c.syncWait, s)
		}
	}
}

// CacheStats counts what a CachedStore did since NewCache.
type CacheStats struct {
	// Hits and Misses count validations answered from memory and from
	// the database while the cache was live; Bypassed counts those that
	// went to the database because it was not.
	Hits, Misses, Bypassed int64
	// Evictions counts entries taken out by notifications and local
	// changes; Flushes counts times the whole cache was emptied.
	Evictions, Flushes int64
	// Entries is how many sessions are cached now.
	Entries int
	// Live says whether hits are answered from memory now.
	Live bool
}

// Stats returns the cache's counters.
func (c *CachedStore) Stats() CacheStats {
	c.mu.RLock()
	n := len(c.entries)
	c.mu.RUnlock()
	return CacheStats{
		Hits: c.hits.Load(), Misses: c.misses.Load(), Bypassed: c.bypassed.Load(),
		Evictions: c.evictions.Load(), Flushes: c.flushes.Load(),
		Entries: n, Live: c.live(c.mono()),
	}
}

// Live reports whether the cache answers from memory now: the listener is
// connected and its own heartbeat came back less than Bound ago.
func (c *CachedStore) Live() bool { return c.live(c.mono()) }

func (c *CachedStore) mono() int64 { return int64(time.Since(c.base)) }

func (c *CachedStore) live(now int64) bool {
	hb := c.lastHB.Load()
	return hb >= c.upSince.Load() && now-hb < int64(c.cfg.Bound) && c.triggerOK.Load()
}

// GetSessionAndUser implements session.Store: from memory while the cache
// is live, else from the database (and then remembered).
func (c *CachedStore) GetSessionAndUser(ctx context.Context, token string) (session.Session, session.User, error) {
	if !c.Live() {
		c.bypassed.Add(1)
		return c.Store.GetSessionAndUser(ctx, token)
	}
	if s, u, ok := c.PeekSessionAndUser(token); ok {
		return s, u, nil
	}
	c.misses.Add(1)
	h := sha256.Sum256([]byte(token))
	c.mu.RLock()
	global, stripe := c.global, c.stripes[h[0]]
	c.mu.RUnlock()
	s, u, err := c.Store.GetSessionAndUser(ctx, token)
	if err != nil {
		return s, u, err
	}
	c.put(token, h, global, stripe, s, u)
	return s, u, nil
}

// PeekSessionAndUser implements session.SessionPeeker: the cached
// session and user, when the cache is live and holds them. It never
// blocks, so the Manager calls it outside its Config.Timeout.
func (c *CachedStore) PeekSessionAndUser(token string) (session.Session, session.User, bool) {
	now := c.mono()
	if !c.live(now) {
		return session.Session{}, session.User{}, false
	}
	c.mu.RLock()
	e, ok := c.entries[token]
	c.mu.RUnlock()
	if !ok || now >= e.until || !c.live(now) {
		return session.Session{}, session.User{}, false
	}
	c.hits.Add(1)
	return e.s, e.u, true
}

// put caches what a read found, unless an eviction that could concern it
// (of its token, of any user, or a flush) happened since the read began:
// the row read may then be one a notification already took out.
func (c *CachedStore) put(token string, h [32]byte, global, stripe uint64, s session.Session, u session.User) {
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.mono()
	if c.global != global || c.stripes[h[0]] != stripe || !c.live(now) {
		return
	}
	if _, ok := c.entries[token]; !ok && len(c.entries) >= c.cfg.MaxEntries {
		for t := range c.entries {
			c.removeLocked(t)
			break
		}
	}
	c.removeLocked(token)
	c.entries[token] = cacheEntry{s: s, u: u, hash: h, until: now + int64(c.cfg.TTL)}
	c.byHash[h] = token
	set := c.byUser[u.ID]
	if set == nil {
		set = map[string]struct{}{}
		c.byUser[u.ID] = set
	}
	set[token] = struct{}{}
}

// removeLocked takes one entry out of every index; c.mu is held.
func (c *CachedStore) removeLocked(token string) bool {
	e, ok := c.entries[token]
	if !ok {
		return false
	}
	delete(c.entries, token)
	delete(c.byHash, e.hash)
	if set := c.byUser[e.u.ID]; set != nil {
		delete(set, token)
		if len(set) == 0 {
			delete(c.byUser, e.u.ID)
		}
	}
	return true
}

// evictHash takes out the session whose stored token has hash h, and
// refuses any read of it under way.
func (c *CachedStore) evictHash(h [32]byte) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.stripes[h[0]]++
	if t, ok := c.byHash[h]; ok && c.removeLocked(t) {
		c.evictions.Add(1)
	}
}

func (c *CachedStore) evictToken(token string) { c.evictHash(sha256.Sum256([]byte(token))) }

// evictUser takes out every session of the user, and refuses every read
// under way (a read does not know its user before it ends).
func (c *CachedStore) evictUser(userID string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.global++
	for t := range c.byUser[userID] {
		if c.removeLocked(t) {
			c.evictions.Add(1)
		}
	}
}

// flush empties the cache and refuses every read under way.
func (c *CachedStore) flush() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.global++
	c.flushes.Add(1)
	clear(c.entries)
	clear(c.byHash)
	clear(c.byUser)
}

// CreateSession implements session.Store.
func (c *CachedStore) CreateSession(ctx context.Context, s session.Session) (session.Session, error) {
	defer c.evictToken(s.Token)
	return c.Store.CreateSession(ctx, s)
}

// UpdateSession implements session.Store and evicts the session, so that
// the next read takes the new row.
func (c *CachedStore) UpdateSession(ctx context.Context, u session.SessionUpdate) error {
	defer c.evictToken(u.Token)
	return c.Store.UpdateSession(ctx, u)
}

// DeleteSession implements session.Store and evicts the session.
func (c *CachedStore) DeleteSession(ctx context.Context, token string) error {
	defer c.evictToken(token)
	return c.Store.DeleteSession(ctx, token)
}

// DeleteUserSessions implements session.UserSessionDeleter and evicts the
// user's sessions (the one kept is read again on its next request).
func (c *CachedStore) DeleteUserSessions(ctx context.Context, userID, keep string) (int64, error) {
	defer c.evictUser(userID)
	return c.Store.DeleteUserSessions(ctx, userID, keep)
}

// UpdateUser implements session.Adapter and evicts the user's sessions,
// which carry a copy of the user.
func (c *CachedStore) UpdateUser(ctx context.Context, u session.User, fields session.UserFields) (session.User, error) {
	defer c.evictUser(u.ID)
	return c.Store.UpdateUser(ctx, u, fields)
}

// DeleteExpired implements session.ExpiredDeleter and evicts the cached
// sessions that had expired by now, so that a swept row is not read back
// from memory (the Manager refuses an expired entry anyway).
func (c *CachedStore) DeleteExpired(ctx context.Context, now time.Time, limit int) (int64, error) {
	n, err := c.Store.DeleteExpired(ctx, now, limit)
	if n > 0 {
		c.mu.Lock()
		c.global++
		for t, e := range c.entries {
			if e.s.Expires.Before(now) && c.removeLocked(t) {
				c.evictions.Add(1)
			}
		}
		c.mu.Unlock()
	}
	return n, err
}

// DeleteUser implements session.Adapter and evicts the user's sessions.
func (c *CachedStore) DeleteUser(ctx context.Context, id string) error {
	defer c.evictUser(id)
	return c.Store.DeleteUser(ctx, id)
}
