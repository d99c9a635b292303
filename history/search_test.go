package history

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// Search answers in time order however the rows were stored: messages an
// archive brought in late (stored after newer ones) and messages dated
// ahead of the rows stored after them, whether the matches are few (all
// sorted) or many (read in stored order, then the rows dated later
// walked). Checked against every message matched by hand, with the span
// read in stored order made small so both ways run.
func TestSearchTimeOrderAmongLateRows(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	defer func(n int) { searchSpan = n }(searchSpan)
	searchSpan = 3
	ctx := context.Background()
	words := strings.Fields("apple apricot banana cherry date elder fig grape")
	convs := []Conv{{Peer: "a@x"}, {Peer: "b@x"}, {Kind: KindRoom, Peer: "r@rooms.x"}}
	r := rand.New(rand.NewPCG(1, 2))
	base := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	var all []Message
	for i := 0; i < 600; i++ {
		minute := i
		switch r.IntN(10) {
		case 0: // brought in late from an archive
			minute -= 1 + r.IntN(200)
		case 1: // dated ahead
			minute += 1 + r.IntN(200)
		case 2: // the same time as another
			minute = i - i%3
		}
		var body []string
		for k := 1 + r.IntN(3); k > 0; k-- {
			body = append(body, words[r.IntN(len(words))])
		}
		c := convs[r.IntN(len(convs))]
		m := &Message{Kind: c.Kind, Peer: c.Peer, Direction: In, Body: strings.Join(body, " "), Time: base.Add(time.Duration(minute) * time.Minute)}
		if err := s.Append([]*Message{m}); err != nil {
			t.Fatal(err)
		}
		all = append(all, *m)
	}
	matches := func(body, text string) bool {
		for _, w := range strings.Fields(text) {
			found := false
			for _, b := range strings.Fields(body) {
				found = found || strings.HasPrefix(b, w)
			}
			if !found {
				return false
			}
		}
		return true
	}
	for _, text := range []string{"a", "ap", "apple", "banana", "fig grape", "cherry d", "e"} {
		for _, c := range append([]Conv{{}}, convs...) {
			for _, limit := range []int{1, 5, 20, 200} {
				var want []string
				for _, m := range all {
					if (c.Peer == "" || m.Peer == c.Peer && m.Kind == c.kind()) && matches(m.Body, text) {
						want = append(want, fmt.Sprintf("%d@%d", m.ID, m.Time.Unix()))
					}
				}
				slices.SortFunc(want, func(a, b string) int {
					var ai, at, bi, bt int64
					fmt.Sscanf(a, "%d@%d", &ai, &at)
					fmt.Sscanf(b, "%d@%d", &bi, &bt)
					return newer(hit{ai, at}, hit{bi, bt})
				})
				want = want[:min(len(want), limit)]
				hits, err := s.Search(ctx, text, c, limit)
				if err != nil {
					t.Fatal(err)
				}
				var got []string
				for _, h := range hits {
					got = append(got, fmt.Sprintf("%d@%d", h.ID, h.Time.Unix()))
				}
				if !slices.Equal(got, want) {
					t.Fatalf("Search(%q, %+v, %d) =\n%v\nwant\n%v", text, c, limit, got, want)
				}
			}
		}
	}
}

// Search reads from indexes only: no walk of the messages table, no sort
// of every match by SQLite (at a million messages, sorting the matches of
// a common word by time took seconds), and the rows dated later are
// walked by a time index.
func TestSearchUsesIndexes(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "p.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	defer func(n int) { searchSpan = n }(searchSpan)
	searchSpan = 2
	ctx := context.Background()
	var batch []*Message
	for i := 0; i < 50; i++ {
		batch = append(batch, &Message{Peer: fmt.Sprintf("p%d@x", i%2), Direction: In, Body: fmt.Sprint("common word ", i)})
	}
	if err := s.Append(batch); err != nil {
		t.Fatal(err)
	}
	for _, c := range []Conv{{}, {Peer: "p1@x"}} {
		var plan []string
		s.explain = func(detail string) { plan = append(plan, detail) }
		hits, err := s.Search(ctx, "common", c, 5)
		s.explain = nil
		if err != nil || len(hits) != 5 {
			t.Fatalf("%d hits, %v", len(hits), err)
		}
		if len(plan) == 0 {
			t.Fatal("no query plan seen")
		}
		walk := "messages_ts"
		if c.Peer != "" {
			walk = "messages_conv_ts"
		}
		joined := strings.Join(plan, "\n")
		if !strings.Contains(joined, walk) {
			t.Errorf("search in %+v does not walk %s:\n%s", c, walk, joined)
		}
		for _, d := range plan {
			if strings.Contains(d, "TEMP B-TREE") || d == "SCAN messages" || strings.HasPrefix(d, "SCAN messages ") {
				t.Errorf("search in %+v: %q in\n%s", c, d, joined)
			}
		}
	}
}

// A store from before the search index knew conversations and prefixes
// is upgraded: the index is refilled (in chunks, a transaction each) and
// search finds old messages, in every conversation and in one.
func TestSearchIndexRefilledAfterUpgrade(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	// The store as it was just before the migration that rebuilt the
	// index (found by what it does: migrations are renumbered as others
	// are added).
	old := slices.IndexFunc(migrations, func(m string) bool { return strings.Contains(m, "contentless_delete") })
	if old < 0 {
		t.Fatal("no migration rebuilds the search index")
	}
	for i, m := range migrations[:old] {
		if _, err := db.Exec(m); err != nil {
			t.Fatalf("migration %d: %v", i+1, err)
		}
	}
	if _, err := db.Exec(fmt.Sprintf(`PRAGMA user_version = %d`, old)); err != nil {
		t.Fatal(err)
	}
	// More than one chunk of messages, indexed by the old index.
	if _, err := db.Exec(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < ?)
		INSERT INTO messages (peer, kind, direction, from_jid, to_jid, body, ts, received)
		SELECT printf('p%d@x', i % 3), 'chat', 'in', '', '', printf('old message %d', i), i, i FROM n`, indexChunk+500); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO messages_fts(rowid, body) SELECT id, body FROM messages;
		UPDATE fts_state SET indexed = (SELECT max(id) FROM messages)`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	hits, err := s.Search(ctx, "message", Conv{}, 3)
	if err != nil || len(hits) != 3 || hits[0].Body != fmt.Sprintf("old message %d", indexChunk+500) {
		t.Fatalf("after the upgrade: %v %v", hits, err)
	}
	hits, err = s.Search(ctx, "old", Conv{Peer: "p1@x"}, 2)
	if err != nil || len(hits) != 2 || hits[0].Peer != "p1@x" || hits[1].Peer != "p1@x" {
		t.Fatalf("in one conversation: %v %v", hits, err)
	}
	// What the index knows of a message's conversation is not its text.
	for _, q := range []string{"zc", "zc1", "conv", "p1"} {
		if hits, err := s.Search(ctx, q, Conv{}, 10); err != nil || len(hits) != 0 {
			t.Fatalf("Search(%q): %d hits, %v", q, len(hits), err)
		}
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
}

// With more messages waiting to be indexed than a search will index
// before answering (the index refilled after an upgrade), a search answers
// at once from the index as it stands and says how many it left out.
func TestSearchDoesNotWaitForALongRefill(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "a.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	if err := s.Append([]*Message{{Peer: "bob@x", Direction: In, Body: "indexed walrus", StanzaID: "w"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Search(ctx, "walrus", Conv{}, 10); err != nil { // brings the index up to date
		t.Fatal(err)
	}
	defer func(old int64) { searchWaitMax = old }(searchWaitMax)
	searchWaitMax = 5
	// Rows stored behind the indexer's back, as an upgrade leaves them.
	for i := range 8 {
		if _, err := s.db.Exec(`INSERT INTO messages (peer, kind, direction, from_jid, to_jid, body, ts, received)
			VALUES ('bob@x', 'chat', 'in', '', '', ?, ?, ?)`, fmt.Sprintf("waiting walrus %d", i), i+1, i+1); err != nil {
			t.Fatal(err)
		}
	}
	hits, err := s.Search(ctx, "walrus", Conv{}, 10)
	if err != nil {
		t.Fatal(err)
	}
	if len(hits) != 1 || hits[0].Body != "indexed walrus" {
		t.Fatalf("search with 8 rows waiting (more than 5): %v, want only the indexed row", hits)
	}
	if n, err := s.Unsearched(ctx); err != nil || n != 8 {
		t.Fatalf("Unsearched = %d, %v; want 8", n, err)
	}
	// Within the limit, the search indexes first and finds them all.
	searchWaitMax = 8
	if hits, err = s.Search(ctx, "walrus", Conv{}, 10); err != nil || len(hits) != 9 {
		t.Fatalf("search with 8 rows waiting (limit 8): %d hits, %v; want 9", len(hits), err)
	}
	if n, err := s.Unsearched(ctx); err != nil || n != 0 {
		t.Fatalf("Unsearched after catching up = %d, %v; want 0", n, err)
	}
}
