package omemo

import (
	"bytes"
	"errors"
	"testing"
)

// party03 is one device with the sessions it has stored, committing what
// the message API returns the way the store will.
type party03 struct {
	t        testing.TB
	dev      *Device
	rand     interface{ Read([]byte) (int, error) }
	sessions map[uint32][]byte // peer device id → marshalled session
}

func newParty03(t testing.TB, seed uint64) *party03 {
	return &party03{t: t, dev: newTestDevice(t, seed), rand: detRand(seed + 1000), sessions: map[uint32][]byte{}}
}

func (p *party03) session(id uint32) *Session03 {
	b, ok := p.sessions[id]
	if !ok {
		return nil
	}
	s, err := UnmarshalSession03(b)
	if err != nil {
		p.t.Fatal(err)
	}
	return s
}

func (p *party03) bundleFor(t testing.TB, q *party03) *Bundle03 {
	pb := q.dev.PublishBundle03()
	b, err := pb.Choose(p.rand)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// send encrypts for the given parties and commits the sessions.
func (p *party03) send(plaintext []byte, to ...*party03) *Encrypted03 {
	p.t.Helper()
	var rs []Recipient03
	for _, q := range to {
		r := Recipient03{DeviceID: q.dev.ID(), Session: p.session(q.dev.ID())}
		if r.Session == nil {
			r.Bundle = p.bundleFor(p.t, q)
		}
		rs = append(rs, r)
	}
	e, err := EncryptMessage03(p.rand, p.dev, plaintext, rs)
	if err != nil {
		p.t.Fatal(err)
	}
	if len(e.Failed) != 0 || len(e.Keys) != len(to) {
		p.t.Fatalf("failed: %v", e.Failed)
	}
	for i, k := range e.Keys {
		p.sessions[k.RID] = e.Sessions[i].Marshal()
	}
	return e
}

func (e *Encrypted03) keyFor(t testing.TB, id uint32) KeyElement03 {
	for _, k := range e.Keys {
		if k.RID == id {
			return k
		}
	}
	t.Fatalf("no key for %d", id)
	return KeyElement03{}
}

// receive decrypts the key for p from sender and commits as the store
// will: session, and the pre-key taken from a clone of the device.
func (p *party03) receive(from *party03, e *Encrypted03) (*Decrypted03, error) {
	k := e.keyFor(p.t, p.dev.ID())
	d, err := DecryptMessage03(p.rand, p.dev, p.session(from.dev.ID()), k, e.IV[:], e.Payload)
	if err != nil {
		return nil, err
	}
	if d.UsedPreKey {
		c := p.dev.Clone()
		if err := c.TakePreKey(p.rand, d.PreKeyID); err != nil {
			p.t.Fatal(err)
		}
		p.dev = c
	}
	p.sessions[from.dev.ID()] = d.Session.Marshal()
	return d, nil
}

func (p *party03) mustReceive(from *party03, e *Encrypted03, want string) *Decrypted03 {
	p.t.Helper()
	d, err := p.receive(from, e)
	if err != nil {
		p.t.Fatalf("%d from %d: %v", p.dev.ID(), from.dev.ID(), err)
	}
	if string(d.Plaintext) != want {
		p.t.Fatalf("read %q, want %q", d.Plaintext, want)
	}
	if d.PeerIdentity != from.dev.IdentityKey() {
		p.t.Fatal("wrong peer identity")
	}
	return d
}

func TestMessage03Conversation(t *testing.T) {
	alice, bob, bob2 := newParty03(t, 1), newParty03(t, 2), newParty03(t, 3)
	e := alice.send([]byte("hello both"), bob, bob2)
	for _, k := range e.Keys {
		if !k.PreKey {
			t.Fatal("a first message is not a pre-key message")
		}
	}
	before := bob.dev.PreKeyIDs()
	d := bob.mustReceive(alice, e, "hello both")
	if !d.NewSession || !d.UsedPreKey || len(bob.dev.PreKeyIDs()) != NumPreKeys || bob.dev.PreKeyIDs()[NumPreKeys-1] != before[NumPreKeys-1]+1 {
		t.Fatalf("pre-key not taken and replaced: %+v", d)
	}
	bob2.mustReceive(alice, e, "hello both")

	// Alice has not heard back: her second message is a pre-key message
	// too, and goes to Bob's existing session without taking a key.
	e = alice.send([]byte("again"), bob)
	if !e.Keys[0].PreKey {
		t.Fatal("second message before an answer is not a pre-key message")
	}
	if d := bob.mustReceive(alice, e, "again"); d.NewSession || d.UsedPreKey {
		t.Fatalf("second pre-key message built a new session: %+v", d)
	}
	// Bob answers; after that Alice sends normal messages.
	bob.mustReceive(alice, alice.send([]byte("x"), bob), "x")
	alice.mustReceive(bob, bob.send([]byte("reply"), alice), "reply")
	e = alice.send([]byte("normal now"), bob, bob2)
	if e.keyFor(t, bob.dev.ID()).PreKey || !e.keyFor(t, bob2.dev.ID()).PreKey {
		t.Fatal("pre-key flags wrong after Bob's answer")
	}
	bob.mustReceive(alice, e, "normal now")
	bob2.mustReceive(alice, e, "normal now")

	// Several ratchet turns, and an empty message.
	for i := 0; i < 5; i++ {
		alice.mustReceive(bob, bob.send([]byte("b"), alice), "b")
		bob.mustReceive(alice, alice.send([]byte("a"), bob), "a")
	}
	empty, err := EncryptEmpty03(bob2.rand, bob2.dev, []Recipient03{{DeviceID: alice.dev.ID(), Session: bob2.session(alice.dev.ID())}})
	if err != nil || empty.Payload != nil {
		t.Fatalf("empty: %v", err)
	}
	d, err = alice.receive(bob2, empty)
	if err != nil || !d.Empty || d.Plaintext != nil {
		t.Fatalf("empty message: %+v %v", d, err)
	}
	if e := alice.send([]byte("after empty"), bob2); e.Keys[0].PreKey {
		t.Fatal("still pre-key messages after the peer's empty answer")
	}
}

// TestMessage03RefusedLeavesStateUnchanged: a replayed pre-key message,
// a replayed normal message, a tampered key, payload or IV, and a key for
// another device are refused, and the caller has nothing to store.
func TestMessage03RefusedLeavesStateUnchanged(t *testing.T) {
	alice, bob := newParty03(t, 4), newParty03(t, 5)
	first := alice.send([]byte("first"), bob)
	bob.mustReceive(alice, first, "first")
	devBefore, sessBefore := bob.dev.Marshal(), bob.sessions[alice.dev.ID()]

	refuse := func(name string, e *Encrypted03) {
		t.Helper()
		if d, err := bob.receive(alice, e); err == nil {
			t.Fatalf("%s: accepted, read %q", name, d.Plaintext)
		}
		if !bytes.Equal(devBefore, bob.dev.Marshal()) || !bytes.Equal(sessBefore, bob.sessions[alice.dev.ID()]) {
			t.Fatalf("%s: state changed", name)
		}
	}
	refuse("replayed pre-key message", first)
	// The same replay with Bob's session lost: the pre-key is gone.
	delete(bob.sessions, alice.dev.ID())
	k := first.Keys[0]
	if _, err := DecryptMessage03(bob.rand, bob.dev, nil, k, first.IV[:], first.Payload); err == nil {
		t.Fatal("a replayed pre-key message built a session again")
	}
	bob.sessions[alice.dev.ID()] = sessBefore

	alice.mustReceive(bob, bob.send([]byte("ack"), alice), "ack")
	devBefore, sessBefore = bob.dev.Marshal(), bob.sessions[alice.dev.ID()]
	e := alice.send([]byte("normal"), bob)
	flip := func(b []byte, i int) []byte {
		c := append([]byte(nil), b...)
		c[i] ^= 0x10
		return c
	}
	tampered := []*Encrypted03{
		{IV: e.IV, Payload: e.Payload, Keys: []KeyElement03{{RID: k.RID, Data: flip(e.Keys[0].Data, len(e.Keys[0].Data)/2)}}},
		{IV: e.IV, Payload: flip(e.Payload, 0), Keys: e.Keys},
		{IV: [12]byte(flip(e.IV[:], 3)), Payload: e.Payload, Keys: e.Keys},
		{IV: e.IV, Payload: e.Payload, Keys: []KeyElement03{{RID: k.RID, PreKey: true, Data: e.Keys[0].Data}}},
	}
	for i, x := range tampered {
		refuse("tampered "+string(rune('a'+i)), x)
	}
	wrongRID := &Encrypted03{IV: e.IV, Payload: e.Payload, Keys: []KeyElement03{{RID: k.RID, Data: e.Keys[0].Data}}}
	if _, err := DecryptMessage03(bob.rand, alice.dev, bob.session(alice.dev.ID()), wrongRID.Keys[0], e.IV[:], e.Payload); err == nil {
		t.Fatal("decrypted a key for another device")
	}
	bob.mustReceive(alice, e, "normal")
	devBefore, sessBefore = bob.dev.Marshal(), bob.sessions[alice.dev.ID()]
	refuse("replayed message", e)
}

func TestMessage03EncryptLeavesOutBadDevices(t *testing.T) {
	alice, bob, carol := newParty03(t, 6), newParty03(t, 7), newParty03(t, 8)
	good := alice.bundleFor(t, bob)
	bad := alice.bundleFor(t, carol)
	bad.SignedPreKeySig = append([]byte(nil), bad.SignedPreKeySig...)
	bad.SignedPreKeySig[5] ^= 1
	in := Recipient03{DeviceID: 99, Session: nil}
	e, err := EncryptMessage03(alice.rand, alice.dev, []byte("m"), []Recipient03{
		{DeviceID: bob.dev.ID(), Bundle: good}, {DeviceID: carol.dev.ID(), Bundle: bad}, in,
		{DeviceID: bob.dev.ID(), Bundle: good},
	})
	if err != nil || len(e.Keys) != 1 || len(e.Failed) != 3 {
		t.Fatalf("keys %d, failed %v, %v", len(e.Keys), e.Failed, err)
	}
	if !errors.Is(e.Failed[0].Err, errBadSignedPreKey) {
		t.Fatalf("bad bundle: %v", e.Failed[0].Err)
	}
	if _, err := EncryptMessage03(alice.rand, alice.dev, []byte("m"), []Recipient03{{DeviceID: carol.dev.ID(), Bundle: bad}}); !errors.Is(err, errNoRecipient) {
		t.Fatalf("no device left: %v", err)
	}
	if _, err := EncryptMessage03(alice.rand, alice.dev, nil, []Recipient03{{DeviceID: bob.dev.ID(), Bundle: good}}); !errors.Is(err, errEmptyPlaintext) {
		t.Fatalf("empty plaintext: %v", err)
	}
	// The session passed in is not changed by encrypting.
	alice.send([]byte("start"), bob)
	s := alice.session(bob.dev.ID())
	before := s.Marshal()
	if _, err := EncryptMessage03(alice.rand, alice.dev, []byte("m"), []Recipient03{{DeviceID: bob.dev.ID(), Session: s}}); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, s.Marshal()) {
		t.Fatal("encrypting changed the caller's session")
	}
}

// TestMessage03OldSignedPreKey: a pre-key message to the bundle from
// before a rotation still decrypts.
func TestMessage03OldSignedPreKey(t *testing.T) {
	alice, bob := newParty03(t, 9), newParty03(t, 10)
	b := alice.bundleFor(t, bob)
	if rotated, err := bob.dev.RotateSignedPreKey(bob.rand, deviceEpoch.Add(SignedPreKeyRotation)); !rotated || err != nil {
		t.Fatal(rotated, err)
	}
	e, err := EncryptMessage03(alice.rand, alice.dev, []byte("late"), []Recipient03{{DeviceID: bob.dev.ID(), Bundle: b}})
	if err != nil {
		t.Fatal(err)
	}
	bob.mustReceive(alice, e, "late")
}

func FuzzDecryptMessage03(f *testing.F) {
	alice, bob := newParty03(f, 11), newParty03(f, 12)
	e := alice.send([]byte("seed"), bob)
	f.Add(e.Keys[0].Data, true, e.IV[:], e.Payload)
	bob.mustReceive(alice, e, "seed")
	alice.mustReceive(bob, bob.send([]byte("r"), alice), "r")
	e = alice.send([]byte("seed two"), bob)
	f.Add(e.Keys[0].Data, false, e.IV[:], e.Payload)
	sess := bob.sessions[alice.dev.ID()]
	dev := bob.dev.Marshal()
	f.Fuzz(func(t *testing.T, data []byte, preKey bool, iv, payload []byte) {
		s, _ := UnmarshalSession03(sess)
		d, _ := UnmarshalDevice(dev)
		_, _ = DecryptMessage03(detRand(1), d, s, KeyElement03{RID: d.ID(), PreKey: preKey, Data: data}, iv, payload)
		if !bytes.Equal(s.Marshal(), sess) || !bytes.Equal(d.Marshal(), dev) {
			t.Fatal("decrypting changed the session or device passed in")
		}
	})
}
