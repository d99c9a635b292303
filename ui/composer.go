package ui

import (
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
	"github.com/rivo/uniseg"
)

// MaxComposerRows is the tallest the composer grows; a longer message
// scrolls inside it, keeping the cursor in view.
const MaxComposerRows = 6

// composerLabel starts the composer's first row; later rows are indented
// by its width so the text lines up.
const composerLabel = "> "

// Composer is the message line: the text being written, wrapped to the
// width it has and growing up to MaxComposerRows, with readline keys,
// input history and completion. Its text is the user's own; it is drawn
// cell by cell like remote text (controls shown as replacements), so
// nothing typed or pasted reaches the terminal raw.
//
// Editing is linear in the size of the text: a paste is one insertion and
// one change, typing at the end appends, and the layout (one pass over
// the text) is rebuilt at most once per frame, when the text or the width
// changed.
type Composer struct {
	*tview.Box
	// Encrypted says whether what is typed goes encrypted (the hint
	// says so); called while drawing.
	Encrypted func() bool
	text      string
	buf       strings.Builder // holds text while inBuilder
	inBuilder bool
	gen       int // bumped by every change of text
	cursor    int // byte offset into text, on a grapheme cluster boundary
	goalCol   int // column Up and Down aim for; -1 for the cursor's own
	top       int // first row shown
	killed    string

	lay struct {
		gen    int
		width  int
		valid  bool
		glyphs []glyph
		rows   []int // index into glyphs where each row starts
	}

	history []string
	histPos int    // index into history while browsing; len(history) when not
	draft   string // what was typed before browsing history

	OnSubmit   func(text string)
	OnJump     func() // Ctrl+K with nothing after the cursor to delete
	OnChange   func(text string)
	Candidates func(line string) []string // completions for the last word of line; nil for none
	// Complete, when it reports ok, completes line instead of Candidates:
	// what from line[from:] may become (a path with spaces in it, say).
	Complete func(line string) (from int, opts []string, ok bool)
	Secret   func(line string) bool // a line not to keep in the input history (it holds a password)

	completing struct {
		base    string   // the line with the word being completed cut off
		options []string // what Tab cycles through
		next    int
	}
}

// glyph is one grapheme cluster of the composer's text as laid out.
type glyph struct {
	off, size int // bytes in the text
	width     int // cells; 0 for a newline
	space     bool
	nl        bool
}

// drawGlyph draws the cluster text[g.off:][:g.size] at x, y, cleaned as
// remote text is: controls and bidi overrides show as replacements.
func drawGlyph(screen tcell.Screen, x, y int, text string, g glyph, style tcell.Style) {
	if g.space {
		screen.SetContent(x, y, ' ', nil, style)
		return
	}
	var buf [8]rune
	rs := buf[:0]
	for _, r := range text[g.off : g.off+g.size] {
		if o, keep := cleanRune(r); keep {
			rs = append(rs, o)
		}
	}
	if len(rs) == 0 || rs[0] == Replacement || uniseg.StringWidth(string(rs)) > g.width {
		rs = append(rs[:0], Replacement)
	}
	screen.SetContent(x, y, rs[0], rs[1:], style)
}

const maxHistory = 500

// NewComposer makes an empty composer.
func NewComposer() *Composer {
	c := &Composer{Box: tview.NewBox(), goalCol: -1}
	return c
}

// GetText is the text being written.
func (c *Composer) GetText() string { return c.text }

// SetText replaces the text; the cursor goes to the end or the start.
func (c *Composer) SetText(text string, cursorAtEnd bool) {
	c.text, c.inBuilder = text, false
	c.cursor = 0
	if cursorAtEnd {
		c.cursor = len(text)
	}
	c.top = 0
	c.changed()
}

// Clear empties the composer.
func (c *Composer) Clear() { c.SetText("", true) }

// changed marks the layout stale and tells OnChange, once per edit.
func (c *Composer) changed() {
	c.gen++
	c.goalCol = -1
	if c.OnChange != nil {
		c.OnChange(c.text)
	}
}

// insert puts s at the cursor and moves the cursor after it. Typing at
// the end appends to the builder that holds the text, which costs what is
// typed, not the length of the message: a paste that comes as keys stays
// linear.
func (c *Composer) insert(s string) {
	if !c.inBuilder || c.cursor != len(c.text) {
		rest := c.text[c.cursor:]
		c.buf.Reset() // strings taken from it before keep their bytes
		c.buf.Grow(len(c.text) + len(s))
		c.buf.WriteString(c.text[:c.cursor])
		c.buf.WriteString(s)
		c.buf.WriteString(rest)
	} else {
		c.buf.WriteString(s)
	}
	c.text, c.inBuilder = c.buf.String(), true
	c.cursor += len(s)
	c.changed()
}

// cut deletes text[from:to] (in either order), keeps it for Ctrl+Y when
// kill is set, and leaves the cursor where the text was.
func (c *Composer) cut(from, to int, kill bool) {
	if from > to {
		from, to = to, from
	}
	if from == to {
		return
	}
	if kill {
		c.killed = c.text[from:to]
	}
	c.text, c.inBuilder = c.text[:from]+c.text[to:], false
	c.cursor = from
	c.changed()
}

// layout wraps the text to width cells: at spaces where it can, inside a
// word when a word is wider than the row. Newlines end rows. A cursor
// after a full last row gets a row of its own.
func (c *Composer) layout(width int) ([]glyph, []int) {
	width = max(1, width)
	l := &c.lay
	if l.valid && l.width == width && l.gen == c.gen {
		return l.glyphs, l.rows
	}
	glyphs := l.glyphs[:0]
	rest, state := c.text, -1
	off := 0
	for len(rest) > 0 {
		var cl string
		var w int
		if b := rest[0]; b >= 0x20 && b < 0x7F && (len(rest) == 1 || rest[1] < 0x80) {
			// Printable ASCII followed by ASCII: a cluster of its own.
			cl, rest, w, state = rest[:1], rest[1:], 1, -1
		} else {
			cl, rest, w, state = uniseg.FirstGraphemeClusterInString(rest, state)
		}
		g := glyph{off: off, size: len(cl), width: max(1, w)}
		off += len(cl)
		switch cl {
		case "\n", "\r\n", "\r":
			g.nl, g.width = true, 0
		case "\t", " ":
			g.space, g.width = true, 1
		default:
			if r, _ := utf8.DecodeRuneInString(cl); r < 0x20 || r == 0x7F || (r >= 0x80 && r <= 0x9F) {
				g.width = 1 // drawn as a replacement
			}
			g.width = min(g.width, width) // a wide character in a one-cell composer
		}
		glyphs = append(glyphs, g)
	}
	rows := append(l.rows[:0], 0)
	x, lastSpace := 0, -1
	for i, g := range glyphs {
		start := rows[len(rows)-1]
		if g.nl {
			rows = append(rows, i+1)
			x, lastSpace = 0, -1
			continue
		}
		if x+g.width > width && i > start {
			if lastSpace >= start {
				rows = append(rows, lastSpace+1)
				x = 0
				for _, h := range glyphs[lastSpace+1 : i] {
					x += h.width
				}
			} else {
				rows = append(rows, i)
				x = 0
			}
			lastSpace = -1
		}
		x += g.width
		if g.space {
			lastSpace = i
		}
	}
	if x >= width && len(glyphs) > 0 && !glyphs[len(glyphs)-1].nl {
		rows = append(rows, len(glyphs)) // the cursor after a full row
	}
	l.glyphs, l.rows, l.width, l.gen, l.valid = glyphs, rows, width, c.gen, true
	return glyphs, rows
}

// textWidth is the cells a row of text has in the composer's rectangle.
func (c *Composer) textWidth() int {
	_, _, w, _ := c.GetInnerRect()
	return max(1, w-width(composerLabel))
}

// WantRows is how many rows the composer needs at a total width of w:
// the rows of its text, at most MaxComposerRows.
func (c *Composer) WantRows(w int) int {
	_, rows := c.layout(max(1, w-width(composerLabel)))
	return max(1, min(MaxComposerRows, len(rows)))
}

// rowOf is the row holding glyph index i (or the end, len(glyphs)).
func rowOf(rows []int, i int) int {
	return max(0, sort.Search(len(rows), func(r int) bool { return rows[r] > i })-1)
}

// glyphAt is the index of the glyph at byte offset off.
func glyphAt(glyphs []glyph, off int) int {
	return sort.Search(len(glyphs), func(i int) bool { return glyphs[i].off >= off })
}

// rowEnd is the glyph index just past row r's text (before its newline).
func rowEnd(glyphs []glyph, rows []int, r int) int {
	end := len(glyphs)
	if r+1 < len(rows) {
		end = rows[r+1]
	}
	if end > rows[r] && glyphs[end-1].nl {
		end--
	}
	return end
}

// offsetOf is the byte offset of glyph index i.
func (c *Composer) offsetOf(glyphs []glyph, i int) int {
	if i >= len(glyphs) {
		return len(c.text)
	}
	return glyphs[i].off
}

// cursorPos is the cursor's row and column.
func (c *Composer) cursorPos(width int) (row, col int) {
	glyphs, rows := c.layout(width)
	gi := glyphAt(glyphs, c.cursor)
	row = rowOf(rows, gi)
	for _, g := range glyphs[rows[row]:gi] {
		col += g.width
	}
	return row, col
}

// atColumn is the glyph index in row r nearest column col.
func atColumn(glyphs []glyph, rows []int, r, col int) int {
	x := 0
	end := rowEnd(glyphs, rows, r)
	for i := rows[r]; i < end; i++ {
		if x+glyphs[i].width > col {
			return i
		}
		x += glyphs[i].width
	}
	return end
}

// moveRow moves the cursor delta rows up or down, keeping its column; it
// reports false at the first or last row.
func (c *Composer) moveRow(delta int) bool {
	w := c.textWidth()
	row, col := c.cursorPos(w)
	glyphs, rows := c.layout(w)
	if row+delta < 0 || row+delta >= len(rows) {
		return false
	}
	if c.goalCol < 0 {
		c.goalCol = col
	}
	c.cursor = c.offsetOf(glyphs, atColumn(glyphs, rows, row+delta, c.goalCol))
	return true
}

// step moves the cursor one grapheme cluster left (-1) or right (1).
func (c *Composer) step(dir int) {
	glyphs, _ := c.layout(c.textWidth())
	i := glyphAt(glyphs, c.cursor) + dir
	if i >= 0 && i <= len(glyphs) {
		c.cursor = c.offsetOf(glyphs, i)
	}
}

// wordLeft is the offset of the start of the word before the cursor.
func (c *Composer) wordLeft() int {
	i := c.cursor
	for i > 0 && isSpace(c.text[i-1]) {
		i--
	}
	for i > 0 && !isSpace(c.text[i-1]) {
		i--
	}
	return i
}

// wordRight is the offset of the end of the word after the cursor.
func (c *Composer) wordRight() int {
	i := c.cursor
	for i < len(c.text) && isSpace(c.text[i]) {
		i++
	}
	for i < len(c.text) && !isSpace(c.text[i]) {
		i++
	}
	return i
}

func isSpace(b byte) bool { return b == ' ' || b == '\n' || b == '\t' }

// lineBounds are the offsets of the start and end of the cursor's line
// (between newlines).
func (c *Composer) lineBounds() (start, end int) {
	start = strings.LastIndexByte(c.text[:c.cursor], '\n') + 1
	end = len(c.text)
	if i := strings.IndexByte(c.text[c.cursor:], '\n'); i >= 0 {
		end = c.cursor + i
	}
	return start, end
}

// Draw draws the label, the rows around the cursor and the cursor.
func (c *Composer) Draw(screen tcell.Screen) {
	c.Box.DrawForSubclass(screen, c)
	x, y, w, h := c.GetInnerRect()
	if w <= 0 || h <= 0 {
		return
	}
	base := tcell.StyleDefault.Foreground(theme.Composer).Background(theme.Background)
	for i := 0; i < h; i++ {
		fill(screen, x, y+i, w, base)
	}
	lw := drawText(screen, x, y, w, composerLabel, tcell.StyleDefault.Background(theme.Background).Bold(true))
	tw := max(1, w-lw)
	if c.text == "" {
		hint := "type a message, or /help"
		if c.Encrypted != nil && c.Encrypted() {
			hint = "type an encrypted message (OMEMO), or /help"
		}
		drawText(screen, x+lw, y, tw, hint, base.Foreground(theme.Dim))
		c.top = 0
		if c.HasFocus() {
			screen.ShowCursor(x+lw, y)
		}
		return
	}
	glyphs, rows := c.layout(tw)
	row, col := c.cursorPos(tw)
	if len(rows) <= h {
		c.top = 0
	}
	c.top = max(0, min(c.top, len(rows)-h))
	if row < c.top {
		c.top = row
	}
	if row >= c.top+h {
		c.top = row - h + 1
	}
	for i := 0; i < h && c.top+i < len(rows); i++ {
		r := c.top + i
		cx := x + lw
		for _, g := range glyphs[rows[r]:rowEnd(glyphs, rows, r)] {
			if cx+g.width > x+lw+tw {
				break
			}
			drawGlyph(screen, cx, y+i, c.text, g, base)
			cx += g.width
		}
	}
	if c.top > 0 {
		screen.SetContent(x, y, '↑', nil, base.Foreground(theme.Dim))
	}
	if c.top+h < len(rows) {
		screen.SetContent(x, y+h-1, '↓', nil, base.Foreground(theme.Dim))
	}
	if c.HasFocus() {
		screen.ShowCursor(x+lw+min(col, tw-1), y+row-c.top)
	}
}

// InputHandler edits the text.
func (c *Composer) InputHandler() func(*tcell.EventKey, func(tview.Primitive)) {
	return c.WrapInputHandler(func(ev *tcell.EventKey, _ func(tview.Primitive)) { c.handle(ev) })
}

// PasteHandler inserts a paste at the cursor as one edit: newlines and
// all, never sent until Enter.
func (c *Composer) PasteHandler() func(string, func(tview.Primitive)) {
	return c.WrapPasteHandler(func(text string, _ func(tview.Primitive)) {
		c.completing.options = nil
		text = strings.ReplaceAll(text, "\r\n", "\n")
		c.insert(strings.ReplaceAll(text, "\r", "\n"))
	})
}

// MouseHandler puts the cursor where the composer is clicked.
func (c *Composer) MouseHandler() func(tview.MouseAction, *tcell.EventMouse, func(tview.Primitive)) (bool, tview.Primitive) {
	return c.WrapMouseHandler(func(action tview.MouseAction, ev *tcell.EventMouse, setFocus func(tview.Primitive)) (bool, tview.Primitive) {
		if action != tview.MouseLeftClick || !c.InRect(ev.Position()) {
			return false, nil
		}
		setFocus(c)
		x, y, _, _ := c.GetInnerRect()
		mx, my := ev.Position()
		glyphs, rows := c.layout(c.textWidth())
		if r := c.top + my - y; r >= 0 && r < len(rows) {
			c.cursor = c.offsetOf(glyphs, atColumn(glyphs, rows, r, max(0, mx-x-width(composerLabel))))
			c.goalCol = -1
		}
		return true, nil
	})
}

// handle edits with readline keys and handles sending, history and
// completion.
func (c *Composer) handle(ev *tcell.EventKey) {
	if ev.Key() != tcell.KeyTab {
		c.completing.options = nil
	}
	if ev.Key() != tcell.KeyUp && ev.Key() != tcell.KeyDown {
		c.goalCol = -1
	}
	mods := ev.Modifiers()
	alt, ctrl := mods&tcell.ModAlt != 0, mods&tcell.ModCtrl != 0
	if newlineKey(ev) {
		c.insert("\n")
		return
	}
	switch ev.Key() {
	case tcell.KeyEnter:
		text := c.text
		if strings.TrimSpace(text) != "" && c.OnSubmit != nil {
			if c.Secret == nil || !c.Secret(text) {
				c.remember(text)
			}
			c.OnSubmit(text)
		}
	case tcell.KeyRune:
		switch {
		case alt && ev.Rune() == 'b':
			c.cursor = c.wordLeft()
		case alt && ev.Rune() == 'f':
			c.cursor = c.wordRight()
		case alt && ev.Rune() == 'd':
			c.cut(c.cursor, c.wordRight(), true)
		case !alt && !ctrl:
			c.insert(string(ev.Rune()))
		}
	case tcell.KeyLeft, tcell.KeyCtrlB:
		if ctrl && ev.Key() == tcell.KeyLeft || alt {
			c.cursor = c.wordLeft()
		} else {
			c.step(-1)
		}
	case tcell.KeyRight, tcell.KeyCtrlF:
		if ctrl && ev.Key() == tcell.KeyRight || alt {
			c.cursor = c.wordRight()
		} else {
			c.step(1)
		}
	case tcell.KeyHome, tcell.KeyCtrlA:
		c.cursor, _ = c.lineBounds()
	case tcell.KeyEnd, tcell.KeyCtrlE:
		_, c.cursor = c.lineBounds()
	case tcell.KeyUp:
		if !c.moveRow(-1) {
			c.browse(-1)
		}
	case tcell.KeyDown:
		if !c.moveRow(1) {
			c.browse(1)
		}
	case tcell.KeyBackspace, tcell.KeyBackspace2:
		if alt {
			c.cut(c.wordLeft(), c.cursor, true)
			return
		}
		end := c.cursor
		c.step(-1)
		c.cut(c.cursor, end, false)
	case tcell.KeyDelete, tcell.KeyCtrlD:
		start := c.cursor
		c.step(1)
		c.cut(start, c.cursor, false)
	case tcell.KeyCtrlW:
		c.cut(c.wordLeft(), c.cursor, true)
	case tcell.KeyCtrlK:
		// Readline's delete-to-end when there is something after the
		// cursor; otherwise the key would do nothing, so it opens quick jump.
		_, end := c.lineBounds()
		if end == c.cursor && end < len(c.text) {
			end++ // at the end of a line: join the next one
		}
		if end == c.cursor {
			if c.OnJump != nil {
				c.OnJump()
			}
			return
		}
		c.cut(c.cursor, end, true)
	case tcell.KeyCtrlU:
		start, end := c.lineBounds()
		if end < len(c.text) {
			end++
		} else if start > 0 {
			start--
		}
		c.cut(start, end, true)
	case tcell.KeyCtrlY:
		if c.killed != "" {
			c.insert(c.killed)
		}
	case tcell.KeyTab:
		c.complete()
	}
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
		from, opts, ok := 0, []string(nil), false
		if c.Complete != nil {
			from, opts, ok = c.Complete(text)
		}
		if !ok {
			if text == "" || c.Candidates == nil || strings.HasSuffix(text, " ") {
				return false
			}
			opts = c.Candidates(text)
			from = strings.LastIndexAny(text, " \n") + 1
		}
		if len(opts) == 0 {
			return false
		}
		c.completing.base, c.completing.options, c.completing.next = text[:from], opts, 0
	}
	opts := c.completing.options
	o := opts[c.completing.next%len(opts)]
	c.completing.next++
	c.SetText(c.completing.base+o, true)
	if len(opts) == 1 {
		// Nothing to cycle through: the next Tab completes from here (into
		// the directory just completed, say).
		c.completing.options = nil
	}
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
