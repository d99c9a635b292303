package history

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/internal/histfixture"
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

// The store at a million messages (see internal/histfixture: 200
// conversations of Zipf-spread sizes, rooms among them, Zipf-distributed
// words). The fixture is built once and cached under the system's
// temporary directory; its building time is logged when it happens.
// Latencies are reported as p50 and p99 over the loop's iterations, each
// on a different conversation or word.

func createStore(path string) error {
	s, err := Open(path)
	if err != nil {
		return err
	}
	if err := s.IndexAll(context.Background()); err != nil {
		s.Close()
		return err
	}
	return s.Close()
}

// fixtureStore opens the cached fixture of n messages.
func fixtureStore(b *testing.B, n int) *Store {
	b.Helper()
	path, took, err := histfixture.Build(n, createStore)
	if err != nil {
		b.Fatal(err)
	}
	if took > 0 {
		b.Logf("built the fixture of %d messages in %v", n, took.Round(time.Millisecond))
	}
	s, err := Open(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	return s
}

// latencies records one duration per iteration and reports p50 and p99.
type latencies []time.Duration

func (l *latencies) time(f func()) {
	t := time.Now()
	f()
	*l = append(*l, time.Since(t))
}

func (l latencies) report(b *testing.B) {
	if len(l) == 0 {
		return
	}
	slices.Sort(l)
	at := func(q float64) float64 {
		return float64(l[min(len(l)-1, int(q*float64(len(l))))].Microseconds()) / 1000
	}
	b.ReportMetric(at(0.5), "p50-ms")
	b.ReportMetric(at(0.99), "p99-ms")
}

func fixtureConvs() []Conv {
	var out []Conv
	for _, c := range histfixture.Convs() {
		out = append(out, Conv{Kind: c.Kind, Peer: c.Peer})
	}
	return out
}

// Opening a conversation's tab: the newest page the interface asks for
// (LoadHistory with no Before, a page of 100: Store.Before(c, 0, 100)).
func BenchmarkMillionOpenConversation(b *testing.B) {
	s := fixtureStore(b, 1000000)
	convs := fixtureConvs()
	ctx := b.Context()
	var lat latencies
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		c := convs[(i*37)%len(convs)]
		lat.time(func() {
			if page, _, err := s.Before(ctx, c, 0, 100); err != nil || len(page) == 0 {
				b.Fatalf("%v: %d messages, %v", c, len(page), err)
			}
		})
	}
	lat.report(b)
}

// Paging back 100 messages from a point anywhere in a conversation.
func BenchmarkMillionPageBack(b *testing.B) {
	s := fixtureStore(b, 1000000)
	convs := fixtureConvs()
	ctx := b.Context()
	// Starting points: for each conversation, rows spread over its whole
	// history.
	type start struct {
		c  Conv
		id int64
	}
	var starts []start
	for _, c := range convs {
		rows, err := s.db.QueryContext(ctx, `SELECT id FROM messages WHERE peer = ? AND kind = ? AND id % 97 = 0 LIMIT 20`, c.Peer, c.Kind)
		if err != nil {
			b.Fatal(err)
		}
		for rows.Next() {
			var id int64
			rows.Scan(&id)
			starts = append(starts, start{c, id})
		}
		rows.Close()
	}
	rand.New(rand.NewPCG(1, 2)).Shuffle(len(starts), func(i, j int) { starts[i], starts[j] = starts[j], starts[i] })
	var lat latencies
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		st := starts[i%len(starts)]
		lat.time(func() {
			if _, _, err := s.Before(ctx, st.c, st.id, 100); err != nil {
				b.Fatal(err)
			}
		})
	}
	lat.report(b)
}

// /search as the interface runs it (up to 200 hits), for words of every
// kind: in every conversation, or in the one open.
func BenchmarkMillionSearch(b *testing.B) {
	s := fixtureStore(b, 1000000)
	convs := fixtureConvs()
	ctx := b.Context()
	for _, tc := range []struct {
		name string
		word func(i int) string
		conv func(i int) Conv
	}{
		{"common", histfixture.Common, func(int) Conv { return Conv{} }},
		{"rare", histfixture.Rare, func(int) Conv { return Conv{} }},
		{"common-in-conversation", histfixture.Common, func(i int) Conv { return convs[(i*37)%len(convs)] }},
		{"rare-in-conversation", histfixture.Rare, func(i int) Conv { return convs[(i*37)%len(convs)] }},
	} {
		b.Run(tc.name, func(b *testing.B) {
			var lat latencies
			hits := 0
			for i := 0; i < b.N; i++ {
				word, c := tc.word(i), tc.conv(i)
				lat.time(func() {
					h, err := s.Search(ctx, word, c, 200)
					if err != nil {
						b.Fatal(err)
					}
					hits += len(h)
				})
			}
			lat.report(b)
			b.ReportMetric(float64(hits)/float64(b.N), "hits/op")
		})
	}
}

// What launching gab asks of the store before the first frame and right
// after: Open (schema check, the indexer's catch-up), the outbox (Unsent)
// and where the archive catch-up starts (Meta), then Close; at a million
// messages and at a thousand.
func BenchmarkMillionLaunch(b *testing.B) {
	for _, n := range []int{1000, 1000000} {
		b.Run(fmt.Sprint(n), func(b *testing.B) {
			path, _, err := histfixture.Build(n, createStore)
			if err != nil {
				b.Fatal(err)
			}
			ctx := b.Context()
			var lat latencies
			for i := 0; i < b.N; i++ {
				lat.time(func() {
					s, err := Open(path)
					if err != nil {
						b.Fatal(err)
					}
					if _, err := s.Unsent(ctx); err != nil {
						b.Fatal(err)
					}
					if _, err := s.Meta(ctx, "mam-last"); err != nil {
						b.Fatal(err)
					}
					if err := s.Close(); err != nil {
						b.Fatal(err)
					}
				})
			}
			lat.report(b)
		})
	}
}

// Memory after a session's worth of reading at a million messages: 200
// conversations opened and paged back once, 100 searches. Reported: the
// Go heap in use and the process's resident set (SQLite's page cache in
// modernc's build is allocated outside the Go heap).
func BenchmarkMillionMemory(b *testing.B) {
	s := fixtureStore(b, 1000000)
	convs := fixtureConvs()
	ctx := b.Context()
	for i := 0; i < b.N; i++ {
		for _, c := range convs {
			page, _, err := s.Before(ctx, c, 0, 100)
			if err != nil || len(page) == 0 {
				b.Fatal(err)
			}
			if _, _, err := s.Before(ctx, c, page[0].ID, 100); err != nil {
				b.Fatal(err)
			}
		}
		for k := 0; k < 50; k++ {
			if _, err := s.Search(ctx, histfixture.Common(k), Conv{}, 200); err != nil {
				b.Fatal(err)
			}
			if _, err := s.Search(ctx, histfixture.Rare(k), Conv{}, 200); err != nil {
				b.Fatal(err)
			}
		}
	}
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	b.ReportMetric(float64(ms.HeapInuse)/1e6, "heap-MB")
	b.ReportMetric(float64(rss())/1e6, "rss-MB")
}

// rss is the process's resident set size, from /proc.
func rss() int64 {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(data), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmRSS:" {
			kb, _ := strconv.ParseInt(f[1], 10, 64)
			return kb * 1024
		}
	}
	return 0
}

// A sent message's receipts and archive id at a million messages:
// SetState and SetArchiveID by origin-id (each receipt, each sent
// message's echo from the archive). The fixture's sent messages are
// displayed and have archive ids already: the cached store is unchanged.
func BenchmarkMillionSentUpdates(b *testing.B) {
	s := fixtureStore(b, 1000000)
	ctx := b.Context()
	type sent struct {
		c      Conv
		origin string
	}
	var out []sent
	rows, err := s.db.QueryContext(ctx, `SELECT peer, kind, origin_id FROM messages WHERE origin_id != '' AND id % 101 = 0 LIMIT 500`)
	if err != nil {
		b.Fatal(err)
	}
	for rows.Next() {
		var m sent
		rows.Scan(&m.c.Peer, &m.c.Kind, &m.origin)
		out = append(out, m)
	}
	rows.Close()
	var lat latencies
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		m := out[i%len(out)]
		lat.time(func() {
			if err := s.SetState(ctx, m.origin, StateDisplayed); err != nil {
				b.Fatal(err)
			}
			if err := s.SetArchiveID(ctx, m.c, m.origin, "x"); err != nil {
				b.Fatal(err)
			}
		})
	}
	lat.report(b)
}

// omemoBenchStore holds 1,000 OMEMO sessions (200 contacts with five
// devices each) of size bytes each: a marshalled OMEMO 0.3 session is 276
// bytes without skipped message keys, 68 KB with the 1,000 kept at most.
func omemoBenchStore(b *testing.B, size int) *Store {
	b.Helper()
	s, err := Open(filepath.Join(b.TempDir(), "b.db"))
	if err != nil {
		b.Fatal(err)
	}
	state := make([]byte, size)
	var all []Session
	for i := 0; i < 1000; i++ {
		all = append(all, Session{SessionKey: SessionKey{JID: fmt.Sprintf("c%d@x", i/5), Device: uint32(1000 + i%5), Version: OMEMO03}, State: state})
	}
	if err := s.Commit(Batch{Sessions: all}); err != nil {
		b.Fatal(err)
	}
	return s
}

// Loading the session a message needs, among 1,000.
func BenchmarkOMEMOSessionLoad(b *testing.B) {
	for _, c := range []struct {
		name string
		size int
	}{{"276B", 276}, {"68KB", 2 + 6*32 + 12 + 66 + 4 + 1000*68}} {
		b.Run(c.name, func(b *testing.B) {
			s := omemoBenchStore(b, c.size)
			defer s.Close()
			ctx := b.Context()
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := SessionKey{JID: fmt.Sprintf("c%d@x", i%200), Device: uint32(1000 + i%5), Version: OMEMO03}
				st, ok, err := s.Session(ctx, k)
				if err != nil || !ok || len(st) != c.size {
					b.Fatalf("%d bytes, %v, %v", len(st), ok, err)
				}
			}
		})
	}
}

// Storing a received encrypted message with the session its decryption
// advanced, one per transaction (compare BenchmarkAppendOne).
func BenchmarkOMEMOReceiveWithSession(b *testing.B) {
	for _, c := range []struct {
		name string
		size int
	}{{"276B", 276}, {"68KB", 2 + 6*32 + 12 + 66 + 4 + 1000*68}} {
		b.Run(c.name, func(b *testing.B) {
			s := omemoBenchStore(b, c.size)
			defer s.Close()
			state := make([]byte, c.size)
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				k := SessionKey{JID: fmt.Sprintf("c%d@x", i%200), Device: uint32(1000 + i%5), Version: OMEMO03}
				state[0] = byte(i)
				err := s.Commit(Batch{
					Messages: []*Message{{Peer: k.JID, Direction: In, Body: fmt.Sprint("message ", i), OriginID: fmt.Sprint("o", i), Encryption: OMEMO03, Device: k.Device, Trust: TrustTrusted}},
					Sessions: []Session{{SessionKey: k, State: state}},
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// Queuing an encrypted message in the outbox with its element (for three
// devices, about 1 KB) and the three sessions its encryption advanced.
func BenchmarkOMEMOQueueEncrypted(b *testing.B) {
	s := omemoBenchStore(b, 276)
	defer s.Close()
	state := make([]byte, 276)
	wire := `<encrypted xmlns="eu.siacs.conversations.axolotl"><header sid="42">` +
		strings.Repeat(`<key rid="1000">`+strings.Repeat("A", 200)+`</key>`, 3) +
		`<iv>AAAAAAAAAAAAAAAA</iv></header><payload>` + strings.Repeat("B", 200) + `</payload></encrypted>`
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		jid := fmt.Sprintf("c%d@x", i%200)
		var sessions []Session
		for d := uint32(1000); d < 1003; d++ {
			sessions = append(sessions, Session{SessionKey: SessionKey{JID: jid, Device: d, Version: OMEMO03}, State: state})
		}
		err := s.Commit(Batch{
			Messages: []*Message{{Peer: jid, Direction: Out, Body: fmt.Sprint("message ", i), OriginID: fmt.Sprint("o", i), State: StatePending,
				Encryption: OMEMO03, Device: 42, Trust: TrustTrusted, Wire: wire}},
			Sessions: sessions,
		})
		if err != nil {
			b.Fatal(err)
		}
	}
}
