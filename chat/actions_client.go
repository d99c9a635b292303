package chat

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

// storedReply and storedFile are a message's reply and file as the store
// keeps them.
func storedReply(r *ReplyInfo) history.Reply {
	if r == nil {
		return history.Reply{}
	}
	return history.Reply{ID: r.ID, To: r.To, Quote: r.Quote}
}

func storedFile(f *FileInfo) history.File {
	if f == nil {
		return history.File{Size: -1}
	}
	return history.File{URL: f.URL, Name: f.Name, Size: f.Size, Type: f.Type}
}

func tallyOf(rs []history.Reaction) []Reaction {
	out := make([]Reaction, len(rs))
	for i, r := range rs {
		out[i] = Reaction{Emoji: r.Emoji, Count: r.Count, Own: r.Own}
	}
	return out
}

// authorOf is who wrote a stored message, as a reply names and shows
// them: in a room the occupant (room/nick, nick), elsewhere the bare JID.
func (c *Client) authorOf(m history.Message) (to, shown string) {
	if m.Kind == history.KindRoom {
		nick := m.Nick
		if m.Direction == history.Out {
			if r, ok := c.roomSelf(m.Peer); ok {
				nick = r.Nick
			}
		}
		if nick == "" {
			return m.Peer, m.Peer
		}
		return m.Peer + "/" + nick, nick
	}
	if m.Direction == history.Out {
		return c.acct.JID.Bare().String(), c.acct.JID.Bare().String()
	}
	if m.Kind == history.KindPrivate {
		return m.Peer, m.Peer
	}
	if j, err := jid.Parse(m.From); err == nil {
		return j.Bare().String(), j.Bare().String()
	}
	return m.Peer, m.Peer
}

// resolveReply finds the message a reply answers in the store: its row,
// its author, and its first line as the quote (the sender's fallback
// quote stays where it is not stored; none is kept of a removed one). Reader
// goroutine, or Run's reading history.
func (c *Client) resolveReply(ctx context.Context, conv Conv, r *ReplyInfo) {
	if r == nil {
		return
	}
	r.Author = fallbackAuthor(conv, r.To)
	if c.opts.Store == nil {
		return
	}
	m, ok, err := c.opts.Store.Target(ctx, conv.stored(), r.ID)
	if err != nil || !ok {
		return
	}
	r.StoreID = m.ID
	_, r.Author = c.authorOf(m)
	if m.Retracted != nil {
		r.Quote = "" // its text is gone, the sender's copy of it too
	} else if q := firstLine(m.Body); q != "" {
		r.Quote = q
	}
}

// resolveLive resolves the reply of a message read from the stream; the
// message it answers may be in the batch still (the same page of an
// archive), which is stored first. Reader goroutine; false when ctx
// ended.
func (c *Client) resolveLive(ctx context.Context, sess *xmpp.Session, conv Conv, r *ReplyInfo) bool {
	if r == nil {
		return true
	}
	if c.opts.Store != nil && len(c.pend.events) > 0 && !c.flushBatch(ctx, sess) {
		return false
	}
	c.resolveReply(ctx, conv, r)
	return true
}

// storedRows converts rows read back for the UI, with their replies
// resolved against the store.
func (c *Client) storedRows(ctx context.Context, msgs []history.Message) []StoredMessage {
	out := stored(msgs)
	for i, m := range msgs {
		s := &out[i]
		if m.Reply.ID != "" && m.Retracted == nil {
			s.Reply = &ReplyInfo{ID: m.Reply.ID, To: m.Reply.To, Quote: m.Reply.Quote}
			c.resolveReply(ctx, s.Conv, s.Reply)
		}
		s.File = fileFromRow(m)
		if len(m.Reactions) > 0 {
			s.Reactions = tallyOf(m.Reactions)
		}
		if t := m.Retracted; t != nil {
			s.Retracted = &Retraction{Moderated: t.Moderated, By: t.By, Reason: t.Reason}
		}
	}
	return out
}

// reactorKey is who a reaction is from, as the store keeps each
// reactor's set, and whether it is us: in a chat the bare JID, in a
// private conversation the occupant's room/nick, in a room the occupant
// by its occupant-id (XEP-0421) or, in a room that gives none, its
// room/nick.
func (c *Client) reactorKey(a actionIn) (key string, own bool) {
	switch a.Conv.Kind {
	case KindRoom:
		own = a.Outgoing || c.ownInRoom(a.Conv.JID, a.Nick, a.OccupantID)
		if a.OccupantID != "" {
			return "occ:" + a.OccupantID, own
		}
		return "jid:" + a.Conv.JID + "/" + a.Nick, own
	case KindPrivate:
		if a.Outgoing {
			return c.acct.JID.Bare().String(), true
		}
		return a.From, false
	}
	if a.Outgoing {
		return c.acct.JID.Bare().String(), true
	}
	return a.Bare, false
}

// ownKey is our reactor key in conv, as our reactions come back.
func (c *Client) ownKey(conv Conv) string {
	if conv.Kind != KindRoom {
		return c.acct.JID.Bare().String()
	}
	c.state.Lock()
	defer c.state.Unlock()
	if r := c.rooms[conv.JID]; r != nil {
		if r.occupantID != "" {
			return "occ:" + r.occupantID
		}
		return "jid:" + conv.JID + "/" + r.nick
	}
	return "jid:" + conv.JID
}

// mayRetract reports whether the sender of a retraction wrote the
// message it names: in a chat the peer retracts what it sent and we what
// we sent; in a room an occupant retracts its own message — the same
// occupant-id where the room gives them, the same nick where it gives
// none — and we ours.
func (c *Client) mayRetract(a actionIn, m history.Message) bool {
	switch a.Conv.Kind {
	case KindRoom:
		own := a.Outgoing || c.ownInRoom(a.Conv.JID, a.Nick, a.OccupantID)
		if m.Direction == history.Out {
			return own
		}
		if own || a.Nick == "" {
			return false
		}
		if m.OccupantID != "" || a.OccupantID != "" {
			return m.OccupantID == a.OccupantID
		}
		return m.Nick == a.Nick
	}
	if a.Outgoing {
		return m.Direction == history.Out
	}
	return m.Direction == history.In
}

// applyAction carries out a reaction, retraction or moderation that
// arrived (live, as a carbon, or from an archive), once: the store is
// changed and the event that says so returned; nil when nothing changed
// (a copy already applied) or the message it names is not stored (it is
// dropped: an archive and a live stream bring a message before what
// acts on it). One the sender may not make is refused: ActionRefused,
// and nothing changes. Reader goroutine; false when ctx ended.
func (c *Client) applyAction(ctx context.Context, sess *xmpp.Session, a actionIn) (Event, bool) {
	if c.opts.Store == nil {
		return nil, true
	}
	refuse := func(what string) (Event, bool) {
		return ActionRefused{Conv: a.Conv, From: a.From, What: what}, true
	}
	if a.Kind == actModerate && (a.Conv.Kind != KindRoom || a.Nick != "") {
		return refuse("a moderation that did not come from the room itself (only the room announces one)")
	}
	if a.Kind != actModerate && a.Conv.Kind == KindRoom && a.Nick == "" {
		return refuse("a reaction or retraction from the room itself, which only moderates")
	}
	// The message may be in the batch still, not yet on disk.
	if len(c.pend.events) > 0 && !c.flushBatch(ctx, sess) {
		return nil, false
	}
	m, ok, err := c.opts.Store.Target(ctx, a.Conv.stored(), a.Target)
	c.storeFailed(err)
	if !ok {
		if a.Archived && a.Kind != actReact {
			c.orphans.keep(a) // its message may come later, paging back
		}
		return nil, true
	}
	switch a.Kind {
	case actReact:
		key, own := c.reactorKey(a)
		changed, tally, err := c.opts.Store.SetReactions(ctx, m.ID, key, a.Emojis, own, a.Time)
		c.storeFailed(err)
		if !changed {
			return nil, true
		}
		return ReactionsChanged{Conv: a.Conv, StoreID: m.ID, Reactions: tallyOf(tally)}, true
	case actRetract:
		if !c.mayRetract(a, m) {
			return refuse("a retraction of a message they did not write")
		}
		done, err := c.opts.Store.Retract(ctx, m.ID, history.Tombstone{Time: a.Time})
		c.storeFailed(err)
		c.removed(a.Conv, m)
		if !done {
			return nil, true
		}
		return MessageRetracted{Conv: a.Conv, StoreID: m.ID, ID: m.StanzaID}, true
	case actModerate:
		done, err := c.opts.Store.Retract(ctx, m.ID, history.Tombstone{Moderated: true, By: a.By, Reason: a.Reason, Time: a.Time})
		c.storeFailed(err)
		c.removed(a.Conv, m)
		if !done {
			return nil, true
		}
		return MessageRetracted{Conv: a.Conv, StoreID: m.ID, ID: m.StanzaID, Retraction: Retraction{Moderated: true, By: a.By, Reason: a.Reason}}, true
	}
	return nil, true
}

// target reads the stored message a command names, which must belong to
// the command's conversation.
// actionOn is where an action on the stored message id of conv goes and
// that message; in a room, only once we are in it.
func (c *Client) actionOn(ctx context.Context, conv Conv, id int64) (to, typ string, m history.Message, err error) {
	if to, typ, err = conv.address(); err != nil {
		return "", "", m, err
	}
	if conv.Kind != KindChat && !c.roomReady(conv) {
		return "", "", m, fmt.Errorf("you are not in %s", conv.Room())
	}
	m, err = c.target(ctx, conv, id)
	return to, typ, m, err
}

func (c *Client) target(ctx context.Context, conv Conv, id int64) (history.Message, error) {
	if c.opts.Store == nil {
		return history.Message{}, errors.New("no history is kept, so no message can be named")
	}
	m, ok, err := c.opts.Store.Get(ctx, id)
	if err != nil {
		return m, fmt.Errorf("read history: %w", err)
	}
	if !ok || m.Peer != conv.JID || m.Kind != string(conv.Kind) {
		return m, errors.New("that message is not in this conversation's history")
	}
	if m.Retracted != nil {
		return m, errors.New("that message was removed")
	}
	return m, nil
}

// protocolID is the id by which replies, reactions and retractions name
// a stored message: in a room the id the room's archive gave it (XEP-0359
// stanza-id, as XEP-0424, -0444 and -0461 say for groupchat); elsewhere
// its origin-id where it had one (XEP-0424 §4), else its id. forReply:
// XEP-0461 names a chat message by its id attribute.
func protocolID(m history.Message, forReply bool) (string, error) {
	if m.Kind == history.KindRoom {
		if m.ArchiveID == "" {
			return "", errors.New("the room has given that message no id yet (it keeps no archive, or has not confirmed it): it cannot be named")
		}
		return m.ArchiveID, nil
	}
	if !forReply && m.OriginID != "" {
		return m.OriginID, nil
	}
	if m.StanzaID != "" {
		return m.StanzaID, nil
	}
	if m.OriginID != "" {
		return m.OriginID, nil
	}
	return "", errors.New("that message came without an id: it cannot be named")
}

// replyOut is what an outgoing reply carries: the answered message's id
// and author (XEP-0461), and the fallback quote put before the body
// (XEP-0428) so that other clients show what it answers.
type replyOut struct {
	id, to   string
	fallback string // "> Author: first line\n"
	quote    string
}

// replyTo prepares a reply to the stored message id in conv.
func (c *Client) replyTo(ctx context.Context, conv Conv, id int64) (*replyOut, *ReplyInfo, error) {
	m, err := c.target(ctx, conv, id)
	if err != nil {
		return nil, nil, err
	}
	pid, err := protocolID(m, true)
	if err != nil {
		return nil, nil, err
	}
	to, shown := c.authorOf(m)
	q := firstLine(m.Body)
	r := &replyOut{id: pid, to: to, quote: q, fallback: "> " + shown + ": " + q + "\n"}
	return r, &ReplyInfo{StoreID: m.ID, ID: pid, To: to, Quote: q, Author: shown}, nil
}

// replyFromRow rebuilds an outgoing reply from its stored row (the
// outbox after a restart).
// fileFromRow is the file a stored message of ours shares, nil for none.
func fileFromRow(m history.Message) *FileInfo {
	if m.File.URL == "" {
		return nil
	}
	return &FileInfo{URL: m.File.URL, Name: m.File.Name, Size: m.File.Size, Type: m.File.Type}
}

func replyFromRow(m history.Message) *replyOut {
	if m.Reply.ID == "" {
		return nil
	}
	shown := m.Reply.To
	if m.Kind == history.KindRoom {
		if j, err := jid.Parse(m.Reply.To); err == nil && j.Resourcepart() != "" {
			shown = j.Resourcepart()
		}
	}
	return &replyOut{id: m.Reply.ID, to: m.Reply.To, quote: m.Reply.Quote, fallback: "> " + shown + ": " + m.Reply.Quote + "\n"}
}

// addTo puts the reply and its fallback on an outgoing message whose
// body is el's body: the quote goes in front of it, and both fallback
// namespaces mark its range (the current one, and the one clients such
// as slixmpp read).
func (r *replyOut) addTo(el *xmpp.Element) {
	n := fmt.Sprint(utf8.RuneCountInString(r.fallback))
	el.Add(xmpp.E(NSReply, "reply", "id", r.id, "to", r.to))
	for _, ns := range []string{NSFallback, NSFeatureFallback} {
		el.Add(xmpp.E(ns, "fallback", "for", NSReply).Add(xmpp.E(ns, "body", "start", "0", "end", n)))
	}
}

// runAction carries out SendReaction, RetractMessage and ModerateMessage.
// Run's goroutine.
func (c *Client) runAction(ctx context.Context, sess *xmpp.Session, cmd Command) error {
	switch cmd := cmd.(type) {
	case SendReaction:
		return c.sendReaction(ctx, sess, cmd)
	case RetractMessage:
		return c.retract(ctx, sess, cmd)
	case ModerateMessage:
		return c.moderate(ctx, sess, cmd)
	}
	return errors.New("unknown command")
}

func (c *Client) sendReaction(ctx context.Context, sess *xmpp.Session, cmd SendReaction) error {
	var emojis []string
	seen := map[string]bool{}
	for _, e := range cmd.Emojis {
		e = strings.TrimSpace(e)
		if e == "" || seen[e] {
			continue
		}
		if !validReaction(e) {
			return fmt.Errorf("%q is not a reaction (one emoji, without spaces)", e)
		}
		seen[e] = true
		emojis = append(emojis, e)
	}
	if len(emojis) > maxReactions {
		return fmt.Errorf("at most %d reactions on one message", maxReactions)
	}
	to, typ, m, err := c.actionOn(ctx, cmd.Conv, cmd.StoreID)
	if err != nil {
		return err
	}
	pid, err := protocolID(m, false)
	if err != nil {
		return err
	}
	id := NewID()
	r := xmpp.E(NSReactions, "reactions", "id", pid)
	for _, e := range emojis {
		r.Add(xmpp.E(NSReactions, "reaction").WithText(e))
	}
	if err := sess.Send(cmd.Conv.message(to, typ, id).Add(r, xmpp.E(NSHints, "store"), xmpp.E(NSSID, "origin-id", "id", id))); err != nil {
		return err
	}
	changed, tally, err := c.opts.Store.SetReactions(ctx, m.ID, c.ownKey(cmd.Conv), emojis, true, time.Now())
	if err != nil {
		return fmt.Errorf("sent, but could not record it in history: %w", err)
	}
	if changed {
		c.emit(ctx, ReactionsChanged{Conv: cmd.Conv, StoreID: m.ID, Reactions: tallyOf(tally)})
	}
	return nil
}

func (c *Client) retract(ctx context.Context, sess *xmpp.Session, cmd RetractMessage) error {
	to, typ, m, err := c.actionOn(ctx, cmd.Conv, cmd.StoreID)
	if err != nil {
		return err
	}
	if m.Direction != history.Out {
		return errors.New("only your own messages can be retracted (a room's moderators can remove others')")
	}
	pid, err := protocolID(m, false)
	if err != nil {
		return err
	}
	id := NewID()
	el := cmd.Conv.message(to, typ, id).Add(
		xmpp.E(NSRetract, "retract", "id", pid),
		xmpp.E(NSFasten, "apply-to", "id", pid).Add(xmpp.E(NSRetract0, "retract")),
		xmpp.E(NSFallback, "fallback", "for", NSRetract),
		xmpp.E(xmpp.NSClient, "body").WithText(retractFallback),
		xmpp.E(NSHints, "store"),
		xmpp.E(NSSID, "origin-id", "id", id),
	)
	if err := sess.Send(el); err != nil {
		return err
	}
	if m.OriginID != "" {
		c.out.drop(m.OriginID) // never sent again after its retraction
	}
	done, err := c.opts.Store.Retract(ctx, m.ID, history.Tombstone{Time: time.Now()})
	if err != nil {
		return fmt.Errorf("sent, but could not record it in history: %w", err)
	}
	if done {
		c.emit(ctx, MessageRetracted{Conv: cmd.Conv, StoreID: m.ID, ID: m.StanzaID})
	}
	return nil
}

// moderate asks the room to remove a message (XEP-0425), in the form its
// disco#info advertises: urn:xmpp:message-moderate:1 where offered, else
// :0 (with fastening, as Prosody's mod_muc_moderation speaks). The room
// announces the removal to everyone, us included: the tombstone comes
// with that announcement.
func (c *Client) moderate(ctx context.Context, sess *xmpp.Session, cmd ModerateMessage) error {
	if cmd.Conv.Kind != KindRoom {
		return errors.New("only messages in a room can be moderated")
	}
	roomJID := cmd.Conv.JID
	if !c.roomReady(cmd.Conv) {
		return fmt.Errorf("you are not in %s", roomJID)
	}
	m, err := c.target(ctx, cmd.Conv, cmd.StoreID)
	if err != nil {
		return err
	}
	pid, err := protocolID(m, false)
	if err != nil {
		return err
	}
	res, err := c.iqTo(ctx, sess, roomJID, "get", xmpp.E(NSDiscoInfo, "query"))
	if err != nil {
		return fmt.Errorf("could not ask %s what it offers: %w", roomJID, err)
	}
	v1, v0 := false, false
	for _, f := range res.Child(NSDiscoInfo, "query").ChildrenIn(NSDiscoInfo) {
		if f.Name.Local == "feature" {
			v1 = v1 || f.Get("var") == NSModerate
			v0 = v0 || f.Get("var") == NSModerate0
		}
	}
	var req *xmpp.Element
	switch {
	case v1:
		req = xmpp.E(NSModerate, "moderate", "id", pid).Add(xmpp.E(NSRetract, "retract"))
		if cmd.Reason != "" {
			req.Add(xmpp.E(NSModerate, "reason").WithText(cmd.Reason))
		}
	case v0:
		mod := xmpp.E(NSModerate0, "moderate").Add(xmpp.E(NSRetract0, "retract"))
		if cmd.Reason != "" {
			mod.Add(xmpp.E(NSModerate0, "reason").WithText(cmd.Reason))
		}
		req = xmpp.E(NSFasten, "apply-to", "id", pid).Add(mod)
	default:
		return fmt.Errorf("%s does not offer moderation (XEP-0425)", roomJID)
	}
	if _, err := c.iqTo(ctx, sess, roomJID, "set", req); err != nil {
		var se *xmpp.StanzaError
		if errors.As(err, &se) {
			switch se.Condition {
			case "forbidden", "not-allowed":
				return fmt.Errorf("%s refused: you are not a moderator there", roomJID)
			case "item-not-found":
				return fmt.Errorf("%s no longer has that message", roomJID)
			}
		}
		return fmt.Errorf("%s refused: %w", roomJID, err)
	}
	return nil
}

// storedReply is what the store keeps of an outgoing reply.
func (m *outgoing) storedReply() history.Reply {
	if m.reply == nil {
		return history.Reply{}
	}
	return history.Reply{ID: m.reply.id, To: m.reply.to, Quote: m.reply.quote}
}

// orphanSet keeps, bounded, the retractions and moderations read from an
// archive that name a message not stored: paging back through a room's
// archive brings the newer page, and so the removal, before the message.
type orphanSet struct {
	byKey map[string]actionIn
	order []string
}

// maxOrphans bounds the removals kept for messages not (yet) stored.
const maxOrphans = 2000

func orphanKey(conv Conv, id string) string {
	return string(conv.Kind) + "\x00" + conv.JID + "\x00" + id
}

func (o *orphanSet) keep(a actionIn) {
	k := orphanKey(a.Conv, a.Target)
	if o.byKey == nil {
		o.byKey = map[string]actionIn{}
	}
	if _, ok := o.byKey[k]; !ok {
		o.order = append(o.order, k)
	}
	o.byKey[k] = a
	if len(o.order) > maxOrphans {
		delete(o.byKey, o.order[0])
		o.order = o.order[1:]
	}
}

// adoptRemoval applies to m, a room message just stored from the archive
// (paging back), a removal of it read earlier: the same judgement as
// when the message is stored first. Reader goroutine.
func (c *Client) adoptRemoval(ctx context.Context, conv Conv, m *history.Message) {
	if len(c.orphans.byKey) == 0 || m.ArchiveID == "" {
		return
	}
	k := orphanKey(conv, m.ArchiveID)
	a, ok := c.orphans.byKey[k]
	if !ok {
		return
	}
	delete(c.orphans.byKey, k)
	t := history.Tombstone{Time: a.Time}
	switch a.Kind {
	case actRetract:
		if !c.mayRetract(a, *m) {
			return
		}
	case actModerate:
		t.Moderated, t.By, t.Reason = true, a.By, a.Reason
	default:
		return
	}
	_, err := c.opts.Store.Retract(ctx, m.ID, t)
	c.storeFailed(err)
}
