package chat_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
)

// progressSane checks the CatchUpProgress events of one run: within a
// series, what is read never goes back, a total once given is at least
// what was read, and the last event ends the series with what was read as
// its total. It returns the last event.
func progressSane(t *testing.T, evs []chat.Event) chat.CatchUpProgress {
	t.Helper()
	var last chat.CatchUpProgress
	seen := false
	for _, e := range evs {
		p, ok := e.(chat.CatchUpProgress)
		if !ok {
			continue
		}
		if seen && !last.Done && p.Read < last.Read {
			t.Fatalf("progress went back: %+v after %+v", p, last)
		}
		if p.Total != 0 && p.Total < p.Read {
			t.Fatalf("progress past its total: %+v", p)
		}
		if p.Done && p.Total != p.Read {
			t.Fatalf("the series ended at %+v", p)
		}
		last, seen = p, true
	}
	if !seen || !last.Done {
		t.Fatalf("no finished catch-up among the progress events (last %+v)", last)
	}
	return last
}

// floodArchive has each of senders (logged in with Raw) send n chat
// messages to alice while she is offline, numbered, and returns once the
// server has taken them all (each sender's ping answered after its
// messages).
func floodArchive(t *testing.T, srv *xmpptest.Server, senders []string, n int) {
	t.Helper()
	for _, s := range senders {
		raw, err := xmpptest.LoginRaw(srv, s, "pw", "flood")
		if err != nil {
			t.Fatal(err)
		}
		defer raw.Close()
		for i := 0; i < n; i++ {
			if err := raw.Send(fmt.Sprintf(`<message to='alice@localhost' type='chat' id='%s-%d'><body>%s %04d</body></message>`, s, i, s, i)); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := raw.IQ(`<iq type='get' id='done'><ping xmlns='urn:xmpp:ping'/></iq>`, "done"); err != nil {
			t.Fatal(err)
		}
	}
}

// A long catch-up (3,000 archived messages from four contacts, pages of
// 50) is cut short twice: the connection drops in the middle (the session
// is resumed, or a new one made: either way the catch-up goes on in that
// run), then gab stops in the middle. Started again with the same store it
// goes on from the last page stored: every message exactly once, in the
// order each contact sent them, and the progress figures never go back
// and end at the total.
func TestArchiveCatchUpCutShortGoesOn(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	senders := []string{"c1", "c2", "c3", "c4"}
	for _, u := range append([]string{"alice"}, senders...) {
		srv.Register(t, u, "pw")
	}
	const per = 750
	store := openStore(t)
	// An account whose archive was empty when gab first ran: everything
	// in it is to be read.
	if err := store.SetMeta(context.Background(), "mam_last", "^"); err != nil {
		t.Fatal(err)
	}
	floodArchive(t, srv, senders, per)

	proxy := xmpptest.StartProxy(t, srv.Addr())
	acct := account(t, srv, "alice", "pw", "gab")
	acct.Server = proxy.Addr()
	a := start(t, acct, chat.Options{Store: store, MinBackoff: 50e6, MaxBackoff: 50e6})
	a.r.waitFrom(t, 0, "a tenth read", 4*xmpptest.RoundTrip, is(func(e chat.CatchUpProgress) bool { return e.Read >= 300 && !e.Done }))
	mid := len(a.r.snapshot())
	proxy.Cut()
	a.r.waitFrom(t, mid, "the catch-up going on after the cut", 4*xmpptest.RoundTrip, is(func(e chat.CatchUpProgress) bool {
		return e.Read >= 900 && !e.Done
	}))
	a.stop() // in the middle again
	stored, err := store.Count(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if stored >= len(senders)*per {
		t.Fatalf("all %d stored before the stop: the test did not cut the catch-up short", stored)
	}

	again := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	began := time.Now()
	again.r.waitFrom(t, 0, "the catch-up's end", 4*xmpptest.RoundTrip, is(func(e chat.CatchUpProgress) bool { return e.Done }))
	t.Logf("the rest of the catch-up took %v", time.Since(began))
	last := progressSane(t, again.r.snapshot())
	if last.Read == 0 {
		t.Fatalf("the second run read nothing: %+v", last)
	}
	for _, s := range senders {
		rows, _, err := store.Before(context.Background(), history.Conv{Peer: s + "@localhost"}, 0, 10*per)
		if err != nil {
			t.Fatal(err)
		}
		if len(rows) != per {
			t.Errorf("%s: %d messages stored, want %d", s, len(rows), per)
		}
		for i, r := range rows {
			if want := fmt.Sprintf("%s %04d", s, i); r.Body != want {
				t.Fatalf("%s: row %d is %q, want %q", s, i, r.Body, want)
			}
		}
	}
}

// A room's catch-up cut short after a live message of the room was stored
// goes on, at the next join, from the last page it stored, not from that
// live message: nothing between them is lost, nothing is stored twice. A
// connection cut in the middle of the next one does not stop it either.
func TestRoomCatchUpCutShortGoesOn(t *testing.T) {
	srv := mucServer(t, "alice", "bob")
	tea := xmpptest.Room("tea")
	bob, err := xmpptest.LoginRaw(srv, "bob", "pw", "raw")
	if err != nil {
		t.Fatal(err)
	}
	defer bob.Close()
	if _, err := bob.JoinRoom(tea, "bob", ""); err != nil {
		t.Fatal(err)
	}
	if err := bob.UnlockRoom(tea); err != nil {
		t.Fatal(err)
	}
	say := func(body string) {
		t.Helper()
		if err := bob.Send(fmt.Sprintf(`<message to='%s' type='groupchat' id='%s'><body>%s</body></message>`, tea, body, body)); err != nil {
			t.Fatal(err)
		}
	}
	sayAll := func(prefix string, n int) {
		t.Helper()
		for i := 0; i < n; i++ {
			say(fmt.Sprintf("%s-%04d", prefix, i))
		}
		if _, err := bob.ReadUntil(fmt.Sprintf(">%s-%04d</body>", prefix, n-1)); err != nil {
			t.Fatal(err)
		}
	}
	sayAll("before", 10)
	store := openStore(t)
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	joinRoom(t, a, tea, "alice", "")
	a.r.wait(t, "the first catch-up", is(func(e chat.RoomCatchUp) bool { return e.Room == tea }))
	a.stop()

	// Enough pages to cut the catch-up in the middle twice; Prosody's own
	// archive storage reads the whole room archive for every page, so
	// more only makes the test slow on a loaded machine.
	const away = 1500
	sayAll("away", away)
	bob.Discard()
	a2 := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	a2.c.Do(chat.JoinRoom{Room: tea, Nick: "alice"})
	a2.r.wait(t, "the catch-up under way", is(func(e chat.CatchUpProgress) bool { return e.Read >= 100 && !e.Done }))
	say("live")
	a2.r.wait(t, "the live message", is(func(e chat.MessageReceived) bool { return e.Body == "live" && !e.Archived }))
	a2.stop()
	if n := len(roomBodies(t, store, tea)); n >= away+10 {
		t.Fatalf("%d stored before the stop: the catch-up was not cut short", n)
	}

	proxy := xmpptest.StartProxy(t, srv.Addr())
	acct := account(t, srv, "alice", "pw", "gab")
	acct.Server = proxy.Addr()
	a3 := start(t, acct, chat.Options{Store: store, MinBackoff: 50e6, MaxBackoff: 50e6})
	a3.c.Do(chat.JoinRoom{Room: tea, Nick: "alice"})
	a3.r.wait(t, "the catch-up going on", is(func(e chat.CatchUpProgress) bool { return e.Read > 0 && !e.Done }))
	cut := len(a3.r.snapshot())
	proxy.Cut()
	defer func() {
		if t.Failed() {
			for _, e := range a3.r.snapshot()[cut:] {
				if _, ok := e.(chat.MessageReceived); !ok {
					t.Logf("after the cut: %T %+v", e, e)
				}
			}
		}
	}()
	_, end := a3.r.waitFrom(t, cut, "the catch-up's end", 4*xmpptest.RoundTrip, is(func(e chat.RoomCatchUp) bool { return e.Room == tea && e.Err == nil }))
	// The account's own catch-up may have ended a series before the cut;
	// the one that counts comes after the room's.
	a3.r.waitFrom(t, end, "the progress's end", xmpptest.RoundTrip, is(func(e chat.CatchUpProgress) bool { return e.Done }))
	progressSane(t, a3.r.snapshot())

	var want []string
	for i := 0; i < 10; i++ {
		want = append(want, fmt.Sprintf("before-%04d", i))
	}
	for i := 0; i < away; i++ {
		want = append(want, fmt.Sprintf("away-%04d", i))
	}
	want = append(want, "live")
	got := roomBodies(t, store, tea)
	if len(got) != len(want) {
		t.Errorf("%d messages stored, want %d", len(got), len(want))
	}
	for i := range min(len(got), len(want)) {
		if got[i] != want[i] {
			t.Fatalf("message %d is %q, want %q", i, got[i], want[i])
		}
	}
}

// roomBodies is what the store holds of a room, oldest first.
func roomBodies(t *testing.T, store *history.Store, roomJID string) []string {
	t.Helper()
	rows, _, err := store.Before(context.Background(), history.Conv{Kind: history.KindRoom, Peer: roomJID}, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, r := range rows {
		out = append(out, r.Body)
	}
	return out
}

// What reached the account while gab was away comes once, from the
// archive: the archive is asked before our presence goes out, so the
// server does not also send it all as offline messages (it would, to a
// session that has not read the archive). The blocklist, asked for after
// the presence, answers after any offline message.
func TestCatchUpNotSentAgainAsOffline(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	for _, u := range []string{"alice", "c1"} {
		srv.Register(t, u, "pw")
	}
	befriend(t, srv, "alice", "c1")
	store := openStore(t)
	if err := store.SetMeta(context.Background(), "mam_last", "^"); err != nil {
		t.Fatal(err)
	}
	floodArchive(t, srv, []string{"c1"}, 5)
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	a.r.wait(t, "the catch-up's end", is(func(e chat.CatchUpProgress) bool { return e.Done }))
	a.r.wait(t, "the blocklist", is(func(e chat.BlocklistChanged) bool { return e.Reset }))
	var archived, offline int
	for _, e := range a.r.snapshot() {
		if m, ok := e.(chat.MessageReceived); ok {
			if m.Archived {
				archived++
			} else {
				offline++
			}
		}
	}
	if archived != 5 || offline != 0 {
		t.Fatalf("%d from the archive, %d as offline messages; want 5 and none", archived, offline)
	}
}
