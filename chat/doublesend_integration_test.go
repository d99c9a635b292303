package chat_test

import (
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/internal/xmpptest"
)

// A message written while the session is being set up (before the roster
// has come) goes out once: only what an earlier session left is sent again
// when the roster is in. A peer nobody here wrote counts what it gets by
// id; a sentinel sent afterwards shows that no copy is still on its way.
func TestMessageWrittenDuringSetUpIsSentOnce(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "peer", "pw")
	befriend(t, srv, "alice", "peer")
	p := srv.StartPeer(t, "peer", "pw")
	c := chat.New(account(t, srv, "alice", "pw", "gab"), chat.Options{Version: "test"})
	c.Do(chat.SendMessage{Conv: chat.ChatWith("peer@localhost"), Body: "written while connecting"}) // waiting when the session starts
	r := runClient(t, c)
	sent := r.wait(t, "the message", is(func(e chat.MessageSent) bool { return e.Body == "written while connecting" })).(chat.MessageSent)
	r.wait(t, "the roster", is[chat.RosterReset](nil))
	r.wait(t, "the message confirmed", is(func(e chat.DeliveryChanged) bool { return e.ID == sent.ID && e.State == chat.DeliverySent }))
	c.Do(chat.SendMessage{Conv: chat.ChatWith("peer@localhost"), Body: "sentinel"})
	if _, ok := p.Wait(15*time.Second, func(e xmpptest.PeerEvent) bool { return e.Get("event") == "message" && e.Get("body") == "sentinel" }); !ok {
		t.Fatalf("the peer never got the sentinel: %v", p.Events())
	}
	n := 0
	for _, e := range p.Events() {
		if e.Get("event") == "message" && e.Get("id") == sent.ID {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the peer got message %s %d times", sent.ID, n)
	}
}
