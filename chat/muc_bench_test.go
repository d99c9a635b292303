package chat_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
)

// Crowded and busy rooms against Prosody: a room of 1,000 occupants, a
// room with 200 messages a second.
//
// A thousand occupants cannot join a Prosody 0.12 room one by one in
// reasonable time: every join walks (and copies) every occupant already
// there, twice, and tells each of them — about 170 µs of Prosody's time
// per pair measured here, so 1,000 live joins cost over a minute of
// server CPU. crowdRoom instead gives Prosody the room as it saves one
// (its "state" store, written at shutdown and read back when the room is
// next used): the occupants are restored without a single broadcast.
// Their real JIDs have no session, so what the room sends them is
// dropped; a groupchat message to them would bounce and have them
// kicked, so nothing is said in a crowd room once it is filled.

// crowdRoom makes the persistent room name with archived messages said in
// it by "owner" (who must be registered), then stops the server, gives the
// room occupants occupants ("occupant 0000"…, each its own account's), and
// starts the server again. It returns the room's JID.
func crowdRoom(tb testing.TB, srv *xmpptest.Server, name string, occupants, archived int) string {
	tb.Helper()
	roomJID := xmpptest.Room(name)
	owner, err := xmpptest.LoginRaw(srv, "owner", "pw", "crowd")
	if err != nil {
		tb.Fatal(err)
	}
	defer owner.Close()
	if _, err := owner.JoinRoom(roomJID, "owner", ""); err != nil {
		tb.Fatal(err)
	}
	if _, err := owner.IQ(`<iq type='set' id='persist' to='`+roomJID+`'><query xmlns='http://jabber.org/protocol/muc#owner'>`+
		`<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE'><value>http://jabber.org/protocol/muc#roomconfig</value></field>`+
		`<field var='muc#roomconfig_persistentroom'><value>1</value></field></x></query></iq>`, "persist"); err != nil {
		tb.Fatal(err)
	}
	for i := 0; i < archived; i++ {
		if err := owner.Send(fmt.Sprintf(`<message type='groupchat' to='%s' id='said%d'><body>archived %03d</body></message>`, roomJID, i, i)); err != nil {
			tb.Fatal(err)
		}
	}
	if archived > 0 {
		if _, err := owner.ReadUntil(fmt.Sprintf("id='said%d'", archived-1)); err != nil {
			tb.Fatal(err)
		}
	}
	srv.Stop()
	var b strings.Builder
	b.WriteString("return {\n")
	for i := 0; i < occupants; i++ {
		nick := fmt.Sprintf("%s/occupant %04d", roomJID, i)
		real := fmt.Sprintf("o%04d@%s/crowd", i, xmpptest.Domain)
		fmt.Fprintf(&b, "[%q] = { [\"bare_jid\"] = %q; [\"role\"] = \"participant\"; [\"jid\"] = %q; };\n", nick, real[:strings.IndexByte(real, '/')], real)
		fmt.Fprintf(&b, "[%q] = { [\"name\"] = \"presence\"; [\"attr\"] = { [\"from\"] = %q; }; };\n", real, nick)
	}
	b.WriteString("}\n")
	dir := filepath.Join(srv.Dir, "data", strings.ReplaceAll(xmpptest.MUCService, ".", "%2e"), "state")
	if err := os.MkdirAll(dir, 0o700); err != nil {
		tb.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".dat"), []byte(b.String()), 0o600); err != nil {
		tb.Fatal(err)
	}
	if err := srv.Run(); err != nil {
		tb.Fatal(err)
	}
	return roomJID
}

// occupantsSeen counts the distinct occupants (not us) a client was told
// of in roomJID, among events.
func occupantsSeen(events []chat.Event, roomJID string) int {
	seen := map[string]bool{}
	for _, e := range events {
		if o, ok := e.(chat.OccupantChanged); ok && o.Room == roomJID && !o.Self && !o.Left {
			seen[o.Occupant.Nick] = true
		}
	}
	return len(seen)
}

// noLeak fails when, once every client is stopped, more goroutines run
// than before (give or take the runtime's own).
func noLeak(t *testing.T, before int) {
	t.Helper()
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.RoundTrip))
	for runtime.NumGoroutine() > before+2 && time.Now().Before(deadline) {
		time.Sleep(20 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > before+2 {
		buf := make([]byte, 1<<16)
		t.Fatalf("%d goroutines before, %d after the client stopped:\n%s", before, n, buf[:runtime.Stack(buf, true)])
	}
}

// Joining a room of 1,000 occupants: all of them are told of before our
// own presence (which answers the join), the 50 archived messages come
// once each, in order, and the client stops without leaving a goroutine.
func TestRoomCrowdJoin(t *testing.T) {
	srv := mucServer(t, "owner", "alice")
	crowd := crowdRoom(t, srv, "crowd", 1000, 50)
	store := openStore(t) // its goroutines run until the test's end
	before := runtime.NumGoroutine()
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	joined := joinRoom(t, a, crowd, "alice", "")
	if !joined.Archive {
		t.Fatalf("joined %+v: no archive", joined)
	}
	_, at := a.r.waitFrom(t, 0, "joined", xmpptest.RoundTrip, is(func(e chat.RoomJoined) bool { return true }))
	if n := occupantsSeen(a.r.snapshot()[:at], crowd); n != 1000 {
		t.Fatalf("%d occupants seen before the join was answered", n)
	}
	done := a.r.wait(t, "the catch-up", is(func(e chat.RoomCatchUp) bool { return e.Room == crowd })).(chat.RoomCatchUp)
	if done.Err != nil || done.Count != 50 {
		t.Fatalf("catch-up %+v", done)
	}
	rows := roomRows(t, store, crowd)
	if len(rows) != 50 {
		t.Fatalf("%d messages stored", len(rows))
	}
	for i, r := range rows {
		if want := fmt.Sprintf("archived %03d", i); r.Body != want {
			t.Fatalf("message %d stored is %q, want %q", i, r.Body, want)
		}
	}
	a.stop()
	noLeak(t, before)
}

// flood has poster say n messages ("flood 00000"…) in roomJID at rate a
// second, each at its own moment (a slow machine sends late, never in a
// burst to catch up), and returns when the last is sent. The pace is the
// load, not a check.
func flood(poster *xmpptest.Raw, roomJID string, n, rate int) (time.Time, error) {
	start := time.Now()
	gap := time.Second / time.Duration(rate)
	for i := 0; i < n; i++ {
		time.Sleep(time.Until(start.Add(time.Duration(i) * gap)))
		if err := poster.Send(fmt.Sprintf(`<message type='groupchat' to='%s'><body>flood %05d</body></message>`, roomJID, i)); err != nil {
			return start, err
		}
	}
	return start, nil
}

// floodStored checks that the store holds the n flood messages of roomJID
// once each, in order.
func floodStored(tb testing.TB, store *history.Store, roomJID string, n int) {
	tb.Helper()
	rows, _, err := store.Before(context.Background(), history.Conv{Kind: history.KindRoom, Peer: roomJID}, 0, n+100)
	if err != nil {
		tb.Fatal(err)
	}
	var got []string
	for _, r := range rows {
		if strings.HasPrefix(r.Body, "flood ") {
			got = append(got, r.Body)
		}
	}
	if len(got) != n {
		tb.Fatalf("%d flood messages stored, want %d", len(got), n)
	}
	for i, body := range got {
		if want := fmt.Sprintf("flood %05d", i); body != want {
			tb.Fatalf("stored message %d is %q, want %q", i, body, want)
		}
	}
}

// A room where 200 messages a second are said: the client keeps up (each
// message arrives, the next after it), stores each once, in order, and
// leaves no goroutine behind.
func TestRoomFlood(t *testing.T) {
	srv := mucServer(t, "alice", "poster")
	tea := xmpptest.Room("busy")
	store := openStore(t) // its goroutines run until the test's end
	before := runtime.NumGoroutine()
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store})
	joinRoom(t, a, tea, "alice", "")
	poster := rawOccupant(t, srv, "poster", "flood", tea, "poster")
	const n = 600
	sent := make(chan error, 1)
	go func() { _, err := flood(poster, tea, n, 200); sent <- err }()
	a.r.waitSeries(t, "flood message", n, func(i int, e chat.Event) bool {
		m, ok := e.(chat.MessageReceived)
		return ok && m.Body == fmt.Sprintf("flood %05d", i) && m.Nick == "poster" && m.StoreID != 0
	})
	if err := <-sent; err != nil {
		t.Fatal(err)
	}
	floodStored(t, store, tea, n)
	poster.Close()
	<-poster.Done()
	a.stop()
	noLeak(t, before)
}

// benchClient runs a client for alice with store until stop; events are
// read with benchWait.
func benchClient(srv *xmpptest.Server, store *history.Store) (c *chat.Client, stop func()) {
	c = chat.New(account(nil, srv, "alice", "pw", "gab"), chat.Options{Store: store, Version: "bench"})
	ctx, cancel := context.WithCancel(context.Background())
	stopped := make(chan struct{})
	go func() { c.Run(ctx); close(stopped) }()
	return c, func() {
		cancel()
		go func() {
			for range c.Events() {
			}
		}()
		<-stopped
	}
}

// benchWait reads c's events until one matches ok, and returns them all.
func benchWait(b *testing.B, c *chat.Client, what string, ok func(chat.Event) bool) []chat.Event {
	b.Helper()
	var got []chat.Event
	timeout := time.After(xmpptest.Timeout(xmpptest.RoundTrip))
	for {
		select {
		case e := <-c.Events():
			got = append(got, e)
			if ok(e) {
				return got
			}
		case <-timeout:
			b.Fatalf("no %s", what)
		}
	}
}

// BenchmarkRoomCrowdJoin: the time from asking to join a room of 1,000
// occupants with 50 archived messages to having every occupant, our own
// presence and the catch-up — for gab (a fresh store each time, so the 50
// messages are read from the room's archive and stored) and for a bare
// raw client doing the same on the wire (join without history, read to
// its own presence, then one archive page of the room).
func BenchmarkRoomCrowdJoin(b *testing.B) {
	srv := xmpptest.Start(b, xmpptest.Options{MUC: true})
	for _, u := range []string{"owner", "alice", "bare"} {
		srv.Register(b, u, "pw")
	}
	crowd := crowdRoom(b, srv, "crowd", 1000, 50)
	// The server reads the room back from its store when it is first
	// asked about it (tens of milliseconds for 1,000 occupants): done
	// here, so that neither client's first join pays it.
	warm, err := xmpptest.LoginRaw(srv, "bare", "pw", "warm")
	if err != nil {
		b.Fatal(err)
	}
	if _, err := warm.IQ(`<iq type='get' id='warm' to='`+crowd+`'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`, "warm"); err != nil {
		b.Fatal(err)
	}
	warm.Close()
	b.Run("gab", func(b *testing.B) { benchCrowdJoin(b, srv, crowd, false) })
	// A room joined before: the store says what it offers (as gab keeps
	// it after a join), so gab joins without asking it first; the store
	// holds none of its messages, so the catch-up is the same 50.
	b.Run("gab-known", func(b *testing.B) { benchCrowdJoin(b, srv, crowd, true) })
	b.Run("raw", func(b *testing.B) {
		var total time.Duration
		n := 0
		for b.Loop() {
			r, err := xmpptest.LoginRaw(srv, "bare", "pw", fmt.Sprint("r", n))
			if err != nil {
				b.Fatal(err)
			}
			t0 := time.Now()
			got, err := r.JoinRoom(crowd, "bare", "<history maxstanzas='0'/>")
			if err != nil {
				b.Fatal(err)
			}
			page, err := r.MAMQuery(crowd, fmt.Sprint("page", n), `<x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>urn:xmpp:mam:2</value></field></x>`+
				`<set xmlns='http://jabber.org/protocol/rsm'><max>100</max><before/></set>`)
			if err != nil {
				b.Fatal(err)
			}
			total += time.Since(t0)
			n++
			if c := strings.Count(got, "occupant "); c < 1000 {
				b.Fatalf("%d occupant presences", c)
			}
			if c := strings.Count(page, "<result "); c != 50 {
				b.Fatalf("%d archived messages", c)
			}
			r.Send(`<presence type='unavailable' to='` + crowd + `/bare'/>`)
			r.Close()
		}
		b.ReportMetric(float64(total.Milliseconds())/float64(n), "ms/join")
	})
}

// BenchmarkRoomFlood200: a room where 2,000 messages are said at 200 a
// second (10 s): how many gab stores a second, and how far behind the
// last one is when it is stored. Every message must arrive once, in
// order.
func BenchmarkRoomFlood200(b *testing.B) {
	srv := xmpptest.Start(b, xmpptest.Options{MUC: true})
	for _, u := range []string{"alice", "poster"} {
		srv.Register(b, u, "pw")
	}
	const n, rate = 2000, 200
	for b.Loop() {
		tea := xmpptest.Room(fmt.Sprint("busy", time.Now().UnixNano()))
		store, err := history.Open(filepath.Join(b.TempDir(), "history.db"))
		if err != nil {
			b.Fatal(err)
		}
		c, stop := benchClient(srv, store)
		wait := func(what string, ok func(chat.Event) bool) []chat.Event { return benchWait(b, c, what, ok) }
		wait("roster", is(func(chat.RosterReset) bool { return true }))
		c.Do(chat.JoinRoom{Room: tea, Nick: "alice"})
		wait("the join", is(func(e chat.RoomJoined) bool { return e.Room == tea }))
		poster, err := xmpptest.LoginRaw(srv, "poster", "pw", "flood")
		if err != nil {
			b.Fatal(err)
		}
		if _, err := poster.JoinRoom(tea, "poster", "<history maxstanzas='0'/>"); err != nil {
			b.Fatal(err)
		}
		poster.Discard()
		done := make(chan struct{})
		var begin time.Time
		var ferr error
		var sent time.Time
		go func() { begin, ferr = flood(poster, tea, n, rate); sent = time.Now(); close(done) }()
		last := fmt.Sprintf("flood %05d", n-1)
		wait("the last message", is(func(e chat.MessageReceived) bool { return e.Body == last }))
		end := time.Now()
		<-done
		if ferr != nil {
			b.Fatal(ferr)
		}
		b.ReportMetric(float64(n)/end.Sub(begin).Seconds(), "stored/s")
		b.ReportMetric(float64(end.Sub(sent).Milliseconds()), "ms-behind-at-end")
		floodStored(b, store, tea, n)
		poster.Close()
		<-poster.Done()
		stop()
		store.Close()
	}
}

// benchCrowdJoin times gab joining crowd (see BenchmarkRoomCrowdJoin),
// each time with a fresh store; known: one that says what the room
// offers, as a join leaves it.
func benchCrowdJoin(b *testing.B, srv *xmpptest.Server, crowd string, known bool) {
	var total time.Duration
	n := 0
	for b.Loop() {
		store, err := history.Open(filepath.Join(b.TempDir(), "history.db"))
		if err != nil {
			b.Fatal(err)
		}
		if known {
			if err := store.SetMeta(context.Background(), "room-info "+crowd, `{"archive":true,"name":"crowd"}`); err != nil {
				b.Fatal(err)
			}
		}
		c, stop := benchClient(srv, store)
		waitFor := func(what string, ok func(chat.Event) bool) []chat.Event { return benchWait(b, c, what, ok) }
		waitFor("roster", is(func(chat.RosterReset) bool { return true }))
		t0 := time.Now()
		c.Do(chat.JoinRoom{Room: crowd, Nick: "alice"})
		got := waitFor("the join", is(func(e chat.RoomJoined) bool { return e.Room == crowd }))
		got = append(got, waitFor("the catch-up", is(func(e chat.RoomCatchUp) bool { return e.Room == crowd }))...)
		total += time.Since(t0)
		n++
		if seen := occupantsSeen(got, crowd); seen != 1000 {
			b.Fatalf("%d occupants seen", seen)
		}
		if cu := got[len(got)-1].(chat.RoomCatchUp); cu.Count != 50 || cu.Err != nil {
			b.Fatalf("catch-up %+v", cu)
		}
		c.Do(chat.LeaveRoom{Room: crowd})
		waitFor("out", is(func(e chat.RoomLeft) bool { return e.Room == crowd }))
		stop()
		store.Close()
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(n), "ms/join")
}
