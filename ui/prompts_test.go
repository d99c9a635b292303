package ui

import (
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"os"
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

// screenText is the whole screen as one string.
func (h *harness) screenText() string { return strings.Join(h.lines(), "\n") }

// gone waits until none of texts is on the screen.
func (h *harness) gone(texts ...string) {
	h.t.Helper()
	h.waitUntil("the screen to lose "+strings.Join(texts, ", "), func(ls []string) bool {
		all := strings.Join(ls, "\n")
		for _, s := range texts {
			if strings.Contains(all, s) {
				return false
			}
		}
		return true
	})
}

// consoleHas waits for a console line containing s.
func (h *harness) consoleHas(s string) {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		var found bool
		h.onUI(func() {
			for _, l := range h.app.State().Console().Lines {
				if strings.Contains(l.Body, s) {
					found = true
				}
			}
		})
		if found {
			return
		}
		if time.Now().After(deadline) {
			var body []string
			h.onUI(func() {
				for _, l := range h.app.State().Console().Lines {
					body = append(body, l.Body)
				}
			})
			h.t.Fatalf("the console never said %q:\n%s", s, strings.Join(body, "\n"))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// noCommand fails if the fake client was sent a command like the ones
// accepting something.
func (h *harness) noAccepting() {
	h.t.Helper()
	for _, c := range h.client.commands() {
		switch c.(type) {
		case chat.ApproveSubscription, chat.AddContact, chat.Subscribe, chat.TrustCertificate:
			h.t.Fatalf("something was accepted: %#v", c)
		}
	}
}

// A subscription request that arrives while the user types is a notice:
// the rest of the line and Enter go to the conversation, no dialog opens,
// nothing is approved.
func TestRequestDoesNotInterruptTyping(t *testing.T) {
	h := newHarness(t, 100, 24)
	h.typeText("/msg bob@x")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("2:bob@x")
	h.typeText("half a li")
	h.waitFor("> half a li")
	h.send(chat.SubscriptionRequested{From: "mallory@x", Nick: "Your Bank"})
	h.waitFor("? mallory@x", "1 request · F4 to answer")
	h.typeText("ne")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitCommands(chat.SendMessage{Conv: chat.ChatWith("bob@x"), Body: "half a line"})
	h.noAccepting()
	if s := h.screenText(); strings.Contains(s, "Subscription request") || strings.Contains(s, "Waiting for your answer") {
		t.Fatalf("a dialog opened:\n%s", s)
	}
	h.consoleHas("mallory@x asks to see your presence")
}

// Requests are a list the user opens with F4 and works through: nothing
// is approved by Enter alone, every answer leaves a console line.
func TestRequestListAndAnswers(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.send(chat.SubscriptionRequested{From: "carol@x", Nick: "[red]Carol\u202e\nSecond line", Status: "it's me"},
		chat.SubscriptionRequested{From: "dave@x"})
	h.waitFor("2 requests · F4 to answer")
	h.consoleHas("carol@x asks to see your presence")
	h.consoleHas("dave@x asks to see your presence")
	h.key(tcell.KeyF4, 0, tcell.ModNone)
	h.waitFor("Waiting for your answer", "carol@x", "dave@x")
	h.key(tcell.KeyEnter, 0, tcell.ModNone) // the oldest: carol
	// The JID and the nickname they sent, apart; the nickname on one line,
	// cleaned.
	h.waitFor("Subscription request", "JID:", "carol@x", "Suggests:", "[red]Carol\uFFFD Second line", "“it's me”")
	// Enter alone: Later.
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.consoleHas("carol@x: answer later")
	h.gone("Subscription request")
	h.waitFor("Waiting for your answer")
	h.noAccepting()
	// Open it again and approve: Tab, Tab, Enter.
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("Subscription request", "carol@x")
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.consoleHas("approved carol@x")
	h.waitFor("Waiting for your answer", "dave@x", "1 request · F4 to answer")
	// Dave: Tab to Deny.
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("Subscription request", "dave@x")
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.consoleHas("denied dave@x")
	h.gone("Waiting for your answer", "Subscription request", "· F4 to answer")
	h.waitCommands(chat.AddContact{JID: "carol@x", Name: "[red]Carol\uFFFD Second line"}, chat.ApproveSubscription{JID: "carol@x"},
		chat.Subscribe{JID: "carol@x"}, chat.DenySubscription{JID: "dave@x"})
	// Focus is back in the composer.
	h.typeText("still typing")
	h.waitFor("> still typing")
}

// A request leaves the list when its sender withdraws it.
func TestRequestWithdrawn(t *testing.T) {
	h := newHarness(t, 100, 24)
	h.send(chat.SubscriptionRequested{From: "erin@x"})
	h.waitFor("? erin@x", "1 request · F4 to answer")
	h.send(chat.SubscriptionChanged{From: "erin@x", Type: "unsubscribe"})
	h.consoleHas("erin@x withdrew the request")
	h.gone("? erin@x", "· F4 to answer")
}

// Enter on the ? contact opens its request; Esc leaves it for later, with
// a console line.
func TestRequestFromRoster(t *testing.T) {
	h := newHarness(t, 100, 24)
	h.send(chat.SubscriptionRequested{From: "erin@x"})
	h.waitFor("? erin@x")
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("Subscription request", "erin@x")
	h.key(tcell.KeyEscape, 0, tcell.ModNone)
	h.gone("Subscription request")
	h.consoleHas("erin@x: answer later")
	h.waitFor("? erin@x", "1 request · F4 to answer")
	// /requests opens the list too; /accept answers from the composer.
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	h.typeText("/requests")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("Waiting for your answer", "erin@x")
	h.key(tcell.KeyEscape, 0, tcell.ModNone)
	h.gone("Waiting for your answer")
	h.typeText("/accept erin@x")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.consoleHas("approved erin@x")
	h.gone("· F4 to answer")
	h.waitCommands(chat.ApproveSubscription{JID: "erin@x"}, chat.Subscribe{JID: "erin@x"})
}

func testCert(t *testing.T) *x509.Certificate {
	t.Helper()
	der, err := os.ReadFile("testdata/selfsigned.der")
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

// An untrusted certificate after a reconnect is a notice too; trusting it
// takes the fingerprint's first four characters, typed.
func TestCertificateNoticeAndDeliberateTrust(t *testing.T) {
	h := newHarness(t, 110, 30)
	cert := testCert(t)
	h.typeText("typing a")
	h.send(chat.Disconnected{Err: errors.New("TLS: x509: certificate signed by unknown authority"), Final: true, Untrusted: cert})
	h.waitFor("1 certificate · F4 to answer")
	h.typeText("nd going on")
	h.waitFor("> typing and going on")
	h.key(tcell.KeyEnter, 0, tcell.ModNone) // in the console: not sent, not trusted
	h.noAccepting()
	if strings.Contains(h.screenText(), "Untrusted certificate") {
		t.Fatal("the certificate dialog opened by itself")
	}
	h.consoleHas("signed by no authority you trust")
	h.key(tcell.KeyCtrlU, 0, tcell.ModNone)
	h.typeText("/trust")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	fp := chat.Fingerprint(cert)
	h.waitFor("Untrusted certificate", "Subject:  CN=[red]evil.example", "SHA-256:  "+fp[:47], "          "+fp[48:])
	// Enter alone does not trust, nor does Enter on Trust with nothing typed.
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("type the first four characters")
	h.noAccepting()
	// Wrong characters: refused.
	h.key(tcell.KeyTab, 0, tcell.ModNone) // back round to the field
	h.typeText("0000")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("does not match")
	h.noAccepting()
	// The right ones, then Enter on Trust.
	h.key(tcell.KeyBacktab, 0, tcell.ModNone)
	for i := 0; i < 4; i++ {
		h.key(tcell.KeyBackspace2, 0, tcell.ModNone)
	}
	h.typeText(strings.ToLower(fp[:2] + fp[3:5]))
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.gone("Untrusted certificate")
	h.consoleHas("trusting the certificate")
	cmds := h.client.commands()
	if tc, ok := cmds[len(cmds)-1].(chat.TrustCertificate); !ok || string(tc.DER) != string(cert.Raw) {
		t.Fatalf("commands: %#v", cmds)
	}
	h.gone("· F4 to answer")
}

// cellStyle is the style of the screen cell at x, y.
func (h *harness) cellStyle(x, y int) tcell.Style {
	var st tcell.Style
	h.onUI(func() {
		cells, w, _ := h.screen.GetContents()
		st = cells[y*w+x].Style
	})
	return st
}

// styleOf is the style of the first cell of the last s on the screen.
func (h *harness) styleOf(s string) tcell.Style {
	h.t.Helper()
	ls := h.lines()
	for y := len(ls) - 1; y >= 0; y-- {
		if i := strings.LastIndex(ls[y], s); i >= 0 {
			return h.cellStyle(len([]rune(ls[y][:i])), y)
		}
	}
	h.t.Fatalf("%q is not on the screen", s)
	return tcell.StyleDefault
}

// Focus shows in every dialog, whatever the theme: the focused button or
// field is drawn unlike the others, and an empty field is visible.
func TestFocusIsVisible(t *testing.T) {
	for _, tc := range []struct {
		name    string
		theme   map[string]string
		noColor bool
	}{
		{"default theme", nil, false},
		{"light theme", map[string]string{"background": "white", "text": "black", "selected": "silver", "border": "gray"}, false},
		{"NO_COLOR", nil, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.noColor {
				t.Setenv("NO_COLOR", "1")
			}
			settings := config.DefaultSettings()
			settings.Theme = tc.theme
			h := newHarnessWith(t, 100, 24, settings, nil)
			h.send(chat.RosterReset{Items: []roster.Item{{JID: "ann@x", Name: "Ann", Subscription: "both"}}})
			h.waitFor("Ann")
			// The add dialog: the JID field has focus, Name and Group do not.
			h.key(tcell.KeyTab, 0, tcell.ModNone)
			h.key(tcell.KeyRune, 'a', tcell.ModAlt) // Alt+A: add a contact
			h.waitFor("Add contact")
			x, y := h.find("JID")
			focused := h.cellStyle(x+len("JID")+2, y)
			x, y = h.find("Name")
			blank := h.cellStyle(x+len("Name")+3, y)
			if focused == blank {
				t.Errorf("the focused field looks like the others: %v", focused)
			}
			if _, _, attrs := blank.Decompose(); attrs&tcell.AttrUnderline == 0 {
				t.Errorf("an empty field is invisible: %v", blank)
			}
			// Tab to the buttons: the focused one stands out.
			h.key(tcell.KeyTab, 0, tcell.ModNone)
			h.key(tcell.KeyTab, 0, tcell.ModNone)
			h.key(tcell.KeyTab, 0, tcell.ModNone)
			h.waitUntil("the Add button to take focus", func([]string) bool { return h.styleOf("Add ") != h.styleOf("Cancel") })
			add, cancel := h.styleOf("Add "), h.styleOf("Cancel")
			h.key(tcell.KeyTab, 0, tcell.ModNone)
			h.waitUntil("Cancel to take focus", func([]string) bool { return h.styleOf("Cancel") == add })
			if h.styleOf("Add ") != cancel {
				t.Errorf("unfocused buttons differ: %v, %v", h.styleOf("Add "), cancel)
			}
			h.key(tcell.KeyEnter, 0, tcell.ModNone)
			h.gone("Add contact")
		})
	}
}

// snapScreen keeps a copy of the cells after each Show, for a test to read
// while the application goes on drawing.
type snapScreen struct {
	tcell.SimulationScreen
	mu    sync.Mutex
	cells []tcell.SimCell
	w     int
}

func (s *snapScreen) Show() {
	s.SimulationScreen.Show()
	cells, w, _ := s.SimulationScreen.GetContents()
	s.mu.Lock()
	s.cells, s.w = append(s.cells[:0], cells...), w
	s.mu.Unlock()
}

// find returns the first cell of text on the last screen shown, and the
// screen; x is -1 when text is not there.
func (s *snapScreen) find(text string) (x, y int, cells []tcell.SimCell, w int) {
	s.mu.Lock()
	cells, w = append([]tcell.SimCell(nil), s.cells...), s.w
	s.mu.Unlock()
	for y := 0; w > 0 && y < len(cells)/w; y++ {
		var b strings.Builder
		for x := 0; x < w; x++ {
			b.WriteString(string(cells[y*w+x].Runes))
		}
		if i := strings.Index(b.String(), text); i >= 0 {
			return len([]rune(b.String()[:i])), y, cells, w
		}
	}
	return -1, -1, cells, w
}

// First-run's fields are visible and show focus.
func TestFirstRunFieldsVisible(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	scr := &snapScreen{SimulationScreen: tcell.NewSimulationScreen("UTF-8")}
	done := make(chan error, 1)
	go func() { _, err := FirstRun(t.TempDir(), scr); done <- err }()
	const server = "Server (host:port, optional)"
	deadline := time.Now().Add(5 * time.Second)
	for {
		if x, _, _, _ := scr.find(server); x >= 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("first-run form not drawn")
		}
		time.Sleep(10 * time.Millisecond)
	}
	// Field cells start after the longest label and a space.
	lx, _, _, _ := scr.find(server)
	fx := lx + len(server) + 1
	_, jy, _, _ := scr.find("JID")
	_, py, cells, w := scr.find("Password")
	jid, pw := cells[jy*w+fx+2].Style, cells[py*w+fx+2].Style
	if _, _, a := pw.Decompose(); a&tcell.AttrUnderline == 0 {
		t.Errorf("the password field is invisible: %v", pw)
	}
	if jid == pw {
		t.Errorf("the focused JID field looks like the others: %v", jid)
	}
	scr.InjectKey(tcell.KeyEscape, 0, tcell.ModNone)
	select {
	case err := <-done:
		if err != ErrSetupCancelled {
			t.Fatal(err)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("first run did not end")
	}
}

// Long remote names are shortened with "…" and never break the dialog.
func TestLongNamesInDialogs(t *testing.T) {
	h := newHarness(t, 100, 30)
	long := strings.Repeat("verylongname", 9) + "xy" // 110 characters
	h.send(chat.SubscriptionRequested{From: long + "@x", Nick: strings.Repeat("Nick ", 22), Status: strings.Repeat("status ", 40)})
	h.waitFor("1 request · F4 to answer")
	h.key(tcell.KeyF4, 0, tcell.ModNone)
	h.waitFor("Waiting for your answer", "…")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	ls := h.waitFor("Subscription request", "…", "Later")
	// Every row of the dialog keeps both its borders, at the same columns.
	top, left, right := -1, -1, -1
	for y, l := range ls {
		// A focused frame is drawn in double lines.
		if i := strings.IndexAny(l, "┌╔"); i >= 0 && strings.Contains(l, "Subscription request") {
			top, left = y, len([]rune(l[:i]))
			right = left + len([]rune(strings.TrimRight(l[i:], " "))) - 1
			break
		}
	}
	side := func(r rune) bool { return r == '│' || r == '║' }
	if top < 0 {
		t.Fatalf("no dialog frame:\n%s", strings.Join(ls, "\n"))
	}
	for y := top + 1; y < len(ls); y++ {
		r := []rune(ls[y])
		if r[left] == '└' || r[left] == '╚' {
			if r[right] != '┘' && r[right] != '╝' {
				t.Fatalf("bottom border broken at row %d:\n%s", y, strings.Join(ls, "\n"))
			}
			return
		}
		if !side(r[left]) || !side(r[right]) {
			t.Fatalf("border broken at row %d:\n%s", y, strings.Join(ls, "\n"))
		}
	}
	t.Fatalf("no bottom border:\n%s", strings.Join(ls, "\n"))
}

// A request or a certificate waiting is told like a message: bell and a
// desktop notification, naming who asks, even while the terminal has the
// focus (it waits in a list the user may not look at).
func TestPromptsNotify(t *testing.T) {
	settings := config.DefaultSettings()
	settings.Notify = config.Notify{Bell: true, Desktop: config.DesktopOSC777}
	var out syncBuf
	var mu sync.Mutex
	bells := 0
	h := newHarnessWith(t, 100, 20, settings, func(a *App) {
		a.notify.tmux = false
		a.notify.out = func() io.Writer { return &out }
		a.notify.beep = func() { mu.Lock(); bells++; mu.Unlock() }
	})
	rang := func(n int) func([]string) bool {
		return func([]string) bool { mu.Lock(); defer mu.Unlock(); return bells == n }
	}
	h.send(chat.SubscriptionRequested{From: "zed@x", Nick: "Zed"})
	h.waitUntil("a bell", rang(1))
	h.onUI(func() {})
	if esc := out.take(); esc != "\x1b]777;notify;gab: zed@x asks to see your presence;\x1b\\" {
		t.Errorf("escape %q", esc)
	}
	h.send(chat.Disconnected{Err: errors.New("TLS: unknown authority"), Final: true, Untrusted: testCert(t)})
	h.waitUntil("a second bell", rang(2))
	h.onUI(func() {})
	if esc := out.take(); esc != "\x1b]777;notify;gab: account me: a certificate to check;\x1b\\" {
		t.Errorf("escape %q", esc)
	}
}

func TestShorten(t *testing.T) {
	for _, tc := range []struct {
		in   string
		n    int
		want string
	}{
		{"Carol", 10, "Carol"},
		{"0123456789", 10, "0123456789"},
		{"0123456789A", 10, "012345678…"},
		{"two\nlines\x1b[2J", 40, "two lines\uFFFD[2J"},
		{"日本語日本語", 5, "日本…"},
	} {
		if got := shorten(tc.in, tc.n); got != tc.want {
			t.Errorf("shorten(%q, %d) = %q, want %q", tc.in, tc.n, got, tc.want)
		}
	}
	long := strings.Repeat("a", 100) + "@evil.example"
	got := shortenMiddle(long, 31)
	if width(got) > 31 || !strings.HasPrefix(got, "aaaa") || !strings.HasSuffix(got, "@evil.example") || !strings.Contains(got, "…") {
		t.Errorf("shortenMiddle: %q", got)
	}
	if got := shortenMiddle("bob@x", 31); got != "bob@x" {
		t.Errorf("shortenMiddle cut a short JID: %q", got)
	}
}

// The open list follows what arrives and what is withdrawn, without
// taking the focus from where it is.
func TestRequestListFollowsArrivals(t *testing.T) {
	h := newHarness(t, 100, 24)
	h.send(chat.SubscriptionRequested{From: "erin@x"})
	h.waitFor("1 request · F4 to answer")
	h.key(tcell.KeyF4, 0, tcell.ModNone)
	h.waitFor("Waiting for your answer", "request  erin@x")
	h.send(chat.SubscriptionRequested{From: "finn@x"})
	h.waitFor("request  erin@x", "request  finn@x", "2 requests · F4 to answer")
	h.send(chat.SubscriptionChanged{From: "erin@x", Type: "unsubscribe"})
	h.gone("request  erin@x")
	h.waitFor("request  finn@x")
	// The selection is on finn now: Enter opens his request.
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("Subscription request", "JID:      finn@x")
}

// Ctrl+Q leaves first-run setup, as it quits gab everywhere; the whole
// introduction is shown at 80×24.
func TestFirstRunCtrlQ(t *testing.T) {
	scr := &snapScreen{SimulationScreen: tcell.NewSimulationScreen("UTF-8")}
	scr.SetSize(80, 24)
	done := make(chan error, 1)
	go func() { _, err := FirstRun(t.TempDir(), scr); done <- err }()
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.Local))
	for {
		if x, _, _, _ := scr.find("file."); x >= 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("first-run's introduction not drawn whole")
		}
		time.Sleep(10 * time.Millisecond)
	}
	scr.InjectKey(tcell.KeyCtrlQ, 0, tcell.ModCtrl)
	select {
	case err := <-done:
		if err != ErrSetupCancelled {
			t.Fatal(err)
		}
	case <-time.After(xmpptest.Timeout(xmpptest.Local)):
		t.Fatal("Ctrl+Q did not end first-run setup")
	}
}

// A long suggested name goes into the name field cut, but never with a
// "…" that would be stored as part of the name.
func TestLongSuggestedNameHasNoEllipsis(t *testing.T) {
	h := newHarness(t, 100, 30)
	long := strings.Repeat("Carolina Maria ", 7) + "Long-Name"
	h.send(chat.SubscriptionRequested{From: "carol@x", Nick: long})
	h.waitFor("1 request · F4 to answer")
	h.key(tcell.KeyF4, 0, tcell.ModNone)
	h.waitFor("Waiting for your answer")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("Subscription request")
	h.key(tcell.KeyTab, 0, tcell.ModNone) // from Later: Deny,
	h.key(tcell.KeyTab, 0, tcell.ModNone) // Approve and add back
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitUntil("the contact added", func([]string) bool {
		for _, c := range h.client.commands() {
			if _, ok := c.(chat.AddContact); ok {
				return true
			}
		}
		return false
	})
	for _, c := range h.client.commands() {
		if ac, ok := c.(chat.AddContact); ok {
			if strings.Contains(ac.Name, "…") || !strings.HasPrefix(long, ac.Name) || ac.Name == "" {
				t.Fatalf("stored name %q", ac.Name)
			}
		}
	}
}

// In the smallest window gab draws in, a request still shows who asks.
func TestRequestShowsTheJIDInASmallWindow(t *testing.T) {
	h := newHarness(t, 40, 10)
	h.send(chat.SubscriptionRequested{From: "aaron@x", Nick: "Aaron", Status: "hello there, it is me, let me in please"})
	h.waitFor("F4")
	h.key(tcell.KeyF4, 0, tcell.ModNone)
	h.waitFor("aaron@x")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("Subscription request", "JID:      aaron@x")
}

// A flood of requests from strangers is answered in one deliberate step:
// D in the list denies them all, and leaves a contact's own request.
func TestDenyAllFromStrangers(t *testing.T) {
	h := newHarness(t, 100, 30)
	h.send(chat.RosterReset{Items: []roster.Item{{JID: "ann@x", Name: "Ann", Subscription: "to"}}})
	h.waitFor("Ann")
	var evs []chat.Event
	for i := range 200 {
		evs = append(evs, chat.SubscriptionRequested{From: fmt.Sprintf("spam%03d@evil", i)})
	}
	evs = append(evs, chat.SubscriptionRequested{From: "ann@x"})
	h.send(evs...)
	h.waitFor("201 requests · F4 to answer")
	h.key(tcell.KeyF4, 0, tcell.ModNone)
	h.waitFor("Waiting for your answer", "D denies strangers")
	h.key(tcell.KeyEnter, 0, tcell.ModNone) // Enter opens one; it denies nothing
	h.waitFor("Subscription request", "spam000@evil")
	h.key(tcell.KeyEscape, 0, tcell.ModNone)
	h.waitFor("Waiting for your answer")
	h.key(tcell.KeyRune, 'D', tcell.ModNone)
	h.consoleHas("denied 200 requests from people not in your contacts")
	h.waitFor("1 request · F4 to answer", "request  ann@x")
	denied := 0
	for _, c := range h.client.commands() {
		switch c := c.(type) {
		case chat.DenySubscription:
			if c.JID == "ann@x" {
				t.Fatal("a contact's request was denied as a stranger's")
			}
			denied++
		case chat.ApproveSubscription:
			t.Fatalf("approved: %#v", c)
		}
	}
	if denied != 200 {
		t.Fatalf("%d denied, want 200", denied)
	}
}

// With ui.requests_from_strangers = "ignore", a stranger's request is
// neither listed nor announced; a contact's still is.
func TestIgnoreRequestsFromStrangers(t *testing.T) {
	settings := config.DefaultSettings()
	settings.StrangerRequests = config.StrangersIgnore
	h := newHarnessWith(t, 100, 30, settings, nil)
	h.send(chat.RosterReset{Items: []roster.Item{{JID: "ann@x", Name: "Ann", Subscription: "to"}}})
	h.waitFor("Ann")
	h.send(chat.SubscriptionRequested{From: "spam@evil"}, chat.SubscriptionRequested{From: "ann@x"})
	// Ann's request comes after the stranger's: once it is shown, the
	// stranger's has been dealt with.
	h.waitFor("1 request · F4 to answer")
	if strings.Contains(h.screenText(), "spam@evil") {
		t.Fatalf("a stranger's request was shown:\n%s", h.screenText())
	}
	for _, l := range h.app.state.Console().Lines {
		if strings.Contains(l.Body, "spam@evil") {
			t.Fatalf("console: %q", l.Body)
		}
	}
}
