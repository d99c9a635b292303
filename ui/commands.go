package ui

import (
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strconv"
	"strings"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/roster"
)

// commandHelp lists the composer's commands, in the order /help shows them.
var commandHelp = [][2]string{
	{"/msg JID [text]", "open a conversation, optionally sending text (JID may be ROOM@SERVICE/NICK: a private conversation with an occupant of a room you are in)"},
	{"/add JID [name]", "add a contact and ask to see their presence"},
	{"/remove JID", "remove a contact"},
	{"/rename JID NAME", "change a contact's name"},
	{"/group JID G1,G2", "put a contact in groups (none: /group JID)"},
	{"/requests", "list the requests and certificates waiting for your answer"},
	{"/accept JID [name]", "approve a subscription request (and ask back), adding them as name"},
	{"/deny JID", "deny a subscription request"},
	{"/trust [ACCOUNT]", "check the certificate an account's server presented, and trust it or not"},
	{"/password [ACCOUNT]", "type the password of an account whose login failed, for this session"},
	{"/subscribe JID", "ask to see a contact's presence"},
	{"/unsubscribe JID", "stop seeing a contact's presence"},
	{"/block JID", "block a JID"},
	{"/unblock JID", "lift a block"},
	{"/blocked", "list blocked JIDs"},
	{"/status online|chat|away|xa|dnd [message]", "set your presence"},
	{"/mute [JID]", "no notifications from a contact (this tab's without JID) until /unmute"},
	{"/unmute [JID]", "notifications from a contact again"},
	{"/editor", "write the message in $EDITOR"},
	{"/omemo [on|off]", "encrypt this chat or room with OMEMO, or send in plain text (without a word: say which); a room must be non-anonymous and members-only; encrypted lines show 🔒, a device not trusted 🔓, plain text in an encrypted chat (plain)"},
	{"/omemo fingerprint", "show this device's OMEMO fingerprint, to compare with what your contacts see"},
	{"/omemo devices [JID]", "list the OMEMO devices of a contact (this chat's without JID; in a room, every member's), with the version each is spoken to in (OMEMO 2 or 0.3), their fingerprints and trust"},
	{"/omemo trust JID FP", "mark the contact's device with fingerprint FP as verified; /omemo distrust JID FP: never encrypt to it again"},
	{"/upload PATH", "upload a file and send its link here (HTTP File Upload; Tab completes the path, ~ is your home; the cancel_upload key, Ctrl+X, stops it)"},
	{"/correct [TEXT]", "correct your last message (without TEXT: edit it)"},
	{"/react [EMOJI…]", "react to the selected message (else the last one from the other side); an emoji you gave already is taken back; alone: take back all yours"},
	{"/search TEXT", "find messages (here, or everywhere from the console)"},
	{"/open [N]", "open the Nth link of this conversation, counting back from the newest (1, the newest, without N), with open_command; only http and https links"},
	{"/bookmark [autojoin on|off]", "keep this room in your bookmarks on the server, joined whenever gab starts (autojoin off: not joined by itself)"},
	{"/bookmark remove", "remove this room's bookmark (you stay in the room)"},
	{"/bookmarks", "list your bookmarked rooms: type to filter, Enter joins"},
	{"/rooms [SERVICE]", "list a service's public rooms (your server's without SERVICE): type to filter, Enter joins"},
	{"/config", "change the configuration of this tab's room (owners only)"},
	{"/join ROOM[@SERVICE][/NICK] [PASSWORD]", "join a room (on your server's group chat service without @SERVICE; as NICK, else the account's nick or your address's local part); alone, in a room's tab: that room"},
	{"/create ROOM[@SERVICE][/NICK]", "join a room, and if the join makes it, configure it first (a dialog) instead of opening it with the service's defaults"},
	{"/part [REASON]", "leave the room of this tab"},
	{"/nick NEWNICK", "take another nick in this room (after a refused join: try again with it)"},
	{"/topic [TEXT]", "show the room's subject, or change it to TEXT"},
	{"/invite JID [REASON]", "invite someone to this room"},
	{"/kick NICK [REASON]", "make an occupant leave this room (moderators)"},
	{"/ban JID [REASON]", "ban an address (or an occupant whose address the room shows) from this room (admins)"},
	{"/role NICK moderator|participant|visitor|none", "change an occupant's role (moderators)"},
	{"/affiliation JID owner|admin|member|outcast|none", "change an address's affiliation with this room (admins)"},
	{"/ignore NICK", "hide an occupant's messages in this room, until /unignore or gab quits"},
	{"/unignore NICK", "show an occupant's messages again"},
	{"/notify all|mentions|none", "which messages of this room notify you (mentions of your nick by default)"},
	{"/reconnect", "connect again now"},
	{"/close", "close the current tab"},
	{"/clear", "clear the current tab"},
	{"/help [COMMAND]", "keys and commands; with a command, how to use it"},
	{"/quit", "leave gab"},
}

// keyHelp lists the key bindings that work everywhere, and the composer's.
var keyHelp = [][2]string{
	{"Tab, Shift+Tab", "move between the contact list and the composer"},
	{"Ctrl+K", "quick jump to a contact or tab (in the composer: delete to the end first, if there is text after the cursor)"},
	{"Ctrl+N, Ctrl+P, Alt+Right, Alt+Left", "next / previous tab"},
	{"Alt+1..9", "go to tab 1..9"},
	{"Ctrl+W", "close the tab (in a non-empty composer: delete a word)"},
	{"PgUp, PgDn, mouse wheel", "scroll the conversation"},
	{"Home, End", "oldest / newest (Alt+Home, Alt+End while typing)"},
	{"Ctrl+O", "show or hide offline contacts"},
	{"F5", "hide or show the contact list"},
	{"F6", "hide or show the occupant list in a room's tab"},
	{"F1", "this help"},
	{"F2", "set your status"},
	{"F4", "requests and certificates waiting for your answer"},
	{"Ctrl+Q, Ctrl+C", "quit"},
	{"Enter", "send (in the composer)"},
	{"Alt+Enter", "new line in the message"},
	{"Up, Down", "move between the rows of the message; from its first / last row, earlier / later lines you sent"},
	{"Alt+Up", "correct your last message here (Esc cancels)"},
	{"Ctrl+X", "cancel the file upload under way (/upload)"},
	{"Tab (composer not empty)", "complete a command, JID or name; in a room's tab, an occupant's nick"},
	{"Ctrl+A, Ctrl+E, Ctrl+B, Ctrl+F", "start, end, back, forward"},
	{"Alt+B, Alt+F", "word back, word forward"},
	{"Ctrl+K, Ctrl+U, Ctrl+W", "delete to the end, the line, a word"},
	{"Ctrl+Y", "put back what Ctrl+K, Ctrl+U or Ctrl+W deleted"},
}

// selectKeyHelp lists the keys of selecting a message and acting on it,
// as gab comes.
var selectKeyHelp = [][2]string{
	{"Alt+S, Ctrl+Up", "select the newest message of the tab (again, or Esc: back to the composer)"},
	{"Up, Down, k, j", "select the message before / after (past the oldest shown: older ones are read)"},
	{"PgUp, PgDn, Home, End", "move the selection a page / to the oldest or newest"},
	{"r", "reply to it: the composer says what you answer; Enter sends, Esc cancels"},
	{"e, +", "react: type emojis after /react, Enter sends; one you gave already is taken back"},
	{"c", "correct it (only your last message)"},
	{"d", "retract it (your own): asks, y retracts, any other key does not"},
	{"m", "remove it from the room (moderators): asks a reason, then y or no"},
	{"y", "copy its text to the clipboard (OSC 52: the terminal must allow it)"},
	{"o", "open its links"},
	{"Enter", "go to the message it answers"},
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
	if roomCommands[name] {
		a.roomCommand(acct, name, rest)
		return
	}
	if mk, ok := jidCommands[name]; ok {
		if j, ok := needJID("/" + name + " JID"); ok {
			do(mk(j))
		}
		return
	}
	switch name {
	case "mute", "unmute":
		j := ""
		if c := a.state.Current(); c.Conv.Kind == chat.KindChat {
			j = c.Conv.JID
		}
		if len(args) > 0 {
			j = args[0]
		}
		bare, err := validJID(j)
		if j == "" || err != nil {
			fail("usage: /%s JID (or use it in a conversation's tab)", name)
			return
		}
		if name == "mute" {
			a.notify.muted[bare] = true
			a.state.SetStatus(false, "muted %s for this run; add it to mute in [notify] of gab.toml to keep it", bare)
		} else {
			delete(a.notify.muted, bare)
			a.state.SetStatus(false, "notifications from %s again", bare)
		}
	case "quit", "exit":
		a.userQuit()
	case "help":
		if len(args) > 0 {
			a.commandUsage(args[0])
			return
		}
		a.helpDialog()
	case "close":
		a.closeTab(a.state.Active)
	case "clear":
		c := a.state.Current()
		c.Lines, c.Scroll, c.Mark = nil, 0, -1
	case "msg":
		j, ok := needJID("/msg JID [text]")
		if !ok || acct == nil || a.privateCommand(acct, rest) {
			return
		}
		bare, err := validJID(j)
		if err != nil {
			fail("%v", err)
			return
		}
		a.openChat(acct.Name, bare)
		if text := strings.TrimSpace(strings.TrimPrefix(rest, j)); text != "" {
			do(chat.SendMessage{Conv: chat.ChatWith(bare), Body: text, Encrypt: a.state.encrypting(a.state.Current())})
			a.state.Current().States.MessageSent(a.state.Now())
		}
	case "add":
		j, ok := needJID("/add JID [name]")
		if !ok {
			return
		}
		do(chat.AddContact{JID: j, Name: strings.TrimSpace(strings.TrimPrefix(rest, j))})
		do(chat.Subscribe{JID: j})
	case "rename":
		j, ok := needJID("/rename JID NAME")
		if !ok {
			return
		}
		name := strings.TrimSpace(strings.TrimPrefix(rest, j))
		if name == "" {
			fail("usage: /rename JID NAME")
			return
		}
		do(chat.RenameContact{JID: j, Name: name})
	case "group":
		j, ok := needJID("/group JID G1,G2")
		if !ok {
			return
		}
		var groups []string
		for _, g := range strings.Split(strings.TrimSpace(strings.TrimPrefix(rest, j)), ",") {
			if g = strings.TrimSpace(g); g != "" {
				groups = append(groups, g)
			}
		}
		do(chat.SetGroups{JID: j, Groups: groups})
	case "blocked":
		if acct == nil {
			return
		}
		var list []string
		for j := range acct.Blocked {
			list = append(list, j)
		}
		sort.Strings(list)
		a.switchTo(0)
		if len(list) == 0 {
			a.state.Log(LineInfo, "%s: nobody is blocked", acct.Name)
		} else {
			a.state.Log(LineInfo, "%s: blocked: %s", acct.Name, strings.Join(list, ", "))
		}
	case "editor":
		a.editor()
	case "omemo":
		a.omemoCommand(rest)
	case "react":
		a.reactCommand(rest)
	case "upload":
		a.uploadCommand(rest)
	case "correct":
		if rest == "" {
			a.startCorrection()
			return
		}
		c := a.state.Current()
		l := c.lastOwn()
		if c.IsConsole() || l == nil {
			fail("no message of yours to correct here")
			return
		}
		do(chat.CorrectMessage{Conv: c.Conv, ReplaceID: l.ID, Body: rest})
	case "reconnect":
		do(chat.Reconnect{})
	case "bookmark":
		if acct != nil {
			a.bookmarkCommand(acct, rest)
		}
	case "bookmarks":
		if acct != nil {
			a.bookmarksDialog(acct)
		}
	case "rooms":
		a.cmdRooms(args)
	case "config":
		a.cmdConfig()
	case "search":
		if rest == "" {
			fail("usage: /search TEXT")
			return
		}
		do(chat.SearchHistory{Text: rest, Conv: a.state.Current().Conv, Limit: 200})
	case "open":
		n := 1
		if len(args) > 0 {
			v, err := strconv.Atoi(args[0])
			if err != nil || v < 1 || len(args) > 1 {
				fail("usage: /open [N] (N = 1 is the newest link)")
				return
			}
			n = v
		}
		a.openNth(n)
	case "accept", "deny":
		usage := "/deny JID"
		if name == "accept" {
			usage = "/accept JID [name]"
		}
		j, ok := needJID(usage)
		if !ok || acct == nil {
			return
		}
		bare, err := validJID(j)
		if err != nil {
			fail("%v", err)
			return
		}
		if name == "accept" {
			a.approve(acct.Name, bare, strings.TrimSpace(strings.TrimPrefix(rest, j)))
		} else {
			a.deny(acct.Name, bare)
		}
	case "requests":
		a.openPrompts()
	case "trust":
		a.trustCommand(strings.TrimSpace(rest))
	case "password":
		a.passwordCommand(strings.TrimSpace(rest))
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

// commandUsage shows one command's help in the current tab: "/help msg"
// or "/help /msg".
func (a *App) commandUsage(name string) {
	name = "/" + strings.TrimPrefix(strings.ToLower(name), "/")
	if name == "/exit" {
		name = "/quit"
	}
	for _, c := range commandHelp {
		if strings.Fields(c[0])[0] == name {
			a.state.Current().add(Line{Time: a.state.Now(), Kind: LineInfo, Body: c[0] + " — " + c[1]})
			a.state.Current().Scroll = 0
			return
		}
	}
	a.state.SetStatus(true, "there is no command %s — /help lists the commands", Sanitize(name))
}

// jidCommands are the commands that take one JID and map straight onto a
// chat command.
var jidCommands = map[string]func(jid string) chat.Command{
	"remove":      func(j string) chat.Command { return chat.RemoveContact{JID: j} },
	"subscribe":   func(j string) chat.Command { return chat.Subscribe{JID: j} },
	"unsubscribe": func(j string) chat.Command { return chat.Unsubscribe{JID: j} },
	"block":       func(j string) chat.Command { return chat.Block{JID: j} },
	"unblock":     func(j string) chat.Command { return chat.Unblock{JID: j} },
}

func validJID(s string) (string, error) {
	// A user-typed JID: the chat package validates again before sending.
	if s == "" || strings.ContainsAny(s, " \t") {
		return "", fmt.Errorf("%q is not a JID", s)
	}
	return chat.BareJID(s)
}

// editor lets the user write the message in $VISUAL or $EDITOR (vi when
// neither is set); what they save goes back into the composer to be sent
// with Enter.
func (a *App) editor() {
	f, err := os.CreateTemp("", "gab-message-*.txt")
	if err != nil {
		a.state.SetStatus(true, "editor: %v", err)
		return
	}
	path := f.Name()
	defer os.Remove(path)
	f.WriteString(a.composer.GetText())
	f.Close()
	ed := os.Getenv("VISUAL")
	if ed == "" {
		ed = os.Getenv("EDITOR")
	}
	if ed == "" {
		ed = "vi"
	}
	var runErr error
	a.tv.Suspend(func() {
		cmd := exec.Command("sh", "-c", ed+` "$1"`, "sh", path)
		cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
		runErr = cmd.Run()
	})
	if runErr != nil {
		a.state.SetStatus(true, "editor: %v", runErr)
		return
	}
	b, err := os.ReadFile(path)
	if err != nil {
		a.state.SetStatus(true, "editor: %v", err)
		return
	}
	a.composer.SetText(strings.TrimRight(string(b), "\n"), true)
	a.tv.SetFocus(a.composer)
}
