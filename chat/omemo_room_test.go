package chat

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/omemo"
	"github.com/gab-chat/gab/room"
	"mellium.im/xmpp/jid"
)

// roomWithSessions is a store where alice's device has a session with
// one device of each of n members (m1@localhost…), their lists and
// alice's own (this device alone) stored, and a client on it. The
// members' devices are returned by JID.
func roomWithSessions(tb testing.TB, n int, opts Options) (*Client, *history.Store, []string, map[string]*omemo.Device) {
	tb.Helper()
	ctx := context.Background()
	store, err := history.Open(filepath.Join(tb.TempDir(), "h.db"))
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { store.Close() })
	opts.Store, opts.OMEMO = store, true
	c := New(&config.Account{JID: jid.MustParse("alice@localhost/gab")}, opts)
	c.omemo.mu.Lock()
	dev, err := c.omemoDevice(ctx)
	c.omemo.mu.Unlock()
	if err != nil {
		tb.Fatal(err)
	}
	if _, err := store.SaveDeviceList(ctx, "alice@localhost", history.OMEMO03, []history.ListedDevice{{ID: dev.ID()}}, time.Now()); err != nil {
		tb.Fatal(err)
	}
	c.listRead("alice@localhost", history.OMEMO2, true) // nobody here speaks OMEMO 2
	members := make([]string, n)
	devs := map[string]*omemo.Device{}
	var sessions []history.Session
	for i := range members {
		m := fmt.Sprintf("m%d@localhost", i+1)
		members[i] = m
		d, err := omemo.NewDevice(crand.Reader, time.Now())
		if err != nil {
			tb.Fatal(err)
		}
		devs[m] = d
		if _, err := store.SaveDeviceList(ctx, m, history.OMEMO03, []history.ListedDevice{{ID: d.ID()}}, time.Now()); err != nil {
			tb.Fatal(err)
		}
		// Its OMEMO 2 list read empty on entering the room: not asked
		// for again while it has a 0.3 device.
		c.listRead(m, history.OMEMO2, true)
		pub := d.PublishBundle03()
		b, err := pub.Choose(crand.Reader)
		if err != nil {
			tb.Fatal(err)
		}
		out, err := omemo.EncryptMessage03(crand.Reader, dev, []byte("hello"), []omemo.Recipient03{{DeviceID: d.ID(), Bundle: b}})
		if err != nil {
			tb.Fatal(err)
		}
		sessions = append(sessions, history.Session{SessionKey: history.SessionKey{JID: m, Device: d.ID(), Version: history.OMEMO03}, State: out.Sessions[0].Marshal()})
	}
	if err := store.Commit(history.Batch{Sessions: sessions}); err != nil {
		tb.Fatal(err)
	}
	return c, store, members, devs
}

// A message to a room goes to one device of each member, in one
// encryption, and each member's device reads it; when one member has no
// device that may be encrypted to (trust is manual, and nobody decided
// on it), nothing is encrypted — the sessions stay as they were — and
// the refusal names that member, and no other.
func TestOMEMOEncryptForMembers(t *testing.T) {
	c, _, members, devs := roomWithSessions(t, 3, Options{})
	ctx := context.Background()
	enc, sessions, err := c.omemoEncryptFor(ctx, nil, "room@muc.x", members, "to all")
	if err != nil {
		t.Fatal(err)
	}
	if len(enc.Keys) != 3 || len(sessions) != 3 {
		t.Fatalf("%d keys, %d sessions", len(enc.Keys), len(sessions))
	}
	for _, m := range members {
		if enc.KeyFor(m, devs[m].ID()) == nil {
			t.Fatalf("no key for %s", m)
		}
	}

	// Manual trust: a fourth member's device, never decided on.
	c2, store2, members2, _ := roomWithSessions(t, 4, Options{OMEMOManualTrust: true})
	for _, m := range members2[:3] {
		// The first three verified, as the user would.
		devsOf, err := store2.Devices(ctx, m, history.OMEMO03)
		if err != nil || len(devsOf) != 1 {
			t.Fatal(err)
		}
		sess, ok, err := store2.Session(ctx, history.SessionKey{JID: m, Device: devsOf[0].ID, Version: history.OMEMO03})
		if err != nil || !ok {
			t.Fatal(err)
		}
		s03, err := omemo.UnmarshalSession03(sess)
		if err != nil {
			t.Fatal(err)
		}
		id := s03.PeerIdentity()
		if _, err := store2.SetIdentity(ctx, m, history.OMEMO03, devsOf[0].ID, id[:], time.Now()); err != nil {
			t.Fatal(err)
		}
		if err := store2.SetTrust(ctx, m, id[:], history.TrustVerified, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	_, _, err = c2.omemoEncryptFor(ctx, nil, "room@muc.x", members2, "to all")
	if err == nil || !strings.Contains(err.Error(), members2[3]+" (device") || !strings.Contains(err.Error(), "not trusted") {
		t.Fatalf("refused as %v", err)
	}
	// Said in words a user reads once: one member, what to do, no
	// parentheses inside parentheses.
	if !strings.Contains(err.Error(), "1 member of the room has no device") || strings.Contains(err.Error(), "))") ||
		!strings.Contains(err.Error(), "/omemo trust "+members2[3]+" FINGERPRINT") {
		t.Fatalf("refused as %v", err)
	}
	for _, m := range members2[:3] {
		if strings.Contains(err.Error(), m+" ") {
			t.Fatalf("a member with a trusted device named: %v", err)
		}
	}
	c2.omemo.mu.Lock()
	held := len(c2.omemo.sessions)
	c2.omemo.mu.Unlock()
	if held != 0 {
		t.Fatalf("a refused message advanced %d sessions", held)
	}
}

// The members of a room are the occupants' real JIDs and the room's
// affiliated members, ours left out; an occupant who leaves and has no
// affiliation is no member; a nick or occupant-id maps to the real JID.
func TestRoomOMEMOMembersFollowPresence(t *testing.T) {
	c := New(&config.Account{JID: jid.MustParse("alice@localhost/gab")}, Options{OMEMO: true})
	const r = "secret@conference.localhost"
	c.state.Lock()
	c.rooms[r] = &mucRoom{nick: "alice", state: mucJoined}
	c.rooms[r].omemo.setInfo(roomInfo{nonAnonymous: true, membersOnly: true})
	c.state.Unlock()
	occ := func(nick, real, oid string, aff room.Affiliation, left bool) OccupantChanged {
		return OccupantChanged{Room: r, Left: left, Occupant: room.Occupant{Nick: nick, RealJID: real, OccupantID: oid, Affiliation: aff}}
	}
	c.omemoOccupant(occ("ada", "ada@localhost/x", "o-ada", room.Owner, false))
	c.omemoOccupant(occ("guest", "guest@localhost/y", "o-guest", room.AffiliationNone, false))
	c.omemoOccupant(occ("me", "alice@localhost/other", "o-me", room.Member, false))
	members := func() []string {
		c.state.Lock()
		defer c.state.Unlock()
		return c.rooms[r].omemo.members("alice@localhost")
	}
	if got := members(); !slices.Equal(got, []string{"ada@localhost", "guest@localhost"}) {
		t.Fatalf("members %v", got)
	}
	if got := c.roomSender(MessageReceived{Conv: RoomConv(r), Nick: "ada"}); got != "ada@localhost" {
		t.Fatalf("ada by nick: %q", got)
	}
	if got := c.roomSender(MessageReceived{Conv: RoomConv(r), Nick: "other", OccupantID: "o-guest"}); got != "guest@localhost" {
		t.Fatalf("by occupant-id: %q", got)
	}
	c.omemoOccupant(occ("guest", "guest@localhost/y", "o-guest", room.AffiliationNone, true))
	c.omemoOccupant(occ("ada", "ada@localhost/x", "o-ada", room.Owner, true))
	if got := members(); !slices.Equal(got, []string{"ada@localhost"}) {
		t.Fatalf("after leaving: %v", got)
	}
	// The archive's copy of a message from one who left still maps by
	// occupant-id; a delayed one by nick alone does not.
	if got := c.roomSender(MessageReceived{Conv: RoomConv(r), OccupantID: "o-guest", Delayed: true}); got != "guest@localhost" {
		t.Fatalf("a left occupant by occupant-id: %q", got)
	}
	if got := c.roomSender(MessageReceived{Conv: RoomConv(r), Nick: "ada", Delayed: true}); got != "" {
		t.Fatalf("a delayed message by nick alone mapped to %q", got)
	}
	// Made a non-member while in the room: gone from the members.
	c.omemoOccupant(occ("ada", "ada@localhost/x", "o-ada", room.Owner, false))
	c.omemoOccupant(occ("ada", "ada@localhost/x", "o-ada", room.AffiliationNone, false))
	c.omemoOccupant(occ("ada", "ada@localhost/x", "o-ada", room.AffiliationNone, true))
	if got := members(); len(got) != 0 {
		t.Fatalf("after ada lost her affiliation and left: %v", got)
	}
}

// Which rooms can be encrypted, and the reason for those that cannot.
func TestRoomOMEMOQualifies(t *testing.T) {
	for _, tc := range []struct {
		nonAnon, members bool
		why              string
	}{
		{true, true, ""},
		{true, false, "not members-only"},
		{false, true, "not non-anonymous"},
		{false, false, "neither non-anonymous nor members-only"},
	} {
		var o roomOMEMO
		o.setInfo(roomInfo{nonAnonymous: tc.nonAnon, membersOnly: tc.members})
		ok, why := o.qualifies()
		if ok != (tc.why == "") || !strings.Contains(why, tc.why) {
			t.Errorf("non-anonymous %v, members-only %v: %v %q", tc.nonAnon, tc.members, ok, why)
		}
	}
}

// BenchmarkRoomEncrypt100Devices is one message to a room of 100
// members with one device each, sessions established: held in memory
// (every message but the first of a run), and cold (the first after a
// start: 100 sessions, device lists and trusts read from the store).
func BenchmarkRoomEncrypt100Devices(b *testing.B) {
	ctx := context.Background()
	b.Run("held", func(b *testing.B) {
		c, _, members, _ := roomWithSessions(b, 100, Options{})
		if _, _, err := c.omemoEncryptFor(ctx, nil, "room@muc.x", members, "warm up"); err != nil {
			b.Fatal(err)
		}
		for b.Loop() {
			enc, _, err := c.omemoEncryptFor(ctx, nil, "room@muc.x", members, "a message of some forty bytes, or so")
			if err != nil || len(enc.Keys) != 100 {
				b.Fatal(err)
			}
		}
	})
	b.Run("cold", func(b *testing.B) {
		c, store, members, _ := roomWithSessions(b, 100, Options{})
		if _, _, err := c.omemoEncryptFor(ctx, nil, "room@muc.x", members, "decides trust"); err != nil {
			b.Fatal(err)
		}
		acct := &config.Account{JID: jid.MustParse("alice@localhost/gab")}
		for b.Loop() {
			b.StopTimer()
			fresh := New(acct, Options{Store: store, OMEMO: true})
			for _, m := range append(members, "alice@localhost") {
				fresh.listRead(m, history.OMEMO2, true) // read on entering the room
			}
			b.StartTimer()
			enc, _, err := fresh.omemoEncryptFor(ctx, nil, "room@muc.x", members, "a message of some forty bytes, or so")
			if err != nil || len(enc.Keys) != 100 {
				b.Fatal(err)
			}
		}
	})
}

// What a room says is read for OMEMO and nothing else: an encrypted copy
// from the room's archive carries the real JID the archive adds (never
// the fallback body); a note of an absent user's affiliation, or of a new
// configuration, comes from the room itself, not from an occupant; an
// encrypted message from an occupant whose real JID the room does not
// show is noted as unreadable, without its fallback.
func TestRoomOMEMOTranslation(t *testing.T) {
	const r = "secret@conference.localhost"
	res := el(t, `<result xmlns='urn:xmpp:mam:2' queryid='q1' id='a1'><forwarded xmlns='urn:xmpp:forward:0'>`+
		`<delay xmlns='urn:xmpp:delay' stamp='2026-11-30T08:00:00Z'/>`+
		`<message xmlns='jabber:client' type='groupchat' from='`+r+`/ada' id='m1'>`+
		`<x xmlns='http://jabber.org/protocol/muc#user'><item jid='ada@localhost/phone'/></x>`+
		`<encrypted xmlns='eu.siacs.conversations.axolotl'><header sid='7'><key rid='9'>AAAA</key><iv>AAAAAAAAAAAAAAAA</iv></header><payload>AAAA</payload></encrypted>`+
		`<body>`+OMEMOFallbackBody+`</body></message></forwarded></result>`)
	evs := translateRoomArchived(Self{}, el(t, `<message xmlns='jabber:client' from='`+r+`'/>`), res, r)
	if len(evs) != 1 {
		t.Fatalf("%d events", len(evs))
	}
	a := evs[0].(MessageArchived)
	if a.Encrypted == nil || a.Body != "" || a.RealJID != "ada@localhost" || a.Nick != "ada" {
		t.Fatalf("archived as %+v", a)
	}

	room0 := jid.MustParse(r)
	note := el(t, `<message xmlns='jabber:client' from='`+r+`'><x xmlns='http://jabber.org/protocol/muc#user'><item affiliation='none' jid='bob@localhost'/></x></message>`)
	if ev, ok := translateAffiliationNote(note, room0); !ok || ev != (roomAffiliation{Room: r, JID: "bob@localhost", Affiliation: room.AffiliationNone}) {
		t.Fatalf("the room's note read as %+v %v", ev, ok)
	}
	if _, ok := translateAffiliationNote(note, jid.MustParse(r+"/mallory")); ok {
		t.Fatal("an occupant's message taken for the room's note")
	}
	conf := el(t, `<message xmlns='jabber:client' type='groupchat' from='`+r+`'><x xmlns='http://jabber.org/protocol/muc#user'><status code='104'/></x></message>`)
	if ev, ok := translateAffiliationNote(conf, room0); !ok || ev != (roomReconfigured{Room: r}) {
		t.Fatalf("the configuration note read as %+v %v", ev, ok)
	}

	c := New(&config.Account{JID: jid.MustParse("alice@localhost/gab")}, Options{OMEMO: true})
	c.state.Lock()
	c.rooms[r] = &mucRoom{nick: "alice", state: mucJoined}
	c.state.Unlock()
	enc, err := ParseOMEMOEncrypted(res.Child(NSForward, "forwarded").Child("jabber:client", "message").Child(NSOMEMO03, "encrypted"))
	if err != nil {
		t.Fatal(err)
	}
	got := c.omemoIncoming(context.Background(), MessageReceived{Conv: RoomConv(r), Bare: r, Nick: "ghost", Encrypted: enc, Note: OMEMOUnreadNote})
	m := got.(MessageReceived)
	if m.Body != "" || m.OMEMO != nil || !strings.Contains(m.Note, "does not show") {
		t.Fatalf("from an unknown occupant: %q, note %q", m.Body, m.Note)
	}
}

// An encrypted message to a room goes as groupchat with the encrypted
// element, its origin-id (how its reflection is known) and the fallback,
// never its text, and without the receipt and marker requests of chats;
// what the outbox keeps of it (after a restart) makes the same stanza.
func TestRoomEncryptedStanza(t *testing.T) {
	const r = "secret@conference.localhost"
	enc := &OMEMOEncrypted{Version: OMEMO03, SID: 5, IV: make([]byte, 12), Payload: []byte("ciphertext"), Keys: []OMEMOKey{{RID: 7, Data: []byte("key")}}}
	conv := RoomConv(r)
	to, typ, err := conv.address()
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []*OMEMOEncrypted{enc, mustDecodeWire(t, encodeWire(enc))} {
		m := &outgoing{id: "o1", conv: conv, to: to, typ: typ, body: "the secret text", enc: e}
		el := m.stanza()
		s := el.String()
		if el.Get("type") != "groupchat" || el.Get("to") != r || el.Child(NSOMEMO03, "encrypted") == nil || el.Child(NSSID, "origin-id").Get("id") != "o1" {
			t.Fatalf("stanza %s", s)
		}
		if strings.Contains(s, "the secret text") || el.Child(NSReceipts, "request") != nil || el.Child(NSMarkers, "markable") != nil {
			t.Fatalf("stanza %s", s)
		}
		if el.ChildText("jabber:client", "body") != OMEMOFallbackBody {
			t.Fatalf("body %q", el.ChildText("jabber:client", "body"))
		}
	}
}

func mustDecodeWire(t *testing.T, s string) *OMEMOEncrypted {
	t.Helper()
	e, err := decodeWire(s)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

// Reading a room's members, queued by the client itself, is dropped
// without a word when the connection is lost before it runs (nobody asked
// for it, and the next join reads them again); what the user asked fails
// with its reason.
func TestRoomMembersNotFailedOffline(t *testing.T) {
	c := New(&config.Account{JID: jid.MustParse("alice@localhost/gab")}, Options{OMEMO: true, EventBuffer: 8})
	c.Do(omemoRoomMembers{Room: "secret@conference.localhost"})
	asked := c.Do(ShowRoomOMEMO{Room: "secret@conference.localhost"})
	c.failQueued(context.Background(), fmt.Errorf("not connected"))
	var got []Event
	for len(c.events) > 0 {
		got = append(got, <-c.events)
	}
	if len(got) != 1 {
		t.Fatalf("events %#v", got)
	}
	if f, ok := got[0].(CommandFailed); !ok || f.ID != asked {
		t.Fatalf("events %#v", got)
	}
}

// A device the user distrusted is said to be so when a message cannot be
// encrypted for it, not as a device waiting to be compared and trusted.
func TestUntrustedReason(t *testing.T) {
	if r := untrustedReason(history.TrustDistrusted, "device 7", "bob@x"); !strings.Contains(r, "device 7 is distrusted") || strings.Contains(r, "not trusted yet") {
		t.Fatalf("distrusted: %q", r)
	}
	if r := untrustedReason(history.TrustUndecided, "device 7", "bob@x"); !strings.Contains(r, "device 7 is not trusted yet") || !strings.Contains(r, "/omemo devices bob@x") {
		t.Fatalf("undecided: %q", r)
	}
}
