package history

import (
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"maps"
	"math/rand/v2"
	"path/filepath"
	"reflect"
	"runtime"
	"slices"
	"strings"
	"testing"
)

func openTest(t testing.TB) *Store {
	t.Helper()
	s, err := Open(filepath.Join(t.TempDir(), "h.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestRosterCacheRoundTrip(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, _, ok, err := s.Roster(ctx); ok || err != nil {
		t.Fatalf("fresh store: ok %v err %v, want no cached roster", ok, err)
	}
	items := []RosterItem{
		{JID: "a@x", Name: "Ada", Subscription: "both", Groups: []string{"Friends", "Work [x]"}},
		{JID: "b@x", Subscription: "none", Ask: true},
	}
	if err := s.SaveRoster(ctx, items, "v1"); err != nil {
		t.Fatal(err)
	}
	got, ver, ok, err := s.Roster(ctx)
	if err != nil || !ok || ver != "v1" {
		t.Fatalf("Roster: ok %v ver %q err %v", ok, ver, err)
	}
	byJID := func(a, b RosterItem) int {
		if a.JID < b.JID {
			return -1
		}
		return 1
	}
	slices.SortFunc(got, byJID)
	if fmt.Sprint(got) != fmt.Sprint(items) {
		t.Fatalf("read back %+v, want %+v", got, items)
	}
	// A push renames one, another removes one, in order, each with its version.
	if err := s.PushRoster(ctx, RosterItem{JID: "a@x", Name: "Ada L.", Subscription: "both"}, false, "v2"); err != nil {
		t.Fatal(err)
	}
	if err := s.PushRoster(ctx, RosterItem{JID: "b@x"}, true, "v3"); err != nil {
		t.Fatal(err)
	}
	if err := s.PushRoster(ctx, RosterItem{JID: "c@x", Subscription: "to"}, false, ""); err != nil {
		t.Fatal(err)
	}
	got, ver, ok, err = s.Roster(ctx)
	slices.SortFunc(got, byJID)
	want := []RosterItem{{JID: "a@x", Name: "Ada L.", Subscription: "both"}, {JID: "c@x", Subscription: "to"}}
	if err != nil || !ok || ver != "v3" || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("after pushes: %+v ver %q ok %v err %v; want %+v at v3", got, ver, ok, err, want)
	}
	// An empty roster is a cached roster too.
	if err := s.SaveRoster(ctx, nil, "v4"); err != nil {
		t.Fatal(err)
	}
	if got, ver, ok, err := s.Roster(ctx); err != nil || !ok || ver != "v4" || len(got) != 0 {
		t.Fatalf("empty roster: %+v ver %q ok %v err %v", got, ver, ok, err)
	}
	if err := s.ForgetRoster(ctx); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, err := s.Roster(ctx); ok || err != nil {
		t.Fatalf("forgotten: ok %v err %v", ok, err)
	}
}

func TestRosterPushWithoutCacheKeepsNone(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if err := s.PushRoster(ctx, RosterItem{JID: "a@x", Subscription: "both"}, false, "v9"); err != nil {
		t.Fatal(err)
	}
	if _, _, ok, err := s.Roster(ctx); ok || err != nil {
		t.Fatalf("a push alone made a cached roster: ok %v err %v", ok, err)
	}
}

// Each kind of damage is reported as such, never read as a roster.
func TestRosterCacheDamage(t *testing.T) {
	// What gab wrote, rewritten with its checksum where the damage keeps it
	// right, so the decoding's own checks are tried too.
	resum := func(expr string) string {
		return `UPDATE roster SET entries = ` + expr + `;`
	}
	for _, c := range []struct {
		name, sql string
		fix       bool // set sum to match the damaged text, and count to 2
	}{
		{"garbage", resum(`x'deadbeef'`), false},
		{"garbage with its checksum", resum(`'garbage'`), true},
		{"bad subscription", resum(`replace(entries, 'both', 'garbage')`), true},
		{"jid with a space", resum(`replace(entries, 'a@x', 'a b@x')`), true},
		{"ask not a flag", resum(`replace(entries, char(30) || '0' || char(30), char(30) || 'yes' || char(30))`), true},
		{"groups not terminated", resum(`replace(entries, 'Friends' || char(31), 'Friends')`), true},
		{"entry cut short", resum(`substr(entries, 1, length(entries) - 3)`), true},
		{"entry lost", `UPDATE roster SET count = 3;`, false},
		{"count not a number", `UPDATE roster SET count = 'many';`, false},
		{"sum not a number", `UPDATE roster SET sum = 'x';`, false},
		{"text not UTF-8", resum(`CAST(x'ff00fe' AS TEXT)`), true},
		// Right checksum, wrong content: what a push could not be saved onto.
		{"a JID twice", resum(`replace(entries, 'b@x', 'a@x')`), true},
		{"group holding an entry end", resum(`replace(entries, 'Friends', 'Fri' || char(29) || 'ends')`), true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			s := openTest(t)
			if err := s.SaveRoster(ctx, []RosterItem{{JID: "a@x", Subscription: "both", Groups: []string{"Friends"}}, {JID: "b@x", Subscription: "to"}}, "v1"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.db.Exec(c.sql); err != nil {
				t.Fatal(err)
			}
			if c.fix {
				var text string
				if err := s.db.QueryRow(`SELECT entries FROM roster`).Scan(&text); err != nil {
					t.Fatal(err)
				}
				if _, err := s.db.Exec(`UPDATE roster SET sum = ?`, int64(crc32.ChecksumIEEE([]byte(text)))); err != nil {
					t.Fatal(err)
				}
			}
			items, _, ok, err := s.Roster(ctx)
			if !errors.Is(err, ErrRosterDamaged) || ok {
				t.Fatalf("damaged cache read as %+v ok %v err %v; want ErrRosterDamaged", items, ok, err)
			}
		})
	}
}

func TestBookmarksCache(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if _, ok, err := s.Bookmarks(ctx); ok || err != nil {
		t.Fatalf("fresh: ok %v err %v", ok, err)
	}
	bms := []Bookmark{{Room: "b@rooms.x", Name: "B"}, {Room: "a@rooms.x", Nick: "me", Autojoin: true}}
	if err := s.SaveBookmarks(ctx, bms); err != nil {
		t.Fatal(err)
	}
	got, ok, err := s.Bookmarks(ctx)
	want := []Bookmark{bms[1], bms[0]}
	if err != nil || !ok || fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %+v ok %v err %v, want %+v", got, ok, err, want)
	}
	if err := s.SaveBookmarks(ctx, nil); err != nil {
		t.Fatal(err)
	}
	if got, ok, err := s.Bookmarks(ctx); err != nil || !ok || len(got) != 0 {
		t.Fatalf("none saved: %+v ok %v err %v", got, ok, err)
	}
}

func rosterOf(n int) []RosterItem {
	items := make([]RosterItem, n)
	for i := range items {
		items[i] = RosterItem{JID: fmt.Sprintf("c%05d@example.org", i), Name: fmt.Sprintf("Contact %05d", i), Subscription: "both", Groups: []string{fmt.Sprintf("Group %02d", i%40)}}
	}
	return items
}

// Reading a 10,000-contact roster back at launch: what stands between
// starting gab and the contact list on screen.
func BenchmarkRosterCacheLoad10k(b *testing.B) {
	ctx := context.Background()
	s := openTest(b)
	if err := s.SaveRoster(ctx, rosterOf(10000), "v1"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		items, _, ok, err := s.Roster(ctx)
		if err != nil || !ok || len(items) != 10000 {
			b.Fatalf("%d items ok %v err %v", len(items), ok, err)
		}
	}
}

// Replacing the whole cache with a full roster of 10,000.
func BenchmarkRosterCacheSave10k(b *testing.B) {
	ctx := context.Background()
	s := openTest(b)
	items := rosterOf(10000)
	b.ReportAllocs()
	for range b.N {
		if err := s.SaveRoster(ctx, items, "v1"); err != nil {
			b.Fatal(err)
		}
	}
}

// One push into a 10,000-contact cache.
func BenchmarkRosterCachePush10k(b *testing.B) {
	ctx := context.Background()
	s := openTest(b)
	if err := s.SaveRoster(ctx, rosterOf(10000), "v1"); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := s.PushRoster(ctx, RosterItem{JID: "c00042@example.org", Name: fmt.Sprint("Renamed ", i), Subscription: "both"}, false, fmt.Sprint("v", i+2)); err != nil {
			b.Fatal(err)
		}
	}
}

// A store that cannot be read is not a damaged roster: the roster is kept
// for when it can be.
func TestRosterReadFailureIsNotDamage(t *testing.T) {
	s := openTest(t)
	if err := s.SaveRoster(context.Background(), []RosterItem{{JID: "a@x", Subscription: "both"}}, "v1"); err != nil {
		t.Fatal(err)
	}
	s.Close()
	if _, _, _, err := s.Roster(context.Background()); err == nil || errors.Is(err, ErrRosterDamaged) {
		t.Fatalf("reading a closed store: %v; want an error that is not damage", err)
	}
}

// A hostile or enormous server roster of 100,000 contacts: the row's
// size, saving it whole, reading it back, and one push onto it.
func BenchmarkRosterCache100k(b *testing.B) {
	ctx := context.Background()
	items := rosterOf(100000)
	b.Run("save", func(b *testing.B) {
		s := openTest(b)
		b.ReportMetric(float64(len(encodeRoster(items))), "row-bytes")
		for range b.N {
			if err := s.SaveRoster(ctx, items, "v1"); err != nil {
				b.Fatal(err)
			}
		}
	})
	s := openTest(b)
	if err := s.SaveRoster(ctx, items, "v1"); err != nil {
		b.Fatal(err)
	}
	b.Run("load", func(b *testing.B) {
		for range b.N {
			if got, _, ok, err := s.Roster(ctx); err != nil || !ok || len(got) != len(items) {
				b.Fatalf("%d ok %v err %v", len(got), ok, err)
			}
		}
	})
	b.Run("push", func(b *testing.B) {
		for i := range b.N {
			if err := s.PushRoster(ctx, RosterItem{JID: "c00042@example.org", Name: fmt.Sprint("Renamed ", i), Subscription: "both"}, false, fmt.Sprint("v", i+2)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// The count is outside the checksum: a damaged count (one bit flipped
// is enough) must not size what decoding allocates. A 10,000-contact
// row of 500 KB with a count of 500,000 was 40 MB at once.
func TestRosterDamagedCountAllocatesNothingBig(t *testing.T) {
	text := encodeRoster(rosterOf(10000))
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	_, err := decodeRoster(text, len(text))
	runtime.ReadMemStats(&after)
	if !errors.Is(err, ErrRosterDamaged) {
		t.Fatalf("count %d for 10,000 entries: %v, want damage", len(text), err)
	}
	if got := after.TotalAlloc - before.TotalAlloc; got > 4<<20 {
		t.Fatalf("decoding a row with a damaged count allocated %d MB", got>>20)
	}
}

// A saved list is read whatever its order (an older gab kept the
// server's), and a JID saved twice is damage there too.
func TestRosterCacheInAnyOrder(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		jids    []string
		damaged bool
	}{
		{[]string{"c@x", "a@x", "b@x"}, false},
		{[]string{"c@x", "a@x", "c@x"}, true},
		{[]string{"a@x", "b@x", "a@x"}, true},
	} {
		s := openTest(t)
		if err := s.SaveRoster(ctx, []RosterItem{{JID: "z@x", Subscription: "both"}}, "v1"); err != nil {
			t.Fatal(err)
		}
		items := make([]RosterItem, len(c.jids))
		for i, j := range c.jids {
			items[i] = RosterItem{JID: j, Subscription: "both", Name: "N " + j}
		}
		text := encodeRoster(items)
		if _, err := s.db.Exec(`UPDATE roster SET entries = ?, count = ?, sum = ?`, text, len(items), int64(crc32.ChecksumIEEE([]byte(text)))); err != nil {
			t.Fatal(err)
		}
		got, _, ok, err := s.Roster(ctx)
		if c.damaged {
			if !errors.Is(err, ErrRosterDamaged) || ok {
				t.Errorf("%v: read as %+v ok %v err %v; want ErrRosterDamaged", c.jids, got, ok, err)
			}
			continue
		}
		if err != nil || !ok || len(got) != 3 || got[0].JID != "c@x" || got[2].Name != "N b@x" {
			t.Errorf("%v: read as %+v ok %v err %v", c.jids, got, ok, err)
		}
	}
}

// What is saved is kept in JID order, whatever order it came in.
func TestRosterCacheSavedInJIDOrder(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	in := []RosterItem{{JID: "c@x", Subscription: "both"}, {JID: "a@x", Subscription: "to"}, {JID: "b@x", Subscription: "from"}}
	if err := s.SaveRoster(ctx, in, "v1"); err != nil {
		t.Fatal(err)
	}
	if in[0].JID != "c@x" {
		t.Fatalf("the caller's list was reordered: %+v", in)
	}
	if err := s.PushRoster(ctx, RosterItem{JID: "aa@x", Subscription: "none"}, false, "v2"); err != nil {
		t.Fatal(err)
	}
	got, _, _, err := s.Roster(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var jids []string
	for _, it := range got {
		jids = append(jids, it.JID)
	}
	if strings.Join(jids, " ") != "a@x aa@x b@x c@x" {
		t.Fatalf("saved order %v", jids)
	}
}

// Any sequence of pushes, across several rewrites of the whole row,
// reads back as the same pushes applied to a plain map: in JID order,
// each JID once, at the last version given.
func TestRosterPushesAgreeWithAModel(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	rng := rand.New(rand.NewPCG(1, 2))
	model := map[string]RosterItem{}
	var start []RosterItem
	for i := range 50 {
		it := RosterItem{JID: fmt.Sprintf("u%03d@x", i*2), Name: fmt.Sprint("N", i), Subscription: "both"}
		model[it.JID] = it
		start = append(start, it)
	}
	if err := s.SaveRoster(ctx, start, "v0"); err != nil {
		t.Fatal(err)
	}
	version := "v0"
	for step := range 3*maxPushes + 17 {
		jid := fmt.Sprintf("u%03d@x", rng.IntN(120))
		remove := rng.IntN(4) == 0
		it := RosterItem{JID: jid, Name: fmt.Sprint("step ", step), Subscription: []string{"none", "to", "from", "both"}[rng.IntN(4)]}
		if rng.IntN(3) == 0 {
			it.Groups = []string{"G" + fmt.Sprint(rng.IntN(3))}
		}
		v := ""
		if rng.IntN(5) != 0 {
			v = fmt.Sprint("v", step+1)
			version = v
		}
		if err := s.PushRoster(ctx, it, remove, v); err != nil {
			t.Fatalf("step %d: %v", step, err)
		}
		if remove {
			delete(model, jid)
		} else {
			model[jid] = it
		}
		if step%37 != 0 && step != 3*maxPushes+16 {
			continue
		}
		got, ver, ok, err := s.Roster(ctx)
		if err != nil || !ok || ver != version {
			t.Fatalf("step %d: read %v ok %v version %q (want %q)", step, err, ok, ver, version)
		}
		want := slices.Collect(maps.Values(model))
		slices.SortFunc(want, func(a, b RosterItem) int { return strings.Compare(a.JID, b.JID) })
		if !reflect.DeepEqual(normalized(got), normalized(want)) {
			t.Fatalf("step %d: read\n%+v\nwant\n%+v", step, got, want)
		}
		var kept int
		if err := s.db.QueryRow(`SELECT COUNT(*) FROM roster_pushes`).Scan(&kept); err != nil || kept > maxPushes {
			t.Fatalf("step %d: %d pushes kept (%v), at most %d", step, kept, err, maxPushes)
		}
	}
}

// normalized makes empty and nil group lists alike for comparison.
func normalized(items []RosterItem) []RosterItem {
	out := slices.Clone(items)
	for i := range out {
		if len(out[i].Groups) == 0 {
			out[i].Groups = nil
		}
	}
	return out
}

// A saved push that was tampered with, or too many of them, is damage:
// the roster is fetched whole again. Forgetting the roster forgets them.
func TestRosterPushDamage(t *testing.T) {
	ctx := context.Background()
	for _, c := range []struct {
		name, sql string
	}{
		{"entry changed", `UPDATE roster_pushes SET entry = replace(entry, 'b@x', 'c@x')`},
		{"sum not a number", `UPDATE roster_pushes SET sum = 'x'`},
		{"remove not a flag", `UPDATE roster_pushes SET remove = 2`},
		{"version not text", `UPDATE roster_pushes SET version = x'ff00'`},
		{"too many", fmt.Sprintf(`WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < %d)
			INSERT INTO roster_pushes (version, remove, sum, entry) SELECT p.version, p.remove, p.sum, p.entry FROM roster_pushes p, n`, maxPushes)},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := openTest(t)
			if err := s.SaveRoster(ctx, []RosterItem{{JID: "a@x", Subscription: "both"}}, "v1"); err != nil {
				t.Fatal(err)
			}
			if err := s.PushRoster(ctx, RosterItem{JID: "b@x", Subscription: "to"}, false, "v2"); err != nil {
				t.Fatal(err)
			}
			if _, err := s.db.Exec(c.sql); err != nil {
				t.Fatal(err)
			}
			if items, _, ok, err := s.Roster(ctx); !errors.Is(err, ErrRosterDamaged) || ok {
				t.Fatalf("read as %+v ok %v err %v; want ErrRosterDamaged", items, ok, err)
			}
			if err := s.ForgetRoster(ctx); err != nil {
				t.Fatal(err)
			}
			var kept int
			if err := s.db.QueryRow(`SELECT COUNT(*) FROM roster_pushes`).Scan(&kept); err != nil || kept != 0 {
				t.Fatalf("%d pushes kept after forgetting (%v)", kept, err)
			}
		})
	}
}

// Pushes onto a row an older gab saved in the server's order are read
// back applied too.
func TestRosterPushesOntoAnUnsortedRow(t *testing.T) {
	ctx := context.Background()
	s := openTest(t)
	if err := s.SaveRoster(ctx, []RosterItem{{JID: "z@x", Subscription: "both"}}, "v1"); err != nil {
		t.Fatal(err)
	}
	items := []RosterItem{{JID: "c@x", Subscription: "both"}, {JID: "a@x", Subscription: "to"}}
	text := encodeRoster(items)
	if _, err := s.db.Exec(`UPDATE roster SET entries = ?, count = 2, sum = ?`, text, int64(crc32.ChecksumIEEE([]byte(text)))); err != nil {
		t.Fatal(err)
	}
	for _, p := range []struct {
		it     RosterItem
		remove bool
	}{{RosterItem{JID: "b@x", Subscription: "from"}, false}, {RosterItem{JID: "c@x"}, true}, {RosterItem{JID: "a@x", Name: "A", Subscription: "both"}, false}} {
		if err := s.PushRoster(ctx, p.it, p.remove, ""); err != nil {
			t.Fatal(err)
		}
	}
	got, ver, _, err := s.Roster(ctx)
	if err != nil || ver != "v1" {
		t.Fatalf("read: %v, version %q", err, ver)
	}
	var jids []string
	for _, it := range got {
		jids = append(jids, it.JID+":"+it.Name)
	}
	if strings.Join(jids, " ") != "a@x:A b@x:" {
		t.Fatalf("read %v", jids)
	}
}

// Reading a 10,000-contact cache with the most pushes kept beside it (the
// worst case at launch): half renames, half new contacts.
func BenchmarkRosterCacheLoad10kWithPushes(b *testing.B) {
	ctx := context.Background()
	s := openTest(b)
	if err := s.SaveRoster(ctx, rosterOf(10000), "v1"); err != nil {
		b.Fatal(err)
	}
	for i := range maxPushes - 1 {
		jid := fmt.Sprintf("c%05d@example.org", i*37)
		if i%2 == 1 {
			jid = fmt.Sprintf("new%05d@example.org", i)
		}
		if err := s.PushRoster(ctx, RosterItem{JID: jid, Name: "Pushed", Subscription: "both"}, false, fmt.Sprint("v", i+2)); err != nil {
			b.Fatal(err)
		}
	}
	want := 10000 + (maxPushes-1)/2
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		items, _, ok, err := s.Roster(ctx)
		if err != nil || !ok || len(items) != want {
			b.Fatalf("%d items ok %v err %v, want %d", len(items), ok, err, want)
		}
	}
}
