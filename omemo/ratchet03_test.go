package omemo

import (
	"bytes"
	"errors"
	"fmt"
	"math/rand/v2"
	"testing"
)

// detRand is a deterministic source of ratchet keys for tests.
func detRand(seed uint64) *rand.ChaCha8 {
	var s [32]byte
	s[0], s[1] = byte(seed), byte(seed>>8)
	return rand.NewChaCha8(s)
}

func detKey(r *rand.ChaCha8) *[KeySize]byte {
	var k [KeySize]byte
	r.Read(k[:])
	return &k
}

// ratchetPair is both ends of one session, set up as after X3DH.
type ratchetPair struct {
	alice, bob       *Session03
	aliceRand, bRand *rand.ChaCha8
}

func newRatchetPair(t testing.TB, seed uint64) *ratchetPair {
	t.Helper()
	r := detRand(seed)
	sk := detKey(r)
	ikA, ikB := PublicKey(detKey(r)), PublicKey(detKey(r))
	ad := x3dhAssociatedData03(&ikA, &ikB)
	spk := detKey(r)
	spkPub := PublicKey(spk)
	alice, err := NewSession03Initiator(sk, ad, &spkPub, detKey(r))
	if err != nil {
		t.Fatal(err)
	}
	bob, err := NewSession03Responder(sk, ad, spk)
	if err != nil {
		t.Fatal(err)
	}
	return &ratchetPair{alice: alice, bob: bob, aliceRand: detRand(seed + 1000), bRand: detRand(seed + 2000)}
}

func TestRatchet03Conversation(t *testing.T) {
	p := newRatchetPair(t, 1)
	if _, err := p.bob.Encrypt([]byte("too early")); !errors.Is(err, errCannotSend) {
		t.Fatalf("responder sending before receiving: %v, want errCannotSend", err)
	}
	for round := range 5 {
		for i := range round + 1 {
			msg := fmt.Appendf(nil, "alice %d.%d", round, i)
			ct, err := p.alice.Encrypt(msg)
			if err != nil {
				t.Fatal(err)
			}
			pt, err := p.bob.Decrypt(p.bRand, ct)
			if err != nil || !bytes.Equal(pt, msg) {
				t.Fatalf("round %d message %d: %q, %v", round, i, pt, err)
			}
		}
		msg := fmt.Appendf(nil, "bob %d", round)
		ct, err := p.bob.Encrypt(msg)
		if err != nil {
			t.Fatal(err)
		}
		pt, err := p.alice.Decrypt(p.aliceRand, ct)
		if err != nil || !bytes.Equal(pt, msg) {
			t.Fatalf("round %d reply: %q, %v", round, pt, err)
		}
	}
	if p.alice.pn == 0 || p.bob.pn == 0 {
		t.Fatalf("the DH ratchet never turned: pn %d and %d", p.alice.pn, p.bob.pn)
	}
}
