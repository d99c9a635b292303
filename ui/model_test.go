package ui

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
)

// Lines trimmed from the window can be paged in again, and the set of
// shown rows does not grow without bound.
func TestTrimmedLinesCanComeBack(t *testing.T) {
	c := &Conversation{Mark: -1}
	for i := 1; i <= MaxLines+MaxLines/2; i++ {
		c.add(Line{StoreID: int64(i), Body: "m", Time: time.Now()})
	}
	first := c.Lines[0].StoreID
	if first == 1 || len(c.stored) != len(c.Lines) {
		t.Fatalf("window starts at %d, %d rows remembered for %d lines", first, len(c.stored), len(c.Lines))
	}
	c.addHistory([]Line{{StoreID: first - 2, Body: "older"}, {StoreID: first - 1, Body: "old"}})
	if c.Lines[0].StoreID != first-2 || c.Lines[1].StoreID != first-1 {
		t.Fatalf("paged-back lines not shown: %d, %d", c.Lines[0].StoreID, c.Lines[1].StoreID)
	}
}

// A history request that failed leaves the tab free to ask again.
func TestFailedHistoryRequestEndsLoading(t *testing.T) {
	s := NewState([]*Account{{Name: "a"}})
	c, _ := s.Open("a", chat.ChatWith("bob@x"))
	c.Loading = true
	s.Apply("a", chat.CommandFailed{ID: 1, Command: chat.LoadHistory{Conv: chat.ChatWith("bob@x")}, Err: errors.New("read history: disk I/O error")})
	if c.Loading {
		t.Fatal("the tab still waits for a page that is not coming")
	}
}

// An outage is one console line however many attempts fail; the status
// line follows each attempt's countdown.
func TestOutageIsOneConsoleLine(t *testing.T) {
	acct := &Account{Name: "a"}
	s := NewState([]*Account{acct})
	before := len(s.Console().Lines)
	refused := errors.New("connect: connection refused")
	s.Apply("a", chat.Disconnected{Err: errors.New("EOF"), RetryIn: time.Second})
	for n := 2; n <= 6; n++ {
		s.Apply("a", chat.Retrying{Err: refused, RetryIn: time.Duration(n) * time.Second, Attempt: n})
	}
	if got := len(s.Console().Lines) - before; got != 1 {
		t.Errorf("%d console lines for one outage", got)
	}
	if acct.Conn != "reconnecting in 6s" {
		t.Errorf("status %q", acct.Conn)
	}
}

func bodiesOf(c *Conversation) []string {
	var out []string
	for _, l := range c.Lines {
		out = append(out, l.Body)
	}
	return out
}

// Messages the catch-up merges in (from the archive, sent a while ago)
// appear where their time puts them, not at the end; the "new messages"
// marker goes before the first unseen one.
func TestMergedMessagesTakeTheirPlaceInTime(t *testing.T) {
	s := NewState([]*Account{{Name: "a", JID: "me@x"}})
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return base.Add(time.Duration(min) * time.Minute) }
	s.Apply("a", chat.MessageReceived{Conv: chat.ChatWith("bob@x"), Bare: "bob@x", From: "bob@x/r", Body: "1", Time: at(1), StoreID: 1})
	s.Apply("a", chat.MessageReceived{Conv: chat.ChatWith("bob@x"), Bare: "bob@x", From: "bob@x/r", Body: "5", Time: at(5), StoreID: 2})
	c, i := s.Find("a", chat.ChatWith("bob@x"))
	s.Active = i
	c.Mark = -1
	s.Active = 0 // the user looks elsewhere while the catch-up comes in
	s.Apply("a", chat.MessageReceived{Conv: chat.ChatWith("bob@x"), Bare: "bob@x", From: "bob@x/r", Body: "3", Time: at(3), StoreID: 3, Delayed: true, Archived: true})
	s.Apply("a", chat.CarbonSent{Conv: chat.ChatWith("bob@x"), To: "bob@x", Body: "4", Time: at(4), StoreID: 4, Delayed: true})
	s.Apply("a", chat.MessageReceived{Conv: chat.ChatWith("bob@x"), Bare: "bob@x", From: "bob@x/r", Body: "2", Time: at(2), StoreID: 5, Delayed: true, Archived: true})
	if got := fmt.Sprint(bodiesOf(c)); got != "[1 2 3 4 5]" {
		t.Fatalf("lines %s, want [1 2 3 4 5]", got)
	}
	if c.Mark != 1 {
		t.Fatalf("new-messages marker at %d, want 1 (before the oldest unseen)", c.Mark)
	}
	// A live message goes at the end, whatever its clock says.
	s.Apply("a", chat.MessageReceived{Conv: chat.ChatWith("bob@x"), Bare: "bob@x", From: "bob@x/r", Body: "live", Time: at(0), StoreID: 6})
	if got := fmt.Sprint(bodiesOf(c)); got != "[1 2 3 4 5 live]" {
		t.Fatalf("lines %s", got)
	}
}

// A page of history with messages newer than some shown (a late merge in
// the store) interleaves by time.
func TestHistoryPageInterleavesByTime(t *testing.T) {
	s := NewState([]*Account{{Name: "a", JID: "me@x"}})
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(min int) time.Time { return base.Add(time.Duration(min) * time.Minute) }
	s.Apply("a", chat.MessageReceived{Conv: chat.ChatWith("bob@x"), Bare: "bob@x", From: "bob@x/r", Body: "2", Time: at(2), StoreID: 10})
	s.Apply("a", chat.MessageReceived{Conv: chat.ChatWith("bob@x"), Bare: "bob@x", From: "bob@x/r", Body: "4", Time: at(4), StoreID: 11})
	c, _ := s.Find("a", chat.ChatWith("bob@x"))
	s.Apply("a", chat.HistoryLoaded{Conv: chat.ChatWith("bob@x"), Messages: []chat.StoredMessage{
		{StoreID: 1, Body: "1", Time: at(1)}, {StoreID: 10, Body: "2", Time: at(2)},
		{StoreID: 12, Body: "3", Time: at(3)}, {StoreID: 11, Body: "4", Time: at(4)},
	}})
	if got := fmt.Sprint(bodiesOf(c)); got != "[1 2 3 4]" {
		t.Fatalf("lines %s, want [1 2 3 4]", got)
	}
	// Paging back: all older, in front at once.
	s.Apply("a", chat.HistoryLoaded{Conv: chat.ChatWith("bob@x"), Before: 1, Messages: []chat.StoredMessage{{StoreID: 7, Body: "0", Time: at(0)}}})
	if got := fmt.Sprint(bodiesOf(c)); got != "[0 1 2 3 4]" {
		t.Fatalf("after paging back: %s", got)
	}
}

// A message given up for a known reason says why, in its conversation.
func TestUndeliveredMessageShowsItsReason(t *testing.T) {
	s := NewState([]*Account{{Name: "a", JID: "me@x"}})
	s.Apply("a", chat.MessageSent{Conv: chat.ChatWith("bob@x"), ID: "m1", To: "bob@x", Body: "huge", State: chat.DeliveryUnacked, Time: time.Now()})
	c, _ := s.Find("a", chat.ChatWith("bob@x"))
	s.Apply("a", chat.DeliveryChanged{Conv: chat.ChatWith("bob@x"), ID: "m1", To: "bob@x", State: chat.DeliveryFailed, Reason: "the server refused it as too big (301 KiB as sent)"})
	last := c.Lines[len(c.Lines)-1]
	if c.Lines[0].State != chat.DeliveryFailed || last.Kind != LineError || last.Body != "not delivered: the server refused it as too big (301 KiB as sent)" {
		t.Fatalf("lines: %+v", c.Lines)
	}
}

// A correction that may not correct comes as a message of its own with a
// note, shown under it; messages corrected earlier show "(edited)" when
// read back from history.
func TestCorrectionShownAsANewMessageCarriesItsNote(t *testing.T) {
	s := NewState([]*Account{{Name: "a", JID: "me@x"}})
	now := time.Date(2026, 11, 29, 12, 0, 0, 0, time.UTC)
	s.Apply("a", chat.MessageReceived{Conv: chat.ChatWith("bob@x"), ID: "m1", From: "bob@x/pc", Bare: "bob@x", Body: "one", Time: now})
	s.Apply("a", chat.MessageReceived{Conv: chat.ChatWith("bob@x"), ID: "m2", From: "bob@x/evil", Bare: "bob@x", Body: "one, rewritten", Time: now.Add(time.Second), Note: "sent as a correction"})
	c, _ := s.Find("a", chat.ChatWith("bob@x"))
	if len(c.Lines) != 3 || c.Lines[0].Body != "one" || c.Lines[0].Edited || c.Lines[1].Body != "one, rewritten" ||
		c.Lines[2].Kind != LineInfo || c.Lines[2].Body != "sent as a correction" {
		t.Fatalf("lines: %+v", c.Lines)
	}
	s.Apply("a", chat.HistoryLoaded{Conv: chat.ChatWith("bob@x"), Messages: []chat.StoredMessage{{StoreID: 9, ID: "m0", Body: "fixed", Time: now.Add(-time.Hour), Edited: true}}})
	if c.Lines[0].Body != "fixed" || !c.Lines[0].Edited {
		t.Fatalf("a corrected message read back: %+v", c.Lines[0])
	}
}

// A conversation is its kind and JID: a room, a chat with the same bare
// JID and a private chat with one occupant are three tabs; room lines
// show the occupant's nick, coloured by occupant-id where there is one.
func TestConversationKindsAreSeparateTabs(t *testing.T) {
	s := NewState([]*Account{{Name: "a"}})
	now := time.Now()
	s.Apply("a", chat.MessageReceived{Conv: chat.RoomConv("tea@rooms.x"), From: "tea@rooms.x/ada", Bare: "tea@rooms.x", Type: "groupchat", Nick: "ada", OccupantID: "o-ada", Body: "in the room", Time: now})
	s.Apply("a", chat.MessageReceived{Conv: chat.ChatWith("tea@rooms.x"), From: "tea@rooms.x", Bare: "tea@rooms.x", Type: "chat", Body: "from the service", Time: now})
	s.Apply("a", chat.MessageReceived{Conv: chat.PrivateConv("tea@rooms.x", "ada"), From: "tea@rooms.x/ada", Bare: "tea@rooms.x", Type: "chat", Body: "just you", Time: now})
	if len(s.Convs) != 4 {
		t.Fatalf("%d tabs, want console and three conversations", len(s.Convs))
	}
	room, _ := s.Find("a", chat.RoomConv("tea@rooms.x"))
	priv, _ := s.Find("a", chat.PrivateConv("tea@rooms.x", "ada"))
	direct, _ := s.Find("a", chat.ChatWith("tea@rooms.x"))
	if room == nil || priv == nil || direct == nil {
		t.Fatal("a conversation has no tab of its own")
	}
	if l := room.Lines[0]; l.Body != "in the room" || l.Sender != "ada" {
		t.Fatalf("room line %+v", l)
	}
	if l := priv.Lines[0]; l.Body != "just you" || l.Sender != "ada" || s.convName(priv) != "ada (tea@rooms.x)" {
		t.Fatalf("private line %+v named %q", l, s.convName(priv))
	}
	if l := direct.Lines[0]; l.Body != "from the service" {
		t.Fatalf("chat line %+v", l)
	}
	// The colour follows the occupant-id across a nick change.
	s.Apply("a", chat.MessageReceived{Conv: chat.RoomConv("tea@rooms.x"), From: "tea@rooms.x/ada2", Bare: "tea@rooms.x", Type: "groupchat", Nick: "ada2", OccupantID: "o-ada", Body: "renamed", Time: now})
	if room.Lines[0].SenderKey != room.Lines[1].SenderKey {
		t.Fatalf("colour key changed with the nick: %q, %q", room.Lines[0].SenderKey, room.Lines[1].SenderKey)
	}
}
