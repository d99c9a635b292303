package xmpp_test

import (
	"context"
	"encoding/base64"
	"encoding/xml"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

// A server that asks for 2,000,000,000 SCRAM iterations would have the
// client hash for half an hour, past every timeout and past quitting: the
// count is refused before computing, and the exchange aborted. A count
// servers really use is accepted (the client answers with its proof).
func TestSCRAMIterationCountIsBounded(t *testing.T) {
	for _, tc := range []struct {
		iter    string
		refused bool
	}{
		{"2000000000", true},
		{"99999999999999999999999", true},
		{fmt.Sprint(xmpp.MaxSCRAMIterations + 1), true},
		{"0", true},
		{"4096", false},
	} {
		t.Run(tc.iter, func(t *testing.T) {
			next := make(chan string, 4)
			srv := newFakeServer(t, func(c net.Conn, d *xml.Decoder) {
				fmt.Fprint(c, fakeStreamHeader+`<stream:features><mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>SCRAM-SHA-1</mechanism></mechanisms></stream:features>`)
				name, text, err := nextElement(d)
				if err != nil || name != "auth" {
					next <- fmt.Sprintf("auth expected: %s %v", name, err)
					return
				}
				first, _ := base64.StdEncoding.DecodeString(text)
				_, nonce, _ := strings.Cut(string(first), ",r=")
				challenge := "r=" + nonce + "server,s=" + base64.StdEncoding.EncodeToString([]byte("salt")) + ",i=" + tc.iter
				fmt.Fprintf(c, `<challenge xmlns='urn:ietf:params:xml:ns:xmpp-sasl'>%s</challenge>`, base64.StdEncoding.EncodeToString([]byte(challenge)))
				name, _, err = nextElement(d)
				next <- name
				fmt.Fprint(c, `<failure xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><not-authorized/></failure></stream:stream>`)
			})
			ctx, cancel := context.WithTimeout(context.Background(), xmpptest.Timeout(xmpptest.RoundTrip))
			defer cancel()
			done := make(chan error, 1)
			go func() {
				_, err := xmpp.Dial(ctx, xmpp.Config{JID: jid.MustParse("a@localhost"), Password: "pw", Server: srv.Addr, DirectTLS: true,
					RootCAs: srv.Roots, NegotiateTimeout: xmpptest.Timeout(xmpptest.RoundTrip)})
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(xmpptest.Timeout(xmpptest.RoundTrip)):
				t.Fatal("still connecting: the client is hashing what the server asked for")
			}
			got := <-next
			if tc.refused {
				if err == nil || !strings.Contains(err.Error(), "iteration count") && !strings.Contains(err.Error(), "SCRAM iterations") {
					t.Fatalf("Dial = %v, want the iteration count refused", err)
				}
				if got != "abort" {
					t.Fatalf("the client sent <%s/> after the challenge, want <abort/>", got)
				}
			} else if got != "response" {
				t.Fatalf("the client sent <%s/> (error %v), want its proof", got, err)
			}
			t.Logf("Dial: %v", err)
		})
	}
}
