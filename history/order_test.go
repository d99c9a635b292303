package history

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"
)

func bodies(ms []Message) string {
	var out []string
	for _, m := range ms {
		out = append(out, m.Body)
	}
	return fmt.Sprint(out)
}

// A conversation reads in time order, not in the order rows were stored:
// a message the archive catch-up stores late sits where its time puts it,
// in pages, around a search hit and in search results.
func TestConversationReadsInTimeOrder(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	base := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	at := func(min int, body string) *Message {
		return &Message{Peer: "p@x", Direction: In, Body: body, Time: base.Add(time.Duration(min) * time.Minute)}
	}
	// Live: 1, 4, 5; then the catch-up brings 2 and 3, sent while away.
	live := []*Message{at(1, "one word"), at(4, "four word"), at(5, "five word")}
	late := []*Message{at(2, "two word"), at(3, "three word")}
	if err := s.Append(live); err != nil {
		t.Fatal(err)
	}
	if err := s.Append(late); err != nil {
		t.Fatal(err)
	}
	page, more, err := s.Before(ctx, Conv{Peer: "p@x"}, 0, 10)
	if err != nil || more || bodies(page) != "[one word two word three word four word five word]" {
		t.Fatalf("newest page: %s %v %v", bodies(page), more, err)
	}
	page, more, _ = s.Before(ctx, Conv{Peer: "p@x"}, 0, 2)
	if !more || bodies(page) != "[four word five word]" {
		t.Fatalf("newest two: %s %v", bodies(page), more)
	}
	// Older than "four": by time, "three" and "two" — not "one", the row
	// stored before it.
	page, more, _ = s.Before(ctx, Conv{Peer: "p@x"}, page[0].ID, 2)
	if !more || bodies(page) != "[two word three word]" {
		t.Fatalf("second page: %s %v", bodies(page), more)
	}
	page, more, _ = s.Before(ctx, Conv{Peer: "p@x"}, page[0].ID, 2)
	if more || bodies(page) != "[one word]" {
		t.Fatalf("last page: %s %v", bodies(page), more)
	}
	around, _, _ := s.Around(ctx, Conv{Peer: "p@x"}, late[0].ID, 1, 1)
	if bodies(around) != "[one word two word three word]" {
		t.Fatalf("around two: %s", bodies(around))
	}
	hits, _ := s.Search(ctx, "word", Conv{Peer: "p@x"}, 10)
	if bodies(hits) != "[five word four word three word two word one word]" {
		t.Fatalf("search, newest first: %s", bodies(hits))
	}
}
