package chat_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
	"mellium.im/xmpp/jid"
)

// storeLines puts bodies in the store as messages received from peer.
func storeLines(t testing.TB, store *history.Store, peer string, bodies ...string) {
	t.Helper()
	at := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	var rows []*history.Message
	for i, b := range bodies {
		rows = append(rows, &history.Message{Kind: history.KindChat, Peer: peer, Direction: history.In, From: peer + "/phone",
			To: "alice@localhost/gab", Body: b, StanzaID: fmt.Sprint(peer, i), Time: at.Add(time.Duration(i) * time.Minute)})
	}
	if err := store.Append(rows); err != nil {
		t.Fatal(err)
	}
}

// gate is a TCP port that takes connections and holds them silent until
// released: a server that is slow to answer (or never does). Released,
// it forwards them to target.
type gate struct {
	l        net.Listener
	target   string
	accepted chan net.Conn
	release  chan struct{}
	once     sync.Once
	wg       sync.WaitGroup
}

func startGate(t testing.TB, target string) *gate {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := &gate{l: l, target: target, accepted: make(chan net.Conn, 16), release: make(chan struct{})}
	g.wg.Add(1)
	go func() {
		defer g.wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			g.accepted <- c
			g.wg.Add(1)
			go func() {
				defer g.wg.Done()
				defer c.Close()
				<-g.release
				if g.target == "" {
					return
				}
				s, err := net.Dial("tcp", g.target)
				if err != nil {
					return
				}
				defer s.Close()
				done := make(chan struct{}, 2)
				go func() { io.Copy(s, c); s.Close(); done <- struct{}{} }()
				go func() { io.Copy(c, s); c.Close(); done <- struct{}{} }()
				<-done
				<-done
			}()
		}
	}()
	t.Cleanup(func() { l.Close(); g.open(); g.wg.Wait() })
	return g
}

// open lets the held connections through (or, with no target, closes them).
func (g *gate) open() { g.once.Do(func() { close(g.release) }) }

// waitConnecting returns once the client has connected to the gate: it is
// waiting for the server's stream header.
func (g *gate) waitConnecting(t testing.TB) {
	t.Helper()
	select {
	case <-g.accepted:
	case <-time.After(xmpptest.Timeout(xmpptest.Local)):
		t.Fatal("the client did not connect")
	}
}

// startBehind runs a client of acct connecting through g (its server
// address is the gate's) until the test ends, and returns once it is
// connecting, with what it says recorded.
func startBehind(t *testing.T, g *gate, acct *config.Account, opts chat.Options) (*chat.Client, *recorder) {
	t.Helper()
	acct.Server = g.l.Addr().String()
	c := chat.New(acct, opts)
	r := newRecorder(c.Events())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
	g.waitConnecting(t)
	return c, r
}

// While the server has not answered the connection, the commands that
// read the store are answered from it at once, in order; the others wait,
// in order, and are answered once the attempt has failed.
func TestStoreReadsAnsweredWhileConnecting(t *testing.T) {
	store := openStore(t)
	storeLines(t, store, "bob@localhost", "bob one", "bob two")
	storeLines(t, store, "carol@localhost", "carol one")
	g := startGate(t, "") // a server that never says a word, then hangs up
	c, r := startBehind(t, g, &config.Account{
		Name: "alice", JID: jid.MustParse("alice@localhost"), Password: "pw", Resource: "gab",
		TLS: config.TLSStartTLS, Status: "online", Enabled: true,
	}, chat.Options{Store: store, MinBackoff: time.Hour, MaxBackoff: time.Hour})

	add := c.Do(chat.AddContact{JID: "dave@localhost"})
	empty := c.Do(chat.LoadHistory{Conv: chat.ChatWith("erin@localhost"), Limit: 50}) // the archive's to fill
	bob := c.Do(chat.LoadHistory{Conv: chat.ChatWith("bob@localhost"), Limit: 50})
	search := c.Do(chat.SearchHistory{Text: "one"})
	carol := c.Do(chat.LoadHistory{Conv: chat.ChatWith("carol@localhost"), Limit: 50})

	_, last := r.waitFrom(t, 0, "carol's page answered", xmpptest.Local, answerOf(carol))
	evs := r.snapshot()[:last+1]
	var order []string
	for _, e := range evs {
		switch v := e.(type) {
		case chat.HistoryLoaded:
			var bodies []string
			for _, m := range v.Messages {
				bodies = append(bodies, m.Body)
			}
			order = append(order, fmt.Sprintf("page %s %q", v.Conv.JID, bodies))
		case chat.SearchResults:
			order = append(order, fmt.Sprintf("search %d hits", len(v.Hits)))
		case chat.CommandDone:
			order = append(order, fmt.Sprint("done ", map[uint64]string{add: "add", empty: "erin", bob: "bob", search: "search", carol: "carol"}[v.ID]))
		case chat.CommandFailed:
			order = append(order, fmt.Sprintf("failed %d: %v", v.ID, v.Err))
		case chat.Disconnected, chat.Retrying:
			order = append(order, fmt.Sprintf("%T", e))
		}
	}
	want := []string{
		`page bob@localhost ["bob one" "bob two"]`, "done bob",
		"search 2 hits", "done search",
		`page carol@localhost ["carol one"]`, "done carol",
	}
	if fmt.Sprint(order) != fmt.Sprint(want) {
		t.Fatalf("while connecting:\n got %q\nwant %q", order, want)
	}

	// The attempt fails: what waited is answered now, in order.
	g.open()
	_, i := r.waitFrom(t, 0, "the failed attempt", xmpptest.Local, failedAttempt)
	_, j := r.waitFrom(t, 0, "the contact's answer", xmpptest.Local, answerOf(add))
	_, k := r.waitFrom(t, 0, "erin's answer", xmpptest.Local, answerOf(empty))
	if !(i < j && j < k) {
		t.Fatalf("failed attempt at %d, answers at %d and %d: %s", i, j, k, summary(r.snapshot()))
	}
	if _, ok := r.snapshot()[j].(chat.CommandFailed); !ok {
		t.Fatalf("adding a contact offline: %v", r.snapshot()[j])
	}
}

// A page the store has nothing of, asked for while connecting, is not
// answered empty: once the session is up, the server's archive fills it.
func TestArchivePageAskedWhileConnectingIsFilledOnceOnline(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	old := start(t, account(t, srv, "alice", "pw", "old-device"), chat.Options{})
	old.do(t, chat.SendMessage{Conv: chat.ChatWith("bob@localhost"), Body: "from the old device"})
	old.r.wait(t, "the message acknowledged", is(func(e chat.DeliveryChanged) bool { return e.State == chat.DeliverySent }))
	old.stop()

	store := openStore(t)
	storeLines(t, store, "carol@localhost", "carol one")
	g := startGate(t, srv.Addr())
	c, r := startBehind(t, g, account(t, srv, "alice", "pw", "new-device"), chat.Options{Store: store, Version: "test"})

	bob := c.Do(chat.LoadHistory{Conv: chat.ChatWith("bob@localhost"), Limit: 50})
	carol := c.Do(chat.LoadHistory{Conv: chat.ChatWith("carol@localhost"), Limit: 50})
	_, at := r.waitFrom(t, 0, "carol's page answered while connecting", xmpptest.Local, answerOf(carol))
	for _, e := range r.snapshot()[:at] {
		if h, ok := e.(chat.HistoryLoaded); ok && h.Conv.JID == "bob@localhost" {
			t.Fatalf("bob's page answered from an empty store before the session: %+v", h)
		}
		if _, ok := e.(chat.Connected); ok {
			t.Fatal("connected before the server was let answer")
		}
	}

	g.open()
	r.waitFrom(t, at, "connected", xmpptest.RoundTrip, is[chat.Connected](nil))
	ev, _ := r.waitFrom(t, at, "bob's page", xmpptest.RoundTrip, is(func(e chat.HistoryLoaded) bool { return e.Conv.JID == "bob@localhost" }))
	if h := ev.(chat.HistoryLoaded); len(h.Messages) != 1 || h.Messages[0].Body != "from the old device" || !h.Messages[0].Outgoing {
		t.Fatalf("bob's page: %+v", h.Messages)
	}
	r.waitFrom(t, at, "bob's answer", xmpptest.RoundTrip, answerOf(bob))
	if got := finalAnswers(r, bob); len(got) != 1 {
		t.Fatalf("%d final answers: %v", len(got), got)
	}
}

// How long a page of stored history takes to be answered while the
// client waits for a server that does not answer: the store's read and
// the event, nothing of the network.
func BenchmarkLoadHistoryWhileConnecting(b *testing.B) {
	store, err := history.Open(filepath.Join(b.TempDir(), "history.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer store.Close()
	bodies := make([]string, 500)
	for i := range bodies {
		bodies[i] = fmt.Sprint("message ", i)
	}
	storeLines(b, store, "bob@localhost", bodies...)
	g := startGate(b, "")
	c := chat.New(&config.Account{
		Name: "alice", JID: jid.MustParse("alice@localhost"), Password: "pw", Resource: "gab",
		Server: g.l.Addr().String(), TLS: config.TLSStartTLS, Status: "online", Enabled: true,
	}, chat.Options{Store: store})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	g.waitConnecting(b)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		id := c.Do(chat.LoadHistory{Conv: chat.ChatWith("bob@localhost"), Limit: 100})
		for e := range c.Events() {
			if d, ok := e.(chat.CommandDone); ok && d.ID == id {
				break
			}
			if _, ok := e.(chat.Disconnected); ok {
				b.Fatal("the connection attempt ended")
			}
		}
	}
}

// A message written while the server has not answered yet is kept at once
// (stored, shown as pending, its command answered) and not left invisible
// in the queue: quitting before the server answers loses nothing, and once
// the session is up it goes out, once.
func TestMessageWrittenWhileConnectingIsKeptAndSentOnceOnline(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	bob := srv.StartPeer(t, "bob", "pw")

	store := openStore(t)
	g := startGate(t, srv.Addr())
	c, r := startBehind(t, g, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store, Version: "test"})

	send := c.Do(chat.SendMessage{Conv: chat.ChatWith("bob@localhost"), Body: "written while connecting"})
	_, at := r.waitFrom(t, 0, "the message answered while connecting", xmpptest.Local, answerOf(send))
	shown := false
	for _, e := range r.snapshot()[:at+1] {
		switch v := e.(type) {
		case chat.MessageSent:
			shown = v.Body == "written while connecting" && v.State == chat.DeliveryPending
		case chat.Connected:
			t.Fatal("connected before the server was let answer")
		case chat.CommandFailed:
			t.Fatalf("the message failed: %v", v.Err)
		}
	}
	if !shown {
		t.Fatalf("the message was not shown as pending: %s", summary(r.snapshot()))
	}
	unsent, err := store.Unsent(context.Background())
	if err != nil || len(unsent) != 1 || unsent[0].Body != "written while connecting" {
		t.Fatalf("stored while connecting: %v (%v)", unsent, err)
	}

	g.open()
	r.waitFrom(t, at, "connected", xmpptest.RoundTrip, is[chat.Connected](nil))
	if _, ok := bob.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "message" && e.Get("body") == "written while connecting"
	}); !ok {
		t.Fatalf("bob never got it: %v", bob.Events())
	}
	r.waitFrom(t, at, "the message acknowledged", xmpptest.RoundTrip, is(func(e chat.DeliveryChanged) bool { return e.State == chat.DeliverySent }))
	n := 0
	for _, e := range bob.Events() {
		if e.Get("event") == "message" && e.Get("body") == "written while connecting" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("bob got it %d times", n)
	}
}
