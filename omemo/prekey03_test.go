package omemo

import (
	"bytes"
	"strings"
	"testing"

	"google.golang.org/protobuf/encoding/protowire"
)

// x3dhParties is a responder's keys and bundle and an initiator's identity.
type x3dhParties struct {
	aliceIK         *[KeySize]byte
	bobIK, spk, opk *[KeySize]byte
	bundle          Bundle03
}

func newX3DHParties(seed uint64) *x3dhParties {
	r := detRand(seed)
	p := &x3dhParties{aliceIK: detKey(r), bobIK: detKey(r), spk: detKey(r), opk: detKey(r)}
	spkPub := PublicKey(p.spk)
	var z [randomSize]byte
	r.Read(z[:])
	sig := signWithRandom(p.bobIK, EncodePublicKey03(&spkPub), &z)
	p.bundle = Bundle03{IdentityKey: PublicKey(p.bobIK), SignedPreKey: spkPub, SignedPreKeyID: 7,
		SignedPreKeySig: sig[:], PreKey: PublicKey(p.opk), PreKeyID: 42}
	return p
}

func TestPreKey03SessionRoundTrip(t *testing.T) {
	p := newX3DHParties(1)
	aRand, bRand := detRand(101), detRand(102)
	alice, pk, err := InitiateSession03(aRand, p.aliceIK, 1234, &p.bundle)
	if err != nil {
		t.Fatal(err)
	}
	if pk.PreKeyID != 42 || pk.SignedPreKeyID != 7 || pk.IdentityKey != PublicKey(p.aliceIK) {
		t.Fatalf("pre-key message names the wrong keys: %+v", pk)
	}
	// Two messages before any answer, both wrapped; they arrive in order.
	var wires [][]byte
	for _, text := range []string{"first", "second"} {
		inner, err := alice.Encrypt([]byte(text))
		if err != nil {
			t.Fatal(err)
		}
		wires = append(wires, pk.Wrap(inner))
	}
	m, err := ParsePreKeyMessage03(wires[0])
	if err != nil {
		t.Fatal(err)
	}
	if m.RegistrationID != 1234 || m.PreKeyID != 42 || m.SignedPreKeyID != 7 || m.BaseKey != pk.BaseKey || m.IdentityKey != pk.IdentityKey {
		t.Fatalf("decoded %+v, sent %+v", m, pk)
	}
	bob, pt, err := RespondSession03(bRand, p.bobIK, p.spk, p.opk, m)
	if err != nil {
		t.Fatal(err)
	}
	if string(pt) != "first" {
		t.Fatalf("bob read %q", pt)
	}
	// The second pre-key message goes to the session already built.
	m2, err := ParsePreKeyMessage03(wires[1])
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := bob.Decrypt(bRand, m2.Message); err != nil || string(pt) != "second" {
		t.Fatalf("second: %q, %v", pt, err)
	}
	reply, err := bob.Encrypt([]byte("reply"))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := alice.Decrypt(aRand, reply); err != nil || string(pt) != "reply" {
		t.Fatalf("reply: %q, %v", pt, err)
	}
}

func TestPreKey03InitiatorRefusesBadSignature(t *testing.T) {
	p := newX3DHParties(2)
	b := p.bundle
	b.SignedPreKeySig = bytes.Clone(b.SignedPreKeySig)
	b.SignedPreKeySig[5] ^= 1
	if _, _, err := InitiateSession03(detRand(3), p.aliceIK, 0, &b); err != errBadSignedPreKey {
		t.Fatalf("tampered signature: %v, want refused", err)
	}
	// A signature by another key over the right pre-key.
	b = p.bundle
	b.IdentityKey = PublicKey(p.aliceIK)
	if _, _, err := InitiateSession03(detRand(3), p.aliceIK, 0, &b); err != errBadSignedPreKey {
		t.Fatalf("signature of another identity: %v, want refused", err)
	}
}

// TestPreKey03ResponderRefuses: wrong keys or a damaged message give an
// error and no session.
func TestPreKey03ResponderRefuses(t *testing.T) {
	p := newX3DHParties(4)
	alice, pk, err := InitiateSession03(detRand(5), p.aliceIK, 0, &p.bundle)
	if err != nil {
		t.Fatal(err)
	}
	inner, err := alice.Encrypt([]byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	good, err := ParsePreKeyMessage03(pk.Wrap(inner))
	if err != nil {
		t.Fatal(err)
	}
	other := detKey(detRand(99))
	flipped := *good
	flipped.Message = bytes.Clone(good.Message)
	flipped.Message[len(flipped.Message)-1] ^= 1
	otherBase := *good
	otherBase.BaseKey = PublicKey(other)
	otherIK := *good
	otherIK.IdentityKey = PublicKey(other)
	lowOrder := *good
	lowOrder.BaseKey = [KeySize]byte{} // u = 0
	// The same keys with the top bit set, which X25519 ignores: the
	// message as sent was not this one.
	topBase := *good
	topBase.BaseKey[KeySize-1] |= 0x80
	topIK := *good
	topIK.IdentityKey[KeySize-1] |= 0x80
	cases := []struct {
		name         string
		ik, spk, opk *[KeySize]byte
		m            *PreKeyMessage03
	}{
		{"wrong one-time pre-key", p.bobIK, p.spk, other, good},
		{"no one-time pre-key", p.bobIK, p.spk, nil, good},
		{"wrong signed pre-key", p.bobIK, other, p.opk, good},
		{"wrong identity key", other, p.spk, p.opk, good},
		{"tampered message", p.bobIK, p.spk, p.opk, &flipped},
		{"another base key", p.bobIK, p.spk, p.opk, &otherBase},
		{"another initiator identity", p.bobIK, p.spk, p.opk, &otherIK},
		{"low-order base key", p.bobIK, p.spk, p.opk, &lowOrder},
		{"base key with its top bit set", p.bobIK, p.spk, p.opk, &topBase},
		{"identity key with its top bit set", p.bobIK, p.spk, p.opk, &topIK},
	}
	for _, c := range cases {
		s, pt, err := RespondSession03(detRand(6), c.ik, c.spk, c.opk, c.m)
		if err == nil || s != nil || pt != nil {
			t.Errorf("%s: session %v, plaintext %q, error %v; want refused", c.name, s != nil, pt, err)
		}
	}
	// And the good one still works: nothing above consumed it.
	if _, pt, err := RespondSession03(detRand(6), p.bobIK, p.spk, p.opk, good); err != nil || string(pt) != "hello" {
		t.Fatalf("good message: %q, %v", pt, err)
	}
}

// preKeyFields builds a pre-key message field by field for the decoder
// tests.
type pkField struct {
	num protowire.Number
	typ protowire.Type
	v   []byte // bytes for BytesType, ignored otherwise
	n   uint64 // varint value
}

func buildPreKey(fields ...pkField) []byte {
	b := []byte{0x33}
	for _, f := range fields {
		b = protowire.AppendTag(b, f.num, f.typ)
		switch f.typ {
		case protowire.BytesType:
			b = protowire.AppendBytes(b, f.v)
		case protowire.VarintType:
			b = protowire.AppendVarint(b, f.n)
		case protowire.Fixed32Type:
			b = protowire.AppendFixed32(b, uint32(f.n))
		case protowire.Fixed64Type:
			b = protowire.AppendFixed64(b, f.n)
		}
	}
	return b
}

func TestParsePreKeyMessage03Strict(t *testing.T) {
	key := EncodePublicKey03(&[KeySize]byte{9})
	inner := []byte{0x33, 1, 2, 3}
	pkID := pkField{num: 1, typ: protowire.VarintType, n: 42}
	base := pkField{num: 2, typ: protowire.BytesType, v: key}
	ik := pkField{num: 3, typ: protowire.BytesType, v: key}
	msg := pkField{num: 4, typ: protowire.BytesType, v: inner}
	spkID := pkField{num: 6, typ: protowire.VarintType, n: 7}
	good := []pkField{pkID, base, ik, msg, spkID}
	with := func(extra ...pkField) []pkField { return append(append([]pkField(nil), good...), extra...) }
	without := func(num protowire.Number) []pkField {
		var out []pkField
		for _, f := range good {
			if f.num != num {
				out = append(out, f)
			}
		}
		return out
	}
	ok := func(fs ...pkField) []byte { return buildPreKey(fs...) }

	valid := []struct {
		name string
		b    []byte
	}{
		{"all fields", ok(good...)},
		{"other order", ok(spkID, msg, ik, base, pkID)},
		{"registration id", ok(with(pkField{num: 5, typ: protowire.VarintType, n: 1})...)},
		{"unknown varint field", ok(with(pkField{num: 9, typ: protowire.VarintType, n: 300})...)},
		{"unknown bytes field", ok(with(pkField{num: 100, typ: protowire.BytesType, v: []byte("x")})...)},
		{"unknown fixed32 field", ok(with(pkField{num: 7, typ: protowire.Fixed32Type, n: 1})...)},
		{"unknown fixed64 field", ok(with(pkField{num: 8, typ: protowire.Fixed64Type, n: 1})...)},
		{"largest uint32", ok(pkField{num: 1, typ: protowire.VarintType, n: 1<<32 - 1}, base, ik, msg, spkID)},
	}
	for _, c := range valid {
		m, err := ParsePreKeyMessage03(c.b)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if m.BaseKey != [KeySize]byte{9} || m.IdentityKey != [KeySize]byte{9} || m.SignedPreKeyID != 7 || !bytes.Equal(m.Message, inner) {
			t.Errorf("%s: decoded %+v", c.name, m)
		}
	}

	goodBytes := ok(good...)
	wrongVersion := bytes.Clone(goodBytes)
	wrongVersion[0] = 0x32
	badKey := bytes.Clone(key)
	badKey[0] = 0x06
	invalid := []struct {
		name, want string
		b          []byte
	}{
		{"empty", "version", nil},
		{"version only", "lacks", []byte{0x33}},
		{"version 2", "version", wrongVersion},
		{"no version byte", "version", goodBytes[1:]},
		{"missing pre-key id", "lacks field 1", ok(without(1)...)},
		{"missing base key", "lacks field 2", ok(without(2)...)},
		{"missing identity key", "lacks field 3", ok(without(3)...)},
		{"missing message", "lacks field 4", ok(without(4)...)},
		{"missing signed pre-key id", "lacks field 6", ok(without(6)...)},
		{"repeated pre-key id", "repeated", ok(with(pkID)...)},
		{"repeated base key", "repeated", ok(with(base)...)},
		{"repeated message", "repeated", ok(with(msg)...)},
		{"repeated registration id", "repeated", ok(with(pkField{num: 5, typ: protowire.VarintType, n: 1}, pkField{num: 5, typ: protowire.VarintType, n: 1})...)},
		{"pre-key id as bytes", "wrong type", ok(pkField{num: 1, typ: protowire.BytesType, v: []byte{1}}, base, ik, msg, spkID)},
		{"base key as varint", "wrong type", ok(pkID, pkField{num: 2, typ: protowire.VarintType, n: 1}, ik, msg, spkID)},
		{"message as fixed32", "wrong type", ok(pkID, base, ik, pkField{num: 4, typ: protowire.Fixed32Type}, spkID)},
		{"signed pre-key id as fixed64", "wrong type", ok(pkID, base, ik, msg, pkField{num: 6, typ: protowire.Fixed64Type})},
		{"pre-key id over 32 bits", "malformed", ok(pkField{num: 1, typ: protowire.VarintType, n: 1 << 32}, base, ik, msg, spkID)},
		{"short base key", "bytes", ok(pkID, pkField{num: 2, typ: protowire.BytesType, v: key[:32]}, ik, msg, spkID)},
		{"long identity key", "bytes", ok(pkID, base, pkField{num: 3, typ: protowire.BytesType, v: append(bytes.Clone(key), 0)}, msg, spkID)},
		{"key type 6", "unknown type", ok(pkID, pkField{num: 2, typ: protowire.BytesType, v: badKey}, ik, msg, spkID)},
		{"empty message", "empty message", ok(pkID, base, ik, pkField{num: 4, typ: protowire.BytesType}, spkID)},
		{"truncated", "malformed", goodBytes[:len(goodBytes)-20]},
		{"truncated varint", "malformed", append(bytes.Clone(goodBytes), 0x48, 0x80)},
		{"truncated known varint", "malformed", append(ok(base, ik, msg, spkID), 0x08, 0x80)},
		{"field number 0", "malformed", append(bytes.Clone(goodBytes), 0x00, 0x00)},
		{"group field", "malformed", append(bytes.Clone(goodBytes), 0x4b)},
	}
	for _, c := range invalid {
		m, err := ParsePreKeyMessage03(c.b)
		if err == nil {
			t.Errorf("%s: decoded %+v, want refused", c.name, m)
			continue
		}
		if !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q, want one mentioning %q", c.name, err, c.want)
		}
	}
}

func TestPreKeyMessage03MarshalRoundTrip(t *testing.T) {
	for _, reg := range []uint32{0, 1, 1<<32 - 1} {
		m := PreKeyMessage03{RegistrationID: reg, PreKeyID: 1<<32 - 1, SignedPreKeyID: 0,
			BaseKey: [KeySize]byte{1, 2}, IdentityKey: [KeySize]byte{31: 0xff}, Message: []byte{0x33, 0}}
		got, err := ParsePreKeyMessage03(m.Marshal())
		if err != nil {
			t.Fatalf("registration id %d: %v", reg, err)
		}
		if got.RegistrationID != m.RegistrationID || got.PreKeyID != m.PreKeyID || got.SignedPreKeyID != m.SignedPreKeyID ||
			got.BaseKey != m.BaseKey || got.IdentityKey != m.IdentityKey || !bytes.Equal(got.Message, m.Message) {
			t.Fatalf("round trip of %+v gave %+v", m, got)
		}
	}
}

// FuzzParsePreKeyMessage03: the decoder never panics, and what it accepts
// encodes back to something it decodes to the same message.
func FuzzParsePreKeyMessage03(f *testing.F) {
	p := newX3DHParties(8)
	alice, pk, err := InitiateSession03(detRand(9), p.aliceIK, 5, &p.bundle)
	if err != nil {
		f.Fatal(err)
	}
	inner, err := alice.Encrypt([]byte("seed"))
	if err != nil {
		f.Fatal(err)
	}
	f.Add(pk.Wrap(inner))
	f.Add([]byte{0x33})
	f.Add([]byte{0x33, 0x08, 0x01, 0x08, 0x01})
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := ParsePreKeyMessage03(b)
		if err != nil {
			return
		}
		again, err := ParsePreKeyMessage03(m.Marshal())
		if err != nil {
			t.Fatalf("re-encoding of an accepted message refused: %v", err)
		}
		if again.RegistrationID != m.RegistrationID || again.PreKeyID != m.PreKeyID || again.SignedPreKeyID != m.SignedPreKeyID ||
			again.BaseKey != m.BaseKey || again.IdentityKey != m.IdentityKey || !bytes.Equal(again.Message, m.Message) {
			t.Fatalf("re-encoding changed %+v into %+v", m, again)
		}
		// Whatever it carries, the responder refuses or succeeds without
		// panicking.
		_, _, _ = RespondSession03(detRand(10), p.bobIK, p.spk, p.opk, m)
	})
}

// TestPreKey03HeaderKeptUntilAnswered: an initiator's session carries its
// pre-key message header through the store until the responder's first
// message decrypts; a stored header that does not fit the session is
// refused.
func TestPreKey03HeaderKeptUntilAnswered(t *testing.T) {
	p := newX3DHParties(21)
	alice, pk, err := InitiateSession03(detRand(210), p.aliceIK, 77, &p.bundle)
	if err != nil {
		t.Fatal(err)
	}
	restored, err := UnmarshalSession03(alice.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if h, ok := restored.PreKeyHeader(); !ok || !bytes.Equal(h.Marshal(), pk.Marshal()) {
		t.Fatalf("restored header %+v %v, want %+v", h, ok, pk)
	}
	if restored.PeerIdentity() != p.bundle.IdentityKey {
		t.Fatal("the initiator's peer identity is not the bundle's")
	}
	inner, err := restored.Encrypt([]byte("hi"))
	if err != nil {
		t.Fatal(err)
	}
	m, err := ParsePreKeyMessage03(pk.Wrap(inner))
	if err != nil {
		t.Fatal(err)
	}
	bob, _, err := RespondSession03(detRand(211), p.bobIK, p.spk, p.opk, m)
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := bob.PreKeyHeader(); ok || bob.PeerIdentity() != PublicKey(p.aliceIK) {
		t.Fatal("the responder has a pre-key header, or the wrong peer identity")
	}
	// A message that fails leaves the header; the answer clears it.
	if _, err := restored.Decrypt(detRand(212), []byte{0x33, 1, 2, 3, 4, 5, 6, 7, 8, 9}); err == nil {
		t.Fatal("decrypted garbage")
	}
	if _, ok := restored.PreKeyHeader(); !ok {
		t.Fatal("a refused message cleared the header")
	}
	reply, err := bob.Encrypt([]byte("answer"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := restored.Decrypt(detRand(213), reply); err != nil {
		t.Fatal(err)
	}
	if _, ok := restored.PreKeyHeader(); ok {
		t.Fatal("the header outlived the answer")
	}
	again, err := UnmarshalSession03(restored.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := again.PreKeyHeader(); ok {
		t.Fatal("the header came back from the store")
	}
	// A stored header whose identity is not the session's own is refused.
	b := alice.Marshal()
	off := len(b) - KeySize // the header's identity key, last
	b[off] ^= 1
	if _, err := UnmarshalSession03(b); err == nil {
		t.Fatal("accepted a pending header with another identity key")
	}
}
