package chat_test

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
)

// Hostile rooms: what occupants, strangers and our own other devices can
// get the server to send gab about rooms, against Prosody. Each test ends
// its hostile part with a sentinel, a stanza that must arrive after it,
// so that what did not happen is shown without waiting on a clock.

// rawOccupant logs user in as a raw client with resource and joins room
// as nick; what the server sends it afterwards is dropped.
func rawOccupant(t *testing.T, srv *xmpptest.Server, user, resource, room, nick string) *xmpptest.Raw {
	t.Helper()
	r, err := xmpptest.LoginRaw(srv, user, "pw", resource)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.JoinRoom(room, nick, "<history maxstanzas='0'/>"); err != nil {
		r.Close()
		t.Fatal(err)
	}
	r.Discard()
	t.Cleanup(func() { r.Close(); <-r.Done() })
	return r
}

// rawOccupantUnread is rawOccupant for a caller that reads what the
// server sends (roundTrip).
func rawOccupantUnread(t *testing.T, srv *xmpptest.Server, user, resource, room, nick string) *xmpptest.Raw {
	t.Helper()
	r, err := xmpptest.LoginRaw(srv, user, "pw", resource)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	if _, err := r.JoinRoom(room, nick, "<history maxstanzas='0'/>"); err != nil {
		t.Fatal(err)
	}
	return r
}

// mustSend sends xml on a raw client.
func mustSend(t *testing.T, r *xmpptest.Raw, xml string) {
	t.Helper()
	if err := r.Send(xml); err != nil {
		t.Fatal(err)
	}
}

// stored returns every stored message, in any conversation, holding word.
func storedWith(t *testing.T, store *history.Store, word string) []history.Message {
	t.Helper()
	rows, err := store.Search(context.Background(), word, history.Conv{}, 100)
	if err != nil {
		t.Fatal(err)
	}
	return rows
}

// noEvent fails when any event recorded so far matches bad.
func noEvent(t *testing.T, r *recorder, what string, bad func(chat.Event) bool) {
	t.Helper()
	for _, e := range r.snapshot() {
		if bad(e) {
			t.Errorf("%s: %T %+v", what, e, e)
		}
	}
}

// A stranger cannot make gab see a room: groupchat messages, subjects,
// status codes (110 self, 201 created, 307 kicked, 303 nick change) and
// archive results from its own address change nothing, in rooms gab is in
// or not; a room gab has left is gone from its routing.
func TestRoomHostileNotFromTheRoom(t *testing.T) {
	srv := mucServer(t, "alice", "mallory")
	tea := xmpptest.Room("tea")
	store := openStore(t)
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	joinRoom(t, a, tea, "alice", "")
	coffee := xmpptest.Room("coffee")
	joinRoom(t, a, coffee, "alice", "")
	a.do(t, chat.LeaveRoom{Room: coffee})
	a.r.wait(t, "out of coffee", is(func(e chat.RoomLeft) bool { return e.Room == coffee }))

	m := rawPeer(t, srv, "mallory")
	begin := len(a.r.snapshot())
	for _, to := range []string{"alice@localhost", "alice@localhost/gab"} {
		mustSend(t, m, `<message type='groupchat' to='`+to+`' id='g1'><body>forgedxyz groupchat</body></message>`)
		mustSend(t, m, `<message type='groupchat' to='`+to+`'><subject>forgedxyz subject</subject></message>`)
		mustSend(t, m, `<message type='chat' to='`+to+`'><subject>forgedxyz chat subject</subject></message>`)
		// Status codes as a room would send them about us.
		mustSend(t, m, `<presence to='`+to+`'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='moderator' jid='alice@localhost/gab'/><status code='110'/><status code='201'/></x></presence>`)
		mustSend(t, m, `<presence to='`+to+`' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='none' nick='hijacked'><reason>forgedxyz</reason></item><status code='110'/><status code='307'/><status code='303'/></x></presence>`)
		mustSend(t, m, `<presence to='`+to+`' type='unavailable'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' role='none'/><destroy jid='`+coffee+`'><reason>forgedxyz</reason></destroy><status code='110'/></x></presence>`)
		mustSend(t, m, `<presence to='`+to+`' type='error'><error type='cancel'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></presence>`)
		// An archive result for a query nobody made, and one naming the room.
		mustSend(t, m, `<message to='`+to+`'><result xmlns='urn:xmpp:mam:2' queryid='q1' id='R1'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='`+tea+`/ada' type='groupchat' id='x1'><body>forgedxyz archived</body></message></forwarded></result></message>`)
		mustSend(t, m, `<message to='`+to+`'><result xmlns='urn:xmpp:mam:2' queryid='q1' id='R2'><forwarded xmlns='urn:xmpp:forward:0'><message xmlns='jabber:client' from='mallory@localhost/evil' type='chat' id='x2'><body>forgedxyz archived chat</body></message></forwarded></result></message>`)
	}
	mustSend(t, m, `<message type='chat' to='alice@localhost/gab' id='s1'><body>sentinel one</body></message>`)
	_, end := a.r.waitFrom(t, begin, "the sentinel", xmpptest.RoundTrip, is(func(e chat.MessageReceived) bool { return e.Body == "sentinel one" }))

	for _, e := range a.r.snapshot()[begin:end] {
		switch e := e.(type) {
		case chat.MessageReceived:
			if strings.Contains(e.Body, "forgedxyz") {
				t.Errorf("a stranger's forgery became a message: %+v", e)
			}
		case chat.CarbonSent:
			t.Errorf("a stranger's forgery became a message of ours: %+v", e)
		case chat.RoomSubject, chat.RoomJoinFailed, chat.RoomJoining:
			t.Errorf("a stranger changed a room: %T %+v", e, e)
		case chat.RoomJoined:
			if e.Room != tea && e.Room != coffee {
				t.Errorf("a stranger made us join: %+v", e)
			}
		case chat.OccupantChanged:
			if e.Room != tea && e.Room != coffee {
				t.Errorf("a stranger became an occupant: %+v", e)
			}
		case chat.RoomLeft:
			if e.Room != coffee {
				t.Errorf("a stranger took us out of a room: %+v", e)
			}
		case chat.PresenceChanged:
			if e.Bare == "mallory@localhost" {
				t.Errorf("a room's presence from a stranger became a contact's: %+v", e)
			}
		}
	}
	if rows := storedWith(t, store, "forgedxyz"); len(rows) != 0 {
		t.Errorf("stored from a stranger: %+v", rows)
	}
	// Still in tea, under the same nick: our message is confirmed by its
	// reflection.
	a.c.Do(chat.SendMessage{Conv: chat.RoomConv(tea), Body: "still here"})
	sent := a.r.wait(t, "our message", is(func(e chat.MessageSent) bool { return e.Body == "still here" })).(chat.MessageSent)
	a.r.wait(t, "its reflection", is(func(e chat.DeliveryChanged) bool {
		return e.ID == sent.ID && e.State == chat.DeliveryReceived
	}))
	// Out of coffee: nothing can be said there.
	id := a.c.Do(chat.SendMessage{Conv: chat.RoomConv(coffee), Body: "anyone?"})
	a.r.wait(t, "the refusal to send to a room we left", is(func(e chat.CommandFailed) bool { return e.ID == id }))
}

// After we change nick, someone else takes the old one: its messages are
// not ours (not shown as sent by us, not the reflection that confirms our
// message, even with our origin-id and our occupant-id put in), its
// presence is not ours; the occupant-id decides, in the live room and in
// its archive.
func TestRoomHostileNickTakenOver(t *testing.T) {
	srv := mucServer(t, "alice", "mallory", "bob")
	tea := xmpptest.Room("tea")
	store := openStore(t)
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	joined := joinRoom(t, a, tea, "alice", "")
	ours := joined.Self.OccupantID
	// Prosody 0.12.3 destroys a room whose only occupant changes nick (the
	// next to join creates it anew): bob keeps it.
	rawOccupant(t, srv, "bob", "pc", tea, "bob")

	a.c.Do(chat.SendMessage{Conv: chat.RoomConv(tea), Body: "mine before"})
	sent := a.r.wait(t, "our message", is(func(e chat.MessageSent) bool { return e.Body == "mine before" })).(chat.MessageSent)
	a.r.wait(t, "its reflection", is(func(e chat.DeliveryChanged) bool { return e.ID == sent.ID && e.State == chat.DeliveryReceived }))

	a.do(t, chat.ChangeNick{Room: tea, Nick: "alice2"})
	a.r.wait(t, "our new nick", is(func(e chat.OccupantChanged) bool {
		return e.Room == tea && e.Self && !e.Left && e.Occupant.Nick == "alice2"
	}))

	// Mallory takes "alice", claiming to be us in every way she can.
	m, err := xmpptest.LoginRaw(srv, "mallory", "pw", "evil")
	if err != nil {
		t.Fatal(err)
	}
	if got, err := m.JoinRoom(tea, "alice", "<history maxstanzas='0'/>"); err != nil {
		t.Fatal(err)
	} else if strings.Contains(got, "code='201'") {
		t.Fatalf("mallory made the room anew: %s", got)
	}
	m.Discard()
	t.Cleanup(func() { m.Close(); <-m.Done() })
	_, from := a.r.waitFrom(t, 0, "mallory as alice", xmpptest.RoundTrip, is(func(e chat.OccupantChanged) bool {
		return e.Room == tea && e.Occupant.Nick == "alice" && !e.Left
	}))
	mustSend(t, m, `<presence to='`+tea+`/alice'><status>me again</status><occupant-id xmlns='urn:xmpp:occupant-id:0' id='`+ours+`'/><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='owner' role='moderator'/><status code='110'/></x></presence>`)
	mustSend(t, m, `<message type='groupchat' to='`+tea+`' id='`+sent.ID+`'><body>impostor one</body><origin-id xmlns='urn:xmpp:sid:0' id='`+sent.ID+`'/><occupant-id xmlns='urn:xmpp:occupant-id:0' id='`+ours+`'/></message>`)
	mustSend(t, m, `<message type='groupchat' to='`+tea+`'><body>impostor two</body></message>`)
	mustSend(t, m, `<message type='groupchat' to='`+tea+`'><body>impostor sentinel</body></message>`)
	_, end := a.r.waitFrom(t, from, "the sentinel", xmpptest.RoundTrip, is(func(e chat.MessageReceived) bool { return e.Body == "impostor sentinel" }))

	got := map[string]chat.MessageReceived{}
	for _, e := range a.r.snapshot()[from : end+1] {
		switch e := e.(type) {
		case chat.MessageReceived:
			got[e.Body] = e
		case chat.CarbonSent:
			t.Errorf("the impostor's message shown as ours: %+v", e)
		case chat.DeliveryChanged:
			t.Errorf("the impostor's message changed the delivery of ours: %+v", e)
		case chat.OccupantChanged:
			if e.Self || e.Occupant.OccupantID == ours && e.Occupant.Nick == "alice" {
				t.Errorf("the impostor's presence taken for ours: %+v", e)
			}
		case chat.RoomJoined, chat.RoomLeft:
			t.Errorf("the impostor's presence changed our place in the room: %+v", e)
		}
	}
	for _, body := range []string{"impostor one", "impostor two"} {
		e, ok := got[body]
		if !ok {
			t.Errorf("%q did not arrive as someone else's message", body)
			continue
		}
		if e.Nick != "alice" || e.OccupantID == "" || e.OccupantID == ours || e.Conv != chat.RoomConv(tea) {
			t.Errorf("%q arrived as %+v", body, e)
		}
	}

	// Our nick in the room is still alice2: a message goes out and is
	// confirmed by its own reflection.
	a.c.Do(chat.SendMessage{Conv: chat.RoomConv(tea), Body: "mine after"})
	after := a.r.wait(t, "our next message", is(func(e chat.MessageSent) bool { return e.Body == "mine after" })).(chat.MessageSent)
	a.r.wait(t, "its reflection", is(func(e chat.DeliveryChanged) bool { return e.ID == after.ID && e.State == chat.DeliveryReceived }))

	dirs := map[string]string{}
	for _, r := range roomRows(t, store, tea) {
		dirs[r.Body] = r.Direction
	}
	want := map[string]string{"mine before": history.Out, "impostor one": history.In, "impostor two": history.In, "impostor sentinel": history.In, "mine after": history.Out}
	if fmt.Sprint(dirs) != fmt.Sprint(want) {
		t.Errorf("stored\n%v\nwant\n%v", dirs, want)
	}

	// The archive says the same: a new device, with nothing stored, joins
	// as alice3 and reads the room's latest page.
	a.stop()
	store2 := openStore(t)
	a2 := start(t, account(t, srv, "alice", "pw", "gab2"), chat.Options{Store: store2})
	joinRoom(t, a2, tea, "alice3", "")
	a2.r.wait(t, "the catch-up", is(func(e chat.RoomCatchUp) bool { return e.Room == tea }))
	dirs = map[string]string{}
	for _, r := range roomRows(t, store2, tea) {
		dirs[r.Body] = r.Direction
	}
	if fmt.Sprint(dirs) != fmt.Sprint(want) {
		t.Errorf("from the archive\n%v\nwant\n%v", dirs, want)
	}
}

// A private message from room/nick is the private conversation with that
// occupant, never a chat with a contact — even with the room's address in
// the roster as a contact named like it: live, as a copy of one our other
// device sent (a sent carbon), and from our account's archive.
func TestRoomHostilePrivateIsNotAChat(t *testing.T) {
	srv := mucServer(t, "alice", "mallory", "bob")
	tea := xmpptest.Room("tea")
	if err := srv.WriteRoster("alice", []xmpptest.RosterEntry{{JID: tea, Name: "tea", Subscription: "both"}, {JID: "mallory@localhost", Name: "tea", Subscription: "both"}}); err != nil {
		t.Fatal(err)
	}
	store := openStore(t)
	// The first run only notes where our account's archive ends.
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	joinRoom(t, a, tea, "alice", "")
	rawOccupant(t, srv, "bob", "pc", tea, "bob")
	m := rawOccupantUnread(t, srv, "mallory", "evil", tea, "mallory")
	mustSend(t, m, `<message type='chat' to='`+tea+`/alice' id='p1'><body>pm live</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>`)
	mustSend(t, m, `<message type='chat' to='alice@localhost' id='c1'><body>chat live</body></message>`)
	a.r.wait(t, "the chat", is(func(e chat.MessageReceived) bool { return e.Body == "chat live" }))

	// Another device of ours in the room sends mallory a private message:
	// its sent carbon reaches gab.
	phone := rawOccupantUnread(t, srv, "alice", "phone", tea, "alice-phone")
	mustSend(t, phone, `<message type='chat' to='`+tea+`/mallory' id='p2'><body>pm from my phone</body><x xmlns='http://jabber.org/protocol/muc#user'/><origin-id xmlns='urn:xmpp:sid:0' id='p2'/></message>`)
	mustSend(t, phone, `<message type='chat' to='mallory@localhost' id='c2'><body>chat from my phone</body></message>`)
	a.r.wait(t, "the carbon of the chat", is(func(e chat.CarbonSent) bool { return e.Body == "chat from my phone" }))

	// While gab is away, the phone gets and sends private messages: they
	// are in our account's archive, and gab catches up from it.
	a.stop()
	mustSend(t, m, `<message type='chat' to='`+tea+`/alice-phone' id='p3'><body>pm while away</body><x xmlns='http://jabber.org/protocol/muc#user'/></message>`)
	roundTrip(t, m)
	mustSend(t, phone, `<message type='chat' to='`+tea+`/mallory' id='p4'><body>pm from my phone while away</body><x xmlns='http://jabber.org/protocol/muc#user'/><origin-id xmlns='urn:xmpp:sid:0' id='p4'/></message>`)
	roundTrip(t, phone)
	mustSend(t, m, `<message type='chat' to='alice@localhost' id='c3'><body>chat while away</body></message>`)
	roundTrip(t, m)
	// The sentinel goes to the phone alone: gab has it from the archive
	// only, after everything before it.
	mustSend(t, m, `<message type='chat' to='alice@localhost/phone' id='c4'><body>sentinel while away</body></message>`)
	roundTrip(t, m)
	a2 := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	a2.r.wait(t, "the sentinel from the archive", is(func(e chat.MessageReceived) bool { return e.Body == "sentinel while away" }))

	want := map[string]chat.Conv{
		"pm live":                     chat.PrivateConv(tea, "mallory"),
		"chat live":                   chat.ChatWith("mallory@localhost"),
		"pm from my phone":            chat.PrivateConv(tea, "mallory"),
		"chat from my phone":          chat.ChatWith("mallory@localhost"),
		"pm while away":               chat.PrivateConv(tea, "mallory"),
		"pm from my phone while away": chat.PrivateConv(tea, "mallory"),
		"chat while away":             chat.ChatWith("mallory@localhost"),
	}
	for _, r := range []*recorder{a.r, a2.r} {
		for _, e := range r.snapshot() {
			var body string
			var conv chat.Conv
			switch e := e.(type) {
			case chat.MessageReceived:
				body, conv = e.Body, e.Conv
			case chat.CarbonSent:
				body, conv = e.Body, e.Conv
			default:
				continue
			}
			if w, ok := want[body]; ok && conv != w {
				t.Errorf("%q in %+v, want %+v", body, conv, w)
			}
		}
	}
	a2.stop() // everything it had is stored
	where := map[string][]chat.Conv{}
	for _, conv := range []chat.Conv{chat.PrivateConv(tea, "mallory"), chat.ChatWith("mallory@localhost"), chat.ChatWith(tea), chat.RoomConv(tea)} {
		rows, _, err := store.Before(context.Background(), history.Conv{Kind: string(conv.Kind), Peer: conv.JID}, 0, 100)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			where[r.Body] = append(where[r.Body], conv)
		}
	}
	for body, w := range want {
		if got := where[body]; len(got) != 1 || got[0] != w {
			t.Errorf("%q stored in %v, want once in %v", body, got, w)
			for _, r := range storedWith(t, store, body) {
				t.Logf("row %d %s %s %s archive %q stanza %q origin %q received %v", r.ID, r.Kind, r.Peer, r.Direction, r.ArchiveID, r.StanzaID, r.OriginID, r.Received)
			}
		}
	}
	if rows, _, err := store.Before(context.Background(), history.Conv{Kind: history.KindChat, Peer: tea}, 0, 100); err != nil || len(rows) != 0 {
		t.Errorf("a chat with the room's address holds %+v (%v)", rows, err)
	}
}

// Nicks made of markup, long and unusual text are data: gab joins, talks
// and changes nick with them, and stores its own and others' exactly (the
// interface sanitises what it shows). Nicks no address may hold (control
// characters, bidi overrides, 10,000 characters) gab refuses with a clear
// error before sending; Prosody refuses them too (jid-malformed), so no
// occupant can have one.
func TestRoomHostileNicks(t *testing.T) {
	srv := mucServer(t, "alice", "mallory", "bob")
	tea := xmpptest.Room("tea")
	store := openStore(t)
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})

	for _, bad := range []string{"a\u0007bell", "\u202eevil", "zero\u200bwidth", strings.Repeat("n", 10000)} {
		id := a.c.Do(chat.JoinRoom{Room: tea, Nick: bad})
		f := a.r.wait(t, "the refusal of a bad nick", is(func(e chat.CommandFailed) bool { return e.ID == id })).(chat.CommandFailed)
		if !strings.Contains(f.Err.Error(), "cannot be a nick") {
			t.Errorf("joining as %.20q: %v", bad, f.Err)
		}
	}
	markup := "[red]alice[-][:::https://evil.example]"
	joined := joinRoom(t, a, tea, markup, "")
	if joined.Self.Nick != markup {
		t.Fatalf("joined as %q", joined.Self.Nick)
	}
	rawOccupant(t, srv, "bob", "pc", tea, "bob") // keeps the room through our nick changes

	// Prosody refuses what no address may hold.
	for _, bad := range []string{"\u202eevil", "a\u0085next", strings.Repeat("n", 10000)} {
		r, err := xmpptest.LoginRaw(srv, "mallory", "pw", "probe")
		if err != nil {
			t.Fatal(err)
		}
		got, err := r.JoinRoom(tea, bad, "")
		r.Close()
		if err == nil || !strings.Contains(got, "jid-malformed") {
			t.Errorf("Prosody let an occupant in as %.20q: %v\n%.300s", bad, err, got)
		}
	}

	// Prosody applies stringprep strictly (Unicode 3.2, with its bidi
	// rule): a nick mixing right-to-left and left-to-right letters, or
	// with an emoji, is refused (jid-malformed), and gab says so.
	id := a.c.Do(chat.ChangeNick{Room: tea, Nick: "emoji 🎉 and עברית"})
	a.r.wait(t, "the nick change sent", is(func(e chat.CommandDone) bool { return e.ID == id }))
	a.r.wait(t, "the refusal of a mixed-direction nick", is(func(e chat.Notice) bool {
		return strings.Contains(e.Text, "jid-malformed")
	}))
	odd := []string{
		"[::b]bold[\"region\"][\"\"]",
		"café ✓ ∞",
		"עברית",
		strings.Repeat("é", 511) + "n", // 1,023 bytes: the longest a nick may be
	}
	for i, nick := range odd {
		m := rawOccupant(t, srv, "mallory", fmt.Sprintf("evil%d", i), tea, nick)
		mustSend(t, m, `<message type='groupchat' to='`+tea+`'><body>odd `+fmt.Sprint(i)+`</body></message>`)
		e := a.r.wait(t, "the odd nick's message", is(func(e chat.MessageReceived) bool { return e.Body == fmt.Sprint("odd ", i) })).(chat.MessageReceived)
		if e.Nick != nick {
			t.Errorf("message from %.30q came as from %.30q", nick, e.Nick)
		}
		mustSend(t, m, `<presence to='`+tea+`/`+nick+`' type='unavailable'/>`)
	}
	// Our own nick changes to each odd one and back to markup; our
	// messages are confirmed by their reflections all along.
	for i, nick := range append(odd[:3:3], markup) {
		a.do(t, chat.ChangeNick{Room: tea, Nick: nick})
		a.r.wait(t, "our odd nick", is(func(e chat.OccupantChanged) bool { return e.Self && !e.Left && e.Occupant.Nick == nick }))
		a.c.Do(chat.SendMessage{Conv: chat.RoomConv(tea), Body: fmt.Sprint("ours ", i)})
		sent := a.r.wait(t, "our message", is(func(e chat.MessageSent) bool { return e.Body == fmt.Sprint("ours ", i) })).(chat.MessageSent)
		a.r.wait(t, "its reflection", is(func(e chat.DeliveryChanged) bool { return e.ID == sent.ID && e.State == chat.DeliveryReceived }))
	}
	nicks := map[string]string{}
	for _, r := range roomRows(t, store, tea) {
		nicks[r.Body] = r.Nick + "/" + r.Direction
	}
	for i, nick := range odd {
		if got := nicks[fmt.Sprint("odd ", i)]; got != nick+"/"+history.In {
			t.Errorf("odd %d stored as from %.40q", i, got)
		}
	}
	for i := range 4 {
		if got := nicks[fmt.Sprint("ours ", i)]; !strings.HasSuffix(got, "/"+history.Out) {
			t.Errorf("ours %d stored as %.40q", i, got)
		}
	}
}
