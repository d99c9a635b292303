package chat

import (
	crand "crypto/rand"
	"strings"
	"testing"
	"time"
)

// An envelope gab seals opens to its body, sender and recipient; its
// padding varies within 0 to 200 bytes.
func TestEnvelopeRoundTrip(t *testing.T) {
	now := time.Date(2026, 11, 30, 9, 0, 0, 0, time.UTC)
	lens := map[int]bool{}
	for range 50 {
		b, err := sealEnvelope(crand.Reader, "hello <there> & all", "alice@example.org", "bob@example.org", now)
		if err != nil {
			t.Fatal(err)
		}
		env, err := openEnvelope(b, "alice@example.org", "bob@example.org")
		if err != nil {
			t.Fatalf("%v\n%s", err, b)
		}
		if !env.HasBody || env.Body != "hello <there> & all" || !env.Time.Equal(now) {
			t.Fatalf("read %+v from %s", env, b)
		}
		i, j := strings.Index(string(b), "<rpad"), strings.Index(string(b), "</rpad>")
		n := 0
		if j > 0 {
			n = j - strings.Index(string(b[i:]), ">") - i - 1
		}
		if n < 0 || n > maxRpad {
			t.Fatalf("padding of %d bytes in %s", n, b)
		}
		lens[n] = true
	}
	if len(lens) < 10 {
		t.Fatalf("the padding's length hardly varies: %v", lens)
	}
}

// Envelopes that say another sender or recipient, or none, or are not
// one envelope, are refused, and why is said; what gab does not
// understand in the content is left out.
func TestEnvelopeRefused(t *testing.T) {
	const from, to = "alice@example.org", "bob@example.org"
	env := func(inner string) string {
		return "<envelope xmlns='urn:xmpp:sce:1'><content><body xmlns='jabber:client'>hi</body></content><rpad>xx</rpad>" + inner + "</envelope>"
	}
	for _, c := range []struct{ name, xml, want string }{
		{"another sender", env("<from jid='mallory@example.org'/><to jid='bob@example.org'/>"), "from mallory@example.org, not alice@example.org"},
		{"another recipient", env("<from jid='alice@example.org'/><to jid='room@muc.example.org'/>"), "for room@muc.example.org, not bob@example.org"},
		{"no sender", env("<to jid='bob@example.org'/>"), "does not say who sent it"},
		{"a full JID", env("<from jid='alice@example.org/phone'/>"), "no bare JID"},
		{"two senders", env("<from jid='alice@example.org'/><from jid='alice@example.org'/>"), "twice"},
		{"two contents", "<envelope xmlns='urn:xmpp:sce:1'><content/><content/><from jid='alice@example.org'/></envelope>", "2 contents"},
		{"two bodies", "<envelope xmlns='urn:xmpp:sce:1'><content><body xmlns='jabber:client'>a</body><body xmlns='jabber:client'>b</body></content><from jid='alice@example.org'/></envelope>", "two bodies"},
		{"plain text", "just text", "not a sealed envelope"},
		{"two envelopes", env("<from jid='alice@example.org'/>") + env("<from jid='alice@example.org'/>"), "not a sealed envelope"},
		{"a DTD", "<!DOCTYPE x [<!ENTITY a 'b'>]>" + env("<from jid='alice@example.org'/>"), "not a sealed envelope"},
		{"another element", "<message xmlns='jabber:client'><body>hi</body></message>", "not a sealed envelope"},
		{"broken XML", "<envelope xmlns='urn:xmpp:sce:1'><content>", "not a sealed envelope"},
	} {
		_, err := openEnvelope([]byte(c.xml), from, to)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want %q", c.name, err, c.want)
		}
	}
	// No <to/> (some clients leave it out), an element gab does not know
	// in the content, and a body in another namespace: the body alone.
	got, err := openEnvelope([]byte("<ns0:envelope xmlns:ns0='urn:xmpp:sce:1'><ns0:content><ns1:body xmlns:ns1='jabber:client'>hi</ns1:body>"+
		"<body xmlns='urn:example'>not this</body><x xmlns='urn:example:x'/></ns0:content><ns0:rpad/><ns0:from jid='alice@example.org'/></ns0:envelope>"), from, to)
	if err != nil || got.Body != "hi" || !got.HasBody || got.To != "" {
		t.Fatalf("%+v %v", got, err)
	}
	got, err = openEnvelope([]byte("<envelope xmlns='urn:xmpp:sce:1'><content/><from jid='alice@example.org'/></envelope>"), from, to)
	if err != nil || got.HasBody {
		t.Fatalf("a content without body: %+v %v", got, err)
	}
}

// BenchmarkSealEnvelope and BenchmarkOpenEnvelope are what XEP-0420 adds
// to an OMEMO 2 message of 100 bytes, on each side.
func BenchmarkSealEnvelope(b *testing.B) {
	body := strings.Repeat("x", 100)
	now := time.Now()
	for b.Loop() {
		if _, err := sealEnvelope(crand.Reader, body, "alice@example.org", "bob@example.org", now); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkOpenEnvelope(b *testing.B) {
	env, err := sealEnvelope(crand.Reader, strings.Repeat("x", 100), "alice@example.org", "bob@example.org", time.Now())
	if err != nil {
		b.Fatal(err)
	}
	for b.Loop() {
		if _, err := openEnvelope(env, "alice@example.org", "bob@example.org"); err != nil {
			b.Fatal(err)
		}
	}
}

// FuzzOpenEnvelope: whatever a decrypted payload holds, opening it ends
// with a body or an error, and what opens says the right sender and a
// recipient that is either ours or none.
func FuzzOpenEnvelope(f *testing.F) {
	good, _ := sealEnvelope(crand.Reader, "hi", "alice@example.org", "bob@example.org", time.Now())
	f.Add(good)
	f.Add([]byte("<envelope xmlns='urn:xmpp:sce:1'><content><body xmlns='jabber:client'>x</body></content><from jid='alice@example.org'/></envelope>"))
	f.Add([]byte("<envelope xmlns='urn:xmpp:sce:1'><content/><from jid='mallory@example.org'/><to jid='bob@example.org'/></envelope>"))
	f.Add([]byte("<!DOCTYPE a><envelope/>"))
	f.Add([]byte("</stream:stream><envelope xmlns='urn:xmpp:sce:1'/>"))
	f.Fuzz(func(t *testing.T, b []byte) {
		env, err := openEnvelope(b, "alice@example.org", "bob@example.org")
		if err != nil {
			return
		}
		if env.From != "alice@example.org" || env.To != "" && env.To != "bob@example.org" {
			t.Fatalf("opened %q as %+v", b, env)
		}
	})
}
