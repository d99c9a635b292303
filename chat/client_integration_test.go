package chat_test

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/roster"
	"github.com/gab-chat/gab/xmpp"
)

func TestRosterManagement(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	if err := srv.WriteRoster("alice", []xmpptest.RosterEntry{{JID: "old@localhost", Name: "Old Friend", Subscription: "both", Groups: []string{"Friends"}}}); err != nil {
		t.Fatal(err)
	}
	a := start(t, account(t, srv, "alice", "pw", "laptop"), chat.Options{})
	model := roster.New()
	reset := a.r.wait(t, "roster", is[chat.RosterReset](nil)).(chat.RosterReset)
	model.Reset(reset.Items, reset.Version)
	if reset.Version == "" {
		t.Error("Prosody versions rosters, but no version was kept")
	}
	if c := model.Get("old@localhost"); c == nil || c.Name != "Old Friend" || !slices.Equal(c.Groups, []string{"Friends"}) || c.Subscription != "both" {
		t.Fatalf("fetched roster: %+v", reset.Items)
	}
	apply := func(want func(*roster.Contact) bool, what string) {
		t.Helper()
		deadline := time.Now().Add(xmpptest.Timeout(xmpptest.RoundTrip))
		seen := 0
		for time.Now().Before(deadline) {
			evs := a.r.snapshot()
			for _, e := range evs[seen:] {
				if p, ok := e.(chat.RosterPushed); ok {
					model.Push(p.Item, p.Version)
				}
			}
			seen = len(evs)
			if want(model.Get("bob@localhost")) {
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
		t.Fatalf("roster push for %s never arrived; events: %s", what, summary(a.r.snapshot()))
	}
	a.do(t, chat.AddContact{JID: "bob@localhost", Name: "Bob", Groups: []string{"Work"}})
	apply(func(c *roster.Contact) bool {
		return c != nil && c.Name == "Bob" && slices.Equal(c.Groups, []string{"Work"})
	}, "add")
	a.do(t, chat.RenameContact{JID: "bob@localhost", Name: "Robert"})
	apply(func(c *roster.Contact) bool {
		return c != nil && c.Name == "Robert" && slices.Equal(c.Groups, []string{"Work"})
	}, "rename")
	a.do(t, chat.SetGroups{JID: "bob@localhost", Groups: []string{"Work", "Chess"}})
	apply(func(c *roster.Contact) bool {
		return c != nil && c.Name == "Robert" && len(c.Groups) == 2
	}, "regroup")
	a.do(t, chat.RemoveContact{JID: "bob@localhost"})
	apply(func(c *roster.Contact) bool { return c == nil }, "remove")

	// Rename of someone not in the roster fails with a reason, no crash.
	id := a.c.Do(chat.RenameContact{JID: "nobody@localhost", Name: "x"})
	f := a.r.wait(t, "failure", is(func(e chat.CommandFailed) bool { return e.ID == id })).(chat.CommandFailed)
	if !strings.Contains(f.Err.Error(), "not in your roster") {
		t.Fatalf("rename unknown: %v", f.Err)
	}
	id = a.c.Do(chat.AddContact{JID: "bad@@jid"})
	a.r.wait(t, "invalid JID refused", is(func(e chat.CommandFailed) bool { return e.ID == id }))
}

func TestSubscriptionDanceWithSlixmpp(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "peer", "pw")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{})
	p := srv.StartPeer(t, "peer", "pw")

	// They ask; we approve; they see our presence.
	p.Send(t, map[string]any{"cmd": "subscribe", "to": "alice@localhost"})
	req := a.r.wait(t, "subscription request", is[chat.SubscriptionRequested](nil)).(chat.SubscriptionRequested)
	if req.From != "peer@localhost" {
		t.Fatalf("request from %q", req.From)
	}
	a.do(t, chat.ApproveSubscription{JID: "peer@localhost"})
	if _, ok := p.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "subscribed" && e.Get("from") == "alice@localhost"
	}); !ok {
		t.Fatalf("peer never saw approval: %v", p.Events())
	}
	if _, ok := p.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "presence" && strings.HasPrefix(e.Get("from"), "alice@localhost/")
	}); !ok {
		t.Fatalf("peer never saw our presence: %v", p.Events())
	}
	// We cancel their subscription.
	a.do(t, chat.CancelSubscription{JID: "peer@localhost"})
	if _, ok := p.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool { return e.Get("event") == "unsubscribed" }); !ok {
		t.Fatalf("peer never saw the cancel: %v", p.Events())
	}

	// We ask; they deny.
	a.do(t, chat.Subscribe{JID: "peer@localhost"})
	if _, ok := p.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "subscribe" && e.Get("from") == "alice@localhost"
	}); !ok {
		t.Fatalf("peer never got our request: %v", p.Events())
	}
	a.r.wait(t, "pending-out push", is(func(e chat.RosterPushed) bool { return e.Item.JID == "peer@localhost" && e.Item.Ask }))
	p.Send(t, map[string]any{"cmd": "unsubscribed", "to": "alice@localhost"})
	a.r.wait(t, "denial", is(func(e chat.SubscriptionChanged) bool { return e.From == "peer@localhost" && e.Type == "unsubscribed" }))

	// We ask again; they approve; their presence reaches us.
	a.do(t, chat.Subscribe{JID: "peer@localhost"})
	p.Send(t, map[string]any{"cmd": "subscribed", "to": "alice@localhost"})
	a.r.wait(t, "approval", is(func(e chat.SubscriptionChanged) bool { return e.Type == "subscribed" }))
	a.r.wait(t, "subscription to", is(func(e chat.RosterPushed) bool {
		return e.Item.JID == "peer@localhost" && (e.Item.Subscription == "to" || e.Item.Subscription == "both")
	}))
	p.Send(t, map[string]any{"cmd": "presence", "show": "dnd", "status": "busy"})
	a.r.wait(t, "peer presence", is(func(e chat.PresenceChanged) bool {
		return e.Bare == "peer@localhost" && e.Available && e.Show == roster.DND && e.Status == "busy"
	}))
	// We unsubscribe from them.
	a.do(t, chat.Unsubscribe{JID: "peer@localhost"})
	if _, ok := p.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool { return e.Get("event") == "unsubscribe" }); !ok {
		t.Fatalf("peer never saw unsubscribe: %v", p.Events())
	}
}

func TestPreApproval(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "peer", "pw")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{})
	a.do(t, chat.AddContact{JID: "peer@localhost"})
	a.do(t, chat.ApproveSubscription{JID: "peer@localhost"}) // before they ask (RFC 6121 §3.4)
	a.r.wait(t, "pre-approved push", is(func(e chat.RosterPushed) bool { return e.Item.JID == "peer@localhost" }))
	p := srv.StartPeer(t, "peer", "pw")
	p.Send(t, map[string]any{"cmd": "subscribe", "to": "alice@localhost"})
	if _, ok := p.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool { return e.Get("event") == "subscribed" }); !ok {
		t.Fatalf("pre-approval not honoured: %v", p.Events())
	}
	// A request passed on would reach alice before what the peer sends next.
	p.Send(t, map[string]any{"cmd": "send", "to": "alice@localhost", "body": "after asking"})
	a.r.wait(t, "the peer's message after asking", is(func(e chat.MessageReceived) bool { return e.Body == "after asking" }))
	for _, e := range a.r.snapshot() {
		if _, ok := e.(chat.SubscriptionRequested); ok {
			t.Fatal("a pre-approved request still reached the user")
		}
	}
}

func TestMessagesAndChatStatesWithSlixmpp(t *testing.T) {
	_, a, p := aliceAndPeer(t)

	p.Send(t, map[string]any{"cmd": "state", "to": "alice@localhost", "state": "composing"})
	a.r.wait(t, "composing", is(func(e chat.ChatStateChanged) bool {
		return e.Bare == "peer@localhost" && e.State == chat.StateComposing
	}))
	p.Send(t, map[string]any{"cmd": "send", "to": "alice@localhost", "body": "hello gab ☕", "state": "active"})
	m := a.r.wait(t, "message", is[chat.MessageReceived](nil)).(chat.MessageReceived)
	if m.Body != "hello gab ☕" || m.Bare != "peer@localhost" || m.Delayed {
		t.Fatalf("message: %+v", m)
	}
	a.r.wait(t, "active", is(func(e chat.ChatStateChanged) bool { return e.State == chat.StateActive }))

	// Our side: the peer supports chat states now, so ours are sent.
	a.do(t, chat.SendChatState{Conv: chat.ChatWith("peer@localhost"), State: chat.StateComposing})
	if _, ok := p.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool { return e.Get("event") == "chatstate" && e.Get("state") == "composing" }); !ok {
		t.Fatalf("peer never saw composing: %v", p.Events())
	}
	a.do(t, chat.SendMessage{Conv: chat.ChatWith("peer@localhost"), Body: "hi <peer> & \"friends\""})
	if _, ok := p.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "message" && e.Get("body") == "hi <peer> & \"friends\"" && strings.HasPrefix(e.Get("from"), "alice@localhost/")
	}); !ok {
		t.Fatalf("peer never got our message: %v", p.Events())
	}
	if _, ok := p.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool { return e.Get("event") == "chatstate" && e.Get("state") == "active" }); !ok {
		t.Fatalf("our message carried no <active/>: %v", p.Events())
	}
}

func TestChatStatesNotSentToUnknownPeers(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "peer", "pw")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{})
	p := srv.StartPeer(t, "peer", "pw")
	a.do(t, chat.SendChatState{Conv: chat.ChatWith("peer@localhost"), State: chat.StateComposing})
	a.do(t, chat.SendMessage{Conv: chat.ChatWith("peer@localhost"), Body: "marker"})
	if _, ok := p.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool { return e.Get("event") == "message" && e.Get("body") == "marker" }); !ok {
		t.Fatalf("peer never got the marker: %v", p.Events())
	}
	for _, e := range p.Events() {
		if e.Get("event") == "chatstate" && e.Get("state") == "composing" {
			t.Fatal("composing sent to a peer that never showed chat-state support")
		}
	}
}

func TestTwoResourcesAggregated(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	befriend(t, srv, "alice", "bob")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{})
	phone := account(t, srv, "bob", "pw", "phone")
	phone.Status, phone.Priority = "away", 1
	start(t, phone, chat.Options{})
	desk := account(t, srv, "bob", "pw", "desk")
	desk.Priority = 5
	deskC := start(t, desk, chat.Options{})

	model := roster.New()
	for _, want := range []string{"bob@localhost/phone", "bob@localhost/desk"} {
		a.r.wait(t, "presence of "+want, is(func(e chat.PresenceChanged) bool { return e.From == want && e.Available }))
	}
	for _, e := range a.r.snapshot() {
		switch v := e.(type) {
		case chat.RosterReset:
			model.Reset(v.Items, v.Version)
		case chat.PresenceChanged:
			if v.Available {
				model.SetPresence(v.Bare, roster.Presence{Resource: v.Resource, Show: v.Show, Status: v.Status, Priority: v.Priority})
			} else {
				model.SetUnavailable(v.Bare, v.Resource)
			}
		}
	}
	bob := model.Get("bob@localhost")
	if best, _ := bob.Best(); best.Resource != "desk" || len(bob.Resources()) != 2 || bob.Show() != roster.Online {
		t.Fatalf("best %+v of %+v", best, bob.Resources())
	}
	deskC.stop()
	a.r.wait(t, "desk offline", is(func(e chat.PresenceChanged) bool { return e.From == "bob@localhost/desk" && !e.Available }))
	model.SetUnavailable("bob@localhost", "desk")
	if best, _ := bob.Best(); best.Resource != "phone" || bob.Show() != roster.Away {
		t.Fatalf("after desk left: %+v", best)
	}
}

func TestOfflineMessageHasDelayStamp(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	b := start(t, account(t, srv, "bob", "pw", "gab"), chat.Options{})
	sent := time.Now()
	b.do(t, chat.SendMessage{Conv: chat.ChatWith("alice@localhost"), Body: "while you were out"})
	b.r.wait(t, "the server's acknowledgement", is(func(e chat.DeliveryChanged) bool { return e.State == chat.DeliverySent }))
	stored := time.Now()
	time.Sleep(1100 * time.Millisecond) // the stamp has one-second precision
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{})
	m := a.r.wait(t, "offline message", is[chat.MessageReceived](nil)).(chat.MessageReceived)
	// Stamped (whole seconds) when the server stored it, over a second
	// before alice logged in: not the time it was shown.
	if !m.Delayed || m.Body != "while you were out" || m.Time.Before(sent.Truncate(time.Second)) || m.Time.After(stored) {
		t.Fatalf("offline message %+v (sent at %v, acknowledged by %v)", m, sent, stored)
	}
}

func TestBlockingStopsMessages(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "mallory", "pw")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{})
	m := start(t, account(t, srv, "mallory", "pw", "gab"), chat.Options{})
	a.do(t, chat.Block{JID: "mallory@localhost"})
	a.r.wait(t, "block push", is(func(e chat.BlocklistChanged) bool { return e.Blocked && slices.Contains(e.JIDs, "mallory@localhost") }))
	m.do(t, chat.SendMessage{Conv: chat.ChatWith("alice@localhost"), Body: "spam"})
	m.r.wait(t, "bounce", is(func(e chat.StanzaError) bool { return e.Kind == "message" }))
	a.do(t, chat.Unblock{JID: "mallory@localhost"})
	m.do(t, chat.SendMessage{Conv: chat.ChatWith("alice@localhost"), Body: "after unblock"})
	got := a.r.wait(t, "message after unblock", is[chat.MessageReceived](nil)).(chat.MessageReceived)
	if got.Body != "after unblock" {
		t.Fatalf("first message seen: %q (the blocked one leaked)", got.Body)
	}
}

func TestTwoThousandMessagesInOrder(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{NoMAM: true})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	store := openStore(t)
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	b := start(t, account(t, srv, "bob", "pw", "gab"), chat.Options{})
	const n = 2000
	begin := time.Now()
	for i := 0; i < n; i++ {
		b.c.Do(chat.SendMessage{Conv: chat.ChatWith("alice@localhost"), Body: fmt.Sprintf("msg %04d", i)})
	}
	a.r.waitSeries(t, "message", n, func(i int, e chat.Event) bool {
		m, ok := e.(chat.MessageReceived)
		return ok && m.Body == fmt.Sprintf("msg %04d", i)
	})
	t.Logf("%d messages sent and received as events in %v", n, time.Since(begin))
	next := 0
	for _, e := range a.r.snapshot() {
		if m, ok := e.(chat.MessageReceived); ok {
			if want := fmt.Sprintf("msg %04d", next); m.Body != want {
				t.Fatalf("message %d is %q, want %q", next, m.Body, want)
			}
			next++
		}
	}
	if next != n {
		t.Fatalf("received %d of %d", next, n)
	}
	// Every message shown was stored first, in order.
	stored, _, err := store.Before(context.Background(), history.Conv{Peer: "bob@localhost"}, 0, n+1)
	if err != nil || len(stored) != n {
		t.Fatalf("stored %d messages (%v), want %d", len(stored), err, n)
	}
	for i, m := range stored {
		if m.Body != fmt.Sprintf("msg %04d", i) || m.Direction != history.In {
			t.Fatalf("stored[%d] = %+v", i, m)
		}
	}
}

func TestWrongPasswordIsFinal(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	var dials atomic.Int32
	opts := chat.Options{MinBackoff: 10 * time.Millisecond, MaxBackoff: 20 * time.Millisecond,
		Dial: func(ctx context.Context, cfg xmpp.Config) (*xmpp.Session, error) {
			dials.Add(1)
			return xmpp.Dial(ctx, cfg)
		}}
	c := chat.New(account(t, srv, "alice", "nope", "gab"), opts)
	r := newRecorder(c.Events())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	d := r.wait(t, "final disconnect", is[chat.Disconnected](nil)).(chat.Disconnected)
	var se *xmpp.SASLError
	if !d.Final || !errors.As(d.Err, &se) || se.Condition != "not-authorized" {
		t.Fatalf("disconnect: %+v", d)
	}
	// A client with the same delays that does retry fails and retries 25
	// times meanwhile: a loop would show.
	retryWindow(t, opts, 25)
	if n := dials.Load(); n != 1 {
		t.Fatalf("%d connection attempts after a wrong password", n)
	}
	// The user may try again, once.
	c.Do(chat.Reconnect{})
	_, i := r.waitFrom(t, 0, "second attempt", xmpptest.RoundTrip, is(func(e chat.Disconnected) bool { return e.Final }))
	r.waitFrom(t, i+1, "second final", xmpptest.RoundTrip, is(func(e chat.Disconnected) bool { return e.Final }))
	if n := dials.Load(); n != 2 {
		t.Fatalf("%d connection attempts after one /reconnect", n)
	}
}

func TestNoGoroutineLeaks(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	before := runtime.NumGoroutine()
	for i := 0; i < 5; i++ {
		rc := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{})
		rc.do(t, chat.SetPresence{Show: roster.Away})
		rc.stop()
	}
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.RoundTrip))
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines before, %d after 5 clients stopped:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

func TestReconnectsAndRefetchesVersionedRoster(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.WriteRoster("alice", []xmpptest.RosterEntry{{JID: "bob@localhost", Name: "Bob", Subscription: "both"}})
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	first := a.r.wait(t, "roster", is[chat.RosterReset](nil)).(chat.RosterReset)
	srv.Kill()
	_, i := a.r.waitFrom(t, 0, "disconnect", xmpptest.RoundTrip, is(func(e chat.Disconnected) bool { return e.Err != nil && !e.Final && e.RetryIn > 0 }))
	if err := srv.Run(); err != nil {
		t.Fatal(err)
	}
	ev, _ := a.r.waitFrom(t, i, "roster after reconnect", xmpptest.RoundTrip, is[chat.RosterReset](nil))
	second := ev.(chat.RosterReset)
	if len(second.Items) != 1 || second.Items[0].Name != "Bob" || second.Version != first.Version {
		t.Fatalf("after reconnect: %+v (before: %+v)", second, first)
	}
	a.do(t, chat.SendMessage{Conv: chat.ChatWith("bob@localhost"), Body: "back"})
}

func TestChatStatesSentToPeersThatAdvertiseThem(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "peer", "pw")
	befriend(t, srv, "alice", "peer")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{})
	// The peer advertises capabilities and answers disco#info with chat
	// states among its features; it never sends a chat state itself.
	peer := bareSessionNoReader(t, srv, "peer")
	peer.Send(xmpp.E(xmpp.NSClient, "presence").Add(xmpp.E(chat.NSCaps, "c", "hash", "sha-1", "node", "urn:example:client", "ver", "QgayPKawpkPSDYmwT/WM94uAlu0=")))
	got := make(chan string, 10)
	go func() {
		for {
			el, err := peer.Next(nil)
			if err != nil {
				return
			}
			if q := el.Child(chat.NSDiscoInfo, "query"); el.Is(xmpp.NSClient, "iq") && el.Get("type") == "get" && q != nil {
				reply := xmpp.ResultReply(el).Add(xmpp.E(chat.NSDiscoInfo, "query", "node", q.Get("node")).Add(
					xmpp.E(chat.NSDiscoInfo, "identity", "category", "client", "type", "pc"),
					xmpp.E(chat.NSDiscoInfo, "feature", "var", chat.NSDiscoInfo),
					xmpp.E(chat.NSDiscoInfo, "feature", "var", chat.NSChatStates)))
				peer.Send(reply)
				if strings.HasPrefix(el.Get("from"), "alice@localhost/") { // the server's PEP asks too
					got <- "disco"
				}
			}
			if el.Is(xmpp.NSClient, "message") && el.Child(chat.NSChatStates, "composing") != nil {
				got <- "composing"
			}
		}
	}()
	select {
	case what := <-got:
		if what != "disco" {
			t.Fatalf("got %s before gab asked what the peer supports", what)
		}
	case <-time.After(xmpptest.Timeout(xmpptest.RoundTrip)):
		t.Fatal("gab never asked the peer what it supports")
	}
	// The disco answer travels back through the server; until gab has read
	// it, chat states are held back. Alternate states (never the same twice)
	// until composing arrives.
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.RoundTrip))
	for {
		a.do(t, chat.SendChatState{Conv: chat.ChatWith("peer@localhost"), State: chat.StateComposing})
		select {
		case what := <-got:
			if what != "composing" {
				t.Fatalf("got %s", what)
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("composing never reached a peer that advertises chat states")
		}
		a.do(t, chat.SendChatState{Conv: chat.ChatWith("peer@localhost"), State: chat.StatePaused})
	}
}
