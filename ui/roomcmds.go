package ui

import (
	"fmt"
	"strings"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/room"
)

// roomCommands are the names roomCommand handles.
var roomCommands = map[string]bool{"join": true, "create": true, "part": true, "leave": true, "nick": true, "topic": true,
	"invite": true, "kick": true, "ban": true, "role": true, "affiliation": true,
	"ignore": true, "unignore": true, "notify": true}

// inRoomTab is the room of the current tab, or a failure in the status
// line naming the command.
func (a *App) inRoomTab(name string) (*Conversation, *room.Room, bool) {
	c := a.state.Current()
	if c.Conv.Kind != chat.KindRoom {
		a.state.SetStatus(true, "/%s works in a room's tab", name)
		return nil, nil, false
	}
	acct := a.state.Account(c.Account)
	if acct == nil {
		return nil, nil, false
	}
	return c, acct.rooms().Add(c.Conv.JID, acct.defaultNick()), true
}

// splitNick reads an occupant's nick from the start of rest, which may
// hold spaces: the longest run of words that is an occupant's nick, else
// the first word.
func splitNick(r *room.Room, rest string) (nick, tail string) {
	rest = strings.TrimSpace(rest)
	for cut := len(rest); cut > 0; {
		if cut == len(rest) || rest[cut] == ' ' {
			if r.Get(rest[:cut]) != nil {
				return rest[:cut], strings.TrimSpace(rest[cut:])
			}
		}
		cut = strings.LastIndexByte(rest[:cut], ' ')
	}
	nick, tail, _ = strings.Cut(rest, " ")
	return nick, strings.TrimSpace(tail)
}

// occupantJID is the bare JID a /ban or /affiliation names: a JID as
// typed, or the real address of the occupant with that nick where the
// room shows it.
func occupantJID(r *room.Room, s string) (string, error) {
	if o := r.Get(s); o != nil && !strings.Contains(s, "@") {
		if o.RealJID == "" {
			return "", fmt.Errorf("the room does not show the address of %s: give their JID", nickText(s))
		}
		return chat.BareJID(o.RealJID)
	}
	if !strings.Contains(s, "@") {
		return "", fmt.Errorf("%s is neither an address nor an occupant of this room", nickText(s))
	}
	return validJID(s)
}

// roomCommand runs a room command; each says in the status line what went
// wrong, or acts (the room's answer comes as an event).
func (a *App) roomCommand(acct *Account, name, rest string) {
	fail := func(format string, v ...any) { a.state.SetStatus(true, format, v...) }
	if acct == nil || acct.Client == nil {
		fail("no account")
		return
	}
	args := strings.Fields(rest)
	switch name {
	case "join":
		a.joinCommand(acct, args, false)
		return
	case "create":
		a.joinCommand(acct, args, true)
		return
	case "leave":
		name = "part"
	}
	c, r, ok := a.inRoomTab(name)
	if !ok {
		return
	}
	jid := c.Conv.JID
	acct = a.state.Account(c.Account)
	joined := r.State == room.Joined
	notIn := func() bool {
		if !joined {
			fail("you are not in %s (%s): /join %s first", roomText(jid), r.State, roomText(jid))
		}
		return !joined
	}
	switch name {
	case "part":
		if !r.State.In() {
			fail("you are not in %s", roomText(jid))
			return
		}
		acct.Client.Do(chat.LeaveRoom{Room: jid, Reason: rest})
	case "nick":
		if rest == "" {
			fail("usage: /nick NEWNICK")
			return
		}
		if joined {
			acct.Client.Do(chat.ChangeNick{Room: jid, Nick: rest})
			return
		}
		// Not in the room (the nick was taken, or we left): join with it.
		a.joinRoom(acct, jid, rest, r.Password, false)
	case "topic":
		if rest == "" {
			text := roomText(jid) + " has no subject"
			if r.Subject != "" {
				text = "subject: " + r.Subject
				if r.SubjectBy != "" {
					text += " (set by " + nickText(r.SubjectBy) + ")"
				}
			}
			c.add(Line{Time: a.state.Now(), Kind: LineInfo, Body: text})
			c.Scroll = 0
			return
		}
		if notIn() {
			return
		}
		acct.Client.Do(chat.SetSubject{Room: jid, Subject: rest})
	case "invite":
		if len(args) == 0 {
			fail("usage: /invite JID [REASON]")
			return
		}
		who, err := validJID(args[0])
		if err != nil {
			fail("%v", err)
			return
		}
		if notIn() {
			return
		}
		acct.Client.Do(chat.Invite{Room: jid, JID: who, Reason: strings.TrimSpace(strings.TrimPrefix(rest, args[0]))})
	case "kick":
		if rest == "" {
			fail("usage: /kick NICK [REASON]")
			return
		}
		if notIn() {
			return
		}
		nick, reason := splitNick(r, rest)
		if r.Get(nick) == nil {
			fail("nobody is called %s in %s", nickText(nick), roomText(jid))
			return
		}
		acct.Client.Do(chat.SetRole{Room: jid, Nick: nick, Role: room.RoleNone, Reason: reason})
	case "role":
		if len(args) < 2 {
			fail("usage: /role NICK moderator|participant|visitor|none")
			return
		}
		want := args[len(args)-1]
		role := room.Role(want)
		if role != room.ParseRole(want) || want == "" {
			fail("%q is not a role: use moderator, participant, visitor or none", want)
			return
		}
		if notIn() {
			return
		}
		nick := strings.TrimSpace(strings.TrimSuffix(rest, want))
		if r.Get(nick) == nil {
			fail("nobody is called %s in %s", nickText(nick), roomText(jid))
			return
		}
		acct.Client.Do(chat.SetRole{Room: jid, Nick: nick, Role: role})
	case "ban", "affiliation":
		usage := "/ban JID [REASON]"
		if name == "affiliation" {
			usage = "/affiliation JID owner|admin|member|outcast|none"
		}
		if len(args) < 1 || name == "affiliation" && len(args) < 2 {
			fail("usage: %s", usage)
			return
		}
		aff, reason, who := room.Outcast, "", args[0]
		if name == "ban" {
			// An occupant's nick may hold spaces.
			if nick, tail := splitNick(r, rest); r.Get(nick) != nil {
				who, reason = nick, tail
			} else {
				reason = strings.TrimSpace(strings.TrimPrefix(rest, args[0]))
			}
		} else {
			want := args[len(args)-1]
			aff = room.Affiliation(want)
			if aff != room.ParseAffiliation(want) {
				fail("%q is not an affiliation: use owner, admin, member, outcast or none", want)
				return
			}
			who = strings.TrimSpace(strings.TrimSuffix(rest, want))
		}
		bare, err := occupantJID(r, who)
		if err != nil {
			fail("%v", err)
			return
		}
		if notIn() {
			return
		}
		acct.Client.Do(chat.SetAffiliation{Room: jid, JID: bare, Affiliation: aff, Reason: reason})
	case "ignore", "unignore":
		if rest == "" {
			fail("usage: /%s NICK", name)
			return
		}
		nick, _ := splitNick(r, rest)
		if r.Get(nick) == nil {
			nick = rest // someone not here now: by the nick as typed
		}
		how := a.state.Ignore(acct.Name, jid, nick, name == "ignore")
		if name == "ignore" {
			a.state.SetStatus(false, "ignoring %s in %s (%s) until /unignore or gab quits", nickText(nick), roomText(jid), how)
		} else {
			a.state.SetStatus(false, "showing the messages of %s in %s again", nickText(nick), roomText(jid))
		}
	case "notify":
		n, ok := room.ParseNotify(rest)
		if !ok {
			fail("usage: /notify all|mentions|none")
			return
		}
		r.Notify = n
		what := map[room.Notify]string{room.NotifyAll: "every message notifies you",
			room.NotifyMentions: "only messages that name your nick notify you",
			room.NotifyNone:     "nothing notifies you"}[n]
		a.state.SetStatus(false, "%s: %s", roomText(jid), what)
	}
}

// joinCommand is /join ROOM[@SERVICE][/NICK] [PASSWORD], and with
// configure /create ROOM[@SERVICE][/NICK]: a room the join makes waits for
// its configuration (a dialog) instead of opening as an instant room.
func (a *App) joinCommand(acct *Account, args []string, configure bool) {
	if configure && len(args) != 1 {
		a.state.SetStatus(true, "usage: /create ROOM[@SERVICE][/NICK]")
		return
	}
	if c := a.state.Current(); len(args) == 0 && !configure && c.Account == acct.Name && c.Conv.Kind != chat.KindChat && !c.IsConsole() {
		args = []string{c.Conv.Room()} // in a room's tab (one reopened from the last run): that room
	}
	if len(args) == 0 || len(args) > 2 {
		a.state.SetStatus(true, "usage: /join ROOM[@SERVICE][/NICK] [PASSWORD]")
		return
	}
	addr, nick, _ := strings.Cut(args[0], "/")
	if !strings.Contains(addr, "@") {
		if acct.MUCService == "" {
			a.state.SetStatus(true, "your server has no group chat service that gab knows of: give the room's full address (room@service), as in /join %s@conference.example.org", Sanitize(addr))
			return
		}
		addr += "@" + acct.MUCService // the server's own group chat service
	}
	bare, err := validJID(addr)
	if err != nil {
		a.state.SetStatus(true, "%v", err)
		return
	}
	password := ""
	if len(args) == 2 {
		password = args[1]
	} else if i := a.findPrompt(pendingPrompt{kind: promptInvitation, account: acct.Name, jid: bare}); i >= 0 {
		password = a.prompts[i].password // the invitation gave it
	}
	if nick == "" {
		nick = acct.defaultNick()
		if r := acct.rooms().Get(bare); r != nil && r.Nick != "" {
			nick = r.Nick
		}
	}
	if r := acct.rooms().Get(bare); r != nil && r.State == room.Joined {
		a.openConv(acct.Name, chat.RoomConv(bare))
		if r.Nick != nick {
			acct.Client.Do(chat.ChangeNick{Room: bare, Nick: nick})
			return
		}
		a.state.SetStatus(false, "you are in %s already, as %s", roomText(bare), nickText(nick))
		return
	}
	a.joinRoom(acct, bare, nick, password, configure)
}

// joinRoom asks to join a room and goes to its tab; the room's answer
// comes as events. With configure, a room the join makes waits locked for
// its configuration.
func (a *App) joinRoom(acct *Account, roomJID, nick, password string, configure bool) {
	r := acct.rooms().Add(roomJID, nick)
	r.Nick, r.State = nick, room.Joining
	if password != "" {
		r.Password = password
	}
	acct.Client.Do(chat.JoinRoom{Room: roomJID, Nick: nick, Password: r.Password, Configure: configure})
	a.openConv(acct.Name, chat.RoomConv(roomJID))
	a.dropInvitation(acct.Name, roomJID)
}

// privateCommand opens the private conversation of /msg ROOM/NICK when ROOM
// is a room the account is in; false when the address is no such thing, so
// /msg takes it as a contact's.
func (a *App) privateCommand(acct *Account, rest string) bool {
	addr, after, ok := strings.Cut(rest, "/")
	if !ok || strings.ContainsAny(addr, " \t") {
		return false
	}
	bare, err := chat.BareJID(addr)
	if err != nil {
		return false
	}
	r := acct.rooms().Get(bare)
	if r == nil || !r.State.In() {
		return false
	}
	nick, text := splitNick(r, after)
	if nick == "" {
		a.state.SetStatus(true, "usage: /msg ROOM@SERVICE/NICK [text]")
		return true
	}
	conv := chat.PrivateConv(bare, nick)
	a.openConv(acct.Name, conv)
	if text != "" {
		acct.Client.Do(chat.SendMessage{Conv: conv, Body: text})
		a.state.Current().States.MessageSent(a.state.Now())
	}
	return true
}

// roomCommandDone says that a room command the room answers only with
// "done" went through.
func (a *App) roomCommandDone(cmd chat.Command) {
	switch c := cmd.(type) {
	case chat.Invite:
		a.state.SetStatus(false, "invited %s to %s", shortenMiddle(c.JID, jidCells), roomText(c.Room))
	case chat.SetRole:
		if c.Role == room.RoleNone {
			a.state.SetStatus(false, "kicked %s from %s", nickText(c.Nick), roomText(c.Room))
		} else {
			a.state.SetStatus(false, "%s is now a %s in %s", nickText(c.Nick), c.Role, roomText(c.Room))
		}
	case chat.SetAffiliation:
		if c.Affiliation == room.Outcast {
			a.state.SetStatus(false, "banned %s from %s", shortenMiddle(c.JID, jidCells), roomText(c.Room))
		} else {
			a.state.SetStatus(false, "%s is now %s of %s", shortenMiddle(c.JID, jidCells), affiliationWord(c.Affiliation), roomText(c.Room))
		}
	}
}

// roomNotifies applies a room's /notify setting to a message received:
// all, only those naming our nick (the default), or none. Messages
// elsewhere are the notifier's to judge.
func (a *App) roomNotifies(account string, e chat.MessageReceived) bool {
	if e.Conv.Kind != chat.KindRoom {
		return true
	}
	r := a.state.Room(account, e.Conv.JID)
	if r == nil {
		return false
	}
	switch r.Notify {
	case room.NotifyAll:
		return true
	case room.NotifyNone:
		return false
	}
	return e.Nick != r.Nick && room.Mentions(e.Body, r.Nick)
}

// nickCandidates completes a nick in a room tab: at the start of a message
// "ad" gives "ada: ", further on "ada "; who spoke last comes first. After
// /kick, /role, /ignore or /unignore, the nick alone. nil when the tab is
// not a room's or the line is another command.
func (a *App) nickCandidates(line string) ([]string, bool) {
	c := a.state.Current()
	if c.Conv.Kind != chat.KindRoom {
		return nil, false
	}
	r := a.state.Room(c.Account, c.Conv.JID)
	if r == nil {
		return nil, false
	}
	cut := strings.LastIndexAny(line, " \n") + 1
	word := line[cut:]
	suffix := " "
	switch {
	case strings.HasPrefix(line, "/"):
		name, _, _ := strings.Cut(line[1:], " ")
		if cut == 0 || !map[string]bool{"kick": true, "role": true, "ignore": true, "unignore": true, "ban": true}[name] {
			return nil, false
		}
	case cut == 0:
		suffix = ": "
	}
	if word == "" {
		return nil, true
	}
	nicks := r.Complete(word, c.recent)
	out := make([]string, len(nicks))
	for i, n := range nicks {
		out[i] = plainText(n) + suffix
	}
	return out, true
}
