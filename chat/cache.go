package chat

import (
	"context"
	"errors"
	"maps"
	"slices"

	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/roster"
)

// The roster and the bookmarks are kept in the store between runs, so
// that the contact list (with the bookmarked rooms) is drawn the moment
// gab starts, before the server has answered, and so that login asks for
// the roster by version (XEP-0237): an unchanged roster then costs an
// empty answer. The server stays the authority: what it sends replaces
// the saved list, and every roster push is saved in the order applied.

// restoreCache emits the roster and bookmarks saved by the last run, as
// Cached events, and takes the roster (and its version) as the one held.
// A saved roster that cannot be read is dropped, so that login fetches it
// whole and saves it anew; one notice says so. Run's goroutine, before
// the first connection.
func (c *Client) restoreCache(ctx context.Context) {
	st := c.opts.Store
	if st == nil || c.restored {
		return
	}
	c.restored = true
	own, err := c.ownCache(ctx)
	if err != nil {
		c.emit(ctx, Notice{Text: "could not read the saved contact list: " + err.Error() + "; it is fetched whole from the server and saved again"})
	}
	if !own {
		c.cacheStale = true
		return
	}
	items, ver, ok, err := st.Roster(ctx)
	c.cacheStale = !ok
	switch {
	case err != nil:
		text := "could not read the saved contact list: " + err.Error()
		if errors.Is(err, history.ErrRosterDamaged) {
			text = err.Error()
		}
		text += "; it is fetched whole from the server and saved again"
		if ferr := st.ForgetRoster(ctx); ferr != nil {
			text += " (it could not be cleared: " + ferr.Error() + ")"
		}
		c.emit(ctx, Notice{Text: text})
	case ok:
		out := make([]roster.Item, len(items))
		for i, it := range items {
			out[i] = roster.Item{JID: it.JID, Name: it.Name, Subscription: it.Subscription, Ask: it.Ask, Groups: it.Groups}
		}
		c.state.Lock()
		c.items, c.saved, c.ver = nil, out, ver
		c.state.Unlock()
		c.emit(ctx, RosterReset{Items: out, Version: ver, Cached: true})
	}
	bms, ok, err := st.Bookmarks(ctx)
	switch {
	case err != nil:
		c.emit(ctx, Notice{Text: "could not read the saved bookmarks: " + err.Error() + "; the server's list follows once connected"})
	case ok:
		out := make([]Bookmark, len(bms))
		for i, b := range bms {
			out[i] = Bookmark{Room: b.Room, Name: b.Name, Nick: b.Nick, Autojoin: b.Autojoin}
		}
		c.emit(ctx, BookmarksChanged{Bookmarks: out, Reset: true, Cached: true})
	}
}

// itemsLocked is the roster held, made from the saved one on first use.
// c.state must be held.
func (c *Client) itemsLocked() map[string]roster.Item {
	if c.saved != nil {
		c.items = make(map[string]roster.Item, len(c.saved))
		for _, it := range c.saved {
			c.items[it.JID] = it
		}
		c.saved = nil
	}
	return c.items
}

// metaCacheOwner names the account (bare JID) whose roster and
// bookmarks the store keeps.
const metaCacheOwner = "roster.account"

// ownCache reports whether what the store keeps is this account's. An
// account file given another address keeps its store (named after the
// file): the roster saved there is another account's, and its version,
// sent to the new account's server, may well be that roster's current
// one too (Prosody counts versions from 1), which would confirm the
// wrong list. So another account's roster and bookmarks are dropped,
// and the store marked as this account's. Run's goroutine, before the
// first connection.
func (c *Client) ownCache(ctx context.Context) (bool, error) {
	st, me := c.opts.Store, c.acct.JID.Bare().String()
	owner, err := st.Meta(ctx, metaCacheOwner)
	if err != nil || owner == me {
		return err == nil, err
	}
	if owner != "" {
		// Another's: dropped before the store is marked as ours, so what
		// is saved under our mark is ours. A failure: again next start.
		if err := st.ForgetRoster(ctx); err != nil {
			return false, err
		}
		if err := st.SaveBookmarks(ctx, nil); err != nil {
			return false, err
		}
	}
	if err := st.SetMeta(ctx, metaCacheOwner, me); err != nil {
		return false, err
	}
	return owner == "", nil
}

// Restore emits the roster and bookmarks saved by the last run at once,
// as Run does first otherwise: called before Run (never while it runs),
// the events wait in Events for the interface to draw in its first frame.
func (c *Client) Restore(ctx context.Context) { c.restoreCache(ctx) }

// storeItem is a roster item as the store keeps it.
func storeItem(it roster.Item) history.RosterItem {
	sub := it.Subscription
	if sub == "" {
		sub = roster.SubNone
	}
	return history.RosterItem{JID: it.JID, Name: it.Name, Subscription: sub, Ask: it.Ask, Groups: it.Groups}
}

// saveRoster saves a full roster from the server, unless it is what was
// held already (a server without versioning sends it whole every time).
// It returns a notice for the user when the store failed, else nil.
func (c *Client) saveRoster(ctx context.Context, old map[string]roster.Item, oldVer string, items []roster.Item, ver string) Event {
	st := c.opts.Store
	if st == nil {
		return nil
	}
	if ver == oldVer && len(old) == len(items) && !c.cacheStale && allHeld(old, items) {
		return nil
	}
	rows := make([]history.RosterItem, len(items))
	for i, it := range items {
		rows[i] = storeItem(it)
	}
	if err := st.SaveRoster(ctx, rows, ver); err != nil {
		// What is saved is older than the roster held: no push may be
		// saved onto it with a newer version (see savePush).
		c.cacheStale = true
		return Notice{Text: "could not save the contact list for the next start: " + err.Error()}
	}
	c.cacheStale = false
	return nil
}

// allHeld reports whether every item is in old, unchanged.
func allHeld(old map[string]roster.Item, items []roster.Item) bool {
	for _, it := range items {
		o, ok := old[it.JID]
		if !ok || o.Name != it.Name || o.Subscription != it.Subscription || o.Ask != it.Ask || !slices.Equal(o.Groups, it.Groups) {
			return false
		}
	}
	return true
}

// savePush saves a roster push as applied to the roster held, with its
// version. Reader goroutine, in stream order. A failure leaves the saved
// roster as it was, at its own (older) version: still a true picture of
// the roster at that version, which the next login brings up to date.
// So from then on no push is saved onto it (the next would carry the
// saved roster to its version without the change that failed), until a
// whole roster is saved again (see fetchRoster).
func (c *Client) savePush(ctx context.Context, e RosterPushed) {
	st := c.opts.Store
	if st == nil || c.cacheStale {
		return
	}
	if err := st.PushRoster(ctx, storeItem(e.Item), e.Item.Subscription == "remove", e.Version); err != nil {
		c.cacheStale = true
		c.deliver(Notice{Text: "could not save a change to the contact list for the next start: " + err.Error()})
	}
}

// saveBookmarks saves the bookmarks held (without passwords). It returns
// a notice for the user when the store failed, else nil.
func (c *Client) saveBookmarks() Event {
	st := c.opts.Store
	if st == nil {
		return nil
	}
	c.bmSaving.Lock()
	defer c.bmSaving.Unlock()
	c.state.Lock()
	list := slices.Collect(maps.Values(c.bmState().list))
	c.state.Unlock()
	rows := make([]history.Bookmark, len(list))
	for i, b := range list {
		rows[i] = history.Bookmark{Room: b.Room, Name: b.Name, Nick: b.Nick, Autojoin: b.Autojoin}
	}
	if err := st.SaveBookmarks(context.Background(), rows); err != nil {
		return Notice{Text: "could not save the bookmarks for the next start: " + err.Error()}
	}
	return nil
}
