package ui

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/roster"
	"github.com/gdamore/tcell/v2"
)

// Names of 110 characters: tab titles, roster rows, sender names and the
// typing notice are shortened with "…"; with more tabs than fit, the bar
// scrolls to keep the active tab in view.
func TestLongNamesAndManyTabs(t *testing.T) {
	h := newHarness(t, 80, 24)
	long := func(i int) string { return fmt.Sprintf("%02d", i) + strings.Repeat("n", 108) }
	var items []roster.Item
	for i := 1; i <= 12; i++ {
		items = append(items, roster.Item{JID: fmt.Sprintf("c%02d@x", i), Name: long(i), Subscription: "both"})
	}
	h.send(chat.RosterReset{Items: items})
	for i := 1; i <= 12; i++ {
		h.send(chat.MessageReceived{Conv: chat.ChatWith(fmt.Sprintf("c%02d@x", i)), From: fmt.Sprintf("c%02d@x/r", i), Bare: fmt.Sprintf("c%02d@x", i), Body: fmt.Sprintf("hello %d", i), Time: time.Now()})
	}
	// Every message in (the last one's unread mark), so that the tabs
	// switched through below are all there.
	h.waitFor("2:01nnn", "12nnnnnnnnnnnnnnnnnn… (1)")
	ls := h.lines()
	if !strings.Contains(ls[0], "…") {
		t.Fatalf("tab titles not shortened:\n%s", strings.Join(ls, "\n"))
	}
	for _, l := range ls[1:22] {
		// Every roster row keeps its right border.
		if r := []rune(l); len(r) < 30 || r[29] != '│' {
			t.Fatalf("a roster row lost its border: %q", l)
		}
		if strings.Contains(l, "01nnn") && !strings.Contains(l, "…") {
			t.Fatalf("a long roster name not shortened: %q", l)
		}
	}
	// The last tab: the bar scrolls so it shows, and the message is beside
	// the shortened sender.
	for i := 0; i < 12; i++ {
		h.key(tcell.KeyCtrlN, 0, tcell.ModNone)
	}
	ls = h.waitFor("13:12nnn", "hello 12")
	if !strings.HasPrefix(strings.TrimSpace(string([]rune(ls[0])[30:])), "‹") {
		t.Fatalf("no mark for hidden tabs: %q", ls[0])
	}
	for _, l := range ls {
		if strings.Contains(l, "hello 12") && (!strings.Contains(l, "12nnn") || !strings.Contains(l, "…: hello 12")) {
			t.Fatalf("sender not shortened beside the message: %q", l)
		}
	}
	h.send(chat.ChatStateChanged{Conv: chat.ChatWith("c12@x"), Bare: "c12@x", State: chat.StateComposing})
	h.waitFor("… is typing…")
	// Back to the first tab: the bar scrolls back.
	h.key(tcell.KeyRune, '1', tcell.ModAlt)
	ls = h.waitFor("1:console")
	if strings.Contains(ls[0], "‹") || !strings.Contains(ls[0], "›") {
		t.Fatalf("tab bar at the start: %q", ls[0])
	}
}

// The contact list is ui.roster_width wide; F5 hides and shows it; it steps
// aside in a narrow window; below 40×10 gab says the window is too small,
// and Ctrl+Q still quits.
func TestRosterWidthToggleAndSmallWindows(t *testing.T) {
	settings := config.DefaultSettings()
	settings.RosterWidth = 24
	h := newHarnessWith(t, 80, 24, settings, nil)
	h.send(chat.RosterReset{Items: []roster.Item{{JID: "ada@x", Name: "Ada", Subscription: "both"}}})
	ls := h.waitFor("Ada")
	if r := []rune(ls[1]); r[23] != '│' || r[24] == '│' {
		t.Fatalf("contact list not 24 wide: %q", ls[1])
	}
	h.key(tcell.KeyF5, 0, tcell.ModNone)
	h.waitUntil("the list to hide", func(ls []string) bool {
		return strings.HasPrefix(ls[0], " 1:console") && strings.HasPrefix(ls[22], "> ")
	})
	// Tab cannot move the focus into the hidden list: what is typed next
	// is still in the composer.
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	h.waitFor("the contact list is hidden: F5 shows it")
	h.typeText("still here")
	h.waitFor("> still here")
	h.key(tcell.KeyF5, 0, tcell.ModNone)
	h.waitFor("○ Ada")

	// 60 columns leave the conversation fewer than 40 beside 24: the list
	// steps aside.
	h.onUI(func() { h.screen.SetSize(60, 20) })
	h.screen.PostEventWait(tcell.NewEventResize(60, 20))
	h.waitUntil("the list to step aside", func(ls []string) bool {
		return len(ls) == 20 && strings.HasPrefix(ls[0], " 1:console") && !strings.Contains(strings.Join(ls, "\n"), "Ada")
	})
	h.onUI(func() { h.screen.SetSize(30, 8) })
	h.screen.PostEventWait(tcell.NewEventResize(30, 8))
	h.waitFor("window too small", "30×8, gab needs 40×10")
	h.key(tcell.KeyCtrlQ, 0, tcell.ModNone)
	select {
	case <-h.done:
	case <-time.After(10 * time.Second):
		t.Fatal("Ctrl+Q did not quit in a small window")
	}
}

// /help CMD shows that command's use; the help screen says how to close it
// without scrolling; a failed command is told in words, not Go type names.
func TestCommandHelpAndFailureTexts(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.typeText("/help msg")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("/msg JID [text] — open a conversation")
	h.typeText("/help /frob")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("there is no command /frob")
	h.key(tcell.KeyF1, 0, tcell.ModNone)
	h.waitFor("gab help · Esc closes")
	// What the launch shows before the server answers is said there.
	help := helpText(nil)
	for _, s := range []string{"[connecting · saved list]", "tabs open when you quit come back", "/join ROOM"} {
		if !strings.Contains(help, s) {
			t.Errorf("the help does not say %q", s)
		}
	}
	h.key(tcell.KeyEscape, 0, tcell.ModNone)
	h.waitUntil("help to close", func(ls []string) bool { return !strings.Contains(strings.Join(ls, "\n"), "gab help") })

	h.send(chat.CommandFailed{Command: chat.AddContact{JID: "bob@x"}, Err: errors.New("the server said no")})
	ls := h.waitFor("could not add bob@x to your contacts: the server said no")
	if all := strings.Join(ls, "\n"); strings.Contains(all, "AddContact") {
		t.Fatalf("a Go type name on screen:\n%s", all)
	}
	for _, c := range []chat.Command{chat.SendMessage{Conv: chat.ChatWith("a@x")}, chat.SetPresence{}, chat.Block{JID: "a@x"}, chat.Reconnect{}, chat.LoadAround{}, chat.FetchBlocklist{}} {
		if n := commandName(c); n == "do that" || strings.ContainsAny(n[:1], "ABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			t.Errorf("%T is called %q", c, n)
		}
	}
}

// The contact list had the focus when the window narrowed and it stepped
// aside: a paste still lands in the composer.
func TestPasteWhileTheFocusedListSteppedAside(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.send(chat.RosterReset{Items: []roster.Item{{JID: "ada@x", Name: "Ada", Subscription: "both"}}})
	h.waitFor("Ada")
	h.moveFocus(tcell.KeyTab) // the list has the focus
	h.onUI(func() { h.screen.SetSize(60, 20) })
	h.screen.PostEventWait(tcell.NewEventResize(60, 20))
	h.waitUntil("the list to step aside", func(ls []string) bool {
		return len(ls) == 20 && !strings.Contains(strings.Join(ls, "\n"), "Ada")
	})
	h.screen.PostEventWait(tcell.NewEventPaste(true))
	h.typeText("pasted while the list was away")
	h.screen.PostEventWait(tcell.NewEventPaste(false))
	h.waitFor("> pasted while the list was away")
}

// In a window narrower than the note, the sizes are told on two lines
// rather than cut: the size gab needs is what the note is for.
func TestTooSmallNoteFitsNarrowWindow(t *testing.T) {
	h := newHarness(t, 20, 5)
	ls := h.waitFor("window too small", "20×5", "needs 40×10", "Ctrl+Q quits")
	for _, l := range ls {
		if strings.Contains(l, "…") {
			t.Fatalf("the note was cut:\n%s", strings.Join(ls, "\n"))
		}
	}
}
