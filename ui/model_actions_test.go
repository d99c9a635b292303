package ui

import (
	"reflect"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
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
	if c.Lines[2].Reply != reply || c.Lines[3].File != file || c.Lines[4].Reply != reply {
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
