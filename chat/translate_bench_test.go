package chat

import "testing"

func BenchmarkTranslateMessage(b *testing.B) {
	el := parse(b, `<message from='bob@localhost/pc' to='alice@localhost/gab' type='chat' id='m1'><body>hello there</body><active xmlns='http://jabber.org/protocol/chatstates'/></message>`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if evs, _ := Translate(testSelf, el); len(evs) != 2 {
			b.Fatal(evs)
		}
	}
}

func BenchmarkTranslatePresence(b *testing.B) {
	el := parse(b, `<presence from='bob@localhost/phone'><show>away</show><status>lunch</status><priority>5</priority><c xmlns='http://jabber.org/protocol/caps' hash='sha-1' node='n' ver='v'/></presence>`)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if evs, _ := Translate(testSelf, el); len(evs) != 1 {
			b.Fatal(evs)
		}
	}
}
