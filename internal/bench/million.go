package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/histfixture"
	"github.com/gab-chat/gab/internal/xmpptest"
)

// The million case: gab launched on a store of a million messages (and,
// beside it, on one of a thousand): launch to first frame, opening
// conversations, searching, and memory afterwards.

// millionSizes are the stores measured side by side.
var millionSizes = []int{1000, 1000000}

const (
	millionOpens    = 30 // conversations opened
	millionSearches = 10 // of each kind of word
)

// prepareStore is the store's own code on a fixture: open (schema),
// index, close.
func prepareStore(path string) error {
	s, err := history.Open(path)
	if err != nil {
		return err
	}
	if err := s.IndexAll(context.Background()); err != nil {
		s.Close()
		return err
	}
	return s.Close()
}

func millionCase(gab, dir string) ([]row, error) {
	var rows []row
	for _, n := range millionSizes {
		rr, err := millionRun(gab, filepath.Join(dir, fmt.Sprint(n)), n)
		if err != nil {
			return nil, fmt.Errorf("store of %d: %w", n, err)
		}
		rows = append(rows, rr...)
	}
	return rows, nil
}

// probe is one thing to do in gab and what shows it done.
type probe struct{ conv, word, want string }

func millionRun(gab, dir string, n int) ([]row, error) {
	fixture, took, err := histfixture.Build(n, prepareStore)
	if err != nil {
		return nil, err
	}
	built := "cached"
	if took > 0 {
		built = "built in " + took.Round(time.Second).String()
	}
	db := filepath.Join(dir, "data", "bench.db")
	if err := os.MkdirAll(filepath.Dir(db), 0o700); err != nil {
		return nil, err
	}
	if err := histfixture.Copy(fixture, db); err != nil {
		return nil, err
	}
	// What each probe must bring on screen, read from the store itself
	// before gab runs: a conversation's newest message, a search's hit
	// count.
	opens, searches, err := millionProbes(db)
	if err != nil {
		return nil, err
	}
	srv, err := xmpptest.NewServer(dir, xmpptest.Options{NoMAM: true})
	if err != nil {
		return nil, err
	}
	defer srv.Stop()
	if err := srv.RegisterUser("bench", "pw"); err != nil {
		return nil, err
	}
	var contacts []xmpptest.RosterEntry
	for _, c := range histfixture.Convs() {
		if c.Kind == "chat" {
			contacts = append(contacts, xmpptest.RosterEntry{JID: c.Peer, Name: c.Peer, Subscription: "both"})
		}
	}
	if err := srv.WriteRoster("bench", contacts); err != nil {
		return nil, err
	}
	t, err := newTmux(dir)
	if err != nil {
		return nil, err
	}
	defer t.stop()
	start := time.Now()
	if err := startGab(t, gab, dir, srv); err != nil {
		return nil, err
	}
	var first time.Time
	for deadline := start.Add(time.Minute); first.IsZero(); {
		if strings.TrimSpace(t.screen()) != "" {
			first = time.Now()
		} else if time.Now().After(deadline) {
			return nil, fmt.Errorf("nothing on screen a minute after launch")
		} else {
			time.Sleep(2 * time.Millisecond)
		}
	}
	connected, err := t.waitFor("connected as bench@localhost", time.Minute, 5*time.Millisecond)
	if err != nil {
		return nil, err
	}
	pid := t.pid()
	defer func() {
		t.key("C-q")
		time.Sleep(500 * time.Millisecond)
	}()
	if err := waitQuiet(time.Minute, pid); err != nil {
		return nil, err
	}
	// Searches from the console: every conversation.
	var common, rare []time.Duration
	for i, p := range searches {
		t.keys("/search " + p.word)
		if _, err := t.waitFor("> /search "+p.word, time.Minute, 2*time.Millisecond); err != nil {
			return nil, err
		}
		t0 := time.Now()
		t.key("Enter")
		if _, err := t.waitFor(p.want, time.Minute, 2*time.Millisecond); err != nil {
			return nil, err
		}
		if i%2 == 0 {
			common = append(common, time.Since(t0))
		} else {
			rare = append(rare, time.Since(t0))
		}
		if strings.HasPrefix(p.want, "nothing") {
			continue // no dialog to close
		}
		t.key("Escape")
		for deadline := time.Now().Add(time.Minute); strings.Contains(t.screen(), p.want); time.Sleep(5 * time.Millisecond) {
			if time.Now().After(deadline) {
				return nil, fmt.Errorf("the search dialog stayed open")
			}
		}
	}
	// Conversations opened: each one's newest message on screen.
	// Timed from Enter: the command is typed (and seen in the composer)
	// first.
	var opened []time.Duration
	for _, p := range opens {
		t.keys("/msg " + p.conv)
		if _, err := t.waitFor("> /msg "+p.conv, time.Minute, 2*time.Millisecond); err != nil {
			return nil, err
		}
		t0 := time.Now()
		t.key("Enter")
		if _, err := t.waitFor(p.want, time.Minute, 2*time.Millisecond); err != nil {
			return nil, err
		}
		opened = append(opened, time.Since(t0))
	}
	waitQuiet(time.Minute, pid)
	_, rss, peak := procStat(pid)
	size := fmt.Sprintf("%d messages", n)
	dist := func(ds []time.Duration) string {
		slices.Sort(ds)
		p := func(q float64) time.Duration { return ds[min(len(ds)-1, int(q*float64(len(ds))))] }
		return fmt.Sprintf("p50 %s, p99 %s", ms(p(0.5)), ms(p(0.99)))
	}
	return []row{
		{size + ": launch → first frame", ms(first.Sub(start)), fmt.Sprintf("connected and roster drawn at %s; store %s (fixture %s)", ms(connected.Sub(start)), mb(fileSize(db)), built)},
		{size + ": open a conversation → its newest message on screen", dist(opened), fmt.Sprintf("%d chats of every size, from Enter on a typed `/msg JID`, through tmux (includes its polling); target p99 ≤ 30 ms", len(opened))},
		{size + ": `/search` a common word → results on screen", dist(common), fmt.Sprintf("%d words, every conversation, up to 200 hits, from Enter; target p99 ≤ 200 ms", len(common))},
		{size + ": `/search` a rare word → results on screen", dist(rare), fmt.Sprintf("%d words, every conversation, from Enter", len(rare))},
		{size + ": memory after all that", fmt.Sprintf("RSS %s, peak %s", mb(rss), mb(peak)), "target ≤ 80 MB"},
	}, nil
}

func mb(b int64) string { return fmt.Sprintf("%.0f MB", float64(b)/1e6) }

func fileSize(p string) int64 {
	st, err := os.Stat(p)
	if err != nil {
		return 0
	}
	return st.Size()
}

// millionProbes picks the conversations to open (chats of every size)
// and the words to search for (common and rare, alternately), and what
// shows each done: the newest message's opening words, the count of hits
// in the search dialog's title.
func millionProbes(db string) (opens, searches []probe, err error) {
	s, err := history.Open(db)
	if err != nil {
		return nil, nil, err
	}
	defer s.Close()
	ctx := context.Background()
	var chats []histfixture.Conv
	for _, c := range histfixture.Convs() {
		if c.Kind == "chat" {
			chats = append(chats, c)
		}
	}
	for i := 0; i < millionOpens && i < len(chats); i++ {
		c := chats[i*len(chats)/millionOpens]
		page, _, err := s.Before(ctx, history.Conv{Kind: c.Kind, Peer: c.Peer}, 0, 1)
		if err != nil {
			return nil, nil, fmt.Errorf("newest message of %s: %v", c.Peer, err)
		}
		if len(page) == 0 {
			continue // the small store's quietest chats are empty
		}
		// The whole text, or its first 60 characters: random words, seen
		// nowhere else on the screen.
		body := page[0].Body
		if len(body) > 60 {
			body = body[:strings.LastIndexByte(body[:60], ' ')]
		}
		opens = append(opens, probe{conv: c.Peer, want: body})
	}
	for i := 0; i < millionSearches; i++ {
		for _, w := range []string{histfixture.Common(i), histfixture.Rare(i)} {
			hits, err := s.Search(ctx, w, history.Conv{}, 200)
			if err != nil {
				return nil, nil, err
			}
			want := fmt.Sprintf("%d found for “%s”", len(hits), w)
			if len(hits) == 0 {
				want = fmt.Sprintf("nothing found for “%s”", w) // on the status line
			}
			searches = append(searches, probe{word: w, want: want})
		}
	}
	return opens, searches, nil
}
