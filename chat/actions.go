package chat

import (
	"net/url"
	"path"
	"strconv"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

// Namespaces of acting on one message: replies (XEP-0461) with their
// fallback quote (XEP-0428, and the older name slixmpp and others still
// send), reactions (XEP-0444), retraction (XEP-0424, both generations:
// :1 names the message itself, :0 through fastening, XEP-0422),
// moderation (XEP-0425, both generations) and out-of-band data (XEP-0066).
// See docs/decisions/0009-message-actions.md for which are sent.
const (
	NSReply           = "urn:xmpp:reply:0"
	NSFallback        = "urn:xmpp:fallback:0"
	NSFeatureFallback = "urn:xmpp:feature-fallback:0"
	NSReactions       = "urn:xmpp:reactions:0"
	NSRetract         = "urn:xmpp:message-retract:1"
	NSRetract0        = "urn:xmpp:message-retract:0"
	NSFasten          = "urn:xmpp:fasten:0"
	NSModerate        = "urn:xmpp:message-moderate:1"
	NSModerate0       = "urn:xmpp:message-moderate:0"
	NSOOB             = "jabber:x:oob"
	// NSStyling: the conversation view draws XEP-0393 message styling.
	NSStyling = "urn:xmpp:styling:0"
)

// Limits on what a peer's action may carry: more is hostile or broken,
// and is dropped whole.
const (
	maxReactions    = 32   // distinct reactions in one set
	maxReactionSize = 64   // bytes of one reaction (an emoji with its modifiers)
	maxActionID     = 256  // bytes of the id an action names
	maxActionText   = 1000 // runes of a moderator's reason or name kept
)

// actionKind is what an action does to the message it names.
type actionKind int

const (
	actReact actionKind = iota + 1
	actRetract
	actModerate
)

// actionIn is a reaction, retraction or moderation as translated: it
// names its target by the protocol's id; the client finds the stored
// message, judges whether the sender may, and turns it into
// ReactionsChanged, MessageRetracted or ActionRefused. Never emitted.
type actionIn struct {
	Kind actionKind
	Conv Conv
	From string // full JID as sent (room/nick in a room, the room's JID for a moderation)
	Bare string
	// Nick and OccupantID: who acts, in a room.
	Nick       string
	OccupantID string
	Outgoing   bool // ours: a sent carbon, or our account's archive
	Archived   bool // from an archive, catching up
	Target     string
	Emojis     []string
	By, Reason string // a moderation's moderator and reason (remote text)
	Time       time.Time
}

func (actionIn) isEvent() {}

// parseAction reads the reaction, retraction or moderation a message
// carries. ok is false when it carries none; bad is set (and ok true)
// when it carries one that is hostile or broken, to be dropped with that
// note.
func parseAction(el *xmpp.Element) (a actionIn, ok bool, bad string) {
	if r := el.Child(NSReactions, "reactions"); r != nil {
		a.Kind, a.Target = actReact, r.Get("id")
		seen := map[string]bool{}
		for _, c := range r.ChildrenIn(NSReactions) {
			if c.Name.Local != "reaction" {
				continue
			}
			e := strings.TrimSpace(c.Text)
			if e == "" || seen[e] {
				continue
			}
			if !validReaction(e) {
				return a, true, "dropped reactions that are not emojis (too long, or holding control characters)"
			}
			seen[e] = true
			a.Emojis = append(a.Emojis, e)
			if len(a.Emojis) > maxReactions {
				return a, true, "dropped a set of more than " + strconv.Itoa(maxReactions) + " reactions"
			}
		}
	} else if r := el.Child(NSRetract, "retract"); r != nil {
		a.Kind, a.Target = actRetract, r.Get("id")
		if m := r.Child(NSModerate, "moderated"); m != nil {
			a.Kind, a.By, a.Reason = actModerate, m.Get("by"), r.ChildText(NSRetract, "reason")
		}
	} else if f := el.Child(NSFasten, "apply-to"); f != nil {
		a.Target = f.Get("id")
		switch m := f.Child(NSModerate0, "moderated"); {
		case m != nil && m.Child(NSRetract0, "retract") != nil:
			a.Kind, a.By, a.Reason = actModerate, m.Get("by"), m.ChildText(NSModerate0, "reason")
		case f.Child(NSRetract0, "retract") != nil:
			a.Kind = actRetract
		default:
			return a, false, "" // another fastening: not ours
		}
	} else {
		return a, false, ""
	}
	if a.Target == "" || len(a.Target) > maxActionID {
		return a, true, "dropped a reaction or retraction that names no valid message id"
	}
	a.By, a.Reason = clip(a.By), clip(a.Reason)
	return a, true, ""
}

// validReaction accepts what may be one emoji: short, and no control,
// format-override or whitespace characters (which could change how the
// line around it is drawn).
func validReaction(s string) bool {
	if len(s) > maxReactionSize || !utf8.ValidString(s) {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) || unicode.IsSpace(r) || isBidiFormat(r) {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if utf8.RuneCountInString(s) <= maxActionText {
		return s
	}
	return string([]rune(s)[:maxActionText])
}

// translateAction is the action a message carries as an event, or a
// notice for a hostile one; ok is false when it carries none. A message
// carrying an action is that action: its body is a fallback for clients
// that know none, not a message.
func translateAction(self Self, el *xmpp.Element, conv Conv, from, bare, nick, occupantID string, outgoing bool) (Event, bool) {
	a, ok, bad := parseAction(el)
	if !ok {
		return nil, false
	}
	if bad != "" {
		return Notice{Text: bad + " from " + from}, true
	}
	a.Conv, a.From, a.Bare, a.Nick, a.OccupantID, a.Outgoing = conv, from, bare, nick, occupantID, outgoing
	a.Time, _ = delayStamp(self, el)
	return a, true
}

// decorate reads what a message's body comes with: the message it
// answers (XEP-0461), whose fallback quote (XEP-0428) is cut from the
// body shown, and the file it shares (XEP-0066, or a body that is one
// bare https URL).
func decorate(el *xmpp.Element, body string) (shown string, reply *ReplyInfo, file *FileInfo) {
	shown = body
	if r := el.Child(NSReply, "reply"); r != nil && r.Get("id") != "" && len(r.Get("id")) <= maxActionID {
		reply = &ReplyInfo{ID: r.Get("id"), To: r.Get("to")}
		if start, end, ok := fallbackRange(el, NSReply, body); ok {
			runes := []rune(body)
			quote := string(runes[start:end])
			rest := string(runes[:start]) + string(runes[end:])
			if strings.TrimSpace(rest) != "" {
				shown = rest
			}
			reply.Quote = quoteLine(quote)
		}
	}
	file = parseFile(el, body)
	return shown, reply, file
}

// fallbackRange is the part of body (in code points, XEP-0426) marked as
// a fallback for the namespace ns: the first range that lies within the
// body. Ranges outside it, reversed or malformed are ignored.
func fallbackRange(el *xmpp.Element, ns, body string) (start, end int, ok bool) {
	n := utf8.RuneCountInString(body)
	for _, fns := range []string{NSFallback, NSFeatureFallback} {
		for _, f := range el.ChildrenIn(fns) {
			if f.Name.Local != "fallback" || f.Get("for") != ns {
				continue
			}
			for _, b := range f.ChildrenIn(fns) {
				if b.Name.Local != "body" {
					continue
				}
				s, err1 := strconv.Atoi(b.Get("start"))
				e, err2 := strconv.Atoi(b.Get("end"))
				if err1 == nil && err2 == nil && s >= 0 && s < e && e <= n {
					return s, e, true
				}
			}
		}
	}
	return 0, 0, false
}

// quoteLine is the first line of a fallback quote, without its quoting:
// "> Alice wrote:" lines that only say who are skipped.
func quoteLine(q string) string {
	for _, l := range strings.Split(q, "\n") {
		l = strings.TrimSpace(strings.TrimLeft(strings.TrimSpace(l), ">"))
		if l == "" || strings.HasSuffix(l, " wrote:") {
			continue
		}
		return clip(l)
	}
	return ""
}

// firstLine is the first non-empty line of a text.
func firstLine(s string) string {
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			return clip(l)
		}
	}
	return ""
}

// parseFile reads the file a message shares: an XEP-0066 out-of-band
// element (its description holding the size in bytes, when it is a
// number), or a body that is a bare https URL naming a file.
func parseFile(el *xmpp.Element, body string) *FileInfo {
	if x := el.Child(NSOOB, "x"); x != nil {
		if f := fileAt(strings.TrimSpace(x.ChildText(NSOOB, "url")), false); f != nil {
			if n, err := strconv.ParseInt(strings.TrimSpace(x.ChildText(NSOOB, "desc")), 10, 64); err == nil && n >= 0 {
				f.Size = n
			}
			return f
		}
	}
	b := strings.TrimSpace(body)
	if strings.ContainsFunc(b, unicode.IsSpace) {
		return nil
	}
	return fileAt(b, true)
}

// fileAt is the file at u, named by the last segment of its path; nil
// when u is no http(s) URL with one (httpsOnly: https alone).
func fileAt(u string, httpsOnly bool) *FileInfo {
	if u == "" || len(u) > 4096 {
		return nil
	}
	p, err := url.Parse(u)
	if err != nil || p.Host == "" || (p.Scheme != "https" && (httpsOnly || p.Scheme != "http")) {
		return nil
	}
	name := path.Base(p.Path)
	if name == "." || name == "/" || name == "" {
		return nil
	}
	return &FileInfo{URL: u, Name: clip(strings.Map(nameRune, name)), Size: -1}
}

// nameRune keeps a file name's characters but controls and direction
// formatting, decoded from the URL, which would change how the name
// reads ("invoice.pdf%0A.exe" shown as "invoice.pdf"): those become
// U+FFFD.
func nameRune(r rune) rune {
	if unicode.IsControl(r) || isBidiFormat(r) {
		return utf8.RuneError
	}
	return r
}

// isBidiFormat reports the characters that change the direction of the
// text around them: marks, embeddings, overrides and isolates.
func isBidiFormat(r rune) bool {
	return r == 0x061c || r == 0x200e || r == 0x200f || (r >= 0x202a && r <= 0x202e) || (r >= 0x2066 && r <= 0x2069)
}

// retractFallback is the body a retraction carries for clients that know
// none.
const retractFallback = "This person attempted to retract a previous message, but it's unsupported by your client."

// fallbackAuthor is who a reply names as the answered message's author,
// as shown, when that message is not stored: the nick of the room/nick
// it names in a room, else the bare JID.
func fallbackAuthor(conv Conv, to string) string {
	j, err := jid.Parse(to)
	if err != nil {
		return ""
	}
	if conv.Kind == KindRoom {
		return j.Resourcepart()
	}
	return j.Bare().String()
}
