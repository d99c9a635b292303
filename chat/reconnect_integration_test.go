package chat_test

import (
	"context"
	"net"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/xmpp"
)

var fast = chat.Options{MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond}

func TestReconnectCommand(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	a := start(t, account(t, srv, "alice", "pw", "gab"), fast)
	_, i := a.r.waitFrom(t, 0, "connected", xmpptest.RoundTrip, is[chat.Connected](nil))
	a.c.Do(chat.Reconnect{})
	_, j := a.r.waitFrom(t, i+1, "disconnect", xmpptest.RoundTrip, is(func(e chat.Disconnected) bool { return e.Err != nil && !e.Final }))
	a.r.waitFrom(t, j, "connected again", xmpptest.RoundTrip, is[chat.Connected](nil))
}

func TestPingNoticesAHungServer(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	opts := fast
	opts.PingInterval, opts.PingTimeout = 200*time.Millisecond, 500*time.Millisecond
	a := start(t, account(t, srv, "alice", "pw", "gab"), opts)
	// On a busy machine a ping may go unanswered even before the pause:
	// only what comes after it counts, and coming back may resume the
	// session (Connected) or start a new one.
	n := len(a.r.snapshot())
	srv.Pause() // the TCP connection stays open and silent
	ev, i := a.r.waitFrom(t, n, "ping timeout", xmpptest.RoundTrip, is(func(e chat.Disconnected) bool { return e.Err != nil }))
	if !strings.Contains(ev.(chat.Disconnected).Err.Error(), "ping") {
		t.Fatalf("disconnect reason: %v", ev)
	}
	srv.Resume()
	a.r.waitFrom(t, i, "reconnect after resume", xmpptest.RoundTrip, is[chat.Connected](nil))
}

func TestSystemShutdownThenBack(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	a := start(t, account(t, srv, "alice", "pw", "gab"), fast)
	srv.Stop() // SIGTERM: <system-shutdown/>
	ev, i := a.r.waitFrom(t, 0, "shutdown", xmpptest.RoundTrip, is(func(e chat.Disconnected) bool { return e.Err != nil }))
	// Prosody sends <system-shutdown/> before closing, though now and then
	// the socket closes first; either way the client must retry.
	if d := ev.(chat.Disconnected); d.Final || d.RetryIn <= 0 {
		t.Fatalf("disconnect: %+v", d)
	}
	if err := srv.Run(); err != nil {
		t.Fatal(err)
	}
	a.r.waitFrom(t, i, "back", xmpptest.RoundTrip, is[chat.RosterReset](nil))
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
	var dials atomic.Int32
	counted := fast
	counted.Dial = func(ctx context.Context, cfg xmpp.Config) (*xmpp.Session, error) {
		dials.Add(1)
		return xmpp.Dial(ctx, cfg)
	}
	first := start(t, account(t, srv, "alice", "pw", "same"), counted)
	second := start(t, account(t, srv, "alice", "pw", "same"), fast)
	ev := first.r.wait(t, "conflict", is(func(e chat.Disconnected) bool { return e.Err != nil }))
	if d := ev.(chat.Disconnected); !d.Final || !strings.Contains(d.Err.Error(), "conflict") {
		t.Fatalf("first client: %+v", d)
	}
	// A fight starts with the first client dialling again: a client with
	// the same delays that does retry fails and retries 10 times meanwhile.
	retryWindow(t, fast, 10)
	if n := dials.Load(); n != 1 {
		t.Fatalf("the first client dialled %d times", n)
	}
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
	// The blocklist is the last thing asked for at login: once it is in,
	// the session is set up.
	loggedIn := is(func(e chat.BlocklistChanged) bool { return e.Reset })
	_, i := a.r.waitFrom(t, 0, "connected", xmpptest.RoundTrip, loggedIn)
	before := runtime.NumGoroutine()
	for n := 0; n < 20; n++ {
		a.c.Do(chat.Reconnect{})
		_, i = a.r.waitFrom(t, i+1, "reconnected", xmpptest.RoundTrip, loggedIn)
	}
	// What the old sessions ran ends soon after; wait for it to.
	after := runtime.NumGoroutine()
	for deadline := time.Now().Add(xmpptest.Timeout(xmpptest.RoundTrip)); after > before+2 && time.Now().Before(deadline); after = runtime.NumGoroutine() {
		time.Sleep(20 * time.Millisecond)
	}
	if after > before+2 {
		buf := make([]byte, 1<<16)
		t.Fatalf("goroutines: %d before, %d after 20 reconnects\n%s", before, after, buf[:runtime.Stack(buf, true)])
	}
}
