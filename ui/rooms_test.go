package ui

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/room"
	"github.com/gab-chat/gab/roster"
	"github.com/gdamore/tcell/v2"
)

const tea = "tea@rooms.x"

func occ(nick string, role room.Role) room.Occupant {
	return room.Occupant{Nick: nick, Role: role, Affiliation: room.AffiliationNone, Show: roster.Online}
}

// joinTea joins tea@rooms.x as ada with others in it, and goes to its tab
// (tab 2).
func (h *harness) joinTea(others ...room.Occupant) {
	h.t.Helper()
	h.send(chat.RoomJoining{Room: tea, Nick: "ada"})
	for _, o := range others {
		h.send(chat.OccupantChanged{Room: tea, Occupant: o})
	}
	h.send(chat.RoomJoined{Room: tea, Self: occ("ada", room.Participant)})
	h.waitFor("2:tea@rooms.x")
	h.key(tcell.KeyRune, '2', tcell.ModAlt)
	h.waitFor("you joined tea@rooms.x as ada")
}

// waitCommand waits for a command ok accepts and returns it.
func (h *harness) waitCommand(what string, ok func(chat.Command) bool) chat.Command {
	h.t.Helper()
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.Local))
	for {
		for _, c := range h.client.commands() {
			if ok(c) {
				return c
			}
		}
		if time.Now().After(deadline) {
			h.t.Fatalf("no command %s in %#v", what, h.client.commands())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// command types a command and presses Enter.
func (h *harness) command(s string) {
	h.typeText(s)
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
}

// status is the status line (the last row).
func (h *harness) status() string {
	ls := h.lines()
	return ls[len(ls)-1]
}

func lineWith(ls []string, s string) int {
	for i, l := range ls {
		if strings.Contains(l, s) {
			return i
		}
	}
	return -1
}

// The room tab shows the subject in a header above the conversation and
// the occupants beside it, grouped by role; F6 hides and shows the list,
// and a narrow window hides it to keep the conversation 40 columns wide.
func TestRoomTabSubjectAndOccupants(t *testing.T) {
	h := newHarness(t, 130, 24)
	carl := occ("carl", room.Participant)
	carl.Show = roster.Away
	h.joinTea(occ("bob", room.Moderator), carl, occ("dan", room.Visitor))
	h.send(chat.RoomSubject{Room: tea, Subject: "[red]Tea time\x1b[2J", Nick: "bob", Delayed: true})
	ls := h.waitFor("tea@rooms.x · [red]Tea time\uFFFD[2J", "4 in the room", "Moderators (1)", "Participants (2)", "Visitors (1)")
	header := lineWith(ls, "Tea time")
	if header != 1 {
		t.Fatalf("subject not in the tab's first row:\n%s", strings.Join(ls, "\n"))
	}
	order := []string{"Moderators (1)", "bob", "Participants (2)", "ada", "carl", "Visitors (1)", "dan"}
	last := -1
	for _, s := range order {
		r := lineWith(ls[2:], s)
		if r <= last {
			t.Fatalf("%q out of order:\n%s", s, strings.Join(ls, "\n"))
		}
		last = r
	}
	if l := ls[2+lineWith(ls[2:], "carl")]; !strings.Contains(l, "◐ carl") {
		t.Errorf("carl's away mark missing: %q", l)
	}
	h.key(tcell.KeyF6, 0, tcell.ModNone)
	h.waitUntil("the list to hide", func(ls []string) bool {
		return lineWith(ls, "Participants") < 0 && strings.Contains(ls[len(ls)-1], "occupant list hidden (F6 shows it)")
	})
	h.key(tcell.KeyF6, 0, tcell.ModNone)
	h.waitFor("Participants (2)")
	// 30 columns of contacts, 24 of occupants: below 94 the occupants go.
	h.onUI(func() { h.screen.SetSize(90, 24) })
	h.send(chat.Notice{Text: "resized"}) // a redraw
	h.waitUntil("the list to step aside", func(ls []string) bool { return lineWith(ls, "Participants") < 0 })
	h.onUI(func() { h.screen.SetSize(130, 24) })
	h.send(chat.Notice{Text: "resized again"})
	h.waitFor("Participants (2)")
	// A subject changed now is said in the tab, and the header follows.
	h.send(chat.RoomSubject{Room: tea, Subject: "Biscuits", Nick: "bob"})
	h.waitFor("bob changed the subject to: Biscuits", "tea@rooms.x · Biscuits")
}

// Our own message in a room shows "(sending)" until the room reflects it,
// even after our server has acknowledged it.
func TestRoomMessageSendingUntilReflected(t *testing.T) {
	h := newHarness(t, 120, 16)
	h.joinTea(occ("bob", room.Participant))
	h.command("hello room")
	h.waitCommand("sending to the room", func(c chat.Command) bool {
		s, ok := c.(chat.SendMessage)
		return ok && s.Conv == chat.RoomConv(tea) && s.Body == "hello room"
	})
	h.send(chat.MessageSent{Conv: chat.RoomConv(tea), ID: "m1", To: tea, Body: "hello room", Time: time.Now(), State: chat.DeliveryPending})
	h.waitFor("ada (sending): hello room")
	// Our server has it: still not in the room.
	h.send(chat.DeliveryChanged{Conv: chat.RoomConv(tea), ID: "m1", To: tea, State: chat.DeliverySent},
		chat.MessageReceived{Conv: chat.RoomConv(tea), From: tea + "/bob", Bare: tea, Nick: "bob", Body: "after the ack", Time: time.Now()})
	h.waitFor("bob: after the ack", "ada (sending): hello room")
	h.send(chat.DeliveryChanged{Conv: chat.RoomConv(tea), ID: "m1", To: tea, State: chat.DeliveryReceived})
	h.waitFor("ada: hello room")
	// One sent from another device, reflected: there already.
	h.send(chat.CarbonSent{Conv: chat.RoomConv(tea), ID: "m2", To: tea, Body: "from the phone", Time: time.Now()})
	ls := h.waitFor("ada: from the phone")
	if strings.Contains(strings.Join(ls, "\n"), "sending") {
		t.Fatalf("still sending:\n%s", strings.Join(ls, "\n"))
	}
	// In a chat the old marks stay: sent is no mark, received a tick.
	if deliveryMark(chat.DeliverySent, chat.KindChat) != "" || deliveryMark(chat.DeliveryReceived, chat.KindChat) != " ✓" ||
		deliveryMark(chat.DeliverySent, chat.KindRoom) != " (sending)" || deliveryMark(chat.DeliveryFailed, chat.KindRoom) != " (not delivered)" {
		t.Error("delivery marks by kind are wrong")
	}
}

// cellAt is the screen cell at x, y.
func (h *harness) cellAt(x, y int) tcell.SimCell {
	var c tcell.SimCell
	h.onUI(func() {
		cells, w, _ := h.screen.GetContents()
		c = cells[y*w+x]
	})
	return c
}

// A message naming our nick is highlighted, the nick in it drawn reversed;
// it notifies under the default "mentions", others do not; /notify none
// and all change that.
func TestRoomMentionsAndNotify(t *testing.T) {
	settings := config.DefaultSettings()
	settings.Notify = config.Notify{Bell: true}
	var mu sync.Mutex
	bells := 0
	h := newHarnessWith(t, 120, 16, settings, func(a *App) {
		a.notify.beep = func() { mu.Lock(); bells++; mu.Unlock() }
	})
	rang := func() int { mu.Lock(); defer mu.Unlock(); return bells }
	h.joinTea(occ("bob", room.Participant))
	h.key(tcell.KeyRune, '1', tcell.ModAlt)
	h.waitFor("connected as me@x/gab")
	msg := func(body string) chat.MessageReceived {
		return chat.MessageReceived{Conv: chat.RoomConv(tea), From: tea + "/bob", Bare: tea, Type: "groupchat", Nick: "bob", Body: body, Time: time.Now()}
	}
	h.send(msg("adamant about tea"))
	h.waitFor("# tea@rooms.x (1)")
	if n := rang(); n != 0 {
		t.Fatalf("a message not naming ada notified (%d bells)", n)
	}
	h.send(msg("what do you think, Ada?"))
	h.waitFor("# tea@rooms.x (2) @")
	h.waitUntil("a bell for the mention", func([]string) bool { return rang() == 1 })

	h.key(tcell.KeyRune, '2', tcell.ModAlt)
	ls := h.waitFor("bob: what do you think, Ada?")
	y := lineWith(ls, "what do you think")
	x := strings.Index(ls[y], "Ada?")
	x = len([]rune(ls[y][:x]))
	_, _, attr := h.cellAt(x, y).Style.Decompose()
	if attr&tcell.AttrReverse == 0 {
		t.Errorf("the nick in the message is not highlighted")
	}
	_, _, attr = h.cellAt(x-2, y).Style.Decompose()
	if attr&tcell.AttrReverse != 0 {
		t.Errorf("more than the nick is highlighted")
	}
	timeAt := func(y int, s string) int { return len([]rune(ls[y][:strings.Index(ls[y], s)])) - 6 }
	_, _, attr = h.cellAt(timeAt(y, "bob: what"), y).Style.Decompose()
	if attr&tcell.AttrReverse == 0 {
		t.Errorf("the mention line is not marked")
	}
	yn := lineWith(ls, "adamant about tea")
	if _, _, attr = h.cellAt(timeAt(yn, "bob: adamant"), yn).Style.Decompose(); attr&tcell.AttrReverse != 0 {
		t.Errorf("a line without a mention is marked")
	}

	h.command("/notify none")
	h.waitFor("nothing notifies you")
	h.key(tcell.KeyRune, '1', tcell.ModAlt)
	h.waitFor("connected as me@x/gab")
	h.send(msg("ada, still there?"))
	h.send(chat.MessageReceived{Conv: chat.ChatWith("zed@x"), From: "zed@x/r", Bare: "zed@x", Type: "chat", Body: "sentinel", Time: time.Now()})
	h.waitUntil("the sentinel's bell", func([]string) bool { return rang() >= 2 })
	h.onUI(func() {})
	if n := rang(); n != 2 {
		t.Fatalf("/notify none still notified: %d bells", n)
	}
	h.key(tcell.KeyRune, '2', tcell.ModAlt)
	h.command("/notify all")
	h.waitFor("every message notifies you")
	h.key(tcell.KeyRune, '1', tcell.ModAlt)
	h.waitFor("connected as me@x/gab")
	h.send(msg("just chatting"))
	h.waitUntil("a bell under all", func([]string) bool { return rang() == 3 })
}

// Tab completes a nick in a room tab: "ada: " at the start of the line,
// "ada " further on; again cycles; who spoke last comes first. In an empty
// composer Tab still moves to the contact list.
func TestRoomNickCompletion(t *testing.T) {
	h := newHarness(t, 120, 16)
	h.joinTea(occ("adam", room.Participant), occ("adele", room.Participant), occ("bob", room.Participant))
	text := func() string {
		var s string
		h.onUI(func() { s = h.app.composer.GetText() })
		return s
	}
	waitText := func(want string) {
		h.t.Helper()
		h.waitUntil(fmt.Sprintf("the composer to hold %q", want), func([]string) bool { return text() == want })
	}
	h.typeText("ad")
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	waitText("adam: ")
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	waitText("adele: ")
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	waitText("adam: ")
	h.typeText("hi b")
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	waitText("adam: hi bob ")
	h.key(tcell.KeyCtrlU, 0, tcell.ModNone)
	waitText("")
	// adele spoke last: first.
	h.send(chat.MessageReceived{Conv: chat.RoomConv(tea), From: tea + "/adele", Bare: tea, Nick: "adele", Body: "hello", Time: time.Now()})
	h.waitFor("adele: hello")
	h.typeText("AD")
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	waitText("adele: ")
	h.key(tcell.KeyCtrlU, 0, tcell.ModNone)
	waitText("")
	// Our own nick is never offered.
	h.typeText("ada")
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	waitText("adam: ")
	h.key(tcell.KeyCtrlU, 0, tcell.ModNone)
	waitText("")
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	var focus bool
	h.waitUntil("the contact list to take the focus", func([]string) bool {
		h.onUI(func() { focus = h.app.roster.HasFocus() })
		return focus
	})
}

var foldCount = regexp.MustCompile(`(?:and (\d+) others|(\S+), (\S+) and (\S+)|(\S+) and (\S+)|^(\S+)) (joined|left)$`)

// nicksIn counts the nicks a fold line names.
func nicksIn(body string) int {
	m := foldCount.FindStringSubmatch(body)
	switch {
	case m == nil:
		return 0
	case m[1] != "":
		n, _ := strconv.Atoi(m[1])
		return n + 2
	case m[2] != "":
		return 3
	case m[5] != "":
		return 2
	}
	return 1
}

// A room of 1,000 occupants: their presences before ours are the list,
// not news, and joins after ours fold into one line per batch.
func TestRoomThousandJoinFolds(t *testing.T) {
	h := newHarness(t, 130, 24)
	h.send(chat.RoomJoining{Room: tea, Nick: "ada"})
	for i := range 1000 {
		h.send(chat.OccupantChanged{Room: tea, Occupant: occ(fmt.Sprintf("n%04d", i), room.Participant)})
	}
	h.send(chat.RoomJoined{Room: tea, Self: occ("ada", room.Participant)})
	h.waitFor("2:tea@rooms.x")
	h.key(tcell.KeyRune, '2', tcell.ModAlt)
	h.waitFor("you joined tea@rooms.x as ada (1000 others)", "1001 in the room", "Participants (1001)")
	var n int
	h.onUI(func() { c, _ := h.app.state.Find("me", chat.RoomConv(tea)); n = len(c.Lines) })
	if n != 2 {
		t.Fatalf("%d lines for joining a room of 1,000", n)
	}
	for i := range 200 {
		h.send(chat.OccupantChanged{Room: tea, Occupant: occ(fmt.Sprintf("late%03d", i), room.Participant)})
	}
	h.send(chat.Notice{Text: "sentinel"})
	h.waitFor("1201 in the room")
	var bodies []string
	h.onUI(func() {
		c, _ := h.app.state.Find("me", chat.RoomConv(tea))
		for _, l := range c.Lines[2:] {
			bodies = append(bodies, l.Body)
		}
	})
	total := 0
	for _, b := range bodies {
		total += nicksIn(b)
	}
	if total != 200 || len(bodies) > 20 {
		t.Fatalf("200 joins said in %d lines naming %d:\n%s", len(bodies), total, strings.Join(bodies, "\n"))
	}
}

// The folding itself, one batch at a time.
func TestRoomFoldLines(t *testing.T) {
	s := NewState([]*Account{{Name: "a"}})
	s.Apply("a", chat.RoomJoining{Room: tea, Nick: "ada"})
	s.Apply("a", chat.OccupantChanged{Room: tea, Occupant: occ("early", room.Participant)})
	s.Apply("a", chat.RoomJoined{Room: tea, Self: occ("ada", room.Participant)})
	for i := range 14 {
		s.Apply("a", chat.OccupantChanged{Room: tea, Occupant: occ(fmt.Sprintf("n%02d", i), room.Participant)})
	}
	s.Apply("a", chat.OccupantChanged{Room: tea, Occupant: occ("n00", room.Participant), Left: true})
	s.Apply("a", chat.OccupantChanged{Room: tea, Occupant: occ("n01", room.Participant), Left: true})
	s.Apply("a", chat.OccupantChanged{Room: tea, Occupant: occ("n02", room.Participant), Left: true, Reason: "tea's up"})
	s.Apply("a", chat.OccupantChanged{Room: tea, Occupant: occ("n03", room.Participant), Left: true, Kicked: true, Actor: "boss", Reason: "rude"})
	s.Apply("a", chat.OccupantChanged{Room: tea, Occupant: occ("n04", room.Participant), Left: true, Banned: true})
	s.Apply("a", chat.OccupantChanged{Room: tea, Occupant: occ("n05", room.Participant), Left: true, NewNick: "five"})
	s.Apply("a", chat.OccupantChanged{Room: tea, Occupant: occ("five", room.Participant)})
	s.Apply("a", chat.OccupantChanged{Room: tea, Occupant: occ("back", room.Participant)})
	s.Flush()
	c, _ := s.Find("a", chat.RoomConv(tea))
	want := []string{
		"joining tea@rooms.x as ada…",
		"you joined tea@rooms.x as ada (1 other occupant)",
		"n00, n01 and 12 others joined",
		"n00 and n01 left",
		"n02 left (tea's up)",
		"n03 was kicked by boss: rude",
		"n04 was banned",
		"n05 is now known as five",
		"back joined",
	}
	got := bodiesOf(c)
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Fatalf("lines:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
	r := s.Room("a", tea)
	if r.Count() != 1+1+14-5+1 || r.Get("five") == nil || r.Get("n05") != nil {
		t.Fatalf("occupants: %d", r.Count())
	}
}

// Every way a join is refused says what to do, in the tab and the status
// line.
func TestRoomJoinFailureTexts(t *testing.T) {
	cases := []struct {
		ev   chat.RoomJoinFailed
		want []string
	}{
		{chat.RoomJoinFailed{Nick: "ada", Condition: "conflict", NickConflict: true, Suggestion: "ada_"},
			[]string{"the nick ada is taken", "/nick ada_", "/join tea@rooms.x/ada_"}},
		{chat.RoomJoinFailed{Nick: "ada", Condition: "conflict", NickConflict: true}, []string{"is taken", "/nick NEWNICK"}},
		{chat.RoomJoinFailed{Condition: "not-authorized", NeedPassword: true}, []string{"asks for a password", "/join tea@rooms.x PASSWORD"}},
		{chat.RoomJoinFailed{Condition: "registration-required", MembersOnly: true}, []string{"only members may enter tea@rooms.x"}},
		{chat.RoomJoinFailed{Condition: "forbidden", Banned: true, Text: "go away"}, []string{"you are banned from tea@rooms.x", "the room says: “go away”"}},
		{chat.RoomJoinFailed{Condition: "service-unavailable", Full: true}, []string{"tea@rooms.x is full", "try again later"}},
		{chat.RoomJoinFailed{Condition: "item-not-found", Gone: true}, []string{"there is no room tea@rooms.x"}},
		{chat.RoomJoinFailed{Condition: "jid-malformed"}, []string{"could not join tea@rooms.x: jid-malformed"}},
	}
	for _, tc := range cases {
		s := NewState([]*Account{{Name: "a"}})
		tc.ev.Room = tea
		s.Apply("a", tc.ev)
		c, _ := s.Find("a", chat.RoomConv(tea))
		if c == nil || len(c.Lines) != 1 || c.Lines[0].Kind != LineError {
			t.Fatalf("%s: no error line in the room's tab", tc.ev.Condition)
		}
		for _, w := range tc.want {
			if !strings.Contains(c.Lines[0].Body, w) || !strings.Contains(s.Status, w) {
				t.Errorf("%s: %q lacks %q", tc.ev.Condition, c.Lines[0].Body, w)
			}
		}
		if r := s.Room("a", tea); r.State != room.Failed {
			t.Errorf("%s: state %v", tc.ev.Condition, r.State)
		}
		// The command's own failure, after the refusal, says nothing more.
		before := len(s.Console().Lines)
		s.Apply("a", chat.CommandFailed{Command: chat.JoinRoom{Room: tea, Nick: "ada"}, Err: errors.New(tc.ev.Condition)})
		if len(s.Console().Lines) != before {
			t.Errorf("%s: the refusal was said twice", tc.ev.Condition)
		}
	}
	// Leaving, for each reason: a line, and the tab stays.
	for _, tc := range []struct {
		ev   chat.RoomLeft
		want string
	}{
		{chat.RoomLeft{State: room.Left}, "you left tea@rooms.x"},
		{chat.RoomLeft{State: room.Kicked, Actor: "bob", Reason: "spam"}, "you were kicked from tea@rooms.x by bob: spam — /join to go back in"},
		{chat.RoomLeft{State: room.Banned}, "you were banned from tea@rooms.x"},
		{chat.RoomLeft{State: room.Removed, Reason: "members only now"}, "you were removed from tea@rooms.x: members only now"},
		{chat.RoomLeft{State: room.Destroyed, AltRoom: "cafe@rooms.x"}, "/join cafe@rooms.x"},
		{chat.RoomLeft{State: room.Failed, Rejoin: true}, "gab will join it again"},
	} {
		s := NewState([]*Account{{Name: "a"}})
		s.Apply("a", chat.RoomJoined{Room: tea, Self: occ("ada", room.Participant)})
		tc.ev.Room = tea
		s.Apply("a", tc.ev)
		c, _ := s.Find("a", chat.RoomConv(tea))
		if last := c.Lines[len(c.Lines)-1].Body; !strings.Contains(last, tc.want) {
			t.Errorf("%v: %q lacks %q", tc.ev.State, last, tc.want)
		}
		if r := s.Room("a", tea); r.State != tc.ev.State || r.Count() != 0 {
			t.Errorf("%v: state %v, %d occupants", tc.ev.State, r.State, r.Count())
		}
	}
}

// A refused join shows in the running app: the tab and the status line.
func TestRoomJoinRefusedOnScreen(t *testing.T) {
	h := newHarness(t, 140, 16)
	h.command("/join tea@rooms.x/ada")
	h.waitCommand("the join", func(c chat.Command) bool { return c == chat.JoinRoom{Room: tea, Nick: "ada"} })
	h.send(chat.RoomJoining{Room: tea, Nick: "ada"},
		chat.RoomJoinFailed{Room: tea, Nick: "ada", Condition: "conflict", NickConflict: true, Suggestion: "ada2"})
	ls := h.waitFor("tea@rooms.x · failed", "the nick ada is taken — /nick ada2 here")
	if !strings.Contains(ls[len(ls)-1], "the nick ada is taken") {
		t.Errorf("status line: %q", ls[len(ls)-1])
	}
	// /nick after a refusal joins again with the new nick.
	h.command("/nick ada2")
	h.waitCommand("the second join", func(c chat.Command) bool { return c == chat.JoinRoom{Room: tea, Nick: "ada2"} })
}

// An invitation is a notice: a console line and a count, never a dialog
// that takes the keyboard. Its dialog opens on Later; Join takes Tab, Tab,
// Enter.
func TestRoomInvitationIsANotice(t *testing.T) {
	h := newHarness(t, 160, 20)
	h.send(chat.InvitationReceived{Room: tea, From: "bob@x/phone", Reason: "[red]tea?", Password: "pw"})
	h.waitFor("bob@x/phone invites you to tea@rooms.x (“[red]tea?”) — F4 to answer, or /join tea@rooms.x", "1 invitation · F4 to answer")
	h.typeText("still typing")
	h.waitFor("> still typing")
	var open bool
	h.onUI(func() { open = h.app.dialogOpen() })
	if open {
		t.Fatal("the invitation opened a dialog")
	}
	h.key(tcell.KeyCtrlU, 0, tcell.ModNone)
	h.key(tcell.KeyF4, 0, tcell.ModNone)
	h.waitFor("invitation  to tea@rooms.x  from bob@x/phone")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("Invitation to a room", "Reason:   “[red]tea?”", "You would join as “me”")
	h.key(tcell.KeyEnter, 0, tcell.ModNone) // Later
	h.waitFor("the invitation to tea@rooms.x waits")
	for _, c := range h.client.commands() {
		if _, ok := c.(chat.JoinRoom); ok {
			t.Fatal("Enter alone joined")
		}
	}
	h.key(tcell.KeyF4, 0, tcell.ModNone)
	h.waitFor("invitation  to tea@rooms.x")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("Invitation to a room")
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitCommand("the join", func(c chat.Command) bool { return c == chat.JoinRoom{Room: tea, Nick: "me", Password: "pw"} })
	h.waitUntil("the count to go", func(ls []string) bool { return !strings.Contains(ls[len(ls)-1], "invitation") })
}

// Nicks from the network — controls, bidi overrides, tview markup, 10,000
// characters — are inert and shortened in the occupant list, message
// lines, the tab title, the typing line and the join lines.
func TestRoomHostileNicks(t *testing.T) {
	h := newHarness(t, 130, 24)
	evil := "[red]x\u202e\x1b[2J" + strings.Repeat("n", 10000)
	evil2 := "[:::https://evil]y\x07" + strings.Repeat("m", 10000)
	h.joinTea(occ(evil, room.Participant))
	h.send(chat.OccupantChanged{Room: tea, Occupant: occ(evil2, room.Participant)},
		chat.MessageReceived{Conv: chat.RoomConv(tea), From: tea + "/" + evil, Bare: tea, Nick: evil, Body: "hello", Time: time.Now()},
		chat.ChatStateChanged{Conv: chat.RoomConv(tea), Nick: evil, State: chat.StateComposing},
		chat.ChatStateChanged{Conv: chat.RoomConv(tea), Nick: evil2, State: chat.StateComposing},
		chat.MessageReceived{Conv: chat.PrivateConv(tea, evil), From: tea + "/" + evil, Bare: tea, Nick: evil, Body: "psst", Time: time.Now()})
	ls := h.waitFor("[:::https://evil]y\uFFFDmm", "joined", "are typing", "3:[red]x\uFFFD\uFFFD[2Jnn")
	all := strings.Join(ls, "\n")
	for _, bad := range []string{"\x1b", "\u202e", "\x07"} {
		if strings.Contains(all, bad) {
			t.Fatalf("%q reached the screen:\n%s", bad, all)
		}
	}
	for _, l := range ls {
		if strings.Count(l, "n") > 60 || strings.Count(l, "m") > 60 {
			t.Fatalf("a nick not shortened: %q", l)
		}
	}
	if !strings.Contains(all, "[red]x\uFFFD\uFFFD[2J") || !strings.Contains(all, "…") {
		t.Fatalf("the nick is not shown as text, shortened:\n%s", all)
	}
	var cells []tcell.SimCell
	h.onUI(func() { c, _, _ := h.screen.GetContents(); cells = append(cells, c...) })
	for _, c := range cells {
		if fg, _, _ := c.Style.Decompose(); fg == tcell.ColorRed && string(c.Runes) == "x" {
			t.Fatal("a nick's markup coloured the screen")
		}
	}
	var long []string
	h.onUI(func() {
		for _, c := range h.app.state.Convs {
			for _, l := range c.Lines {
				if l.Kind == LineInfo && len(l.Body) > 400 {
					long = append(long, l.Body[:80])
				}
			}
		}
	})
	if len(long) > 0 {
		t.Fatalf("lines hold whole nicks: %q", long)
	}
	// A rename to another long nick, and a kick: shortened too.
	h.send(chat.OccupantChanged{Room: tea, Occupant: occ(evil, room.Participant), Left: true, NewNick: evil2 + "2"},
		chat.OccupantChanged{Room: tea, Occupant: occ(evil2, room.Participant), Left: true, Kicked: true, Actor: evil, Reason: "bye"})
	ls = h.waitFor("is now known as", "was kicked by")
	for _, l := range ls {
		if strings.Count(l, "n") > 60 || strings.Count(l, "m") > 60 {
			t.Fatalf("a nick not shortened: %q", l)
		}
	}
}

// /msg ROOM/NICK opens a private conversation with an occupant of a room
// we are in; a room we are not in is a contact's address as before.
func TestRoomPrivateMessageTab(t *testing.T) {
	h := newHarness(t, 120, 16)
	h.joinTea(occ("bob smith", room.Participant))
	h.command("/msg tea@rooms.x/bob smith psst")
	h.waitFor("3:bob smith (tea@ro…")
	h.waitCommand("the private message", func(c chat.Command) bool {
		return c == chat.SendMessage{Conv: chat.PrivateConv(tea, "bob smith"), Body: "psst"}
	})
	h.command("/msg other@rooms.x/x hi")
	h.waitFor("4:other@rooms.x")
	h.waitCommand("a chat", func(c chat.Command) bool {
		return c == chat.SendMessage{Conv: chat.ChatWith("other@rooms.x"), Body: "hi"}
	})
}

// The room commands send the right commands, or say what is wrong; each
// says one thing.
func TestRoomCommands(t *testing.T) {
	h := newHarness(t, 140, 20)
	h.command("/join tea")
	h.waitFor("your server has no group chat service that gab knows of")
	h.command("/kick bob")
	h.waitFor("/kick works in a room's tab")
	h.command("/join tea@rooms.x secret")
	h.waitCommand("the join", func(c chat.Command) bool { return c == chat.JoinRoom{Room: tea, Nick: "me", Password: "secret"} })
	h.waitFor("2:tea@rooms.x")
	carl := occ("carl", room.Participant)
	carl.RealJID = "carl@real.x/home"
	h.send(chat.RoomJoining{Room: tea, Nick: "me"},
		chat.OccupantChanged{Room: tea, Occupant: occ("bob", room.Moderator)},
		chat.OccupantChanged{Room: tea, Occupant: carl},
		chat.OccupantChanged{Room: tea, Occupant: occ("dan", room.Visitor)},
		chat.RoomJoined{Room: tea, Self: occ("me", room.Moderator)},
		chat.RoomSubject{Room: tea, Subject: "Tea", Nick: "bob", Delayed: true})
	h.waitFor("you joined tea@rooms.x as me")
	steps := []struct {
		line string
		want chat.Command
	}{
		{"/nick me2", chat.ChangeNick{Room: tea, Nick: "me2"}},
		{"/topic Biscuits and tea", chat.SetSubject{Room: tea, Subject: "Biscuits and tea"}},
		{"/invite zed@x come along", chat.Invite{Room: tea, JID: "zed@x", Reason: "come along"}},
		{"/kick bob being rude", chat.SetRole{Room: tea, Nick: "bob", Role: room.RoleNone, Reason: "being rude"}},
		{"/ban carl spam", chat.SetAffiliation{Room: tea, JID: "carl@real.x", Affiliation: room.Outcast, Reason: "spam"}},
		{"/ban eve@x", chat.SetAffiliation{Room: tea, JID: "eve@x", Affiliation: room.Outcast}},
		{"/role dan participant", chat.SetRole{Room: tea, Nick: "dan", Role: room.Participant}},
		{"/affiliation zed@x member", chat.SetAffiliation{Room: tea, JID: "zed@x", Affiliation: room.Member}},
		{"/part off to bed", chat.LeaveRoom{Room: tea, Reason: "off to bed"}},
	}
	for _, s := range steps {
		h.command(s.line)
		h.waitCommand(s.line, func(c chat.Command) bool { return c == s.want })
	}
	// Answers: done in the status line, failures in words.
	h.send(chat.CommandDone{Command: chat.SetRole{Room: tea, Nick: "bob", Role: room.RoleNone}})
	h.waitFor("kicked bob from tea@rooms.x")
	h.send(chat.CommandFailed{Command: chat.SetAffiliation{Room: tea, JID: "carl@real.x", Affiliation: room.Outcast}, Err: errors.New("forbidden")})
	h.waitFor("could not ban carl@real.x from tea@rooms.x: forbidden")
	for _, bad := range []struct{ line, says string }{
		{"/kick nobody", "nobody is called nobody in tea@rooms.x"},
		{"/role dan king", `"king" is not a role`},
		{"/ban dan", "the room does not show the address of dan"},
		{"/affiliation zed@x boss", `"boss" is not an affiliation`},
		{"/notify loud", "usage: /notify all|mentions|none"},
	} {
		h.command(bad.line)
		h.waitFor(bad.says)
	}
	h.command("/topic")
	h.waitFor("subject: Tea (set by bob)")
	// /ignore hides an occupant's messages for this run; /unignore shows
	// them again.
	h.command("/ignore dan")
	h.waitFor("ignoring dan in tea@rooms.x (by nick)")
	say := func(nick, body string) chat.MessageReceived {
		return chat.MessageReceived{Conv: chat.RoomConv(tea), From: tea + "/" + nick, Bare: tea, Nick: nick, Body: body, Time: time.Now()}
	}
	h.send(say("dan", "ignored words"), say("bob", "after dan"))
	ls := h.waitFor("bob: after dan")
	if lineWith(ls, "ignored words") >= 0 {
		t.Fatal("an ignored occupant's message is shown")
	}
	h.command("/unignore dan")
	h.waitFor("showing the messages of dan in tea@rooms.x again")
	h.send(say("dan", "heard again"))
	h.waitFor("dan: heard again")
	// Once the server named its group chat service, a room is joined by
	// its name alone.
	h.send(chat.ServicesFound{MUC: "rooms.x"}, chat.Notice{Text: "after the services"})
	h.consoleHas("after the services") // events are applied in order
	h.command("/join coffee")
	h.waitCommand("the join by name", func(c chat.Command) bool { return c == chat.JoinRoom{Room: "coffee@rooms.x", Nick: "me"} })
	// /create asks for a room it makes to wait for its configuration.
	h.command("/create scones")
	h.waitCommand("the join that configures", func(c chat.Command) bool {
		return c == chat.JoinRoom{Room: "scones@rooms.x", Nick: "me", Configure: true}
	})
}

// Occupants typing: "ada and 2 others are typing" in the status line.
func TestRoomTypingLine(t *testing.T) {
	h := newHarness(t, 120, 16)
	h.joinTea(occ("bob", room.Participant), occ("carl", room.Participant), occ("dan", room.Participant))
	for _, n := range []string{"dan", "bob", "carl"} {
		h.send(chat.ChatStateChanged{Conv: chat.RoomConv(tea), Nick: n, State: chat.StateComposing})
	}
	h.waitFor("bob and 2 others are typing")
	h.send(chat.ChatStateChanged{Conv: chat.RoomConv(tea), Nick: "bob", State: chat.StatePaused},
		chat.MessageReceived{Conv: chat.RoomConv(tea), From: tea + "/dan", Bare: tea, Nick: "dan", Body: "done", Time: time.Now()})
	h.waitFor("carl is typing")
}

// Rooms come first in the contact list, in a group of their own, with a
// mark for whether we are in them and the unread count; Enter opens one.
func TestRoomsInContactList(t *testing.T) {
	h := newHarness(t, 120, 16)
	h.send(chat.RosterReset{Items: []roster.Item{{JID: "bob@x", Name: "Bob", Subscription: "both"}}})
	h.joinTea()
	h.send(chat.RoomJoinFailed{Room: "cafe@rooms.x", Nick: "me", Condition: "forbidden", Banned: true})
	ls := h.waitFor("▾ Rooms", "# tea@rooms.x", "○ cafe@rooms.x", "▾ Contacts", "Bob")
	if !(lineWith(ls, "▾ Rooms") < lineWith(ls, "○ cafe@rooms.x") && lineWith(ls, "# tea@rooms.x") < lineWith(ls, "▾ Contacts") && lineWith(ls, "▾ Contacts") < lineWith(ls, "Bob")) {
		t.Fatalf("rooms not first:\n%s", strings.Join(ls, "\n"))
	}
	h.key(tcell.KeyRune, '1', tcell.ModAlt)
	h.waitFor("connected as me@x/gab") // the console is in view
	h.send(chat.MessageReceived{Conv: chat.RoomConv(tea), From: tea + "/bob", Bare: tea, Nick: "bob", Body: "ada?", Time: time.Now()})
	h.waitFor("# tea@rooms.x (1) @")
	// Focus the list, go up to the room and open it.
	h.key(tcell.KeyTab, 0, tcell.ModNone)
	for range 6 {
		h.key(tcell.KeyUp, 0, tcell.ModNone)
	}
	h.key(tcell.KeyDown, 0, tcell.ModNone)
	h.key(tcell.KeyDown, 0, tcell.ModNone)
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("bob: ada?")
	h.waitUntil("the marks to go", func(ls []string) bool { return lineWith(ls, "tea@rooms.x (1)") < 0 })
}

// A room tab the user closed stays closed for routine news (joins, parts,
// nick changes); what concerns us (being kicked) and messages open it
// again, in the background.
func TestRoomClosedTabStaysClosed(t *testing.T) {
	s := NewState([]*Account{{Name: "a"}})
	s.Apply("a", chat.RoomJoining{Room: tea, Nick: "ada"})
	s.Apply("a", chat.RoomJoined{Room: tea, Self: occ("ada", room.Participant)})
	_, i := s.Find("a", chat.RoomConv(tea))
	s.Convs = append(s.Convs[:i], s.Convs[i+1:]...)
	s.Apply("a", chat.OccupantChanged{Room: tea, Occupant: occ("bob", room.Participant)})
	s.Apply("a", chat.OccupantChanged{Room: tea, Occupant: occ("bob", room.Participant), Left: true, NewNick: "rob"})
	s.Apply("a", chat.RoomSubject{Room: tea, Subject: "new"})
	s.Flush()
	if c, _ := s.Find("a", chat.RoomConv(tea)); c != nil {
		t.Fatalf("routine news opened the closed tab: %q", bodiesOf(c))
	}
	if r := s.Room("a", tea); r.Get("rob") == nil || r.Subject != "new" {
		t.Fatal("the room's model did not follow")
	}
	s.Apply("a", chat.RoomLeft{Room: tea, State: room.Kicked, Actor: "rob"})
	c, _ := s.Find("a", chat.RoomConv(tea))
	if c == nil || s.Active != 0 || !strings.Contains(c.Lines[len(c.Lines)-1].Body, "you were kicked") {
		t.Fatal("being kicked did not open the tab in the background")
	}
}

// A new session (or the end of one) empties the rooms' occupant lists and
// marks them not joined until the rooms are joined again; a resumed
// session keeps them.
func TestRoomSessionEnds(t *testing.T) {
	acct := &Account{Name: "a"}
	s := NewState([]*Account{acct})
	join := func() {
		s.Apply("a", chat.RoomJoining{Room: tea, Nick: "ada"})
		s.Apply("a", chat.OccupantChanged{Room: tea, Occupant: occ("bob", room.Participant)})
		s.Apply("a", chat.RoomJoined{Room: tea, Self: occ("ada", room.Participant)})
	}
	join()
	s.Apply("a", chat.Connected{JID: "ada@x/gab", Resumed: true})
	if r := s.Room("a", tea); r.State != room.Joined || r.Count() != 2 {
		t.Fatalf("a resumed session lost the room: %v, %d", r.State, r.Count())
	}
	s.Apply("a", chat.Connected{JID: "ada@x/gab"})
	if r := s.Room("a", tea); r.State != room.NotJoined || r.Count() != 0 {
		t.Fatalf("a new session kept the room: %v, %d", r.State, r.Count())
	}
	join()
	s.Apply("a", chat.Disconnected{})
	if r := s.Room("a", tea); r.State != room.NotJoined || r.Count() != 0 {
		t.Fatalf("the end of the session kept the room: %v, %d", r.State, r.Count())
	}
	// Joining again starts from an empty list, even without a new session.
	join()
	s.Apply("a", chat.RoomJoining{Room: tea, Nick: "ada"})
	if r := s.Room("a", tea); r.Count() != 0 {
		t.Fatalf("%d occupants kept across a rejoin", r.Count())
	}
}

// /join ROOM after an invitation that gave the room's password uses it.
func TestRoomJoinWithInvitationPassword(t *testing.T) {
	h := newHarness(t, 160, 20)
	h.send(chat.InvitationReceived{Room: tea, From: "bob@x", Password: "pw"})
	h.waitFor("1 invitation")
	h.command("/join tea@rooms.x")
	h.waitCommand("the join", func(c chat.Command) bool { return c == chat.JoinRoom{Room: tea, Nick: "me", Password: "pw"} })
	h.waitUntil("the invitation to go", func(ls []string) bool { return !strings.Contains(ls[len(ls)-1], "invitation") })
}

// Ctrl+K finds a room whose tab was closed.
func TestRoomInQuickJump(t *testing.T) {
	h := newHarness(t, 120, 16)
	h.joinTea()
	h.key(tcell.KeyCtrlW, 0, tcell.ModNone)
	h.waitUntil("the tab to close", func(ls []string) bool { return !strings.Contains(ls[0], "2:tea@rooms.x") })
	h.key(tcell.KeyCtrlK, 0, tcell.ModNone)
	h.waitFor("Quick jump")
	h.typeText("tea")
	h.waitFor("tea@rooms.x  (room)")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("2:tea@rooms.x", "tea@rooms.x · no subject")
}

// History read into a room tab marks the messages that name our nick, and
// our own stored messages are not "sending".
func TestRoomHistoryMentions(t *testing.T) {
	s := NewState([]*Account{{Name: "a", JID: "ada@x/gab"}})
	s.Apply("a", chat.RoomJoined{Room: tea, Self: occ("ada", room.Participant)})
	s.Apply("a", chat.HistoryLoaded{Conv: chat.RoomConv(tea), Messages: []chat.StoredMessage{
		{StoreID: 1, Nick: "bob", Body: "hi ada", Time: time.Now()},
		{StoreID: 2, Nick: "bob", Body: "hi adam", Time: time.Now()},
		{StoreID: 3, Outgoing: true, Body: "hello ada", Time: time.Now(), State: chat.DeliverySent},
	}})
	c, _ := s.Find("a", chat.RoomConv(tea))
	var got []string
	for _, l := range c.Lines {
		if l.StoreID != 0 {
			mark := "in"
			if l.Kind == LineOut {
				mark = deliveryMark(l.State, chat.KindRoom)
			}
			got = append(got, fmt.Sprintf("%s %v %v %q", l.Sender, l.Mention, l.Spans, mark))
		}
	}
	want := []string{`bob true [[3 6]] "in"`, `bob false [] "in"`, `ada false [] ""`}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Fatalf("got %q", got)
	}
}

// /ignore by occupant-id follows the person across nick changes; /unignore
// by the nick it was asked with lifts it even after they left.
func TestRoomIgnoreByOccupantID(t *testing.T) {
	s := NewState([]*Account{{Name: "a"}})
	s.Apply("a", chat.RoomJoined{Room: tea, Self: occ("ada", room.Participant)})
	troll := occ("troll", room.Participant)
	troll.OccupantID = "id-troll"
	s.Apply("a", chat.OccupantChanged{Room: tea, Occupant: troll})
	if how := s.Ignore("a", tea, "troll", true); how != "whatever nick they take" {
		t.Fatalf("ignored %s", how)
	}
	say := func(nick, id, body string) {
		s.Apply("a", chat.MessageReceived{Conv: chat.RoomConv(tea), Nick: nick, OccupantID: id, Body: body, Time: time.Now()})
	}
	say("troll", "id-troll", "one")
	say("nice-name", "id-troll", "two") // renamed
	say("troll", "id-other", "three")   // someone else took the nick
	s.Apply("a", chat.OccupantChanged{Room: tea, Occupant: troll, Left: true})
	s.Ignore("a", tea, "troll", false) // gone from the room by now: lifted all the same
	say("nice-name", "id-troll", "four")
	c, _ := s.Find("a", chat.RoomConv(tea))
	var got []string
	for _, l := range c.Lines {
		if l.Kind == LineIn {
			got = append(got, l.Body)
		}
	}
	if strings.Join(got, ",") != "three,four" {
		t.Fatalf("shown: %q", got)
	}
}

// A /join with a password is not kept in the input history.
func TestRoomJoinPasswordNotInHistory(t *testing.T) {
	h := newHarness(t, 120, 16)
	h.command("/join tea@rooms.x/ada secret")
	h.waitCommand("the join", func(c chat.Command) bool { return c == chat.JoinRoom{Room: tea, Nick: "ada", Password: "secret"} })
	h.command("/topic")
	h.waitFor("tea@rooms.x has no subject")
	h.key(tcell.KeyUp, 0, tcell.ModNone)
	h.waitFor("> /topic")
	h.key(tcell.KeyUp, 0, tcell.ModNone)
	h.key(tcell.KeyRune, 'x', tcell.ModNone)
	h.waitFor("> /topicx")
}

// The room's catch-up says something only when it failed.
func TestRoomCatchUpQuiet(t *testing.T) {
	s := NewState([]*Account{{Name: "a"}})
	s.Apply("a", chat.RoomJoined{Room: tea, Self: occ("ada", room.Participant)})
	c, _ := s.Find("a", chat.RoomConv(tea))
	n := len(c.Lines)
	s.Apply("a", chat.RoomCatchUp{Room: tea, Count: 12})
	if len(c.Lines) != n {
		t.Fatalf("a catch-up that worked said %q", c.Lines[n:][0].Body)
	}
	s.Apply("a", chat.RoomCatchUp{Room: tea, Err: errors.New("item-not-found")})
	if len(c.Lines) != n+1 || c.Lines[n].Kind != LineError || !strings.Contains(c.Lines[n].Body, "could not read what was said before you joined: item-not-found") {
		t.Fatalf("lines %q", bodiesOf(c))
	}
}

// The occupant list of a big room scrolls with the mouse wheel, drawing
// the rows it reaches.
func TestRoomOccupantListScrolls(t *testing.T) {
	h := newHarness(t, 130, 24)
	var others []room.Occupant
	for i := range 300 {
		others = append(others, occ(fmt.Sprintf("n%03d", i), room.Participant))
	}
	h.joinTea(others...)
	h.waitFor("Participants (301)", "n000")
	// Each turn of the wheel moves three rows: the first row shown is
	// then n(3k-2) (the heading and ada come before n000).
	for k := 1; k <= 5; k++ {
		h.screen.InjectMouse(120, 10, tcell.WheelDown, tcell.ModNone)
		first, gone := fmt.Sprintf("● n%03d", 3*k-2), fmt.Sprintf("● n%03d", 3*k-3)
		h.waitUntil("the list to scroll to "+first, func(ls []string) bool {
			return lineWith(ls, gone) < 0 && lineWith(ls, first) == 2
		})
	}
}

// A room without a subject sends an empty one, undelayed, when we join
// (Prosody does): nothing changed, so nothing is said. Clearing a subject
// that was there is said.
func TestEmptySubjectOnJoinIsNoNews(t *testing.T) {
	h := newHarness(t, 100, 20)
	h.joinTea()
	h.send(chat.RoomSubject{Room: tea, Subject: ""}, chat.RoomSubject{Room: tea, Subject: "Biscuits", Nick: "bob"})
	ls := h.waitFor("bob changed the subject to: Biscuits") // after the empty one: it has been handled
	if all := strings.Join(ls, "\n"); strings.Contains(all, "subject was changed") || strings.Contains(all, "there is none now") {
		t.Fatalf("an empty subject on joining said as a change:\n%s", all)
	}
	h.send(chat.RoomSubject{Room: tea, Subject: "", Nick: "bob"})
	h.waitFor("bob changed the subject: there is none")
}
