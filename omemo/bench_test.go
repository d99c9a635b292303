package omemo

import "testing"

func benchKey(b *testing.B) *[KeySize]byte {
	var k [KeySize]byte
	for i := range k {
		k[i] = byte(i*7 + 1)
	}
	return &k
}

func BenchmarkXEdDSASign(b *testing.B) {
	priv := benchKey(b)
	msg := EncodePublicKey03(priv) // a signed pre-key's size
	for b.Loop() {
		if _, err := Sign(priv, msg); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkXEdDSAVerify(b *testing.B) {
	priv := benchKey(b)
	pub := PublicKey(priv)
	msg := EncodePublicKey03(&pub)
	sig, err := Sign(priv, msg)
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if !Verify(&pub, msg, sig[:]) {
			b.Fatal("refused")
		}
	}
}

func BenchmarkRootStep03(b *testing.B) {
	rk, dh := benchKey(b), benchKey(b)
	for b.Loop() {
		*rk, _ = rootStep(info03, rk, dh)
	}
}

func BenchmarkChainStepAndMessageKeys03(b *testing.B) {
	ck := benchKey(b)
	for b.Loop() {
		var mk [KeySize]byte
		*ck, mk = chainStep(ck)
		expandMessageKey(info03, &mk)
	}
}

// BenchmarkRatchet03Message is one message of 100 bytes in a chain:
// encrypted by one session, decrypted by the other (no DH ratchet turn).
func BenchmarkRatchet03Message(b *testing.B) {
	p := newRatchetPair(b, 7)
	msg := make([]byte, 100)
	for b.Loop() {
		ct, err := p.alice.Encrypt(msg)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := p.bob.Decrypt(p.bRand, ct); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRatchet03Turn is a reply and its answer: each decryption turns
// the DH ratchet (a new key pair and two X25519 per side).
func BenchmarkRatchet03Turn(b *testing.B) {
	p := newRatchetPair(b, 8)
	msg := make([]byte, 100)
	for b.Loop() {
		for _, s := range [][2]*Session03{{p.alice, p.bob}, {p.bob, p.alice}} {
			ct, err := s[0].Encrypt(msg)
			if err != nil {
				b.Fatal(err)
			}
			r := p.bRand
			if s[1] == p.alice {
				r = p.aliceRand
			}
			if _, err := s[1].Decrypt(r, ct); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkPreKey03Session is one new session on both sides: the
// initiator's X3DH from a bundle and first message, the responder's X3DH
// and decryption of it.
func BenchmarkPreKey03Session(b *testing.B) {
	p := newX3DHParties(11)
	aRand, bRand := detRand(12), detRand(13)
	for b.Loop() {
		alice, pk, err := InitiateSession03(aRand, p.aliceIK, 0, &p.bundle)
		if err != nil {
			b.Fatal(err)
		}
		inner, err := alice.Encrypt([]byte("hello"))
		if err != nil {
			b.Fatal(err)
		}
		m, err := ParsePreKeyMessage03(pk.Wrap(inner))
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := RespondSession03(bRand, p.bobIK, p.spk, p.opk, m); err != nil {
			b.Fatal(err)
		}
	}
}
