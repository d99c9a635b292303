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
