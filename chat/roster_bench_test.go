package chat

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gab-chat/gab/xmpp"
)

// rosterResult is a roster of n items as the server sends it.
func rosterResult(n int) string {
	var sb strings.Builder
	sb.WriteString(`<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`)
	sb.WriteString(`<iq type='result' id='q1'><query xmlns='jabber:iq:roster' ver='1'>`)
	for i := 0; i < n; i++ {
		fmt.Fprintf(&sb, `<item name='Contact %05d' subscription='both' jid='c%05d@localhost'><group>Group %02d</group></item>`, i, i, i%20)
	}
	sb.WriteString(`</query></iq>`)
	return sb.String()
}

// BenchmarkRoster10k reads a 10,000-contact roster off the stream and
// turns it into items: what a login with that roster costs before drawing.
func BenchmarkRoster10k(b *testing.B) {
	doc := rosterResult(10000)
	b.ReportAllocs()
	for b.Loop() {
		r := xmpp.NewReader(strings.NewReader(doc), xmpp.DefaultLimits)
		if _, err := r.StreamStart(); err != nil {
			b.Fatal(err)
		}
		el, err := r.Next()
		if err != nil {
			b.Fatal(err)
		}
		if items := parseRosterItems(el.Child(NSRoster, "query")); len(items) != 10000 {
			b.Fatalf("%d items", len(items))
		}
	}
}
