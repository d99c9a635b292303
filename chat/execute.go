package chat

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"

	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/roster"
	"github.com/gab-chat/gab/xmpp"
)

// execute carries out one command on a live session and reports how it
// went.
func (c *Client) execute(ctx context.Context, sess *xmpp.Session, q queued) error {
	if cmd, ok := q.cmd.(SendMessage); ok {
		enqueue := c.enqueue
		if cmd.Encrypt {
			enqueue = func(ctx context.Context, id uint64, cmd SendMessage) (*outgoing, error) {
				return c.enqueueEncrypted(ctx, sess, id, cmd)
			}
		}
		m, err := enqueue(ctx, q.id, cmd)
		if err != nil {
			c.emit(ctx, CommandFailed{ID: q.id, Command: q.cmd, Err: err})
			return nil
		}
		c.emit(ctx, CommandDone{ID: q.id, Command: q.cmd})
		return c.transmit(sess, m, func(ev Event) { c.emit(ctx, ev) }) // on failure it stays in the outbox
	}
	if c.uploadLocal(ctx, sess, q) {
		return nil
	}
	if cmd, ok := q.cmd.(UploadFile); ok {
		if err := c.startUpload(ctx, sess, q.id, cmd); err != nil {
			// Its last progress too, as for a failure on the way: the
			// conversation says so.
			c.emit(ctx, UploadProgress{CommandID: q.id, Conv: cmd.Conv, Name: filepath.Base(cmd.Path), Done: true, Err: err})
			c.emit(ctx, CommandFailed{ID: q.id, Command: q.cmd, Err: err})
		}
		return nil // answered when it ends (uploadFinished)
	}
	if cmd, ok := q.cmd.(JoinRoom); ok {
		if err := c.joinRoom(ctx, sess, q.id, cmd); err != errLater {
			c.answer(ctx, q, err)
		}
		return nil
	}
	switch cmd := q.cmd.(type) {
	case omemoRepublish:
		if err := c.republishOMEMO(ctx, sess); err != nil && ctx.Err() == nil {
			c.emit(ctx, Notice{Text: "could not publish this device's new OMEMO keys (others may not be able to start a session with it): " + err.Error()})
		}
		return nil
	case omemoRoomMembers:
		c.readRoomMembers(ctx, sess, cmd) // omemo_room.go
		return nil
	case omemoEmpty:
		if err := c.sendOMEMOEmpty(ctx, sess, cmd); err != nil {
			c.emit(ctx, Notice{Text: fmt.Sprintf("could not send an OMEMO key message to device %d of %s: %v", cmd.Device, cmd.JID, err)})
		}
		return nil
	case FetchBookmarks:
		c.fetchBookmarksCmd(sess, q.id, cmd) // answered with the list
		return nil
	case bookmarksFailed:
		c.answerFailed(ctx, q.id, cmd)
		return nil
	}
	if isHistory(q.cmd) {
		later, err := c.readHistory(ctx, q.id, q.cmd, sess)
		if !later {
			c.answer(ctx, q, err)
		}
		return nil
	}
	err := c.run(ctx, sess, q)
	if err != nil {
		c.emit(ctx, CommandFailed{ID: q.id, Command: q.cmd, Err: err})
		return err
	}
	c.emit(ctx, CommandDone{ID: q.id, Command: q.cmd})
	return nil
}

// answer gives a command its final answer: done, or failed with err.
func (c *Client) answer(ctx context.Context, q queued, err error) {
	if err != nil {
		c.emit(ctx, CommandFailed{ID: q.id, Command: q.cmd, Err: err})
	} else {
		c.emit(ctx, CommandDone{ID: q.id, Command: q.cmd})
	}
}

func (c *Client) run(ctx context.Context, sess *xmpp.Session, q queued) error {
	switch cmd := q.cmd.(type) {
	case SendChatState:
		return c.sendChatState(sess, cmd)
	case SetPresence:
		c.mu.Lock()
		c.presence = cmd
		c.mu.Unlock()
		if err := sess.Send(c.presenceElement(cmd)); err != nil {
			return err
		}
		// Presence sent to a room is directed: the server does not pass
		// changes on to it (RFC 6121 §4.6), so each room is told.
		c.state.Lock()
		var to []string
		for roomJID, r := range c.rooms {
			if r.state == mucJoined {
				to = append(to, roomJID+"/"+r.nick)
			}
		}
		c.state.Unlock()
		for _, t := range to {
			el := c.presenceElement(cmd)
			el.SetAttr("to", t)
			if err := sess.Send(el); err != nil {
				return err
			}
		}
		return nil
	case AddContact:
		return c.rosterSet(ctx, sess, cmd.JID, func(it *roster.Item) { it.Name, it.Groups = cmd.Name, cmd.Groups }, false)
	case RenameContact:
		return c.rosterSet(ctx, sess, cmd.JID, func(it *roster.Item) { it.Name = cmd.Name }, true)
	case SetGroups:
		return c.rosterSet(ctx, sess, cmd.JID, func(it *roster.Item) { it.Groups = cmd.Groups }, true)
	case RemoveContact:
		return c.rosterSet(ctx, sess, cmd.JID, func(it *roster.Item) { it.Subscription = "remove" }, false)
	case Subscribe:
		return c.presenceTo(sess, cmd.JID, "subscribe", cmd.Nick)
	case ApproveSubscription:
		return c.presenceTo(sess, cmd.JID, "subscribed", "")
	case DenySubscription:
		return c.presenceTo(sess, cmd.JID, "unsubscribed", "")
	case CancelSubscription:
		return c.presenceTo(sess, cmd.JID, "unsubscribed", "")
	case Unsubscribe:
		return c.presenceTo(sess, cmd.JID, "unsubscribe", "")
	case Block:
		return c.blockSet(ctx, sess, "block", cmd.JID)
	case Unblock:
		return c.blockSet(ctx, sess, "unblock", cmd.JID)
	case TrustCertificate:
		return errors.New("already connected: nothing to trust")
	case MarkDisplayed:
		if cmd.Conv.Kind != KindChat {
			return nil // markers go to contacts only
		}
		to, err := BareJID(cmd.Conv.JID)
		if err != nil {
			return err
		}
		if !c.inRoster(to) || cmd.ID == "" {
			return nil // markers tell when we read: not to strangers
		}
		return sess.Send(xmpp.E(xmpp.NSClient, "message", "type", "chat", "to", to, "id", NewID()).Add(
			xmpp.E(NSMarkers, "displayed", "id", cmd.ID), xmpp.E("urn:xmpp:hints", "store")))
	case CorrectMessage:
		to, typ, err := cmd.Conv.address()
		if err != nil {
			return err
		}
		if cmd.Body == "" || cmd.ReplaceID == "" {
			return errEmpty
		}
		id := NewID()
		err = sess.Send(cmd.Conv.message(to, typ, id).Add(
			xmpp.E(xmpp.NSClient, "body").WithText(cmd.Body),
			xmpp.E(NSCorrect, "replace", "id", cmd.ReplaceID),
			xmpp.E(NSSID, "origin-id", "id", id)))
		if err != nil {
			return err
		}
		if c.opts.Store != nil {
			c.opts.Store.Correct(ctx, history.Correction{Conv: cmd.Conv.stored(), Direction: history.Out, ReplaceID: cmd.ReplaceID, Body: cmd.Body, StanzaID: id, OriginID: id})
		}
		c.emit(ctx, MessageCorrected{Conv: cmd.Conv, Bare: to, ReplaceID: cmd.ReplaceID, NewID: id, Body: cmd.Body, Outgoing: true})
		return nil
	case LeaveRoom, ChangeNick, SetSubject, Invite, SetRole, SetAffiliation:
		return c.runRoom(ctx, sess, cmd)
	case ListRooms:
		return c.listRooms(ctx, sess, cmd)
	case FetchRoomConfig, SubmitRoomConfig, CancelRoomConfig:
		return c.roomConfig(ctx, sess, cmd)
	case SetBookmark, RemoveBookmark:
		return c.runBookmarks(ctx, sess, cmd)
	case PublishOMEMO, FetchOMEMODevices, FetchOMEMOBundle:
		return c.runOMEMO(ctx, sess, cmd)
	case ShowOMEMO, SetOMEMOTrust:
		return c.runOMEMOTrust(ctx, cmd)
	case ShowRoomOMEMO:
		return c.showRoomOMEMO(ctx, cmd)
	case SendReaction, RetractMessage, ModerateMessage:
		return c.runAction(ctx, sess, cmd)
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

var errEmpty = errors.New("empty message")

func (c *Client) sendChatState(sess *xmpp.Session, cmd SendChatState) error {
	if cmd.Conv.Kind != KindChat {
		return c.sendRoomState(sess, cmd)
	}
	to, err := BareJID(cmd.Conv.JID)
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
		return nil // the peer has not shown that it understands chat states
	}
	return sess.Send(xmpp.E(xmpp.NSClient, "message", "type", "chat", "to", to, "id", NewID()).Add(
		xmpp.E(NSChatStates, string(cmd.State)),
		xmpp.E("urn:xmpp:hints", "no-store"),
	))
}

func (c *Client) iq(ctx context.Context, sess *xmpp.Session, typ string, payload *xmpp.Element) (*xmpp.Element, error) {
	ctx, cancel := context.WithTimeout(ctx, c.opts.IQTimeout)
	defer cancel()
	return sess.SendIQ(ctx, xmpp.E(xmpp.NSClient, "iq", "type", typ).Add(payload))
}

// rosterSet sends a roster set for jid (RFC 6121 §2.3). edit changes the
// item as the server last sent it; existing says the contact must already
// be in the roster (rename and regroup keep what they do not change).
func (c *Client) rosterSet(ctx context.Context, sess *xmpp.Session, jid string, edit func(*roster.Item), existing bool) error {
	bare, err := BareJID(jid)
	if err != nil {
		return err
	}
	c.state.Lock()
	it, ok := c.itemsLocked()[bare]
	c.state.Unlock()
	if existing && !ok {
		return errors.New(bare + " is not in your roster")
	}
	it.JID = bare
	edit(&it)
	item := xmpp.E(NSRoster, "item", "jid", bare)
	if it.Subscription == "remove" {
		item.SetAttr("subscription", "remove")
	} else {
		if it.Name != "" {
			item.SetAttr("name", it.Name)
		}
		for _, g := range it.Groups {
			if g != "" {
				item.Add(xmpp.E(NSRoster, "group").WithText(g))
			}
		}
	}
	_, err = c.iq(ctx, sess, "set", xmpp.E(NSRoster, "query").Add(item))
	return err
}

func (c *Client) blockSet(ctx context.Context, sess *xmpp.Session, op, jid string) error {
	bare, err := BareJID(jid)
	if err != nil {
		return err
	}
	_, err = c.iq(ctx, sess, "set", xmpp.E(NSBlocking, op).Add(xmpp.E(NSBlocking, "item", "jid", bare)))
	return err
}

func (c *Client) presenceTo(sess *xmpp.Session, to, typ, nick string) error {
	bare, err := BareJID(to)
	if err != nil {
		return err
	}
	p := xmpp.E(xmpp.NSClient, "presence", "to", bare, "type", typ)
	if nick != "" {
		p.Add(xmpp.E(NSNick, "nick").WithText(nick))
	}
	return sess.Send(p)
}
