package ui

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/roster"
	"github.com/gdamore/tcell/v2"
)

// newOfflineHarness runs the interface without any event yet: as at
// launch, before the network has said anything.
func newOfflineHarness(t *testing.T, w, h int) *harness {
	t.Helper()
	return startHarness(t, w, h, Options{Settings: config.DefaultSettings()}, nil)
}

// contactsNamed makes contacts "Contact 00".."Contact n-1", one group.
func contactsNamed(n int) []roster.Item {
	items := make([]roster.Item, n)
	for i := range items {
		items[i] = roster.Item{JID: fmt.Sprintf("c%02d@x", i), Name: fmt.Sprintf("Contact %02d", i), Subscription: "both"}
	}
	return items
}

// rosterPane is the text of the contact list's cells.
func (h *harness) rosterPane() []string {
	var out []string
	h.onUI(func() {
		x, y, w, hgt := h.app.roster.GetRect()
		cells, sw, _ := h.screen.GetContents()
		for row := y; row < y+hgt; row++ {
			var b strings.Builder
			for col := x; col < x+w; col++ {
				b.WriteString(string(cells[row*sw+col].Runes))
			}
			out = append(out, b.String())
		}
	})
	return out
}

func (h *harness) selectedJID() string {
	var jid string
	h.onUI(func() { _, jid = h.app.roster.Selected() })
	return jid
}

// The saved roster is drawn at once, before anything from the network,
// marked "saved list"; the server's identical roster over it moves
// nothing (selection, scroll, rows) and the mark goes; a changed one
// drops the removed contact, adds the new one in its place, and keeps the
// selected contact selected.
func TestSavedRosterDrawnThenReconciledInPlace(t *testing.T) {
	h := newOfflineHarness(t, 90, 16)
	items := contactsNamed(30)
	h.send(chat.RosterReset{Items: items, Version: "v1", Cached: true})
	h.waitFor("Contact 00", "me [connecting · saved list] online")

	// Scroll down the list to a contact far below the first screen.
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	for range 20 {
		h.key(tcell.KeyDown, 0, tcell.ModNone)
	}
	h.waitUntil("Contact 20 selected", func([]string) bool { return h.selectedJID() == "c20@x" })
	var top int
	var firstRow *rosterRow
	h.onUI(func() { top, firstRow = h.app.roster.top, &h.app.roster.rows[0] })
	if top == 0 {
		t.Fatalf("the list did not scroll: %s", strings.Join(h.rosterPane(), "\n"))
	}
	before := h.rosterPane()

	h.send(chat.Connected{JID: "me@x/gab", Mechanism: "SCRAM-SHA-1"})
	h.waitFor("me [online · saved list] online")
	shuffled := slices.Clone(items)
	slices.Reverse(shuffled)
	h.send(chat.RosterReset{Items: shuffled, Version: "v1"})
	h.waitFor("me [online] online")
	if got := h.selectedJID(); got != "c20@x" {
		t.Errorf("selection moved to %q", got)
	}
	var topAfter int
	var firstAfter *rosterRow
	h.onUI(func() { topAfter, firstAfter = h.app.roster.top, &h.app.roster.rows[0] })
	if topAfter != top {
		t.Errorf("scrolled from row %d to %d", top, topAfter)
	}
	if firstAfter != firstRow {
		t.Error("the rows were rebuilt although the roster did not change")
	}
	if after := h.rosterPane(); !slices.Equal(after, before) {
		t.Errorf("the list changed:\nbefore\n%s\nafter\n%s", strings.Join(before, "\n"), strings.Join(after, "\n"))
	}

	// Changed while gab was closed: one gone, one new before the selection.
	changed := slices.Clone(items)
	changed = slices.Delete(changed, 19, 20) // Contact 19, just above
	changed = append(changed, roster.Item{JID: "new@x", Name: "Contact 10b", Subscription: "both"})
	h.send(chat.RosterReset{Items: changed, Version: "v2", Cached: true})
	h.send(chat.RosterReset{Items: changed, Version: "v2"})
	h.waitUntil("Contact 19 gone", func([]string) bool {
		pane := strings.Join(h.rosterPane(), "\n")
		return !strings.Contains(pane, "Contact 19") && strings.Contains(pane, "Contact 20")
	})
	if got := h.selectedJID(); got != "c20@x" {
		t.Errorf("after the change the selection is %q, not Contact 20", got)
	}
	var order []string
	h.onUI(func() {
		for _, r := range h.app.roster.rows {
			if r.contact != nil {
				order = append(order, r.contact.Name)
			}
		}
	})
	want := []string{}
	for _, it := range changed {
		want = append(want, it.Name)
	}
	slices.Sort(want)
	if !slices.Equal(order, want) {
		t.Errorf("rows %q, want %q", order, want)
	}
	h.waitFor("me [online] online")
}

// The saved contact list, waiting when the interface starts, is in its
// very first frame: nothing is drawn without it while the pump starts.
func TestSavedRosterInTheFirstFrame(t *testing.T) {
	scr := tcell.NewSimulationScreen("UTF-8")
	app := New([]*Account{{Name: "me", Client: &fakeClient{}, Show: roster.Online}}, Options{Screen: scr, Settings: config.DefaultSettings(), Version: "test"})
	events := make(chan chat.Event, 10)
	events <- chat.RosterReset{Cached: true, Version: "7", Items: []roster.Item{
		{JID: "ada@x", Name: "Ada Saved", Subscription: roster.SubBoth},
		{JID: "bob@x", Name: "Bob Saved", Subscription: roster.SubBoth},
	}}
	first := make(chan string, 1)
	frames := 0
	app.tv.SetAfterDrawFunc(func(s tcell.Screen) {
		frames++
		if frames > 1 {
			return
		}
		s.Show() // what the frame put on the screen (tview shows it next)
		cells, w, _ := scr.(tcell.SimulationScreen).GetContents()
		var b strings.Builder
		for i, c := range cells {
			if i > 0 && i%w == 0 {
				b.WriteByte('\n')
			}
			b.WriteString(string(c.Runes))
		}
		first <- b.String()
	})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { app.Run(ctx, map[string]<-chan chat.Event{"me": events}); close(done) }()
	defer func() { cancel(); <-done }()
	select {
	case screen := <-first:
		for _, want := range []string{"Ada Saved", "Bob Saved", "saved list"} {
			if !strings.Contains(screen, want) {
				t.Errorf("the first frame lacks %q:\n%s", want, screen)
			}
		}
	case <-time.After(xmpptest.Timeout(xmpptest.Local)):
		t.Fatal("nothing was drawn")
	}
}

// FirstFrame is called once, when the first frame, the saved contact list
// in it, is on the screen: what gab starts the connections on.
func TestFirstFrameCalledOnceWithTheListShown(t *testing.T) {
	scr := tcell.NewSimulationScreen("UTF-8")
	shown := make(chan string, 4)
	app := New([]*Account{{Name: "me", Client: &fakeClient{}, Show: roster.Online}}, Options{Screen: scr, Settings: config.DefaultSettings(), Version: "test",
		FirstFrame: func() {
			cells, w, _ := scr.(tcell.SimulationScreen).GetContents()
			var b strings.Builder
			for i, c := range cells {
				if i > 0 && i%w == 0 {
					b.WriteByte('\n')
				}
				b.WriteString(string(c.Runes))
			}
			shown <- b.String()
		}})
	events := make(chan chat.Event, 10)
	events <- chat.RosterReset{Cached: true, Version: "7", Items: []roster.Item{{JID: "ada@x", Name: "Ada Saved", Subscription: roster.SubBoth}}}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { app.Run(ctx, map[string]<-chan chat.Event{"me": events}); close(done) }()
	defer func() { cancel(); <-done }()
	select {
	case screen := <-shown:
		if !strings.Contains(screen, "Ada Saved") {
			t.Errorf("FirstFrame came before the list was shown:\n%s", screen)
		}
	case <-time.After(xmpptest.Timeout(xmpptest.Local)):
		t.Fatal("FirstFrame was not called")
	}
	// More frames, then a sentinel frame that must come after them.
	events <- chat.Notice{Text: "one"}
	events <- chat.Notice{Text: "sentinel"}
	h := &harness{t: t, screen: scr.(tcell.SimulationScreen), app: app}
	h.waitFor("sentinel")
	select {
	case <-shown:
		t.Fatal("FirstFrame was called again")
	default:
	}
}
