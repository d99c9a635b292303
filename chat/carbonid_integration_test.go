package chat_test

import (
	"path/filepath"
	"testing"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
)

// Carbons of messages another of our clients sent and received, without
// origin-ids, carry the archive's stanza-id: stored live with it, they are
// recognised when the next catch-up brings them from the archive, and each
// is stored exactly once.
func TestCarbonsAreNotStoredAgainByTheCatchUp(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	srv.Register(t, "bob", "pw")
	befriend(t, srv, "alice", "bob")
	store, err := history.Open(filepath.Join(t.TempDir(), "laptop.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer store.Close()
	laptop := start(t, account(t, srv, "alice", "pw", "laptop"), chat.Options{Store: store})
	// The first run's catch-up only notes where the archive ends; once
	// that is stored it says it is done.
	laptop.r.wait(t, "the first catch-up", is(func(e chat.CatchUpProgress) bool { return e.Done }))
	// Answered after carbons are enabled (the server answers in order).
	laptop.do(t, chat.FetchBlocklist{})
	if last, _ := store.Meta(t.Context(), "mam_last"); last != "^" {
		t.Fatalf("the archive was not empty at the first login: %q", last)
	}
	phone := rawPeer(t, srv, "alice") // another client of ours: no origin-ids
	bob := rawPeer(t, srv, "bob")
	phone.Send(`<message to='bob@localhost' type='chat' id='p1'><body>sent from the phone</body></message>`)
	bob.Send(`<message to='alice@localhost/evil' type='chat' id='b1'><body>to the phone only</body></message>`)
	c := laptop.r.wait(t, "the sent carbon", is(func(e chat.CarbonSent) bool { return e.Body == "sent from the phone" })).(chat.CarbonSent)
	m := laptop.r.wait(t, "the received carbon", is(func(e chat.MessageReceived) bool { return e.Body == "to the phone only" })).(chat.MessageReceived)
	if c.ArchiveID == "" || c.OriginID != "" || m.ArchiveID == "" {
		t.Errorf("carbons without their archive ids: %+v %+v", c, m)
	}
	laptop.stop()

	bob.Send(`<message to='alice@localhost' type='chat' id='b2'><body>while the laptop was off</body></message>`)
	again := start(t, account(t, srv, "alice", "pw", "laptop"), chat.Options{Store: store})
	// The catch-up brings the archive in order: the carbons' messages
	// first, then this one.
	again.r.wait(t, "the message from the archive", is(func(e chat.MessageReceived) bool { return e.Body == "while the laptop was off" }))
	rows, _, err := store.Before(t.Context(), history.Conv{Peer: "bob@localhost"}, 0, 50)
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range rows {
		count[r.Body]++
	}
	for _, body := range []string{"sent from the phone", "to the phone only", "while the laptop was off"} {
		if count[body] != 1 {
			t.Errorf("%q stored %d times", body, count[body])
		}
	}
	for _, e := range again.r.snapshot() {
		switch v := e.(type) {
		case chat.CarbonSent:
			t.Errorf("shown again from the archive: %+v", v)
		case chat.MessageReceived:
			if v.Body != "while the laptop was off" {
				t.Errorf("shown again from the archive: %+v", v)
			}
		}
	}
}
