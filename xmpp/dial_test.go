package xmpp

import (
	"context"
	"errors"
	"io"
	"net"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/internal/xmpptest"
	"mellium.im/xmpp/jid"
)

type fakeResolver map[string][]*net.SRV

func (f fakeResolver) LookupSRV(_ context.Context, service, proto, name string) (string, []*net.SRV, error) {
	if r, ok := f[service]; ok {
		return "", r, nil
	}
	return "", nil, errors.New("no such record")
}

func TestTargets(t *testing.T) {
	both := fakeResolver{
		"xmpps-client": {{Target: "tls.example.net.", Port: 5223}},
		"xmpp-client":  {{Target: "a.example.net.", Port: 5222}, {Target: "b.example.net.", Port: 5269}},
	}
	cases := []struct {
		name   string
		r      Resolver
		server string
		direct bool
		want   []target
	}{
		{"direct TLS records first, then STARTTLS", both, "", false, []target{
			{"tls.example.net:5223", true}, {"a.example.net:5222", false}, {"b.example.net:5269", false}}},
		{"direct only", both, "", true, []target{{"tls.example.net:5223", true}}},
		{"no records: the domain on 5222", fakeResolver{}, "", false, []target{{"example.net:5222", false}}},
		{"no records, direct: the domain on 5223", fakeResolver{}, "", true, []target{{"example.net:5223", true}}},
		{"\".\" means no service", fakeResolver{"xmpps-client": {{Target: ".", Port: 0}}, "xmpp-client": {{Target: "x.example.net.", Port: 5222}}}, "", false,
			[]target{{"x.example.net:5222", false}}},
		{"server setting skips SRV", both, "127.0.0.1:5999", false, []target{{"127.0.0.1:5999", false}}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := targets(context.Background(), tc.r, "example.net", tc.server, tc.direct)
			if !reflect.DeepEqual(got, tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
		})
	}
}

// A server that offers no STARTTLS must not get our credentials in plain text.
func TestRefusesServerWithoutStartTLS(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	got := make(chan string, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		buf := make([]byte, 4096)
		n, _ := c.Read(buf)
		c.Write([]byte(`<?xml version='1.0'?><stream:stream xmlns='jabber:client' xmlns:stream='http://etherx.jabber.org/streams' version='1.0' from='localhost' id='x'>` +
			`<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism></mechanisms></stream:features>`))
		// Whatever the client sends comes before it hangs up.
		c.SetReadDeadline(time.Now().Add(xmpptest.Timeout(xmpptest.RoundTrip)))
		rest, _ := io.ReadAll(c)
		got <- string(buf[:n]) + string(rest)
	}()
	_, err = Dial(context.Background(), Config{JID: jid.MustParse("a@localhost"), Password: "secret", Server: l.Addr().String()})
	if err == nil || !strings.Contains(err.Error(), "STARTTLS") {
		t.Fatalf("Dial = %v", err)
	}
	if sent := <-got; strings.Contains(sent, "auth") || strings.Contains(sent, "c2VjcmV0") {
		t.Fatalf("credentials sent in plain text: %s", sent)
	}
}
