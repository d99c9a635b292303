package omemo

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// conversation03Vectors is a conversation between two of python3-oldmemo's
// Double Ratchet sessions (testdata/gen_conversation03.py).
type conversation03Vectors struct {
	SharedSecret     string   `json:"shared_secret"`
	AssociatedData   string   `json:"associated_data"`
	SignedPreKeyPriv string   `json:"signed_pre_key_priv"`
	RatchetPrivs     []string `json:"ratchet_privs"`
	Events           []struct {
		Who       string `json:"who"`
		Action    string `json:"action"`
		Plaintext string `json:"plaintext"`
		Message   string `json:"message"`
	} `json:"events"`
}

// TestRatchet03Conversation03Vectors replays the conversation with gab's
// sessions given the same ratchet keys in the same order: every message
// sent must equal the other implementation's byte for byte, and every
// message delivered must decrypt to its plaintext.
func TestRatchet03Conversation03Vectors(t *testing.T) {
	raw, err := os.ReadFile("testdata/conversation03.json")
	if err != nil {
		t.Fatal(err)
	}
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
	// Both sides draw their new ratchet keys from one sequence, in the
	// order the conversation turns the ratchet.
	var rest []byte
	for _, k := range v.RatchetPrivs[1:] {
		rest = append(rest, unhex(t, k)...)
	}
	keys := bytes.NewReader(rest)
	alice, err := NewSession03Initiator(sk, ad, &spkPub, key32(t, v.RatchetPrivs[0]))
	if err != nil {
		t.Fatal(err)
	}
	bob, err := NewSession03Responder(sk, ad, spk)
	if err != nil {
		t.Fatal(err)
	}
	turns := 0
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
			before := keys.Len()
			got, err := s.Decrypt(keys, msg)
			if err != nil || !bytes.Equal(got, pt) {
				t.Fatalf("event %d: decrypted %x, %v; want %x", i, got, err, pt)
			}
			if keys.Len() != before {
				turns++
			}
		default:
			t.Fatalf("event %d: unknown action %q", i, e.Action)
		}
	}
	if keys.Len() != 0 || turns != len(v.RatchetPrivs)-1 {
		t.Fatalf("the ratchet turned %d times, %d key bytes unused; want %d turns", turns, keys.Len(), len(v.RatchetPrivs)-1)
	}
}
