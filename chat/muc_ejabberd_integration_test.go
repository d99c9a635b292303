package chat_test

import (
	"testing"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/room"
)

// The room tests of muc_integration_test.go against ejabberd 23.01, whose
// rooms differ from Prosody's (see internal/xmpptest/ejabberd.go): no
// occupant-ids, so gab knows its own messages by nick; archived copies
// that carry their stanza-id; stamps with microseconds; rooms open before
// their owner configures them.

// ejabberdRooms starts ejabberd (with its group chat service) and
// registers the users named.
func ejabberdRooms(t *testing.T, users ...string) *xmpptest.Ejabberd {
	t.Helper()
	srv := xmpptest.StartEjabberd(t, xmpptest.EjabberdOptions{})
	for _, u := range users {
		srv.Register(t, u, "pw")
	}
	return srv
}

func TestRoomTalkAndCatchUpEjabberd(t *testing.T) {
	testRoomTalkAndCatchUp(t, ejabberdRooms(t, "alice", "ada"))
}

func TestRoomRefusalsAndKickEjabberd(t *testing.T) {
	testRoomRefusalsAndKick(t, ejabberdRooms(t, "alice", "ada"))
}

func TestRoomRejoinedAfterNewSessionEjabberd(t *testing.T) {
	testRoomRejoinedAfterNewSession(t, ejabberdRooms(t, "alice", "ada"))
}

// ejabberd's rooms send presence from their bare JID (the room's entity
// caps when we join, unavailable when we are kicked): that is the room,
// not a contact, and gab must not take it for one (decision 0006). The
// kick is the sentinel: the room's unavailable comes just before it.
func TestRoomOwnPresenceIsNoContactEjabberd(t *testing.T) {
	srv := ejabberdRooms(t, "alice", "ada")
	tea := xmpptest.Room("tea")
	ada := srv.StartPeer(t, "ada", "pw")
	ada.Join(t, tea, "ada")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{})
	joinRoom(t, a, tea, "alice", "")
	ada.Must(t, map[string]any{"cmd": "kick", "room": tea, "nick": "alice", "reason": "bye"})
	a.r.wait(t, "the kick", is(func(e chat.RoomLeft) bool { return e.Room == tea && e.State == room.Kicked }))
	for _, e := range a.r.snapshot() {
		if p, ok := e.(chat.PresenceChanged); ok && p.Bare == tea {
			t.Errorf("the room's own presence taken for a contact's: %+v", p)
		}
	}
}

func TestRoomPrivateMessagesFromTheAccountArchiveEjabberd(t *testing.T) {
	testRoomPrivateMessagesFromTheAccountArchive(t, ejabberdRooms(t, "alice", "ada"))
}

func TestRoomCreatedAndCorrectedEjabberd(t *testing.T) {
	testRoomCreatedAndCorrected(t, ejabberdRooms(t, "alice", "ada"))
}
