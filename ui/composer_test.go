package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/roster"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// composerRows are the screen rows that show the composer, top to bottom.
func (h *harness) composerRows() []string {
	var out []string
	h.onUI(func() {
		_, y, _, hgt := h.app.composer.GetRect()
		ls := h.linesOnUI()
		for i := y; i < y+hgt; i++ {
			_, x, w, _ := 0, 0, 0, 0
			x, _, w, _ = h.app.composer.GetRect()
			out = append(out, string([]rune(ls[i])[x:x+w]))
		}
	})
	return out
}

// linesOnUI is lines for code already on the UI goroutine.
func (h *harness) linesOnUI() []string {
	c, w, hgt := h.screen.GetContents()
	out := make([]string, hgt)
	for y := 0; y < hgt; y++ {
		var b strings.Builder
		for x := 0; x < w; x++ {
			s := string(c[y*w+x].Runes)
			if s == "" {
				s = " "
			}
			b.WriteString(s)
		}
		out[y] = b.String()
	}
	return out
}

func (h *harness) sent() []chat.SendMessage {
	var out []chat.SendMessage
	for _, c := range h.client.commands() {
		if m, ok := c.(chat.SendMessage); ok {
			out = append(out, m)
		}
	}
	return out
}

func (h *harness) waitSent(n int) []chat.SendMessage {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for len(h.sent()) < n {
		if time.Now().After(deadline) {
			h.t.Fatalf("%d messages sent, want %d", len(h.sent()), n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	return h.sent()
}

// openBob opens a conversation with bob@x from the composer.
func (h *harness) openBob() {
	h.typeText("/msg bob@x")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("2:bob@x")
}

// At 80×24 a line longer than the composer wraps inside it, the composer
// grows, and the cursor is drawn just after the last character typed.
func TestComposerWrapsAndKeepsTheCursorInView(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.openBob()
	long := strings.Repeat("lorem ipsum ", 6) + "the end"
	h.typeText(long)
	h.waitFor("the end")
	rows := h.composerRows()
	if len(rows) < 2 || !strings.HasPrefix(rows[0], "> lorem ipsum") || !strings.Contains(rows[len(rows)-1], "the end") {
		t.Fatalf("composer rows %q", rows)
	}
	var cx, cy, wantX, wantY int
	var visible bool
	h.onUI(func() {
		cx, cy, visible = h.screen.GetCursor()
		x, y, _, hgt := h.app.composer.GetRect()
		wantY = y + hgt - 1
		wantX = x + strings.Index(rows[len(rows)-1], "the end") + len("the end")
	})
	if !visible || cx != wantX || cy != wantY {
		t.Fatalf("cursor at %d,%d (visible %v), want %d,%d after the text", cx, cy, visible, wantX, wantY)
	}
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	if got := h.waitSent(1); got[0].Body != long {
		t.Fatalf("sent %q", got[0].Body)
	}
}

// A pasted block of lines stays in the composer, shown as lines, and goes
// as one message on Enter.
func TestComposerPasteIsOneMessage(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.openBob()
	var block []string
	for i := 1; i <= 8; i++ {
		block = append(block, fmt.Sprintf("pasted line %d", i))
	}
	h.screen.PostEventWait(tcell.NewEventPaste(true))
	for i, l := range block {
		if i > 0 {
			h.key(tcell.KeyEnter, 0, tcell.ModNone)
		}
		h.typeText(l)
	}
	h.screen.PostEventWait(tcell.NewEventPaste(false))
	h.waitFor("pasted line 8")
	rows := h.composerRows()
	if len(rows) != MaxComposerRows || !strings.Contains(rows[0], "pasted line 3") || !strings.Contains(rows[MaxComposerRows-1], "pasted line 8") {
		t.Fatalf("composer rows %q", rows)
	}
	if n := len(h.sent()); n != 0 {
		t.Fatalf("%d messages sent before Enter", n)
	}
	// Up moves within the message before it reaches the input history.
	h.key(tcell.KeyUp, 0, tcell.ModNone)
	h.typeText("!")
	h.waitFor("pasted line 7!")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	block[6] += "!"
	if got := h.waitSent(1); len(got) != 1 || got[0].Body != strings.Join(block, "\n") {
		t.Fatalf("sent %#v", got)
	}
}

// Ctrl+Q works right after a paste of 300,000 characters.
func TestQuitAfterHugePaste(t *testing.T) {
	h := newHarnessWith(t, 80, 24, config.DefaultSettings(), nil)
	h.openBob()
	h.screen.PostEventWait(tcell.NewEventPaste(true))
	for i := 0; i < 300000; i++ {
		h.key(tcell.KeyRune, rune('a'+i%26), tcell.ModNone)
	}
	h.screen.PostEventWait(tcell.NewEventPaste(false))
	h.key(tcell.KeyCtrlQ, 0, tcell.ModNone)
	select {
	case <-h.done:
	case <-time.After(20 * time.Second):
		t.Fatal("gab did not quit after the paste")
	}
}

// Readline editing on wrapped text: word moves and deletes, Ctrl+K, Ctrl+U,
// Ctrl+Y.
func TestComposerEditing(t *testing.T) {
	c := NewComposer()
	c.SetRect(0, 0, 22, 3)
	c.SetText("one two three", true)
	press := func(k tcell.Key, r rune, m tcell.ModMask) { c.handle(tcell.NewEventKey(k, r, m)) }
	press(tcell.KeyCtrlW, 0, 0)
	if c.GetText() != "one two " {
		t.Fatalf("Ctrl+W: %q", c.GetText())
	}
	press(tcell.KeyCtrlY, 0, 0)
	press(tcell.KeyRune, 'b', tcell.ModAlt)
	press(tcell.KeyRune, 'b', tcell.ModAlt)
	press(tcell.KeyCtrlK, 0, 0)
	if c.GetText() != "one " {
		t.Fatalf("Alt+B twice, Ctrl+K: %q", c.GetText())
	}
	c.SetText("héllo 👩‍👩‍👧 x", true)
	press(tcell.KeyLeft, 0, 0)
	press(tcell.KeyLeft, 0, 0)
	press(tcell.KeyBackspace2, 0, 0)
	if c.GetText() != "héllo  x" {
		t.Fatalf("Backspace over a cluster: %q", c.GetText())
	}
	c.SetText("first\nsecond", true)
	press(tcell.KeyCtrlU, 0, 0)
	if c.GetText() != "first" {
		t.Fatalf("Ctrl+U: %q", c.GetText())
	}
	// Wrapping: 20 cells of text after the label; a cursor after a full
	// row takes the next one.
	c.SetText(strings.Repeat("x", 20), true)
	if got := c.WantRows(22); got != 2 {
		t.Fatalf("rows for a full row with the cursor after it: %d", got)
	}
	if r, col := c.cursorPos(20); r != 1 || col != 0 {
		t.Fatalf("cursor at %d,%d", r, col)
	}
	// A click puts the cursor there: row 1, column 3 of the text.
	c.SetText("aaaa bbbb cccc dddd eeee", true)
	c.MouseHandler()(tview.MouseLeftClick, tcell.NewEventMouse(2+3, 1, tcell.Button1, 0), func(tview.Primitive) {})
	press(tcell.KeyRune, 'X', 0)
	if c.GetText() != "aaaa bbbb cccc dddd eeeXe" {
		t.Fatalf("typed after a click: %q", c.GetText())
	}
	c.SetText("aaaa bbbb cccc dddd eeee", true)
	glyphs, rows := c.layout(20)
	if len(rows) != 2 || c.text[glyphs[rows[1]].off] != 'e' {
		t.Fatalf("word wrap rows %v", rows)
	}
}

// With the contact list focused, what is typed goes to the composer (and
// the focus with it): a /msg line typed there reaches the contact it names,
// nothing reaches the contact selected or the one whose tab is open, and
// Space opens nothing.
func TestTypingInTheContactListGoesToTheComposer(t *testing.T) {
	h := newHarness(t, 100, 20)
	h.send(chat.RosterReset{Items: []roster.Item{
		{JID: "echo@x", Name: "Echo", Subscription: "both"},
		{JID: "ada@x", Name: "Ada", Subscription: "both"},
	}})
	h.waitFor("Echo", "Ada")
	h.typeText("/msg echo@x")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("2:Echo")
	h.key(tcell.KeyTab, 0, tcell.ModNone) // to the list
	h.waitUntil("the list to take focus", func([]string) bool {
		var f bool
		h.onUI(func() { f = h.app.roster.HasFocus() })
		return f
	})
	h.key(tcell.KeyDown, 0, tcell.ModNone) // Echo, the second in the list
	h.waitFor("echo@x · offline")
	h.typeText("/msg ada@x hello ada")
	h.waitFor("> /msg ada@x hello ada")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("3:Ada")
	got := h.waitSent(1)
	if len(got) != 1 || got[0].Conv != chat.ChatWith("ada@x") || got[0].Body != "hello ada" {
		t.Fatalf("sent %#v", got)
	}
	var focus bool
	h.onUI(func() { focus = h.app.tv.GetFocus() == h.app.composer })
	if !focus {
		t.Fatal("the composer does not have the focus after typing")
	}
	// A paste into the list lands in the composer.
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	h.screen.PostEventWait(tcell.NewEventPaste(true))
	h.typeText("pasted")
	h.screen.PostEventWait(tcell.NewEventPaste(false))
	h.waitFor("> pasted")
	h.key(tcell.KeyCtrlU, 0, tcell.ModNone)
	h.waitFor("> type a message")
	// Space in the list opens nothing: it only moves the focus.
	h.key(tcell.KeyTab, 0, tcell.ModNone) // Echo is still selected there
	h.key(tcell.KeyRune, ' ', tcell.ModNone)
	h.typeText("xy")
	h.key(tcell.KeyBacktab, 0, tcell.ModNone) // Tab would complete in a non-empty composer
	h.waitFor("echo@x · offline")
	h.key(tcell.KeyBackspace2, 0, tcell.ModNone) // from the list: edits the composer
	h.waitFor("> x ")
	var active string
	h.onUI(func() { active = h.app.state.Current().Conv.JID })
	if active != "ada@x" {
		t.Fatalf("Space switched to %s", active)
	}
}

// A terminal without bracketed paste sends a paste as keys, one event
// each: 100,000 of them, then Ctrl+Q. The keys all land in the composer
// and Ctrl+Q, behind them, is reached (frames are not drawn per key while
// more keys wait).
func TestQuitAfterHugeKeyFlood(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.openBob()
	const n = 100000
	go func() {
		for i := 0; i < n; i++ {
			h.screen.InjectKey(tcell.KeyRune, rune('a'+i%26), tcell.ModNone)
		}
	}()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var got int
		h.onUI(func() { got = len(h.app.composer.GetText()) })
		if got == n {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d of %d keys in the composer", got, n)
		}
		time.Sleep(20 * time.Millisecond)
	}
	h.key(tcell.KeyCtrlQ, 0, tcell.ModNone)
	select {
	case <-h.done:
	case <-time.After(20 * time.Second):
		t.Fatal("gab did not quit after the keys")
	}
}
