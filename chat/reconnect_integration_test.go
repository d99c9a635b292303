package chat_test

import (
	"net"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/internal/xmpptest"
)

var fast = chat.Options{MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}

func TestReconnectCommand(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	a := start(t, account(t, srv, "alice", "pw", "gab"), fast)
	_, i := a.r.waitFrom(t, 0, "connected", 10*time.Second, is[chat.Connected](nil))
	a.c.Do(chat.Reconnect{})
	_, j := a.r.waitFrom(t, i+1, "disconnect", 10*time.Second, is(func(e chat.Disconnected) bool { return e.Err != nil && !e.Final }))
	a.r.waitFrom(t, j, "connected again", 10*time.Second, is[chat.Connected](nil))
}

func TestPingNoticesAHungServer(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	opts := fast
	opts.PingInterval, opts.PingTimeout = 200*time.Millisecond, 500*time.Millisecond
	a := start(t, account(t, srv, "alice", "pw", "gab"), opts)
	srv.Pause() // the TCP connection stays open and silent
	ev, i := a.r.waitFrom(t, 0, "ping timeout", 10*time.Second, is(func(e chat.Disconnected) bool { return e.Err != nil }))
	if !strings.Contains(ev.(chat.Disconnected).Err.Error(), "ping") {
		t.Fatalf("disconnect reason: %v", ev)
	}
	srv.Resume()
	a.r.waitFrom(t, i, "reconnect after resume", 15*time.Second, is(func(e chat.RosterReset) bool { return true }))
}

func TestSystemShutdownThenBack(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	a := start(t, account(t, srv, "alice", "pw", "gab"), fast)
	srv.Stop() // SIGTERM: <system-shutdown/>
	ev, i := a.r.waitFrom(t, 0, "shutdown", 10*time.Second, is(func(e chat.Disconnected) bool { return e.Err != nil }))
	// Prosody sends <system-shutdown/> before closing, though now and then
	// the socket closes first; either way the client must retry.
	if d := ev.(chat.Disconnected); d.Final || d.RetryIn <= 0 {
		t.Fatalf("disconnect: %+v", d)
	}
	if err := srv.Run(); err != nil {
		t.Fatal(err)
	}
	a.r.waitFrom(t, i, "back", 15*time.Second, is[chat.RosterReset](nil))
}

func TestServerDownAtStart(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Kill()
	c := chat.New(account(t, srv, "alice", "pw", "gab"), fast)
	r := newRecorder(c.Events())
	done := make(chan struct{})
	go func() { c.Run(t.Context()); close(done) }()
	r.wait(t, "a failed attempt", is(func(e chat.Disconnected) bool { return e.Err != nil && !e.Final && e.RetryIn > 0 }))
	if err := srv.Run(); err != nil {
		t.Fatal(err)
	}
	r.wait(t, "connected once the server is up", is[chat.RosterReset](nil))
}

func TestConflictStopsInsteadOfFighting(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	first := start(t, account(t, srv, "alice", "pw", "same"), fast)
	second := start(t, account(t, srv, "alice", "pw", "same"), fast)
	ev := first.r.wait(t, "conflict", is(func(e chat.Disconnected) bool { return e.Err != nil }))
	if d := ev.(chat.Disconnected); !d.Final || !strings.Contains(d.Err.Error(), "conflict") {
		t.Fatalf("first client: %+v", d)
	}
	time.Sleep(time.Second) // a fight would show as more connects and disconnects
	for _, e := range second.r.snapshot() {
		if _, ok := e.(chat.Disconnected); ok {
			t.Fatalf("the second client was disconnected: %+v", e)
		}
	}
	n := 0
	for _, e := range first.r.snapshot() {
		if _, ok := e.(chat.Connected); ok {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the first client connected %d times", n)
	}
}

// A server that redirects (see-other-host) is followed.
func TestSeeOtherHostIsFollowed(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 4096)
		c.Read(buf)
		c.Write([]byte(`<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' from='localhost' id='r'>` +
			`<stream:error><see-other-host xmlns='urn:ietf:params:xml:ns:xmpp-streams'>` + srv.Addr() + `</see-other-host></stream:error></stream:stream>`))
	}()
	acct := account(t, srv, "alice", "pw", "gab")
	acct.Server = l.Addr().String()
	a := start(t, acct, fast)
	d := a.r.wait(t, "the redirect", is[chat.Disconnected](nil)).(chat.Disconnected)
	if !strings.Contains(d.Err.Error(), "see-other-host") || d.Final {
		t.Fatalf("disconnect: %+v", d)
	}
}

func TestTwentyReconnectsLeakNothing(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	a := start(t, account(t, srv, "alice", "pw", "gab"), fast)
	_, i := a.r.waitFrom(t, 0, "connected", 10*time.Second, is[chat.RosterReset](nil))
	settle := func() int {
		time.Sleep(200 * time.Millisecond)
		return runtime.NumGoroutine()
	}
	before := settle()
	for n := 0; n < 20; n++ {
		a.c.Do(chat.Reconnect{})
		_, i = a.r.waitFrom(t, i+1, "reconnected", 10*time.Second, is[chat.RosterReset](nil))
	}
	if after := settle(); after > before+2 {
		buf := make([]byte, 1<<16)
		t.Fatalf("goroutines: %d before, %d after 20 reconnects\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}
