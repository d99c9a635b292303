package chat_test

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/xml"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/roster"
	"github.com/gab-chat/gab/xmpp"
)

// syncBuffer is a stream log several goroutines write to.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines(dir string) []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []string
	for _, l := range strings.Split(s.b.String(), "\n") {
		if strings.Contains(l, " "+dir+" ") {
			out = append(out, l)
		}
	}
	return out
}

// cacheStore opens a history database at a path the test knows, to open
// it a second time behind the store's back.
func cacheStore(t *testing.T) (*history.Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "history.db")
	store, err := history.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { store.Close() })
	return store, path
}

// rosterText sums up a roster for comparing: sorted "jid name sub groups".
func rosterText(items []roster.Item) string {
	var out []string
	for _, it := range items {
		out = append(out, fmt.Sprintf("%s %q %s %v", it.JID, it.Name, it.Subscription, it.Groups))
	}
	slices.Sort(out)
	return strings.Join(out, "; ")
}

// indexOf is the index of the first event matching ok, -1 for none.
func indexOf(evs []chat.Event, ok func(chat.Event) bool) int {
	return slices.IndexFunc(evs, ok)
}

var (
	cachedReset     = is(func(e chat.RosterReset) bool { return e.Cached })
	reconciledReset = is(func(e chat.RosterReset) bool { return !e.Cached })
	connected       = is[chat.Connected](nil)
)

// aliceWithFriends starts Prosody (with rooms and bookmarks) where alice
// has bob and carol as contacts, and runs a first client of alice's with
// store, which saves them, then stops it.
func aliceWithFriends(t *testing.T, store *history.Store) *xmpptest.Server {
	t.Helper()
	srv := xmpptest.Start(t, xmpptest.Options{MUC: true})
	for _, u := range []string{"alice", "bob", "carol", "dave"} {
		srv.Register(t, u, "pw")
	}
	if err := srv.WriteRoster("alice", []xmpptest.RosterEntry{
		{JID: "bob@localhost", Name: "Bob", Subscription: "both", Groups: []string{"Friends"}},
		{JID: "carol@localhost", Name: "Carol", Subscription: "to"},
	}); err != nil {
		t.Fatal(err)
	}
	first := start(t, account(t, srv, "alice", "pw", "laptop"), chat.Options{Store: store})
	if i := indexOf(first.r.snapshot(), cachedReset); i >= 0 {
		t.Fatalf("a first run with an empty store showed a saved roster: %s", summary(first.r.snapshot()))
	}
	first.do(t, chat.SetBookmark{Bookmark: chat.Bookmark{Room: "tea@" + xmpptest.MUCService, Name: "Tea room", Password: "secret"}})
	first.stop()
	items, ver, ok, err := store.Roster(context.Background())
	if err != nil || !ok || ver == "" || len(items) != 2 {
		t.Fatalf("after the first run the store holds %+v version %q ok %v err %v; want bob and carol with a version", items, ver, ok, err)
	}
	return srv
}

// A roster changed from another device while gab was closed: the next run
// shows the saved roster (and bookmarked rooms) at once, before it is
// connected, then the server's, with the new contact, the new name, and
// without the contact removed; and saves that.
func TestSavedRosterShownBeforeConnectingThenServers(t *testing.T) {
	store, _ := cacheStore(t)
	srv := aliceWithFriends(t, store)

	// Another device of alice's changes the roster meanwhile.
	other := start(t, account(t, srv, "alice", "pw", "phone"), chat.Options{})
	other.do(t, chat.AddContact{JID: "dave@localhost", Name: "Dave"})
	other.do(t, chat.RenameContact{JID: "bob@localhost", Name: "Robert"})
	other.do(t, chat.RemoveContact{JID: "carol@localhost"})
	other.stop()

	again := start(t, account(t, srv, "alice", "pw", "laptop"), chat.Options{Store: store})
	evs := again.r.snapshot()
	ci, conn, ri := indexOf(evs, cachedReset), indexOf(evs, connected), indexOf(evs, reconciledReset)
	if ci < 0 || conn < 0 || !(ci < conn && conn < ri) {
		t.Fatalf("want the saved roster, then Connected, then the server's roster; events: %s", summary(evs))
	}
	if got, want := rosterText(evs[ci].(chat.RosterReset).Items), `bob@localhost "Bob" both [Friends]; carol@localhost "Carol" to []`; got != want {
		t.Errorf("saved roster shown:\n got %s\nwant %s", got, want)
	}
	want := `bob@localhost "Robert" both [Friends]; dave@localhost "Dave" none []`
	if got := rosterText(evs[ri].(chat.RosterReset).Items); got != want {
		t.Errorf("server's roster:\n got %s\nwant %s", got, want)
	}
	bi := indexOf(evs, is(func(e chat.BookmarksChanged) bool { return e.Cached }))
	if bi < 0 || bi > conn {
		t.Fatalf("the saved bookmarks did not come before Connected; events: %s", summary(evs))
	}
	if b := evs[bi].(chat.BookmarksChanged); len(b.Bookmarks) != 1 || b.Bookmarks[0].Room != "tea@"+xmpptest.MUCService || b.Bookmarks[0].Name != "Tea room" || b.Bookmarks[0].Password != "" || !b.Reset {
		t.Errorf("saved bookmarks: %+v; want the tea room by name, without its password", b)
	}
	for _, e := range evs {
		if n, ok := e.(chat.Notice); ok {
			t.Errorf("unexpected notice: %s", n.Text)
		}
	}
	again.stop()
	items, ver, ok, err := store.Roster(context.Background())
	saved := make([]roster.Item, len(items))
	for i, it := range items {
		saved[i] = roster.Item{JID: it.JID, Name: it.Name, Subscription: it.Subscription, Ask: it.Ask, Groups: it.Groups}
	}
	if err != nil || !ok || rosterText(saved) != want || ver != evs[ri].(chat.RosterReset).Version {
		t.Errorf("store after the second run: %s version %q ok %v err %v; want %s at %q", rosterText(saved), ver, ok, err, want, evs[ri].(chat.RosterReset).Version)
	}
}

// A push while gab runs is saved with its version, so the next run asks
// with that version and gets an empty answer.
func TestRosterPushSavedWithItsVersion(t *testing.T) {
	store, _ := cacheStore(t)
	srv := aliceWithFriends(t, store)
	a := start(t, account(t, srv, "alice", "pw", "laptop"), chat.Options{Store: store})
	a.do(t, chat.AddContact{JID: "dave@localhost", Name: "Dave"})
	push := a.r.wait(t, "the push", is(func(e chat.RosterPushed) bool { return e.Item.JID == "dave@localhost" })).(chat.RosterPushed)
	// A sentinel after the push: its save happens before the push is handed on.
	a.do(t, chat.FetchBlocklist{})
	a.stop()
	items, ver, _, err := store.Roster(context.Background())
	if err != nil || ver != push.Version || push.Version == "" || len(items) != 3 {
		t.Fatalf("store after a push: %+v version %q err %v; want 3 entries at %q", items, ver, err, push.Version)
	}
}

// An unchanged roster: the saved version is sent, the server answers with
// no roster at all, and the roster confirmed is the one saved.
func TestUnchangedRosterCostsAnEmptyAnswer(t *testing.T) {
	store, _ := cacheStore(t)
	srv := aliceWithFriends(t, store)
	_, ver, _, _ := store.Roster(context.Background())
	var log syncBuffer
	again := start(t, account(t, srv, "alice", "pw", "laptop"), chat.Options{Store: store, XMLLog: xmpp.NewTap(&log, "alice")})
	evs := again.r.snapshot()
	ci, ri := indexOf(evs, cachedReset), indexOf(evs, reconciledReset)
	if ci < 0 || ri < ci {
		t.Fatalf("want the saved roster then the confirmed one; events: %s", summary(evs))
	}
	cached, confirmed := evs[ci].(chat.RosterReset), evs[ri].(chat.RosterReset)
	if rosterText(cached.Items) != rosterText(confirmed.Items) || confirmed.Version != ver {
		t.Errorf("confirmed roster %s at %q; want the saved %s at %q", rosterText(confirmed.Items), confirmed.Version, rosterText(cached.Items), ver)
	}
	sentVer := regexp.MustCompile(`<query xmlns=["']jabber:iq:roster["'] ver=["']` + regexp.QuoteMeta(ver) + `["']`)
	if !slices.ContainsFunc(log.lines("SEND"), sentVer.MatchString) {
		t.Errorf("the roster was not asked for with the saved version %q; sent:\n%s", ver, strings.Join(log.lines("SEND"), "\n"))
	}
	for _, l := range log.lines("RECV") {
		if strings.Contains(l, "jabber:iq:roster") {
			t.Errorf("the server sent roster items although nothing changed: %s", l)
		}
	}
}

// A saved roster that is damaged is not shown: one notice says so, the
// roster is fetched whole (no version) and saved again.
func TestDamagedSavedRosterRebuilt(t *testing.T) {
	store, path := cacheStore(t)
	srv := aliceWithFriends(t, store)
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`UPDATE roster SET entries = 'garbage' || entries`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	var log syncBuffer
	again := start(t, account(t, srv, "alice", "pw", "laptop"), chat.Options{Store: store, XMLLog: xmpp.NewTap(&log, "alice")})
	evs := again.r.snapshot()
	if i := indexOf(evs, cachedReset); i >= 0 {
		t.Fatalf("a damaged saved roster was shown: %s", summary(evs))
	}
	var notices []string
	for _, e := range evs {
		if n, ok := e.(chat.Notice); ok {
			notices = append(notices, n.Text)
		}
	}
	if len(notices) != 1 || !strings.Contains(notices[0], "saved contact list") || !strings.Contains(notices[0], "fetched whole from the server") {
		t.Errorf("notices %q; want one saying the saved contact list is fetched again", notices)
	}
	if ni, conn := indexOf(evs, is[chat.Notice](nil)), indexOf(evs, connected); ni > conn {
		t.Errorf("the notice came after connecting: %s", summary(evs))
	}
	noVer := regexp.MustCompile(`<query xmlns=["']jabber:iq:roster["'] ver=["']["']`)
	if !slices.ContainsFunc(log.lines("SEND"), noVer.MatchString) {
		t.Errorf("the roster was not fetched without a version; sent:\n%s", strings.Join(log.lines("SEND"), "\n"))
	}
	reset := evs[indexOf(evs, reconciledReset)].(chat.RosterReset)
	again.stop()
	items, ver, ok, err := store.Roster(context.Background())
	if err != nil || !ok || len(items) != 2 || ver != reset.Version {
		t.Fatalf("store after the rebuild: %+v version %q ok %v err %v; want the server's 2 entries at %q", items, ver, ok, err, reset.Version)
	}
}

// A store that fails is said so, never silently: reading the saved
// roster, and saving the server's.
func TestRosterStoreFailuresReported(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "alice", "pw")
	if err := srv.WriteRoster("alice", []xmpptest.RosterEntry{{JID: "bob@localhost", Name: "Bob", Subscription: "both"}}); err != nil {
		t.Fatal(err)
	}
	store, _ := cacheStore(t)
	store.Close()
	a := start(t, account(t, srv, "alice", "pw", "laptop"), chat.Options{Store: store})
	a.r.wait(t, "a notice that the saved roster could not be read", is(func(n chat.Notice) bool {
		return strings.Contains(n.Text, "could not read the saved contact list")
	}))
	a.r.wait(t, "a notice that the roster could not be saved", is(func(n chat.Notice) bool {
		return strings.Contains(n.Text, "could not save the contact list")
	}))
}

// failRosterSaves makes every write of the saved roster fail, as a full
// disk would, until the returned function is called.
func failRosterSaves(t *testing.T, path string) (heal func()) {
	t.Helper()
	db, err := sql.Open("sqlite", "file:"+path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	// The roster row written whole, and a push saved beside it.
	for _, table := range []string{"roster", "roster_pushes"} {
		if _, err := db.Exec(`CREATE TRIGGER test_disk_full_` + table + ` BEFORE INSERT ON ` + table + ` BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END`); err != nil {
			t.Fatal(err)
		}
	}
	return func() {
		for _, table := range []string{"roster", "roster_pushes"} {
			if _, err := db.Exec(`DROP TRIGGER test_disk_full_` + table); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// A push that could not be saved (the disk full) is not made good by the
// next push saved: that would carry the saved roster to the newest
// version without the change that failed, and the next start, asking by
// that version, would never learn of it. The next start shows the
// server's roster whole.
func TestFailedPushSaveNotPapered(t *testing.T) {
	store, path := cacheStore(t)
	srv := aliceWithFriends(t, store)
	a := start(t, account(t, srv, "alice", "pw", "laptop"), chat.Options{Store: store})
	heal := failRosterSaves(t, path)
	a.do(t, chat.AddContact{JID: "dave@localhost", Name: "Dave"})
	a.r.wait(t, "a notice that the change could not be saved", is(func(n chat.Notice) bool {
		return strings.Contains(n.Text, "could not save a change to the contact list") && strings.Contains(n.Text, "disk is full")
	}))
	heal()
	a.do(t, chat.RemoveContact{JID: "carol@localhost"})
	a.r.wait(t, "carol's removal", is(func(e chat.RosterPushed) bool {
		return e.Item.JID == "carol@localhost" && e.Item.Subscription == "remove"
	}))
	a.do(t, chat.FetchBlocklist{}) // a sentinel: the push was handled before it
	a.stop()

	again := start(t, account(t, srv, "alice", "pw", "laptop"), chat.Options{Store: store})
	evs := again.r.snapshot()
	want := `bob@localhost "Bob" both [Friends]; dave@localhost "Dave" none []`
	if got := rosterText(evs[indexOf(evs, reconciledReset)].(chat.RosterReset).Items); got != want {
		t.Errorf("roster at the next start:\n got %s\nwant %s", got, want)
	}
}

// Once a whole roster could not be saved, the store's is older than the
// one held: a push is not saved onto it under the push's version, and the
// next session saves the roster whole even when the server says it is
// unchanged.
func TestFailedRosterSaveHealedByNextSession(t *testing.T) {
	store, path := cacheStore(t)
	srv := aliceWithFriends(t, store)
	// Changed while gab was closed: dave added.
	other := start(t, account(t, srv, "alice", "pw", "phone"), chat.Options{})
	other.do(t, chat.AddContact{JID: "dave@localhost", Name: "Dave"})
	other.stop()

	heal := failRosterSaves(t, path)
	a := start(t, account(t, srv, "alice", "pw", "laptop"), chat.Options{Store: store})
	a.r.wait(t, "a notice that the roster could not be saved", is(func(n chat.Notice) bool {
		return strings.Contains(n.Text, "could not save the contact list")
	}))
	heal()
	a.do(t, chat.RenameContact{JID: "bob@localhost", Name: "Robert"})
	a.r.wait(t, "bob's rename", is(func(e chat.RosterPushed) bool { return e.Item.Name == "Robert" }))
	a.do(t, chat.FetchBlocklist{}) // a sentinel: the push was handled before it
	items, ver, ok, err := store.Roster(context.Background())
	if err != nil || !ok || len(items) != 2 {
		t.Fatalf("after a failed save and a push: %+v at %q ok %v err %v; want the saved bob and carol at their old version", items, ver, ok, err)
	}
	// A new session: the server's answer is empty (the held roster is
	// current), and what is held is saved.
	n := len(a.r.snapshot())
	a.do(t, chat.Reconnect{})
	e, _ := a.r.waitFrom(t, n, "the roster of the new session", xmpptest.RoundTrip, reconciledReset)
	a.do(t, chat.FetchBlocklist{})
	a.stop()
	items, ver, ok, err = store.Roster(context.Background())
	saved := make([]roster.Item, len(items))
	for i, it := range items {
		saved[i] = roster.Item{JID: it.JID, Name: it.Name, Subscription: it.Subscription, Ask: it.Ask, Groups: it.Groups}
	}
	want := `bob@localhost "Robert" both [Friends]; carol@localhost "Carol" to []; dave@localhost "Dave" none []`
	if got := rosterText(saved); err != nil || !ok || got != want || ver != e.(chat.RosterReset).Version {
		t.Fatalf("store after the new session: %s at %q ok %v err %v; want %s at %q", got, ver, ok, err, want, e.(chat.RosterReset).Version)
	}
}

// Names and groups are data all the way through the store: markup, bidi
// overrides and 10,000-character names come back at the next start as
// they were sent; a roster push a second session of our own account
// addresses to us directly (not from the server) is neither applied nor
// saved.
func TestHostileRosterValuesSavedAsData(t *testing.T) {
	store, _ := cacheStore(t)
	srv := aliceWithFriends(t, store)
	a := start(t, account(t, srv, "alice", "pw", "laptop"), chat.Options{Store: store})
	raw, err := xmpptest.LoginRaw(srv, "alice", "pw", "phone")
	if err != nil {
		t.Fatal(err)
	}
	name := "[red]\u202eevil[:::https://evil.example]\u200f" + strings.Repeat("é", 10000)
	groups := []string{"[::]", "\u202e", strings.Repeat("g", 3000)}
	var gx string
	for _, g := range groups {
		gx += "<group>" + xmlText(g) + "</group>"
	}
	if _, err := raw.IQ(`<iq type='set' id='hostile'><query xmlns='jabber:iq:roster'><item jid='[red]x@localhost' name='`+xmlText(name)+`'>`+gx+`</item></query></iq>`, "hostile"); err != nil {
		t.Fatal(err)
	}
	if err := raw.Send(`<iq type='set' to='alice@localhost/laptop' id='spoof'><query xmlns='jabber:iq:roster'><item jid='mallory@localhost' subscription='both'/></query></iq>`); err != nil {
		t.Fatal(err)
	}
	raw.Discard()
	t.Cleanup(func() { raw.Close(); <-raw.Done() })
	a.r.wait(t, "the hostile entry", is(func(e chat.RosterPushed) bool { return e.Item.JID == "[red]x@localhost" }))
	a.r.wait(t, "the spoofed push refused", is(func(n chat.Notice) bool { return strings.Contains(n.Text, "ignored a roster push") }))
	a.do(t, chat.FetchBlocklist{}) // a sentinel
	a.stop()

	again := start(t, account(t, srv, "alice", "pw", "laptop"), chat.Options{Store: store})
	evs := again.r.snapshot()
	ci := indexOf(evs, cachedReset)
	if ci < 0 {
		t.Fatalf("no saved roster shown: %s", summary(evs))
	}
	want := roster.Item{JID: "[red]x@localhost", Name: name, Subscription: "none", Groups: groups}
	var found bool
	for _, it := range evs[ci].(chat.RosterReset).Items {
		if it.JID == "mallory@localhost" {
			t.Errorf("the spoofed push was saved: %+v", it)
		}
		if it.JID == want.JID {
			found = true
			// Groups are a set: the server keeps no order.
			if it.Name != want.Name || !slices.Equal(slices.Sorted(slices.Values(it.Groups)), slices.Sorted(slices.Values(want.Groups))) {
				t.Errorf("saved entry changed: name %d bytes groups %q; want %d bytes, %q", len(it.Name), it.Groups, len(want.Name), want.Groups)
			}
		}
	}
	if !found {
		t.Errorf("the hostile entry was not saved: %s", rosterText(evs[ci].(chat.RosterReset).Items))
	}
	for _, e := range evs {
		if n, ok := e.(chat.Notice); ok {
			t.Errorf("unexpected notice: %.200s", n.Text)
		}
	}
}

// xmlText escapes s for XML text or an attribute in single quotes.
func xmlText(s string) string {
	var b strings.Builder
	xml.EscapeText(&b, []byte(s))
	return strings.ReplaceAll(b.String(), "'", "&#39;")
}

// An account file given another address keeps its store: the roster and
// bookmarks saved there are the other account's, never shown as this
// one's, and their version (the same number, 1, on Prosody) is not sent,
// or the server would confirm the wrong roster.
func TestSavedRosterOfAnotherAccountDropped(t *testing.T) {
	store, _ := cacheStore(t)
	srv := aliceWithFriends(t, store) // alice's roster saved at version 1
	if err := srv.WriteRoster("dave", []xmpptest.RosterEntry{{JID: "erin@localhost", Name: "Erin", Subscription: "both"}}); err != nil {
		t.Fatal(err)
	}
	d := start(t, account(t, srv, "dave", "pw", "laptop"), chat.Options{Store: store})
	evs := d.r.snapshot()
	if i := indexOf(evs, cachedReset); i >= 0 {
		t.Errorf("another account's saved roster was shown: %s", rosterText(evs[i].(chat.RosterReset).Items))
	}
	if i := indexOf(evs, is(func(e chat.BookmarksChanged) bool { return e.Cached && len(e.Bookmarks) > 0 })); i >= 0 {
		t.Errorf("another account's saved bookmarks were shown: %+v", evs[i])
	}
	want := `erin@localhost "Erin" both []`
	if got := rosterText(evs[indexOf(evs, reconciledReset)].(chat.RosterReset).Items); got != want {
		t.Errorf("dave's roster:\n got %s\nwant %s", got, want)
	}
	d.do(t, chat.FetchBlocklist{}) // a sentinel after the roster's save
	d.stop()
	items, _, ok, err := store.Roster(context.Background())
	if err != nil || !ok || len(items) != 1 || items[0].JID != "erin@localhost" {
		t.Fatalf("store after dave's run: %+v ok %v err %v; want dave's roster", items, ok, err)
	}
	// And dave's next start shows dave's saved roster.
	again := start(t, account(t, srv, "dave", "pw", "laptop"), chat.Options{Store: store})
	evs = again.r.snapshot()
	if i := indexOf(evs, cachedReset); i < 0 || rosterText(evs[i].(chat.RosterReset).Items) != want {
		t.Errorf("dave's next start did not show dave's saved roster: %s", summary(evs))
	}
}
