package ui

import (
	"sort"

	"fmt"
	"github.com/gab-chat/gab/config"
	"strings"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/roster"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// dialog is an open modal page and where focus returns when it closes.
type dialog struct {
	name  string
	focus tview.Primitive
}

// showDialog opens p as a centred modal page of width × height cells, or
// smaller to fit the screen.
func (a *App) showDialog(name string, p tview.Primitive, width, height int) {
	a.showFitted(name, p, width, func(int, int) int { return height })
}

// showFitted opens p as a centred modal page width cells wide (or the
// screen's width) and as high as fit says for the width it gets and the
// most rows there are.
func (a *App) showFitted(name string, p tview.Primitive, width int, fit func(w, maxH int) int) {
	m := &modal{Box: tview.NewBox(), inner: p, width: width, fit: fit}
	a.dialogs = append(a.dialogs, dialog{name: name, focus: a.tv.GetFocus()})
	a.pages.AddPage(name, m, true, true)
	a.tv.SetFocus(p)
}

// modal centres a dialog on the screen, sized at each draw: never wider
// or higher than the screen, whatever its text.
type modal struct {
	*tview.Box
	inner tview.Primitive
	width int
	fit   func(w, maxH int) int
}

// Draw places the dialog in the middle of the screen and draws it.
func (m *modal) Draw(screen tcell.Screen) {
	sw, sh := screen.Size()
	w := max(1, min(m.width, sw-2))
	maxH := max(1, sh-2)
	h := max(1, min(m.fit(w, maxH), maxH))
	m.inner.SetRect((sw-w)/2, (sh-h)/2, w, h)
	m.inner.Draw(screen)
}

// Focus hands focus to the dialog.
func (m *modal) Focus(delegate func(tview.Primitive)) { delegate(m.inner) }

// HasFocus reports whether the dialog has focus.
func (m *modal) HasFocus() bool { return m.inner.HasFocus() }

// InputHandler passes keys to the dialog.
func (m *modal) InputHandler() func(*tcell.EventKey, func(tview.Primitive)) {
	return m.inner.InputHandler()
}

// MouseHandler passes the mouse to the dialog, and swallows clicks
// outside it: what is behind a modal dialog is not for clicking.
func (m *modal) MouseHandler() func(tview.MouseAction, *tcell.EventMouse, func(tview.Primitive)) (bool, tview.Primitive) {
	return func(action tview.MouseAction, ev *tcell.EventMouse, setFocus func(tview.Primitive)) (bool, tview.Primitive) {
		if h := m.inner.MouseHandler(); h != nil {
			if ok, capture := h(action, ev, setFocus); ok || capture != nil {
				return ok, capture
			}
		}
		return true, nil
	}
}

// PasteHandler passes a paste to the dialog.
func (m *modal) PasteHandler() func(string, func(tview.Primitive)) {
	return m.inner.PasteHandler()
}

// closeDialog closes the topmost dialog called name and gives focus back
// to what had it before: tview.Pages would otherwise hand it to whatever it
// finds first.
func (a *App) closeDialog(name string) {
	for i := len(a.dialogs) - 1; i >= 0; i-- {
		if a.dialogs[i].name != name {
			continue
		}
		d := a.dialogs[i]
		a.dialogs = append(a.dialogs[:i], a.dialogs[i+1:]...)
		a.pages.RemovePage(name)
		if d.focus == a.conv && a.sel.conv == nil {
			// The conversation takes keys only while a message is
			// selected, and selecting ended while the dialog was open
			// (the message left the window): the keys go to the composer.
			d.focus = a.composer
		}
		if d.focus != nil {
			a.tv.SetFocus(d.focus)
		}
		return
	}
}

// dialogOpen reports whether any dialog is showing.
func (a *App) dialogOpen() bool { return len(a.dialogs) > 0 }

// framed puts a label above a form inside a bordered box.
func framed(title string, label *Label, labelRows int, form *tview.Form) *tview.Flex {
	f := tview.NewFlex().SetDirection(tview.FlexRow)
	if label != nil {
		label.SetBorderPadding(0, 0, 1, 1)
		f.AddItem(label, labelRows, 0, false)
	}
	f.AddItem(form, 0, 1, true)
	f.SetBorder(true).SetTitle(" " + title + " ")
	return f
}

const addPage = "add"

// addDialog asks for a contact to add (JID, name, group).
func (a *App) addDialog(account, jid string) {
	label := NewLabel("Add a contact and ask to see their presence.")
	var name, group string
	form := newForm()
	addInput(form, "JID", jid, 36, func(s string) { jid = s })
	addInput(form, "Name", "", 36, func(s string) { name = s })
	addInput(form, "Group", "", 36, func(s string) { group = s })
	addButton(form, "Add", func() {
		bare, err := validJID(strings.TrimSpace(jid))
		if err != nil {
			label.SetText("Not added: " + err.Error()).SetStyle(tcell.StyleDefault.Foreground(theme.Error))
			return
		}
		acct := a.state.Account(account)
		if acct == nil {
			return
		}
		var groups []string
		if g := strings.TrimSpace(group); g != "" {
			groups = []string{g}
		}
		acct.Client.Do(chat.AddContact{JID: bare, Name: strings.TrimSpace(name), Groups: groups})
		acct.Client.Do(chat.Subscribe{JID: bare})
		a.closeDialog(addPage)
	})
	addButton(form, "Cancel", func() { a.closeDialog(addPage) })
	form.SetCancelFunc(func() { a.closeDialog(addPage) })
	a.showDialog(addPage, framed("Add contact", label, 2, form), 56, 13)
}

const removePage = "remove"

// removeDialog asks before removing a contact.
func (a *App) removeDialog(account, jid string) {
	acct := a.state.Account(account)
	if acct == nil {
		return
	}
	// Remote text, shortened so the question is never cut off.
	who := shortenMiddle(jid, 50)
	if c := acct.Roster.Get(jid); c != nil && c.Name != "" {
		who = shorten(c.Name, nickCells) + " <" + who + ">"
	}
	label := NewLabel("Remove " + who + " from your contacts? You will stop seeing each other's presence.")
	form := newForm()
	// Cancel first, with the focus: removing takes a deliberate Tab.
	addButton(form, "Cancel", func() { a.closeDialog(removePage) })
	addButton(form, "Remove", func() {
		acct.Client.Do(chat.RemoveContact{JID: jid})
		a.closeDialog(removePage)
	})
	form.SetCancelFunc(func() { a.closeDialog(removePage) })
	a.showDialog(removePage, framed("Remove contact", label, 4, form), 64, 9)
}

const statusPage = "status"

var statusChoices = []string{"online", "chat", "away", "xa", "dnd"}

// statusDialog sets our presence.
func (a *App) statusDialog() {
	acct := a.account()
	if acct == nil {
		return
	}
	choice := 0
	for i, s := range statusChoices {
		if show, _ := roster.ShowFromStatus(s); show == acct.Show {
			choice = i
		}
	}
	msg := acct.Status
	form := newForm()
	addDropDown(form, "Status", statusChoices, choice, func(_ string, i int) { choice = i })
	addInput(form, "Message", msg, 36, func(s string) { msg = s })
	addButton(form, "Set", func() {
		show, _ := roster.ShowFromStatus(statusChoices[choice])
		acct.Client.Do(chat.SetPresence{Show: show, Status: msg})
		a.closeDialog(statusPage)
	})
	addButton(form, "Cancel", func() { a.closeDialog(statusPage) })
	form.SetCancelFunc(func() { a.closeDialog(statusPage) })
	form.SetBorder(true).SetTitle(" Set status: " + Sanitize(acct.Name) + " ")
	a.showDialog(statusPage, form, 56, 9)
}

const helpPage = "help"

// launchHelp says what the screen shows before the server has answered.
var launchHelp = []string{
	"The contact list saved at the last run is shown at once, everyone offline until their presence comes; the status line says [connecting · saved list] until the server has confirmed it, and then only what changed meanwhile moves.",
	"The tabs open when you quit come back, the same one active, with their stored messages. A room's tab does not join the room (rooms bookmarked to join at login do by themselves): /join ROOM.",
	"A message written before the server answers is kept and sent once connected.",
}

// helpText is what F1 and /help show; bindings are the keys in effect,
// which [keys] in gab.toml may have changed from the ones listed first.
func helpText(bindings map[string]string) string {
	var b strings.Builder
	b.WriteString("Keys (as gab comes)\n")
	for _, k := range keyHelp {
		fmt.Fprintf(&b, "  %-38s %s\n", k[0], k[1])
	}
	b.WriteString("\nActing on a message\n")
	for _, k := range selectKeyHelp {
		fmt.Fprintf(&b, "  %-38s %s\n", k[0], k[1])
	}
	b.WriteString("\nContact list\n")
	for _, k := range rosterKeyHelp {
		fmt.Fprintf(&b, "  %-38s %s\n", k[0], k[1])
	}
	b.WriteString("\nAt launch\n")
	for _, l := range launchHelp {
		fmt.Fprintf(&b, "  %s\n", l)
	}
	b.WriteString("\nCommands\n")
	for _, c := range commandHelp {
		fmt.Fprintf(&b, "  %-38s %s\n", c[0], c[1])
	}
	b.WriteString("\nActions and their keys now (change them in [keys] of gab.toml)\n")
	for _, action := range config.KeyActions {
		var keys []string
		for k, act := range bindings {
			if act == action {
				keys = append(keys, k)
			}
		}
		sort.Strings(keys)
		if len(keys) == 0 {
			keys = []string{"(unbound)"}
		}
		fmt.Fprintf(&b, "  %-38s %s\n", action, strings.Join(keys, ", "))
	}
	b.WriteString("\nEsc, F1 or q closes this help.")
	return b.String()
}

// helpDialog shows the key bindings and commands.
func (a *App) helpDialog() {
	if a.pages.HasPage(helpPage) {
		a.closeDialog(helpPage)
		return
	}
	text := helpText(a.bindings)
	tv := newHelpView(text)
	tv.SetBorder(true).SetTitle(" gab help · Esc closes · ↑ ↓ PgUp PgDn scroll ")
	tv.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		if ev.Key() == tcell.KeyEscape || a.bindings[keyName(ev)] == "help" || (ev.Key() == tcell.KeyRune && ev.Rune() == 'q') {
			a.closeDialog(helpPage)
			return nil
		}
		return ev
	})
	a.showDialog(helpPage, tv, 96, min(40, strings.Count(text, "\n")+3))
}

const searchPage = "search"

// searchDialog lists search results; Enter opens the conversation at the
// message, in context. Bodies and JIDs are remote text, drawn cell by cell.
func (a *App) searchDialog(account string, res chat.SearchResults) {
	if a.pages.HasPage(searchPage) {
		a.closeDialog(searchPage)
	}
	list := &JumpList{Box: tview.NewBox()}
	for _, h := range res.Hits {
		who := h.Conv.JID
		switch {
		case h.Outgoing:
			who = "me → " + h.Conv.JID
		case h.Conv.Kind == chat.KindRoom:
			who = h.Nick + " in " + h.Conv.JID
		}
		list.items = append(list.items, jumpTarget{account: account, conv: h.Conv, storeID: h.StoreID,
			label: h.Time.Local().Format("2006-01-02 15:04") + "  " + who + ": " + hideKeys(h.Body)})
	}
	where := "all conversations"
	if !res.Conv.IsZero() {
		where = res.Conv.JID
	}
	title := fmt.Sprintf(" %d found for “%s” in %s — Enter opens, Esc closes ", len(res.Hits), Sanitize(res.Text), Sanitize(where))
	list.SetBorder(true).SetTitle(title)
	list.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		switch ev.Key() {
		case tcell.KeyUp:
			list.selected = max(0, list.selected-1)
		case tcell.KeyDown:
			list.selected = min(len(list.items)-1, list.selected+1)
		case tcell.KeyEnter:
			a.closeDialog(searchPage)
			if list.selected < len(list.items) {
				t := list.items[list.selected]
				a.openConv(t.account, t.conv)
				if acct := a.state.Account(t.account); acct != nil {
					acct.Client.Do(chat.LoadAround{Conv: t.conv, StoreID: t.storeID})
				}
			}
		case tcell.KeyEscape:
			a.closeDialog(searchPage)
		default:
			return ev
		}
		return nil
	})
	a.showDialog(searchPage, list, 100, 20)
}
