package ui

import (
	"fmt"
	"strings"

	"github.com/gab-chat/gab/roster"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// rosterRow is one line of the roster pane.
type rosterRow struct {
	account string
	header  string // an account or group heading; remote text for groups
	contact *roster.Contact
}

// RosterView draws the contacts of every account, grouped and sorted, cell
// by cell. Names, JIDs and group names are remote text and go through the
// cluster renderer, never through tview markup.
type RosterView struct {
	*tview.Box
	state    *State
	selected struct{ account, jid string }
	top      int
	OnOpen   func(account, jid string)
	rows     []rosterRow // as last drawn
}

// NewRosterView shows state's rosters.
func NewRosterView(state *State) *RosterView {
	r := &RosterView{Box: tview.NewBox(), state: state}
	r.SetBorder(true).SetTitle(" Contacts ")
	return r
}

func (r *RosterView) buildRows() []rosterRow {
	var rows []rosterRow
	for _, a := range r.state.Accounts {
		if len(r.state.Accounts) > 1 {
			rows = append(rows, rosterRow{account: a.Name, header: a.Name + " (" + a.Conn + ")"})
		}
		contacts := a.Roster.Sorted(r.state.Order, r.state.Offline)
		groups, members := roster.Grouped(contacts)
		for _, g := range groups {
			name := g
			if g == roster.NoGroup {
				name = "Contacts"
				if len(groups) == 1 {
					name = ""
				}
			}
			if name != "" {
				rows = append(rows, rosterRow{account: a.Name, header: name})
			}
			for _, c := range members[g] {
				rows = append(rows, rosterRow{account: a.Name, contact: c})
			}
		}
	}
	return rows
}

func (r *RosterView) selectedIndex() int {
	for i, row := range r.rows {
		if row.contact != nil && row.account == r.selected.account && row.contact.JID == r.selected.jid {
			return i
		}
	}
	return -1
}

// Draw draws the pane.
func (r *RosterView) Draw(screen tcell.Screen) {
	r.Box.DrawForSubclass(screen, r)
	x, y, w, h := r.GetInnerRect()
	r.rows = r.buildRows()
	sel := r.selectedIndex()
	if sel < 0 {
		for i, row := range r.rows {
			if row.contact != nil {
				sel = i
				r.selected.account, r.selected.jid = row.account, row.contact.JID
				break
			}
		}
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
	base := tcell.StyleDefault
	for i := 0; i < h && r.top+i < len(r.rows); i++ {
		row := r.rows[r.top+i]
		line := y + i
		if row.contact == nil {
			drawText(screen, x, line, w, row.header, base.Bold(true).Foreground(tcell.ColorTeal))
			continue
		}
		style := base
		if r.top+i == sel {
			style = style.Reverse(r.HasFocus()).Underline(!r.HasFocus())
			fill(screen, x, line, w, style)
		}
		c := row.contact
		mark, color := showMark(c.Show())
		if c.PendingIn {
			mark, color = '?', tcell.ColorFuchsia
		}
		screen.SetContent(x+1, line, mark, nil, style.Foreground(color))
		used := 3
		suffix := ""
		if c.Unread > 0 {
			suffix = fmt.Sprintf(" (%d)", c.Unread)
		}
		if c.Ask {
			suffix += " …"
		}
		nameW := w - used - len(suffix)
		used += drawText(screen, x+used, line, nameW, c.DisplayName(), style)
		if suffix != "" {
			drawText(screen, x+used, line, w-used, suffix, style.Bold(true))
		}
	}
}

// move changes the selection by delta contacts.
func (r *RosterView) move(delta int) {
	sel := r.selectedIndex()
	for i := sel + delta; i >= 0 && i < len(r.rows); i += delta {
		if r.rows[i].contact != nil {
			r.selected.account, r.selected.jid = r.rows[i].account, r.rows[i].contact.JID
			return
		}
	}
}

// Selected is the contact under the cursor.
func (r *RosterView) Selected() (account, jid string) { return r.selected.account, r.selected.jid }

// InputHandler moves the selection and opens conversations.
func (r *RosterView) InputHandler() func(*tcell.EventKey, func(tview.Primitive)) {
	return r.WrapInputHandler(func(ev *tcell.EventKey, _ func(tview.Primitive)) {
		switch ev.Key() {
		case tcell.KeyUp:
			r.move(-1)
		case tcell.KeyDown:
			r.move(1)
		case tcell.KeyHome:
			r.selected.jid = ""
			r.top = 0
		case tcell.KeyEnter:
			if r.OnOpen != nil && r.selected.jid != "" {
				r.OnOpen(r.selected.account, r.selected.jid)
			}
		case tcell.KeyRune:
			switch ev.Rune() {
			case 'k':
				r.move(-1)
			case 'j':
				r.move(1)
			}
		}
	})
}

// MouseHandler selects and opens the contact clicked.
func (r *RosterView) MouseHandler() func(tview.MouseAction, *tcell.EventMouse, func(tview.Primitive)) (bool, tview.Primitive) {
	return r.WrapMouseHandler(func(action tview.MouseAction, ev *tcell.EventMouse, setFocus func(tview.Primitive)) (bool, tview.Primitive) {
		if !r.InRect(ev.Position()) {
			return false, nil
		}
		_, y, _, _ := r.GetInnerRect()
		_, my := ev.Position()
		switch action {
		case tview.MouseLeftClick:
			setFocus(r)
			if i := r.top + my - y; i >= 0 && i < len(r.rows) && r.rows[i].contact != nil {
				r.selected.account, r.selected.jid = r.rows[i].account, r.rows[i].contact.JID
				if r.OnOpen != nil {
					r.OnOpen(r.selected.account, r.selected.jid)
				}
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
	if c.PendingIn {
		parts = append(parts, "asks to subscribe")
	}
	return strings.Join(parts, " · ")
}
