package history

import (
	"context"
	"path/filepath"
	"reflect"
	"testing"
	"time"
)

// Replies, files, reactions and tombstones survive closing and opening
// the store again, a tombstone takes the text out of the row, the search
// index and the corrections' record, and reactions replace each
// reactor's whole set.
func TestActionsRoundTrip(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "a.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	room := Conv{Kind: KindRoom, Peer: "r@conf"}
	orig := &Message{Kind: KindRoom, Peer: room.Peer, Direction: In, From: "r@conf/ann", Body: "secret plan\nline two", StanzaID: "s1", ArchiveID: "A1", Nick: "ann", OccupantID: "occ-ann", Time: base}
	reply := &Message{Kind: KindRoom, Peer: room.Peer, Direction: In, From: "r@conf/bob", Body: "sounds good", StanzaID: "s2", ArchiveID: "A2", Nick: "bob", Time: base.Add(time.Second),
		Reply: Reply{ID: "A1", To: "r@conf/ann", Quote: "secret plan"}}
	file := &Message{Kind: KindRoom, Peer: room.Peer, Direction: In, From: "r@conf/bob", Body: "https://h/x/a%20b.png", ArchiveID: "A3", Time: base.Add(2 * time.Second),
		File: File{URL: "https://h/x/a%20b.png", Name: "a b.png", Size: 1234, Type: "image/png"}}
	plain := &Message{Kind: KindRoom, Peer: room.Peer, Direction: In, From: "r@conf/bob", Body: "no file", ArchiveID: "A4", Time: base.Add(3 * time.Second)}
	if err := s.Append([]*Message{orig, reply, file, plain}); err != nil {
		t.Fatal(err)
	}
	if !s.Correct(ctx, Correction{Conv: room, Direction: In, ReplaceID: "s1", Body: "secret plan v2", OccupantID: "occ-ann"}) {
		t.Fatal("correction not applied")
	}
	got, ok, err := s.Target(ctx, room, "A1")
	if err != nil || !ok || got.ID != orig.ID {
		t.Fatalf("Target(A1) = %v %v %v", got.ID, ok, err)
	}
	if _, ok, _ := s.Target(ctx, Conv{Kind: KindRoom, Peer: "other@conf"}, "A1"); ok {
		t.Fatal("a target found in another conversation")
	}
	changed, tally, err := s.SetReactions(ctx, orig.ID, "occ:bob", []string{"👍", "❤"}, false, base)
	if err != nil || !changed || !reflect.DeepEqual(tally, []Reaction{{"👍", 1, false}, {"❤", 1, false}}) {
		t.Fatalf("first reactions: %v %v %v", changed, tally, err)
	}
	changed, _, _ = s.SetReactions(ctx, orig.ID, "occ:bob", []string{"👍", "❤"}, false, base)
	if changed {
		t.Fatal("the same set again counted as a change")
	}
	_, tally, _ = s.SetReactions(ctx, orig.ID, "occ:me", []string{"👍"}, true, base.Add(time.Second))
	if !reflect.DeepEqual(tally, []Reaction{{"👍", 2, true}, {"❤", 1, false}}) {
		t.Fatalf("tally = %v", tally)
	}
	// Bob's new set replaces his old one.
	_, tally, _ = s.SetReactions(ctx, orig.ID, "occ:bob", []string{"😂"}, false, base.Add(2*time.Second))
	if !reflect.DeepEqual(tally, []Reaction{{"👍", 1, true}, {"😂", 1, false}}) {
		t.Fatalf("tally after replace = %v", tally)
	}
	_, _, _ = s.SetReactions(ctx, reply.ID, "occ:ann", []string{"🎉"}, false, base)
	s.Close()

	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	page, _, err := s.Before(ctx, room, 0, 10)
	if err != nil || len(page) != 4 {
		t.Fatalf("page: %d %v", len(page), err)
	}
	if !reflect.DeepEqual(page[0].Reactions, []Reaction{{"👍", 1, true}, {"😂", 1, false}}) || page[0].Retracted != nil {
		t.Fatalf("reactions after reopening: %+v", page[0])
	}
	if page[1].Reply != (Reply{ID: "A1", To: "r@conf/ann", Quote: "secret plan"}) {
		t.Fatalf("reply after reopening: %+v", page[1].Reply)
	}
	if page[2].File != (File{URL: "https://h/x/a%20b.png", Name: "a b.png", Size: 1234, Type: "image/png"}) || page[3].File.URL != "" || page[3].File.Size != -1 {
		t.Fatalf("files after reopening: %+v / %+v", page[2].File, page[3].File)
	}
	if hits, _ := s.Search(ctx, "secret", room, 10); len(hits) != 1 {
		t.Fatalf("search before retraction: %d hits", len(hits))
	}

	stamp := base.Add(time.Hour)
	done, err := s.Retract(ctx, orig.ID, Tombstone{Moderated: true, By: "r@conf/mod", Reason: "spam", Time: stamp})
	if err != nil || !done {
		t.Fatalf("retract: %v %v", done, err)
	}
	if again, _ := s.Retract(ctx, orig.ID, Tombstone{}); again {
		t.Fatal("retracted twice")
	}
	if changed, _, _ := s.SetReactions(ctx, orig.ID, "occ:bob", []string{"👍"}, false, stamp); changed {
		t.Fatal("a reaction was put on a tombstone")
	}
	s.Close()
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m, ok, err := s.Get(ctx, orig.ID)
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if m.Body != "" || m.Retracted == nil || !m.Retracted.Moderated || m.Retracted.By != "r@conf/mod" || m.Retracted.Reason != "spam" || !m.Retracted.Time.Equal(stamp) || len(m.Reactions) != 0 {
		t.Fatalf("tombstone after reopening: %+v %+v", m, m.Retracted)
	}
	if edits, _ := s.Edits(ctx, orig.ID); len(edits) != 0 {
		t.Fatalf("the texts a correction replaced outlived the retraction: %v", edits)
	}
	if hits, _ := s.Search(ctx, "secret", room, 10); len(hits) != 0 {
		t.Fatalf("search finds a retracted message: %+v", hits)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
	// Reply and file rows of other messages are untouched.
	around, _, err := s.Around(ctx, room, reply.ID, 5, 5)
	if err != nil || len(around) != 4 || around[1].Reply.ID != "A1" || !reflect.DeepEqual(around[1].Reactions, []Reaction{{"🎉", 1, false}}) {
		t.Fatalf("around: %+v %v", around, err)
	}
}

// In a chat a reply, reaction or retraction names a message by its id or
// origin-id, in that conversation only.
func TestTargetInAChat(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a := &Message{Peer: "bob@x", Direction: In, From: "bob@x/r", Body: "one", StanzaID: "id1", OriginID: "o1"}
	b := &Message{Peer: "carol@x", Direction: In, From: "carol@x/r", Body: "two", StanzaID: "id2"}
	if err := s.Append([]*Message{a, b}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		conv string
		id   string
		want int64
	}{{"bob@x", "id1", a.ID}, {"bob@x", "o1", a.ID}, {"bob@x", "id2", 0}, {"carol@x", "id2", b.ID}, {"carol@x", "o1", 0}, {"bob@x", "", 0}} {
		m, ok, err := s.Target(ctx, Conv{Peer: tc.conv}, tc.id)
		if err != nil || ok != (tc.want != 0) || m.ID != tc.want {
			t.Errorf("Target(%s, %q) = %d %v %v, want %d", tc.conv, tc.id, m.ID, ok, err, tc.want)
		}
	}
}

// Retracting a message removes the copies of its text in the quotes of
// the replies to it, in its conversation (whichever of its ids they name),
// and only there.
func TestRetractClearsQuotesOfReplies(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	orig := &Message{Peer: "bob@x", Direction: In, From: "bob@x/r", Body: "the secret", StanzaID: "id1", OriginID: "o1"}
	byID := &Message{Peer: "bob@x", Direction: In, From: "bob@x/r", Body: "ok", StanzaID: "id2", Reply: Reply{ID: "id1", Quote: "the secret"}}
	byOrigin := &Message{Peer: "bob@x", Direction: Out, Body: "yes", StanzaID: "id3", Reply: Reply{ID: "o1", Quote: "the secret"}}
	other := &Message{Peer: "carol@x", Direction: In, From: "carol@x/r", Body: "hm", StanzaID: "id4", Reply: Reply{ID: "id1", Quote: "carol's own"}}
	if err := s.Append([]*Message{orig, byID, byOrigin, other}); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Retract(ctx, orig.ID, Tombstone{}); !ok || err != nil {
		t.Fatalf("Retract: %v %v", ok, err)
	}
	for _, tc := range []struct {
		m     *Message
		quote string
	}{{byID, ""}, {byOrigin, ""}, {other, "carol's own"}} {
		m, _, err := s.Get(ctx, tc.m.ID)
		if err != nil || m.Reply.Quote != tc.quote || m.Reply.ID != tc.m.Reply.ID {
			t.Errorf("reply %s: quote %q (id %q), want %q (%v)", tc.m.StanzaID, m.Reply.Quote, m.Reply.ID, tc.quote, err)
		}
	}
}

// A page of 100 messages of which every other one has reactions from
// three reactors and every tenth is a tombstone: what the tally and the
// tombstones add to reading a page (compare BenchmarkBeforePage).
func BenchmarkBeforePageWithActions(b *testing.B) {
	ctx := context.Background()
	s, err := Open(filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var msgs []*Message
	for i := 0; i < 10000; i++ {
		msgs = append(msgs, &Message{Peer: "p@x", Direction: In, From: "p@x/r", Body: "message", Time: base.Add(time.Duration(i) * time.Second)})
	}
	if err := s.Append(msgs); err != nil {
		b.Fatal(err)
	}
	for i, m := range msgs {
		switch {
		case i%10 == 0:
			if _, err := s.Retract(ctx, m.ID, Tombstone{}); err != nil {
				b.Fatal(err)
			}
		case i%2 == 0:
			for _, r := range []string{"a", "b", "c"} {
				if _, _, err := s.SetReactions(ctx, m.ID, r, []string{"👍", r}, false, base); err != nil {
					b.Fatal(err)
				}
			}
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		page, _, err := s.Before(ctx, Conv{Peer: "p@x"}, msgs[5000].ID, 100)
		if err != nil || len(page) != 100 || len(page[2].Reactions) != 4 || page[0].Retracted == nil {
			b.Fatalf("%d messages, %v", len(page), err)
		}
	}
}

// A retracted message is never sent again: the outbox does not list it,
// whatever its delivery state.
func TestRetractedLeavesTheOutbox(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	gone := &Message{Peer: "b@x", Direction: Out, Body: "oops", OriginID: "o1", StanzaID: "o1", State: StateUnacked}
	kept := &Message{Peer: "b@x", Direction: Out, Body: "fine", OriginID: "o2", StanzaID: "o2", State: StatePending}
	if err := s.Append([]*Message{gone, kept}); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Retract(ctx, gone.ID, Tombstone{}); !ok || err != nil {
		t.Fatalf("Retract: %v %v", ok, err)
	}
	un, err := s.Unsent(ctx)
	if err != nil || len(un) != 1 || un[0].ID != kept.ID {
		t.Fatalf("unsent after a retraction: %+v %v", un, err)
	}
}

// A correction does not write into a tombstone.
func TestCorrectLeavesATombstoneAlone(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	m := &Message{Peer: "b@x", Direction: In, From: "b@x/r", Body: "said", StanzaID: "s1"}
	if err := s.Append([]*Message{m}); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Retract(ctx, m.ID, Tombstone{}); !ok || err != nil {
		t.Fatalf("Retract: %v %v", ok, err)
	}
	if s.Correct(ctx, Correction{Conv: Conv{Peer: "b@x"}, Direction: In, ReplaceID: "s1", Body: "said again"}) {
		t.Error("a tombstone was corrected")
	}
	if got, _, _ := s.Get(ctx, m.ID); got.Body != "" || got.Retracted == nil {
		t.Errorf("the tombstone after a correction: %+v", got)
	}
	if e, _ := s.Edits(ctx, m.ID); len(e) != 0 {
		t.Errorf("edits of a tombstone: %+v", e)
	}
}
