package chat

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

// Namespaces of message archive management (XEP-0313), result set
// management (XEP-0059) and data forms (XEP-0004).
const (
	NSMAM   = "urn:xmpp:mam:2"
	NSRSM   = "http://jabber.org/protocol/rsm"
	NSForms = "jabber:x:data"
)

// mamPage is how many archived messages one query asks for.
const mamPage = 100

// metaMAMLast is where the id of the newest archived message held is kept;
// archiveStart there means "from the beginning" (the archive was empty).
const (
	metaMAMLast  = "mam_last"
	archiveStart = "^"
)

// MessageArchived is one result of an archive query, before the client
// turns it into what it means (a received or a sent message).
type MessageArchived struct {
	QueryID   string
	ArchiveID string
	Peer      string // bare JID of the other side
	From, To  string
	ID        string
	OriginID  string
	Outgoing  bool
	Body      string
	Thread    string
	Time      time.Time
	ReplaceID string // a correction (XEP-0308) of the message with this id
	// Reply and File: what it answers and the file it shares (Body is
	// without the fallback quote). Action: the reaction, retraction or
	// moderation it is instead of a message.
	Reply  *ReplyInfo
	File   *FileInfo
	Action *actionIn
	// Room is set for a result from a room's archive: the room, and who
	// wrote the message in it.
	Room       string
	Nick       string
	OccupantID string
	// Private: from our account's archive, a private message with the
	// occupant Nick of the room Peer (see peerConv).
	Private bool
	// Encrypted: an OMEMO message (Body "" until decrypted).
	Encrypted *OMEMOEncrypted
	// RealJID: a room's message, its sender's real bare JID as the
	// room's archive gave it (a non-anonymous room's does).
	RealJID string
}

func (MessageArchived) isEvent() {}

// translateArchived reads an archive result. The archive is our own
// server's: a result that claims to come from anyone else is forged.
func translateArchived(self Self, el, res *xmpp.Element) []Event {
	if !fromOwnAccount(self, el) {
		return []Event{Notice{Text: "dropped a forged archive result from " + el.Get("from")}}
	}
	own := self.JID.Bare()
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
	case encErr != nil:
		return []Event{Notice{Text: "dropped an encrypted message from the archive: " + encErr.Error()}}
	case enc.Payload == nil:
		return nil // a key transport: nothing to show
	default:
		body, ok, isAct, act = "", true, false, actionIn{}
	}
	if bad != "" || (!isAct && (!ok || body == "") && enc == nil) {
		return nil
	}
	from, err := jid.Parse(inner.Get("from"))
	if err != nil {
		return nil
	}
	to, err := jid.Parse(inner.Get("to"))
	if err != nil {
		return nil
	}
	a := MessageArchived{
		QueryID: res.Get("queryid"), ArchiveID: res.Get("id"), From: from.String(), To: to.String(),
		ID: inner.Get("id"), OriginID: inner.Child(NSSID, "origin-id").Get("id"), Body: body,
		Thread: inner.ChildText(xmpp.NSClient, "thread"), Outgoing: from.Bare().Equal(own),
		ReplaceID: inner.Child(NSCorrect, "replace").Get("id"),
	}
	peer := from
	if a.Outgoing {
		peer = to
	}
	a.Peer = peer.Bare().String()
	if conv := peerConv(self, inner, peer); conv.Kind == KindPrivate {
		a.Private, a.Nick = true, peer.Resourcepart()
	}
	a.Time = now(self)
	if t, err := time.Parse(time.RFC3339Nano, fwd.Child(NSDelay, "delay").Get("stamp")); err == nil {
		a.Time = t
	}
	if isAct {
		act.From, act.Bare, act.Time = a.From, from.Bare().String(), a.Time
		if a.Private {
			act.Nick = a.Nick
		}
		a.Action = &act
	} else if enc != nil {
		a.Encrypted, a.ReplaceID = enc, ""
	} else {
		a.Body, a.Reply, a.File = decorate(inner, body)
	}
	return []Event{a}
}

// NSHints is message processing hints (XEP-0334).
const NSHints = "urn:xmpp:hints"

// archiveID is the stanza-id our own server's archive stamped on a live
// message (XEP-0359), or "" when gab cannot be sure there is one (see
// docs/decisions/0005-stanza-ids.md). The sender can put a stanza-id "by"
// our account in the message itself, and not every server strips it
// (Prosody 0.12 keeps it and appends its own after it), so:
//
//   - ids stamped by anyone but our account are never taken;
//   - more than one by our account: the server kept a forged one, and
//     which is which cannot be told from the message, so none is taken;
//   - a message the archive does not keep (a headline, one with a no-store
//     or no-permanent-store hint) gets no id from the server, so any it
//     carries came from the sender: none is taken.
//
// A message without an archive id is still recognised when it comes again
// (by origin-id, or from the archive by its stanza id and conversation).
func archiveID(self Self, el *xmpp.Element) string {
	switch el.Get("type") {
	case "headline", "error", "groupchat":
		return ""
	}
	if el.Child(NSHints, "no-store") != nil || el.Child(NSHints, "no-permanent-store") != nil {
		return ""
	}
	own := self.JID.Bare().String()
	id, n := "", 0
	for _, c := range el.ChildrenIn(NSSID) {
		if c.Name.Local == "stanza-id" && c.Get("by") == own {
			id, n = c.Get("id"), n+1
		}
	}
	if n != 1 {
		return ""
	}
	return id
}

// mamMode is what an archive query is for.
type mamMode int

const (
	mamCatchUp      mamMode = iota // everything after the newest message held
	mamMarkEnd                     // first run: only learn where the archive ends
	mamBackfill                    // the latest page of one conversation, into the store
	mamRoom                        // a room's archive, after joining (see roomCatchUp)
	mamRoomBackfill                // an older page of a room's archive, into the store
	mamCount                       // how many messages a catch-up has to read (no results)
)

// catchUp asks the archive for everything after the newest archived
// message held, so nothing sent while gab was away is missing. On the very
// first run it only notes where the archive ends. Where it was read up to
// is stored with the messages of each page, in one transaction (see
// setMetaAfter): a catch-up cut short goes on from the last page stored,
// with no gap and nothing twice.
func (c *Client) catchUp(ctx context.Context, sess *xmpp.Session) {
	c.tally, c.catching = tally{}, false // a new session: what the last had under way is gone
	c.catchUpAccount(ctx, sess)
}

func (c *Client) catchUpAccount(ctx context.Context, sess *xmpp.Session) {
	if c.opts.Store == nil {
		return
	}
	last, err := c.opts.Store.Meta(ctx, metaMAMLast)
	if err != nil {
		c.deliver(Notice{Text: "could not read from history where the archive was read up to; not catching up this time: " + err.Error()})
		return
	}
	if last == "" {
		// The first run: the server's offline messages are all there is
		// to show, and it sends them on our presence only to a session
		// that has not read the archive; so the archive is asked where
		// it ends once our presence is out, after a ping's round trip
		// (whose answer the reader takes after the presence is sent).
		// Its end is a catch-up's end too (CatchUpProgress, Done), once
		// where it ends is stored.
		c.startChain("")
		ping := xmpp.E(xmpp.NSClient, "iq", "type", "get", "to", c.acct.JID.Domainpart()).Add(xmpp.E(xmpp.NSPing, "ping"))
		sess.SendIQFunc(ping, c.opts.IQTimeout, func(_ *xmpp.Element, err error) {
			if err == nil {
				c.queryArchive(ctx, sess, mamMarkEnd, "", true)
			}
		})
		return
	}
	c.catching = true
	c.startChain("")
	after, since, count := last, time.Time{}, true
	if last == archiveStart {
		after = "" // from the archive's start: all of it
	} else {
		at, err := c.opts.Store.Meta(ctx, metaMAMTime)
		since, err = time.Parse(time.RFC3339Nano, at)
		count = err == nil // a store from before times were kept: no total
	}
	if count {
		c.countArchive(ctx, sess, "", "", since, false)
	}
	c.queryArchive(ctx, sess, mamCatchUp, after, false)
}

// resumeCatchUps goes on with the catch-ups a session cut short when the
// next one resumed it (XEP-0198): the server kept the session, not the
// queries under way. It runs on the reader goroutine.
func (c *Client) resumeCatchUps(ctx context.Context, sess *xmpp.Session) {
	if c.catching {
		c.catchUpAccount(ctx, sess)
	}
	c.state.Lock()
	var rooms []string
	for roomJID, r := range c.rooms {
		if r.catching && r.state == mucJoined {
			rooms = append(rooms, roomJID)
		}
	}
	c.state.Unlock()
	for _, roomJID := range rooms {
		c.roomCatchUp(ctx, sess, roomJID)
	}
}

// afterResume has the reader goroutine go on with what a resumed session
// lost (see resumeCatchUps), once the server answers a ping: the answer
// comes in on that goroutine.
func (c *Client) afterResume(ctx context.Context, sess *xmpp.Session) {
	iq := xmpp.E(xmpp.NSClient, "iq", "type", "get", "to", c.acct.JID.Domainpart()).Add(xmpp.E(xmpp.NSPing, "ping"))
	sess.SendIQFunc(iq, c.opts.IQTimeout, func(_ *xmpp.Element, err error) {
		if err == nil {
			c.resumeCatchUps(ctx, sess)
		}
	})
}

// sendArchiveQuery sends one archive query (XEP-0313) with the given form
// fields besides FORM_TYPE and result-set element, registered under mode
// so its results are recognised as ours. done gets the final answer: on
// the reader goroutine, after the page's results, with err nil or the
// server's *xmpp.StanzaError, and at the archive's time of the page's
// last message (zero for none); or, with any other err (no answer in
// time, the session ended), on another goroutine. It reports false, and
// done is never called, when the query could not be sent.
func (c *Client) sendArchiveQuery(ctx context.Context, sess *xmpp.Session, mode mamMode, fields []*xmpp.Element, set *xmpp.Element, done func(fin *xmpp.Element, at time.Time, err error)) bool {
	qid := NewID()
	form := xmpp.E(NSForms, "x", "type", "submit").Add(
		xmpp.E(NSForms, "field", "var", "FORM_TYPE", "type", "hidden").Add(xmpp.E(NSForms, "value").WithText(NSMAM)),
	)
	form.Add(fields...)
	q := xmpp.E(NSMAM, "query", "queryid", qid).Add(form, set)
	forget := func() time.Time {
		c.state.Lock()
		defer c.state.Unlock()
		at := c.mamAt[qid]
		delete(c.mam, qid)
		delete(c.mamAt, qid)
		return at
	}
	c.state.Lock()
	c.mam[qid] = mode
	c.state.Unlock()
	err := sess.SendIQFunc(xmpp.E(xmpp.NSClient, "iq", "type", "set").Add(q), c.opts.IQTimeout, func(res *xmpp.Element, err error) {
		at := forget()
		if err != nil {
			done(nil, time.Time{}, err)
			return
		}
		done(res.Child(NSMAM, "fin"), at, nil)
	})
	if err != nil {
		forget()
		return false
	}
	return true
}

// queryArchive asks for one page after `after` (or the last one, with
// before) and, for a catch-up, for the next page until the archive says it
// is complete.
func (c *Client) queryArchive(ctx context.Context, sess *xmpp.Session, mode mamMode, after string, before bool) {
	set := xmpp.E(NSRSM, "set")
	switch {
	case before:
		set.Add(xmpp.E(NSRSM, "max").WithText("1"), xmpp.E(NSRSM, "before"))
	case after == "":
		set.Add(xmpp.E(NSRSM, "max").WithText(fmt.Sprint(mamPage)))
	default:
		set.Add(xmpp.E(NSRSM, "max").WithText(fmt.Sprint(mamPage)), xmpp.E(NSRSM, "after").WithText(after))
	}
	sent := c.sendArchiveQuery(ctx, sess, mode, nil, set, func(fin *xmpp.Element, at time.Time, err error) {
		if err != nil {
			var se *xmpp.StanzaError
			if errors.As(err, &se) && (mode == mamCatchUp || mode == mamMarkEnd) {
				// On the reader goroutine: the server has no archive to
				// give. Otherwise the session ended: the next asks again.
				c.catching = false
				c.chainDone("")
			}
			return
		}
		// The reader goroutine: the page's messages are handed on before
		// this, and where it ends is stored in their transaction.
		last := fin.Child(NSRSM, "set").ChildText(NSRSM, "last")
		if last == "" {
			if mode == mamMarkEnd {
				// An empty archive: next time, everything from its start.
				c.setMetaAfter(metaMAMLast, archiveStart)
			}
			c.catching = false
			c.chainDone("")
			return
		}
		c.setMetaAfter(metaMAMLast, last)
		stamp := ""
		if !at.IsZero() {
			stamp = at.UTC().Format(time.RFC3339Nano)
		}
		c.setMetaAfter(metaMAMTime, stamp)
		if mode == mamMarkEnd {
			c.chainDone("")
			return
		}
		if mode != mamCatchUp {
			return
		}
		if fin.Get("complete") != "true" {
			c.queryArchive(ctx, sess, mamCatchUp, last, false)
			return
		}
		c.catching = false
		c.chainDone("")
	})
	if !sent && (mode == mamCatchUp || mode == mamMarkEnd) {
		c.catching = false
		c.chainDone("")
	}
}

// archived turns an archive result of one of our queries into the message
// it is (a backfill page goes straight into the store). It runs on the
// reader goroutine.
func (c *Client) archived(ctx context.Context, a MessageArchived) (Event, bool) {
	c.state.Lock()
	mode, ours := c.mam[a.QueryID]
	if ours {
		c.mamAt[a.QueryID] = a.Time
	}
	c.state.Unlock()
	if !ours || mode == mamMarkEnd || mode == mamCount {
		return nil, false
	}
	if mode == mamCatchUp {
		c.chainRead("")
	}
	conv := ChatWith(a.Peer)
	if a.Private {
		conv = PrivateConv(a.Peer, a.Nick)
	}
	if a.Action != nil {
		act := *a.Action
		act.Conv, act.Archived, act.Outgoing = conv, true, a.Outgoing
		return act, true
	}
	if mode == mamBackfill {
		// Old messages for a conversation the store knew nothing of: into
		// the store, and the tab reads them from there when the page is in.
		dir := history.In
		if a.Outgoing {
			dir = history.Out
		}
		if !c.duplicate(ctx, conv, dir, a.ArchiveID, a.OriginID, a.ID) {
			m := &history.Message{Kind: string(conv.Kind), Peer: conv.JID, Direction: dir, From: a.From, To: a.To, Body: a.Body, Thread: a.Thread,
				StanzaID: a.ID, OriginID: a.OriginID, ArchiveID: a.ArchiveID, Time: a.Time, Reply: storedReply(a.Reply), File: storedFile(a.File)}
			if a.Outgoing {
				m.State = history.StateSent
			}
			c.storeFailed(c.opts.Store.Append([]*history.Message{m}))
		}
		return nil, false
	}
	// Copies are recognised where every message is: in the read loop.
	if a.Outgoing {
		return CarbonSent{Conv: conv, ID: a.ID, To: conv.JID, Body: a.Body, Thread: a.Thread, Time: a.Time, OriginID: a.OriginID, ArchiveID: a.ArchiveID, Delayed: true, Reply: a.Reply, File: a.File, Encrypted: a.Encrypted}, true
	}
	m := MessageReceived{Conv: conv, ID: a.ID, From: a.From, Bare: a.Peer, To: a.To, Type: "chat", Body: a.Body, Thread: a.Thread,
		Time: a.Time, Delayed: true, OriginID: a.OriginID, ArchiveID: a.ArchiveID, Archived: true, Reply: a.Reply, File: a.File, Encrypted: a.Encrypted}
	if a.Encrypted != nil {
		m.Note = OMEMOUnreadNote
	}
	if a.ReplaceID != "" {
		// A correction, judged as a live one is; its copy, when it was
		// seen live, is recognised by its ids.
		return MessageCorrected{Conv: conv, From: a.From, Bare: a.Peer, ReplaceID: a.ReplaceID, NewID: a.ID, Body: a.Body, AsMessage: m}, true
	}
	return m, true
}

// duplicate reports whether a copy of a message was seen in this run or
// is in the store. An archive id counts within its conversation only (for
// a chat, the archive is our account's, one per store, and peer the
// conversation in it): an id a contact made up can at most hide that
// contact's own messages. stanzaID, for a copy that came from the
// archive, also finds the live copy stored without an archive id (whose
// stanza-id could not be trusted) and gives it this one.
func (c *Client) duplicate(ctx context.Context, conv Conv, dir, archiveID, originID, stanzaID string) bool {
	key := string(conv.Kind) + "\x00" + conv.JID
	if archiveID != "" && !c.seen.add("a\x00"+key+"\x00"+archiveID) {
		return true
	}
	if originID != "" && !c.seen.add(dir+"\x00"+key+"\x00"+originID) {
		return true
	}
	if archiveID == "" {
		stanzaID = ""
	}
	if c.opts.Store == nil || (archiveID == "" && originID == "") {
		return false
	}
	known, err := c.opts.Store.Known(ctx, history.Key{Conv: conv.stored(), Direction: dir, ArchiveID: archiveID, OriginID: originID, StanzaID: stanzaID})
	if err != nil && ctx.Err() != nil {
		// The client is stopping: the question was cut short, not
		// answered. Taken as known, nothing is stored; the next run
		// reads it again from the archive.
		return true
	}
	c.storeFailed(err) // and taken as new: better shown twice than lost
	return err == nil && known
}

// storeFailed reports a failure of the store, if err is one, on the reader
// goroutine.
func (c *Client) storeFailed(err error) {
	if err != nil {
		c.deliver(Notice{Text: "history: " + err.Error()})
	}
}

// backfill asks the archive for the latest page of the conversation
// cmd names and, once it is stored, gives the command its page and its
// final answer, on the reader goroutine in stream order; when the archive
// does not answer, the command goes back to the queue to be answered from
// the store. It reports false when the query could not be sent.
func (c *Client) backfill(ctx context.Context, sess *xmpp.Session, id uint64, cmd LoadHistory) bool {
	with := xmpp.E(NSForms, "field", "var", "with").Add(xmpp.E(NSForms, "value").WithText(cmd.Conv.JID))
	set := xmpp.E(NSRSM, "set").Add(xmpp.E(NSRSM, "max").WithText(fmt.Sprint(pageLimit(cmd))), xmpp.E(NSRSM, "before"))
	return c.sendArchiveQuery(ctx, sess, mamBackfill, []*xmpp.Element{with}, set, func(fin *xmpp.Element, _ time.Time, err error) {
		var se *xmpp.StanzaError
		if err == nil || errors.As(err, &se) {
			c.answerPage(ctx, id, cmd, err, c.deliver) // the reader goroutine
			return
		}
		c.requeue(id, storedPage{cmd, err})
	})
}
