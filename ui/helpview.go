package ui

import (
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// helpView shows the help text wrapped to its width with hanging indents:
// a key's description that does not fit goes on under the description,
// not at the left edge where the keys are. It wraps again when the width
// changes (a resize).
type helpView struct {
	*tview.TextView
	raw string
	w   int
}

func newHelpView(text string) *helpView {
	return &helpView{TextView: tview.NewTextView().SetDynamicColors(false).SetScrollable(true), raw: text}
}

func (v *helpView) Draw(screen tcell.Screen) {
	if _, _, w, _ := v.GetInnerRect(); w != v.w && w > 0 {
		row, _ := v.GetScrollOffset()
		v.w = w
		v.SetText(hangingText(v.raw, w))
		v.ScrollTo(row, 0)
	}
	v.TextView.Draw(screen)
}

// keyColumn is where helpText starts a description: two spaces, a key
// column of 38 and one space.
const keyColumn = 41

// hangingText wraps each line of text to w cells. A key's description
// goes on under the description (keyColumn) where that leaves 20 cells or
// more; other lines, and all in a narrow view, under their own
// indentation, at most four cells in.
func hangingText(text string, w int) string {
	var b strings.Builder
	for i, line := range strings.Split(text, "\n") {
		if i > 0 {
			b.WriteByte('\n')
		}
		if width(line) <= w {
			b.WriteString(line)
			continue
		}
		lead := len(line) - len(strings.TrimLeft(line, " "))
		head, rest, indent := line[:lead], line[lead:], lead
		if cs := clusters(line); w-keyColumn >= 20 && lead == 2 && len(cs) > keyColumn && cs[keyColumn-1].space && !cs[keyColumn].space {
			n := 0
			for _, c := range cs[:keyColumn] {
				n += len(string(c.runes))
			}
			head, rest, indent = line[:n], line[n:], keyColumn
		}
		if indent != keyColumn {
			indent = min(4, indent)
		}
		b.WriteString(head)
		col := width(head)
		first := true
		for _, word := range strings.Fields(rest) {
			ww := width(word)
			if !first && col+1+ww > w || first && col+ww > w && col > indent {
				b.WriteString("\n" + strings.Repeat(" ", indent))
				col, first = indent, true
			}
			if !first {
				b.WriteByte(' ')
				col++
			}
			for col+ww > w && w > col {
				// A word longer than a row is cut.
				cut := cutWidth(word, w-col)
				b.WriteString(cut + "\n" + strings.Repeat(" ", indent))
				word, col = word[len(cut):], indent
				ww = width(word)
			}
			b.WriteString(word)
			col += ww
			first = false
		}
	}
	return b.String()
}

// cutWidth is the longest start of s at most n cells wide (at least one
// character).
func cutWidth(s string, n int) string {
	used, end := 0, 0
	for _, c := range clusters(s) {
		if used+c.width > n && end > 0 {
			break
		}
		used += c.width
		end += len(string(c.runes))
	}
	return s[:end]
}
