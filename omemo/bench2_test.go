package omemo

import "testing"

// BenchmarkRatchet2Message is one OMEMO 2 message in a chain, the 48
// bytes of key material a session carries: encrypted by one session,
// decrypted by the other (no DH ratchet turn).
func BenchmarkRatchet2Message(b *testing.B) {
	p := newRatchet2Pair(b, 7)
	msg := make([]byte, PayloadKeyMaterialSize2)
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

// BenchmarkRatchet2Turn is a reply and its answer: each decryption turns
// the DH ratchet.
func BenchmarkRatchet2Turn(b *testing.B) {
	p := newRatchet2Pair(b, 8)
	msg := make([]byte, PayloadKeyMaterialSize2)
	for b.Loop() {
		for _, s := range [][2]*Session2{{p.alice, p.bob}, {p.bob, p.alice}} {
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

// BenchmarkKeyExchange2Session is one new OMEMO 2 session on both sides:
// the initiator's checks and X3DH from a bundle and first message, the
// encoded key exchange parsed, the responder's X3DH and decryption.
func BenchmarkKeyExchange2Session(b *testing.B) {
	p := newX3DH2Parties(11)
	aRand, bRand := detRand(12), detRand(13)
	msg := make([]byte, PayloadKeyMaterialSize2)
	for b.Loop() {
		alice, kx, err := InitiateSession2(aRand, p.aliceIK, &p.bundle)
		if err != nil {
			b.Fatal(err)
		}
		inner, err := alice.Encrypt(msg)
		if err != nil {
			b.Fatal(err)
		}
		m, err := ParseKeyExchange2(kx.Wrap(inner))
		if err != nil {
			b.Fatal(err)
		}
		if _, _, err := RespondSession2(bRand, p.bobIK, p.spk, p.opk, m); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkPayload2 encrypts and decrypts a 1 KiB payload.
func BenchmarkPayload2(b *testing.B) {
	r := detRand(14)
	pt := make([]byte, 1024)
	b.SetBytes(int64(len(pt)))
	for b.Loop() {
		ct, km, err := EncryptPayload2(r, pt)
		if err != nil {
			b.Fatal(err)
		}
		if _, err := DecryptPayload2(km[:], ct); err != nil {
			b.Fatal(err)
		}
	}
}
