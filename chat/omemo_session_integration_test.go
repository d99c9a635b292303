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

// With OMEMO on, gab publishes its own device at login; python-omemo
// (the peer, OMEMO 0.3) encrypts to it, and gab shows and stores the
// plaintext, marked as encrypted by the peer's device and trusted
// blindly, with the session committed with the message. The one-time
// pre-key the first message used is replaced in the bundle gab publishes
// again. After a restart the stored session reads the next message.
func TestOMEMO03MessagesDecrypted(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	for _, u := range []string{"alice", "peer"} {
		srv.Register(t, u, "pw")
	}
	befriend(t, srv, "alice", "peer")
	store := openStore(t)
	const alice, peerJID = "alice@localhost", "peer@localhost"
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store, OMEMO: true})
	own := a.r.wait(t, "our own device published", is(func(e chat.OMEMODeviceListChanged) bool {
		return e.Own && e.JID == alice && e.Version == chat.OMEMO03 && len(e.Devices) == 1
	})).(chat.OMEMODeviceListChanged)
	ours := own.Devices[0].ID
	saved, ok, err := store.OwnDevice(context.Background())
	if err != nil || !ok {
		t.Fatalf("our device is not in the store: %v", err)
	}
	dev, err := omemo.UnmarshalDevice(saved.State)
	if err != nil || dev.ID() != ours {
		t.Fatalf("the stored device is not the one published: %v", err)
	}

	peer := srv.StartPeer(t, "peer", "pw")
	peerID := peer.EnableOMEMO(t, "0.3")
	send := func(body string) chat.MessageReceived {
		t.Helper()
		ev, err := peer.Result(t, map[string]any{"cmd": "omemo_send", "to": alice, "body": body, "version": "0.3"})
		if err != nil || ev.Get("sent") != "1" {
			t.Fatalf("the peer could not encrypt to us: %v %v", ev, err)
		}
		return a.r.wait(t, "“"+body+"”", is(func(m chat.MessageReceived) bool { return m.Bare == peerJID && m.Encrypted != nil && m.Body == body })).(chat.MessageReceived)
	}
	first := send("hello, gab")
	if first.Note != "" || first.OMEMO == nil || first.OMEMO.Device != peerID || first.OMEMO.Trust != history.TrustTrusted || first.StoreID == 0 {
		t.Fatalf("first message: note %q, info %+v, stored as %d", first.Note, first.OMEMO, first.StoreID)
	}
	k := first.Encrypted.KeyFor(alice, ours)
	if k == nil || !k.PreKey {
		t.Fatalf("the first message is not a pre-key message to our device: %+v", first.Encrypted.Keys)
	}
	pk, err := omemo.ParsePreKeyMessage03(k.Data)
	if err != nil {
		t.Fatal(err)
	}
	row, ok, err := store.Get(context.Background(), first.StoreID)
	if err != nil || !ok || row.Body != "hello, gab" || row.Encryption != history.OMEMO03 || row.Device != peerID || row.Trust != history.TrustTrusted {
		t.Fatalf("stored as %+v (%v)", row, err)
	}
	if _, ok, err := store.Session(context.Background(), history.SessionKey{JID: peerJID, Device: peerID, Version: history.OMEMO03}); !ok || err != nil {
		t.Fatalf("the session was not stored with the message (%v)", err)
	}

	// The used pre-key is gone from what we publish, and there are 100:
	// the bundle is published again before the message is handed on, and
	// read after that.
	a.do(t, chat.FetchOMEMOBundle{Version: chat.OMEMO03, DeviceID: ours})
	b := a.r.wait(t, "our bundle", is(func(e chat.OMEMOBundleFetched) bool { return e.DeviceID == ours })).(chat.OMEMOBundleFetched)
	var ids []uint32
	for _, p := range b.Bundle.PreKeys {
		ids = append(ids, p.ID)
	}
	if len(ids) != omemo.NumPreKeys || slices.Contains(ids, pk.PreKeyID) {
		t.Fatalf("published %d pre-keys, the used %d among them: %v", len(ids), pk.PreKeyID, slices.Contains(ids, pk.PreKeyID))
	}

	second := send("and again")
	if second.OMEMO == nil || second.StoreID == 0 {
		t.Fatalf("second message: %+v", second)
	}

	// A restart: the stored session and device read the next message.
	a.stop()
	a = start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store, OMEMO: true})
	third := send("after a restart")
	if third.OMEMO == nil || third.OMEMO.Device != peerID {
		t.Fatalf("after the restart: %+v", third)
	}
}

// gab encrypts to python-omemo (OMEMO 0.3 only, so in 0.3 though gab
// speaks OMEMO 2 too): a session started from the peer's bundle, the message stored with its encrypted element and the
// session, the peer decrypting it; the peer's answer decrypts in gab;
// after a restart the stored session encrypts the next one.
func TestOMEMO03MessagesEncrypted(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	for _, u := range []string{"alice", "peer"} {
		srv.Register(t, u, "pw")
	}
	befriend(t, srv, "alice", "peer")
	store := openStore(t)
	const alice, peerJID = "alice@localhost", "peer@localhost"
	peer := srv.StartPeer(t, "peer", "pw")
	peerID := peer.EnableOMEMO(t, "0.3")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store, OMEMO: true})
	a.r.wait(t, "our own device published", is(func(e chat.OMEMODeviceListChanged) bool { return e.Own && e.Version == chat.OMEMO03 }))
	conv := chat.ChatWith(peerJID)
	sendTo := func(body string) chat.MessageSent {
		t.Helper()
		a.do(t, chat.SendMessage{Conv: conv, Body: body, Encrypt: true})
		sent := a.r.wait(t, "“"+body+"” sent", is(func(m chat.MessageSent) bool { return m.Body == body })).(chat.MessageSent)
		if sent.OMEMO == nil || sent.StoreID == 0 {
			t.Fatalf("sent as %+v", sent)
		}
		ev := peer.WaitFor(t, xmpptest.RoundTrip, "the peer to decrypt “"+body+"”", func(e xmpptest.PeerEvent) bool {
			return e.Get("event") == "omemo_message" && e.Get("body") == body
		})
		if ev.Get("error") != "" || ev.Get("ns") != chat.NSOMEMO03 {
			t.Fatalf("the peer (OMEMO 0.3 only): %v", ev)
		}
		return sent
	}
	sent := sendTo("hello, peer")
	row, ok, err := store.Get(context.Background(), sent.StoreID)
	if err != nil || !ok || row.Body != "hello, peer" || row.Encryption != history.OMEMO03 {
		t.Fatalf("stored as %+v (%v)", row, err)
	}
	if _, ok, _ := store.Session(context.Background(), history.SessionKey{JID: peerJID, Device: peerID, Version: history.OMEMO03}); !ok {
		t.Fatal("the session is not stored")
	}

	// The peer answers in the session gab started.
	if ev, err := peer.Result(t, map[string]any{"cmd": "omemo_send", "to": alice, "body": "hello back", "version": "0.3"}); err != nil || ev.Get("sent") != "1" {
		t.Fatalf("the peer could not answer: %v %v", ev, err)
	}
	a.r.wait(t, "the answer, decrypted", is(func(m chat.MessageReceived) bool {
		return m.Bare == peerJID && m.Body == "hello back" && m.OMEMO != nil
	}))

	a.stop()
	a = start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store, OMEMO: true})
	sendTo("after a restart")
}

// An encrypted message to someone without OMEMO is refused, and nothing
// goes out in plain text: a plaintext message sent after it is the first
// the contact gets.
func TestOMEMO03NeverFallsBackToPlainText(t *testing.T) {
	_, a, peer := aliceAndPeerWith(t, chat.Options{Store: openStore(t), OMEMO: true})
	conv := chat.ChatWith("peer@localhost")
	id := a.c.Do(chat.SendMessage{Conv: conv, Body: "secret", Encrypt: true})
	f, ok := a.r.wait(t, "the refusal", answerOf(id)).(chat.CommandFailed)
	if !ok || !strings.Contains(f.Err.Error(), "no OMEMO device") {
		t.Fatalf("answered %+v", f)
	}
	a.do(t, chat.SendMessage{Conv: conv, Body: "sentinel"})
	ev := peer.WaitFor(t, xmpptest.RoundTrip, "a message", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "message" || e.Get("event") == "omemo_message"
	})
	if ev.Get("body") != "sentinel" {
		t.Fatalf("the peer got %v first", ev)
	}
}

// A signed pre-key older than the rotation period is replaced at login,
// before the bundle is published; the device so changed is kept.
func TestOMEMOSignedPreKeyRotatedAtLogin(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	store := openStore(t)
	old, err := omemo.NewDevice(crand.Reader, time.Now().Add(-omemo.SignedPreKeyRotation-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if err := store.SaveOwnDevice(context.Background(), old.Marshal()); err != nil {
		t.Fatal(err)
	}
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store, OMEMO: true})
	a.r.wait(t, "our device published", is(func(e chat.OMEMODeviceListChanged) bool { return e.Own && e.Version == chat.OMEMO03 }))
	a.do(t, chat.FetchOMEMOBundle{Version: chat.OMEMO03, DeviceID: old.ID()})
	b := a.r.wait(t, "our bundle", is(func(e chat.OMEMOBundleFetched) bool { return e.DeviceID == old.ID() })).(chat.OMEMOBundleFetched)
	if b.Bundle.SignedPreKeyID == old.SignedPreKeyID() {
		t.Fatalf("the signed pre-key %d of %v was published again", old.SignedPreKeyID(), old.SignedPreKeyCreated())
	}
	a.do(t, chat.FetchOMEMOBundle{Version: chat.OMEMO2, DeviceID: old.ID()})
	b2 := a.r.wait(t, "our OMEMO 2 bundle", is(func(e chat.OMEMOBundleFetched) bool { return e.DeviceID == old.ID() && e.Version == chat.OMEMO2 })).(chat.OMEMOBundleFetched)
	if b2.Bundle.SignedPreKeyID != b.Bundle.SignedPreKeyID {
		t.Fatalf("OMEMO 2 publishes signed pre-key %d, 0.3 %d", b2.Bundle.SignedPreKeyID, b.Bundle.SignedPreKeyID)
	}
	saved, _, err := store.OwnDevice(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	now, err := omemo.UnmarshalDevice(saved.State)
	if err != nil || now.SignedPreKeyID() != b.Bundle.SignedPreKeyID || time.Since(now.SignedPreKeyCreated()) > time.Hour {
		t.Fatalf("kept: %v, signed pre-key %d made %v", err, now.SignedPreKeyID(), now.SignedPreKeyCreated())
	}
}

// A message that cannot be decrypted (the session with its device lost)
// is shown as such, and gab starts a new session with that device: its
// next message decrypts. A pre-key message that started a session is
// answered with an empty message.
func TestOMEMO03SessionRepaired(t *testing.T) { sessionRepaired(t, "0.3") }

// The same in OMEMO 2: the key exchange answered and the session repaired
// in OMEMO 2.
func TestOMEMO2SessionRepaired(t *testing.T) { sessionRepaired(t, "2") }

func sessionRepaired(t *testing.T, version string) {
	t.Helper()
	srv, store, a, peer, peerID := omemoPairWith(t, version)
	const alice, peerJID = "alice@localhost", "peer@localhost"
	ns, v := chat.NSOMEMO03, history.OMEMO03
	if version == "2" {
		ns, v = chat.NSOMEMO2, history.OMEMO2
		a.r.wait(t, "our OMEMO 2 device published", is(func(e chat.OMEMODeviceListChanged) bool { return e.Own && e.Version == chat.OMEMO2 }))
	}
	peerSays := func(body string) { t.Helper(); omemoSendIn(t, peer, version, alice, body) }
	empties := func() int {
		n := 0
		for _, e := range peer.Events() {
			if e.Get("event") == "omemo_message" && e.Get("empty") == "true" && e.Get("error") == "" && e.Get("ns") == ns {
				n++
			}
		}
		return n
	}
	peerSays("one")
	a.r.wait(t, "“one”", is(func(m chat.MessageReceived) bool { return m.Body == "one" && m.OMEMO != nil }))
	answer := peer.WaitFor(t, xmpptest.RoundTrip, "gab's empty answer to the pre-key message", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "omemo_message" && e.Get("empty") == "true" && e.Get("ns") == ns
	})
	if n := empties(); n != 1 {
		t.Fatalf("%d empty messages, want 1: %v", n, peer.Events())
	}

	// The session is lost (a store restored from an older copy, say).
	a.stop()
	if err := store.DeleteSession(context.Background(), history.SessionKey{JID: peerJID, Device: peerID, Version: v}); err != nil {
		t.Fatal(err)
	}
	a = start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store, OMEMO: true})
	peerSays("two")
	bad := a.r.wait(t, "“two” not read", is(func(m chat.MessageReceived) bool { return m.Bare == peerJID && m.Encrypted != nil })).(chat.MessageReceived)
	if bad.Body != "" || bad.OMEMO != nil || !strings.Contains(bad.Note, "could not be decrypted") {
		t.Fatalf("an undecryptable message shown as %q, note %q", bad.Body, bad.Note)
	}
	peer.WaitFor(t, xmpptest.RoundTrip, "the repair's empty message", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "omemo_message" && e.Get("empty") == "true" && e.Get("id") != answer.Get("id") && e.Get("ns") == ns
	})
	peerSays("three")
	a.r.wait(t, "“three”, read again", is(func(m chat.MessageReceived) bool { return m.Body == "three" && m.OMEMO != nil }))
}

// omemoPair starts Prosody with alice and peer in each other's roster,
// alice's client with OMEMO on and a store (its device published), and
// the python-omemo peer with an OMEMO 0.3 device, whose id it returns.
func omemoPair(t *testing.T) (*xmpptest.Server, *history.Store, *running, *xmpptest.Peer, uint32) {
	t.Helper()
	return omemoPairWith(t, "0.3")
}

// omemoPairWith is omemoPair with the peer's device speaking versions
// ("0.3", "2" or both).
func omemoPairWith(t *testing.T, versions ...string) (*xmpptest.Server, *history.Store, *running, *xmpptest.Peer, uint32) {
	t.Helper()
	srv := xmpptest.Start(t, xmpptest.Options{})
	for _, u := range []string{"alice", "peer"} {
		srv.Register(t, u, "pw")
	}
	befriend(t, srv, "alice", "peer")
	store := openStore(t)
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store, OMEMO: true})
	a.r.wait(t, "our own device published", is(func(e chat.OMEMODeviceListChanged) bool { return e.Own && e.Version == chat.OMEMO03 }))
	peer := srv.StartPeer(t, "peer", "pw")
	return srv, store, a, peer, peer.EnableOMEMO(t, versions...)
}

// omemoSend has the peer send to an encrypted message (OMEMO 0.3).
func omemoSend(t *testing.T, peer *xmpptest.Peer, to, body string) {
	t.Helper()
	omemoSendIn(t, peer, "0.3", to, body)
}

// omemoSendIn is omemoSend in version ("0.3" or "2").
func omemoSendIn(t *testing.T, peer *xmpptest.Peer, version, to, body string) {
	t.Helper()
	if ev, err := peer.Result(t, map[string]any{"cmd": "omemo_send", "to": to, "body": body, "version": version}); err != nil || ev.Get("sent") != "1" {
		t.Fatalf("the peer could not encrypt to %s: %v %v", to, ev, err)
	}
}

// A listed device whose bundle cannot be read is not asked for again at
// every message, until its JID's device list changes: the peer lists a
// device that publishes nothing, and two messages ask for its bundle
// once; after the peer publishes its list again, once more.
func TestOMEMO03MissingBundleNotAskedEachTime(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	for _, u := range []string{"alice", "peer"} {
		srv.Register(t, u, "pw")
	}
	befriend(t, srv, "alice", "peer")
	var log syncBuffer
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: openStore(t), OMEMO: true, XMLLog: xmpp.NewTap(&log, "alice")})
	a.r.wait(t, "our own device published", is(func(e chat.OMEMODeviceListChanged) bool { return e.Own && e.Version == chat.OMEMO03 }))
	peer := srv.StartPeer(t, "peer", "pw")
	peerID := peer.EnableOMEMO(t, "0.3")
	const ghost = 777
	publish := func() {
		t.Helper()
		from := len(a.r.snapshot())
		if _, err := peer.Result(t, map[string]any{"cmd": "omemo_publish_list", "devices": []uint32{peerID, ghost}, "version": "0.3"}); err != nil {
			t.Fatal(err)
		}
		a.r.waitFrom(t, from, "the list with the ghost", xmpptest.RoundTrip, devicesOf("peer@localhost", chat.OMEMO03, false, peerID, ghost))
	}
	publish()
	asked := func() int {
		n := 0
		for _, l := range log.lines("SEND") {
			if strings.Contains(l, "eu.siacs.conversations.axolotl.bundles:777") {
				n++
			}
		}
		return n
	}
	say := func(body string) {
		t.Helper()
		a.do(t, chat.SendMessage{Conv: chat.ChatWith("peer@localhost"), Body: body, Encrypt: true})
		peer.WaitFor(t, xmpptest.RoundTrip, "the peer to decrypt “"+body+"”", func(e xmpptest.PeerEvent) bool {
			return e.Get("event") == "omemo_message" && e.Get("body") == body
		})
	}
	say("one")
	say("two")
	if n := asked(); n != 1 {
		t.Fatalf("the missing bundle was asked for %d times over two messages, want 1", n)
	}
	publish()
	say("three")
	if n := asked(); n != 2 {
		t.Fatalf("after the list changed the missing bundle was asked for %d times in all, want 2", n)
	}
}

// A contact's new device is announced, once a list of theirs was known:
// what is encrypted from now on goes to it.
func TestOMEMO03NewDeviceAnnounced(t *testing.T) {
	_, _, a, peer, peerID := omemoPair(t)
	a.r.wait(t, "the peer's list", devicesOf("peer@localhost", chat.OMEMO03, false, peerID))
	if _, err := peer.Result(t, map[string]any{"cmd": "omemo_publish_list", "devices": []uint32{peerID, 4242}, "version": "0.3"}); err != nil {
		t.Fatal(err)
	}
	e := a.r.wait(t, "the new device announced", is(func(e chat.OMEMODevicesAdded) bool { return e.JID == "peer@localhost" })).(chat.OMEMODevicesAdded)
	if e.Own || len(e.Devices) != 1 || e.Devices[0] != 4242 || !strings.Contains(e.Text(), "peer@localhost has a new OMEMO device (4242)") {
		t.Fatalf("announced %+v: %s", e, e.Text())
	}
}

// With manual trust a contact's new device is not encrypted to until the
// user trusts it: the notice says so and how, instead of saying that what
// is encrypted goes to it.
func TestOMEMO03NewDeviceAnnouncedWithManualTrust(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	for _, u := range []string{"alice", "peer"} {
		srv.Register(t, u, "pw")
	}
	befriend(t, srv, "alice", "peer")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: openStore(t), OMEMO: true, OMEMOManualTrust: true})
	a.r.wait(t, "our own device published", is(func(e chat.OMEMODeviceListChanged) bool { return e.Own && e.Version == chat.OMEMO03 }))
	peer := srv.StartPeer(t, "peer", "pw")
	peerID := peer.EnableOMEMO(t, "0.3")
	a.r.wait(t, "the peer's list", devicesOf("peer@localhost", chat.OMEMO03, false, peerID))
	if _, err := peer.Result(t, map[string]any{"cmd": "omemo_publish_list", "devices": []uint32{peerID, 4242}, "version": "0.3"}); err != nil {
		t.Fatal(err)
	}
	e := a.r.wait(t, "the new device announced", is(func(e chat.OMEMODevicesAdded) bool { return e.JID == "peer@localhost" })).(chat.OMEMODevicesAdded)
	text := e.Text()
	if !e.Untrusted || strings.Contains(text, "go to it too") || !strings.Contains(text, "not trusted") || !strings.Contains(text, "/omemo trust peer@localhost") {
		t.Fatalf("announced %+v: %s", e, text)
	}
}
