package chat_test

import (
	"bufio"
	"crypto/sha1"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
)

// blackHole is an XMPP component (XEP-0114) serving a domain whose
// server answers device-list requests (none published) but holds every
// bundle request: a hostile or overloaded server.
type blackHole struct {
	conn    net.Conn
	bundles chan string // the nodes of bundle requests, as they come
	answer  chan struct{}
}

// componentIQ is what the black hole reads of a request.
type componentIQ struct {
	ID     string `xml:"id,attr"`
	From   string `xml:"from,attr"`
	To     string `xml:"to,attr"`
	PubSub struct {
		Items struct {
			Node string `xml:"node,attr"`
		} `xml:"items"`
	} `xml:"pubsub"`
}

func startBlackHole(t *testing.T, port int, domain, secret string) *blackHole {
	t.Helper()
	conn, err := net.Dial("tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	fmt.Fprintf(conn, "<stream:stream xmlns='jabber:component:accept' xmlns:stream='http://etherx.jabber.org/streams' to='%s'>", domain)
	dec := xml.NewDecoder(bufio.NewReader(conn))
	var id string
	for id == "" {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("the component's stream: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok && se.Name.Local == "stream" {
			for _, a := range se.Attr {
				if a.Name.Local == "id" {
					id = a.Value
				}
			}
		}
	}
	sum := sha1.Sum([]byte(id + secret))
	fmt.Fprintf(conn, "<handshake>%s</handshake>", hex.EncodeToString(sum[:]))
	for {
		tok, err := dec.Token()
		if err != nil {
			t.Fatalf("the component's handshake: %v", err)
		}
		if se, ok := tok.(xml.StartElement); ok {
			if se.Name.Local != "handshake" {
				t.Fatalf("the component's handshake answered with <%s>", se.Name.Local)
			}
			break
		}
	}
	b := &blackHole{conn: conn, bundles: make(chan string, 1024), answer: make(chan struct{})}
	held := make(chan componentIQ, 1024)
	go func() {
		<-b.answer
		for iq := range held {
			b.notFound(iq)
		}
	}()
	go func() {
		defer close(held)
		for {
			tok, err := dec.Token()
			if err != nil {
				return
			}
			se, ok := tok.(xml.StartElement)
			if !ok || se.Name.Local != "iq" {
				continue
			}
			var iq componentIQ
			if dec.DecodeElement(&iq, &se) != nil {
				return
			}
			if node := iq.PubSub.Items.Node; strings.Contains(node, "bundle") {
				b.bundles <- node
				held <- iq
				continue
			}
			b.notFound(iq) // a device list: none
		}
	}()
	return b
}

func (b *blackHole) notFound(iq componentIQ) {
	fmt.Fprintf(b.conn, "<iq type='error' id='%s' from='%s' to='%s'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>", iq.ID, iq.To, iq.From)
}

func freeTCPPort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// A contact lists devices whose bundles its server never gives (any
// server can list hundreds of devices, and hold the requests). gab read
// them one after another, each waiting its full answer time, while the
// message waited and no other could be sent: hours for a contact with
// 256 such devices. The bundles are now asked for together: all eight
// requests are under way before any is answered (the answer time here is
// ten minutes: one after another, the second would come only then).
func TestOMEMOBundlesReadTogether(t *testing.T) {
	port := freeTCPPort(t)
	const domain, secret = "black.localhost", "s3cret"
	srv := xmpptest.Start(t, xmpptest.Options{Extra: fmt.Sprintf("component_ports = { %d }\ncomponent_interfaces = { \"127.0.0.1\" }\nComponent %q\ncomponent_secret = %q\n", port, domain, secret)})
	srv.Register(t, "alice", "pw")
	hole := startBlackHole(t, port, domain, secret)

	store := openStore(t)
	bob := "bob@" + domain
	var listed []history.ListedDevice
	for i := range 8 {
		listed = append(listed, history.ListedDevice{ID: uint32(1000 + i)})
	}
	if _, err := store.SaveDeviceList(t.Context(), bob, history.OMEMO03, listed, time.Now()); err != nil {
		t.Fatal(err)
	}
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store, OMEMO: true, IQTimeout: 10 * time.Minute})
	a.r.wait(t, "our own device published", is(func(e chat.OMEMODeviceListChanged) bool {
		return e.Own && e.Version == chat.OMEMO2 && len(e.Devices) >= 1
	}))
	id := a.c.Do(chat.SendMessage{Conv: chat.ChatWith(bob), Body: "hello", Encrypt: true})
	limit := time.After(xmpptest.RoundTrip)
	for n := 0; n < len(listed); n++ {
		select {
		case <-hole.bundles:
		case <-limit:
			t.Fatalf("%d of %d bundle requests under way while none is answered", n, len(listed))
		}
	}
	close(hole.answer)
	failed := a.r.wait(t, "the refusal", is(func(e chat.CommandFailed) bool { return e.ID == id })).(chat.CommandFailed)
	if !strings.Contains(failed.Err.Error(), bob) {
		t.Fatalf("refused as %v", failed.Err)
	}
}
