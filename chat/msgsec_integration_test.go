package chat_test

import (
	"strings"
	"testing"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
)

// storedState is the delivery state the store holds for the outgoing
// message with stanza id id in the conversation with peer.
func storedState(t *testing.T, store *history.Store, peer, id string) string {
	t.Helper()
	rows, _, err := store.Before(t.Context(), history.Conv{Peer: peer}, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.StanzaID == id {
			return r.State
		}
	}
	t.Fatalf("message %s to %s not in the store", id, peer)
	return ""
}

// An error stanza naming the id of alice's message to carol, sent by bob,
// does not mark it not delivered (not on screen, not in the store); the
// same error from carol does, and so does a bounce from the server of an
// address that does not exist.
func TestOnlyTheRecipientOrAServerCanBounceAMessage(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	for _, u := range []string{"alice", "bob", "carol"} {
		srv.Register(t, u, "pw")
	}
	befriend(t, srv, "alice", "carol")
	store := openStore(t)
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	carol := rawPeer(t, srv, "carol")
	bob := rawPeer(t, srv, "bob")

	a.do(t, chat.SendMessage{Conv: chat.ChatWith("carol@localhost"), Body: "for carol"})
	sent := a.r.wait(t, "sent", is[chat.MessageSent](nil)).(chat.MessageSent)
	a.r.wait(t, "the server's confirmation", is(func(e chat.DeliveryChanged) bool { return e.ID == sent.ID && e.State == chat.DeliverySent }))

	errorFor := func(id string) string {
		return `<message to='alice@localhost/gab' type='error' id='` + id + `'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`
	}
	bob.Send(errorFor(sent.ID))
	_, refused := a.r.waitFrom(t, 0, "the refusal of bob's error", xmpptest.RoundTrip, is(func(e chat.Notice) bool {
		return strings.Contains(e.Text, "ignored an error from bob@localhost/evil") && strings.Contains(e.Text, "carol@localhost")
	}))
	for _, e := range a.r.snapshot()[:refused] {
		if d, ok := e.(chat.DeliveryChanged); ok && d.State == chat.DeliveryFailed {
			t.Fatalf("bob's error marked the message to carol not delivered: %+v", d)
		}
		if s, ok := e.(chat.StanzaError); ok {
			t.Fatalf("bob's error shown as a delivery error: %+v", s)
		}
	}
	if st := storedState(t, store, "carol@localhost", sent.ID); st != history.StateSent {
		t.Fatalf("stored state after bob's error: %q, want %q", st, history.StateSent)
	}

	// The recipient itself may return it.
	carol.Send(errorFor(sent.ID))
	a.r.wait(t, "carol's error", is(func(e chat.DeliveryChanged) bool { return e.ID == sent.ID && e.State == chat.DeliveryFailed }))
	if st := storedState(t, store, "carol@localhost", sent.ID); st != history.StateFailed {
		t.Fatalf("stored state after carol's error: %q, want %q", st, history.StateFailed)
	}

	// A server on the way may too: Prosody answers for an account that
	// does not exist.
	a.do(t, chat.SendMessage{Conv: chat.ChatWith("nobody@localhost"), Body: "anyone?"})
	lost := a.r.wait(t, "sent to nobody", is(func(e chat.MessageSent) bool { return e.To == "nobody@localhost" })).(chat.MessageSent)
	a.r.wait(t, "the server's bounce", is(func(e chat.DeliveryChanged) bool { return e.ID == lost.ID && e.State == chat.DeliveryFailed }))
}

// A contact's own <stanza-id by='alice@localhost'/> is not taken for the
// archive's: Prosody keeps it and appends its own after it. The message is
// stored once, without the forged id, and recognised when the next
// catch-up brings it from the archive (which gives it the real id).
func TestForgedStanzaIDIsNotTrusted(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	befriend(t, srv, "alice", "bob")
	store := openStore(t)
	laptop := start(t, account(t, srv, "alice", "pw", "laptop"), chat.Options{Store: store})
	// Answered after the first-run archive query noted where the archive
	// ends (the server answers in order).
	laptop.do(t, chat.FetchBlocklist{})
	bob := rawPeer(t, srv, "bob")
	bob.Send(`<message to='alice@localhost' type='chat' id='b1'><body>with a forged id</body>` +
		`<stanza-id xmlns='urn:xmpp:sid:0' by='alice@localhost' id='forged-1'/></message>`)
	bob.Send(`<message to='alice@localhost' type='chat' id='b2'><body>not to be archived</body><no-store xmlns='urn:xmpp:hints'/>` +
		`<stanza-id xmlns='urn:xmpp:sid:0' by='alice@localhost' id='forged-2'/></message>`)
	m := laptop.r.wait(t, "the message with a forged id", is(func(e chat.MessageReceived) bool { return e.Body == "with a forged id" })).(chat.MessageReceived)
	if m.ArchiveID == "forged-1" {
		t.Errorf("the forged stanza-id taken for the archive's: %+v", m)
	}
	n := laptop.r.wait(t, "the message not to be archived", is(func(e chat.MessageReceived) bool { return e.Body == "not to be archived" })).(chat.MessageReceived)
	if n.ArchiveID != "" {
		t.Errorf("a message the archive does not keep came with an archive id: %+v", n)
	}
	laptop.stop()

	bob.Send(`<message to='alice@localhost' type='chat' id='b3'><body>while the laptop was off</body></message>`)
	again := start(t, account(t, srv, "alice", "pw", "laptop"), chat.Options{Store: store})
	// The catch-up brings the archive in order: b1 first, then b3.
	again.r.wait(t, "the message from the archive", is(func(e chat.MessageReceived) bool { return e.Body == "while the laptop was off" }))
	// The blocklist is asked for after the archive, so its answer comes
	// after the whole catch-up (that message may come first, offline).
	again.r.wait(t, "the blocklist, asked for after the archive", is(func(e chat.BlocklistChanged) bool { return e.Reset }))
	rows, _, err := store.Before(t.Context(), history.Conv{Peer: "bob@localhost"}, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range rows {
		count[r.Body]++
		if r.ArchiveID == "forged-1" || r.ArchiveID == "forged-2" {
			t.Errorf("stored under a forged archive id: %+v", r)
		}
		if r.Body == "with a forged id" && r.ArchiveID == "" {
			t.Errorf("the archive's copy did not give the live one its id: %+v", r)
		}
	}
	for _, body := range []string{"with a forged id", "not to be archived", "while the laptop was off"} {
		if count[body] != 1 {
			t.Errorf("%q stored %d times", body, count[body])
		}
	}
	for _, e := range again.r.snapshot() {
		if v, ok := e.(chat.MessageReceived); ok && v.Body != "while the laptop was off" {
			t.Errorf("shown again from the archive: %+v", v)
		}
	}
}

// storedRow is the stored message with stanza id id in the conversation
// with peer.
func storedRow(t *testing.T, store *history.Store, peer, id string) history.Message {
	t.Helper()
	rows, _, err := store.Before(t.Context(), history.Conv{Peer: peer}, 0, 100)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rows {
		if r.StanzaID == id {
			return r
		}
	}
	t.Fatalf("message %s with %s not in the store", id, peer)
	return history.Message{}
}

// A contact corrects only its last message, from the same full JID
// (XEP-0308): a correction of a message four back, or one from another
// resource, is shown as a new message with a note and changes nothing
// stored; an allowed correction keeps the original text in the store, and
// is still allowed after a restart, from what the store holds.
func TestOnlyTheLastMessageCanBeCorrectedFromTheSameResource(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	befriend(t, srv, "alice", "bob")
	store := openStore(t)
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	b := start(t, account(t, srv, "bob", "pw", "gab"), chat.Options{})
	evil := rawPeer(t, srv, "bob") // bob@localhost/evil

	var ids []string
	for _, body := range []string{"one", "two", "three", "four"} {
		b.do(t, chat.SendMessage{Conv: chat.ChatWith("alice@localhost"), Body: body})
		m := a.r.wait(t, body, is(func(e chat.MessageReceived) bool { return e.Body == body })).(chat.MessageReceived)
		ids = append(ids, m.ID)
	}
	// Allowed: the last, from the resource that sent it.
	b.do(t, chat.CorrectMessage{Conv: chat.ChatWith("alice@localhost"), ReplaceID: ids[3], Body: "four, fixed"})
	c := a.r.wait(t, "the correction", is[chat.MessageCorrected](nil)).(chat.MessageCorrected)
	if c.ReplaceID != ids[3] || c.Body != "four, fixed" {
		t.Fatalf("correction: %+v", c)
	}
	four := storedRow(t, store, "bob@localhost", ids[3])
	if four.Body != "four, fixed" || !four.Edited {
		t.Fatalf("stored after the correction: %+v", four)
	}
	if edits, err := store.Edits(t.Context(), four.ID); err != nil || len(edits) != 1 || edits[0].Body != "four" {
		t.Fatalf("the original text not kept: %+v, %v", edits, err)
	}

	// The last message, from another resource: a message of its own.
	evil.Send(`<message to='alice@localhost' type='chat' id='e1'><body>four, forged</body><replace xmlns='urn:xmpp:message-correct:0' id='` + ids[3] + `'/></message>`)
	m := a.r.wait(t, "the other resource's correction", is(func(e chat.MessageReceived) bool { return e.Body == "four, forged" })).(chat.MessageReceived)
	if m.Note == "" || m.From != "bob@localhost/evil" {
		t.Fatalf("shown as: %+v", m)
	}
	// Four messages back, from the resource that sent it: the same.
	b.do(t, chat.CorrectMessage{Conv: chat.ChatWith("alice@localhost"), ReplaceID: ids[0], Body: "one, rewritten"})
	m = a.r.wait(t, "the correction of an old message", is(func(e chat.MessageReceived) bool { return e.Body == "one, rewritten" })).(chat.MessageReceived)
	if m.Note == "" {
		t.Fatalf("shown as: %+v", m)
	}
	for i, want := range []string{"one", "two", "three", "four, fixed"} {
		if r := storedRow(t, store, "bob@localhost", ids[i]); r.Body != want {
			t.Errorf("message %d stored as %q, want %q", i+1, r.Body, want)
		}
	}
	for _, body := range []string{"four, forged", "one, rewritten"} {
		found := false
		rows, _, _ := store.Before(t.Context(), history.Conv{Peer: "bob@localhost"}, 0, 100)
		for _, r := range rows {
			found = found || r.Body == body
		}
		if !found {
			t.Errorf("%q not stored as a message", body)
		}
	}
	for _, e := range a.r.snapshot() {
		if v, ok := e.(chat.MessageCorrected); ok && v.ReplaceID != ids[3] {
			t.Errorf("a correction applied: %+v", v)
		}
	}

	// After a restart the store says what bob's last message is: the one
	// he sent as a correction of his first.
	a.stop()
	again := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	again.do(t, chat.FetchBlocklist{}) // the catch-up is in by then
	last := m.ID
	b.do(t, chat.CorrectMessage{Conv: chat.ChatWith("alice@localhost"), ReplaceID: last, Body: "one, rewritten twice"})
	c = again.r.wait(t, "the correction after a restart", is[chat.MessageCorrected](nil)).(chat.MessageCorrected)
	if c.ReplaceID != last || storedRow(t, store, "bob@localhost", last).Body != "one, rewritten twice" {
		t.Fatalf("correction after a restart: %+v", c)
	}
}
