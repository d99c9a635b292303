package chat

import (
	"context"
	"fmt"

	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/xmpp"
)

// lastReceived is the newest message received in a conversation: the only
// one a correction may replace (XEP-0308 §5: the last message, from the
// same full JID).
type lastReceived struct {
	id    string // its id as first sent
	from  string // the full JID that sent it (room/nick in a room)
	alias string // the id of its latest correction, which some clients name instead
	// occupant is the XEP-0421 occupant-id of its author in a room that
	// gives them: the occupant, not the nick, may correct it.
	occupant string
	// removed: it was retracted or moderated, and stays removed (a
	// correction of it is a new message).
	removed bool
	// encrypted: it came encrypted (OMEMO). A correction, which is in
	// plaintext (an encrypted one is not applied yet), does not replace
	// it: that would show plaintext in its place as if it were the
	// encrypted message.
	encrypted bool
}

// lastKey is whose last message a correction may replace: in a chat,
// the conversation's (XEP-0308 §5); in a room, each occupant's own last
// message in it (§6: an occupant corrects what it said, whoever spoke
// since), the occupant known by its occupant-id where the room gives one,
// else by its room/nick.
type lastKey struct {
	conv Conv
	who  string
}

func keyOf(conv Conv, occupantID, from string) lastKey {
	if conv.Kind != KindRoom {
		return lastKey{conv: conv}
	}
	if occupantID != "" {
		return lastKey{conv, "id\x00" + occupantID}
	}
	return lastKey{conv, "jid\x00" + from}
}

// correctionNote is shown with a correction that may not correct: it is a
// message of its own.
const correctionNote = "sent as a correction of an earlier message; only the last message can be corrected, from the same device, so it is shown as a new one"

// removedNote is shown with a correction of a removed message: a removed
// message stays removed, and the correction is a message of its own.
const encryptedCorrectionNote = "sent unencrypted as a correction of an encrypted message, so it is shown as a new one"

const removedNote = "sent as a correction of a removed message, so it is shown as a new one"

// removed notes that the stored message m was retracted or moderated: if
// it is its author's last, a correction of it may not bring its text
// back. Reader goroutine only.
func (c *Client) removed(conv Conv, m history.Message) {
	if m.Direction != history.In {
		return
	}
	key := keyOf(conv, m.OccupantID, m.From)
	if last, ok := c.lastIn[key]; ok && last.id == m.StanzaID {
		last.removed = true
		c.lastIn[key] = last
	}
}

// received notes m as the newest message in its conversation. Reader
// goroutine only.
func (c *Client) received(m MessageReceived) {
	c.lastIn[keyOf(m.Conv, m.OccupantID, m.From)] = lastReceived{id: m.ID, from: m.From, occupant: m.OccupantID, encrypted: m.Encrypted != nil}
}

// correction decides what a contact's correction is. It corrects only the
// last message the contact sent in the conversation, and only when it comes
// from the full JID that sent that one: then the store keeps the text it
// replaces and mc is returned, naming the message by the id it was first
// sent with. Anything else — an older message, another resource, somebody
// else's message — is shown as a new message with a note, as most clients
// do: nothing the contact sent is hidden, and nothing already said changes.
// It runs on the reader goroutine; false means ctx ended.
func (c *Client) correction(ctx context.Context, sess *xmpp.Session, mc MessageCorrected) (Event, bool) {
	key := keyOf(mc.Conv, mc.OccupantID, mc.From)
	last, ok := c.lastIn[key]
	if !ok && c.opts.Store != nil {
		// Nothing from them in this run: the store has their last.
		var m history.Message
		var found bool
		var err error
		if mc.Conv.Kind == KindRoom {
			m, found, err = c.opts.Store.LastReceivedBy(ctx, mc.Conv.stored(), mc.OccupantID, mc.From)
		} else {
			m, found, err = c.opts.Store.LastReceived(ctx, mc.Conv.stored())
		}
		c.storeFailed(err)
		if found {
			last, ok = lastReceived{id: m.StanzaID, from: m.From, occupant: m.OccupantID, removed: m.Retracted != nil}, true
			c.lastIn[key] = last
		}
	}
	if !ok || !mayCorrect(last, mc) {
		m := mc.AsMessage
		m.Note = correctionNote
		return m, true
	}
	if last.removed {
		m := mc.AsMessage
		m.Note = removedNote
		return m, true
	}
	if last.encrypted {
		m := mc.AsMessage
		m.Note = encryptedCorrectionNote
		return m, true
	}
	mc.ReplaceID = last.id
	if c.opts.Store != nil {
		// The message may be in the batch still, not yet on disk.
		if len(c.pend.events) > 0 && !c.flushBatch(ctx, sess) {
			return nil, false
		}
		m := mc.AsMessage
		if !c.opts.Store.Correct(ctx, history.Correction{Conv: mc.Conv.stored(), Direction: history.In, ReplaceID: mc.ReplaceID, Body: mc.Body,
			StanzaID: m.ID, OriginID: m.OriginID, ArchiveID: m.ArchiveID, OccupantID: last.occupant}) {
			c.storeFailed(fmt.Errorf("could not record in history a correction from %s", mc.From))
		}
	}
	last.alias = mc.NewID
	c.lastIn[key] = last
	mc.AsMessage = MessageReceived{}
	return mc, true
}

// mayCorrect reports whether mc may replace last, the newest message in its
// conversation: from its author, naming it by its id (or by the id of its
// latest correction). The author is the full JID that sent it; in a room
// that gives occupant-ids (XEP-0421), the occupant with that id, whatever
// its nick now — and never another occupant that took the nick.
func mayCorrect(last lastReceived, mc MessageCorrected) bool {
	if last.id == "" || mc.ReplaceID == "" || (mc.ReplaceID != last.id && mc.ReplaceID != last.alias) {
		return false
	}
	if mc.Conv.Kind == KindRoom && (last.occupant != "" || mc.OccupantID != "") {
		return last.occupant == mc.OccupantID
	}
	return last.from == mc.From
}
