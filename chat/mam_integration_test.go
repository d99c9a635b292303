package chat_test

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
)

// A message that reached the phone while the laptop was off comes to the
// laptop from the archive at its next login, exactly once, with its time.
func TestArchiveCatchUpExactlyOnce(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	befriend(t, srv, "alice", "bob")
	path := filepath.Join(t.TempDir(), "laptop.db")
	store, err := history.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	laptop := start(t, account(t, srv, "alice", "pw", "laptop"), chat.Options{Store: store})
	bob := start(t, account(t, srv, "bob", "pw", "gab"), chat.Options{})
	bob.do(t, chat.SendMessage{Conv: chat.ChatWith("alice@localhost"), Body: "while both were on"})
	laptop.r.wait(t, "the first message", is(func(e chat.MessageReceived) bool { return e.Body == "while both were on" }))
	laptop.stop()
	time.Sleep(1100 * time.Millisecond) // archive stamps have one-second precision

	phone := start(t, account(t, srv, "alice", "pw", "phone"), chat.Options{})
	sent := time.Now()
	bob.do(t, chat.SendMessage{Conv: chat.ChatWith("alice@localhost"), Body: "only the phone was on"})
	phone.r.wait(t, "the phone gets it", is(func(e chat.MessageReceived) bool { return e.Body == "only the phone was on" }))
	got := time.Now()
	phone.do(t, chat.SendMessage{Conv: chat.ChatWith("bob@localhost"), Body: "answered from the phone"})
	bob.r.wait(t, "bob gets the answer", is(func(e chat.MessageReceived) bool { return e.Body == "answered from the phone" }))
	time.Sleep(1100 * time.Millisecond) // archive stamps have one-second precision

	again := start(t, account(t, srv, "alice", "pw", "laptop"), chat.Options{Store: store})
	m := again.r.wait(t, "the archived message", is(func(e chat.MessageReceived) bool { return e.Body == "only the phone was on" })).(chat.MessageReceived)
	// The archive's stamp (whole seconds) is when the server had it.
	if !m.Delayed || m.Time.Before(sent.Truncate(time.Second)) || m.Time.After(got) || m.ArchiveID == "" {
		t.Fatalf("archived message: %+v (sent %v, received by the phone %v)", m, sent, got)
	}
	again.r.wait(t, "our own answer, from the archive", is(func(e chat.CarbonSent) bool { return e.Body == "answered from the phone" }))
	// The blocklist is asked for after the archive, so its answer comes
	// after the last archived message, and any copy of one.
	caughtUp := is(func(e chat.BlocklistChanged) bool { return e.Reset })
	again.r.wait(t, "the blocklist, asked for after the archive", caughtUp)
	var seen []string
	for _, e := range again.r.snapshot() {
		switch v := e.(type) {
		case chat.MessageReceived:
			seen = append(seen, v.Body)
		case chat.CarbonSent:
			seen = append(seen, v.Body)
		}
	}
	if fmt.Sprint(seen) != fmt.Sprint([]string{"only the phone was on", "answered from the phone"}) {
		t.Fatalf("after login: %q", seen)
	}
	stored, _, _ := store.Before(t.Context(), history.Conv{Peer: "bob@localhost"}, 0, 10)
	var bodies []string
	for _, s := range stored {
		bodies = append(bodies, s.Body)
	}
	if fmt.Sprint(bodies) != fmt.Sprint([]string{"while both were on", "only the phone was on", "answered from the phone"}) {
		t.Fatalf("stored: %q", bodies)
	}

	// A reconnect asks again from where it left off: nothing new, nothing twice.
	n := len(again.r.snapshot())
	again.c.Do(chat.Reconnect{})
	again.r.waitFrom(t, n, "reconnected", xmpptest.RoundTrip, is[chat.RosterReset](nil))
	again.r.waitFrom(t, n, "the blocklist, asked for after the archive", xmpptest.RoundTrip, caughtUp)
	for _, e := range again.r.snapshot()[n:] {
		if m, ok := e.(chat.MessageReceived); ok {
			t.Fatalf("shown again after a reconnect: %+v", m)
		}
	}
}

func TestForgedArchiveResultIsDropped(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "mallory", "pw")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{})
	m := rawPeer(t, srv, "mallory")
	m.Send(`<message to='alice@localhost/gab'><result xmlns='urn:xmpp:mam:2' queryid='x' id='fake'><forwarded xmlns='urn:xmpp:forward:0'>` +
		`<message xmlns='jabber:client' from='boss@localhost/x' to='alice@localhost' type='chat'><body>forged: archived order</body></message></forwarded></result></message>`)
	m.Send(`<message to='alice@localhost/gab' type='chat'><body>marker</body></message>`)
	a.r.wait(t, "the marker", is(func(e chat.MessageReceived) bool { return e.Body == "marker" }))
	a.r.wait(t, "the report", is(func(e chat.Notice) bool {
		return strings.Contains(e.Text, "forged archive result from mallory@localhost")
	}))
	for _, e := range a.r.snapshot() {
		if v, ok := e.(chat.MessageReceived); ok && strings.Contains(v.Body, "forged") {
			t.Fatalf("forged archive result shown: %+v", v)
		}
	}
}

// A conversation gab has no history of gets its latest page from the
// archive when its tab opens.
func TestNewConversationFetchesItsLatestPage(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	old := start(t, account(t, srv, "alice", "pw", "old-device"), chat.Options{})
	b := start(t, account(t, srv, "bob", "pw", "gab"), chat.Options{})
	for i := 0; i < 3; i++ {
		b.do(t, chat.SendMessage{Conv: chat.ChatWith("alice@localhost"), Body: fmt.Sprint("old ", i)})
	}
	old.r.wait(t, "the last old message", is(func(e chat.MessageReceived) bool { return e.Body == "old 2" }))
	old.do(t, chat.SendMessage{Conv: chat.ChatWith("bob@localhost"), Body: "old answer"})
	b.r.wait(t, "the answer", is(func(e chat.MessageReceived) bool { return e.Body == "old answer" }))
	old.stop()

	store := openStore(t)
	a := start(t, account(t, srv, "alice", "pw", "new-device"), chat.Options{Store: store})
	a.do(t, chat.LoadHistory{Conv: chat.ChatWith("bob@localhost"), Limit: 50})
	h := a.r.wait(t, "the page", is(func(e chat.HistoryLoaded) bool { return e.Conv == chat.ChatWith("bob@localhost") })).(chat.HistoryLoaded)
	var bodies []string
	for _, m := range h.Messages {
		bodies = append(bodies, m.Body)
	}
	if fmt.Sprint(bodies) != fmt.Sprint([]string{"old 0", "old 1", "old 2", "old answer"}) {
		t.Fatalf("page: %q", bodies)
	}
	if !h.Messages[3].Outgoing {
		t.Fatalf("our own message not marked as ours: %+v", h.Messages[3])
	}
}

// answers lists, in order, the events that answer command id: the final
// CommandDone or CommandFailed, and anything else matched by extra.
func finalAnswers(r *recorder, id uint64) []chat.Event {
	var out []chat.Event
	for _, e := range r.snapshot() {
		switch v := e.(type) {
		case chat.CommandDone:
			if v.ID == id {
				out = append(out, e)
			}
		case chat.CommandFailed:
			if v.ID == id {
				out = append(out, e)
			}
		}
	}
	return out
}

// On a server that keeps no archive, a new tab's history request is still
// answered: the page the store has (empty here), then exactly one final
// answer after it.
func TestNewConversationWithoutArchiveIsAnswered(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{NoMAM: true})
	srv.Register(t, "alice", "pw")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: openStore(t)})
	id := a.c.Do(chat.LoadHistory{Conv: chat.ChatWith("bob@localhost"), Limit: 50})
	_, at := a.r.waitFrom(t, 0, "the page", 10*time.Second, is(func(e chat.HistoryLoaded) bool { return e.Conv == chat.ChatWith("bob@localhost") }))
	_, done := a.r.waitFrom(t, 0, "the final answer", 10*time.Second, is(func(e chat.CommandDone) bool { return e.ID == id }))
	if done < at {
		t.Fatalf("the command was answered before its page (%d < %d)", done, at)
	}
	// A sentinel command queued after it: once it is answered, a second
	// answer to the first would have come.
	a.do(t, chat.LoadHistory{Conv: chat.ChatWith("carol@localhost"), Limit: 50})
	if got := finalAnswers(a.r, id); len(got) != 1 {
		t.Fatalf("%d final answers: %v", len(got), got)
	}
}

// When the archive does not answer in time, the history request is still
// answered: the store's page, then a failure giving the reason.
func TestHistoryRequestAnsweredWhenTheArchiveIsSilent(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	proxy := xmpptest.StartProxy(t, srv.Addr())
	acct := account(t, srv, "alice", "pw", "gab")
	acct.Server = proxy.Addr()
	a := start(t, acct, chat.Options{Store: openStore(t), IQTimeout: 3 * time.Second, NoReconnect: true})
	proxy.Blackhole() // nothing more reaches the server, nothing comes back
	id := a.c.Do(chat.LoadHistory{Conv: chat.ChatWith("bob@localhost"), Limit: 50})
	_, at := a.r.waitFrom(t, 0, "the page", 20*time.Second, is(func(e chat.HistoryLoaded) bool { return e.Conv == chat.ChatWith("bob@localhost") }))
	ev, failed := a.r.waitFrom(t, 0, "the failure", 20*time.Second, is(func(e chat.CommandFailed) bool { return e.ID == id }))
	if failed < at || !strings.Contains(ev.(chat.CommandFailed).Err.Error(), "archive") {
		t.Fatalf("answer %v at %d, page at %d", ev, failed, at)
	}
	if got := finalAnswers(a.r, id); len(got) != 1 {
		t.Fatalf("%d final answers: %v", len(got), got)
	}
}
