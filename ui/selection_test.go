package ui

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/room"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/uniseg"
)

// selectedRows are the screen rows drawn in reverse video across the
// whole width of the conversation (its first column after the contact
// list, and its last column): the selected message.
func (h *harness) selectedRows() []string {
	var out []string
	ls := h.lines()
	h.onUI(func() {
		x, y, w, hgt := h.app.conv.GetInnerRect()
		cells, sw, _ := h.screen.GetContents()
		for row := y; row < y+hgt; row++ {
			_, _, a1 := cells[row*sw+x].Style.Decompose()
			_, _, a2 := cells[row*sw+x+w-1].Style.Decompose()
			if a1&tcell.AttrReverse != 0 && a2&tcell.AttrReverse != 0 {
				out = append(out, ls[row])
			}
		}
	})
	return out
}

// waitSelected waits until the selected rows are exactly one message's,
// the one containing text.
func (h *harness) waitSelected(text string) {
	h.t.Helper()
	h.waitUntil("“"+text+"” to be selected", func([]string) bool {
		rows := h.selectedRows()
		return len(rows) > 0 && strings.Contains(strings.Join(rows, "\n"), text)
	})
}

// userCommands are the commands the user caused, without the background
// ones.
func (h *harness) userCommands() []chat.Command {
	var out []chat.Command
	for _, c := range h.client.commands() {
		if !background(c) {
			out = append(out, c)
		}
	}
	return out
}

// bobPage opens the chat with bob@x and gives it stored messages.
func (h *harness) bobPage(more bool, msgs ...chat.StoredMessage) {
	h.t.Helper()
	h.openBob()
	h.send(chat.HistoryLoaded{Conv: chat.ChatWith("bob@x"), Messages: msgs, More: more})
	body := msgs[len(msgs)-1].Body
	h.waitFor(body[:min(len(body), 10)])
}

// model changes the model on the UI goroutine and draws the result.
func (h *harness) model(f func()) {
	h.t.Helper()
	done := make(chan struct{})
	h.app.tv.QueueUpdateDraw(func() { f(); close(done) })
	select {
	case <-done:
	case <-time.After(xmpptest.Timeout(xmpptest.Local)):
		h.t.Fatal("UI goroutine did not answer")
	}
}

func stored(id int64, out bool, body string) chat.StoredMessage {
	return chat.StoredMessage{StoreID: id, ID: fmt.Sprint("m", id), Outgoing: out, Body: body,
		Time: time.Now().Add(-time.Hour + time.Duration(id)*time.Second), State: chat.DeliveryReceived, From: "bob@x/r"}
}

func altS(h *harness) { h.key(tcell.KeyRune, 's', tcell.ModAlt) }

func TestSelectMoveAndActOnMessages(t *testing.T) {
	h := newHarness(t, 100, 20)
	h.bobPage(false, stored(5, false, "hello from bob"), stored(6, true, "my answer"), stored(7, false, "latest from bob"))
	// An info line after the last message is not selectable.
	h.model(func() {
		h.app.state.Convs[1].add(Line{Time: time.Now(), Kind: LineInfo, Body: "an info line"})
	})
	h.waitFor("an info line")
	if rows := h.selectedRows(); len(rows) != 0 {
		t.Fatalf("selected before asked: %q", rows)
	}
	altS(h)
	h.waitSelected("latest from bob")
	h.waitFor("selecting: ↑↓ move · Esc leaves · r reply · + react")
	h.key(tcell.KeyRune, 'k', tcell.ModNone)
	h.waitSelected("my answer")
	if rows := h.selectedRows(); len(rows) != 1 {
		t.Fatalf("more than one row selected: %q", rows)
	}
	h.key(tcell.KeyRune, 'j', tcell.ModNone)
	h.waitSelected("latest from bob")
	h.key(tcell.KeyUp, 0, tcell.ModNone)
	h.waitSelected("my answer")

	// y copies the text, with OSC 52 through tcell.
	h.key(tcell.KeyRune, 'y', tcell.ModNone)
	h.waitFor("copied to the terminal's clipboard")
	var clip []byte
	h.onUI(func() { clip = h.screen.GetClipboardData() })
	if string(clip) != "my answer" {
		t.Fatalf("clipboard %q", clip)
	}

	// d on someone else's message: refused; on ours: asks, Enter is no.
	h.key(tcell.KeyRune, 'k', tcell.ModNone)
	h.waitSelected("hello from bob")
	h.key(tcell.KeyRune, 'd', tcell.ModNone)
	h.waitFor("only your own messages can be retracted")
	// In a chat there is no moderator to point to.
	if strings.Contains(strings.Join(h.lines(), "\n"), "moderators") {
		t.Fatalf("a chat's refusal speaks of moderators:\n%s", strings.Join(h.lines(), "\n"))
	}
	h.key(tcell.KeyRune, 'j', tcell.ModNone)
	h.waitSelected("my answer")
	h.key(tcell.KeyRune, 'd', tcell.ModNone)
	h.waitFor("retract for everyone? y: yes, any other key: no · “my answer”")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("nothing done")
	h.key(tcell.KeyRune, 'd', tcell.ModNone)
	h.waitFor("retract for everyone? y: yes, any other key: no · “my answer”")
	h.key(tcell.KeyRune, 'y', tcell.ModNone)
	h.waitFor("asked to retract the message")
	h.waitCommands(chat.RetractMessage{Conv: chat.ChatWith("bob@x"), StoreID: 6})
	h.send(chat.CommandFailed{Command: chat.RetractMessage{Conv: chat.ChatWith("bob@x"), StoreID: 6}, Err: errors.New("not yet")})
	h.waitFor("could not retract the message in bob@x: not yet")

	// o opens the selected message's links: this one has none.
	h.key(tcell.KeyRune, 'o', tcell.ModNone)
	h.waitFor("open: the message has no links")

	// c corrects only our last message.
	h.key(tcell.KeyRune, 'k', tcell.ModNone)
	h.waitSelected("hello from bob")
	h.key(tcell.KeyRune, 'c', tcell.ModNone)
	h.waitFor("only your last message here can be corrected")
	h.key(tcell.KeyRune, 'j', tcell.ModNone)
	h.waitSelected("my answer")
	h.key(tcell.KeyRune, 'c', tcell.ModNone)
	h.waitFor("correcting your last message", "> my answer")
	if rows := h.selectedRows(); len(rows) != 0 {
		t.Fatalf("still selected while correcting: %q", rows)
	}
	h.typeText("!")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitCommands(chat.RetractMessage{Conv: chat.ChatWith("bob@x"), StoreID: 6},
		chat.CorrectMessage{Conv: chat.ChatWith("bob@x"), ReplaceID: "m6", Body: "my answer!"})

	// r: the composer says what it answers; Enter sends the reply.
	altS(h)
	h.waitSelected("latest from bob")
	h.key(tcell.KeyRune, 'k', tcell.ModNone)
	h.key(tcell.KeyRune, 'k', tcell.ModNone)
	h.waitSelected("hello from bob")
	h.key(tcell.KeyRune, 'r', tcell.ModNone)
	h.waitFor("replying to bob@x: hello from bob · Esc cancels")
	h.typeText("yes")
	h.waitFor("> yes") // the composer has the focus back
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.gone("replying to bob@x")
	cmds := h.userCommands()
	if got := cmds[len(cmds)-1]; got != (chat.SendMessage{Conv: chat.ChatWith("bob@x"), Body: "yes", ReplyTo: 5}) {
		t.Fatalf("reply sent as %#v", got)
	}
	// Esc cancels a reply; the next message answers nothing.
	altS(h)
	h.waitSelected("latest from bob")
	h.key(tcell.KeyRune, 'r', tcell.ModNone)
	h.waitFor("replying to bob@x: latest from bob")
	h.key(tcell.KeyEscape, 0, tcell.ModNone)
	h.waitFor("reply cancelled")
	h.gone("replying to bob@x")
	h.typeText("plain")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitCommand("a plain message", func(c chat.Command) bool {
		return c == chat.SendMessage{Conv: chat.ChatWith("bob@x"), Body: "plain"}
	})

	// A click on the composer ends selecting: its keys leave the hint.
	altS(h)
	h.waitSelected("latest from bob")
	h.waitFor("selecting: ↑↓ move")
	h.click("type a message")
	h.gone("selecting: ↑↓ move")
	h.typeText("q")
	h.waitFor("> q")
	h.key(tcell.KeyBackspace2, 0, tcell.ModNone)
	h.waitFor("type a message")

	// Esc leaves the selection and the composer has the focus.
	altS(h)
	h.waitSelected("latest from bob")
	h.typeText("zz")
	h.waitFor("selecting a message: Esc goes back to the composer")
	h.key(tcell.KeyEscape, 0, tcell.ModNone)
	h.waitUntil("the selection to end", func([]string) bool { return len(h.selectedRows()) == 0 })
	h.typeText("typed")
	h.waitFor("> typed")
	var composerFocus bool
	h.onUI(func() { composerFocus = h.app.tv.GetFocus() == h.app.composer })
	if !composerFocus {
		t.Fatal("the composer did not get the focus back")
	}
}

func TestReactToggles(t *testing.T) {
	h := newHarness(t, 100, 20)
	h.bobPage(false, stored(5, false, "first"), stored(6, true, "mine"), stored(7, false, "second"))
	conv := chat.ChatWith("bob@x")
	last := func() chat.Command {
		cmds := h.userCommands()
		if len(cmds) == 0 {
			return nil
		}
		return cmds[len(cmds)-1]
	}
	waitLast := func(want chat.SendReaction) {
		t.Helper()
		h.waitCommand(fmt.Sprintf("%v", want), func(chat.Command) bool { return fmt.Sprint(last()) == fmt.Sprint(want) })
	}
	// e on a selected message puts /react in the composer, for it.
	altS(h)
	h.waitSelected("second")
	h.key(tcell.KeyRune, 'k', tcell.ModNone)
	h.key(tcell.KeyRune, 'k', tcell.ModNone)
	h.waitSelected("first")
	h.key(tcell.KeyRune, 'e', tcell.ModNone)
	h.waitFor("reacting to bob@x: first", "> /react")
	h.typeText("👍")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	waitLast(chat.SendReaction{Conv: conv, StoreID: 5, Emojis: []string{"👍"}})
	h.gone("reacting to bob@x")

	// Without a selection: the last message from the other side. Ours
	// are kept: the command carries the whole set; one given again is
	// taken back.
	h.model(func() {
		c := h.app.state.Convs[1]
		c.Lines[lineIndex(c, 7)].Reactions = []chat.Reaction{{Emoji: "👍", Count: 2, Own: true}, {Emoji: "🎉", Count: 1}}
	})
	h.command("/react ❤️")
	waitLast(chat.SendReaction{Conv: conv, StoreID: 7, Emojis: []string{"👍", "❤️"}})
	h.command("/react 👍")
	waitLast(chat.SendReaction{Conv: conv, StoreID: 7, Emojis: nil})
	h.command("/react 🎉🙂")
	waitLast(chat.SendReaction{Conv: conv, StoreID: 7, Emojis: []string{"👍", "🎉", "🙂"}})
	h.command("/react")
	waitLast(chat.SendReaction{Conv: conv, StoreID: 7, Emojis: nil})
	n := len(h.userCommands())
	h.command("/react ok")
	h.waitFor("“o” is not an emoji")
	if len(h.userCommands()) != n {
		t.Fatalf("a reaction was sent: %#v", last())
	}
	// + is react too; Esc cancels and clears the composer.
	altS(h)
	h.waitSelected("second")
	h.key(tcell.KeyRune, '+', tcell.ModNone)
	h.waitFor("reacting to bob@x: second")
	h.key(tcell.KeyEscape, 0, tcell.ModNone)
	h.waitFor("reaction cancelled")
	h.gone("reacting to bob@x", "> /react")
}

// Moving past the oldest message loaded reads older ones, and the
// selection moves on to them; the selected message is kept in view.
func TestSelectionLoadsOlderAndStaysInView(t *testing.T) {
	h := newHarness(t, 80, 12)
	var page []chat.StoredMessage
	for i := int64(20); i < 40; i++ {
		page = append(page, stored(i, i%3 == 0, fmt.Sprintf("message %d %s", i, strings.Repeat("long ", int(i%4)*10))))
	}
	h.bobPage(true, page...)
	altS(h)
	h.waitSelected("message 39")
	for i := 38; i >= 20; i-- {
		h.key(tcell.KeyUp, 0, tcell.ModNone)
		h.waitSelected(fmt.Sprintf("message %d ", i))
	}
	h.key(tcell.KeyUp, 0, tcell.ModNone)
	h.waitCommand("the page before row 20", func(c chat.Command) bool {
		l, ok := c.(chat.LoadHistory)
		return ok && l.Before == 20
	})
	h.send(chat.HistoryLoaded{Conv: chat.ChatWith("bob@x"), Before: 20, Messages: []chat.StoredMessage{stored(3, false, "the very first")}})
	h.waitSelected("the very first")
	h.key(tcell.KeyUp, 0, tcell.ModNone)
	h.waitFor("this is the first message")
	h.key(tcell.KeyEnd, 0, tcell.ModNone)
	h.waitSelected("message 39")
	h.key(tcell.KeyHome, 0, tcell.ModNone)
	h.waitSelected("the very first")
	h.key(tcell.KeyPgDn, 0, tcell.ModNone)
	h.waitUntil("PgDn to move the selection", func([]string) bool {
		rows := h.selectedRows()
		return len(rows) > 0 && !strings.Contains(strings.Join(rows, ""), "the very first")
	})
	h.key(tcell.KeyHome, 0, tcell.ModNone)
	h.waitSelected("the very first")

	// A flood trims the selected message out of the window: selecting
	// ends and says so; no other message becomes the one keys act on.
	for i := int64(0); i < MaxLines+MaxLines/4; i++ {
		h.send(chat.MessageReceived{Conv: chat.ChatWith("bob@x"), From: "bob@x/phone", Body: fmt.Sprintf("flood %d", i), StoreID: 1000 + i, Time: time.Now()})
	}
	h.waitFor("selecting ended: the message left the window")
	if rows := h.selectedRows(); len(rows) != 0 {
		t.Fatalf("still selected after the message left: %q", rows)
	}
	composerFocus := false
	h.onUI(func() { composerFocus = h.app.tv.GetFocus() == h.app.composer })
	if !composerFocus {
		t.Fatal("the composer did not get the focus back")
	}
	h.key(tcell.KeyRune, 'd', tcell.ModNone)
	h.waitFor("> d")
	altS(h)
	h.waitSelected("flood 2499")
}

// Enter on a reply selects the message it answers: at once when it is
// shown, else after reading it with its context from the store.
func TestGoToQuotedMessage(t *testing.T) {
	h := newHarness(t, 100, 20)
	h.bobPage(false, stored(5, false, "the question"), stored(6, true, "an answer"), stored(7, false, "about way back"))
	h.model(func() {
		c := h.app.state.Convs[1]
		c.Lines[lineIndex(c, 6)].Reply = &chat.ReplyInfo{StoreID: 5, Author: "bob", Quote: "the question"}
		c.Lines[lineIndex(c, 7)].Reply = &chat.ReplyInfo{StoreID: 2, Author: "me", Quote: "way back"}
	})
	h.waitFor("↱ bob: the question", "↱ me: way back")
	altS(h)
	h.waitSelected("about way back")
	h.key(tcell.KeyRune, 'k', tcell.ModNone)
	h.waitSelected("an answer")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitSelected("the question")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("this message is not a reply")
	h.key(tcell.KeyEnd, 0, tcell.ModNone)
	h.waitSelected("about way back")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitCommand("LoadAround row 2", func(c chat.Command) bool {
		return c == chat.LoadAround{Conv: chat.ChatWith("bob@x"), StoreID: 2}
	})
	h.send(chat.HistoryLoaded{Conv: chat.ChatWith("bob@x"), Around: 2, Messages: []chat.StoredMessage{stored(1, false, "before it"), stored(2, true, "way back"), stored(3, false, "after it")}})
	h.waitSelected("way back")
}

func TestModerateAsksReasonThenYes(t *testing.T) {
	h := newHarness(t, 100, 20)
	h.send(chat.RoomJoining{Room: tea, Nick: "ada"},
		chat.OccupantChanged{Room: tea, Occupant: occ("bob", room.Participant)},
		chat.RoomJoined{Room: tea, Self: occ("ada", room.Participant)})
	h.waitFor("2:tea@rooms.x")
	h.key(tcell.KeyRune, '2', tcell.ModAlt)
	h.send(chat.MessageReceived{Conv: chat.RoomConv(tea), From: tea + "/bob", Nick: "bob", Type: "groupchat", Body: "spam spam", StoreID: 40, Time: time.Now()})
	h.waitFor("bob: spam spam")
	altS(h)
	h.waitSelected("spam spam")
	h.key(tcell.KeyRune, 'd', tcell.ModNone)
	h.waitFor("only your own messages can be retracted (a room's moderators can remove")
	h.key(tcell.KeyRune, 'm', tcell.ModNone)
	h.waitFor("only the room's moderators can remove a message")
	h.send(chat.RoomJoined{Room: tea, Self: occ("ada", room.Moderator)})
	// Not yet a moderator as the room says: wait for it before asking.
	h.waitUntil("ada to be a moderator", func([]string) bool {
		ok := false
		h.onUI(func() { ok = h.app.state.Room("me", tea).Self().Role == room.Moderator })
		return ok
	})
	h.key(tcell.KeyRune, 'm', tcell.ModNone)
	h.waitFor("Reason (may be empty)", "Remove bob's message for everyone", "“spam spam”")
	h.typeText("no spam")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("Remove it for everyone? y: yes, any other key: no")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("nothing done")
	h.gone("Reason (may be empty)")
	h.waitSelected("spam spam") // the focus came back to the selection
	h.key(tcell.KeyRune, 'm', tcell.ModNone)
	h.waitFor("Reason (may be empty)")
	h.typeText("no spam")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("Remove it for everyone?")
	h.key(tcell.KeyRune, 'y', tcell.ModNone)
	h.waitFor("asked the room to remove the message")
	h.waitCommands(chat.ModerateMessage{Conv: chat.RoomConv(tea), StoreID: 40, Reason: "no spam"})
}

// hostile is remote text that tries markup, escapes, bidi and width.
const hostile = "[red]x[-][:::https://evil]\x1b[2J\u202Eevil\u009b31m"

// The rows around a message at 80×24 and at the narrowest window: the
// quote above, the file and the reactions below, a tombstone for the
// body; remote text in each drawn as characters, every row within the
// screen.
func TestRowsAroundMessages(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {40, 24}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			h := newHarness(t, size[0], size[1])
			h.bobPage(false, stored(5, false, "quoted"), stored(6, false, "reply body"), stored(7, true, "gone"),
				stored(8, false, ""), stored(9, false, "moderated"), stored(10, false, "tally"))
			h.key(tcell.KeyF5, 0, tcell.ModNone) // the whole width for the conversation
			h.waitFor("contact list hi")
			h.model(func() {
				c := h.app.state.Convs[1]
				at := func(id int64) *Line { return &c.Lines[lineIndex(c, id)] }
				at(6).Reply = &chat.ReplyInfo{StoreID: 5, Author: "bob" + hostile, Quote: "quoted " + hostile + "\nsecond line"}
				at(7).Retracted, at(7).Body = &chat.Retraction{}, ""
				at(8).File = &chat.FileInfo{URL: "https://x/f.pdf", Name: "report" + hostile + ".pdf", Size: 1234567}
				at(9).Retracted, at(9).Body = &chat.Retraction{Moderated: true, Reason: "spam" + hostile}, ""
				at(10).Reactions = []chat.Reaction{{Emoji: "👍", Count: 3}, {Emoji: "❤", Count: 1, Own: true}, {Emoji: hostile, Count: 2}}
			})
			ls := h.waitFor("↱ bob[red]x", "message retracted", "bob@x: 📎 report[red]x", "removed by a moderator:", "spam[red]x", "👍\u00a03  [❤\u00a01]  [re…\u00a02")
			all := strings.Join(ls, "\n")
			for _, bad := range []string{"\x1b", "\u202E", "\u009b", "second line"} {
				if strings.Contains(all, bad) {
					t.Fatalf("%q reached the screen:\n%s", bad, all)
				}
			}
			for _, l := range ls {
				if uniseg.StringWidth(l) > size[0] {
					t.Fatalf("row wider than the screen: %q", l)
				}
			}
			if !strings.Contains(all, "(1.2 MB)") {
				t.Fatalf("no file size:\n%s", all)
			}
			// The quote is above its message, the tally under its own.
			q, b := lineWith(ls, "↱ bob"), lineWith(ls, "reply body")
			if q < 0 || b != q+1 {
				t.Fatalf("quote at %d, message at %d:\n%s", q, b, all)
			}
			r, m := lineWith(ls, "👍"), lineWith(ls, "tally")
			if r != m+1 {
				t.Fatalf("tally at %d, message at %d:\n%s", r, m, all)
			}
			// The tally changes in place: the wrap cache follows it.
			h.model(func() {
				c := h.app.state.Convs[1]
				c.Lines[lineIndex(c, 10)].Reactions[0].Count = 4
			})
			h.waitFor("👍\u00a04")
			// Selecting a message with a quote marks its quote row too.
			altS(h)
			h.waitSelected("tally")
			for i := 0; i < 4; i++ {
				h.key(tcell.KeyUp, 0, tcell.ModNone)
			}
			h.waitSelected("reply body")
			if rows := h.selectedRows(); len(rows) != 2 || !strings.Contains(rows[0], "↱ bob") {
				t.Fatalf("selected rows %q", rows)
			}
		})
	}
}

func TestSizesAndEmojis(t *testing.T) {
	for n, want := range map[int64]string{0: "0 bytes", 1: "1 byte", 999: "999 bytes", 1000: "1.0 kB", 1234567: "1.2 MB", 999_960: "1.0 MB", 5 << 30: "5.4 GB"} {
		if got := sizeText(n); got != want {
			t.Errorf("sizeText(%d) = %q, want %q", n, got, want)
		}
	}
	for in, want := range map[string]string{"👍": "👍", "👍 ❤️": "👍|❤️", "👍👍": "👍", "🇫🇷1️⃣": "🇫🇷|1️⃣", "👩‍👩‍👧": "👩‍👩‍👧", "": ""} {
		got, err := parseEmojis(in)
		if err != nil || strings.Join(got, "|") != want {
			t.Errorf("parseEmojis(%q) = %q, %v; want %q", in, got, err, want)
		}
	}
	for _, bad := range []string{"a", "👍 x", ":)", "1"} {
		if _, err := parseEmojis(bad); err == nil {
			t.Errorf("parseEmojis(%q) accepted", bad)
		}
	}
	if got := clipText("a\x1b[201~b\n\tc\u202Ed"); got != "a[201~b\n\tcd" {
		t.Errorf("clipText = %q", got)
	}
}

// The quote row names the author and the first line of the answered
// message only when it is in the history (what the store has, not what
// the sender says it said); a quote only the sender vouches for says so,
// so that no one can put words in another's mouth.
func TestQuoteTextSaysWhoVouchesForIt(t *testing.T) {
	for _, tc := range []struct {
		r    chat.ReplyInfo
		want string
	}{
		{chat.ReplyInfo{StoreID: 5, Author: "alice", Quote: "lunch?"}, "↱ alice: lunch?"},
		{chat.ReplyInfo{StoreID: 5, Author: "alice"}, "↱ in reply to alice"},
		{chat.ReplyInfo{Author: "alice", Quote: "I never said this"}, "↱ in reply to alice, quoted as: I never said this"},
		{chat.ReplyInfo{Quote: "alice: I never said this"}, "↱ quoted as: alice: I never said this"},
		{chat.ReplyInfo{Author: "alice"}, "↱ in reply to alice"},
		{chat.ReplyInfo{}, "↱ in reply to an earlier message"},
	} {
		if got := quoteText(&tc.r); got != tc.want {
			t.Errorf("quoteText(%+v) = %q, want %q", tc.r, got, tc.want)
		}
	}
}

// Without colour (NO_COLOR) the selection still shows: reverse video is
// an attribute, not a colour.
func TestSelectionShowsWithoutColour(t *testing.T) {
	t.Setenv("NO_COLOR", "1")
	h := newHarness(t, 80, 24)
	h.bobPage(false, stored(5, false, "one"), stored(6, true, "two"))
	altS(h)
	h.waitSelected("two")
	h.key(tcell.KeyUp, 0, tcell.ModNone)
	h.waitSelected("one")
	if rows := h.selectedRows(); len(rows) != 1 {
		t.Fatalf("selected rows %q", rows)
	}
}

// Remote text in what selecting shows (the reply and reaction banners,
// the moderation dialog's title) is drawn as characters.
func TestSelectionShowsRemoteTextInertly(t *testing.T) {
	h := newHarness(t, 100, 24)
	nick := "[red]b" + hostile
	h.send(chat.RoomJoining{Room: tea, Nick: "ada"},
		chat.OccupantChanged{Room: tea, Occupant: occ(nick, room.Participant)},
		chat.RoomJoined{Room: tea, Self: occ("ada", room.Moderator)})
	h.waitFor("2:tea@rooms.x")
	h.key(tcell.KeyRune, '2', tcell.ModAlt)
	h.send(chat.MessageReceived{Conv: chat.RoomConv(tea), From: tea + "/" + nick, Nick: nick, Type: "groupchat", Body: "body" + hostile + "\nline two", StoreID: 41, Time: time.Now()})
	h.waitFor("body[red]x")
	check := func() {
		t.Helper()
		all := h.screenText()
		for _, bad := range []string{"\x1b", "\u202E", "\u009b", "line two\n"} {
			if strings.Contains(all, bad) {
				t.Fatalf("%q reached the screen:\n%s", bad, all)
			}
		}
		h.noRedCells()
	}
	altS(h)
	h.waitSelected("body[red]x")
	h.key(tcell.KeyRune, 'r', tcell.ModNone)
	h.waitFor("replying to [red]b[red]x", ": body[red]x[-]")
	check()
	h.key(tcell.KeyEscape, 0, tcell.ModNone)
	h.waitFor("reply cancelled")
	altS(h)
	h.waitSelected("body[red]x")
	h.key(tcell.KeyRune, 'e', tcell.ModNone)
	h.waitFor("reacting to [red]b[red]x")
	check()
	h.key(tcell.KeyEscape, 0, tcell.ModNone)
	h.waitFor("reaction cancelled")
	altS(h)
	h.waitSelected("body[red]x")
	h.key(tcell.KeyRune, 'm', tcell.ModNone)
	h.waitFor("Reason (may be empty)", "Remove [red]b")
	check()
	h.key(tcell.KeyEscape, 0, tcell.ModNone)
	h.waitFor("nothing done")
}

// A flood of distinct reactions on one message (an occupant changing
// nick between sets, in a room without occupant-ids; many accounts)
// takes a bounded number of rows: the most given are shown, ours always,
// and how many more there are.
func TestReactionFloodIsBounded(t *testing.T) {
	var rs []chat.Reaction
	for i := 0; i < 5000; i++ {
		rs = append(rs, chat.Reaction{Emoji: string(rune(0x4e00 + i)), Count: 1})
	}
	rs[10].Count, rs[4000].Count = 7, 3
	rs[4999].Own = true
	var b strings.Builder
	for _, c := range reactionClusters(rs) {
		b.WriteString(string(c.runes))
	}
	got := b.String()
	for _, want := range []string{string(rune(0x4e00+10)) + "\u00a07", string(rune(0x4e00+4000)) + "\u00a03", "[" + string(rune(0x4e00+4999)) + "\u00a01]", "+" + fmt.Sprint(5000-maxShownReactions) + " more"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q missing from the tally", want)
		}
	}
	if n := strings.Count(got, "\u00a0"); n != maxShownReactions {
		t.Errorf("%d reactions shown, want %d", n, maxShownReactions)
	}
	if !strings.HasPrefix(got, string(rune(0x4e00+10))) {
		t.Errorf("the tally does not start with the most given: %.40q", got)
	}
}

// A file's row without a known size; many reactions wrap within the
// width, none split across rows.
func TestFileAndReactionRowsFit(t *testing.T) {
	text := func(cs []cluster) string {
		var b strings.Builder
		for _, c := range cs {
			b.WriteString(string(c.runes))
		}
		return b.String()
	}
	if got := text(fileClusters(&chat.FileInfo{URL: "https://x/a", Name: "a.txt", Size: -1}, 40)); got != "📎 a.txt" {
		t.Errorf("file row %q", got)
	}
	if got := text(fileClusters(&chat.FileInfo{URL: "https://x/a", Name: strings.Repeat("long", 20) + ".bin", Size: 5e6}, 30)); !strings.HasSuffix(got, "… (5.0 MB)") || uniseg.StringWidth(got) > 30 {
		t.Errorf("long file row %q", got)
	}
	var rs []chat.Reaction
	for i, e := range []string{"👍", "❤️", "😂", "🎉", "🙏", "👀", "🔥", "💯", "✅", "🇫🇷", "👩‍👩‍👧", "1️⃣"} {
		rs = append(rs, chat.Reaction{Emoji: e, Count: i + 1, Own: i%3 == 0})
	}
	l := &Line{Kind: LineIn, Body: "x", Reactions: rs}
	rows := aroundRows(l, []row{{body: clusters("x")}}, 30, 6)
	got := ""
	for _, r := range rows[1:] {
		w := 0
		for _, c := range r.body {
			w += c.width
		}
		if w > 24 || r.part != partReactions {
			t.Fatalf("reaction row %q: %d cells, part %d", text(r.body), w, r.part)
		}
		got += text(r.body) + "|"
	}
	if len(rows) < 3 {
		t.Fatalf("12 reactions in 24 cells took %d rows", len(rows)-1)
	}
	for _, r := range rs {
		one := r.Emoji + "\u00a0" + fmt.Sprint(r.Count)
		if r.Own {
			one = "[" + one + "]"
		}
		if !strings.Contains(got, one) {
			t.Errorf("reaction %q split or missing in %q", one, got)
		}
	}
}

// The status line's hint names the key that selects a message, within 80
// columns, so that acting on a message is found without F1; with the
// key bound elsewhere it names that key.
func TestHintNamesSelectKey(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.bobPage(false, stored(5, false, "hello from bob"))
	h.waitFor("Alt+s: select")
	altS(h)
	h.waitFor("selecting: ↑↓ move")
	h.key(tcell.KeyEscape, 0, tcell.ModNone)
	h.waitFor("Alt+s: select")

	settings := config.DefaultSettings()
	settings.Keys = map[string][]string{"select_message": {"F7"}}
	h2 := newHarnessWith(t, 80, 24, settings, nil)
	h2.waitFor("F7: select")
}

// A paste while a message is selected is text, not keys: it goes to the
// composer, whole, and the selection ends (as a paste on the contact list
// does), so nothing pasted is lost or taken for actions.
func TestPasteWhileSelectingGoesToComposer(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.bobPage(false, stored(5, false, "hello from bob"))
	altS(h)
	h.waitSelected("hello from bob")
	h.screen.PostEventWait(tcell.NewEventPaste(true))
	h.typeText("read this")
	h.screen.PostEventWait(tcell.NewEventPaste(false))
	h.waitFor("> read this")
	h.waitUntil("the selection to end", func([]string) bool { return len(h.selectedRows()) == 0 })
	if cmds := h.userCommands(); len(cmds) != 0 {
		t.Fatalf("the paste acted on the message: %v", cmds)
	}
}

// A mistyped reaction to a chosen message loses neither: the error says
// so, the composer keeps the line to fix and the banner its message, and
// the reaction fixed goes to that message, not to the newest.
func TestMistypedReactionKeepsItsMessage(t *testing.T) {
	h := newHarness(t, 100, 20)
	h.bobPage(false, stored(5, false, "first"), stored(6, false, "second"))
	altS(h)
	h.waitSelected("second")
	h.key(tcell.KeyRune, 'k', tcell.ModNone)
	h.waitSelected("first")
	h.key(tcell.KeyRune, 'e', tcell.ModNone)
	h.waitFor("reacting to bob@x: first", "> /react")
	h.typeText("ok")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("“o” is not an emoji", "reacting to bob@x: first", "> /react ok")
	h.key(tcell.KeyBackspace2, 0, tcell.ModNone)
	h.key(tcell.KeyBackspace2, 0, tcell.ModNone)
	h.typeText("👍")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	want := chat.SendReaction{Conv: chat.ChatWith("bob@x"), StoreID: 5, Emojis: []string{"👍"}}
	h.waitCommand(fmt.Sprint(want), func(chat.Command) bool {
		for _, c := range h.userCommands() {
			if _, ok := c.(chat.SendReaction); ok {
				return true
			}
		}
		return false
	})
	var got []chat.Command
	for _, c := range h.userCommands() {
		if _, ok := c.(chat.SendReaction); ok {
			got = append(got, c)
		}
	}
	if len(got) != 1 || fmt.Sprint(got[0]) != fmt.Sprint(want) {
		t.Fatalf("reactions sent: %v, want %v", got, want)
	}
	h.gone("reacting to bob@x")
}

// The retract question fits an 80-column terminal whatever else the
// status line has to say (here an archive catch-up under way): the key
// that answers it and the message it is about are both shown.
func TestRetractQuestionFitsEightyColumns(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.bobPage(false, stored(5, false, "hello from bob"), stored(6, true, "see you at the station at nine, platform four"))
	h.send(chat.CatchUpProgress{Read: 1350, Total: 5204})
	h.waitFor("catching up: 1,350 of ~5,204")
	altS(h)
	h.waitSelected("see you at the station")
	h.key(tcell.KeyRune, 'd', tcell.ModNone)
	ls := h.waitFor("retract for everyone? y: yes, any other key: no")
	status := ls[len(ls)-1]
	if !strings.Contains(status, "“see you") {
		t.Fatalf("the question does not show which message it is about: %q", status)
	}
	// Answered, the status line says what it said before.
	h.key(tcell.KeyRune, 'n', tcell.ModNone)
	h.waitFor("catching up: 1,350 of ~5,204", "nothing done")
}

// A message whose first lines are blank is quoted by its first line with
// something on it: an empty quote would not say which message a question
// is about.
func TestQuestionQuotesFirstLineWithText(t *testing.T) {
	h := newHarness(t, 100, 24)
	h.bobPage(false, stored(5, false, "hello from bob"), stored(6, true, "\n \t\r\nthe real words\nmore"), stored(7, false, "latest from bob"))
	altS(h)
	h.waitSelected("latest from bob")
	h.key(tcell.KeyRune, 'k', tcell.ModNone)
	h.waitSelected("the real words")
	h.key(tcell.KeyRune, 'd', tcell.ModNone)
	h.waitFor("retract for everyone? y: yes, any other key: no · “the real words”")
	h.key(tcell.KeyEscape, 0, tcell.ModNone)
	h.waitFor("nothing done")
}

// A flood pushes the message out of the window while the moderation
// dialog about it is open: the dialog still acts on the message it
// quotes, and once it closes the keys go to the composer, not to a
// conversation view that has nothing selected (where they did nothing).
func TestModerationDialogOutlivesTheSelection(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.send(chat.RoomJoining{Room: tea, Nick: "ada"},
		chat.OccupantChanged{Room: tea, Occupant: occ("bob", room.Participant)},
		chat.RoomJoined{Room: tea, Self: occ("ada", room.Moderator)})
	h.waitFor("2:tea@rooms.x")
	h.key(tcell.KeyRune, '2', tcell.ModAlt)
	h.send(chat.MessageReceived{Conv: chat.RoomConv(tea), From: tea + "/bob", Nick: "bob", Type: "groupchat", Body: "spam spam", StoreID: 40, Time: time.Now()})
	h.waitFor("bob: spam spam")
	altS(h)
	h.waitSelected("spam spam")
	h.key(tcell.KeyRune, 'm', tcell.ModNone)
	h.waitFor("Reason (may be empty)", "“spam spam”")
	for i := int64(0); i < MaxLines+MaxLines/4; i++ {
		h.send(chat.MessageReceived{Conv: chat.RoomConv(tea), From: tea + "/bob", Nick: "bob", Type: "groupchat", Body: fmt.Sprintf("flood %d", i), StoreID: 1000 + i, Time: time.Now()})
	}
	h.waitFor("selecting ended: the message left the window", "Reason (may be empty)")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("Remove it for everyone? y: yes, any other key: no")
	h.key(tcell.KeyRune, 'y', tcell.ModNone)
	h.waitFor("asked the room to remove the message")
	h.waitCommands(chat.ModerateMessage{Conv: chat.RoomConv(tea), StoreID: 40})
	h.gone("Reason (may be empty)")
	h.typeText("after")
	h.waitFor("> after")
}

// Up at the oldest message asks for older ones; a flood pushes the
// selected message out of the window before they come: selecting ends
// then, and the older page arriving later selects nothing (before, the
// newest message silently became the selected one).
func TestSelectionEndsWhenTrimmedWhileReadingOlder(t *testing.T) {
	h := newHarness(t, 100, 20)
	h.bobPage(true, stored(5, false, "oldest shown"), stored(6, false, "middle one"), stored(7, false, "latest from bob"))
	altS(h)
	h.waitSelected("latest from bob")
	h.key(tcell.KeyRune, 'k', tcell.ModNone)
	h.waitSelected("middle one")
	h.key(tcell.KeyRune, 'k', tcell.ModNone)
	h.waitSelected("oldest shown")
	h.key(tcell.KeyRune, 'k', tcell.ModNone)
	h.waitFor("reading older messages…")
	for i := int64(0); i < MaxLines+MaxLines/4; i++ {
		h.send(chat.MessageReceived{Conv: chat.ChatWith("bob@x"), From: "bob@x/phone", Body: fmt.Sprintf("flood %d", i), StoreID: 1000 + i, Time: time.Now()})
	}
	h.waitFor("selecting ended: the message left the window")
	h.send(chat.HistoryLoaded{Conv: chat.ChatWith("bob@x"), Before: 5, More: false, Messages: []chat.StoredMessage{stored(3, false, "older page")}})
	h.send(chat.MessageReceived{Conv: chat.ChatWith("bob@x"), From: "bob@x/phone", Body: "sentinel", StoreID: 9000, Time: time.Now()})
	h.key(tcell.KeyEnd, 0, tcell.ModNone) // the view stayed where it was
	h.waitFor("sentinel")
	if rows := h.selectedRows(); len(rows) != 0 {
		t.Fatalf("a message became selected after the selected one left: %q", rows)
	}
	h.typeText("typed")
	h.waitFor("> typed")
}
