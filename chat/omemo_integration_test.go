package chat_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ed25519"
	crand "crypto/rand"
	"encoding/base64"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/omemo"
)

// omemoKeys is a device's key material for the tests, made with the omemo
// package: an identity, a signed pre-key and one-time pre-keys.
type omemoKeys struct {
	identity, signed [omemo.KeySize]byte
	pre              map[uint32][omemo.KeySize]byte
}

func newOMEMOKeys(t *testing.T) *omemoKeys {
	t.Helper()
	k := &omemoKeys{pre: map[uint32][omemo.KeySize]byte{}}
	crand.Read(k.identity[:])
	crand.Read(k.signed[:])
	for id := uint32(1); id <= 100; id++ {
		var p [omemo.KeySize]byte
		crand.Read(p[:])
		k.pre[id] = p
	}
	return k
}

// bundle03 is the keys' public half as OMEMO 0.3 publishes it; the signed
// pre-key is signed as XEP-0384 0.3 says (its 33-byte encoding).
func (k *omemoKeys) bundle03(t *testing.T) chat.OMEMOBundle {
	t.Helper()
	idPub, spkPub := omemo.PublicKey(&k.identity), omemo.PublicKey(&k.signed)
	sig, err := omemo.Sign(&k.identity, omemo.EncodePublicKey03(&spkPub))
	if err != nil {
		t.Fatal(err)
	}
	b := chat.OMEMOBundle{IdentityKey: omemo.EncodePublicKey03(&idPub), SignedPreKeyID: 1, SignedPreKey: omemo.EncodePublicKey03(&spkPub), SignedPreKeySig: sig[:]}
	for id := uint32(1); id <= 100; id++ {
		p := k.pre[id]
		pub := omemo.PublicKey(&p)
		b.PreKeys = append(b.PreKeys, chat.OMEMOPreKey{ID: id, Key: omemo.EncodePublicKey03(&pub)})
	}
	return b
}

// devicesOf matches a device list event of JID in v holding exactly ids.
func devicesOf(bare string, v chat.OMEMOVersion, fetched bool, ids ...uint32) func(chat.Event) bool {
	return is(func(e chat.OMEMODeviceListChanged) bool {
		var got []uint32
		for _, d := range e.Devices {
			got = append(got, d.ID)
		}
		slices.Sort(got)
		slices.Sort(ids)
		return e.JID == bare && e.Version == v && e.Fetched == fetched && slices.Equal(got, ids)
	})
}

// TestOMEMO03OverProsody: gab publishes an OMEMO 0.3 device and bundle
// made of real keys; python-omemo (the peer) reads and accepts them and
// sends gab an encrypted message, which gab receives as the <encrypted/>
// element addressed to its device — its pre-key message decrypts with the
// keys gab published, and its payload to what the peer sent, while the
// fallback body is shown nowhere. gab reads the peer's list and bundle, is
// told when the peer's list changes, and drops lists that are forged or
// too big, going on afterwards.
func TestOMEMO03OverProsody(t *testing.T) {
	srv, a, peer := aliceAndPeer(t)
	const alice, peerJID = "alice@localhost", "peer@localhost"
	const other, ours = uint32(1111), uint32(4242)
	keys := newOMEMOKeys(t)

	// Another device of ours is in the list first: publishing this one
	// keeps it.
	a.do(t, chat.PublishOMEMO{Version: chat.OMEMO03, DeviceID: other, Bundle: newOMEMOKeys(t).bundle03(t)})
	a.r.wait(t, "our list with the other device", devicesOf(alice, chat.OMEMO03, false, other))
	a.do(t, chat.PublishOMEMO{Version: chat.OMEMO03, DeviceID: ours, Bundle: keys.bundle03(t)})
	a.r.wait(t, "our list with both devices", devicesOf(alice, chat.OMEMO03, false, other, ours))

	peerID := peer.EnableOMEMO(t, "0.3")
	ev, err := peer.Result(t, map[string]any{"cmd": "omemo_devices", "jid": alice, "version": "0.3"})
	if err != nil || !slices.Equal(ev.IDs("devices"), []uint32{other, ours}) {
		t.Fatalf("the peer reads our list as %v (%v)", ev, err)
	}
	if _, err := peer.Result(t, map[string]any{"cmd": "omemo_bundle", "jid": alice, "device": ours, "version": "0.3"}); err != nil {
		t.Fatalf("the peer refuses our bundle: %v", err)
	}
	// gab is told of the peer's new device (caps +notify).
	a.r.wait(t, "the peer's device list", devicesOf(peerJID, chat.OMEMO03, false, peerID))

	ev, err = peer.Result(t, map[string]any{"cmd": "omemo_send", "to": alice, "body": "hello, gab", "version": "0.3"})
	if err != nil || ev.Get("sent") != "1" {
		t.Fatalf("the peer could not encrypt to us: %v %v", ev, err)
	}
	got := a.r.wait(t, "the encrypted message", is(func(m chat.MessageReceived) bool { return m.Bare == peerJID && m.Encrypted != nil })).(chat.MessageReceived)
	if got.Body != "" || got.Note != chat.OMEMOUnreadNote {
		t.Fatalf("an undecrypted message shown as %q (note %q)", got.Body, got.Note)
	}
	e := got.Encrypted
	if e.Version != chat.OMEMO03 || e.SID != peerID || e.Payload == nil {
		t.Fatalf("%+v", e)
	}
	k := e.KeyFor(alice, ours)
	if k == nil || !k.PreKey {
		t.Fatalf("no pre-key key for our device %d in %+v", ours, e.Keys)
	}
	if e.KeyFor(alice, other) == nil {
		t.Fatalf("the peer did not encrypt to our other device: %+v", e.Keys)
	}
	plain, sess := decrypt03(t, keys, k.Data, e)
	if plain != "hello, gab" {
		t.Fatalf("decrypted %q", plain)
	}

	// The answer, in the session the peer started, built by
	// OMEMOMessage and sent from another client of ours: python-omemo
	// reads and decrypts it.
	answer := encrypt03(t, sess, ours, peerID, "hello, peer")
	stanza, err := chat.OMEMOMessage(peerJID, "answer1", answer)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := xmpptest.LoginRaw(srv, "alice", "pw", "raw")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if err := raw.Send(stanza.String()); err != nil {
		t.Fatal(err)
	}
	if got := peer.WaitFor(t, xmpptest.RoundTrip, "our answer", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "omemo_message" && e.Get("id") == "answer1"
	}); got.Get("body") != "hello, peer" || got.Get("sid") != fmt.Sprint(ours) {
		t.Fatalf("the peer read our answer as %v", got)
	}

	// The peer's list and bundle, as gab reads them.
	a.do(t, chat.FetchOMEMODevices{JID: peerJID, Version: chat.OMEMO03})
	a.r.wait(t, "the peer's list, fetched", devicesOf(peerJID, chat.OMEMO03, true, peerID))
	a.do(t, chat.FetchOMEMOBundle{JID: peerJID, Version: chat.OMEMO03, DeviceID: peerID})
	fb := a.r.wait(t, "the peer's bundle", is(func(b chat.OMEMOBundleFetched) bool { return b.JID == peerJID && b.DeviceID == peerID })).(chat.OMEMOBundleFetched)
	checkBundle03(t, peer, peerID, fb.Bundle)

	// The peer's list changes: gab is told.
	peer.Must(t, map[string]any{"cmd": "omemo_publish_list", "devices": []uint32{peerID, 777}, "version": "0.3"})
	a.r.wait(t, "the peer's changed list", devicesOf(peerJID, chat.OMEMO03, false, peerID, 777))

	// Hostile: a list sent by a client (not by the account's PEP service),
	// and one too big; both dropped, and the session goes on.
	mark := len(a.r.snapshot())
	peer.Send(t, map[string]any{"cmd": "raw", "xml": `<message to='alice@localhost' type='headline'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='eu.siacs.conversations.axolotl.devicelist'><item id='current'><list xmlns='eu.siacs.conversations.axolotl'><device id='31337'/></list></item></items></event></message>`})
	a.r.waitFrom(t, mark, "the forged list's notice", xmpptest.RoundTrip, is(func(n chat.Notice) bool { return strings.Contains(n.Text, "OMEMO device list from peer@localhost/") }))
	huge := make([]uint32, chat.MaxOMEMODevices+1)
	for i := range huge {
		huge[i] = uint32(i + 1)
	}
	peer.Must(t, map[string]any{"cmd": "omemo_publish_list", "devices": huge, "version": "0.3"})
	a.r.waitFrom(t, mark, "the huge list's notice", xmpptest.RoundTrip, is(func(n chat.Notice) bool {
		return strings.Contains(n.Text, "dropped the OMEMO device list of peer@localhost")
	}))
	peer.Send(t, map[string]any{"cmd": "send", "to": alice, "body": "sentinel"})
	a.r.waitFrom(t, mark, "the message after", xmpptest.RoundTrip, is(func(m chat.MessageReceived) bool { return m.Body == "sentinel" }))
	for _, ev := range a.r.snapshot()[mark:] {
		// (The last list may come again: the server sends it anew when
		// the peer's presence changes.)
		if l, ok := ev.(chat.OMEMODeviceListChanged); ok && (len(l.Devices) > 2 || slices.Contains(l.Devices, chat.OMEMODevice{ID: 31337})) {
			t.Fatalf("a hostile list was taken: %d devices", len(l.Devices))
		}
	}
}

// decrypt03 opens an OMEMO 0.3 message for our device with the omemo
// package: the pre-key message starts our side of the session and yields
// the payload's key and tag; the payload is AES-128-GCM.
func decrypt03(t *testing.T, k *omemoKeys, data []byte, e *chat.OMEMOEncrypted) (string, *omemo.Session03) {
	t.Helper()
	m, err := omemo.ParsePreKeyMessage03(data)
	if err != nil {
		t.Fatalf("the pre-key message does not parse: %v", err)
	}
	pre, ok := k.pre[m.PreKeyID]
	if !ok || m.SignedPreKeyID != 1 {
		t.Fatalf("the message names pre-key %d and signed pre-key %d", m.PreKeyID, m.SignedPreKeyID)
	}
	sess, keyTag, err := omemo.RespondSession03(crand.Reader, &k.identity, &k.signed, &pre, m)
	if err != nil || len(keyTag) != 32 {
		t.Fatalf("the session does not start: %v (%d bytes)", err, len(keyTag))
	}
	block, _ := aes.NewCipher(keyTag[:16])
	gcm, err := cipher.NewGCMWithNonceSize(block, len(e.IV))
	if err != nil {
		t.Fatal(err)
	}
	plain, err := gcm.Open(nil, e.IV, append(bytes.Clone(e.Payload), keyTag[16:]...), nil)
	if err != nil {
		t.Fatalf("the payload does not decrypt: %v", err)
	}
	return string(plain), sess
}

// encrypt03 encrypts text from our device sid to the peer's device rid in
// sess, as OMEMO 0.3 does: AES-128-GCM under a fresh key and 12-byte IV,
// the key and tag through the session.
func encrypt03(t *testing.T, sess *omemo.Session03, sid, rid uint32, text string) *chat.OMEMOEncrypted {
	t.Helper()
	key, iv := make([]byte, 16), make([]byte, 12)
	crand.Read(key)
	crand.Read(iv)
	block, _ := aes.NewCipher(key)
	gcm, _ := cipher.NewGCM(block)
	sealed := gcm.Seal(nil, iv, []byte(text), nil)
	ct, tag := sealed[:len(sealed)-16], sealed[len(sealed)-16:]
	msg, err := sess.Encrypt(append(key, tag...))
	if err != nil {
		t.Fatal(err)
	}
	return &chat.OMEMOEncrypted{Version: chat.OMEMO03, SID: sid, IV: iv, Payload: ct, Keys: []chat.OMEMOKey{{RID: rid, Data: msg}}}
}

// checkBundle03 compares the bundle gab read with what the peer says it
// published: the same identity (python-omemo gives its Ed25519 form), a
// signature over the signed pre-key that verifies, its pre-keys.
func checkBundle03(t *testing.T, peer *xmpptest.Peer, id uint32, b *chat.OMEMOBundle) {
	t.Helper()
	ev, err := peer.Result(t, map[string]any{"cmd": "omemo_bundle", "jid": "peer@localhost", "device": id, "version": "0.3"})
	if err != nil {
		t.Fatal(err)
	}
	ed, err := base64.StdEncoding.DecodeString(ev.Get("identity_key"))
	if err != nil || len(ed) != omemo.KeySize {
		t.Fatalf("identity %q: %v", ev.Get("identity_key"), err)
	}
	mont, err := omemo.EdwardsToMontgomery((*[omemo.KeySize]byte)(ed))
	if err != nil {
		t.Fatal(err)
	}
	ik, err := omemo.DecodePublicKey03(b.IdentityKey)
	if err != nil || ik != mont {
		t.Fatalf("identity %x, the peer's is %x (%v)", b.IdentityKey, mont, err)
	}
	// python3-oldmemo carries the sign of its Ed25519 identity in the
	// signature's top bit (0.3 publishes only the Montgomery form); the
	// signature proper is an Ed25519 one by that key.
	sig := bytes.Clone(b.SignedPreKeySig)
	sign := sig[63] >> 7
	sig[63] &= 0x7f
	if edPub, err := omemo.MontgomeryToEdwards(&ik, sign); err != nil || !bytes.Equal(edPub[:], ed) {
		t.Fatalf("identity with sign %d is %x, the peer's %x (%v)", sign, edPub, ed, err)
	}
	if !ed25519.Verify(ed, b.SignedPreKey, sig) {
		t.Fatal("the signed pre-key's signature does not verify")
	}
	if got := fmt.Sprint(len(b.PreKeys)); got != ev.Get("prekeys") {
		t.Fatalf("%s pre-keys, the peer has %s", got, ev.Get("prekeys"))
	}
}

// bundle2 is the keys' public half as OMEMO 2 publishes it: the identity
// in its Ed25519 form, the signature over the raw signed pre-key.
func (k *omemoKeys) bundle2(t *testing.T) chat.OMEMOBundle {
	t.Helper()
	idPub, spkPub := omemo.PublicKey(&k.identity), omemo.PublicKey(&k.signed)
	ed, err := omemo.MontgomeryToEdwards(&idPub, 0)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := omemo.Sign(&k.identity, spkPub[:])
	if err != nil {
		t.Fatal(err)
	}
	b := chat.OMEMOBundle{IdentityKey: ed[:], SignedPreKeyID: 1, SignedPreKey: spkPub[:], SignedPreKeySig: sig[:]}
	for id := uint32(1); id <= 100; id++ {
		p := k.pre[id]
		pub := omemo.PublicKey(&p)
		b.PreKeys = append(b.PreKeys, chat.OMEMOPreKey{ID: id, Key: pub[:]})
	}
	return b
}

// TestOMEMO2OverProsody: the same in OMEMO 2, starting from a device list
// node another client of ours made readable by contacts only: gab's
// publish meets the server's precondition-not-met, reconfigures the node
// (open: a stranger can read it) and keeps the device that was listed.
// python-omemo accepts gab's device and bundle and encrypts to it.
func TestOMEMO2OverProsody(t *testing.T) {
	srv, a, peer := aliceAndPeer(t, "stranger")
	const alice, peerJID = "alice@localhost", "peer@localhost"
	const other, ours = uint32(5555), uint32(4243)
	raw, err := xmpptest.LoginRaw(srv, "alice", "pw", "other")
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	if _, err := raw.IQ(`<iq type='set' id='pub1'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:omemo:2:devices'><item id='current'>`+
		`<devices xmlns='urn:xmpp:omemo:2'><device id='5555' label='old phone'/></devices></item></publish>`+
		`<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>`+
		`<field var='pubsub#access_model'><value>presence</value></field></x></publish-options></pubsub></iq>`, "pub1"); err != nil {
		t.Fatal(err)
	}
	stranger, err := xmpptest.LoginRaw(srv, "stranger", "pw", "raw")
	if err != nil {
		t.Fatal(err)
	}
	defer stranger.Close()
	read := `<iq type='get' to='alice@localhost' id='%s'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:omemo:2:devices'/></pubsub></iq>`
	if _, err := stranger.IQ(fmt.Sprintf(read, "r1"), "r1"); err == nil {
		t.Fatal("a stranger could read a list for contacts only: the test proves nothing")
	}

	keys := newOMEMOKeys(t)
	a.do(t, chat.PublishOMEMO{Version: chat.OMEMO2, DeviceID: ours, Label: "gab", Bundle: keys.bundle2(t)})
	own := a.r.wait(t, "our list", devicesOf(alice, chat.OMEMO2, false, other, ours)).(chat.OMEMODeviceListChanged)
	if !slices.Contains(own.Devices, chat.OMEMODevice{ID: other, Label: "old phone"}) || !slices.Contains(own.Devices, chat.OMEMODevice{ID: ours, Label: "gab"}) {
		t.Fatalf("labels: %+v", own.Devices)
	}
	if got, err := stranger.IQ(fmt.Sprintf(read, "r2"), "r2"); err != nil || !strings.Contains(got, "id='4243'") {
		t.Fatalf("a stranger cannot read our list after publishing: %v\n%s", err, got)
	}

	peerID := peer.EnableOMEMO(t, "2")
	ev, err := peer.Result(t, map[string]any{"cmd": "omemo_devices", "jid": alice, "version": "2"})
	if err != nil || !slices.Equal(ev.IDs("devices"), []uint32{ours, other}) {
		t.Fatalf("the peer reads our list as %v (%v)", ev, err)
	}
	if _, err := peer.Result(t, map[string]any{"cmd": "omemo_bundle", "jid": alice, "device": ours, "version": "2"}); err != nil {
		t.Fatalf("the peer refuses our bundle: %v", err)
	}
	a.r.wait(t, "the peer's device list", devicesOf(peerJID, chat.OMEMO2, false, peerID))
	// The peer encrypts to our device (other has no bundle: python-omemo
	// reports that and goes on).
	if ev, err := peer.Result(t, map[string]any{"cmd": "omemo_send", "to": alice, "body": "hello, gab", "version": "2"}); err != nil || ev.Get("sent") != "1" {
		t.Fatalf("the peer could not encrypt to us: %v %v", ev, err)
	}
	got := a.r.wait(t, "the encrypted message", is(func(m chat.MessageReceived) bool { return m.Bare == peerJID && m.Encrypted != nil })).(chat.MessageReceived)
	e := got.Encrypted
	if got.Body != "" || e.Version != chat.OMEMO2 || e.SID != peerID || e.Payload == nil {
		t.Fatalf("%q %+v", got.Body, e)
	}
	if k := e.KeyFor(alice, ours); k == nil || !k.PreKey {
		t.Fatalf("no key exchange for our device %d in %+v", ours, e.Keys)
	}

	a.do(t, chat.FetchOMEMOBundle{JID: peerJID, Version: chat.OMEMO2, DeviceID: peerID})
	fb := a.r.wait(t, "the peer's bundle", is(func(b chat.OMEMOBundleFetched) bool { return b.JID == peerJID && b.Version == chat.OMEMO2 })).(chat.OMEMOBundleFetched)
	ev, err = peer.Result(t, map[string]any{"cmd": "omemo_bundle", "jid": peerJID, "device": peerID, "version": "2"})
	if err != nil || base64.StdEncoding.EncodeToString(fb.Bundle.IdentityKey) != ev.Get("identity_key") || fmt.Sprint(len(fb.Bundle.PreKeys)) != ev.Get("prekeys") {
		t.Fatalf("gab read %x, the peer has %v (%v)", fb.Bundle.IdentityKey, ev, err)
	}
	// A device with no bundle is an error, not a bundle.
	id := a.c.Do(chat.FetchOMEMOBundle{JID: peerJID, Version: chat.OMEMO2, DeviceID: 99})
	if _, ok := a.r.wait(t, "the failed fetch", answerOf(id)).(chat.CommandFailed); !ok {
		t.Fatal("a missing bundle fetched")
	}
	// A new device of ours reaches the peer as a notification.
	a.do(t, chat.PublishOMEMO{Version: chat.OMEMO2, DeviceID: 4244, Bundle: newOMEMOKeys(t).bundle2(t)})
	peer.WaitFor(t, xmpptest.RoundTrip, "our new device", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "omemo_devices" && e.Get("from") == alice && slices.Equal(e.IDs("devices"), []uint32{ours, 4244, other})
	})
}

// TestOMEMOFromArchive: an encrypted message that came while gab was away
// comes from the archive as the <encrypted/> element, its fallback body
// shown nowhere and stored nowhere; the same from a carbon of a message to
// another of our devices.
func TestOMEMOFromArchive(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "peer", "pw")
	befriend(t, srv, "alice", "peer")
	store := openStore(t)
	acct := account(t, srv, "alice", "pw", "gab")
	a := start(t, acct, chat.Options{Store: store})
	a.r.wait(t, "the end of the archive", is(func(p chat.CatchUpProgress) bool { return p.Done }))
	a.do(t, chat.PublishOMEMO{Version: chat.OMEMO03, DeviceID: 4242, Bundle: newOMEMOKeys(t).bundle03(t)})
	// Another client of ours, online: the next message comes to gab as a
	// carbon of a message to it.
	other, err := xmpptest.LoginRaw(srv, "alice", "pw", "other")
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	if err := other.Send(`<presence><priority>5</priority></presence>`); err != nil {
		t.Fatal(err)
	}
	peer := srv.StartPeer(t, "peer", "pw")
	peer.EnableOMEMO(t, "0.3")
	encrypted := func(what string, ok func(chat.MessageReceived) bool) chat.MessageReceived {
		t.Helper()
		m := a.r.wait(t, what, is(func(m chat.MessageReceived) bool { return m.Encrypted != nil && ok(m) })).(chat.MessageReceived)
		if m.Body != "" || m.Note != chat.OMEMOUnreadNote || m.Encrypted.KeyFor("alice@localhost", 4242) == nil {
			t.Fatalf("%s: %q %q %+v", what, m.Body, m.Note, m.Encrypted)
		}
		return m
	}
	peer.Must(t, map[string]any{"cmd": "omemo_send", "to": "alice@localhost", "address": "alice@localhost/other", "body": "to your other device", "version": "0.3"})
	encrypted("the carbon", func(m chat.MessageReceived) bool { return m.Carbon })

	a.stop()
	if err := peer.Do(t, map[string]any{"cmd": "omemo_send", "to": "alice@localhost", "body": "while you were away", "version": "0.3"}); err != nil {
		t.Fatalf("%v\n%v", err, peer.Events())
	}
	other.Close()
	a = start(t, acct, chat.Options{Store: store})
	m := encrypted("the archived message", func(m chat.MessageReceived) bool { return m.Archived })
	stored, _, err := store.Before(context.Background(), history.Conv{Peer: "peer@localhost"}, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range stored {
		if strings.Contains(s.Body, "OMEMO") || strings.Contains(s.Body, "away") {
			t.Fatalf("stored %q", s.Body)
		}
	}
	if m.StoreID == 0 {
		t.Fatal("the archived message was not stored")
	}
}
