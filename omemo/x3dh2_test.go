package omemo

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// TestX3DH2KnownAnswers replays python3-x3dh's key agreements as
// python3-twomemo configures it (testdata/gen_x3dh2.py). gab plays the
// initiator when its own identity key (sign bit 0) is the one published
// there, and the responder likewise; either way it must accept the peer's
// key as published, sign bit 1 included, and agree on the shared secret
// and associated data.
func TestX3DH2KnownAnswers(t *testing.T) {
	raw, err := os.ReadFile("testdata/x3dh2.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Vectors []x3dhVector `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	initiators, responders, peerSignBit1 := 0, 0, 0
	for i, v := range f.Vectors {
		aliceIK, aliceEK := key32(t, v.AliceIdentityPriv), key32(t, v.AliceEphemeralPriv)
		bobIK, bobSPK, bobOPK := key32(t, v.BobIdentityPriv), key32(t, v.BobSignedPreKeyPriv), key32(t, v.BobPreKeyPriv)
		aliceIKPub, bobIKPub := key32(t, v.AliceIdentityPub), key32(t, v.BobIdentityPub)
		bobSPKPub, bobOPKPub := key32(t, v.BobSignedPreKeyPub), key32(t, v.BobPreKeyPub)
		for _, c := range []struct {
			priv, pub *[KeySize]byte
		}{{aliceEK, key32(t, v.AliceEphemeralPub)}, {bobSPK, bobSPKPub}, {bobOPK, bobOPKPub}} {
			if got := PublicKey(c.priv); got != *c.pub {
				t.Fatalf("vector %d: public key %x, want %x", i, got, c.pub[:])
			}
		}
		// The published Ed25519 key is the identity's own point: the same
		// as gab's, or its negation (the same Montgomery form).
		for _, c := range []struct{ priv, pub *[KeySize]byte }{{aliceIK, aliceIKPub}, {bobIK, bobIKPub}} {
			ours, theirs := IdentityKey2(c.priv), *c.pub
			theirs[31] &^= 0x80
			if ours != theirs || ours[31]&0x80 != 0 {
				t.Fatalf("vector %d: identity key %x, published %x", i, ours, c.pub[:])
			}
		}
		wantSK, wantAD := key32(t, v.SharedSecret), unhex(t, v.AssociatedData)
		sig := unhex(t, v.BobSignedPreKeySig)

		if IdentityKey2(aliceIK) == *aliceIKPub {
			initiators++
			if bobIKPub[31]&0x80 != 0 {
				peerSignBit1++
			}
			sk, ad, err := x3dhActive2(aliceIK, aliceEK, bobIKPub, bobSPKPub, sig, bobOPKPub)
			if err != nil || sk != *wantSK || !bytes.Equal(ad, wantAD) {
				t.Errorf("vector %d: initiator: %x %x %v, want %x %x", i, sk, ad, err, wantSK[:], wantAD)
			}
			// A bundle whose signature does not verify builds no session.
			for _, bit := range []int{0, 255, 256, 511} {
				bad := bytes.Clone(sig)
				bad[bit/8] ^= 1 << (bit % 8)
				if _, _, err := x3dhActive2(aliceIK, aliceEK, bobIKPub, bobSPKPub, bad, bobOPKPub); err != errBadSignedPreKey {
					t.Errorf("vector %d: signature with bit %d flipped: %v", i, bit, err)
				}
			}
			other := key32(t, v.AliceEphemeralPub)
			if _, _, err := x3dhActive2(aliceIK, aliceEK, bobIKPub, other, sig, bobOPKPub); err != errBadSignedPreKey {
				t.Errorf("vector %d: swapped signed pre-key: %v", i, err)
			}
			// The signature is by the key as published: the other sign
			// bit (the same Montgomery key) does not verify it.
			negated := *bobIKPub
			negated[31] ^= 0x80
			if _, _, err := x3dhActive2(aliceIK, aliceEK, &negated, bobSPKPub, sig, bobOPKPub); err != errBadSignedPreKey {
				t.Errorf("vector %d: identity key with its sign bit flipped: %v", i, err)
			}
			// OMEMO 2 always uses a one-time pre-key.
			if _, _, err := x3dhActive2(aliceIK, aliceEK, bobIKPub, bobSPKPub, sig, nil); err != errNoPreKey2 {
				t.Errorf("vector %d: no one-time pre-key: %v", i, err)
			}
		}
		if IdentityKey2(bobIK) == *bobIKPub {
			responders++
			sk, ad, err := x3dhPassive2(bobIK, bobSPK, bobOPK, aliceIKPub, key32(t, v.AliceEphemeralPub))
			if err != nil || sk != *wantSK || !bytes.Equal(ad, wantAD) {
				t.Errorf("vector %d: responder: %x %x %v, want %x %x", i, sk, ad, err, wantSK[:], wantAD)
			}
			if _, _, err := x3dhPassive2(bobIK, bobSPK, nil, aliceIKPub, key32(t, v.AliceEphemeralPub)); err != errNoPreKey2 {
				t.Errorf("vector %d: responder without a one-time pre-key: %v", i, err)
			}
		}
	}
	if initiators == 0 || responders == 0 || peerSignBit1 == 0 || initiators == len(f.Vectors) || responders == len(f.Vectors) {
		t.Fatalf("vectors cover %d initiators (%d with a sign-bit-1 peer), %d responders of %d", initiators, peerSignBit1, responders, len(f.Vectors))
	}
}

// TestX3DH2RefusesBadIdentityKeys: an identity key that is no point, a
// non-canonical encoding of one, or a point of small order gives no
// session on either side.
func TestX3DH2RefusesBadIdentityKeys(t *testing.T) {
	r := detRand(30)
	alice, ek, bob, spk, opk := detKey(r), detKey(r), detKey(r), detKey(r), detKey(r)
	bobPub, spkPub, opkPub := IdentityKey2(bob), PublicKey(spk), PublicKey(opk)
	sig, err := Sign(bob, spkPub[:])
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := x3dhActive2(alice, ek, &bobPub, &spkPub, sig[:], &opkPub); err != nil {
		t.Fatalf("good bundle: %v", err)
	}
	identity := [KeySize]byte{1} // y = 1: the neutral element
	// y = p + 3 encodes the point with y = 3 (of large order).
	nonCanonical := [KeySize]byte{0xf0}
	for i := 1; i < 31; i++ {
		nonCanonical[i] = 0xff
	}
	nonCanonical[31] = 0x7f
	notAPoint := [KeySize]byte{2} // y = 2 gives no x
	for _, c := range []struct {
		name string
		key  [KeySize]byte
	}{{"neutral element", identity}, {"non-canonical encoding", nonCanonical}, {"not a point", notAPoint}} {
		if _, _, err := x3dhActive2(alice, ek, &c.key, &spkPub, sig[:], &opkPub); err != errBadIdentityKey2 {
			t.Errorf("initiator, peer's %s: %v", c.name, err)
		}
		if _, _, err := x3dhPassive2(bob, spk, opk, &c.key, &spkPub); err != errBadIdentityKey2 {
			t.Errorf("responder, peer's %s: %v", c.name, err)
		}
	}
}
