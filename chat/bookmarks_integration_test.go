package chat_test

import (
	"context"
	"fmt"
	"net"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

// rawLogin logs user in as a raw client that reads only what IQ reads.
func rawLogin(t testing.TB, srv *xmpptest.Server, user, resource string) *xmpptest.Raw {
	t.Helper()
	r, err := xmpptest.LoginRaw(srv, user, "pw", resource)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	return r
}

var rawIDs atomic.Int64

// rawIQ sends an iq (its id attribute written as ID) and returns the text
// read up to its answer.
func rawIQ(t testing.TB, r *xmpptest.Raw, iq string) (string, error) {
	t.Helper()
	id := fmt.Sprintf("bm%d", rawIDs.Add(1))
	return r.IQ(strings.Replace(iq, "ID", id, 1), id)
}

func mustIQ(t testing.TB, r *xmpptest.Raw, iq string) string {
	t.Helper()
	got, err := rawIQ(t, r, iq)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// publishBookmark publishes a XEP-0402 bookmark from a raw client, as
// another device of the account would; inner goes inside the conference
// element.
func publishBookmark(t testing.TB, r *xmpptest.Raw, room, name string, autojoin bool, inner string) {
	t.Helper()
	mustIQ(t, r, `<iq type='set' id='ID'><pubsub xmlns='http://jabber.org/protocol/pubsub'><publish node='urn:xmpp:bookmarks:1'>`+
		`<item id='`+room+`'><conference xmlns='urn:xmpp:bookmarks:1' name='`+name+`' autojoin='`+fmt.Sprint(autojoin)+`'>`+inner+`</conference></item></publish>`+
		`<publish-options><x xmlns='jabber:x:data' type='submit'><field var='FORM_TYPE' type='hidden'><value>http://jabber.org/protocol/pubsub#publish-options</value></field>`+
		`<field var='pubsub#persist_items'><value>true</value></field><field var='pubsub#max_items'><value>max</value></field>`+
		`<field var='pubsub#send_last_published_item'><value>never</value></field><field var='pubsub#access_model'><value>whitelist</value></field></x></publish-options></pubsub></iq>`)
}

const (
	pepItems    = `<iq type='get' id='ID'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:bookmarks:1'/></pubsub></iq>`
	privateRead = `<iq type='get' id='ID'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'/></query></iq>`
)

// bookmarksAtLogin waits for the list a client reads at login.
func bookmarksAtLogin(t *testing.T, a *running) chat.BookmarksChanged {
	t.Helper()
	return a.r.wait(t, "the bookmarks read at login", is(func(e chat.BookmarksChanged) bool { return e.Reset })).(chat.BookmarksChanged)
}

// failedWith runs cmd and wants it to fail saying want.
func failedWith(t *testing.T, a *running, cmd chat.Command, want string) {
	t.Helper()
	id := a.c.Do(cmd)
	ev := a.r.wait(t, fmt.Sprintf("the answer to %+v", cmd), func(e chat.Event) bool {
		switch e := e.(type) {
		case chat.CommandDone:
			return e.ID == id
		case chat.CommandFailed:
			return e.ID == id
		}
		return false
	})
	f, ok := ev.(chat.CommandFailed)
	if !ok || !strings.Contains(f.Err.Error(), want) {
		t.Fatalf("%+v answered %+v, want a failure saying %q", cmd, ev, want)
	}
}

// Another device of the account adds, changes and removes bookmarks: gab
// hears of each (PEP notifications, which it asks for with +notify in its
// capabilities) and joins at once a room whose new bookmark says autojoin.
func TestBookmarksLiveFromAnotherDevice(t *testing.T) {
	srv := mucServer(t, "alice")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{})
	if got := bookmarksAtLogin(t, a); len(got.Bookmarks) != 0 {
		t.Fatalf("bookmarks of a new account: %+v", got)
	}
	other := rawLogin(t, srv, "alice", "phone")
	lounge, tea := xmpptest.Room("lounge"), xmpptest.Room("tea")

	publishBookmark(t, other, lounge, "The Lounge", false, `<nick>Al</nick><password>pw</password>`)
	got := a.r.wait(t, "the new bookmark", is(func(e chat.BookmarksChanged) bool { return !e.Reset && len(e.Bookmarks) == 1 })).(chat.BookmarksChanged)
	if want := (chat.Bookmark{Room: lounge, Name: "The Lounge", Nick: "Al", Password: "pw"}); got.Bookmarks[0] != want || len(got.Removed) != 0 {
		t.Fatalf("got %+v, want %+v", got, want)
	}

	publishBookmark(t, other, tea, "Tea", true, ``)
	a.r.wait(t, "the autojoin bookmark", is(func(e chat.BookmarksChanged) bool {
		return len(e.Bookmarks) == 1 && e.Bookmarks[0].Room == tea && e.Bookmarks[0].Autojoin
	}))
	joined := a.r.wait(t, "the room joined from it", is(func(e chat.RoomJoined) bool { return e.Room == tea })).(chat.RoomJoined)
	if joined.Self.Nick != "alice" {
		t.Fatalf("joined as %q, want the account's localpart", joined.Self.Nick)
	}

	mustIQ(t, other, `<iq type='set' id='ID'><pubsub xmlns='http://jabber.org/protocol/pubsub'><retract node='urn:xmpp:bookmarks:1' notify='true'><item id='`+lounge+`'/></retract></pubsub></iq>`)
	a.r.wait(t, "the removal", is(func(e chat.BookmarksChanged) bool {
		return len(e.Removed) == 1 && e.Removed[0] == lounge && len(e.Bookmarks) == 0
	}))
	// Removing a bookmark leaves no room: tea's is removed, gab stays.
	mustIQ(t, other, `<iq type='set' id='ID'><pubsub xmlns='http://jabber.org/protocol/pubsub'><retract node='urn:xmpp:bookmarks:1' notify='true'><item id='`+tea+`'/></retract></pubsub></iq>`)
	_, at := a.r.waitFrom(t, 0, "tea's removal", xmpptest.RoundTrip, is(func(e chat.BookmarksChanged) bool { return len(e.Removed) == 1 && e.Removed[0] == tea }))
	a.do(t, chat.SendMessage{Conv: chat.RoomConv(tea), Body: "still here"})
	a.r.waitFrom(t, at, "our message in tea after its bookmark went", xmpptest.RoundTrip, is(func(e chat.DeliveryChanged) bool {
		return e.Conv == chat.RoomConv(tea) && e.State == chat.DeliveryReceived
	}))
	for _, ev := range a.r.snapshot()[at:] {
		if l, ok := ev.(chat.RoomLeft); ok {
			t.Fatalf("left a room when its bookmark went: %+v", l)
		}
	}
}

// At login gab reads the bookmarks and joins every autojoin one — with its
// nick (else the account's localpart) and password — and no other. A room
// the user left is not joined again at the next session.
func TestBookmarkAutojoinAtLogin(t *testing.T) {
	srv := mucServer(t, "alice", "ada")
	ada := srv.StartPeer(t, "ada", "pw")
	locked, tea, coffee, later := xmpptest.Room("locked"), xmpptest.Room("tea"), xmpptest.Room("coffee"), xmpptest.Room("later")
	ada.CreateRoom(t, locked, "ada", xmpptest.RoomConfig{Password: "sesame"})
	ada.Join(t, later, "ada")
	other := rawLogin(t, srv, "alice", "phone")
	publishBookmark(t, other, tea, "Tea", true, `<nick>Al</nick>`)
	publishBookmark(t, other, coffee, "Coffee", true, ``)
	publishBookmark(t, other, locked, "Locked", true, `<password>sesame</password>`)
	publishBookmark(t, other, later, "Later", false, ``)

	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{NoStreamManagement: true})
	list := bookmarksAtLogin(t, a)
	var rooms []string
	for _, b := range list.Bookmarks {
		rooms = append(rooms, b.Room)
	}
	if fmt.Sprint(rooms) != fmt.Sprint([]string{coffee, later, locked, tea}) {
		t.Fatalf("bookmarks at login: %+v", list.Bookmarks)
	}
	for room, nick := range map[string]string{tea: "Al", coffee: "alice", locked: "alice"} {
		j := a.r.wait(t, "autojoined "+room, is(func(e chat.RoomJoined) bool { return e.Room == room })).(chat.RoomJoined)
		if j.Self.Nick != nick {
			t.Errorf("joined %s as %q, want %q", room, j.Self.Nick, nick)
		}
	}
	// Every autojoin starts before any later command runs: after this
	// one's answer, a join of the room not marked autojoin would show.
	a.do(t, chat.FetchBookmarks{})
	for _, ev := range a.r.snapshot() {
		switch e := ev.(type) {
		case chat.RoomJoining:
			if e.Room == later {
				t.Fatalf("joined %s, whose bookmark is not autojoin", later)
			}
		case chat.RoomJoinFailed:
			t.Fatalf("an autojoin failed: %+v", e)
		}
	}

	// The user leaves coffee; after a new session (the connection lost)
	// gab is back in the rooms it was in, and coffee stays left.
	a.do(t, chat.LeaveRoom{Room: coffee})
	_, at := a.r.waitFrom(t, 0, "out of coffee", xmpptest.RoundTrip, is(func(e chat.RoomLeft) bool { return e.Room == coffee }))
	a.do(t, chat.Reconnect{})
	a.r.waitFrom(t, at, "the bookmarks read again", xmpptest.RoundTrip, is(func(e chat.BookmarksChanged) bool { return e.Reset }))
	for _, room := range []string{tea, locked} {
		a.r.waitFrom(t, at, "back in "+room, xmpptest.RoundTrip, is(func(e chat.RoomJoined) bool { return e.Room == room }))
	}
	a.do(t, chat.FetchBookmarks{})
	for _, ev := range a.r.snapshot()[at:] {
		if e, ok := ev.(chat.RoomJoining); ok && e.Room == coffee {
			t.Fatalf("joined %s again after the user left it", coffee)
		}
	}
}

// SetBookmark and RemoveBookmark write XEP-0402 items with the XEP's node
// settings (another user cannot read them), keep what other clients put
// in a bookmark's extensions, and another gab of the account hears of
// each change. Bad input fails with a reason.
func TestBookmarkSetAndRemove(t *testing.T) {
	srv := mucServer(t, "alice", "bob")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{})
	b := start(t, account(t, srv, "alice", "pw", "gab2"), chat.Options{})
	bookmarksAtLogin(t, a)
	bookmarksAtLogin(t, b)
	other := rawLogin(t, srv, "alice", "phone")
	lounge, ext := xmpptest.Room("lounge"), xmpptest.Room("ext")

	bm := chat.Bookmark{Room: lounge, Name: "Lounge", Nick: "Al", Password: "pw"}
	a.do(t, chat.SetBookmark{Bookmark: bm})
	a.r.wait(t, "our own change", is(func(e chat.BookmarksChanged) bool { return len(e.Bookmarks) == 1 && e.Bookmarks[0] == bm }))
	b.r.wait(t, "the change on the other gab", is(func(e chat.BookmarksChanged) bool { return len(e.Bookmarks) == 1 && e.Bookmarks[0] == bm }))
	got := mustIQ(t, other, pepItems)
	for _, s := range []string{"id='" + lounge + "'", "name='Lounge'", "autojoin='false'", "<nick>Al</nick>", "<password>pw</password>"} {
		if !strings.Contains(got, s) {
			t.Errorf("the server's bookmarks lack %s:\n%s", s, got)
		}
	}
	// whitelist: nobody else may read them.
	bob := rawLogin(t, srv, "bob", "raw")
	if got, err := rawIQ(t, bob, `<iq type='get' id='ID' to='alice@localhost'><pubsub xmlns='http://jabber.org/protocol/pubsub'><items node='urn:xmpp:bookmarks:1'/></pubsub></iq>`); err == nil || strings.Contains(got, lounge) {
		t.Fatalf("another user read the bookmarks (%v):\n%s", err, got)
	}

	// A bookmark another client gave extensions keeps them when gab
	// rewrites it.
	publishBookmark(t, other, ext, "Old name", false, `<extensions><pinned xmlns='urn:xmpp:bookmarks-pinning:0'/></extensions>`)
	a.r.wait(t, "the extended bookmark", is(func(e chat.BookmarksChanged) bool { return len(e.Bookmarks) == 1 && e.Bookmarks[0].Room == ext }))
	a.do(t, chat.SetBookmark{Bookmark: chat.Bookmark{Room: ext, Name: "New name"}})
	got = mustIQ(t, other, pepItems)
	if !strings.Contains(got, "name='New name'") || !strings.Contains(got, "urn:xmpp:bookmarks-pinning:0") {
		t.Errorf("rewritten, the bookmark lost its extensions or kept its name:\n%s", got)
	}

	a.do(t, chat.RemoveBookmark{Room: lounge})
	a.r.wait(t, "our own removal", is(func(e chat.BookmarksChanged) bool { return len(e.Removed) == 1 && e.Removed[0] == lounge }))
	b.r.wait(t, "the removal on the other gab", is(func(e chat.BookmarksChanged) bool { return len(e.Removed) == 1 && e.Removed[0] == lounge }))
	if got := mustIQ(t, other, pepItems); strings.Contains(got, lounge) {
		t.Errorf("the server still has the removed bookmark:\n%s", got)
	}

	failedWith(t, a, chat.RemoveBookmark{Room: lounge}, "there is no bookmark for "+lounge)
	failedWith(t, a, chat.SetBookmark{Bookmark: chat.Bookmark{Room: "conference.localhost"}}, "is not a room address")
	failedWith(t, a, chat.SetBookmark{Bookmark: chat.Bookmark{Room: "not a jid@@"}}, "is not a room address")
	a.do(t, chat.FetchBookmarks{})
	list := a.r.wait(t, "the list fetched", is(func(e chat.BookmarksChanged) bool { return e.Reset && len(e.Bookmarks) == 1 })).(chat.BookmarksChanged)
	if list.Bookmarks[0] != (chat.Bookmark{Room: ext, Name: "New name"}) {
		t.Fatalf("fetched %+v", list.Bookmarks)
	}
}

// A bookmark notification from anyone but our own account is forged: it
// is dropped with a notice and changes nothing.
func TestBookmarkForgedEventIgnored(t *testing.T) {
	srv := mucServer(t, "alice", "bob")
	a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{})
	bookmarksAtLogin(t, a)
	evil, real := xmpptest.Room("evil"), xmpptest.Room("real")
	bob := rawLogin(t, srv, "bob", "raw")
	forged := `<message to='alice@localhost/gab' type='headline'><event xmlns='http://jabber.org/protocol/pubsub#event'><items node='urn:xmpp:bookmarks:1'>` +
		`<item id='` + evil + `'><conference xmlns='urn:xmpp:bookmarks:1' name='Evil' autojoin='true'/></item></items></event></message>`
	if err := bob.Send(forged); err != nil {
		t.Fatal(err)
	}
	a.r.wait(t, "the notice", is(func(e chat.Notice) bool {
		return strings.Contains(e.Text, "bookmarks from bob@localhost") && strings.Contains(e.Text, "not your account")
	}))
	// Sentinel: a real change, after the forged one.
	publishBookmark(t, rawLogin(t, srv, "alice", "phone"), real, "Real", false, ``)
	a.r.wait(t, "the real change", is(func(e chat.BookmarksChanged) bool { return len(e.Bookmarks) == 1 && e.Bookmarks[0].Room == real }))
	a.do(t, chat.FetchBookmarks{})
	list := a.r.wait(t, "the list", is(func(e chat.BookmarksChanged) bool { return e.Reset && len(e.Bookmarks) > 0 })).(chat.BookmarksChanged)
	if len(list.Bookmarks) != 1 || list.Bookmarks[0].Room != real {
		t.Fatalf("bookmarks after a forged change: %+v", list.Bookmarks)
	}
	for _, ev := range a.r.snapshot() {
		switch e := ev.(type) {
		case chat.BookmarksChanged:
			for _, b := range e.Bookmarks {
				if b.Room == evil {
					t.Fatalf("the forged bookmark was taken: %+v", e)
				}
			}
		case chat.RoomJoining:
			t.Fatalf("joined a room: %+v", e)
		}
	}
}

// Where the server has no XEP-0402 (no PEP here, or PEP without the
// bookmarks module that keeps both stores in step and nothing in the new
// node), gab reads XEP-0048 bookmarks from private storage, joins the
// autojoin ones, and writes the whole set back on a change, keeping what
// it does not know (a URL bookmark).
func TestBookmarksFromPrivateStorage(t *testing.T) {
	for _, tc := range []struct {
		name string
		opts xmpptest.Options
		pep  bool
	}{
		{"no PEP", xmpptest.Options{MUC: true, Extra: "VirtualHost \"localhost\"\nmodules_disabled = { \"pep\"; \"bookmarks\"; \"vcard4\"; \"vcard_legacy\" }\n"}, false},
		{"PEP without compat", xmpptest.Options{}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := xmpptest.Start(t, tc.opts)
			srv.Register(t, "alice", "pw")
			other := rawLogin(t, srv, "alice", "phone")
			info := mustIQ(t, other, `<iq type='get' id='ID' to='alice@localhost'><query xmlns='http://jabber.org/protocol/disco#info'/></iq>`)
			if strings.Contains(info, "urn:xmpp:bookmarks:1#compat") || strings.Contains(info, "type='pep'") != tc.pep {
				t.Fatalf("the server is not what the test needs (PEP %v, no compat):\n%s", tc.pep, info)
			}
			tea, later, coffee := xmpptest.Room("tea"), xmpptest.Room("later"), xmpptest.Room("coffee")
			mustIQ(t, other, `<iq type='set' id='ID'><query xmlns='jabber:iq:private'><storage xmlns='storage:bookmarks'>`+
				`<conference jid='`+tea+`' name='Tea' autojoin='1'><nick>Al</nick></conference>`+
				`<conference jid='`+later+`' name='Later'><password>pw</password></conference>`+
				`<url name='Site' url='https://example.org/'/></storage></query></iq>`)

			a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{})
			list := bookmarksAtLogin(t, a)
			want := []chat.Bookmark{{Room: later, Name: "Later", Password: "pw"}, {Room: tea, Name: "Tea", Nick: "Al", Autojoin: true}}
			if fmt.Sprint(list.Bookmarks) != fmt.Sprint(want) {
				t.Fatalf("bookmarks read: %+v, want %+v", list.Bookmarks, want)
			}
			if tc.opts.MUC {
				j := a.r.wait(t, "tea autojoined", is(func(e chat.RoomJoined) bool { return e.Room == tea })).(chat.RoomJoined)
				if j.Self.Nick != "Al" {
					t.Fatalf("joined as %q", j.Self.Nick)
				}
			}

			a.do(t, chat.SetBookmark{Bookmark: chat.Bookmark{Room: coffee, Name: "Coffee", Nick: "A"}})
			got := mustIQ(t, other, privateRead)
			for _, s := range []string{"jid='" + tea + "'", "jid='" + later + "'", "jid='" + coffee + "'", "name='Coffee'", "<nick>A</nick>", "url='https://example.org/'"} {
				if !strings.Contains(got, s) {
					t.Errorf("after SetBookmark the storage lacks %s:\n%s", s, got)
				}
			}
			a.do(t, chat.RemoveBookmark{Room: later})
			a.r.wait(t, "the removal", is(func(e chat.BookmarksChanged) bool { return len(e.Removed) == 1 && e.Removed[0] == later }))
			got = mustIQ(t, other, privateRead)
			if strings.Contains(got, later) || !strings.Contains(got, tea) || !strings.Contains(got, coffee) || !strings.Contains(got, "https://example.org/") {
				t.Errorf("after RemoveBookmark the storage is:\n%s", got)
			}
			if tc.pep {
				if got, err := rawIQ(t, other, pepItems); err == nil && strings.Contains(got, "<item") {
					t.Errorf("bookmarks kept in private storage went to PEP as well:\n%s", got)
				}
			}
		})
	}
}

// Login to 20 bookmarked rooms joined, three ways: gab reading its
// bookmarks and joining the autojoin rooms at once (each join after its
// room's disco#info, with the archive catch-up it starts); gab given 20
// JoinRoom commands at once after login, by an account without bookmarks
// (the commands run one after the other, each waiting for its room's
// disco#info); and a bare raw client that logs in and sends the same 20
// joins at once, knowing the rooms already. Each on loopback and through
// a link with a 40 ms round trip, where waiting for one round trip per
// room shows.
func BenchmarkAutojoin20(b *testing.B) {
	srv := xmpptest.Start(b, xmpptest.Options{MUC: true})
	for _, u := range []string{"alice", "bob", "host"} {
		srv.Register(b, u, "pw")
	}
	// The rooms exist while someone is in them.
	host, err := xmpptest.LoginRaw(srv, "host", "pw", "raw")
	if err != nil {
		b.Fatal(err)
	}
	var rooms []string
	for i := range 20 {
		room := xmpptest.Room(fmt.Sprintf("room%02d", i))
		rooms = append(rooms, room)
		if _, err := host.JoinRoom(room, "host", ""); err != nil {
			b.Fatal(err)
		}
		if err := host.UnlockRoom(room); err != nil {
			b.Fatal(err)
		}
	}
	host.Discard()
	b.Cleanup(func() { host.Close(); <-host.Done() })
	other := rawLogin(b, srv, "alice", "phone")
	for _, room := range rooms {
		publishBookmark(b, other, room, room, true, ``)
	}

	for _, link := range []struct {
		name  string
		delay time.Duration // one way
	}{{"loopback", 0}, {"rtt40ms", 20 * time.Millisecond}} {
		addr := srv.Addr()
		if link.delay > 0 {
			addr = delayLink(b, addr, link.delay)
		}
		acct := func(user string) *config.Account {
			return &config.Account{
				Name: user, JID: jid.MustParse(user + "@" + xmpptest.Domain), Password: "pw", Resource: "gab",
				Server: addr, TLS: config.TLSStartTLS, CAFile: srv.CAFile, Status: "online", Enabled: true,
			}
		}
		b.Run(link.name+"/gab-autojoin", func(b *testing.B) {
			for b.Loop() {
				benchJoins(b, acct("alice"), rooms, nil)
			}
		})
		b.Run(link.name+"/gab-joinroom-commands", func(b *testing.B) {
			for b.Loop() {
				benchJoins(b, acct("bob"), rooms, func(c *chat.Client) {
					for _, room := range rooms {
						c.Do(chat.JoinRoom{Room: room})
					}
				})
			}
		})
		b.Run(link.name+"/raw", func(b *testing.B) {
			at := *srv // the same server, reached through the link
			_, port, _ := net.SplitHostPort(addr)
			at.Port, _ = strconv.Atoi(port)
			for b.Loop() {
				r, err := xmpptest.LoginRaw(&at, "alice", "pw", "raw")
				if err != nil {
					b.Fatal(err)
				}
				var joins strings.Builder
				for _, room := range rooms {
					joins.WriteString(`<presence to='` + room + `/alice'><x xmlns='http://jabber.org/protocol/muc'><history maxstanzas='0'/></x></presence>`)
				}
				if err := r.Send(joins.String()); err != nil {
					b.Fatal(err)
				}
				for i := range rooms {
					if _, err := r.ReadUntil("code='110'/>"); err != nil {
						b.Fatalf("self-presence %d: %v", i+1, err)
					}
				}
				b.StopTimer()
				r.Close()
				b.StartTimer()
			}
		})
	}
}

// benchJoins runs a client for acct until it is in every room (after
// calling joined(c) once the roster is in, when not nil), then stops it
// with the timer stopped.
func benchJoins(b *testing.B, acct *config.Account, rooms []string, loggedIn func(*chat.Client)) {
	c := chat.New(acct, chat.Options{NoStreamManagement: true, Version: "bench"})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { c.Run(ctx); close(done) }()
	defer func() {
		b.StopTimer()
		cancel()
		for range c.Events() {
		}
		<-done
		b.StartTimer()
	}()
	joined := map[string]bool{}
	timeout := time.After(xmpptest.Timeout(xmpptest.RoundTrip))
	for len(joined) < len(rooms) {
		select {
		case ev := <-c.Events():
			switch e := ev.(type) {
			case chat.RosterReset:
				if loggedIn != nil {
					loggedIn(c)
				}
			case chat.RoomJoined:
				joined[e.Room] = true
			case chat.RoomJoinFailed:
				b.Fatalf("join failed: %+v", e)
			}
		case <-timeout:
			b.Fatalf("%d of %d rooms joined", len(joined), len(rooms))
		}
	}
}

// delayLink forwards loopback connections to target, everything arriving
// delay after it was sent, in order, with no limit on bandwidth: a
// network whose round trip is twice delay. It returns the address to
// connect to.
func delayLink(tb testing.TB, target string, delay time.Duration) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var conns []net.Conn
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			mu.Lock()
			conns = append(conns, c, s)
			mu.Unlock()
			wg.Add(2)
			go func() { defer wg.Done(); delayed(s, c, delay) }()
			go func() { defer wg.Done(); delayed(c, s, delay) }()
		}
	}()
	tb.Cleanup(func() {
		l.Close()
		mu.Lock()
		for _, c := range conns {
			c.Close()
		}
		mu.Unlock()
		wg.Wait()
	})
	return l.Addr().String()
}

// delayed copies src to dst, each chunk delay after it was read.
func delayed(dst, src net.Conn, delay time.Duration) {
	type chunk struct {
		at time.Time
		b  []byte
	}
	ch := make(chan chunk, 4096)
	go func() {
		defer close(ch)
		for {
			buf := make([]byte, 32<<10)
			n, err := src.Read(buf)
			if n > 0 {
				ch <- chunk{time.Now().Add(delay), buf[:n]}
			}
			if err != nil {
				return
			}
		}
	}()
	for c := range ch {
		time.Sleep(time.Until(c.at))
		if _, err := dst.Write(c.b); err != nil {
			break
		}
	}
	dst.Close()
	src.Close()
	for range ch {
	}
}

// A bookmarked room autojoined before is autojoined at the next login at
// once, with what it offered then (it keeps an archive: no history, then
// the catch-up), without asking it first; a room not known is asked.
func TestBookmarkAutojoinKnownRoom(t *testing.T) {
	srv := mucServer(t, "alice", "ada")
	ada := srv.StartPeer(t, "ada", "pw")
	tea := xmpptest.Room("tea")
	ada.Join(t, tea, "ada")
	other := rawLogin(t, srv, "alice", "phone")
	publishBookmark(t, other, tea, "Tea", true, ``)
	store := openStore(t)
	for run := 1; run <= 2; run++ {
		var log xmlLog
		a := start(t, account(t, srv, "alice", "pw", "gab"), chat.Options{Store: store, XMLLog: xmpp.NewTap(&log, "alice")})
		j := a.r.wait(t, "autojoined", is(func(e chat.RoomJoined) bool { return e.Room == tea })).(chat.RoomJoined)
		if !j.Archive {
			t.Fatalf("join %d: the room keeps no archive?", run)
		}
		if cu := a.r.wait(t, "the catch-up", is(func(e chat.RoomCatchUp) bool { return e.Room == tea })).(chat.RoomCatchUp); cu.Err != nil {
			t.Fatalf("join %d: catch-up %+v", run, cu)
		}
		disco, join, _ := roomWire(log.lines(), tea)
		if join < 0 {
			t.Fatalf("join %d: no join presence in the log", run)
		}
		if first := disco >= 0 && disco < join; first != (run == 1) {
			t.Fatalf("join %d: disco#info at line %d, join at line %d", run, disco, join)
		}
		a.stop()
	}
}
