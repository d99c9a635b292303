package room

import (
	"fmt"
	"strings"
	"testing"

	"github.com/gab-chat/gab/roster"
)

func joinPresences(n int) []Occupant {
	roles := []Role{Participant, Participant, Participant, Visitor, Moderator}
	out := make([]Occupant, n)
	for i := range out {
		out[i] = Occupant{
			Nick:        fmt.Sprintf("User %04d", (i*7919)%n), // not in sorted order
			OccupantID:  fmt.Sprintf("id%04d", i),
			Role:        roles[i%len(roles)],
			Affiliation: AffiliationNone,
			Show:        roster.Online,
		}
	}
	return out
}

// A join to a room of 1,000: the room sends a presence for every occupant,
// then ours; the list is drawn once at the end.
func BenchmarkJoin1000(b *testing.B) {
	occ := joinPresences(1000)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r := New("big@muc.example.net", "me")
		r.State = Joining
		for _, o := range occ {
			r.Update(o)
		}
		r.UpdateSelf(Occupant{Nick: "me", OccupantID: "self", Role: Participant})
		if len(r.Sorted()) != 1001 {
			b.Fatal("lost occupants")
		}
	}
}

// The same join with the list drawn after every presence, as a UI that
// redraws on each event would.
func BenchmarkJoin1000DrawEach(b *testing.B) {
	occ := joinPresences(1000)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r := New("big@muc.example.net", "me")
		for _, o := range occ {
			r.Update(o)
			_ = r.Sorted()
		}
	}
}

// Drawing a 1,000-occupant list after one change that moves someone (a
// role change, alternating so every round moves).
func BenchmarkSorted1000(b *testing.B) {
	r := New("big@muc.example.net", "me")
	for _, o := range joinPresences(1000) {
		r.Update(o)
	}
	roles := []Role{Moderator, Visitor}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		r.Update(Occupant{Nick: "User 0500", OccupantID: "x", Role: roles[i%2]})
		if len(r.Sorted()) != 1000 {
			b.Fatal("lost occupants")
		}
	}
}

// Drawing the list when nothing changed since the last frame.
func BenchmarkSorted1000Unchanged(b *testing.B) {
	r := New("big@muc.example.net", "me")
	for _, o := range joinPresences(1000) {
		r.Update(o)
	}
	r.Sorted()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if len(r.Sorted()) != 1000 {
			b.Fatal("lost occupants")
		}
	}
}

// A presence change that moves nobody (status, availability).
func BenchmarkStatusChange1000(b *testing.B) {
	r := New("big@muc.example.net", "me")
	occ := joinPresences(1000)
	for _, o := range occ {
		r.Update(o)
	}
	shows := []roster.Show{roster.Away, roster.Online}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		o := occ[i%len(occ)]
		o.Show = shows[i%2]
		r.Update(o)
	}
}

func BenchmarkMentions(b *testing.B) {
	body := "ok so I talked to adam and lada about it, @Ada: what do you think? " + strings.Repeat("more words here, ", 20)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if !Mentions(body, "ada") {
			b.Fatal("missed")
		}
	}
}

// The worst case of a naive search: a megabyte of one letter against a
// 10,000-character nick of the same letter. Linear time keeps this in
// milliseconds.
func BenchmarkMentionsHostile(b *testing.B) {
	body := strings.Repeat("a", 1<<20)
	nick := strings.Repeat("a", 10000)
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if Mentions(body, nick) {
			b.Fatal("a nick inside a longer word is no mention")
		}
	}
}

func BenchmarkComplete1000(b *testing.B) {
	r := New("big@muc.example.net", "me")
	for _, o := range joinPresences(1000) {
		r.Update(o)
	}
	recent := []string{"User 0999", "User 0100", "User 0042"}
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if len(r.Complete("user 09", recent)) != 100 {
			b.Fatal("wrong count")
		}
	}
}
