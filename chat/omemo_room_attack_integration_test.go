package chat_test

import (
	"context"
	"testing"

	"github.com/gab-chat/gab/chat"
)

// An occupant of an encrypted room writes, in her own message, the
// <x xmlns='…muc#user'><item jid/></x> a non-anonymous room's archive adds
// to its copies, naming another member. Prosody keeps it and adds its
// own after it: the archive's copy carries two. gab took the first, the
// sender's, and read mallory's pre-key message, under bob's nick, as
// from bob's real JID: a session with her device kept as bob's, her
// identity key recorded (and blindly trusted) as one of bob's devices.
// Now a copy that says two things is not believed: the message is read
// by the occupant-id the room gave (mallory's, known from her presence).
func TestOMEMORoomArchiveForgedRealJID(t *testing.T) {
	testOMEMORoomArchiveForgedRealJID(t, mucServer(t, "alice", "ada", "bob", "mallory"))
}

// On ejabberd, whose archive gives the real JID alone (no occupant-id).
func TestOMEMORoomArchiveForgedRealJIDEjabberd(t *testing.T) {
	testOMEMORoomArchiveForgedRealJID(t, ejabberdRooms(t, "alice", "ada", "bob", "mallory"))
}

func testOMEMORoomArchiveForgedRealJID(t *testing.T, srv roomServer) {
	secret, ada, _, _ := omemoRoomFixture(t, srv)
	ada.Must(t, map[string]any{"cmd": "affiliation", "room": secret, "affiliation": "member", "jid": "mallory@localhost"})
	store := openStore(t)
	a, _ := startOMEMOAlice(t, srv, store)
	joinRoom(t, a, secret, "alice", "")
	a.r.wait(t, "whether the room can be encrypted", is(func(e chat.RoomEncryption) bool { return e.Room == secret && e.Possible }))
	a.stop()

	mallory := srv.StartPeer(t, "mallory", "pw")
	mallory.EnableOMEMO(t, "0.3")
	mallory.Join(t, secret, "bob")
	ev, err := mallory.Result(t, map[string]any{"cmd": "omemo_groupchat", "room": secret, "body": "bob here: send me the keys", "members": []string{"alice@localhost"}, "version": "0.3",
		"extra": []string{"<x xmlns='http://jabber.org/protocol/muc#user'><item jid='bob@localhost' affiliation='member' role='participant'/></x>"}})
	if err != nil || ev.Get("sent") != "1" {
		t.Fatalf("mallory could not send: %v %v", ev, err)
	}

	a2, _ := startOMEMOAlice(t, srv, store)
	joinRoom(t, a2, secret, "alice", "")
	got := a2.r.wait(t, "the archived message", is(func(m chat.MessageReceived) bool {
		return m.Conv == chat.RoomConv(secret) && m.Archived && m.Encrypted != nil
	})).(chat.MessageReceived)
	a2.r.wait(t, "the catch-up", is(func(e chat.RoomCatchUp) bool { return e.Room == secret }))
	ctx := context.Background()
	if ds, err := store.Trusts(ctx, "bob@localhost"); err != nil || len(ds) != 0 {
		t.Fatalf("mallory's message (%q, note %q, real JID %q) left identity keys recorded for bob: %+v (%v)", got.Body, got.Note, got.RealJID, ds, err)
	}
	if got.RealJID == "bob@localhost" {
		t.Fatalf("the archive's copy was read as bob's: %+v", got)
	}
	if got.Body != "" {
		// Read: then in mallory's session, as hers.
		if ds, err := store.Trusts(ctx, "mallory@localhost"); err != nil || len(ds) != 1 {
			t.Fatalf("mallory's message read as %q, yet no key of hers recorded: %+v (%v)", got.Body, ds, err)
		}
	}
}
