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
	from  string // the full JID that sent it
	alias string // the id of its latest correction, which some clients name instead
}

// correctionNote is shown with a correction that may not correct: it is a
// message of its own.
const correctionNote = "sent as a correction of an earlier message; only the last message can be corrected, from the same device, so it is shown as a new one"

// received notes m as the newest message in its conversation. Reader
// goroutine only.
func (c *Client) received(m MessageReceived) {
	c.lastIn[m.Bare] = lastReceived{id: m.ID, from: m.From}
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
	last, ok := c.lastIn[mc.Bare]
	if !ok && c.opts.Store != nil {
		// Nothing from them in this run: the store has their last.
		m, found, err := c.opts.Store.LastReceived(ctx, mc.Bare)
		c.storeFailed(err)
		if found {
			last, ok = lastReceived{id: m.StanzaID, from: m.From}, true
			c.lastIn[mc.Bare] = last
		}
	}
	if !ok || !mayCorrect(last, mc) {
		m := mc.AsMessage
		m.Note = correctionNote
		return m, true
	}
	mc.ReplaceID = last.id
	if c.opts.Store != nil {
		// The message may be in the batch still, not yet on disk.
		if len(c.pend.events) > 0 && !c.flushBatch(ctx, sess) {
			return nil, false
		}
		m := mc.AsMessage
		if !c.opts.Store.Correct(ctx, history.Correction{Peer: mc.Bare, Direction: history.In, ReplaceID: mc.ReplaceID, Body: mc.Body,
			StanzaID: m.ID, OriginID: m.OriginID, ArchiveID: m.ArchiveID}) {
			c.storeFailed(fmt.Errorf("could not record in history a correction from %s", mc.From))
		}
	}
	last.alias = mc.NewID
	c.lastIn[mc.Bare] = last
	mc.AsMessage = MessageReceived{}
	return mc, true
}

// mayCorrect reports whether mc may replace last, the newest message in its
// conversation: from the full JID that sent it, naming it by its id (or by
// the id of its latest correction).
func mayCorrect(last lastReceived, mc MessageCorrected) bool {
	return last.id != "" && last.from == mc.From && mc.ReplaceID != "" && (mc.ReplaceID == last.id || mc.ReplaceID == last.alias)
}
