package omemo

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

type preKey03Vector struct {
	AliceIdentityPriv  string `json:"alice_identity_priv"`
	AliceEphemeralPriv string `json:"alice_ephemeral_priv"`
	AliceRatchetPriv   string `json:"alice_ratchet_priv"`
	BobIdentityPriv    string `json:"bob_identity_priv"`
	BobIdentityPub     string `json:"bob_identity_pub"`
	BobSPKPriv         string `json:"bob_signed_pre_key_priv"`
	BobSPKPub          string `json:"bob_signed_pre_key_pub"`
	BobSPKSig          string `json:"bob_signed_pre_key_sig"`
	BobSPKID           uint32 `json:"bob_signed_pre_key_id"`
	BobPreKeyPriv      string `json:"bob_pre_key_priv"`
	BobPreKeyPub       string `json:"bob_pre_key_pub"`
	BobPreKeyID        uint32 `json:"bob_pre_key_id"`
	Plaintext          string `json:"plaintext"`
	PreKeyMessage      string `json:"pre_key_message"`
}

// TestPreKey03KnownAnswer: given python3-oldmemo's keys and randomness,
// the initiator produces its pre-key message byte for byte, and the
// responder reads python3-oldmemo's message.
func TestPreKey03KnownAnswer(t *testing.T) {
	raw, err := os.ReadFile("testdata/prekey03.json")
	if err != nil {
		t.Fatal(err)
	}
	var v preKey03Vector
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	want := unhex(t, v.PreKeyMessage)
	plaintext := unhex(t, v.Plaintext)
	bundle := Bundle03{
		IdentityKey: *key32(t, v.BobIdentityPub), SignedPreKey: *key32(t, v.BobSPKPub),
		SignedPreKeyID: v.BobSPKID, SignedPreKeySig: unhex(t, v.BobSPKSig),
		PreKey: *key32(t, v.BobPreKeyPub), PreKeyID: v.BobPreKeyID,
	}
	randomness := bytes.NewReader(append(unhex(t, v.AliceEphemeralPriv), unhex(t, v.AliceRatchetPriv)...))
	alice, pk, err := InitiateSession03(randomness, key32(t, v.AliceIdentityPriv), 0, &bundle)
	if err != nil {
		t.Fatal(err)
	}
	inner, err := alice.Encrypt(plaintext)
	if err != nil {
		t.Fatal(err)
	}
	if got := pk.Wrap(inner); !bytes.Equal(got, want) {
		t.Fatalf("pre-key message\n got %x\nwant %x", got, want)
	}

	m, err := ParsePreKeyMessage03(want)
	if err != nil {
		t.Fatal(err)
	}
	if m.PreKeyID != v.BobPreKeyID || m.SignedPreKeyID != v.BobSPKID || m.RegistrationID != 0 {
		t.Fatalf("decoded ids %+v", m)
	}
	bob, pt, err := RespondSession03(detRand(1), key32(t, v.BobIdentityPriv), key32(t, v.BobSPKPriv), key32(t, v.BobPreKeyPriv), m)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(pt, plaintext) {
		t.Fatalf("responder read %q, want %q", pt, plaintext)
	}
	// The sessions agree: the responder's answer reads at the initiator.
	reply, err := bob.Encrypt([]byte("reply"))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := alice.Decrypt(detRand(2), reply); err != nil || string(pt) != "reply" {
		t.Fatalf("reply: %q, %v", pt, err)
	}
}
