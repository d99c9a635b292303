package ui

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/room"
)

// Rooms (XEP-0045) in the model: the room events update the account's
// room.Rooms and write what happened as lines in the room's tab. Nicks,
// subjects and reasons are remote text: the lines are drawn as data, and
// each nick is shortened to roomNickCells first, so a 10,000-character nick
// cannot fill the tab.

// roomNickCells is the most cells a nick takes in a line about the room.
const roomNickCells = 32

// roomReasonCells is the most cells a reason or a room's words take.
const roomReasonCells = 200

// nickText is a nick as room lines show it: one line, shortened.
func nickText(n string) string { return shorten(n, roomNickCells) }

// reasonText is a reason as room lines show it: one line, shortened.
func reasonText(s string) string { return shorten(s, roomReasonCells) }

// roomText is a room's JID as lines show it.
func roomText(j string) string { return shortenMiddle(j, jidCells) }

// fold collects consecutive plain joins (or parts) in one room within a
// batch of events, to say them in one line: a room of a thousand
// occupants that fills up after a netsplit is one line, not a thousand.
type fold struct {
	account, room string
	verb          string // "joined" or "left"
	nicks         []string
}

// foldText says a fold in one line: "ada joined", "ada and bob joined",
// "ada, bob and carl joined", "ada, bob and 12 others joined".
func foldText(nicks []string, verb string) string {
	n := make([]string, 0, 3)
	for i := 0; i < len(nicks) && i < 3; i++ {
		n = append(n, nickText(nicks[i]))
	}
	switch len(nicks) {
	case 1:
		return n[0] + " " + verb
	case 2:
		return n[0] + " and " + n[1] + " " + verb
	case 3:
		return n[0] + ", " + n[1] + " and " + n[2] + " " + verb
	}
	return n[0] + ", " + n[1] + " and " + strconv.Itoa(len(nicks)-2) + " others " + verb
}

// addFold adds a plain join or part to the fold being collected, or
// starts a new one after saying the last.
func (s *State) addFold(account, roomJID, verb, nick string) {
	if f := s.folding; f != nil && f.account == account && f.room == roomJID && f.verb == verb {
		f.nicks = append(f.nicks, nick)
		return
	}
	s.Flush()
	s.folding = &fold{account: account, room: roomJID, verb: verb, nicks: []string{nick}}
}

// Flush writes the joins or parts being folded as their line. The App
// calls it after each batch of events; Apply calls it before any event
// that does not fold, so lines stay in the order things happened.
func (s *State) Flush() {
	f := s.folding
	if f == nil {
		return
	}
	s.folding = nil
	s.roomNews(f.account, f.room, "%s", foldText(f.nicks, f.verb))
}

// roomTab is the tab of a room, opened (without going to it) when there
// is none.
func (s *State) roomTab(account, roomJID string) *Conversation {
	c, _ := s.Open(account, chat.RoomConv(roomJID))
	return c
}

// roomNews adds a line of routine news (joins, parts, nick changes, a new
// subject) to a room's tab if it is open: a tab the user closed stays
// closed for them.
func (s *State) roomNews(account, roomJID string, format string, args ...any) {
	if c, _ := s.Find(account, chat.RoomConv(roomJID)); c != nil {
		c.add(Line{Time: s.Now(), Body: fmt.Sprintf(format, args...), Kind: LineInfo})
	}
}

// roomLine adds a line to a room's tab, opening it (without going to it)
// if it is closed: what it says concerns us.
func (s *State) roomLine(account, roomJID string, kind LineKind, format string, args ...any) {
	c := s.roomTab(account, roomJID)
	c.add(Line{Time: s.Now(), Body: fmt.Sprintf(format, args...), Kind: kind})
}

// Room is the room with jid of account, nil when there is none.
func (s *State) Room(account, jid string) *room.Room {
	if a := s.Account(account); a != nil && a.Rooms != nil {
		return a.Rooms.Get(jid)
	}
	return nil
}

// ignoreKey names who /ignore hides in a room: the occupant-id where the
// room gives one, else the nick.
func ignoreKey(nick, occupantID string) string {
	if occupantID != "" {
		return "id\x00" + occupantID
	}
	return "nick\x00" + nick
}

// ignored reports whether the occupant nick (occupantID) of account's room
// is ignored.
func (s *State) ignored(account, roomJID, nick, occupantID string) bool {
	set := s.ignores[account+"\x00"+roomJID]
	if len(set) == 0 {
		return false
	}
	if _, ok := set[ignoreKey("", occupantID)]; ok && occupantID != "" {
		return true
	}
	_, ok := set[ignoreKey(nick, "")]
	return ok
}

// Ignore hides, for this run, the messages of the occupant nick in a room,
// by its occupant-id where the room gives one (the person, whatever nick
// it takes), else by the nick. It returns how it was recognised.
func (s *State) Ignore(account, roomJID, nick string, on bool) string {
	key, how := ignoreKey(nick, ""), "by nick"
	if r := s.Room(account, roomJID); r != nil {
		if o := r.Get(nick); o != nil && o.OccupantID != "" {
			key, how = ignoreKey("", o.OccupantID), "whatever nick they take"
		}
	}
	if s.ignores == nil {
		s.ignores = map[string]map[string]string{}
	}
	k := account + "\x00" + roomJID
	if s.ignores[k] == nil {
		s.ignores[k] = map[string]string{}
	}
	if on {
		s.ignores[k][key] = nick
		return how
	}
	// Whoever was ignored under this nick, by id or by nick, even if they
	// are gone or have taken another nick since.
	for key, n := range s.ignores[k] {
		if n == nick {
			delete(s.ignores[k], key)
		}
	}
	delete(s.ignores[k], ignoreKey(nick, ""))
	if r := s.Room(account, roomJID); r != nil {
		if o := r.Get(nick); o != nil && o.OccupantID != "" {
			delete(s.ignores[k], ignoreKey("", o.OccupantID))
		}
	}
	return how
}

// rooms is the account's rooms, made on first use.
func (a *Account) rooms() *room.Rooms {
	if a.Rooms == nil {
		a.Rooms = room.NewRooms()
	}
	return a.Rooms
}

// defaultNick is the nick a room is joined with when none is given: the
// local part of the account's JID.
func (a *Account) defaultNick() string {
	if a.Nick != "" {
		return a.Nick // the account's nick setting
	}
	j := a.JID
	if j == "" {
		return a.Name
	}
	if i := strings.IndexByte(j, '/'); i >= 0 {
		j = j[:i]
	}
	if i := strings.IndexByte(j, '@'); i > 0 {
		return j[:i]
	}
	return a.Name
}

// actorText is " by ACTOR" when the room named who did it.
func actorText(actor string) string {
	if actor == "" {
		return ""
	}
	return " by " + nickText(actor)
}

// reasonSuffix is ": REASON" when there is one.
func reasonSuffix(reason string) string {
	if reason == "" {
		return ""
	}
	return ": " + reasonText(reason)
}

// applyRoom handles the room events; false for any other event.
func (s *State) applyRoom(a *Account, account string, ev chat.Event) bool {
	switch e := ev.(type) {
	case chat.RoomJoining:
		s.Flush()
		r := a.rooms().Add(e.Room, e.Nick)
		r.Clear() // the room sends everyone again
		r.Nick, r.State = e.Nick, room.Joining
		s.roomLine(account, e.Room, LineInfo, "joining %s as %s…", roomText(e.Room), nickText(e.Nick))
	case chat.RoomJoined:
		s.Flush()
		r := a.rooms().Add(e.Room, e.Self.Nick)
		r.UpdateSelf(e.Self)
		c := s.roomTab(account, e.Room)
		if e.Name != "" {
			c.Title = e.Name
		}
		text := fmt.Sprintf("you joined %s as %s", roomText(e.Room), nickText(e.Self.Nick))
		if n := r.Count() - 1; n == 1 {
			text += " (1 other occupant)"
		} else if n > 1 {
			text += fmt.Sprintf(" (%d others)", n)
		}
		if e.Created {
			text += "; the room was created for you"
		}
		if e.NonAnonymous {
			text += "; everyone in it can see your address"
		}
		s.roomLine(account, e.Room, LineInfo, "%s", text)
	case chat.OccupantChanged:
		s.occupantChanged(a, account, e)
	case chat.RoomLeft:
		s.Flush()
		r := a.rooms().Add(e.Room, "")
		r.Clear()
		r.State, r.Reason = e.State, e.Reason
		name := roomText(e.Room)
		var text string
		kind := LineError
		switch e.State {
		case room.Kicked:
			text = "you were kicked from " + name + actorText(e.Actor) + reasonSuffix(e.Reason) + " — /join to go back in"
		case room.Banned:
			text = "you were banned from " + name + actorText(e.Actor) + reasonSuffix(e.Reason)
		case room.Removed:
			text = "you were removed from " + name + actorText(e.Actor) + reasonSuffix(e.Reason)
		case room.Destroyed:
			text = name + " was closed by its owner" + reasonSuffix(e.Reason)
			if e.AltRoom != "" {
				text += " — it names " + roomText(e.AltRoom) + " instead: /join " + roomText(e.AltRoom)
			}
		case room.Failed:
			text = "the room dropped you" + reasonSuffix(e.Reason)
			if e.Rejoin {
				text += " — gab will join it again"
			} else {
				text += " — /join to go back in"
			}
		default:
			kind, text = LineInfo, "you left "+name
		}
		s.roomLine(account, e.Room, kind, "%s", text)
		if kind == LineError {
			s.SetStatus(true, "%s", text)
		}
	case chat.RoomJoinFailed:
		s.Flush()
		r := a.rooms().Add(e.Room, e.Nick)
		r.Clear()
		r.State, r.Reason = room.Failed, e.Text
		text := joinFailedText(e)
		s.roomLine(account, e.Room, LineError, "%s", text)
		s.SetStatus(true, "%s", text)
	case chat.RoomSubject:
		s.Flush()
		r := a.rooms().Add(e.Room, "")
		before := r.Subject
		r.Subject, r.SubjectBy = e.Subject, e.Nick
		// A room without a subject sends an empty one, undelayed, on
		// each join (Prosody does): no subject before, none now, no news.
		if !e.Delayed && (e.Subject != "" || before != "") {
			who := "the subject was changed"
			if e.Nick != "" {
				who = nickText(e.Nick) + " changed the subject"
			}
			if e.Subject == "" {
				s.roomNews(account, e.Room, "%s: there is none now", who)
			} else {
				s.roomNews(account, e.Room, "%s to: %s", who, reasonText(e.Subject))
			}
		}
	case chat.InvitationReceived:
		s.Flush() // the App lists it and says so: it knows the key that answers
	case chat.ServicesFound:
		a.MUCService = e.MUC
	case chat.BookmarksChanged:
		s.applyBookmarks(a, account, e)
	case chat.RoomCatchUp:
		s.Flush()
		if e.Err != nil {
			s.roomLine(account, e.Room, LineError, "could not read what was said before you joined: %s", reasonText(e.Err.Error()))
		}
	default:
		return false
	}
	return true
}

// joinFailedText says why a room refused us and what to do about it.
func joinFailedText(e chat.RoomJoinFailed) string {
	name := roomText(e.Room)
	var text string
	switch {
	case e.NickConflict:
		text = fmt.Sprintf("could not join %s: the nick %s is taken", name, nickText(e.Nick))
		if e.Suggestion != "" {
			sug := nickText(e.Suggestion)
			text += fmt.Sprintf(" — /nick %s here, or /join %s/%s", sug, name, sug)
		} else {
			text += " — /nick NEWNICK here, or /join " + name + "/NEWNICK"
		}
	case e.NeedPassword:
		text = fmt.Sprintf("%s asks for a password — /join %s PASSWORD", name, name)
	case e.MembersOnly:
		text = fmt.Sprintf("only members may enter %s; ask one of its owners or admins to make you one", name)
	case e.Banned:
		text = fmt.Sprintf("you are banned from %s", name)
	case e.Full:
		text = fmt.Sprintf("%s is full: it takes no more occupants now; try again later", name)
	case e.Gone:
		text = fmt.Sprintf("there is no room %s (any more), and it cannot be made", name)
	default:
		cond := e.Condition
		if cond == "" {
			cond = "refused"
		}
		text = fmt.Sprintf("could not join %s: %s", name, reasonText(cond))
	}
	if e.Text != "" {
		text += " (the room says: “" + reasonText(e.Text) + "”)"
	}
	return text
}

// occupantChanged applies an occupant's presence. Until our own presence
// has come (the room sends everyone else's first) nothing is said: that is
// the occupant list, not news. Then plain joins and parts fold together.
func (s *State) occupantChanged(a *Account, account string, e chat.OccupantChanged) {
	r := a.rooms().Add(e.Room, "")
	joined := r.State == room.Joined
	nick := e.Occupant.Nick
	if !e.Left {
		if e.Self {
			r.UpdateSelf(e.Occupant)
			return
		}
		isNew := r.Get(nick) == nil
		r.Update(e.Occupant)
		if isNew && joined {
			s.addFold(account, e.Room, "joined", nick)
		}
		return
	}
	if e.NewNick != "" {
		s.Flush()
		r.Rename(nick, e.NewNick)
		if e.Self {
			s.roomLine(account, e.Room, LineInfo, "you are now known as %s", nickText(e.NewNick))
		} else if joined {
			s.roomNews(account, e.Room, "%s is now known as %s", nickText(nick), nickText(e.NewNick))
		}
		s.renameSpeaker(account, e.Room, nick, e.NewNick)
		return
	}
	if e.Self {
		return // RoomLeft says it
	}
	r.Remove(nick)
	if !joined {
		return
	}
	switch {
	case e.Kicked:
		s.Flush()
		s.roomNews(account, e.Room, "%s was kicked%s%s", nickText(nick), actorText(e.Actor), reasonSuffix(e.Reason))
	case e.Banned:
		s.Flush()
		s.roomNews(account, e.Room, "%s was banned%s%s", nickText(nick), actorText(e.Actor), reasonSuffix(e.Reason))
	case e.Removed:
		s.Flush()
		s.roomNews(account, e.Room, "%s was removed from the room%s%s", nickText(nick), actorText(e.Actor), reasonSuffix(e.Reason))
	case e.Reason != "" || e.Occupant.Status != "":
		s.Flush()
		why := e.Reason
		if why == "" {
			why = e.Occupant.Status
		}
		s.roomNews(account, e.Room, "%s left (%s)", nickText(nick), reasonText(why))
	default:
		s.addFold(account, e.Room, "left", nick)
	}
}

// maxRecent is how many recent speakers a room tab remembers for nick
// completion.
const maxRecent = 50

// spoke moves nick to the front of the room tab's recent speakers.
func (c *Conversation) spoke(nick string) {
	if nick == "" {
		return
	}
	for i, n := range c.recent {
		if n == nick {
			copy(c.recent[1:i+1], c.recent[:i])
			c.recent[0] = nick
			return
		}
	}
	if len(c.recent) < maxRecent {
		c.recent = append(c.recent, "")
	}
	copy(c.recent[1:], c.recent)
	c.recent[0] = nick
}

// renameSpeaker follows a nick change in the room tab's recent speakers.
func (s *State) renameSpeaker(account, roomJID, old, new string) {
	if c, _ := s.Find(account, chat.RoomConv(roomJID)); c != nil {
		for i, n := range c.recent {
			if n == old {
				c.recent[i] = new
			}
		}
	}
}

// roomMessage prepares a message received in a room: false when it is
// not to be shown (its author is ignored); mention says it names our nick,
// with spans the places to highlight.
func (s *State) roomMessage(account string, e chat.MessageReceived) (show, mention bool, spans [][2]int) {
	if s.ignored(account, e.Conv.JID, e.Nick, e.OccupantID) {
		return false, false, nil
	}
	r := s.Room(account, e.Conv.JID)
	if r == nil {
		return true, false, nil
	}
	r.SetTyping(e.Nick, "")
	if e.Nick == r.Nick || r.Nick == "" {
		return true, false, nil
	}
	spans = room.MentionSpans(e.Body, r.Nick)
	return true, len(spans) > 0, spans
}

// sessionEnded forgets what the account's rooms knew of their occupants
// when its session is gone: a new session joins them again and the rooms
// send everything anew. Until then they are not joined.
func (a *Account) sessionEnded() {
	if a.Rooms == nil {
		return
	}
	for _, r := range a.Rooms.All() {
		if r.State.In() {
			r.Clear()
			r.State = room.NotJoined
		}
	}
}
