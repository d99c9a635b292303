package chat

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/roster"
	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

var testSelf = Self{
	JID:     jid.MustParse("alice@localhost/gab"),
	Lang:    "de",
	Version: "1.0",
	Now:     func() time.Time { return time.Date(2026, 11, 21, 12, 0, 0, 0, time.UTC) },
}

const streamHeader = `<stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams'>`

func parse(t testing.TB, data string) *xmpp.Element {
	t.Helper()
	r := xmpp.NewReader(strings.NewReader(streamHeader+data), xmpp.DefaultLimits)
	if _, err := r.StreamStart(); err != nil {
		t.Fatal(err)
	}
	el, err := r.Next()
	if err != nil {
		t.Fatal(err)
	}
	return el
}

func fixture(t *testing.T, name string) *xmpp.Element {
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return parse(t, string(data))
}

func TestTranslate(t *testing.T) {
	now := testSelf.Now()
	cases := []struct {
		fixture string
		want    []Event
		reply   string // substring of the reply, "" for none
	}{
		{"spoof-bodies.xml", []Event{MessageReceived{Conv: ChatWith("mallory@localhost"), ID: "m1", From: "mallory@localhost/x", Bare: "mallory@localhost", To: "alice@localhost/gab", Type: "chat", Body: "the real body", Time: now}}, ""},
		{"nested-message.xml", nil, ""},
		{"stream-elements-in-message.xml", []Event{MessageReceived{Conv: ChatWith("mallory@localhost"), From: "mallory@localhost/x", Bare: "mallory@localhost", Type: "chat", Body: "still here", Time: now}}, ""},
		{"stream-elements-in-presence.xml", []Event{PresenceChanged{From: "mallory@localhost/x", Bare: "mallory@localhost", Resource: "x", Available: true, Show: roster.DND}}, ""},
		{"langs.xml", []Event{MessageReceived{Conv: ChatWith("bob@localhost"), From: "bob@localhost/pc", Bare: "bob@localhost", Type: "chat", Body: "servus", Time: now}}, ""},
		{"roster-push-foreign.xml", []Event{Notice{Text: "ignored a roster push from mallory@localhost/x (not our account)"}}, "service-unavailable"},
		{"roster-push-own.xml", []Event{RosterPushed{Item: roster.Item{JID: "bob@localhost", Name: "Bob", Subscription: "to", Ask: true, Groups: []string{"Work"}}, Version: "v7"}}, `type="result" id="push2"`},
		{"presence-full.xml", []Event{PresenceChanged{From: "bob@localhost/phone", Bare: "bob@localhost", Resource: "phone", Available: true, Show: roster.Away, Status: "lunch", Priority: 127, Caps: "n#v"}}, ""},
		{"subscribe-nick.xml", []Event{SubscriptionRequested{From: "carol@localhost", Nick: "Carol", Status: "add me?"}}, ""},
		{"offline-delay.xml", []Event{MessageReceived{Conv: ChatWith("bob@localhost"), ID: "o1", From: "bob@localhost/pc", Bare: "bob@localhost", Type: "chat", Body: "late", Time: time.Date(2026, 11, 20, 8, 15, 30, 250e6, time.UTC), Delayed: true}}, ""},
		{"composing.xml", []Event{ChatStateChanged{Conv: ChatWith("bob@localhost"), From: "bob@localhost/pc", Bare: "bob@localhost", State: StateComposing}}, ""},
		{"message-error.xml", []Event{StanzaError{Kind: "message", From: "nobody@localhost", Bare: "nobody@localhost", ID: "e1", Err: &xmpp.StanzaError{Type: "cancel", Condition: "service-unavailable", Text: "gone"}}}, ""},
		{"bad-from.xml", []Event{Notice{Text: "dropped a message with an invalid sender address"}}, ""},
		{"disco-get.xml", nil, `<feature var="http://jabber.org/protocol/chatstates"/>`},
		{"unknown-get.xml", nil, `<service-unavailable xmlns="urn:ietf:params:xml:ns:xmpp-stanzas"/>`},
		{"control-chars.xml", []Event{MessageReceived{Conv: ChatWith("mallory@localhost"), From: "mallory@localhost/x", Bare: "mallory@localhost", Type: "chat", Body: "[red]red[-] [:::https://evil]click[:::-] \u009b31m \u202etxet desrever", Time: now}}, ""},
		{"groupchat.xml", nil, ""},
	}
	for _, tc := range cases {
		t.Run(tc.fixture, func(t *testing.T) {
			evs, reply := Translate(testSelf, fixture(t, tc.fixture))
			if !reflect.DeepEqual(evs, tc.want) {
				t.Errorf("events:\n got %#v\nwant %#v", evs, tc.want)
			}
			switch {
			case tc.reply == "" && reply != nil:
				t.Errorf("unexpected reply %s", reply)
			case tc.reply != "" && (reply == nil || !strings.Contains(reply.String(), tc.reply)):
				t.Errorf("reply %v does not contain %s", reply, tc.reply)
			}
		})
	}
}

func TestTranslateRepliesGoToTheAsker(t *testing.T) {
	_, reply := Translate(testSelf, fixture(t, "disco-get.xml"))
	if reply.Get("to") != "bob@localhost/pc" || reply.Get("id") != "d1" || reply.Get("type") != "result" {
		t.Fatalf("reply %s", reply)
	}
	_, reply = Translate(testSelf, parse(t, `<iq type='get' id='v'><query xmlns='jabber:iq:version'/></iq>`))
	if !strings.Contains(reply.String(), "<name>gab</name><version>1.0</version>") {
		t.Fatalf("version reply %s", reply)
	}
	_, reply = Translate(testSelf, parse(t, `<iq type='set' id='two'><a xmlns='urn:a'/><b xmlns='urn:b'/></iq>`))
	if !strings.Contains(reply.String(), "bad-request") {
		t.Fatalf("two payloads: %s", reply)
	}
}

// FuzzTranslate feeds arbitrary stanzas through the reader and translation:
// nothing may panic, and every message event must carry a sender that
// parses.
func FuzzTranslate(f *testing.F) {
	files, _ := filepath.Glob(filepath.Join("testdata", "*.xml"))
	for _, file := range files {
		data, _ := os.ReadFile(file)
		f.Add(string(data))
	}
	f.Fuzz(func(t *testing.T, data string) {
		r := xmpp.NewReader(strings.NewReader(streamHeader+data), xmpp.Limits{MaxDepth: 32, MaxBytes: 64 << 10, HardBytes: 1 << 20})
		if _, err := r.StreamStart(); err != nil {
			return
		}
		for i := 0; i < 8; i++ {
			el, err := r.Next()
			if err != nil {
				return
			}
			evs, _ := Translate(testSelf, el)
			for _, ev := range evs {
				if m, ok := ev.(MessageReceived); ok {
					if _, err := jid.Parse(m.From); err != nil {
						t.Fatalf("message from unparsable sender %q", m.From)
					}
					if m.Encrypted != nil && m.Body != "" {
						t.Fatalf("an encrypted message shown as its fallback %q", m.Body)
					}
				}
			}
		}
	})
}

// XEP-0092 tells which client and version someone runs: only our own
// account and those ShareVersion names (contacts by default) are told.
func TestVersionOnlyToThoseAllowed(t *testing.T) {
	self := testSelf
	self.ShareVersion = func(bare string) bool { return bare == "bob@localhost" }
	for from, told := range map[string]bool{
		"":                        true, // our server, for our account
		"alice@localhost/phone":   true,
		"bob@localhost/pc":        true,
		"mallory@localhost/x":     false,
		"localhost":               false,
		"not a jid@@/":            false,
		"bob@localhost.evil/pc":   false,
		"alice@localhost.evil/pc": false,
	} {
		attr := ""
		if from != "" {
			attr = ` from='` + from + `'`
		}
		_, reply := Translate(self, parse(t, `<iq`+attr+` type='get' id='v'><query xmlns='jabber:iq:version'/></iq>`))
		got := strings.Contains(reply.String(), "<name>gab</name>")
		if got != told || (!told && !strings.Contains(reply.String(), "service-unavailable")) {
			t.Errorf("from %q: reply %s", from, reply)
		}
	}
	self.ShareVersion = nil
	if _, reply := Translate(self, parse(t, `<iq from='bob@localhost/pc' type='get' id='v'><query xmlns='jabber:iq:version'/></iq>`)); !strings.Contains(reply.String(), "service-unavailable") {
		t.Errorf("no ShareVersion: %s", reply)
	}
}

// Carbons carry the archive id our server stamped (XEP-0359 stanza-id by
// our bare JID), as Prosody puts it on the forwarded message; an id
// stamped by anyone else is not taken.
func TestCarbonsCarryTheArchiveID(t *testing.T) {
	now := testSelf.Now()
	sent := parse(t, `<message xmlns='jabber:client' from='alice@localhost' to='alice@localhost/gab' type='chat'><sent xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>`+
		`<message xmlns='jabber:client' from='alice@localhost/phone' to='bob@localhost' type='chat' id='p1'><body>hi</body>`+
		`<stanza-id xmlns='urn:xmpp:sid:0' by='bob@localhost' id='forged'/><stanza-id xmlns='urn:xmpp:sid:0' by='alice@localhost' id='A1'/></message></forwarded></sent></message>`)
	evs, _ := Translate(testSelf, sent)
	want := []Event{CarbonSent{Conv: ChatWith("bob@localhost"), ID: "p1", To: "bob@localhost", Body: "hi", Time: now, ArchiveID: "A1"}}
	if !reflect.DeepEqual(evs, want) {
		t.Fatalf("sent carbon:\n got %+v\nwant %+v", evs, want)
	}
	received := parse(t, `<message xmlns='jabber:client' from='alice@localhost' to='alice@localhost/gab' type='chat'><received xmlns='urn:xmpp:carbons:2'><forwarded xmlns='urn:xmpp:forward:0'>`+
		`<message xmlns='jabber:client' from='bob@localhost/pc' to='alice@localhost/phone' type='chat' id='b1'><body>yo</body>`+
		`<stanza-id xmlns='urn:xmpp:sid:0' by='alice@localhost' id='A2'/></message></forwarded></received></message>`)
	evs, _ = Translate(testSelf, received)
	if len(evs) != 1 || evs[0].(MessageReceived).ArchiveID != "A2" || !evs[0].(MessageReceived).Carbon {
		t.Fatalf("received carbon: %+v", evs)
	}
}

// A stanza-id by our account is taken only when the sender cannot have put
// it there unnoticed (docs/decisions/0005-stanza-ids.md).
func TestArchiveIDOnlyWhenTheServerMustHaveStampedIt(t *testing.T) {
	sid := func(by, id string) string {
		return `<stanza-id xmlns='urn:xmpp:sid:0' by='` + by + `' id='` + id + `'/>`
	}
	for _, c := range []struct {
		name, typ, extra, want string
	}{
		{"the server's alone", "chat", sid("alice@localhost", "R"), "R"},
		{"beside one by someone else", "chat", sid("bob@localhost", "B") + sid("alice@localhost", "R"), "R"},
		{"a normal message", "", sid("alice@localhost", "R"), "R"},
		{"forged and kept, the server's after it", "chat", sid("alice@localhost", "F") + sid("alice@localhost", "R"), ""},
		{"forged and kept, the server's before it", "chat", sid("alice@localhost", "R") + sid("alice@localhost", "F"), ""},
		{"by another resource of ours", "chat", sid("alice@localhost/gab", "F"), ""},
		{"a headline, which the archive does not keep", "headline", sid("alice@localhost", "F"), ""},
		{"a message the sender asked not to be stored", "chat", `<no-store xmlns='urn:xmpp:hints'/>` + sid("alice@localhost", "F"), ""},
		{"not permanently either", "chat", `<no-permanent-store xmlns='urn:xmpp:hints'/>` + sid("alice@localhost", "F"), ""},
		{"none", "chat", "", ""},
	} {
		typ := ""
		if c.typ != "" {
			typ = ` type='` + c.typ + `'`
		}
		el := parse(t, `<message xmlns='jabber:client' from='bob@localhost/pc' to='alice@localhost/gab' id='m1'`+typ+`><body>hi</body>`+c.extra+`</message>`)
		evs, _ := Translate(testSelf, el)
		if len(evs) != 1 {
			t.Fatalf("%s: %+v", c.name, evs)
		}
		if got := evs[0].(MessageReceived).ArchiveID; got != c.want {
			t.Errorf("%s: archive id %q, want %q", c.name, got, c.want)
		}
	}
}
