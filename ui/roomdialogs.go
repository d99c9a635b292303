package ui

import (
	"fmt"
	"strings"
	"sync"

	"github.com/gab-chat/gab/chat"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// Rooms (XEP-0045): the list of a service's public rooms (/rooms) and a
// room's configuration form (/config, or a room just made by /join with
// its configure option). Both open only because the user asked: an answer
// nobody waits for is dropped, so nothing the network sends takes the
// keyboard. Everything in them that came from the network (room names,
// JIDs, the form's title, instructions, labels, values and options) is
// drawn cell by cell or through Sanitize.

// roomAsk records what the user asked of rooms and waits for: the lists
// asked for per account, the forms asked for per room, and the rooms made
// by a join that wait locked for their configuration.
type roomAsk struct {
	mu       sync.Mutex
	listing  map[string]int  // account → ListRooms sent and not answered
	fetching map[string]bool // account NUL room → FetchRoomConfig sent
	fresh    map[string]bool // account NUL room → made by our join, locked
}

func newRoomAsk() *roomAsk {
	return &roomAsk{listing: map[string]int{}, fetching: map[string]bool{}, fresh: map[string]bool{}}
}

// rooms is the App's record of room questions.
func (a *App) rooms() *roomAsk { return a.asks }

func roomKey(account, room string) string { return account + "\x00" + room }

// cmdRooms is /rooms [SERVICE]: the public rooms of SERVICE, or of our
// server's group chat service.
func (a *App) cmdRooms(args []string) {
	if len(args) > 1 {
		a.state.SetStatus(true, "usage: /rooms [SERVICE]")
		return
	}
	acct := a.account()
	if acct == nil || acct.Client == nil {
		a.state.SetStatus(true, "no account")
		return
	}
	svc := ""
	if len(args) == 1 {
		svc = args[0]
	}
	r := a.rooms()
	r.mu.Lock()
	r.listing[acct.Name]++
	r.mu.Unlock()
	acct.Client.Do(chat.ListRooms{Service: svc})
	if svc == "" {
		a.state.SetStatus(false, "asking for the public rooms…")
	} else {
		a.state.SetStatus(false, "asking %s for its public rooms…", svc)
	}
}

// cmdConfig is /config in a room's tab: the room's configuration form
// (owners only; the room says no to others).
func (a *App) cmdConfig() {
	c := a.state.Current()
	if c.Conv.Kind != chat.KindRoom {
		a.state.SetStatus(true, "/config works in a room's tab: it changes that room's configuration")
		return
	}
	acct := a.state.Account(c.Account)
	if acct == nil || acct.Client == nil {
		a.state.SetStatus(true, "no account")
		return
	}
	a.fetchRoomConfig(acct, c.Conv.JID, false)
	a.state.SetStatus(false, "asking %s for its configuration…", c.Conv.JID)
}

// fetchRoomConfig asks for room's form and remembers that the user waits
// for it; fresh: the room was just made and waits locked.
func (a *App) fetchRoomConfig(acct *Account, room string, fresh bool) {
	r := a.rooms()
	r.mu.Lock()
	r.fetching[roomKey(acct.Name, room)] = true
	if fresh {
		r.fresh[roomKey(acct.Name, room)] = true
	}
	r.mu.Unlock()
	acct.Client.Do(chat.FetchRoomConfig{Room: room})
}

// roomDialogEvent handles the events of the room dialogs, after the model
// has applied them: it opens the list and the form the user asked for, and
// asks for the form of a room our join made locked. It reports whether the
// event was one of these.
func (a *App) roomDialogEvent(account string, ev chat.Event) bool {
	r := a.rooms()
	switch e := ev.(type) {
	case chat.RoomsListed:
		r.mu.Lock()
		asked := r.listing[account] > 0
		if asked {
			r.listing[account]--
		}
		r.mu.Unlock()
		if asked {
			a.roomListDialog(account, e)
		}
		return true
	case chat.RoomConfigForm:
		k := roomKey(account, e.Room)
		r.mu.Lock()
		asked := r.fetching[k]
		delete(r.fetching, k)
		r.mu.Unlock()
		if asked {
			a.roomConfigDialog(account, e)
		}
		return true
	case chat.RoomJoined:
		if !e.Configure {
			return false
		}
		if acct := a.state.Account(account); acct != nil && acct.Client != nil {
			a.fetchRoomConfig(acct, e.Room, true)
		}
		return true
	case chat.CommandFailed:
		r.mu.Lock()
		defer r.mu.Unlock()
		switch c := e.Command.(type) {
		case chat.ListRooms:
			if r.listing[account] > 0 {
				r.listing[account]--
			}
			return true
		case chat.FetchRoomConfig:
			delete(r.fetching, roomKey(account, c.Room))
			return true
		}
	case chat.RoomLeft:
		r.mu.Lock()
		delete(r.fetching, roomKey(account, e.Room))
		delete(r.fresh, roomKey(account, e.Room))
		r.mu.Unlock()
	}
	return false
}

// roomCommandName says what a room dialog's command tried, for "could not
// …" when it fails.
func roomCommandName(c chat.Command) (string, bool) {
	switch c := c.(type) {
	case chat.ListRooms:
		if c.Service == "" {
			return "list the public rooms", true
		}
		return "list the public rooms of " + c.Service, true
	case chat.FetchRoomConfig:
		return "get the configuration of " + c.Room, true
	case chat.SubmitRoomConfig:
		return "configure " + c.Room, true
	case chat.CancelRoomConfig:
		return "cancel the configuration of " + c.Room, true
	}
	return "", false
}

const roomListPage = "rooms"

// roomListDialog lists a service's public rooms: type to filter, Enter
// joins the selected room, Esc closes. Names and JIDs are remote text,
// drawn cell by cell by JumpList.
func (a *App) roomListDialog(account string, ev chat.RoomsListed) {
	svc := shortenMiddle(ev.Service, 48)
	if len(ev.Rooms) == 0 {
		a.state.SetStatus(false, "no public rooms on %s", svc)
		return
	}
	n := "1 public room"
	if len(ev.Rooms) != 1 {
		n = fmt.Sprintf("%d public rooms", len(ev.Rooms))
	}
	a.roomPicker(account, ev.Rooms, n+" on "+Sanitize(svc), func(jid string) {
		if acct := a.state.Account(account); acct != nil && acct.Client != nil {
			a.joinRoom(acct, jid, acct.defaultNick(), "", false)
			a.state.SetStatus(false, "joining %s…", shortenMiddle(jid, jidCells))
		}
	})
}

// roomPicker lists rooms (names and JIDs are remote text, drawn cell by
// cell) with a filter; Enter calls pick with the chosen room, Esc closes.
// title is already sanitised.
func (a *App) roomPicker(account string, rooms []chat.RoomItem, title string, pick func(jid string)) {
	if a.pages.HasPage(roomListPage) {
		a.closeDialog(roomListPage)
	}
	all := make([]jumpTarget, 0, len(rooms))
	for _, rm := range rooms {
		label := rm.JID
		if name := strings.TrimSpace(rm.Name); name != "" && name != rm.JID {
			label = shorten(name, nameCells) + "  " + rm.JID
		}
		all = append(all, jumpTarget{account: account, conv: chat.RoomConv(rm.JID), label: label})
	}
	list := &JumpList{Box: tview.NewBox()}
	filter := list.filterBy(all)
	filter("")
	input := tview.NewInputField().SetLabel("Filter: ").SetFieldStyle(tcell.StyleDefault.Underline(true))
	input.SetChangedFunc(filter)
	input.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		switch ev.Key() {
		case tcell.KeyUp, tcell.KeyCtrlP:
			list.selected = max(0, list.selected-1)
		case tcell.KeyDown, tcell.KeyCtrlN:
			list.selected = max(0, min(len(list.items)-1, list.selected+1))
		case tcell.KeyPgUp:
			list.selected = max(0, list.selected-10)
		case tcell.KeyPgDn:
			list.selected = max(0, min(len(list.items)-1, list.selected+10))
		case tcell.KeyEnter:
			if list.selected >= len(list.items) {
				return nil // nothing matches: nothing to join
			}
			t := list.items[list.selected]
			a.closeDialog(roomListPage)
			pick(t.conv.JID)
		case tcell.KeyEscape:
			a.closeDialog(roomListPage)
		default:
			return ev
		}
		return nil
	})
	box := tview.NewFlex().SetDirection(tview.FlexRow).AddItem(input, 1, 0, true).AddItem(list, 0, 1, false)
	box.SetBorder(true).SetTitle(" " + title + " — Enter joins, Esc closes ")
	a.showFitted(roomListPage, box, 100, func(int, int) int { return len(all) + 3 })
}

const roomConfigPage = "roomconfig"

// Limits for the form's remote text, in cells.
const (
	formLabelCells       = 32  // a field's label, with what it says of the field
	formOptionCells      = 40  // a list option (in a list-multi's label: less)
	formTextCells        = 240 // a fixed text line (cut to one row as drawn)
	formTitleCells       = 72  // the form's title: one row of an 80-column screen
	formInstructionCells = 144 // its instructions: two rows
	formHeaderRows       = 4   // rows above the fields at most
)

// configField is one field the user can change: its var, the values the
// widget showed at first (read back as the widget reads them) and what it
// holds now.
type configField struct {
	name  string
	first []string
	now   func() []string
}

// roomConfigDialog shows a room's configuration form (XEP-0004): one
// widget per field, hidden fields not shown (the client sends them back as
// they came). Save sends the fields the user changed; Cancel (and Esc)
// leaves the configuration as it is, and for a room our join just made,
// tells the room so (it is then not opened).
func (a *App) roomConfigDialog(account string, ev chat.RoomConfigForm) {
	if a.pages.HasPage(roomConfigPage) {
		a.closeDialog(roomConfigPage)
	}
	k := roomKey(account, ev.Room)
	r := a.rooms()
	r.mu.Lock()
	fresh := r.fresh[k]
	r.mu.Unlock()
	room := shortenMiddle(ev.Room, 48)

	var header []string
	if fresh {
		header = append(header, "This room is new and stays locked until you save; Cancel gives it up.")
	}
	if t := strings.TrimSpace(ev.Form.Title); t != "" {
		header = append(header, shorten(t, formTitleCells))
	}
	if in := strings.TrimSpace(ev.Form.Instructions); in != "" {
		header = append(header, shorten(in, formInstructionCells))
	}
	head := NewLabel(strings.Join(header, "\n"))

	form := newForm()
	form.SetItemPadding(0).SetBorderPadding(0, 0, 1, 1)
	var fields []configField
	var descs []string // by form item: its field's description
	editable := func(name, shown string, parse func(string) []string, in *tview.InputField) {
		fields = append(fields, configField{name: name, first: parse(shown), now: func() []string { return parse(in.GetText()) }})
	}
	for _, f := range ev.Form.Fields {
		full := f.Label
		if strings.TrimSpace(full) == "" {
			full = f.Var
		}
		req := ""
		if f.Required {
			req = " *"
		}
		// label is the field's label for the form (tview text): its name
		// shortened so that with suffix it takes formLabelCells at most.
		// Where the name is cut, the hint line shows it whole.
		cut := false
		label := func(suffix string) string {
			room := max(8, formLabelCells-width(req+suffix))
			cut = cut || width(full) > room
			return Sanitize(shorten(full, room) + req + suffix)
		}
		name := label("")
		switch f.Type {
		case "hidden":
			continue
		case "fixed":
			text := strings.Join(f.Values, " ")
			if strings.TrimSpace(f.Label) != "" {
				text = f.Label + ": " + text
			}
			form.AddFormItem(newFormNote(shorten(text, formTextCells)))
		case "boolean":
			on := len(f.Values) > 0 && (f.Values[0] == "1" || f.Values[0] == "true")
			cb := addCheckbox(form, name, on)
			fields = append(fields, configField{name: f.Var, first: boolValue(on), now: func() []string { return boolValue(cb.IsChecked()) }})
		case "text-private":
			shown := plainText(strings.Join(f.Values, ""))
			in := addPassword(form, name, 0, nil)
			in.SetText(shown)
			editable(f.Var, shown, oneValue, in)
		case "jid-multi":
			shown := plainText(strings.Join(f.Values, ", "))
			in := addInput(form, label(" (a, b)"), shown, 0, nil)
			editable(f.Var, shown, splitComma, in)
		case "text-multi":
			shown := plainText(strings.Join(f.Values, " | "))
			in := addInput(form, label(" (lines: a | b)"), shown, 0, nil)
			editable(f.Var, shown, splitBar, in)
		case "list-single":
			opts, values := formOptions(f.Options)
			if len(opts) == 0 { // nothing to choose from: a line of text
				shown := plainText(strings.Join(f.Values, " "))
				editable(f.Var, shown, oneValue, addInput(form, name, shown, 0, nil))
				break
			}
			choice := -1
			for i, v := range values {
				if len(f.Values) > 0 && v == f.Values[0] {
					choice = i
				}
			}
			picked := choice
			shown := make([]string, len(opts))
			for i, o := range opts {
				shown[i] = Sanitize(o)
			}
			addDropDown(form, name, shown, choice, func(_ string, i int) { picked = i })
			first := f.Values
			if choice >= 0 {
				first = []string{values[choice]}
			}
			fields = append(fields, configField{name: f.Var, first: first, now: func() []string {
				if picked < 0 || picked >= len(values) {
					return first
				}
				return []string{values[picked]}
			}})
		case "list-multi":
			opts, values := formOptions(f.Options)
			on := map[string]bool{}
			for _, v := range f.Values {
				on[v] = true
			}
			var boxes []*tview.Checkbox
			for i, o := range opts {
				boxes = append(boxes, addCheckbox(form, label(": "+shorten(o, 16)), on[values[i]]))
			}
			checked := func() []string {
				var out []string
				for i, b := range boxes {
					if b.IsChecked() {
						out = append(out, values[i])
					}
				}
				return out
			}
			fields = append(fields, configField{name: f.Var, first: checked(), now: checked})
		default: // text-single, jid-single, and types gab does not know
			shown := plainText(strings.Join(f.Values, " "))
			in := addInput(form, name, shown, 0, nil)
			editable(f.Var, shown, oneValue, in)
		}
		desc := strings.TrimSpace(f.Desc)
		if cut && desc != "" {
			desc = full + " — " + desc
		} else if cut {
			desc = full
		}
		for len(descs) < form.GetFormItemCount() {
			descs = append(descs, desc)
		}
	}
	done := func() {
		r.mu.Lock()
		delete(r.fresh, k)
		r.mu.Unlock()
		a.closeDialog(roomConfigPage)
	}
	acct := a.state.Account(account)
	addButton(form, "Save", func() {
		values := map[string][]string{}
		for _, f := range fields {
			if now := f.now(); !sameValues(now, f.first) {
				values[f.name] = now
			}
		}
		if len(values) == 0 && !fresh {
			a.state.SetStatus(false, "nothing changed in %s", room)
			done()
			return
		}
		if acct != nil && acct.Client != nil {
			acct.Client.Do(chat.SubmitRoomConfig{Room: ev.Room, Values: values})
			a.state.SetStatus(false, "saving the configuration of %s…", room)
		}
		done()
	})
	cancel := func() {
		if fresh && acct != nil && acct.Client != nil {
			acct.Client.Do(chat.CancelRoomConfig{Room: ev.Room})
			a.state.SetStatus(false, "%s not created: its configuration was cancelled", room)
		}
		done()
	}
	addButton(form, "Cancel", cancel)
	form.SetCancelFunc(cancel)

	hint := &formHint{Box: tview.NewBox(), form: form, descs: descs,
		text: "Tab, Shift+Tab: next, previous · Space: tick · Save is last · Esc: cancel"}
	hint.SetBorderPadding(0, 0, 1, 1)
	box := tview.NewFlex().SetDirection(tview.FlexRow)
	head.SetBorderPadding(0, 0, 1, 1)
	headerRows := func(w int) int {
		if len(header) == 0 {
			return 0
		}
		return min(formHeaderRows, head.Rows(max(1, w-4)))
	}
	rows := 0
	box.AddItem(head, 0, 0, false)
	box.AddItem(form, 0, 1, true)
	box.AddItem(hint, 1, 0, false)
	title := " Configure " + Sanitize(room) + " "
	if fresh {
		title = " Configure the new room " + Sanitize(room) + " "
	}
	box.SetBorder(true).SetTitle(title)
	formRows := form.GetFormItemCount() + 2 // the blank row, the buttons
	a.showFitted(roomConfigPage, box, 78, func(w, maxH int) int {
		if hr := headerRows(w); hr != rows {
			rows = hr
			box.ResizeItem(head, hr, 0)
		}
		return rows + formRows + 1 + 2
	})
}

// boolValue is a boolean field's value.
func boolValue(on bool) []string {
	if on {
		return []string{"1"}
	}
	return []string{"0"}
}

func oneValue(s string) []string { return []string{s} }

// splitComma reads a list of JIDs typed "a, b".
func splitComma(s string) []string { return splitOn(s, ",") }

// splitBar reads lines typed "a | b".
func splitBar(s string) []string { return splitOn(s, "|") }

func splitOn(s, sep string) []string {
	var out []string
	for _, p := range strings.Split(s, sep) {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

func sameValues(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// formOptions are a list field's options as shown (label, else value;
// cleaned and shortened, not yet sanitised for tview) and as sent.
func formOptions(opts []chat.FormOption) (shown, values []string) {
	for _, o := range opts {
		l := o.Label
		if strings.TrimSpace(l) == "" {
			l = o.Value
		}
		shown = append(shown, shorten(l, formOptionCells))
		values = append(values, o.Value)
	}
	return shown, values
}

// focusCheckbox is a form's checkbox that shows whether it has focus.
type focusCheckbox struct {
	*tview.Checkbox
}

// SetFormAttributes is called by the form before each draw.
func (c focusCheckbox) SetFormAttributes(labelWidth int, labelColor, bgColor, fieldTextColor, fieldBgColor tcell.Color) tview.FormItem {
	c.Checkbox.SetFormAttributes(labelWidth, labelColor, bgColor, fieldTextColor, fieldBgColor)
	c.SetCheckedStyle(theme.fieldStyle()).SetUncheckedStyle(theme.fieldStyle())
	c.SetActivatedStyle(theme.focusStyle())
	label := tcell.StyleDefault.Foreground(labelColor).Background(bgColor)
	if c.HasFocus() {
		label = label.Bold(true)
	}
	c.SetLabelStyle(label)
	return c
}

// addCheckbox adds a checkbox that shows focus; label is tview text
// (sanitised by the caller).
func addCheckbox(f *tview.Form, label string, checked bool) *tview.Checkbox {
	cb := tview.NewCheckbox().SetLabel(label).SetChecked(checked).SetCheckedString("X")
	f.AddFormItem(focusCheckbox{cb})
	return cb
}

// formNote is a line of text in a form (a fixed field): remote text drawn
// cell by cell, which Tab passes over.
type formNote struct {
	*Label
	finished func(tcell.Key)
}

func newFormNote(text string) *formNote {
	l := NewLabel(text).SetStyle(tcell.StyleDefault.Foreground(theme.Dim))
	return &formNote{Label: l}
}

// GetLabel: a note has no label of its own.
func (n *formNote) GetLabel() string { return "" }

// SetFormAttributes: a note keeps its own style.
func (n *formNote) SetFormAttributes(int, tcell.Color, tcell.Color, tcell.Color, tcell.Color) tview.FormItem {
	return n
}

// GetFieldWidth: a note takes the form's width.
func (n *formNote) GetFieldWidth() int { return 0 }

// GetFieldHeight: one line.
func (n *formNote) GetFieldHeight() int { return 1 }

// SetFinishedFunc keeps the form's handler, to pass the focus on.
func (n *formNote) SetFinishedFunc(h func(tcell.Key)) tview.FormItem {
	n.finished = h
	return n
}

// SetDisabled: a note is never edited.
func (n *formNote) SetDisabled(bool) tview.FormItem { return n }

// Focus passes the focus on in the direction it came from.
func (n *formNote) Focus(delegate func(tview.Primitive)) {
	if n.finished != nil {
		n.finished(-1)
		return
	}
	n.Label.Focus(delegate)
}

// Draw draws the one line, cut with an ellipsis.
func (n *formNote) Draw(screen tcell.Screen) {
	x, y, w, h := n.GetInnerRect()
	if h < 1 || len(n.lines) == 0 {
		return
	}
	drawText(screen, x, y, w, n.lines[0], n.style)
}

// formHint is the line under a form: the focused field's description
// (remote text, drawn cell by cell), else how to use the form.
type formHint struct {
	*tview.Box
	form  *tview.Form
	descs []string
	text  string
}

// Draw draws the hint on one line, cut with an ellipsis.
func (h *formHint) Draw(screen tcell.Screen) {
	h.Box.DrawForSubclass(screen, h)
	x, y, w, rows := h.GetInnerRect()
	if rows < 1 {
		return
	}
	s := h.text
	if i, _ := h.form.GetFocusedItemIndex(); i >= 0 && i < len(h.descs) && strings.TrimSpace(h.descs[i]) != "" {
		s = plainText(h.descs[i])
	}
	drawText(screen, x, y, w, s, tcell.StyleDefault.Foreground(theme.Dim))
}
