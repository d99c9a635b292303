package chat_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/room"
	"github.com/gab-chat/gab/xmpp"
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

// gab finds its server's group chat service, lists its rooms, joins one
// by its name alone, and tells the room when we type.
func TestRoomServiceListAndTyping(t *testing.T) {
	srv := mucServer(t, "alice", "ada")
	ada := srv.StartPeer(t, "ada", "pw")
	tea := xmpptest.Room("tea")
	ada.CreateRoom(t, tea, "ada", xmpptest.RoomConfig{Persistent: true, Name: "Tea room", Fields: map[string]any{"muc#roomconfig_publicroom": true}})
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{})
	found := a.r.wait(t, "the services", is(func(e chat.ServicesFound) bool { return true })).(chat.ServicesFound)
	if found.MUC != xmpptest.MUCService {
		t.Fatalf("group chat service %q, want %q", found.MUC, xmpptest.MUCService)
	}
	id := a.c.Do(chat.ListRooms{})
	list := a.r.wait(t, "the room list", is(func(e chat.RoomsListed) bool { return true })).(chat.RoomsListed)
	a.r.wait(t, "the list's answer", is(func(e chat.CommandDone) bool { return e.ID == id }))
	if len(list.Rooms) != 1 || list.Rooms[0].JID != tea || list.Rooms[0].Name != "Tea room" {
		t.Fatalf("rooms listed: %+v", list)
	}
	id = a.c.Do(chat.JoinRoom{Room: "tea", Nick: "alice"})
	joined := a.r.wait(t, "joined tea by its name", is(func(e chat.RoomJoined) bool { return true })).(chat.RoomJoined)
	a.r.wait(t, "the join's answer", is(func(e chat.CommandDone) bool { return e.ID == id }))
	if joined.Room != tea || joined.Name != "Tea room" {
		t.Fatalf("joined %+v", joined)
	}
	mark := ada.Mark()
	a.c.Do(chat.SendChatState{Conv: chat.RoomConv(tea), State: chat.StateComposing})
	ada.WaitFrom(t, mark, xmpptest.RoundTrip, "alice typing", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "muc_chatstate" && e.Get("nick") == "alice" && e.Get("state") == "composing"
	})
	ada.Must(t, map[string]any{"cmd": "muc_state", "room": tea, "state": "composing"})
	a.r.wait(t, "ada typing", is(func(e chat.ChatStateChanged) bool {
		return e.Conv == chat.RoomConv(tea) && e.Nick == "ada" && e.State == chat.StateComposing
	}))
}

// A room that lost us without a word (its host restarted) is found out by
// the self-ping (XEP-0410) and joined again.
func TestRoomSelfPingRejoins(t *testing.T) {
	srv := mucServer(t, "alice")
	tea := xmpptest.Room("tea")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{SelfPingInterval: 200 * time.Millisecond})
	first := joinRoom(t, a, tea, "alice", "")
	if !first.Created {
		t.Fatalf("the room was not new: %+v", first)
	}
	_, at := a.r.waitFrom(t, 0, "joined", xmpptest.RoundTrip, is(func(e chat.RoomJoined) bool { return true }))
	if err := srv.ForgetRoom(tea); err != nil {
		t.Fatal(err)
	}
	a.r.waitFrom(t, at+1, "the notice that the room lost us", xmpptest.RoundTrip, is(func(e chat.Notice) bool {
		return strings.Contains(e.Text, tea+" no longer had you in it")
	}))
	again, _ := a.r.waitFrom(t, at+1, "joined again", xmpptest.RoundTrip, is(func(e chat.RoomJoined) bool { return e.Room == tea }))
	if again.(chat.RoomJoined).Self.Nick != "alice" {
		t.Fatalf("joined again as %+v", again)
	}
}

// A room tab pages back past what the store holds, into the room's
// archive; every message once, in order.
func TestRoomPagesBackIntoArchive(t *testing.T) {
	srv := mucServer(t, "alice", "ada")
	tea := xmpptest.Room("tea")
	ada := srv.StartPeer(t, "ada", "pw")
	ada.Join(t, tea, "ada")
	for i := 1; i <= 120; i++ {
		ada.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": fmt.Sprintf("m%d", i)})
	}
	store := openStore(t)
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	joinRoom(t, a, tea, "alice", "")
	if c := a.r.wait(t, "the catch-up", is(func(e chat.RoomCatchUp) bool { return e.Room == tea })).(chat.RoomCatchUp); c.Count != 100 {
		t.Fatalf("a room never seen: caught up %d messages, want its latest page of 100", c.Count)
	}
	rows := roomRows(t, store, tea)
	if len(rows) != 100 || rows[0].Body != "m21" {
		t.Fatalf("stored %d, first %q", len(rows), rows[0].Body)
	}
	id := a.c.Do(chat.LoadHistory{Conv: chat.RoomConv(tea), Before: rows[0].ID, Limit: 50})
	page := a.r.wait(t, "the older page", is(func(e chat.HistoryLoaded) bool { return e.Conv == chat.RoomConv(tea) })).(chat.HistoryLoaded)
	a.r.wait(t, "the page's answer", is(func(e chat.CommandDone) bool { return e.ID == id }))
	if len(page.Messages) != 20 || page.Messages[0].Body != "m1" || page.Messages[19].Body != "m20" || page.More {
		t.Fatalf("older page: %d messages, more %v", len(page.Messages), page.More)
	}
	if m := page.Messages[0]; m.Nick != "ada" || m.Conv != chat.RoomConv(tea) {
		t.Fatalf("paged-back message %+v", m)
	}
	all := roomRows(t, store, tea)
	for i, r := range all {
		if want := fmt.Sprintf("m%d", i+1); r.Body != want {
			t.Fatalf("row %d is %q, want %q", i, r.Body, want)
		}
	}
	if len(all) != 120 {
		t.Fatalf("%d rows, want 120", len(all))
	}
}

// A room that keeps no archive sends its history at every join: gab keeps
// each message once.
func TestRoomHistoryWithoutArchive(t *testing.T) {
	srv := mucServer(t, "alice", "ada")
	tea := xmpptest.Room("tea")
	ada := srv.StartPeer(t, "ada", "pw")
	off := false
	ada.CreateRoom(t, tea, "ada", xmpptest.RoomConfig{MAM: &off})
	for i := 1; i <= 3; i++ {
		ada.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": fmt.Sprintf("said before %d", i)})
	}
	store := openStore(t)
	for run := 1; run <= 2; run++ {
		a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
		if j := joinRoom(t, a, tea, "alice", ""); j.Archive {
			t.Fatal("the room says it keeps an archive")
		}
		// The subject comes after the history: every copy is in by then.
		a.r.wait(t, "the subject", is(func(e chat.RoomSubject) bool { return e.Room == tea }))
		shown := 0
		for _, ev := range a.r.snapshot() {
			if m, ok := ev.(chat.MessageReceived); ok && m.Conv == chat.RoomConv(tea) {
				shown++
			}
		}
		if want := map[int]int{1: 3, 2: 0}[run]; shown != want {
			t.Fatalf("join %d showed %d messages of the room's history, want %d", run, shown, want)
		}
		a.stop()
	}
	if rows := roomRows(t, store, tea); len(rows) != 3 {
		t.Fatalf("stored %d rows, want 3", len(rows))
	}
}

// The room commands against a real room and a slixmpp occupant: subject,
// nick, invitations both ways, kick and ban as the room's owner, leaving.
func TestRoomCommands(t *testing.T) {
	srv := mucServer(t, "alice", "ada", "bob")
	tea := xmpptest.Room("tea")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{})
	if j := joinRoom(t, a, tea, "alice", ""); !j.Created || j.Self.Affiliation != room.Owner {
		t.Fatalf("alice did not create the room: %+v", j)
	}
	ada := srv.StartPeer(t, "ada", "pw")
	ada.Join(t, tea, "ada")

	mark := ada.Mark()
	a.do(t, chat.SetSubject{Room: tea, Subject: "Darjeeling"})
	ada.WaitFrom(t, mark, xmpptest.RoundTrip, "the subject", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "subject" && e.Get("subject") == "Darjeeling" && e.Get("nick") == "alice"
	})
	a.r.wait(t, "our subject back", is(func(e chat.RoomSubject) bool { return e.Subject == "Darjeeling" && e.Nick == "alice" }))

	a.do(t, chat.ChangeNick{Room: tea, Nick: "alicia"})
	a.r.wait(t, "our new nick", is(func(e chat.OccupantChanged) bool { return e.Self && e.Left && e.NewNick == "alicia" }))
	a.r.wait(t, "our presence under it", is(func(e chat.OccupantChanged) bool { return e.Self && !e.Left && e.Occupant.Nick == "alicia" }))
	mark = ada.Mark()
	a.c.Do(chat.SendMessage{Conv: chat.RoomConv(tea), Body: "renamed"})
	if got := ada.WaitFrom(t, mark, xmpptest.RoundTrip, "the message under the new nick", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "groupchat" && e.Get("body") == "renamed"
	}); got.Get("nick") != "alicia" {
		t.Fatalf("sent as %q", got.Get("nick"))
	}

	mark = ada.Mark()
	a.do(t, chat.Invite{Room: tea, JID: "ada@localhost", Reason: "more tea"})
	ada.WaitFrom(t, mark, xmpptest.RoundTrip, "the invitation", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "invite" && e.Get("kind") == "direct" && e.Get("room") == tea && e.Get("reason") == "more tea"
	})
	coffee := xmpptest.Room("coffee")
	ada.Join(t, coffee, "ada")
	ada.Must(t, map[string]any{"cmd": "direct_invite", "room": coffee, "to": "alice@localhost", "reason": "coffee?"})
	inv := a.r.wait(t, "a direct invitation", is(func(e chat.InvitationReceived) bool { return !e.Mediated })).(chat.InvitationReceived)
	if inv.Room != coffee || inv.From != "ada@localhost" || inv.Reason != "coffee?" {
		t.Fatalf("direct invitation %+v", inv)
	}
	ada.Must(t, map[string]any{"cmd": "invite", "room": coffee, "to": "alice@localhost", "reason": "really"})
	med := a.r.wait(t, "a mediated invitation", is(func(e chat.InvitationReceived) bool { return e.Mediated })).(chat.InvitationReceived)
	if med.Room != coffee || med.Reason != "really" {
		t.Fatalf("mediated invitation %+v", med)
	}
	for _, ev := range a.r.snapshot() {
		if m, ok := ev.(chat.MessageReceived); ok && m.Conv.Kind == chat.KindChat {
			t.Fatalf("an invitation became a chat message: %+v", m)
		}
	}

	mark = ada.Mark()
	a.do(t, chat.SetRole{Room: tea, Nick: "ada", Role: room.RoleNone, Reason: "enough"})
	ada.WaitFrom(t, mark, xmpptest.RoundTrip, "the kick", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "occupant" && e.Get("room") == tea && e["self"] == true && xmpptest.HasCode(e, 307)
	})
	kicked := a.r.wait(t, "ada kicked", is(func(e chat.OccupantChanged) bool { return e.Occupant.Nick == "ada" && e.Kicked })).(chat.OccupantChanged)
	if kicked.Reason != "enough" || kicked.Actor != "alicia" {
		t.Fatalf("kick seen as %+v", kicked)
	}
	ada.Join(t, tea, "ada")
	a.do(t, chat.SetAffiliation{Room: tea, JID: "ada@localhost", Affiliation: room.Outcast, Reason: "for good"})
	a.r.wait(t, "ada banned", is(func(e chat.OccupantChanged) bool { return e.Occupant.Nick == "ada" && e.Banned }))
	ada.WaitFor(t, xmpptest.RoundTrip, "the ban", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "occupant" && e.Get("room") == tea && e["self"] == true && xmpptest.HasCode(e, 301)
	})

	a.do(t, chat.LeaveRoom{Room: tea, Reason: "bye"})
	if left := a.r.wait(t, "left", is(func(e chat.RoomLeft) bool { return e.Room == tea })).(chat.RoomLeft); left.State != room.Left {
		t.Fatalf("left as %+v", left)
	}
}

// A room made with JoinRoom{Configure: true} waits for its owner's
// configuration: gab reads the form, submits it, and the room is as set.
func TestRoomConfiguration(t *testing.T) {
	srv := mucServer(t, "alice", "ada")
	tea := xmpptest.Room("tea")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{})
	id := a.c.Do(chat.JoinRoom{Room: tea, Nick: "alice", Configure: true})
	j := a.r.wait(t, "joined", is(func(e chat.RoomJoined) bool { return e.Room == tea })).(chat.RoomJoined)
	a.r.wait(t, "the join's answer", is(func(e chat.CommandDone) bool { return e.ID == id }))
	if !j.Created || !j.Configure {
		t.Fatalf("joined %+v", j)
	}
	a.do(t, chat.FetchRoomConfig{Room: tea})
	form := a.r.wait(t, "the form", is(func(e chat.RoomConfigForm) bool { return e.Room == tea })).(chat.RoomConfigForm)
	fields := map[string]chat.FormField{}
	for _, f := range form.Form.Fields {
		fields[f.Var] = f
	}
	if fields["muc#roomconfig_roomname"].Type != "text-single" || fields["muc#roomconfig_membersonly"].Type != "boolean" {
		t.Fatalf("form fields: %+v", form.Form.Fields)
	}
	a.do(t, chat.SubmitRoomConfig{Room: tea, Values: map[string][]string{
		"muc#roomconfig_roomname":    {"Tea for two"},
		"muc#roomconfig_membersonly": {"1"},
	}})
	ada := srv.StartPeer(t, "ada", "pw")
	if err := ada.Do(t, map[string]any{"cmd": "join", "room": tea, "nick": "ada"}); err == nil || !strings.Contains(err.Error(), "registration-required") {
		t.Fatalf("a stranger's join of the members-only room: %v", err)
	}
	a.do(t, chat.FetchRoomConfig{Room: tea})
	_, at := a.r.waitFrom(t, 0, "the first form", xmpptest.RoundTrip, is(func(e chat.RoomConfigForm) bool { return true }))
	again, _ := a.r.waitFrom(t, at+1, "the form again", xmpptest.RoundTrip, is(func(e chat.RoomConfigForm) bool { return true }))
	for _, f := range again.(chat.RoomConfigForm).Form.Fields {
		if f.Var == "muc#roomconfig_roomname" && fmt.Sprint(f.Values) != "[Tea for two]" {
			t.Fatalf("room name now %v", f.Values)
		}
	}
}

// In a room each occupant corrects its own last message, whoever spoke
// since; nobody corrects anybody else's.
func TestRoomCorrections(t *testing.T) {
	srv := mucServer(t, "alice", "ada", "bob")
	tea := xmpptest.Room("tea")
	ada := srv.StartPeer(t, "ada", "pw")
	ada.Join(t, tea, "ada")
	bob := srv.StartPeer(t, "bob", "pw")
	bob.Join(t, tea, "bob")
	store := openStore(t)
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	joinRoom(t, a, tea, "alice", "")
	ada.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": "helo", "id": "a1"})
	// Two occupants' messages reach the room in no fixed order: bob
	// speaks once ada's message is here.
	a.r.wait(t, "ada's message", is(func(e chat.MessageReceived) bool { return e.Body == "helo" }))
	bob.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": "hi all", "id": "b1"})
	a.r.wait(t, "bob's message", is(func(e chat.MessageReceived) bool { return e.Body == "hi all" }))
	ada.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": "hello", "id": "a2", "replace": "a1"})
	fixed := a.r.wait(t, "ada's correction", is(func(e chat.MessageCorrected) bool { return e.Body == "hello" })).(chat.MessageCorrected)
	if fixed.ReplaceID != "a1" || fixed.Nick != "ada" || fixed.Conv != chat.RoomConv(tea) {
		t.Fatalf("correction %+v", fixed)
	}
	bob.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": "ada is wrong", "id": "b2", "replace": "a1"})
	forged := a.r.wait(t, "bob's attempt", is(func(e chat.MessageReceived) bool { return e.Body == "ada is wrong" })).(chat.MessageReceived)
	if forged.Note == "" || forged.Nick != "bob" {
		t.Fatalf("bob's correction of ada's message shown as %+v", forged)
	}
	rows := roomRows(t, store, tea)
	var bodies []string
	for _, r := range rows {
		bodies = append(bodies, fmt.Sprintf("%s:%s:%v", r.Nick, r.Body, r.Edited))
	}
	if want := "[ada:hello:true bob:hi all:false bob:ada is wrong:false]"; fmt.Sprint(bodies) != want {
		t.Fatalf("stored %v, want %s", bodies, want)
	}
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

// A room gab made is asked what it is once it exists: after a new
// session it is joined again without history and caught up from its
// archive, as any other.
func TestRoomMadeByUsIsCaughtUpAfterNewSession(t *testing.T) {
	srv := mucServer(t, "alice", "ada")
	tea := xmpptest.Room("tea")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{NoStreamManagement: true})
	if j := joinRoom(t, a, tea, "alice", ""); !j.Created || j.Archive {
		t.Fatalf("first join %+v", j)
	}
	// Someone stays in it, so the room lives on while we are away.
	srv.StartPeer(t, "ada", "pw").Join(t, tea, "ada")
	_, at := a.r.waitFrom(t, 0, "joined", xmpptest.RoundTrip, is(func(e chat.RoomJoined) bool { return true }))
	// The instant room's configuration and the question that follows it
	// are answered before this message comes back.
	a.c.Do(chat.SendMessage{Conv: chat.RoomConv(tea), Body: "first"})
	a.r.wait(t, "the reflection", is(func(e chat.DeliveryChanged) bool { return e.State == chat.DeliveryReceived }))
	a.c.Do(chat.Reconnect{})
	again, _ := a.r.waitFrom(t, at+1, "joined again", xmpptest.RoundTrip, is(func(e chat.RoomJoined) bool { return e.Room == tea }))
	if !again.(chat.RoomJoined).Archive {
		t.Fatalf("joined again without the archive: %+v", again)
	}
	a.r.waitFrom(t, at+1, "the catch-up", xmpptest.RoundTrip, is(func(e chat.RoomCatchUp) bool { return e.Room == tea && e.Err == nil }))
}

// xmlLog is a raw XML log (Options.XMLLog) kept for a test to read.
type xmlLog struct {
	mu  sync.Mutex
	buf strings.Builder
}

func (l *xmlLog) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *xmlLog) lines() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Split(l.buf.String(), "\n")
}

// roomWire is where, in a log, gab first sent a disco#info to roomJID,
// first sent a presence to it, and got the room's disco#info answer
// (-1 for not there).
func roomWire(lines []string, roomJID string) (discoSent, joinSent, discoAnswered int) {
	discoSent, joinSent, discoAnswered = -1, -1, -1
	for i, l := range lines {
		send := strings.Contains(l, " SEND ")
		switch {
		case send && discoSent < 0 && strings.Contains(l, `to="`+roomJID+`"`) && strings.Contains(l, "disco#info"):
			discoSent = i
		case send && joinSent < 0 && strings.Contains(l, `<presence to="`+roomJID+`/`):
			joinSent = i
		case !send && discoAnswered < 0 && strings.Contains(l, "from='"+roomJID+"'") && strings.Contains(l, "disco#info") && strings.Contains(l, "type='result'"):
			discoAnswered = i
		}
	}
	return
}

// A room joined before is joined at once, with what it said it offers
// then (it keeps an archive: no history, then the catch-up), without
// asking it first; it is asked again once gab is in, for the next time.
// What was said while away comes once, from the archive.
func TestRoomKnownJoinedWithoutAsking(t *testing.T) {
	srv := mucServer(t, "alice", "ada")
	tea := xmpptest.Room("tea")
	ada := srv.StartPeer(t, "ada", "pw")
	ada.Join(t, tea, "ada")
	store := openStore(t)

	var first xmlLog
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store, XMLLog: xmpp.NewTap(&first, "alice")})
	if j := joinRoom(t, a, tea, "alice", ""); !j.Archive {
		t.Fatal("the room says it keeps no archive")
	}
	a.r.wait(t, "the catch-up", is(func(e chat.RoomCatchUp) bool { return e.Room == tea }))
	a.stop()
	if disco, join, _ := roomWire(first.lines(), tea); disco < 0 || join < 0 || disco > join {
		t.Fatalf("a room not known: disco#info at line %d, join at line %d", disco, join)
	}

	ada.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": "while you were away"})
	var second xmlLog
	a = start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store, XMLLog: xmpp.NewTap(&second, "alice")})
	j := joinRoom(t, a, tea, "alice", "")
	if !j.Archive {
		t.Fatal("joined again without the archive")
	}
	done := a.r.wait(t, "the catch-up", is(func(e chat.RoomCatchUp) bool { return e.Room == tea })).(chat.RoomCatchUp)
	if done.Err != nil || done.Count != 1 {
		t.Fatalf("catch-up %+v", done)
	}
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.RoundTrip))
	for {
		disco, join, answered := roomWire(second.lines(), tea)
		if join < 0 || (disco >= 0 && disco < join) {
			t.Fatalf("a room known: disco#info at line %d, join at line %d", disco, join)
		}
		if answered > join {
			break // asked again once in
		}
		if time.Now().After(deadline) {
			t.Fatal("the room was not asked again once joined")
		}
		time.Sleep(20 * time.Millisecond)
	}
	a.stop()
	n := 0
	for _, r := range roomRows(t, store, tea) {
		if r.Body == "while you were away" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("the message said while away stored %d times", n)
	}
}
