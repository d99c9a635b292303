package ui

import (
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gdamore/tcell/v2"
)

// notifyTimeout bounds a notify command; it is killed after that.
const notifyTimeout = 10 * time.Second

// note is one message worth telling the user about, or a question from the
// network waiting for an answer (prompt is then what it asks).
type note struct {
	account, from, name, body string
	prompt                    string
	conv                      chat.Conv // a message's conversation,
	storeID                   int64     // and its store row (0: none)
}

// notifier tells of messages that arrive in a tab not in view or while the
// terminal is not focused: the bell, the unread count in the window title,
// a desktop notification by the terminal's own escape, a command. Nothing
// here waits: escapes are written between frames on the UI goroutine and
// the command runs on its own goroutine, at most one at a time.
type notifier struct {
	cfg     config.Notify
	muted   map[string]bool // bare JIDs: from the settings, and /mute
	focused atomic.Bool     // the terminal's focus, where it reports it
	tmux    bool            // escapes must pass through tmux
	out     func() io.Writer
	beep    func()
	title   func(string)
	pending []note
	shown   string // the title last set
	run     chan []note
	report  func(string)
}

func newNotifier(cfg config.Notify) *notifier {
	n := &notifier{cfg: cfg, muted: map[string]bool{}, tmux: os.Getenv("TMUX") != "", run: make(chan []note, 1)}
	for _, j := range cfg.Mute {
		n.muted[j] = true
	}
	n.focused.Store(true)
	return n
}

// message considers a received message (a carbon of one sent to another
// of our devices too: it is news here as well); active says whether its
// tab is the one in view.
func (n *notifier) message(account string, e chat.MessageReceived, name string, active bool) {
	if e.Archived || n.muted[e.Bare] || (active && n.focused.Load()) {
		return
	}
	n.pending = append(n.pending, note{account: account, from: e.Bare, name: name, body: noteBody(e), conv: e.Conv, storeID: e.StoreID})
}

// retracted considers a message removed: if it is to be announced in
// this batch, it is announced without its text.
func (n *notifier) retracted(account string, e chat.MessageRetracted) {
	for i := range n.pending {
		if x := &n.pending[i]; e.StoreID != 0 && x.storeID == e.StoreID && x.account == account && x.conv == e.Conv {
			x.body = ""
		}
	}
}

// prompt tells of a question the network asks (a subscription request, a
// certificate to check): it waits in the list, and the user may be
// elsewhere. from is the JID asking, "" for none.
func (n *notifier) prompt(account, from, text string) {
	if from != "" && n.muted[from] {
		return
	}
	n.pending = append(n.pending, note{account: account, from: from, name: from, prompt: text})
}

// flush tells of the batch's messages, once for the batch.
func (n *notifier) flush() {
	notes := n.pending
	n.pending = nil
	if len(notes) == 0 {
		return
	}
	if n.cfg.Bell && n.beep != nil {
		n.beep()
	}
	title, body := n.text(notes)
	if n.cfg.Desktop != config.DesktopOff && n.out != nil {
		if w := n.out(); w != nil {
			io.WriteString(w, n.escape(title, body))
		}
	}
	if n.cfg.Command != "" {
		select {
		case n.run <- notes:
		default: // one is running and one waits: this batch is told by the unread count
		}
	}
}

// text is a notification's title and text; the message itself only when
// the user asked for it.
func (n *notifier) text(notes []note) (title, body string) {
	names := []string{}
	seen := map[string]bool{}
	var parts []string
	msgs := 0
	for _, x := range notes {
		if x.prompt != "" {
			parts = append(parts, x.prompt)
			continue
		}
		msgs++
		if !seen[x.from] {
			seen[x.from] = true
			names = append(names, x.name)
		}
		if n.cfg.ShowBody {
			body = x.body
		}
	}
	switch {
	case msgs == 1:
		parts = append([]string{"message from " + names[0]}, parts...)
	case msgs > 1:
		parts = append([]string{fmt.Sprintf("%d messages from %s", msgs, strings.Join(names, ", "))}, parts...)
	}
	title = "gab: " + strings.Join(parts, "; ")
	return clip(plainText(title), 200), clip(plainText(body), 400)
}

// escape is the desktop-notification escape for the configured terminal
// protocol, wrapped for tmux when gab runs inside it (tmux passes it on
// with `set -g allow-passthrough on`). Its fields are clean of controls, so
// nothing can end the sequence early; OSC 777 separates fields with ";".
func (n *notifier) escape(title, body string) string {
	var seq string
	switch n.cfg.Desktop {
	case config.DesktopOSC777:
		seq = "\x1b]777;notify;" + strings.ReplaceAll(title, ";", ",") + ";" + strings.ReplaceAll(body, ";", ",") + "\x1b\\"
	case config.DesktopOSC9:
		text := title
		if body != "" {
			text += ": " + body
		}
		seq = "\x1b]9;" + text + "\x1b\\"
	default:
		return ""
	}
	if n.tmux {
		seq = "\x1bPtmux;" + strings.ReplaceAll(seq, "\x1b", "\x1b\x1b") + "\x1b\\"
	}
	return seq
}

// setTitle shows the unread count in the window title, when it changed.
func (n *notifier) setTitle(unread int) {
	if !n.cfg.Title || n.title == nil {
		return
	}
	t := "gab"
	if unread > 0 {
		t = fmt.Sprintf("gab (%d)", unread)
	}
	if t != n.shown {
		n.shown = t
		n.title(t)
	}
}

// commands runs the notify command for each batch handed to it, one at a
// time, each bounded by notifyTimeout, until ctx ends. What it is told
// comes in environment variables, never in the command line: text from
// the network is never read by the shell.
func (n *notifier) commands(ctx context.Context) {
	for {
		var notes []note
		select {
		case notes = <-n.run:
		case <-ctx.Done():
			return
		}
		title, body := n.text(notes)
		last := notes[len(notes)-1]
		cctx, cancel := context.WithTimeout(ctx, notifyTimeout)
		cmd := exec.CommandContext(cctx, "sh", "-c", n.cfg.Command)
		cmd.Env = append(os.Environ(), "GAB_TITLE="+markupEscape(title), "GAB_BODY="+markupEscape(body),
			"GAB_FROM="+markupEscape(plainText(last.from)), "GAB_NAME="+markupEscape(plainText(last.name)),
			"GAB_ACCOUNT="+last.account, fmt.Sprintf("GAB_COUNT=%d", len(notes)))
		cmd.WaitDelay = time.Second
		out, err := cmd.CombinedOutput() // never to the terminal gab draws on
		cancel()
		if err != nil && ctx.Err() == nil && n.report != nil {
			msg := strings.TrimSpace(string(out))
			if cctx.Err() == context.DeadlineExceeded {
				msg = fmt.Sprintf("killed after %v", notifyTimeout)
			}
			n.report(fmt.Sprintf("notify command failed: %v %s", err, clip(plainText(msg), 200)))
		}
	}
}

// markupEscape makes text from the network inert for notification daemons
// that read the body as markup (the freedesktop.org specification's
// <b>, <a href>, <img>): notify-send "$GAB_TITLE" "$GAB_BODY" shows it as
// written, and a daemon without markup shows the entities, never tags.
var markupEscape = strings.NewReplacer("&", "&amp;", "<", "&lt;", ">", "&gt;").Replace

// clip shortens s to at most n runes.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	r := []rune(s)
	return string(r[:n-1]) + "…"
}

// focusScreen passes the terminal's focus reports to the notifier; tview
// has no use for them.
type focusScreen struct {
	tcell.Screen
	n *notifier
}

func (s *focusScreen) PollEvent() tcell.Event {
	ev := s.Screen.PollEvent()
	if f, ok := ev.(*tcell.EventFocus); ok {
		s.n.focused.Store(f.Focused)
	}
	return ev
}
