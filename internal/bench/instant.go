package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/xmpp"
)

// The instant-start case: gab launched a second time draws the roster it
// saved before the network answers, then brings it up to date with a
// versioned fetch (XEP-0237). Against the bare client's full and
// versioned fetches and gab's own first launch, on the same server.

const (
	instantContacts = 10000
	instantRounds   = 3
	// While the roster shown is the saved one, the status line's account
	// segment reads "NAME [CONN · saved list] SHOW"; once the server's
	// roster is applied, "NAME [online] SHOW": "[online] " means online
	// and up to date.
	savedMark  = "saved list"
	onlineMark = "[online] "
)

// fetchRoster connects a bare client and asks for the roster, with ver
// when ver is not empty; it returns the time from dialling to the answer,
// the version the server gave and how many contacts came.
func fetchRoster(srv *xmpptest.Server, ver string, versioned bool) (time.Duration, string, int, error) {
	c, err := cfg(srv, "bench")
	if err != nil {
		return 0, "", 0, err
	}
	q := xmpp.E("jabber:iq:roster", "query")
	if versioned {
		q.SetAttr("ver", ver)
	}
	start := time.Now()
	s, err := dialReading(c)
	if err != nil {
		return 0, "", 0, err
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	res, err := s.SendIQ(ctx, xmpp.E(xmpp.NSClient, "iq", "type", "get").Add(q))
	if err != nil {
		return 0, "", 0, err
	}
	took := time.Since(start)
	got := res.Child("jabber:iq:roster", "query")
	return took, got.Get("ver"), len(got.ChildrenIn("jabber:iq:roster")), nil
}

// launch is what one launch of gab showed, timed from the launch.
type launch struct {
	frame  time.Duration // gab's first frame (its status line) on screen
	drawn  time.Duration // the contact count first on screen
	saved  bool          // the status line said the list shown was the saved one
	online time.Duration // "[online] " and the count on screen
}

// launchGab starts gab in t's pane and watches the screen until it is
// online with all n contacts, then quits it cleanly and waits for it to
// exit. Before quitting it waits until gab and the server are quiet, so
// whatever gab keeps of this session is written.
func launchGab(t *tmux, gab, dir string, srv *xmpptest.Server, n int) (launch, error) {
	var l launch
	count := fmt.Sprintf("/%d ", n)
	start := time.Now()
	if err := startGab(t, gab, dir, srv); err != nil {
		return l, err
	}
	deadline := start.Add(5 * time.Minute)
	for {
		scr := t.screen()
		now := time.Now()
		if l.frame == 0 && strings.Contains(scr, "bench [") {
			l.frame = now.Sub(start)
		}
		if strings.Contains(scr, count) {
			if l.drawn == 0 {
				l.drawn = now.Sub(start)
				if os.Getenv("GAB_BENCH_DEBUG") != "" {
					fmt.Fprintf(os.Stderr, "count first drawn at %v with status line %q\n", l.drawn, lastLine(scr))
				}
			}
			l.saved = l.saved || strings.Contains(scr, savedMark)
			if strings.Contains(scr, onlineMark) {
				l.online = now.Sub(start)
				break
			}
		}
		if now.After(deadline) {
			return l, fmt.Errorf("gab was not online with %d contacts after 5 minutes:\n%s", n, scr)
		}
		time.Sleep(2 * time.Millisecond)
	}
	// Logging in with 10,000 contacts keeps the server and gab busy for
	// seconds after (presence probes, the contacts' PEP services asking
	// for our features).
	if err := waitQuiet(3*time.Minute, srv.Pid(), t.pid()); err != nil {
		return l, fmt.Errorf("after gab's launch: %w", err)
	}
	return l, quitGab(t)
}

// quitGab types Ctrl+Q and waits for gab to have exited (the pane stays,
// dead: remain-on-exit).
func quitGab(t *tmux) error {
	t.key("C-q")
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); {
		out, err := t.cmd(fmt.Sprintf("display -p -t %s '#{pane_dead}'", t.name))
		if err != nil {
			return err
		}
		if strings.TrimSpace(out) == "1" {
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("gab had not quit a minute after Ctrl+Q:\n%s", t.screen())
}

// instantRound is one round on a freshly started server, in this order:
// the bare client's first fetch (the server's first use of the roster,
// which also gives the version), gab's first launch (full fetch, what gab
// does without a saved roster), the bare client's full and versioned
// fetches, and gab's second launch. Each starts with the server quiet.
type instantRound struct {
	cold, bareFull, bareVer time.Duration
	first, second           launch
	third                   ptyLaunch // a third launch, on a terminal of its own
}

func instantOnce(gab, dir string, n int) (instantRound, error) {
	var r instantRound
	srv, err := server(dir, n)
	if srv != nil {
		defer srv.Stop()
	}
	if err != nil {
		return r, err
	}
	quiet := func() error { return waitQuiet(3*time.Minute, srv.Pid()) }
	var ver string
	var items int
	if r.cold, ver, items, err = fetchRoster(srv, "", false); err != nil {
		return r, err
	}
	if items != n || ver == "" {
		return r, fmt.Errorf("the first fetch brought %d contacts and version %q, want %d and a version", items, ver, n)
	}
	t, err := newTmux(dir)
	if err != nil {
		return r, err
	}
	defer t.stop()
	if _, err := t.cmd("set -g remain-on-exit on"); err != nil {
		return r, err
	}
	if err := quiet(); err != nil {
		return r, err
	}
	if r.first, err = launchGab(t, gab, dir, srv, n); err != nil {
		return r, err
	}
	if err := quiet(); err != nil {
		return r, err
	}
	if r.bareFull, _, items, err = fetchRoster(srv, "", false); err != nil {
		return r, err
	}
	if items != n {
		return r, fmt.Errorf("the full fetch brought %d contacts, want %d", items, n)
	}
	if err := quiet(); err != nil {
		return r, err
	}
	var again string
	if r.bareVer, again, items, err = fetchRoster(srv, ver, true); err != nil {
		return r, err
	}
	if items != 0 {
		return r, fmt.Errorf("the fetch with the current version %q brought %d contacts (version now %q), want none", ver, items, again)
	}
	if err := quiet(); err != nil {
		return r, err
	}
	if r.second, err = launchGab(t, gab, dir, srv, n); err != nil {
		return r, err
	}
	if err := quiet(); err != nil {
		return r, err
	}
	// The same again, read on a pseudo-terminal instead of through tmux;
	// quit once gab and the server are quiet, as above.
	r.third, err = launchOnPTY(gab, dir, []byte(fmt.Sprintf("/%d ", n)), func(pid int) error { return waitQuiet(3*time.Minute, srv.Pid(), pid) })
	return r, err
}

// instantCase runs instantRounds rounds and reports medians, each ratio
// taken within its round (the server's speed drifts on a shared machine).
func instantCase(gab, dir string) ([]row, error) {
	n := instantContacts
	var rounds []instantRound
	for i := 0; i < instantRounds; i++ {
		r, err := instantOnce(gab, filepath.Join(dir, fmt.Sprint("instant-", i)), n)
		if err != nil {
			return nil, err
		}
		if os.Getenv("GAB_BENCH_DEBUG") != "" {
			fmt.Fprintf(os.Stderr, "instant round %d: %+v\n", i, r)
		}
		rounds = append(rounds, r)
	}
	col := func(f func(instantRound) time.Duration) []float64 {
		var xs []float64
		for _, r := range rounds {
			xs = append(xs, f(r).Seconds())
		}
		return xs
	}
	ratio := func(a, b func(instantRound) time.Duration) []float64 {
		var xs []float64
		for _, r := range rounds {
			xs = append(xs, a(r).Seconds()/b(r).Seconds())
		}
		return xs
	}
	secs := func(x float64) string { return ms(time.Duration(x * float64(time.Second))) }
	stat := func(xs []float64) (string, string) {
		return secs(median(xs)), fmt.Sprintf("median of %d, %s–%s", len(xs), secs(slices.Min(xs)), secs(slices.Max(xs)))
	}
	times := func(xs []float64) string {
		return fmt.Sprintf("%.2f× (%.2f–%.2f)", median(xs), slices.Min(xs), slices.Max(xs))
	}
	cold := func(r instantRound) time.Duration { return r.cold }
	bareFull := func(r instantRound) time.Duration { return r.bareFull }
	bareVer := func(r instantRound) time.Duration { return r.bareVer }
	first := func(r instantRound) time.Duration { return r.first.online }
	drawn := func(r instantRound) time.Duration { return r.second.drawn }
	online := func(r instantRound) time.Duration { return r.second.online }
	saved := 0
	for _, r := range rounds {
		if r.second.saved {
			saved++
		}
	}
	var rows []row
	add := func(what string, xs []float64, note string) {
		v, spread := stat(xs)
		rows = append(rows, row{fmt.Sprintf("%d contacts: %s", n, what), v, note + spread})
	}
	add("bare client, full fetch (connect + fetch)", col(bareFull), fmt.Sprintf("the same server, after gab's first launch; the first fetch from the freshly started server took %s; ", secs(median(col(cold)))))
	add("bare client, versioned fetch, roster unchanged", col(bareVer), "connect + fetch with the version of its first fetch; the server answers with no contacts (checked): the floor; ")
	add("gab first launch → online with the roster", col(first), fmt.Sprintf("full fetch, no saved roster (gab today); %s the bare full fetch; ", times(ratio(first, bareFull))))
	drawnNote := fmt.Sprintf("second launch, same store; %s the bare full fetch (target ≤ 50 ms and ≤ 0.2×); ", times(ratio(drawn, bareFull)))
	switch {
	case saved == len(rounds):
		drawnNote += fmt.Sprintf("the saved list in all %d rounds (status line read “%s”); ", len(rounds), savedMark)
	case saved == 0:
		drawnNote += "no saved roster was drawn: the count first appeared with the server's roster; "
	default:
		drawnNote += fmt.Sprintf("the saved list in %d of %d rounds; ", saved, len(rounds))
	}
	drawnNote += fmt.Sprintf("gab's first frame (its status line) came at %s; ", secs(median(col(func(r instantRound) time.Duration { return r.second.frame }))))
	add("gab second launch → roster drawn", col(drawn), drawnNote)
	own := func(r instantRound) time.Duration { return r.third.drawn }
	add("gab launch on a terminal of its own → roster drawn", col(own), fmt.Sprintf("a third launch, same store, on a pseudo-terminal read directly (no tmux polling): from starting the process to the count's bytes written; %s the bare full fetch (target ≤ 50 ms and ≤ 0.2×); ", times(ratio(own, bareFull))))
	add("gab second launch → online and up to date", col(online), fmt.Sprintf("“%s” with the count; %s gab's first launch (the target's anchor: ≤ 0.6×), %s the bare full fetch; ", strings.TrimSpace(onlineMark), times(ratio(online, first)), times(ratio(online, bareFull))))
	return rows, nil
}

// lastLine is the last line of the screen with text: gab's status line.
func lastLine(scr string) string {
	lines := strings.Split(strings.TrimRight(scr, "\n "), "\n")
	return strings.TrimSpace(lines[len(lines)-1])
}
