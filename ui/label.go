package ui

import (
	"strings"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// Label shows lines that may hold remote text, wrapped and drawn cell by
// cell, never as tview markup.
type Label struct {
	*tview.Box
	lines []string
	style tcell.Style
}

// NewLabel shows text (lines split on "\n").
func NewLabel(text string) *Label {
	l := &Label{Box: tview.NewBox(), style: tcell.StyleDefault}
	l.SetText(text)
	return l
}

// SetText replaces the text.
func (l *Label) SetText(text string) *Label {
	l.lines = strings.Split(text, "\n")
	return l
}

// SetStyle sets the text style.
func (l *Label) SetStyle(s tcell.Style) *Label {
	l.style = s
	return l
}

// Rows is how many rows the text takes wrapped at w cells.
func (l *Label) Rows(w int) int {
	n := 0
	for _, line := range l.lines {
		n += len(wrap(clusters(line), w))
	}
	return n
}

// Draw draws the wrapped lines.
func (l *Label) Draw(screen tcell.Screen) {
	l.Box.DrawForSubclass(screen, l)
	x, y, w, h := l.GetInnerRect()
	row := 0
	for _, line := range l.lines {
		for _, part := range wrap(clusters(line), w) {
			if row >= h {
				return
			}
			drawClusters(screen, x, y+row, w, part, l.style)
			row++
		}
	}
}
