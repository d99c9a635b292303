package omemo

import (
	"bytes"
	"errors"
	"math/rand/v2"
	"testing"
)

// ratchet2Pair is both ends of one OMEMO 2 session, set up as after X3DH.
type ratchet2Pair struct {
	alice, bob       *Session2
	aliceRand, bRand *rand.ChaCha8
}

func newRatchet2Pair(t testing.TB, seed uint64) *ratchet2Pair {
	t.Helper()
	r := detRand(seed + 5000)
	sk := detKey(r)
	ikA, ikB := IdentityKey2(detKey(r)), IdentityKey2(detKey(r))
	ad := append(ikA[:], ikB[:]...)
	spk := detKey(r)
	spkPub := PublicKey(spk)
	alice, err := NewSession2Initiator(sk, ad, &spkPub, detKey(r))
	if err != nil {
		t.Fatal(err)
	}
	bob, err := NewSession2Responder(sk, ad, spk)
	if err != nil {
		t.Fatal(err)
	}
	return &ratchet2Pair{alice: alice, bob: bob, aliceRand: detRand(seed + 6000), bRand: detRand(seed + 7000)}
}

func TestRatchet2Sizes(t *testing.T) {
	for _, ad := range [][]byte{make([]byte, 63), make([]byte, 65), make([]byte, adSize03)} {
		if _, err := NewSession2Initiator(&[KeySize]byte{1}, ad, &[KeySize]byte{9}, &[KeySize]byte{2}); err == nil {
			t.Errorf("initiator with %d bytes of associated data", len(ad))
		}
		if _, err := NewSession2Responder(&[KeySize]byte{1}, ad, &[KeySize]byte{2}); err == nil {
			t.Errorf("responder with %d bytes of associated data", len(ad))
		}
	}
	p := newRatchet2Pair(t, 1)
	if _, err := p.bob.Encrypt([]byte("too early")); !errors.Is(err, errCannotSend) {
		t.Fatalf("responder sending before receiving: %v, want errCannotSend", err)
	}
	// The 48 bytes OMEMO 2 sends through a session: 64 bytes of
	// ciphertext, the message framed with its 16-byte MAC.
	ct, err := p.alice.Encrypt(make([]byte, 48))
	if err != nil {
		t.Fatal(err)
	}
	mac, msg, err := parseAuthenticated2(ct)
	if err != nil || len(mac) != macSize2 {
		t.Fatalf("MAC %x, %v", mac, err)
	}
	h, body, err := parseMessage2(msg)
	if err != nil || len(body) != 64 || h.ratchetKey != p.alice.sendPub || h.n != 0 || h.pn != 0 {
		t.Fatalf("header %+v, %d bytes of ciphertext, %v", h, len(body), err)
	}
}

// TestRatchet2OtherAssociatedData: a session whose X3DH gave other
// identity keys, or the same in the other order, cannot read the message.
func TestRatchet2OtherAssociatedData(t *testing.T) {
	p := newRatchet2Pair(t, 12)
	ct, err := p.alice.Encrypt([]byte("hello"))
	if err != nil {
		t.Fatal(err)
	}
	swapped := append(bytes.Clone(p.bob.ad[KeySize:]), p.bob.ad[:KeySize]...)
	changed := bytes.Clone(p.bob.ad)
	changed[40] ^= 1
	for _, ad := range [][]byte{swapped, changed} {
		bob := p.bob.clone()
		bob.ad = ad
		if err := refusedBy(t, bob, p.bRand, ct, "other associated data"); !errors.Is(err, errAuth) {
			t.Fatalf("other associated data: %v, want errAuth", err)
		}
	}
	if _, err := p.bob.Decrypt(p.bRand, ct); err != nil {
		t.Fatal(err)
	}
}
