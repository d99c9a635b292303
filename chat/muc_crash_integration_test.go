package chat_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/internal/xmpptest"
)

// The server is killed (kill -9) while gab is in a room: gab connects
// again, joins the room again and reads what was said meanwhile from its
// archive; every message is kept once, in order.
func TestRoomCatchUpAfterServerKilled(t *testing.T) {
	srv := mucServer(t, "alice", "ada", "bob")
	tea := xmpptest.Room("tea")
	ada := srv.StartPeer(t, "ada", "pw")
	ada.CreateRoom(t, tea, "ada", xmpptest.RoomConfig{Persistent: true})
	ada.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": "before the crash"})
	store := openStore(t)
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store, MinBackoff: 50 * time.Millisecond, MaxBackoff: 200 * time.Millisecond})
	joinRoom(t, a, tea, "alice", "")
	a.r.wait(t, "the message said before we came", is(func(e chat.MessageReceived) bool { return e.Body == "before the crash" }))
	srv.Kill()
	_, i := a.r.waitFrom(t, 0, "the connection lost", xmpptest.RoundTrip, is(func(e chat.Disconnected) bool { return e.Err != nil }))
	if err := srv.Run(); err != nil {
		t.Fatal(err)
	}
	bob := srv.StartPeer(t, "bob", "pw")
	bob.Join(t, tea, "bob")
	bob.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": "after the crash"})
	a.r.waitFrom(t, i, "joined again", xmpptest.RoundTrip, is(func(e chat.RoomJoined) bool { return e.Room == tea }))
	a.r.waitFrom(t, i, "what bob said", xmpptest.RoundTrip, is(func(e chat.MessageReceived) bool { return e.Body == "after the crash" }))
	// A message said after gab is back in: once it is here, the catch-up
	// and the live copies are all in.
	a.r.waitFrom(t, i, "the catch-up", xmpptest.RoundTrip, is(func(e chat.RoomCatchUp) bool { return e.Room == tea }))
	bob.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": "sentinel"})
	a.r.waitFrom(t, i, "the sentinel", xmpptest.RoundTrip, is(func(e chat.MessageReceived) bool { return e.Body == "sentinel" }))
	var bodies []string
	for _, r := range roomRows(t, store, tea) {
		bodies = append(bodies, r.Body)
	}
	if want := "[before the crash after the crash sentinel]"; fmt.Sprint(bodies) != want {
		t.Fatalf("the room's history is %q, want %s", bodies, want)
	}
}
