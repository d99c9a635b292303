package xmpptest

import (
	"regexp"
	"strings"
	"testing"
)

// ejabberdMUC starts ejabberd and registers the users (password "pw");
// the test fails when ejabberd logged an error.
func ejabberdMUC(t *testing.T, users ...string) *Ejabberd {
	t.Helper()
	srv := StartEjabberd(t, EjabberdOptions{})
	for _, u := range users {
		srv.Register(t, u, "pw")
	}
	t.Cleanup(func() {
		for _, line := range strings.Split(srv.Log(), "\n") {
			if strings.Contains(line, "[error]") || strings.Contains(line, "[critical]") {
				t.Errorf("ejabberd logged an error: %s", line)
			}
		}
	})
	return srv
}

// The facts in ejabberd.go's header about rooms, checked on one server.
func TestEjabberdMUC(t *testing.T) {
	srv := ejabberdMUC(t, "alice", "bob", "carol")
	if srv.MUCService() != "conference.localhost" {
		t.Fatalf("service %q", srv.MUCService())
	}
	alice := srv.StartPeer(t, "alice", "pw")
	room := Room("tea")
	self := alice.Join(t, room, "Alice")
	if !HasCode(self, 110) || !HasCode(self, 201) || self.Get("affiliation") != "owner" || self.Get("role") != "moderator" || self.Get("occupant_id") != "" {
		t.Errorf("the creator's self-presence: %v", self)
	}

	// Each module made its tables as it loaded.
	for _, table := range []string{"muc_room", "archive_msg", "pubsub_node", "private_storage"} {
		if !regexp.MustCompile(`Creating Mnesia \S+ table '` + table + `'`).MatchString(srv.Log()) {
			t.Errorf("ejabberd's log does not show the table %s made", table)
		}
	}

	r := rawClient(t, srv, "bob")
	c0 := rawClient(t, srv, "carol")
	// What the service, a room and an account offer.
	for _, c := range []struct {
		to, id    string
		have, not []string
	}{
		{MUCService, "svc", []string{"http://jabber.org/protocol/muc", "urn:xmpp:mam:2"}, []string{"urn:xmpp:occupant-id:0"}},
		{room, "room", []string{"http://jabber.org/protocol/muc", "urn:xmpp:mam:2", "urn:xmpp:sid:0", "muc_semianonymous", "muc_temporary", "muc_open"},
			[]string{"urn:xmpp:occupant-id:0", "urn:xmpp:message-moderate:0"}},
		{"bob@localhost", "account", []string{"urn:xmpp:bookmarks-conversion:0", "http://jabber.org/protocol/pubsub#publish-options", "urn:xmpp:mam:2"},
			[]string{"urn:xmpp:bookmarks:1#compat"}},
	} {
		info, err := r.IQ(`<iq type='get' id='`+c.id+`' to='`+c.to+`'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, c.id)
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range c.have {
			if !strings.Contains(info, "<feature var='"+f+"'/>") {
				t.Errorf("disco#info of %s lacks %s:\n%s", c.to, f, info)
			}
		}
		for _, f := range c.not {
			if strings.Contains(info, "<feature var='"+f+"'/>") {
				t.Errorf("disco#info of %s has %s: the notes are out of date", c.to, f)
			}
		}
	}

	// Live messages: a stanza-id by the room, no occupant-id; the
	// reflection keeps the sender's id and origin-id.
	bodies := []string{"one", "two", "three"}
	var live []PeerEvent
	for _, b := range bodies {
		alice.Must(t, map[string]any{"cmd": "groupchat", "room": room, "body": b, "id": "id-" + b, "origin_id": "origin-" + b})
		e := alice.WaitFor(t, RoundTrip, "the reflection of "+b, groupchat(room, b))
		want(t, "message "+b, e, "stanza_id_by", room)
		want(t, "message "+b, e, "id", "id-"+b)
		want(t, "message "+b, e, "origin_id", "origin-"+b)
		want(t, "message "+b, e, "occupant_id", "")
		live = append(live, e)
	}

	// The archive, before joining: results' ids are the live stanza-ids,
	// and the archived copies carry them too; stamps have microseconds and
	// name the service, not the room.
	text, err := r.MAMQuery(room, "q1", "")
	if err != nil {
		t.Fatal(err)
	}
	if fin := elements(t, text, "urn:xmpp:mam:2", "fin"); len(fin) != 1 || fin[0]["complete"] != "true" {
		t.Errorf("no complete <fin/>:\n%s", text)
	}
	got := mamResults(t, text)
	if len(got) != len(bodies) {
		t.Fatalf("%d results, want %d:\n%s", len(got), len(bodies), text)
	}
	micro := regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$`)
	for i, res := range got {
		m := res.Forwarded.Message
		if res.ID != live[i].Get("stanza_id") || m.Body != bodies[i] || m.From != room+"/Alice" || m.OriginID.ID != "origin-"+bodies[i] {
			t.Errorf("result %d: %+v; live %v", i, res, live[i])
		}
		if len(m.StanzaID) != 1 || m.StanzaID[0].ID != res.ID || m.StanzaID[0].By != room || m.OccupantID.ID != "" {
			t.Errorf("result %d: archived copy's stanza-ids %v, occupant-id %q", i, m.StanzaID, m.OccupantID.ID)
		}
		if !micro.MatchString(res.Forwarded.Delay.Stamp) {
			t.Errorf("result %d: stamp %q, want microseconds", i, res.Forwarded.Delay.Stamp)
		}
	}
	if d := elements(t, text, "urn:xmpp:delay", "delay"); len(d) == 0 || d[0]["from"] != MUCService {
		t.Errorf("archive delays: %v", d)
	}

	// Joining: the room's bare JID first sends its caps, the others'
	// presence comes before ours, then the history (a delay from the room,
	// a stanza-id) and last an empty subject.
	join, err := r.JoinRoom(room, "Bob", "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(join, "<presence to='bob@localhost/raw' from='"+room+"' ") || !strings.Contains(join, "xmlns='http://jabber.org/protocol/caps'") ||
		strings.Index(join, "from='"+room+"/Alice'") > strings.Index(join, "code='110'") {
		t.Errorf("the join's answer:\n%s", join)
	}
	hist, err := r.ReadUntil("<subject/></message>")
	if err != nil {
		t.Fatal(err)
	}
	if n := strings.Count(hist, "<delay from='"+room+"'"); n != 3 || strings.Count(hist, "<stanza-id by='"+room+"'") != 3 {
		t.Errorf("the history on joining (%d delays from the room):\n%s", n, hist)
	}

	// A join asking for no history gets none: the subject comes at once.
	if _, err := c0.JoinRoom(room, "Carol", "<history maxstanzas='0'/>"); err != nil {
		t.Fatal(err)
	}
	if rest, err := c0.ReadUntil("<subject/></message>"); err != nil || strings.Contains(rest, "<body>") {
		t.Errorf("a join with maxstanzas 0: %v\n%s", err, rest)
	}

	// A private message through the room: type chat, with an empty
	// muc#user element, and a stanza-id of our own archive.
	alice.Must(t, map[string]any{"cmd": "muc_pm", "room": room, "nick": "Bob", "body": "just you"})
	pm, err := r.ReadUntil("</message>")
	if err != nil || !strings.Contains(pm, "from='"+room+"/Alice' type='chat'") || !strings.Contains(pm, "<x xmlns='http://jabber.org/protocol/muc#user'/>") ||
		!strings.Contains(pm, "<stanza-id by='bob@localhost'") {
		t.Errorf("the private message: %v\n%s", err, pm)
	}

	// Refusals.
	locked, club := Room("locked"), Room("club")
	alice.CreateRoom(t, locked, "Alice", RoomConfig{Password: "sesame"})
	alice.CreateRoom(t, club, "Alice", RoomConfig{MembersOnly: true})
	for _, c := range []struct{ room, nick, extra, cond string }{
		{locked, "Bob", "", "<error type='auth'><not-authorized "},
		{locked, "Bob", "<password>bad</password>", "<error type='auth'><not-authorized "},
		{club, "Bob", "", "<error type='auth'><registration-required "},
		{room, "Alice", "", "<error type='cancel'><conflict "},
	} {
		if _, err := r.JoinRoom(c.room, c.nick, c.extra); err == nil || !strings.Contains(err.Error(), c.cond) {
			t.Errorf("joining %s as %s with %q: %v, want %s", c.room, c.nick, c.extra, err, c.cond)
		}
	}
	if _, err := r.JoinRoom(locked, "Bob", "<password>sesame</password>"); err != nil {
		t.Errorf("the right password: %v", err)
	}

	// A new room is open at once: another joins before its owner has
	// configured it.
	fresh := Room("fresh")
	if self, err := r.JoinRoom(fresh, "Bob", ""); err != nil || !strings.Contains(self, "<status code='201'/>") {
		t.Fatalf("creating a room: %v\n%s", err, self)
	}
	if e := alice.Join(t, fresh, "Alice"); e.Get("role") != "participant" {
		t.Errorf("joining a room nobody configured: %v", e)
	}

	// Kick: the room's bare JID says unavailable first, then our own
	// presence with 110 and 307, the reason and the actor's nick.
	if _, err := r.ReadUntil("from='" + fresh + "/Alice'"); err != nil {
		t.Fatal(err)
	}
	alice.Must(t, map[string]any{"cmd": "kick", "room": room, "nick": "Bob", "reason": "out"})
	kick, err := r.ReadUntil("<status code='307'/></x></presence>")
	if err != nil || !strings.Contains(kick, "<presence to='bob@localhost/raw' from='"+room+"' type='unavailable'") ||
		!strings.Contains(kick, "<reason>out</reason><actor nick='Alice'/>") || !strings.Contains(kick, "<status code='110'/>") {
		t.Errorf("the kick: %v\n%s", err, kick)
	}

	// Bookmarks: XEP-0048 in private storage and the PEP node
	// storage:bookmarks (XEP-0411) are one list; there is no XEP-0402
	// mirror, and of XEP-0402's publish-options pubsub#max_items and
	// pubsub#send_last_published_item are refused.
	c := c0
	if _, err := c.IQ(`<iq type='set' id='p1'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'><conference jid='other@conference.localhost' name='Other' autojoin='false'><nick>A2</nick></conference></storage></query></iq>`, "p1"); err != nil {
		t.Fatal(err)
	}
	if got, err := c.IQ(`<iq type='get' id='p2'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='storage:bookmarks'/></pubsub></iq>`, "p2"); err != nil ||
		!strings.Contains(got, "<item id='current'><storage xmlns='storage:bookmarks'><conference jid='other@conference.localhost'") {
		t.Errorf("PEP storage:bookmarks after a private write: %v\n%s", err, got)
	}
	if _, err := c.IQ(`<iq type='set' id='p3'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='storage:bookmarks'><item id='current'><storage xmlns='storage:bookmarks'><conference jid='pep@conference.localhost' name='P' autojoin='true'><nick>Z</nick></conference></storage></item></publish></pubsub></iq>`, "p3"); err != nil {
		t.Fatal(err)
	}
	if got, err := c.IQ(`<iq type='get' id='p4'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`, "p4"); err != nil ||
		!strings.Contains(got, "jid='pep@conference.localhost'") || strings.Contains(got, "other@") {
		t.Errorf("private storage after a PEP publish: %v\n%s", err, got)
	}
	opts := `<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>` +
		`<field var='pubsub#persist_items'><value>true</value></field>MAX<field var='pubsub#access_model'><value>whitelist</value></field></x></publish-options>`
	pub := `<iq type='set' id='ID'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:bookmarks:1'><item id='lounge@conference.localhost'><conference xmlns='urn:xmpp:bookmarks:1' name='Lounge' autojoin='true'><nick>Al</nick></conference></item></publish>OPTS</pubsub></iq>`
	for i, f := range []string{"<field var='pubsub#max_items'><value>max</value></field>", "<field var='pubsub#send_last_published_item'><value>never</value></field>"} {
		id := "b1" + string(rune('a'+i))
		if _, err := c.IQ(strings.NewReplacer("ID", id, "OPTS", strings.Replace(opts, "MAX", f, 1)).Replace(pub), id); err == nil || !strings.Contains(err.Error(), "<resource-constraint ") {
			t.Errorf("a XEP-0402 publish with %s: %v, want resource-constraint", f, err)
		}
	}
	if _, err := c.IQ(strings.NewReplacer("ID", "b2", "OPTS", strings.Replace(opts, "MAX", "", 1)).Replace(pub), "b2"); err != nil {
		t.Errorf("a XEP-0402 publish without max_items: %v", err)
	}
	if got, err := c.IQ(`<iq type='get' id='p5'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`, "p5"); err != nil || strings.Contains(got, "lounge@") {
		t.Errorf("private storage after a XEP-0402 publish: %v\n%s", err, got)
	}
}
