package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/roster"
	"github.com/gdamore/tcell/v2"
)

// waitCommands waits until the fake client got want (chat states aside).
func (h *harness) waitCommands(want ...chat.Command) {
	h.t.Helper()
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.Local))
	for {
		var got []chat.Command
		for _, c := range h.client.commands() {
			if background(c) {
				continue
			}
			got = append(got, c)
		}
		if fmt.Sprint(got) == fmt.Sprint(want) {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("commands:\n got %#v\nwant %#v", got, want)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestComposerHistoryNewlineAndCompletion(t *testing.T) {
	h := newHarness(t, 100, 20)
	h.send(chat.RosterReset{Items: []roster.Item{{JID: "bob@x", Name: "Bobby", Subscription: "both"}, {JID: "bo@y", Subscription: "both"}}})
	h.waitFor("Bobby")
	h.typeText("/ms")
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	h.waitFor("> /msg ")
	h.typeText("bob")
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	h.waitFor("> /msg bob@x")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("2:Bobby")
	h.typeText("one")
	h.key(tcell.KeyEnter, 0, tcell.ModAlt) // Alt+Enter: newline
	h.typeText("two")
	h.waitFor("> one", "  two")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitCommands(chat.SendMessage{Conv: chat.ChatWith("bob@x"), Body: "one\ntwo"})
	h.typeText("draft")
	h.key(tcell.KeyUp, 0, tcell.ModNone)
	h.waitFor("> one", "  two")
	h.key(tcell.KeyUp, 0, tcell.ModNone) // within the two-line entry first
	h.key(tcell.KeyUp, 0, tcell.ModNone)
	h.waitFor("> /msg bob@x")
	h.key(tcell.KeyDown, 0, tcell.ModNone)
	h.key(tcell.KeyDown, 0, tcell.ModNone)
	h.waitFor("> draft")
	// Completing a name in a message.
	h.key(tcell.KeyCtrlU, 0, tcell.ModNone)
	h.typeText("hi Bob")
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	h.waitFor("> hi Bobby")
	h.key(tcell.KeyTab, 0, tcell.ModNone) // cycles to the next candidate
	h.waitFor("> hi bob@x")
}

func TestRosterFoldOfflineToggleAndJump(t *testing.T) {
	h := newHarness(t, 100, 20)
	h.send(chat.RosterReset{Items: []roster.Item{
		{JID: "a@x", Name: "Ann", Subscription: "both", Groups: []string{"Friends"}},
		{JID: "b@x", Name: "Ben", Subscription: "both", Groups: []string{"Friends"}},
		{JID: "w@x", Name: "Walt", Subscription: "both", Groups: []string{"Work"}},
	}}, chat.PresenceChanged{Bare: "w@x", Resource: "r", Available: true, Show: roster.Online, Status: "at [b]work[/b]"})
	h.waitFor("▾ Friends", "Ann", "Ben", "▾ Work", "Walt")
	// Tab to the list: the first contact is selected and its status shown.
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	h.waitFor("a@x · offline")
	for i := 0; i < 3; i++ {
		h.key(tcell.KeyDown, 0, tcell.ModNone) // Ben, Work's heading, Walt
	}
	h.waitFor("w@x · online · “at [b]work[/b]”")
	for i := 0; i < 4; i++ {
		h.key(tcell.KeyUp, 0, tcell.ModNone) // back up to Friends' heading
	}
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("▸ Friends (2)")
	h.waitUntil("Ann to be folded away", func(ls []string) bool { return !strings.Contains(strings.Join(ls, "\n"), "Ann") })
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("▾ Friends", "Ann")
	// Ctrl+O hides the offline ones.
	h.key(tcell.KeyCtrlO, 0, tcell.ModNone)
	h.waitUntil("offline contacts hidden", func(ls []string) bool {
		all := strings.Join(ls, "\n")
		return !strings.Contains(all, "Ann") && strings.Contains(all, "Walt")
	})
	h.key(tcell.KeyCtrlO, 0, tcell.ModNone)
	h.waitFor("Ann")
	// Ctrl+K, "ben", Enter opens Ben.
	h.key(tcell.KeyCtrlK, 0, tcell.ModNone)
	h.waitFor("Quick jump")
	h.typeText("ben")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("2:Ben")
	h.typeText("hello")
	h.waitFor("> hello")
}

// A flood of 10,000 messages must not stop typing: every keystroke lands,
// every message is counted.
func TestFloodDoesNotFreezeTyping(t *testing.T) {
	h := newHarness(t, 100, 20)
	const n = 10000
	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := 0; i < n; i++ {
			h.events <- chat.MessageReceived{Conv: chat.ChatWith("flood@x"), From: "flood@x/r", Bare: "flood@x", Body: fmt.Sprintf("message %d", i), Time: time.Now()}
		}
	}()
	h.typeText("typing through the flood")
	h.waitFor("> typing through the flood")
	<-done
	h.waitFor(fmt.Sprintf("2:flood@x (%d)", n))
	h.key(tcell.KeyCtrlN, 0, tcell.ModNone)
	h.waitFor(fmt.Sprintf("message %d", n-1))
}

// find returns the screen position of the first occurrence of s.
func (h *harness) find(s string) (int, int) {
	h.t.Helper()
	for y, l := range h.lines() {
		if i := strings.Index(l, s); i >= 0 {
			return len([]rune(l[:i])), y
		}
	}
	h.t.Fatalf("%q is not on the screen", s)
	return 0, 0
}

func (h *harness) click(s string) {
	h.t.Helper()
	x, y := h.find(s)
	h.screen.InjectMouse(x, y, tcell.Button1, tcell.ModNone)
	h.screen.InjectMouse(x, y, tcell.ButtonNone, tcell.ModNone)
}

func TestMouse(t *testing.T) {
	h := newHarness(t, 100, 24)
	h.send(chat.RosterReset{Items: []roster.Item{{JID: "ann@x", Name: "Ann", Subscription: "both"}, {JID: "bo@x", Name: "Bo", Subscription: "both"}}})
	h.waitFor("Ann", "Bo")
	h.click("Ann")
	h.waitFor("2:Ann")
	h.click("Bo")
	h.waitFor("3:Bo")
	h.click("2:Ann")
	h.typeText("to ann")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitCommands(chat.SendMessage{Conv: chat.ChatWith("ann@x"), Body: "to ann"})
	h.send(chat.SubscriptionRequested{From: "cy@x"})
	h.waitFor("1 request · F4 to answer")
	h.key(tcell.KeyF4, 0, tcell.ModNone)
	h.waitFor("Waiting for your answer")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("Subscription request", "cy@x")
	h.click("Deny")
	h.waitCommands(chat.SendMessage{Conv: chat.ChatWith("ann@x"), Body: "to ann"}, chat.DenySubscription{JID: "cy@x"})
}

// Ctrl+K deletes to the end when there is text after the cursor, and opens
// quick jump when there is not.
func TestCtrlKKillsOrJumps(t *testing.T) {
	h := newHarness(t, 100, 20)
	h.typeText("keep this cut that")
	for i := 0; i < len(" cut that"); i++ {
		h.key(tcell.KeyLeft, 0, tcell.ModNone)
	}
	h.key(tcell.KeyCtrlK, 0, tcell.ModNone)
	h.waitUntil("the kill", func(ls []string) bool {
		all := strings.Join(ls, "\n")
		return strings.Contains(all, "> keep this") && !strings.Contains(all, "cut that")
	})
	h.key(tcell.KeyCtrlK, 0, tcell.ModNone)
	h.waitFor("Quick jump")
	h.key(tcell.KeyEscape, 0, tcell.ModNone)
	h.waitFor("> keep this")
}

// A bracketed paste with newlines stays in the composer as one message.
func TestPasteIsOneMessage(t *testing.T) {
	h := newHarness(t, 100, 20)
	h.send(chat.RosterReset{Items: []roster.Item{{JID: "p@x", Name: "Pat", Subscription: "both"}}})
	h.waitFor("Pat")
	h.typeText("/msg p@x")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("2:Pat")
	h.screen.PostEvent(tcell.NewEventPaste(true))
	for _, r := range "line one\nline two" {
		if r == '\n' {
			h.key(tcell.KeyEnter, 0, tcell.ModNone)
		} else {
			h.key(tcell.KeyRune, r, tcell.ModNone)
		}
	}
	h.screen.PostEvent(tcell.NewEventPaste(false))
	h.waitFor("> line one", "  line two")
	for _, c := range h.client.commands() {
		if _, ok := c.(chat.SendMessage); ok {
			t.Fatalf("the paste sent %#v", c)
		}
	}
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitCommands(chat.SendMessage{Conv: chat.ChatWith("p@x"), Body: "line one\nline two"})
}

func TestDeliveryMarks(t *testing.T) {
	h := newHarness(t, 100, 20)
	h.typeText("/msg d@x")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("2:d@x")
	h.send(chat.MessageSent{Conv: chat.ChatWith("d@x"), ID: "m1", To: "d@x", Body: "first", Time: time.Now(), State: chat.DeliveryPending},
		chat.MessageSent{Conv: chat.ChatWith("d@x"), ID: "m2", To: "d@x", Body: "second", Time: time.Now(), State: chat.DeliveryPending})
	h.waitFor("me (sending): first", "me (sending): second")
	h.send(chat.DeliveryChanged{Conv: chat.ChatWith("d@x"), ID: "m1", To: "d@x", State: chat.DeliveryUnacked},
		chat.DeliveryChanged{Conv: chat.ChatWith("d@x"), ID: "m1", To: "d@x", State: chat.DeliverySent},
		chat.DeliveryChanged{Conv: chat.ChatWith("d@x"), ID: "m2", To: "d@x", State: chat.DeliveryFailed})
	h.waitFor("me: first", "me (not delivered): second", "could not be delivered")
}

// background commands are sent without the user asking: chat states and
// history reads.
func background(c chat.Command) bool {
	switch c.(type) {
	case chat.SendChatState, chat.LoadHistory, chat.MarkDisplayed, chat.FetchOMEMODevices:
		return true
	}
	return false
}

func TestHistoryInTabs(t *testing.T) {
	h := newHarness(t, 100, 16)
	h.typeText("/msg old@x")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("2:old@x")
	var load chat.LoadHistory
	for _, c := range h.client.commands() {
		if l, ok := c.(chat.LoadHistory); ok {
			load = l
		}
	}
	if load.Conv != chat.ChatWith("old@x") || load.Before != 0 {
		t.Fatalf("no history asked for: %#v", h.client.commands())
	}
	day := time.Now().Add(-time.Hour)
	var page []chat.StoredMessage
	for i := 11; i <= 30; i++ {
		page = append(page, chat.StoredMessage{StoreID: int64(i), Body: fmt.Sprint("stored ", i), Time: day, Outgoing: i%2 == 0, State: chat.DeliveryReceived})
	}
	// The newest stored message also arrives as an event: shown once.
	h.send(chat.HistoryLoaded{Conv: chat.ChatWith("old@x"), Messages: page, More: true},
		chat.MessageReceived{Conv: chat.ChatWith("old@x"), From: "old@x/r", Bare: "old@x", Body: "stored 30", StoreID: 30, Time: day})
	h.waitFor("stored 29", "me ✓: stored 30")
	n := 0
	for _, c := range h.app.State().Convs[1].Lines {
		if c.Body == "stored 30" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("stored 30 shown %d times", n)
	}
	// Scrolling past the top asks for the page before row 11.
	for i := 0; i < 5; i++ {
		h.key(tcell.KeyPgUp, 0, tcell.ModNone)
	}
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.Local))
	for {
		var older *chat.LoadHistory
		for _, c := range h.client.commands() {
			if l, ok := c.(chat.LoadHistory); ok && l.Before == 11 {
				older = &l
			}
		}
		if older != nil {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no older page asked for: %#v", h.client.commands())
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.send(chat.HistoryLoaded{Conv: chat.ChatWith("old@x"), Before: 11, Messages: []chat.StoredMessage{{StoreID: 3, Body: "the very first", Time: day}}})
	h.waitFor("the very first")
}

func TestSearchJumpsToTheMessage(t *testing.T) {
	h := newHarness(t, 110, 20)
	h.typeText("/search abbey road")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitCommands(chat.SearchHistory{Text: "abbey road", Limit: 200})
	when := time.Date(2025, 3, 1, 10, 0, 0, 0, time.Local)
	h.send(chat.SearchResults{Text: "abbey road", Hits: []chat.StoredMessage{
		{StoreID: 61235, Conv: chat.ChatWith("paul@x"), Body: "the Zebra crossing is at Abbey Road [red]", Time: when},
		{StoreID: 12, Conv: chat.ChatWith("john@x"), Body: "abbey road again", Time: when, Outgoing: true},
	}})
	h.waitFor("2 found for “abbey road” in all conversations", "2025-03-01 10:00  paul@x: the Zebra crossing is at Abbey Road [red]", "me → john@x: abbey road again")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("2:paul@x")
	h.waitCommands(chat.SearchHistory{Text: "abbey road", Limit: 200}, chat.LoadAround{Conv: chat.ChatWith("paul@x"), StoreID: 61235})
	var ctx []chat.StoredMessage
	for i := int64(61200); i < 61260; i++ {
		body := fmt.Sprint("context ", i)
		if i == 61235 {
			body = "the Zebra crossing is at Abbey Road [red]"
		}
		ctx = append(ctx, chat.StoredMessage{StoreID: i, Body: body, Time: when})
	}
	h.send(chat.HistoryLoaded{Conv: chat.ChatWith("paul@x"), Messages: ctx, More: true, Around: 61235})
	h.waitFor("paul@x: the Zebra crossing is at Abbey Road [red]")
	// The found message is in view and stands out.
	var hl bool
	h.onUI(func() {
		for _, l := range h.app.State().Current().Lines {
			if l.StoreID == 61235 {
				hl = l.Highlight
			}
		}
	})
	if !hl {
		t.Fatal("the found message is not highlighted")
	}
}

func TestReadMarkersAndCorrectionsInTheUI(t *testing.T) {
	h := newHarness(t, 100, 20)
	h.send(chat.MessageReceived{Conv: chat.ChatWith("kim@x"), ID: "in1", From: "kim@x/r", Bare: "kim@x", Body: "hello", Time: time.Now(), Markable: true})
	h.waitFor("2:kim@x (1)")
	for _, c := range h.client.commands() {
		if _, ok := c.(chat.MarkDisplayed); ok {
			t.Fatal("marked as read while the tab was in the background")
		}
	}
	h.key(tcell.KeyRune, '2', tcell.ModAlt)
	h.waitFor("kim@x: hello")
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.Local))
	for {
		var marks []chat.MarkDisplayed
		for _, c := range h.client.commands() {
			if m, ok := c.(chat.MarkDisplayed); ok {
				marks = append(marks, m)
			}
		}
		if len(marks) == 1 && marks[0] == (chat.MarkDisplayed{Conv: chat.ChatWith("kim@x"), ID: "in1"}) {
			break
		}
		if time.Now().After(deadline) || len(marks) > 1 {
			t.Fatalf("read markers: %#v", marks)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Our message, read by kim, then corrected with Alt+Up.
	h.send(chat.MessageSent{Conv: chat.ChatWith("kim@x"), ID: "out1", To: "kim@x", Body: "helo", Time: time.Now(), State: chat.DeliverySent},
		chat.DeliveryChanged{Conv: chat.ChatWith("kim@x"), ID: "out1", To: "kim@x", State: chat.DeliveryDisplayed})
	h.waitFor("me ✓✓: helo")
	h.key(tcell.KeyUp, 0, tcell.ModAlt)
	h.waitFor("> helo", "correcting your last message")
	h.key(tcell.KeyBackspace2, 0, tcell.ModNone)
	h.typeText("lo")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitCommands(chat.CorrectMessage{Conv: chat.ChatWith("kim@x"), ReplaceID: "out1", Body: "hello"})
	h.send(chat.MessageCorrected{Conv: chat.ChatWith("kim@x"), Bare: "kim@x", ReplaceID: "out1", NewID: "n", Body: "hello", Outgoing: true},
		chat.MessageCorrected{Conv: chat.ChatWith("kim@x"), Bare: "kim@x", ReplaceID: "in1", NewID: "m", Body: "hello there"},
		chat.MessageCorrected{Conv: chat.ChatWith("kim@x"), Bare: "kim@x", ReplaceID: "out1", NewID: "x", Body: "forged"}) // a peer's "correction" of our message
	h.waitFor("me ✓✓ (edited): hello", "kim@x (edited): hello there")
	if strings.Contains(strings.Join(h.lines(), "\n"), "forged") {
		t.Fatal("a peer corrected our message")
	}
}

func TestOneJIDCommands(t *testing.T) {
	h := newHarness(t, 100, 16)
	var want []chat.Command
	for _, name := range []string{"remove", "subscribe", "unsubscribe", "block", "unblock"} {
		h.typeText("/" + name + " z@x")
		h.key(tcell.KeyEnter, 0, tcell.ModNone)
		want = append(want, jidCommands[name]("z@x"))
	}
	h.waitCommands(want...)
	h.typeText("/block")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("usage: /block JID")
}

// A contact's name completed into the composer is remote text: it arrives
// cleaned of controls and bidi overrides, like every label.
func TestCompletedNamesAreCleaned(t *testing.T) {
	h := newHarness(t, 100, 16)
	h.send(chat.RosterReset{Items: []roster.Item{{JID: "e@x", Name: "Evil\x1b[2J\u202eeman", Subscription: "both"}}})
	h.waitFor("Evil")
	h.typeText("hi Ev")
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	var text string
	h.waitUntil("the completion", func([]string) bool {
		h.onUI(func() { text = h.app.composer.GetText() })
		return strings.HasPrefix(text, "hi Evil")
	})
	if text != "hi Evil\uFFFD[2J\uFFFDeman" {
		t.Fatalf("composer holds %q", text)
	}
}

// Removing a contact asks first, with Cancel focused: Delete then Enter
// removes nothing. The question is shown whole even for a long name.
func TestRemoveAsksWithCancelFocused(t *testing.T) {
	h := newHarness(t, 100, 24)
	long := strings.Repeat("Carolina Maria ", 7) + "Long-Name"
	h.send(chat.RosterReset{Items: []roster.Item{{JID: "carol@x", Name: long, Subscription: "both"}}})
	h.waitFor("Carolina")
	h.key(tcell.KeyTab, 0, tcell.ModNone) // to the contact list
	h.key(tcell.KeyDelete, 0, tcell.ModNone)
	h.waitFor("Remove contact", "<carol@x>", "from your contacts?", "presence.")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.gone("Remove contact")
	for _, c := range h.client.commands() {
		if _, ok := c.(chat.RemoveContact); ok {
			t.Fatalf("Enter alone removed the contact: %#v", c)
		}
	}
	h.key(tcell.KeyDelete, 0, tcell.ModNone)
	h.waitFor("Remove contact")
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitCommands(chat.RemoveContact{JID: "carol@x"})
}
