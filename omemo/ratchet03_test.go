package omemo

import (
	"bytes"
	"errors"
	"fmt"
	"math"
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

// refused checks that decrypting data fails and leaves s as it was.
func refused(t *testing.T, s *Session03, r *rand.ChaCha8, data []byte, what string) error {
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

// inflight is a message on its way, with what it must decrypt to.
type inflight struct {
	toBob bool
	ct    []byte
	pt    []byte
}

// TestRatchet03AnyOrder: in random conversations, messages delivered in
// any order (within the skip limit) each decrypt once to what was sent; a
// second delivery is refused without changing the session.
func TestRatchet03AnyOrder(t *testing.T) {
	for seed := range uint64(40) {
		p := newRatchetPair(t, seed)
		order := rand.New(rand.NewPCG(seed, 7))
		var pending, done []inflight
		bobCanSend := false
		sent := 0
		deliver := func(i int) {
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
			if m.toBob {
				bobCanSend = true
			}
			done = append(done, m)
		}
		for sent < 60 || len(pending) > 0 {
			switch a := order.IntN(3); {
			case sent < 60 && a == 0 || sent < 60 && a == 1 && !bobCanSend:
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
				deliver(order.IntN(len(pending)))
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
			refused(t, s, r, m.ct, fmt.Sprintf("seed %d: replay of %q", seed, m.pt))
		}
	}
}

// TestRatchet03BitFlip: every single bit flipped in a message, in the
// first message of a chain and a later one, is refused without changing
// the session; the message itself then decrypts.
func TestRatchet03BitFlip(t *testing.T) {
	p := newRatchetPair(t, 3)
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
			refused(t, p.bob, p.bRand, bad, fmt.Sprintf("message %d bit %d flipped", i, bit))
		}
		refused(t, p.bob, p.bRand, ct[:len(ct)-1], "truncated")
		refused(t, p.bob, p.bRand, append(bytes.Clone(ct), 0), "lengthened")
		if _, err := p.bob.Decrypt(p.bRand, ct); err != nil {
			t.Fatalf("message %d after its flipped copies: %v", i, err)
		}
	}
}

func TestRatchet03SkipLimit(t *testing.T) {
	p := newRatchetPair(t, 4)
	var cts [][]byte
	for i := range MaxSkip + 2 {
		ct, err := p.alice.Encrypt(fmt.Appendf(nil, "%d", i))
		if err != nil {
			t.Fatal(err)
		}
		cts = append(cts, ct)
	}
	if err := refused(t, p.bob, p.bRand, cts[MaxSkip+1], "one skip too many"); !errors.Is(err, errTooManySkipped) {
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
	refused(t, p.bob, p.bRand, cts[0], "message whose skipped key was dropped")
	refused(t, p.bob, p.bRand, cts[1], "message whose skipped key was dropped")
	for _, ct := range [][]byte{cts[2], cts[MaxSkip-1], next[0], next[1]} {
		if _, err := p.bob.Decrypt(p.bRand, ct); err != nil {
			t.Fatalf("a message whose key was kept: %v", err)
		}
	}
}

// TestRatchet03MarshalRoundTrip: a session restored from its bytes mid
// conversation, with skipped keys, is the same session: same bytes again,
// and it goes on exactly as the original.
func TestRatchet03MarshalRoundTrip(t *testing.T) {
	p := newRatchetPair(t, 5)
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
	for _, s := range []*Session03{p.alice, p.bob, mustResponder(t)} {
		b := s.Marshal()
		r, err := UnmarshalSession03(b)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(r.Marshal(), b) {
			t.Fatal("restored session marshals differently")
		}
		for n := range len(b) {
			if _, err := UnmarshalSession03(b[:n]); err == nil {
				t.Fatalf("session truncated to %d of %d bytes restored", n, len(b))
			}
		}
		if _, err := UnmarshalSession03(append(bytes.Clone(b), 0)); err == nil {
			t.Fatal("session with a trailing byte restored")
		}
	}
	bad := p.bob.Marshal()
	bad[2+KeySize+1] ^= 1 // the private ratchet key no longer matches its public half
	if _, err := UnmarshalSession03(bad); err == nil {
		t.Fatal("session with mismatched ratchet keys restored")
	}
	if len(p.bob.skipped) != 2 {
		t.Fatalf("bob holds %d skipped keys, want 2", len(p.bob.skipped))
	}
	bob2, err := UnmarshalSession03(p.bob.Marshal())
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

func mustResponder(t *testing.T) *Session03 {
	return newRatchetPair(t, 6).bob
}

// FuzzRatchet03Decrypt: whatever arrives, a refusal leaves the session as
// it was, and nothing but the real messages decrypts.
func FuzzRatchet03Decrypt(f *testing.F) {
	p := newRatchetPair(f, 9)
	var real [][]byte
	for i := range 3 {
		ct, err := p.alice.Encrypt(fmt.Appendf(nil, "m%d", i))
		if err != nil {
			f.Fatal(err)
		}
		real = append(real, ct)
		f.Add(ct)
	}
	f.Add([]byte{messageVersion03})
	start := p.bob.Marshal()
	f.Fuzz(func(t *testing.T, data []byte) {
		bob, err := UnmarshalSession03(start)
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

// FuzzUnmarshalSession03: any bytes are refused or restore a session that
// marshals back to them exactly.
func FuzzUnmarshalSession03(f *testing.F) {
	p := newRatchetPair(f, 10)
	f.Add(p.alice.Marshal())
	f.Add(p.bob.Marshal())
	x := newX3DHParties(10)
	if pending, _, err := InitiateSession03(detRand(10), x.aliceIK, 5, &x.bundle); err == nil {
		f.Add(pending.Marshal())
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := UnmarshalSession03(data)
		if err != nil {
			return
		}
		if !bytes.Equal(s.Marshal(), data) {
			t.Fatalf("restored from\n%x\nmarshals to\n%x", data, s.Marshal())
		}
	})
}

func TestRatchet03SendingChainSpent(t *testing.T) {
	p := newRatchetPair(t, 11)
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
	h, _, err := parseMessage03(ct[:len(ct)-macSize03])
	if err != nil || h.n != math.MaxUint32-1 {
		t.Fatalf("last message numbered %d, %v", h.n, err)
	}
}
