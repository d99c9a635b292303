package omemo

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// TestRatchet2ConversationVectors replays python3-twomemo's conversation
// (testdata/gen_conversation2.py) with gab's OMEMO 2 sessions given the
// same ratchet keys in the same order: every message sent must equal the
// other implementation's byte for byte, and every message delivered, in
// the order delivered there (out of order too), must decrypt to its
// plaintext.
func TestRatchet2ConversationVectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/conversation2.json")
	if err != nil {
		t.Fatal(err)
	}
	// The same shape as OMEMO 0.3's conversation.
	var v conversation03Vectors
	if err := json.Unmarshal(raw, &v); err != nil {
		t.Fatal(err)
	}
	if len(v.RatchetPrivs) < 2 || len(v.Events) == 0 {
		t.Fatal("no conversation in the vectors")
	}
	sk := key32(t, v.SharedSecret)
	ad := unhex(t, v.AssociatedData)
	spk := key32(t, v.SignedPreKeyPriv)
	spkPub := PublicKey(spk)
	var rest []byte
	for _, k := range v.RatchetPrivs[1:] {
		rest = append(rest, unhex(t, k)...)
	}
	keys := bytes.NewReader(rest)
	alice, err := NewSession2Initiator(sk, ad, &spkPub, key32(t, v.RatchetPrivs[0]))
	if err != nil {
		t.Fatal(err)
	}
	bob, err := NewSession2Responder(sk, ad, spk)
	if err != nil {
		t.Fatal(err)
	}
	turns, outOfOrder := 0, 0
	for i, e := range v.Events {
		s := alice
		if e.Who == "b" {
			s = bob
		}
		pt, msg := unhex(t, e.Plaintext), unhex(t, e.Message)
		switch e.Action {
		case "send":
			got, err := s.Encrypt(pt)
			if err != nil {
				t.Fatalf("event %d: %v", i, err)
			}
			if !bytes.Equal(got, msg) {
				t.Fatalf("event %d: sent\n%x\nwant\n%x", i, got, msg)
			}
		case "recv":
			before, skippedBefore := keys.Len(), len(s.skipped)
			got, err := s.Decrypt(keys, msg)
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("event %d: decrypted %x, %v; want %x", i, got, err, pt)
			}
			if keys.Len() != before {
				turns++
			}
			if len(s.skipped) < skippedBefore {
				outOfOrder++
			}
		default:
			t.Fatalf("event %d: unknown action %q", i, e.Action)
		}
	}
	if keys.Len() != 0 || turns != len(v.RatchetPrivs)-1 {
		t.Fatalf("the ratchet turned %d times, %d key bytes unused; want %d turns", turns, keys.Len(), len(v.RatchetPrivs)-1)
	}
	if outOfOrder == 0 {
		t.Fatal("no message of the conversation was read from a skipped key")
	}
}
