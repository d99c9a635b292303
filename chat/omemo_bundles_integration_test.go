package chat_test

import (
	"bufio"
	"crypto/sha1"
	"encoding/hex"
	"encoding/xml"
	"fmt"
	"net"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
)

// blackHole is an XMPP component (XEP-0114) serving a domain whose
// server holds the PEP requests hold says (a hostile or overloaded
// server) until release, and answers the others at once: nothing
// published.
type blackHole struct {
	conn net.Conn
	held chan string // the nodes of requests held, as they come
	mu   sync.Mutex
	wait []componentIQ
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

func startBlackHole(t *testing.T, port int, domain, secret string, hold func(node string) bool) *blackHole {
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
	b := &blackHole{conn: conn, held: make(chan string, 4096)}
	go func() {
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
			if node := iq.PubSub.Items.Node; hold(node) {
				b.mu.Lock()
				b.wait = append(b.wait, iq)
				b.mu.Unlock()
				b.held <- node
				continue
			}
			b.notFound(iq)
		}
	}()
	return b
}

// waitHeld waits until n requests are held at once.
func (b *blackHole) waitHeld(t *testing.T, n int, what string) {
	t.Helper()
	limit := time.After(xmpptest.RoundTrip)
	for i := 0; i < n; i++ {
		select {
		case <-b.held:
		case <-limit:
			t.Fatalf("%d of %d requests for %s under way while none is answered", i, n, what)
		}
	}
}

// release answers the requests held: nothing there.
func (b *blackHole) release() {
	b.mu.Lock()
	held := b.wait
	b.wait = nil
	b.mu.Unlock()
	for _, iq := range held {
		b.notFound(iq)
	}
}

func (b *blackHole) notFound(iq componentIQ) {
	fmt.Fprintf(b.conn, "<iq type='error' id='%s' from='%s' to='%s'><error type='cancel'><item-not-found xmlns='urn:ietf:params:xml:ns:xmpp-stanzas'/></error></iq>", iq.ID, iq.To, iq.From)
}

// blackHoleConfig is the Prosody configuration of a component at port.
func blackHoleConfig(port int, domain, secret string) string {
	return fmt.Sprintf("component_ports = { %d }\ncomponent_interfaces = { \"127.0.0.1\" }\nComponent %q\ncomponent_secret = %q\n", port, domain, secret)
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
	srv := xmpptest.Start(t, xmpptest.Options{Extra: blackHoleConfig(port, domain, secret)})
	srv.Register(t, "alice", "pw")
	hole := startBlackHole(t, port, domain, secret, func(node string) bool { return strings.Contains(node, "bundle") })

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
	hole.waitHeld(t, len(listed), "bundles")
	hole.release()
	failed := a.r.wait(t, "the refusal", is(func(e chat.CommandFailed) bool { return e.ID == id })).(chat.CommandFailed)
	if !strings.Contains(failed.Err.Error(), bob) {
		t.Fatalf("refused as %v", failed.Err)
	}
}

// The same for a room's members, whose device lists gab reads when it
// enters and, for those without a device who are not contacts, again at
// each message: a room (or its owner) listing many members on a server
// that holds requests made gab wait for each member's lists in turn.
// They are read together.
func TestOMEMORoomMemberListsReadTogether(t *testing.T) {
	port := freeTCPPort(t)
	const domain, secret = "black.localhost", "s3cret"
	srv := xmpptest.Start(t, xmpptest.Options{MUC: true, Extra: blackHoleConfig(port, domain, secret)})
	for _, u := range []string{"alice", "ada"} {
		srv.Register(t, u, "pw")
	}
	hole := startBlackHole(t, port, domain, secret, func(node string) bool { return node != "" })
	room := xmpptest.Room("secret")
	ada := srv.StartPeer(t, "ada", "pw")
	ada.CreateRoom(t, room, "ada", xmpptest.RoomConfig{MembersOnly: true, Whois: "anyone", Persistent: true})
	const n = 8
	members := []string{"alice@localhost"}
	for i := range n {
		members = append(members, fmt.Sprintf("m%d@%s", i+1, domain))
	}
	for _, m := range members {
		ada.Must(t, map[string]any{"cmd": "affiliation", "room": room, "affiliation": "member", "jid": m})
	}
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: openStore(t), OMEMO: true, IQTimeout: 10 * time.Minute})
	a.r.wait(t, "our own device published", is(func(e chat.OMEMODeviceListChanged) bool {
		return e.Own && e.Version == chat.OMEMO2 && len(e.Devices) >= 1
	}))
	joinRoom(t, a, room, "alice", "")
	hole.waitHeld(t, 2*n, "the members' device lists, on entering")
	hole.release()
	id := a.c.Do(chat.SendMessage{Conv: chat.RoomConv(room), Body: "hello", Encrypt: true})
	// Each member's lists of the two versions in turn, the members
	// together.
	hole.waitHeld(t, n, "the members' OMEMO 0.3 device lists, sending")
	hole.release()
	hole.waitHeld(t, n, "the members' OMEMO 2 device lists, sending")
	hole.release()
	failed := a.r.wait(t, "the refusal", is(func(e chat.CommandFailed) bool { return e.ID == id })).(chat.CommandFailed)
	if !strings.Contains(failed.Err.Error(), fmt.Sprintf("%d members", n+1)) || !strings.Contains(failed.Err.Error(), "m1@"+domain) { // ada has no device either
		t.Fatalf("refused as %v", failed.Err)
	}
}
