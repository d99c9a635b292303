package omemo

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"filippo.io/edwards25519"
)

type keyExchange2Vector struct {
	Name               string `json:"name"`
	AliceIdentityPriv  string `json:"alice_identity_priv"`
	AliceIdentityPub   string `json:"alice_identity_pub"`
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
	BobRatchetPriv     string `json:"bob_ratchet_priv"`
	PayloadKey         string `json:"payload_key"`
	Payload            string `json:"payload"`
	PayloadCiphertext  string `json:"payload_ciphertext"`
	KeyExchange        string `json:"key_exchange"`
	ReplyPayloadKey    string `json:"reply_payload_key"`
	ReplyCiphertext    string `json:"reply_payload_ciphertext"`
	Reply              string `json:"reply"`
}

// TestKeyExchange2KnownAnswer: given python3-twomemo's keys and
// randomness, gab's initiator encrypts the payload and produces the key
// exchange byte for byte; gab's responder reads python3-twomemo's key
// exchange and payload; gab's initiator reads the responder's answer. In
// the second vector the initiator's identity has an Ed25519 point with
// sign bit 1: python3-twomemo's responder accepted the key exchange gab
// sends, with the negated point (sign bit 0) as its identity key.
func TestKeyExchange2KnownAnswer(t *testing.T) {
	raw, err := os.ReadFile("testdata/keyexchange2.json")
	if err != nil {
		t.Fatal(err)
	}
	var f struct {
		Vectors []keyExchange2Vector `json:"vectors"`
	}
	if err := json.Unmarshal(raw, &f); err != nil {
		t.Fatal(err)
	}
	signBit1 := 0
	for _, v := range f.Vectors {
		// The sign bit of the identity's own Ed25519 point.
		k, err := edwards25519.NewScalar().SetBytesWithClamping(unhex(t, v.AliceIdentityPriv))
		if err != nil {
			t.Fatal(err)
		}
		if new(edwards25519.Point).ScalarBaseMult(k).Bytes()[31]&0x80 != 0 {
			signBit1++
		}
		t.Run(v.Name, func(t *testing.T) { testKeyExchange2Vector(t, v) })
	}
	if len(f.Vectors) != 2 || signBit1 != 1 {
		t.Fatalf("%d vectors, %d with an initiator of sign bit 1; want 2 and 1", len(f.Vectors), signBit1)
	}
}

func testKeyExchange2Vector(t *testing.T, v keyExchange2Vector) {
	want := unhex(t, v.KeyExchange)
	payload := unhex(t, v.Payload)
	if IdentityKey2(key32(t, v.AliceIdentityPriv)) != *key32(t, v.AliceIdentityPub) {
		t.Fatal("the initiator's identity key is not the one gab publishes")
	}

	// The initiator: the payload, then the session and its key exchange.
	ct, km, err := EncryptPayload2(bytes.NewReader(unhex(t, v.PayloadKey)), payload)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(ct, unhex(t, v.PayloadCiphertext)) {
		t.Fatalf("payload\n got %x\nwant %s", ct, v.PayloadCiphertext)
	}
	bundle := Bundle2{
		IdentityKey: *key32(t, v.BobIdentityPub), SignedPreKey: *key32(t, v.BobSPKPub),
		SignedPreKeyID: v.BobSPKID, SignedPreKeySig: unhex(t, v.BobSPKSig),
		PreKey: *key32(t, v.BobPreKeyPub), PreKeyID: v.BobPreKeyID,
	}
	randomness := bytes.NewReader(append(unhex(t, v.AliceEphemeralPriv), unhex(t, v.AliceRatchetPriv)...))
	alice, kx, err := InitiateSession2(randomness, key32(t, v.AliceIdentityPriv), &bundle)
	if err != nil {
		t.Fatal(err)
	}
	inner, err := alice.Encrypt(km[:])
	if err != nil {
		t.Fatal(err)
	}
	if got := kx.Wrap(inner); !bytes.Equal(got, want) {
		t.Fatalf("key exchange\n got %x\nwant %x", got, want)
	}

	// The responder reads python3-twomemo's key exchange.
	m, err := ParseKeyExchange2(want)
	if err != nil {
		t.Fatal(err)
	}
	if m.PreKeyID != v.BobPreKeyID || m.SignedPreKeyID != v.BobSPKID || m.IdentityKey != *key32(t, v.AliceIdentityPub) {
		t.Fatalf("decoded %+v", m)
	}
	bob, gotKM, err := RespondSession2(bytes.NewReader(unhex(t, v.BobRatchetPriv)), key32(t, v.BobIdentityPriv),
		key32(t, v.BobSPKPriv), key32(t, v.BobPreKeyPriv), m)
	if err != nil {
		t.Fatal(err)
	}
	pt, err := DecryptPayload2(gotKM, unhex(t, v.PayloadCiphertext))
	if err != nil || !bytes.Equal(pt, payload) {
		t.Fatalf("responder read %q, %v; want %q", pt, err, payload)
	}

	// The answer: gab's responder, with python3-twomemo's ratchet key,
	// sends the same bytes, and gab's initiator reads them.
	rct, rkm, err := EncryptPayload2(bytes.NewReader(unhex(t, v.ReplyPayloadKey)), []byte("the answer"))
	if err != nil || !bytes.Equal(rct, unhex(t, v.ReplyCiphertext)) {
		t.Fatalf("reply payload %x, %v", rct, err)
	}
	reply, err := bob.Encrypt(rkm[:])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(reply, unhex(t, v.Reply)) {
		t.Fatalf("reply\n got %x\nwant %s", reply, v.Reply)
	}
	got, err := alice.Decrypt(detRand(2), unhex(t, v.Reply))
	if err != nil {
		t.Fatal(err)
	}
	if pt, err := DecryptPayload2(got, rct); err != nil || string(pt) != "the answer" {
		t.Fatalf("initiator read the answer as %q, %v", pt, err)
	}
}
