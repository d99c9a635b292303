package ui

import (
	"strings"

	"github.com/gab-chat/gab/chat"
)

// The model's side of acting on one message: reactions and removals
// change the line of the stored message they name, found by its store
// row; a refused action is a line in its conversation.

// lineByStore is the line showing store row id in c, nil when it is not
// shown (not loaded, or trimmed away: the store has the change).
func (c *Conversation) lineByStore(id int64) *Line {
	if id == 0 {
		return nil
	}
	for i := len(c.Lines) - 1; i >= 0; i-- {
		if c.Lines[i].StoreID == id {
			return &c.Lines[i]
		}
	}
	return nil
}

// retract turns l, a line of conv, into a tombstone: no text, quote, file
// or reactions. A room's moderator is named by their nick: the room
// names them ROOM/NICK.
func (l *Line) retract(conv chat.Conv, r chat.Retraction) {
	if room, nick, ok := strings.Cut(r.By, "/"); ok && conv.Kind == chat.KindRoom && room == conv.JID && nick != "" {
		r.By = nick
	}
	l.Retracted = &r
	l.Body, l.Reply, l.File, l.Reactions, l.Spans, l.Mention, l.wrapped = "", nil, nil, nil, nil, false, nil
}

func (s *State) applyAction(account, prefix string, ev chat.Event) {
	switch e := ev.(type) {
	case chat.ReactionsChanged:
		if c, _ := s.Find(account, e.Conv); c != nil {
			if l := c.lineByStore(e.StoreID); l != nil {
				l.Reactions, l.wrapped = e.Reactions, nil
			}
		}
	case chat.MessageRetracted:
		c, _ := s.Find(account, e.Conv)
		if c == nil {
			return
		}
		l := c.lineByStore(e.StoreID)
		if l == nil && e.StoreID == 0 && e.ID != "" {
			for i := len(c.Lines) - 1; i >= 0 && l == nil; i-- {
				if c.Lines[i].ID == e.ID && c.Lines[i].StoreID == 0 {
					l = &c.Lines[i]
				}
			}
		}
		if l != nil {
			l.retract(e.Conv, e.Retraction)
		}
		// The quotes of the replies to it are copies of its text.
		for i := range c.Lines {
			if r := c.Lines[i].Reply; r != nil && e.StoreID != 0 && r.StoreID == e.StoreID && r.Quote != "" {
				q := *r
				q.Quote = ""
				c.Lines[i].Reply, c.Lines[i].wrapped = &q, nil
			}
		}
	case chat.ActionRefused:
		text := "refused from " + e.From + ": " + e.What
		if c, _ := s.Find(account, e.Conv); c != nil {
			c.add(Line{Time: s.Now(), Body: text, Kind: LineInfo})
			return
		}
		s.Log(LineInfo, "%s%s (in %s)", prefix, text, e.Conv.JID)
	}
}

// storedLine fills in what a stored message carries besides its text.
func storedLine(l *Line, conv chat.Conv, h chat.StoredMessage) {
	l.Reply, l.File, l.Reactions = h.Reply, h.File, h.Reactions
	l.Body = fileBody(l.Body, l.File)
	if h.Retracted != nil {
		l.retract(conv, *h.Retracted)
	}
}

// shownReply is r with the answered message's author named as the
// conversation names them: as that message's line names its sender when
// the line is here (in page, a page of history being added, or in c);
// else a contact by its name in the list, and ourselves as our own
// messages are named (the reply and the store give JIDs, and in a room
// not joined, no nick of ours). A copy: the event's stays as it came.
func (s *State) shownReply(a *Account, c *Conversation, r *chat.ReplyInfo, page []Line) *chat.ReplyInfo {
	if r == nil {
		return nil
	}
	out := *r
	if r.StoreID != 0 {
		for i := len(page) - 1; i >= 0; i-- {
			if page[i].StoreID == r.StoreID && page[i].Sender != "" {
				out.Author = page[i].Sender
				return &out
			}
		}
		if l := c.lineByStore(r.StoreID); l != nil && l.Sender != "" {
			out.Author = l.Sender
			return &out
		}
	}
	me, _, _ := strings.Cut(a.JID, "/")
	switch {
	case r.Author == "":
	case c.Conv.Kind == chat.KindChat && r.Author == c.Conv.JID:
		out.Author = s.displayName(a, r.Author)
	case r.Author == me || c.Conv.Kind == chat.KindRoom && r.Author == c.Conv.JID:
		out.Author, _ = s.me(a, c.Conv)
	}
	return &out
}
