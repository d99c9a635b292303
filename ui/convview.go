package ui

import (
	"strings"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/room"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// row is one screen line of a conversation: a prefix (time and sender) and
// a piece of the body, already wrapped; or a separator.
type row struct {
	time   string
	sender []cluster
	color  tcell.Color
	body   []cluster
	kind   LineKind
	indent int
	sep    string // a day separator or the new-messages marker instead of a message
	marker bool
	hl     bool // part of the highlighted line
	// mention: the first row of a room message that names our nick
	mention bool
	id      int64   // the store row of the line the row belongs to
	part    rowPart // body, or a row around it (msgrows.go)
}

// ConvView draws the active conversation cell by cell. Message bodies and
// sender names are remote text: they are split into grapheme clusters and
// drawn as characters, so markup and escape sequences in them are inert.
// Each line is wrapped once per width and kept; drawing walks back from the
// newest line only as far as the screen shows, so a long history or a flood
// costs what is visible, not what is stored.
type ConvView struct {
	*tview.Box
	state      *State
	timeFormat string
	atTop      bool // the last draw showed the oldest line loaded
	OnTop      func()
	// Styling draws messages with XEP-0393 message styling (ui.styling);
	// without it their text is plain. Links are links either way.
	Styling bool
	// Selected is the store row of the message selected to act on (0:
	// none); it shows while the view has the focus.
	Selected func() int64
	// Banner, when it says something, takes the view's last row: what
	// the composer's text will answer or react to.
	Banner func() string
	// OnPaste takes a paste made while the view has the focus.
	OnPaste func(text string)
}

// NewConvView shows state's active conversation.
func NewConvView(state *State, timeFormat string) *ConvView {
	return &ConvView{Box: tview.NewBox(), state: state, timeFormat: timeFormat, Styling: true}
}

const dayFormat = "Monday 2 January 2006"

// maxSender is the most cells a sender's name takes before a message.
const maxSender = 24

// lineRows wraps one line of a conversation of kind to width w, reusing
// the last result for w.
func (v *ConvView) lineRows(l *Line, w int, kind chat.Kind) []row {
	sig := extrasSig(l)
	if l.wrapped != nil && l.wrapW == w && l.wrapX == sig {
		return l.wrapped
	}
	ts := l.Time.Local().Format(v.timeFormat)
	var sender []cluster
	color := tcell.ColorDefault
	switch l.Kind {
	case LineIn, LineOut:
		edited := ""
		if l.Edited {
			edited = " (edited)"
		}
		// A long name is shortened, so the message keeps its room.
		mark := ""
		if l.Kind == LineOut {
			mark = deliveryMark(l.State, kind)
		}
		sender = clusters(omemoMark(l) + shorten(l.Sender, max(8, min(maxSender, w/4))) + mark + edited + ": ")
		color = nameColor(l.SenderKey)
		if theme.NoColor {
			color = tcell.ColorDefault
		}
	case LineError:
		sender = clusters("! ")
		color = theme.Error
	case LineInfo:
		sender = clusters("- ")
		color = theme.Dim
	}
	prefix := width(ts) + 1
	for _, c := range sender {
		prefix += c.width
	}
	indent := prefix
	if indent > w/2 {
		indent = 2
	}
	rows := []row{{time: ts, sender: sender, color: color, kind: l.Kind, mention: l.Mention}}
	// A newline in a message is a line break; every other control
	// character is drawn as a replacement (see cleanRune). Where our nick
	// is named (Spans, offsets in Body), the clusters are marked. A
	// message's links and styling are the clusters' too; a removed
	// message's tombstone has neither.
	text, spans, bodyPart := l.Body, l.Spans, partBody
	if l.Retracted != nil {
		text, spans, bodyPart = tombstone(l.Retracted), nil, partTombstone
	}
	if hidden := hideKeys(text); hidden != text {
		text, spans = hidden, nil // an aesgcm link's key is never drawn
	}
	rows[0].part = bodyPart
	var attrs []styleAttr
	var links []link
	if (l.Kind == LineIn || l.Kind == LineOut) && l.Retracted == nil {
		links = findLinks(text)
		if v.Styling {
			attrs = styleBody(text, links)
		}
	}
	off := 0
	for i, para := range strings.Split(text, "\n") {
		start := off
		off += len(para) + 1
		para = strings.TrimSuffix(para, "\r")
		for len(links) > 0 && links[0].end <= start {
			links = links[1:] // those of earlier lines
		}
		body := styledClusters(para, start, spans, attrs, links)
		// A quoted line's prefix (its > marks) starts each of its rows.
		quote, body := quotePrefix(body, max(1, w-indent)/2)
		if i == 0 && w-prefix >= 8 {
			lines := wrap(body, max(1, w-prefix-cellsOf(quote)))
			rows[0].body = withPrefix(quote, lines[0])
			body = nil
			if len(lines) > 1 {
				body = joinClusters(lines[1:])
			}
			if len(body) == 0 {
				continue
			}
		}
		for _, part := range wrapQuoted(quote, body, max(1, w-indent)) {
			rows = append(rows, row{body: part, kind: l.Kind, indent: indent})
		}
	}
	for i := range rows[1:] {
		rows[1+i].part = bodyPart
	}
	rows = aroundRows(l, rows, w, indent)
	for i := range rows {
		rows[i].hl, rows[i].id = l.Highlight, l.StoreID
	}
	l.wrapped, l.wrapW, l.wrapX = rows, w, sig
	return rows
}

// deliveryMark tells how far a message we sent in a conversation of kind
// has got: on its way until the server confirms it, or failed. In a room
// a message is there once the room sends it back to us (the client then
// says DeliveryReceived): until then it is "sending", whatever our server
// said, and it has no marks of receipt beyond.
func deliveryMark(state string, kind chat.Kind) string {
	if kind == chat.KindRoom {
		switch state {
		case chat.DeliveryFailed:
			return " (not delivered)"
		case chat.DeliveryReceived, chat.DeliveryDisplayed:
			return ""
		}
		return " (sending)"
	}
	switch state {
	case chat.DeliveryPending, chat.DeliveryUnacked:
		return " (sending)"
	case chat.DeliveryFailed:
		return " (not delivered)"
	case chat.DeliveryReceived:
		return " ✓"
	case chat.DeliveryDisplayed:
		return " ✓✓"
	}
	return ""
}

// quotePrefix splits a quoted line's clusters into its quotation prefix
// and the rest; a prefix wider than most (w cells) stays with the rest,
// wrapped like text.
func quotePrefix(cs []cluster, most int) (prefix, rest []cluster) {
	n, cells := 0, 0
	for n < len(cs) && cs[n].attr&stQuoteMark != 0 {
		cells += cs[n].width
		n++
	}
	if n == 0 || cells > most {
		return nil, cs
	}
	return cs[:n], cs[n:]
}

// wrapQuoted wraps cs to w cells, each line starting with prefix.
func wrapQuoted(prefix, cs []cluster, w int) [][]cluster {
	lines := wrap(cs, max(1, w-cellsOf(prefix)))
	for i, l := range lines {
		lines[i] = withPrefix(prefix, l)
	}
	return lines
}

// withPrefix is prefix and then l, in a new slice when prefix is not
// empty.
func withPrefix(prefix, l []cluster) []cluster {
	if len(prefix) == 0 {
		return l
	}
	return append(append(make([]cluster, 0, len(prefix)+len(l)), prefix...), l...)
}

// cellsOf is the cells cs takes.
func cellsOf(cs []cluster) int {
	n := 0
	for _, c := range cs {
		n += c.width
	}
	return n
}

// joinClusters puts wrapped lines back together with a space between them,
// to rewrap the rest of a message at another width.
func joinClusters(lines [][]cluster) []cluster {
	var out []cluster
	for i, l := range lines {
		if i > 0 {
			out = append(out, cluster{runes: []rune{' '}, width: 1, space: true})
		}
		out = append(out, l...)
	}
	return out
}

// visibleRows returns up to need rows ending at the newest line, oldest
// first, and whether they reach back to the first line.
func (v *ConvView) visibleRows(c *Conversation, w, need int) ([]row, bool) {
	var rev []row // newest first
	for i := len(c.Lines) - 1; i >= 0; i-- {
		rs := v.lineRows(&c.Lines[i], w, c.Conv.Kind)
		for j := len(rs) - 1; j >= 0; j-- {
			rev = append(rev, rs[j])
		}
		if i == c.Mark {
			rev = append(rev, row{sep: "new messages", marker: true})
		}
		day := c.Lines[i].Time.Local().Format(dayFormat)
		if i == 0 || c.Lines[i-1].Time.Local().Format(dayFormat) != day {
			rev = append(rev, row{sep: day})
		}
		if len(rev) >= need {
			break
		}
	}
	all := len(rev) < need
	out := make([]row, len(rev))
	for i, r := range rev {
		out[len(rev)-1-i] = r
	}
	return out, all
}

// Draw draws the visible rows, newest at the bottom.
func (v *ConvView) Draw(screen tcell.Screen) {
	v.Box.DrawForSubclass(screen, v)
	x, y, w, h := v.GetInnerRect()
	if w <= 0 || h <= 0 {
		return
	}
	c := v.state.Current()
	if c.Conv.Kind == chat.KindRoom {
		v.drawHeader(screen, c, x, y, w)
		y, h = y+1, h-1
		if h <= 0 {
			return
		}
	}
	if v.Banner != nil {
		if text := v.Banner(); text != "" && h > 1 {
			h--
			// Bold and underlined, not reversed: reverse video is the
			// selected message's.
			style := tcell.StyleDefault.Foreground(theme.Text).Background(theme.Background).Bold(true)
			fill(screen, x, y+h, w, style)
			drawText(screen, x, y+h, w, "↱ "+text, style.Underline(true))
		}
	}
	sel := v.selected()
	if c.Focus != 0 {
		v.bringIntoView(c, w, h)
	}
	if sel != 0 {
		v.keepInView(c, sel, w, h)
	}
	rows, all := v.visibleRows(c, w, c.Scroll+h)
	if all {
		c.Scroll = max(0, min(c.Scroll, len(rows)-h))
	}
	v.atTop = all
	end := len(rows) - c.Scroll
	start := max(0, end-h)
	line := y + h - (end - start)
	base := tcell.StyleDefault.Foreground(theme.Text).Background(theme.Background)
	for _, r := range rows[start:end] {
		if r.sep != "" {
			sepStyle := base.Foreground(theme.Dim)
			if r.marker {
				sepStyle = base.Foreground(theme.Error)
			}
			label := " " + r.sep + " "
			pad := max(0, (w-width(label))/2)
			for i := 0; i < w; i++ {
				screen.SetContent(x+i, line, '─', nil, sepStyle)
			}
			drawText(screen, x+pad, line, w-pad, label, sepStyle)
			line++
			continue
		}
		bodyStyle := base
		if r.hl {
			if theme.Highlight != tcell.ColorDefault {
				bodyStyle = bodyStyle.Background(theme.Highlight)
			} else {
				bodyStyle = bodyStyle.Reverse(true)
			}
		}
		switch r.kind {
		case LineError:
			bodyStyle = base.Foreground(theme.Error)
		case LineInfo:
			bodyStyle = base.Foreground(theme.Dim)
		}
		switch r.part {
		case partQuote, partReactions:
			bodyStyle = base.Foreground(theme.Dim)
		case partTombstone:
			bodyStyle = base.Foreground(theme.Dim).Italic(true)
		}
		// The selected message: every row of it in reverse video, whole
		// width, which shows without colour too.
		selected := sel != 0 && r.id == sel
		rev := func(st tcell.Style) tcell.Style {
			if selected {
				return st.Reverse(true)
			}
			return st
		}
		if selected {
			fill(screen, x, line, w, rev(base))
		}
		col := x
		if r.time != "" {
			timeStyle := base.Foreground(theme.Dim)
			if r.mention {
				timeStyle = base.Foreground(theme.Unread).Bold(true).Reverse(true)
			}
			col += drawText(screen, col, line, w, r.time, rev(timeStyle)) + 1
			col += drawClusters(screen, col, line, x+w-col, r.sender, rev(base.Foreground(r.color).Bold(true)))
		} else {
			col += r.indent
		}
		drawClusters(screen, col, line, x+w-col, r.body, rev(bodyStyle))
		line++
	}
	if c.Scroll > 0 {
		drawText(screen, x+w-12, y, 12, "↑ scrolled", base.Reverse(true))
	}
}

// bringIntoView scrolls so that the line with store row c.Focus sits in
// the middle of the view.
func (v *ConvView) bringIntoView(c *Conversation, w, h int) {
	after := 0
	for i := len(c.Lines) - 1; i >= 0; i-- {
		if c.Lines[i].StoreID == c.Focus {
			c.Scroll = max(0, after-h/2)
			break
		}
		after += len(v.lineRows(&c.Lines[i], w, c.Conv.Kind))
	}
	c.Focus = 0
}

// selected is the store row of the selected message, while the view has
// the focus; 0 for none.
func (v *ConvView) selected() int64 {
	if v.Selected == nil || !v.HasFocus() {
		return 0
	}
	return v.Selected()
}

// keepInView scrolls as little as it takes for every row of the line
// with store row id to show (its first rows, when it is taller than the
// view). Rows between lines (day separators, the new-messages marker)
// count as visibleRows counts them.
func (v *ConvView) keepInView(c *Conversation, id int64, w, h int) {
	after := 0
	for i := len(c.Lines) - 1; i >= 0; i-- {
		n := len(v.lineRows(&c.Lines[i], w, c.Conv.Kind))
		if c.Lines[i].StoreID == id {
			c.Scroll = max(after+n-h, min(c.Scroll, after))
			return
		}
		after += n
		if i == c.Mark {
			after++
		}
		if i == 0 || c.Lines[i-1].Time.Local().Format(dayFormat) != c.Lines[i].Time.Local().Format(dayFormat) {
			after++
		}
	}
}

// AtTop reports whether the last draw reached the oldest line loaded.
func (v *ConvView) AtTop() bool { return v.atTop }

// ScrollBy moves the view by delta rows (positive is back in time). Draw
// clamps it to what there is.
func (v *ConvView) ScrollBy(delta int) {
	c := v.state.Current()
	c.Scroll = max(0, min(c.Scroll+delta, 1<<30))
}

// PageRows is how far a page scroll moves.
func (v *ConvView) PageRows() int {
	_, _, _, h := v.GetInnerRect()
	return max(1, h-1)
}

// PasteHandler hands a paste (the view has the focus while a message is
// selected) to OnPaste: pasted text is never taken for keys, nor lost.
func (v *ConvView) PasteHandler() func(string, func(tview.Primitive)) {
	return v.WrapPasteHandler(func(text string, _ func(tview.Primitive)) {
		if v.OnPaste != nil {
			v.OnPaste(text)
		}
	})
}

// MouseHandler scrolls with the wheel.
func (v *ConvView) MouseHandler() func(tview.MouseAction, *tcell.EventMouse, func(tview.Primitive)) (bool, tview.Primitive) {
	return v.WrapMouseHandler(func(action tview.MouseAction, ev *tcell.EventMouse, _ func(tview.Primitive)) (bool, tview.Primitive) {
		if !v.InRect(ev.Position()) {
			return false, nil
		}
		switch action {
		case tview.MouseScrollUp:
			if v.OnTop != nil && v.atTop {
				v.OnTop()
			}
			v.ScrollBy(3)
			return true, nil
		case tview.MouseScrollDown:
			v.ScrollBy(-3)
			return true, nil
		}
		return false, nil
	})
}

// drawHeader draws a room tab's first row: the room's name or address,
// whether we are in it, and its subject, all remote text drawn as data on
// one line.
func (v *ConvView) drawHeader(screen tcell.Screen, c *Conversation, x, y, w int) {
	style := tcell.StyleDefault.Foreground(theme.Text).Background(theme.Background).Reverse(true)
	fill(screen, x, y, w, style)
	text := c.Conv.JID
	if c.Title != "" {
		text = c.Title + " (" + c.Conv.JID + ")"
	}
	text = shortenMiddle(text, max(20, w/2))
	if r := v.state.Room(c.Account, c.Conv.JID); r != nil {
		if r.State != room.Joined {
			text += " · " + r.State.String()
		}
		switch {
		case r.Subject != "":
			text += " · " + plainText(r.Subject)
		case r.State == room.Joined:
			text += " · no subject"
		}
	}
	drawText(screen, x, y, w, " "+text, style)
}
