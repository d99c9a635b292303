package ui

import (
	"fmt"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/room"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// occupantsWidth is the columns of a room's occupant list, its separator
// included.
const occupantsWidth = 24

// roleGroup is one role's run of the room's sorted occupants.
type roleGroup struct {
	label      string
	start, end int // in room.Sorted()
}

// OccupantView lists the occupants of the active room tab, grouped by role
// (moderators, participants, visitors), with presence marks. Nicks are
// remote text, drawn cell by cell and shortened with "…". Only the rows in
// view are drawn, and the groups are worked out again only when the room
// changes, so a room of thousands costs what fits on the screen.
type OccupantView struct {
	*tview.Box
	state *State
	top   int // first row shown

	// The groups as last worked out, for room r at generation gen.
	r      *room.Room
	gen    uint64
	groups []roleGroup
}

// NewOccupantView shows the occupants of state's active room tab.
func NewOccupantView(state *State) *OccupantView {
	return &OccupantView{Box: tview.NewBox(), state: state}
}

// room is the room of the active tab, nil when it is not a room's.
func (v *OccupantView) room() *room.Room {
	c := v.state.Current()
	if c.Conv.Kind != chat.KindRoom {
		return nil
	}
	return v.state.Room(c.Account, c.Conv.JID)
}

// groupsOf splits the sorted occupants into their roles' runs; they come
// ordered by role already.
func (v *OccupantView) groupsOf(r *room.Room) []roleGroup {
	if r == v.r && r.Gen() == v.gen && v.groups != nil {
		return v.groups
	}
	occ := r.Sorted()
	groups := v.groups[:0]
	for i := 0; i < len(occ); {
		role := occ[i].Role
		j := i + 1
		for j < len(occ) && occ[j].Role == role {
			j++
		}
		groups = append(groups, roleGroup{label: roleLabel(role), start: i, end: j})
		i = j
	}
	if groups == nil {
		groups = []roleGroup{}
	}
	v.r, v.gen, v.groups = r, r.Gen(), groups
	return groups
}

func roleLabel(r room.Role) string {
	switch r {
	case room.Moderator:
		return "Moderators"
	case room.Participant:
		return "Participants"
	case room.Visitor:
		return "Visitors"
	}
	return "No role"
}

// Draw draws the separator, a title and the rows in view.
func (v *OccupantView) Draw(screen tcell.Screen) {
	v.Box.DrawForSubclass(screen, v)
	x, y, w, h := v.GetInnerRect()
	if w <= 1 || h <= 0 {
		return
	}
	base := tcell.StyleDefault.Foreground(theme.Text).Background(theme.Background)
	for i := 0; i < h; i++ {
		fill(screen, x, y+i, w, base)
		screen.SetContent(x, y+i, '│', nil, base.Foreground(theme.Border))
	}
	x, w = x+1, w-1
	r := v.room()
	if r == nil {
		return
	}
	title := fmt.Sprintf(" %d in the room", r.Count())
	if r.State != room.Joined {
		title = " not in the room"
	}
	drawText(screen, x, y, w, title, base.Bold(true))
	y, h = y+1, h-1
	groups := v.groupsOf(r)
	total := 0
	for _, g := range groups {
		total += 1 + g.end - g.start
	}
	v.top = max(0, min(v.top, total-h))
	occ := r.Sorted()
	row := 0 // the virtual row of the group heading being looked at
	for _, g := range groups {
		n := 1 + g.end - g.start
		if row+n <= v.top {
			row += n
			continue
		}
		for i := max(0, v.top-row); i < n; i++ {
			line := y + row + i - v.top
			if line >= y+h {
				return
			}
			if i == 0 {
				drawText(screen, x, line, w, fmt.Sprintf("%s (%d)", g.label, g.end-g.start), base.Bold(true).Foreground(theme.Group))
				continue
			}
			o := occ[g.start+i-1]
			mark, color := showMark(o.Show)
			screen.SetContent(x+1, line, mark, nil, base.Foreground(color))
			style := base
			if r.IsSelf(*o) {
				style = style.Bold(true)
			}
			drawText(screen, x+3, line, w-3, o.Nick, style)
		}
		row += n
	}
}

// MouseHandler scrolls the list with the wheel.
func (v *OccupantView) MouseHandler() func(tview.MouseAction, *tcell.EventMouse, func(tview.Primitive)) (bool, tview.Primitive) {
	return v.WrapMouseHandler(func(action tview.MouseAction, ev *tcell.EventMouse, _ func(tview.Primitive)) (bool, tview.Primitive) {
		if !v.InRect(ev.Position()) {
			return false, nil
		}
		switch action {
		case tview.MouseScrollUp:
			v.top = max(0, v.top-3)
			return true, nil
		case tview.MouseScrollDown:
			v.top += 3 // Draw clamps it
			return true, nil
		}
		return false, nil
	})
}

// convRow is the conversation with, in a room tab, the occupant list
// beside it: when the user wants it (toggle_occupants) and the window
// leaves the conversation minChatWidth columns.
type convRow struct {
	*tview.Box
	conv  *ConvView
	occ   *OccupantView
	want  bool
	shown bool // as last drawn
}

// fits reports whether the list fits beside the conversation.
func (p *convRow) fits() bool {
	_, _, w, _ := p.GetRect()
	return w >= occupantsWidth+minChatWidth
}

func (p *convRow) Draw(screen tcell.Screen) {
	x, y, w, h := p.GetRect()
	p.shown = p.want && p.occ.room() != nil && p.fits()
	if !p.shown {
		p.conv.SetRect(x, y, w, h)
		p.conv.Draw(screen)
		return
	}
	p.conv.SetRect(x, y, w-occupantsWidth, h)
	p.occ.SetRect(x+w-occupantsWidth, y, occupantsWidth, h)
	p.conv.Draw(screen)
	p.occ.Draw(screen)
}

// MouseHandler passes the mouse to the conversation or the list.
func (p *convRow) MouseHandler() func(tview.MouseAction, *tcell.EventMouse, func(tview.Primitive)) (bool, tview.Primitive) {
	return p.WrapMouseHandler(func(action tview.MouseAction, ev *tcell.EventMouse, setFocus func(tview.Primitive)) (bool, tview.Primitive) {
		if p.shown && p.occ.InRect(ev.Position()) {
			return p.occ.MouseHandler()(action, ev, setFocus)
		}
		return p.conv.MouseHandler()(action, ev, setFocus)
	})
}

// HasFocus counts the conversation (it has the focus while a message is
// selected) and the list as inside the row, so tview delivers a paste.
func (p *convRow) HasFocus() bool {
	return p.conv.HasFocus() || p.occ.HasFocus() || p.Box.HasFocus()
}

// PasteHandler passes a paste on to the part that has the focus.
func (p *convRow) PasteHandler() func(string, func(tview.Primitive)) {
	return p.WrapPasteHandler(func(text string, setFocus func(tview.Primitive)) {
		switch {
		case p.conv.HasFocus():
			p.conv.PasteHandler()(text, setFocus)
		case p.occ.HasFocus():
			p.occ.PasteHandler()(text, setFocus)
		}
	})
}
