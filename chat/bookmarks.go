package chat

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"sort"
	"strings"
	"sync"

	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

// Bookmarks: the rooms the user keeps, stored on the server so that every
// device sees them. Where the server offers PEP (XEP-0163), they are PEP
// Native Bookmarks (XEP-0402): one item per room in the node
// urn:xmpp:bookmarks:1, its id the room's JID; changes made by another
// device arrive as notifications. Where it does not (or where the old
// store holds the user's bookmarks and the server does not keep the two
// in step), they are XEP-0048 bookmarks in private XML storage
// (XEP-0049), written back whole.

// Namespaces of bookmarks and the protocols that carry them.
const (
	NSBookmarks        = "urn:xmpp:bookmarks:1"
	NSBookmarksCompat  = NSBookmarks + "#compat" // the server keeps XEP-0402 and XEP-0048 in step
	NSBookmarksNotify  = NSBookmarks + "+notify" // XEP-0163 filtered notifications: send us changes
	NSPubSub           = "http://jabber.org/protocol/pubsub"
	NSPubSubEvent      = NSPubSub + "#event"
	NSPrivate          = "jabber:iq:private"
	NSStorageBookmarks = "storage:bookmarks"
)

// Bookmark is a room the user keeps: its bare JID, a name to show, the
// nick to join with ("" for the account's localpart), its password, and
// whether gab joins it at login (and when another device sets it so).
type Bookmark struct {
	Room     string
	Name     string
	Nick     string
	Password string
	Autojoin bool
}

// BookmarksChanged reports bookmarks. Reset: Bookmarks is the whole list
// (at login, and answering FetchBookmarks). Otherwise Bookmarks were added
// or changed and Removed (room JIDs) were removed, by this device or
// another. Bookmarks are sorted by room. Cached: the list as saved at the
// end of the last run (without passwords), shown before the server's.
type BookmarksChanged struct {
	Bookmarks []Bookmark
	Removed   []string
	Reset     bool
	Cached    bool
}

func (BookmarksChanged) isEvent() {}

// SetBookmark adds a bookmark, or replaces the one for the same room
// (what other clients keep with it, such as XEP-0402 extensions, is
// kept). A bookmark that becomes autojoin, here or on another device, is
// joined at once if gab is not in the room.
type SetBookmark struct{ Bookmark }

// RemoveBookmark removes the bookmark for Room. Nothing is left: the room
// stays joined until LeaveRoom.
type RemoveBookmark struct{ Room string }

// FetchBookmarks reads the bookmarks from the server again: the answer is
// a BookmarksChanged with Reset. It joins nothing.
type FetchBookmarks struct{}

func (SetBookmark) isCommand()    {}
func (RemoveBookmark) isCommand() {}
func (FetchBookmarks) isCommand() {}

// bookmarksFailed brings a FetchBookmarks whose read could not finish
// (no answer in time, the session ended) back to Run's goroutine, to be
// answered there under its first ID; under ID 0, it is the read at login,
// reported as a notice.
type bookmarksFailed struct {
	cmd Command
	err error
}

func (bookmarksFailed) isCommand() {}

// answerFailed gives a bookmarksFailed its answer. Run's goroutine.
func (c *Client) answerFailed(ctx context.Context, id uint64, f bookmarksFailed) {
	if id == 0 {
		c.emit(ctx, Notice{Text: "could not read your bookmarks (no rooms joined from them): " + f.err.Error()})
		return
	}
	c.emit(ctx, CommandFailed{ID: id, Command: f.cmd, Err: fmt.Errorf("could not read the bookmarks: %w", f.err)})
}

// bmStore is where a session keeps the bookmarks.
type bmStore int

const (
	bmUnknown bmStore = iota
	bmPEP             // XEP-0402
	bmPrivate         // XEP-0048 in private XML storage
)

// bookmarkState is what the client knows of the bookmarks. Guarded by
// Client.state.
type bookmarkState struct {
	sess  *xmpp.Session // the session store was found for
	store bmStore
	list  map[string]Bookmark
	// loaded: a login of this run has read the bookmarks.
	loaded bool
	// joining are rooms an autojoin is asking about (disco#info) before
	// it sends the join.
	joining map[string]bool
}

// translateBookmarkEvent reads a PEP notification (XEP-0163) about the
// bookmarks node; ok is false when ev is about another node. Only our own
// account publishes our bookmarks: from anyone else it is forged.
func translateBookmarkEvent(self Self, el, ev *xmpp.Element) (evs []Event, ok bool) {
	var items *xmpp.Element
	reset := false
	for _, c := range ev.ChildrenIn(NSPubSubEvent) {
		if c.Get("node") != NSBookmarks {
			continue
		}
		switch c.Name.Local {
		case "items":
			items = c
		case "purge", "delete":
			reset = true
		}
	}
	if items == nil && !reset {
		return nil, false
	}
	if !fromOwnAccount(self, el) {
		return []Event{Notice{Text: "dropped a change to your bookmarks from " + el.Get("from") + " (not your account)"}}, true
	}
	if reset {
		return []Event{BookmarksChanged{Reset: true}}, true
	}
	var out BookmarksChanged
	for _, c := range items.ChildrenIn(NSPubSubEvent) {
		switch c.Name.Local {
		case "item":
			if b, _, ok := parseBookmarkItem(c); ok {
				out.Bookmarks = append(out.Bookmarks, b)
			}
		case "retract":
			if room, ok := bookmarkRoom(c.Get("id")); ok {
				out.Removed = append(out.Removed, room)
			}
		}
	}
	if len(out.Bookmarks) == 0 && len(out.Removed) == 0 {
		return nil, true
	}
	sortBookmarks(out.Bookmarks)
	return []Event{out}, true
}

// bookmarkRoom validates a bookmark's room address.
func bookmarkRoom(s string) (string, bool) {
	room, err := BareJID(s)
	if err != nil {
		return "", false
	}
	j, _ := jid.Parse(room)
	return room, j.Localpart() != ""
}

// parseBookmarkItem reads a XEP-0402 <item/> (of a result or of a
// notification): its id is the room, its payload the conference element.
func parseBookmarkItem(it *xmpp.Element) (Bookmark, *xmpp.Element, bool) {
	room, ok := bookmarkRoom(it.Get("id"))
	conf := it.Child(NSBookmarks, "conference")
	if !ok || conf == nil {
		return Bookmark{}, nil, false
	}
	b := Bookmark{Room: room, Name: conf.Get("name"), Autojoin: isTrue(conf.Get("autojoin")),
		Nick: conf.ChildText(NSBookmarks, "nick"), Password: conf.ChildText(NSBookmarks, "password")}
	return b, conf.Child(NSBookmarks, "extensions"), true
}

// parseStorage reads XEP-0048 <storage/>: its conference elements.
func parseStorage(st *xmpp.Element) []Bookmark {
	var out []Bookmark
	for _, c := range st.ChildrenIn(NSStorageBookmarks) {
		if c.Name.Local != "conference" {
			continue
		}
		room, ok := bookmarkRoom(c.Get("jid"))
		if !ok {
			continue
		}
		out = append(out, Bookmark{Room: room, Name: c.Get("name"), Autojoin: isTrue(c.Get("autojoin")),
			Nick: c.ChildText(NSStorageBookmarks, "nick"), Password: c.ChildText(NSStorageBookmarks, "password")})
	}
	return out
}

// isTrue reads an XML Schema boolean.
func isTrue(s string) bool {
	s = strings.TrimSpace(s)
	return s == "true" || s == "1"
}

func sortBookmarks(bs []Bookmark) {
	sort.Slice(bs, func(i, j int) bool { return bs[i].Room < bs[j].Room })
}

// conferenceElement is a bookmark as a XEP-0402 payload (space
// NSBookmarks) or a XEP-0048 conference (NSStorageBookmarks, with its jid).
func conferenceElement(space string, b Bookmark, extensions *xmpp.Element) *xmpp.Element {
	el := xmpp.E(space, "conference")
	if space == NSStorageBookmarks {
		el.SetAttr("jid", b.Room)
	}
	if b.Name != "" {
		el.SetAttr("name", b.Name)
	}
	el.SetAttr("autojoin", fmt.Sprint(b.Autojoin))
	if b.Nick != "" {
		el.Add(xmpp.E(space, "nick").WithText(b.Nick))
	}
	if b.Password != "" {
		el.Add(xmpp.E(space, "password").WithText(b.Password))
	}
	if extensions != nil {
		el.Add(extensions)
	}
	return el
}

// publishOptions are the node settings XEP-0402 asks for: items kept, as
// many as there are bookmarks, none sent on subscribing, nobody but the
// account allowed to read them.
func publishOptions() *xmpp.Element {
	field := func(v, val string) *xmpp.Element {
		return xmpp.E(NSForms, "field", "var", v).Add(xmpp.E(NSForms, "value").WithText(val))
	}
	form := xmpp.E(NSForms, "x", "type", "submit").Add(
		xmpp.E(NSForms, "field", "var", "FORM_TYPE", "type", "hidden").Add(xmpp.E(NSForms, "value").WithText(NSPubSub+"#publish-options")),
		field("pubsub#persist_items", "true"),
		field("pubsub#max_items", "max"),
		field("pubsub#send_last_published_item", "never"),
		field("pubsub#access_model", "whitelist"),
	)
	return xmpp.E(NSPubSub, "publish-options").Add(form)
}

// bm returns the bookmark state, made on first use. Client.state held.
func (c *Client) bmState() *bookmarkState {
	if c.bm.list == nil {
		c.bm.list = map[string]Bookmark{}
		c.bm.joining = map[string]bool{}
	}
	return &c.bm
}

// readBookmarks reads the bookmarks and learns where this session keeps
// them: XEP-0402 where the server keeps it in step with XEP-0048
// (#compat); else XEP-0402 where there is PEP and the old store does not
// hold the user's bookmarks alone; else XEP-0048. The account's features
// and the XEP-0402 node are asked for at once (one round trip, not two).
//
// Nothing waits: done gets the answer on the reader goroutine, in stream
// order with the notifications, when the server answered (err nil); a
// failure to get one (no answer in time, the session ended) may come from
// any goroutine.
func (c *Client) readBookmarks(sess *xmpp.Session, done func([]Bookmark, bmStore, error)) {
	var mu sync.Mutex
	var info, items *xmpp.Element
	var infoErr, itemsErr error
	left := 2
	got := func(res *xmpp.Element, err error, into **xmpp.Element, intoErr *error) {
		mu.Lock()
		*into, *intoErr = res, err
		left--
		last := left == 0
		mu.Unlock()
		if last {
			c.bookmarksRead(sess, info, items, infoErr, itemsErr, done)
		}
	}
	c.sendIQ(sess, xmpp.E(xmpp.NSClient, "iq", "type", "get", "to", c.acct.JID.Bare().String()).Add(xmpp.E(NSDiscoInfo, "query")),
		func(res *xmpp.Element, err error) { got(res, err, &info, &infoErr) })
	c.sendIQ(sess, xmpp.E(xmpp.NSClient, "iq", "type", "get").Add(xmpp.E(NSPubSub, "pubsub").Add(xmpp.E(NSPubSub, "items", "node", NSBookmarks))),
		func(res *xmpp.Element, err error) { got(res, err, &items, &itemsErr) })
}

// sendIQ is SendIQFunc whose fn is called exactly once, also when the iq
// could not be sent.
func (c *Client) sendIQ(sess *xmpp.Session, iq *xmpp.Element, fn func(*xmpp.Element, error)) {
	var once sync.Once
	call := func(res *xmpp.Element, err error) { once.Do(func() { fn(res, err) }) }
	if err := sess.SendIQFunc(iq, c.opts.IQTimeout, call); err != nil {
		call(nil, err)
	}
}

// answered reports whether err is an answer from the server (none, or an
// error it sent), which comes on the reader goroutine.
func answered(err error) bool {
	var se *xmpp.StanzaError
	return err == nil || errors.As(err, &se)
}

// bookmarksRead goes on from the answers to readBookmarks's two queries.
func (c *Client) bookmarksRead(sess *xmpp.Session, info, items *xmpp.Element, infoErr, itemsErr error, done func([]Bookmark, bmStore, error)) {
	if !answered(infoErr) {
		done(nil, bmUnknown, infoErr)
		return
	}
	compat, pep := false, false
	for _, f := range info.Child(NSDiscoInfo, "query").ChildrenIn(NSDiscoInfo) {
		switch {
		case f.Name.Local == "feature" && f.Get("var") == NSBookmarksCompat:
			compat = true
		case f.Name.Local == "identity" && f.Get("category") == "pubsub" && f.Get("type") == "pep":
			pep = true
		}
	}
	var list []Bookmark
	if compat || pep {
		var se *xmpp.StanzaError
		switch {
		case itemsErr == nil:
			for _, it := range items.Child(NSPubSub, "pubsub").Child(NSPubSub, "items").ChildrenIn(NSPubSub) {
				if it.Name.Local != "item" {
					continue
				}
				if b, _, ok := parseBookmarkItem(it); ok {
					list = append(list, b)
				}
			}
		case errors.As(itemsErr, &se) && se.Condition == "item-not-found":
			// No node yet: no bookmarks.
		case compat || !answered(itemsErr):
			done(nil, bmUnknown, itemsErr)
			return
		}
		if compat || len(list) > 0 {
			sortBookmarks(list)
			done(list, bmPEP, nil)
			return
		}
	}
	c.sendIQ(sess, xmpp.E(xmpp.NSClient, "iq", "type", "get").Add(xmpp.E(NSPrivate, "query").Add(xmpp.E(NSStorageBookmarks, "storage"))),
		func(res *xmpp.Element, err error) {
			switch {
			case err == nil:
				list := parseStorage(res.Child(NSPrivate, "query").Child(NSStorageBookmarks, "storage"))
				sortBookmarks(list)
				if len(list) == 0 && pep {
					done(nil, bmPEP, nil) // nothing in either: new bookmarks go to XEP-0402
					return
				}
				done(list, bmPrivate, nil)
			case pep && answered(err):
				done(nil, bmPEP, nil)
			default:
				done(nil, bmUnknown, err)
			}
		})
}

// setBookmarks records the list read and where the session keeps it.
func (c *Client) setBookmarks(sess *xmpp.Session, list []Bookmark, store bmStore) {
	c.state.Lock()
	bm := c.bmState()
	bm.sess, bm.store = sess, store
	clear(bm.list)
	for _, b := range list {
		bm.list[b.Room] = b
	}
	c.state.Unlock()
	if n := c.saveBookmarks(); n != nil {
		c.deliver(n) // the reader goroutine: see the callers
	}
}

// loginBookmarks reads the bookmarks once a new session's initial
// presence is out, and joins the autojoin rooms. Reader goroutine.
func (c *Client) loginBookmarks(sess *xmpp.Session) {
	c.readBookmarks(sess, func(list []Bookmark, store bmStore, err error) {
		if err != nil {
			if !errors.Is(err, net.ErrClosed) {
				c.requeue(0, bookmarksFailed{err: err})
			} // else the next session reads them
			return
		}
		c.state.Lock()
		bm := c.bmState()
		first, before := !bm.loaded, maps.Clone(bm.list)
		bm.loaded = true
		c.state.Unlock()
		c.setBookmarks(sess, list, store)
		c.deliver(BookmarksChanged{Bookmarks: list, Reset: true})
		// The first login of the run joins every autojoin room; a later
		// one (after a lost connection) only those whose bookmark became
		// autojoin meanwhile: the rooms gab was in are joined again
		// anyway (rejoinRooms), and one the user left stays left.
		var join []Bookmark
		for _, b := range list {
			if b.Autojoin && (first || !before[b.Room].Autojoin) {
				join = append(join, b)
			}
		}
		c.autojoin(sess, join, c.deliver)
	})
}

// fetchBookmarksCmd starts a FetchBookmarks; its answer comes with the
// list, from the reader, or through bookmarksFailed.
func (c *Client) fetchBookmarksCmd(sess *xmpp.Session, id uint64, cmd FetchBookmarks) {
	c.readBookmarks(sess, func(list []Bookmark, store bmStore, err error) {
		if err != nil {
			c.requeue(id, bookmarksFailed{cmd: cmd, err: err})
			return
		}
		c.setBookmarks(sess, list, store)
		c.deliver(BookmarksChanged{Bookmarks: list, Reset: true})
		c.deliver(CommandDone{ID: id, Command: cmd})
	})
}

// runBookmarks carries out the bookmark commands on Run's goroutine.
func (c *Client) runBookmarks(ctx context.Context, sess *xmpp.Session, cmd Command) error {
	switch cmd := cmd.(type) {
	case SetBookmark:
		b := cmd.Bookmark
		room, ok := bookmarkRoom(b.Room)
		if !ok {
			return fmt.Errorf("%q is not a room address (room@service)", b.Room)
		}
		b.Room, b.Nick, b.Name = room, strings.TrimSpace(b.Nick), strings.TrimSpace(b.Name)
		if b.Nick != "" {
			j, _ := jid.Parse(room)
			if _, err := jid.New(j.Localpart(), j.Domainpart(), b.Nick); err != nil {
				return fmt.Errorf("%q cannot be a nick: %v", b.Nick, err)
			}
		}
		store, err := c.bookmarkStore(ctx, sess)
		if err != nil {
			return err
		}
		if store == bmPEP {
			var ext *xmpp.Element
			ext, err = c.bookmarkExtensions(ctx, sess, room)
			if err != nil {
				return fmt.Errorf("could not read the bookmark to change it: %w", err)
			}
			item := xmpp.E(NSPubSub, "item", "id", room).Add(conferenceElement(NSBookmarks, b, ext))
			_, err = c.iq(ctx, sess, "set", xmpp.E(NSPubSub, "pubsub").Add(
				xmpp.E(NSPubSub, "publish", "node", NSBookmarks).Add(item), publishOptions()))
		} else {
			err = c.rewriteStorage(ctx, sess, room, &b)
		}
		if err != nil {
			return fmt.Errorf("the server did not keep the bookmark: %w", err)
		}
		c.bookmarksApplied(sess, BookmarksChanged{Bookmarks: []Bookmark{b}}, func(ev Event) { c.emit(ctx, ev) })
		return nil
	case RemoveBookmark:
		room, ok := bookmarkRoom(cmd.Room)
		if !ok {
			return fmt.Errorf("%q is not a room address (room@service)", cmd.Room)
		}
		store, err := c.bookmarkStore(ctx, sess)
		if err != nil {
			return err
		}
		c.state.Lock()
		_, known := c.bmState().list[room]
		c.state.Unlock()
		if !known {
			return fmt.Errorf("there is no bookmark for %s", room)
		}
		if store == bmPEP {
			// notify: without it the server tells no other device.
			_, err = c.iq(ctx, sess, "set", xmpp.E(NSPubSub, "pubsub").Add(
				xmpp.E(NSPubSub, "retract", "node", NSBookmarks, "notify", "true").Add(xmpp.E(NSPubSub, "item", "id", room))))
		} else {
			err = c.rewriteStorage(ctx, sess, room, nil)
		}
		if err != nil {
			return fmt.Errorf("the server did not remove the bookmark: %w", err)
		}
		c.bookmarksApplied(sess, BookmarksChanged{Removed: []string{room}}, func(ev Event) { c.emit(ctx, ev) })
		return nil
	}
	return errors.New("unknown command")
}

// bookmarkExtensions reads the <extensions/> of room's XEP-0402 bookmark
// as the server has it now, nil if none: what other clients keep there
// stays when gab rewrites the bookmark, as the XEP asks.
func (c *Client) bookmarkExtensions(ctx context.Context, sess *xmpp.Session, room string) (*xmpp.Element, error) {
	res, err := c.iq(ctx, sess, "get", xmpp.E(NSPubSub, "pubsub").Add(
		xmpp.E(NSPubSub, "items", "node", NSBookmarks).Add(xmpp.E(NSPubSub, "item", "id", room))))
	var se *xmpp.StanzaError
	if errors.As(err, &se) && se.Condition == "item-not-found" {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	for _, it := range res.Child(NSPubSub, "pubsub").Child(NSPubSub, "items").ChildrenIn(NSPubSub) {
		if b, x, ok := parseBookmarkItem(it); ok && it.Name.Local == "item" && b.Room == room {
			return x, nil
		}
	}
	return nil, nil
}

// bookmarkStore is where this session keeps bookmarks, learnt by reading
// them if no read in this session has yet.
func (c *Client) bookmarkStore(ctx context.Context, sess *xmpp.Session) (bmStore, error) {
	c.state.Lock()
	bm := c.bmState()
	store := bm.store
	if bm.sess != sess {
		store = bmUnknown
	}
	c.state.Unlock()
	if store != bmUnknown {
		return store, nil
	}
	// Not read in this session yet (the read at login is under way, or
	// failed): read them now, and wait.
	type read struct {
		store bmStore
		err   error
	}
	ch := make(chan read, 1)
	c.readBookmarks(sess, func(list []Bookmark, store bmStore, err error) {
		if err == nil {
			c.setBookmarks(sess, list, store)
			c.deliver(BookmarksChanged{Bookmarks: list, Reset: true})
		}
		ch <- read{store, err}
	})
	select {
	case r := <-ch:
		if r.err != nil {
			return bmUnknown, fmt.Errorf("could not read the bookmarks: %w", r.err)
		}
		return r.store, nil
	case <-ctx.Done():
		return bmUnknown, ctx.Err()
	}
}

// rewriteStorage changes the bookmark for room in XEP-0048 storage (b nil
// removes it) and writes the whole storage back, as that protocol
// requires: read just before, so what other clients wrote since, and
// what gab does not know (URL bookmarks), stays.
func (c *Client) rewriteStorage(ctx context.Context, sess *xmpp.Session, room string, b *Bookmark) error {
	res, err := c.iq(ctx, sess, "get", xmpp.E(NSPrivate, "query").Add(xmpp.E(NSStorageBookmarks, "storage")))
	if err != nil {
		return err
	}
	st := xmpp.E(NSStorageBookmarks, "storage")
	old := res.Child(NSPrivate, "query").Child(NSStorageBookmarks, "storage")
	if old != nil {
		for _, el := range old.Children {
			if el.Is(NSStorageBookmarks, "conference") {
				if r, ok := bookmarkRoom(el.Get("jid")); ok && r == room {
					continue
				}
			}
			st.Add(el)
		}
	}
	if b != nil {
		st.Add(conferenceElement(NSStorageBookmarks, *b, nil))
	}
	if _, err := c.iq(ctx, sess, "set", xmpp.E(NSPrivate, "query").Add(st)); err != nil {
		return err
	}
	// What was read is the list now (other clients may have changed it);
	// the change itself is applied by the caller.
	c.state.Lock()
	bm := c.bmState()
	clear(bm.list)
	for _, o := range parseStorage(old) {
		bm.list[o.Room] = o
	}
	c.state.Unlock()
	return nil
}

// bookmarksApplied records a change to the bookmarks (a notification, or
// a command's own write), hands it on through out, and joins every room
// whose bookmark it made autojoin (new, or autojoin turned on) that gab is
// not in. A removed bookmark leaves nothing.
func (c *Client) bookmarksApplied(sess *xmpp.Session, e BookmarksChanged, out func(Event)) {
	var join []Bookmark
	c.state.Lock()
	bm := c.bmState()
	if e.Reset {
		clear(bm.list)
	}
	for _, r := range e.Removed {
		delete(bm.list, r)
	}
	for _, b := range e.Bookmarks {
		old, had := bm.list[b.Room]
		if b.Autojoin && (!had || !old.Autojoin) {
			join = append(join, b)
		}
		bm.list[b.Room] = b
	}
	c.state.Unlock()
	out(e)
	if n := c.saveBookmarks(); n != nil {
		out(n)
	}
	c.autojoin(sess, join, out)
}

// bookmarkEvent follows a notification about our bookmarks: in stream
// order with the answers to reads (see readBookmarks). Reader goroutine.
func (c *Client) bookmarkEvent(sess *xmpp.Session, e BookmarksChanged) {
	c.bookmarksApplied(sess, e, c.deliver)
}

// autojoin joins the rooms of bms that gab is not in nor joining, all at
// once: a room known from an earlier join is joined at once with what it
// offered then (as JoinRoom does); any other asks its room what it is
// (disco#info) with a callback, and sends its join when the answer is in,
// so no join waits for another's round trip. RoomJoining goes through out as each starts;
// the answers come as for JoinRoom, without a command.
func (c *Client) autojoin(sess *xmpp.Session, bms []Bookmark, out func(Event)) {
	for _, b := range bms {
		roomJID := b.Room
		nick := b.Nick
		if nick == "" {
			nick = c.acct.JID.Localpart()
		}
		j, _ := jid.Parse(roomJID)
		if _, err := jid.New(j.Localpart(), j.Domainpart(), nick); err != nil {
			out(Notice{Text: fmt.Sprintf("not joining %s from your bookmarks: %q cannot be a nick there", roomJID, nick)})
			continue
		}
		c.state.Lock()
		bm := c.bmState()
		_, in := c.rooms[roomJID]
		skip := in || bm.joining[roomJID]
		if !skip {
			bm.joining[roomJID] = true
		}
		c.state.Unlock()
		if skip {
			continue
		}
		out(RoomJoining{Room: roomJID, Nick: nick})
		password := b.Password
		if info, known := c.storedRoomInfo(context.Background(), roomJID); known {
			// Joined before: at once, with what it offered then (asked
			// again once in, as for JoinRoom).
			c.state.Lock()
			delete(c.bm.joining, roomJID)
			if _, in := c.rooms[roomJID]; in {
				c.state.Unlock() // joined meanwhile (JoinRoom)
				continue
			}
			r := &mucRoom{nick: nick, password: password, state: mucJoining, archive: info.archive, name: info.name, relearn: true}
			c.rooms[roomJID] = r
			el := c.joinPresence(roomJID, r)
			c.state.Unlock()
			sess.Send(el)
			continue
		}
		done := func() {
			c.state.Lock()
			delete(c.bm.joining, roomJID)
			c.state.Unlock()
		}
		iq := xmpp.E(xmpp.NSClient, "iq", "type", "get", "to", roomJID).Add(xmpp.E(NSDiscoInfo, "query"))
		err := sess.SendIQFunc(iq, c.opts.IQTimeout, func(res *xmpp.Element, err error) {
			if errors.Is(err, net.ErrClosed) {
				done() // the session ended: the next one joins again
				return
			}
			info := parseRoomInfo(res) // an error or no answer: nothing known
			if err == nil {
				c.storeFailed(c.rememberRoom(context.Background(), roomJID, info)) // an answer: on the reader goroutine
			}
			c.state.Lock()
			delete(c.bm.joining, roomJID)
			if _, in := c.rooms[roomJID]; in {
				c.state.Unlock() // joined meanwhile (JoinRoom)
				return
			}
			r := &mucRoom{nick: nick, password: password, state: mucJoining, archive: info.archive, name: info.name}
			c.rooms[roomJID] = r
			el := c.joinPresence(roomJID, r)
			c.state.Unlock()
			sess.Send(el)
		})
		if err != nil {
			done()
		}
	}
}
