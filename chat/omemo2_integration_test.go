package chat_test

import (
	"context"
	crand "crypto/rand"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/omemo"
	"github.com/gab-chat/gab/xmpp"
)

// peerDecrypted waits for the peer to decrypt body, in OMEMO version ns,
// and returns what it reported.
func peerDecrypted(t *testing.T, peer *xmpptest.Peer, ns, body string) xmpptest.PeerEvent {
	t.Helper()
	ev := peer.WaitFor(t, xmpptest.RoundTrip, "the peer to decrypt “"+body+"”", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "omemo_message" && (e.Get("body") == body || e.Get("error") != "")
	})
	if ev.Get("error") != "" || ev.Get("ns") != ns {
		t.Fatalf("the peer: %v (want %s)", ev, ns)
	}
	return ev
}

// gab reads OMEMO 2 from python-omemo (python3-twomemo): its key exchange
// builds a session, stored with the message, and is answered with an
// empty OMEMO 2 message; the body comes from the sealed envelope, never
// the fallback; gab answers in OMEMO 2 in an envelope that names both
// ends; after a restart the stored session reads the next message, which
// came while gab was away (from the archive), and encrypts the next one.
func TestOMEMO2MessagesDecrypted(t *testing.T) {
	srv, store, a, peer, peerID := omemoPairWith(t, "2")
	const alice, peerJID = "alice@localhost", "peer@localhost"
	own := a.r.wait(t, "our OMEMO 2 device published", is(func(e chat.OMEMODeviceListChanged) bool {
		return e.Own && e.Version == chat.OMEMO2 && len(e.Devices) == 1 && e.Devices[0].Label == "gab"
	})).(chat.OMEMODeviceListChanged)
	ours := own.Devices[0].ID
	omemoSendIn(t, peer, "2", alice, "hello, gab")
	first := a.r.wait(t, "“hello, gab”", is(func(m chat.MessageReceived) bool { return m.Bare == peerJID && m.Encrypted != nil })).(chat.MessageReceived)
	if first.Body != "hello, gab" || first.Note != "" || first.OMEMO == nil || first.OMEMO.Version != chat.OMEMO2 || first.OMEMO.Device != peerID || first.OMEMO.Trust != history.TrustTrusted {
		t.Fatalf("first message: %q, note %q, info %+v", first.Body, first.Note, first.OMEMO)
	}
	row, ok, err := store.Get(context.Background(), first.StoreID)
	if err != nil || !ok || row.Body != "hello, gab" || row.Encryption != history.OMEMO2 || row.Device != peerID {
		t.Fatalf("stored as %+v (%v)", row, err)
	}
	if _, ok, err := store.Session(context.Background(), history.SessionKey{JID: peerJID, Device: peerID, Version: history.OMEMO2}); !ok || err != nil {
		t.Fatalf("the OMEMO 2 session was not stored with the message (%v)", err)
	}
	// The key exchange is answered: an empty OMEMO 2 message.
	peer.WaitFor(t, xmpptest.RoundTrip, "gab's empty answer to the key exchange", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "omemo_message" && e.Get("ns") == chat.NSOMEMO2 && e.Get("empty") == "true" && e.Get("error") == ""
	})
	// The pre-key it used is gone from our OMEMO 2 bundle, published
	// again with 100.
	k := first.Encrypted.KeyFor(alice, ours)
	if k == nil || !k.PreKey {
		t.Fatalf("no key exchange for our device in %+v", first.Encrypted.Keys)
	}
	kex, err := omemo.ParseKeyExchange2(k.Data)
	if err != nil {
		t.Fatal(err)
	}
	a.do(t, chat.FetchOMEMOBundle{Version: chat.OMEMO2, DeviceID: ours})
	b := a.r.wait(t, "our OMEMO 2 bundle", is(func(e chat.OMEMOBundleFetched) bool { return e.DeviceID == ours && e.Version == chat.OMEMO2 })).(chat.OMEMOBundleFetched)
	if len(b.Bundle.PreKeys) != omemo.NumPreKeys || slices.ContainsFunc(b.Bundle.PreKeys, func(p chat.OMEMOPreKey) bool { return p.ID == kex.PreKeyID }) {
		t.Fatalf("published %d pre-keys, the used %d among them", len(b.Bundle.PreKeys), kex.PreKeyID)
	}
	// /omemo devices: the peer's device, spoken to in OMEMO 2, with the
	// fingerprint of its identity.
	a.do(t, chat.ShowOMEMO{JID: peerJID})
	r := a.r.wait(t, "the report", is(func(r chat.OMEMOReport) bool { return r.JID == peerJID })).(chat.OMEMOReport)
	if len(r.Devices) != 1 || r.Devices[0].ID != peerID || r.Devices[0].Version != chat.OMEMO2 || r.Devices[0].Fingerprint == "" || r.Devices[0].Trust != history.TrustTrusted {
		t.Fatalf("reported %+v", r.Devices)
	}

	a.do(t, chat.SendMessage{Conv: chat.ChatWith(peerJID), Body: "hello back", Encrypt: true})
	sent := a.r.wait(t, "“hello back” sent", is(func(m chat.MessageSent) bool { return m.Body == "hello back" })).(chat.MessageSent)
	if sent.OMEMO == nil || sent.OMEMO.Version != chat.OMEMO2 {
		t.Fatalf("sent as %+v", sent.OMEMO)
	}
	ev := peerDecrypted(t, peer, chat.NSOMEMO2, "hello back")
	if ev.Get("sce_from") != alice || ev.Get("sce_to") != peerJID || ev.Get("sce_time") == "" || ev.Get("rpad") == "" {
		t.Fatalf("gab's envelope: %v", ev)
	}
	if row, _, _ := store.Get(context.Background(), sent.StoreID); row.Encryption != history.OMEMO2 {
		t.Fatalf("stored as %+v", row)
	}

	// Away, then back: the message that came meanwhile is read from the
	// archive with the stored session.
	a.stop()
	omemoSendIn(t, peer, "2", alice, "while you were away")
	a = start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store, OMEMO: true})
	away := a.r.wait(t, "the archived message", is(func(m chat.MessageReceived) bool { return m.Bare == peerJID && m.Encrypted != nil })).(chat.MessageReceived)
	if away.Body != "while you were away" || away.OMEMO == nil || away.OMEMO.Version != chat.OMEMO2 {
		t.Fatalf("after the restart: %q %q %+v", away.Body, away.Note, away.OMEMO)
	}
	a.do(t, chat.SendMessage{Conv: chat.ChatWith(peerJID), Body: "after a restart", Encrypt: true})
	peerDecrypted(t, peer, chat.NSOMEMO2, "after a restart")
}

// gab starts the OMEMO 2 session: with a peer whose device publishes both
// versions under one id, OMEMO 2 is chosen; gab's key exchange reads in
// python-omemo, the peer's answer in gab; after a restart the stored
// session encrypts again.
func TestOMEMO2MessagesEncrypted(t *testing.T) {
	srv, store, a, peer, peerID := omemoPairWith(t, "0.3", "2")
	const alice, peerJID = "alice@localhost", "peer@localhost"
	a.r.wait(t, "the peer's OMEMO 2 list", devicesOf(peerJID, chat.OMEMO2, false, peerID))
	a.do(t, chat.SendMessage{Conv: chat.ChatWith(peerJID), Body: "hello, peer", Encrypt: true})
	peerDecrypted(t, peer, chat.NSOMEMO2, "hello, peer")
	if _, ok, _ := store.Session(context.Background(), history.SessionKey{JID: peerJID, Device: peerID, Version: history.OMEMO2}); !ok {
		t.Fatal("the OMEMO 2 session is not stored")
	}
	if _, ok, _ := store.Session(context.Background(), history.SessionKey{JID: peerJID, Device: peerID, Version: history.OMEMO03}); ok {
		t.Fatal("an OMEMO 0.3 session with a device that speaks OMEMO 2")
	}
	omemoSendIn(t, peer, "2", alice, "hello back")
	a.r.wait(t, "the answer, decrypted", is(func(m chat.MessageReceived) bool {
		return m.Bare == peerJID && m.Body == "hello back" && m.OMEMO != nil && m.OMEMO.Version == chat.OMEMO2
	}))
	a.stop()
	a = start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store, OMEMO: true})
	a.do(t, chat.SendMessage{Conv: chat.ChatWith(peerJID), Body: "after a restart", Encrypt: true})
	peerDecrypted(t, peer, chat.NSOMEMO2, "after a restart")
}

// An OMEMO 2 message whose sealed envelope names another sender, another
// recipient, or no sender, is refused with why, its body shown and stored
// nowhere (a server moving an encrypted element into another
// conversation); one naming both ends rightly, or leaving out <to/>,
// reads.
func TestOMEMO2EnvelopeChecked(t *testing.T) {
	_, store, a, peer, _ := omemoPairWith(t, "2")
	const alice, peerJID = "alice@localhost", "peer@localhost"
	a.r.wait(t, "our OMEMO 2 device published", is(func(e chat.OMEMODeviceListChanged) bool { return e.Own && e.Version == chat.OMEMO2 }))
	send := func(body string, env map[string]any) chat.MessageReceived {
		t.Helper()
		cmd := map[string]any{"cmd": "omemo2_send", "to": alice, "body": body}
		for k, v := range env {
			cmd[k] = v
		}
		from := len(a.r.snapshot())
		if ev, err := peer.Result(t, cmd); err != nil || ev.Get("sent") != "1" {
			t.Fatalf("the peer could not encrypt to us: %v %v", ev, err)
		}
		ev, _ := a.r.waitFrom(t, from, "the message", xmpptest.RoundTrip, is(func(m chat.MessageReceived) bool { return m.Bare == peerJID && m.Encrypted != nil }))
		return ev.(chat.MessageReceived)
	}
	for _, c := range []struct {
		env  map[string]any
		want string
	}{
		{map[string]any{"env_from": "mallory@localhost"}, "from mallory@localhost, not peer@localhost"},
		{map[string]any{"env_to": "room@conference.localhost"}, "for room@conference.localhost, not alice@localhost"},
		{map[string]any{"env_from": ""}, "does not say who sent it"},
	} {
		m := send("moved here", c.env)
		if m.Body != "" || m.OMEMO != nil || !strings.Contains(m.Note, "refused") || !strings.Contains(m.Note, c.want) {
			t.Fatalf("%v: shown as %q, note %q, info %+v", c.env, m.Body, m.Note, m.OMEMO)
		}
		row, ok, err := store.Get(context.Background(), m.StoreID)
		if err != nil || !ok || strings.Contains(row.Body, "moved") {
			t.Fatalf("stored as %+v (%v)", row, err)
		}
	}
	if m := send("no to, fine", map[string]any{"env_to": ""}); m.Body != "no to, fine" || m.Note != "" {
		t.Fatalf("without <to/>: %q %q", m.Body, m.Note)
	}
	if m := send("all right", nil); m.Body != "all right" || m.OMEMO == nil {
		t.Fatalf("a right envelope: %q %q", m.Body, m.Note)
	}
}

// A message from another device of ours in OMEMO 2 (a carbon) reads: its
// envelope names us as sender and the contact as recipient.
func TestOMEMO2CarbonFromOurOtherDevice(t *testing.T) {
	srv, _, a, peer, _ := omemoPairWith(t, "2")
	const alice, peerJID = "alice@localhost", "peer@localhost"
	other := start(t, account(t, srv, "alice", "pw", "other"), chat.Options{Store: openStore(t), OMEMO: true})
	other.r.wait(t, "the other device published", is(func(e chat.OMEMODeviceListChanged) bool {
		return e.Own && e.Version == chat.OMEMO2 && len(e.Devices) == 2
	}))
	a.r.wait(t, "our other device listed", is(func(e chat.OMEMODeviceListChanged) bool {
		return e.JID == alice && e.Version == chat.OMEMO2 && len(e.Devices) == 2
	}))
	other.do(t, chat.SendMessage{Conv: chat.ChatWith(peerJID), Body: "from my other device", Encrypt: true})
	peerDecrypted(t, peer, chat.NSOMEMO2, "from my other device")
	c := a.r.wait(t, "the carbon", is(func(e chat.CarbonSent) bool { return e.Encrypted != nil })).(chat.CarbonSent)
	if c.Body != "from my other device" || c.OMEMO == nil || c.OMEMO.Version != chat.OMEMO2 {
		t.Fatalf("the carbon: %q %+v", c.Body, c.OMEMO)
	}
}

// A contact with a device that speaks OMEMO 2 only and one that speaks
// 0.3 only gets one stanza carrying both elements: each device reads the
// one in its version.
func TestOMEMOMixedContact(t *testing.T) {
	srv, store, a, p2, id2 := omemoPairWith(t, "2")
	const peerJID = "peer@localhost"
	p03 := srv.StartPeer(t, "peer", "pw")
	id03 := p03.EnableOMEMO(t, "0.3")
	a.r.wait(t, "the OMEMO 2 list", devicesOf(peerJID, chat.OMEMO2, false, id2))
	a.r.wait(t, "the OMEMO 0.3 list", devicesOf(peerJID, chat.OMEMO03, false, id03))
	a.do(t, chat.SendMessage{Conv: chat.ChatWith(peerJID), Body: "to both", Encrypt: true})
	sent := a.r.wait(t, "“to both” sent", is(func(m chat.MessageSent) bool { return m.Body == "to both" })).(chat.MessageSent)
	peerDecrypted(t, p2, chat.NSOMEMO2, "to both")
	peerDecrypted(t, p03, chat.NSOMEMO03, "to both")
	if sent.OMEMO == nil || sent.OMEMO.Version != chat.OMEMO2 {
		t.Fatalf("sent as %+v", sent.OMEMO)
	}
	for _, k := range []history.SessionKey{{JID: peerJID, Device: id2, Version: history.OMEMO2}, {JID: peerJID, Device: id03, Version: history.OMEMO03}} {
		if _, ok, err := store.Session(context.Background(), k); !ok || err != nil {
			t.Fatalf("no session %+v stored (%v)", k, err)
		}
	}
}

// A replayed OMEMO 2 message (the peer's first, its key exchange, sent
// again with a new id by whoever can send as the peer) is refused and
// noted, without a new session with the peer's device: the session is
// sound, and still reads the peer.
func TestOMEMO2ReplayDoesNotRepair(t *testing.T) {
	srv, store, a, peer, peerID := omemoPairWith(t, "2")
	const alice, peerJID = "alice@localhost", "peer@localhost"
	a.r.wait(t, "our OMEMO 2 device published", is(func(e chat.OMEMODeviceListChanged) bool { return e.Own && e.Version == chat.OMEMO2 }))
	omemoSendIn(t, peer, "2", alice, "one")
	first := a.r.wait(t, "“one”", is(func(m chat.MessageReceived) bool { return m.Body == "one" && m.OMEMO != nil })).(chat.MessageReceived)
	peer.WaitFor(t, xmpptest.RoundTrip, "gab's empty answer to the key exchange", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "omemo_message" && e.Get("empty") == "true"
	})
	k := history.SessionKey{JID: peerJID, Device: peerID, Version: history.OMEMO2}
	before, ok, err := store.Session(context.Background(), k)
	if err != nil || !ok {
		t.Fatalf("no session with the peer's device: %v", err)
	}
	evil := xmpptest.DialRaw(t, srv, "peer", "pw", "evil")
	el, err := chat.OMEMOMessage(alice, "replayed", first.Encrypted)
	if err != nil {
		t.Fatal(err)
	}
	if err := evil.Send(el.String()); err != nil {
		t.Fatal(err)
	}
	replay := a.r.wait(t, "the replay", is(func(m chat.MessageReceived) bool { return m.ID == "replayed" })).(chat.MessageReceived)
	if replay.Body != "" || replay.OMEMO != nil || !strings.Contains(replay.Note, "replayed") {
		t.Fatalf("a replay shown as %q, note %q", replay.Body, replay.Note)
	}
	// Commands run in order: a repair queued by the replay is done by the
	// time this one is.
	a.do(t, chat.ShowOMEMO{JID: peerJID})
	after, _, err := store.Session(context.Background(), k)
	if err != nil || string(after) != string(before) {
		t.Fatalf("the replay made gab start a new session with the peer's device (%v)", err)
	}
	omemoSendIn(t, peer, "2", alice, "two")
	a.r.wait(t, "“two”", is(func(m chat.MessageReceived) bool { return m.Body == "two" && m.OMEMO != nil }))
}

// forged2 is an OMEMO 2 key exchange to our device (read from store) from
// a device of the attacker's making, claiming to be device sid of from.
func forged2(t *testing.T, store *history.Store, sid uint32, from, to, body string) *chat.OMEMOEncrypted {
	t.Helper()
	saved, ok, err := store.OwnDevice(context.Background())
	if err != nil || !ok {
		t.Fatalf("our device is not in the store: %v", err)
	}
	ours, err := omemo.UnmarshalDevice(saved.State)
	if err != nil {
		t.Fatal(err)
	}
	pub := ours.PublishBundle2()
	b, err := pub.Choose(crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	evil, err := omemo.NewDevice(crand.Reader, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	env := "<envelope xmlns='urn:xmpp:sce:1'><content><body xmlns='jabber:client'>" + body + "</body></content><rpad/>" +
		"<to jid='" + to + "'/><from jid='" + from + "'/></envelope>"
	out, err := omemo.EncryptMessage2(crand.Reader, evil, []byte(env), []omemo.Recipient2{{DeviceID: ours.ID(), Bundle: b}})
	if err != nil || len(out.Keys) != 1 {
		t.Fatalf("could not forge: %v", err)
	}
	k := out.Keys[0]
	return &chat.OMEMOEncrypted{Version: chat.OMEMO2, SID: sid, Payload: out.Payload,
		Keys: []chat.OMEMOKey{{RID: k.RID, JID: to, PreKey: k.Kex, Data: k.Data}}}
}

// One device id is one device, whatever version it speaks: a key
// exchange in one version naming a device gab knows from the other, made
// with another identity key, is refused; the device's session goes on.
func TestOMEMOIdentityOfKnownDeviceRefused(t *testing.T) {
	t.Run("known in 0.3, forged in OMEMO 2", func(t *testing.T) { identityAcrossVersions(t, "0.3") })
	t.Run("known in OMEMO 2, forged in 0.3", func(t *testing.T) { identityAcrossVersions(t, "2") })
}

func identityAcrossVersions(t *testing.T, known string) {
	srv, store, a, peer, peerID := omemoPairWith(t, known)
	const alice, peerJID = "alice@localhost", "peer@localhost"
	a.r.wait(t, "our OMEMO 2 device published", is(func(e chat.OMEMODeviceListChanged) bool { return e.Own && e.Version == chat.OMEMO2 }))
	omemoSendIn(t, peer, known, alice, "one")
	a.r.wait(t, "“one”", is(func(m chat.MessageReceived) bool { return m.Body == "one" && m.OMEMO != nil }))
	forgedIn, other := forged2(t, store, peerID, peerJID, alice, "send your secrets to me"), history.OMEMO2
	if known == "2" {
		forgedIn, other = forged03(t, store, peerID, "send your secrets to me"), history.OMEMO03
	}
	evil := xmpptest.DialRaw(t, srv, "peer", "pw", "evil")
	el, err := chat.OMEMOMessage(alice, "forged", forgedIn)
	if err != nil {
		t.Fatal(err)
	}
	if err := evil.Send(el.String()); err != nil {
		t.Fatal(err)
	}
	forged := a.r.wait(t, "the forged message", is(func(m chat.MessageReceived) bool { return m.ID == "forged" })).(chat.MessageReceived)
	if forged.Body != "" || forged.OMEMO != nil || !strings.Contains(forged.Note, "identity key") {
		t.Fatalf("a message from device %d with another identity key shown as %q (%+v), note %q", peerID, forged.Body, forged.OMEMO, forged.Note)
	}
	if _, ok, _ := store.Session(context.Background(), history.SessionKey{JID: peerJID, Device: peerID, Version: other}); ok {
		t.Fatal("the forged key exchange left a session")
	}
	omemoSendIn(t, peer, known, alice, "two")
	a.r.wait(t, "“two”, still read", is(func(m chat.MessageReceived) bool { return m.Body == "two" && m.OMEMO != nil }))
}

// A contact who publishes no OMEMO 2 list (python-omemo with 0.3 only)
// gets 0.3, and the empty OMEMO 2 list is asked for once, not at every
// message: a notification would bring one published later.
func TestOMEMO2EmptyListAskedOnce(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	for _, u := range []string{"alice", "peer"} {
		srv.Register(t, u, "pw")
	}
	befriend(t, srv, "alice", "peer")
	var log syncBuffer
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: openStore(t), OMEMO: true, XMLLog: xmpp.NewTap(&log, "alice")})
	a.r.wait(t, "our own device published", is(func(e chat.OMEMODeviceListChanged) bool { return e.Own && e.Version == chat.OMEMO2 }))
	peer := srv.StartPeer(t, "peer", "pw")
	peer.EnableOMEMO(t, "0.3")
	asked := func() int {
		n := 0
		for _, l := range log.lines("SEND") {
			if strings.Contains(l, `<items node="urn:xmpp:omemo:2:devices"`) && strings.Contains(l, `to="peer@localhost"`) {
				n++
			}
		}
		return n
	}
	for _, body := range []string{"one", "two", "three"} {
		a.do(t, chat.SendMessage{Conv: chat.ChatWith("peer@localhost"), Body: body, Encrypt: true})
		peerDecrypted(t, peer, chat.NSOMEMO03, body)
	}
	if n := asked(); n != 1 {
		t.Fatalf("the peer's OMEMO 2 list was asked for %d times over three messages, want 1", n)
	}
}
