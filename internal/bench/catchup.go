package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/xmpp"
)

// The catch-up case: the account was offline while catchupN messages from
// 50 contacts reached its archive; gab is launched and reads them all
// (pages of 100 asked, the server's max_archive_query_results given: 50
// by Prosody's default) into a store that knew the archive to be empty.
// Timed until the store holds them all, against a bare client reading the
// same pages one after another; then a run in which keys are typed while
// gab catches up. Rooms are not part of it (see docs/benchmarks.md).

var (
	catchupN      = 50000
	catchupRounds = 3
)

const catchupContacts = 50

// catchupServer starts Prosody with archives in SQLite (its internal
// files are read whole for every page), its data in memory where there is
// /dev/shm (SQLite on disk syncs every archived message), registers bench
// and the contacts, and fills bench's archive.
func catchupServer(dir string) (*xmpptest.Server, func(), error) {
	data := dir
	if d, err := os.MkdirTemp("/dev/shm", "gab-bench-"); err == nil {
		data = d
	}
	cleanup := func() {
		if data != dir {
			os.RemoveAll(data)
		}
	}
	srv, err := xmpptest.NewServer(data, xmpptest.Options{SQLArchive: true})
	if err != nil {
		if srv != nil {
			srv.Stop()
		}
		return nil, cleanup, err
	}
	stop := func() { srv.Stop(); cleanup() }
	var entries []xmpptest.RosterEntry
	var senders []*xmpptest.Raw
	defer func() {
		for _, s := range senders {
			s.Close()
		}
	}()
	if err := srv.RegisterUser("bench", "pw"); err != nil {
		return nil, stop, err
	}
	for i := range catchupContacts {
		name := fmt.Sprintf("c%02d", i)
		if err := srv.RegisterUser(name, "pw"); err != nil {
			return nil, stop, err
		}
		entries = append(entries, xmpptest.RosterEntry{JID: name + "@localhost", Name: fmt.Sprintf("Contact %02d", i), Subscription: "both"})
		s, err := xmpptest.LoginRaw(srv, name, "pw", "fill")
		if err != nil {
			return nil, stop, err
		}
		senders = append(senders, s)
	}
	if err := srv.WriteRoster("bench", entries); err != nil {
		return nil, stop, err
	}
	// In chunks, each waited for (every sender's ping answered after its
	// messages): the server archives a few hundred a second, and a ping
	// behind all 50,000 would wait longer than one is given.
	const chunk = 2000
	for i := range catchupN {
		k := i % catchupContacts
		if err := senders[k].Send(fmt.Sprintf(`<message to='bench@localhost' type='chat' id='m%d'><body>caught up %06d</body></message>`, i, i)); err != nil {
			return nil, stop, err
		}
		if (i+1)%chunk == 0 || i == catchupN-1 {
			for j, s := range senders {
				if _, err := s.IQ(fmt.Sprintf(`<iq type='get' id='filled%d'><ping xmlns='urn:xmpp:ping'/></iq>`, i), fmt.Sprint("filled", i)); err != nil {
					return nil, stop, fmt.Errorf("filling the archive, sender %d after %d messages: %w", j, i+1, err)
				}
			}
		}
	}
	return srv, stop, nil
}

// catchupBare logs in as bench and reads its whole archive in pages of
// 100, one after another, and returns how long that took.
func catchupBare(srv *xmpptest.Server) (time.Duration, error) {
	c, err := cfg(srv, "bench")
	if err != nil {
		return 0, err
	}
	c.StreamManagement = true // as gab
	start := time.Now()
	s, err := xmpp.Dial(context.Background(), c)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	got := make(chan int, 1)
	go func() {
		n := 0
		for {
			el, err := s.Next(nil)
			if err != nil {
				got <- n
				return
			}
			if el.Is(xmpp.NSClient, "message") && el.Child("urn:xmpp:mam:2", "result") != nil {
				n++
			}
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Minute)
	defer cancel()
	after := ""
	for {
		set := xmpp.E("http://jabber.org/protocol/rsm", "set").Add(xmpp.E("http://jabber.org/protocol/rsm", "max").WithText("100"))
		if after != "" {
			set.Add(xmpp.E("http://jabber.org/protocol/rsm", "after").WithText(after))
		}
		res, err := s.SendIQ(ctx, xmpp.E(xmpp.NSClient, "iq", "type", "set").Add(xmpp.E("urn:xmpp:mam:2", "query", "queryid", "q").Add(set)))
		if err != nil {
			return 0, err
		}
		fin := res.Child("urn:xmpp:mam:2", "fin")
		if fin.Get("complete") == "true" {
			break
		}
		after = fin.Child("http://jabber.org/protocol/rsm", "set").ChildText("http://jabber.org/protocol/rsm", "last")
	}
	took := time.Since(start)
	s.Close()
	if n := <-got; n != catchupN {
		return 0, fmt.Errorf("the bare client read %d of %d", n, catchupN)
	}
	return took, nil
}

// catchupGab launches gab with a store that knew bench's archive to be
// empty and returns how long until the store holds every message; with
// typing, it types a letter at a time while the catch-up runs and returns
// how long each took to show.
func catchupGab(gab, dir string, srv *xmpptest.Server, typing bool) (time.Duration, []time.Duration, error) {
	data := filepath.Join(dir, "data")
	if err := os.MkdirAll(data, 0o700); err != nil {
		return 0, nil, err
	}
	db := filepath.Join(data, "bench.db")
	store, err := history.Open(db)
	if err != nil {
		return 0, nil, err
	}
	err = store.SetMeta(context.Background(), "mam_last", "^")
	store.Close()
	if err != nil {
		return 0, nil, err
	}
	t, err := newTmux(dir)
	if err != nil {
		return 0, nil, err
	}
	defer t.stop()
	storedAt := watchStore(db, catchupN)
	start := time.Now()
	if err := startGab(t, gab, dir, srv); err != nil {
		return 0, nil, err
	}
	var lat []time.Duration
	var stored time.Time
	if typing {
		if _, err := t.waitFor("catching up:", 5*time.Minute, 20*time.Millisecond); err != nil {
			return 0, nil, err
		}
		typed := ""
	keys:
		for i := 0; i < 40; i++ {
			select {
			case stored = <-storedAt:
				break keys
			default:
			}
			ch := string(rune('a' + i%26))
			typed += ch
			t0 := time.Now()
			t.keys(ch)
			if _, err := t.waitFor("> "+typed, 10*time.Second, 2*time.Millisecond); err != nil {
				return 0, nil, err
			}
			lat = append(lat, time.Since(t0))
			time.Sleep(100 * time.Millisecond) // a typist's pace, across the catch-up
		}
	}
	if stored.IsZero() {
		select {
		case stored = <-storedAt:
		case <-time.After(30 * time.Minute):
			return 0, nil, fmt.Errorf("the store never held %d messages", catchupN)
		}
	}
	if _, err := t.waitUntilGone("catching up:", time.Minute); err != nil {
		return 0, nil, err
	}
	return stored.Sub(start), lat, nil
}

// waitUntilGone polls the screen until it no longer shows s.
func (t *tmux) waitUntilGone(s string, limit time.Duration) (time.Time, error) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if !strings.Contains(t.screen(), s) {
			return time.Now(), nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return time.Time{}, fmt.Errorf("the screen still shows %q:\n%s", s, t.screen())
}

func catchupCase(gab, dir string) ([]row, error) {
	srv, stop, err := catchupServer(dir)
	defer stop()
	if err != nil {
		return nil, err
	}
	var bares, gabs, ratios []float64
	for r := range catchupRounds {
		b, err := catchupBare(srv)
		if err != nil {
			return nil, err
		}
		g, _, err := catchupGab(gab, filepath.Join(dir, fmt.Sprint("gab", r)), srv, false)
		if err != nil {
			return nil, err
		}
		bares, gabs = append(bares, b.Seconds()), append(gabs, g.Seconds())
		ratios = append(ratios, b.Seconds()/g.Seconds())
	}
	_, lat, err := catchupGab(gab, filepath.Join(dir, "typing"), srv, true)
	if err != nil {
		return nil, err
	}
	if len(lat) == 0 {
		return nil, fmt.Errorf("the catch-up ended before a key was typed")
	}
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	rate := func(secs float64) string { return fmt.Sprintf("%.0f msg/s", float64(catchupN)/secs) }
	secs := func(xs []float64) string {
		return fmt.Sprintf("%.1f–%.1f s", slices.Min(xs), slices.Max(xs))
	}
	return []row{
		{fmt.Sprintf("catch-up %d from %d contacts: bare client", catchupN, catchupContacts), rate(median(bares)),
			fmt.Sprintf("login, then the archive's pages one after another (100 asked, 50 given: Prosody's default max); median of %d rounds, %s", catchupRounds, secs(bares))},
		{fmt.Sprintf("catch-up %d: gab, launch → all stored", catchupN), rate(median(gabs)),
			fmt.Sprintf("%.0f%% of the bare rate, median of %d paired rounds (%.0f%%–%.0f%%); target ≥ 80%%; %s", 100*median(ratios), catchupRounds, 100*slices.Min(ratios), 100*slices.Max(ratios), secs(gabs))},
		{"keypress → screen during the catch-up", fmt.Sprintf("p50 %s, p99 %s", ms(p(0.5)), ms(p(0.99))),
			fmt.Sprintf("%d keys, one every 100 ms or so while it ran, measured through tmux (includes its polling); target p99 < 50 ms", len(lat))},
	}, nil
}
