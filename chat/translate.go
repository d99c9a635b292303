package chat

import (
	"strconv"
	"strings"
	"time"

	"github.com/gab-chat/gab/roster"
	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

// Namespaces of the payloads gab understands.
const (
	NSRoster     = "jabber:iq:roster"
	NSChatStates = "http://jabber.org/protocol/chatstates"
	NSDelay      = "urn:xmpp:delay"
	NSNick       = "http://jabber.org/protocol/nick"
	NSDiscoInfo  = "http://jabber.org/protocol/disco#info"
	NSVersion    = "jabber:iq:version"
	NSBlocking   = "urn:xmpp:blocking"
	NSRosterVer  = "urn:xmpp:features:rosterver"
	NSCaps       = "http://jabber.org/protocol/caps"
	NSIdle       = "urn:xmpp:idle:1"
	NSReceipts   = "urn:xmpp:receipts"
	NSMarkers    = "urn:xmpp:chat-markers:0"
	NSCorrect    = "urn:xmpp:message-correct:0"
)

// Self is what translation needs to know about our own session.
type Self struct {
	JID     jid.JID // our full JID
	Lang    string  // the user's preferred language, e.g. "de" or "en-GB"
	Version string  // gab's version, for XEP-0092
	// ShareVersion tells whether the software version (XEP-0092) may be
	// told to the bare JID asking; our own account is always told. Nil
	// tells no one else.
	ShareVersion func(bare string) bool
	Now          func() time.Time
	// Room tells whether a bare JID is a room we are in (or joining), and
	// our nick and occupant-id there; nil: none.
	Room func(bare string) (RoomSelf, bool)
}

// Translate turns one stanza into the events it means and, for a request,
// the reply to send. It is pure: the same input gives the same output, and
// hostile input gives no events rather than wrong ones.
func Translate(self Self, el *xmpp.Element) (events []Event, reply *xmpp.Element) {
	if el.Name.Space != xmpp.NSClient {
		return nil, nil // stream-management and other top-level elements are not ours
	}
	switch el.Name.Local {
	case "message":
		return translateMessage(self, el), nil
	case "presence":
		return translatePresence(self, el), nil
	case "iq":
		return translateIQ(self, el)
	}
	return nil, nil
}

// sender parses the from attribute. A stanza without one comes from our own
// account (RFC 6120 §8.1.2.1).
func sender(self Self, el *xmpp.Element) (jid.JID, bool) {
	f := el.Get("from")
	if f == "" {
		return self.JID.Bare(), true
	}
	j, err := jid.Parse(f)
	return j, err == nil
}

func translateMessage(self Self, el *xmpp.Element) []Event {
	from, ok := sender(self, el)
	if !ok {
		return []Event{Notice{Text: "dropped a message with an invalid sender address"}}
	}
	typ := el.Get("type")
	switch typ {
	case "error":
		return []Event{StanzaError{Kind: "message", From: from.String(), Bare: from.Bare().String(), ID: el.Get("id"), Err: xmpp.ParseStanzaError(el)}}
	case "":
		typ = "normal"
	}
	if ev := el.Child(NSPubSubEvent, "event"); ev != nil {
		if evs, ok := translateBookmarkEvent(self, el, ev); ok {
			return evs
		}
		if evs, ok := translateOMEMOEvent(self, ev, from); ok {
			return evs
		}
	}
	_, inRoom := self.inRoom(from.Bare().String())
	if res := el.Child(NSMAM, "result"); res != nil {
		if inRoom && from.Resourcepart() == "" && !fromOwnAccount(self, el) {
			return translateRoomArchived(self, el, res, from.Bare().String())
		}
		return translateArchived(self, el, res)
	}
	if inRoom {
		if inv, ok := translateInvitation(self, el, from); ok && from.Resourcepart() == "" {
			return []Event{inv}
		}
		if ev, ok := translateAffiliationNote(el, from); ok {
			return []Event{ev} // omemo_room.go
		}
		return translateRoomMessage(self, el, from, typ)
	}
	if typ == "groupchat" {
		return nil // from no room we are in: nobody else sends groupchat
	}
	if inv, ok := translateInvitation(self, el, from); ok {
		// Its body is a fallback for clients that know no invitations:
		// the invitation is a notice, not a chat.
		return []Event{inv}
	}
	if evs, ok := translateCarbon(self, el); ok {
		return evs
	}
	if a, ok := translateAction(self, el, ChatWith(from.Bare().String()), from.String(), from.Bare().String(), "", "", false); ok {
		return []Event{a}
	}
	var evs []Event
	body, hasBody := pickByLang(el, "body", self.Lang)
	enc, side, plain := encryptedIn(el, ChatWith(from.Bare().String()), from)
	if side != nil {
		evs = append(evs, side)
	}
	if enc != nil || plain && hasBody && strings.TrimSpace(body) != "" {
		m := MessageReceived{
			Conv: ChatWith(from.Bare().String()), ID: el.Get("id"), From: from.String(), Bare: from.Bare().String(), To: el.Get("to"),
			Type: typ, Body: body, Thread: el.ChildText(xmpp.NSClient, "thread"),
			OriginID: el.Child(NSSID, "origin-id").Get("id"), ArchiveID: archiveID(self, el),
		}
		m.Time, m.Delayed = delayStamp(self, el)
		if enc != nil {
			// Until it is decrypted there is nothing to show of it but
			// that it came; a correction it may be is not applied.
			m.Body, m.Encrypted, m.Note = "", enc, OMEMOUnreadNote
		} else {
			m.Body, m.Reply, m.File = decorate(el, body)
		}
		m.Receipt = el.Child(NSReceipts, "request") != nil && m.ID != ""
		m.Markable = el.Child(NSMarkers, "markable") != nil && m.ID != ""
		if r := el.Child(NSCorrect, "replace"); r != nil && r.Get("id") != "" && enc == nil {
			// Whether it may correct that message is the client's to say
			// (it knows the conversation); if not, it is this message.
			evs = append(evs, MessageCorrected{Conv: m.Conv, From: from.String(), Bare: from.Bare().String(), ReplaceID: r.Get("id"), NewID: m.ID, Body: m.Body, AsMessage: m})
			return evs
		}
		evs = append(evs, m)
	}
	if d := el.Child(NSMarkers, "displayed"); d != nil && d.Get("id") != "" {
		evs = append(evs, MarkerReceived{From: from.String(), Bare: from.Bare().String(), ID: d.Get("id")})
	}
	if r := el.Child(NSReceipts, "received"); r != nil && r.Get("id") != "" {
		evs = append(evs, ReceiptReceived{From: from.String(), Bare: from.Bare().String(), ID: r.Get("id")})
	}
	if cs := el.ChildrenIn(NSChatStates); len(cs) > 0 && (typ == "chat" || typ == "normal") {
		// One chat state per message (XEP-0085 §5.5): the first counts.
		if st, ok := parseChatState(cs[0].Name.Local); ok {
			evs = append(evs, ChatStateChanged{Conv: ChatWith(from.Bare().String()), From: from.String(), Bare: from.Bare().String(), State: st})
		}
	}
	return evs
}

func parseChatState(s string) (ChatState, bool) {
	switch st := ChatState(s); st {
	case StateActive, StateComposing, StatePaused, StateInactive, StateGone:
		return st, true
	}
	return "", false
}

// pickByLang chooses among the children called name in jabber:client (body,
// status): the one in the user's language, else one without a language or
// in the stanza's own, else the first.
func pickByLang(el *xmpp.Element, name, lang string) (string, bool) {
	stanzaLang := el.Get("xml:lang")
	var first, neutral, match *xmpp.Element
	for _, c := range el.Children {
		if !c.Is(xmpp.NSClient, name) {
			continue
		}
		if first == nil {
			first = c
		}
		l := c.Get("xml:lang")
		if lang != "" && l != "" && langMatches(l, lang) && match == nil {
			match = c
		}
		if (l == "" || l == stanzaLang) && neutral == nil {
			neutral = c
		}
	}
	switch {
	case match != nil:
		return match.Text, true
	case neutral != nil:
		return neutral.Text, true
	case first != nil:
		return first.Text, true
	}
	return "", false
}

// langMatches compares language tags by their primary subtag: "en-GB"
// matches a user who wants "en".
func langMatches(tag, want string) bool {
	p := func(s string) string {
		s = strings.ToLower(s)
		if i := strings.IndexAny(s, "-_"); i >= 0 {
			s = s[:i]
		}
		return s
	}
	return p(tag) == p(want)
}

// delayStamp returns the XEP-0203 time of a delayed stanza, else now.
func delayStamp(self Self, el *xmpp.Element) (time.Time, bool) {
	if d := el.Child(NSDelay, "delay"); d != nil {
		if t, err := time.Parse(time.RFC3339Nano, d.Get("stamp")); err == nil {
			return t, true
		}
	}
	return now(self), false
}

func now(self Self) time.Time {
	if self.Now != nil {
		return self.Now()
	}
	return time.Now()
}

// translatePresence decodes a presence in one pass over its children.
func translatePresence(self Self, el *xmpp.Element) []Event {
	from, ok := sender(self, el)
	if !ok {
		return []Event{Notice{Text: "dropped a presence with an invalid sender address"}}
	}
	bare := from.Bare().String()
	if _, ok := self.inRoom(bare); ok && (el.Child(NSMUCUser, "x") != nil || el.Get("type") == "error" || from.Resourcepart() == "") {
		// Presence from the room's bare JID (ejabberd sends the room's
		// caps that way) is the room's, never a contact's.
		return translateRoomPresence(self, el, from)
	}
	if el.Child(NSMUCUser, "x") != nil && from.Resourcepart() != "" {
		return nil // an occupant of a room we are not in: not a contact's presence
	}
	switch typ := el.Get("type"); typ {
	case "", "unavailable":
		p := PresenceChanged{From: from.String(), Bare: bare, Resource: from.Resourcepart(), Available: typ == ""}
		var show string
		for _, c := range el.Children {
			if c.Name.Space != xmpp.NSClient {
				continue
			}
			switch c.Name.Local {
			case "show":
				if show == "" {
					show = strings.TrimSpace(c.Text)
				}
			case "priority":
				if n, err := strconv.Atoi(strings.TrimSpace(c.Text)); err == nil {
					p.Priority = max(-128, min(127, n))
				}
			}
		}
		p.Status, _ = pickByLang(el, "status", self.Lang)
		if caps := el.Child(NSCaps, "c"); caps != nil && caps.Get("node") != "" && caps.Get("ver") != "" {
			p.Caps = caps.Get("node") + "#" + caps.Get("ver")
		}
		if p.Available {
			p.Show = roster.ParseShow(show)
		} else {
			p.Show = roster.Offline
		}
		return []Event{p}
	case "subscribe":
		status, _ := pickByLang(el, "status", self.Lang)
		return []Event{SubscriptionRequested{From: bare, Nick: el.ChildText(NSNick, "nick"), Status: status}}
	case "subscribed", "unsubscribed", "unsubscribe":
		return []Event{SubscriptionChanged{From: bare, Type: typ}}
	case "error":
		return []Event{StanzaError{Kind: "presence", From: from.String(), Bare: from.Bare().String(), ID: el.Get("id"), Err: xmpp.ParseStanzaError(el)}}
	}
	return nil // probes are the server's business
}

// fromOwnAccount reports whether a stanza came from our own account: no
// from, or our bare JID (RFC 6120 §8.1.2.1, RFC 6121 §2.1.6). The one check
// for what only our account or its server may send: roster pushes,
// carbons, archive results.
func fromOwnAccount(self Self, el *xmpp.Element) bool {
	f := el.Get("from")
	if f == "" {
		return true
	}
	j, err := jid.Parse(f)
	return err == nil && j.Equal(self.JID.Bare())
}

func translateIQ(self Self, el *xmpp.Element) ([]Event, *xmpp.Element) {
	if len(el.Children) != 1 {
		return nil, xmpp.ErrorReply(el, "modify", "bad-request")
	}
	payload := el.Children[0]
	typ := el.Get("type")
	switch {
	case typ == "set" && payload.Is(NSRoster, "query"):
		if !fromOwnAccount(self, el) {
			return []Event{Notice{Text: "ignored a roster push from " + el.Get("from") + " (not our account)"}},
				xmpp.ErrorReply(el, "cancel", "service-unavailable")
		}
		items := parseRosterItems(payload)
		if len(items) != 1 {
			return nil, xmpp.ErrorReply(el, "modify", "bad-request")
		}
		return []Event{RosterPushed{Item: items[0], Version: payload.Get("ver")}}, xmpp.ResultReply(el)
	case typ == "set" && payload.Name.Space == NSBlocking && (payload.Name.Local == "block" || payload.Name.Local == "unblock"):
		if !fromOwnAccount(self, el) {
			return []Event{Notice{Text: "ignored a block-list push from " + el.Get("from") + " (not our account)"}},
				xmpp.ErrorReply(el, "cancel", "service-unavailable")
		}
		return []Event{BlocklistChanged{JIDs: blockItems(payload), Blocked: payload.Name.Local == "block"}}, xmpp.ResultReply(el)
	case typ == "get" && payload.Is(NSDiscoInfo, "query"):
		node := payload.Get("node")
		if c := capsElement(); node != "" && node != c.Get("node")+"#"+c.Get("ver") {
			return nil, xmpp.ErrorReply(el, "cancel", "item-not-found")
		}
		return nil, discoInfoReply(el, node)
	case typ == "get" && payload.Is(NSVersion, "query"):
		// Which client and version someone runs tells an attacker what to
		// try: only contacts are told (or whom the setting names).
		if f := el.Get("from"); f != "" {
			j, err := jid.Parse(f)
			own := err == nil && j.Bare().Equal(self.JID.Bare()) // any of our own clients
			if !own && (err != nil || self.ShareVersion == nil || !self.ShareVersion(j.Bare().String())) {
				return nil, xmpp.ErrorReply(el, "cancel", "service-unavailable")
			}
		}
		r := xmpp.ResultReply(el)
		return nil, r.Add(xmpp.E(NSVersion, "query").Add(
			xmpp.E(NSVersion, "name").WithText("gab"),
			xmpp.E(NSVersion, "version").WithText(self.Version),
		))
	}
	return nil, xmpp.ErrorReply(el, "cancel", "service-unavailable")
}

// Features gab advertises through disco#info (XEP-0030).
var Features = []string{
	NSDiscoInfo,
	NSCaps,
	NSChatStates,
	xmpp.NSPing,
	NSVersion,
	NSReceipts,
	NSCarbons,
	NSMarkers,
	NSCorrect,
	NSBookmarksNotify,               // XEP-0402 changes from our other devices (XEP-0163 filtered notifications)
	NSOMEMO03DeviceList + "+notify", // OMEMO device lists of everyone we see (XEP-0384)
	NSOMEMO2Devices + "+notify",
	NSReply, // XEP-0461, with its fallback quote (XEP-0428)
	NSFallback,
	NSReactions, // XEP-0444
	NSRetract,   // XEP-0424, both generations
	NSRetract0,
	NSModerate, // XEP-0425 announcements, both generations
	NSModerate0,
	NSOOB,     // XEP-0066 files
	NSStyling, // XEP-0393, drawn by the conversation view
}

func discoInfoReply(iq *xmpp.Element, node string) *xmpp.Element {
	q := xmpp.E(NSDiscoInfo, "query").Add(xmpp.E(NSDiscoInfo, "identity", "category", gabIdentity.category, "type", gabIdentity.typ, "name", gabIdentity.name))
	if node != "" {
		q.SetAttr("node", node)
	}
	for _, f := range Features {
		q.Add(xmpp.E(NSDiscoInfo, "feature", "var", f))
	}
	return xmpp.ResultReply(iq).Add(q)
}

// parseRosterItems reads <item/>s, skipping any whose JID is invalid.
func parseRosterItems(q *xmpp.Element) []roster.Item {
	var items []roster.Item
	for _, c := range q.ChildrenIn(NSRoster) {
		if c.Name.Local != "item" {
			continue
		}
		j, err := jid.Parse(c.Get("jid"))
		if err != nil {
			continue
		}
		it := roster.Item{JID: j.Bare().String(), Name: c.Get("name"), Subscription: c.Get("subscription"), Ask: c.Get("ask") == "subscribe"}
		switch it.Subscription {
		case roster.SubNone, roster.SubTo, roster.SubFrom, roster.SubBoth, "remove":
		default:
			it.Subscription = roster.SubNone
		}
		seen := map[string]bool{}
		for _, g := range c.ChildrenIn(NSRoster) {
			if g.Name.Local == "group" && g.Text != "" && !seen[g.Text] {
				seen[g.Text] = true
				it.Groups = append(it.Groups, g.Text)
			}
		}
		items = append(items, it)
	}
	return items
}

func blockItems(el *xmpp.Element) []string {
	var out []string
	for _, c := range el.ChildrenIn(NSBlocking) {
		if c.Name.Local == "item" {
			if j, err := jid.Parse(c.Get("jid")); err == nil {
				out = append(out, j.String())
			}
		}
	}
	return out
}
