package ui

import (
	"sort"
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// MaxComposerRows is the tallest the composer grows for a multi-line message.
const MaxComposerRows = 6

// Composer is the message line: a multi-line text area with readline
// keys, input history and completion. Its text is the user's own.
type Composer struct {
	*tview.TextArea
	history []string
	histPos int    // index into history while browsing; len(history) when not
	draft   string // what was typed before browsing history

	OnSubmit   func(text string)
	OnJump     func() // Ctrl+K with nothing after the cursor to delete
	OnChange   func(text string)
	OnResize   func(rows int)
	Candidates func(line string) []string // completions for the last word of line; nil for none

	completing struct {
		base    string   // the line with the word being completed cut off
		options []string // what Tab cycles through
		next    int
	}
	rows int
}

const maxHistory = 500

// NewComposer makes an empty composer.
func NewComposer() *Composer {
	c := &Composer{TextArea: tview.NewTextArea()}
	c.SetLabel("> ").SetLabelStyle(tcell.StyleDefault.Bold(true))
	c.SetTextStyle(tcell.StyleDefault.Foreground(theme.Composer).Background(theme.Background))
	c.SetPlaceholder("type a message, or /help")
	c.SetPlaceholderStyle(tcell.StyleDefault.Foreground(theme.Dim))
	c.SetWrap(true).SetWordWrap(true)
	c.rows = 1
	c.SetChangedFunc(func() {
		text := c.GetText()
		if rows := min(MaxComposerRows, strings.Count(text, "\n")+1); rows != c.rows {
			c.rows = rows
			if c.OnResize != nil {
				c.OnResize(rows)
			}
		}
		if c.OnChange != nil {
			c.OnChange(text)
		}
	})
	c.SetInputCapture(c.capture)
	return c
}

// Draw shows the whole message from its top while it fits: the text area
// scrolled while it was still one row tall.
func (c *Composer) Draw(screen tcell.Screen) {
	if c.rows < MaxComposerRows {
		c.SetOffset(0, 0)
	}
	c.TextArea.Draw(screen)
}

// Rows is the height the composer wants.
func (c *Composer) Rows() int { return c.rows }

// Clear empties the composer.
func (c *Composer) Clear() { c.SetText("", true) }

// capture turns readline keys into the text area's own and handles
// sending, history and completion.
func (c *Composer) capture(ev *tcell.EventKey) *tcell.EventKey {
	if ev.Key() != tcell.KeyTab {
		c.completing.options = nil
	}
	alt := ev.Modifiers()&tcell.ModAlt != 0
	if newlineKey(ev) {
		return tcell.NewEventKey(tcell.KeyEnter, 0, tcell.ModNone) // the text area's own newline
	}
	switch ev.Key() {
	case tcell.KeyEnter:
		text := c.GetText()
		if strings.TrimSpace(text) != "" && c.OnSubmit != nil {
			c.remember(text)
			c.OnSubmit(text)
		}
		return nil
	case tcell.KeyCtrlK:
		// Readline's delete-to-end when there is something after the
		// cursor; otherwise the key would do nothing, so it opens quick jump.
		before := c.GetText()
		c.SetInputCapture(nil) // the handler runs the capture first: avoid coming back here
		c.TextArea.InputHandler()(ev, func(tview.Primitive) {})
		c.SetInputCapture(c.capture)
		if c.GetText() == before && c.OnJump != nil {
			c.OnJump()
		}
		return nil
	case tcell.KeyCtrlB:
		return tcell.NewEventKey(tcell.KeyLeft, 0, tcell.ModNone)
	case tcell.KeyCtrlF:
		return tcell.NewEventKey(tcell.KeyRight, 0, tcell.ModNone)
	case tcell.KeyUp, tcell.KeyDown:
		if alt || ev.Modifiers()&tcell.ModShift != 0 {
			return ev
		}
		row, _, _, _ := c.GetCursor()
		lines := strings.Count(c.GetText(), "\n")
		if ev.Key() == tcell.KeyUp && row == 0 {
			c.browse(-1)
			return nil
		}
		if ev.Key() == tcell.KeyDown && row >= lines {
			c.browse(1)
			return nil
		}
	case tcell.KeyTab:
		if c.complete() {
			return nil
		}
	case tcell.KeyRune:
		if alt {
			switch ev.Rune() {
			case 'b':
				return tcell.NewEventKey(tcell.KeyLeft, 0, tcell.ModCtrl)
			case 'f':
				return tcell.NewEventKey(tcell.KeyRight, 0, tcell.ModCtrl)
			}
		}
	}
	return ev
}

// newlineKey reports Alt+Enter and Ctrl+J, which put a newline in the
// message. Terminals send Alt+Enter as ESC CR, which tcell may report as
// Alt+Ctrl+M.
func newlineKey(ev *tcell.EventKey) bool {
	mods := ev.Modifiers()
	switch {
	case ev.Key() == tcell.KeyEnter && mods&tcell.ModAlt != 0:
		return true
	case ev.Key() == tcell.KeyCtrlJ:
		return true
	case ev.Key() == tcell.KeyRune && mods&tcell.ModCtrl != 0 && (ev.Rune() == 'm' || ev.Rune() == 'j'):
		return true
	}
	return false
}

// remember adds a sent line to the history.
func (c *Composer) remember(text string) {
	if n := len(c.history); n == 0 || c.history[n-1] != text {
		c.history = append(c.history, text)
		if len(c.history) > maxHistory {
			c.history = c.history[len(c.history)-maxHistory:]
		}
	}
	c.histPos = len(c.history)
	c.draft = ""
}

// browse moves through the input history; past the newest entry it gives
// back what was being typed.
func (c *Composer) browse(delta int) {
	if c.histPos > len(c.history) {
		c.histPos = len(c.history)
	}
	pos := c.histPos + delta
	if pos < 0 || pos > len(c.history) {
		return
	}
	if c.histPos == len(c.history) {
		c.draft = c.GetText()
	}
	c.histPos = pos
	if pos == len(c.history) {
		c.SetText(c.draft, true)
	} else {
		c.SetText(c.history[pos], true)
	}
}

// complete replaces the last word with the next candidate. It reports
// false when there is nothing to complete, so Tab can do something else.
func (c *Composer) complete() bool {
	if c.completing.options == nil {
		text := c.GetText()
		if text == "" || c.Candidates == nil || strings.HasSuffix(text, " ") {
			return false
		}
		opts := c.Candidates(text)
		if len(opts) == 0 {
			return false
		}
		cut := strings.LastIndexAny(text, " \n") + 1
		c.completing.base, c.completing.options, c.completing.next = text[:cut], opts, 0
	}
	o := c.completing.options[c.completing.next%len(c.completing.options)]
	c.completing.next++
	c.SetText(c.completing.base+o, true)
	return true
}

// completions lists what the last word of line may complete to: a command
// name at the start of a command, a JID in a command's arguments, and a
// contact's name or JID in a message; case-insensitively by prefix, shortest
// first.
func completions(line string, commands, jids, names []string) []string {
	cut := strings.LastIndexAny(line, " \n") + 1
	word := strings.ToLower(line[cut:])
	if word == "" {
		return nil
	}
	var pool []string
	switch {
	case cut == 0 && strings.HasPrefix(word, "/"):
		pool = commands
	case strings.HasPrefix(line, "/"):
		pool = jids
	default:
		pool = append(append(pool, names...), jids...)
	}
	seen := map[string]bool{}
	var out []string
	for _, n := range pool {
		if strings.HasPrefix(strings.ToLower(n), word) && !seen[n] {
			seen[n] = true
			out = append(out, n)
		}
	}
	sort.Slice(out, func(i, j int) bool {
		if len(out[i]) != len(out[j]) {
			return len(out[i]) < len(out[j])
		}
		return out[i] < out[j]
	})
	if cut == 0 && strings.HasPrefix(word, "/") {
		for i := range out {
			out[i] += " "
		}
	}
	return out
}
