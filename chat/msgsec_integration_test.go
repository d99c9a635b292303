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
	rows, err := store.Recent(t.Context(), peer, 50)
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
	carol := rawSession(t, srv, "carol")
	bob := rawSession(t, srv, "bob")

	a.do(t, chat.SendMessage{To: "carol@localhost", Body: "for carol"})
	sent := a.r.wait(t, "sent", is[chat.MessageSent](nil)).(chat.MessageSent)
	a.r.wait(t, "the server's confirmation", is(func(e chat.DeliveryChanged) bool { return e.ID == sent.ID && e.State == chat.DeliverySent }))

	errorFor := func(id string) string {
		return `<message to='alice@localhost/gab' type='error' id='` + id + `'><error type='cancel'><service-unavailable xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></message>`
	}
	bob.SendRaw(errorFor(sent.ID))
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
	carol.SendRaw(errorFor(sent.ID))
	a.r.wait(t, "carol's error", is(func(e chat.DeliveryChanged) bool { return e.ID == sent.ID && e.State == chat.DeliveryFailed }))
	if st := storedState(t, store, "carol@localhost", sent.ID); st != history.StateFailed {
		t.Fatalf("stored state after carol's error: %q, want %q", st, history.StateFailed)
	}

	// A server on the way may too: Prosody answers for an account that
	// does not exist.
	a.do(t, chat.SendMessage{To: "nobody@localhost", Body: "anyone?"})
	lost := a.r.wait(t, "sent to nobody", is(func(e chat.MessageSent) bool { return e.To == "nobody@localhost" })).(chat.MessageSent)
	a.r.wait(t, "the server's bounce", is(func(e chat.DeliveryChanged) bool { return e.ID == lost.ID && e.State == chat.DeliveryFailed }))
}
