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

// benchSessions03 is our device with established sessions (each peer has
// answered, so no pre-key messages) to n devices.
func benchSessions03(b *testing.B, n int) (*party03, []*party03) {
	b.Helper()
	us := newParty03(b, 500)
	peers := make([]*party03, n)
	for i := range peers {
		peers[i] = newParty03(b, uint64(501+i))
		peers[i].mustReceive(us, us.send([]byte("hello"), peers[i]), "hello")
		us.mustReceive(peers[i], peers[i].send([]byte("answer"), us), "answer")
	}
	return us, peers
}

// BenchmarkEncryptMessage03To100Devices is one 100-byte message encrypted
// for 100 devices with existing sessions: the payload once, key and tag
// through each session.
func BenchmarkEncryptMessage03To100Devices(b *testing.B) {
	us, peers := benchSessions03(b, 100)
	rs := make([]Recipient03, len(peers))
	for i, p := range peers {
		rs[i] = Recipient03{DeviceID: p.dev.ID(), Session: us.session(p.dev.ID())}
	}
	msg := make([]byte, 100)
	for b.Loop() {
		e, err := EncryptMessage03(us.rand, us.dev, msg, rs)
		if err != nil || len(e.Keys) != 100 {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecryptMessage03 is reading one 100-byte message through an
// existing session (no ratchet turn).
func BenchmarkDecryptMessage03(b *testing.B) {
	us, peers := benchSessions03(b, 1)
	e := peers[0].send(make([]byte, 100), us)
	s := us.session(peers[0].dev.ID())
	k := e.keyFor(b, us.dev.ID())
	for b.Loop() {
		if _, err := DecryptMessage03(us.rand, us.dev, s, k, e.IV[:], e.Payload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecryptPreKeyMessage03 is reading a pre-key message: X3DH and
// the first ratchet turn on our side.
func BenchmarkDecryptPreKeyMessage03(b *testing.B) {
	us, peer := newParty03(b, 600), newParty03(b, 601)
	e := peer.send(make([]byte, 100), us)
	k := e.keyFor(b, us.dev.ID())
	for b.Loop() {
		if _, err := DecryptMessage03(us.rand, us.dev, nil, k, e.IV[:], e.Payload); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkNewDevice(b *testing.B) {
	r := detRand(700)
	for b.Loop() {
		if _, err := NewDevice(r, deviceEpoch); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkUnmarshalDevice(b *testing.B) {
	d, err := NewDevice(detRand(701), deviceEpoch)
	if err != nil {
		b.Fatal(err)
	}
	raw := d.Marshal()
	for b.Loop() {
		if _, err := UnmarshalDevice(raw); err != nil {
			b.Fatal(err)
		}
	}
}
