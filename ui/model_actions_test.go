package ui

import (
	"reflect"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/roster"
)

// Replies, files, reactions and removals reach the lines of the model:
// from live messages, from pages of history, and as changes to the line
// of the store row they name.
func TestApplyMessageActions(t *testing.T) {
	s := NewState([]*Account{{Name: "a"}})
	conv := chat.ChatWith("bob@x")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c, _ := s.Open("a", conv)
	reply := &chat.ReplyInfo{StoreID: 1, ID: "m1", Quote: "lunch?", Author: "me@x"}
	file := &chat.FileInfo{URL: "https://h/cat.jpg", Name: "cat.jpg", Size: -1}
	s.Apply("a", chat.HistoryLoaded{Conv: conv, Messages: []chat.StoredMessage{
		{StoreID: 1, Conv: conv, ID: "m1", Outgoing: true, Body: "lunch?", Time: now, Reactions: []chat.Reaction{{Emoji: "👍", Count: 1}}},
		{StoreID: 2, Conv: conv, ID: "m2", Body: "", Time: now.Add(time.Second), Retracted: &chat.Retraction{}},
	}})
	s.Apply("a", chat.MessageReceived{Conv: conv, ID: "m3", From: "bob@x/pc", Bare: "bob@x", Body: "yes", Time: now.Add(2 * time.Second), StoreID: 3, Reply: reply})
	s.Apply("a", chat.MessageSent{Conv: conv, ID: "m4", Body: "https://h/cat.jpg", Time: now.Add(3 * time.Second), StoreID: 4, File: file})
	s.Apply("a", chat.CarbonSent{Conv: conv, ID: "m5", Body: "ok", Time: now.Add(4 * time.Second), StoreID: 5, Reply: reply})
	if len(c.Lines) != 5 {
		t.Fatalf("%d lines: %+v", len(c.Lines), c.Lines)
	}
	if !reflect.DeepEqual(c.Lines[0].Reactions, []chat.Reaction{{Emoji: "👍", Count: 1}}) || c.Lines[1].Retracted == nil {
		t.Fatalf("from history: %+v / %+v", c.Lines[0], c.Lines[1])
	}
	// The answered message (row 1) is ours: its author is named as our lines are.
	if r := c.Lines[2].Reply; r == nil || r.ID != "m1" || r.Quote != "lunch?" || r.StoreID != 1 || r.Author != "me" || c.Lines[3].File != file || c.Lines[4].Reply == nil || *c.Lines[4].Reply != *r {
		t.Fatalf("reply/file not on the lines: %+v %+v %+v", c.Lines[2], c.Lines[3], c.Lines[4])
	}
	tally := []chat.Reaction{{Emoji: "👍", Count: 2, Own: true}, {Emoji: "❤", Count: 1}}
	s.Apply("a", chat.ReactionsChanged{Conv: conv, StoreID: 1, Reactions: tally})
	if !reflect.DeepEqual(c.Lines[0].Reactions, tally) {
		t.Fatalf("reactions: %+v", c.Lines[0].Reactions)
	}
	s.Apply("a", chat.MessageRetracted{Conv: conv, StoreID: 3, ID: "m3", Retraction: chat.Retraction{Moderated: true, By: "mod", Reason: "spam"}})
	if l := c.Lines[2]; l.Retracted == nil || !l.Retracted.Moderated || l.Body != "" || l.Reply != nil {
		t.Fatalf("retracted line: %+v", l)
	}
	if c.Lines[3].Retracted != nil || c.Lines[3].Body == "" {
		t.Fatal("another line was retracted")
	}
	// A change for a row not shown changes nothing (and does not panic).
	s.Apply("a", chat.ReactionsChanged{Conv: conv, StoreID: 99, Reactions: tally})
	s.Apply("a", chat.MessageRetracted{Conv: chat.ChatWith("nobody@x"), StoreID: 1})
	if c.Lines[0].Retracted != nil {
		t.Fatal("a retraction in another conversation reached this one")
	}
	s.Apply("a", chat.ActionRefused{Conv: conv, From: "bob@x/pc", What: "a retraction of a message they did not write"})
	last := c.Lines[len(c.Lines)-1]
	if last.Kind != LineInfo || last.Body != "refused from bob@x/pc: a retraction of a message they did not write" {
		t.Fatalf("refusal line: %+v", last)
	}
	before := len(s.Console().Lines)
	s.Apply("a", chat.ActionRefused{Conv: chat.ChatWith("mallory@x"), From: "mallory@x", What: "x"})
	if len(s.Console().Lines) != before+1 {
		t.Fatal("a refusal in a conversation not open was not noted in the console")
	}
}

// A reply's quote names its author as the chat names people: the
// contact by its roster name, ourselves as "me"; in a room the nick
// stays.
func TestReplyAuthorNamedAsInTheChat(t *testing.T) {
	a := &Account{Name: "a", JID: "me@x"}
	s := NewState([]*Account{a})
	s.Apply("a", chat.RosterReset{Items: []roster.Item{{JID: "bob@x", Name: "Bob", Subscription: "both"}}})
	conv := chat.ChatWith("bob@x")
	c, _ := s.Open("a", conv)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	s.Apply("a", chat.MessageReceived{Conv: conv, ID: "m2", From: "bob@x/pc", Bare: "bob@x", Body: "yes", Time: now, StoreID: 2,
		Reply: &chat.ReplyInfo{StoreID: 1, To: "me@x", Author: "me@x", Quote: "lunch?"}})
	s.Apply("a", chat.MessageSent{Conv: conv, ID: "m3", Body: "good", Time: now.Add(time.Second), StoreID: 3,
		Reply: &chat.ReplyInfo{StoreID: 2, To: "bob@x", Author: "bob@x", Quote: "yes"}})
	s.Apply("a", chat.HistoryLoaded{Conv: conv, Messages: []chat.StoredMessage{
		{StoreID: 0, Conv: conv, ID: "m0", Body: "again", Time: now.Add(-time.Hour), Reply: &chat.ReplyInfo{To: "bob@x", Author: "bob@x", Quote: "old"}},
	}})
	got := map[string]string{}
	for _, l := range c.Lines {
		if l.Reply != nil {
			got[l.Body] = l.Reply.Author
		}
	}
	if want := map[string]string{"yes": "me", "good": "Bob", "again": "Bob"}; !reflect.DeepEqual(got, want) {
		t.Fatalf("reply authors %v, want %v", got, want)
	}
	room := chat.RoomConv("tea@muc.x")
	rc, _ := s.Open("a", room)
	s.Apply("a", chat.MessageReceived{Conv: room, ID: "r1", From: "tea@muc.x/ada", Bare: "tea@muc.x", Nick: "ada", Body: "hi", Time: now, StoreID: 9,
		Reply: &chat.ReplyInfo{To: "tea@muc.x/bob", Author: "bob", Quote: "hello"}})
	if l := rc.Lines[len(rc.Lines)-1]; l.Reply == nil || l.Reply.Author != "bob" {
		t.Fatalf("room reply %+v", l.Reply)
	}
}

// The quote above a reply names the answered message's author as the
// conversation names them, not by the JID the reply or the store gives:
// a contact by its name in the list, ourselves as our own messages are
// named, and in a room the answered line's sender (the room's JID is no
// author, as it was for our own message read back after a restart).
func TestReplyQuoteNamesAuthorAsShown(t *testing.T) {
	s := NewState([]*Account{{Name: "a", JID: "me@x/gab"}})
	s.Apply("a", chat.RosterReset{Items: []roster.Item{{JID: "bob@x", Name: "Bob", Subscription: "both"}}})
	conv := chat.ChatWith("bob@x")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c, _ := s.Open("a", conv)
	s.Apply("a", chat.MessageReceived{Conv: conv, ID: "m1", From: "bob@x/pc", Bare: "bob@x", Body: "re", Time: now, StoreID: 1,
		Reply: &chat.ReplyInfo{ID: "m0", Quote: "old", Author: "bob@x"}})
	s.Apply("a", chat.MessageReceived{Conv: conv, ID: "m2", From: "bob@x/pc", Bare: "bob@x", Body: "re", Time: now, StoreID: 2,
		Reply: &chat.ReplyInfo{ID: "m9", Quote: "mine", Author: "me@x"}})
	s.Apply("a", chat.MessageSent{Conv: conv, ID: "m3", Body: "re", Time: now, StoreID: 3,
		Reply: &chat.ReplyInfo{StoreID: 1, ID: "m1", Quote: "re", Author: "bob@x"}})
	// The first two name messages not stored here: their quotes are the
	// sender's word for it, and say so.
	for i, want := range []string{"↱ in reply to Bob, quoted as: old", "↱ in reply to me, quoted as: mine", "↱ Bob: re"} {
		if got := quoteText(c.Lines[i].Reply); got != want {
			t.Errorf("chat line %d: quote %q, want %q", i, got, want)
		}
	}

	tea := chat.RoomConv("tea@conf")
	r, _ := s.Open("a", tea)
	s.Apply("a", chat.HistoryLoaded{Conv: tea, Messages: []chat.StoredMessage{
		{StoreID: 10, Conv: tea, ID: "s1", Outgoing: true, Body: "hello room", Time: now},
		{StoreID: 11, Conv: tea, ID: "s2", Nick: "ada", Body: "welcome", Time: now,
			Reply: &chat.ReplyInfo{StoreID: 10, ID: "s1", Quote: "hello room", Author: "tea@conf"}},
	}})
	if got, want := quoteText(r.Lines[1].Reply), "↱ "+r.Lines[0].Sender+": hello room"; got != want || r.Lines[0].Sender == "tea@conf" {
		t.Errorf("room: quote %q, want %q", got, want)
	}
}

// A room's moderator is named by their nick in the tombstone, live and
// read back: the room gives the occupant's JID, ROOM/NICK.
func TestModeratorNamedByNick(t *testing.T) {
	s := NewState([]*Account{{Name: "a", JID: "me@x/gab"}})
	tea := chat.RoomConv("tea@conf")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c, _ := s.Open("a", tea)
	s.Apply("a", chat.HistoryLoaded{Conv: tea, Messages: []chat.StoredMessage{
		{StoreID: 1, Conv: tea, ID: "s1", Nick: "bob", Time: now, Retracted: &chat.Retraction{Moderated: true, By: "tea@conf/me", Reason: "spam"}},
		{StoreID: 2, Conv: tea, ID: "s2", Nick: "bob", Body: "hi", Time: now},
		{StoreID: 3, Conv: tea, ID: "s3", Nick: "bob", Body: "hi", Time: now},
	}})
	s.Apply("a", chat.MessageRetracted{Conv: tea, StoreID: 2, ID: "s2", Retraction: chat.Retraction{Moderated: true, By: "tea@conf/ada", Reason: "off topic"}})
	// A JID of somewhere else stays whole: it is not the room's occupant.
	s.Apply("a", chat.MessageRetracted{Conv: tea, StoreID: 3, ID: "s3", Retraction: chat.Retraction{Moderated: true, By: "other@conf/eve"}})
	for i, want := range []string{"removed by me: spam", "removed by ada: off topic", "removed by other@conf/eve"} {
		if l := c.Lines[i]; l.Retracted == nil || tombstone(l.Retracted) != want {
			t.Errorf("line %d: %+v, want %q", i, l.Retracted, want)
		}
	}
}

// A removed message's text leaves the screen everywhere: the quote of a
// reply to it goes (the reply says whom it answers), and a correction
// naming it afterwards does not bring text back into its tombstone; and
// when our last message is removed, Up has none to correct (a correction
// names the last message).
func TestRemovedMessageLeavesNoText(t *testing.T) {
	s := NewState([]*Account{{Name: "a"}})
	conv := chat.ChatWith("bob@x")
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c, _ := s.Open("a", conv)
	s.Apply("a", chat.MessageReceived{Conv: conv, ID: "m1", From: "bob@x/pc", Bare: "bob@x", Body: "the secret", Time: now, StoreID: 1})
	reply := &chat.ReplyInfo{StoreID: 1, ID: "m1", Quote: "the secret", Author: "bob@x"}
	s.Apply("a", chat.MessageSent{Conv: conv, ID: "m2", Body: "noted", Time: now.Add(time.Second), StoreID: 2, Reply: reply})
	s.Apply("a", chat.MessageSent{Conv: conv, ID: "m3", Body: "mine", Time: now.Add(2 * time.Second), StoreID: 3})
	s.Apply("a", chat.MessageRetracted{Conv: conv, StoreID: 1, ID: "m1"})
	if r := c.Lines[1].Reply; r == nil || r.Quote != "" || r.Author != "bob@x" || r.StoreID != 1 {
		t.Errorf("the reply to a removed message: %+v", r)
	}
	if reply.Quote != "the secret" {
		t.Errorf("the event's reply was changed in place")
	}
	s.Apply("a", chat.MessageCorrected{Conv: conv, ReplaceID: "m1", NewID: "m4", Body: "the secret, again"})
	if l := c.Lines[0]; l.Body != "" || l.Retracted == nil {
		t.Errorf("a correction wrote into a tombstone: %+v", l)
	}
	s.Apply("a", chat.MessageRetracted{Conv: conv, StoreID: 3, ID: "m3"})
	if l := c.lastOwn(); l != nil {
		t.Errorf("Up corrects %+v, after our last message was removed", l)
	}
}
