package ui

import (
	"fmt"
	"github.com/gab-chat/gab/chat"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/room"
	"github.com/gab-chat/gab/roster"
	"github.com/gdamore/tcell/v2"
	"github.com/rivo/tview"
)

func benchScreen(b *testing.B) tcell.SimulationScreen {
	s := tcell.NewSimulationScreen("UTF-8")
	if err := s.Init(); err != nil {
		b.Fatal(err)
	}
	s.SetSize(160, 50)
	return s
}

// Drawing the roster pane with 10,000 contacts, as every redraw does.
func BenchmarkRosterViewDraw10k(b *testing.B) {
	acct := &Account{Name: "a", Roster: roster.New(), Conn: "online"}
	items := make([]roster.Item, 10000)
	for i := range items {
		items[i] = roster.Item{JID: fmt.Sprintf("c%05d@x", i), Name: fmt.Sprintf("Contact %05d", i), Subscription: "both", Groups: []string{fmt.Sprintf("G%02d", i%20)}}
	}
	acct.Roster.Reset(items, "")
	state := NewState([]*Account{acct})
	v := NewRosterView(state)
	v.SetRect(0, 0, 30, 50)
	scr := benchScreen(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		v.Draw(scr)
	}
}

// Drawing a conversation of 2,000 replies with reactions and a file each,
// the newest selected: the rows around the body are wrapped once, and each
// draw only checks that what they show has not changed.
func BenchmarkConvViewDrawAround(b *testing.B) {
	state := NewState(nil)
	c, _ := state.Open("a", chat.ChatWith("p@x"))
	state.Active = 1
	for i := 0; i < MaxLines; i++ {
		c.add(Line{Time: time.Now(), Sender: "Peer", SenderKey: "p@x", Body: fmt.Sprintf("message %d with some words", i), Kind: LineIn, StoreID: int64(i + 1),
			Reply:     &chat.ReplyInfo{StoreID: int64(i), Author: "Someone", Quote: "what was said before, at some length"},
			File:      &chat.FileInfo{URL: "https://x/f.png", Name: "f.png", Size: 123456},
			Reactions: []chat.Reaction{{Emoji: "👍", Count: 3}, {Emoji: "❤", Count: 1, Own: true}, {Emoji: "🎉", Count: 12}}})
	}
	v := NewConvView(state, "15:04")
	v.Selected = func() int64 { return MaxLines }
	v.SetRect(0, 0, 120, 48)
	scr := benchScreen(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		v.Draw(scr)
	}
}

// Drawing a conversation of 2,000 lines; the first draw wraps, the rest
// reuse the wrapping.
func BenchmarkConvViewDraw(b *testing.B) {
	state := NewState(nil)
	c, _ := state.Open("a", chat.ChatWith("p@x"))
	state.Active = 1
	for i := 0; i < MaxLines; i++ {
		c.add(Line{Time: time.Now(), Sender: "Peer", SenderKey: "p@x", Body: fmt.Sprintf("message %d with some words that wrap around the width of the pane 日本語 👩‍👩‍👧", i), Kind: LineIn})
	}
	v := NewConvView(state, "15:04")
	v.SetRect(0, 0, 120, 48)
	scr := benchScreen(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		v.Draw(scr)
	}
}

// Wrapping one new message, as each arrival costs.
func BenchmarkWrapMessage(b *testing.B) {
	text := "a fairly ordinary chat message, with some punctuation, an emoji 🎉 and a few CJK characters 日本語 to wrap"
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		wrap(clusters(text), 60)
	}
}

// A 100,000-character paste into the composer, through the path a paste
// takes in the running app (the root's paste handler down to the focused
// composer), and the frame drawn after it.
func BenchmarkComposerPaste100k(b *testing.B) {
	a := New([]*Account{{Name: "me", Show: roster.Online}}, Options{Settings: config.DefaultSettings()})
	scr := benchScreen(b)
	scr.SetSize(80, 24)
	a.pages.SetRect(0, 0, 80, 24)
	text := strings.Repeat("0123456789 abcdefghijklmnopqrstuvwxyz ", 100000/38+1)[:100000]
	paste := a.pages.PasteHandler()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		a.composer.Clear()
		paste(text, func(tview.Primitive) {})
		a.pages.Draw(scr)
	}
	if n := len(a.composer.GetText()); n != len(text) {
		b.Fatalf("composer holds %d bytes", n)
	}
}

// One key typed at the end of a 100,000-character message.
func BenchmarkComposerKeyAfter100k(b *testing.B) {
	a := New([]*Account{{Name: "me", Show: roster.Online}}, Options{Settings: config.DefaultSettings()})
	scr := benchScreen(b)
	scr.SetSize(80, 24)
	a.pages.SetRect(0, 0, 80, 24)
	a.composer.SetText(strings.Repeat("0123456789 abcdefghijklmnopqrstuvwxyz ", 100000/38+1)[:100000], true)
	input := a.pages.InputHandler()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		input(tcell.NewEventKey(tcell.KeyRune, 'x', tcell.ModNone), func(tview.Primitive) {})
		a.pages.Draw(scr)
	}
}

// A room of 1,000 filling up: the room's presences applied (RoomJoining,
// 1,000 occupants, our own presence) and the room tab drawn once, with its
// occupant list.
func BenchmarkRoomJoin1000(b *testing.B) {
	const tea = "tea@rooms.x"
	evs := make([]chat.Event, 0, 1002)
	evs = append(evs, chat.RoomJoining{Room: tea, Nick: "ada"})
	for i := range 1000 {
		role := room.Participant
		if i%50 == 0 {
			role = room.Moderator
		}
		evs = append(evs, chat.OccupantChanged{Room: tea, Occupant: room.Occupant{Nick: fmt.Sprintf("occupant%04d", i), Role: role, Show: roster.Online}})
	}
	evs = append(evs, chat.RoomJoined{Room: tea, Self: room.Occupant{Nick: "ada", Role: room.Participant, Show: roster.Online}})
	scr := benchScreen(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		state := NewState([]*Account{{Name: "a"}})
		for _, ev := range evs {
			state.Apply("a", ev)
		}
		state.Flush()
		state.Active = 1
		row := &convRow{Box: tview.NewBox(), conv: NewConvView(state, "15:04"), occ: NewOccupantView(state), want: true}
		row.SetRect(0, 0, 130, 48)
		row.Draw(scr)
	}
}

// Drawing a room tab of 1,000 occupants again, as every frame does.
func BenchmarkRoomTabDraw1000(b *testing.B) {
	const tea = "tea@rooms.x"
	state := NewState([]*Account{{Name: "a"}})
	state.Apply("a", chat.RoomJoining{Room: tea, Nick: "ada"})
	for i := range 1000 {
		state.Apply("a", chat.OccupantChanged{Room: tea, Occupant: room.Occupant{Nick: fmt.Sprintf("occupant%04d", i), Role: room.Participant, Show: roster.Online}})
	}
	state.Apply("a", chat.RoomJoined{Room: tea, Self: room.Occupant{Nick: "ada", Role: room.Participant, Show: roster.Online}})
	state.Active = 1
	row := &convRow{Box: tview.NewBox(), conv: NewConvView(state, "15:04"), occ: NewOccupantView(state), want: true}
	row.SetRect(0, 0, 130, 48)
	scr := benchScreen(b)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		row.Draw(scr)
	}
}
