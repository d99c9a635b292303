package chat

import (
	"reflect"
	"testing"
	"time"

	"github.com/gab-chat/gab/room"
	"github.com/gab-chat/gab/roster"
)

// roomSelf is testSelf in the room tea@rooms.localhost as "alice", with
// occupant-id "occ-alice".
func inTea() Self {
	s := testSelf
	s.Room = func(bare string) (RoomSelf, bool) {
		if bare == "tea@rooms.localhost" {
			return RoomSelf{Nick: "alice", OccupantID: "occ-alice"}, true
		}
		return RoomSelf{}, false
	}
	return s
}

func TestTranslateRoomStanzas(t *testing.T) {
	now := testSelf.Now()
	tea := RoomConv("tea@rooms.localhost")
	cases := []struct {
		name string
		xml  string
		want []Event
	}{
		{"a room message: nick, occupant-id, and only the room's archive id",
			`<message from='tea@rooms.localhost/ada' type='groupchat' id='m1'><body>hello</body>` +
				`<stanza-id xmlns='urn:xmpp:sid:0' by='alice@localhost' id='forged'/>` +
				`<stanza-id xmlns='urn:xmpp:sid:0' by='tea@rooms.localhost' id='R1'/>` +
				`<occupant-id xmlns='urn:xmpp:occupant-id:0' id='occ-ada'/><origin-id xmlns='urn:xmpp:sid:0' id='o1'/></message>`,
			[]Event{MessageReceived{Conv: tea, ID: "m1", From: "tea@rooms.localhost/ada", Bare: "tea@rooms.localhost", Type: "groupchat",
				Nick: "ada", OccupantID: "occ-ada", Body: "hello", Time: now, OriginID: "o1", ArchiveID: "R1"}}},
		{"groupchat from a room we are not in is dropped",
			`<message from='other@rooms.localhost/ada' type='groupchat'><body>spam</body></message>`, nil},
		{"groupchat from a contact is dropped",
			`<message from='bob@localhost/pc' type='groupchat'><body>spam</body></message>`, nil},
		{"the subject",
			`<message from='tea@rooms.localhost/ada' type='groupchat'><subject>Tea time</subject></message>`,
			[]Event{RoomSubject{Room: "tea@rooms.localhost", Subject: "Tea time", Nick: "ada"}}},
		{"a subject from anyone else is no subject",
			`<message from='mallory@localhost/x' type='chat'><subject>Owned</subject></message>`, nil},
		{"a private message from an occupant is not a chat with the room",
			`<message from='tea@rooms.localhost/ada' type='chat' id='p1'><body>psst</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>`,
			[]Event{MessageReceived{Conv: PrivateConv("tea@rooms.localhost", "ada"), ID: "p1", From: "tea@rooms.localhost/ada", Bare: "tea@rooms.localhost", Type: "chat", Body: "psst", Time: now}}},
		{"an occupant typing",
			`<message from='tea@rooms.localhost/ada' type='groupchat'><composing xmlns='http://jabber.org/protocol/chatstates'/></message>`,
			[]Event{ChatStateChanged{Conv: tea, Nick: "ada", From: "tea@rooms.localhost/ada", Bare: "tea@rooms.localhost", State: StateComposing}}},
		{"our own presence, in a room made for us",
			`<presence from='tea@rooms.localhost/alice'><occupant-id xmlns='urn:xmpp:occupant-id:0' id='occ-alice'/><x xmlns='http://jabber.org/protocol/muc#user'>` +
				`<item affiliation='owner' role='moderator' jid='alice@localhost/gab'/><status code='110'/><status code='201'/></x></presence>`,
			[]Event{OccupantChanged{Room: "tea@rooms.localhost", Occupant: room.Occupant{Nick: "alice", OccupantID: "occ-alice", RealJID: "alice@localhost/gab",
				Role: room.Moderator, Affiliation: room.Owner, Show: roster.Online}, Codes: []int{110, 201}, Self: true}}},
		{"an occupant with our nick but not marked as us is not us",
			`<presence from='tea@rooms.localhost/alice'><occupant-id xmlns='urn:xmpp:occupant-id:0' id='occ-eve'/><x xmlns='http://jabber.org/protocol/muc#user'>` +
				`<item affiliation='none' role='participant'/></x></presence>`,
			[]Event{OccupantChanged{Room: "tea@rooms.localhost", Occupant: room.Occupant{Nick: "alice", OccupantID: "occ-eve",
				Role: room.Participant, Affiliation: room.AffiliationNone, Show: roster.Online}}}},
		{"kicked",
			`<presence from='tea@rooms.localhost/bob' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'>` +
				`<item affiliation='none' role='none'><actor nick='ada'/><reason>spam</reason></item><status code='307'/></x></presence>`,
			[]Event{OccupantChanged{Room: "tea@rooms.localhost", Occupant: room.Occupant{Nick: "bob", Role: room.RoleNone, Affiliation: room.AffiliationNone, Show: roster.Offline},
				Left: true, Kicked: true, Actor: "ada", Reason: "spam", Codes: []int{307}}}},
		{"a nick change",
			`<presence from='tea@rooms.localhost/bob' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'>` +
				`<item affiliation='none' role='participant' nick='robert'/><status code='303'/></x></presence>`,
			[]Event{OccupantChanged{Room: "tea@rooms.localhost", Occupant: room.Occupant{Nick: "bob", Role: room.Participant, Affiliation: room.AffiliationNone, Show: roster.Offline},
				Left: true, NewNick: "robert", Codes: []int{303}}}},
		{"the nick is taken",
			`<presence from='tea@rooms.localhost/alice' type='error'><error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>`,
			[]Event{RoomJoinFailed{Room: "tea@rooms.localhost", Nick: "alice", Condition: "conflict", NickConflict: true, Suggestion: "alice_"}}},
		{"the room is destroyed",
			`<presence from='tea@rooms.localhost/alice' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'>` +
				`<item affiliation='none' role='none'/><destroy jid='coffee@rooms.localhost'><reason>moved</reason></destroy><status code='110'/></x></presence>`,
			[]Event{RoomLeft{Room: "tea@rooms.localhost", State: room.Destroyed, Reason: "moved", AltRoom: "coffee@rooms.localhost"}}},
		{"an occupant of a room we are not in is no contact",
			`<presence from='other@rooms.localhost/ada'><x xmlns='http://jabber.org/protocol/muc#user'><item role='participant'/></x></presence>`, nil},
		{"the room's own presence (its caps, as ejabberd sends it) is no contact's",
			`<presence from='tea@rooms.localhost'><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v'/></presence>`, nil},
		{"nor is its unavailable",
			`<presence from='tea@rooms.localhost' type='unavailable'/>`, nil},
		{"a direct invitation is a notice, not a chat",
			`<message from='bob@localhost/pc' to='alice@localhost'><body>join us</body><x xmlns='jabber:x:conference' jid='coffee@rooms.localhost' reason='cake'/></message>`,
			[]Event{InvitationReceived{Room: "coffee@rooms.localhost", From: "bob@localhost", Reason: "cake"}}},
		{"a mediated invitation",
			`<message from='coffee@rooms.localhost'><x xmlns='http://jabber.org/protocol/muc#user'><invite from='bob@localhost/pc'><reason>cake</reason></invite><password>pw</password></x><body>fallback</body></message>`,
			[]Event{InvitationReceived{Room: "coffee@rooms.localhost", From: "bob@localhost", Reason: "cake", Password: "pw", Mediated: true}}},
		{"a mediated invitation with a direct one for old clients is mediated; a semi-anonymous room names the inviter by nick",
			`<message from='coffee@rooms.localhost'><x xmlns='http://jabber.org/protocol/muc#user'><invite from='coffee@rooms.localhost/ada'/></x>` +
				`<x xmlns='jabber:x:conference' jid='coffee@rooms.localhost'/></message>`,
			[]Event{InvitationReceived{Room: "coffee@rooms.localhost", From: "coffee@rooms.localhost/ada", Mediated: true}}},
		{"our own chat state reflected by the room is not someone typing",
			`<message from='tea@rooms.localhost/alice' type='groupchat'><active xmlns='http://jabber.org/protocol/chatstates'/></message>`, nil},
		{"a mediated invitation from an occupant is forged",
			`<message from='coffee@rooms.localhost/eve'><x xmlns='http://jabber.org/protocol/muc#user'><invite from='bob@localhost'/></x></message>`,
			[]Event{Notice{Text: "dropped an invitation that did not come from a room: coffee@rooms.localhost/eve"}}},
		{"a result of the room's archive",
			`<message from='tea@rooms.localhost'><result xmlns='urn:xmpp:mam:2' queryid='q1' id='R7'><forwarded xmlns='urn:xmpp:forward:0'>` +
				`<delay xmlns='urn:xmpp:delay' stamp='2026-11-20T08:00:00Z'/><message xmlns='jabber:client' from='tea@rooms.localhost/ada' type='groupchat' id='m7'>` +
				`<body>earlier</body><occupant-id xmlns='urn:xmpp:occupant-id:0' id='occ-ada'/></message></forwarded></result></message>`,
			[]Event{MessageArchived{QueryID: "q1", ArchiveID: "R7", From: "tea@rooms.localhost/ada", ID: "m7", Body: "earlier", Peer: "tea@rooms.localhost",
				Room: "tea@rooms.localhost", Nick: "ada", OccupantID: "occ-ada", Time: mustTime("2026-11-20T08:00:00Z")}}},
		{"a private message through a room, from our own archive",
			`<message from='alice@localhost'><result xmlns='urn:xmpp:mam:2' queryid='q2' id='A1'><forwarded xmlns='urn:xmpp:forward:0'>` +
				`<delay xmlns='urn:xmpp:delay' stamp='2026-11-20T08:00:00Z'/><message xmlns='jabber:client' from='coffee@rooms.localhost/ada' to='alice@localhost/gab' type='chat' id='p2'>` +
				`<body>psst</body><x xmlns='http://jabber.org/protocol/muc#user'/></message></forwarded></result></message>`,
			[]Event{MessageArchived{QueryID: "q2", ArchiveID: "A1", From: "coffee@rooms.localhost/ada", To: "alice@localhost/gab", ID: "p2", Body: "psst",
				Peer: "coffee@rooms.localhost", Nick: "ada", Private: true, Time: mustTime("2026-11-20T08:00:00Z")}}},
		{"and our answer",
			`<message from='alice@localhost'><result xmlns='urn:xmpp:mam:2' queryid='q2' id='A2'><forwarded xmlns='urn:xmpp:forward:0'>` +
				`<delay xmlns='urn:xmpp:delay' stamp='2026-11-20T08:00:00Z'/><message xmlns='jabber:client' from='alice@localhost/gab' to='coffee@rooms.localhost/ada' type='chat' id='p3'>` +
				`<body>what</body><x xmlns='http://jabber.org/protocol/muc#user'/></message></forwarded></result></message>`,
			[]Event{MessageArchived{QueryID: "q2", ArchiveID: "A2", From: "alice@localhost/gab", To: "coffee@rooms.localhost/ada", ID: "p3", Body: "what", Outgoing: true,
				Peer: "coffee@rooms.localhost", Nick: "ada", Private: true, Time: mustTime("2026-11-20T08:00:00Z")}}},
		{"a room's archive result about another room is dropped",
			`<message from='tea@rooms.localhost'><result xmlns='urn:xmpp:mam:2' queryid='q1' id='R8'><forwarded xmlns='urn:xmpp:forward:0'>` +
				`<message xmlns='jabber:client' from='other@rooms.localhost/ada' type='groupchat'><body>x</body></message></forwarded></result></message>`, nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			evs, _ := Translate(inTea(), parse(t, tc.xml))
			if !reflect.DeepEqual(evs, tc.want) {
				t.Errorf("events:\n got %#v\nwant %#v", evs, tc.want)
			}
		})
	}
}

func mustTime(s string) time.Time {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		panic(err)
	}
	return t
}
