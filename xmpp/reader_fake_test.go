package xmpp_test

import (
	"context"
	"encoding/xml"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

// A server sends a ping whose id is 15 MB (under the 16 MiB hard limit, and
// in the start tag, which was not counted): it must be dropped, not kept
// and echoed back in the answer; the session goes on and answers the next
// ping.
func TestHostileServerHugeIDIsNotEchoed(t *testing.T) {
	answered := make(chan string, 1)
	srv := newFakeServer(t, loginScript(t, func(c net.Conn, d *xml.Decoder) {
		huge := strings.Repeat("0123456789", 1_500_000)
		fmt.Fprintf(c, `<iq type='get' from='localhost' id='%s'><ping xmlns='urn:xmpp:ping'/></iq>`, huge)
		fmt.Fprint(c, `<iq type='get' from='localhost' id='p2'><ping xmlns='urn:xmpp:ping'/></iq>`)
		s, _, err := nextStart(d)
		if err != nil {
			answered <- err.Error()
			return
		}
		answered <- fmt.Sprintf("%s %s (id of %d bytes)", s.Name.Local, attrOf(s, "type"), len(attrOf(s, "id")))
	}))
	ctx, cancel := context.WithTimeout(context.Background(), xmpptest.Timeout(xmpptest.RoundTrip))
	defer cancel()
	sess, err := xmpp.Dial(ctx, xmpp.Config{JID: jid.MustParse("a@localhost"), Password: "pw", Resource: "gab", Server: srv.Addr, DirectTLS: true, RootCAs: srv.Roots})
	if err != nil {
		t.Fatal(err)
	}
	drops := make(chan error, 4)
	done := make(chan struct{})
	go func() {
		defer close(done)
		for {
			if _, err := sess.Next(func(err error) { drops <- err }); err != nil {
				return
			}
		}
	}()
	defer func() { sess.Close(); <-done }()
	select {
	case first := <-answered:
		if !strings.HasPrefix(first, "iq result (id of 2 bytes)") {
			t.Fatalf("the client's first answer: %s", first)
		}
	case <-time.After(xmpptest.Timeout(xmpptest.RoundTrip)):
		t.Fatal("no answer to the second ping")
	}
	var de *xmpp.DroppedError
	if err := <-drops; !errors.As(err, &de) || de.Name != "iq" {
		t.Fatalf("drop reported: %v", err)
	} else {
		t.Logf("reported: %v", err)
	}
}
