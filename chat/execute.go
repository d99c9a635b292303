package chat

import (
	"context"
	"errors"
	"time"

	"github.com/gab-chat/gab/roster"
	"github.com/gab-chat/gab/xmpp"
)

// execute carries out one command on a live session and reports how it
// went.
func (c *Client) execute(ctx context.Context, sess *xmpp.Session, q queued) {
	err := c.run(ctx, sess, q)
	if err != nil {
		c.emit(ctx, CommandFailed{ID: q.id, Command: q.cmd, Err: err})
		return
	}
	c.emit(ctx, CommandDone{ID: q.id, Command: q.cmd})
}

func (c *Client) run(ctx context.Context, sess *xmpp.Session, q queued) error {
	switch cmd := q.cmd.(type) {
	case SendMessage:
		to, err := bareJID(cmd.To)
		if err != nil {
			return err
		}
		if cmd.Body == "" {
			return errors.New("empty message")
		}
		id := NewID()
		m := xmpp.E(xmpp.NSClient, "message", "type", "chat", "to", to, "id", id).Add(
			xmpp.E(xmpp.NSClient, "body").WithText(cmd.Body),
		)
		if cmd.Thread != "" {
			m.Add(xmpp.E(xmpp.NSClient, "thread").WithText(cmd.Thread))
		}
		// XEP-0085 §5.1: <active/> may go with a message to anyone; that is
		// how a peer learns we support chat states.
		m.Add(xmpp.E(NSChatStates, string(StateActive)))
		if err := sess.Send(m); err != nil {
			return err
		}
		sent := MessageSent{CommandID: q.id, ID: id, To: to, Body: cmd.Body, Thread: cmd.Thread, Time: time.Now()}
		c.persist(ctx, sent)
		c.emit(ctx, sent)
		return nil
	case SendChatState:
		to, err := bareJID(cmd.To)
		if err != nil {
			return err
		}
		if _, ok := parseChatState(string(cmd.State)); !ok {
			return errors.New("unknown chat state " + string(cmd.State))
		}
		c.state.Lock()
		ok := c.chaty[to]
		c.state.Unlock()
		if !ok {
			return nil // the peer never showed it understands chat states
		}
		return sess.Send(xmpp.E(xmpp.NSClient, "message", "type", "chat", "to", to, "id", NewID()).Add(
			xmpp.E(NSChatStates, string(cmd.State)),
			xmpp.E("urn:xmpp:hints", "no-store"),
		))
	case SetPresence:
		c.mu.Lock()
		c.presence = cmd
		c.mu.Unlock()
		return sess.Send(c.presenceElement(cmd))
	case AddContact:
		to, err := bareJID(cmd.JID)
		if err != nil {
			return err
		}
		return c.rosterSet(ctx, sess, to, cmd.Name, cmd.Groups, false)
	case RenameContact:
		to, err := bareJID(cmd.JID)
		if err != nil {
			return err
		}
		it, ok := c.item(to)
		if !ok {
			return errors.New(to + " is not in your roster")
		}
		return c.rosterSet(ctx, sess, to, cmd.Name, it.Groups, false)
	case SetGroups:
		to, err := bareJID(cmd.JID)
		if err != nil {
			return err
		}
		it, ok := c.item(to)
		if !ok {
			return errors.New(to + " is not in your roster")
		}
		return c.rosterSet(ctx, sess, to, it.Name, cmd.Groups, false)
	case RemoveContact:
		to, err := bareJID(cmd.JID)
		if err != nil {
			return err
		}
		return c.rosterSet(ctx, sess, to, "", nil, true)
	case Subscribe:
		return c.presenceTo(sess, cmd.JID, "subscribe", cmd.Nick)
	case ApproveSubscription:
		return c.presenceTo(sess, cmd.JID, "subscribed", "")
	case DenySubscription, CancelSubscription:
		jid := ""
		if d, ok := cmd.(DenySubscription); ok {
			jid = d.JID
		} else {
			jid = cmd.(CancelSubscription).JID
		}
		return c.presenceTo(sess, jid, "unsubscribed", "")
	case Unsubscribe:
		return c.presenceTo(sess, cmd.JID, "unsubscribe", "")
	case Block, Unblock:
		var j, op string
		if b, ok := cmd.(Block); ok {
			j, op = b.JID, "block"
		} else {
			j, op = cmd.(Unblock).JID, "unblock"
		}
		to, err := bareJID(j)
		if err != nil {
			return err
		}
		_, err = c.iq(ctx, sess, "set", xmpp.E(NSBlocking, op).Add(xmpp.E(NSBlocking, "item", "jid", to)))
		return err
	case FetchBlocklist:
		res, err := c.iq(ctx, sess, "get", xmpp.E(NSBlocking, "blocklist"))
		if err != nil {
			return err
		}
		c.emit(ctx, BlocklistChanged{JIDs: blockItems(res.Child(NSBlocking, "blocklist")), Reset: true})
		return nil
	}
	return errors.New("unknown command")
}

func (c *Client) item(bare string) (it roster.Item, ok bool) {
	c.state.Lock()
	defer c.state.Unlock()
	it, ok = c.items[bare]
	return it, ok
}

func (c *Client) iq(ctx context.Context, sess *xmpp.Session, typ string, payload *xmpp.Element) (*xmpp.Element, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.IQTimeout)
	defer cancel()
	return sess.SendIQ(ctx, xmpp.E(xmpp.NSClient, "iq", "type", typ).Add(payload))
}

func (c *Client) rosterSet(ctx context.Context, sess *xmpp.Session, bare, name string, groups []string, remove bool) error {
	item := xmpp.E(NSRoster, "item", "jid", bare)
	if remove {
		item.SetAttr("subscription", "remove")
	} else {
		if name != "" {
			item.SetAttr("name", name)
		}
		for _, g := range groups {
			if g != "" {
				item.Add(xmpp.E(NSRoster, "group").WithText(g))
			}
		}
	}
	_, err := c.iq(ctx, sess, "set", xmpp.E(NSRoster, "query").Add(item))
	return err
}

func (c *Client) presenceTo(sess *xmpp.Session, to, typ, nick string) error {
	bare, err := bareJID(to)
	if err != nil {
		return err
	}
	p := xmpp.E(xmpp.NSClient, "presence", "to", bare, "type", typ)
	if nick != "" {
		p.Add(xmpp.E(NSNick, "nick").WithText(nick))
	}
	return sess.Send(p)
}
