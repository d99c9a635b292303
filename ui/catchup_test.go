package ui

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/roster"
)

// A catch-up of 50,000 archived messages across a hundred contacts keeps
// a number per contact whose conversation is not open, not their lines:
// no tab opens for them and nothing but the count grows. An open tab gets
// its messages, its window bounded as always; a live message that comes
// in the middle opens its tab at once.
func TestCatchUpCountsClosedConversations(t *testing.T) {
	s := NewState([]*Account{{Name: "a"}})
	var items []roster.Item
	for i := range 100 {
		items = append(items, roster.Item{JID: fmt.Sprintf("c%02d@x", i), Subscription: "both"})
	}
	s.Apply("a", chat.RosterReset{Items: items})
	open, _ := s.Open("a", chat.ChatWith("c00@x"))
	at := time.Now().Add(-time.Hour)
	for i := range 50000 {
		peer := fmt.Sprintf("c%02d@x", i%100)
		s.Apply("a", chat.MessageReceived{Conv: chat.ChatWith(peer), From: peer + "/r", Bare: peer, Body: fmt.Sprint("m", i),
			Time: at.Add(time.Duration(i) * time.Millisecond), Delayed: true, Archived: true, StoreID: int64(i + 1)})
		if i == 25000 {
			s.Apply("a", chat.MessageReceived{Conv: chat.ChatWith("live@x"), From: "live@x/r", Bare: "live@x", Body: "now", Time: time.Now()})
		}
	}
	var tabs []string
	for _, c := range s.Convs[1:] {
		tabs = append(tabs, c.Conv.JID)
	}
	if strings.Join(tabs, " ") != "c00@x live@x" {
		t.Fatalf("tabs open: %v", tabs)
	}
	for i := 1; i < 100; i++ {
		if ct := s.Account("a").Roster.Get(fmt.Sprintf("c%02d@x", i)); ct.Unread != 500 {
			t.Fatalf("%s: %d unread, want 500", ct.JID, ct.Unread)
		}
	}
	if n := len(open.Lines); n == 0 || n > MaxLines+MaxLines/4 {
		t.Fatalf("the open tab holds %d lines", n)
	}
	if last := open.Lines[len(open.Lines)-1].Body; last != "m49900" {
		t.Fatalf("the open tab ends with %q, want the newest, m49900", last)
	}
	if live, _ := s.Find("a", chat.ChatWith("live@x")); live == nil || len(live.Lines) != 1 || live.Lines[0].Body != "now" {
		t.Fatalf("the live message's tab: %+v", live)
	}
}

// The status line says how far the catch-up stands, with the archive's
// count when it gave one, and says nothing once it is done.
func TestCatchUpProgressInStatusLine(t *testing.T) {
	h := newHarness(t, 120, 12)
	h.send(chat.CatchUpProgress{Read: 12400, Total: 50000})
	h.waitFor("catching up: 12,400 of ~50,000")
	h.send(chat.CatchUpProgress{Read: 13000})
	h.waitUntil("the progress without a total", func(ls []string) bool {
		all := strings.Join(ls, "\n")
		return strings.Contains(all, "catching up: 13,000") && !strings.Contains(all, "of ~")
	})
	h.send(chat.CatchUpProgress{Read: 50000, Total: 50000, Done: true})
	h.waitUntil("the progress gone", func(ls []string) bool { return !strings.Contains(strings.Join(ls, "\n"), "catching up") })
}

func TestThousands(t *testing.T) {
	for n, want := range map[int]string{0: "0", 999: "999", 1000: "1,000", 12400: "12,400", 1234567: "1,234,567", -1500: "-1,500"} {
		if got := thousands(n); got != want {
			t.Errorf("thousands(%d) = %q, want %q", n, got, want)
		}
	}
}

// BenchmarkCatchUpApply: what the interface does with each message of a
// catch-up for a conversation with no tab open (50 contacts): a count on
// the contact, no line kept.
func BenchmarkCatchUpApply(b *testing.B) {
	s := NewState([]*Account{{Name: "a"}})
	var items []roster.Item
	var evs []chat.Event
	for i := range 50 {
		items = append(items, roster.Item{JID: fmt.Sprintf("c%02d@x", i), Subscription: "both"})
	}
	s.Apply("a", chat.RosterReset{Items: items})
	at := time.Now().Add(-time.Hour)
	for i := range 1000 {
		peer := fmt.Sprintf("c%02d@x", i%50)
		evs = append(evs, chat.MessageReceived{Conv: chat.ChatWith(peer), From: peer + "/r", Bare: peer, Body: fmt.Sprint("m", i),
			Time: at.Add(time.Duration(i) * time.Millisecond), Delayed: true, Archived: true, StoreID: int64(i + 1)})
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		s.Apply("a", evs[i%len(evs)])
	}
}

// A conversation whose caught-up messages were only counted opens with
// the "new messages" marker before them, once its page of history is in.
func TestCountedConversationOpensAtItsNewMessages(t *testing.T) {
	s := NewState([]*Account{{Name: "a"}})
	s.Apply("a", chat.RosterReset{Items: []roster.Item{{JID: "bob@x", Subscription: "both"}}})
	at := time.Now().Add(-time.Hour)
	var page []chat.StoredMessage
	for i := range 8 {
		m := chat.StoredMessage{StoreID: int64(i + 1), Conv: chat.ChatWith("bob@x"), Body: fmt.Sprint("m", i), Time: at.Add(time.Duration(i) * time.Second)}
		page = append(page, m)
		if i >= 5 {
			s.Apply("a", chat.MessageReceived{Conv: m.Conv, From: "bob@x/r", Bare: "bob@x", Body: m.Body, Time: m.Time, Delayed: true, Archived: true, StoreID: m.StoreID})
		}
	}
	c, _ := s.Open("a", chat.ChatWith("bob@x"))
	s.Apply("a", chat.HistoryLoaded{Conv: c.Conv, Messages: page})
	if c.Mark != 5 || c.Lines[c.Mark].Body != "m5" {
		t.Fatalf("marker at %d, want 5 (before m5)", c.Mark)
	}
	// Opened by a live message instead: the marker goes before the
	// counted ones all the same, not before the live one.
	s2 := NewState([]*Account{{Name: "a"}})
	s2.Apply("a", chat.RosterReset{Items: []roster.Item{{JID: "bob@x", Subscription: "both"}}})
	for _, m := range page[5:] {
		s2.Apply("a", chat.MessageReceived{Conv: m.Conv, From: "bob@x/r", Bare: "bob@x", Body: m.Body, Time: m.Time, Delayed: true, Archived: true, StoreID: m.StoreID})
	}
	s2.Apply("a", chat.MessageReceived{Conv: chat.ChatWith("bob@x"), From: "bob@x/r", Bare: "bob@x", Body: "live", Time: time.Now(), StoreID: 9})
	c2, _ := s2.Find("a", chat.ChatWith("bob@x"))
	s2.Apply("a", chat.HistoryLoaded{Conv: c2.Conv, Messages: page})
	if c2.Mark < 0 || c2.Lines[c2.Mark].Body != "m5" || c2.Lines[len(c2.Lines)-1].Body != "live" {
		t.Fatalf("marker at %d in %d lines", c2.Mark, len(c2.Lines))
	}
}
