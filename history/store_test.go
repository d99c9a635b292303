package history

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/gab-chat/gab/internal/xmpptest"
)

func TestAppendAndRecent(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var batch []*Message
	for i := 0; i < 30; i++ {
		peer := "bob@x"
		if i%3 == 0 {
			peer = "carol@x"
		}
		batch = append(batch, &Message{Peer: peer, Direction: In, From: peer + "/r", To: "me@x", Body: fmt.Sprint("m", i), Time: base.Add(time.Duration(i) * time.Second)})
	}
	if err := s.Append(batch); err != nil {
		t.Fatal(err)
	}
	if batch[29].ID == 0 {
		t.Fatal("IDs not filled in")
	}
	got, _, err := s.Before(context.Background(), Conv{Peer: "bob@x"}, 0, 5)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"m23", "m25", "m26", "m28", "m29"}
	if len(got) != 5 {
		t.Fatalf("got %d", len(got))
	}
	for i, m := range got {
		if m.Body != want[i] || !m.Time.Equal(base.Add(time.Duration(23+[]int{0, 2, 3, 5, 6}[i])*time.Second)) {
			t.Fatalf("recent[%d] = %+v, want %s", i, m, want[i])
		}
	}
	s.Close()
	// Reopening runs no migration twice and keeps the data.
	s, err = Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if n, _ := s.Count(context.Background()); n != 30 {
		t.Fatalf("count after reopen = %d", n)
	}
	if err := s.Append([]*Message{{Peer: "x@y"}}); err == nil {
		t.Fatal("a message without direction was stored")
	}
}

func TestOutboxStates(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	msgs := []*Message{
		{Peer: "b@x", Direction: Out, Body: "one", OriginID: "o1", State: StatePending},
		{Peer: "b@x", Direction: Out, Body: "two", OriginID: "o2", State: StatePending},
		{Peer: "b@x", Direction: In, Body: "in", OriginID: "o3"},
	}
	if err := s.Append(msgs); err != nil {
		t.Fatal(err)
	}
	s.SetState(ctx, "o1", StateUnacked)
	un, _ := s.Unsent(ctx)
	if len(un) != 2 || un[0].Body != "one" || un[0].State != StateUnacked || un[1].State != StatePending {
		t.Fatalf("unsent: %+v", un)
	}
	s.SetState(ctx, "o1", StateSent)
	s.SetState(ctx, "o2", StateFailed)
	s.SetState(ctx, "o3", StateSent) // incoming messages have no delivery state
	if un, _ := s.Unsent(ctx); len(un) != 0 {
		t.Fatalf("still unsent: %+v", un)
	}
	all, _, _ := s.Before(ctx, Conv{Peer: "b@x"}, 0, 10)
	if all[2].State != "" {
		t.Fatalf("an incoming message got a state: %+v", all[2])
	}
}

func TestBeforePages(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var batch []*Message
	for i := 0; i < 25; i++ {
		batch = append(batch, &Message{Peer: "p@x", Direction: In, Body: fmt.Sprint(i)}, &Message{Peer: "q@x", Direction: In, Body: "other"})
	}
	s.Append(batch)
	ctx := context.Background()
	page, more, err := s.Before(ctx, Conv{Peer: "p@x"}, 0, 10)
	if err != nil || !more || len(page) != 10 || page[0].Body != "15" || page[9].Body != "24" {
		t.Fatalf("newest page: %v %v %v", page, more, err)
	}
	page, more, _ = s.Before(ctx, Conv{Peer: "p@x"}, page[0].ID, 10)
	if !more || page[0].Body != "5" {
		t.Fatalf("second page: %v %v", page, more)
	}
	page, more, _ = s.Before(ctx, Conv{Peer: "p@x"}, page[0].ID, 10)
	if more || len(page) != 5 || page[0].Body != "0" {
		t.Fatalf("last page: %v %v", page, more)
	}
}

// A message stored live without an archive id (its stanza-id could not be
// trusted) is recognised when the archive brings it, by its stanza id in
// the same conversation and direction, and takes the archive's id.
func TestKnownByStanzaIDFromTheArchive(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.Append([]*Message{{Peer: "b@x", Direction: In, Body: "x", StanzaID: "s1"}}); err != nil {
		t.Fatal(err)
	}
	for _, k := range []Key{
		{Conv: Conv{Peer: "c@x"}, Direction: In, ArchiveID: "R1", StanzaID: "s1"}, // another conversation
		{Conv: Conv{Peer: "b@x"}, Direction: Out, ArchiveID: "R1", StanzaID: "s1"},
		{Conv: Conv{Peer: "b@x"}, Direction: In, StanzaID: "s1"}, // live: no archive id to give it
		{Conv: Conv{Peer: "b@x"}, Direction: In, ArchiveID: "R1", StanzaID: "s2"},
	} {
		if ok, err := s.Known(ctx, k); err != nil || ok {
			t.Errorf("Known(%+v) = %v, %v; want false", k, ok, err)
		}
	}
	if ok, err := s.Known(ctx, Key{Conv: Conv{Peer: "b@x"}, Direction: In, ArchiveID: "R1", StanzaID: "s1"}); err != nil || !ok {
		t.Fatalf("the archive's copy not recognised: %v, %v", ok, err)
	}
	rows, _, _ := s.Before(ctx, Conv{Peer: "b@x"}, 0, 10)
	if len(rows) != 1 || rows[0].ArchiveID != "R1" {
		t.Fatalf("rows: %+v", rows)
	}
	// Matched once: a second archived message reusing the stanza id is new.
	if ok, _ := s.Known(ctx, Key{Conv: Conv{Peer: "b@x"}, Direction: In, ArchiveID: "R2", StanzaID: "s1"}); ok {
		t.Error("a second archived message with the same stanza id taken for the first")
	}
}

func TestKnownAndMeta(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	s.Append([]*Message{{Peer: "b@x", Direction: In, Body: "x", OriginID: "o1", ArchiveID: "A1"}, {Peer: "b@x", Direction: Out, Body: "y", OriginID: "o2"}})
	for _, c := range []struct {
		peer, dir, arch, origin string
		want                    bool
	}{
		{"b@x", In, "A1", "", true},
		// An archive id counts within its conversation: one a contact
		// forged must not hide somebody else's message.
		{"z@x", In, "A1", "", false},
		{"b@x", In, "", "o1", true},
		{"c@x", In, "", "o1", false}, // another sender may reuse an origin-id
		{"b@x", Out, "", "o1", false},
		{"b@x", Out, "A9", "o2", true},
		{"b@x", In, "A2", "o9", false},
	} {
		if got, err := s.Known(ctx, Key{Conv: Conv{Peer: c.peer}, Direction: c.dir, ArchiveID: c.arch, OriginID: c.origin}); err != nil || got != c.want {
			t.Errorf("Known(%v) = %v, %v", c, got, err)
		}
	}
	s.SetArchiveID(ctx, Conv{Peer: "q@x"}, "o2", "A2") // not the conversation it is in
	if ok, _ := s.Known(ctx, Key{Conv: Conv{Peer: "b@x"}, Direction: In, ArchiveID: "A2"}); ok {
		t.Error("archive id recorded on a message to somebody else")
	}
	s.SetArchiveID(ctx, Conv{Peer: "b@x"}, "o2", "A2")
	if ok, _ := s.Known(ctx, Key{Conv: Conv{Peer: "b@x"}, Direction: In, ArchiveID: "A2"}); !ok {
		t.Error("archive id of an outgoing message not recorded")
	}
	if v, _ := s.Meta(ctx, "k"); v != "" {
		t.Fatalf("unset meta = %q", v)
	}
	s.SetMeta(ctx, "k", "v1")
	s.SetMeta(ctx, "k", "v2")
	if v, _ := s.Meta(ctx, "k"); v != "v2" {
		t.Fatalf("meta = %q", v)
	}
}

func TestSearchAmongManyMessages(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	// 100,000 messages over 100 conversations, written inside SQLite in
	// one statement (the race detector makes row-by-row inserts slow), with
	// two needles among them written the ordinary way.
	_, err = s.db.Exec(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99997)
		INSERT INTO messages (peer, direction, from_jid, to_jid, body, ts, received)
		SELECT printf('p%02d@x', i % 100), 'in', '', '', printf('message number %d about nothing much', i), i, i FROM n`)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Append([]*Message{
		{Peer: "p07@x", Direction: In, Body: "zebras are not horses"},
		{Peer: "p34@x", Direction: In, Body: "the Zebra crossing is at Abbey Road"},
		{Peer: "p34@x", Direction: In, Body: "after one"},
		{Peer: "p34@x", Direction: In, Body: "after two"},
	}); err != nil {
		t.Fatal(err)
	}
	if n, _ := s.Count(context.Background()); n != 100002 {
		t.Fatalf("%d messages stored", n)
	}
	ctx := context.Background()
	// Rows written behind the indexer's back are indexed as an upgraded
	// store's are, in the background; a search does not wait for so many
	// (TestSearchDoesNotWaitForALongRefill). Here they are indexed first.
	if err := s.index(ctx); err != nil {
		t.Fatal(err)
	}
	hits, err := s.Search(ctx, "zebra", Conv{Peer: ""}, 10)
	if err != nil || len(hits) != 2 || hits[0].Body != "the Zebra crossing is at Abbey Road" || hits[1].Body != "zebras are not horses" {
		t.Fatalf("search: %v %v", hits, err)
	}
	crossing := hits[0]
	hits, _ = s.Search(ctx, "zebra abbey", Conv{Peer: ""}, 10)
	if len(hits) != 1 {
		t.Fatalf("every word must match: %v", hits)
	}
	hits, _ = s.Search(ctx, "zebra", Conv{Peer: "p07@x"}, 10)
	if len(hits) != 1 || hits[0].Peer != "p07@x" {
		t.Fatalf("in one conversation: %v", hits)
	}
	// Typed text is never FTS syntax.
	for _, q := range []string{`"`, `zebra OR`, `NEAR(`, `*`, `a:b`, `-x`} {
		if _, err := s.Search(ctx, q, Conv{Peer: ""}, 10); err != nil {
			t.Errorf("Search(%q): %v", q, err)
		}
	}
	ctxMsgs, more, err := s.Around(ctx, Conv{Peer: "p34@x"}, crossing.ID, 3, 2)
	if err != nil || !more || len(ctxMsgs) != 6 || ctxMsgs[3].Body != "the Zebra crossing is at Abbey Road" {
		t.Fatalf("around: %v %v %v", ctxMsgs, more, err)
	}
}

// The search index is filled in bulk after appends pause or before a
// search; corrections of rows indexed or not yet indexed keep it exact.
func TestSearchIndexCatchesUp(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	indexed := func() int64 {
		var n int64
		if err := s.db.QueryRow(`SELECT indexed FROM fts_state`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	old := &Message{Peer: "bob@x", Direction: In, Body: "old apples", StanzaID: "a"}
	if err := s.Append([]*Message{old}); err != nil {
		t.Fatal(err)
	}
	// The indexer catches up once appends pause.
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.Local))
	for indexed() != old.ID {
		if time.Now().After(deadline) {
			t.Fatalf("index at %d, want %d after a pause", indexed(), old.ID)
		}
		time.Sleep(50 * time.Millisecond)
	}
	// From here the background indexer waits, so the next row is seen
	// waiting however slow the machine (a search still catches up).
	s.holdIndex.Store(true)
	fresh := &Message{Peer: "bob@x", Direction: In, Body: "fresh pears", StanzaID: "b"}
	if err := s.Append([]*Message{fresh}); err != nil {
		t.Fatal(err)
	}
	if indexed() != old.ID {
		t.Fatal("indexed at once; the test cannot see a row waiting")
	}
	// Corrections: one of an indexed row, one of a row not yet indexed.
	if !s.Correct(ctx, Correction{Conv: Conv{Peer: "bob@x"}, Direction: In, ReplaceID: "a", Body: "old plums"}) ||
		!s.Correct(ctx, Correction{Conv: Conv{Peer: "bob@x"}, Direction: In, ReplaceID: "b", Body: "fresh figs"}) {
		t.Fatal("corrections not applied")
	}
	for q, want := range map[string]string{"apples": "", "plums": "old plums", "pears": "", "figs": "fresh figs"} {
		hits, err := s.Search(ctx, q, Conv{Peer: ""}, 10)
		if err != nil {
			t.Fatal(err)
		}
		if (want == "" && len(hits) != 0) || (want != "" && (len(hits) != 1 || hits[0].Body != want)) {
			t.Errorf("search %q: %v, want %q", q, hits, want)
		}
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
	// Rows left unindexed when gab stops are indexed after the next start.
	last := &Message{Peer: "bob@x", Direction: In, Body: "last cherries"}
	if err := s.Append([]*Message{last}); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if s, err = Open(path); err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if hits, err := s.Search(ctx, "cherries", Conv{Peer: ""}, 10); err != nil || len(hits) != 1 {
		t.Fatalf("after reopening: %v %v", hits, err)
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// A correction keeps the text it replaces: the original and each later
// version, oldest first. Its own ids make its copies known.
func TestCorrectionsKeepTheOriginal(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	m := &Message{Peer: "bob@x", Direction: In, Body: "teh", StanzaID: "m1"}
	if err := s.Append([]*Message{m}); err != nil {
		t.Fatal(err)
	}
	if s.Correct(ctx, Correction{Conv: Conv{Peer: "carol@x"}, Direction: In, ReplaceID: "m1", Body: "x"}) {
		t.Fatal("corrected a message in another conversation")
	}
	if !s.Correct(ctx, Correction{Conv: Conv{Peer: "bob@x"}, Direction: In, ReplaceID: "m1", Body: "the", StanzaID: "c1", OriginID: "o1", ArchiveID: "A1"}) ||
		!s.Correct(ctx, Correction{Conv: Conv{Peer: "bob@x"}, Direction: In, ReplaceID: "m1", Body: "the end", StanzaID: "c2"}) {
		t.Fatal("corrections not applied")
	}
	rows, _, _ := s.Before(ctx, Conv{Peer: "bob@x"}, 0, 10)
	if len(rows) != 1 || rows[0].Body != "the end" || !rows[0].Edited {
		t.Fatalf("rows: %+v", rows)
	}
	edits, err := s.Edits(ctx, m.ID)
	if err != nil || len(edits) != 2 || edits[0].Body != "teh" || edits[1].Body != "the" {
		t.Fatalf("edits: %+v, %v", edits, err)
	}
	for _, c := range []struct {
		k    Key
		want bool
	}{
		{Key{Conv: Conv{Peer: "bob@x"}, Direction: In, ArchiveID: "A1"}, true},
		{Key{Conv: Conv{Peer: "bob@x"}, Direction: In, OriginID: "o1"}, true},
		{Key{Conv: Conv{Peer: "carol@x"}, Direction: In, ArchiveID: "A1"}, false},
		{Key{Conv: Conv{Peer: "bob@x"}, Direction: Out, OriginID: "o1"}, false},
	} {
		if got, err := s.Known(ctx, c.k); err != nil || got != c.want {
			t.Errorf("Known(%+v) = %v, %v; want %v", c.k, got, err, c.want)
		}
	}
	last, ok, err := s.LastReceived(ctx, Conv{Peer: "bob@x"})
	if err != nil || !ok || last.StanzaID != "m1" {
		t.Fatalf("last received: %+v %v %v", last, ok, err)
	}
	if _, ok, _ := s.LastReceived(ctx, Conv{Peer: "carol@x"}); ok {
		t.Fatal("a last message in an empty conversation")
	}
}

// A meta value written with messages is stored with them or not at all:
// how far an archive was read never gets to disk without what was read.
func TestWriteKeepsMetaWithItsMessages(t *testing.T) {
	ctx := context.Background()
	s, err := Open(filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	good := &Message{Peer: "b@x", Direction: In, Body: "one", ArchiveID: "A1"}
	if err := s.Write([]*Message{good}, []MetaSet{{Key: "read up to", Value: "A1"}}); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Meta(ctx, "read up to"); v != "A1" || good.ID == 0 {
		t.Fatalf("meta %q, message id %d", v, good.ID)
	}
	bad := &Message{Peer: "", Direction: In, Body: "no peer", ArchiveID: "A3"}
	ok := &Message{Peer: "b@x", Direction: In, Body: "two", ArchiveID: "A2"}
	if err := s.Write([]*Message{ok, bad}, []MetaSet{{Key: "read up to", Value: "A3"}}); err == nil {
		t.Fatal("a message without a conversation was stored")
	}
	if v, _ := s.Meta(ctx, "read up to"); v != "A1" {
		t.Fatalf("meta moved on to %q with its messages not stored", v)
	}
	if n, _ := s.Count(ctx); n != 1 {
		t.Fatalf("%d messages stored, want the first alone", n)
	}
	if err := s.Write(nil, []MetaSet{{Key: "read up to", Value: ""}}); err != nil {
		t.Fatal(err)
	}
	if v, _ := s.Meta(ctx, "read up to"); v != "" {
		t.Fatalf("meta not removed: %q", v)
	}
}
