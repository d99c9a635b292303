package chat_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/room"
)

// mucServer starts Prosody with its group chat service and registers the
// users named.
func mucServer(t *testing.T, users ...string) *xmpptest.Server {
	t.Helper()
	srv := xmpptest.Start(t, xmpptest.Options{MUC: true})
	for _, u := range users {
		srv.Register(t, u, "pw")
	}
	return srv
}

// roomServer is a server with a group chat service on which the room
// tests run: Prosody (mucServer) or ejabberd (ejabberdRooms).
type roomServer interface {
	xmpptest.XMPPServer
	StartPeer(t testing.TB, user, pass string) *xmpptest.Peer
	MUCService() string
}

// occupantIDs reports whether the server's rooms give occupant-ids
// (XEP-0421): Prosody 0.12's do, ejabberd 23.01's do not.
func occupantIDs(srv roomServer) bool { return srv.Name() == "prosody" }

// joinRoom has a client join room as nick and waits for the answer.
func joinRoom(t *testing.T, a *running, roomJID, nick, password string) chat.RoomJoined {
	t.Helper()
	id := a.c.Do(chat.JoinRoom{Room: roomJID, Nick: nick, Password: password})
	ev := a.r.wait(t, "joined "+roomJID, is(func(e chat.RoomJoined) bool { return e.Room == roomJID })).(chat.RoomJoined)
	a.r.wait(t, "the join's answer", is(func(e chat.CommandDone) bool { return e.ID == id }))
	return ev
}

// roomRows is what the store holds of a room, oldest first.
func roomRows(t *testing.T, store *history.Store, roomJID string) []history.Message {
	t.Helper()
	rows, _, err := store.Before(context.Background(), history.Conv{Kind: history.KindRoom, Peer: roomJID}, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// A room end to end: gab joins a room a slixmpp occupant made, both
// talk, our message is confirmed by its reflection, a private message is
// a conversation of its own; then gab is away while the other talks, and
// at the next join it catches up from the room's archive: every message
// once, in order, with nick and occupant-id.
func TestRoomTalkAndCatchUp(t *testing.T) {
	testRoomTalkAndCatchUp(t, mucServer(t, "alice", "ada"))
}

func testRoomTalkAndCatchUp(t *testing.T, srv roomServer) {
	ids := occupantIDs(srv)
	tea := xmpptest.Room("tea")
	ada := srv.StartPeer(t, "ada", "pw")
	ada.Join(t, tea, "ada")
	store := openStore(t)
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})

	joined := joinRoom(t, a, tea, "alice", "")
	if joined.Self.Nick != "alice" || (joined.Self.OccupantID != "") != ids || !joined.Archive {
		t.Fatalf("joined as %+v (archive %v)", joined.Self, joined.Archive)
	}
	a.r.wait(t, "ada in the room", is(func(e chat.OccupantChanged) bool {
		return e.Room == tea && e.Occupant.Nick == "ada" && !e.Left && (e.Occupant.OccupantID != "") == ids
	}))

	ada.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": "hello alice"})
	in := a.r.wait(t, "ada's message", is(func(e chat.MessageReceived) bool { return e.Body == "hello alice" })).(chat.MessageReceived)
	if in.Conv != chat.RoomConv(tea) || in.Nick != "ada" || (in.OccupantID != "") != ids || in.ArchiveID == "" {
		t.Fatalf("room message %+v", in)
	}

	mark := ada.Mark()
	a.c.Do(chat.SendMessage{Conv: chat.RoomConv(tea), Body: "hello ada"})
	sent := a.r.wait(t, "our message", is(func(e chat.MessageSent) bool { return e.Body == "hello ada" })).(chat.MessageSent)
	a.r.wait(t, "its reflection", is(func(e chat.DeliveryChanged) bool {
		return e.ID == sent.ID && e.Conv == chat.RoomConv(tea) && e.State == chat.DeliveryReceived
	}))
	got := ada.WaitFrom(t, mark, xmpptest.RoundTrip, "alice's message", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "groupchat" && e.Get("body") == "hello ada"
	})
	if got.Get("nick") != "alice" || got.Get("origin_id") != sent.ID {
		t.Fatalf("ada got %v", got)
	}

	ada.Must(t, map[string]any{"cmd": "muc_pm", "room": tea, "nick": "alice", "body": "just you"})
	pm := a.r.wait(t, "the private message", is(func(e chat.MessageReceived) bool { return e.Body == "just you" })).(chat.MessageReceived)
	if pm.Conv != chat.PrivateConv(tea, "ada") {
		t.Fatalf("private message in %+v", pm.Conv)
	}

	// Away: ada goes on talking.
	a.stop()
	for i := 1; i <= 3; i++ {
		ada.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": fmt.Sprintf("while you were away %d", i)})
	}
	a2 := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	joinRoom(t, a2, tea, "alice", "")
	done := a2.r.wait(t, "the catch-up", is(func(e chat.RoomCatchUp) bool { return e.Room == tea })).(chat.RoomCatchUp)
	if done.Err != nil || done.Count != 3 {
		t.Fatalf("catch-up: %+v", done)
	}
	a2.r.waitSeries(t, "missed message", 3, func(i int, e chat.Event) bool {
		m, ok := e.(chat.MessageReceived)
		return ok && m.Conv == chat.RoomConv(tea) && m.Body == fmt.Sprintf("while you were away %d", i+1) && m.Nick == "ada"
	})
	// A second join (a new client, the same store) brings nothing twice.
	a2.stop()
	a3 := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	joinRoom(t, a3, tea, "alice", "")
	if again := a3.r.wait(t, "the second catch-up", is(func(e chat.RoomCatchUp) bool { return e.Room == tea })).(chat.RoomCatchUp); again.Count != 0 || again.Err != nil {
		t.Fatalf("second catch-up: %+v", again)
	}
	rows := roomRows(t, store, tea)
	var bodies []string
	for _, r := range rows {
		bodies = append(bodies, r.Body)
		if r.Direction == history.In && (r.Nick != "ada" || (r.OccupantID != "") != ids || r.ArchiveID == "") {
			t.Errorf("stored without its author or archive id: %+v", r)
		}
	}
	want := []string{"hello alice", "hello ada", "while you were away 1", "while you were away 2", "while you were away 3"}
	if fmt.Sprint(bodies) != fmt.Sprint(want) {
		t.Fatalf("the room's history is\n%q\nwant\n%q", bodies, want)
	}
}

// The room says no: a password, a nick in use, members only; and the
// room's owner kicks us.
func TestRoomRefusalsAndKick(t *testing.T) {
	testRoomRefusalsAndKick(t, mucServer(t, "alice", "ada"))
}

func testRoomRefusalsAndKick(t *testing.T, srv roomServer) {
	ada := srv.StartPeer(t, "ada", "pw")
	locked := xmpptest.Room("locked")
	ada.CreateRoom(t, locked, "ada", xmpptest.RoomConfig{Password: "sesame"})
	club := xmpptest.Room("club")
	ada.CreateRoom(t, club, "ada", xmpptest.RoomConfig{MembersOnly: true})
	tea := xmpptest.Room("tea")
	ada.Join(t, tea, "ada")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{})

	refused := func(roomJID, nick, password string, ok func(chat.RoomJoinFailed) bool) {
		t.Helper()
		id := a.c.Do(chat.JoinRoom{Room: roomJID, Nick: nick, Password: password})
		f := a.r.wait(t, "the refusal of "+roomJID, is(func(e chat.RoomJoinFailed) bool { return e.Room == roomJID })).(chat.RoomJoinFailed)
		if !ok(f) {
			t.Fatalf("refusal %+v", f)
		}
		a.r.wait(t, "the failed join", is(func(e chat.CommandFailed) bool { return e.ID == id }))
	}
	refused(locked, "alice", "", func(f chat.RoomJoinFailed) bool { return f.NeedPassword })
	refused(club, "alice", "", func(f chat.RoomJoinFailed) bool { return f.MembersOnly })
	refused(tea, "ada", "", func(f chat.RoomJoinFailed) bool { return f.NickConflict && f.Suggestion != "" })
	joinRoom(t, a, locked, "alice", "sesame")

	joinRoom(t, a, tea, "alice", "")
	ada.Must(t, map[string]any{"cmd": "kick", "room": tea, "nick": "alice", "reason": "out you go"})
	left := a.r.wait(t, "the kick", is(func(e chat.RoomLeft) bool { return e.Room == tea })).(chat.RoomLeft)
	if left.State != room.Kicked || left.Reason != "out you go" {
		t.Fatalf("left as %+v", left)
	}
	// Out of the room, nothing more can be said in it.
	id := a.c.Do(chat.SendMessage{Conv: chat.RoomConv(tea), Body: "am I still here?"})
	a.r.wait(t, "the refusal to send", is(func(e chat.CommandFailed) bool { return e.ID == id }))
}

// A new session (no stream management to resume) joins every room again,
// and what the outbox held for a room goes once we are back in.
func TestRoomRejoinedAfterNewSession(t *testing.T) {
	testRoomRejoinedAfterNewSession(t, mucServer(t, "alice", "ada"))
}

func testRoomRejoinedAfterNewSession(t *testing.T, srv roomServer) {
	tea := xmpptest.Room("tea")
	ada := srv.StartPeer(t, "ada", "pw")
	ada.Join(t, tea, "ada")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{NoStreamManagement: true, Store: openStore(t)})
	joinRoom(t, a, tea, "alice", "")
	_, from := a.r.waitFrom(t, 0, "joined", xmpptest.RoundTrip, is(func(e chat.RoomJoined) bool { return true }))
	a.c.Do(chat.Reconnect{})
	a.r.waitFrom(t, from+1, "joining again", xmpptest.RoundTrip, is(func(e chat.RoomJoining) bool { return e.Room == tea }))
	a.r.waitFrom(t, from+1, "in again", xmpptest.RoundTrip, is(func(e chat.RoomJoined) bool { return e.Room == tea }))
	mark := ada.Mark()
	a.c.Do(chat.SendMessage{Conv: chat.RoomConv(tea), Body: "back"})
	ada.WaitFrom(t, mark, xmpptest.RoundTrip, "alice's message after the rejoin", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "groupchat" && e.Get("body") == "back" && e.Get("nick") == "alice"
	})
}

// Private messages through a room are in our account's archive too
// (ejabberd keeps them there): caught up after a restart, they belong to
// the private conversation with the occupant, where the live ones are,
// not to a chat with the room's bare JID (decision 0006). Our own other
// session's message, sent after them, is the sentinel: the catch-up brings
// the archive in order.
func TestRoomPrivateMessagesFromTheAccountArchive(t *testing.T) {
	testRoomPrivateMessagesFromTheAccountArchive(t, mucServer(t, "alice", "ada"))
}

func testRoomPrivateMessagesFromTheAccountArchive(t *testing.T, srv roomServer) {
	tea := xmpptest.Room("tea")
	ada := srv.StartPeer(t, "ada", "pw")
	ada.Join(t, tea, "ada")
	store := openStore(t)
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	joinRoom(t, a, tea, "alice", "")
	private := chat.PrivateConv(tea, "ada")
	ada.Must(t, map[string]any{"cmd": "muc_pm", "room": tea, "nick": "alice", "body": "just you"})
	a.r.wait(t, "the private message", is(func(e chat.MessageReceived) bool { return e.Body == "just you" && e.Conv == private }))
	mark := ada.Mark()
	a.c.Do(chat.SendMessage{Conv: private, Body: "just me"})
	ada.WaitFrom(t, mark, xmpptest.RoundTrip, "alice's private answer", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "muc_pm" && e.Get("body") == "just me"
	})
	a.stop()

	other := srv.StartPeer(t, "alice", "pw")
	other.Send(t, map[string]any{"cmd": "send", "to": "ada@" + xmpptest.Domain, "body": "sentinel"})
	ada.WaitFor(t, xmpptest.RoundTrip, "the sentinel", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "message" && e.Get("body") == "sentinel"
	})

	a2 := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	a2.r.wait(t, "the sentinel from the archive", is(func(e chat.CarbonSent) bool { return e.Body == "sentinel" }))
	for _, e := range a2.r.snapshot() {
		switch e := e.(type) {
		case chat.MessageReceived:
			t.Errorf("caught up again, in %+v: %q", e.Conv, e.Body)
		case chat.CarbonSent:
			if e.Body != "sentinel" {
				t.Errorf("caught up again, in %+v: %q", e.Conv, e.Body)
			}
		}
	}
	rows, _, err := store.Before(context.Background(), history.Conv{Kind: history.KindChat, Peer: tea}, 0, 100)
	if err != nil || len(rows) != 0 {
		t.Errorf("a chat with the room's bare JID: %v %+v", err, rows)
	}
}

// gab makes a room: it is created for us (status 201) and opened as an
// instant room, another joins it, and an occupant's correction of her
// last message replaces it (XEP-0308: from the same occupant — by
// occupant-id where the room gives them, else by room/nick).
func TestRoomCreatedAndCorrected(t *testing.T) {
	testRoomCreatedAndCorrected(t, mucServer(t, "alice", "ada"))
}

func testRoomCreatedAndCorrected(t *testing.T, srv roomServer) {
	fresh := xmpptest.Room("fresh")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: openStore(t)})
	joined := joinRoom(t, a, fresh, "alice", "")
	if !joined.Created || joined.Self.Affiliation != room.Owner {
		t.Fatalf("joined a new room as %+v (created %v)", joined.Self, joined.Created)
	}
	ada := srv.StartPeer(t, "ada", "pw")
	ada.Join(t, fresh, "ada")
	a.r.wait(t, "ada in the room", is(func(e chat.OccupantChanged) bool { return e.Room == fresh && e.Occupant.Nick == "ada" && !e.Left }))
	ada.Must(t, map[string]any{"cmd": "groupchat", "room": fresh, "body": "helo", "id": "ada-1"})
	a.r.wait(t, "ada's message", is(func(e chat.MessageReceived) bool { return e.Body == "helo" && e.Nick == "ada" }))
	ada.Must(t, map[string]any{"cmd": "groupchat", "room": fresh, "body": "hello", "id": "ada-2", "replace": "ada-1"})
	c := a.r.wait(t, "the correction", is(func(e chat.MessageCorrected) bool { return e.Conv == chat.RoomConv(fresh) })).(chat.MessageCorrected)
	if c.ReplaceID != "ada-1" || c.Body != "hello" || c.Nick != "ada" {
		t.Fatalf("correction %+v", c)
	}
}
