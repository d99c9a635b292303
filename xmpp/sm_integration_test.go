package xmpp_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/xmpp"
)

// acks collects what the server acknowledged.
type acks struct {
	mu  sync.Mutex
	ids []string
}

func (a *acks) add(els []*xmpp.Element) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, el := range els {
		a.ids = append(a.ids, el.Get("id"))
	}
}

func (a *acks) get() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([]string(nil), a.ids...)
}

func msg(to, id, body string) *xmpp.Element {
	return xmpp.E(xmpp.NSClient, "message", "to", to, "type", "chat", "id", id).Add(xmpp.E(xmpp.NSClient, "body").WithText(body))
}

// reader collects message bodies from a session.
func collect(s *xmpp.Session) (func() []string, <-chan error) {
	var mu sync.Mutex
	var bodies []string
	errc := make(chan error, 1)
	go func() {
		for {
			el, err := s.Next(nil)
			if err != nil {
				errc <- err
				return
			}
			if b := el.ChildText(xmpp.NSClient, "body"); el.Is(xmpp.NSClient, "message") && b != "" {
				mu.Lock()
				bodies = append(bodies, b)
				mu.Unlock()
			}
		}
	}()
	return func() []string { mu.Lock(); defer mu.Unlock(); return append([]string(nil), bodies...) }, errc
}

func waitUntil(t *testing.T, what string, ok func() bool) {
	t.Helper()
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.RoundTrip))
	for !ok() {
		if time.Now().After(deadline) {
			t.Fatalf("waited in vain for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// ping waits for the server to answer a ping on s (whose stream someone
// reads): by then it has dealt with everything s sent before.
func ping(t *testing.T, s *xmpp.Session) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), xmpptest.Timeout(xmpptest.RoundTrip))
	defer cancel()
	if _, err := s.SendIQ(ctx, xmpp.E(xmpp.NSClient, "iq", "type", "get", "to", xmpptest.Domain).Add(xmpp.E(xmpp.NSPing, "ping"))); err != nil {
		t.Fatalf("ping: %v", err)
	}
}

func TestStreamManagementAcks(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	var got acks
	cfg := config(t, srv, "alice", "pw")
	cfg.StreamManagement, cfg.OnAck = true, got.add
	alice := dial(t, cfg)
	if !alice.StreamManagement() {
		t.Fatal("Prosody offers XEP-0198 but it is off")
	}
	collect(alice)
	for i := 0; i < 50; i++ {
		alice.Send(msg("bob@localhost", fmt.Sprint("m", i), "hi"))
	}
	waitUntil(t, "50 acks", func() bool { return len(got.get()) == 50 && len(alice.Unacked()) == 0 })
	for i, id := range got.get() {
		if id != fmt.Sprint("m", i) {
			t.Fatalf("ack %d is %s", i, id)
		}
	}
}

// After the connection is lost, resuming it delivers what was sent to us
// meanwhile and re-sends what the server never got: nothing lost, nothing
// twice.
func TestStreamResumption(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	proxy := xmpptest.StartProxy(t, srv.Addr())
	var got acks
	cfg := config(t, srv, "alice", "pw")
	cfg.Server, cfg.StreamManagement, cfg.OnAck = proxy.Addr(), true, got.add
	alice := dial(t, cfg)
	aliceBodies, aliceErr := collect(alice)
	bob := dial(t, config(t, srv, "bob", "pw"))
	bob.Send(xmpp.E(xmpp.NSClient, "presence"))
	alice.Send(xmpp.E(xmpp.NSClient, "presence"))
	bobBodies, _ := collect(bob)

	alice.Send(msg("bob@localhost/test", "a1", "before"))
	waitUntil(t, "bob to get the first message", func() bool { return len(bobBodies()) == 1 })
	waitUntil(t, "the first ack", func() bool { return len(alice.Unacked()) == 0 })

	proxy.Blackhole()
	alice.Send(msg("bob@localhost/test", "a2", "lost on the way")) // never reaches the server
	bob.Send(msg("alice@localhost/test", "b1", "while you were away"))
	ping(t, bob) // the server has passed bob's message on
	proxy.Cut()
	<-aliceErr
	state := alice.StreamState()
	if state == nil || state.ID == "" || len(state.Unacked) == 0 {
		t.Fatalf("nothing to resume: %+v", state)
	}

	cfg.Resume = state
	ctx, cancel := context.WithTimeout(context.Background(), xmpptest.Timeout(xmpptest.RoundTrip))
	defer cancel()
	again, err := xmpp.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if !again.Resumed() || !again.JID().Equal(alice.JID()) {
		t.Fatalf("resumed %v as %s", again.Resumed(), again.JID())
	}
	againBodies, _ := collect(again)
	waitUntil(t, "the message sent meanwhile", func() bool { return len(againBodies()) == 1 })
	waitUntil(t, "bob to get the re-sent message", func() bool { return len(bobBodies()) == 2 })
	// Copies would come before what each side sends next: alice's re-sends
	// before her new messages, the server's before bob's new ones.
	again.Send(msg("bob@localhost/test", "a3", "after the resume"))
	bob.Send(msg("alice@localhost/test", "b2", "welcome back"))
	waitUntil(t, "bob to get alice's message after the resume", func() bool { return slices.Contains(bobBodies(), "after the resume") })
	waitUntil(t, "alice to get bob's message after the resume", func() bool { return slices.Contains(againBodies(), "welcome back") })
	if b := bobBodies(); fmt.Sprint(b) != fmt.Sprint([]string{"before", "lost on the way", "after the resume"}) {
		t.Fatalf("bob got %q", b)
	}
	if b := append(aliceBodies(), againBodies()...); fmt.Sprint(b) != fmt.Sprint([]string{"while you were away", "welcome back"}) {
		t.Fatalf("alice got %q", b)
	}
	waitUntil(t, "every ack", func() bool { return len(again.Unacked()) == 0 })
}

// A clean close acknowledges what was received, so the server does not
// send it again elsewhere (Prosody stores unacknowledged messages offline
// when a stream closes).
func TestCloseAcknowledgesReceived(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	cfg := config(t, srv, "bob", "pw")
	cfg.StreamManagement = true
	bob := dial(t, cfg)
	bob.Send(xmpp.E(xmpp.NSClient, "presence"))
	const n = 500
	got := make(chan struct{})
	go func() {
		// Read the messages and then stop reading, as a client on its way
		// out: the server's last request for an acknowledgement stays
		// unanswered.
		for seen := 0; seen < n; {
			el, err := bob.Next(nil)
			if err != nil {
				return
			}
			if el.Is(xmpp.NSClient, "message") {
				seen++
			}
		}
		close(got)
	}()
	alice := dial(t, config(t, srv, "alice", "pw"))
	go func() {
		for {
			if _, err := alice.Next(nil); err != nil {
				return
			}
		}
	}()
	for i := range n {
		alice.Send(msg("bob@localhost", fmt.Sprint("m", i), fmt.Sprint("hello ", i)))
	}
	select {
	case <-got:
	case <-time.After(xmpptest.Timeout(xmpptest.RoundTrip)):
		t.Fatal("bob did not get the messages")
	}
	bob.Close()

	// bob again: anything the server held back as unacknowledged would
	// now come from offline storage.
	again := dial(t, config(t, srv, "bob", "pw"))
	later, _ := collect(again)
	again.Send(xmpp.E(xmpp.NSClient, "presence"))
	alice.Send(msg("bob@localhost", "last", "the last"))
	// Offline messages come with the initial presence, before anything new.
	waitUntil(t, "bob's second session to get the new message", func() bool { return slices.Contains(later(), "the last") })
	if got := later(); len(got) != 1 || got[0] != "the last" {
		t.Fatalf("second session got %q, want only the new message", got)
	}
}

// Stanzas other than messages are acknowledged too, so the session does
// not keep them all until the next message goes out.
func TestNonMessagesAcknowledged(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	cfg := config(t, srv, "alice", "pw")
	cfg.StreamManagement = true
	alice := dial(t, cfg)
	collect(alice)
	for i := range 1000 {
		alice.Send(xmpp.E(xmpp.NSClient, "presence").Add(xmpp.E(xmpp.NSClient, "status").WithText(fmt.Sprint("status ", i))))
	}
	waitUntil(t, "the server to acknowledge the presences", func() bool { return len(alice.Unacked()) < 32 })
}

// A request the connection lost goes again in the resumed stream, and the
// server answers it there: that answer is the old request's, owed to
// nobody now (its caller was told the connection ended). It must not be
// taken for the answer to a new request, and it is not reported as a
// stray stanza either.
func TestResumedStreamKnowsTheLastOnesRequests(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	proxy := xmpptest.StartProxy(t, srv.Addr())
	cfg := config(t, srv, "alice", "pw")
	cfg.Server, cfg.StreamManagement = proxy.Addr(), true
	alice := dial(t, cfg)
	_, aliceErr := collect(alice)

	proxy.Blackhole()
	lost := make(chan error, 1)
	roster := xmpp.E(xmpp.NSClient, "iq", "type", "get").Add(xmpp.E("jabber:iq:roster", "query"))
	if err := alice.SendIQFunc(roster, time.Hour, func(_ *xmpp.Element, err error) { lost <- err }); err != nil {
		t.Fatal(err)
	}
	proxy.Cut()
	<-aliceErr
	alice.Close()
	if err := <-lost; err == nil {
		t.Fatal("the lost request was answered in the stream that lost it")
	}
	state := alice.StreamState()
	if state == nil || !slices.Contains(state.Abandoned, roster.Get("id")) {
		t.Fatalf("the lost request %q is not among those owed: %+v", roster.Get("id"), state)
	}

	cfg.Resume = state
	ctx, cancel := context.WithTimeout(context.Background(), xmpptest.Timeout(xmpptest.RoundTrip))
	defer cancel()
	again, err := xmpp.Dial(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer again.Close()
	if !again.Resumed() {
		t.Fatal("not resumed")
	}
	var mu sync.Mutex
	var drops []error
	go func() {
		for {
			if _, err := again.Next(func(err error) { mu.Lock(); drops = append(drops, err); mu.Unlock() }); err != nil {
				return
			}
		}
	}()
	// The roster request went again in the resumption, before this one:
	// its answer comes first.
	res, err := again.SendIQ(ctx, xmpp.E(xmpp.NSClient, "iq", "type", "get", "to", xmpptest.Domain).Add(xmpp.E(xmpp.NSPing, "ping")))
	if err != nil {
		t.Fatal(err)
	}
	if res.Child("jabber:iq:roster", "query") != nil || res.Get("id") == roster.Get("id") {
		t.Fatalf("the new request got the old one's answer: %s", res)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(drops) != 0 {
		t.Fatalf("the owed answer was reported: %v", drops)
	}
}
