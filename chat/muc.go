package chat

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/room"
	"github.com/gab-chat/gab/roster"
	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

// Namespaces of multi-user chat (XEP-0045) and what goes with it.
const (
	NSMUC        = "http://jabber.org/protocol/muc"
	NSMUCAdmin   = "http://jabber.org/protocol/muc#admin"
	NSMUCOwner   = "http://jabber.org/protocol/muc#owner"
	NSOccupantID = "urn:xmpp:occupant-id:0" // XEP-0421
	NSConference = "jabber:x:conference"    // XEP-0249 direct invitations
	NSDiscoItems = "http://jabber.org/protocol/disco#items"
	featureMAM   = "urn:xmpp:mam:2"
)

// roomPage is how many archived messages of a room one query asks for; a
// room never seen before gets its latest page only.
const roomPage = 100

// mucState is where a join stands.
type mucState int

const (
	mucJoining mucState = iota
	mucJoined
	mucLeaving
)

// mucRoom is a room the user is in, or asked to be in: what the client
// needs to route its stanzas and to join it again after a new session.
// Guarded by Client.state.
type mucRoom struct {
	nick       string
	password   string
	state      mucState
	occupantID string // ours, once the room said (XEP-0421)
	archive    bool   // the room keeps an archive (XEP-0313): join without history, catch up from it
	name       string
	configure  bool   // a room this join makes waits for its configuration
	relearn    bool   // joined with what the room offered when last asked: ask again once in
	cmd        uint64 // the JoinRoom waiting for its answer, 0 for none
	cmdv       Command
	catching   bool // an archive catch-up is under way
	pinging    bool // a self-ping (XEP-0410) is under way
	// exhausted: paging back reached the start of the room's archive.
	exhausted bool
	// ceiling is the time of the oldest message held when paging back
	// began: what the archive gives before it is not put after it (its
	// stamps have whole seconds).
	ceiling time.Time
	caught  int // new messages it brought so far
	// floor is the time of the newest message held when the catch-up
	// began: the archive's stamps have whole seconds, and what it gives
	// after that message is not put before it.
	floor time.Time
	// omemo: what OMEMO needs of the room (omemo_room.go).
	omemo roomOMEMO
}

// RoomSelf is what translation knows of a room we are in.
type RoomSelf struct {
	Nick       string
	OccupantID string
}

// inRoom reports whether bare is a room we are in (or joining) and our
// nick and occupant-id there.
func (s Self) inRoom(bare string) (RoomSelf, bool) {
	if s.Room == nil {
		return RoomSelf{}, false
	}
	return s.Room(bare)
}

// roomSelf is Self.Room for this client.
func (c *Client) roomSelf(bare string) (RoomSelf, bool) {
	c.state.Lock()
	defer c.state.Unlock()
	r, ok := c.rooms[bare]
	if !ok {
		return RoomSelf{}, false
	}
	return RoomSelf{Nick: r.nick, OccupantID: r.occupantID}, true
}

// translateRoomMessage reads a message from a room we are in (from is the
// room or room/nick). Groupchat messages are the room's conversation;
// chat and normal ones from an occupant are private to us; the room's own
// chat messages (no nick) belong to the room's tab too.
func translateRoomMessage(self Self, el *xmpp.Element, from jid.JID, typ string) []Event {
	roomJID := from.Bare().String()
	nick := from.Resourcepart()
	conv := RoomConv(roomJID)
	if typ != "groupchat" && nick != "" {
		conv = PrivateConv(roomJID, nick)
	}
	var evs []Event
	body, hasBody := pickByLang(el, "body", self.Lang)
	if subj := el.Child(xmpp.NSClient, "subject"); subj != nil && typ == "groupchat" && !hasBody {
		// XEP-0045 §8.1: a subject change is a message with a subject
		// and no body; the one sent on joining comes with a delay.
		_, delayed := delayStamp(self, el)
		text, _ := pickByLang(el, "subject", self.Lang)
		return []Event{RoomSubject{Room: roomJID, Subject: text, Nick: nick, Delayed: delayed}}
	}
	occupantID := ""
	if conv.Kind == KindRoom {
		occupantID = el.Child(NSOccupantID, "occupant-id").Get("id")
	}
	if a, ok := translateAction(self, el, conv, from.String(), roomJID, nick, occupantID, false); ok {
		return []Event{a}
	}
	enc, side, plain := encryptedIn(el, conv, from)
	if side != nil {
		evs = append(evs, side)
	}
	if enc != nil || plain && hasBody && strings.TrimSpace(body) != "" {
		m := MessageReceived{
			Conv: conv, ID: el.Get("id"), From: from.String(), Bare: roomJID, To: el.Get("to"),
			Type: typ, Body: body, Thread: el.ChildText(xmpp.NSClient, "thread"),
			OriginID: el.Child(NSSID, "origin-id").Get("id"),
		}
		if conv.Kind == KindRoom {
			m.Nick = nick
			m.OccupantID = el.Child(NSOccupantID, "occupant-id").Get("id")
			m.ArchiveID = roomArchiveID(roomJID, el)
		} else {
			m.ArchiveID = archiveID(self, el)
			m.Receipt = el.Child(NSReceipts, "request") != nil && m.ID != ""
		}
		m.Time, m.Delayed = delayStamp(self, el)
		if enc != nil {
			m.Body, m.Encrypted, m.Note = "", enc, OMEMOUnreadNote
		} else {
			m.Body, m.Reply, m.File = decorate(el, body)
		}
		if r := el.Child(NSCorrect, "replace"); r != nil && r.Get("id") != "" && enc == nil {
			return append(evs, MessageCorrected{Conv: conv, Nick: m.Nick, OccupantID: m.OccupantID, From: m.From, Bare: roomJID,
				ReplaceID: r.Get("id"), NewID: m.ID, Body: m.Body, AsMessage: m})
		}
		evs = append(evs, m)
	}
	if r := el.Child(NSReceipts, "received"); r != nil && r.Get("id") != "" && conv.Kind == KindPrivate {
		evs = append(evs, ReceiptReceived{From: from.String(), Bare: roomJID, ID: r.Get("id")})
	}
	me, _ := self.inRoom(roomJID)
	if cs := el.ChildrenIn(NSChatStates); len(cs) > 0 && nick != "" && !(conv.Kind == KindRoom && nick == me.Nick) {
		if st, ok := parseChatState(cs[0].Name.Local); ok {
			evs = append(evs, ChatStateChanged{Conv: conv, Nick: nick, From: from.String(), Bare: roomJID, State: st})
		}
	}
	return evs
}

// peerConv is the conversation of a one-to-one message with peer (its
// sender, or its recipient for one we sent): the private conversation with
// an occupant when peer is room@service/nick and the room is one we are
// in, or the message carries the mark of a private message in a room (an
// <x xmlns='http://jabber.org/protocol/muc#user'/>, XEP-0045 §7.5) — as
// the copies of another device's private messages do (carbons, our
// account's archive) when this one is not in the room; else the chat with
// peer's bare JID. A private message is never a contact's chat.
func peerConv(self Self, el *xmpp.Element, peer jid.JID) Conv {
	bare := peer.Bare().String()
	if nick := peer.Resourcepart(); nick != "" && peer.Localpart() != "" {
		if _, in := self.inRoom(bare); in || el.Child(NSMUCUser, "x") != nil {
			return PrivateConv(bare, nick)
		}
	}
	return ChatWith(bare)
}

// roomArchiveID is the id a room's archive gave a message: a stanza-id
// stamped by the room itself (XEP-0359, XEP-0313 §5.1.2), and only when
// there is exactly one such (an occupant cannot stamp one: the room
// replaces what it sends, but gab does not count on that).
func roomArchiveID(roomJID string, el *xmpp.Element) string {
	id, n := "", 0
	for _, c := range el.ChildrenIn(NSSID) {
		if c.Name.Local == "stanza-id" && c.Get("by") == roomJID {
			id, n = c.Get("id"), n+1
		}
	}
	if n != 1 {
		return ""
	}
	return id
}

// translateInvitation reads an invitation to a room: direct (XEP-0249,
// from anyone) or mediated by the room (XEP-0045 §7.8.2, from the room's
// bare JID). ok is false when el is none.
func translateInvitation(self Self, el *xmpp.Element, from jid.JID) (Event, bool) {
	// A room's mediated invitation may carry a direct one too, for old
	// clients (XEP-0045 §7.8.2): the mediated one says more.
	if x := el.Child(NSMUCUser, "x"); x != nil && x.Child(NSMUCUser, "invite") != nil {
		return translateMediated(el, from, x)
	}
	if x := el.Child(NSConference, "x"); x != nil {
		r, err := jid.Parse(x.Get("jid"))
		if err != nil || r.Localpart() == "" {
			return Notice{Text: "dropped an invitation from " + from.Bare().String() + " to an invalid room address"}, true
		}
		return InvitationReceived{Room: r.Bare().String(), From: from.Bare().String(), Reason: x.Get("reason"), Password: x.Get("password")}, true
	}
	return nil, false
}

// translateMediated reads an invitation sent through a room.
func translateMediated(el *xmpp.Element, from jid.JID, x *xmpp.Element) (Event, bool) {
	inv := x.Child(NSMUCUser, "invite")
	if from.Resourcepart() != "" || from.Localpart() == "" {
		return Notice{Text: "dropped an invitation that did not come from a room: " + from.String()}, true
	}
	// A semi-anonymous room names the inviter by occupant JID
	// (room/nick): kept as it is, it says who.
	who := inv.Get("from")
	if j, err := jid.Parse(who); err == nil {
		if !j.Bare().Equal(from.Bare()) {
			who = j.Bare().String()
		} else {
			who = j.String()
		}
	} else {
		who = ""
	}
	return InvitationReceived{Room: from.Bare().String(), From: who, Reason: inv.ChildText(NSMUCUser, "reason"),
		Password: x.ChildText(NSMUCUser, "password"), Mediated: true}, true
}

// statusCodes are the XEP-0045 status codes of an <x/>.
func statusCodes(x *xmpp.Element) []int {
	var out []int
	for _, s := range x.ChildrenIn(NSMUCUser) {
		if s.Name.Local != "status" {
			continue
		}
		if n, err := strconv.Atoi(s.Get("code")); err == nil && n >= 100 && n < 1000 {
			out = append(out, n)
		}
	}
	return out
}

func hasCode(codes []int, want ...int) bool {
	for _, c := range codes {
		for _, w := range want {
			if c == w {
				return true
			}
		}
	}
	return false
}

// translateRoomPresence reads a presence from a room we are in: an
// occupant's (with the room's <x/>), or an error answering our join or
// nick change.
func translateRoomPresence(self Self, el *xmpp.Element, from jid.JID) []Event {
	roomJID := from.Bare().String()
	nick := from.Resourcepart()
	typ := el.Get("type")
	if typ == "error" {
		e := xmpp.ParseStanzaError(el)
		return []Event{roomJoinFailed(roomJID, nick, e)}
	}
	if typ != "" && typ != "unavailable" {
		return nil
	}
	x := el.Child(NSMUCUser, "x")
	if x == nil || nick == "" {
		return nil // not an occupant's presence (ejabberd sends the room's caps from its bare JID): not for us
	}
	item := x.Child(NSMUCUser, "item")
	codes := statusCodes(x)
	o := room.Occupant{
		Nick:        nick,
		OccupantID:  el.Child(NSOccupantID, "occupant-id").Get("id"),
		Role:        room.ParseRole(item.Get("role")),
		Affiliation: room.ParseAffiliation(item.Get("affiliation")),
	}
	if j, err := jid.Parse(item.Get("jid")); err == nil {
		o.RealJID = j.String()
	}
	oc := OccupantChanged{Room: roomJID, Occupant: o, Codes: codes, Left: typ == "unavailable",
		Reason: item.ChildText(NSMUCUser, "reason"), Self: hasCode(codes, 110)}
	if a := item.Child(NSMUCUser, "actor"); a != nil {
		oc.Actor = a.Get("nick")
		if oc.Actor == "" {
			oc.Actor = a.Get("jid")
		}
	}
	if oc.Left {
		oc.Occupant.Show = roster.Offline
		if hasCode(codes, 303) {
			oc.NewNick = item.Get("nick")
		}
		oc.Kicked = hasCode(codes, 307)
		oc.Banned = hasCode(codes, 301)
		oc.Removed = hasCode(codes, 321, 322, 332, 333)
		if d := x.Child(NSMUCUser, "destroy"); d != nil && oc.Self {
			left := RoomLeft{Room: roomJID, State: room.Destroyed, Reason: d.ChildText(NSMUCUser, "reason")}
			if alt, err := jid.Parse(d.Get("jid")); err == nil {
				left.AltRoom = alt.Bare().String()
			}
			return []Event{left}
		}
	} else {
		var show string
		for _, c := range el.ChildrenIn(xmpp.NSClient) {
			if c.Name.Local == "show" && show == "" {
				show = strings.TrimSpace(c.Text)
			}
		}
		oc.Occupant.Show = roster.ParseShow(show)
		oc.Occupant.Status, _ = pickByLang(el, "status", self.Lang)
	}
	// Our own presence is the one marked 110 (XEP-0045 §7.2.3): an
	// occupant that merely has our nick is not us.
	return []Event{oc}
}

// roomJoinFailed says why a room refused a presence of ours.
func roomJoinFailed(roomJID, nick string, e *xmpp.StanzaError) RoomJoinFailed {
	f := RoomJoinFailed{Room: roomJID, Nick: nick, Condition: e.Condition, Text: e.Text}
	switch e.Condition {
	case "conflict":
		f.NickConflict = true
		f.Suggestion = nick + "_"
	case "not-authorized":
		f.NeedPassword = true
	case "registration-required":
		f.MembersOnly = true
	case "forbidden":
		f.Banned = true
	case "service-unavailable":
		f.Full = true
	case "item-not-found", "gone", "remote-server-not-found":
		f.Gone = true
	}
	return f
}

// joinPresence is the presence that enters a room as nick (XEP-0045 §7.2):
// our availability, the MUC element with the password, and — where the
// room keeps an archive gab catches up from — no history (§7.2.13).
func (c *Client) joinPresence(roomJID string, r *mucRoom) *xmpp.Element {
	c.mu.Lock()
	p := c.presence
	c.mu.Unlock()
	el := c.presenceElement(p)
	el.SetAttr("to", roomJID+"/"+r.nick)
	x := xmpp.E(NSMUC, "x")
	if r.archive {
		x.Add(xmpp.E(NSMUC, "history", "maxstanzas", "0"))
	}
	if r.password != "" {
		x.Add(xmpp.E(NSMUC, "password").WithText(r.password))
	}
	return el.Add(x)
}

// errLater: the command's final answer comes later, from the reader.
var errLater = errors.New("answered later")

// joinRoom starts a join: it asks the room what it is (disco#info: does
// it keep an archive?), then sends the join presence. The command is
// answered when the room answers (see mucEvent).
func (c *Client) joinRoom(ctx context.Context, sess *xmpp.Session, id uint64, cmd JoinRoom) error {
	roomJID, err := c.roomAddress(cmd.Room)
	if err != nil {
		return err
	}
	nick := strings.TrimSpace(cmd.Nick)
	if nick == "" {
		nick = cmp.Or(c.acct.Nick, c.acct.JID.Localpart())
	}
	if _, err := jid.New(roomJID[:strings.IndexByte(roomJID, '@')], roomJID[strings.IndexByte(roomJID, '@')+1:], nick); err != nil {
		return fmt.Errorf("%q cannot be a nick: %v", nick, err)
	}
	c.state.Lock()
	if r, ok := c.rooms[roomJID]; ok && r.state == mucJoined && r.nick == nick {
		c.state.Unlock()
		return nil // in already
	}
	c.state.Unlock()
	// A room joined before is joined at once with what it said it offers
	// then; it is asked again once we are in (see occupantEvent), for the
	// next join. A room not known is asked first.
	info, known := c.storedRoomInfo(ctx, roomJID)
	answered := false
	if !known {
		info, answered = c.roomInfo(ctx, sess, roomJID)
	}
	c.state.Lock()
	r := &mucRoom{nick: nick, password: cmd.Password, state: mucJoining, archive: info.archive, name: info.name, cmd: id, cmdv: cmd, configure: cmd.Configure,
		relearn: known}
	r.omemo.setInfo(info)
	if old, ok := c.rooms[roomJID]; ok && old.cmd != 0 && old.cmd != id {
		c.state.Unlock()
		return fmt.Errorf("already joining %s", roomJID)
	}
	c.rooms[roomJID] = r
	el := c.joinPresence(roomJID, r)
	c.state.Unlock()
	c.emit(ctx, RoomJoining{Room: roomJID, Nick: nick})
	if err := sess.Send(el); err != nil {
		return err
	}
	if answered {
		if err := c.rememberRoom(ctx, roomJID, info); err != nil {
			c.emit(ctx, Notice{Text: "history: " + err.Error()})
		}
	}
	return errLater
}

type roomInfo struct {
	archive bool
	name    string
	// nonAnonymous, membersOnly: the room shows everyone's real JID,
	// and only its members may enter (what OMEMO in it needs).
	nonAnonymous, membersOnly bool
}

// roomInfoJSON is a room's info as the store keeps it.
type roomInfoJSON struct {
	Archive      bool   `json:"archive"`
	Name         string `json:"name"`
	NonAnonymous bool   `json:"nonanonymous,omitempty"`
	MembersOnly  bool   `json:"membersonly,omitempty"`
}

// roomInfo asks a room what it offers (XEP-0030). A room that does not
// exist yet, or does not answer, offers nothing known (and answered is
// false).
func (c *Client) roomInfo(ctx context.Context, sess *xmpp.Session, roomJID string) (info roomInfo, answered bool) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.IQTimeout)
	defer cancel()
	res, err := sess.SendIQ(ctx, xmpp.E(xmpp.NSClient, "iq", "type", "get", "to", roomJID).Add(xmpp.E(NSDiscoInfo, "query")))
	if err != nil {
		return roomInfo{}, false
	}
	return parseRoomInfo(res), true
}

// metaRoomInfo is the store's key (history.Store.Meta) for what a room
// said it offers when last asked.
func metaRoomInfo(roomJID string) string { return "room-info " + roomJID }

// storedRoomInfo is what a room said it offers when last asked, if it was
// asked before (in this run or an earlier one).
func (c *Client) storedRoomInfo(ctx context.Context, roomJID string) (roomInfo, bool) {
	if c.opts.Store == nil {
		return roomInfo{}, false
	}
	v, err := c.opts.Store.Meta(ctx, metaRoomInfo(roomJID))
	if err != nil || v == "" {
		return roomInfo{}, false // not known (or not readable): ask the room
	}
	var saved roomInfoJSON
	if json.Unmarshal([]byte(v), &saved) != nil {
		return roomInfo{}, false
	}
	return roomInfo{archive: saved.Archive, name: saved.Name, nonAnonymous: saved.NonAnonymous, membersOnly: saved.MembersOnly}, true
}

// rememberRoom keeps what a room said it offers, for the next join.
func (c *Client) rememberRoom(ctx context.Context, roomJID string, info roomInfo) error {
	if c.opts.Store == nil {
		return nil
	}
	v, err := json.Marshal(roomInfoJSON{info.archive, info.name, info.nonAnonymous, info.membersOnly})
	if err != nil {
		return err
	}
	return c.opts.Store.SetMeta(ctx, metaRoomInfo(roomJID), string(v))
}

// parseRoomInfo reads a room's disco#info answer; nil knows nothing.
func parseRoomInfo(res *xmpp.Element) roomInfo {
	var info roomInfo
	q := res.Child(NSDiscoInfo, "query")
	for _, f := range q.ChildrenIn(NSDiscoInfo) {
		switch f.Name.Local {
		case "feature":
			switch f.Get("var") {
			case featureMAM:
				info.archive = true
			case "muc_nonanonymous":
				info.nonAnonymous = true
			case "muc_membersonly":
				info.membersOnly = true
			}
		case "identity":
			if f.Get("category") == "conference" && info.name == "" {
				info.name = f.Get("name")
			}
		}
	}
	return info
}

// learnRoom asks a room what it is now: one we made, now that it exists
// (before, there was nobody to ask), one whose configuration we changed,
// or one joined with what it said last time. Whether it keeps an archive
// decides how it is joined again, after a new session or in a later run.
func (c *Client) learnRoom(sess *xmpp.Session, roomJID string) {
	sess.SendIQFunc(xmpp.E(xmpp.NSClient, "iq", "type", "get", "to", roomJID).Add(xmpp.E(NSDiscoInfo, "query")), c.opts.IQTimeout,
		func(res *xmpp.Element, err error) {
			if err != nil {
				return
			}
			// On the reader goroutine (an answer).
			info := parseRoomInfo(res)
			c.state.Lock()
			var ev Event
			if r, ok := c.rooms[roomJID]; ok {
				r.archive, r.name = info.archive, info.name
				ev = c.roomInfoChanged(roomJID, r, info)
			}
			c.state.Unlock()
			c.storeFailed(c.rememberRoom(context.Background(), roomJID, info))
			if ev != nil {
				c.deliver(ev)
			}
		})
}

// rejoinRooms joins again, after a new session (not a resumed one),
// every room the user was in: the server forgot us there.
func (c *Client) rejoinRooms(ctx context.Context, sess *xmpp.Session) {
	c.state.Lock()
	var els []*xmpp.Element
	var evs []Event
	for roomJID, r := range c.rooms {
		if r.state == mucLeaving {
			delete(c.rooms, roomJID)
			continue
		}
		r.state, r.occupantID, r.catching = mucJoining, "", false
		r.omemo.nicks = nil // who is there comes again with the join
		els = append(els, c.joinPresence(roomJID, r))
		evs = append(evs, RoomJoining{Room: roomJID, Nick: r.nick})
	}
	c.state.Unlock()
	for _, ev := range evs {
		c.deliver(ev)
	}
	for _, el := range els {
		sess.Send(el)
	}
}

// roomReady reports whether a message in conv may go out now: a room's
// only once we are in it (sent before, the room refuses it), so after a
// new session the outbox keeps it until the room is joined again.
func (c *Client) roomReady(conv Conv) bool {
	if conv.Kind == KindChat {
		return true
	}
	c.state.Lock()
	defer c.state.Unlock()
	r, ok := c.rooms[conv.Room()]
	return ok && r.state == mucJoined
}

// expand runs the room stages over what translation made of one stanza:
// results of a room's archive become messages (or nothing), and room
// events are judged by what the client knows of its rooms (see mucEvent).
func (c *Client) expand(ctx context.Context, sess *xmpp.Session, evs []Event) []Event {
	roomy := false
	for _, ev := range evs {
		switch e := ev.(type) {
		case MessageArchived:
			roomy = roomy || e.Room != ""
		case OccupantChanged, RoomJoinFailed, RoomLeft, roomAffiliation, roomReconfigured:
			roomy = true
		case MessageReceived:
			roomy = roomy || e.Conv.Kind == KindRoom
		}
	}
	if !roomy {
		return evs
	}
	var out []Event
	for _, ev := range evs {
		if a, ok := ev.(MessageArchived); ok && a.Room != "" {
			if m, ok := c.roomArchived(ctx, a); ok {
				out = append(out, m)
			}
			continue
		}
		out = append(out, c.mucEvent(ctx, sess, ev)...)
	}
	return out
}

// mucEvent turns what translation made of a room's stanza into what it
// means for the client, which knows the rooms' state, and acts on it: the
// join's answer, our own message reflected, leaving. It runs on the
// reader goroutine and returns the events to hand on.
func (c *Client) mucEvent(ctx context.Context, sess *xmpp.Session, ev Event) []Event {
	switch e := ev.(type) {
	case OccupantChanged:
		extra := c.omemoOccupant(e) // before occupantEvent moves the join on
		return append(c.occupantEvent(ctx, sess, e), extra...)
	case RoomJoinFailed:
		c.state.Lock()
		r, ok := c.rooms[e.Room]
		if !ok {
			c.state.Unlock()
			return nil
		}
		if r.state != mucJoining {
			// Joined: the room refused a nick change (or a presence).
			c.state.Unlock()
			if e.NickConflict {
				return []Event{Notice{Text: "the nick " + e.Nick + " is taken in " + e.Room + "; you keep " + r.nick}}
			}
			return []Event{Notice{Text: e.Room + " refused a change of presence or nick: " + e.Condition}}
		}
		delete(c.rooms, e.Room)
		cmd, cmdv := r.cmd, r.cmdv
		c.state.Unlock()
		out := []Event{e}
		if cmd != 0 {
			out = append(out, CommandFailed{ID: cmd, Command: SafeCommand(cmdv), Err: joinError(e)})
		}
		return out
	case RoomLeft:
		c.state.Lock()
		delete(c.rooms, e.Room)
		c.state.Unlock()
		return []Event{e}
	case roomAffiliation:
		c.omemoAffiliation(e) // omemo_room.go
		return nil
	case roomReconfigured:
		c.state.Lock()
		_, in := c.rooms[e.Room]
		c.state.Unlock()
		if in {
			c.learnRoom(sess, e.Room) // whether it can be encrypted may have changed
		}
		return nil
	case MessageReceived:
		if e.Conv.Kind == KindRoom && c.ownInRoom(e.Conv.JID, e.Nick, e.OccupantID) {
			return c.reflected(ctx, e)
		}
	}
	return []Event{ev}
}

// joinError is the reason a JoinRoom failed, in words.
func joinError(e RoomJoinFailed) error {
	var s string
	switch {
	case e.NickConflict:
		s = "the nick " + e.Nick + " is taken there; try another (" + e.Suggestion + "?)"
	case e.NeedPassword:
		s = "the room needs a password (or that one is wrong)"
	case e.MembersOnly:
		s = "only members may enter"
	case e.Banned:
		s = "you are banned from it"
	case e.Full:
		s = "it is full, or not available"
	case e.Gone:
		s = "there is no such room"
	default:
		s = "the room refused: " + e.Condition
	}
	if e.Text != "" {
		s += " (" + e.Text + ")"
	}
	return errors.New(s)
}

// ownInRoom reports whether a room message is ours: from our nick, and —
// where the room gives occupant-ids — with our occupant-id. An occupant
// who took the nick we had is not us.
func (c *Client) ownInRoom(roomJID, nick, occupantID string) bool {
	c.state.Lock()
	defer c.state.Unlock()
	r, ok := c.rooms[roomJID]
	if !ok {
		return false
	}
	if r.occupantID != "" || occupantID != "" {
		return occupantID != "" && occupantID == r.occupantID
	}
	return nick == r.nick
}

// reflected handles our own message coming back from the room: the one
// we sent (found in the outbox by origin-id) is now delivered to the
// room; one sent from another of our devices (or by an earlier run) is
// shown as ours.
func (c *Client) reflected(ctx context.Context, e MessageReceived) []Event {
	if e.OriginID != "" {
		if conv, known := c.out.peer(e.OriginID); known && conv == e.Conv {
			var out []Event
			if conv, ok := c.out.set(e.OriginID, DeliveryReceived); ok {
				out = append(out, DeliveryChanged{Conv: conv, ID: e.OriginID, To: conv.JID, State: DeliveryReceived})
			}
			if e.ArchiveID != "" && c.opts.Store != nil {
				c.storeFailed(c.opts.Store.SetArchiveID(ctx, e.Conv.stored(), e.OriginID, e.ArchiveID))
			}
			c.seen.add(history.Out + "\x00" + string(e.Conv.Kind) + "\x00" + e.Conv.JID + "\x00" + e.OriginID)
			return out
		}
	}
	return []Event{CarbonSent{Conv: e.Conv, ID: e.ID, To: e.Conv.JID, Body: e.Body, Thread: e.Thread, Time: e.Time,
		OriginID: e.OriginID, ArchiveID: e.ArchiveID, Delayed: e.Delayed, Reply: e.Reply, File: e.File, Encrypted: e.Encrypted}}
}

// occupantEvent follows an occupant's presence: ours answers the join,
// changes our nick, or says we are out.
func (c *Client) occupantEvent(ctx context.Context, sess *xmpp.Session, e OccupantChanged) []Event {
	c.state.Lock()
	r, ok := c.rooms[e.Room]
	if !ok {
		c.state.Unlock()
		return nil
	}
	if e.Self && r.occupantID != "" && e.Occupant.OccupantID != "" && e.Occupant.OccupantID != r.occupantID {
		// Marked as ours (110) but another occupant's id: a room that
		// passed on an occupant's own status code. Not us.
		e.Self = false
	}
	if !e.Self {
		c.state.Unlock()
		return []Event{e}
	}
	if e.Left {
		if e.NewNick != "" {
			r.nick = e.NewNick
			c.state.Unlock()
			return []Event{e}
		}
		leaving := r.state == mucLeaving
		delete(c.rooms, e.Room)
		c.state.Unlock()
		left := RoomLeft{Room: e.Room, State: room.Left, Reason: e.Reason, Actor: e.Actor}
		switch {
		case e.Banned:
			left.State = room.Banned
		case e.Kicked:
			left.State = room.Kicked
		case e.Removed:
			left.State = room.Removed
		case !leaving:
			// The room dropped us without a word (it restarted, or
			// shut down): say so; joining again is the user's choice.
			left.State = room.Removed
			if left.Reason == "" {
				left.Reason = "the room let you go without saying why"
			}
		}
		return []Event{e, left}
	}
	joining := r.state == mucJoining
	r.state = mucJoined
	r.nick = e.Occupant.Nick // the room may have changed it (status 210)
	r.occupantID = e.Occupant.OccupantID
	cmd, cmdv := r.cmd, r.cmdv
	r.cmd, r.cmdv = 0, nil
	archive, name, configure, relearn := r.archive, r.name, r.configure, r.relearn
	r.configure, r.relearn = false, false
	catchUp := joining && archive && !r.catching
	if catchUp {
		r.catching = true
	}
	c.state.Unlock()
	if !joining {
		return []Event{e}
	}
	created := hasCode(e.Codes, 201)
	out := []Event{RoomJoined{Room: e.Room, Self: e.Occupant, Created: created, NonAnonymous: hasCode(e.Codes, 100), Archive: archive, Name: name,
		Configure: created && configure}}
	if cmd != 0 {
		out = append(out, CommandDone{ID: cmd, Command: SafeCommand(cmdv)})
	}
	if created && !configure {
		// A new room waits for its owner's configuration; an instant room
		// takes the defaults (XEP-0045 §10.1.2).
		roomJID := e.Room
		sess.SendIQFunc(xmpp.E(xmpp.NSClient, "iq", "type", "set", "to", e.Room).Add(
			xmpp.E(NSMUCOwner, "query").Add(xmpp.E(NSForms, "x", "type", "submit"))), c.opts.IQTimeout, func(_ *xmpp.Element, err error) {
			if err == nil {
				c.learnRoom(sess, roomJID)
			}
		})
	}
	// What the outbox kept for this room while we were out goes now.
	c.flush(sess, false, c.deliver)
	if catchUp {
		c.roomCatchUp(ctx, sess, e.Room)
	}
	if relearn && !created {
		// Joined with what the room said last time: ask again (after
		// the catch-up's query, which the room answers first), for
		// the next join.
		c.learnRoom(sess, e.Room)
	}
	return out
}

// roomCatchUp reads the room's archive after the newest message from it
// that the store holds (or, for a room never seen, its latest page),
// page by page until the archive says it is complete.
//
// Where it stands is kept in the store (metaRoomCatchUp) from its start,
// and moved on in the transaction of each page's messages: a catch-up cut
// short goes on from the last page stored, not from a live message stored
// meanwhile (which would leave a gap before it).
func (c *Client) roomCatchUp(ctx context.Context, sess *xmpp.Session, roomJID string) {
	after := ""
	var floor time.Time
	if c.opts.Store != nil {
		conv := RoomConv(roomJID).stored()
		key := metaRoomCatchUp(roomJID)
		marker, err := c.opts.Store.Meta(ctx, key)
		c.storeFailed(err)
		var last string
		last, floor, err = c.opts.Store.LastArchiveID(ctx, conv)
		c.storeFailed(err)
		switch marker {
		case "":
			// A new catch-up: from the newest message held, as the store
			// stands now (nothing of this join is stored yet).
			after = last
			marker = cmp.Or(last, roomLatest)
			c.storeFailed(c.opts.Store.SetMeta(ctx, key, marker))
		case roomLatest:
			// The latest page of a room never seen, again: what of it
			// was stored is recognised.
		default:
			after = marker
			if at, ok, err := c.opts.Store.ArchiveTime(ctx, conv, marker); err == nil && ok {
				floor = at
			}
		}
		c.state.Lock()
		if r, ok := c.rooms[roomJID]; ok {
			r.floor = floor
		}
		c.state.Unlock()
	}
	c.startChain(roomJID)
	c.countArchive(ctx, sess, roomJID, roomJID, floor, after == "")
	c.roomArchivePage(ctx, sess, roomJID, after, after == "")
}

// noteCaught counts a message of a room's catch-up that was new. Reader
// goroutine.
func (c *Client) noteCaught(conv Conv) {
	if conv.Kind != KindRoom {
		return
	}
	c.state.Lock()
	if r, ok := c.rooms[conv.JID]; ok && r.catching {
		r.caught++
	}
	c.state.Unlock()
}

// roomArchivePage asks a room's archive for one page: after `after`, or
// the latest (latest).
func (c *Client) roomArchivePage(ctx context.Context, sess *xmpp.Session, roomJID, after string, latest bool) {
	set := xmpp.E(NSRSM, "set").Add(xmpp.E(NSRSM, "max").WithText(fmt.Sprint(roomPage)))
	switch {
	case latest:
		set.Add(xmpp.E(NSRSM, "before"))
	case after != "":
		set.Add(xmpp.E(NSRSM, "after").WithText(after))
	}
	q, forget := c.roomArchiveQuery(roomJID, mamRoom, set)
	done := func(err error) {
		c.state.Lock()
		n := 0
		if r, ok := c.rooms[roomJID]; ok {
			n = r.caught
			r.catching, r.caught = false, 0
		}
		c.state.Unlock()
		if err == nil && c.opts.Store != nil {
			c.setMetaAfter(metaRoomCatchUp(roomJID), "") // with the last page
		}
		c.chainDone(roomJID)
		c.deliver(RoomCatchUp{Room: roomJID, Count: n, Err: err})
	}
	err := sess.SendIQFunc(xmpp.E(xmpp.NSClient, "iq", "type", "set", "to", roomJID).Add(q), c.opts.IQTimeout, func(res *xmpp.Element, err error) {
		forget()
		if err != nil {
			var se *xmpp.StanzaError
			if errors.As(err, &se) {
				// On the reader goroutine: the room has no archive to give.
				done(fmt.Errorf("the room's archive refused: %v", err))
			}
			return // the session ended: the next one catches up
		}
		fin := res.Child(NSMAM, "fin")
		last := fin.Child(NSRSM, "set").ChildText(NSRSM, "last")
		if latest || fin.Get("complete") == "true" || last == "" {
			// A room never seen gets its latest page only; older
			// messages come when the user pages back — unless that page
			// was the whole archive.
			if latest && fin.Get("complete") == "true" {
				c.state.Lock()
				if r, ok := c.rooms[roomJID]; ok {
					r.exhausted = true
				}
				c.state.Unlock()
			}
			done(nil)
			return
		}
		if c.opts.Store != nil {
			c.setMetaAfter(metaRoomCatchUp(roomJID), last) // with the page's messages
		}
		c.roomArchivePage(ctx, sess, roomJID, last, false)
	})
	if err != nil {
		forget()
		c.chainDone(roomJID)
	}
}

// roomArchiveQuery makes an archive query (XEP-0313) to a room for one
// page set, registered under mode so that its results are recognised as
// ours and that room's; forget unregisters it once it is answered.
func (c *Client) roomArchiveQuery(roomJID string, mode mamMode, set *xmpp.Element) (q *xmpp.Element, forget func()) {
	qid := NewID()
	form := xmpp.E(NSForms, "x", "type", "submit").Add(
		xmpp.E(NSForms, "field", "var", "FORM_TYPE", "type", "hidden").Add(xmpp.E(NSForms, "value").WithText(NSMAM)))
	c.state.Lock()
	c.mam[qid] = mode
	c.roomQueries[qid] = &roomQuery{room: roomJID}
	c.state.Unlock()
	return xmpp.E(NSMAM, "query", "queryid", qid).Add(form, set), func() {
		c.state.Lock()
		defer c.state.Unlock()
		delete(c.mam, qid)
		if rq := c.roomQueries[qid]; rq != nil {
			// Its results may come again, re-sent by the server into a
			// resumed session: known, and dropped without a word.
			c.spentQueries.add(qid + "\x00" + rq.room)
		}
		delete(c.roomQueries, qid)
	}
}

// roomQuery is an archive query to a room under way.
type roomQuery struct {
	room string
}

// translateRoomArchived reads a result of an archive query to a room: it
// must come from that room's bare JID, for a query of ours to it, and it
// is the message the room archived. The client checks the query.
func translateRoomArchived(self Self, el, res *xmpp.Element, roomJID string) []Event {
	fwd := res.Child(NSForward, "forwarded")
	inner := fwd.Child(xmpp.NSClient, "message")
	if inner == nil || res.Get("id") == "" {
		return nil
	}
	body, ok := pickByLang(inner, "body", self.Lang)
	act, isAct, bad := parseAction(inner)
	enc, encErr := omemoIn(inner)
	switch {
	case encErr == errNoOMEMO:
	case encErr != nil || enc.Payload == nil:
		return nil // malformed, or a key transport: nothing to show
	default:
		body, ok, isAct, act = "", true, false, actionIn{}
	}
	if bad != "" || (!isAct && (!ok || strings.TrimSpace(body) == "") && enc == nil) {
		return nil
	}
	from, err := jid.Parse(inner.Get("from"))
	if err != nil || from.Bare().String() != roomJID {
		return nil // a room archives what was said in it
	}
	a := MessageArchived{
		QueryID: res.Get("queryid"), ArchiveID: res.Get("id"), From: from.String(), To: inner.Get("to"),
		ID: inner.Get("id"), OriginID: inner.Child(NSSID, "origin-id").Get("id"), Body: body,
		Thread: inner.ChildText(xmpp.NSClient, "thread"), Peer: roomJID, Room: roomJID,
		Nick: from.Resourcepart(), OccupantID: inner.Child(NSOccupantID, "occupant-id").Get("id"),
		ReplaceID: inner.Child(NSCorrect, "replace").Get("id"),
	}
	a.Time = now(self)
	if t, err := time.Parse(time.RFC3339Nano, fwd.Child(NSDelay, "delay").Get("stamp")); err == nil {
		a.Time = t
	}
	if isAct {
		act.From, act.Bare, act.Nick, act.OccupantID, act.Time = a.From, roomJID, a.Nick, a.OccupantID, a.Time
		a.Action = &act
	} else if enc != nil {
		a.Encrypted, a.ReplaceID = enc, ""
		a.RealJID = archivedRealJID(inner)
	} else {
		a.Body, a.Reply, a.File = decorate(inner, body)
	}
	return []Event{a}
}

// roomArchived turns a result of an archive query to a room into the
// message it is, or nothing: a result for a query we did not make to that
// room is forged and dropped; a message already stored is skipped.
func (c *Client) roomArchived(ctx context.Context, a MessageArchived) (Event, bool) {
	c.state.Lock()
	rq := c.roomQueries[a.QueryID]
	backfill := c.mam[a.QueryID] == mamRoomBackfill
	r := c.rooms[a.Room]
	own := r != nil && ((r.occupantID != "" && a.OccupantID == r.occupantID) || (r.occupantID == "" && a.OccupantID == "" && a.Nick == r.nick))
	if r != nil && !backfill && a.Time.Before(r.floor) {
		a.Time = r.floor
	}
	if r != nil && backfill && !r.ceiling.IsZero() && !a.Time.Before(r.ceiling) {
		// In the archive's order, which is the order they are stored in.
		a.Time = r.ceiling.Add(-time.Microsecond)
	}
	catching := c.mam[a.QueryID] == mamRoom
	spent := rq == nil && c.spentQueries.keys[a.QueryID+"\x00"+a.Room]
	c.state.Unlock()
	if spent {
		return nil, false
	}
	if rq == nil || rq.room != a.Room {
		return Notice{Text: "dropped an archive result from " + a.Room + " that answers no query of ours to it"}, true
	}
	if catching {
		c.chainRead(a.Room)
	}
	conv := RoomConv(a.Room)
	if a.Action != nil {
		act := *a.Action
		act.Conv, act.Archived, act.Outgoing = conv, true, own
		return act, true
	}
	if backfill {
		// Older messages for the tab being paged back: into the store,
		// and the tab reads them from there when the page is in.
		dir := history.In
		if own {
			dir = history.Out
		}
		if !c.duplicate(ctx, conv, dir, a.ArchiveID, a.OriginID, a.ID) && c.opts.Store != nil {
			m := &history.Message{Kind: history.KindRoom, Peer: a.Room, Direction: dir, From: a.From, To: a.To, Body: a.Body, Thread: a.Thread,
				StanzaID: a.ID, OriginID: a.OriginID, ArchiveID: a.ArchiveID, Time: a.Time, Nick: a.Nick, OccupantID: a.OccupantID,
				Reply: storedReply(a.Reply), File: storedFile(a.File)}
			if own {
				m.State = history.StateSent
			}
			err := c.opts.Store.Append([]*history.Message{m})
			c.storeFailed(err)
			if err == nil {
				c.adoptRemoval(ctx, conv, m)
			}
		}
		return nil, false
	}
	// Copies are recognised where every message is: in the read loop.
	if own {
		return CarbonSent{Conv: conv, ID: a.ID, To: a.Room, Body: a.Body, Thread: a.Thread, Time: a.Time, OriginID: a.OriginID, ArchiveID: a.ArchiveID, Delayed: true, Reply: a.Reply, File: a.File, Encrypted: a.Encrypted}, true
	}
	m := MessageReceived{Conv: conv, ID: a.ID, From: a.From, Bare: a.Room, To: a.To, Type: "groupchat", Body: a.Body, Thread: a.Thread,
		Nick: a.Nick, OccupantID: a.OccupantID, Time: a.Time, Delayed: true, OriginID: a.OriginID, ArchiveID: a.ArchiveID, Archived: true, Reply: a.Reply, File: a.File,
		Encrypted: a.Encrypted, RealJID: a.RealJID}
	if a.Encrypted != nil {
		m.Note = OMEMOUnreadNote
	}
	if a.ReplaceID != "" {
		return MessageCorrected{Conv: conv, Nick: a.Nick, OccupantID: a.OccupantID, From: a.From, Bare: a.Room, ReplaceID: a.ReplaceID, NewID: a.ID, Body: a.Body, AsMessage: m}, true
	}
	return m, true
}

// runRoom carries out the room commands other than JoinRoom.
func (c *Client) runRoom(ctx context.Context, sess *xmpp.Session, cmd Command) error {
	switch cmd := cmd.(type) {
	case LeaveRoom:
		roomJID, err := BareJID(cmd.Room)
		if err != nil {
			return err
		}
		c.state.Lock()
		r, ok := c.rooms[roomJID]
		if ok {
			r.state = mucLeaving
		}
		c.state.Unlock()
		if !ok {
			return fmt.Errorf("you are not in %s", roomJID)
		}
		el := xmpp.E(xmpp.NSClient, "presence", "type", "unavailable", "to", roomJID+"/"+r.nick)
		if cmd.Reason != "" {
			el.Add(xmpp.E(xmpp.NSClient, "status").WithText(cmd.Reason))
		}
		return sess.Send(el)
	case ChangeNick:
		roomJID, r, err := c.joined(cmd.Room)
		if err != nil {
			return err
		}
		nick := strings.TrimSpace(cmd.Nick)
		if nick == "" || nick == r.nick {
			return errors.New("give a new nick")
		}
		return sess.Send(xmpp.E(xmpp.NSClient, "presence", "to", roomJID+"/"+nick))
	case SetSubject:
		roomJID, _, err := c.joined(cmd.Room)
		if err != nil {
			return err
		}
		return sess.Send(xmpp.E(xmpp.NSClient, "message", "type", "groupchat", "to", roomJID, "id", NewID()).Add(
			xmpp.E(xmpp.NSClient, "subject").WithText(cmd.Subject)))
	case Invite:
		roomJID, _, err := c.joined(cmd.Room)
		if err != nil {
			return err
		}
		to, err := BareJID(cmd.JID)
		if err != nil {
			return err
		}
		x := xmpp.E(NSConference, "x", "jid", roomJID)
		if cmd.Reason != "" {
			x.SetAttr("reason", cmd.Reason)
		}
		return sess.Send(xmpp.E(xmpp.NSClient, "message", "to", to, "id", NewID()).Add(x))
	case SetRole:
		roomJID, _, err := c.joined(cmd.Room)
		if err != nil {
			return err
		}
		item := xmpp.E(NSMUCAdmin, "item", "nick", cmd.Nick, "role", string(cmd.Role))
		if cmd.Reason != "" {
			item.Add(xmpp.E(NSMUCAdmin, "reason").WithText(cmd.Reason))
		}
		_, err = c.iqTo(ctx, sess, roomJID, "set", xmpp.E(NSMUCAdmin, "query").Add(item))
		return err
	case SetAffiliation:
		roomJID, _, err := c.joined(cmd.Room)
		if err != nil {
			return err
		}
		who, err := BareJID(cmd.JID)
		if err != nil {
			return err
		}
		item := xmpp.E(NSMUCAdmin, "item", "jid", who, "affiliation", string(cmd.Affiliation))
		if cmd.Reason != "" {
			item.Add(xmpp.E(NSMUCAdmin, "reason").WithText(cmd.Reason))
		}
		_, err = c.iqTo(ctx, sess, roomJID, "set", xmpp.E(NSMUCAdmin, "query").Add(item))
		return err
	}
	return errors.New("unknown command")
}

// joined returns a room the user is in, by the address given.
func (c *Client) joined(s string) (string, mucRoom, error) {
	roomJID, err := BareJID(s)
	if err != nil {
		return "", mucRoom{}, err
	}
	c.state.Lock()
	defer c.state.Unlock()
	r, ok := c.rooms[roomJID]
	if !ok || r.state != mucJoined {
		return "", mucRoom{}, fmt.Errorf("you are not in %s", roomJID)
	}
	return roomJID, *r, nil
}

func (c *Client) iqTo(ctx context.Context, sess *xmpp.Session, to, typ string, payload *xmpp.Element) (*xmpp.Element, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.IQTimeout)
	defer cancel()
	return sess.SendIQ(ctx, xmpp.E(xmpp.NSClient, "iq", "type", typ, "to", to).Add(payload))
}

// roomBackfill asks a room's archive for the page before the oldest
// message of it the store holds, stores it, and then gives the command its
// page from the store and its final answer (on the reader goroutine, in
// stream order). It reports false when there is nothing to ask: we are not
// in the room, it keeps no archive, or paging back reached its start.
func (c *Client) roomBackfill(ctx context.Context, sess *xmpp.Session, id uint64, cmd LoadHistory) bool {
	roomJID := cmd.Conv.JID
	c.state.Lock()
	r, ok := c.rooms[roomJID]
	ask := ok && r.state == mucJoined && r.archive && !r.exhausted
	c.state.Unlock()
	if !ask || c.opts.Store == nil {
		return false
	}
	before, ceiling, err := c.opts.Store.FirstArchiveID(ctx, cmd.Conv.stored())
	if err != nil {
		return false
	}
	c.state.Lock()
	r.ceiling = ceiling
	c.state.Unlock()
	set := xmpp.E(NSRSM, "set").Add(xmpp.E(NSRSM, "max").WithText(fmt.Sprint(pageLimit(cmd))), xmpp.E(NSRSM, "before").WithText(before))
	q, forget := c.roomArchiveQuery(roomJID, mamRoomBackfill, set)
	err = sess.SendIQFunc(xmpp.E(xmpp.NSClient, "iq", "type", "set", "to", roomJID).Add(q), c.opts.IQTimeout, func(res *xmpp.Element, err error) {
		forget()
		var se *xmpp.StanzaError
		if err == nil || errors.As(err, &se) {
			if err == nil && res.Child(NSMAM, "fin").Get("complete") == "true" {
				c.state.Lock()
				if r, ok := c.rooms[roomJID]; ok {
					r.exhausted = true
				}
				c.state.Unlock()
			}
			c.answerPage(ctx, id, cmd, err, c.deliver) // the reader goroutine
			return
		}
		c.requeue(id, storedPage{cmd, err})
	})
	if err != nil {
		forget()
		return false
	}
	return true
}

// roomHistoryCopy reports whether e is a copy of a message of a room's
// history (sent on joining a room that keeps no archive) already held:
// with no archive id and no origin-id to go by, the same nick, text and
// time in the same room is the same message.
func (c *Client) roomHistoryCopy(ctx context.Context, e MessageReceived) bool {
	if e.Conv.Kind != KindRoom || !e.Delayed || e.Archived || e.ArchiveID != "" || e.OriginID != "" {
		return false
	}
	key := "h\x00" + e.Conv.JID + "\x00" + e.Nick + "\x00" + e.Time.UTC().Format(time.RFC3339Nano) + "\x00" + e.Body
	if !c.seen.add(key) {
		return true
	}
	if c.opts.Store == nil {
		return false
	}
	known, err := c.opts.Store.HasLine(ctx, e.Conv.stored(), e.Nick, e.Body, e.Time)
	c.storeFailed(err)
	return err == nil && known
}
