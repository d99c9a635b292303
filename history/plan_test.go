package history

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// Known answers from indexes: none of its lookups walks a conversation
// (a room of many messages would pay for every message checked).
func TestKnownUsesIndexes(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var plan []string
	s.explain = func(detail string) { plan = append(plan, detail) }
	if _, err := s.Known(context.Background(), Key{Conv: Conv{Kind: KindRoom, Peer: "tea@rooms.x"}, Direction: In, ArchiveID: "A1", OriginID: "o1"}); err != nil {
		t.Fatal(err)
	}
	if len(plan) == 0 {
		t.Fatal("no query plan seen")
	}
	for _, d := range plan {
		if strings.HasPrefix(d, "SCAN") && !strings.Contains(d, "CONSTANT ROW") ||
			strings.Contains(d, "messages_stanza") || strings.Contains(d, "messages_conv_ts") {
			t.Fatalf("Known walks rows: %q in\n%s", d, strings.Join(plan, "\n"))
		}
	}
}

// Delivery states and archive ids of sent messages are set by origin-id
// from its index: at a million messages, SetState read the whole table
// for every receipt, and SetArchiveID walked the conversation.
func TestSentMessageUpdatesUseTheOriginIndex(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	m := &Message{Peer: "bob@x", Direction: Out, Body: "hi", OriginID: "o1", State: StatePending}
	if err := s.Append([]*Message{m}); err != nil {
		t.Fatal(err)
	}
	var plan []string
	s.explain = func(detail string) { plan = append(plan, detail) }
	if err := s.SetState(ctx, "o1", StateSent); err != nil {
		t.Fatal(err)
	}
	if err := s.SetArchiveID(ctx, Conv{Peer: "bob@x"}, "o1", "A1"); err != nil {
		t.Fatal(err)
	}
	s.explain = nil
	if len(plan) != 2 {
		t.Fatalf("plans seen: %q", plan)
	}
	for _, d := range plan {
		if !strings.Contains(d, "USING INDEX messages_origin (origin_id=?)") {
			t.Errorf("not by the origin-id index: %q", d)
		}
	}
	got, _, err := s.Before(ctx, Conv{Peer: "bob@x"}, 0, 1)
	if err != nil || len(got) != 1 || got[0].State != StateSent || got[0].ArchiveID != "A1" {
		t.Fatalf("after the updates: %+v %v", got, err)
	}
	// An empty origin-id names no message.
	if err := s.SetState(ctx, "", StateFailed); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.Before(ctx, Conv{Peer: "bob@x"}, 0, 1); got[0].State != StateSent {
		t.Fatalf("state %q after setting the state of origin-id \"\"", got[0].State)
	}
}
