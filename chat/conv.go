package chat

import (
	"fmt"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

// Kind is the kind of a conversation: a one-to-one chat, a room
// (XEP-0045), or a private chat with one occupant of a room.
type Kind string

const (
	KindChat    Kind = "chat"         // with a contact: JID is its bare JID
	KindRoom    Kind = "room"         // a room: JID is the room's bare JID
	KindPrivate Kind = "room-private" // with an occupant: JID is room@service/nick
)

// Conv identifies a conversation: its kind and its JID. It is the one key
// events, commands, the history store and the interface use; a bare JID
// alone does not say whether it is a contact or a room, and a private
// message from room/nick is not a chat with the room's bare JID.
type Conv struct {
	Kind Kind
	JID  string
}

// ChatWith is the one-to-one conversation with a contact's bare JID.
func ChatWith(bare string) Conv { return Conv{Kind: KindChat, JID: bare} }

// RoomConv is the conversation of the room with bare JID room.
func RoomConv(room string) Conv { return Conv{Kind: KindRoom, JID: room} }

// PrivateConv is the private conversation with the occupant nick of room.
func PrivateConv(room, nick string) Conv {
	return Conv{Kind: KindPrivate, JID: room + "/" + nick}
}

// IsZero reports whether c names no conversation (the console, or "all
// conversations" where a command allows it).
func (c Conv) IsZero() bool { return c.JID == "" }

// Room is the room a room or room-private conversation belongs to ("" for
// a chat).
func (c Conv) Room() string {
	switch c.Kind {
	case KindRoom:
		return c.JID
	case KindPrivate:
		if j, err := jid.Parse(c.JID); err == nil {
			return j.Bare().String()
		}
	}
	return ""
}

// Nick is the occupant of a room-private conversation ("" otherwise).
func (c Conv) Nick() string {
	if c.Kind != KindPrivate {
		return ""
	}
	if j, err := jid.Parse(c.JID); err == nil {
		return j.Resourcepart()
	}
	return ""
}

// String is how the conversation is named in text: its JID.
func (c Conv) String() string { return c.JID }

// stored is c as the history store names it.
func (c Conv) stored() history.Conv { return history.Conv{Kind: string(c.Kind), Peer: c.JID} }

// convOf is the conversation a stored message belongs to.
func convOf(m history.Message) Conv {
	k := Kind(m.Kind)
	if k == "" {
		k = KindChat
	}
	return Conv{Kind: k, JID: m.Peer}
}

// NSMUCUser is XEP-0045's namespace for what occupants are sent.
const NSMUCUser = "http://jabber.org/protocol/muc#user"

// address is where a message in c goes and its type: a contact's bare JID
// (chat), a room's (groupchat), or an occupant's room/nick (chat).
func (c Conv) address() (to, typ string, err error) {
	switch c.Kind {
	case KindChat:
		to, err = BareJID(c.JID)
		return to, "chat", err
	case KindRoom:
		to, err = BareJID(c.JID)
		return to, "groupchat", err
	case KindPrivate:
		j, err := jid.Parse(c.JID)
		if err != nil || j.Resourcepart() == "" {
			return "", "", fmt.Errorf("%q is not an occupant of a room (room@service/nick)", c.JID)
		}
		return j.String(), "chat", nil
	}
	return "", "", fmt.Errorf("no conversation to send to")
}

// message starts a message stanza in c, with the marks its kind needs: a
// private message to an occupant says so (XEP-0045 §7.5).
func (c Conv) message(to, typ, id string) *xmpp.Element {
	m := xmpp.E(xmpp.NSClient, "message", "type", typ, "to", to, "id", id)
	if c.Kind == KindPrivate {
		m.Add(xmpp.E(NSMUCUser, "x"))
	}
	return m
}
