package omemo

import (
	"bytes"
	"errors"
	"testing"
)

// party2 is party03 in OMEMO 2: one device with the sessions it has
// stored, committing what the message API returns as the store does.
type party2 struct {
	t        testing.TB
	dev      *Device
	rand     interface{ Read([]byte) (int, error) }
	sessions map[uint32][]byte
}

func newParty2(t testing.TB, seed uint64) *party2 {
	return &party2{t: t, dev: newTestDevice(t, seed), rand: detRand(seed + 2000), sessions: map[uint32][]byte{}}
}

func (p *party2) session(id uint32) *Session2 {
	b, ok := p.sessions[id]
	if !ok {
		return nil
	}
	s, err := UnmarshalSession2(b)
	if err != nil {
		p.t.Fatal(err)
	}
	return s
}

func (p *party2) recipients(to []*party2) []Recipient2 {
	var rs []Recipient2
	for _, q := range to {
		r := Recipient2{DeviceID: q.dev.ID(), Session: p.session(q.dev.ID())}
		if r.Session == nil {
			pb := q.dev.PublishBundle2()
			b, err := pb.Choose(p.rand)
			if err != nil {
				p.t.Fatal(err)
			}
			r.Bundle = b
		}
		rs = append(rs, r)
	}
	return rs
}

func (p *party2) commit(e *Encrypted2) {
	for i, k := range e.Keys {
		p.sessions[k.RID] = e.Sessions[i].Marshal()
	}
}

func (p *party2) send(plaintext []byte, to ...*party2) *Encrypted2 {
	p.t.Helper()
	e, err := EncryptMessage2(p.rand, p.dev, plaintext, p.recipients(to))
	if err != nil || len(e.Failed) != 0 || len(e.Keys) != len(to) {
		p.t.Fatalf("encrypt: %v %v", err, e)
	}
	p.commit(e)
	return e
}

func (e *Encrypted2) keyFor(t testing.TB, id uint32) KeyElement2 {
	for _, k := range e.Keys {
		if k.RID == id {
			return k
		}
	}
	t.Fatalf("no key for %d", id)
	return KeyElement2{}
}

func (p *party2) receive(from *party2, e *Encrypted2) (*Decrypted2, error) {
	d, err := DecryptMessage2(p.rand, p.dev, p.session(from.dev.ID()), e.keyFor(p.t, p.dev.ID()), e.Payload)
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

func (p *party2) mustReceive(from *party2, e *Encrypted2, want string) *Decrypted2 {
	p.t.Helper()
	d, err := p.receive(from, e)
	if err != nil {
		p.t.Fatalf("%d from %d: %v", p.dev.ID(), from.dev.ID(), err)
	}
	if string(d.Plaintext) != want {
		p.t.Fatalf("read %q, want %q", d.Plaintext, want)
	}
	if d.PeerIdentity != from.dev.IdentityKeyEd25519() {
		p.t.Fatal("wrong peer identity")
	}
	if x, err := IdentityX25519(&d.PeerIdentity); err != nil || x != from.dev.IdentityKey() {
		p.t.Fatalf("the peer identity's X25519 form is not its fingerprint's: %v", err)
	}
	return d
}

// A conversation through the message API: key exchanges until the first
// answer (kept across a marshalled session), the one-time pre-key taken
// once, normal messages after, an empty message, and a replay refused
// with nothing to store.
func TestMessage2Conversation(t *testing.T) {
	alice, bob, bob2 := newParty2(t, 21), newParty2(t, 22), newParty2(t, 23)
	e := alice.send([]byte("hello both"), bob, bob2)
	for _, k := range e.Keys {
		if !k.Kex {
			t.Fatal("a first message is not a key exchange")
		}
	}
	d := bob.mustReceive(alice, e, "hello both")
	if !d.NewSession || !d.UsedPreKey {
		t.Fatalf("no new session from a key exchange: %+v", d)
	}
	bob2.mustReceive(alice, e, "hello both")
	// Not answered yet: the next message (from the stored session) is a
	// key exchange too, and goes into Bob's session without a pre-key.
	e = alice.send([]byte("again"), bob)
	if !e.Keys[0].Kex {
		t.Fatal("the second message before an answer is no key exchange")
	}
	if d := bob.mustReceive(alice, e, "again"); d.NewSession || d.UsedPreKey {
		t.Fatalf("the second key exchange built a new session: %+v", d)
	}
	// Bob answers with an empty message; Alice's messages are plain now.
	ans, err := EncryptEmpty2(bob.rand, bob.dev, bob.recipients([]*party2{alice}))
	if err != nil || ans.Payload != nil || ans.Keys[0].Kex {
		t.Fatalf("empty answer: %v %+v", err, ans)
	}
	bob.commit(ans)
	if d, err := alice.receive(bob, ans); err != nil || !d.Empty || d.Plaintext != nil {
		t.Fatalf("the empty answer: %+v %v", d, err)
	}
	e = alice.send([]byte("normal now"), bob, bob2)
	if e.keyFor(t, bob.dev.ID()).Kex || !e.keyFor(t, bob2.dev.ID()).Kex {
		t.Fatal("kex flags wrong after Bob's answer")
	}
	bob.mustReceive(alice, e, "normal now")
	before := bob.sessions[alice.dev.ID()]
	if _, err := bob.receive(alice, e); !errors.Is(err, ErrReplay) {
		t.Fatalf("a replay: %v, want ErrReplay", err)
	}
	if !bytes.Equal(before, bob.sessions[alice.dev.ID()]) {
		t.Fatal("a refused replay changed the session")
	}
}

// A key exchange replayed into a new session finds its pre-key taken.
func TestMessage2KeyExchangeReplayRefused(t *testing.T) {
	alice, bob := newParty2(t, 31), newParty2(t, 32)
	e := alice.send([]byte("hi"), bob)
	bob.mustReceive(alice, e, "hi")
	delete(bob.sessions, alice.dev.ID()) // as if the session were lost
	if _, err := bob.receive(alice, e); err == nil {
		t.Fatal("a replayed key exchange built a session again")
	}
}

// A bundle whose signature does not verify is refused before it is used.
func TestBundle2ChooseRefusesBadSignature(t *testing.T) {
	bob := newParty2(t, 41)
	pb := bob.dev.PublishBundle2()
	pb.SignedPreKeySignature[3] ^= 1
	if _, err := pb.Choose(detRand(1)); !errors.Is(err, errBadSignedPreKey) {
		t.Fatalf("a bad signature: %v", err)
	}
	pb = bob.dev.PublishBundle2()
	pb.PreKeys = nil
	if _, err := pb.Choose(detRand(1)); err == nil {
		t.Fatal("a bundle without pre-keys chosen")
	}
}

// A pending key exchange survives Marshal; one that names another
// identity than the session's is refused.
func TestSession2PendingMarshal(t *testing.T) {
	alice, bob := newParty2(t, 51), newParty2(t, 52)
	alice.send([]byte("x"), bob)
	s := alice.session(bob.dev.ID())
	k, ok := s.KeyExchange()
	if !ok || k.IdentityKey != alice.dev.IdentityKeyEd25519() {
		t.Fatalf("no pending key exchange after a restore: %v", ok)
	}
	b := s.Marshal()
	b[len(b)-KeySize-1] ^= 1 // the identity key in the pending part
	if _, err := UnmarshalSession2(b); err == nil {
		t.Fatal("a pending key exchange with another identity restored")
	}
}

// A message whose payload was removed on the way (a server can strip the
// <payload/> and keep the header) is not an empty message: its key
// material carries the payload's MAC, which an empty message never has.
// It is refused as an altered payload, and the session is left as it
// was, so that the message still reads when its whole copy comes (from
// the archive, say). Taken as empty, it vanished without a word and its
// later copy was refused as a replay.
func TestMessage2StrippedPayloadRefused(t *testing.T) {
	alice, bob := newParty2(t, 51), newParty2(t, 52)
	bob.mustReceive(alice, alice.send([]byte("first"), bob), "first")
	ans, err := EncryptEmpty2(bob.rand, bob.dev, bob.recipients([]*party2{alice}))
	if err != nil {
		t.Fatal(err)
	}
	bob.commit(ans)
	if _, err := alice.receive(bob, ans); err != nil {
		t.Fatal(err)
	}
	for _, kex := range []bool{false, true} {
		if kex {
			// A key exchange's payload stripped: a new session's first.
			alice, bob = newParty2(t, 53), newParty2(t, 54)
		}
		e := alice.send([]byte("the one that matters"), bob)
		if e.Keys[0].Kex != kex {
			t.Fatalf("kex %v, want %v", e.Keys[0].Kex, kex)
		}
		stripped := *e
		stripped.Payload = nil
		before := bob.sessions[alice.dev.ID()]
		if d, err := bob.receive(alice, &stripped); !errors.Is(err, ErrPayload) {
			t.Fatalf("kex %v: a message without its payload read as %+v, %v", kex, d, err)
		}
		if !bytes.Equal(before, bob.sessions[alice.dev.ID()]) {
			t.Fatal("the refused message changed the session")
		}
		bob.mustReceive(alice, e, "the one that matters")
	}
}
