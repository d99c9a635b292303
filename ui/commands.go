package ui

import (
	"fmt"
	"strings"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/roster"
)

// commandHelp lists the composer's commands, in the order /help shows them.
var commandHelp = [][2]string{
	{"/msg JID [text]", "open a conversation, optionally sending text"},
	{"/add JID [name]", "add a contact and ask to see their presence"},
	{"/remove JID", "remove a contact"},
	{"/accept JID", "approve a subscription request (and ask back)"},
	{"/deny JID", "deny a subscription request"},
	{"/block JID", "block a JID"},
	{"/unblock JID", "lift a block"},
	{"/status online|chat|away|xa|dnd [message]", "set your presence"},
	{"/close", "close the current tab"},
	{"/clear", "clear the current tab"},
	{"/help", "this list"},
	{"/quit", "leave gab"},
}

// keyHelp lists the key bindings.
var keyHelp = [][2]string{
	{"Tab", "move between the contact list and the composer"},
	{"Enter", "open the selected contact / send the message"},
	{"Up/Down, j/k", "move in the contact list"},
	{"Ctrl+N, Ctrl+P, Alt+Right, Alt+Left", "next / previous tab"},
	{"Alt+1..9", "go to tab 1..9"},
	{"Ctrl+W", "close the tab"},
	{"PgUp, PgDn, mouse wheel", "scroll the conversation"},
	{"F1", "this help"},
	{"Ctrl+Q, Ctrl+C", "quit"},
}

func (a *App) help() {
	a.switchTo(0)
	a.state.Log(LineInfo, "Keys:")
	for _, k := range keyHelp {
		a.state.Log(LineInfo, "  %-36s %s", k[0], k[1])
	}
	a.state.Log(LineInfo, "Commands:")
	for _, c := range commandHelp {
		a.state.Log(LineInfo, "  %-36s %s", c[0], c[1])
	}
}

// account is the one commands act on: the current tab's, or the one
// selected in the roster from the console.
func (a *App) account() *Account {
	if c := a.state.Current(); c.Account != "" {
		return a.state.Account(c.Account)
	}
	if name, _ := a.roster.Selected(); name != "" {
		return a.state.Account(name)
	}
	if len(a.state.Accounts) > 0 {
		return a.state.Accounts[0]
	}
	return nil
}

// command runs one "/command args" line. Mistakes get a one-line error in
// the status line.
func (a *App) command(line string) {
	name, rest, _ := strings.Cut(strings.TrimSpace(line[1:]), " ")
	rest = strings.TrimSpace(rest)
	args := strings.Fields(rest)
	fail := func(format string, v ...any) { a.state.SetStatus(true, format, v...) }
	acct := a.account()
	do := func(cmd chat.Command) {
		if acct == nil || acct.Client == nil {
			fail("no account")
			return
		}
		acct.Client.Do(cmd)
	}
	needJID := func(usage string) (string, bool) {
		if len(args) < 1 {
			fail("usage: %s", usage)
			return "", false
		}
		return args[0], true
	}
	switch name {
	case "quit", "exit":
		a.tv.Stop()
	case "help":
		a.help()
	case "close":
		a.closeTab(a.state.Active)
	case "clear":
		c := a.state.Current()
		c.Lines, c.Scroll = nil, 0
		c.gen++
	case "msg":
		j, ok := needJID("/msg JID [text]")
		if !ok || acct == nil {
			return
		}
		bare, err := validJID(j)
		if err != nil {
			fail("%v", err)
			return
		}
		a.openChat(acct.Name, bare)
		if text := strings.TrimSpace(strings.TrimPrefix(rest, j)); text != "" {
			do(chat.SendMessage{To: bare, Body: text})
			a.state.Current().States.MessageSent(a.state.Now())
		}
	case "add":
		j, ok := needJID("/add JID [name]")
		if !ok {
			return
		}
		do(chat.AddContact{JID: j, Name: strings.TrimSpace(strings.TrimPrefix(rest, j))})
		do(chat.Subscribe{JID: j})
	case "remove":
		if j, ok := needJID("/remove JID"); ok {
			do(chat.RemoveContact{JID: j})
		}
	case "accept":
		j, ok := needJID("/accept JID")
		if !ok {
			return
		}
		do(chat.ApproveSubscription{JID: j})
		if acct != nil {
			if bare, err := validJID(j); err == nil {
				acct.Roster.SetPendingIn(bare, false, "")
				if c := acct.Roster.Get(bare); c == nil || (c.Subscription != roster.SubTo && c.Subscription != roster.SubBoth && !c.Ask) {
					do(chat.Subscribe{JID: bare}) // ask back, as users expect
				}
			}
		}
	case "deny":
		j, ok := needJID("/deny JID")
		if !ok {
			return
		}
		do(chat.DenySubscription{JID: j})
		if acct != nil {
			if bare, err := validJID(j); err == nil {
				acct.Roster.SetPendingIn(bare, false, "")
			}
		}
	case "block":
		if j, ok := needJID("/block JID"); ok {
			do(chat.Block{JID: j})
		}
	case "unblock":
		if j, ok := needJID("/unblock JID"); ok {
			do(chat.Unblock{JID: j})
		}
	case "status":
		if len(args) < 1 {
			fail("usage: /status online|chat|away|xa|dnd [message]")
			return
		}
		show, ok := roster.ShowFromStatus(args[0])
		if !ok {
			fail("unknown status %q: use online, chat, away, xa or dnd", args[0])
			return
		}
		do(chat.SetPresence{Show: show, Status: strings.TrimSpace(strings.TrimPrefix(rest, args[0]))})
	default:
		fail("unknown command /%s — /help lists the commands", Sanitize(name))
	}
}

func validJID(s string) (string, error) {
	// A user-typed JID: the chat package validates again before sending.
	if s == "" || strings.ContainsAny(s, " \t") {
		return "", fmt.Errorf("%q is not a JID", s)
	}
	j, err := parseBare(s)
	if err != nil {
		return "", fmt.Errorf("%q is not a valid JID: %v", s, err)
	}
	return j, nil
}
