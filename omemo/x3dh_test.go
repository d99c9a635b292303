package omemo

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// x3dhVector is one key agreement run by python3-x3dh as python3-oldmemo
// configures it (see testdata/gen_x3dh.py).
type x3dhVector struct {
	AliceIdentityPriv   string `json:"alice_identity_priv"`
	AliceIdentityPub    string `json:"alice_identity_pub"`
	AliceEphemeralPriv  string `json:"alice_ephemeral_priv"`
	AliceEphemeralPub   string `json:"alice_ephemeral_pub"`
	BobIdentityPriv     string `json:"bob_identity_priv"`
	BobIdentityPub      string `json:"bob_identity_pub"`
	BobSignedPreKeyPriv string `json:"bob_signed_pre_key_priv"`
	BobSignedPreKeyPub  string `json:"bob_signed_pre_key_pub"`
	BobSignedPreKeySig  string `json:"bob_signed_pre_key_sig"`
	BobPreKeyPriv       string `json:"bob_pre_key_priv"`
	BobPreKeyPub        string `json:"bob_pre_key_pub"`
	SharedSecret        string `json:"shared_secret"`
	AssociatedData      string `json:"associated_data"`
}

func loadX3DHVectors(t *testing.T) []x3dhVector {
	t.Helper()
	raw, err := os.ReadFile("testdata/x3dh.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Vectors []x3dhVector `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Vectors) == 0 {
		t.Fatal("no vectors in testdata/x3dh.json")
	}
	return f.Vectors
}

// optKey32 is nil for an empty string (no one-time pre-key).
func optKey32(t *testing.T, s string) *[KeySize]byte {
	if s == "" {
		return nil
	}
	return key32(t, s)
}

func TestX3DH03KnownAnswers(t *testing.T) {
	withPreKey := 0
	for i, v := range loadX3DHVectors(t) {
		aliceIK, aliceEK := key32(t, v.AliceIdentityPriv), key32(t, v.AliceEphemeralPriv)
		bobIK, bobSPK := key32(t, v.BobIdentityPriv), key32(t, v.BobSignedPreKeyPriv)
		bobOPK := optKey32(t, v.BobPreKeyPriv)
		if bobOPK != nil {
			withPreKey++
		}
		for _, c := range []struct {
			priv *[KeySize]byte
			pub  string
		}{{aliceIK, v.AliceIdentityPub}, {aliceEK, v.AliceEphemeralPub}, {bobIK, v.BobIdentityPub}, {bobSPK, v.BobSignedPreKeyPub}} {
			if got := PublicKey(c.priv); got != *key32(t, c.pub) {
				t.Fatalf("vector %d: public key %x, want %s", i, got, c.pub)
			}
		}
		wantSK, wantAD := key32(t, v.SharedSecret), unhex(t, v.AssociatedData)
		sig := unhex(t, v.BobSignedPreKeySig)

		sk, ad, err := x3dhActive03(aliceIK, aliceEK, key32(t, v.BobIdentityPub), key32(t, v.BobSignedPreKeyPub), sig, optKey32(t, v.BobPreKeyPub))
		if err != nil || sk != *wantSK || !bytes.Equal(ad, wantAD) {
			t.Errorf("vector %d: initiator: %x %x %v, want %x %x", i, sk, ad, err, wantSK[:], wantAD)
		}
		sk, ad, err = x3dhPassive03(bobIK, bobSPK, bobOPK, key32(t, v.AliceIdentityPub), key32(t, v.AliceEphemeralPub))
		if err != nil || sk != *wantSK || !bytes.Equal(ad, wantAD) {
			t.Errorf("vector %d: responder: %x %x %v, want %x %x", i, sk, ad, err, wantSK[:], wantAD)
		}

		// A bundle whose signed pre-key signature does not verify builds no session.
		for _, bit := range []int{0, 255, 256, 511} {
			bad := bytes.Clone(sig)
			bad[bit/8] ^= 1 << (bit % 8)
			if _, _, err := x3dhActive03(aliceIK, aliceEK, key32(t, v.BobIdentityPub), key32(t, v.BobSignedPreKeyPub), bad, optKey32(t, v.BobPreKeyPub)); err != errBadSignedPreKey {
				t.Errorf("vector %d: signature with bit %d flipped: %v", i, bit, err)
			}
		}
		// Nor does one whose signed pre-key was swapped for another key.
		other := key32(t, v.AliceEphemeralPub)
		if _, _, err := x3dhActive03(aliceIK, aliceEK, key32(t, v.BobIdentityPub), other, sig, nil); err != errBadSignedPreKey {
			t.Errorf("vector %d: swapped signed pre-key: %v", i, err)
		}
	}
	if withPreKey == 0 || withPreKey == len(loadX3DHVectors(t)) {
		t.Fatal("vectors must cover agreements with and without a one-time pre-key")
	}
}
