package chat

// roomHasOlder reports whether a room's archive may hold messages older
// than the store's: we are in the room, it keeps an archive, and paging
// back has not reached its start. A room tab then offers to page back even
// when the store has nothing older.
func (c *Client) roomHasOlder(conv Conv) bool {
	c.state.Lock()
	defer c.state.Unlock()
	r, ok := c.rooms[conv.JID]
	return ok && r.state == mucJoined && r.archive && !r.exhausted
}
