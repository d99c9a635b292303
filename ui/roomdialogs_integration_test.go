package ui

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/roster"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"mellium.im/xmpp/jid"
)

// TestRoomDialogsAgainstProsody: the interface with a real client on a
// real Prosody at 80×24. A room made by a join waits locked; its form (as
// long as Prosody's is) opens, fits and scrolls; saving it opens the
// room; /config then changes its title; /rooms lists it and Enter joins.
func TestRoomDialogsAgainstProsody(t *testing.T) {
	srv := xmpptest.Start(t, xmpptest.Options{MUC: true})
	srv.Register(t, "alice", "pw")
	tea := xmpptest.Room("tea")
	acct := &config.Account{
		Name: "alice", JID: jid.MustParse("alice@" + xmpptest.Domain), Password: "pw", Resource: "gab",
		Server: srv.Addr(), TLS: config.TLSStartTLS, CAFile: srv.CAFile, Status: "online", Enabled: true,
	}
	c := chat.New(acct, chat.Options{Version: "test"})
	scr := tcell.NewSimulationScreen("UTF-8")
	app := New([]*Account{{Name: "alice", Client: c, Show: roster.Online}}, Options{Screen: scr, Settings: config.DefaultSettings(), Version: "test"})
	h := &harness{t: t, screen: scr, app: app, client: &fakeClient{}}

	// The client's events go to the interface; the room dialogs' hook
	// sees them too, as it will once the interface calls it; and the test
	// keeps them, to wait for the commands' outcomes.
	var mu sync.Mutex
	var seen []chat.Event
	events := make(chan chat.Event, 100)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(3)
	go func() { defer wg.Done(); c.Run(ctx) }()
	go func() {
		defer wg.Done()
		defer close(events)
		for ev := range c.Events() {
			mu.Lock()
			seen = append(seen, ev)
			mu.Unlock()
			switch ev.(type) {
			case chat.RoomJoined, chat.RoomConfigForm, chat.RoomsListed, chat.CommandFailed, chat.RoomLeft:
				ev := ev
				app.post(func() { app.roomDialogEvent("alice", ev) })
			}
			select {
			case events <- ev:
			case <-ctx.Done():
			}
		}
	}()
	go func() { defer wg.Done(); app.Run(ctx, map[string]<-chan chat.Event{"alice": events}) }()
	t.Cleanup(func() {
		cancel()
		done := make(chan struct{})
		go func() { wg.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(xmpptest.Timeout(xmpptest.RoundTrip)):
			t.Error("the client or the interface did not stop")
		}
	})
	h.onUI(func() { scr.SetSize(80, 24) })
	done := func(what string, ok func(chat.Command) bool) {
		t.Helper()
		deadline := time.Now().Add(xmpptest.Timeout(xmpptest.RoundTrip))
		for {
			mu.Lock()
			for _, ev := range seen {
				switch e := ev.(type) {
				case chat.CommandDone:
					if ok(e.Command) {
						mu.Unlock()
						return
					}
				case chat.CommandFailed:
					if ok(e.Command) {
						mu.Unlock()
						t.Fatalf("%s failed: %v", what, e.Err)
					}
				}
			}
			mu.Unlock()
			if time.Now().After(deadline) {
				t.Fatalf("no answer to %s", what)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
	h.waitFor("connected as alice@")

	// /join with the configure option, as the command will send it.
	h.onUI(func() { c.Do(chat.JoinRoom{Room: tea, Nick: "alice", Configure: true}) })
	ls := h.waitFor("Configure the new room "+tea, "stays locked until you save", "Save is last")
	fitsScreen(t, ls, 80)
	t.Logf("Prosody's form at 80×24:\n%s", strings.Join(ls, "\n"))
	// Shift+Tab from the first field is Cancel, once more Save: the form
	// scrolls to it. Saved unchanged, the room opens with Prosody's
	// defaults.
	h.moveFocus(tcell.KeyBacktab)
	h.moveFocus(tcell.KeyBacktab)
	h.waitFor("   Save   ", "Cancel")
	if !h.focusOn("Save") {
		t.Fatal("two Shift+Tabs from the first field are not on Save")
	}
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.gone("Configure the new room")
	done("saving the new room's configuration", func(c chat.Command) bool {
		s, ok := c.(chat.SubmitRoomConfig)
		return ok && s.Room == tea && len(s.Values) == 0
	})

	// /config in the room's tab: the title, typed in the first field.
	h.onUI(func() { app.openConv("alice", chat.RoomConv(tea)) })
	h.onUI(func() { app.cmdConfig() })
	h.waitFor("Configure "+tea, "Save is last")
	h.key(tcell.KeyCtrlU, 0, tcell.ModNone)
	h.typeText("Tea and biscuits")
	// Down the form to "Include room information in public lists": its
	// whole label shows under the form when it has the focus.
	for i := 0; i < 40 && !strings.Contains(strings.Join(h.lines(), "\n"), "Include room information in public lists"); i++ {
		h.tab()
	}
	h.waitFor("Include room information in public lists")
	h.typeText(" ")
	for i := 0; i < 80 && !h.focusOn("Save"); i++ {
		h.tab()
	}
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.gone("Configure " + tea)
	done("saving the title", func(c chat.Command) bool {
		s, ok := c.(chat.SubmitRoomConfig)
		return ok && s.Room == tea && len(s.Values) == 2 && strings.Join(s.Values["muc#roomconfig_roomname"], "") == "Tea and biscuits" &&
			strings.Join(s.Values["muc#roomconfig_publicroom"], "") == "1"
	})
	h.onUI(func() { app.cmdConfig() })
	h.waitFor("Configure "+tea, "Tea and biscuits")
	h.key(tcell.KeyEscape, 0, tcell.ModNone)
	h.gone("Configure " + tea)

	// /rooms lists it by its new name.
	h.onUI(func() { app.cmdRooms(nil) })
	ls = h.waitFor("public room", "Tea and biscuits  "+tea)
	fitsScreen(t, ls, 80)
	h.key(tcell.KeyEscape, 0, tcell.ModNone)
	h.gone("public room")
}

// focusOn reports whether the focus is on the button called label.
func (h *harness) focusOn(label string) bool {
	var on bool
	h.onUI(func() {
		b, ok := h.app.tv.GetFocus().(*tview.Button)
		on = ok && strings.TrimSpace(b.GetLabel()) == label
	})
	return on
}

// tab presses Tab and waits until the focus has moved.
func (h *harness) tab() {
	h.t.Helper()
	h.moveFocus(tcell.KeyTab)
}

// moveFocus presses k and waits until the focus has moved: keys reach the
// interface through the screen's queue, apart from onUI's, so a check made
// right after a key may run before the key is handled.
func (h *harness) moveFocus(k tcell.Key) {
	h.t.Helper()
	var before tview.Primitive
	h.onUI(func() { before = h.app.tv.GetFocus() })
	h.key(k, 0, tcell.ModNone)
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.Local))
	for {
		var now tview.Primitive
		h.onUI(func() { now = h.app.tv.GetFocus() })
		if now != before {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("key %v did not move the focus", k)
		}
		time.Sleep(5 * time.Millisecond)
	}
}
