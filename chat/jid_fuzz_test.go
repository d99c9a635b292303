package chat

import (
	"testing"

	"mellium.im/xmpp/jid"
)

// FuzzBareJID: a JID typed by the user or read from the network either is
// refused or comes out as a bare JID that parses to itself.
func FuzzBareJID(f *testing.F) {
	for _, s := range []string{"alice@example.net", "Alice@Example.NET/Res", "a@b@c", "@x", "x/", "[::1]", "ß@straße.de", "\u202e@x", string(make([]byte, 3000))} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		bare, err := BareJID(s)
		if err != nil {
			return
		}
		j, err := jid.Parse(bare)
		if err != nil {
			t.Fatalf("BareJID(%q) = %q, which does not parse: %v", s, bare, err)
		}
		if j.Resourcepart() != "" || j.String() != bare {
			t.Fatalf("BareJID(%q) = %q is not a normalised bare JID (%q)", s, bare, j.String())
		}
		if again, err := BareJID(bare); err != nil || again != bare {
			t.Fatalf("bareJID is not idempotent on %q: %q, %v", bare, again, err)
		}
	})
}
