package ui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/room"
	"github.com/gdamore/tcell/v2"
)

// styledBody is a message with every kind of styling, tview's markup and
// links.
const styledBody = "*bold* _slanted_ ~gone~ `[red]code[-]` [:::https://evil]click[:::-] see https://example.org/a_(b).\n" +
	"> quoted *deep* text\n" +
	"```\n*notbold* [yellow]\n```\n" +
	"chat xmpp:room@muc.example?join"

func receiveStyled(t *testing.T, settings config.Settings) *harness {
	h := newHarnessWith(t, 160, 20, settings, nil)
	h.send(chat.MessageReceived{Conv: chat.ChatWith("m@x"), From: "m@x/r", Bare: "m@x", Body: styledBody, Time: time.Now()})
	h.waitFor("2:m@x")
	h.key(tcell.KeyRune, '2', tcell.ModAlt)
	h.waitFor("bold", "chat xmpp:room")
	return h
}

// attrAt is the attributes of the cell where s starts on the screen,
// offset cells further.
func (h *harness) attrAt(s string, offset int) (tcell.Style, tcell.AttrMask, tcell.Color) {
	h.t.Helper()
	x, y := h.find(s)
	st := h.styleAt(x+offset, y)
	fg, _, attr := st.Decompose()
	return st, attr, fg
}

func TestStylingDrawnByTheView(t *testing.T) {
	h := receiveStyled(t, config.DefaultSettings())
	all := strings.Join(h.lines(), "\n")
	// Every character stays: directives and tview's tags are text.
	for _, s := range []string{"*bold* _slanted_ ~gone~ `[red]code[-]` [:::https://evil]click[:::-] see https://example.org/a_(b).",
		"> quoted *deep* text", "```", "*notbold* [yellow]"} {
		if !strings.Contains(all, s) {
			t.Fatalf("%q is not shown as written:\n%s", s, all)
		}
	}
	for _, tc := range []struct {
		at     string
		offset int
		want   tcell.AttrMask
		not    tcell.AttrMask
		fg     tcell.Color // ColorReset: any
	}{
		{"*bold*", 1, tcell.AttrBold, tcell.AttrItalic, tcell.ColorReset},
		{"*bold*", 0, tcell.AttrBold, 0, theme.Dim}, // the directive, dimmed
		{"_slanted_", 1, tcell.AttrItalic, tcell.AttrBold, tcell.ColorReset},
		{"~gone~", 1, tcell.AttrStrikeThrough, 0, tcell.ColorReset},
		{"[red]code", 0, 0, tcell.AttrBold, theme.Code},
		{"`[red]code", 0, 0, 0, theme.Dim},
		{"[:::https://evil]", 1, 0, tcell.AttrUnderline, tcell.ColorReset},
		{"https://example.org/a_(b)", 0, tcell.AttrUnderline, tcell.AttrItalic, tcell.ColorReset},
		{"https://example.org/a_(b)", 24, tcell.AttrUnderline, 0, tcell.ColorReset},
		{"quoted *deep*", 0, 0, 0, theme.Quote},
		{"*deep*", 1, tcell.AttrBold, 0, theme.Quote},
		{"> quoted", 0, 0, 0, theme.Dim},
		{"*notbold*", 1, 0, tcell.AttrBold, theme.Code},
		{"xmpp:room", 0, tcell.AttrUnderline, 0, tcell.ColorReset},
	} {
		_, attr, fg := h.attrAt(tc.at, tc.offset)
		if attr&tc.want != tc.want || attr&tc.not != 0 || (tc.fg != tcell.ColorReset && fg != tc.fg) {
			t.Errorf("%q+%d: attributes %b, colour %v; want %b, not %b, colour %v", tc.at, tc.offset, attr, fg, tc.want, tc.not, tc.fg)
		}
	}
	// No cell took a colour from tview's tags.
	for _, s := range []string{"[red]code", "[yellow]"} {
		if _, _, fg := h.attrAt(s, 1); fg == tcell.ColorRed || fg == tcell.ColorYellow {
			t.Errorf("%q took its colour from the text", s)
		}
	}
	// The web link carries its own text as its OSC 8 target; the trailing
	// ")." and the xmpp: URI, the evil tag and the rest none.
	st, _, _ := h.attrAt("https://example.org/a_(b)", 3)
	if st2, _, _ := h.attrAt("https://example.org/a_(b)", 20); st != st2 {
		t.Errorf("the link's cells do not share one hyperlink")
	}
	if st != st.Url("https://example.org/a_(b)") {
		t.Errorf("the link's cell does not carry its URL")
	}
	for _, s := range []string{"xmpp:room", "[:::https://evil]", ").\n"[:2], "see"} {
		st, _, _ := h.attrAt(s, 1)
		if st != st.Url("") {
			t.Errorf("%q carries a hyperlink", s)
		}
	}
}

func TestStylingOff(t *testing.T) {
	settings := config.DefaultSettings()
	settings.Styling = false
	h := receiveStyled(t, settings)
	for _, s := range []string{"*bold*", "_slanted_", "~gone~", "[red]code", "quoted", "*notbold*"} {
		for off := 0; off < 2; off++ {
			if _, attr, fg := h.attrAt(s, off); attr&(tcell.AttrBold|tcell.AttrItalic|tcell.AttrStrikeThrough|tcell.AttrDim) != 0 || fg == theme.Code || fg == theme.Quote || fg == theme.Dim {
				t.Errorf("styling off, %q+%d is styled: %b %v", s, off, attr, fg)
			}
		}
	}
	// Links stay links.
	if _, attr, _ := h.attrAt("https://example.org", 2); attr&tcell.AttrUnderline == 0 {
		t.Errorf("styling off, a link is not underlined")
	}
}

// A quoted line that wraps keeps its quotation mark on every row.
func TestQuoteWrapsUnderItsMark(t *testing.T) {
	h := newHarness(t, 70, 12)
	body := "> " + strings.Repeat("lorem ipsum ", 12) + "end"
	h.send(chat.MessageReceived{Conv: chat.ChatWith("m@x"), From: "m@x/r", Bare: "m@x", Body: body, Time: time.Now()})
	h.waitFor("2:m@x")
	h.key(tcell.KeyRune, '2', tcell.ModAlt)
	ls := h.waitFor("end")
	quoted := 0
	for _, l := range ls {
		if strings.Contains(l, "> lorem") {
			quoted++
		}
	}
	if quoted < 3 {
		t.Fatalf("wrapped quotation rows without their mark:\n%s", strings.Join(ls, "\n"))
	}
}

// Mentions and search highlights are drawn over styling.
func TestStylingKeepsMentionAndHighlight(t *testing.T) {
	h := newHarness(t, 100, 12)
	h.send(chat.MessageReceived{Conv: chat.ChatWith("m@x"), From: "m@x/r", Bare: "m@x", Body: "*hey nick* there", Time: time.Now()})
	h.waitFor("2:m@x")
	h.key(tcell.KeyRune, '2', tcell.ModAlt)
	h.waitFor("*hey nick*")
	h.onUI(func() {
		l := &h.app.state.Current().Lines[0]
		l.Spans, l.Highlight, l.wrapped = [][2]int{{5, 9}}, true, nil
	})
	h.app.tv.QueueUpdateDraw(func() {})
	h.waitUntil("the mention marked", func([]string) bool {
		_, attr, _ := h.attrAt("nick*", 0)
		return attr&tcell.AttrReverse != 0 && attr&tcell.AttrBold != 0
	})
	// The theme has no highlight colour: the highlight is reverse video.
	if _, attr, _ := h.attrAt("hey", 0); attr&tcell.AttrReverse == 0 || attr&tcell.AttrBold == 0 {
		t.Errorf("the highlighted message is not highlighted under its styling: %b", attr)
	}
}

// openScript writes a script that records its arguments, one per line,
// to out; the file appears whole once the script is done.
func openScript(t *testing.T, out string) string {
	script := filepath.Join(t.TempDir(), "opener")
	os.WriteFile(script, []byte("#!/bin/sh\nprintf '%s\\n' \"$@\" > \""+out+".part\"\nmv \""+out+".part\" \""+out+"\"\n"), 0o755)
	return script
}

func waitFile(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.Local))
	for {
		if b, err := os.ReadFile(path); err == nil {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared", path)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func TestOpenLinks(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "argv")
	settings := config.DefaultSettings()
	settings.OpenCommand = []string{openScript(t, out), "--new-tab"}
	h := newHarnessWith(t, 120, 20, settings, nil)
	evil := "https://example.org/$(touch${IFS}" + filepath.Join(dir, "pwned") + ");id|cat&x='1'"
	h.send(chat.MessageReceived{Conv: chat.ChatWith("m@x"), From: "m@x/r", Bare: "m@x", Body: "old http://old.example/ and " + evil, Time: time.Now(), StoreID: 1},
		chat.MessageReceived{Conv: chat.ChatWith("m@x"), From: "m@x/r", Bare: "m@x", Body: "new xmpp:room@muc.example?join and https://new.example/x.", Time: time.Now(), StoreID: 2})
	h.waitFor("2:m@x")
	h.key(tcell.KeyRune, '2', tcell.ModAlt)
	h.waitFor("https://new.example/x")
	run := func(cmd string) {
		h.typeText(cmd)
		h.key(tcell.KeyEnter, 0, tcell.ModNone)
	}
	run("/open")
	if got := waitFile(t, out); got != "--new-tab\nhttps://new.example/x\n" {
		t.Fatalf("/open ran the command with %q", got)
	}
	os.Remove(out)
	// The second newest is an xmpp: URI: refused, nothing run.
	run("/open 2")
	h.waitFor("only http and https links are opened")
	// The third: a URL full of shell syntax reaches the command as one
	// argument, and no shell ever reads it.
	run("/open 3")
	want := strings.TrimRight(evil, "'") // the trailing ' is punctuation
	if got := waitFile(t, out); got != "--new-tab\n"+want+"\n" {
		t.Fatalf("/open 3 ran the command with %q, want %q", got, want)
	}
	if _, err := os.Stat(filepath.Join(dir, "pwned")); err == nil {
		t.Fatal("a shell ran the URL")
	}
	os.Remove(out)
	run("/open 9")
	h.waitFor("this conversation has 4 links")
	run("/open x")
	h.waitFor("usage: /open [N]")
	run("/open 4")
	if got := waitFile(t, out); got != "--new-tab\nhttp://old.example/\n" {
		t.Fatalf("/open 4 ran the command with %q", got)
	}
	os.Remove(out)
	// o on a selected message opens its last link.
	h.key(tcell.KeyRune, 's', tcell.ModAlt)
	h.key(tcell.KeyUp, 0, tcell.ModNone)
	h.key(tcell.KeyRune, 'o', tcell.ModNone)
	if got := waitFile(t, out); got != "--new-tab\n"+want+"\n" {
		t.Fatalf("o on the older message ran the command with %q, want %q", got, want)
	}
}

// A command that fails says so in the status line; one that cannot be
// started too.
func TestOpenCommandFailure(t *testing.T) {
	script := filepath.Join(t.TempDir(), "fails")
	os.WriteFile(script, []byte("#!/bin/sh\nexit 3\n"), 0o755)
	settings := config.DefaultSettings()
	settings.OpenCommand = []string{script}
	h := newHarnessWith(t, 120, 20, settings, nil)
	h.send(chat.MessageReceived{Conv: chat.ChatWith("m@x"), From: "m@x/r", Bare: "m@x", Body: "https://example.org/", Time: time.Now()})
	h.waitFor("2:m@x")
	h.key(tcell.KeyRune, '2', tcell.ModAlt)
	h.waitFor("https://example.org/")
	h.typeText("/open")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("open: fails: exit status 3")
	h.onUI(func() { h.app.openCommand = []string{filepath.Join(t.TempDir(), "missing")} })
	h.typeText("/open")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("open: missing:", "no such file")
}

// Hostile styling arrives and is drawn as text: 10,000 nested quotations,
// 100 KB of directives; the message after them is drawn too.
func TestHostileStylingRendersInertly(t *testing.T) {
	h := newHarness(t, 100, 20)
	conv := chat.ChatWith("m@x")
	h.send(chat.MessageReceived{Conv: conv, From: "m@x/r", Bare: "m@x", Body: strings.Repeat(">", 10000) + " *deep*", Time: time.Now()},
		chat.MessageReceived{Conv: conv, From: "m@x/r", Bare: "m@x", Body: strings.Repeat("> ", 5000) + "x\n```\n" + strings.Repeat("*_~`", 25000), Time: time.Now()},
		chat.MessageReceived{Conv: conv, From: "m@x/r", Bare: "m@x", Body: "the *end*", Time: time.Now()})
	h.waitFor("2:m@x (3)")
	h.key(tcell.KeyRune, '2', tcell.ModAlt)
	ls := h.waitFor("the *end*", "*_~`*_~`*_~`")
	if _, attr, _ := h.attrAt("end*", 0); attr&tcell.AttrBold == 0 {
		t.Errorf("the message after the hostile ones is not styled")
	}
	// The block's text is code: no directive in it styles anything.
	x, y := h.find("*_~`*_~`")
	for i := 0; i < 8; i++ {
		fg, _, attr := h.styleAt(x+i, y).Decompose()
		if attr&(tcell.AttrBold|tcell.AttrItalic|tcell.AttrStrikeThrough) != 0 || fg != theme.Code {
			t.Fatalf("a directive inside a code block styled the text: %b %v\n%s", attr, fg, strings.Join(ls, "\n"))
		}
	}
	// Scrolling back through them draws the deep quotation, as text.
	h.onUI(func() { h.app.conv.ScrollBy(1 << 20) })
	h.app.tv.QueueUpdateDraw(func() {})
	h.waitFor(">>>>>>>>>>>>>>>>>>>>")
}

// In a room: a message styled, naming our nick (marked over the styling),
// and its link opened by /open.
func TestStylingAndOpenInARoom(t *testing.T) {
	out := filepath.Join(t.TempDir(), "argv")
	settings := config.DefaultSettings()
	settings.OpenCommand = []string{openScript(t, out)}
	h := newHarnessWith(t, 120, 20, settings, nil)
	h.joinTea(occ("bob", room.Participant))
	h.send(chat.MessageReceived{Conv: chat.RoomConv(tea), From: tea + "/bob", Bare: tea, Nick: "bob", Body: "_hey ada_, ~see~ https://r.example/x", Time: time.Now()})
	h.waitFor("bob: _hey ada_, ~see~ https://r.example/x")
	if _, attr, _ := h.attrAt("hey ada", 0); attr&tcell.AttrItalic == 0 {
		t.Errorf("room message not styled: %b", attr)
	}
	if _, attr, _ := h.attrAt("ada_", 0); attr&(tcell.AttrItalic|tcell.AttrReverse) != tcell.AttrItalic|tcell.AttrReverse {
		t.Errorf("our nick is not marked over the styling: %b", attr)
	}
	if _, attr, _ := h.attrAt("see~", 0); attr&tcell.AttrStrikeThrough == 0 {
		t.Errorf("strike-through not drawn: %b", attr)
	}
	h.command("/open")
	if got := waitFile(t, out); got != "https://r.example/x\n" {
		t.Fatalf("/open in a room ran the command with %q", got)
	}
}
