package roster

import (
	"fmt"
	"testing"
)

func bigRoster(n int) *Roster {
	r := New()
	items := make([]Item, n)
	for i := range items {
		items[i] = Item{JID: fmt.Sprintf("c%05d@example.net", i), Name: fmt.Sprintf("Contact %05d", i), Subscription: SubBoth, Groups: []string{fmt.Sprintf("Group %02d", i%20)}}
	}
	r.Reset(items, "1")
	return r
}

// A presence flood: every update is one resource of one contact changing.
func BenchmarkPresenceUpdate(b *testing.B) {
	r := bigRoster(10000)
	shows := []Show{Online, Away, DND, XA, Chat}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r.SetPresence(fmt.Sprintf("c%05d@example.net", i%10000), Presence{Resource: "r", Show: shows[i%len(shows)], Status: "busy"})
	}
}

func BenchmarkSorted10k(b *testing.B) {
	r := bigRoster(10000)
	for i := 0; i < 10000; i += 3 {
		r.SetPresence(fmt.Sprintf("c%05d@example.net", i), Presence{Resource: "r", Show: Away})
	}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if len(r.Sorted(ByPresence, true)) != 10000 {
			b.Fatal("lost contacts")
		}
	}
}

// Unavailable presence (as Prosody answers probes at login) on a big roster.
func BenchmarkUnavailable10k(b *testing.B) {
	r := bigRoster(10000)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r.SetUnavailable(fmt.Sprintf("c%05d@example.net", i%10000), "")
	}
}
