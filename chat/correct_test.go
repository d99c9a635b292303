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
