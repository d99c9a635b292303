package xmpptest

import (
	"encoding/xml"
	"io"
	"strings"
	"testing"
)

// mucServer starts a server with rooms and registers the users (password
// "pw"); every test here checks at the end that Prosody logged no error.
func mucServer(t *testing.T, users ...string) *Server {
	t.Helper()
	srv := Start(t, Options{MUC: true})
	for _, u := range users {
		srv.Register(t, u, "pw")
	}
	t.Cleanup(func() {
		for _, line := range strings.Split(srv.Log(), "\n") {
			if strings.Contains(line, "\terror\t") {
				t.Errorf("prosody logged an error: %s", line)
			}
		}
	})
	return srv
}

// rawClient logs user in with a raw client that the test reads from.
func rawClient(t *testing.T, srv XMPPServer, user string) *Raw {
	t.Helper()
	r, err := LoginRaw(srv, user, "pw", "raw")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

func is(event, room, nick string) func(PeerEvent) bool {
	return func(e PeerEvent) bool {
		return e.Get("event") == event && e.Get("room") == room && e.Get("nick") == nick
	}
}

func groupchat(room, body string) func(PeerEvent) bool {
	return func(e PeerEvent) bool {
		return e.Get("event") == "groupchat" && e.Get("room") == room && e.Get("body") == body
	}
}

func occupant(room, nick, typ string, code int) func(PeerEvent) bool {
	return func(e PeerEvent) bool {
		return e.Get("event") == "occupant" && e.Get("room") == room && e.Get("nick") == nick &&
			e.Get("type") == typ && (code == 0 || HasCode(e, code))
	}
}

func want(t *testing.T, what string, e PeerEvent, field, value string) {
	t.Helper()
	if got := e.Get(field); got != value {
		t.Errorf("%s: %s = %q, want %q (%v)", what, field, got, value, e)
	}
}

func TestMUCTwoOccupantsExchangeMessages(t *testing.T) {
	srv := mucServer(t, "alice", "bob")
	alice := srv.StartPeer(t, "alice", "pw")
	bob := srv.StartPeer(t, "bob", "pw")
	room := Room("lounge")
	if srv.MUCService() != "conference.localhost" || room != "lounge@conference.localhost" {
		t.Fatalf("service %q, room %q", srv.MUCService(), room)
	}

	aself := alice.Join(t, room, "Alice")
	if !HasCode(aself, 201) || aself.Get("affiliation") != "owner" || aself.Get("role") != "moderator" {
		t.Errorf("the creator's self-presence: %v, want status 201, owner, moderator", aself)
	}
	// After the self-presence comes the subject (empty in a new room).
	alice.WaitFor(t, RoundTrip, "the subject", is("subject", room, ""))
	bself := bob.Join(t, room, "Bob")
	if HasCode(bself, 201) || bself.Get("affiliation") != "none" || bself.Get("role") != "participant" {
		t.Errorf("the second occupant's self-presence: %v", bself)
	}
	aid, bid := aself.Get("occupant_id"), bself.Get("occupant_id")
	if aid == "" || bid == "" || aid == bid {
		t.Fatalf("occupant ids %q and %q: want two different ones", aid, bid)
	}
	// Each sees the other's presence, with the occupant id.
	seen := alice.WaitFor(t, RoundTrip, "bob's presence", occupant(room, "Bob", "available", 0))
	want(t, "bob's presence", seen, "occupant_id", bid)
	seen = bob.WaitFor(t, RoundTrip, "alice's presence", occupant(room, "Alice", "available", 0))
	want(t, "alice's presence", seen, "occupant_id", aid)

	alice.Must(t, map[string]any{"cmd": "groupchat", "room": room, "body": "hello room", "id": "m1", "origin_id": "o1"})
	got := bob.WaitFor(t, RoundTrip, "alice's message", groupchat(room, "hello room"))
	refl := alice.WaitFor(t, RoundTrip, "the reflection of alice's message", groupchat(room, "hello room"))
	for _, e := range []PeerEvent{got, refl} {
		want(t, "the message", e, "nick", "Alice")
		want(t, "the message", e, "id", "m1")
		want(t, "the message", e, "origin_id", "o1")
		want(t, "the message", e, "stanza_id_by", room)
		want(t, "the message", e, "occupant_id", aid)
	}
	if got.Get("stanza_id") == "" || got.Get("stanza_id") != refl.Get("stanza_id") {
		t.Errorf("stanza ids %q (received) and %q (reflected): want the same, set", got.Get("stanza_id"), refl.Get("stanza_id"))
	}

	// A correction (XEP-0308) goes through with its replace id.
	alice.Must(t, map[string]any{"cmd": "groupchat", "room": room, "body": "hello, room", "id": "m2", "replace": "m1"})
	want(t, "the correction", bob.WaitFor(t, RoundTrip, "the correction", groupchat(room, "hello, room")), "replace", "m1")

	// Subject, chat state, private message.
	alice.Must(t, map[string]any{"cmd": "subject", "room": room, "subject": "Plans"})
	want(t, "the new subject", bob.WaitFor(t, RoundTrip, "the new subject", is("subject", room, "Alice")), "subject", "Plans")
	bob.Must(t, map[string]any{"cmd": "muc_state", "room": room, "state": "composing"})
	want(t, "bob's chat state", alice.WaitFor(t, RoundTrip, "bob's chat state", is("muc_chatstate", room, "Bob")), "state", "composing")
	bob.Must(t, map[string]any{"cmd": "muc_pm", "room": room, "nick": "Alice", "body": "psst"})
	pm := alice.WaitFor(t, RoundTrip, "bob's private message", is("muc_pm", room, "Bob"))
	want(t, "bob's private message", pm, "body", "psst")
	want(t, "bob's private message", pm, "occupant_id", bid)

	// Leaving: the others see unavailable, the one leaving gets 110.
	bob.Must(t, map[string]any{"cmd": "leave", "room": room, "status": "bye"})
	alice.WaitFor(t, RoundTrip, "bob leaving", occupant(room, "Bob", "unavailable", 0))
	bob.WaitFor(t, RoundTrip, "bob's own leaving", occupant(room, "Bob", "unavailable", 110))
}

func TestMUCOccupantIDStableAcrossNickChange(t *testing.T) {
	srv := mucServer(t, "alice", "bob")
	alice := srv.StartPeer(t, "alice", "pw")
	bob := srv.StartPeer(t, "bob", "pw")
	room := Room("nicks")
	alice.Join(t, room, "Alice")
	id := bob.Join(t, room, "Bob").Get("occupant_id")

	bob.Must(t, map[string]any{"cmd": "nick", "room": room, "nick": "Robert"})
	gone := alice.WaitFor(t, RoundTrip, "the nick change (303)", occupant(room, "Bob", "unavailable", 303))
	want(t, "the nick change", gone, "new_nick", "Robert")
	want(t, "the nick change", gone, "occupant_id", id)
	want(t, "the new nick's presence", alice.WaitFor(t, RoundTrip, "Robert's presence", occupant(room, "Robert", "available", 0)), "occupant_id", id)
	bob.WaitFor(t, RoundTrip, "bob's own new nick", occupant(room, "Robert", "available", 110))

	bob.Must(t, map[string]any{"cmd": "groupchat", "room": room, "body": "renamed"})
	msg := alice.WaitFor(t, RoundTrip, "the renamed occupant's message", groupchat(room, "renamed"))
	want(t, "the renamed occupant's message", msg, "nick", "Robert")
	want(t, "the renamed occupant's message", msg, "occupant_id", id)

	// An occupant id a client writes itself is replaced by the room's.
	bob.Must(t, map[string]any{"cmd": "raw", "xml": "<message to='" + room + "' type='groupchat'><body>forged</body><occupant-id xmlns='urn:xmpp:occupant-id:0' id='alice-s-id'/></message>"})
	want(t, "a message with a forged occupant id", alice.WaitFor(t, RoundTrip, "the forged message", groupchat(room, "forged")), "occupant_id", id)

	// The id comes from the account, not the session: leaving and coming
	// back under another nick keeps it.
	bob.Must(t, map[string]any{"cmd": "leave", "room": room})
	bob.WaitFor(t, RoundTrip, "bob's leaving", occupant(room, "Robert", "unavailable", 110))
	want(t, "the rejoin", bob.Join(t, room, "Bobby"), "occupant_id", id)
}

func TestMUCNickConflict(t *testing.T) {
	srv := mucServer(t, "alice", "bob")
	alice := srv.StartPeer(t, "alice", "pw")
	bob := srv.StartPeer(t, "bob", "pw")
	room := Room("conflict")
	alice.Join(t, room, "Alice")
	err := bob.Do(t, map[string]any{"cmd": "join", "room": room, "nick": "Alice"})
	if err == nil || !strings.Contains(err.Error(), "join refused: conflict") {
		t.Fatalf("joining with a nick in use: %v, want conflict", err)
	}
	e := bob.WaitFor(t, RoundTrip, "the join error", is("muc_join_error", room, "Alice"))
	want(t, "the join error", e, "condition", "conflict")
	want(t, "the join error", e, "type", "cancel")

	// A nick change to a taken nick is refused the same way.
	bob.Join(t, room, "Bob")
	mark := bob.Mark()
	bob.Must(t, map[string]any{"cmd": "nick", "room": room, "nick": "Alice"})
	want(t, "the refused nick change", bob.WaitFrom(t, mark, RoundTrip, "the nick change error", is("muc_join_error", room, "Alice")), "condition", "conflict")
}

func TestMUCPasswordRoom(t *testing.T) {
	srv := mucServer(t, "alice", "bob")
	alice := srv.StartPeer(t, "alice", "pw")
	bob := srv.StartPeer(t, "bob", "pw")
	room := Room("secret")
	alice.CreateRoom(t, room, "Alice", RoomConfig{Password: "s3cret"})
	for _, pw := range []any{nil, "wrong"} {
		err := bob.Do(t, map[string]any{"cmd": "join", "room": room, "nick": "Bob", "password": pw})
		if err == nil || !strings.Contains(err.Error(), "join refused: not-authorized") {
			t.Errorf("joining with password %v: %v, want not-authorized", pw, err)
		}
	}
	bob.Must(t, map[string]any{"cmd": "join", "room": room, "nick": "Bob", "password": "s3cret"})
	alice.WaitFor(t, RoundTrip, "bob in the room", occupant(room, "Bob", "available", 0))
}

func TestMUCMembersOnlyRoom(t *testing.T) {
	srv := mucServer(t, "alice", "bob")
	alice := srv.StartPeer(t, "alice", "pw")
	bob := srv.StartPeer(t, "bob", "pw")
	room := Room("club")
	alice.CreateRoom(t, room, "Alice", RoomConfig{MembersOnly: true})
	err := bob.Do(t, map[string]any{"cmd": "join", "room": room, "nick": "Bob"})
	if err == nil || !strings.Contains(err.Error(), "join refused: registration-required") {
		t.Fatalf("a non-member joining: %v, want registration-required", err)
	}
	alice.Must(t, map[string]any{"cmd": "affiliation", "room": room, "jid": "bob@localhost", "affiliation": "member"})
	want(t, "the member's self-presence", bob.Join(t, room, "Bob"), "affiliation", "member")
}

func TestMUCKickAndBan(t *testing.T) {
	srv := mucServer(t, "alice", "bob", "carol")
	alice := srv.StartPeer(t, "alice", "pw")
	bob := srv.StartPeer(t, "bob", "pw")
	carol := srv.StartPeer(t, "carol", "pw")
	room := Room("rough")
	alice.Join(t, room, "Alice")
	bob.Join(t, room, "Bob")
	carol.Join(t, room, "Carol")

	alice.Must(t, map[string]any{"cmd": "kick", "room": room, "nick": "Bob", "reason": "spam"})
	kicked := carol.WaitFor(t, RoundTrip, "the kick (307)", occupant(room, "Bob", "unavailable", 307))
	want(t, "the kick", kicked, "reason", "spam")
	want(t, "the kick", bob.WaitFor(t, RoundTrip, "bob's own kick", occupant(room, "Bob", "unavailable", 110)), "reason", "spam")
	if e := bob.WaitFor(t, RoundTrip, "bob's own kick", occupant(room, "Bob", "unavailable", 110)); !HasCode(e, 307) {
		t.Errorf("bob's own kick: %v, want 307", e)
	}

	// A kick is not a ban: bob comes back, then is banned.
	mark := carol.Mark()
	bob.Join(t, room, "Bob")
	alice.Must(t, map[string]any{"cmd": "ban", "room": room, "jid": "bob@localhost", "reason": "again"})
	want(t, "the ban", carol.WaitFrom(t, mark, RoundTrip, "the ban (301)", occupant(room, "Bob", "unavailable", 301)), "reason", "again")
	bob.WaitFor(t, RoundTrip, "bob's own ban", occupant(room, "Bob", "unavailable", 301))
	err := bob.Do(t, map[string]any{"cmd": "join", "room": room, "nick": "Bob"})
	if err == nil || !strings.Contains(err.Error(), "join refused: forbidden") {
		t.Fatalf("a banned user joining: %v, want forbidden", err)
	}

	// Only moderators kick.
	err = carol.Do(t, map[string]any{"cmd": "kick", "room": room, "nick": "Alice"})
	if err == nil || !strings.Contains(err.Error(), "not-allowed") {
		t.Errorf("a participant kicking: %v, want not-allowed", err)
	}
}

func TestMUCRoomConfiguration(t *testing.T) {
	srv := mucServer(t, "alice", "bob")
	alice := srv.StartPeer(t, "alice", "pw")
	bob := srv.StartPeer(t, "bob", "pw")
	room := Room("stage")
	off := false
	alice.CreateRoom(t, room, "Alice", RoomConfig{Persistent: true, Moderated: true, Whois: "anyone", MAM: &off, Name: "The Stage"})

	r := rawClient(t, srv, "bob")
	info, err := r.IQ(`<iq type='get' id='d1' to='`+room+`'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, "d1")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"muc_persistent", "muc_moderated", "muc_nonanonymous", "muc_open", "muc_unsecured", "urn:xmpp:occupant-id:0", "urn:xmpp:message-moderate:0"} {
		if !strings.Contains(info, "var='"+f+"'") {
			t.Errorf("disco#info of the room lacks %s: %s", f, info)
		}
	}
	if strings.Contains(info, "var='urn:xmpp:mam:2'") {
		t.Errorf("a room with archiving off advertises MAM: %s", info)
	}
	if !strings.Contains(info, "name='The Stage'") {
		t.Errorf("the room's name is not in disco#info: %s", info)
	}

	// Moderated: a newcomer is a visitor until given voice; whois anyone:
	// everyone sees real JIDs.
	self := bob.Join(t, room, "Bob")
	want(t, "a newcomer in a moderated room", self, "role", "visitor")
	want(t, "alice seen by bob", bob.WaitFor(t, RoundTrip, "alice's presence", occupant(room, "Alice", "available", 0)), "jid", alice.WaitFor(t, RoundTrip, "ready", func(e PeerEvent) bool { return e.Get("event") == "ready" }).Get("jid"))
	// A visitor may not speak: the room answers with an error.
	bob.Must(t, map[string]any{"cmd": "groupchat", "room": room, "body": "may I?", "id": "v1"})
	refused := bob.WaitFor(t, RoundTrip, "the refusal of a visitor's message", is("muc_message_error", room, ""))
	want(t, "a visitor's message", refused, "id", "v1")
	want(t, "a visitor's message", refused, "condition", "forbidden")
	mark := bob.Mark()
	alice.Must(t, map[string]any{"cmd": "role", "room": room, "nick": "Bob", "role": "participant"})
	want(t, "bob given voice", bob.WaitFrom(t, mark, RoundTrip, "bob's new role", occupant(room, "Bob", "available", 110)), "role", "participant")

	// Prosody 0.12 has no maximum number of occupants in its form.
	if err := alice.Configure(t, room, RoomConfig{MaxUsers: 10}); err == nil || !strings.Contains(err.Error(), "muc#roomconfig_maxusers") {
		t.Errorf("asking for a maximum of occupants: %v, want an error naming the missing field", err)
	}
	// Archiving back on: the room advertises MAM.
	on := true
	if err := alice.Configure(t, room, RoomConfig{MAM: &on}); err != nil {
		t.Fatal(err)
	}
	info, err = r.IQ(`<iq type='get' id='d2' to='`+room+`'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, "d2")
	if err != nil || !strings.Contains(info, "var='urn:xmpp:mam:2'") {
		t.Errorf("a room with archiving on: %v %s, want urn:xmpp:mam:2", err, info)
	}
}

func TestMUCInvitations(t *testing.T) {
	srv := mucServer(t, "alice", "bob")
	alice := srv.StartPeer(t, "alice", "pw")
	bob := srv.StartPeer(t, "bob", "pw")
	room := Room("party")
	alice.CreateRoom(t, room, "Alice", RoomConfig{Password: "pw2"})
	alice.Must(t, map[string]any{"cmd": "invite", "room": room, "to": "bob@localhost", "reason": "come"})
	inv := bob.WaitFor(t, RoundTrip, "the mediated invitation", func(e PeerEvent) bool {
		return e.Get("event") == "invite" && e.Get("kind") == "mediated"
	})
	want(t, "the mediated invitation", inv, "room", room)
	want(t, "the mediated invitation", inv, "reason", "come")
	want(t, "the mediated invitation", inv, "password", "pw2")
	// In a semi-anonymous room Prosody names the inviter by nick.
	want(t, "the mediated invitation", inv, "from", room+"/Alice")
	alice.Must(t, map[string]any{"cmd": "direct_invite", "room": room, "to": "bob@localhost", "password": "pw2", "reason": "please"})
	inv = bob.WaitFor(t, RoundTrip, "the direct invitation", func(e PeerEvent) bool {
		return e.Get("event") == "invite" && e.Get("kind") == "direct"
	})
	want(t, "the direct invitation", inv, "room", room)
	want(t, "the direct invitation", inv, "password", "pw2")
	want(t, "the direct invitation", inv, "reason", "please")
	if !strings.HasPrefix(inv.Get("from"), "alice@localhost/") {
		t.Errorf("the direct invitation comes from %q, want alice's full JID", inv.Get("from"))
	}
}

// elements returns the attributes of each element space:local in text, a
// sequence of whole stanzas. Prosody writes attributes in an order that
// changes from one run to the next: tests look at them through this.
func elements(t *testing.T, text, space, local string) []map[string]string {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader("<s>" + text + "</s>"))
	var out []map[string]string
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("not XML: %v\n%s", err, text)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Space == space && se.Name.Local == local {
			attrs := map[string]string{}
			for _, a := range se.Attr {
				attrs[a.Name.Local] = a.Value
			}
			out = append(out, attrs)
		}
	}
}

// mamResult is one message of a MAM answer (XEP-0313).
type mamResult struct {
	QueryID   string `xml:"queryid,attr"`
	ID        string `xml:"id,attr"`
	Forwarded struct {
		Delay struct {
			Stamp string `xml:"stamp,attr"`
		} `xml:"urn:xmpp:delay delay"`
		Message struct {
			From       string `xml:"from,attr"`
			Type       string `xml:"type,attr"`
			Body       string `xml:"body"`
			OccupantID struct {
				ID string `xml:"id,attr"`
			} `xml:"urn:xmpp:occupant-id:0 occupant-id"`
			OriginID struct {
				ID string `xml:"id,attr"`
			} `xml:"urn:xmpp:sid:0 origin-id"`
			StanzaID []struct {
				ID string `xml:"id,attr"`
				By string `xml:"by,attr"`
			} `xml:"urn:xmpp:sid:0 stanza-id"`
		} `xml:"message"`
	} `xml:"urn:xmpp:forward:0 forwarded"`
}

// mamResults decodes the results in text, a sequence of whole stanzas.
func mamResults(t *testing.T, text string) []mamResult {
	t.Helper()
	d := xml.NewDecoder(strings.NewReader("<s>" + text + "</s>"))
	var out []mamResult
	for {
		tok, err := d.Token()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatalf("the answer is not XML: %v\n%s", err, text)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Space == "urn:xmpp:mam:2" && se.Name.Local == "result" {
			var r mamResult
			if err := d.DecodeElement(&r, &se); err != nil {
				t.Fatal(err)
			}
			out = append(out, r)
		}
	}
}

func TestMUCRoomArchive(t *testing.T) {
	srv := mucServer(t, "alice", "bob", "carol")
	alice := srv.StartPeer(t, "alice", "pw")
	room := Room("archive")
	aid := alice.Join(t, room, "Alice").Get("occupant_id")
	bodies := []string{"one", "two", "three"}
	var live []PeerEvent
	for i, b := range bodies {
		alice.Must(t, map[string]any{"cmd": "groupchat", "room": room, "body": b, "origin_id": "origin-" + b})
		live = append(live, alice.WaitFor(t, RoundTrip, "the reflection of "+b, groupchat(room, b)))
		want(t, "message "+b, live[i], "stanza_id_by", room)
	}

	// History on joining comes from the archive, delayed by the room,
	// before the subject.
	bob := srv.StartPeer(t, "bob", "pw")
	bob.Must(t, map[string]any{"cmd": "join", "room": room, "nick": "Bob", "maxstanzas": 2})
	bob.WaitFor(t, RoundTrip, "the subject", is("subject", room, ""))
	var history []string
	for _, e := range bob.Events() {
		if e.Get("event") == "groupchat" {
			history = append(history, e.Get("body"))
			if e.Get("delay") == "" || e.Get("delay_from") != room || e.Get("stanza_id_by") != room {
				t.Errorf("a message of the history: %v, want a delay from the room and a stanza-id", e)
			}
		}
	}
	if strings.Join(history, ",") != "two,three" {
		t.Errorf("the history of a join asking for 2 stanzas: %q", history)
	}

	// Anyone may read the archive of an open room; a raw client asks before
	// joining, then after.
	r := rawClient(t, srv, "carol")
	for _, q := range []string{"before", "after"} {
		if q == "after" {
			self, err := r.JoinRoom(room, "Carol", "<history maxstanzas='0'/>")
			if err != nil {
				t.Fatal(err)
			}
			if ids := elements(t, self, "urn:xmpp:occupant-id:0", "occupant-id"); !strings.Contains(self, "code='110'") || len(ids) != 3 || (ids[0]["id"] != aid && ids[1]["id"] != aid) {
				// The others' presence comes in no fixed order.
				t.Errorf("the raw join's answer lacks the self-presence or alice's occupant id:\n%s", self)
			}
		}
		text, err := r.MAMQuery(room, q, "")
		if err != nil {
			t.Fatal(err)
		}
		if fin := elements(t, text, "urn:xmpp:mam:2", "fin"); len(fin) != 1 || fin[0]["complete"] != "true" {
			t.Errorf("query %s: no complete <fin/>:\n%s", q, text)
		}
		got := mamResults(t, text)
		if len(got) != len(bodies) {
			t.Fatalf("query %s: %d results, want %d:\n%s", q, len(got), len(bodies), text)
		}
		for i, res := range got {
			m := res.Forwarded.Message
			if res.QueryID != q || m.Body != bodies[i] || m.From != room+"/Alice" || m.Type != "groupchat" {
				t.Errorf("query %s, result %d: %+v", q, i, res)
			}
			// The result's id is the stanza-id the room gave the live
			// message; the archived copy carries no stanza-id itself.
			if res.ID != live[i].Get("stanza_id") || len(m.StanzaID) != 0 {
				t.Errorf("result %d: id %q, stanza-ids %v; live stanza-id %q", i, res.ID, m.StanzaID, live[i].Get("stanza_id"))
			}
			if m.OccupantID.ID != aid || m.OriginID.ID != "origin-"+bodies[i] || res.Forwarded.Delay.Stamp == "" {
				t.Errorf("result %d: occupant-id %q (want %q), origin-id %q, delay %q", i, m.OccupantID.ID, aid, m.OriginID.ID, res.Forwarded.Delay.Stamp)
			}
		}
	}

	// A room the raw client creates is locked until it is configured.
	self, err := r.JoinRoom(Room("fresh"), "Carol", "")
	if err != nil || !strings.Contains(self, "code='201'") {
		t.Fatalf("creating a room: %v\n%s", err, self)
	}
	if err := r.UnlockRoom(Room("fresh")); err != nil {
		t.Fatal(err)
	}
	alice.Join(t, Room("fresh"), "Alice")
	// A refused raw join is an error holding the condition.
	if _, err := r.JoinRoom(Room("fresh"), "Alice", ""); err == nil || !strings.Contains(err.Error(), "<conflict") {
		t.Errorf("a raw join with a nick in use: %v, want conflict", err)
	}
}

func TestMUCServiceFeatures(t *testing.T) {
	srv := mucServer(t, "alice")
	alice := srv.StartPeer(t, "alice", "pw")
	room := Room("features")
	alice.Join(t, room, "Alice")
	r := rawClient(t, srv, "alice")
	for _, c := range []struct {
		to, id   string
		features []string
	}{
		{MUCService, "svc", []string{"http://jabber.org/protocol/muc", "urn:xmpp:occupant-id:0"}},
		{room, "room", []string{"http://jabber.org/protocol/muc", "urn:xmpp:mam:2", "urn:xmpp:occupant-id:0", "urn:xmpp:message-moderate:0", "muc_semianonymous", "muc_temporary"}},
		{"alice@localhost", "account", []string{"urn:xmpp:bookmarks:1#compat", "urn:xmpp:bookmarks:1#compat-pep", "http://jabber.org/protocol/pubsub#publish-options"}},
	} {
		info, err := r.IQ(`<iq type='get' id='`+c.id+`' to='`+c.to+`'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, c.id)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range c.features {
			if !strings.Contains(info, "<feature var='"+f+"'/>") {
				t.Errorf("disco#info of %s lacks %s:\n%s", c.to, f, info)
			}
		}
	}

	// Without Options.MUC there is no group chat service.
	plain := Start(t, Options{NoMAM: true})
	plain.Register(t, "alice", "pw")
	pr := rawClient(t, plain, "alice")
	if info, err := pr.IQ(`<iq type='get' id='x' to='`+MUCService+`'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, "x"); err == nil {
		t.Errorf("a server without MUC answered for %s:\n%s", MUCService, info)
	}
}

func TestBookmarks(t *testing.T) {
	srv := mucServer(t, "alice")
	r := rawClient(t, srv, "alice")
	// XEP-0402: publish with the options the XEP asks for.
	publish := `<iq type='set' id='pub'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:bookmarks:1'>` +
		`<item id='lounge@conference.localhost'><conference xmlns='urn:xmpp:bookmarks:1' name='Lounge' autojoin='true'><nick>Al</nick><password>pw</password></conference></item></publish>` +
		`<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>` +
		`<field var='pubsub#persist_items'><value>true</value></field><field var='pubsub#max_items'><value>max</value></field>` +
		`<field var='pubsub#send_last_published_item'><value>never</value></field><field var='pubsub#access_model'><value>whitelist</value></field></x></publish-options></pubsub></iq>`
	if _, err := r.IQ(publish, "pub"); err != nil {
		t.Fatal(err)
	}
	items := `<iq type='get' id='ID'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:bookmarks:1'/></pubsub></iq>`
	got, err := r.IQ(strings.Replace(items, "ID", "items1", 1), "items1")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"id='lounge@conference.localhost'", "name='Lounge'", "autojoin='true'", "<nick>Al</nick>", "<password>pw</password>"} {
		if !strings.Contains(got, s) {
			t.Errorf("the bookmarks read back lack %s:\n%s", s, got)
		}
	}
	// XEP-0048 through private storage sees the same bookmark.
	got, err = r.IQ(`<iq type='get' id='priv1'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`, "priv1")
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"<storage xmlns='storage:bookmarks'>", "jid='lounge@conference.localhost'", "name='Lounge'", "autojoin='true'", "<nick>Al</nick>"} {
		if !strings.Contains(got, s) {
			t.Errorf("the bookmarks in private storage lack %s:\n%s", s, got)
		}
	}
	// A XEP-0048 write replaces the whole list, in PEP too.
	if _, err := r.IQ(`<iq type='set' id='priv2'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'><conference jid='other@conference.localhost' name='Other' autojoin='false'><nick>A2</nick></conference></storage></query></iq>`, "priv2"); err != nil {
		t.Fatal(err)
	}
	got, err = r.IQ(strings.Replace(items, "ID", "items2", 1), "items2")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got, "id='other@conference.localhost'") || strings.Contains(got, "lounge@") {
		t.Errorf("after a XEP-0048 write, PEP holds:\n%s", got)
	}
}

func TestMUCModeration(t *testing.T) {
	srv := mucServer(t, "alice", "bob")
	alice := srv.StartPeer(t, "alice", "pw")
	bob := srv.StartPeer(t, "bob", "pw")
	room := Room("moderated")
	alice.Join(t, room, "Alice")
	bob.Join(t, room, "Bob")
	bob.Must(t, map[string]any{"cmd": "groupchat", "room": room, "body": "spam spam"})
	sid := alice.WaitFor(t, RoundTrip, "bob's message", groupchat(room, "spam spam")).Get("stanza_id")

	// Only moderators moderate.
	if err := bob.Do(t, map[string]any{"cmd": "moderate", "room": room, "stanza_id": sid}); err == nil || !strings.Contains(err.Error(), "forbidden") {
		t.Errorf("a participant moderating: %v, want forbidden", err)
	}
	alice.Must(t, map[string]any{"cmd": "moderate", "room": room, "stanza_id": sid, "reason": "spam"})
	m := bob.WaitFor(t, RoundTrip, "the moderation", func(e PeerEvent) bool { return e.Get("event") == "moderated" })
	want(t, "the moderation", m, "room", room)
	want(t, "the moderation", m, "nick", "")
	want(t, "the moderation", m, "target", sid)
	want(t, "the moderation", m, "by", room+"/Alice")
	want(t, "the moderation", m, "retract", "true")
	want(t, "the moderation", m, "reason", "spam")

	// The archive keeps a tombstone under the same id, and the
	// announcement.
	r := rawClient(t, srv, "bob")
	text, err := r.MAMQuery(room, "after", "")
	if err != nil {
		t.Fatal(err)
	}
	got := mamResults(t, text)
	if len(got) != 2 || got[0].ID != sid || got[0].Forwarded.Message.Body != "" {
		t.Fatalf("the archive after a moderation:\n%s", text)
	}
	if len(elements(t, text, "urn:xmpp:message-retract:0", "retracted")) != 1 || len(elements(t, text, "urn:xmpp:fasten:0", "apply-to")) != 1 {
		t.Errorf("the archive lacks the tombstone or the announcement:\n%s", text)
	}
}
