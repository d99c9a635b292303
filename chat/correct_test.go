package chat

import "testing"

// XEP-0308: only the last message, from the same full JID.
func TestMayCorrect(t *testing.T) {
	last := lastReceived{id: "m4", from: "bob@x/phone", alias: "c1"}
	for _, c := range []struct {
		name      string
		last      lastReceived
		from, rid string
		want      bool
	}{
		{"the last, same resource", last, "bob@x/phone", "m4", true},
		{"by its latest correction's id", last, "bob@x/phone", "c1", true},
		{"an older message", last, "bob@x/phone", "m1", false},
		{"another resource", last, "bob@x/laptop", "m4", false},
		{"the bare JID", last, "bob@x", "m4", false},
		{"somebody else", last, "mallory@x/phone", "m4", false},
		{"a last message without id", lastReceived{from: "bob@x/phone"}, "bob@x/phone", "", false},
		{"no alias yet", lastReceived{id: "m4", from: "bob@x/phone"}, "bob@x/phone", "", false},
	} {
		if got := mayCorrect(c.last, MessageCorrected{From: c.from, ReplaceID: c.rid}); got != c.want {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// A plaintext correction does not replace an encrypted message: it is shown
// as a message of its own, saying so.
func TestCorrectionOfEncrypted(t *testing.T) {
	conv := ChatWith("bob@x")
	for _, enc := range []*OMEMOEncrypted{nil, {Version: OMEMO03, SID: 1}} {
		c := &Client{lastIn: map[lastKey]lastReceived{}}
		c.received(MessageReceived{Conv: conv, ID: "m1", From: "bob@x/phone", Bare: "bob@x", Encrypted: enc})
		mc := MessageCorrected{Conv: conv, From: "bob@x/phone", Bare: "bob@x", ReplaceID: "m1", NewID: "m2", Body: "plain",
			AsMessage: MessageReceived{Conv: conv, ID: "m2", From: "bob@x/phone", Body: "plain"}}
		ev, ok := c.correction(t.Context(), nil, mc)
		if !ok {
			t.Fatal("ctx ended")
		}
		switch e := ev.(type) {
		case MessageCorrected:
			if enc != nil {
				t.Fatalf("an encrypted message corrected in plaintext: %+v", e)
			}
		case MessageReceived:
			if enc == nil || e.Note != encryptedCorrectionNote || e.Body != "plain" {
				t.Fatalf("encrypted %v: %+v", enc != nil, e)
			}
		default:
			t.Fatalf("%#v", ev)
		}
	}
}
