package ui

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gdamore/tcell/v2"
)

// memTabs is a TabStore in memory: what Load returns, and every snapshot
// saved, in order.
type memTabs struct {
	load    []TabRef
	active  int
	loadErr error

	mu    sync.Mutex
	saved []string
	cond  *sync.Cond
}

func newMemTabs(load []TabRef, active int, err error) *memTabs {
	m := &memTabs{load: load, active: active, loadErr: err}
	m.cond = sync.NewCond(&m.mu)
	return m
}

func (m *memTabs) Load() ([]TabRef, int, error) { return m.load, m.active, m.loadErr }

func (m *memTabs) Save(tabs []TabRef, active int) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.saved = append(m.saved, tabText(tabs, active))
	m.cond.Broadcast()
	return nil
}

// tabText spells a snapshot: the tabs in order, the active one starred.
func tabText(tabs []TabRef, active int) string {
	var s []string
	if active == -1 {
		s = append(s, "*console")
	}
	for i, t := range tabs {
		mark := ""
		if i == active {
			mark = "*"
		}
		s = append(s, fmt.Sprintf("%s%s:%s:%s", mark, t.Account, t.Conv.Kind, t.Conv.JID))
	}
	return strings.Join(s, " ")
}

// waitSaved waits until the latest snapshot saved is want.
func (m *memTabs) waitSaved(t *testing.T, want string) {
	t.Helper()
	d := xmpptest.Timeout(xmpptest.Local)
	timer := time.AfterFunc(d, func() { m.mu.Lock(); m.cond.Broadcast(); m.mu.Unlock() })
	defer timer.Stop()
	deadline := time.Now().Add(d)
	m.mu.Lock()
	defer m.mu.Unlock()
	for len(m.saved) == 0 || m.saved[len(m.saved)-1] != want {
		if time.Now().After(deadline) {
			t.Fatalf("saved %q, want last %q", m.saved, want)
		}
		m.cond.Wait()
	}
}

func (m *memTabs) snapshots() []string {
	m.mu.Lock()
	defer m.mu.Unlock()
	return append([]string(nil), m.saved...)
}

// Opening, switching and closing tabs saves them, each change as it
// happens, and the quit key saves the tabs as they are then.
func TestTabsAreSavedAsTheyChange(t *testing.T) {
	store := newMemTabs(nil, -1, nil)
	h := newHarnessOpts(t, 100, 20, Options{Tabs: store}, nil)
	h.command("/msg bob@x")
	store.waitSaved(t, "*me:chat:bob@x")
	h.command("/msg carol@x")
	store.waitSaved(t, "me:chat:bob@x *me:chat:carol@x")
	h.key(tcell.KeyRune, '2', tcell.ModAlt)
	store.waitSaved(t, "*me:chat:bob@x me:chat:carol@x")
	// A message opens a tab without going to it.
	h.send(chat.MessageReceived{Conv: chat.ChatWith("dave@x"), From: "dave@x/r", Bare: "dave@x", Body: "hi", Time: time.Now()})
	store.waitSaved(t, "*me:chat:bob@x me:chat:carol@x me:chat:dave@x")
	h.key(tcell.KeyCtrlW, 0, tcell.ModCtrl) // closes bob's: the console before it is active
	store.waitSaved(t, "*console me:chat:carol@x me:chat:dave@x")
	h.key(tcell.KeyRune, '3', tcell.ModAlt)
	h.key(tcell.KeyCtrlQ, 0, tcell.ModCtrl)
	select {
	case <-h.done:
	case <-time.After(xmpptest.Timeout(xmpptest.Local)):
		t.Fatal("the interface did not stop")
	}
	// Run has returned: the last snapshot is written.
	if got := store.snapshots(); got[len(got)-1] != "me:chat:carol@x *me:chat:dave@x" {
		t.Fatalf("saved at quit: %q", got)
	}
}

// The tabs saved are reopened in their order, the active one active, each
// asking for its history; a room's tab does not join the room; the tabs of
// an account not running are kept and saved again.
func TestTabsAreReopenedInOrder(t *testing.T) {
	saved := []TabRef{
		{Account: "me", Conv: chat.ChatWith("bob@x")},
		{Account: "other", Conv: chat.ChatWith("zed@y")},
		{Account: "me", Conv: chat.RoomConv(tea)},
		{Account: "me", Conv: chat.PrivateConv(tea, "cat")},
	}
	store := newMemTabs(saved, 2, nil)
	h := newHarnessOpts(t, 120, 20, Options{Tabs: store}, nil)
	h.waitFor("1:console", "2:bob@x", "3:tea@rooms.x", "4:cat (tea@rooms.x)")
	var hist []chat.Conv
	for _, c := range h.client.commands() {
		switch c := c.(type) {
		case chat.LoadHistory:
			hist = append(hist, c.Conv)
		case chat.JoinRoom:
			t.Fatalf("a reopened tab joined its room: %+v", c)
		}
	}
	if want := []chat.Conv{chat.ChatWith("bob@x"), chat.RoomConv(tea), chat.PrivateConv(tea, "cat")}; fmt.Sprint(hist) != fmt.Sprint(want) {
		t.Fatalf("history asked for %v, want %v", hist, want)
	}
	// The room's tab is the active one: its stored messages are shown.
	h.send(chat.HistoryLoaded{Conv: chat.RoomConv(tea), Messages: []chat.StoredMessage{
		{StoreID: 7, Conv: chat.RoomConv(tea), Nick: "cat", Body: "tea is ready", Time: time.Now().Add(-time.Hour)},
	}})
	h.waitFor("tea is ready", "you are not in tea@rooms.x until it is joined")
	var active int
	h.onUI(func() { active = h.app.state.Active })
	if active != 2 {
		t.Fatalf("active tab %d, want 2 (the room)", active)
	}
	h.key(tcell.KeyRune, '2', tcell.ModAlt)
	store.waitSaved(t, "*me:chat:bob@x me:room:tea@rooms.x me:room-private:tea@rooms.x/cat other:chat:zed@y")
	if got := store.snapshots(); len(got) != 1 {
		t.Fatalf("saved before anything changed: %q", got)
	}
}

// A file of tabs that cannot be read leaves the console alone, with a line
// saying why; nothing is saved over it until the tabs change.
func TestUnreadableTabsLeaveTheConsole(t *testing.T) {
	store := newMemTabs([]TabRef{{Account: "me", Conv: chat.ChatWith("bob@x")}}, 0,
		errors.New("/data/gab/tabs.json: line 1: invalid character 'x' looking for beginning of value"))
	h := newHarnessOpts(t, 140, 20, Options{Tabs: store}, nil)
	h.waitFor("the tabs of the last run were not reopened: /data/gab/tabs.json: line 1: invalid character")
	var n int
	h.onUI(func() { n = len(h.app.state.Convs) })
	if n != 1 {
		t.Fatalf("%d tabs, want the console alone", n)
	}
	h.command("/msg carol@x")
	store.waitSaved(t, "*me:chat:carol@x")
	if got := store.snapshots(); len(got) != 1 {
		t.Fatalf("saved: %q", got)
	}
}

// The check before every frame, with 50 tabs open and nothing changed.
func BenchmarkNoteTabsUnchanged(b *testing.B) {
	app := New([]*Account{{Name: "me", Client: &fakeClient{}}}, Options{Screen: tcell.NewSimulationScreen("UTF-8"), Tabs: newMemTabs(nil, -1, nil)})
	for i := range 50 {
		app.state.Open("me", chat.ChatWith(fmt.Sprintf("c%02d@x", i)))
	}
	app.noteTabs()
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		app.noteTabs()
	}
}

// Text written in a reopened room's tab, or a private conversation in it,
// before the room is joined is not sent and not lost: the composer keeps
// it and the status line says to /join first; once in the room, Enter
// sends it.
func TestTextInARoomNotJoinedIsKept(t *testing.T) {
	saved := []TabRef{{Account: "me", Conv: chat.RoomConv(tea)}, {Account: "me", Conv: chat.PrivateConv(tea, "cat")}}
	h := newHarnessOpts(t, 120, 20, Options{Tabs: newMemTabs(saved, 0, nil)}, nil)
	h.waitFor("2:tea@rooms.x", "you are not in tea@rooms.x until it is joined")
	h.typeText("tea for two")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("you are not in tea@rooms.x: /join it first")
	if rows := strings.Join(h.composerRows(), "\n"); !strings.Contains(rows, "tea for two") {
		t.Fatalf("the composer lost the text:\n%s", rows)
	}
	// The same text, in the private conversation (the composer is
	// shared by the tabs).
	h.key(tcell.KeyRune, '3', tcell.ModAlt)
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.Local))
	for active := 0; active != 2; {
		if time.Now().After(deadline) {
			t.Fatalf("active tab %d, want 2 (the private conversation)", active)
		}
		h.onUI(func() { active = h.app.state.Active })
	}
	h.sentinel("in the private conversation")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("you are not in tea@rooms.x: /join it first")
	if rows := strings.Join(h.composerRows(), "\n"); !strings.Contains(rows, "tea for two") {
		t.Fatalf("the composer lost the text in the private conversation:\n%s", rows)
	}
	if got := h.sent(); len(got) != 0 {
		t.Fatalf("sent to a room not joined: %+v", got)
	}
	h.key(tcell.KeyRune, '2', tcell.ModAlt)
	h.joinTea()
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	if got := h.waitSent(1); got[0].Body != "tea for two" || got[0].Conv != chat.RoomConv(tea) {
		t.Fatalf("sent %+v", got)
	}
}

// /join alone, in a room's tab reopened from the last run (or in a private
// conversation in it), joins that room; in any other tab it still says how
// /join is used.
func TestJoinAloneInARoomTabJoinsIt(t *testing.T) {
	saved := []TabRef{{Account: "me", Conv: chat.ChatWith("bob@x")}, {Account: "me", Conv: chat.PrivateConv(tea, "cat")}}
	h := newHarnessOpts(t, 120, 20, Options{Tabs: newMemTabs(saved, 0, nil)}, nil)
	h.waitFor("2:bob@x", "3:cat (tea@rooms.x)")
	h.command("/join")
	h.waitFor("usage: /join ROOM[@SERVICE][/NICK] [PASSWORD]")
	h.key(tcell.KeyRune, '3', tcell.ModAlt)
	h.waitFor("you are not in tea@rooms.x until it is joined")
	h.command("/join")
	j := h.waitCommand("the join", func(c chat.Command) bool { _, ok := c.(chat.JoinRoom); return ok }).(chat.JoinRoom)
	if j.Room != tea || j.Nick == "" {
		t.Fatalf("joined %+v", j)
	}
}
