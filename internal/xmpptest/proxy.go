package xmpptest

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// Proxy forwards TCP connections to a server so a test can break them:
// swallow traffic (a dead route) or cut them (a dropped connection).
type Proxy struct {
	l      net.Listener
	addr   string
	target string
	drop   atomic.Bool
	mu     sync.Mutex
	conns  []net.Conn
	closed bool // the test ended
	wg     sync.WaitGroup
}

// StartProxy forwards a loopback port to target until the test ends.
func StartProxy(t testing.TB, target string) *Proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &Proxy{l: l, addr: l.Addr().String(), target: target}
	p.wg.Add(1)
	go p.accept(l)
	t.Cleanup(func() {
		p.mu.Lock()
		p.closed = true
		if p.l != nil {
			p.l.Close()
		}
		p.mu.Unlock()
		p.Cut()
		p.wg.Wait()
	})
	return p
}

// Addr is where clients connect.
func (p *Proxy) Addr() string { return p.addr }

// Refuse cuts every connection and stops listening: connecting is refused
// (ECONNREFUSED), as with a server that is down or restarting.
func (p *Proxy) Refuse() {
	p.mu.Lock()
	if p.l != nil {
		p.l.Close()
		p.l = nil
	}
	p.mu.Unlock()
	p.Cut()
}

// Allow listens again on the same address after Refuse.
func (p *Proxy) Allow(t testing.TB) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.l != nil || p.closed {
		return
	}
	l, err := net.Listen("tcp", p.addr)
	if err != nil {
		t.Fatalf("proxy: listen again on %s: %v", p.addr, err)
	}
	p.l = l
	p.wg.Add(1)
	go p.accept(l)
}

func (p *Proxy) accept(l net.Listener) {
	defer p.wg.Done()
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		s, err := net.Dial("tcp", p.target)
		if err != nil {
			c.Close()
			continue
		}
		p.mu.Lock()
		p.conns = append(p.conns, c, s)
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pipe(c, s)
		go p.pipe(s, c)
	}
}

// pipe copies until either side breaks; while dropping, bytes vanish.
func (p *Proxy) pipe(dst, src net.Conn) {
	defer p.wg.Done()
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 && !p.drop.Load() {
			if _, werr := dst.Write(buf[:n]); werr != nil {
				src.Close()
				return
			}
		}
		if err != nil {
			if err != io.EOF {
				dst.Close()
			}
			dst.Close()
			return
		}
	}
}

// Blackhole stops forwarding in both directions but keeps the connections
// open: what is sent is lost, and nobody notices by TCP alone.
func (p *Proxy) Blackhole() { p.drop.Store(true) }

// Cut resets every connection and forwards again for new ones.
func (p *Proxy) Cut() {
	p.mu.Lock()
	conns := p.conns
	p.conns = nil
	p.mu.Unlock()
	for _, c := range conns {
		if tc, ok := c.(*net.TCPConn); ok {
			tc.SetLinger(0) // RST, like a dropped route coming back
		}
		c.Close()
	}
	p.drop.Store(false)
}
