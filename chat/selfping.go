package chat

import (
	"context"
	"errors"

	"github.com/gab-chat/gab/xmpp"
)

// selfPing asks each room we are in whether we are still in it (XEP-0410
// MUC self-ping: an iq ping to our own occupant JID). A room that restarted,
// or lost us some other way, says so with an error; gab joins it again. It
// does not wait: the answers come on the reader goroutine.
func (c *Client) selfPing(ctx context.Context, sess *xmpp.Session) {
	c.state.Lock()
	type target struct{ room, nick string }
	var targets []target
	for roomJID, r := range c.rooms {
		if r.state == mucJoined && !r.pinging {
			r.pinging = true
			targets = append(targets, target{roomJID, r.nick})
		}
	}
	c.state.Unlock()
	for _, tg := range targets {
		iq := xmpp.E(xmpp.NSClient, "iq", "type", "get", "to", tg.room+"/"+tg.nick).Add(xmpp.E(xmpp.NSPing, "ping"))
		answer := func(_ *xmpp.Element, err error) {
			c.state.Lock()
			r, ok := c.rooms[tg.room]
			if ok {
				r.pinging = false
			}
			rejoin := ok && r.state == mucJoined && r.nick == tg.nick && droppedFromRoom(err)
			var el *xmpp.Element
			if rejoin {
				r.state, r.occupantID, r.catching = mucJoining, "", false
				el = c.joinPresence(tg.room, r)
			}
			c.state.Unlock()
			if !rejoin {
				return
			}
			// On the reader goroutine: a stanza error is an answer read.
			c.deliver(RoomJoining{Room: tg.room, Nick: tg.nick})
			c.deliver(Notice{Text: tg.room + " no longer had you in it (" + err.Error() + "); joining it again"})
			sess.Send(el)
		}
		if err := sess.SendIQFunc(iq, c.opts.IQTimeout, answer); err != nil {
			answer(nil, nil)
		}
	}
}

// droppedFromRoom reads the answer to a self-ping (XEP-0410 §3): a result,
// or an error that only says the occupant's client does not answer pings,
// means we are in; not-acceptable (not an occupant), item-not-found (no
// such occupant or room) and the like mean the room lost us. No answer in
// time says nothing.
func droppedFromRoom(err error) bool {
	var se *xmpp.StanzaError
	if err == nil || !errors.As(err, &se) {
		return false
	}
	switch se.Condition {
	case "service-unavailable", "feature-not-implemented", "remote-server-timeout":
		return false
	}
	return true
}
