package chat_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
)

// bodies lists the bodies received, in order.
func bodies(r *recorder) []string {
	var out []string
	for _, e := range r.snapshot() {
		if m, ok := e.(chat.MessageReceived); ok {
			out = append(out, m.Body)
		}
	}
	return out
}

// confirmed matches the message with id leaving the outbox: acknowledged by
// the server, or confirmed by the recipient's receipt, which may come first
// (a late acknowledgement then changes nothing).
func confirmed(id string) func(chat.Event) bool {
	return is(func(e chat.DeliveryChanged) bool {
		return e.ID == id && (e.State == chat.DeliverySent || e.State == chat.DeliveryReceived || e.State == chat.DeliveryDisplayed)
	})
}

func TestMessageWrittenDuringOutageArrivesOnce(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	befriend(t, srv, "alice", "bob")
	store := openStore(t)
	opts := chat.Options{Store: store} // the default backoff: 1 s doubling
	a := start(t, account(t, srv, "alice", "pw", "gab"), opts)
	b := start(t, account(t, srv, "bob", "pw", "gab"), chat.Options{})
	a.do(t, chat.SendMessage{Conv: chat.ChatWith("bob@localhost"), Body: "before"})
	b.r.wait(t, "the first message", is(func(e chat.MessageReceived) bool { return e.Body == "before" }))
	first := a.r.wait(t, "the first message sent", is(func(e chat.MessageSent) bool { return e.Body == "before" })).(chat.MessageSent)
	a.r.wait(t, "the first message acknowledged", confirmed(first.ID))

	srv.Kill()
	_, i := a.r.waitFrom(t, 0, "the outage", xmpptest.RoundTrip, is(func(e chat.Disconnected) bool { return e.Err != nil }))
	a.do(t, chat.SendMessage{Conv: chat.ChatWith("bob@localhost"), Body: "during the outage"})
	ev, _ := a.r.waitFrom(t, i, "the pending message", xmpptest.RoundTrip, is(func(e chat.MessageSent) bool { return e.Body == "during the outage" }))
	id := ev.(chat.MessageSent).ID
	if un, _ := store.Unsent(context.Background()); len(un) != 1 || un[0].State != history.StatePending {
		t.Fatalf("outbox on disk: %+v", un)
	}
	// The message waits out a failed attempt to reconnect.
	a.r.waitFrom(t, i+1, "an attempt while the server is down", xmpptest.RoundTrip, failedAttempt)
	if err := srv.Run(); err != nil {
		t.Fatal(err)
	}
	back := time.Now() // accepting connections again
	_, j := a.r.waitFrom(t, i, "reconnect", xmpptest.RoundTrip, is[chat.Connected](nil))
	t.Logf("reconnected %v after the server was back", time.Since(back))
	a.r.waitFrom(t, j, "the message confirmed", xmpptest.RoundTrip, confirmed(id))
	b.r.wait(t, "the message written during the outage", is(func(e chat.MessageReceived) bool { return e.Body == "during the outage" }))
	// Any copy was sent before what alice writes next.
	a.do(t, chat.SendMessage{Conv: chat.ChatWith("bob@localhost"), Body: "after"})
	b.r.wait(t, "the message after", is(func(e chat.MessageReceived) bool { return e.Body == "after" }))
	after := a.r.wait(t, "the message after sent", is(func(e chat.MessageSent) bool { return e.Body == "after" })).(chat.MessageSent)
	a.r.wait(t, "the message after acknowledged", confirmed(after.ID))
	if got := bodies(b.r); fmt.Sprint(got) != fmt.Sprint([]string{"before", "during the outage", "after"}) {
		t.Fatalf("bob received %q", got)
	}
	if un, _ := store.Unsent(context.Background()); len(un) != 0 {
		t.Fatalf("outbox not empty: %+v", un)
	}
}

func TestResumeAfterTheConnectionIsCut(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	befriend(t, srv, "alice", "bob")
	proxy := xmpptest.StartProxy(t, srv.Addr())
	acct := account(t, srv, "alice", "pw", "gab")
	acct.Server = proxy.Addr()
	opts := fast
	// Long enough that a busy server answers in time: only the dead route
	// may go unanswered.
	opts.PingInterval, opts.PingTimeout = 500*time.Millisecond, 5*time.Second
	a := start(t, acct, opts)
	b := start(t, account(t, srv, "bob", "pw", "gab"), chat.Options{})
	a.r.wait(t, "bob online", is(func(e chat.PresenceChanged) bool { return e.Bare == "bob@localhost" && e.Available }))

	before := len(a.r.snapshot())
	proxy.Blackhole() // the route dies silently: only the ping notices
	a.do(t, chat.SendMessage{Conv: chat.ChatWith("bob@localhost"), Body: "into the void"})
	b.do(t, chat.SendMessage{Conv: chat.ChatWith("alice@localhost"), Body: "while you were cut off"})
	_, i := a.r.waitFrom(t, before, "the dead connection noticed", xmpptest.RoundTrip, is(func(e chat.Disconnected) bool { return e.Err != nil }))
	proxy.Cut()
	ev, _ := a.r.waitFrom(t, i, "reconnect", xmpptest.RoundTrip, is[chat.Connected](nil))
	if !ev.(chat.Connected).Resumed {
		t.Fatalf("not resumed: %+v", ev)
	}
	a.r.wait(t, "the message sent meanwhile", is(func(e chat.MessageReceived) bool { return e.Body == "while you were cut off" }))
	b.r.wait(t, "the re-sent message", is(func(e chat.MessageReceived) bool { return e.Body == "into the void" }))
	// Any copy comes before what each side writes next: alice's re-sends go
	// out before her new messages, the server's before bob's new ones.
	a.do(t, chat.SendMessage{Conv: chat.ChatWith("bob@localhost"), Body: "after the resume"})
	b.do(t, chat.SendMessage{Conv: chat.ChatWith("alice@localhost"), Body: "welcome back"})
	b.r.wait(t, "alice's message after the resume", is(func(e chat.MessageReceived) bool { return e.Body == "after the resume" }))
	a.r.wait(t, "bob's message after the resume", is(func(e chat.MessageReceived) bool { return e.Body == "welcome back" }))
	if got := bodies(b.r); fmt.Sprint(got) != fmt.Sprint([]string{"into the void", "after the resume"}) {
		t.Fatalf("bob received %q", got)
	}
	if got := bodies(a.r); fmt.Sprint(got) != fmt.Sprint([]string{"while you were cut off", "welcome back"}) {
		t.Fatalf("alice received %q", got)
	}
	resets := 0
	for _, e := range a.r.snapshot() {
		if r, ok := e.(chat.RosterReset); ok && !r.Cached {
			resets++
		}
	}
	if resets != 1 {
		t.Fatalf("%d roster fetches: a resumed session keeps its roster", resets)
	}
}

func TestBouncedMessageIsMarkedFailed(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{})
	a.do(t, chat.SendMessage{Conv: chat.ChatWith("nobody@localhost"), Body: "hello?"})
	ev := a.r.wait(t, "the sent message", is[chat.MessageSent](nil)).(chat.MessageSent)
	a.r.wait(t, "the failure", is(func(e chat.DeliveryChanged) bool { return e.ID == ev.ID && e.State == chat.DeliveryFailed }))
}

// The outbox is on disk: a message written while offline survives quitting
// gab and goes out with the next start.
func TestOutboxSurvivesARestartOfTheClient(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	path := filepath.Join(t.TempDir(), "alice.db")
	store, err := history.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	queueOffline(t, srv, store, chat.SendMessage{Conv: chat.ChatWith("bob@localhost"), Body: "written offline"})
	b := startAgain(t, srv, path)
	b.r.wait(t, "the message from the last run", is(func(e chat.MessageReceived) bool { return e.Body == "written offline" }))
}

// queueOffline stops srv, runs alice's client on store while the server
// is down, gives it cmd and returns the message it queued; then the
// client stops, store is closed and the server runs again.
func queueOffline(t *testing.T, srv *xmpptest.Server, store *history.Store, cmd chat.SendMessage) chat.MessageSent {
	t.Helper()
	srv.Kill()
	c := chat.New(account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	r := newRecorder(c.Events())
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	r.wait(t, "offline", is(func(e chat.Disconnected) bool { return e.Err != nil }))
	c.Do(cmd)
	sent := r.wait(t, "queued", is(func(e chat.MessageSent) bool { return e.State == chat.DeliveryPending })).(chat.MessageSent)
	cancel()
	<-done
	store.Close()
	if err := srv.Run(); err != nil {
		t.Fatal(err)
	}
	return sent
}

// startAgain starts bob, then alice's client on the store at path, as the
// next run of gab: what the last one queued goes out. It returns bob.
func startAgain(t *testing.T, srv *xmpptest.Server, path string) *running {
	t.Helper()
	b := start(t, account(t, srv, "bob", "pw", "gab"), chat.Options{})
	store, err := history.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	return b
}

func TestHistoryLoadsFromTheStore(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	store := openStore(t)
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	b := start(t, account(t, srv, "bob", "pw", "gab"), chat.Options{})
	b.do(t, chat.SendMessage{Conv: chat.ChatWith("alice@localhost"), Body: "one"})
	got := a.r.wait(t, "one", is(func(e chat.MessageReceived) bool { return e.Body == "one" })).(chat.MessageReceived)
	a.do(t, chat.SendMessage{Conv: chat.ChatWith("bob@localhost"), Body: "two"})
	if got.StoreID == 0 {
		t.Fatal("a stored message carries no row id")
	}
	a.c.Do(chat.LoadHistory{Conv: chat.ChatWith("bob@localhost"), Limit: 10})
	h := a.r.wait(t, "history", is[chat.HistoryLoaded](nil)).(chat.HistoryLoaded)
	if len(h.Messages) != 2 || h.More || h.Messages[0].StoreID != got.StoreID || h.Messages[0].Body != "one" ||
		!h.Messages[1].Outgoing || h.Messages[1].Body != "two" {
		t.Fatalf("history: %+v", h)
	}
}

func TestSearchAndContext(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{NoMAM: true})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	store := openStore(t)
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	b := start(t, account(t, srv, "bob", "pw", "gab"), chat.Options{})
	for _, body := range []string{"first", "the needle is here", "last"} {
		b.do(t, chat.SendMessage{Conv: chat.ChatWith("alice@localhost"), Body: body})
	}
	a.r.wait(t, "last", is(func(e chat.MessageReceived) bool { return e.Body == "last" }))
	a.do(t, chat.SearchHistory{Text: "needle"})
	res := a.r.wait(t, "results", is[chat.SearchResults](nil)).(chat.SearchResults)
	if len(res.Hits) != 1 || res.Hits[0].Conv != chat.ChatWith("bob@localhost") || res.Hits[0].Body != "the needle is here" {
		t.Fatalf("results: %+v", res)
	}
	a.do(t, chat.LoadAround{Conv: chat.ChatWith("bob@localhost"), StoreID: res.Hits[0].StoreID})
	h := a.r.wait(t, "context", is(func(e chat.HistoryLoaded) bool { return e.Around != 0 })).(chat.HistoryLoaded)
	if len(h.Messages) != 3 || h.Messages[1].StoreID != res.Hits[0].StoreID {
		t.Fatalf("context: %+v", h)
	}
}
