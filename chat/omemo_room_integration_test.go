package chat_test

import (
	"context"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
)

// omemoRoomFixture: Prosody with a room "secret" that is members-only and
// non-anonymous, made by ada (the python-omemo peer, OMEMO 0.3 unless
// versions say otherwise, in the room) with alice and bob as members; bob
// (a second peer) is not in the room and has no OMEMO device yet. Neither
// is a contact of alice's.
func omemoRoomFixture(t *testing.T, srv roomServer, versions ...string) (secret string, ada, bob *xmpptest.Peer, adaID uint32) {
	t.Helper()
	secret = xmpptest.Room("secret")
	ada = srv.StartPeer(t, "ada", "pw")
	ada.CreateRoom(t, secret, "ada", xmpptest.RoomConfig{MembersOnly: true, Whois: "anyone", Persistent: true})
	for _, m := range []string{"alice@localhost", "bob@localhost"} {
		ada.Must(t, map[string]any{"cmd": "affiliation", "room": secret, "affiliation": "member", "jid": m})
	}
	if len(versions) == 0 {
		versions = []string{"0.3"}
	}
	adaID = ada.EnableOMEMO(t, versions...)
	bob = srv.StartPeer(t, "bob", "pw")
	return secret, ada, bob, adaID
}

// startOMEMOAlice starts alice's client with OMEMO and store, and waits
// for its device to be published.
func startOMEMOAlice(t *testing.T, srv roomServer, store *history.Store) (*running, uint32) {
	t.Helper()
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store, OMEMO: true})
	own := a.r.wait(t, "our own device published", is(func(e chat.OMEMODeviceListChanged) bool {
		return e.Own && e.JID == "alice@localhost" && e.Version == chat.OMEMO03 && len(e.Devices) >= 1
	})).(chat.OMEMODeviceListChanged)
	// OMEMO 2's too: its bundles node asks for options not every server
	// takes at publishing (ejabberd).
	a.r.wait(t, "our own OMEMO 2 device published", is(func(e chat.OMEMODeviceListChanged) bool {
		return e.Own && e.JID == "alice@localhost" && e.Version == chat.OMEMO2 && len(e.Devices) >= 1
	}))
	return a, own.Devices[len(own.Devices)-1].ID
}

// adaSends has ada encrypt body to the room's occupants and waits until
// alice has it.
func adaSends(t *testing.T, ada *xmpptest.Peer, a *running, secret, body string) chat.MessageReceived {
	t.Helper()
	ev, err := ada.Result(t, map[string]any{"cmd": "omemo_groupchat", "room": secret, "body": body, "version": "0.3"})
	if err != nil || ev.Get("sent") != "1" {
		t.Fatalf("ada could not encrypt to the room: %v %v", ev, err)
	}
	return a.r.wait(t, "“"+body+"” in the room", is(func(m chat.MessageReceived) bool {
		return m.Conv == chat.RoomConv(secret) && m.Encrypted != nil && (m.Body == body || m.Note != "")
	})).(chat.MessageReceived)
}

// aliceSends has alice send body encrypted to the room, and waits until
// it is reflected and ada has decrypted it.
func aliceSends(t *testing.T, ada *xmpptest.Peer, a *running, secret, body string) (chat.MessageSent, xmpptest.PeerEvent) {
	t.Helper()
	mark := ada.Mark()
	id := a.c.Do(chat.SendMessage{Conv: chat.RoomConv(secret), Body: body, Encrypt: true})
	a.r.wait(t, "the send's answer", answerOf(id))
	sent := a.r.wait(t, "our message", is(func(e chat.MessageSent) bool { return e.CommandID == id })).(chat.MessageSent)
	if sent.OMEMO == nil {
		t.Fatalf("sent without encryption: %+v", sent)
	}
	a.r.wait(t, "its reflection", is(func(e chat.DeliveryChanged) bool {
		return e.ID == sent.ID && e.State == chat.DeliveryReceived
	}))
	got := ada.WaitFrom(t, mark, xmpptest.RoundTrip, "alice's encrypted message", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "omemo_groupchat" && e.Get("nick") == "alice"
	})
	if got.Get("body") != body || got.Get("jid") != "alice@localhost" || got.Get("origin_id") != sent.ID {
		t.Fatalf("ada read alice's message as %v", got)
	}
	return sent, got
}

// OMEMO 0.3 in a members-only, non-anonymous room on Prosody (and on
// ejabberd, whose rooms give no occupant-ids: its archive's copies are
// read by the real JID it adds to them), with
// python-omemo as the other member: gab says the room can be encrypted;
// it refuses to send while a member (bob, away) has no device, naming
// him, and sends once he has one — one message that ada decrypts, from
// alice's real JID, and that bob's device has a key in; the reflection
// is recognised as ours by its origin-id and the plaintext kept. ada's
// encrypted messages are read in the session with her real JID's
// device, live and — after a restart — from the room's archive, and the
// sessions the store kept go on working both ways. /omemo devices lists
// the members' devices. A room that is not members-only says why it
// cannot be encrypted, and an encrypted message to it is refused.
func TestOMEMO03Room(t *testing.T) {
	testOMEMO03Room(t, mucServer(t, "alice", "ada", "bob"))
}

func TestOMEMO03RoomEjabberd(t *testing.T) {
	testOMEMO03Room(t, ejabberdRooms(t, "alice", "ada", "bob"))
}

func testOMEMO03Room(t *testing.T, srv roomServer) {
	secret, ada, bob, adaID := omemoRoomFixture(t, srv)
	store := openStore(t)
	a, ours := startOMEMOAlice(t, srv, store)

	joinRoom(t, a, secret, "alice", "")
	enc := a.r.wait(t, "whether the room can be encrypted", is(func(e chat.RoomEncryption) bool { return e.Room == secret })).(chat.RoomEncryption)
	if !enc.Possible || enc.Why != "" {
		t.Fatalf("the room cannot be encrypted? %+v", enc)
	}
	// ada is no contact: her list is read when we enter.
	a.r.wait(t, "ada's device list, read", devicesOf("ada@localhost", chat.OMEMO03, true, adaID))

	mark := ada.Mark()
	in := adaSends(t, ada, a, secret, "hello, alice")
	// ada, a member though no contact, is answered (a key message in
	// the session her pre-key message started), as a contact would be.
	ans := ada.WaitFrom(t, mark, xmpptest.RoundTrip, "the answer to ada's pre-key message", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "omemo_message" && strings.HasPrefix(e.Get("from"), "alice@localhost/")
	})
	if ans.Get("empty") != "true" || ans.Get("error") != "" {
		t.Fatalf("ada read the answer as %v", ans)
	}
	if in.Body != "hello, alice" || in.Note != "" || in.OMEMO == nil || in.OMEMO.Device != adaID || in.OMEMO.Trust != history.TrustTrusted || in.Nick != "ada" {
		t.Fatalf("ada's message: %q, note %q, %+v", in.Body, in.Note, in.OMEMO)
	}

	// bob, a member, has no device (Prosody refuses a stranger the list
	// that does not exist, ejabberd gives it empty): nothing is sent, and
	// he is named.
	id := a.c.Do(chat.SendMessage{Conv: chat.RoomConv(secret), Body: "not for now", Encrypt: true})
	failed := a.r.wait(t, "the refusal", is(func(e chat.CommandFailed) bool { return e.ID == id })).(chat.CommandFailed)
	if msg := failed.Err.Error(); !strings.Contains(msg, "bob@localhost") || !strings.Contains(msg, "OMEMO device") || strings.Contains(msg, "ada@localhost") {
		t.Fatalf("refused as %q", msg)
	}
	bobID := bob.EnableOMEMO(t, "0.3")

	sent, got := aliceSends(t, ada, a, secret, "hello, members")
	row, ok, err := store.Get(context.Background(), sent.StoreID)
	if err != nil || !ok || row.Body != "hello, members" || row.Encryption != history.OMEMO03 || row.Kind != history.KindRoom {
		t.Fatalf("our message stored as %+v (%v)", row, err)
	}
	if rids := got.IDs("rids"); !slices.Contains(rids, adaID) || !slices.Contains(rids, bobID) || slices.Contains(rids, ours) {
		t.Fatalf("encrypted to %v; ada %d, bob %d, us %d", rids, adaID, bobID, ours)
	}

	// /omemo devices in the room.
	a.do(t, chat.ShowRoomOMEMO{Room: secret})
	rep := a.r.wait(t, "the room's devices", is(func(e chat.RoomOMEMOReport) bool { return e.Room == secret })).(chat.RoomOMEMOReport)
	var listed []string
	for _, m := range rep.Members {
		for _, d := range m.Devices {
			listed = append(listed, m.JID+"/"+strconv.Itoa(int(d.ID))+"/"+string(d.Trust))
		}
	}
	slices.Sort(listed)
	want := []string{"ada@localhost/" + strconv.Itoa(int(adaID)) + "/trusted", "bob@localhost/" + strconv.Itoa(int(bobID)) + "/trusted"}
	slices.Sort(want)
	if !slices.Equal(listed, want) {
		t.Fatalf("/omemo devices lists %v, want %v", listed, want)
	}

	// bob is no member any more (he is not in the room: the room tells
	// its occupants in a message of its own): no longer encrypted to.
	ada.Must(t, map[string]any{"cmd": "affiliation", "room": secret, "affiliation": "none", "jid": "bob@localhost"})
	ada.Must(t, map[string]any{"cmd": "groupchat", "room": secret, "body": "bob is out"})
	a.r.wait(t, "the message after bob's removal", is(func(m chat.MessageReceived) bool { return m.Body == "bob is out" }))
	if _, got := aliceSends(t, ada, a, secret, "just us"); slices.Contains(got.IDs("rids"), bobID) || !slices.Contains(got.IDs("rids"), adaID) {
		t.Fatalf("after bob's removal, encrypted to %v (bob %d)", got.IDs("rids"), bobID)
	}

	// A restart, with ada talking meanwhile: the archive's copy is read
	// in the stored session.
	a.stop()
	if _, err := ada.Result(t, map[string]any{"cmd": "omemo_groupchat", "room": secret, "body": "while you were away", "members": []string{"alice@localhost"}, "version": "0.3"}); err != nil {
		t.Fatal(err)
	}
	a2, _ := startOMEMOAlice(t, srv, store)
	joinRoom(t, a2, secret, "alice", "")
	away := a2.r.wait(t, "the archived message", is(func(m chat.MessageReceived) bool {
		return m.Conv == chat.RoomConv(secret) && m.Archived && m.Encrypted != nil
	})).(chat.MessageReceived)
	if away.Body != "while you were away" || away.Note != "" || away.OMEMO == nil || away.OMEMO.Device != adaID {
		t.Fatalf("the archived message: %q, note %q, %+v", away.Body, away.Note, away.OMEMO)
	}
	if done := a2.r.wait(t, "the catch-up", is(func(e chat.RoomCatchUp) bool { return e.Room == secret })).(chat.RoomCatchUp); done.Err != nil || done.Count != 1 {
		t.Fatalf("catch-up: %+v", done)
	}
	aliceSends(t, ada, a2, secret, "back again")
	live := adaSends(t, ada, a2, secret, "welcome back")
	if live.Body != "welcome back" || live.OMEMO == nil {
		t.Fatalf("after the restart: %q, note %q", live.Body, live.Note)
	}

	// History holds the plaintext of everything, in order.
	var bodies []string
	for _, r := range roomRows(t, store, secret) {
		bodies = append(bodies, r.Body)
		if r.Encryption != history.OMEMO03 && r.Body != "bob is out" {
			t.Errorf("stored as not encrypted: %+v", r)
		}
	}
	if wantBodies := []string{"hello, alice", "hello, members", "bob is out", "just us", "while you were away", "back again", "welcome back"}; !slices.Equal(bodies, wantBodies) {
		t.Fatalf("the room's history is %q, want %q", bodies, wantBodies)
	}

	// Its owner opens the room to anyone: gab learns it (status 104),
	// says so, and encrypts there no more.
	mark = len(a2.r.snapshot())
	if err := ada.Configure(t, secret, xmpptest.RoomConfig{Fields: map[string]any{"muc#roomconfig_membersonly": false}}); err != nil {
		t.Fatal(err)
	}
	ev, _ := a2.r.waitFrom(t, mark, "the room's new state", xmpptest.RoundTrip, is(func(e chat.RoomEncryption) bool { return e.Room == secret }))
	if e := ev.(chat.RoomEncryption); e.Possible || !strings.Contains(e.Why, "not members-only") {
		t.Fatalf("after opening the room: %+v", e)
	}
	id = a2.c.Do(chat.SendMessage{Conv: chat.RoomConv(secret), Body: "secret?", Encrypt: true})
	if failed := a2.r.wait(t, "the refusal in the opened room", is(func(e chat.CommandFailed) bool { return e.ID == id })).(chat.CommandFailed); !strings.Contains(failed.Err.Error(), "not members-only") {
		t.Fatalf("refused as %v", failed.Err)
	}

	// A room anyone may enter cannot be encrypted, and says why.
	open := xmpptest.Room("open")
	ada.CreateRoom(t, open, "ada", xmpptest.RoomConfig{Whois: "anyone"})
	joinRoom(t, a2, open, "alice", "")
	no := a2.r.wait(t, "whether the open room can be encrypted", is(func(e chat.RoomEncryption) bool { return e.Room == open })).(chat.RoomEncryption)
	if no.Possible || !strings.Contains(no.Why, "not members-only") {
		t.Fatalf("the open room: %+v", no)
	}
	id = a2.c.Do(chat.SendMessage{Conv: chat.RoomConv(open), Body: "secret?", Encrypt: true})
	failed = a2.r.wait(t, "the refusal in the open room", is(func(e chat.CommandFailed) bool { return e.ID == id })).(chat.CommandFailed)
	if !strings.Contains(failed.Err.Error(), "not members-only") {
		t.Fatalf("refused as %v", failed.Err)
	}
}

// OMEMO 2 in a room, beside 0.3: ada speaks OMEMO 2 alone, bob 0.3
// alone. ada's message, sealed to the room, is read from her real JID;
// one sealed to another room is refused and its text not shown. alice's
// message goes to ada in OMEMO 2 (its envelope to the room) and to bob
// in 0.3, in one stanza; after a restart, what ada said meanwhile is
// read from the room's archive.
func TestOMEMO2Room(t *testing.T) {
	srv := mucServer(t, "alice", "ada", "bob")
	secret, ada, bob, adaID := omemoRoomFixture(t, srv, "2")
	store := openStore(t)
	a, _ := startOMEMOAlice(t, srv, store)
	joinRoom(t, a, secret, "alice", "")
	a.r.wait(t, "ada's OMEMO 2 list, read", devicesOf("ada@localhost", chat.OMEMO2, true, adaID))

	says := func(a *running, body string, extra map[string]any) chat.MessageReceived {
		t.Helper()
		cmd := map[string]any{"cmd": "omemo_groupchat", "room": secret, "body": body, "version": "2"}
		for k, v := range extra {
			cmd[k] = v
		}
		if ev, err := ada.Result(t, cmd); err != nil || ev.Get("sent") != "1" {
			t.Fatalf("ada could not encrypt to the room: %v %v", ev, err)
		}
		return a.r.wait(t, "“"+body+"” in the room", is(func(m chat.MessageReceived) bool {
			return m.Conv == chat.RoomConv(secret) && m.Encrypted != nil && (m.Body == body || m.Note != "")
		})).(chat.MessageReceived)
	}
	in := says(a, "hello in two", nil)
	if in.Body != "hello in two" || in.Note != "" || in.OMEMO == nil || in.OMEMO.Version != chat.OMEMO2 || in.OMEMO.Device != adaID {
		t.Fatalf("ada's message: %q, note %q, %+v", in.Body, in.Note, in.OMEMO)
	}
	moved := says(a, "meant for elsewhere", map[string]any{"env_to": "other@conference.localhost"})
	if moved.Note == "" || strings.Contains(moved.Body, "meant for elsewhere") || !strings.Contains(moved.Note, "other@conference.localhost") {
		t.Fatalf("a message sealed to another room: %q, note %q", moved.Body, moved.Note)
	}

	bobID := bob.EnableOMEMO(t, "0.3")
	sent, got := aliceSends(t, ada, a, secret, "to both kinds")
	if sent.OMEMO == nil || sent.OMEMO.Version != chat.OMEMO2 {
		t.Fatalf("sent as %+v", sent.OMEMO)
	}
	if rids, rids03 := got.IDs("rids"), got.IDs("rids03"); !slices.Equal(rids, []uint32{adaID}) || !slices.Equal(rids03, []uint32{bobID}) {
		t.Fatalf("the OMEMO 2 element has keys for %v (ada %d), the 0.3 one for %v (bob %d)", rids, adaID, rids03, bobID)
	}

	a.stop()
	if _, err := ada.Result(t, map[string]any{"cmd": "omemo_groupchat", "room": secret, "body": "while you were away", "members": []string{"alice@localhost"}, "version": "2"}); err != nil {
		t.Fatal(err)
	}
	a2, _ := startOMEMOAlice(t, srv, store)
	joinRoom(t, a2, secret, "alice", "")
	away := a2.r.wait(t, "the archived message", is(func(m chat.MessageReceived) bool {
		return m.Conv == chat.RoomConv(secret) && m.Archived && m.Encrypted != nil
	})).(chat.MessageReceived)
	if away.Body != "while you were away" || away.Note != "" || away.OMEMO == nil || away.OMEMO.Version != chat.OMEMO2 {
		t.Fatalf("the archived message: %q, note %q, %+v", away.Body, away.Note, away.OMEMO)
	}
}
