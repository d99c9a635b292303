package xmpp

import (
	"encoding/xml"
	"errors"
	"io"
	"strings"
	"testing"
)

const header = `<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>`

func readAll(t *testing.T, body string, limits Limits) ([]*Element, []error) {
	t.Helper()
	r := NewReader(strings.NewReader(header+body), limits)
	if _, err := r.StreamStart(); err != nil {
		t.Fatal(err)
	}
	var els []*Element
	var errs []error
	for {
		el, err := r.Next()
		if err != nil {
			var de *DroppedError
			if errors.As(err, &de) {
				errs = append(errs, err)
				continue
			}
			errs = append(errs, err)
			return els, errs
		}
		els = append(els, el)
	}
}

func TestReaderHostileStanzasArePayload(t *testing.T) {
	cases := []struct {
		name string
		in   string
	}{
		{"stream features nested in message", `<message from='m@x'><features xmlns='http://etherx.jabber.org/streams'/><body>hi</body></message>`},
		{"stream error nested in message", `<message><stream:error><conflict xmlns='urn:ietf:params:xml:ns:xmpp-streams'/></stream:error><body>hi</body></message>`},
		{"nested stream header in presence", `<presence><stream:stream><message><body>inner</body></message></stream:stream></presence>`},
		{"whitespace between every child", "<message>\n <body>hi</body>\n <active xmlns='http://jabber.org/protocol/chatstates'/>\n</message>"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			els, errs := readAll(t, tc.in+`<iq type='get' id='after'/></stream:stream>`, DefaultLimits)
			if len(els) != 2 || els[1].Get("id") != "after" {
				t.Fatalf("got %d elements %v, want the stanza and the one after it", len(els), els)
			}
			if len(errs) != 1 || !errors.Is(errs[0], ErrStreamClosed) {
				t.Fatalf("errors: %v", errs)
			}
		})
	}
}

func TestReaderDropsTooDeepAndGoesOn(t *testing.T) {
	deep := strings.Repeat("<x>", 5000) + strings.Repeat("</x>", 5000)
	els, errs := readAll(t, `<message id='1'>`+deep+`</message><message id='2'/>`, DefaultLimits)
	if len(els) != 1 || els[0].Get("id") != "2" {
		t.Fatalf("elements: %v", els)
	}
	var de *DroppedError
	if len(errs) != 2 || !errors.As(errs[0], &de) || de.Name != "message" || !strings.Contains(de.Reason, "deeper") {
		t.Fatalf("errors: %v", errs)
	}
}

func TestReaderDropsOversizedAndGoesOn(t *testing.T) {
	lim := Limits{MaxDepth: 16, MaxBytes: 1000, HardBytes: 100000}
	big := strings.Repeat("a", 5000)
	els, errs := readAll(t, `<message id='1'><body>`+big+`</body></message><message id='2'><body>ok</body></message>`, lim)
	if len(els) != 1 || els[0].Get("id") != "2" || els[0].ChildText(NSClient, "body") != "ok" {
		t.Fatalf("elements: %v", els)
	}
	var de *DroppedError
	if !errors.As(errs[0], &de) || !strings.Contains(de.Reason, "larger") {
		t.Fatalf("errors: %v", errs)
	}
}

func TestReaderHardLimitEndsStream(t *testing.T) {
	lim := Limits{MaxDepth: 16, MaxBytes: 1000, HardBytes: 10000}
	_, errs := readAll(t, `<message><body>`+strings.Repeat("a", 50000)+`</body></message>`, lim)
	var se *StreamError
	if !errors.As(errs[len(errs)-1], &se) || se.Condition != "policy-violation" {
		t.Fatalf("errors: %v", errs)
	}
}

func TestReaderKeepAlivesDoNotAccumulate(t *testing.T) {
	// 1,000 keep-alives and stanzas, 200 KB in all, must not count against
	// a 10,000-byte hard limit: the budget is per stanza.
	lim := Limits{MaxDepth: 16, MaxBytes: 1000, HardBytes: 10000}
	one := strings.Repeat(" ", 99) + "\n<message id='x'><body>" + strings.Repeat("b", 80) + "</body></message>"
	els, errs := readAll(t, strings.Repeat(one, 1000)+`</stream:stream>`, lim)
	if len(els) != 1000 || len(errs) != 1 || !errors.Is(errs[0], ErrStreamClosed) {
		t.Fatalf("%d elements, errs %v", len(els), errs)
	}
}

func TestReaderStreamErrorAndDTD(t *testing.T) {
	_, errs := readAll(t, `<stream:error><system-shutdown xmlns='urn:ietf:params:xml:ns:xmpp-streams'/><text xmlns='urn:ietf:params:xml:ns:xmpp-streams'>bye</text></stream:error>`, DefaultLimits)
	var se *StreamError
	if !errors.As(errs[0], &se) || se.Condition != "system-shutdown" || se.Text != "bye" {
		t.Fatalf("errors: %v", errs)
	}
	_, errs = readAll(t, `<!DOCTYPE x [<!ENTITY a "aaaa">]><message/>`, DefaultLimits)
	if !errors.As(errs[0], &se) || se.Condition != "restricted-xml" {
		t.Fatalf("DTD: %v", errs)
	}
	_, errs = readAll(t, `<message><body>&xxe;</body></message>`, DefaultLimits)
	if errs[0] == nil || errors.As(errs[0], new(*DroppedError)) {
		t.Fatalf("undefined entity must break the stream: %v", errs)
	}
}

func TestReaderTruncatedStream(t *testing.T) {
	_, errs := readAll(t, `<message><body>half`, DefaultLimits)
	if !errors.Is(errs[0], io.EOF) && !strings.Contains(errs[0].Error(), "EOF") {
		t.Fatalf("want EOF, got %v", errs)
	}
}

func TestElementRoundTrip(t *testing.T) {
	el := E(NSClient, "message", "to", "b@x", "xml:lang", "en", "type", "chat").Add(
		E(NSClient, "body").WithText("a<b & \"c\" \x01 \u202e"),
		E("http://jabber.org/protocol/chatstates", "active"),
	)
	s := el.String()
	want := `<message to="b@x" xml:lang="en" type="chat"><body>a&lt;b &amp; "c" ` + "\uFFFD \u202e" + `</body><active xmlns="http://jabber.org/protocol/chatstates"/></message>`
	if s != want {
		t.Fatalf("\n got %s\nwant %s", s, want)
	}
	els, _ := readAll(t, s, DefaultLimits)
	if len(els) != 1 || els[0].Get("xml:lang") != "en" || els[0].ChildText(NSClient, "body") != "a<b & \"c\" \uFFFD \u202e" ||
		els[0].Child("http://jabber.org/protocol/chatstates", "active") == nil {
		t.Fatalf("round trip: %v", els)
	}
}

// An answer our own server sends to our request may exceed the per-stanza
// cap that bounds what peers send; anything else of that size is dropped,
// and even a trusted answer is bounded.
func TestReaderTrustedResultsMayBeLarge(t *testing.T) {
	limits := Limits{MaxDepth: 64, MaxBytes: 1 << 10, HardBytes: 16 << 10, MaxResultBytes: 64 << 10}
	items := func(n int) string {
		return strings.Repeat(`<item jid='contact-with-a-long-name@localhost' name='A contact'><group>G</group></item>`, n)
	}
	big := `<iq type='result' id='mine'><query xmlns='jabber:iq:roster'>` + items(200) + `</query></iq>`  // ~17 KiB
	huge := `<iq type='result' id='mine'><query xmlns='jabber:iq:roster'>` + items(800) + `</query></iq>` // ~68 KiB
	peer := `<message from='x@y' id='m'><body>` + strings.Repeat("a", 4<<10) + `</body></message>`
	r := NewReader(strings.NewReader(header+peer+big+huge+`<iq type='result' id='other'><query xmlns='jabber:iq:roster'>`+items(50)+`</query></iq><message id='after'/>`), limits)
	var asked []string
	r.Trusted = func(start xml.StartElement) bool {
		for _, a := range start.Attr {
			if a.Name.Local == "id" {
				asked = append(asked, a.Value)
				return a.Value == "mine"
			}
		}
		return false
	}
	if _, err := r.StreamStart(); err != nil {
		t.Fatal(err)
	}
	want := []string{"dropped message", "iq mine", "dropped iq", "dropped iq", "message after"}
	for i, w := range want {
		el, err := r.Next()
		var de *DroppedError
		switch {
		case errors.As(err, &de):
			if got := "dropped " + de.Name; got != w {
				t.Errorf("%d: %s (%v), want %s", i, got, err, w)
			}
		case err != nil:
			t.Fatalf("%d: %v, want %s", i, err, w)
		default:
			if got := el.Name.Local + " " + el.Get("id"); got != w {
				t.Errorf("%d: got %s, want %s", i, got, w)
			}
			if el.Get("id") == "mine" && len(el.Child("jabber:iq:roster", "query").Children) != 200 {
				t.Errorf("trusted answer lost items")
			}
		}
	}
	if strings.Join(asked, ",") != "m,mine,mine,other,after" {
		t.Errorf("Trusted asked about %v", asked)
	}
}

// A connection that ends in the middle of the stream says so, not
// "XML syntax error on line 1: unexpected EOF".
func TestConnectionEndingMidStreamIsNamed(t *testing.T) {
	_, errs := readAll(t, `<message from='a@x' type='chat'><body>hi</body></message><mess`, DefaultLimits)
	if len(errs) == 0 || !errors.Is(errs[len(errs)-1], ErrConnectionClosed) {
		t.Fatalf("errors: %v", errs)
	}
}
