package chat_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
)

// A message the server refuses for its size (Prosody closes the stream
// of a client that sends a stanza over 256 KiB) is marked not delivered,
// with the reason, and leaves the outbox: it is not sent again and again
// on every reconnection. What comes after it still goes. (The stream
// error saying why is often lost: Prosody closes with our bytes still
// arriving, which resets the connection. Without it, the second time the
// connection dies on the same big message is the last.)
func TestMessageTheServerRefusesAsTooBigIsNotResent(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	befriend(t, srv, "alice", "bob")
	store := openStore(t)
	opts := fast
	opts.Store = store
	opts.MaxMessageSize = 1 << 20 // above the server's limit: only the server refuses
	a := start(t, account(t, srv, "alice", "pw", "gab"), opts)
	b := start(t, account(t, srv, "bob", "pw", "gab"), chat.Options{})

	big := strings.Repeat("0123456789abcdef", 300<<10/16) // 300 KiB
	a.do(t, chat.SendMessage{Conv: chat.ChatWith("bob@localhost"), Body: big})
	sent := a.r.wait(t, "the big message", is(func(e chat.MessageSent) bool { return e.Body == big })).(chat.MessageSent)
	f := a.r.wait(t, "the big message marked not delivered", is(func(e chat.DeliveryChanged) bool {
		return e.ID == sent.ID && e.State == chat.DeliveryFailed
	})).(chat.DeliveryChanged)
	if !strings.Contains(f.Reason, "too big") {
		t.Fatalf("reason %q does not say it was too big", f.Reason)
	}
	_, d := a.r.waitFrom(t, 0, "the connection closed by the server", 20*time.Second, is(func(e chat.Disconnected) bool { return e.Err != nil }))
	a.r.waitFrom(t, d, "connected again", 20*time.Second, is[chat.RosterReset](nil))
	a.do(t, chat.SendMessage{Conv: chat.ChatWith("bob@localhost"), Body: "sentinel"})
	b.r.wait(t, "the sentinel", is(func(e chat.MessageReceived) bool { return e.Body == "sentinel" }))
	s := a.r.wait(t, "the sentinel sent", is(func(e chat.MessageSent) bool { return e.Body == "sentinel" })).(chat.MessageSent)
	a.r.wait(t, "the sentinel confirmed", is(func(e chat.DeliveryChanged) bool { return e.ID == s.ID && e.State == chat.DeliverySent }))

	drops := 0
	for _, e := range a.r.snapshot() {
		if d, ok := e.(chat.Disconnected); ok && d.Err != nil {
			drops++
		}
	}
	if drops < 1 || drops > 2 {
		t.Fatalf("the connection dropped %d times, want once or twice: %s", drops, summary(a.r.snapshot()))
	}
	for _, e := range b.r.snapshot() {
		if m, ok := e.(chat.MessageReceived); ok && m.Body == big {
			t.Fatal("bob got the message the server refused")
		}
	}
	if un, err := store.Unsent(context.Background()); err != nil || len(un) != 0 {
		t.Fatalf("outbox after the refusal: %d messages, %v", len(un), err)
	}
	rows, _, _ := store.Before(context.Background(), history.Conv{Peer: "bob@localhost"}, 0, 10)
	if len(rows) != 2 || rows[0].State != history.StateFailed {
		t.Fatalf("stored: %d rows, first in state %q", len(rows), rows[0].State)
	}
}

// Above the account's limit (64 KiB as sent by default) gab refuses a
// message itself: the command fails saying why, the message is kept in
// history marked not delivered, nothing goes on the wire and the
// connection stays up. The limit counts the message as sent: escaping
// makes 20,000 ampersands 100,000 bytes.
func TestMessageOverTheLimitIsRefusedBeforeSending(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{NoMAM: true})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	befriend(t, srv, "alice", "bob")
	store := openStore(t)
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	b := start(t, account(t, srv, "bob", "pw", "gab"), chat.Options{})
	for _, body := range []string{strings.Repeat("x", 70<<10), strings.Repeat("&", 20000)} {
		id := a.c.Do(chat.SendMessage{Conv: chat.ChatWith("bob@localhost"), Body: body})
		f := a.r.wait(t, "the refusal", is(func(e chat.CommandFailed) bool { return e.ID == id })).(chat.CommandFailed)
		if !strings.Contains(f.Err.Error(), "max_message_size") || !strings.Contains(f.Err.Error(), "64 KiB") {
			t.Fatalf("reason: %v", f.Err)
		}
		m := a.r.wait(t, "the message shown", is(func(e chat.MessageSent) bool { return e.CommandID == id })).(chat.MessageSent)
		if m.State != chat.DeliveryFailed || m.StoreID == 0 || m.Body != body {
			t.Fatalf("shown as %q, row %d", m.State, m.StoreID)
		}
	}
	a.do(t, chat.SendMessage{Conv: chat.ChatWith("bob@localhost"), Body: strings.Repeat("y", 60<<10)}) // under the limit
	a.do(t, chat.SendMessage{Conv: chat.ChatWith("bob@localhost"), Body: "sentinel"})
	b.r.wait(t, "the sentinel", is(func(e chat.MessageReceived) bool { return e.Body == "sentinel" }))
	s := a.r.wait(t, "the sentinel sent", is(func(e chat.MessageSent) bool { return e.Body == "sentinel" })).(chat.MessageSent)
	a.r.wait(t, "the sentinel confirmed", is(func(e chat.DeliveryChanged) bool { return e.ID == s.ID && e.State == chat.DeliverySent }))
	if got := len(bodies(b.r)); got != 2 {
		t.Fatalf("bob got %d messages, want the one under the limit and the sentinel", got)
	}
	for _, e := range a.r.snapshot() {
		if d, ok := e.(chat.Disconnected); ok {
			t.Fatalf("disconnected: %v", d.Err)
		}
	}
	rows, _, _ := store.Before(context.Background(), history.Conv{Peer: "bob@localhost"}, 0, 10)
	if len(rows) != 4 || rows[0].State != history.StateFailed || rows[1].State != history.StateFailed {
		t.Fatalf("stored: %d rows", len(rows))
	}
	if un, _ := store.Unsent(context.Background()); len(un) != 0 {
		t.Fatalf("outbox: %d messages", len(un))
	}
}
