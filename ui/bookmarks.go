package ui

import (
	"sort"
	"strings"

	"github.com/gab-chat/gab/chat"
)

// Bookmarks (XEP-0402, or XEP-0048 on older servers): rooms kept on the
// server, shown in the contact list's Rooms group whether or not we are in
// them; the client joins those marked autojoin at login.

// applyBookmarks follows the account's bookmarks: a Reset replaces them,
// otherwise the ones given changed and Removed are gone. A bookmarked room
// is listed among the rooms; a room that is no longer bookmarked, that we
// are not in and whose tab is closed leaves the list.
func (s *State) applyBookmarks(a *Account, account string, e chat.BookmarksChanged) {
	if e.Reset || a.Bookmarks == nil {
		old := a.Bookmarks
		a.Bookmarks = map[string]chat.Bookmark{}
		for jid := range old {
			e.Removed = append(e.Removed, jid)
		}
	}
	for _, b := range e.Bookmarks {
		a.Bookmarks[b.Room] = b
		nick := b.Nick
		if nick == "" {
			nick = a.defaultNick()
		}
		r := a.rooms().Add(b.Room, nick)
		if b.Password != "" && r.Password == "" {
			r.Password = b.Password
		}
	}
	kept := map[string]bool{}
	for _, b := range e.Bookmarks {
		kept[b.Room] = true
	}
	for _, jid := range e.Removed {
		if kept[jid] {
			continue
		}
		delete(a.Bookmarks, jid)
		r := a.rooms().Get(jid)
		if c, _ := s.Find(account, chat.RoomConv(jid)); r != nil && !r.State.In() && c == nil {
			a.rooms().Remove(jid)
		}
	}
}

// roomName is how a room is named in the contact list: its bookmark's name
// where it has one, else its address. Remote text.
func (a *Account) roomName(jid string) string {
	if b, ok := a.Bookmarks[jid]; ok && strings.TrimSpace(b.Name) != "" {
		return b.Name
	}
	return jid
}

// openRoom is Enter on a room in the contact list: a room we are not in is
// joined (with its bookmark's nick and password), then its tab opens.
func (a *App) openRoom(account, jid string) {
	acct := a.state.Account(account)
	if acct == nil {
		return
	}
	r := acct.rooms().Get(jid)
	if r == nil || r.State.In() || acct.Client == nil {
		a.openConv(account, chat.RoomConv(jid))
		return
	}
	nick, password := r.Nick, r.Password
	if b, ok := acct.Bookmarks[jid]; ok {
		if b.Nick != "" {
			nick = b.Nick
		}
		if b.Password != "" {
			password = b.Password
		}
	}
	if nick == "" {
		nick = acct.defaultNick()
	}
	a.joinRoom(acct, jid, nick, password, false)
}

// bookmarkCommand is /bookmark [autojoin on|off] and /bookmark remove, in
// a room's tab: it keeps the room (with our nick there and its password)
// on the server, by default to be joined whenever gab starts.
func (a *App) bookmarkCommand(acct *Account, rest string) {
	fail := func(format string, v ...any) { a.state.SetStatus(true, format, v...) }
	c := a.state.Current()
	if c.Conv.Kind != chat.KindRoom {
		fail("/bookmark works in a room's tab")
		return
	}
	jid := c.Conv.JID
	args := strings.Fields(strings.ToLower(rest))
	switch {
	case len(args) == 1 && args[0] == "remove":
		if _, ok := acct.Bookmarks[jid]; !ok {
			fail("%s has no bookmark", roomText(jid))
			return
		}
		acct.Client.Do(chat.RemoveBookmark{Room: jid})
		return
	case len(args) == 0, len(args) == 2 && args[0] == "autojoin" && (args[1] == "on" || args[1] == "off"):
	default:
		fail("usage: /bookmark [autojoin on|off] or /bookmark remove")
		return
	}
	b := acct.Bookmarks[jid]
	b.Room, b.Autojoin = jid, len(args) == 0 || args[1] == "on"
	if r := acct.rooms().Get(jid); r != nil {
		if r.Nick != "" && r.Nick != acct.defaultNick() {
			b.Nick = r.Nick
		}
		if r.Password != "" {
			b.Password = r.Password
		}
	}
	acct.Client.Do(chat.SetBookmark{Bookmark: b})
}

// bookmarksDialog is /bookmarks: the account's bookmarked rooms to pick
// from; Enter joins the one chosen.
func (a *App) bookmarksDialog(acct *Account) {
	if len(acct.Bookmarks) == 0 {
		a.state.SetStatus(false, "no bookmarks: /bookmark in a room's tab keeps one")
		return
	}
	items := make([]chat.RoomItem, 0, len(acct.Bookmarks))
	for jid, b := range acct.Bookmarks {
		name := b.Name
		if b.Autojoin {
			name = strings.TrimSpace(name + " (autojoin)")
		}
		items = append(items, chat.RoomItem{JID: jid, Name: name})
	}
	sort.Slice(items, func(i, j int) bool { return items[i].JID < items[j].JID })
	a.roomPicker(acct.Name, items, "bookmarks", func(jid string) { a.openRoom(acct.Name, jid) })
}

// bookmarkDone says what a bookmark command did.
func (a *App) bookmarkDone(cmd chat.Command) bool {
	switch c := cmd.(type) {
	case chat.SetBookmark:
		how := "joined whenever gab starts"
		if !c.Autojoin {
			how = "not joined by itself"
		}
		a.state.SetStatus(false, "bookmarked %s (%s)", roomText(c.Room), how)
	case chat.RemoveBookmark:
		a.state.SetStatus(false, "removed the bookmark of %s", roomText(c.Room))
	default:
		return false
	}
	return true
}

// bookmarkCommandName says what a bookmark command was doing, for "could
// not …".
func bookmarkCommandName(c chat.Command) (string, bool) {
	switch c := c.(type) {
	case chat.SetBookmark:
		return "bookmark " + c.Room, true
	case chat.RemoveBookmark:
		return "remove the bookmark of " + c.Room, true
	case chat.FetchBookmarks:
		return "read your bookmarks", true
	}
	return "", false
}
