package xmpp

import (
	"encoding/xml"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkReaderMessages reads typical chat messages off a stream.
func BenchmarkReaderMessages(b *testing.B) {
	msg := `<message from='bob@example.net/phone' to='alice@example.net/gab' type='chat' id='a1b2c3'><body>Hello there, how are you doing today?</body><active xmlns='http://jabber.org/protocol/chatstates'/><stanza-id xmlns='urn:xmpp:sid:0' by='alice@example.net' id='x1'/></message>`
	const perRun = 1000
	stream := header + strings.Repeat(msg, perRun)
	b.SetBytes(int64(len(msg)))
	b.ReportAllocs()
	for i := 0; i < b.N; i += perRun {
		r := NewReader(strings.NewReader(stream), DefaultLimits)
		if _, err := r.StreamStart(); err != nil {
			b.Fatal(err)
		}
		for j := 0; j < perRun && i+j < b.N; j++ {
			if _, err := r.Next(); err != nil {
				b.Fatal(err)
			}
		}
	}
}

// BenchmarkReaderBigRoster50k reads a 50,000-contact roster result (60-char
// JIDs, a name and a group each; about 7.5 MB) as the answer to our own
// request: the client's share of loading a big roster.
func BenchmarkReaderBigRoster50k(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(header + `<iq type='result' id='r1'><query xmlns='jabber:iq:roster' ver='1'>`)
	for i := 1; i <= 50000; i++ {
		local := fmt.Sprintf("big50000c%05d", i)
		local += strings.Repeat("x", 50-len(local))
		fmt.Fprintf(&sb, `<item jid='%s@localhost' name='Contact %05d' subscription='both'><group>Group %02d</group></item>`, local, i, i%50)
	}
	sb.WriteString(`</query></iq>`)
	doc := sb.String()
	b.SetBytes(int64(len(doc)))
	b.ReportAllocs()
	for b.Loop() {
		r := NewReader(strings.NewReader(doc), DefaultLimits)
		r.Trusted = func(xml.StartElement) bool { return true }
		if _, err := r.StreamStart(); err != nil {
			b.Fatal(err)
		}
		el, err := r.Next()
		if err != nil {
			b.Fatal(err)
		}
		if n := len(el.Children[0].Children); n != 50000 {
			b.Fatalf("%d items", n)
		}
	}
}
