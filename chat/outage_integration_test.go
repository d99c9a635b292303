package chat_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/internal/xmpptest"
)

// refusedAttempt matches a failed attempt to connect that was refused.
func refusedAttempt(e chat.Event) bool {
	var err error
	switch d := e.(type) {
	case chat.Disconnected:
		err = d.Err
	case chat.Retrying:
		err = d.Err
	}
	return err != nil && strings.Contains(err.Error(), "refused")
}

// A refused connection before the resumption is not the server saying the
// session is gone: once it accepts again the session is resumed, and what
// was written on either side meanwhile arrives once.
func TestResumeSurvivesARefusedAttempt(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	befriend(t, srv, "alice", "bob")
	proxy := xmpptest.StartProxy(t, srv.Addr())
	acct := account(t, srv, "alice", "pw", "gab")
	acct.Server = proxy.Addr()
	opts := fast
	opts.Store = openStore(t)
	a := start(t, acct, opts)
	b := start(t, account(t, srv, "bob", "pw", "gab"), chat.Options{})
	a.r.wait(t, "bob online", is(func(e chat.PresenceChanged) bool { return e.Bare == "bob@localhost" && e.Available }))

	before := len(a.r.snapshot())
	proxy.Refuse() // the connection breaks and the next attempts are refused
	_, i := a.r.waitFrom(t, before, "the connection lost", 10*time.Second, is(func(e chat.Disconnected) bool { return e.Err != nil }))
	a.do(t, chat.SendMessage{Conv: chat.ChatWith("bob@localhost"), Body: "written while refused"})
	b.do(t, chat.SendMessage{Conv: chat.ChatWith("alice@localhost"), Body: "sent while alice was away"})
	a.r.waitFrom(t, i+1, "a refused attempt", 10*time.Second, refusedAttempt)
	proxy.Allow(t)
	ev, j := a.r.waitFrom(t, i, "reconnect", 15*time.Second, is[chat.Connected](nil))
	if !ev.(chat.Connected).Resumed {
		t.Fatalf("the session was not resumed after a refused attempt: %+v", ev)
	}
	a.r.waitFrom(t, j, "the message the server held", 10*time.Second, is(func(e chat.MessageReceived) bool { return e.Body == "sent while alice was away" }))
	b.r.wait(t, "the message written meanwhile", is(func(e chat.MessageReceived) bool { return e.Body == "written while refused" }))
	// Last words both ways: a duplicate would have come before them.
	a.do(t, chat.SendMessage{Conv: chat.ChatWith("bob@localhost"), Body: "last"})
	b.do(t, chat.SendMessage{Conv: chat.ChatWith("alice@localhost"), Body: "last"})
	a.r.wait(t, "bob's last", is(func(e chat.MessageReceived) bool { return e.Body == "last" }))
	b.r.wait(t, "alice's last", is(func(e chat.MessageReceived) bool { return e.Body == "last" }))
	if got := bodies(b.r); fmt.Sprint(got) != fmt.Sprint([]string{"written while refused", "last"}) {
		t.Errorf("bob received %q", got)
	}
	if got := bodies(a.r); fmt.Sprint(got) != fmt.Sprint([]string{"sent while alice was away", "last"}) {
		t.Errorf("alice received %q", got)
	}
}

// While connections are refused gab retries with the documented backoff
// (MinBackoff doubling, capped), and the whole outage is one Disconnected —
// one console line — however many attempts fail; the next outage is
// announced again.
func TestRefusedOutageIsOneDisconnect(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	proxy := xmpptest.StartProxy(t, srv.Addr())
	acct := account(t, srv, "alice", "pw", "gab")
	acct.Server = proxy.Addr()
	opts := chat.Options{MinBackoff: 40 * time.Millisecond, MaxBackoff: 320 * time.Millisecond}
	a := start(t, acct, opts)
	disconnects := func() int {
		n := 0
		for _, e := range a.r.snapshot() {
			if _, ok := e.(chat.Disconnected); ok {
				n++
			}
		}
		return n
	}

	for outage := 1; outage <= 2; outage++ {
		before := len(a.r.snapshot())
		proxy.Refuse()
		_, i := a.r.waitFrom(t, before, "the outage", 10*time.Second, is[chat.Disconnected](nil))
		// Six attempts refused: the pause doubles from MinBackoff up to
		// MaxBackoff, each drawn from its upper half (jitter). (An outage
		// soon after the last goes on from the pause reached: a flapping
		// server is not hammered.)
		backoff, lowest := opts.MinBackoff, time.Duration(0)
		for attempt := 2; attempt <= 7; attempt++ {
			ev, j := a.r.waitFrom(t, i+1, fmt.Sprintf("attempt %d", attempt), 15*time.Second, is[chat.Retrying](nil))
			r := ev.(chat.Retrying)
			backoff = min(backoff*2, opts.MaxBackoff)
			if outage == 1 {
				lowest = backoff / 2
			}
			if r.Attempt != attempt || !refusedAttempt(r) || r.RetryIn < lowest || r.RetryIn > max(backoff, opts.MaxBackoff*time.Duration(outage-1)) {
				t.Errorf("outage %d: %+v, want attempt %d refused, retry in [%v, %v]", outage, r, attempt, lowest, backoff)
			}
			i = j
		}
		if got := disconnects(); got != outage {
			t.Fatalf("%d Disconnected events after %d outages of seven attempts each", got, outage)
		}
		proxy.Allow(t)
		a.r.waitFrom(t, i, "back", 15*time.Second, is[chat.Connected](nil))
	}
}
