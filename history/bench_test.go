package history

import (
	"fmt"
	"path/filepath"
	"testing"
)

// One message per transaction, as messages are stored today.
func BenchmarkAppendOne(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		if err := s.Append([]*Message{{Peer: "p@x", Direction: In, Body: fmt.Sprint("message ", i), OriginID: fmt.Sprint("o", i)}}); err != nil {
			b.Fatal(err)
		}
	}
}

// A hundred messages per transaction, per message.
func BenchmarkAppendBatch100(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	b.ReportAllocs()
	batch := make([]*Message, 0, 100)
	for i := 0; i < b.N; i++ {
		batch = append(batch, &Message{Peer: "p@x", Direction: In, Body: fmt.Sprint("message ", i), OriginID: fmt.Sprint("o", i)})
		if len(batch) == 100 || i == b.N-1 {
			if err := s.Append(batch); err != nil {
				b.Fatal(err)
			}
			batch = batch[:0]
		}
	}
}

func BenchmarkKnown(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	var batch []*Message
	for i := 0; i < 10000; i++ {
		batch = append(batch, &Message{Peer: "p@x", Direction: In, Body: "x", OriginID: fmt.Sprint("o", i), ArchiveID: fmt.Sprint("a", i)})
	}
	s.Append(batch)
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		s.Known(b.Context(), Key{Conv: Conv{Peer: "p@x"}, Direction: In, ArchiveID: fmt.Sprint("a", i%20000), OriginID: fmt.Sprint("o", i%20000)})
	}
}

// Reading a page of 100 older messages in a conversation of 50,000 (among
// 100,000), in time order, from the middle: what scrolling back costs.
func BenchmarkBeforePage(b *testing.B) {
	s, err := Open(filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	if _, err := s.db.Exec(`WITH RECURSIVE n(i) AS (SELECT 0 UNION ALL SELECT i + 1 FROM n WHERE i < 99999)
		INSERT INTO messages (peer, direction, from_jid, to_jid, body, ts, received)
		SELECT printf('p%d@x', i % 2), 'in', '', '', printf('message %d', i), i * 1000, i * 1000 FROM n`); err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	b.ReportAllocs()
	for i := 0; i < b.N; i++ {
		page, _, err := s.Before(ctx, Conv{Peer: "p0@x"}, 50000, 100)
		if err != nil || len(page) != 100 {
			b.Fatalf("%d messages, %v", len(page), err)
		}
	}
}
