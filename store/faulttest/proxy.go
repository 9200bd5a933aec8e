package faulttest

import (
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy forwards TCP connections from a loopback port to a target address.
// Its methods are safe for concurrent use.
type Proxy struct {
	target string
	ln     net.Listener

	mu  sync.Mutex
	cut bool
	// gate is closed while bytes flow; during a black hole it is open,
	// and every copy waits on it with what it has read.
	gate chan struct{}
	// conns maps each client connection to its server connection (nil
	// while the server is being dialled).
	conns map[net.Conn]net.Conn

	wg       sync.WaitGroup
	accepted atomic.Int64
	severed  atomic.Int64
	refused  atomic.Int64
}

// NewProxy starts a proxy on 127.0.0.1 at a free port, forwarding to
// target ("host:port"). It is closed when the test ends.
func NewProxy(tb testing.TB, target string) *Proxy {
	tb.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("faulttest: %v", err)
	}
	p := &Proxy{target: target, ln: ln, conns: map[net.Conn]net.Conn{}, gate: make(chan struct{})}
	close(p.gate)
	p.wg.Add(1)
	go p.accept()
	tb.Cleanup(p.Close)
	return p
}

// Addr is the proxy's "host:port", for the client's connection string.
func (p *Proxy) Addr() string { return p.ln.Addr().String() }

// Cut resets every connection through the proxy, in both directions, and
// makes it refuse new ones (they are accepted and reset at once) until
// Restore. It returns how many connections it cut.
func (p *Proxy) Cut() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.cut = true
	n := p.resetAll()
	p.severed.Add(int64(n))
	return n
}

// resetAll resets every connection pair; p.mu is held.
func (p *Proxy) resetAll() int {
	n := 0
	for c, s := range p.conns {
		reset(c)
		if s != nil {
			reset(s)
		}
		delete(p.conns, c)
		n++
	}
	return n
}

// BlackHole makes the proxy a database that accepts connections and then
// says nothing: connections stay open and new ones are accepted, but no
// byte is passed on in either direction; what is read is held, as a
// network path that drops packets holds them in the senders' buffers.
// Restore passes the held bytes on, as a path that comes back does.
func (p *Proxy) BlackHole() {
	p.mu.Lock()
	defer p.mu.Unlock()
	select {
	case <-p.gate:
		p.gate = make(chan struct{})
	default: // already a black hole
	}
}

// Restore lets connections through again and ends a black hole.
// Connections cut before stay cut.
func (p *Proxy) Restore() {
	p.mu.Lock()
	p.cut = false
	p.open()
	p.mu.Unlock()
}

// open ends a black hole; p.mu is held.
func (p *Proxy) open() {
	select {
	case <-p.gate:
	default:
		close(p.gate)
	}
}

// wait returns when bytes may flow.
func (p *Proxy) wait() {
	p.mu.Lock()
	g := p.gate
	p.mu.Unlock()
	<-g
}

// Stats says how many client connections were accepted and forwarded, how
// many were severed by Cut, and how many were refused while cut.
func (p *Proxy) Stats() (forwarded, severed, refused int64) {
	return p.accepted.Load(), p.severed.Load(), p.refused.Load()
}

// Close stops the proxy and resets every connection through it.
func (p *Proxy) Close() {
	p.ln.Close()
	p.mu.Lock()
	p.cut = true
	p.resetAll()
	p.open()
	p.mu.Unlock()
	p.wg.Wait()
}

func (p *Proxy) accept() {
	defer p.wg.Done()
	for {
		c, err := p.ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			continue
		}
		p.mu.Lock()
		if p.cut {
			p.mu.Unlock()
			p.refused.Add(1)
			reset(c)
			continue
		}
		p.conns[c] = nil
		p.mu.Unlock()
		p.wg.Add(1)
		go p.forward(c)
	}
}

// forward dials the target for client c and copies both ways until either
// side ends or Cut resets them.
func (p *Proxy) forward(c net.Conn) {
	defer p.wg.Done()
	s, err := net.Dial("tcp", p.target)
	if err != nil {
		p.drop(c)
		reset(c)
		return
	}
	p.mu.Lock()
	if _, ok := p.conns[c]; !ok { // cut while dialling
		p.mu.Unlock()
		reset(s)
		return
	}
	p.conns[c] = s
	p.mu.Unlock()
	p.accepted.Add(1)

	done := make(chan struct{}, 2)
	pipe := func(dst, src net.Conn) {
		buf := make([]byte, 32<<10)
		for {
			n, err := src.Read(buf)
			if n > 0 {
				p.wait()
				if _, werr := dst.Write(buf[:n]); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		done <- struct{}{}
	}
	go pipe(s, c)
	go pipe(c, s)
	<-done
	// One side ended: end the other, so that a half-open connection never
	// hangs the client.
	p.drop(c)
	c.Close()
	s.Close()
	<-done
}

func (p *Proxy) drop(c net.Conn) {
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}

// reset closes c with an RST rather than a FIN, as a crashed server or a
// dropped network path looks to the other end.
func reset(c net.Conn) {
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = c.Close()
}
