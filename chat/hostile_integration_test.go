package chat_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

// hostileStanzas are what a peer can get the server to relay to us. Each
// must leave the session working and spoof nothing.
func hostileStanzas(to string) []string {
	deep := strings.Repeat("<x xmlns='urn:deep'>", 5000) + strings.Repeat("</x>", 5000)
	return []string{
		`<message to='` + to + `' type='chat'><x xmlns='urn:x'><message xmlns='jabber:client' from='ceo@localhost/boss' type='chat'><body>spoof: wire the money</body></message></x></message>`,
		`<message to='` + to + `' type='chat'><x xmlns='urn:x'><body>spoof in extension</body></x><body xmlns='urn:x'>spoof foreign body</body><body>real 1</body></message>`,
		`<message to='` + to + `' type='chat'><features xmlns='http://etherx.jabber.org/streams'/><body>real 2</body></message>`,
		`<message to='` + to + `' type='chat'><stream:error xmlns:stream='http://etherx.jabber.org/streams'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error><body>real 3</body></message>`,
		`<message to='` + to + `' type='chat'><stream:stream xmlns:stream='http://etherx.jabber.org/streams'><body>spoof nested stream</body></stream:stream><body>real 4</body></message>`,
		`<presence to='` + to + `'><features xmlns='http://etherx.jabber.org/streams'/><stream:error xmlns:stream='http://etherx.jabber.org/streams'><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error><stream:stream xmlns:stream='http://etherx.jabber.org/streams'/></presence>`,
		`<message to='` + to + `' type='chat'>` + deep + `<body>spoof deep</body></message>`,
		`<message to='` + to + `' type='chat'>` + "\n  " + `<body>real 5</body>` + "\n  " + `<active xmlns='http://jabber.org/protocol/chatstates'/>` + "\n" + `</message>`,
		`<message to='` + to + `' type='chat'><body>` + strings.Repeat("B", 250*1024) + `</body></message>`,
		`<iq to='` + to + `' type='set' id='evil-push'><query xmlns='jabber:iq:roster'><item jid='mallory@localhost' name='Your Bank' subscription='both'/></query></iq>`,
		`<message to='` + to + `' type='chat'><body>real 6</body></message>`,
	}
}

var realBodies = []string{"real 1", "real 2", "real 3", "real 4", "real 5", strings.Repeat("B", 250*1024), "real 6"}

// bareSession logs user in with the bare protocol layer and reads (and
// drops) whatever arrives, so requests get their answers.
func bareSession(t *testing.T, srv *xmpptest.Server, user string) *xmpp.Session {
	t.Helper()
	s := bareSessionNoReader(t, srv, user)
	go func() {
		for {
			if _, err := s.Next(nil); err != nil {
				return
			}
		}
	}()
	return s
}

// bareSessionNoReader logs user in with the bare protocol layer; the caller
// reads the stream.
func bareSessionNoReader(t *testing.T, srv *xmpptest.Server, user string) *xmpp.Session {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), xmpptest.Timeout(xmpptest.RoundTrip))
	defer cancel()
	s, err := xmpp.Dial(ctx, xmpp.Config{JID: jid.MustParse(user + "@localhost"), Password: "pw", Resource: "evil", Server: srv.Addr(), RootCAs: srv.CertPool(t)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// rawPeer logs user in as a raw client (resource "evil") that can send
// anything; what the server sends it is dropped.
func rawPeer(t *testing.T, srv *xmpptest.Server, user string) *xmpptest.Raw {
	t.Helper()
	return xmpptest.DialRaw(t, srv, user, "pw", "evil")
}

// roundTrip waits for the server to answer a ping sent on r (whose stream
// nobody else reads): by then it has dealt with everything r sent before.
func roundTrip(t *testing.T, r *xmpptest.Raw) {
	t.Helper()
	if err := r.Send(`<iq type='get' id='round-trip' to='localhost'><ping xmlns='urn:xmpp:ping'/></iq>`); err != nil {
		t.Fatal(err)
	}
	if _, err := r.ReadUntil(`id='round-trip'`); err != nil {
		t.Fatalf("ping: %v", err)
	}
}

func checkHostileOutcome(t *testing.T, a *running, marker string) {
	t.Helper()
	// Wait for the last stanza the hostile peer sent, then for the marker
	// (which may come from someone else, so in any order).
	a.r.wait(t, "the hostile peer's last message", is(func(e chat.MessageReceived) bool { return e.Body == "real 6" }))
	a.r.wait(t, "marker after the hostile stanzas", is(func(e chat.MessageReceived) bool { return e.Body == marker }))
	var got []string
	for _, e := range a.r.snapshot() {
		switch v := e.(type) {
		case chat.MessageReceived:
			if strings.Contains(v.Body, "spoof") || v.Bare != "mallory@localhost" && v.Body != marker {
				t.Errorf("spoofed message got through: %+v", v)
			}
			if v.Body != marker {
				got = append(got, v.Body)
			}
		case chat.RosterPushed:
			if v.Item.JID == "mallory@localhost" {
				t.Errorf("a roster push from a peer was applied: %+v", v)
			}
		case chat.Disconnected:
			t.Errorf("session ended: %+v", v)
		}
	}
	if fmt.Sprint(got) != fmt.Sprint(realBodies) {
		short := func(ss []string) []string {
			out := make([]string, len(ss))
			for i, s := range ss {
				out[i] = s[:min(len(s), 20)]
			}
			return out
		}
		t.Errorf("real bodies received %q, want %q", short(got), short(realBodies))
	}
}

func TestHostilePeerOnline(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "mallory", "pw")
	srv.Register(t, "bob", "pw")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{})
	m := rawPeer(t, srv, "mallory")
	for _, st := range hostileStanzas("alice@localhost/gab") {
		if err := m.Send(st); err != nil {
			t.Fatal(err)
		}
	}
	b := start(t, account(t, srv, "bob", "pw", "gab"), chat.Options{})
	b.do(t, chat.SendMessage{Conv: chat.ChatWith("alice@localhost"), Body: "still alive?"})
	checkHostileOutcome(t, a, "still alive?")
	a.r.wait(t, "notice of the ignored roster push", is(func(e chat.Notice) bool { return strings.Contains(e.Text, "roster push from mallory") }))
	// And the session still does requests.
	a.do(t, chat.AddContact{JID: "bob@localhost", Name: "Bob"})
}

func TestHostileStanzasInOfflineStorage(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "mallory", "pw")
	m, err := xmpptest.LoginRaw(srv, "mallory", "pw", "evil") // read below, by roundTrip
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for _, st := range hostileStanzas("alice@localhost") {
		if strings.HasPrefix(st, "<iq") || strings.HasPrefix(st, "<presence") {
			continue // only messages are stored offline
		}
		if err := m.Send(st); err != nil {
			t.Fatal(err)
		}
	}
	m.Send(`<message to='alice@localhost' type='chat'><body>stored marker</body></message>`)
	roundTrip(t, m) // all of it is in offline storage now
	for login := 1; login <= 2; login++ {
		a := start(t, account(t, srv, "alice", "pw", fmt.Sprint("gab", login)), chat.Options{})
		if login == 1 {
			checkHostileOutcome(t, a, "stored marker")
		}
		a.do(t, chat.AddContact{JID: "bob@localhost"})
		a.stop()
	}
}

func TestHostilePeerFloodsAndGiants(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{NoMAM: true})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "mallory", "pw")
	srv.Register(t, "bob", "pw")
	befriend(t, srv, "alice", "mallory")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{})

	// 1 MB body: the server resets the sender; we must not notice.
	giant := rawPeer(t, srv, "mallory")
	giant.Send(`<message to='alice@localhost/gab' type='chat'><body>` + strings.Repeat("G", 1<<20) + `</body></message>`)
	select {
	case <-giant.Done(): // the server is done with the giant: whatever reaches alice later came after it
	case <-time.After(xmpptest.Timeout(xmpptest.RoundTrip)):
		t.Fatal("the server kept the session that sent a 1 MB stanza")
	}

	// A presence flood from one contact, with a 1,023-byte resource.
	long := strings.Repeat("r", 1023)
	flooder := xmpptest.DialRaw(t, srv, "mallory", "pw", long)
	const n = 3000
	start := time.Now()
	for i := 0; i < n; i++ {
		flooder.Send(fmt.Sprintf("<presence><status>status %d</status></presence>", i))
	}
	// Unknown IQ types and payloads, too.
	flooder.Send(`<iq to='alice@localhost/gab' type='bogus' id='x1'><q xmlns='urn:x'/></iq>`)
	flooder.Send(`<iq to='alice@localhost/gab' type='get' id='x2'><q xmlns='urn:unknown'/></iq>`)
	flooder.Send(`<iq to='alice@localhost/gab' type='result' id='never-sent'/>`)
	a.r.waitSeries(t, "presence", n, func(i int, e chat.Event) bool {
		p, ok := e.(chat.PresenceChanged)
		return ok && p.Status == fmt.Sprint("status ", i)
	})
	t.Logf("%d presence updates from one contact handled in %v", n, time.Since(start))

	got := 0
	for _, e := range a.r.snapshot() {
		if p, ok := e.(chat.PresenceChanged); ok && p.Resource == long && p.From == "mallory@localhost/"+long {
			got++
		}
	}
	if got < n {
		t.Fatalf("%d of %d presence updates arrived with the 1,023-byte resource intact", got, n)
	}
	// Still working, and the giant never arrived.
	b := start2(t, srv)
	b.do(t, chat.SendMessage{Conv: chat.ChatWith("alice@localhost"), Body: "still there?"})
	a.r.wait(t, "a message after all that", is(func(e chat.MessageReceived) bool { return e.Body == "still there?" }))
	for _, e := range a.r.snapshot() {
		if m, ok := e.(chat.MessageReceived); ok && len(m.Body) > 1000 {
			t.Fatal("a 1 MB body got through")
		}
		if d, ok := e.(chat.Disconnected); ok {
			t.Fatalf("alice was disconnected: %+v", d)
		}
	}
}

func start2(t *testing.T, srv *xmpptest.Server) *running {
	return start(t, account(t, srv, "bob", "pw", "gab"), chat.Options{})
}
