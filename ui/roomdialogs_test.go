package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/uniseg"
)

// roomUI runs f on the UI goroutine as an event would be applied (a draw
// follows) and waits until it has run.
func (h *harness) roomUI(f func()) {
	h.t.Helper()
	done := make(chan struct{})
	h.app.post(func() { f(); close(done) })
	select {
	case <-done:
	case <-time.After(xmpptest.Timeout(xmpptest.Local)):
		h.t.Fatal("UI goroutine did not run the function")
	}
}

// roomEvent hands ev to the room dialogs' hook, as the App will.
func (h *harness) roomEvent(ev chat.Event) {
	h.t.Helper()
	h.roomUI(func() { h.app.roomDialogEvent("me", ev) })
}

// sentinel shows a status message and waits for it: whatever was applied
// before it has been drawn.
func (h *harness) sentinel(text string) []string {
	h.t.Helper()
	h.roomUI(func() { h.app.state.SetStatus(false, "%s", text) })
	return h.waitFor(text)
}

// noRedCells fails if any cell on the screen took the colour red.
func (h *harness) noRedCells() {
	h.t.Helper()
	var cells []tcell.SimCell
	var w int
	h.onUI(func() {
		c, cw, _ := h.screen.GetContents()
		cells, w = append([]tcell.SimCell(nil), c...), cw
	})
	for i, c := range cells {
		if fg, _, _ := c.Style.Decompose(); fg == tcell.ColorRed {
			h.t.Fatalf("cell %d,%d (%q) turned red", i%w, i/w, string(c.Runes))
		}
	}
}

// fitsScreen fails if a line is wider than w cells or shows a control or
// a bidi override.
func fitsScreen(t *testing.T, ls []string, w int) {
	t.Helper()
	all := strings.Join(ls, "\n")
	for _, l := range ls {
		if uniseg.StringWidth(l) > w {
			t.Fatalf("line wider than %d cells: %q", w, l)
		}
	}
	for _, bad := range []string{"\x1b", "\u009b", "\u202E", "\u2066"} {
		if strings.Contains(all, bad) {
			t.Fatalf("%q reached the screen:\n%s", bad, all)
		}
	}
}

func TestRoomListInertJoinsAndCloses(t *testing.T) {
	h := newHarness(t, 80, 24)
	listed := chat.RoomsListed{Service: "conference.x", Rooms: []chat.RoomItem{
		{JID: "alpha@conference.x", Name: "[red]Alpha[-]\x1b[2J\u202Eevil"},
		{JID: "beta@conference.x", Name: "Beta lounge"},
		{JID: "gamma@conference.x"},
	}}
	// A list nobody asked for is not shown.
	h.roomEvent(listed)
	ls := h.sentinel("sentinel one")
	if strings.Contains(strings.Join(ls, "\n"), "public rooms") {
		t.Fatalf("a list nobody asked for opened:\n%s", strings.Join(ls, "\n"))
	}

	h.roomUI(func() { h.app.cmdRooms(nil) })
	h.waitCommands(chat.ListRooms{})
	h.roomEvent(listed)
	ls = h.waitFor("3 public rooms on conference.x", "[red]Alpha[-]\uFFFD[2J\uFFFDevil  alpha@conference.x", "Beta lounge  beta@conference.x", "gamma@conference.x")
	fitsScreen(t, ls, 80)
	h.noRedCells()

	// Type to filter, Enter joins the room picked.
	h.typeText("lounge")
	h.waitUntil("the filter to leave Beta alone", func(ls []string) bool {
		all := strings.Join(ls, "\n")
		return strings.Contains(all, "Beta lounge") && !strings.Contains(all, "gamma@")
	})
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.gone("public rooms on")
	h.waitCommands(chat.ListRooms{}, chat.JoinRoom{Room: "beta@conference.x", Nick: "me"})

	// Down moves the selection; Esc closes without joining.
	h.roomUI(func() { h.app.cmdRooms([]string{"rooms.example"}) })
	h.roomEvent(chat.RoomsListed{Service: "rooms.example", Rooms: listed.Rooms})
	h.waitFor("3 public rooms on rooms.example")
	h.key(tcell.KeyDown, 0, tcell.ModNone)
	h.key(tcell.KeyEscape, 0, tcell.ModNone)
	h.gone("public rooms on")
	h.sentinel("sentinel two")
	h.waitCommands(chat.ListRooms{}, chat.JoinRoom{Room: "beta@conference.x", Nick: "me"}, chat.ListRooms{Service: "rooms.example"})
	h.typeText("back in the composer")
	h.waitFor("> back in the composer")

	// An empty list is a word in the status line, not a dialog.
	h.roomUI(func() { h.app.cmdRooms(nil) })
	h.roomEvent(chat.RoomsListed{Service: "empty.x"})
	h.waitFor("no public rooms on empty.x")
}

func TestRoomListDownThenEnter(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.roomUI(func() { h.app.cmdRooms(nil) })
	h.roomEvent(chat.RoomsListed{Service: "c.x", Rooms: []chat.RoomItem{{JID: "a@c.x"}, {JID: "b@c.x"}}})
	h.waitFor("2 public rooms on c.x")
	h.key(tcell.KeyDown, 0, tcell.ModNone)
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitCommands(chat.ListRooms{}, chat.JoinRoom{Room: "b@c.x", Nick: "me"})
}

// configForm has a field of each kind.
func configForm() chat.Form {
	return chat.Form{
		Title:        "Configuration for room@c.x",
		Instructions: "Complete this form to change the room.",
		Fields: []chat.FormField{
			{Var: "FORM_TYPE", Type: "hidden", Values: []string{"http://jabber.org/protocol/muc#roomconfig"}},
			{Type: "fixed", Values: []string{"General settings"}},
			{Var: "muc#roomconfig_roomname", Type: "text-single", Label: "Title", Values: []string{"Old name"}},
			{Var: "muc#roomconfig_persistentroom", Type: "boolean", Label: "Persistent", Values: []string{"0"}, Desc: "Keep the room when the last occupant leaves"},
			{Var: "muc#roomconfig_publicroom", Type: "boolean", Label: "Public", Values: []string{"1"}},
			{Var: "muc#roomconfig_roomsecret", Type: "text-private", Label: "Password", Values: []string{"hunter2"}},
			{Var: "muc#roomconfig_whois", Type: "list-single", Label: "Who sees JIDs", Values: []string{"moderators"},
				Options: []chat.FormOption{{Label: "Moderators only", Value: "moderators"}, {Label: "Anyone", Value: "anyone"}}},
			{Var: "muc#roomconfig_presencebroadcast", Type: "list-multi", Label: "Broadcast", Values: []string{"moderator", "participant"},
				Options: []chat.FormOption{{Label: "Moderator", Value: "moderator"}, {Label: "Participant", Value: "participant"}, {Value: "visitor"}}},
			{Var: "muc#roomconfig_roomadmins", Type: "jid-multi", Label: "Admins", Values: []string{"a@x", "b@x"}},
			{Var: "muc#roomconfig_roomdesc", Type: "text-multi", Label: "Description", Values: []string{"line one", "line two"}},
		},
	}
}

func TestRoomConfigDialogSendsWhatChanged(t *testing.T) {
	h := newHarness(t, 80, 24)
	// Outside a room's tab, /config says where it works.
	h.roomUI(func() { h.app.cmdConfig() })
	h.waitFor("/config works in a room's tab")

	room := chat.RoomConv("room@c.x")
	h.roomUI(func() { h.app.openConv("me", room) })
	h.roomUI(func() { h.app.cmdConfig() })
	h.waitCommands(chat.FetchRoomConfig{Room: "room@c.x"})
	h.roomEvent(chat.RoomConfigForm{Room: "room@c.x", Form: configForm()})
	ls := h.waitFor("Configure room@c.x", "Configuration for room@c.x", "Complete this form",
		"General settings", "Title", "Old name", "Persistent", "Public", "Password", "*******",
		"Who sees JIDs", "Moderators only", "Broadcast: Moderator", "Broadcast: Participant", "Broadcast: visitor",
		"Admins (a, b)", "a@x, b@x", "Description (lines: a | b)", "line one | line two", "Save", "Cancel")
	fitsScreen(t, ls, 80)
	if strings.Contains(strings.Join(ls, "\n"), "hunter2") || strings.Contains(strings.Join(ls, "\n"), "FORM_TYPE") {
		t.Fatalf("a password or a hidden field is shown:\n%s", strings.Join(ls, "\n"))
	}
	// The focus is on the first field (the fixed line is passed over):
	// typing edits the title. Enter moves on and submits nothing.
	h.key(tcell.KeyCtrlU, 0, tcell.ModNone)
	h.typeText("New name")
	h.waitFor("New name")
	h.key(tcell.KeyEnter, 0, tcell.ModNone) // to Persistent
	h.waitFor("Keep the room when the last occupant leaves")
	h.typeText(" ")          // tick it
	for i := 0; i < 9; i++ { // Public … the last Broadcast box, Admins, Description, Save
		h.key(tcell.KeyTab, 0, tcell.ModNone)
	}
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.gone("Configure room@c.x")
	h.waitCommands(chat.FetchRoomConfig{Room: "room@c.x"}, chat.SubmitRoomConfig{Room: "room@c.x", Values: map[string][]string{
		"muc#roomconfig_roomname":       {"New name"},
		"muc#roomconfig_persistentroom": {"1"},
	}})

	// Cancel on a room that exists sends nothing.
	h.roomUI(func() { h.app.cmdConfig() })
	h.roomEvent(chat.RoomConfigForm{Room: "room@c.x", Form: configForm()})
	h.waitFor("Configure room@c.x")
	h.key(tcell.KeyEscape, 0, tcell.ModNone)
	h.gone("Configure room@c.x")
	h.sentinel("sentinel")
	h.waitCommands(chat.FetchRoomConfig{Room: "room@c.x"}, chat.SubmitRoomConfig{Room: "room@c.x", Values: map[string][]string{
		"muc#roomconfig_roomname":       {"New name"},
		"muc#roomconfig_persistentroom": {"1"},
	}}, chat.FetchRoomConfig{Room: "room@c.x"})

	// A form nobody asked for does not open.
	h.roomEvent(chat.RoomConfigForm{Room: "room@c.x", Form: configForm()})
	ls = h.sentinel("sentinel two")
	if strings.Contains(strings.Join(ls, "\n"), "Configure room@c.x") {
		t.Fatalf("a form nobody asked for opened:\n%s", strings.Join(ls, "\n"))
	}
}

func TestRoomConfigListAndMultiValues(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.roomUI(func() { h.app.openConv("me", chat.RoomConv("room@c.x")) })
	h.roomUI(func() { h.app.cmdConfig() })
	h.roomEvent(chat.RoomConfigForm{Room: "room@c.x", Form: configForm()})
	h.waitFor("Configure room@c.x")
	for i := 0; i < 4; i++ { // Title, Persistent, Public, Password → Who sees JIDs
		h.key(tcell.KeyTab, 0, tcell.ModNone)
	}
	h.key(tcell.KeyEnter, 0, tcell.ModNone) // open the drop-down
	h.waitFor("Anyone")
	h.key(tcell.KeyDown, 0, tcell.ModNone)
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.key(tcell.KeyTab, 0, tcell.ModNone) // Broadcast: Moderator
	h.typeText(" ")                       // untick it
	h.key(tcell.KeyTab, 0, tcell.ModNone) // Participant
	h.key(tcell.KeyTab, 0, tcell.ModNone) // visitor
	h.typeText(" ")                       // tick it
	h.key(tcell.KeyTab, 0, tcell.ModNone) // Admins
	h.key(tcell.KeyEnd, 0, tcell.ModNone)
	h.typeText(", c@x")
	h.key(tcell.KeyTab, 0, tcell.ModNone) // Description
	h.key(tcell.KeyCtrlU, 0, tcell.ModNone)
	h.typeText("first | second | third")
	h.key(tcell.KeyTab, 0, tcell.ModNone) // Save
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.gone("Configure room@c.x")
	h.waitCommands(chat.FetchRoomConfig{Room: "room@c.x"}, chat.SubmitRoomConfig{Room: "room@c.x", Values: map[string][]string{
		"muc#roomconfig_whois":             {"anyone"},
		"muc#roomconfig_presencebroadcast": {"participant", "visitor"},
		"muc#roomconfig_roomadmins":        {"a@x", "b@x", "c@x"},
		"muc#roomconfig_roomdesc":          {"first", "second", "third"},
	}})
}

func TestNewRoomConfigCancelAndSave(t *testing.T) {
	h := newHarness(t, 80, 24)
	// A room our join made waits locked: its form is asked for at once.
	h.roomEvent(chat.RoomJoined{Room: "new@c.x", Created: true, Configure: true})
	h.waitCommands(chat.FetchRoomConfig{Room: "new@c.x"})
	h.roomEvent(chat.RoomConfigForm{Room: "new@c.x", Form: configForm()})
	h.waitFor("Configure the new room new@c.x", "stays locked until you save")
	// Cancel is the last button: Shift+Tab from the first field.
	h.key(tcell.KeyBacktab, 0, tcell.ModNone)
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.gone("Configure the new room")
	h.waitCommands(chat.FetchRoomConfig{Room: "new@c.x"}, chat.CancelRoomConfig{Room: "new@c.x"})
	h.waitFor("new@c.x not created")

	// Saving a new room unchanged still sends the form: that opens it.
	h.roomEvent(chat.RoomJoined{Room: "two@c.x", Created: true, Configure: true})
	h.roomEvent(chat.RoomConfigForm{Room: "two@c.x", Form: configForm()})
	h.waitFor("Configure the new room two@c.x")
	for i := 0; i < 10; i++ { // past every field to Save
		h.key(tcell.KeyTab, 0, tcell.ModNone)
	}
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.gone("Configure the new room")
	h.waitCommands(chat.FetchRoomConfig{Room: "new@c.x"}, chat.CancelRoomConfig{Room: "new@c.x"},
		chat.FetchRoomConfig{Room: "two@c.x"}, chat.SubmitRoomConfig{Room: "two@c.x", Values: map[string][]string{}})
}

func TestRoomConfigHostileTextIsInertAndShort(t *testing.T) {
	h := newHarness(t, 80, 24)
	evil := "[red]Evil[-]\u202E" + strings.Repeat("x", 10000)
	form := chat.Form{
		Title:        "[red]Title[-]\x1b[2J" + strings.Repeat("t", 10000),
		Instructions: "[:::https://evil]click[:::-]\u2066" + strings.Repeat("i ", 5000),
		Fields: []chat.FormField{
			{Type: "fixed", Label: "[red]fixed", Values: []string{"\u009b31m" + strings.Repeat("f", 10000)}},
			{Var: "v0", Type: "text-single", Label: "Short", Desc: "[red]desc\u202E\n" + strings.Repeat("d", 10000)},
			{Var: "v1", Type: "text-single", Label: evil, Values: []string{"[red]value\x1b" + strings.Repeat("v", 10000)}},
			{Var: "v2", Type: "boolean", Label: evil},
			{Var: "v3", Type: "list-single", Label: evil, Values: []string{"a"},
				Options: []chat.FormOption{{Label: "[red]opt\u202E" + strings.Repeat("o", 10000), Value: "a"}}},
			{Var: "[red]novar\u202E" + strings.Repeat("n", 10000), Type: "text-single"},
		},
	}
	h.roomUI(func() { h.app.openConv("me", chat.RoomConv("[red]r\u202E@c.x")) })
	h.roomUI(func() { h.app.cmdConfig() })
	h.roomEvent(chat.RoomConfigForm{Room: "[red]r\u202E@c.x", Form: form})
	ls := h.waitFor("Configure [red]r\uFFFD@c.x", "[red]Title[-]\uFFFD[2J", "[:::https://evil]click[:::-]\uFFFD",
		"[red]fixed: \uFFFD31m", "[red]Evil[-]\uFFFDxxx", "[red]value\uFFFDvvv", "[red]opt\uFFFDooo", "[red]novar\uFFFDnnn", "[red]desc\uFFFD ddd", "…", "Save")
	fitsScreen(t, ls, 80)
	h.noRedCells()
	// Labels are cut to a third of the dialog, so the fields keep room.
	for _, l := range ls {
		if i := strings.Index(l, "[red]Evil"); i >= 0 && uniseg.StringWidth(l[i:]) < 30 {
			t.Fatalf("no room left for the field: %q", l)
		}
	}
}

// TestRoomConfigLongFormFitsAndScrolls: a form as long as Prosody's fits
// 80×24, the first field and the buttons' hint in view; Tab reaches Save.
func TestRoomConfigLongFormFitsAndScrolls(t *testing.T) {
	h := newHarness(t, 80, 24)
	form := chat.Form{Title: "Configuration", Instructions: "Fill in the form."}
	for i := 0; i < 24; i++ {
		f := chat.FormField{Var: "f" + string(rune('a'+i)), Label: "Field " + string(rune('A'+i)), Type: "text-single", Values: []string{"value"}}
		if i%3 == 1 {
			f.Type, f.Values = "boolean", []string{"1"}
		}
		form.Fields = append(form.Fields, f)
	}
	h.roomUI(func() { h.app.openConv("me", chat.RoomConv("room@c.x")) })
	h.roomUI(func() { h.app.cmdConfig() })
	h.roomEvent(chat.RoomConfigForm{Room: "room@c.x", Form: form})
	ls := h.waitFor("Configure room@c.x", "Field A", "Save is last")
	fitsScreen(t, ls, 80)
	if len(ls) != 24 {
		t.Fatalf("screen is %d rows", len(ls))
	}
	if strings.Contains(strings.Join(ls, "\n"), "Field X") {
		t.Fatal("the last field shows at once: the form is not long enough to test scrolling")
	}
	for i := 0; i < 24; i++ {
		h.key(tcell.KeyTab, 0, tcell.ModNone)
	}
	h.waitFor("Field X", "Save", "Cancel", "Save is last")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.gone("Configure room@c.x")
	h.waitFor("nothing changed in room@c.x")
	for _, c := range h.client.commands() {
		if _, ok := c.(chat.SubmitRoomConfig); ok {
			t.Fatalf("an unchanged form was sent: %#v", c)
		}
	}
}

// TestFailedAsksAreForgotten: once the list or the form could not be had,
// a late answer is one nobody waits for, and opens nothing.
func TestFailedAsksAreForgotten(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.roomUI(func() { h.app.cmdRooms(nil) })
	h.roomEvent(chat.CommandFailed{Command: chat.ListRooms{}})
	h.roomEvent(chat.RoomsListed{Service: "c.x", Rooms: []chat.RoomItem{{JID: "a@c.x"}}})
	h.roomUI(func() { h.app.openConv("me", chat.RoomConv("room@c.x")) })
	h.roomUI(func() { h.app.cmdConfig() })
	h.roomEvent(chat.CommandFailed{Command: chat.FetchRoomConfig{Room: "room@c.x"}})
	h.roomEvent(chat.RoomConfigForm{Room: "room@c.x", Form: configForm()})
	ls := h.sentinel("sentinel")
	if all := strings.Join(ls, "\n"); strings.Contains(all, "public room") || strings.Contains(all, "Configure") {
		t.Fatalf("an answer after a failure opened a dialog:\n%s", all)
	}
	// Asked again, it opens.
	h.roomUI(func() { h.app.cmdRooms(nil) })
	h.roomEvent(chat.RoomsListed{Service: "c.x", Rooms: []chat.RoomItem{{JID: "a@c.x"}}})
	h.waitFor("1 public room on c.x")
}

// TestNewRoomNoteOnASmallScreen: on a small screen the form scrolls and
// the note that the new room waits stays in view, above the title.
func TestNewRoomNoteOnASmallScreen(t *testing.T) {
	h := newHarness(t, 50, 14)
	h.roomEvent(chat.RoomJoined{Room: "new@c.x", Created: true, Configure: true})
	form := configForm()
	form.Title = strings.Repeat("Configuration ", 10)
	form.Instructions = strings.Repeat("Fill in the form. ", 10)
	h.roomEvent(chat.RoomConfigForm{Room: "new@c.x", Form: form})
	ls := h.waitFor("This room is new and stays", "Title")
	fitsScreen(t, ls, 50)
	for i := 0; i < 10; i++ {
		h.key(tcell.KeyTab, 0, tcell.ModNone)
	}
	ls = h.waitFor("This room is new and stays", "Save", "Cancel")
	fitsScreen(t, ls, 50)
}
