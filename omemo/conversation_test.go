package omemo

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"
)

// conversationVectors is a conversation between two Double Ratchet
// sessions of the other implementation: python3-oldmemo's for 0.3
// (testdata/gen_conversation03.py), python3-twomemo's for OMEMO 2
// (testdata/gen_conversation2.py).
type conversationVectors struct {
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

// TestRatchetConversationVectors replays each version's conversation with
// gab's sessions given the same ratchet keys in the same order: every
// message sent must equal the other implementation's byte for byte, and
// every message delivered, in the order delivered there (out of order
// too), must decrypt to its plaintext.
func TestRatchetConversationVectors(t *testing.T) {
	files := map[string]string{"0.3": "testdata/conversation03.json", "2": "testdata/conversation2.json"}
	forVersions(t, func(t *testing.T, v ratchetVersion) {
		raw, err := os.ReadFile(files[v.name])
		if err != nil {
			t.Fatal(err)
		}
		var c conversationVectors
		if err := json.Unmarshal(raw, &c); err != nil {
			t.Fatal(err)
		}
		if len(c.RatchetPrivs) < 2 || len(c.Events) == 0 {
			t.Fatal("no conversation in the vectors")
		}
		sk := key32(t, c.SharedSecret)
		ad := unhex(t, c.AssociatedData)
		spk := key32(t, c.SignedPreKeyPriv)
		spkPub := PublicKey(spk)
		// Both sides draw their new ratchet keys from one sequence, in
		// the order the conversation turns the ratchet.
		var rest []byte
		for _, k := range c.RatchetPrivs[1:] {
			rest = append(rest, unhex(t, k)...)
		}
		keys := bytes.NewReader(rest)
		alice, err := v.initiator(sk, ad, &spkPub, key32(t, c.RatchetPrivs[0]))
		if err != nil {
			t.Fatal(err)
		}
		bob, err := v.responder(sk, ad, spk)
		if err != nil {
			t.Fatal(err)
		}
		turns, outOfOrder := 0, 0
		for i, e := range c.Events {
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
				before, skippedBefore := keys.Len(), len(state(s).skipped)
				got, err := s.Decrypt(keys, msg)
				if err != nil || !bytes.Equal(got, pt) {
					t.Fatalf("event %d: decrypted %x, %v; want %x", i, got, err, pt)
				}
				if keys.Len() != before {
					turns++
				}
				if len(state(s).skipped) < skippedBefore {
					outOfOrder++
				}
			default:
				t.Fatalf("event %d: unknown action %q", i, e.Action)
			}
		}
		if keys.Len() != 0 || turns != len(c.RatchetPrivs)-1 {
			t.Fatalf("the ratchet turned %d times, %d key bytes unused; want %d turns", turns, keys.Len(), len(c.RatchetPrivs)-1)
		}
		if outOfOrder == 0 {
			t.Fatal("no message of the conversation was read from a skipped key")
		}
	})
}
