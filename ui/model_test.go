package ui

import (
	"testing"
	"time"
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
