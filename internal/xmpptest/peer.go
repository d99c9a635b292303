package xmpptest

import (
	"bufio"
	_ "embed"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

//go:embed peer.py
var peerScript []byte

// PeerEvent is one line the slixmpp peer reported.
type PeerEvent map[string]any

// Get returns a field as a string.
func (e PeerEvent) Get(k string) string {
	if v, ok := e[k]; ok && v != nil {
		return fmt.Sprint(v)
	}
	return ""
}

// Peer is a slixmpp client, a program nobody here wrote, logged in to the
// test server.
type Peer struct {
	JID    string
	cmd    *exec.Cmd
	stdin  io.WriteCloser
	mu     sync.Mutex
	events []PeerEvent
	cond   *sync.Cond
	done   chan struct{}
}

// Python is the interpreter that has slixmpp (Debian's python3-slixmpp).
const Python = "/usr/bin/python3"

// StartPeer logs user in with slixmpp and waits until it is ready.
func (s *Server) StartPeer(t testing.TB, user, pass string) *Peer {
	t.Helper()
	return startPeer(t, s.Dir, s.CAFile, s.Port, user, pass)
}

// StartPeer logs user in to ejabberd with slixmpp and waits until it is
// ready.
func (s *Ejabberd) StartPeer(t testing.TB, user, pass string) *Peer {
	t.Helper()
	return startPeer(t, s.Dir, s.CAFile, s.Port, user, pass)
}

// startPeer runs the peer script (written into dir) as user against the
// server on 127.0.0.1:port whose certificate is caFile.
func startPeer(t testing.TB, dir, caFile string, port int, user, pass string) *Peer {
	t.Helper()
	if _, err := os.Stat(Python); err != nil {
		t.Fatalf("%s is missing; `make test` installs python3-slixmpp", Python)
	}
	script := filepath.Join(dir, "peer.py")
	if err := os.WriteFile(script, peerScript, 0o600); err != nil {
		t.Fatal(err)
	}
	p := &Peer{JID: user + "@" + Domain, done: make(chan struct{})}
	p.cond = sync.NewCond(&p.mu)
	p.cmd = exec.Command(Python, script, p.JID, pass, caFile, "127.0.0.1", strconv.Itoa(port))
	var err error
	if p.stdin, err = p.cmd.StdinPipe(); err != nil {
		t.Fatal(err)
	}
	stdout, err := p.cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	p.cmd.Stderr = &stderr
	if err := p.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() {
		defer close(p.done)
		sc := bufio.NewScanner(stdout)
		sc.Buffer(make([]byte, 1<<20), 1<<20)
		for sc.Scan() {
			var ev PeerEvent
			if json.Unmarshal(sc.Bytes(), &ev) != nil {
				continue
			}
			p.mu.Lock()
			p.events = append(p.events, ev)
			p.cond.Broadcast()
			p.mu.Unlock()
		}
		p.mu.Lock()
		p.cond.Broadcast()
		p.mu.Unlock()
	}()
	t.Cleanup(func() {
		p.stdin.Close()
		select {
		case <-p.done:
		case <-time.After(5 * time.Second):
			p.cmd.Process.Kill()
			<-p.done
		}
		p.cmd.Wait()
	})
	if _, ok := p.Wait(RoundTrip, func(e PeerEvent) bool { return e.Get("event") == "ready" }); !ok {
		t.Fatalf("slixmpp peer %s did not get ready: %s", p.JID, stderr.String())
	}
	return p
}

// Send gives the peer one command, such as {"cmd": "send", "to": ..., "body": ...}.
func (p *Peer) Send(t testing.TB, cmd map[string]any) {
	t.Helper()
	b, _ := json.Marshal(cmd)
	if _, err := p.stdin.Write(append(b, '\n')); err != nil {
		t.Fatalf("peer %s: %v", p.JID, err)
	}
}

// Wait returns the first event (from the start) matching ok, waiting up to
// Timeout(d) for it; events matched are not consumed.
func (p *Peer) Wait(d time.Duration, ok func(PeerEvent) bool) (PeerEvent, bool) {
	return p.waitFrom(0, d, ok)
}

// waitFrom is Wait over the events after the first mark.
func (p *Peer) waitFrom(mark int, d time.Duration, ok func(PeerEvent) bool) (PeerEvent, bool) {
	d = Timeout(d)
	deadline := time.Now().Add(d)
	timer := time.AfterFunc(d, func() { p.mu.Lock(); p.cond.Broadcast(); p.mu.Unlock() })
	defer timer.Stop()
	p.mu.Lock()
	defer p.mu.Unlock()
	for {
		for _, e := range p.events[min(mark, len(p.events)):] {
			if ok(e) {
				return e, true
			}
		}
		select {
		case <-p.done:
			return nil, false
		default:
		}
		if time.Now().After(deadline) {
			return nil, false
		}
		p.cond.Wait()
	}
}

// Events returns a copy of everything reported so far.
func (p *Peer) Events() []PeerEvent {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]PeerEvent(nil), p.events...)
}
