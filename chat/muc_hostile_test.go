package chat

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/room"
	"github.com/gab-chat/gab/roster"
	"mellium.im/xmpp/jid"
)

// Hostile room stanzas that Prosody never lets through (it stamps every
// sender, strips forged occupant marks, answers archive queries only to
// whoever asked), so they are tested here, on translation and on the
// client's judgement of what translation made of them.

func TestTranslateRoomHostile(t *testing.T) {
	now := testSelf.Now()
	tea := "tea@rooms.localhost"
	long := strings.Repeat("n", 10000)
	cases := []struct {
		name string
		self Self
		xml  string
		want []Event
	}{
		{"groupchat from a room we left (or never joined) is dropped", testSelf,
			`<message from='tea@rooms.localhost/ada' type='groupchat'><body>after we left</body></message>`, nil},
		{"a groupchat subject from a contact is no subject", inTea(),
			`<message from='bob@localhost/pc' type='groupchat'><subject>owned</subject></message>`, nil},
		{"a subject in a private message from an occupant is no subject", inTea(),
			`<message from='tea@rooms.localhost/ada' type='chat'><subject>owned</subject></message>`, nil},
		{"status codes from a contact are not a room's", inTea(),
			`<presence from='bob@localhost/pc'><x xmlns='http://jabber.org/protocol/muc#user'><item role='moderator'/><status code='110'/><status code='201'/></x></presence>`, nil},
		{"status codes from a contact whose address is a room we are not in", inTea(),
			`<presence from='coffee@rooms.localhost/alice' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'><item role='none'/><status code='110'/><status code='307'/></x></presence>`, nil},
		{"an archive result from an occupant is forged", inTea(),
			`<message from='tea@rooms.localhost/eve'><result xmlns='urn:xmpp:mam:2' queryid='q1' id='R1'><forwarded xmlns='urn:xmpp:forward:0'>` +
				`<message xmlns='jabber:client' from='tea@rooms.localhost/ada' type='groupchat'><body>forged</body></message></forwarded></result></message>`,
			[]Event{Notice{Text: "dropped a forged archive result from tea@rooms.localhost/eve"}}},
		{"an archive result from a room we are not in is forged", inTea(),
			`<message from='coffee@rooms.localhost'><result xmlns='urn:xmpp:mam:2' queryid='q1' id='R1'><forwarded xmlns='urn:xmpp:forward:0'>` +
				`<message xmlns='jabber:client' from='coffee@rooms.localhost/ada' type='groupchat'><body>forged</body></message></forwarded></result></message>`,
			[]Event{Notice{Text: "dropped a forged archive result from coffee@rooms.localhost"}}},
		{"an occupant whose nick has a C1 control character is dropped", inTea(),
			"<presence from='tea@rooms.localhost/a\u009b31mb'><x xmlns='http://jabber.org/protocol/muc#user'><item role='participant'/></x></presence>",
			[]Event{Notice{Text: "dropped a presence with an invalid sender address"}}},
		{"an occupant whose nick has a bidi override is dropped", inTea(),
			"<message from='tea@rooms.localhost/\u202eevil' type='groupchat'><body>hi</body></message>",
			[]Event{Notice{Text: "dropped a message with an invalid sender address"}}},
		{"an occupant with a nick of 10,000 characters is dropped", inTea(),
			`<message from='tea@rooms.localhost/` + long + `' type='groupchat'><body>hi</body></message>`,
			[]Event{Notice{Text: "dropped a message with an invalid sender address"}}},
		{"a new nick of 10,000 characters with a bidi override is data", inTea(),
			`<presence from='tea@rooms.localhost/bob' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'>` +
				`<item role='participant' nick='` + "\u202e" + long + `'/><status code='303'/></x></presence>`,
			[]Event{OccupantChanged{Room: tea, Occupant: room.Occupant{Nick: "bob", Role: room.Participant, Affiliation: room.AffiliationNone, Show: roster.Offline},
				Left: true, NewNick: "\u202e" + long, Codes: []int{303}}}},
		{"a private message copied from another device, in a room this one is not in", testSelf,
			`<message from='alice@localhost'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>` +
				`<message xmlns='jabber:client' from='tea@rooms.localhost/ada' to='alice@localhost/phone' type='chat' id='p1'><body>psst</body><x xmlns='http://jabber.org/protocol/muc#user'/></message></forwarded></received></message>`,
			[]Event{MessageReceived{Conv: PrivateConv(tea, "ada"), ID: "p1", From: "tea@rooms.localhost/ada", Bare: tea, To: "alice@localhost/phone", Type: "chat", Body: "psst", Time: now, Carbon: true}}},
		{"a private message another device sent", testSelf,
			`<message from='alice@localhost'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>` +
				`<message xmlns='jabber:client' to='tea@rooms.localhost/ada' from='alice@localhost/phone' type='chat' id='p2'><body>hi ada</body><x xmlns='http://jabber.org/protocol/muc#user'/></message></forwarded></sent></message>`,
			[]Event{CarbonSent{Conv: PrivateConv(tea, "ada"), ID: "p2", To: "tea@rooms.localhost/ada", Body: "hi ada", Time: now}}},
		{"a private message in our own archive", testSelf,
			`<message from='alice@localhost'><result xmlns='urn:xmpp:mam:2' queryid='q1' id='A1'><forwarded xmlns='urn:xmpp:forward:0'>` +
				`<message xmlns='jabber:client' from='tea@rooms.localhost/ada' to='alice@localhost/phone' type='chat' id='p3'><body>earlier</body><x xmlns='http://jabber.org/protocol/muc#user'/></message></forwarded></result></message>`,
			[]Event{MessageArchived{QueryID: "q1", ArchiveID: "A1", From: "tea@rooms.localhost/ada", To: "alice@localhost/phone", ID: "p3", Body: "earlier", Peer: tea, Nick: "ada", Private: true, Time: now}}},
		{"a contact's chat stays a chat", testSelf,
			`<message from='alice@localhost'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>` +
				`<message xmlns='jabber:client' to='bob@localhost/pc' from='alice@localhost/phone' type='chat' id='c1'><body>hi bob</body></message></forwarded></sent></message>`,
			[]Event{CarbonSent{Conv: ChatWith("bob@localhost"), ID: "c1", To: "bob@localhost", Body: "hi bob", Time: now}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evs, _ := Translate(tc.self, parse(t, tc.xml))
			if !reflect.DeepEqual(evs, tc.want) {
				t.Errorf("events:\n got %#v\nwant %#v", evs, tc.want)
			}
		})
	}
}

// A room's archive result counts only for a query of ours to that room:
// one for no query, or for a query to another room, is dropped; the one
// that answers ours is a message, by the occupant-id ours or not.
func TestRoomArchivedForged(t *testing.T) {
	c := New(&config.Account{Name: "alice", JID: jid.MustParse("alice@localhost")}, Options{})
	tea, coffee := "tea@rooms.localhost", "coffee@rooms.localhost"
	c.rooms[tea] = &mucRoom{nick: "alice", state: mucJoined, occupantID: "occ-alice"}
	c.rooms[coffee] = &mucRoom{nick: "alice", state: mucJoined, occupantID: "occ-alice-c"}
	c.roomQueries["q-coffee"] = &roomQuery{room: coffee}
	c.roomQueries["q-tea"] = &roomQuery{room: tea}
	res := func(qid, nick, occ string) MessageArchived {
		return MessageArchived{QueryID: qid, ArchiveID: "R1", From: tea + "/" + nick, ID: "m1", Body: "hello", Peer: tea, Room: tea, Nick: nick, OccupantID: occ}
	}
	for _, tc := range []struct {
		name string
		a    MessageArchived
		want func(Event) bool
	}{
		{"no query", res("q-none", "ada", "occ-ada"), func(e Event) bool { n, ok := e.(Notice); return ok && strings.Contains(n.Text, "answers no query") }},
		{"a query to another room", res("q-coffee", "ada", "occ-ada"), func(e Event) bool { n, ok := e.(Notice); return ok && strings.Contains(n.Text, "answers no query") }},
		{"our nick with another occupant-id", res("q-tea", "alice", "occ-eve"), func(e Event) bool {
			m, ok := e.(MessageReceived)
			return ok && m.Conv == RoomConv(tea) && m.OccupantID == "occ-eve"
		}},
		{"our nick without an occupant-id", res("q-tea", "alice", ""), func(e Event) bool { _, ok := e.(MessageReceived); return ok }},
		{"ours", res("q-tea", "alice-old", "occ-alice"), func(e Event) bool { s, ok := e.(CarbonSent); return ok && s.Conv == RoomConv(tea) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ev, ok := c.roomArchived(context.Background(), tc.a)
			if !ok || !tc.want(ev) {
				t.Errorf("got %T %+v (%v)", ev, ev, ok)
			}
		})
	}
}

// A presence marked as ours (110) that carries another occupant's id is
// not ours: a room that passed on an occupant's own status code cannot
// make it us — not change our nick, not take us out. Prosody rebuilds the
// <x/> of every occupant presence, so this is tested here.
func TestRoomSelfPresenceNeedsOurOccupantID(t *testing.T) {
	c := New(&config.Account{Name: "alice", JID: jid.MustParse("alice@localhost")}, Options{})
	tea := "tea@rooms.localhost"
	c.rooms[tea] = &mucRoom{nick: "alice2", state: mucJoined, occupantID: "occ-alice"}
	eve := room.Occupant{Nick: "alice", OccupantID: "occ-eve", Role: room.Participant}
	for _, e := range []OccupantChanged{
		{Room: tea, Occupant: eve, Self: true, Codes: []int{110}},
		{Room: tea, Occupant: eve, Self: true, Left: true, Kicked: true, Codes: []int{110, 307}},
		{Room: tea, Occupant: eve, Self: true, Left: true, NewNick: "mallory", Codes: []int{110, 303}},
	} {
		evs := c.occupantEvent(context.Background(), nil, e)
		if len(evs) != 1 {
			t.Fatalf("%+v gave %+v", e, evs)
		}
		if o, ok := evs[0].(OccupantChanged); !ok || o.Self {
			t.Errorf("%+v taken for ours: %+v", e, evs[0])
		}
		if r := c.rooms[tea]; r == nil || r.nick != "alice2" || r.occupantID != "occ-alice" || r.state != mucJoined {
			t.Fatalf("after %+v the room is %+v", e, r)
		}
	}
	// Ours, with our id (or none, as in Prosody's 303), still is.
	evs := c.occupantEvent(context.Background(), nil, OccupantChanged{Room: tea, Occupant: room.Occupant{Nick: "alice2"}, Self: true, Left: true, NewNick: "alice3", Codes: []int{110, 303}})
	if o, ok := evs[0].(OccupantChanged); !ok || !o.Self || c.rooms[tea].nick != "alice3" {
		t.Errorf("our own nick change: %+v, nick %q", evs, c.rooms[tea].nick)
	}
}
