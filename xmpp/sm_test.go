package xmpp

import (
	"slices"
	"strconv"
	"testing"
)

// The ids a stream hands on to the one that resumes it are bounded, and
// the newest are the ones kept: q10 is newer than q9, though it sorts
// before it as text.
func TestUnansweredKeepsTheNewest(t *testing.T) {
	s := &Session{pending: map[string]*pendingIQ{}}
	for n := uint64(1); n <= maxAbandoned+100; n++ {
		s.failed = append(s.failed, "q"+strconv.FormatUint(n, 36))
	}
	ids := s.unanswered()
	if len(ids) != maxAbandoned {
		t.Fatalf("%d ids kept, want %d", len(ids), maxAbandoned)
	}
	newest := "q" + strconv.FormatUint(maxAbandoned+100, 36)
	oldest := "q" + strconv.FormatUint(101, 36)
	if !slices.Contains(ids, newest) || !slices.Contains(ids, oldest) || slices.Contains(ids, "q"+strconv.FormatUint(100, 36)) {
		t.Fatalf("kept %s … %s, want %s … %s", ids[0], ids[len(ids)-1], oldest, newest)
	}
}
