package faulttest_test

import (
	"bufio"
	"io"
	"net"
	"testing"
	"time"

	"github.com/nextsession/nextsession/store/faulttest"
)

// echoServer answers every line with the same line, until the test ends.
func echoServer(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				_, _ = io.Copy(c, c)
			}()
		}
	}()
	return ln.Addr().String()
}

// roundTrip sends a line on c and reads it back; it fails if the
// connection is broken.
func roundTrip(c net.Conn, line string) error {
	_ = c.SetDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c, line+"\n"); err != nil {
		return err
	}
	got, err := bufio.NewReader(c).ReadString('\n')
	if err != nil {
		return err
	}
	if got != line+"\n" {
		return io.ErrUnexpectedEOF
	}
	return nil
}

func dial(t *testing.T, addr string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func TestProxyForwardsCutsAndRestores(t *testing.T) {
	p := faulttest.NewProxy(t, echoServer(t))

	a := dial(t, p.Addr())
	if err := roundTrip(a, "hello"); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	b := dial(t, p.Addr())
	if err := roundTrip(b, "again"); err != nil {
		t.Fatalf("second connection: %v", err)
	}

	if n := p.Cut(); n != 2 {
		t.Errorf("Cut cut %d connections, want 2", n)
	}
	if err := roundTrip(a, "after cut"); err == nil {
		t.Error("a connection works after Cut")
	}
	// New connections are refused while cut: the dial may succeed, but
	// nothing comes through.
	if c, err := net.Dial("tcp", p.Addr()); err == nil {
		if err := roundTrip(c, "while cut"); err == nil {
			t.Error("a new connection works while cut")
		}
		c.Close()
	}

	p.Restore()
	if err := roundTrip(b, "old connection"); err == nil {
		t.Error("a connection cut before Restore works again")
	}
	c := dial(t, p.Addr())
	if err := roundTrip(c, "restored"); err != nil {
		t.Fatalf("after Restore: %v", err)
	}

	forwarded, severed, refused := p.Stats()
	if forwarded != 3 || severed != 2 || refused < 1 {
		t.Errorf("Stats() = %d forwarded, %d severed, %d refused; want 3, 2, >= 1", forwarded, severed, refused)
	}
}

// TestProxyServerGone: when the target closes a connection, the client's
// end is closed too rather than left hanging.
func TestProxyServerGone(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		c, err := ln.Accept()
		if err == nil {
			c.Close()
		}
	}()
	p := faulttest.NewProxy(t, ln.Addr().String())
	c := dial(t, p.Addr())
	_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
	if _, err := c.Read(make([]byte, 1)); err == nil {
		t.Error("read data from a closed server")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Error("the client hangs after the server closed")
	}
}

// TestProxyTargetDown: with nothing listening at the target, connections
// through the proxy fail at once.
func TestProxyTargetDown(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	p := faulttest.NewProxy(t, addr)
	c, err := net.Dial("tcp", p.Addr())
	if err != nil {
		return // reset before the dial returned
	}
	defer c.Close()
	if err := roundTrip(c, "nobody"); err == nil {
		t.Error("a connection to a dead target works")
	}
}

// TestProxyBlackHole: during a black hole connections stay open and new
// ones are accepted, but nothing is answered; after Restore the held bytes
// arrive and every connection works.
func TestProxyBlackHole(t *testing.T) {
	p := faulttest.NewProxy(t, echoServer(t))
	a := dial(t, p.Addr())
	if err := roundTrip(a, "before"); err != nil {
		t.Fatal(err)
	}
	p.BlackHole()
	silent := func(c net.Conn, line string) *bufio.Reader {
		t.Helper()
		if _, err := io.WriteString(c, line+"\n"); err != nil {
			t.Fatalf("writing into the black hole: %v", err)
		}
		r := bufio.NewReader(c)
		_ = c.SetReadDeadline(time.Now().Add(200 * time.Millisecond))
		if got, err := r.ReadString('\n'); err == nil {
			t.Errorf("the black hole answered %q", got)
		} else if ne, ok := err.(net.Error); !ok || !ne.Timeout() {
			t.Errorf("the black hole closed the connection: %v", err)
		}
		return r
	}
	ra := silent(a, "held")
	b := dial(t, p.Addr()) // accepted while black-holed
	rb := silent(b, "held too")

	p.Restore()
	for _, c := range []struct {
		c    net.Conn
		r    *bufio.Reader
		line string
	}{{a, ra, "held"}, {b, rb, "held too"}} {
		_ = c.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if got, err := c.r.ReadString('\n'); err != nil || got != c.line+"\n" {
			t.Errorf("after Restore: %q, %v; want the held %q", got, err, c.line)
		}
	}
	if err := roundTrip(a, "after"); err != nil {
		t.Errorf("after Restore: %v", err)
	}
}
