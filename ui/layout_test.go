package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
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
		h.send(chat.MessageReceived{From: fmt.Sprintf("c%02d@x/r", i), Bare: fmt.Sprintf("c%02d@x", i), Body: fmt.Sprintf("hello %d", i), Time: time.Now()})
	}
	h.waitFor("2:01nnn")
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
	h.send(chat.ChatStateChanged{Bare: "c12@x", State: chat.StateComposing})
	h.waitFor("… is typing…")
	// Back to the first tab: the bar scrolls back.
	h.key(tcell.KeyRune, '1', tcell.ModAlt)
	ls = h.waitFor("1:console")
	if strings.Contains(ls[0], "‹") || !strings.Contains(ls[0], "›") {
		t.Fatalf("tab bar at the start: %q", ls[0])
	}
}
