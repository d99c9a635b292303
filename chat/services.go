package chat

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

// ServicesFound says what our server offers that gab uses: MUC is the JID
// of its group chat service (XEP-0045), "" when it has none. It comes
// once per new session, after the server answered.
type ServicesFound struct {
	MUC string
}

// ListRooms asks a group chat service for its public rooms (XEP-0045
// §6.3, through disco#items); Service "" is our server's. The answer is
// RoomsListed.
type ListRooms struct{ Service string }

// RoomsListed answers ListRooms: the rooms the service lists, by JID.
type RoomsListed struct {
	Service string
	Rooms   []RoomItem
}

// RoomItem is one room a service lists; Name is remote text, "" if none.
type RoomItem struct {
	JID  string
	Name string
}

func (ServicesFound) isEvent() {}
func (RoomsListed) isEvent()   {}
func (ListRooms) isCommand()   {}

// maxServiceItems bounds how many of our server's items are asked what
// they are.
const maxServiceItems = 50

// findServices asks our server which services it has (disco#items) and
// each what it is (disco#info), all at once, and keeps the first group
// chat service in the server's order. It does not wait: the answers come
// on the reader goroutine.
func (c *Client) findServices(sess *xmpp.Session) {
	domain := c.acct.JID.Domainpart()
	items := xmpp.E(xmpp.NSClient, "iq", "type", "get", "to", domain).Add(xmpp.E(NSDiscoItems, "query"))
	sess.SendIQFunc(items, c.opts.IQTimeout, func(res *xmpp.Element, err error) {
		if err != nil {
			return
		}
		jids := serviceItems(res)
		if len(jids) == 0 {
			c.deliver(ServicesFound{})
			return
		}
		var mu sync.Mutex
		conference := make([]bool, len(jids))
		left := len(jids)
		for i, to := range jids {
			info := xmpp.E(xmpp.NSClient, "iq", "type", "get", "to", to).Add(xmpp.E(NSDiscoInfo, "query"))
			answer := func(res *xmpp.Element, err error) {
				mu.Lock()
				defer mu.Unlock()
				if err == nil {
					for _, id := range res.Child(NSDiscoInfo, "query").ChildrenIn(NSDiscoInfo) {
						if id.Name.Local == "identity" && id.Get("category") == "conference" && id.Get("type") == "text" {
							conference[i] = true
						}
					}
				}
				if left--; left > 0 {
					return
				}
				muc := ""
				for k, ok := range conference {
					if ok {
						muc = jids[k]
						break
					}
				}
				c.state.Lock()
				c.mucService = muc
				c.state.Unlock()
				// Answers that fail (the session ended) come from other
				// goroutines: only the reader hands on events.
				if err == nil {
					c.deliver(ServicesFound{MUC: muc})
				}
			}
			if err := sess.SendIQFunc(info, c.opts.IQTimeout, answer); err != nil {
				answer(nil, err)
			}
		}
	})
}

// roomAddress completes what the user typed for a room: "tea" is tea on
// our server's group chat service.
func (c *Client) roomAddress(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("no room given")
	}
	if !strings.Contains(s, "@") {
		c.state.Lock()
		svc := c.mucService
		c.state.Unlock()
		if svc == "" {
			return "", fmt.Errorf("your server has no group chat service that gab knows of: give the room's full address (%s@service)", s)
		}
		s += "@" + svc
	}
	r, err := BareJID(s)
	if err != nil {
		return "", err
	}
	if j, _ := jid.Parse(r); j.Localpart() == "" {
		return "", fmt.Errorf("%s is not a room address (room@service)", s)
	}
	return r, nil
}

// listRooms answers ListRooms.
func (c *Client) listRooms(ctx context.Context, sess *xmpp.Session, cmd ListRooms) error {
	svc := strings.TrimSpace(cmd.Service)
	if svc == "" {
		c.state.Lock()
		svc = c.mucService
		c.state.Unlock()
		if svc == "" {
			return errors.New("your server has no group chat service that gab knows of: name one (/rooms SERVICE)")
		}
	}
	j, err := jid.Parse(svc)
	if err != nil {
		return fmt.Errorf("%q is not a service address", svc)
	}
	res, err := c.iqTo(ctx, sess, j.String(), "get", xmpp.E(NSDiscoItems, "query"))
	if err != nil {
		return err
	}
	out := RoomsListed{Service: j.String()}
	for _, it := range res.Child(NSDiscoItems, "query").ChildrenIn(NSDiscoItems) {
		if it.Name.Local != "item" {
			continue
		}
		r, err := jid.Parse(it.Get("jid"))
		if err != nil || r.Localpart() == "" {
			continue
		}
		out.Rooms = append(out.Rooms, RoomItem{JID: r.Bare().String(), Name: it.Get("name")})
	}
	sort.Slice(out.Rooms, func(i, k int) bool { return out.Rooms[i].JID < out.Rooms[k].JID })
	c.emit(ctx, out)
	return nil
}

// sendRoomState tells a room (or an occupant, privately) our chat state
// (XEP-0085 §5.6: in a room, as a groupchat message without body), once
// we are in the room.
func (c *Client) sendRoomState(sess *xmpp.Session, cmd SendChatState) error {
	if _, ok := parseChatState(string(cmd.State)); !ok {
		return errors.New("unknown chat state " + string(cmd.State))
	}
	if !c.roomReady(cmd.Conv) || (cmd.Conv.Kind == KindRoom && cmd.State == StateGone) {
		// Not in the room (now): nobody to tell. And a room is not told
		// that we left the conversation (XEP-0085 §5.6).
		return nil
	}
	to, typ, err := cmd.Conv.address()
	if err != nil {
		return err
	}
	return sess.Send(cmd.Conv.message(to, typ, NewID()).Add(
		xmpp.E(NSChatStates, string(cmd.State)),
		xmpp.E(NSHints, "no-store"),
	))
}

// serviceItems are the services a disco#items answer of our server lists
// (bare domains, no nodes), at most maxServiceItems of them.
func serviceItems(res *xmpp.Element) []string {
	var jids []string
	for _, it := range res.Child(NSDiscoItems, "query").ChildrenIn(NSDiscoItems) {
		if it.Name.Local != "item" || it.Get("node") != "" {
			continue
		}
		if j, err := jid.Parse(it.Get("jid")); err == nil && j.Localpart() == "" && j.Resourcepart() == "" {
			jids = append(jids, j.String())
		}
		if len(jids) == maxServiceItems {
			break
		}
	}
	return jids
}
