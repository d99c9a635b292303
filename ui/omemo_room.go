package ui

import (
	"fmt"
	"strings"

	"github.com/gab-chat/gab/chat"
)

// OMEMO in rooms: a room that is non-anonymous and members-only (the
// client says so when we enter it: chat.RoomEncryption) is encrypted by
// default when the account uses OMEMO, as a chat with a contact who has
// devices is; /omemo on and off decide per room, and a room that has
// seen an encrypted message stays encrypted. /omemo on in a room that
// cannot be encrypted is refused with the reason.

// roomEncrypting is encrypting for a room (the account uses OMEMO).
func (s *State) roomEncrypting(a *Account, c *Conversation) bool {
	switch c.omemo {
	case omemoOn:
		return true
	case omemoOff:
		return false
	}
	if c.encrypted {
		return true // never back to plain text by itself
	}
	why, known := a.omemoRooms[c.Conv.JID]
	return !a.OMEMOManual && known && why == ""
}

// roomOMEMOCommand is /omemo, /omemo on and /omemo off in a room.
func (a *App) roomOMEMOCommand(acct *Account, c *Conversation, verb string) {
	why, known := acct.omemoRooms[c.Conv.JID]
	if verb == "on" && (!known || why != "") {
		if !known {
			why = "gab does not know yet whether the room is non-anonymous and members-only (it says so once you are in)"
		}
		a.omemoSay(c, true, "cannot encrypt in this room: %s", why)
		return
	}
	switch verb {
	case "on":
		c.omemo = omemoOn
	case "off":
		c.omemo = omemoOff
	}
	switch {
	case a.state.encrypting(c):
		a.omemoSay(c, false, "messages in this room are encrypted (OMEMO) to every member's devices; /omemo off sends them in plain text")
	case known && why != "":
		a.omemoSay(c, false, "messages in this room go in plain text: %s", why)
	default:
		a.omemoSay(c, false, "messages in this room go in plain text; /omemo on encrypts them")
	}
}

// roomOMEMOEvent takes what the client says of OMEMO in a room.
func (s *State) roomOMEMOEvent(a *Account, account string, ev chat.Event) {
	switch e := ev.(type) {
	case chat.RoomEncryption:
		if a.omemoRooms == nil {
			a.omemoRooms = map[string]string{}
		}
		if why, known := a.omemoRooms[e.Room]; known && why == e.Why {
			return // the same as before (joined again after a new session)
		}
		a.omemoRooms[e.Room] = e.Why
		c, _ := s.Find(account, chat.RoomConv(e.Room))
		if c == nil {
			return
		}
		switch {
		case e.Possible && s.encrypting(c):
			c.add(Line{Time: s.Now(), Kind: LineInfo, Body: "messages here are encrypted (OMEMO) to every member's devices: the room sees who writes and when, not what; /omemo off sends in plain text"})
		case e.Possible && c.omemo != omemoOff:
			c.add(Line{Time: s.Now(), Kind: LineInfo, Body: "this room can be encrypted (OMEMO) to every member's devices: /omemo on encrypts what you send here"})
		case !e.Possible && (c.encrypted || c.omemo == omemoOn):
			c.add(Line{Time: s.Now(), Kind: LineError, Body: "this room can no longer be encrypted (" + e.Why + "): messages are not sent until /omemo off says to send them in plain text"})
		}
	case chat.RoomOMEMOReport:
		c := s.Current()
		add := func(format string, args ...any) {
			c.add(Line{Time: s.Now(), Kind: LineInfo, Body: fmt.Sprintf(format, args...)})
		}
		members := "members"
		if len(e.Members) == 1 {
			members = "member"
		}
		add("%s: %d %s encrypted to", e.Room, len(e.Members), members)
		if len(e.Refused) > 0 {
			add("the room would not list its %s: only those it showed are known", strings.Join(e.Refused, ", "))
		}
		for _, m := range e.Members {
			if len(m.Devices) == 0 {
				add("%s: no OMEMO device known (messages are not sent while a member has none)", m.JID)
				continue
			}
			for _, d := range m.Devices {
				add("%s", deviceLine(m.JID, d, false))
			}
		}
	}
}
