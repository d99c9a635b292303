package chat

import (
	"sort"
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

// XEP-0115 §5.4: an answer with "<" inside a string can be made to hash
// like any other client. Here a single identity whose name carries every
// one of gab's features, and no feature at all, hashes exactly like gab;
// caching it would tell that gab's own hash has no chat states.
func TestCapsPoisonedAnswerIsNotCached(t *testing.T) {
	c := capsElement()
	nodeVer := c.Get("node") + "#" + c.Get("ver")
	name := gabIdentity.name
	fs := append([]string(nil), Features...)
	sort.Strings(fs)
	for _, f := range fs {
		name += "<" + f
	}
	forged := []identity{{gabIdentity.category, gabIdentity.typ, "", name}}
	if capsVer(forged, nil) != c.Get("ver") {
		t.Fatalf("the forged answer no longer collides; the test does not show the attack")
	}
	if capsCacheable(nodeVer, forged, nil) {
		t.Fatal("an answer with '<' in an identity name was accepted for caching")
	}
	if capsCacheable(nodeVer, []identity{gabIdentity}, append([]string{"a<b"}, Features...)) {
		t.Fatal("a feature containing '<' was accepted")
	}
	if capsCacheable(nodeVer, []identity{gabIdentity}, append([]string{NSCaps}, Features...)) {
		t.Fatal("a duplicated feature was accepted")
	}
	if !capsCacheable(nodeVer, []identity{gabIdentity}, Features) {
		t.Fatal("gab's own answer must be cacheable")
	}
}
