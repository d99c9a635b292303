package ui

import (
	"bytes"
	"context"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/roster"
	"github.com/gdamore/tcell/v2"
)

// syncBuf is a buffer written on the UI goroutine and read by the test.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) take() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.b.String()
	s.b.Reset()
	return out
}

func TestNotifications(t *testing.T) {
	settings := config.DefaultSettings()
	settings.Notify = config.Notify{Bell: true, Title: true, Desktop: config.DesktopOSC777, Mute: []string{"muted@x"}}
	var out syncBuf
	var mu sync.Mutex
	bells, title := 0, ""
	h := newHarnessWith(t, 100, 20, settings, func(a *App) {
		a.notify.tmux = false
		a.notify.out = func() io.Writer { return &out }
		a.notify.beep = func() { mu.Lock(); bells++; mu.Unlock() }
		a.notify.title = func(s string) { mu.Lock(); title = s; mu.Unlock() }
	})
	state := func() (int, string) { mu.Lock(); defer mu.Unlock(); return bells, title }
	msg := func(from, body string) chat.MessageReceived {
		return chat.MessageReceived{Conv: chat.ChatWith(from), From: from + "/r", Bare: from, Type: "chat", Body: body, Time: time.Now()}
	}

	// A message in a background tab: bell, title, desktop escape without
	// the text of the message.
	h.send(msg("bob@x", "the secret plan"))
	h.waitFor("bob@x")
	h.waitUntil("a bell", func([]string) bool { b, _ := state(); return b == 1 })
	h.onUI(func() {})
	if esc := out.take(); esc != "\x1b]777;notify;gab: message from bob@x;\x1b\\" {
		t.Errorf("escape %q", esc)
	}
	h.waitUntil("the unread count in the title", func([]string) bool { _, ti := state(); return ti == "gab (1)" })

	// Muted: counted as unread, nothing else.
	h.send(msg("muted@x", "spam"))
	h.waitUntil("the title to count the muted message", func([]string) bool { _, ti := state(); return ti == "gab (2)" })
	if b, _ := state(); b != 1 || out.take() != "" {
		t.Errorf("a muted contact notified: %d bells", b)
	}
	// Archive catch-up (perhaps read elsewhere already): silent, unread.
	a := msg("bob@x", "old")
	a.Archived = true
	h.send(a)
	h.waitUntil("it counted as unread", func([]string) bool { _, ti := state(); return ti == "gab (3)" })
	if b, _ := state(); b != 1 || out.take() != "" {
		t.Errorf("archive catch-up notified: %d bells", b)
	}
	// Our own message from another device: shown, not announced.
	h.send(chat.CarbonSent{Conv: chat.ChatWith("bob@x"), To: "bob@x", Body: "mine", Time: time.Now()})
	// A contact's message that went to another of our devices: announced.
	c := msg("bob@x", "to the phone")
	c.Carbon = true
	h.send(c)
	h.waitUntil("a bell for the carbon", func([]string) bool { b, _ := state(); return b == 2 })
	h.onUI(func() {}) // the batch's escape is written by now
	out.take()

	// In the tab in view while the terminal has focus: no notification;
	// without focus (as the terminal reports it): notified.
	h.key(tcell.KeyCtrlN, 0, tcell.ModCtrl)
	h.waitUntil("bob's tab in view", func([]string) bool { _, ti := state(); return ti == "gab (1)" })
	h.send(msg("bob@x", "seen at once"))
	h.waitFor("seen at once")
	if b, _ := state(); b != 2 {
		t.Errorf("notified of a message in view: %d bells", b)
	}
	h.app.notify.focused.Store(false)
	h.send(msg("bob@x", "while away"))
	h.waitUntil("a bell for an unfocused terminal", func([]string) bool { b, _ := state(); return b == 3 })
	h.onUI(func() {})
	out.take()

	// Hostile names cannot end the escape or add fields; with show_body
	// the text comes too, cleaned the same way.
	h.onUI(func() { h.app.notify.cfg.ShowBody = true })
	h.send(msg("x;y@x", "hi\x1b]2;owned\x07; there"))
	h.waitUntil("a fourth bell", func([]string) bool { b, _ := state(); return b == 4 })
	var esc string
	h.waitUntil("the fourth escape", func([]string) bool { esc += out.take(); return strings.HasSuffix(esc, "\x1b\\") })
	if strings.Count(esc, "\x1b") != 2 || strings.Count(esc, "\x07") != 0 || strings.Count(esc, ";") != 3 ||
		!strings.HasSuffix(esc, "hi\uFFFD]2,owned\uFFFD, there\x1b\\") {
		t.Errorf("escape %q", esc)
	}
}

func TestNotifyEscapeThroughTmux(t *testing.T) {
	n := newNotifier(config.Notify{Desktop: config.DesktopOSC9})
	n.tmux = true
	if got := n.escape("gab: message from bob", ""); got != "\x1bPtmux;\x1b\x1b]9;gab: message from bob\x1b\x1b\\\x1b\\" {
		t.Errorf("%q", got)
	}
}

func TestNotifyCommand(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "out")
	n := newNotifier(config.Notify{Command: `printf '%s|%s|%s|%s' "$GAB_TITLE" "$GAB_BODY" "$GAB_FROM" "$GAB_COUNT" > ` + file + `; exit 3`})
	reports := make(chan string, 1)
	n.report = func(s string) { reports <- s }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.commands(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	n.pending = []note{{account: "me", from: "bob@x", name: "Bob $(rm -rf /)", body: "secret"}}
	n.flush()
	select {
	case r := <-reports:
		if !strings.Contains(r, "exit status 3") {
			t.Errorf("report %q", r)
		}
	case <-time.After(xmpptest.Timeout(xmpptest.Local)):
		t.Fatal("the command's failure was not reported")
	}
	got, _ := os.ReadFile(file)
	if string(got) != "gab: message from Bob $(rm -rf /)||bob@x|1" {
		t.Errorf("the command was told %q", got)
	}
}

func TestAutoAway(t *testing.T) {
	settings := config.DefaultSettings()
	settings.Away = config.Away{After: 150 * time.Millisecond, XAAfter: 400 * time.Millisecond, Message: "idle"}
	h := newHarnessWith(t, 100, 20, settings, nil)
	presences := func() []chat.SetPresence {
		var out []chat.SetPresence
		for _, c := range h.client.commands() {
			if p, ok := c.(chat.SetPresence); ok {
				out = append(out, p)
			}
		}
		return out
	}
	h.waitUntil("away, then extended away", func([]string) bool { return len(presences()) >= 2 })
	ps := presences()
	if ps[0].Show != roster.Away || ps[0].Status != "idle" || ps[0].Idle.IsZero() || ps[1].Show != roster.XA || !ps[1].Idle.Equal(ps[0].Idle) {
		t.Fatalf("presences %+v", ps)
	}
	h.typeText("x")
	h.waitUntil("back", func([]string) bool { return len(presences()) >= 3 })
	if p := presences()[2]; p.Show != roster.Online || !p.Idle.IsZero() {
		t.Fatalf("back as %+v", p)
	}
	h.waitUntil("away again after another quiet spell", func([]string) bool { return len(presences()) >= 4 })
}

// styleAt is the style of the cell at x, y.
func (h *harness) styleAt(x, y int) tcell.Style {
	var st tcell.Style
	h.onUI(func() {
		cells, w, _ := h.screen.GetContents()
		st = cells[y*w+x].Style
	})
	return st
}

func TestThemeAndNoColor(t *testing.T) {
	settings := config.DefaultSettings()
	settings.Theme = map[string]string{"status_bar": "#102030", "status_text": "color226"}
	h := newHarnessWith(t, 100, 20, settings, nil)
	fg, bg, _ := h.styleAt(5, 19).Decompose()
	if bg != tcell.NewRGBColor(0x10, 0x20, 0x30) || fg != tcell.PaletteColor(226) {
		t.Errorf("status line drawn %v on %v", fg, bg)
	}

	t.Setenv("NO_COLOR", "1")
	h = newHarnessWith(t, 100, 20, settings, nil)
	h.send(chat.MessageReceived{Conv: chat.ChatWith("bob@x"), From: "bob@x/r", Bare: "bob@x", Type: "chat", Body: "plain", Time: time.Now()})
	h.waitFor("2:bob@x")
	h.key(tcell.KeyCtrlN, 0, tcell.ModCtrl)
	h.waitFor("bob@x: plain")
	st := h.styleAt(5, 19)
	fg, bg, attrs := st.Decompose()
	if fg != tcell.ColorDefault || bg != tcell.ColorDefault || attrs&tcell.AttrReverse == 0 {
		t.Errorf("NO_COLOR status line: %v on %v, attrs %v", fg, bg, attrs)
	}
	checked := false
	for y, l := range h.lines() {
		if x := strings.Index(l, "bob@x: plain"); x >= 0 {
			checked = true
			if fg, _, _ := h.styleAt(len([]rune(l[:x])), y).Decompose(); fg != tcell.ColorDefault {
				t.Errorf("NO_COLOR: a name in colour %v", fg)
			}
		}
	}
	if !checked {
		t.Error("the message line was not found")
	}
}

func TestReboundKeys(t *testing.T) {
	settings := config.DefaultSettings()
	settings.Keys = map[string][]string{"quick_jump": {"F3"}, "next_tab": {"Alt+l"}}
	h := newHarnessWith(t, 100, 20, settings, nil)
	h.key(tcell.KeyF3, 0, tcell.ModNone)
	h.waitFor("Quick jump")
	h.key(tcell.KeyEscape, 0, tcell.ModNone)
	h.waitUntil("the dialog to close", func(ls []string) bool { return !strings.Contains(strings.Join(ls, "\n"), "Quick jump") })
	// Ctrl+K no longer jumps, in an empty composer or at the end of text.
	h.key(tcell.KeyCtrlK, 0, tcell.ModCtrl)
	h.typeText("abc")
	h.key(tcell.KeyCtrlK, 0, tcell.ModCtrl)
	h.typeText("d") // keys are handled in order: once d shows, so was Ctrl+K
	h.waitFor("> abcd")
	if strings.Contains(strings.Join(h.lines(), "\n"), "Quick jump") {
		t.Fatal("Ctrl+K still opens quick jump after quick_jump was bound to F3")
	}
	h.send(chat.MessageReceived{Conv: chat.ChatWith("bob@x"), From: "bob@x/r", Bare: "bob@x", Type: "chat", Body: "over here", Time: time.Now()})
	h.waitFor("2:bob@x")
	h.key(tcell.KeyRune, 'l', tcell.ModAlt)
	h.waitFor("bob@x: over here")
	h.key(tcell.KeyCtrlN, 0, tcell.ModCtrl) // unbound now: nothing happens
	h.typeText("z")                         // keys are handled in order: once z shows, so was Ctrl+N
	h.waitFor("bob@x: over here", "> abcdz")
	var active int
	h.onUI(func() { active = h.app.State().Active })
	if active != 1 {
		t.Fatal("Ctrl+N still switches tabs after next_tab was bound to Alt+l")
	}
}

// Every element gab.toml may colour is one the interface draws with.
func TestThemeElementsAllUsed(t *testing.T) {
	var th Theme
	fields := th.fields()
	for _, e := range config.ThemeElements {
		if fields[e] == nil {
			t.Errorf("theme element %q has no colour in the interface", e)
		}
	}
	if len(fields) != len(config.ThemeElements) {
		t.Errorf("the interface has %d theme colours, config knows %d elements", len(fields), len(config.ThemeElements))
	}
}

// Notification daemons read a notify-send body as markup: what a peer
// writes must reach the command with <, > and & escaped, or a link or an
// image (fetched by the daemon) appears in the notification.
func TestNotifyCommandEscapesMarkup(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "out")
	n := newNotifier(config.Notify{ShowBody: true, Command: `printf '%s|%s|%s|%s' "$GAB_TITLE" "$GAB_BODY" "$GAB_FROM" "$GAB_NAME" > ` + file + `.tmp && mv ` + file + `.tmp ` + file + `; exit 3`})
	reports := make(chan string, 1)
	n.report = func(s string) { reports <- s }
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { n.commands(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	n.pending = []note{{account: "me", from: "b<i>ob@x", name: "<b>Bob</b> & co",
		body: `<a href="https://evil.example/">click</a><img src="https://evil.example/t.png"/> &amp;`}}
	n.flush()
	select {
	case <-reports: // the command ran (and exited 3, after writing)
	case <-time.After(xmpptest.Timeout(xmpptest.Local)):
		t.Fatal("the command did not run")
	}
	got, _ := os.ReadFile(file)
	want := "gab: message from &lt;b&gt;Bob&lt;/b&gt; &amp; co|" +
		`&lt;a href="https://evil.example/"&gt;click&lt;/a&gt;&lt;img src="https://evil.example/t.png"/&gt; &amp;amp;|` +
		"b&lt;i&gt;ob@x|&lt;b&gt;Bob&lt;/b&gt; &amp; co"
	if string(got) != want {
		t.Errorf("the command was told\n %q\nwant\n %q", got, want)
	}
}

// A message removed in the batch that brought it (sent and retracted at
// once, or moderated straight away) is announced without its text, even
// with show_body: the notification may not keep what the screen does not.
func TestNotificationDropsRemovedText(t *testing.T) {
	n := newNotifier(config.Notify{ShowBody: true})
	conv := chat.ChatWith("bob@x")
	n.message("a", chat.MessageReceived{Conv: conv, Bare: "bob@x", Body: "the secret", StoreID: 7}, "bob@x", false)
	n.message("a", chat.MessageReceived{Conv: chat.ChatWith("carol@x"), Bare: "carol@x", Body: "hello", StoreID: 8}, "carol@x", false)
	n.retracted("a", chat.MessageRetracted{Conv: conv, StoreID: 7})
	n.retracted("a", chat.MessageRetracted{Conv: chat.ChatWith("carol@x"), StoreID: 7}) // another conversation's row 7: none here
	for _, x := range n.pending {
		if strings.Contains(x.body, "the secret") {
			t.Errorf("a removed message's text is still to be announced: %+v", x)
		}
	}
	if title, body := n.text(n.pending); !strings.Contains(title, "2 messages") || body != "hello" {
		t.Errorf("notification %q / %q", title, body)
	}
}
