package omemo

import (
	"bytes"
	"errors"
	"fmt"
	"math"
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

// refused2 checks that decrypting data fails and leaves s as it was.
func refused2(t *testing.T, s *Session2, r *rand.ChaCha8, data []byte, what string) error {
	t.Helper()
	before := s.Marshal()
	pt, err := s.Decrypt(r, data)
	if err == nil {
		t.Fatalf("%s: decrypted to %q, want refused", what, pt)
	}
	if !bytes.Equal(before, s.Marshal()) {
		t.Fatalf("%s: refused (%v) but the session changed", what, err)
	}
	return err
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

// TestRatchet2AnyOrder: in random conversations, messages delivered in any
// order (within the skip limit) each decrypt once to what was sent; a
// second delivery is refused without changing the session.
func TestRatchet2AnyOrder(t *testing.T) {
	for seed := range uint64(40) {
		p := newRatchet2Pair(t, seed)
		order := rand.New(rand.NewPCG(seed, 8))
		var pending, done []inflight
		bobCanSend := false
		sent := 0
		for sent < 60 || len(pending) > 0 {
			switch a := order.IntN(3); {
			case sent < 60 && (a == 0 || a == 1 && !bobCanSend):
				msg := fmt.Appendf(nil, "seed %d alice %d", seed, sent)
				ct, err := p.alice.Encrypt(msg)
				if err != nil {
					t.Fatal(err)
				}
				pending = append(pending, inflight{toBob: true, ct: ct, pt: msg})
				sent++
			case sent < 60 && a == 1:
				msg := fmt.Appendf(nil, "seed %d bob %d", seed, sent)
				ct, err := p.bob.Encrypt(msg)
				if err != nil {
					t.Fatal(err)
				}
				pending = append(pending, inflight{ct: ct, pt: msg})
				sent++
			case len(pending) > 0:
				i := order.IntN(len(pending))
				m := pending[i]
				pending = append(pending[:i], pending[i+1:]...)
				s, r := p.alice, p.aliceRand
				if m.toBob {
					s, r = p.bob, p.bRand
				}
				pt, err := s.Decrypt(r, m.ct)
				if err != nil || !bytes.Equal(pt, m.pt) {
					t.Fatalf("seed %d: %q decrypted to %q, %v", seed, m.pt, pt, err)
				}
				bobCanSend = bobCanSend || m.toBob
				done = append(done, m)
			}
		}
		if len(p.alice.skipped) != 0 || len(p.bob.skipped) != 0 {
			t.Fatalf("seed %d: all delivered but %d and %d skipped keys left", seed, len(p.alice.skipped), len(p.bob.skipped))
		}
		for _, i := range order.Perm(len(done))[:10] {
			m := done[i]
			s, r := p.alice, p.aliceRand
			if m.toBob {
				s, r = p.bob, p.bRand
			}
			refused2(t, s, r, m.ct, fmt.Sprintf("seed %d: replay of %q", seed, m.pt))
		}
	}
}

// TestRatchet2BitFlip: every single bit flipped in a message, the first of
// a chain, a later one and one from a skipped key, is refused without
// changing the session; the message itself then decrypts.
func TestRatchet2BitFlip(t *testing.T) {
	p := newRatchet2Pair(t, 3)
	var cts [][]byte
	for i := range 3 {
		ct, err := p.alice.Encrypt(fmt.Appendf(nil, "message %d", i))
		if err != nil {
			t.Fatal(err)
		}
		cts = append(cts, ct)
	}
	for i, ct := range [][]byte{cts[0], cts[2], cts[1]} {
		for bit := range len(ct) * 8 {
			bad := bytes.Clone(ct)
			bad[bit/8] ^= 1 << (bit % 8)
			refused2(t, p.bob, p.bRand, bad, fmt.Sprintf("message %d bit %d flipped", i, bit))
		}
		refused2(t, p.bob, p.bRand, ct[:len(ct)-1], "truncated")
		refused2(t, p.bob, p.bRand, append(bytes.Clone(ct), 0), "lengthened")
		if _, err := p.bob.Decrypt(p.bRand, ct); err != nil {
			t.Fatalf("message %d after its flipped copies: %v", i, err)
		}
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
		if err := refused2(t, bob, p.bRand, ct, "other associated data"); !errors.Is(err, errAuth) {
			t.Fatalf("other associated data: %v, want errAuth", err)
		}
	}
	if _, err := p.bob.Decrypt(p.bRand, ct); err != nil {
		t.Fatal(err)
	}
}

func TestRatchet2SkipLimit(t *testing.T) {
	p := newRatchet2Pair(t, 4)
	var cts [][]byte
	for i := range MaxSkip + 2 {
		ct, err := p.alice.Encrypt(fmt.Appendf(nil, "%d", i))
		if err != nil {
			t.Fatal(err)
		}
		cts = append(cts, ct)
	}
	if err := refused2(t, p.bob, p.bRand, cts[MaxSkip+1], "one skip too many"); !errors.Is(err, errTooManySkipped) {
		t.Fatalf("skipping %d: %v, want errTooManySkipped", MaxSkip+1, err)
	}
	if pt, err := p.bob.Decrypt(p.bRand, cts[MaxSkip]); err != nil || string(pt) != fmt.Sprint(MaxSkip) {
		t.Fatalf("skipping exactly %d: %q, %v", MaxSkip, pt, err)
	}
	if _, err := p.bob.Decrypt(p.bRand, cts[MaxSkip+1]); err != nil {
		t.Fatalf("the message refused before, now within the limit: %v", err)
	}
	if len(p.bob.skipped) != MaxSkip {
		t.Fatalf("%d skipped keys kept, want %d", len(p.bob.skipped), MaxSkip)
	}
	// A new chain that skips two more: the two oldest keys make way.
	reply, err := p.bob.Encrypt([]byte("reply"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.alice.Decrypt(p.aliceRand, reply); err != nil {
		t.Fatal(err)
	}
	var next [][]byte
	for i := range 3 {
		ct, err := p.alice.Encrypt(fmt.Appendf(nil, "next %d", i))
		if err != nil {
			t.Fatal(err)
		}
		next = append(next, ct)
	}
	if _, err := p.bob.Decrypt(p.bRand, next[2]); err != nil {
		t.Fatal(err)
	}
	if len(p.bob.skipped) != MaxSkippedKeys {
		t.Fatalf("%d skipped keys kept, want the cap %d", len(p.bob.skipped), MaxSkippedKeys)
	}
	refused2(t, p.bob, p.bRand, cts[0], "message whose skipped key was dropped")
	refused2(t, p.bob, p.bRand, cts[1], "message whose skipped key was dropped")
	for _, ct := range [][]byte{cts[2], cts[MaxSkip-1], next[0], next[1]} {
		if _, err := p.bob.Decrypt(p.bRand, ct); err != nil {
			t.Fatalf("a message whose key was kept: %v", err)
		}
	}
}

func TestRatchet2SendingChainSpent(t *testing.T) {
	p := newRatchet2Pair(t, 11)
	p.alice.ns = math.MaxUint32 - 1
	ct, err := p.alice.Encrypt([]byte("last"))
	if err != nil {
		t.Fatal(err)
	}
	before := p.alice.Marshal()
	if _, err := p.alice.Encrypt([]byte("one too many")); !errors.Is(err, errChainSpent) {
		t.Fatalf("encrypting past the last message number: %v, want errChainSpent", err)
	}
	if !bytes.Equal(before, p.alice.Marshal()) {
		t.Fatal("a refused encryption changed the session")
	}
	h, err := header2(ct)
	if err != nil || h.n != math.MaxUint32-1 {
		t.Fatalf("last message numbered %d, %v", h.n, err)
	}
}

// TestRatchet2MarshalRoundTrip: a session restored from its bytes mid
// conversation, with skipped keys, is the same session: same bytes again,
// and it goes on exactly as the original. Bytes of another version or
// damaged are refused.
func TestRatchet2MarshalRoundTrip(t *testing.T) {
	p := newRatchet2Pair(t, 5)
	var held [][]byte
	for i := range 4 {
		ct, err := p.alice.Encrypt(fmt.Appendf(nil, "a%d", i))
		if err != nil {
			t.Fatal(err)
		}
		if i%2 == 0 {
			held = append(held, ct)
		} else if _, err := p.bob.Decrypt(p.bRand, ct); err != nil {
			t.Fatal(err)
		}
	}
	ct, err := p.bob.Encrypt([]byte("b0"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.alice.Decrypt(p.aliceRand, ct); err != nil {
		t.Fatal(err)
	}
	for _, s := range []*Session2{p.alice, p.bob, newRatchet2Pair(t, 6).bob} {
		b := s.Marshal()
		r, err := UnmarshalSession2(b)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(r.Marshal(), b) {
			t.Fatal("restored session marshals differently")
		}
		for n := range len(b) {
			if _, err := UnmarshalSession2(b[:n]); err == nil {
				t.Fatalf("session truncated to %d of %d bytes restored", n, len(b))
			}
		}
		if _, err := UnmarshalSession2(append(bytes.Clone(b), 0)); err == nil {
			t.Fatal("session with a trailing byte restored")
		}
		if _, err := UnmarshalSession03(b); err == nil {
			t.Fatal("an OMEMO 2 session restored as an OMEMO 0.3 one")
		}
	}
	for _, s := range []*Session03{newRatchetPair(t, 7).alice, newRatchetPair(t, 7).bob} {
		if _, err := UnmarshalSession2(s.Marshal()); err == nil {
			t.Fatal("an OMEMO 0.3 session restored as an OMEMO 2 one")
		}
	}
	bad := p.bob.Marshal()
	bad[2+KeySize+1] ^= 1 // the private ratchet key no longer matches its public half
	if _, err := UnmarshalSession2(bad); err == nil {
		t.Fatal("session with mismatched ratchet keys restored")
	}
	bad = p.bob.Marshal()
	bad[1] |= 0x40 // an unknown flag
	if _, err := UnmarshalSession2(bad); err == nil {
		t.Fatal("session with an unknown flag restored")
	}
	if len(p.bob.skipped) != 2 {
		t.Fatalf("bob holds %d skipped keys, want 2", len(p.bob.skipped))
	}
	bob2, err := UnmarshalSession2(p.bob.Marshal())
	if err != nil {
		t.Fatal(err)
	}
	r1, r2 := *p.bRand, *p.bRand
	for _, ct := range held {
		pt1, err1 := p.bob.Decrypt(&r1, ct)
		pt2, err2 := bob2.Decrypt(&r2, ct)
		if err1 != nil || err2 != nil || !bytes.Equal(pt1, pt2) {
			t.Fatalf("original %q %v, restored %q %v", pt1, err1, pt2, err2)
		}
	}
	ct1, err1 := p.bob.Encrypt([]byte("b1"))
	ct2, err2 := bob2.Encrypt([]byte("b1"))
	if err1 != nil || err2 != nil || !bytes.Equal(ct1, ct2) || !bytes.Equal(p.bob.Marshal(), bob2.Marshal()) {
		t.Fatalf("restored session went on differently: %v %v", err1, err2)
	}
}

// FuzzRatchet2Decrypt: whatever arrives, a refusal leaves the session as
// it was, and nothing but the real messages decrypts.
func FuzzRatchet2Decrypt(f *testing.F) {
	p := newRatchet2Pair(f, 9)
	var real [][]byte
	for i := range 3 {
		ct, err := p.alice.Encrypt(fmt.Appendf(nil, "m%d", i))
		if err != nil {
			f.Fatal(err)
		}
		real = append(real, ct)
		f.Add(ct)
	}
	f.Add([]byte{0x0a, 0x00, 0x12, 0x00})
	start := p.bob.Marshal()
	f.Fuzz(func(t *testing.T, data []byte) {
		bob, err := UnmarshalSession2(start)
		if err != nil {
			t.Fatal(err)
		}
		_, err = bob.Decrypt(detRand(1), data)
		isReal := false
		for _, ct := range real {
			isReal = isReal || bytes.Equal(ct, data)
		}
		if err == nil && !isReal {
			t.Fatalf("a message never sent decrypted: %x", data)
		}
		if err != nil && !bytes.Equal(bob.Marshal(), start) {
			t.Fatalf("refused (%v) but the session changed", err)
		}
	})
}

// FuzzUnmarshalSession2: any bytes are refused or restore a session that
// marshals back to them exactly.
func FuzzUnmarshalSession2(f *testing.F) {
	p := newRatchet2Pair(f, 10)
	f.Add(p.alice.Marshal())
	f.Add(p.bob.Marshal())
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := UnmarshalSession2(data)
		if err != nil {
			return
		}
		if !bytes.Equal(s.Marshal(), data) {
			t.Fatalf("restored from\n%x\nmarshals to\n%x", data, s.Marshal())
		}
	})
}
