package history

import (
	"testing"
)

// FuzzDecodeRoster: no saved text makes the decoder panic or allocate by
// a count it was told rather than by what is there; whatever it accepts
// is a roster that could have been saved (so pushes can be saved onto
// it) and that encodes back to the very same text.
func FuzzDecodeRoster(f *testing.F) {
	for _, items := range [][]RosterItem{
		nil,
		{{JID: "a@x", Name: "Ada", Subscription: "both", Groups: []string{"Friends", "Work [x]"}}},
		{{JID: "b@x", Subscription: "none", Ask: true}, {JID: "x", Name: "[red]\u202eevil", Subscription: "to"}},
	} {
		f.Add(encodeRoster(items), len(items))
	}
	f.Add("a@x\x1eA\x1eboth\x1e0\x1eG\x1f\x1f\x1e\x1d", 1)
	f.Add("a@x\x1eA\x1eboth\x1e0\x1e\x1e\x1da@x\x1eA\x1eboth\x1e0\x1e\x1e\x1d", 2)
	f.Add("a@x\x1eA\x1eboth\x1e0\x1e", 1)
	f.Add("", 1<<40)
	f.Fuzz(func(t *testing.T, text string, n int) {
		if n < 0 || n > len(text) {
			return // readRoster refuses these counts before decoding
		}
		items, err := decodeRoster(text, n)
		if err != nil {
			return
		}
		if len(items) != n {
			t.Fatalf("%d items, count %d", len(items), n)
		}
		seen := map[string]bool{}
		for _, it := range items {
			if err := checkItem(it); err != nil {
				t.Fatalf("read back what could not be saved: %v", err)
			}
			if seen[it.JID] {
				t.Fatalf("%q twice", it.JID)
			}
			seen[it.JID] = true
		}
		if again := encodeRoster(items); again != text {
			t.Fatalf("encodes back to %q, not %q", again, text)
		}
	})
}
