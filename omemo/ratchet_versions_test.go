package omemo

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"testing"
)

// ratchetEnd is one end of a session of either version, as the tests
// below drive it: they hold for both.
type ratchetEnd interface {
	Encrypt(plaintext []byte) ([]byte, error)
	Decrypt(rand io.Reader, data []byte) ([]byte, error)
	Marshal() []byte
}

// state is the ratchet under either version's session.
func state(e ratchetEnd) *ratchet {
	switch s := e.(type) {
	case *Session03:
		return &s.ratchet
	case *Session2:
		return &s.ratchet
	}
	panic(fmt.Sprintf("no ratchet in %T", e))
}

// endPair is both ends of one session, set up as after X3DH.
type endPair struct {
	alice, bob       ratchetEnd
	aliceRand, bRand *rand.ChaCha8
}

// ratchetVersion is what the tests need to know of a version.
type ratchetVersion struct {
	name      string
	pair      func(t testing.TB, seed uint64) endPair
	unmarshal func([]byte) (ratchetEnd, error)
	initiator func(sk *[KeySize]byte, ad []byte, theirSignedPreKey, ourRatchetPriv *[KeySize]byte) (ratchetEnd, error)
	responder func(sk *[KeySize]byte, ad []byte, ourSignedPreKey *[KeySize]byte) (ratchetEnd, error)
	number    func(ct []byte) (uint32, error) // the message number in a message's header
}

var ratchetVersions = []ratchetVersion{
	{
		name: "0.3",
		pair: func(t testing.TB, seed uint64) endPair {
			p := newRatchetPair(t, seed)
			return endPair{p.alice, p.bob, p.aliceRand, p.bRand}
		},
		unmarshal: func(b []byte) (ratchetEnd, error) { return UnmarshalSession03(b) },
		initiator: func(sk *[KeySize]byte, ad []byte, spk, priv *[KeySize]byte) (ratchetEnd, error) {
			return NewSession03Initiator(sk, ad, spk, priv)
		},
		responder: func(sk *[KeySize]byte, ad []byte, spk *[KeySize]byte) (ratchetEnd, error) {
			return NewSession03Responder(sk, ad, spk)
		},
		number: func(ct []byte) (uint32, error) {
			h, _, err := parseMessage03(ct[:len(ct)-macSize03])
			return h.n, err
		},
	},
	{
		name: "2",
		pair: func(t testing.TB, seed uint64) endPair {
			p := newRatchet2Pair(t, seed)
			return endPair{p.alice, p.bob, p.aliceRand, p.bRand}
		},
		unmarshal: func(b []byte) (ratchetEnd, error) { return UnmarshalSession2(b) },
		initiator: func(sk *[KeySize]byte, ad []byte, spk, priv *[KeySize]byte) (ratchetEnd, error) {
			return NewSession2Initiator(sk, ad, spk, priv)
		},
		responder: func(sk *[KeySize]byte, ad []byte, spk *[KeySize]byte) (ratchetEnd, error) {
			return NewSession2Responder(sk, ad, spk)
		},
		number: func(ct []byte) (uint32, error) {
			h, err := header2(ct)
			return h.n, err
		},
	},
}

// forVersions runs test once for each version.
func forVersions(t *testing.T, test func(t *testing.T, v ratchetVersion)) {
	for _, v := range ratchetVersions {
		t.Run(v.name, func(t *testing.T) { test(t, v) })
	}
}

// refusedBy checks that decrypting data fails and leaves s as it was.
func refusedBy(t *testing.T, s ratchetEnd, r *rand.ChaCha8, data []byte, what string) error {
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

// encryptAll has s encrypt each of msgs.
func encryptAll(t testing.TB, s ratchetEnd, msgs ...string) [][]byte {
	t.Helper()
	var cts [][]byte
	for _, m := range msgs {
		ct, err := s.Encrypt([]byte(m))
		if err != nil {
			t.Fatal(err)
		}
		cts = append(cts, ct)
	}
	return cts
}

// inflight is a message on its way, with what it must decrypt to.
type inflight struct {
	toBob bool
	ct    []byte
	pt    []byte
}

// TestRatchetAnyOrder: in random conversations, messages delivered in any
// order (within the skip limit) each decrypt once to what was sent; a
// second delivery is refused without changing the session.
func TestRatchetAnyOrder(t *testing.T) {
	forVersions(t, func(t *testing.T, v ratchetVersion) {
		for seed := range uint64(40) {
			p := v.pair(t, seed)
			order := rand.New(rand.NewPCG(seed, 7))
			end := func(m inflight) (ratchetEnd, *rand.ChaCha8) {
				if m.toBob {
					return p.bob, p.bRand
				}
				return p.alice, p.aliceRand
			}
			var pending, done []inflight
			bobCanSend := false
			sent := 0
			for sent < 60 || len(pending) > 0 {
				switch a := order.IntN(3); {
				case sent < 60 && (a == 0 || a == 1 && !bobCanSend):
					msg := fmt.Sprintf("seed %d alice %d", seed, sent)
					pending = append(pending, inflight{toBob: true, ct: encryptAll(t, p.alice, msg)[0], pt: []byte(msg)})
					sent++
				case sent < 60 && a == 1:
					msg := fmt.Sprintf("seed %d bob %d", seed, sent)
					pending = append(pending, inflight{ct: encryptAll(t, p.bob, msg)[0], pt: []byte(msg)})
					sent++
				case len(pending) > 0:
					i := order.IntN(len(pending))
					m := pending[i]
					pending = append(pending[:i], pending[i+1:]...)
					s, r := end(m)
					pt, err := s.Decrypt(r, m.ct)
					if err != nil || !bytes.Equal(pt, m.pt) {
						t.Fatalf("seed %d: %q decrypted to %q, %v", seed, m.pt, pt, err)
					}
					bobCanSend = bobCanSend || m.toBob
					done = append(done, m)
				}
			}
			if a, b := len(state(p.alice).skipped), len(state(p.bob).skipped); a != 0 || b != 0 {
				t.Fatalf("seed %d: all delivered but %d and %d skipped keys left", seed, a, b)
			}
			for _, i := range order.Perm(len(done))[:10] {
				m := done[i]
				s, r := end(m)
				refusedBy(t, s, r, m.ct, fmt.Sprintf("seed %d: replay of %q", seed, m.pt))
			}
		}
	})
}

// TestRatchetBitFlip: every single bit flipped in a message, the first of
// a chain, a later one and one from a skipped key, is refused without
// changing the session; the message itself then decrypts.
func TestRatchetBitFlip(t *testing.T) {
	forVersions(t, func(t *testing.T, v ratchetVersion) {
		p := v.pair(t, 3)
		cts := encryptAll(t, p.alice, "message 0", "message 1", "message 2")
		for i, ct := range [][]byte{cts[0], cts[2], cts[1]} {
			for bit := range len(ct) * 8 {
				bad := bytes.Clone(ct)
				bad[bit/8] ^= 1 << (bit % 8)
				refusedBy(t, p.bob, p.bRand, bad, fmt.Sprintf("message %d bit %d flipped", i, bit))
			}
			refusedBy(t, p.bob, p.bRand, ct[:len(ct)-1], "truncated")
			refusedBy(t, p.bob, p.bRand, append(bytes.Clone(ct), 0), "lengthened")
			if _, err := p.bob.Decrypt(p.bRand, ct); err != nil {
				t.Fatalf("message %d after its flipped copies: %v", i, err)
			}
		}
	})
}

func TestRatchetSkipLimit(t *testing.T) {
	forVersions(t, func(t *testing.T, v ratchetVersion) {
		p := v.pair(t, 4)
		var msgs []string
		for i := range MaxSkip + 2 {
			msgs = append(msgs, fmt.Sprint(i))
		}
		cts := encryptAll(t, p.alice, msgs...)
		if err := refusedBy(t, p.bob, p.bRand, cts[MaxSkip+1], "one skip too many"); !errors.Is(err, errTooManySkipped) {
			t.Fatalf("skipping %d: %v, want errTooManySkipped", MaxSkip+1, err)
		}
		if pt, err := p.bob.Decrypt(p.bRand, cts[MaxSkip]); err != nil || string(pt) != fmt.Sprint(MaxSkip) {
			t.Fatalf("skipping exactly %d: %q, %v", MaxSkip, pt, err)
		}
		if _, err := p.bob.Decrypt(p.bRand, cts[MaxSkip+1]); err != nil {
			t.Fatalf("the message refused before, now within the limit: %v", err)
		}
		if n := len(state(p.bob).skipped); n != MaxSkip {
			t.Fatalf("%d skipped keys kept, want %d", n, MaxSkip)
		}
		// A new chain that skips two more: the two oldest keys make way.
		if _, err := p.alice.Decrypt(p.aliceRand, encryptAll(t, p.bob, "reply")[0]); err != nil {
			t.Fatal(err)
		}
		next := encryptAll(t, p.alice, "next 0", "next 1", "next 2")
		if _, err := p.bob.Decrypt(p.bRand, next[2]); err != nil {
			t.Fatal(err)
		}
		if n := len(state(p.bob).skipped); n != MaxSkippedKeys {
			t.Fatalf("%d skipped keys kept, want the cap %d", n, MaxSkippedKeys)
		}
		refusedBy(t, p.bob, p.bRand, cts[0], "message whose skipped key was dropped")
		refusedBy(t, p.bob, p.bRand, cts[1], "message whose skipped key was dropped")
		for _, ct := range [][]byte{cts[2], cts[MaxSkip-1], next[0], next[1]} {
			if _, err := p.bob.Decrypt(p.bRand, ct); err != nil {
				t.Fatalf("a message whose key was kept: %v", err)
			}
		}
	})
}

func TestRatchetSendingChainSpent(t *testing.T) {
	forVersions(t, func(t *testing.T, v ratchetVersion) {
		p := v.pair(t, 11)
		state(p.alice).ns = math.MaxUint32 - 1
		ct := encryptAll(t, p.alice, "last")[0]
		before := p.alice.Marshal()
		if _, err := p.alice.Encrypt([]byte("one too many")); !errors.Is(err, errChainSpent) {
			t.Fatalf("encrypting past the last message number: %v, want errChainSpent", err)
		}
		if !bytes.Equal(before, p.alice.Marshal()) {
			t.Fatal("a refused encryption changed the session")
		}
		if n, err := v.number(ct); err != nil || n != math.MaxUint32-1 {
			t.Fatalf("last message numbered %d, %v", n, err)
		}
	})
}

// TestRatchetMarshalRoundTrip: a session restored from its bytes mid
// conversation, with skipped keys, is the same session: same bytes again,
// and it goes on exactly as the original. Damaged bytes, and those of the
// other version, are refused.
func TestRatchetMarshalRoundTrip(t *testing.T) {
	forVersions(t, func(t *testing.T, v ratchetVersion) {
		p := v.pair(t, 5)
		var held [][]byte
		for i, ct := range encryptAll(t, p.alice, "a0", "a1", "a2", "a3") {
			if i%2 == 0 {
				held = append(held, ct)
			} else if _, err := p.bob.Decrypt(p.bRand, ct); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := p.alice.Decrypt(p.aliceRand, encryptAll(t, p.bob, "b0")[0]); err != nil {
			t.Fatal(err)
		}
		for _, s := range []ratchetEnd{p.alice, p.bob, v.pair(t, 6).bob} {
			b := s.Marshal()
			r, err := v.unmarshal(b)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(r.Marshal(), b) {
				t.Fatal("restored session marshals differently")
			}
			for n := range len(b) {
				if _, err := v.unmarshal(b[:n]); err == nil {
					t.Fatalf("session truncated to %d of %d bytes restored", n, len(b))
				}
			}
			if _, err := v.unmarshal(append(bytes.Clone(b), 0)); err == nil {
				t.Fatal("session with a trailing byte restored")
			}
			for _, other := range ratchetVersions {
				if other.name != v.name {
					if _, err := other.unmarshal(b); err == nil {
						t.Fatalf("an OMEMO %s session restored as an OMEMO %s one", v.name, other.name)
					}
				}
			}
		}
		bad := p.bob.Marshal()
		bad[2+KeySize+1] ^= 1 // the private ratchet key no longer matches its public half
		if _, err := v.unmarshal(bad); err == nil {
			t.Fatal("session with mismatched ratchet keys restored")
		}
		bad = p.bob.Marshal()
		bad[1] |= 0x40 // an unknown flag
		if _, err := v.unmarshal(bad); err == nil {
			t.Fatal("session with an unknown flag restored")
		}
		if n := len(state(p.bob).skipped); n != 2 {
			t.Fatalf("bob holds %d skipped keys, want 2", n)
		}
		bob2, err := v.unmarshal(p.bob.Marshal())
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
	})
}

// fuzzDecrypt: whatever arrives, a refusal leaves the session as it was,
// and nothing but the real messages decrypts.
func fuzzDecrypt(f *testing.F, v ratchetVersion, seeds ...[]byte) {
	p := v.pair(f, 9)
	real := encryptAll(f, p.alice, "m0", "m1", "m2")
	for _, ct := range append(real, seeds...) {
		f.Add(ct)
	}
	start := p.bob.Marshal()
	f.Fuzz(func(t *testing.T, data []byte) {
		bob, err := v.unmarshal(start)
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

func FuzzRatchet03Decrypt(f *testing.F) {
	fuzzDecrypt(f, ratchetVersions[0], []byte{messageVersion03})
}

func FuzzRatchet2Decrypt(f *testing.F) {
	fuzzDecrypt(f, ratchetVersions[1], []byte{0x0a, 0x00, 0x12, 0x00})
}

// fuzzUnmarshal: any bytes are refused or restore a session that
// marshals back to them exactly.
func fuzzUnmarshal(f *testing.F, v ratchetVersion, seeds ...[]byte) {
	p := v.pair(f, 10)
	for _, b := range append([][]byte{p.alice.Marshal(), p.bob.Marshal()}, seeds...) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		s, err := v.unmarshal(data)
		if err != nil {
			return
		}
		if !bytes.Equal(s.Marshal(), data) {
			t.Fatalf("restored from\n%x\nmarshals to\n%x", data, s.Marshal())
		}
	})
}

func FuzzUnmarshalSession03(f *testing.F) {
	x := newX3DHParties(10)
	pending, _, err := InitiateSession03(detRand(10), x.aliceIK, 5, &x.bundle)
	if err != nil {
		f.Fatal(err)
	}
	fuzzUnmarshal(f, ratchetVersions[0], pending.Marshal())
}

func FuzzUnmarshalSession2(f *testing.F) {
	fuzzUnmarshal(f, ratchetVersions[1])
}
