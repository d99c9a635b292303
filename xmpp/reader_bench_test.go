package xmpp

import (
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
