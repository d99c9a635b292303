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

// benchSessions2 is benchSessions03 in OMEMO 2: us with answered sessions
// with n peers.
func benchSessions2(b *testing.B, n int) (*party2, []*party2) {
	us := newParty2(b, 700)
	peers := make([]*party2, n)
	for i := range peers {
		peers[i] = newParty2(b, uint64(800+i))
		peers[i].mustReceive(us, us.send([]byte("hello"), peers[i]), "hello")
		us.mustReceive(peers[i], peers[i].send([]byte("answer"), us), "answer")
	}
	return us, peers
}

// BenchmarkEncryptMessage2To100Devices is one OMEMO 2 message (a 300-byte
// envelope, about what a short body sealed with its padding makes)
// encrypted for 100 devices with sessions.
func BenchmarkEncryptMessage2To100Devices(b *testing.B) {
	us, peers := benchSessions2(b, 100)
	rs := make([]Recipient2, len(peers))
	for i, p := range peers {
		rs[i] = Recipient2{DeviceID: p.dev.ID(), Session: us.session(p.dev.ID())}
	}
	msg := make([]byte, 300)
	for b.Loop() {
		e, err := EncryptMessage2(us.rand, us.dev, msg, rs)
		if err != nil || len(e.Keys) != 100 {
			b.Fatal(err)
		}
	}
}

// BenchmarkEncryptMessage2 is the same message for one device.
func BenchmarkEncryptMessage2(b *testing.B) {
	us, peers := benchSessions2(b, 1)
	rs := []Recipient2{{DeviceID: peers[0].dev.ID(), Session: us.session(peers[0].dev.ID())}}
	msg := make([]byte, 300)
	for b.Loop() {
		if _, err := EncryptMessage2(us.rand, us.dev, msg, rs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecryptMessage2 is reading one such message through an
// existing session (no ratchet turn).
func BenchmarkDecryptMessage2(b *testing.B) {
	us, peers := benchSessions2(b, 1)
	e := peers[0].send(make([]byte, 300), us)
	s := us.session(peers[0].dev.ID())
	k := e.keyFor(b, us.dev.ID())
	for b.Loop() {
		if _, err := DecryptMessage2(us.rand, us.dev, s, k, e.Payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecryptKeyExchange2 is reading a key exchange: X3DH and the
// first ratchet turn on our side.
func BenchmarkDecryptKeyExchange2(b *testing.B) {
	us, peer := newParty2(b, 900), newParty2(b, 901)
	e := peer.send(make([]byte, 300), us)
	k := e.keyFor(b, us.dev.ID())
	for b.Loop() {
		if _, err := DecryptMessage2(us.rand, us.dev, nil, k, e.Payload); err != nil {
			b.Fatal(err)
		}
	}
}
