package postgres

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/lib/pq"
)

// Notification payloads. None holds a token: NOTIFY payloads can be read
// by every role that may LISTEN.
const (
	payloadSession   = "s:" // + hex SHA-256 of the stored token
	payloadUser      = "u:" // + user id
	payloadFlush     = "t"  // TRUNCATE, or a DELETE of many rows
	payloadHeartbeat = "h:" // + instance id + ":" + send time + ":" + MAC
	payloadProbe     = "p:" // + instance id + ":" + Sync's number + ":" + MAC, sent through the store's database
)

// own returns this instance's signed payload of kind (payloadHeartbeat or
// payloadProbe) for n. Any role that can connect may NOTIFY on the
// channel: a forged heartbeat with a late send time would stretch the
// bound, a forged probe would end Sync early. Other payloads can only
// evict, which is safe.
func (c *CachedStore) own(kind string, n uint64) string {
	body := kind + c.id + ":" + strconv.FormatUint(n, 10)
	return body + ":" + c.mac(body)
}

func (c *CachedStore) mac(body string) string {
	m := hmac.New(sha256.New, c.key[:])
	m.Write([]byte(body))
	return hex.EncodeToString(m.Sum(nil)[:16])
}

// parseOwn returns n from a payload of kind that own made here; ok is
// false for another instance's payload or a forged one.
func (c *CachedStore) parseOwn(kind, payload string) (n uint64, ok bool) {
	i := strings.LastIndexByte(payload, ':')
	if i < 0 || !strings.HasPrefix(payload, kind+c.id+":") || !hmac.Equal([]byte(payload[i+1:]), []byte(c.mac(payload[:i]))) {
		return 0, false
	}
	n, err := strconv.ParseUint(payload[len(kind)+len(c.id)+1:i], 10, 64)
	return n, err == nil
}

// listenConn is one connection of the listener and its notifications.
type listenConn struct {
	lc    *pq.ListenerConn
	notes chan *pq.Notification
}

// close closes the connection and drops what it still delivers: its
// reader blocks on a full channel otherwise, and would never end.
func (l *listenConn) close() {
	l.lc.Close()
	go func() {
		for range l.notes {
		}
	}()
}

// dial connects and LISTENs, giving up after the bound (a black-holed
// server accepts and never answers).
func (c *CachedStore) dial() (*listenConn, error) {
	type result struct {
		conn *listenConn
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		notes := make(chan *pq.Notification, 64)
		lc, err := pq.NewListenerConn(c.listenDSN, notes)
		if err != nil {
			ch <- result{err: err}
			return
		}
		if _, err := lc.Listen(c.cfg.Channel); err != nil {
			(&listenConn{lc, notes}).close()
			ch <- result{err: err}
			return
		}
		ch <- result{conn: &listenConn{lc, notes}}
	}()
	timeout := time.NewTimer(c.connectTimeout())
	defer timeout.Stop()
	select {
	case r := <-ch:
		return r.conn, r.err
	case <-timeout.C:
		go func() { // close it whenever it comes
			if r := <-ch; r.conn != nil {
				r.conn.close()
			}
		}()
		return nil, fmt.Errorf("no answer from the database within %v", c.connectTimeout())
	case <-c.stop:
		go func() {
			if r := <-ch; r.conn != nil {
				r.conn.close()
			}
		}()
		return nil, errStopped
	}
}

var errStopped = fmt.Errorf("%w: closed", ErrCacheListener)

// withConnectTimeout returns dsn with a connect_timeout of d when it has
// none, so that a connection attempt abandoned by dial (a server that
// accepts and never answers) ends by itself instead of holding a
// goroutine.
func withConnectTimeout(dsn string, d time.Duration) string {
	cfg, err := pq.NewConfig(dsn)
	if err != nil || cfg.ConnectTimeout > 0 {
		return dsn
	}
	secs := strconv.Itoa(int(d.Round(time.Second) / time.Second))
	if u, err := url.Parse(dsn); err == nil && (u.Scheme == "postgres" || u.Scheme == "postgresql") {
		q := u.Query()
		q.Set("connect_timeout", secs)
		u.RawQuery = q.Encode()
		return u.String()
	}
	return dsn + " connect_timeout=" + secs
}

func (c *CachedStore) connectTimeout() time.Duration { return max(5*c.cfg.Bound, 5*time.Second) }

// start opens the first connection and proves that a notification sent
// through the store's own database reaches it: through a transaction
// pooler it would not, since the LISTEN stays on whichever server
// connection ran it. The cache is live when it returns.
func (c *CachedStore) start(ctx context.Context) (*listenConn, error) {
	conn, err := c.dial()
	if err != nil {
		return nil, fmt.Errorf("%w: connecting to ListenDSN: %v", ErrCacheListener, err)
	}
	probe := c.own(payloadProbe, 0)
	wait := max(c.cfg.Bound, 2*time.Second)
	pctx, cancel := context.WithTimeout(ctx, wait)
	defer cancel()
	sent := c.mono()
	if _, err := c.DB().ExecContext(pctx, `SELECT pg_notify($1, $2)`, c.cfg.Channel, probe); err != nil {
		conn.close()
		return nil, fmt.Errorf("%w: sending a probe notification: %v", ErrCacheListener, err)
	}
	for {
		select {
		case n, ok := <-conn.notes:
			if !ok {
				return nil, fmt.Errorf("%w: the listener's connection ended: %v", ErrCacheListener, conn.lc.Err())
			}
			if n.Extra == probe {
				// The probe proves what a heartbeat proves (nothing has
				// been cached yet): the cache is live at once.
				c.upSince.Store(sent)
				c.lastHB.Store(sent)
				return conn, nil
			}
		case <-pctx.Done():
			conn.close()
			return nil, fmt.Errorf("%w: a notification sent through the store's database did not reach the listener within %v; "+
				"ListenDSN must be a direct connection to the same database (a transaction pooler such as PgBouncer in transaction mode cannot carry LISTEN)",
				ErrCacheListener, wait)
		}
	}
}

// up marks a fresh connection: the cache, emptied, waits for a heartbeat
// sent from now on before it answers again.
func (c *CachedStore) up() {
	c.flush()
	c.upSince.Store(c.mono())
}

// markDown bypasses the cache and empties it: notifications may be lost.
func (c *CachedStore) markDown() {
	c.upSince.Store(down)
	c.flush()
	c.synced(^uint64(0))
}

// run keeps a listener connected until Close, reconnecting with backoff.
func (c *CachedStore) run(conn *listenConn) {
	defer close(c.done)
	backoff := c.cfg.Bound / 10
	for {
		if conn != nil {
			c.serve(conn)
			conn.close()
			c.markDown()
			backoff = c.cfg.Bound / 10
		}
		select {
		case <-c.stop:
			return
		case <-time.After(backoff):
		}
		var err error
		conn, err = c.dial()
		if err != nil {
			conn = nil
			backoff = min(2*backoff, 5*c.cfg.Bound)
			continue
		}
		c.up()
	}
}

// serve applies notifications in the order they come (the order of
// commit) and sends a heartbeat every Bound/4 through the same
// connection. It returns when the connection fails, when a heartbeat has
// not come back for twice the bound (a silent stall), or on Close.
func (c *CachedStore) serve(conn *listenConn) {
	tick := time.NewTicker(c.cfg.Bound / 4)
	defer tick.Stop()
	hbErr := make(chan error, 1)
	sending := false
	hbDone := make(chan struct{}, 1)
	since := c.mono()
	check := time.NewTicker(10 * c.cfg.Bound)
	defer check.Stop()
	checked := make(chan error, 1)
	checking := false
	for {
		select {
		case <-check.C:
			if !checking {
				checking = true
				go func() {
					ctx, cancel := context.WithTimeout(context.Background(), c.connectTimeout())
					defer cancel()
					checked <- c.checkCacheTrigger(ctx, c.cfg.Channel)
				}()
			}
		case err := <-checked:
			checking = false
			c.setTrigger(err == nil)
		case <-c.stop:
			return
		case n, ok := <-conn.notes:
			if !ok {
				return
			}
			c.apply(n.Extra)
		case <-hbErr:
			return
		case <-hbDone:
			sending = false
		case <-tick.C:
			now := c.mono()
			if now-max(c.lastHB.Load(), since) > 2*int64(c.cfg.Bound) {
				return // stalled: reconnect
			}
			if sending {
				continue
			}
			sending = true
			q := fmt.Sprintf(`NOTIFY %s, '%s'`, pq.QuoteIdentifier(c.cfg.Channel), c.own(payloadHeartbeat, uint64(now)))
			go func() {
				if _, err := conn.lc.ExecSimpleQuery(q); err != nil {
					select {
					case hbErr <- err:
					default:
					}
				}
				hbDone <- struct{}{}
			}()
		}
	}
}

// setTrigger records whether the trigger is there. A change either way
// empties the cache: without the trigger other writers go unheard, and
// what they did meanwhile was never notified.
func (c *CachedStore) setTrigger(ok bool) {
	if c.triggerOK.Swap(ok) != ok {
		c.flush()
	}
}

// apply acts on one notification. Anything it cannot read empties the
// cache, to be safe.
func (c *CachedStore) apply(payload string) {
	switch {
	case strings.HasPrefix(payload, payloadHeartbeat):
		// A heartbeat cannot have been sent after it arrived: a time
		// later than now is no heartbeat of ours.
		if t, ok := c.parseOwn(payloadHeartbeat, payload); ok && int64(t) > c.lastHB.Load() && int64(t) <= c.mono() {
			c.lastHB.Store(int64(t))
		}
	case strings.HasPrefix(payload, payloadSession):
		var h [32]byte
		x := payload[len(payloadSession):]
		if len(x) != 2*len(h) {
			c.flush()
			return
		}
		if _, err := hex.Decode(h[:], []byte(x)); err != nil {
			c.flush()
			return
		}
		c.evictHash(h)
	case strings.HasPrefix(payload, payloadUser):
		c.evictUser(payload[len(payloadUser):])
	case strings.HasPrefix(payload, payloadProbe):
		if n, ok := c.parseOwn(payloadProbe, payload); ok {
			c.synced(n)
		}
	default:
		c.flush()
	}
}
