package ui

import "github.com/gab-chat/gab/chat"

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

// retract turns l into a tombstone: no text, quote, file or reactions.
func (l *Line) retract(r chat.Retraction) {
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
			l.retract(e.Retraction)
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
func storedLine(l *Line, h chat.StoredMessage) {
	l.Reply, l.File, l.Reactions = h.Reply, h.File, h.Reactions
	if h.Retracted != nil {
		l.retract(*h.Retracted)
	}
}
