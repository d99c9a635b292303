package chat

import (
	"strings"
	"testing"
)

// The worked example of XEP-0115 §5.2.
func TestCapsVerMatchesTheXEPExample(t *testing.T) {
	got := capsVer([]identity{{"client", "pc", "", "Exodus 0.9.1"}}, []string{
		"http://jabber.org/protocol/caps", "http://jabber.org/protocol/disco#info",
		"http://jabber.org/protocol/disco#items", "http://jabber.org/protocol/muc",
	})
	if got != "QgayPKawpkPSDYmwT/WM94uAlu0=" {
		t.Fatalf("ver = %s", got)
	}
}

func TestDiscoAnswersOurCapsNode(t *testing.T) {
	c := capsElement()
	node := c.Get("node") + "#" + c.Get("ver")
	_, reply := Translate(testSelf, parse(t, `<iq from='bob@localhost/pc' type='get' id='n1'><query xmlns='http://jabber.org/protocol/disco#info' node='`+node+`'/></iq>`))
	if s := reply.String(); !strings.Contains(s, `type="result"`) || !strings.Contains(s, `node="`+node+`"`) || !strings.Contains(s, NSReceipts) {
		t.Fatalf("reply %s", s)
	}
	_, reply = Translate(testSelf, parse(t, `<iq from='bob@localhost/pc' type='get' id='n2'><query xmlns='http://jabber.org/protocol/disco#info' node='other'/></iq>`))
	if !strings.Contains(reply.String(), "item-not-found") {
		t.Fatalf("unknown node: %s", reply)
	}
}
