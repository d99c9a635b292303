package chat_test

import (
	"context"
	crand "crypto/rand"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/omemo"
)

// forged03 is a pre-key message to our device (dev, read from store) from
// a device of the attacker's making, claiming to be device sid.
func forged03(t *testing.T, store *history.Store, sid uint32, body string) *chat.OMEMOEncrypted {
	t.Helper()
	saved, ok, err := store.OwnDevice(context.Background())
	if err != nil || !ok {
		t.Fatalf("our device is not in the store: %v", err)
	}
	ours, err := omemo.UnmarshalDevice(saved.State)
	if err != nil {
		t.Fatal(err)
	}
	pub := ours.PublishBundle03()
	b, err := pub.Choose(crand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	evil, err := omemo.NewDevice(crand.Reader, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	out, err := omemo.EncryptMessage03(crand.Reader, evil, []byte(body), []omemo.Recipient03{{DeviceID: ours.ID(), Bundle: b}})
	if err != nil || len(out.Keys) != 1 {
		t.Fatalf("could not forge: %v", err)
	}
	k := out.Keys[0]
	return &chat.OMEMOEncrypted{Version: chat.OMEMO03, SID: sid, IV: out.IV[:], Payload: out.Payload,
		Keys: []chat.OMEMOKey{{RID: k.RID, PreKey: k.PreKey, Data: k.Data}}}
}

// A pre-key message naming a device of the contact whose identity key
// gab knows, made with another identity key (by whoever can send as the
// contact: a hostile server, a stolen password), is refused: it does not
// replace the session with the real device (whose next message still
// decrypts), and the new key is not trusted blindly, so what the user
// sends next does not go to it.
func TestOMEMO03IdentityChangeRefused(t *testing.T) {
	srv, store, a, peer, peerID := omemoPair(t)
	const alice, peerJID = "alice@localhost", "peer@localhost"
	peerSays := func(body string) { t.Helper(); omemoSend(t, peer, alice, body) }
	peerSays("one")
	a.r.wait(t, "“one”", is(func(m chat.MessageReceived) bool { return m.Body == "one" && m.OMEMO != nil }))
	peer.WaitFor(t, xmpptest.RoundTrip, "gab's empty answer to the pre-key message", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "omemo_message" && e.Get("empty") == "true"
	})
	k := history.SessionKey{JID: peerJID, Device: peerID, Version: history.OMEMO03}
	before, ok, err := store.Session(context.Background(), k)
	if err != nil || !ok {
		t.Fatalf("no session with the peer's device: %v", err)
	}

	evil := xmpptest.DialRaw(t, srv, "peer", "pw", "evil")
	el, err := chat.OMEMOMessage(alice, "forged", forged03(t, store, peerID, "send your secrets to me"))
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
	after, _, err := store.Session(context.Background(), k)
	if err != nil || string(after) != string(before) {
		t.Fatalf("the session with the real device was replaced (%v)", err)
	}
	peerSays("two")
	a.r.wait(t, "“two”, still read", is(func(m chat.MessageReceived) bool { return m.Bare == peerJID && m.Body == "two" && m.OMEMO != nil }))
	a.do(t, chat.SendMessage{Conv: chat.ChatWith(peerJID), Body: "for the peer", Encrypt: true})
	peer.WaitFor(t, xmpptest.RoundTrip, "the peer to decrypt “for the peer”", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "omemo_message" && e.Get("body") == "for the peer" && e.Get("error") == ""
	})
}

// Blind trust is trust before verification: once the user has verified a
// device of a contact, a new device of that contact (one whoever runs
// the contact's server could add) is no longer trusted blindly, neither
// when its message is read (marked untrusted) nor for encrypting to it.
func TestOMEMO03NoBlindTrustAfterVerification(t *testing.T) {
	srv, store, a, peer, peerID := omemoPair(t)
	const alice, peerJID = "alice@localhost", "peer@localhost"
	if ev, err := peer.Result(t, map[string]any{"cmd": "omemo_send", "to": alice, "body": "one", "version": "0.3"}); err != nil || ev.Get("sent") != "1" {
		t.Fatalf("the peer could not encrypt to us: %v %v", ev, err)
	}
	a.r.wait(t, "“one”", is(func(m chat.MessageReceived) bool { return m.Body == "one" && m.OMEMO != nil }))

	// Before any verification, a new device is trusted blindly.
	evil := xmpptest.DialRaw(t, srv, "peer", "pw", "evil")
	send := func(id string, sid uint32) chat.MessageReceived {
		t.Helper()
		el, err := chat.OMEMOMessage(alice, id, forged03(t, store, sid, "from "+id))
		if err != nil {
			t.Fatal(err)
		}
		if err := evil.Send(el.String()); err != nil {
			t.Fatal(err)
		}
		return a.r.wait(t, "message "+id, is(func(m chat.MessageReceived) bool { return m.ID == id })).(chat.MessageReceived)
	}
	if m := send("before", 4242); m.OMEMO == nil || m.OMEMO.Trust != history.TrustTrusted {
		t.Fatalf("a new device before any verification: %+v, note %q", m.OMEMO, m.Note)
	}

	devs, err := store.Devices(context.Background(), peerJID, history.OMEMO03)
	if err != nil {
		t.Fatal(err)
	}
	var fp string
	for _, d := range devs {
		if d.ID == peerID && len(d.Identity) == omemo.KeySize {
			var k [omemo.KeySize]byte
			copy(k[:], d.Identity)
			fp = omemo.FormatFingerprint(&k)
		}
	}
	if fp == "" {
		t.Fatalf("the peer's device is not known: %+v", devs)
	}
	// A mistyped fingerprint is refused in words, naming where the right
	// one is; the right one is confirmed, naming the device.
	id := a.c.Do(chat.SetOMEMOTrust{JID: peerJID, Fingerprint: fp[:len(fp)-1], Trust: history.TrustVerified})
	f, ok := a.r.wait(t, "the mistyped fingerprint refused", answerOf(id)).(chat.CommandFailed)
	if !ok || !strings.Contains(f.Err.Error(), "not a fingerprint") || !strings.Contains(f.Err.Error(), "/omemo devices "+peerJID) || strings.Contains(f.Err.Error(), "omemo:") {
		t.Fatalf("a mistyped fingerprint: %+v", f)
	}
	from := len(a.r.snapshot())
	a.do(t, chat.SetOMEMOTrust{JID: peerJID, Fingerprint: fp, Trust: history.TrustVerified})
	ev, _ := a.r.waitFrom(t, from, "the trust confirmed", xmpptest.RoundTrip, is(func(e chat.OMEMOTrustSet) bool { return e.JID == peerJID }))
	set := ev.(chat.OMEMOTrustSet)
	if set.Trust != history.TrustVerified || set.Fingerprint != fp || len(set.Devices) != 1 || set.Devices[0] != peerID {
		t.Fatalf("confirmed %+v, want device %d with %s", set, peerID, fp)
	}

	m := send("after", 4343)
	if m.OMEMO == nil || m.OMEMO.Trust != history.TrustUndecided {
		t.Fatalf("a new device after the user verified one: %+v, note %q", m.OMEMO, m.Note)
	}
	// The verified device's next message says so: the decision is not
	// one remembered from before it.
	if ev, err := peer.Result(t, map[string]any{"cmd": "omemo_send", "to": alice, "body": "verified now", "version": "0.3"}); err != nil || ev.Get("sent") != "1" {
		t.Fatalf("the peer could not encrypt to us: %v %v", ev, err)
	}
	v := a.r.wait(t, "“verified now”", is(func(m chat.MessageReceived) bool { return m.Body == "verified now" })).(chat.MessageReceived)
	if v.OMEMO == nil || v.OMEMO.Trust != history.TrustVerified {
		t.Fatalf("the verified device's message marked %+v", v.OMEMO)
	}
}

// A contact whose device list names 200 devices without bundles (its
// server can publish any list) gets an encrypted message refused with a
// short reason, naming how many devices failed, not a 19 KB line of
// every device's error.
func TestOMEMO03GhostDevicesRefusedBriefly(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	for _, u := range []string{"alice", "peer"} {
		srv.Register(t, u, "pw")
	}
	befriend(t, srv, "alice", "peer")
	evil, err := xmpptest.LoginRaw(srv, "peer", "pw", "evil")
	if err != nil {
		t.Fatal(err)
	}
	defer evil.Close()
	var b strings.Builder
	for i := 1; i <= 200; i++ {
		fmt.Fprintf(&b, "<device id='%d'/>", 5000+i)
	}
	evil.Send(`<iq type='set' id='pub1'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='eu.siacs.conversations.axolotl.devicelist'><item id='current'><list xmlns='eu.siacs.conversations.axolotl'>` + b.String() + `</list></item></publish><publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field><field var='pubsub#access_model'><value>open</value></field></x></publish-options></pubsub></iq>`)
	if s, err := evil.ReadUntil("</iq>"); err != nil || !strings.Contains(s, "result") {
		t.Fatalf("the device list was not published: %s %v", s, err)
	}
	evil.Discard()
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: openStore(t), OMEMO: true})
	a.r.wait(t, "our own device published", is(func(e chat.OMEMODeviceListChanged) bool { return e.Own && e.Version == chat.OMEMO03 }))
	id := a.c.Do(chat.SendMessage{Conv: chat.ChatWith("peer@localhost"), Body: "secret", Encrypt: true})
	f, ok := a.r.wait(t, "the refusal", answerOf(id)).(chat.CommandFailed)
	if !ok {
		t.Fatalf("answered %+v", f)
	}
	msg := f.Err.Error()
	if len(msg) > 1000 || !strings.Contains(msg, "device 5001 of peer@localhost") || !strings.Contains(msg, "and 197 more") {
		t.Fatalf("refused with %d bytes: %.400s…", len(msg), msg)
	}
}

// A replayed message (the peer's first, pre-key message, sent again by
// whoever can send as the peer, with a new id) is refused and noted, and
// does not make gab start a new session with the peer's device: the
// session is sound (the message was read once), and a repair would throw
// it away, with whatever the peer has on its way in it.
func TestOMEMO03ReplayDoesNotRepair(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	for _, u := range []string{"alice", "peer"} {
		srv.Register(t, u, "pw")
	}
	befriend(t, srv, "alice", "peer")
	const alice, peerJID = "alice@localhost", "peer@localhost"
	store := openStore(t)
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store, OMEMO: true})
	a.r.wait(t, "our own device published", is(func(e chat.OMEMODeviceListChanged) bool { return e.Own && e.Version == chat.OMEMO03 }))
	peer := srv.StartPeer(t, "peer", "pw")
	peerID := peer.EnableOMEMO(t, "0.3")
	if ev, err := peer.Result(t, map[string]any{"cmd": "omemo_send", "to": alice, "body": "one", "version": "0.3"}); err != nil || ev.Get("sent") != "1" {
		t.Fatalf("the peer could not encrypt to us: %v %v", ev, err)
	}
	first := a.r.wait(t, "“one”", is(func(m chat.MessageReceived) bool { return m.Body == "one" && m.OMEMO != nil })).(chat.MessageReceived)
	peer.WaitFor(t, xmpptest.RoundTrip, "gab's empty answer to the pre-key message", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "omemo_message" && e.Get("empty") == "true"
	})
	k := history.SessionKey{JID: peerJID, Device: peerID, Version: history.OMEMO03}
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
	// Commands run in order: a repair queued by the replay, which would
	// replace the session, is done by the time this one is.
	a.do(t, chat.ShowOMEMO{JID: peerJID})
	after, _, err := store.Session(context.Background(), k)
	if err != nil || string(after) != string(before) {
		t.Fatalf("the replay made gab start a new session with the peer's device (%v)", err)
	}
	// And the session still reads the peer.
	if ev, err := peer.Result(t, map[string]any{"cmd": "omemo_send", "to": alice, "body": "two", "version": "0.3"}); err != nil || ev.Get("sent") != "1" {
		t.Fatalf("the peer could not encrypt to us: %v %v", ev, err)
	}
	a.r.wait(t, "“two”", is(func(m chat.MessageReceived) bool { return m.Body == "two" && m.OMEMO != nil }))
}

// A message whose key decrypts in its session but whose payload does not
// (altered on its way: the payload's tag travels in the key) is noted,
// without starting a new session with its device: the session read the
// key, it is sound.
func TestOMEMO03BadPayloadDoesNotRepair(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	for _, u := range []string{"alice", "peer"} {
		srv.Register(t, u, "pw")
	}
	befriend(t, srv, "alice", "peer")
	store := openStore(t)
	const alice, peerJID = "alice@localhost", "peer@localhost"
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store, OMEMO: true})
	a.r.wait(t, "our own device published", is(func(e chat.OMEMODeviceListChanged) bool { return e.Own && e.Version == chat.OMEMO03 }))
	evil := xmpptest.DialRaw(t, srv, "peer", "pw", "evil")
	enc := forged03(t, store, 4242, "a message altered on its way")
	enc.Payload[0] ^= 1
	el, err := chat.OMEMOMessage(alice, "altered", enc)
	if err != nil {
		t.Fatal(err)
	}
	if err := evil.Send(el.String()); err != nil {
		t.Fatal(err)
	}
	m := a.r.wait(t, "the altered message", is(func(m chat.MessageReceived) bool { return m.ID == "altered" })).(chat.MessageReceived)
	if m.Body != "" || m.OMEMO != nil || !strings.Contains(m.Note, "could not be decrypted") || strings.Contains(m.Note, "new session") {
		t.Fatalf("an altered message shown as %q, note %q", m.Body, m.Note)
	}
	// Commands run in order: a repair queued for device 4242 (which has
	// no bundle: its failure says so) is done by the time this one is.
	a.do(t, chat.ShowOMEMO{JID: peerJID})
	for _, e := range a.r.snapshot() {
		if n, ok := e.(chat.Notice); ok && strings.Contains(n.Text, "device 4242") {
			t.Fatalf("a repair was tried: %q", n.Text)
		}
	}
}

// Someone not in the roster who starts an OMEMO session with us gets no
// empty message back (nor a repair): it would tell a stranger that we
// are online, as a receipt would, which gab sends only to contacts. The
// message is read all the same.
func TestOMEMO03NoAnswerToStrangers(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	for _, u := range []string{"alice", "mallory"} {
		srv.Register(t, u, "pw")
	}
	store := openStore(t)
	const alice = "alice@localhost"
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store, OMEMO: true})
	a.r.wait(t, "our own device published", is(func(e chat.OMEMODeviceListChanged) bool { return e.Own && e.Version == chat.OMEMO03 }))
	m, err := xmpptest.LoginRaw(srv, "mallory", "pw", "evil")
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	el, err := chat.OMEMOMessage(alice, "hello", forged03(t, store, 4242, "hello from a stranger"))
	if err != nil {
		t.Fatal(err)
	}
	if err := m.Send(`<presence/>` + el.String()); err != nil {
		t.Fatal(err)
	}
	a.r.wait(t, "the stranger's message", is(func(e chat.MessageReceived) bool { return e.ID == "hello" && e.Body == "hello from a stranger" }))
	// Commands run in order: an answer queued for the message goes out
	// before this one.
	a.do(t, chat.SendMessage{Conv: chat.ChatWith("mallory@localhost"), Body: "sentinel"})
	got := ""
	for !strings.Contains(got, ">sentinel<") {
		more, err := m.ReadUntil("</message>")
		if err != nil {
			t.Fatalf("the sentinel did not come: %v (%s)", err, got)
		}
		got += more
	}
	if strings.Contains(got, "encrypted") {
		t.Fatalf("gab answered a stranger's OMEMO message: %s", got)
	}
}

// A device list of our own account without this device (published by
// another client of ours, or by the server) is answered by adding this
// device back, as XEP-0384 has each device see to: otherwise contacts
// stop encrypting to it, silently.
func TestOMEMO03OwnDeviceAddedBack(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: openStore(t), OMEMO: true})
	own := a.r.wait(t, "our own device published", is(func(e chat.OMEMODeviceListChanged) bool {
		return e.Own && e.Version == chat.OMEMO03 && len(e.Devices) == 1
	})).(chat.OMEMODeviceListChanged)
	ours := own.Devices[0].ID
	other, err := xmpptest.LoginRaw(srv, "alice", "pw", "other")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	other.Send(`<iq type='set' id='pub1'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='eu.siacs.conversations.axolotl.devicelist'><item id='current'><list xmlns='eu.siacs.conversations.axolotl'><device id='77'/></list></item></publish></pubsub></iq>`)
	if s, err := other.ReadUntil("</iq>"); err != nil || !strings.Contains(s, "result") {
		t.Fatalf("the device list was not published: %s %v", s, err)
	}
	other.Discard()
	a.r.wait(t, "the list without this device", is(func(e chat.OMEMODeviceListChanged) bool {
		return e.Own && e.Version == chat.OMEMO03 && len(e.Devices) == 1 && e.Devices[0].ID == 77
	}))
	a.r.wait(t, "this device added back", is(func(e chat.OMEMODeviceListChanged) bool {
		ids := map[uint32]bool{}
		for _, d := range e.Devices {
			ids[d.ID] = true
		}
		return e.Own && e.Version == chat.OMEMO03 && ids[77] && ids[ours]
	}))
}
