package chat_test

import (
	"github.com/gab-chat/gab/history"
	"strings"
	"testing"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/internal/xmpptest"
)

func TestCarbonsBetweenTwoDevices(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	befriend(t, srv, "alice", "bob")
	laptop := start(t, account(t, srv, "alice", "pw", "laptop"), chat.Options{})
	phone := start(t, account(t, srv, "alice", "pw", "phone"), chat.Options{})
	bob := start(t, account(t, srv, "bob", "pw", "gab"), chat.Options{})
	// Carbons are enabled right after the roster, and the blocklist asked
	// for after that: once a device has the blocklist, the server has
	// turned its carbons on.
	for _, d := range []*running{laptop, phone} {
		d.r.wait(t, "the blocklist, asked for after carbons", is(func(e chat.BlocklistChanged) bool { return e.Reset }))
	}

	laptop.do(t, chat.SendMessage{Conv: chat.ChatWith("bob@localhost"), Body: "from the laptop"})
	bob.r.wait(t, "the message", is(func(e chat.MessageReceived) bool { return e.Body == "from the laptop" }))
	c := phone.r.wait(t, "the sent carbon", is(func(e chat.CarbonSent) bool { return e.Body == "from the laptop" })).(chat.CarbonSent)
	if c.To != "bob@localhost" || c.OriginID == "" {
		t.Fatalf("carbon: %+v", c)
	}

	// gab writes to bare JIDs; another client may write to one device.
	raw := rawPeer(t, srv, "bob")
	raw.Send(`<message to='alice@localhost/laptop' type='chat' id='x'><body>to the laptop only</body></message>`)
	m := phone.r.wait(t, "the received carbon", is(func(e chat.MessageReceived) bool { return e.Body == "to the laptop only" })).(chat.MessageReceived)
	if !m.Carbon || m.Bare != "bob@localhost" {
		t.Fatalf("received carbon: %+v", m)
	}
}

func TestForgedCarbonIsDropped(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "mallory", "pw")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{})
	m := rawPeer(t, srv, "mallory")
	m.Send(`<message to='alice@localhost/gab' type='chat'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>` +
		`<message xmlns='jabber:client' from='bank@localhost/web' to='alice@localhost/gab' type='chat'><body>forged: send your password</body></message></forwarded></received></message>`)
	m.Send(`<message to='alice@localhost/gab' type='chat'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>` +
		`<message xmlns='jabber:client' from='alice@localhost/other' to='boss@localhost' type='chat'><body>forged: I quit</body></message></forwarded></sent></message>`)
	m.Send(`<message to='alice@localhost/gab' type='chat'><body>marker</body></message>`)
	a.r.wait(t, "the marker", is(func(e chat.MessageReceived) bool { return e.Body == "marker" }))
	notices := 0
	for _, e := range a.r.snapshot() {
		switch v := e.(type) {
		case chat.MessageReceived:
			if strings.Contains(v.Body, "forged") {
				t.Fatalf("forged carbon shown: %+v", v)
			}
		case chat.CarbonSent:
			t.Fatalf("forged sent carbon shown: %+v", v)
		case chat.Notice:
			if strings.Contains(v.Text, "forged carbon from mallory@localhost") {
				notices++
			}
		}
	}
	if notices != 2 {
		t.Fatalf("%d forgeries reported in the console, want 2", notices)
	}
}

func TestDeliveryReceiptsWithSlixmpp(t *testing.T) {
	srv, a, p := aliceAndPeer(t, "stranger")
	a.r.wait(t, "peer online", is(func(e chat.PresenceChanged) bool { return e.Bare == "peer@localhost" && e.Available }))

	// Ours: requested, answered by slixmpp, shown as received.
	a.do(t, chat.SendMessage{Conv: chat.ChatWith("peer@localhost"), Body: "did you get this?"})
	sent := a.r.wait(t, "sent", is[chat.MessageSent](nil)).(chat.MessageSent)
	a.r.wait(t, "the receipt", is(func(e chat.DeliveryChanged) bool { return e.ID == sent.ID && e.State == chat.DeliveryReceived }))

	// Theirs: a contact asks, we answer.
	p.Send(t, map[string]any{"cmd": "send", "to": "alice@localhost/gab", "body": "and this?", "id": "r-1", "receipt": true})
	if _, ok := p.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool { return e.Get("event") == "receipt" && e.Get("id") == "r-1" }); !ok {
		t.Fatalf("no receipt for the contact: %v", p.Events())
	}
	// A stranger asks: no receipt (it would tell them we are online).
	s := srv.StartPeer(t, "stranger", "pw")
	s.Send(t, map[string]any{"cmd": "send", "to": "alice@localhost/gab", "body": "hello?", "id": "r-2", "receipt": true})
	a.r.wait(t, "the stranger's message", is(func(e chat.MessageReceived) bool { return e.Body == "hello?" }))
	// A receipt goes out before the message is shown; anything we send the
	// stranger now comes after it.
	a.do(t, chat.SendMessage{Conv: chat.ChatWith("stranger@localhost"), Body: "who are you?"})
	if _, ok := s.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool { return e.Get("event") == "message" && e.Get("body") == "who are you?" }); !ok {
		t.Fatalf("the stranger never got our message: %v", s.Events())
	}
	for _, e := range s.Events() {
		if e.Get("event") == "receipt" {
			t.Fatalf("a stranger got a receipt: %v", e)
		}
	}
}

func TestMarkersAndCorrections(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	srv.Register(t, "mallory", "pw")
	befriend(t, srv, "alice", "bob")
	store := openStore(t)
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{})
	b := start(t, account(t, srv, "bob", "pw", "gab"), chat.Options{Store: store})

	a.do(t, chat.SendMessage{Conv: chat.ChatWith("bob@localhost"), Body: "teh first"})
	a.do(t, chat.SendMessage{Conv: chat.ChatWith("bob@localhost"), Body: "second"})
	sent := a.r.wait(t, "first", is(func(e chat.MessageSent) bool { return e.Body == "teh first" })).(chat.MessageSent)
	second := a.r.wait(t, "second", is(func(e chat.MessageSent) bool { return e.Body == "second" })).(chat.MessageSent)
	got := b.r.wait(t, "second", is(func(e chat.MessageReceived) bool { return e.Body == "second" })).(chat.MessageReceived)
	if !got.Markable {
		t.Fatalf("not markable: %+v", got)
	}
	// Bob reads up to the second: both are read.
	b.do(t, chat.MarkDisplayed{Conv: chat.ChatWith("alice@localhost"), ID: got.ID})
	for _, id := range []string{sent.ID, second.ID} {
		a.r.wait(t, "displayed "+id, is(func(e chat.DeliveryChanged) bool { return e.ID == id && e.State == chat.DeliveryDisplayed }))
	}

	// Alice corrects her last message.
	a.do(t, chat.CorrectMessage{Conv: chat.ChatWith("bob@localhost"), ReplaceID: second.ID, Body: "the second"})
	c := b.r.wait(t, "the correction", is[chat.MessageCorrected](nil)).(chat.MessageCorrected)
	if c.ReplaceID != second.ID || c.Body != "the second" || c.Bare != "alice@localhost" {
		t.Fatalf("correction: %+v", c)
	}
	msgs, _, _ := store.Before(t.Context(), history.Conv{Peer: "alice@localhost"}, 0, 10)
	if len(msgs) != 2 || msgs[1].Body != "the second" || !msgs[1].Edited {
		t.Fatalf("stored after the correction: %+v", msgs)
	}
	// Mallory cannot correct Alice's message: hers is a message of her own.
	m := rawPeer(t, srv, "mallory")
	m.Send(`<message to='bob@localhost/gab' type='chat' id='z'><body>forged text</body><replace xmlns='urn:xmpp:message-correct:0' id='` + second.ID + `'/></message>`)
	own := b.r.wait(t, "mallory's message", is(func(e chat.MessageReceived) bool { return e.Body == "forged text" })).(chat.MessageReceived)
	if own.Bare != "mallory@localhost" || own.Note == "" {
		t.Fatalf("mallory's correction: %+v", own)
	}
	msgs, _, _ = store.Before(t.Context(), history.Conv{Peer: "alice@localhost"}, 0, 10)
	if msgs[1].Body != "the second" {
		t.Fatalf("forged correction stored: %+v", msgs[1])
	}
}

func TestMarkersWithSlixmpp(t *testing.T) {
	_, a, p := aliceAndPeer(t)
	a.r.wait(t, "peer online", is(func(e chat.PresenceChanged) bool { return e.Bare == "peer@localhost" && e.Available }))

	a.do(t, chat.SendMessage{Conv: chat.ChatWith("peer@localhost"), Body: "read me"})
	sent := a.r.wait(t, "sent", is[chat.MessageSent](nil)).(chat.MessageSent)
	if _, ok := p.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool { return e.Get("event") == "message" && e.Get("id") == sent.ID }); !ok {
		t.Fatalf("peer never got it: %v", p.Events())
	}
	p.Send(t, map[string]any{"cmd": "displayed", "to": "alice@localhost/gab", "id": sent.ID})
	a.r.wait(t, "read", is(func(e chat.DeliveryChanged) bool { return e.ID == sent.ID && e.State == chat.DeliveryDisplayed }))

	p.Send(t, map[string]any{"cmd": "send", "to": "alice@localhost/gab", "body": "mark me", "id": "mk-1", "markable": true})
	m := a.r.wait(t, "markable", is(func(e chat.MessageReceived) bool { return e.Body == "mark me" })).(chat.MessageReceived)
	if !m.Markable {
		t.Fatalf("not markable: %+v", m)
	}
	a.do(t, chat.MarkDisplayed{Conv: chat.ChatWith("peer@localhost"), ID: m.ID})
	if _, ok := p.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool { return e.Get("event") == "displayed" && e.Get("id") == "mk-1" }); !ok {
		t.Fatalf("peer never saw it read: %v", p.Events())
	}
}
