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
	"github.com/rivo/uniseg"
)

// fakeClient records commands instead of talking to a server.
type fakeClient struct {
	mu   sync.Mutex
	cmds []chat.Command
}

func (f *fakeClient) Do(c chat.Command) uint64 {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.cmds = append(f.cmds, c)
	return uint64(len(f.cmds))
}

func (f *fakeClient) commands() []chat.Command {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]chat.Command(nil), f.cmds...)
}

type harness struct {
	t      *testing.T
	screen tcell.SimulationScreen
	app    *App
	events chan chat.Event
	client *fakeClient
	done   chan struct{} // closed when the app has stopped
}

func newHarness(t *testing.T, w, h int) *harness {
	t.Helper()
	return newHarnessWith(t, w, h, config.DefaultSettings(), nil)
}

// newHarnessWith runs the interface with settings; prep, if not nil, sees
// the App before it runs.
func newHarnessWith(t *testing.T, w, h int, settings config.Settings, prep func(*App)) *harness {
	t.Helper()
	return newHarnessOpts(t, w, h, Options{Settings: settings}, prep)
}

// newHarnessOpts runs the interface with opts (its screen and version are
// the harness's).
func newHarnessOpts(t *testing.T, w, h int, opts Options, prep func(*App)) *harness {
	t.Helper()
	hs := startHarness(t, w, h, opts, prep)
	hs.send(chat.Connected{JID: "me@x/gab", Mechanism: "SCRAM-SHA-1"})
	// Said in the console, which may not be the tab shown (tabs reopened).
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.Local))
	for online := false; !online; time.Sleep(10 * time.Millisecond) {
		hs.onUI(func() { online = hs.app.state.Account("me").Conn == "online" })
		if !online && time.Now().After(deadline) {
			t.Fatal("the account never showed as online")
		}
	}
	return hs
}

// startHarness runs the interface for one account "me" on a simulation
// screen of w×h, before any event from the network.
func startHarness(t *testing.T, w, h int, opts Options, prep func(*App)) *harness {
	t.Helper()
	scr := tcell.NewSimulationScreen("UTF-8")
	fc := &fakeClient{}
	opts.Screen, opts.Version = scr, "test"
	app := New([]*Account{{Name: "me", Client: fc, Show: roster.Online}}, opts)
	if prep != nil {
		prep(app)
	}
	done := make(chan struct{})
	hs := &harness{t: t, screen: scr, app: app, events: make(chan chat.Event, 100), client: fc, done: done}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { app.Run(ctx, map[string]<-chan chat.Event{"me": hs.events}); close(done) }()
	t.Cleanup(func() {
		cancel()
		select {
		case <-done:
		case <-time.After(xmpptest.Timeout(xmpptest.Local)):
			t.Error("app did not stop")
		}
	})
	hs.onUI(func() { scr.SetSize(w, h) }) // tview initialises the screen at 80x25
	return hs
}

func (h *harness) send(evs ...chat.Event) {
	for _, e := range evs {
		h.events <- e
	}
}

// lines returns the screen as text, one string per row; the cell after a
// wide character is skipped as a terminal would.
func (h *harness) lines() []string {
	var cells []tcell.SimCell
	var w, hgt int
	h.onUI(func() {
		c, cw, ch := h.screen.GetContents()
		cells, w, hgt = append([]tcell.SimCell(nil), c...), cw, ch
	})
	out := make([]string, hgt)
	for y := 0; y < hgt; y++ {
		var b strings.Builder
		for x := 0; x < w; x++ {
			c := cells[y*w+x]
			s := string(c.Runes)
			if s == "" {
				s = " "
			}
			b.WriteString(s)
			if uniseg.StringWidth(s) == 2 {
				x++
			}
		}
		out[y] = b.String()
	}
	return out
}

func (h *harness) waitFor(texts ...string) []string {
	h.t.Helper()
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.Local))
	for {
		ls := h.lines()
		all := strings.Join(ls, "\n")
		ok := true
		for _, s := range texts {
			if !strings.Contains(all, s) {
				ok = false
			}
		}
		if ok {
			return ls
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("screen never showed %q:\n%s", texts, all)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func (h *harness) waitUntil(what string, ok func([]string) bool) {
	h.t.Helper()
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.Local))
	for {
		ls := h.lines()
		if ok(ls) {
			return
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("waited in vain for %s:\n%s", what, strings.Join(ls, "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// onUI runs f on the UI goroutine: the simulation screen's cells may only
// be read there, between draws.
func (h *harness) onUI(f func()) {
	done := make(chan struct{})
	h.app.tv.QueueUpdate(func() { f(); close(done) })
	select {
	case <-done:
	case <-time.After(xmpptest.Timeout(xmpptest.Local)):
		h.t.Fatal("UI goroutine did not answer")
	}
}

func (h *harness) key(k tcell.Key, r rune, mod tcell.ModMask) {
	h.screen.InjectKey(k, r, mod)
}

func (h *harness) typeText(s string) {
	for _, r := range s {
		h.screen.InjectKey(tcell.KeyRune, r, tcell.ModNone)
	}
}

func TestRosterRenderingAndSorting(t *testing.T) {
	h := newHarness(t, 100, 20)
	h.send(chat.RosterReset{Items: []roster.Item{
		{JID: "zoe@x", Name: "Zoe", Subscription: "both", Groups: []string{"Friends"}},
		{JID: "adam@x", Name: "Adam", Subscription: "both", Groups: []string{"Friends"}},
		{JID: "carl@x", Name: "Carl", Subscription: "both", Groups: []string{"Friends"}},
	}},
		chat.PresenceChanged{Bare: "zoe@x", Resource: "r", Available: true, Show: roster.Chat},
		chat.PresenceChanged{Bare: "carl@x", Resource: "r", Available: true, Show: roster.Away},
		chat.SubscriptionRequested{From: "new@x"},
	)
	ls := h.waitFor("Zoe", "Adam", "Carl", "new@x")
	row := func(s string) int {
		for i, l := range ls {
			if strings.Contains(l, s) {
				return i
			}
		}
		return -1
	}
	if !(row("Zoe") < row("Carl") && row("Carl") < row("Adam")) {
		t.Fatalf("not sorted by presence then name:\n%s", strings.Join(ls, "\n"))
	}
	if !strings.Contains(ls[row("Zoe")], "●") || !strings.Contains(ls[row("Adam")], "○") || !strings.Contains(ls[row("new@x")], "?") {
		t.Fatalf("presence marks wrong:\n%s", strings.Join(ls, "\n"))
	}
}

func TestRemoteTextIsInert(t *testing.T) {
	h := newHarness(t, 120, 20)
	evil := "[red]red[-] [:::https://evil]click[:::-] \u009b31m \x1b[2J \u202Eesrever"
	h.send(chat.RosterReset{Items: []roster.Item{{JID: "m@x", Name: "[yellow]Boss\u202E", Subscription: "both"}}},
		chat.MessageReceived{Conv: chat.ChatWith("m@x"), From: "m@x/r", Bare: "m@x", Body: evil, Time: time.Now()})
	h.waitFor("2:[yellow]Boss")
	h.key(tcell.KeyRune, '2', tcell.ModAlt)
	ls := h.waitFor("[red]red[-] [:::https://evil]click[:::-]", "[yellow]Boss\uFFFD")
	all := strings.Join(ls, "\n")
	for _, bad := range []string{"\u009b", "\x1b", "\u202E"} {
		if strings.Contains(all, bad) {
			t.Fatalf("control %q reached the screen:\n%s", bad, all)
		}
	}
	if !strings.Contains(all, "\uFFFD31m \uFFFD[2J \uFFFDesrever") {
		t.Fatalf("controls not shown as replacements:\n%s", all)
	}
	// No cell took a colour from the text: every "red" cell is default.
	var cells []tcell.SimCell
	var w int
	h.onUI(func() {
		c, cw, _ := h.screen.GetContents()
		cells, w = append([]tcell.SimCell(nil), c...), cw
	})
	for i, c := range cells {
		if string(c.Runes) == "r" {
			fg, _, _ := c.Style.Decompose()
			if fg == tcell.ColorRed {
				t.Fatalf("cell %d,%d turned red", i%w, i/w)
			}
		}
	}
}

func TestWideCharacterLayout(t *testing.T) {
	h := newHarness(t, 60, 12)
	h.send(chat.MessageReceived{Conv: chat.ChatWith("a@x"), From: "a@x/r", Bare: "a@x", Body: "日本語のテキストはここで折り返されるべきです 👩‍👩‍👧 e\u0301", Time: time.Now()})
	h.waitFor("2:a@x (1)")
	h.key(tcell.KeyRune, '2', tcell.ModAlt)
	ls := h.waitFor("日本語", "👩‍👩‍👧")
	for _, l := range ls {
		if uniseg.StringWidth(l) > 60 {
			t.Fatalf("line wider than the screen: %q", l)
		}
	}
}

func TestTabsUnreadAndTyping(t *testing.T) {
	h := newHarness(t, 100, 16)
	h.send(chat.RosterReset{Items: []roster.Item{{JID: "bob@x", Name: "Bob", Subscription: "both"}}},
		chat.MessageReceived{Conv: chat.ChatWith("bob@x"), From: "bob@x/r", Bare: "bob@x", Body: "one", Time: time.Now()},
		chat.MessageReceived{Conv: chat.ChatWith("bob@x"), From: "bob@x/r", Bare: "bob@x", Body: "two", Time: time.Now()})
	h.waitFor("2:Bob (2)")
	h.key(tcell.KeyCtrlN, 0, tcell.ModNone)
	h.waitFor("Bob: two")
	h.send(chat.ChatStateChanged{Conv: chat.ChatWith("bob@x"), Bare: "bob@x", State: chat.StateComposing})
	h.waitFor("Bob is typing…")
	h.typeText("hi bob")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.Local))
	for {
		var sent, composing bool
		for _, c := range h.client.commands() {
			switch v := c.(type) {
			case chat.SendMessage:
				sent = sent || (v.Conv == chat.ChatWith("bob@x") && v.Body == "hi bob")
			case chat.SendChatState:
				composing = composing || v.State == chat.StateComposing
			}
		}
		if sent && composing {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("commands: %#v", h.client.commands())
		}
		time.Sleep(10 * time.Millisecond)
	}
	h.send(chat.MessageSent{Conv: chat.ChatWith("bob@x"), To: "bob@x", Body: "hi bob", Time: time.Now()})
	h.waitFor("me: hi bob")
	h.key(tcell.KeyCtrlW, 0, tcell.ModNone)
	h.waitUntil("the tab to close", func(ls []string) bool { return !strings.Contains(ls[0], "Bob") })
	cmds := h.client.commands()
	if last, ok := cmds[len(cmds)-1].(chat.SendChatState); !ok || last.State != chat.StateGone {
		t.Fatalf("closing did not send gone: %#v", cmds[len(cmds)-1])
	}
}

func TestCommandsAndErrors(t *testing.T) {
	h := newHarness(t, 120, 16)
	h.typeText("/frobnicate")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("unknown command /frobnicate")
	h.typeText("/status sleepy")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor(`unknown status "sleepy"`)
	h.typeText("/accept carol@x")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.typeText("/msg dave@x hello dave")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("2:dave@x")
	want := []chat.Command{
		chat.ApproveSubscription{JID: "carol@x"},
		chat.Subscribe{JID: "carol@x"},
		chat.SendMessage{Conv: chat.ChatWith("dave@x"), Body: "hello dave"},
	}
	var got []chat.Command
	for _, c := range h.client.commands() {
		if !background(c) {
			got = append(got, c)
		}
	}
	if len(got) != len(want) {
		t.Fatalf("commands %#v", got)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("command %d = %#v, want %#v", i, got[i], want[i])
		}
	}
	// F1 shows help; Esc closes it and focus returns to the composer.
	h.key(tcell.KeyF1, 0, tcell.ModNone)
	h.waitFor("gab help", "Ctrl+K")
	h.key(tcell.KeyEscape, 0, tcell.ModNone)
	h.waitUntil("help to close", func(ls []string) bool { return !strings.Contains(strings.Join(ls, "\n"), "gab help") })
	h.typeText("back in the composer")
	h.waitFor("> back in the composer")
}
