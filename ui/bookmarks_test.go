package ui

import (
	"strings"
	"testing"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/room"
	"github.com/gdamore/tcell/v2"
)

// Bookmarked rooms are listed among the rooms whether or not we are in
// them, by their bookmark's name (as text); Enter on one we are not in
// joins it with the bookmark's nick and password; a removed bookmark of a
// room we are not in, whose tab is closed, leaves the list.
func TestBookmarkedRoomsInTheContactList(t *testing.T) {
	h := newHarness(t, 120, 24)
	h.send(chat.BookmarksChanged{Reset: true, Bookmarks: []chat.Bookmark{
		{Room: tea, Name: "Tea [red]room[-]", Nick: "ada2", Password: "pw", Autojoin: true},
		{Room: "coffee@rooms.x"},
		{Room: "scones@rooms.x"},
	}})
	h.waitFor("Rooms", "○ Tea [red]room[-]", "○ coffee@rooms.x", "○ scones@rooms.x")
	h.roomUI(func() { h.app.openRoom("me", tea) })
	h.waitCommand("the join", func(c chat.Command) bool { return c == chat.JoinRoom{Room: tea, Nick: "ada2", Password: "pw"} })
	h.roomUI(func() { h.app.openRoom("me", "coffee@rooms.x") })
	h.waitCommand("the second join", func(c chat.Command) bool { return c == chat.JoinRoom{Room: "coffee@rooms.x", Nick: "me"} })
	h.waitFor("3:coffee@rooms.x")
	h.send(chat.BookmarksChanged{Removed: []string{"coffee@rooms.x", "scones@rooms.x"}})
	h.waitUntil("scones to leave the list", func(ls []string) bool {
		return !strings.Contains(strings.Join(ls, "\n"), "scones@rooms.x")
	})
	h.waitFor("coffee@rooms.x") // its tab is open: it stays
}

// /bookmark keeps this room (our nick in it when it is not the default)
// to be joined at every start; autojoin off keeps it only; remove removes
// it; /bookmarks lists them to join from.
func TestBookmarkCommands(t *testing.T) {
	h := newHarness(t, 120, 24)
	h.command("/bookmark")
	h.waitFor("/bookmark works in a room's tab")
	h.joinTea(occ("bob", room.Participant))
	h.command("/bookmark")
	h.waitCommand("the bookmark", func(c chat.Command) bool {
		return c == chat.SetBookmark{Bookmark: chat.Bookmark{Room: tea, Nick: "ada", Autojoin: true}}
	})
	h.send(chat.CommandDone{ID: 1, Command: chat.SetBookmark{Bookmark: chat.Bookmark{Room: tea, Nick: "ada", Autojoin: true}}})
	h.waitFor("bookmarked tea@rooms.x (joined whenever gab starts)")
	h.command("/bookmark remove")
	h.waitFor("tea@rooms.x has no bookmark")
	h.send(chat.BookmarksChanged{Bookmarks: []chat.Bookmark{{Room: tea, Name: "Tea", Nick: "ada", Autojoin: true}}})
	h.command("/bookmark autojoin off")
	h.waitCommand("autojoin off", func(c chat.Command) bool {
		return c == chat.SetBookmark{Bookmark: chat.Bookmark{Room: tea, Name: "Tea", Nick: "ada", Autojoin: false}}
	})
	h.command("/bookmark sometimes")
	h.waitFor("usage: /bookmark [autojoin on|off] or /bookmark remove")
	h.command("/bookmark remove")
	h.waitCommand("the removal", func(c chat.Command) bool { return c == chat.RemoveBookmark{Room: tea} })

	h.send(chat.BookmarksChanged{Bookmarks: []chat.Bookmark{{Room: "coffee@rooms.x", Name: "Coffee", Autojoin: true}}})
	h.command("/bookmarks")
	h.waitFor("bookmarks — Enter joins", "Coffee (autojoin)  coffee@rooms.x")
	h.typeText("coff")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitCommand("the join from the list", func(c chat.Command) bool { return c == chat.JoinRoom{Room: "coffee@rooms.x", Nick: "me"} })
}
