package history

import (
	"context"
	"database/sql"
	"path/filepath"
	"testing"
	"time"
)

// A room and a chat with the same JID are two conversations: paging,
// search, duplicates and corrections keep to their own.
func TestKindsAreSeparateConversations(t *testing.T) {
	s, err := Open(filepath.Join(t.TempDir(), "k.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	room := Conv{Kind: KindRoom, Peer: "tea@rooms.x"}
	chat := Conv{Peer: "tea@rooms.x"}
	priv := Conv{Kind: KindPrivate, Peer: "tea@rooms.x/ada"}
	t0 := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	msgs := []*Message{
		{Kind: KindRoom, Peer: room.Peer, Direction: In, From: "tea@rooms.x/ada", Body: "room words", StanzaID: "r1", ArchiveID: "A1", OriginID: "o1", Nick: "ada", OccupantID: "occ-ada", Time: t0},
		{Peer: chat.Peer, Direction: In, From: "tea@rooms.x/x", Body: "chat words", StanzaID: "r1", Time: t0.Add(time.Second)},
		{Kind: KindPrivate, Peer: priv.Peer, Direction: In, From: priv.Peer, Body: "private words", StanzaID: "r1", Time: t0.Add(2 * time.Second)},
	}
	if err := s.Append(msgs); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		conv Conv
		body string
	}{{room, "room words"}, {chat, "chat words"}, {priv, "private words"}} {
		page, _, err := s.Before(ctx, c.conv, 0, 10)
		if err != nil || len(page) != 1 || page[0].Body != c.body {
			t.Fatalf("Before(%+v) = %+v, %v; want only %q", c.conv, page, err, c.body)
		}
		hits, err := s.Search(ctx, "words", c.conv, 10)
		if err != nil || len(hits) != 1 || hits[0].Body != c.body {
			t.Fatalf("Search in %+v = %+v, %v", c.conv, hits, err)
		}
	}
	page, _, _ := s.Before(ctx, room, 0, 10)
	if m := page[0]; m.Kind != KindRoom || m.Nick != "ada" || m.OccupantID != "occ-ada" {
		t.Fatalf("room row read back as %+v", m)
	}
	if all, _ := s.Search(ctx, "words", Conv{}, 10); len(all) != 3 {
		t.Fatalf("search of all conversations found %d, want 3", len(all))
	}
	// The room's archive id and origin-id do not make the chat's
	// messages known, nor the other way round.
	for _, k := range []Key{
		{Conv: chat, Direction: In, ArchiveID: "A1"},
		{Conv: chat, Direction: In, OriginID: "o1"},
		{Conv: priv, Direction: In, ArchiveID: "A1"},
	} {
		if ok, err := s.Known(ctx, k); err != nil || ok {
			t.Errorf("Known(%+v) = %v, %v; want false", k, ok, err)
		}
	}
	if ok, _ := s.Known(ctx, Key{Conv: room, Direction: In, ArchiveID: "A1"}); !ok {
		t.Error("the room's own archive id not known")
	}
	// A correction in the room names the occupant: another occupant
	// (another id) cannot correct ada's message; ada can.
	if s.Correct(ctx, Correction{Conv: room, Direction: In, ReplaceID: "r1", Body: "forged", OccupantID: "occ-eve"}) {
		t.Fatal("another occupant corrected ada's message")
	}
	if !s.Correct(ctx, Correction{Conv: room, Direction: In, ReplaceID: "r1", Body: "room words, fixed", OccupantID: "occ-ada"}) {
		t.Fatal("ada could not correct her message")
	}
	if page, _, _ := s.Before(ctx, chat, 0, 10); page[0].Body != "chat words" || page[0].Edited {
		t.Fatalf("the room's correction changed the chat: %+v", page[0])
	}
	if last, ok, _ := s.LastReceived(ctx, priv); !ok || last.Body != "private words" {
		t.Fatalf("LastReceived(private) = %+v, %v", last, ok)
	}
}

// A database written before conversations had kinds opens with every
// message in a chat, found as before.
func TestMigrationGivesOldRowsTheChatKind(t *testing.T) {
	path := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", "file:"+path)
	if err != nil {
		t.Fatal(err)
	}
	for i, m := range migrations[:8] {
		if _, err := db.Exec(m); err != nil {
			t.Fatalf("old migration %d: %v", i+1, err)
		}
	}
	if _, err := db.Exec(`PRAGMA user_version = 8`); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Exec(`INSERT INTO messages (peer, direction, from_jid, to_jid, body, ts, received, archive_id) VALUES ('bob@x', 'in', 'bob@x/r', 'me@x', 'from before', 1, 1, 'A9')`); err != nil {
		t.Fatal(err)
	}
	db.Close()
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx := context.Background()
	page, _, err := s.Before(ctx, Conv{Kind: KindChat, Peer: "bob@x"}, 0, 10)
	if err != nil || len(page) != 1 || page[0].Body != "from before" || page[0].Kind != KindChat {
		t.Fatalf("old row after migration: %+v, %v", page, err)
	}
	if page, _, _ := s.Before(ctx, Conv{Kind: KindRoom, Peer: "bob@x"}, 0, 10); len(page) != 0 {
		t.Fatalf("old chat row shows in a room: %+v", page)
	}
	if ok, _ := s.Known(ctx, Key{Conv: Conv{Peer: "bob@x"}, Direction: In, ArchiveID: "A9"}); !ok {
		t.Fatal("old archive id no longer known")
	}
	if err := s.Check(ctx); err != nil {
		t.Fatal(err)
	}
}
