package ui

import (
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// row is one screen line of a conversation: a prefix (time and sender) and
// a piece of the body, already wrapped.
type row struct {
	time   string
	sender []cluster
	color  tcell.Color
	body   []cluster
	kind   LineKind
	indent int
	sep    string // a day separator instead of a message
}

// ConvView draws the active conversation cell by cell. Message bodies and
// sender names are remote text: they are split into grapheme clusters and
// drawn as characters, so markup and escape sequences in them are inert.
// Wrapping is cached per conversation, width and content generation.
type ConvView struct {
	*tview.Box
	state      *State
	timeFormat string

	cacheConv  *Conversation
	cacheGen   int
	cacheWidth int
	cacheRows  []row
}

// NewConvView shows state's active conversation.
func NewConvView(state *State, timeFormat string) *ConvView {
	v := &ConvView{Box: tview.NewBox(), state: state, timeFormat: timeFormat}
	return v
}

func (v *ConvView) rows(c *Conversation, w int) []row {
	if c == v.cacheConv && c.gen == v.cacheGen && w == v.cacheWidth {
		return v.cacheRows
	}
	var rows []row
	lastDay := ""
	for _, l := range c.Lines {
		day := l.Time.Local().Format("Monday 2 January 2006")
		if day != lastDay {
			if lastDay != "" || len(c.Lines) > 1 {
				rows = append(rows, row{sep: day})
			}
			lastDay = day
		}
		ts := l.Time.Local().Format(v.timeFormat)
		var sender []cluster
		color := tcell.ColorDefault
		switch l.Kind {
		case LineIn, LineOut:
			sender = clusters(l.Sender + ": ")
			color = nameColor(l.SenderKey)
		case LineError:
			sender = clusters("! ")
			color = tcell.ColorRed
		case LineInfo:
			sender = clusters("- ")
			color = tcell.ColorGray
		}
		prefix := width(ts) + 1
		for _, c := range sender {
			prefix += c.width
		}
		indent := prefix
		if indent > w/2 {
			indent = 2
		}
		bodyW := w - indent
		var first, rest [][]cluster
		if w-prefix >= 8 {
			lines := wrap(clusters(l.Body), w-prefix)
			first = lines[:1]
			if len(lines) > 1 {
				rest = wrap(joinClusters(lines[1:]), bodyW)
			}
		} else {
			rest = wrap(clusters(l.Body), bodyW)
		}
		rows = append(rows, row{time: ts, sender: sender, color: color, kind: l.Kind})
		if len(first) > 0 {
			rows[len(rows)-1].body = first[0]
		}
		for _, r := range rest {
			rows = append(rows, row{body: r, kind: l.Kind, indent: indent})
		}
	}
	v.cacheConv, v.cacheGen, v.cacheWidth, v.cacheRows = c, c.gen, w, rows
	return rows
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

// Draw draws the visible rows, newest at the bottom.
func (v *ConvView) Draw(screen tcell.Screen) {
	v.Box.DrawForSubclass(screen, v)
	x, y, w, h := v.GetInnerRect()
	if w <= 0 || h <= 0 {
		return
	}
	c := v.state.Current()
	rows := v.rows(c, w)
	c.Scroll = max(0, min(c.Scroll, len(rows)-h))
	end := len(rows) - c.Scroll
	start := max(0, end-h)
	line := y + h - (end - start)
	base := tcell.StyleDefault
	for _, r := range rows[start:end] {
		if r.sep != "" {
			label := " " + r.sep + " "
			lw := width(label)
			pad := max(0, (w-lw)/2)
			for i := 0; i < w; i++ {
				screen.SetContent(x+i, line, '─', nil, base.Foreground(tcell.ColorGray))
			}
			drawText(screen, x+pad, line, w-pad, label, base.Foreground(tcell.ColorGray))
			line++
			continue
		}
		bodyStyle := base
		switch r.kind {
		case LineError:
			bodyStyle = base.Foreground(tcell.ColorRed)
		case LineInfo:
			bodyStyle = base.Foreground(tcell.ColorGray)
		}
		col := x
		if r.time != "" {
			col += drawText(screen, col, line, w, r.time, base.Foreground(tcell.ColorGray)) + 1
			col += drawClusters(screen, col, line, x+w-col, r.sender, base.Foreground(r.color).Bold(true))
		} else {
			col += r.indent
		}
		drawClusters(screen, col, line, x+w-col, r.body, bodyStyle)
		line++
	}
	if c.Scroll > 0 {
		drawText(screen, x+w-12, y, 12, "↑ scrolled", base.Reverse(true))
	}
}

// ScrollBy moves the view by delta rows (positive is back in time).
func (v *ConvView) ScrollBy(delta int) {
	c := v.state.Current()
	c.Scroll = max(0, c.Scroll+delta)
}

// PageRows is how far a page scroll moves.
func (v *ConvView) PageRows() int {
	_, _, _, h := v.GetInnerRect()
	return max(1, h-1)
}

// MouseHandler scrolls with the wheel.
func (v *ConvView) MouseHandler() func(tview.MouseAction, *tcell.EventMouse, func(tview.Primitive)) (bool, tview.Primitive) {
	return v.WrapMouseHandler(func(action tview.MouseAction, ev *tcell.EventMouse, _ func(tview.Primitive)) (bool, tview.Primitive) {
		if !v.InRect(ev.Position()) {
			return false, nil
		}
		switch action {
		case tview.MouseScrollUp:
			v.ScrollBy(3)
			return true, nil
		case tview.MouseScrollDown:
			v.ScrollBy(-3)
			return true, nil
		}
		return false, nil
	})
}
