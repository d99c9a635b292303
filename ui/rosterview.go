package ui

import (
	"fmt"
	"strings"

	"github.com/gab-chat/gab/room"
	"github.com/gab-chat/gab/roster"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// rosterRow is one line of the roster pane: an account heading, a group
// heading, or a contact.
type rosterRow struct {
	account string
	group   string // for group headings: the group (remote text); "" for none
	header  string // text of a heading; "" for a contact
	contact *roster.Contact
	room    *room.Room // a room's row, in the group Rooms
	count   int        // contacts under a collapsed group
}

// roomsGroup is the group of the rooms' rows (never a roster group: it
// holds a NUL).
const roomsGroup = "\x00rooms"

// key identifies a row across rebuilds, so the selection survives re-sorting.
func (r rosterRow) key() string {
	if r.contact != nil {
		return r.account + "\x00c\x00" + r.contact.JID
	}
	if r.room != nil {
		return r.account + "\x00r\x00" + r.room.JID
	}
	return r.account + "\x00g\x00" + r.group + "\x00" + r.header
}

// is reports whether key is the row's key, without making the key.
func (r *rosterRow) is(key string) bool {
	rest, ok := strings.CutPrefix(key, r.account)
	switch {
	case !ok:
		return false
	case r.contact != nil:
		id, ok := strings.CutPrefix(rest, "\x00c\x00")
		return ok && id == r.contact.JID
	case r.room != nil:
		id, ok := strings.CutPrefix(rest, "\x00r\x00")
		return ok && id == r.room.JID
	}
	return rest == "\x00g\x00"+r.group+"\x00"+r.header
}

// RosterView draws the contacts of every account, grouped and sorted, cell
// by cell. Names, JIDs and group names are remote text and go through the
// cluster renderer, never through tview markup.
type RosterView struct {
	*tview.Box
	state     *State
	selected  string // key of the selected row
	top       int
	collapsed map[string]bool // account + "\x00" + group
	rows      []rosterRow     // as last drawn
	built     string          // what rows were built from, to rebuild only on change

	foldGen int // bumped when a group is folded or unfolded

	OnOpen   func(account, jid string)
	OnRoom   func(account, room string) // Enter on a room
	OnAdd    func(account string)
	OnRemove func(account, jid string)
	OnType   func(ev *tcell.EventKey) // a character typed with the list focused
	OnPaste  func(text string)        // a paste with the list focused
}

// rosterKeyHelp lists the keys of the contact list.
var rosterKeyHelp = [][2]string{
	{"Enter, click", "open a conversation (or answer a request, on ?)"},
	{"Enter, click on a group", "fold or unfold the group"},
	{"Left, Right", "fold, unfold the selected contact's group"},
	{"Up, Down, mouse wheel", "move"},
	{"Alt+A, Insert", "add a contact"},
	{"Alt+D, Delete", "remove the selected contact"},
	{"Space", "go to the composer"},
	{"any other character, Backspace", "goes to the composer, and so does the focus"},
}

// NewRosterView shows state's rosters.
func NewRosterView(state *State) *RosterView {
	r := &RosterView{Box: tview.NewBox(), state: state, collapsed: map[string]bool{}}
	r.SetBorder(true).SetTitle(" Contacts ")
	r.SetFocusFunc(func() { r.SetBorderColor(theme.BorderFocus) })
	r.SetBlurFunc(func() { r.SetBorderColor(theme.Border) })
	return r
}

func (r *RosterView) buildRows() []rosterRow {
	n := 0
	for _, a := range r.state.Accounts {
		n += a.Roster.Len() + 1
	}
	rows := make([]rosterRow, 0, n+16)
	for _, a := range r.state.Accounts {
		if len(r.state.Accounts) > 1 {
			rows = append(rows, rosterRow{account: a.Name, header: a.Name + " (" + a.connText() + ")"})
		}
		hasRooms := a.Rooms != nil && a.Rooms.Len() > 0
		if hasRooms {
			folded := r.collapsed[a.Name+"\x00"+roomsGroup]
			rows = append(rows, rosterRow{account: a.Name, group: roomsGroup, header: "Rooms", count: a.Rooms.Len()})
			if !folded {
				for _, rm := range a.Rooms.All() {
					rows = append(rows, rosterRow{account: a.Name, group: roomsGroup, room: rm})
				}
			}
		}
		contacts := a.Roster.Sorted(r.state.Order, r.state.Offline)
		groups, members := roster.Grouped(contacts)
		for _, g := range groups {
			name := g
			if g == roster.NoGroup {
				name = "Contacts"
			}
			folded := r.collapsed[a.Name+"\x00"+g]
			if len(groups) > 1 || g != roster.NoGroup || folded || hasRooms {
				rows = append(rows, rosterRow{account: a.Name, group: g, header: name, count: len(members[g])})
			}
			if folded {
				continue
			}
			for _, c := range members[g] {
				rows = append(rows, rosterRow{account: a.Name, group: g, contact: c})
			}
		}
	}
	return rows
}

// buildKey sums up everything the rows depend on: each roster's
// generation, the accounts' connection states (where headings show
// them), order, filter and folds.
func (r *RosterView) buildKey() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%d/%v/%d|", r.state.Order, r.state.Offline, r.foldGen)
	for _, a := range r.state.Accounts {
		if len(r.state.Accounts) > 1 { // the headings show the connection
			fmt.Fprintf(&b, "%s:%s:%v|", a.Name, a.Conn, a.Cached)
		}
		fmt.Fprintf(&b, "%s:%d|", a.Name, a.Roster.Gen())
		if a.Rooms != nil {
			for _, rm := range a.Rooms.All() {
				fmt.Fprintf(&b, "%s\x00%d\x00%d\x00%d|", rm.JID, rm.State, rm.Unread, rm.Mentions)
			}
		}
	}
	return b.String()
}

func (r *RosterView) selectedIndex() int {
	for i := range r.rows {
		if r.rows[i].is(r.selected) {
			return i
		}
	}
	return -1
}

// Draw draws the pane.
func (r *RosterView) Draw(screen tcell.Screen) {
	if key := r.buildKey(); key != r.built {
		r.rows, r.built = r.buildRows(), key
		online, total := 0, 0
		for _, a := range r.state.Accounts {
			for _, c := range a.Roster.Contacts() {
				total++
				if c.Show() != roster.Offline {
					online++
				}
			}
		}
		// Our own numbers only: the title is tview markup.
		r.SetTitle(fmt.Sprintf(" Contacts %d/%d ", online, total))
	}
	r.Box.DrawForSubclass(screen, r)
	x, y, w, h := r.GetInnerRect()
	sel := r.selectedIndex()
	if sel < 0 && len(r.rows) > 0 {
		sel = 0
		for i, row := range r.rows {
			if row.contact != nil {
				sel = i
				break
			}
		}
		r.selected = r.rows[sel].key()
	}
	if sel >= 0 {
		if sel < r.top {
			r.top = sel
		}
		if sel >= r.top+h {
			r.top = sel - h + 1
		}
	}
	r.top = max(0, min(r.top, len(r.rows)-h))
	base := tcell.StyleDefault.Foreground(theme.Text).Background(theme.Background)
	for i := 0; i < h && r.top+i < len(r.rows); i++ {
		row := r.rows[r.top+i]
		line := y + i
		style := base
		if r.top+i == sel {
			if r.HasFocus() {
				style = theme.selection(style)
			} else {
				style = style.Underline(true)
			}
			fill(screen, x, line, w, style)
		}
		if row.room != nil {
			r.drawRoom(screen, x, line, w, row.account, row.room, style)
			continue
		}
		if row.contact == nil {
			hs := style.Bold(true).Foreground(theme.Group)
			text := row.header
			if row.group != "" || row.header == "Contacts" {
				mark := "▾ "
				if r.collapsed[row.account+"\x00"+row.group] {
					mark = "▸ "
					text += fmt.Sprintf(" (%d)", row.count)
				}
				text = mark + text
			}
			drawText(screen, x, line, w, text, hs)
			continue
		}
		c := row.contact
		mark, color := showMark(c.Show())
		markStyle := style.Foreground(color)
		if c.PendingIn {
			// Bold too, so it stands out without colour.
			markStyle = style.Foreground(theme.Unread).Bold(true)
			mark = '?'
		}
		screen.SetContent(x+1, line, mark, nil, markStyle)
		used := 3
		suffix := ""
		if c.Unread > 0 {
			suffix = fmt.Sprintf(" (%d)", c.Unread)
		}
		if c.Ask {
			suffix += " …"
		}
		used += drawText(screen, x+used, line, w-used-len([]rune(suffix)), c.DisplayName(), style)
		if suffix != "" {
			drawText(screen, x+used, line, w-used, suffix, style.Bold(true))
		}
	}
}

// move changes the selection by delta rows.
func (r *RosterView) move(delta int) {
	i := r.selectedIndex() + delta
	if i >= 0 && i < len(r.rows) {
		r.selected = r.rows[i].key()
	}
}

func (r *RosterView) selectedRow() (rosterRow, bool) {
	if i := r.selectedIndex(); i >= 0 {
		return r.rows[i], true
	}
	return rosterRow{}, false
}

// Selected is the account and JID of the contact under the cursor; jid is
// "" on a heading.
func (r *RosterView) Selected() (account, jid string) {
	row, ok := r.selectedRow()
	if !ok {
		return "", ""
	}
	if row.contact == nil {
		return row.account, ""
	}
	return row.account, row.contact.JID
}

// SelectedContact is the contact under the cursor, or nil.
func (r *RosterView) SelectedContact() *roster.Contact {
	row, _ := r.selectedRow()
	return row.contact
}

// activate opens the selected contact or folds the selected group.
func (r *RosterView) activate() {
	row, ok := r.selectedRow()
	if !ok {
		return
	}
	if row.room != nil {
		if r.OnRoom != nil {
			r.OnRoom(row.account, row.room.JID)
		}
		return
	}
	if row.contact == nil {
		if row.group != "" || row.header == "Contacts" {
			k := row.account + "\x00" + row.group
			r.collapsed[k] = !r.collapsed[k]
			r.foldGen++
		}
		return
	}
	if r.OnOpen != nil {
		r.OnOpen(row.account, row.contact.JID)
	}
}

// InputHandler moves the selection, opens, folds, adds and removes. A
// character typed here is text: it goes to OnType (the composer), never to
// a list action, so a word typed with the list focused is not lost and
// cannot open or send anything by itself.
func (r *RosterView) InputHandler() func(*tcell.EventKey, func(tview.Primitive)) {
	return r.WrapInputHandler(func(ev *tcell.EventKey, _ func(tview.Primitive)) {
		account, jid := r.Selected()
		if account == "" && len(r.state.Accounts) > 0 {
			account = r.state.Accounts[0].Name
		}
		alt := ev.Modifiers()&tcell.ModAlt != 0
		switch ev.Key() {
		case tcell.KeyUp:
			r.move(-1)
		case tcell.KeyDown:
			r.move(1)
		case tcell.KeyLeft, tcell.KeyRight:
			r.fold(ev.Key() == tcell.KeyLeft)
		case tcell.KeyEnter:
			r.activate()
		case tcell.KeyBackspace, tcell.KeyBackspace2:
			if r.OnType != nil {
				r.OnType(ev) // editing: the composer's
			}
		case tcell.KeyInsert:
			if r.OnAdd != nil {
				r.OnAdd(account)
			}
		case tcell.KeyDelete:
			if jid != "" && r.OnRemove != nil {
				r.OnRemove(account, jid)
			}
		case tcell.KeyRune:
			switch {
			case alt && ev.Rune() == 'a':
				if r.OnAdd != nil {
					r.OnAdd(account)
				}
			case alt && ev.Rune() == 'd':
				if jid != "" && r.OnRemove != nil {
					r.OnRemove(account, jid)
				}
			case !alt && ev.Modifiers()&tcell.ModCtrl == 0 && r.OnType != nil:
				r.OnType(ev)
			}
		}
	})
}

// PasteHandler hands a paste to OnPaste (the composer): text is never
// lost on the list.
func (r *RosterView) PasteHandler() func(string, func(tview.Primitive)) {
	return r.WrapPasteHandler(func(text string, _ func(tview.Primitive)) {
		if r.OnPaste != nil {
			r.OnPaste(text)
		}
	})
}

// fold folds (or unfolds) the group of the selected row, selecting its
// heading.
func (r *RosterView) fold(close bool) {
	row, ok := r.selectedRow()
	if !ok || (row.group == "" && row.header != "Contacts" && row.contact == nil) {
		return
	}
	k := row.account + "\x00" + row.group
	if r.collapsed[k] == close {
		return
	}
	for _, h := range r.rows {
		if h.contact == nil && h.room == nil && h.account == row.account && h.group == row.group {
			r.selected = h.key()
			break
		}
	}
	r.collapsed[k] = close
	r.foldGen++
}

// MouseHandler selects and opens (or folds) what is clicked.
func (r *RosterView) MouseHandler() func(tview.MouseAction, *tcell.EventMouse, func(tview.Primitive)) (bool, tview.Primitive) {
	return r.WrapMouseHandler(func(action tview.MouseAction, ev *tcell.EventMouse, setFocus func(tview.Primitive)) (bool, tview.Primitive) {
		if !r.InRect(ev.Position()) {
			return false, nil
		}
		_, y, _, _ := r.GetInnerRect()
		_, my := ev.Position()
		switch action {
		case tview.MouseLeftClick, tview.MouseLeftDoubleClick:
			setFocus(r)
			if i := r.top + my - y; i >= 0 && i < len(r.rows) {
				r.selected = r.rows[i].key()
				r.activate()
			}
			return true, nil
		case tview.MouseScrollUp:
			r.move(-1)
			return true, nil
		case tview.MouseScrollDown:
			r.move(1)
			return true, nil
		}
		return false, nil
	})
}

// contactStatus is a one-line description of a contact for the status line.
func contactStatus(c *roster.Contact) string {
	parts := []string{c.JID, c.Show().String()}
	if p, ok := c.Best(); ok && p.Status != "" {
		parts = append(parts, "“"+p.Status+"”")
	}
	if n := len(c.Resources()); n > 1 {
		parts = append(parts, fmt.Sprintf("%d devices", n))
	}
	if c.PendingIn {
		parts = append(parts, "asks to see your presence")
	}
	if c.Ask {
		parts = append(parts, "your request is pending")
	}
	if c.InRoster {
		parts = append(parts, "subscription "+c.Subscription)
	}
	return strings.Join(parts, " · ")
}

// drawRoom draws a room's row: a mark for whether we are in it (# in, ○
// not), its address, the unread count and "@" when a message named our
// nick.
func (r *RosterView) drawRoom(screen tcell.Screen, x, y, w int, account string, rm *room.Room, style tcell.Style) {
	mark, color := '○', theme.Offline
	switch rm.State {
	case room.Joined:
		mark, color = '#', theme.Online
	case room.Joining:
		mark, color = '#', theme.Away
	}
	screen.SetContent(x+1, y, mark, nil, style.Foreground(color))
	suffix := ""
	if rm.Unread > 0 {
		suffix = fmt.Sprintf(" (%d)", rm.Unread)
	}
	if rm.Mentions > 0 {
		suffix += " @"
	}
	used := 3
	name := rm.JID
	if a := r.state.Account(account); a != nil {
		name = a.roomName(rm.JID)
	}
	used += drawText(screen, x+used, y, w-used-len([]rune(suffix)), name, style)
	if suffix != "" {
		drawText(screen, x+used, y, w-used, suffix, style.Bold(true).Foreground(theme.Unread))
	}
}
