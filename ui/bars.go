package ui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/room"
	"github.com/gab-chat/gab/roster"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// TabBar draws one label per conversation; peer names are remote text.
type TabBar struct {
	*tview.Box
	state  *State
	OnPick func(i int)
	spans  [][2]int // x range of each tab as last drawn; -1 when hidden
	first  int      // the first tab shown when they do not all fit
}

// NewTabBar shows state's tabs.
func NewTabBar(state *State) *TabBar {
	return &TabBar{Box: tview.NewBox(), state: state}
}

func (t *TabBar) title(i int, c *Conversation) string {
	if c.IsConsole() {
		return fmt.Sprintf("%d:console", i+1)
	}
	s := fmt.Sprintf("%d:%s", i+1, t.state.convName(c))
	if len(t.state.Accounts) > 1 {
		s += "@" + c.Account
	}
	return s
}

// maxTabTitle is the most cells a tab's name takes; a longer name is
// shortened with "…".
const maxTabTitle = 20

// cut cleans remote text to one line (plainText) of at most n cells, cut
// without a mark: for a value the user edits and keeps, where "…" would
// become part of it.
func cut(s string, n int) string {
	s = plainText(s)
	if width(s) <= n {
		return s
	}
	var b strings.Builder
	used := 0
	for _, c := range clusters(s) {
		if used+c.width > n {
			break
		}
		b.WriteString(string(c.runes))
		used += c.width
	}
	return strings.TrimSpace(b.String())
}

// shorten cleans remote text to one line (plainText) of at most n cells,
// ending with "…" when it is cut.
func shorten(s string, n int) string {
	s = plainText(s)
	if width(s) <= n {
		return s
	}
	var b strings.Builder
	used := 0
	for _, c := range clusters(s) {
		if used+c.width > n-1 {
			break
		}
		b.WriteString(string(c.runes))
		used += c.width
	}
	return b.String() + "…"
}

// Draw draws the tabs, the active one reversed, unread ones bold with a
// count. When they do not all fit, the bar scrolls to keep the active tab
// in view, with ‹ and › where tabs are hidden.
func (t *TabBar) Draw(screen tcell.Screen) {
	t.Box.DrawForSubclass(screen, t)
	x, y, w, _ := t.GetInnerRect()
	base := tcell.StyleDefault.Foreground(theme.Tab).Background(theme.Background)
	fill(screen, x, y, w, base)
	labels := make([]string, len(t.state.Convs))
	widths := make([]int, len(labels))
	total := 0
	for i, c := range t.state.Convs {
		label := " " + shorten(t.title(i, c), max(4, min(maxTabTitle, w/2)))
		if c.Unread > 0 {
			label += fmt.Sprintf(" (%d)", c.Unread)
		}
		labels[i] = label + " "
		widths[i] = width(labels[i])
		total += widths[i]
	}
	// The first tab shown: the earliest from which the active tab still
	// fits, leaving a cell for each scroll mark.
	first := 0
	if total > w {
		first = min(t.first, t.state.Active)
		for first < t.state.Active {
			used := 1 // ‹
			for i := first; i <= t.state.Active; i++ {
				used += widths[i]
			}
			if t.state.Active < len(labels)-1 {
				used++ // ›
			}
			if used <= w {
				break
			}
			first++
		}
	}
	t.first = first
	col := x
	t.spans = t.spans[:0]
	if first > 0 {
		screen.SetContent(col, y, '‹', nil, base.Bold(true))
		col++
	}
	for range first {
		t.spans = append(t.spans, [2]int{-1, -1})
	}
	for i := first; i < len(labels); i++ {
		c := t.state.Convs[i]
		style := base
		switch {
		case i == t.state.Active:
			if theme.TabActive != tcell.ColorDefault {
				style = style.Background(theme.TabActive)
			} else {
				style = style.Reverse(true)
			}
		case c.Unread > 0:
			style = style.Bold(true).Foreground(theme.TabUnread)
		}
		room := x + w - col
		if i < len(labels)-1 {
			room-- // keep a cell for ›
		}
		if widths[i] > room {
			if col < x+w {
				screen.SetContent(x+w-1, y, '›', nil, base.Bold(true))
			}
			break
		}
		start := col
		col += drawText(screen, col, y, room, labels[i], style)
		t.spans = append(t.spans, [2]int{start, col})
	}
}

// MouseHandler picks the tab clicked.
func (t *TabBar) MouseHandler() func(tview.MouseAction, *tcell.EventMouse, func(tview.Primitive)) (bool, tview.Primitive) {
	return t.WrapMouseHandler(func(action tview.MouseAction, ev *tcell.EventMouse, _ func(tview.Primitive)) (bool, tview.Primitive) {
		if (action != tview.MouseLeftClick && action != tview.MouseLeftDoubleClick) || !t.InRect(ev.Position()) {
			return false, nil
		}
		mx, _ := ev.Position()
		for i, s := range t.spans {
			if mx >= s[0] && mx < s[1] && t.OnPick != nil {
				t.OnPick(i)
				return true, nil
			}
		}
		return false, nil
	})
}

// StatusLine shows the account, its connection and presence, who is typing
// in the active tab, and the last message or error.
type StatusLine struct {
	*tview.Box
	state    *State
	Hint     string                 // shown when there is nothing else to say
	Selected func() *roster.Contact // the contact selected in the list, when it has focus
	Pending  func() string          // what waits for the user's answer, "" for nothing
	Upload   func(width int) string // the upload under way in at most width cells, "" for none
	// Question is a question waiting for a key and the text it is about
	// ("" for none). While it waits, the line shows only the account and
	// the question, the text quoted in what room is left: the key that
	// answers it must show, even at 80 columns.
	Question func() (text, quote string)
}

// NewStatusLine shows state's status.
func NewStatusLine(state *State) *StatusLine {
	return &StatusLine{Box: tview.NewBox(), state: state}
}

// Draw draws the line.
func (s *StatusLine) Draw(screen tcell.Screen) {
	x, y, w, _ := s.GetInnerRect()
	base := theme.status()
	fill(screen, x, y, w, base)
	c := s.state.Current()
	var acct *Account
	if c.Account != "" {
		acct = s.state.Account(c.Account)
	} else if len(s.state.Accounts) > 0 {
		acct = s.state.Accounts[0]
	}
	var question, quote string
	if s.Question != nil {
		question, quote = s.Question()
	}
	col := x
	if acct != nil {
		mark, color := showMark(acct.Show)
		if acct.Conn != "online" {
			mark, color = '○', theme.Offline
		}
		col += drawText(screen, col, y, w, " ", base)
		screen.SetContent(col, y, mark, nil, base.Foreground(color))
		col += 2
		if question != "" {
			col += drawText(screen, col, y, x+w-col, acct.Name+" ", base)
			s.drawQuestion(screen, col, y, x+w-col, question, quote)
			return
		}
		col += drawText(screen, col, y, x+w-col, fmt.Sprintf("%s [%s] %s ", acct.Name, acct.connText(), acct.Show), base)
		if text := catchUpText(acct.CatchUp); text != "" {
			col += drawText(screen, col, y, x+w-col, "│ "+text+" ", base)
		}
	}
	if c.Conv.Kind == chat.KindRoom {
		if r := s.state.Room(c.Account, c.Conv.JID); r != nil {
			if text := typingText(r.TypingNicks()); text != "" {
				col += drawText(screen, col, y, x+w-col, "│ "+text+" ", base.Foreground(theme.Unread).Bold(true))
			}
		}
	} else if c.PeerState == "composing" || c.PeerState == "paused" {
		name := s.state.convName(c)
		verb := " is typing…"
		if c.PeerState == "paused" {
			verb = " stopped typing"
		}
		col += drawText(screen, col, y, x+w-col, "│ "+shorten(name, maxTabTitle)+verb+" ", base.Foreground(theme.Unread).Bold(true))
	}
	if s.Pending != nil {
		if p := s.Pending(); p != "" {
			col += drawText(screen, col, y, x+w-col, "│ "+p+" ", base.Foreground(theme.Unread).Bold(true))
		}
	}
	if s.Upload != nil {
		if u := s.Upload(x + w - col - 3); u != "" { // "│ " before, " " after
			col += drawText(screen, col, y, x+w-col, "│ "+u+" ", base.Foreground(theme.Unread).Bold(true))
		}
	}
	msg, style := s.Hint, base
	if s.Selected != nil {
		if c := s.Selected(); c != nil {
			msg, style = contactStatus(c), base
		}
	}
	if s.state.Status != "" {
		msg = s.state.Status
		if s.state.StatusErr {
			style = base.Foreground(theme.Error).Bold(true)
		}
	}
	if msg != "" {
		drawText(screen, col, y, x+w-col, "│ "+msg, style)
	}
}

// drawQuestion draws a question waiting for its answer in w cells, then
// as much of the first line of the message it is about as fits.
func (s *StatusLine) drawQuestion(screen tcell.Screen, x, y, w int, question, quote string) {
	text := "│ " + question
	if room := min(w-width(text)-width(" · “”"), quoteCells); quote != "" && room >= 2 {
		text += " · “" + shorten(quote, room) + "”"
	}
	drawText(screen, x, y, w, text, theme.status().Foreground(theme.Error).Bold(true))
}

// catchUpText says how far the archive catch-up stands, "" when none is
// under way: "catching up: 12,400 of ~50,000", without the total when
// the server gave no count.
func catchUpText(p chat.CatchUpProgress) string {
	if p.Done || (p.Read == 0 && p.Total == 0) {
		return ""
	}
	text := "catching up: " + thousands(p.Read)
	if p.Total > 0 {
		text += " of ~" + thousands(max(p.Total, p.Read))
	}
	return text
}

// thousands writes n with a comma between each group of three digits.
func thousands(n int) string {
	s := strconv.Itoa(n)
	if n < 0 {
		return "-" + thousands(-n)
	}
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

// typingText says who is typing in a room, each nick cleaned and
// shortened (they are remote text).
func typingText(nicks []string) string {
	if len(nicks) == 0 {
		return ""
	}
	short := make([]string, 0, 2)
	for i := 0; i < len(nicks) && i < 2; i++ {
		short = append(short, shorten(nicks[i], maxTabTitle))
	}
	if len(nicks) > 2 {
		short = append(short, nicks[2:]...) // only counted
	}
	return room.TypingText(short)
}

// connText is the account's connection state as the status line shows
// it: with "· saved list" while the contacts shown are the ones saved by
// the last run, not yet confirmed by the server.
func (a *Account) connText() string {
	if a.Cached {
		return a.Conn + " · saved list"
	}
	return a.Conn
}
