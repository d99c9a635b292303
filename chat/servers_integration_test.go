package chat_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/internal/xmpptest"
	"mellium.im/xmpp/jid"
)

// gab logs in to ejabberd 23.01 and stays: over TLS 1.3 it must not pick a
// channel binding ejabberd cannot check, and a C locale must not put
// xml:lang='C' in the stream header (ejabberd refuses both, and used to
// leave gab locked out or retrying for ever).
func TestClientOnEjabberdWithCLocale(t *testing.T) {
	srv := xmpptest.StartEjabberd(t, xmpptest.EjabberdOptions{})
	srv.Register(t, "alice", "pw")
	acct := &config.Account{
		Name: "alice", JID: jid.MustParse("alice@localhost"), Password: "pw", Resource: "gab",
		Server: srv.Addr(), TLS: config.TLSStartTLS, CAFile: srv.CAFile, Status: "online", Enabled: true,
	}
	for _, lang := range []string{"C", "C.UTF-8"} {
		a := start(t, acct, chat.Options{Lang: lang, NoReconnect: true})
		ev := a.r.wait(t, "connected", is[chat.Connected](nil)).(chat.Connected)
		t.Logf("LANG=%s: connected with %s", lang, ev.Mechanism)
		a.do(t, chat.SetPresence{Status: "here"}) // the session works
		a.stop()
		for _, e := range a.r.snapshot() {
			if d, ok := e.(chat.Disconnected); ok && d.Err != nil {
				t.Errorf("LANG=%s: %v", lang, d.Err)
			}
		}
	}
}

// The roster from the report: 10,000 contacts (big10000c00001@localhost…,
// a name and a group each) is just over 1 MiB; it loads, once, with no
// reconnect.
func TestClientLoadsARosterOverOneMiB(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{NoMAM: true})
	srv.Register(t, "alice", "pw")
	entries := make([]xmpptest.RosterEntry, 10000)
	for i := range entries {
		entries[i] = xmpptest.RosterEntry{JID: fmt.Sprintf("big10000c%05d@localhost", i+1), Name: fmt.Sprintf("Contact %05d", i+1),
			Subscription: "both", Groups: []string{fmt.Sprintf("Group %02d", i%20)}}
	}
	srv.Stop() // Prosody caches rosters: written while it is down
	if err := srv.WriteRoster("alice", entries); err != nil {
		t.Fatal(err)
	}
	if err := srv.Run(); err != nil {
		t.Fatal(err)
	}
	opts := fast
	opts.IQTimeout = time.Minute // Prosody takes seconds to load it on a busy machine
	opts.Version = "test"
	c := chat.New(account(t, srv, "alice", "pw", "gab"), opts)
	r := newRecorder(c.Events())
	done := make(chan struct{})
	go func() { c.Run(t.Context()); close(done) }()
	t.Cleanup(func() { <-done }) // t.Context ends first
	ev, _ := r.waitFrom(t, 0, "the roster or the fetch failing", 90*time.Second, func(e chat.Event) bool {
		_, roster := e.(chat.RosterReset)
		_, lost := e.(chat.Disconnected)
		return roster || lost
	})
	reset, ok := ev.(chat.RosterReset)
	if !ok {
		t.Fatalf("no roster: %+v", ev)
	}
	if len(reset.Items) != len(entries) {
		t.Fatalf("%d contacts, want %d", len(reset.Items), len(entries))
	}
}
