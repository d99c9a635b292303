package ui

import (
	"sort"

	"crypto/x509"
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

// showDialog opens p as a centred modal page.
func (a *App) showDialog(name string, p tview.Primitive, width, height int) {
	grid := tview.NewGrid().SetColumns(0, width, 0).SetRows(0, height, 0).AddItem(p, 1, 1, 1, 1, 0, 0, true)
	a.dialogs = append(a.dialogs, dialog{name: name, focus: a.tv.GetFocus()})
	a.pages.AddPage(name, grid, true, true)
	a.tv.SetFocus(p)
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

// refreshPrompt redraws the open prompt's text, as when more requests
// queue up behind it.
func (a *App) refreshPrompt() {
	if a.promptLabel != nil && len(a.requests) > 0 {
		a.promptLabel.SetText(promptText(a.requests[0], len(a.requests)-1, len(a.state.Accounts) > 1))
	}
}

func promptText(r request, waiting int, showAccount bool) string {
	who := r.jid
	if r.nick != "" {
		who = r.nick + " <" + r.jid + ">"
	}
	text := who + " asks to see your presence."
	if showAccount {
		text += "\nAccount: " + r.account
	}
	if r.status != "" {
		text += "\n“" + r.status + "”"
	}
	if waiting > 0 {
		text += fmt.Sprintf("\n(%d more waiting)", waiting)
	}
	return text
}

// request is a subscription request waiting for an answer.
type request struct {
	account, jid, nick, status string
}

// enqueueRequest adds a subscription request to the prompt queue.
func (a *App) enqueueRequest(r request) {
	for _, q := range a.requests {
		if q.account == r.account && q.jid == r.jid {
			return
		}
	}
	a.requests = append(a.requests, r)
	if len(a.requests) == 1 {
		a.promptRequest()
	} else {
		a.refreshPrompt()
	}
}

const subscriptionPage = "subscription"

// promptRequest shows the first queued request.
func (a *App) promptRequest() {
	if len(a.requests) == 0 {
		return
	}
	r := a.requests[0]
	label := NewLabel("")
	a.promptLabel = label
	a.refreshPrompt()
	done := func() {
		a.closeDialog(subscriptionPage)
		a.requests = a.requests[1:]
		a.promptRequest()
	}
	form := tview.NewForm().
		AddButton("Approve and add back", func() {
			a.approve(r.account, r.jid)
			done()
		}).
		AddButton("Deny", func() {
			a.deny(r.account, r.jid)
			done()
		}).
		AddButton("Later", func() {
			a.closeDialog(subscriptionPage)
			a.requests = a.requests[1:]
			a.state.SetStatus(false, "%s stays in your contacts with a ?; select it and press Enter to answer", r.jid)
			a.promptRequest()
		})
	form.SetCancelFunc(func() {
		a.closeDialog(subscriptionPage)
		a.requests = a.requests[1:]
		a.promptRequest()
	})
	a.showDialog(subscriptionPage, framed("Subscription request", label, 4, form), 64, 9)
}

// approve lets jid see our presence and asks for theirs unless we have it.
// Someone not yet in the roster is added under the nickname they sent
// (XEP-0172), if any.
func (a *App) approve(account, jid string) {
	acct := a.state.Account(account)
	if acct == nil {
		return
	}
	c := acct.Roster.Get(jid)
	if (c == nil || !c.InRoster) && c != nil && c.RequestNick != "" {
		acct.Client.Do(chat.AddContact{JID: jid, Name: c.RequestNick})
	}
	acct.Client.Do(chat.ApproveSubscription{JID: jid})
	if c == nil || (c.Subscription != roster.SubTo && c.Subscription != roster.SubBoth && !c.Ask) {
		acct.Client.Do(chat.Subscribe{JID: jid})
	}
	acct.Roster.SetPendingIn(jid, false, "")
}

func (a *App) deny(account, jid string) {
	acct := a.state.Account(account)
	if acct == nil {
		return
	}
	acct.Client.Do(chat.DenySubscription{JID: jid})
	acct.Roster.SetPendingIn(jid, false, "")
}

const addPage = "add"

// addDialog asks for a contact to add (JID, name, group).
func (a *App) addDialog(account, jid string) {
	label := NewLabel("Add a contact and ask to see their presence.")
	var name, group string
	form := tview.NewForm()
	form.AddInputField("JID", jid, 36, nil, func(s string) { jid = s })
	form.AddInputField("Name", "", 36, nil, func(s string) { name = s })
	form.AddInputField("Group", "", 36, nil, func(s string) { group = s })
	form.AddButton("Add", func() {
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
	form.AddButton("Cancel", func() { a.closeDialog(addPage) })
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
	who := jid
	if c := acct.Roster.Get(jid); c != nil && c.Name != "" {
		who = c.Name + " <" + jid + ">"
	}
	label := NewLabel("Remove " + who + " from your contacts? You will stop seeing each other's presence.")
	form := tview.NewForm().
		AddButton("Remove", func() {
			acct.Client.Do(chat.RemoveContact{JID: jid})
			a.closeDialog(removePage)
		}).
		AddButton("Cancel", func() { a.closeDialog(removePage) })
	form.SetCancelFunc(func() { a.closeDialog(removePage) })
	a.showDialog(removePage, framed("Remove contact", label, 3, form), 60, 8)
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
	form := tview.NewForm()
	form.AddDropDown("Status", statusChoices, choice, func(_ string, i int) { choice = i })
	form.AddInputField("Message", msg, 36, nil, func(s string) { msg = s })
	form.AddButton("Set", func() {
		show, _ := roster.ShowFromStatus(statusChoices[choice])
		acct.Client.Do(chat.SetPresence{Show: show, Status: msg})
		a.closeDialog(statusPage)
	})
	form.AddButton("Cancel", func() { a.closeDialog(statusPage) })
	form.SetCancelFunc(func() { a.closeDialog(statusPage) })
	form.SetBorder(true).SetTitle(" Set status: " + Sanitize(acct.Name) + " ")
	a.showDialog(statusPage, form, 56, 9)
}

const helpPage = "help"

// helpText is what F1 and /help show; bindings are the keys in effect,
// which [keys] in gab.toml may have changed from the ones listed first.
func helpText(bindings map[string]string) string {
	var b strings.Builder
	b.WriteString("Keys (as gab comes)\n")
	for _, k := range keyHelp {
		fmt.Fprintf(&b, "  %-38s %s\n", k[0], k[1])
	}
	b.WriteString("\nContact list\n")
	for _, k := range rosterKeyHelp {
		fmt.Fprintf(&b, "  %-38s %s\n", k[0], k[1])
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
	tv := tview.NewTextView().SetDynamicColors(false).SetText(text).SetScrollable(true)
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

const trustPage = "trust"

// trustDialog asks once whether to pin a certificate no trusted authority
// signed. Subject and issuer come from the server: the Label draws them as
// plain text.
func (a *App) trustDialog(account string, cert *x509.Certificate) {
	if a.pages.HasPage(trustPage) {
		return
	}
	acct := a.state.Account(account)
	if acct == nil {
		return
	}
	text := fmt.Sprintf("The server of account %s presented a certificate that no authority you trust has signed.\n\n"+
		"Subject:  %s\nIssuer:   %s\nValid:    %s to %s\nSHA-256 fingerprint:\n%s\n\n"+
		"Trust it only if this fingerprint is the one your server's administrator gave you. "+
		"gab will remember it and refuse any other certificate for this account.",
		account, cert.Subject, cert.Issuer, cert.NotBefore.Format("2006-01-02"), cert.NotAfter.Format("2006-01-02"), chat.Fingerprint(cert))
	label := NewLabel(text)
	form := tview.NewForm().
		AddButton("Trust and connect", func() {
			acct.Client.Do(chat.TrustCertificate{DER: cert.Raw})
			a.closeDialog(trustPage)
		}).
		AddButton("Cancel", func() { a.closeDialog(trustPage) })
	form.SetCancelFunc(func() { a.closeDialog(trustPage) })
	a.showDialog(trustPage, framed("Untrusted certificate", label, 12, form), 100, 17)
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
		who := h.Peer
		if h.Outgoing {
			who = "me → " + h.Peer
		}
		list.items = append(list.items, jumpTarget{account: account, jid: h.Peer, storeID: h.StoreID,
			label: h.Time.Local().Format("2006-01-02 15:04") + "  " + who + ": " + h.Body})
	}
	where := "all conversations"
	if res.Peer != "" {
		where = res.Peer
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
				a.openChat(t.account, t.jid)
				if acct := a.state.Account(t.account); acct != nil {
					acct.Client.Do(chat.LoadAround{Peer: t.jid, StoreID: t.storeID})
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
