package ui

import (
	"crypto/x509"
	"fmt"
	"strings"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/room"
	"github.com/gab-chat/gab/roster"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

// What the network starts — someone asks to see our presence, a server
// shows a certificate nobody we trust signed, a login fails for want of
// the right password — never takes the keyboard:
// it is a notice (a console line, a count in the status line, the contact
// marked in the list, a notification) and waits in a list until the user
// opens it (the requests action, /requests, /trust, Enter on the contact).
// In the dialogs, Enter alone never accepts.

// promptKind says what a pending item asks.
type promptKind int

const (
	promptRequest    promptKind = iota // a subscription request
	promptCert                         // an untrusted certificate
	promptPassword                     // a password to type: refused, or none to try
	promptInvitation                   // an invitation to a room (jid is the room)
)

// pendingPrompt is one question waiting for the user's answer.
type pendingPrompt struct {
	kind    promptKind
	account string
	jid     string // for a request: the bare JID asking (remote text)
	nick    string // for a request: the nickname they sent (remote text)
	status  string // for a request: their message (remote text)
	cert    *x509.Certificate
	why     string // for a password: why the login failed (may hold server text)
	// For an invitation: who invites (remote text), the room's password
	// if the invitation gave one.
	from, password string
}

func (p pendingPrompt) same(q pendingPrompt) bool {
	return p.kind == q.kind && p.account == q.account && p.jid == q.jid
}

// Limits for remote text in the prompts, in cells.
const (
	nickCells   = 40  // a suggested name, shown: one line
	nameCells   = 64  // a suggested name, taken into the name field
	jidCells    = 120 // a JID: at most two lines of a dialog
	statusCells = 120 // a request's message
)

// shortenMiddle is shorten for JIDs: the cut is in the middle, so the
// start and the domain at the end both stay in view.
func shortenMiddle(s string, n int) string {
	s = plainText(s)
	cs := clusters(s)
	if width(s) <= n {
		return s
	}
	half := (n - 1) / 2
	var head, tail strings.Builder
	used := 0
	for _, c := range cs {
		if used+c.width > half {
			break
		}
		head.WriteString(string(c.runes))
		used += c.width
	}
	var rev []cluster
	used = 0
	for i := len(cs) - 1; i >= 0; i-- {
		if used+cs[i].width > n-1-half {
			break
		}
		rev = append(rev, cs[i])
		used += cs[i].width
	}
	for i := len(rev) - 1; i >= 0; i-- {
		tail.WriteString(string(rev[i].runes))
	}
	return head.String() + "…" + tail.String()
}

// promptPrefix names the account when there are several.
func (a *App) promptPrefix(account string) string {
	if len(a.state.Accounts) > 1 {
		return account + ": "
	}
	return ""
}

func (a *App) findPrompt(p pendingPrompt) int {
	for i, q := range a.prompts {
		if q.same(p) {
			return i
		}
	}
	return -1
}

// noteRequest records a subscription request: a notice, never a dialog.
// The same JID asking again updates what it sent, without a new line.
func (a *App) noteRequest(account string, e chat.SubscriptionRequested) {
	p := pendingPrompt{kind: promptRequest, account: account, jid: e.From, nick: e.Nick, status: e.Status}
	if i := a.findPrompt(p); i >= 0 {
		a.prompts[i] = p
		a.refreshPrompts()
		return
	}
	a.prompts = append(a.prompts, p)
	nick := ""
	if e.Nick != "" {
		nick = " (suggests “" + shorten(e.Nick, nickCells) + "”)"
	}
	a.state.Log(LineInfo, "%s%s asks to see your presence%s — %s to answer",
		a.promptPrefix(account), shortenMiddle(e.From, jidCells), nick, a.answerKey())
	a.notify.prompt(account, e.From, shorten(e.From, nickCells)+" asks to see your presence")
	a.refreshPrompts()
}

// withdrawRequest forgets the request of jid, who took it back (State
// has cleared the contact's mark and said so in the console).
func (a *App) withdrawRequest(account, jid string) {
	i := a.findPrompt(pendingPrompt{kind: promptRequest, account: account, jid: jid})
	if i < 0 {
		return
	}
	a.prompts = append(a.prompts[:i], a.prompts[i+1:]...)
	if a.openPrompt != nil && a.openPrompt.same(pendingPrompt{kind: promptRequest, account: account, jid: jid}) {
		a.closeDialog(requestPage)
	}
	a.refreshPrompts()
}

// noteUntrusted records a certificate to check for account.
func (a *App) noteUntrusted(account string, cert *x509.Certificate) {
	p := pendingPrompt{kind: promptCert, account: account, cert: cert}
	if i := a.findPrompt(p); i >= 0 {
		a.prompts[i] = p
	} else {
		a.prompts = append(a.prompts, p)
	}
	a.state.Log(LineError, "account %s: the server's certificate is signed by no authority you trust — %s or /trust to check it",
		account, a.answerKey())
	a.notify.prompt(account, "", "account "+account+": a certificate to check")
	a.refreshPrompts()
}

// notePassword records that account needs a password typed: the server
// refused the one tried, or there was none (password_command failed).
// A notice like the others: the dialog opens only when the user asks.
func (a *App) notePassword(account string, why error) {
	p := pendingPrompt{kind: promptPassword, account: account}
	if why != nil {
		p.why = why.Error()
	}
	if i := a.findPrompt(p); i >= 0 {
		a.prompts[i] = p
	} else {
		a.prompts = append(a.prompts, p)
	}
	a.state.Log(LineError, "account %s: no password it could log in with — %s or /password to type one for this session",
		account, a.answerKey())
	a.notify.prompt(account, "", "account "+account+": a password to type")
	a.refreshPrompts()
}

// connected drops the certificate and password questions of an account
// that connected.
func (a *App) connected(account string) {
	for _, k := range []struct {
		kind promptKind
		page string
	}{{promptCert, trustPage}, {promptPassword, passwordPage}} {
		if i := a.findPrompt(pendingPrompt{kind: k.kind, account: account}); i >= 0 {
			a.prompts = append(a.prompts[:i], a.prompts[i+1:]...)
			if a.openPrompt != nil && a.openPrompt.kind == k.kind && a.openPrompt.account == account {
				a.closeDialog(k.page)
			}
			a.refreshPrompts()
		}
	}
}

// answered removes p from the list and returns to the list, or closes it
// when nothing is left.
func (a *App) answered(p pendingPrompt) {
	if i := a.findPrompt(p); i >= 0 {
		a.prompts = append(a.prompts[:i], a.prompts[i+1:]...)
	}
	a.refreshPrompts()
}

// pendingSummary is the status line's count, "" when nothing waits.
func (a *App) pendingSummary() string {
	var reqs, certs, passwords, invites int
	for _, p := range a.prompts {
		switch p.kind {
		case promptCert:
			certs++
		case promptPassword:
			passwords++
		case promptInvitation:
			invites++
		default:
			reqs++
		}
	}
	var parts []string
	if reqs == 1 {
		parts = append(parts, "1 request")
	} else if reqs > 1 {
		parts = append(parts, fmt.Sprintf("%d requests", reqs))
	}
	if certs == 1 {
		parts = append(parts, "1 certificate")
	} else if certs > 1 {
		parts = append(parts, fmt.Sprintf("%d certificates", certs))
	}
	if passwords == 1 {
		parts = append(parts, "1 password")
	} else if passwords > 1 {
		parts = append(parts, fmt.Sprintf("%d passwords", passwords))
	}
	if invites == 1 {
		parts = append(parts, "1 invitation")
	} else if invites > 1 {
		parts = append(parts, fmt.Sprintf("%d invitations", invites))
	}
	if len(parts) == 0 {
		return ""
	}
	return strings.Join(parts, ", ") + " · " + a.answerKey() + " to answer"
}

// answerKey names what opens the list: the requests action's key, or the
// command when no key is bound to it.
func (a *App) answerKey() string {
	if k := a.keyFor("requests"); k != "(unbound)" {
		return k
	}
	return "/requests"
}

const promptsPage = "prompts"

// promptLabel is one row of the list.
func (a *App) promptLabel(p pendingPrompt) string {
	if p.kind == promptCert {
		return "certificate of account " + p.account + "'s server — SHA-256 " + chat.Fingerprint(p.cert)
	}
	if p.kind == promptPassword {
		return "password for account " + p.account + " — the login failed; type it for this session"
	}
	if p.kind == promptInvitation {
		s := "invitation  to " + shortenMiddle(p.jid, jidCells) + "  from " + shortenMiddle(p.from, jidCells)
		if len(a.state.Accounts) > 1 {
			s += "  for " + p.account
		}
		return s
	}
	s := "request  " + shortenMiddle(p.jid, jidCells)
	if p.nick != "" {
		s += "  (suggests “" + shorten(p.nick, nickCells) + "”)"
	}
	if len(a.state.Accounts) > 1 {
		s += "  to " + p.account
	}
	return s
}

// openPrompts shows the list of questions waiting for an answer, oldest
// first; Enter opens the selected one.
func (a *App) openPrompts() {
	if len(a.prompts) == 0 {
		a.state.SetStatus(false, "nothing waits for your answer")
		return
	}
	if a.pages.HasPage(promptsPage) {
		return
	}
	list := &JumpList{Box: tview.NewBox()}
	a.promptList = list
	list.SetBorder(true).SetTitle(" Waiting for your answer · Enter opens · D denies strangers · Esc closes ")
	list.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		switch ev.Key() {
		case tcell.KeyUp:
			list.selected = max(0, list.selected-1)
		case tcell.KeyDown:
			list.selected = min(len(list.items)-1, list.selected+1)
		case tcell.KeyEnter:
			if list.selected < len(a.prompts) {
				a.openPromptAt(list.selected)
			}
		case tcell.KeyEscape:
			a.closeDialog(promptsPage)
		default:
			switch {
			case ev.Key() == tcell.KeyRune && ev.Rune() == 'q':
				a.closeDialog(promptsPage)
			case ev.Key() == tcell.KeyRune && ev.Rune() == 'D':
				// Capital D: denying many at once is asked for with
				// a key no Enter or stray letter presses.
				a.denyStrangers()
			}
		}
		return nil
	})
	a.fillPromptList()
	// As high as the list, which grows and shrinks while it is open.
	a.showFitted(promptsPage, list, 76, func(int, int) int { return min(14, len(list.items)+2) })
}

// fillPromptList puts the pending prompts in the open list.
func (a *App) fillPromptList() {
	l := a.promptList
	if l == nil {
		return
	}
	l.items = l.items[:0]
	for _, p := range a.prompts {
		conv := chat.ChatWith(p.jid)
		if p.kind == promptInvitation {
			conv = chat.RoomConv(p.jid)
		}
		l.items = append(l.items, jumpTarget{account: p.account, conv: conv, label: a.promptLabel(p)})
	}
	l.selected = max(0, min(l.selected, len(l.items)-1))
}

// refreshPrompts brings the open list up to date with a.prompts; an
// emptied list closes.
func (a *App) refreshPrompts() {
	if !a.pages.HasPage(promptsPage) {
		return
	}
	if len(a.prompts) == 0 {
		a.closeDialog(promptsPage)
		return
	}
	a.fillPromptList()
}

// openPromptAt opens the dialog of the i-th pending prompt.
func (a *App) openPromptAt(i int) {
	p := a.prompts[i]
	switch p.kind {
	case promptCert:
		a.trustDialog(p)
	case promptPassword:
		a.passwordDialog(p)
	case promptInvitation:
		a.invitationDialog(p)
	default:
		a.requestDialog(p)
	}
}

const requestPage = "request"

// requestDialog asks what to do with a subscription request. The focused
// button when it opens is Later: Enter alone answers nothing; approving
// takes Tab, Tab, Enter. The JID is shown whole (up to two lines, cut in
// the middle beyond) and apart from the name they suggest, which goes in
// an editable field: it becomes the contact's name only as shown there.
func (a *App) requestDialog(p pendingPrompt) {
	acct := a.state.Account(p.account)
	if acct == nil || a.pages.HasPage(requestPage) {
		return
	}
	c := acct.Roster.Get(p.jid)
	inRoster := c != nil && c.InRoster
	// The JID first: in a small window the text is cut from the end.
	lines := []string{"JID:      " + shortenMiddle(p.jid, jidCells), "asks to see your presence (online, away, status message)."}
	if p.nick != "" {
		lines = append(lines, "Suggests: “"+shorten(p.nick, nickCells)+"” (a name they chose; yours below)")
	}
	if len(a.state.Accounts) > 1 {
		lines = append(lines, "Account:  "+p.account)
	}
	if p.status != "" {
		lines = append(lines, "Message:  “"+shorten(p.status, statusCells)+"”")
	}
	const width = 76
	label := NewLabel(strings.Join(lines, "\n"))
	rows := label.Rows(width - 4)
	name := ""
	if !inRoster {
		// What the field shows is what is stored: cut, never marked "…".
		name = cut(p.nick, nameCells)
	}
	form := newForm()
	if !inRoster {
		addInput(form, "Name in your contacts", name, 40, func(s string) { name = s })
	}
	done := func() {
		a.closeDialog(requestPage)
		a.openPrompt = nil
	}
	later := func() {
		done()
		a.state.Log(LineInfo, "%s%s: answer later (%s or Enter on them in the contact list)", a.promptPrefix(p.account), shortenMiddle(p.jid, jidCells), a.answerKey())
	}
	addButton(form, "Later", later)
	addButton(form, "Deny", func() {
		done()
		a.deny(p.account, p.jid)
	})
	addButton(form, "Approve and add back", func() {
		done()
		a.approve(p.account, p.jid, strings.TrimSpace(name))
	})
	form.SetCancelFunc(later)
	// Later has the focus: after the name field, if there is one.
	laterIndex, formRows := 0, 3
	if !inRoster {
		laterIndex, formRows = 1, 5
	}
	form.SetFocus(laterIndex)
	title := "Subscription request"
	if n := a.countKind(promptRequest); n > 1 {
		title += fmt.Sprintf(" (%d waiting)", n)
	}
	a.openPrompt = &p
	box := framed(title, label, rows, form)
	a.showFitted(requestPage, box, width, func(w, maxH int) int {
		rows := min(label.Rows(w-4), max(1, maxH-formRows-2))
		box.ResizeItem(label, rows, 0)
		return rows + formRows + 2
	})
}

func (a *App) countKind(k promptKind) int {
	n := 0
	for _, p := range a.prompts {
		if p.kind == k {
			n++
		}
	}
	return n
}

// approve lets jid see our presence and asks for theirs unless we have it.
// Someone not yet in the contacts is added under name, the one the user
// saw and kept ("" for none).
func (a *App) approve(account, jid, name string) {
	acct := a.state.Account(account)
	if acct == nil {
		return
	}
	c := acct.Roster.Get(jid)
	added := ""
	if (c == nil || !c.InRoster) && name != "" {
		acct.Client.Do(chat.AddContact{JID: jid, Name: name})
		added = " as “" + name + "”"
	}
	acct.Client.Do(chat.ApproveSubscription{JID: jid})
	asked := ""
	if c == nil || (c.Subscription != roster.SubTo && c.Subscription != roster.SubBoth && !c.Ask) {
		acct.Client.Do(chat.Subscribe{JID: jid})
		asked = "; asked to see theirs"
	}
	acct.Roster.SetPendingIn(jid, false, "")
	a.state.Log(LineInfo, "%sapproved %s%s: they see your presence%s", a.promptPrefix(account), shortenMiddle(jid, jidCells), added, asked)
	a.answered(pendingPrompt{kind: promptRequest, account: account, jid: jid})
}

func (a *App) deny(account, jid string) {
	acct := a.state.Account(account)
	if acct == nil {
		return
	}
	acct.Client.Do(chat.DenySubscription{JID: jid})
	acct.Roster.SetPendingIn(jid, false, "")
	a.state.Log(LineInfo, "%sdenied %s: they do not see your presence", a.promptPrefix(account), shortenMiddle(jid, jidCells))
	a.answered(pendingPrompt{kind: promptRequest, account: account, jid: jid})
}

// stranger reports whether jid is not among the account's contacts.
func (a *App) stranger(account, jid string) bool {
	acct := a.state.Account(account)
	if acct == nil {
		return true
	}
	c := acct.Roster.Get(jid)
	return c == nil || !c.InRoster
}

// denyStrangers denies every waiting subscription request from someone
// not in the contacts, with one console line for them all.
func (a *App) denyStrangers() {
	denied := 0
	for _, p := range append([]pendingPrompt(nil), a.prompts...) {
		if p.kind != promptRequest || !a.stranger(p.account, p.jid) {
			continue
		}
		if acct := a.state.Account(p.account); acct != nil {
			acct.Client.Do(chat.DenySubscription{JID: p.jid})
			acct.Roster.SetPendingIn(p.jid, false, "")
		}
		a.answered(p)
		denied++
	}
	if denied == 0 {
		a.state.SetStatus(false, "no request from a stranger waits")
		return
	}
	what := "requests"
	if denied == 1 {
		what = "request"
	}
	a.state.Log(LineInfo, "denied %d %s from people not in your contacts: they do not see your presence", denied, what)
}

const trustPage = "trust"

// hexDigits is a fingerprint, or its start, as compared: without colons
// or spaces, upper case.
func hexDigits(s string) string {
	return strings.ToUpper(strings.NewReplacer(":", "", " ", "").Replace(s))
}

// trustDialog shows a certificate no trusted authority signed. Trusting it
// takes typing the first four characters of its fingerprint (so the user
// has looked at it) and then pressing "Trust and connect"; Enter alone, a
// stray key or a wrong guess never trusts. Subject and issuer come from
// the server: the Label draws them as plain text.
func (a *App) trustDialog(p pendingPrompt) {
	if a.pages.HasPage(trustPage) {
		return
	}
	acct := a.state.Account(p.account)
	if acct == nil {
		return
	}
	cert := p.cert
	fp := chat.Fingerprint(cert)
	want := hexDigits(fp)[:4]
	text := fmt.Sprintf("The server of account %s presented a certificate no authority you trust has signed.\n"+
		"Subject:  %s\nIssuer:   %s\nValid:    %s to %s\nSHA-256:  %s\n\n"+
		"Trust it only if this fingerprint is the one your server's administrator gave you: gab will remember it "+
		"and refuse any other certificate for this account. To trust it, type the fingerprint's first four "+
		"characters below, then choose Trust and connect.",
		p.account, shorten(cert.Subject.String(), statusCells), shorten(cert.Issuer.String(), statusCells),
		cert.NotBefore.Format("2006-01-02"), cert.NotAfter.Format("2006-01-02"), twoLines(fp))
	const width = 100
	label := NewLabel(text)
	rows := label.Rows(width - 4)
	problem := NewLabel("")
	problem.SetStyle(tcell.StyleDefault.Foreground(theme.Error).Bold(true))
	typed := ""
	form := newForm()
	field := addInput(form, "First four characters", "", 8, func(s string) { typed = s })
	field.SetAcceptanceFunc(func(s string, _ rune) bool { return len(s) <= 8 })
	done := func() {
		a.closeDialog(trustPage)
		a.openPrompt = nil
	}
	addButton(form, "Later", func() {
		done()
		a.state.Log(LineInfo, "account %s: the certificate waits (%s or /trust to check it)", p.account, a.answerKey())
	})
	addButton(form, "Reject", func() {
		done()
		a.answered(p)
		a.state.Log(LineInfo, "account %s: certificate rejected; it stays disconnected (/reconnect asks again)", p.account)
	})
	trustIndex := 3 // the field, Later, Reject, then Trust
	addButton(form, "Trust and connect", func() {
		switch got := hexDigits(typed); {
		case got == "":
			problem.SetText("Not trusted: type the first four characters of the fingerprint first.")
		case got != want:
			problem.SetText("Not trusted: “" + shorten(typed, 8) + "” does not match the start of the fingerprint.")
		default:
			done()
			acct.Client.Do(chat.TrustCertificate{DER: cert.Raw})
			a.answered(p)
			a.state.Log(LineInfo, "account %s: trusting the certificate with SHA-256 %s; connecting", p.account, fp)
		}
	})
	// Enter in the field moves on as in any form — to Trust when what was
	// typed matches, to Later when not, saying why.
	field.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		if ev.Key() != tcell.KeyEnter {
			return ev
		}
		switch got := hexDigits(typed); {
		case got == want:
			problem.SetText("")
			form.SetFocus(trustIndex)
			a.tv.SetFocus(form)
			return nil
		case got != "":
			problem.SetText("Not trusted: “" + shorten(typed, 8) + "” does not match the start of the fingerprint.")
		}
		return ev
	})
	form.SetCancelFunc(func() {
		done()
		a.state.Log(LineInfo, "account %s: the certificate waits (%s or /trust to check it)", p.account, a.answerKey())
	})
	body := tview.NewFlex().SetDirection(tview.FlexRow)
	label.SetBorderPadding(0, 0, 1, 1)
	problem.SetBorderPadding(0, 0, 1, 1)
	body.AddItem(label, rows, 0, false).AddItem(problem, 1, 0, false).AddItem(form, 0, 1, true)
	body.SetBorder(true).SetTitle(" Untrusted certificate ")
	a.openPrompt = &p
	a.showFitted(trustPage, body, width, func(w, maxH int) int {
		rows := min(label.Rows(w-4), max(1, maxH-1-5-2))
		body.ResizeItem(label, rows, 0)
		return rows + 1 + 5 + 2
	})
}

// twoLines splits a SHA-256 fingerprint (32 pairs) in two rows of 16
// pairs, the second under the first, easier to compare than one wrapped
// anywhere.
func twoLines(fp string) string {
	if len(fp) != 32*3-1 {
		return fp
	}
	return fp[:16*3-1] + "\n          " + fp[16*3:]
}

// trustCommand is /trust [ACCOUNT]: the certificate question of the
// account, or the only one waiting.
func (a *App) trustCommand(account string) {
	a.onePrompt(promptCert, account, a.trustDialog,
		"no certificate of account %s waits to be checked", "no certificate waits to be checked",
		"certificates wait for several accounts: /trust ACCOUNT")
}

// onePrompt opens the question of kind for account, or the only one of
// that kind when account is ""; otherwise it says why it cannot, with
// noneFor (given the account), none or several.
func (a *App) onePrompt(kind promptKind, account string, open func(pendingPrompt), noneFor, none, several string) {
	var found []pendingPrompt
	for _, p := range a.prompts {
		if p.kind == kind && (account == "" || p.account == account) {
			found = append(found, p)
		}
	}
	switch {
	case len(found) == 0 && account != "":
		a.state.SetStatus(true, noneFor, account)
	case len(found) == 0:
		a.state.SetStatus(true, "%s", none)
	case len(found) > 1:
		a.state.SetStatus(true, "%s", several)
	default:
		open(found[0])
	}
}

// openRequest opens the request of jid, from the contact list.
func (a *App) openRequest(account, jid, nick string) {
	p := pendingPrompt{kind: promptRequest, account: account, jid: jid, nick: nick}
	if i := a.findPrompt(p); i >= 0 {
		p = a.prompts[i]
	} else {
		a.prompts = append(a.prompts, p)
	}
	a.requestDialog(p)
}

const passwordPage = "password"

// passwordDialog takes a password for an account whose login failed for
// want of the right one, in a masked field, and logs in with it for this
// session (chat.UsePassword): nothing is written to disk, and the password
// appears nowhere else — not in the console, nor in any event or log.
func (a *App) passwordDialog(p pendingPrompt) {
	if a.pages.HasPage(passwordPage) {
		return
	}
	acct := a.state.Account(p.account)
	if acct == nil {
		return
	}
	text := "Account " + p.account + " could not log in"
	if p.why != "" {
		text += ":\n" + shorten(p.why, 3*statusCells)
	}
	text += "\n\nType the password to log in with for as long as gab runs (it is not saved: " +
		"to keep it, fix the account file or its password_command)."
	const width = 80
	label := NewLabel(text)
	rows := label.Rows(width - 4)
	problem := NewLabel("")
	problem.SetStyle(tcell.StyleDefault.Foreground(theme.Error).Bold(true))
	typed := ""
	form := newForm()
	field := addPassword(form, "Password", 40, func(s string) {
		typed = s
		problem.SetText("")
	})
	done := func() {
		a.closeDialog(passwordPage)
		a.openPrompt = nil
	}
	later := func() {
		done()
		a.state.Log(LineInfo, "account %s: the password waits (%s or /password to type it)", p.account, a.answerKey())
	}
	login := func() {
		if typed == "" {
			problem.SetText("Type the password first.")
			return
		}
		pw := typed
		typed = ""
		field.SetText("")
		done()
		acct.Client.Do(chat.UsePassword{Password: pw})
		a.answered(p)
		a.state.Log(LineInfo, "account %s: logging in with the password you typed (for this session only)", p.account)
	}
	addButton(form, "Later", later)
	addButton(form, "Log in", login)
	// Enter in the field logs in: typing a password and pressing Enter
	// accepts nothing from the network.
	field.SetInputCapture(func(ev *tcell.EventKey) *tcell.EventKey {
		if ev.Key() == tcell.KeyEnter {
			login()
			return nil
		}
		return ev
	})
	form.SetCancelFunc(later)
	body := tview.NewFlex().SetDirection(tview.FlexRow)
	label.SetBorderPadding(0, 0, 1, 1)
	problem.SetBorderPadding(0, 0, 1, 1)
	body.AddItem(label, rows, 0, false).AddItem(problem, 1, 0, false).AddItem(form, 0, 1, true)
	body.SetBorder(true).SetTitle(" Password ")
	a.openPrompt = &p
	// The form needs 5 rows: its padding, the field, a blank row and the
	// buttons; the border 2 more, the problem line 1.
	a.showFitted(passwordPage, body, width, func(w, maxH int) int {
		rows := min(label.Rows(w-4), max(1, maxH-1-5-2))
		body.ResizeItem(label, rows, 0)
		return rows + 1 + 5 + 2
	})
}

// passwordCommand is /password [ACCOUNT]: the password question of the
// account, or the only one waiting.
func (a *App) passwordCommand(account string) {
	a.onePrompt(promptPassword, account, a.passwordDialog,
		"account %s is not waiting for a password", "no account is waiting for a password",
		"several accounts wait for a password: /password ACCOUNT")
}

// noteInvitation records an invitation to a room: a notice like the
// others (a console line, the status line's count, a notification), never
// a dialog. /join joins as well as the dialog's Join. An invitation to a
// room we are in is said, not listed.
func (a *App) noteInvitation(account string, e chat.InvitationReceived) {
	p := pendingPrompt{kind: promptInvitation, account: account, jid: e.Room, from: e.From, status: e.Reason, password: e.Password}
	why := ""
	if e.Reason != "" {
		why = " (“" + shorten(e.Reason, statusCells) + "”)"
	}
	from := shortenMiddle(e.From, jidCells)
	if r := a.state.Room(account, e.Room); r != nil && r.State == room.Joined {
		a.state.Log(LineInfo, "%s%s invites you to %s%s, where you are already", a.promptPrefix(account), from, roomText(e.Room), why)
		return
	}
	if i := a.findPrompt(p); i >= 0 {
		a.prompts[i] = p
		a.refreshPrompts()
		return
	}
	a.prompts = append(a.prompts, p)
	a.state.Log(LineInfo, "%s%s invites you to %s%s — %s to answer, or /join %s",
		a.promptPrefix(account), from, roomText(e.Room), why, a.answerKey(), roomText(e.Room))
	a.notify.prompt(account, bareOf(e.From), shorten(e.From, nickCells)+" invites you to "+shortenMiddle(e.Room, nickCells))
	a.refreshPrompts()
}

// bareOf drops the resource of a JID (for the mute list, which holds bare
// JIDs).
func bareOf(j string) string {
	if b, err := chat.BareJID(j); err == nil {
		return b
	}
	return j
}

// dropInvitation forgets the invitation to a room being joined.
func (a *App) dropInvitation(account, roomJID string) {
	p := pendingPrompt{kind: promptInvitation, account: account, jid: roomJID}
	if i := a.findPrompt(p); i >= 0 {
		a.prompts = append(a.prompts[:i], a.prompts[i+1:]...)
		if a.openPrompt != nil && a.openPrompt.same(p) {
			a.closeDialog(invitationPage)
			a.openPrompt = nil
		}
		a.refreshPrompts()
	}
}

const invitationPage = "invitation"

// invitationDialog shows an invitation: who, to which room, why. The
// focused button when it opens is Later; joining takes Tab, Tab, Enter (or
// /join). Dismiss forgets it.
func (a *App) invitationDialog(p pendingPrompt) {
	acct := a.state.Account(p.account)
	if acct == nil || a.pages.HasPage(invitationPage) {
		return
	}
	lines := []string{"Room:     " + shortenMiddle(p.jid, jidCells), "From:     " + shortenMiddle(p.from, jidCells)}
	if p.status != "" {
		lines = append(lines, "Reason:   “"+shorten(p.status, statusCells)+"”")
	}
	if len(a.state.Accounts) > 1 {
		lines = append(lines, "Account:  "+p.account)
	}
	lines = append(lines, "You would join as “"+shorten(acct.defaultNick(), nickCells)+"” (or /join ROOM/NICK)")
	const width = 76
	label := NewLabel(strings.Join(lines, "\n"))
	rows := label.Rows(width - 4)
	form := newForm()
	done := func() {
		a.closeDialog(invitationPage)
		a.openPrompt = nil
	}
	later := func() {
		done()
		a.state.Log(LineInfo, "%sthe invitation to %s waits (%s, or /join %s)", a.promptPrefix(p.account), roomText(p.jid), a.answerKey(), roomText(p.jid))
	}
	addButton(form, "Later", later)
	addButton(form, "Dismiss", func() {
		done()
		a.answered(p)
		a.state.Log(LineInfo, "%sdismissed the invitation to %s", a.promptPrefix(p.account), roomText(p.jid))
	})
	addButton(form, "Join", func() {
		done()
		a.answered(p)
		a.joinRoom(acct, p.jid, acct.defaultNick(), p.password, false)
	})
	form.SetCancelFunc(later)
	form.SetFocus(0)
	a.openPrompt = &p
	box := framed("Invitation to a room", label, rows, form)
	a.showFitted(invitationPage, box, width, func(w, maxH int) int {
		rows := min(label.Rows(w-4), max(1, maxH-3-2))
		box.ResizeItem(label, rows, 0)
		return rows + 3 + 2
	})
}
