// Command bench measures gab as a whole program against a Prosody it
// starts on loopback, driving the real binary in tmux, and prints a table
// (also written to docs/benchmarks.md). Run it with `make bench`.
package main

import (
	"bufio"
	"context"
	"database/sql"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gab-chat/gab/xmpp"
	"mellium.im/xmpp/jid"
)

func main() {
	gab := flag.String("gab", "bin/gab", "the gab binary to measure")
	out := flag.String("out", "docs/benchmarks.md", "where to write the table")
	idle := flag.Duration("idle", 60*time.Second, "how long to measure idle CPU")
	flood := flag.Int("flood", 10000, "messages in the flood")
	cases := flag.String("cases", "roster,flood,roomjoin,autojoin,roomflood,instant,profanity,catchup,million", "which cases to run (comma-separated: roster, flood, soak, roomjoin, autojoin, roomflood, instant, profanity, catchup, million)")
	soak := flag.Duration("soak", time.Hour, "how long the soak case chats")
	flag.IntVar(&roomOccupants, "room-occupants", 1000, "occupants of the room joined")
	flag.IntVar(&roomArchived, "room-archived", 50, "messages in its archive")
	flag.IntVar(&roomRate, "room-rate", 200, "messages a second in the busy room")
	flag.DurationVar(&roomFor, "room-for", time.Minute, "how long the busy room is busy")
	flag.IntVar(&catchupN, "catchup", catchupN, "messages in the archive the catchup case reads")
	flag.Parse()
	if err := run(*gab, *out, *idle, *flood, *soak, *cases); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

type row struct{ what, value, note string }

func run(gab, out string, idle time.Duration, flood int, soak time.Duration, list string) error {
	cases := map[string]bool{}
	for _, c := range strings.Split(list, ",") {
		cases[strings.TrimSpace(c)] = true
	}
	if _, err := exec.LookPath("tmux"); err != nil {
		return fmt.Errorf("tmux is needed (apt-get install tmux)")
	}
	abs, err := filepath.Abs(gab)
	if err != nil {
		return err
	}
	dir, err := os.MkdirTemp("", "gab-bench-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	var rows []row
	st, err := os.Stat(abs)
	if err != nil {
		return err
	}
	rows = append(rows, row{"static binary size", fmt.Sprintf("%.1f MB", float64(st.Size())/1e6), "target ≤ 20 MB"})

	for _, n := range []int{2000, 10000} {
		if !cases["roster"] {
			break
		}
		// Each side rosterRounds times, each on a freshly started server; the
		// medians are reported.
		var bares, gabs []float64
		for r := 0; r < rosterRounds; r++ {
			bare, err := rosterBare(filepath.Join(dir, fmt.Sprint("bare", n, "-", r)), n)
			if err != nil {
				return err
			}
			drawn, err := rosterGab(abs, filepath.Join(dir, fmt.Sprint("gab", n, "-", r)), n)
			if err != nil {
				return err
			}
			bares, gabs = append(bares, bare.Seconds()), append(gabs, drawn.Seconds())
		}
		bare, drawn := median(bares), median(gabs)
		secs := func(x float64) string { return ms(time.Duration(x * float64(time.Second))) }
		rows = append(rows,
			row{fmt.Sprintf("roster %d: bare client (connect + fetch)", n), secs(bare), fmt.Sprintf("the server's own time; median of %d, %s–%s", rosterRounds, secs(slices.Min(bares)), secs(slices.Max(bares)))},
			row{fmt.Sprintf("roster %d: launch → drawn in gab", n), secs(drawn), fmt.Sprintf("%.2f× the bare client (target ≤ 1.3×); median of %d, %s–%s", drawn/bare, rosterRounds, secs(slices.Min(gabs)), secs(slices.Max(gabs)))})
	}

	if cases["flood"] {
		fr, err := floodCase(abs, filepath.Join(dir, "flood"), flood, idle)
		if err != nil {
			return err
		}
		rows = append(rows, fr...)
	}

	var roomRows, soakRows, instantRows, profRows []row
	if cases["instant"] {
		ir, err := instantCase(abs, filepath.Join(dir, "instant"))
		if err != nil {
			return err
		}
		instantRows = append(instantRows, ir...)
	}
	if cases["profanity"] {
		pr, err := profanityCase(abs, filepath.Join(dir, "profanity"), flood)
		if err != nil {
			return err
		}
		profRows = append(profRows, pr...)
	}
	if cases["roomjoin"] {
		rr, err := roomJoinCase(abs, filepath.Join(dir, "roomjoin"), roomOccupants, roomArchived)
		if err != nil {
			return err
		}
		roomRows = append(roomRows, rr...)
	}
	if cases["autojoin"] {
		rr, err := autojoinCase(abs, filepath.Join(dir, "autojoin"))
		if err != nil {
			return err
		}
		roomRows = append(roomRows, rr...)
	}
	if cases["roomflood"] {
		rr, err := roomFloodCase(abs, filepath.Join(dir, "roomflood"), roomRate, roomFor)
		if err != nil {
			return err
		}
		roomRows = append(roomRows, rr...)
	}

	var catchupRows []row
	if cases["catchup"] {
		if catchupRows, err = catchupCase(abs, filepath.Join(dir, "catchup")); err != nil {
			return err
		}
	}

	if cases["soak"] {
		sr, err := soakCase(abs, filepath.Join(dir, "soak"), soak)
		if err != nil {
			return err
		}
		soakRows = append(soakRows, sr...)
	}

	var millionRows []row
	if cases["million"] {
		if millionRows, err = millionCase(abs, filepath.Join(dir, "million")); err != nil {
			return err
		}
	}

	if !cases["roster"] && !cases["flood"] {
		rows = nil // the binary's size goes with the roster and flood figures
	}
	return writeSections(out, []section{{"core", rows}, {"rooms", roomRows}, {"soak", soakRows}, {"instant", instantRows}, {"profanity", profRows}, {"catchup", catchupRows}, {"million", millionRows}})
}

// section is one table of the benchmark document, between markers of its
// own: a run replaces the tables of the cases it ran and keeps the rest.
type section struct {
	name string
	rows []row
}

func writeSections(path string, secs []section) error {
	old, err := os.ReadFile(path)
	if err != nil && !os.IsNotExist(err) {
		return err
	}
	doc := string(old)
	if doc == "" {
		doc = "# gab benchmarks\n"
	}
	for _, sec := range secs {
		if len(sec.rows) == 0 {
			continue
		}
		var b strings.Builder
		fmt.Fprintf(&b, "Measured by `make bench` on %s, %d cores, %s, %s.\n\n", cpuModel(), runtime.NumCPU(), runtime.Version(), time.Now().Format("2006-01-02"))
		b.WriteString("| case | result | note |\n|---|---|---|\n")
		for _, r := range sec.rows {
			fmt.Fprintf(&b, "| %s | %s | %s |\n", r.what, r.value, r.note)
		}
		fmt.Print(b.String())
		begin, end := "<!-- bench: "+sec.name+" -->\n", "<!-- end bench: "+sec.name+" -->\n"
		i, j := strings.Index(doc, begin), strings.Index(doc, end)
		if i >= 0 && j > i {
			doc = doc[:i] + begin + b.String() + end + doc[j+len(end):]
		} else {
			doc += "\n" + begin + b.String() + end
		}
	}
	return os.WriteFile(path, []byte(doc), 0o644)
}

func ms(d time.Duration) string { return fmt.Sprintf("%.0f ms", float64(d.Microseconds())/1000) }

func cpuModel() string {
	data, _ := os.ReadFile("/proc/cpuinfo")
	for _, l := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(l, "model name") {
			if _, v, ok := strings.Cut(l, ":"); ok {
				return strings.TrimSpace(v)
			}
		}
	}
	return runtime.GOARCH
}

// server starts a Prosody without archive (throughput) with user "bench"
// holding n contacts (subscription both) written before its first login.
func server(dir string, n int) (*xmpptest.Server, error) {
	srv, err := xmpptest.NewServer(dir, xmpptest.Options{NoMAM: true})
	if err != nil {
		return srv, err
	}
	for _, u := range []string{"bench", "flooder"} {
		if err := srv.RegisterUser(u, "pw"); err != nil {
			return srv, err
		}
	}
	return srv, srv.WriteRoster("bench", rosterEntries(n))
}

// rosterEntries are n contacts, subscription both, in 20 groups.
func rosterEntries(n int) []xmpptest.RosterEntry {
	entries := make([]xmpptest.RosterEntry, n)
	for i := range entries {
		entries[i] = xmpptest.RosterEntry{JID: fmt.Sprintf("c%05d@localhost", i), Name: fmt.Sprintf("Contact %05d", i), Subscription: "both", Groups: []string{fmt.Sprintf("Group %02d", i%20)}}
	}
	return entries
}

func cfg(srv *xmpptest.Server, user string) (xmpp.Config, error) {
	pem, err := os.ReadFile(srv.CAFile)
	if err != nil {
		return xmpp.Config{}, err
	}
	pool, err := xmpp.RootPool(pem)
	return xmpp.Config{JID: jid.MustParse(user + "@localhost"), Password: "pw", Resource: "bare", Server: srv.Addr(), RootCAs: pool}, err
}

// rosterBare is the time a bare client takes to connect and get the roster
// from a freshly started server.
func rosterBare(dir string, n int) (time.Duration, error) {
	srv, err := server(dir, n)
	if srv != nil {
		defer srv.Stop()
	}
	if err != nil {
		return 0, err
	}
	c, err := cfg(srv, "bench")
	if err != nil {
		return 0, err
	}
	start := time.Now()
	s, err := dialReading(c)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if _, err := s.SendIQ(ctx, xmpp.E(xmpp.NSClient, "iq", "type", "get").Add(xmpp.E("jabber:iq:roster", "query"))); err != nil {
		return 0, err
	}
	return time.Since(start), nil
}

// dialReading logs in with c and reads (and drops) whatever arrives, so
// the session answers the server and its sends are acknowledged.
func dialReading(c xmpp.Config) (*xmpp.Session, error) {
	s, err := xmpp.Dial(context.Background(), c)
	if err != nil {
		return nil, err
	}
	go func() {
		for {
			if _, err := s.Next(nil); err != nil {
				return
			}
		}
	}()
	return s, nil
}

// dialFlooder logs the flooder in as a raw client, which sends text as it
// is (no serialising on our side to slow the flood), and drops whatever
// arrives.
func dialFlooder(srv *xmpptest.Server) (*xmpptest.Raw, error) {
	s, err := xmpptest.LoginRaw(srv, "flooder", "pw", "bare")
	if err != nil {
		return nil, err
	}
	s.Discard()
	return s, nil
}

// tmux is one terminal session running gab, driven through a control-mode
// client: looking at the screen is a command on an open pipe, not a new
// tmux process each time (those competed with gab and the server for the
// CPU and slowed what was being measured).
type tmux struct {
	sock, name string
	mu         sync.Mutex
	ctl        *exec.Cmd
	in         io.WriteCloser
	out        *bufio.Reader
}

// newTmux starts a tmux server whose one pane waits, and attaches a
// control client to it.
func newTmux(dir string) (*tmux, error) {
	t := &tmux{sock: filepath.Join(dir, "tmux.sock"), name: "bench"}
	if err := exec.Command("tmux", "-S", t.sock, "new-session", "-d", "-s", t.name, "-x", "140", "-y", "45", "exec sleep 3600").Run(); err != nil {
		return nil, err
	}
	exec.Command("tmux", "-S", t.sock, "set", "-g", "window-size", "manual").Run()
	t.ctl = exec.Command("tmux", "-S", t.sock, "-C", "attach", "-t", t.name)
	var err error
	if t.in, err = t.ctl.StdinPipe(); err != nil {
		return nil, err
	}
	stdout, err := t.ctl.StdoutPipe()
	if err != nil {
		return nil, err
	}
	t.out = bufio.NewReaderSize(stdout, 1<<16)
	if err := t.ctl.Start(); err != nil {
		return nil, err
	}
	// Commands sent before the client is attached can be lost: wait for
	// tmux to say it is.
	for {
		line, err := t.out.ReadString('\n')
		if err != nil {
			t.stop()
			return nil, fmt.Errorf("tmux control client: %w", err)
		}
		if strings.HasPrefix(line, "%session-changed") {
			break
		}
	}
	if _, err := t.cmd("refresh-client -f no-output"); err != nil {
		t.stop()
		return nil, err
	}
	return t, nil
}

// cmd runs one tmux command over the control client and returns what it
// printed. Blocks before ours (the attach's own) are skipped by a marker.
func (t *tmux) cmd(c string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	mark := fmt.Sprintf("mark-%d", time.Now().UnixNano())
	if _, err := fmt.Fprintf(t.in, "%s ; display -p %s\n", c, mark); err != nil {
		return "", err
	}
	// Each command answers in its own %begin … %end block: everything up
	// to the block holding only the mark is ours.
	var acc, b strings.Builder
	in, failed := false, false
	watchdog := time.AfterFunc(30*time.Second, func() { t.ctl.Process.Kill() })
	defer watchdog.Stop()
	for {
		line, err := t.out.ReadString('\n')
		if err != nil {
			return "", fmt.Errorf("tmux %s: no answer: %w", c, err)
		}
		line = strings.TrimSuffix(line, "\n")
		switch {
		case strings.HasPrefix(line, "%begin"):
			in = true
			b.Reset()
		case strings.HasPrefix(line, "%end"), strings.HasPrefix(line, "%error"):
			in = false
			if before, _, found := strings.Cut(b.String(), mark+"\n"); found {
				acc.WriteString(before)
				if failed {
					return "", fmt.Errorf("tmux %s: %s", c, acc.String())
				}
				return acc.String(), nil
			}
			failed = failed || strings.HasPrefix(line, "%error")
			acc.WriteString(b.String())
		case in:
			b.WriteString(line + "\n")
		}
	}
}

// startGab launches gab in the waiting pane; the launch is what is timed.
func startGab(t *tmux, gab, dir string, srv *xmpptest.Server) error {
	cfgDir, data := filepath.Join(dir, "config"), filepath.Join(dir, "data")
	if err := os.MkdirAll(filepath.Join(cfgDir, "accounts"), 0o700); err != nil {
		return err
	}
	acct := fmt.Sprintf("jid = \"bench@localhost\"\npassword = \"pw\"\nserver = %q\nca_file = %q\n", srv.Addr(), srv.CAFile)
	if err := os.WriteFile(filepath.Join(cfgDir, "accounts", "bench.toml"), []byte(acct), 0o600); err != nil {
		return err
	}
	cmd := fmt.Sprintf("exec %s --config %s --data %s", gab, cfgDir, data)
	if p := os.Getenv("GAB_BENCH_PROFILE"); p != "" {
		cmd += " --cpuprofile " + p
	}
	cmd += " " + os.Getenv("GAB_BENCH_ARGS")
	_, err := t.cmd(fmt.Sprintf("respawn-pane -k -t %s %q", t.name, cmd))
	return err
}

func (t *tmux) screen() string {
	out, _ := t.cmd("capture-pane -p -t " + t.name)
	return out
}

// keys types text literally.
func (t *tmux) keys(text string) {
	t.cmd(fmt.Sprintf("send-keys -t %s -l %q", t.name, text))
}

// key sends one named key (C-q, Enter).
func (t *tmux) key(k string) {
	t.cmd(fmt.Sprintf("send-keys -t %s %s", t.name, k))
}

func (t *tmux) pid() int {
	out, _ := t.cmd(fmt.Sprintf("display -p -t %s '#{pane_pid}'", t.name))
	n, _ := strconv.Atoi(strings.TrimSpace(out))
	return n
}

func (t *tmux) stop() {
	if t.in != nil {
		t.in.Close()
	}
	exec.Command("tmux", "-S", t.sock, "kill-server").Run()
	if t.ctl != nil {
		t.ctl.Wait()
	}
}

// waitFor polls the screen every `every` until it shows s; it returns when
// it did. Each poll runs tmux, which competes with gab for the CPU: poll
// slowly where precision matters less than load.
func (t *tmux) waitFor(s string, limit, every time.Duration) (time.Time, error) {
	deadline := time.Now().Add(limit)
	for time.Now().Before(deadline) {
		if strings.Contains(t.screen(), s) {
			return time.Now(), nil
		}
		time.Sleep(every)
	}
	return time.Time{}, fmt.Errorf("the screen never showed %q:\n%s", s, t.screen())
}

// rosterGab is the time from launching gab until its roster pane shows
// all n contacts.
func rosterGab(gab, dir string, n int) (time.Duration, error) {
	srv, err := server(dir, n)
	if srv != nil {
		defer srv.Stop()
	}
	if err != nil {
		return 0, err
	}
	t, err := newTmux(dir)
	if err != nil {
		return 0, err
	}
	defer t.stop()
	start := time.Now()
	if err := startGab(t, gab, dir, srv); err != nil {
		return 0, err
	}
	if os.Getenv("GAB_BENCH_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, "roster %d: launched at %s\n", n, start.Format("15:04:05.000"))
		defer func() { fmt.Fprintf(os.Stderr, "roster %d: drawn at %s\n", n, time.Now().Format("15:04:05.000")) }()
	}
	at, err := t.waitFor(fmt.Sprintf("/%d ", n), 5*time.Minute, 2*time.Millisecond)
	if err != nil {
		return 0, err
	}
	return at.Sub(start), nil
}

// procStat reads a process's CPU time and memory.
func procStat(pid int) (cpu time.Duration, rss, peak int64) {
	if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		f := strings.Fields(string(data)[strings.LastIndexByte(string(data), ')')+2:])
		ut, _ := strconv.ParseInt(f[11], 10, 64)
		stt, _ := strconv.ParseInt(f[12], 10, 64)
		cpu = time.Duration(ut+stt) * time.Second / 100 // USER_HZ
	}
	if data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, l := range strings.Split(string(data), "\n") {
			var v int64
			if strings.HasPrefix(l, "VmRSS:") {
				fmt.Sscan(strings.Fields(l)[1], &v)
				rss = v * 1024
			}
			if strings.HasPrefix(l, "VmHWM:") {
				fmt.Sscan(strings.Fields(l)[1], &v)
				peak = v * 1024
			}
		}
	}
	return
}

// rosterRounds is how many times each roster case runs.
const rosterRounds = 3

// floodRounds is how many times the throughput flood runs, alternating a
// bare client and gab; the medians are reported, as this kind of machine
// is noisy.
const floodRounds = 5

// floodCase: 10,000-contact roster and 100,000 stored messages over 100
// conversations; then floods from one peer, alternately to a bare client
// and to gab; then a flood with keystrokes timed during it; then memory
// and idle CPU.
func floodCase(gab, dir string, n int, idle time.Duration) ([]row, error) {
	l, err := loaded(gab, dir)
	defer l.close()
	if err != nil {
		return nil, err
	}
	srv, t, pid, db := l.srv, l.t, l.pid, l.db
	// The bare client's account has the same 10,000 contacts as gab's,
	// so the server does the same work for either.
	if err := srv.RegisterUser("reader", "pw"); err != nil {
		return nil, err
	}
	if err := srv.WriteRoster("reader", rosterEntries(10000)); err != nil {
		return nil, err
	}
	if os.Getenv("GAB_BENCH_DEBUG") != "" {
		waitQuiet(time.Minute, srv.Pid(), pid)
		_, rss, peak := procStat(pid)
		fmt.Fprintf(os.Stderr, "after login: rss %d MB, peak %d MB\n", rss>>20, peak>>20)
	}
	bare, err := newBareReader(srv)
	if err != nil {
		return nil, err
	}
	defer bare.s.Close()
	s, err := dialFlooder(srv)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	// Logging in with 10,000 contacts keeps the server busy for seconds
	// after the roster is drawn (presence probes, the contacts' PEP
	// services asking for our features): each flood starts once the
	// server and gab are quiet.
	quiet := func() error { return waitQuiet(time.Minute, srv.Pid(), pid) }
	var bareRates, storedRates, drawnRates, gabCPU, srvCPU []float64
	sent := 0
	for round := 0; round < floodRounds; round++ {
		if err := quiet(); err != nil {
			return nil, err
		}
		r, err := bare.flood(s, sent, n)
		if err != nil {
			return nil, err
		}
		bareRates = append(bareRates, r)
		sent += n
		if err := quiet(); err != nil {
			return nil, err
		}
		// gab's flood. Only the store is watched while it runs (a cheap
		// query every 10 ms); the screen, whose every look runs tmux, is
		// polled once everything is stored.
		g0, _, _ := procStat(pid)
		s0, _, _ := procStat(srv.Pid())
		storedAt := watchStore(db, 100000+(round+1)*n)
		start := time.Now()
		go sendFlood(s, "bench@localhost", sent, n)
		sent += n
		var stored time.Time
		select {
		case stored = <-storedAt:
		case <-time.After(5 * time.Minute):
			return nil, fmt.Errorf("the store never held %d messages", 100000+(round+1)*n)
		}
		g1, _, _ := procStat(pid)
		s1, _, _ := procStat(srv.Pid())
		drawn, err := t.waitFor(fmt.Sprintf("(%d)", (round+1)*n), time.Minute, 2*time.Millisecond)
		if err != nil {
			return nil, err
		}
		took := stored.Sub(start).Seconds()
		storedRates = append(storedRates, float64(n)/took)
		drawnRates = append(drawnRates, float64(n)/drawn.Sub(start).Seconds())
		gabCPU = append(gabCPU, 100*(g1-g0).Seconds()/took)
		srvCPU = append(srvCPU, 100*(s1-s0).Seconds()/took)
	}
	// The latency run: one more flood of the same size, typing one letter
	// at a time and waiting for each to show.
	if err := quiet(); err != nil {
		return nil, err
	}
	start := time.Now()
	go sendFlood(s, "bench@localhost", sent, n)
	var lat []time.Duration
	typed := ""
	for i := 0; i < 25 && time.Since(start) < 20*time.Second; i++ {
		ch := string(rune('a' + i%26))
		typed += ch
		t0 := time.Now()
		t.keys(ch)
		if _, err := t.waitFor("> "+typed, 10*time.Second, 2*time.Millisecond); err != nil {
			return nil, err
		}
		lat = append(lat, time.Since(t0))
	}
	if _, err := t.waitFor(fmt.Sprintf("(%d)", (floodRounds+1)*n), 5*time.Minute, 50*time.Millisecond); err != nil {
		return nil, err
	}
	store, err := history.Open(db)
	if err != nil {
		return nil, err
	}
	stored, _ := store.Count(context.Background())
	store.Close()
	if err := floodsInOrder(db, n, floodRounds+1); err != nil {
		return nil, err
	}
	_, rss, peak := procStat(pid)
	// Idle from when gab is quiet: the search index catches up on the
	// floods a second after the last one.
	if err := waitQuiet(time.Minute, pid); err != nil {
		return nil, err
	}
	cpu0, _, _ := procStat(pid)
	time.Sleep(idle)
	cpu1, steady, _ := procStat(pid)
	sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
	p := func(q float64) time.Duration { return lat[min(len(lat)-1, int(q*float64(len(lat))))] }
	br, sr, dr := median(bareRates), median(storedRates), median(drawnRates)
	// Each gab round against the bare round just before it: the server's
	// speed drifts on a shared machine, a pair sees the same.
	var storedRatio, drawnRatio []float64
	for i := range bareRates {
		storedRatio = append(storedRatio, storedRates[i]/bareRates[i])
		drawnRatio = append(drawnRatio, drawnRates[i]/bareRates[i])
	}
	pct := func(xs []float64) string {
		return fmt.Sprintf("%.0f%% of the bare rate, median of %d paired rounds (%.0f%%–%.0f%%)", 100*median(xs), len(xs), 100*slices.Min(xs), 100*slices.Max(xs))
	}
	spread := func(xs []float64) string {
		return fmt.Sprintf("%.0f–%.0f", slices.Min(xs), slices.Max(xs))
	}
	return []row{
		{fmt.Sprintf("flood %d: bare client", n), fmt.Sprintf("%.0f msg/s", br), fmt.Sprintf("what the server delivers to a client that only reads (stream management on and 10,000 contacts, as gab); median of %d rounds, %s", floodRounds, spread(bareRates))},
		{fmt.Sprintf("flood %d: gab, all stored", n), fmt.Sprintf("%.0f msg/s", sr), pct(storedRatio) + "; target ≥ 90%; rates over the rounds " + spread(storedRates) + " msg/s"},
		{fmt.Sprintf("flood %d: gab, the last drawn", n), fmt.Sprintf("%.0f msg/s", dr), pct(drawnRatio) + fmt.Sprintf("; %d messages in the store afterwards, every flood message once and in order (checked)", stored)},
		{"CPU during gab's flood", fmt.Sprintf("gab %.0f%%, server %.0f%%", median(gabCPU), median(srvCPU)), "of one core (medians); the machine has " + fmt.Sprint(runtime.NumCPU())},
		{"keypress → screen during a flood", fmt.Sprintf("p50 %s, p99 %s", ms(p(0.5)), ms(p(0.99))), fmt.Sprintf("%d keys, measured through tmux (includes its polling); target p99 < 50 ms", len(lat))},
		{"memory, 10,000 contacts + 100,000 stored messages", fmt.Sprintf("peak %.0f MB, now %.0f MB", float64(peak)/1e6, float64(rss)/1e6), "target ≤ 60 MB"},
		{fmt.Sprintf("idle CPU over %v", idle), fmt.Sprintf("%v (%.2f%%)", cpu1-cpu0, 100*(cpu1-cpu0).Seconds()/idle.Seconds()), fmt.Sprintf("from when gab is quiet after the floods (pings only); RSS afterwards %.0f MB; target 0%%", float64(steady)/1e6)},
	}, nil
}

// floodsInOrder checks that the store holds every message of gab's floods
// exactly once and in the order sent: floods of n, gab's the odd-numbered
// blocks (the even ones went to the bare client), then the latency flood.
func floodsInOrder(path string, n, floods int) error {
	db, err := sql.Open("sqlite", path)
	if err != nil {
		return err
	}
	defer db.Close()
	rows, err := db.Query(`SELECT body FROM messages WHERE peer = 'flooder@localhost' ORDER BY id`)
	if err != nil {
		return err
	}
	defer rows.Close()
	var want []string
	for f := 0; f < floods; f++ {
		first := (2*f + 1) * n
		if f == floods-1 {
			first = 2 * f * n // the latency flood follows the last pair
		}
		for i := first; i < first+n; i++ {
			want = append(want, fmt.Sprintf("flood %06d", i))
		}
	}
	i := 0
	for rows.Next() {
		var body string
		if err := rows.Scan(&body); err != nil {
			return err
		}
		if i >= len(want) || body != want[i] {
			w := "nothing more"
			if i < len(want) {
				w = want[i]
			}
			return fmt.Errorf("stored flood message %d is %q, want %q", i, body, w)
		}
		i++
	}
	if i != len(want) {
		return fmt.Errorf("%d flood messages stored, want %d", i, len(want))
	}
	return rows.Err()
}

// setup is gab running on a server with a 10,000-contact roster and a
// store of 100,000 messages, its roster drawn.
type setup struct {
	srv *xmpptest.Server
	t   *tmux
	pid int
	db  string
}

func loaded(gab, dir string) (*setup, error) {
	l := &setup{db: filepath.Join(dir, "data", "bench.db")}
	var err error
	if l.srv, err = server(dir, 10000); err != nil {
		return l, err
	}
	if err := os.MkdirAll(filepath.Dir(l.db), 0o700); err != nil {
		return l, err
	}
	if err := preload(l.db); err != nil {
		return l, err
	}
	if l.t, err = newTmux(dir); err != nil {
		return l, err
	}
	if err := startGab(l.t, gab, dir, l.srv); err != nil {
		return l, err
	}
	if _, err := l.t.waitFor("/10000 ", 5*time.Minute, 50*time.Millisecond); err != nil {
		return l, err
	}
	l.pid = l.t.pid()
	return l, nil
}

// close quits gab cleanly (so a profile is written) and stops the rest.
func (l *setup) close() {
	if l.t != nil {
		l.t.key("C-q")
		time.Sleep(500 * time.Millisecond)
		l.t.stop()
	}
	if l.srv != nil {
		l.srv.Stop()
	}
}

// soakCase chats steadily for d — a message from a contact every second,
// an answer typed every ten — with 10,000 contacts and 100,000 stored
// messages, and samples gab's RSS every 30 seconds.
func soakCase(gab, dir string, d time.Duration) ([]row, error) {
	l, err := loaded(gab, dir)
	defer l.close()
	if err != nil {
		return nil, err
	}
	srv, t, pid := l.srv, l.t, l.pid
	if err := waitQuiet(time.Minute, srv.Pid(), pid); err != nil {
		return nil, err
	}
	s, err := dialFlooder(srv)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	t.keys("/msg flooder@localhost")
	t.key("Enter")
	var samples []int64
	start := time.Now()
	tick := time.NewTicker(time.Second)
	defer tick.Stop()
	for i := 1; time.Since(start) < d; i++ {
		<-tick.C
		s.Send(fmt.Sprintf(`<message to='bench@localhost' type='chat' id='s%d'><body>steady message %d, a line of ordinary length for a chat</body></message>`, i, i))
		if i%10 == 0 {
			t.keys(fmt.Sprintf("answer %d", i/10))
			t.key("Enter")
		}
		if i%30 == 0 {
			_, rss, _ := procStat(pid)
			samples = append(samples, rss)
		}
	}
	if len(samples) < 2 {
		return nil, fmt.Errorf("the soak needs at least a minute")
	}
	var series []string
	for i, r := range samples {
		if r == 0 {
			return nil, fmt.Errorf("gab was gone after %v", time.Duration(i+1)*30*time.Second)
		}
		if (i+1)%10 == 0 {
			series = append(series, fmt.Sprintf("%.0f", float64(r)/1e6))
		}
	}
	first, last, top := samples[0], samples[len(samples)-1], slices.Max(samples)
	mb := func(b int64) float64 { return float64(b) / 1e6 }
	return []row{{fmt.Sprintf("soak %v: steady chat", d), fmt.Sprintf("RSS %.0f MB after 30 s, %.0f MB at the end, %.0f MB at most", mb(first), mb(last), mb(top)),
		fmt.Sprintf("%d samples; every 5 minutes (MB): %s; a message a second in, one answer typed every ten; target: flat", len(samples), strings.Join(series, ", "))}}, nil
}

func median(xs []float64) float64 {
	ys := slices.Clone(xs)
	slices.Sort(ys)
	return ys[len(ys)/2]
}

// bareReader is a client that only reads: the server's own delivery rate.
type bareReader struct {
	s   *xmpp.Session
	got chan struct{}
}

func newBareReader(srv *xmpptest.Server) (*bareReader, error) {
	rc, err := cfg(srv, "reader")
	if err != nil {
		return nil, err
	}
	rc.StreamManagement = true // as gab: the server keeps every stanza until acknowledged
	r, err := xmpp.Dial(context.Background(), rc)
	if err != nil {
		return nil, err
	}
	r.Send(xmpp.E(xmpp.NSClient, "presence"))
	b := &bareReader{s: r, got: make(chan struct{}, 1<<16)}
	go func() {
		for {
			el, err := r.Next(nil)
			if err != nil {
				return
			}
			if el.Is(xmpp.NSClient, "message") {
				b.got <- struct{}{}
			}
		}
	}()
	return b, nil
}

// flood sends n messages from s to the bare reader and returns the rate
// at which it got them.
func (b *bareReader) flood(s *xmpptest.Raw, first, n int) (float64, error) {
	start := time.Now()
	go sendFlood(s, "reader@localhost", first, n)
	limit := time.After(5 * time.Minute)
	for i := 0; i < n; i++ {
		select {
		case <-b.got:
		case <-limit:
			return 0, fmt.Errorf("the bare client got %d of %d messages", i, n)
		}
	}
	return float64(n) / time.Since(start).Seconds(), nil
}

// sendFlood sends n chat messages to, numbered from first.
func sendFlood(s *xmpptest.Raw, to string, first, n int) {
	for i := first; i < first+n; i++ {
		s.Send(fmt.Sprintf(`<message to='%s' type='chat' id='f%d'><body>flood %06d</body></message>`, to, i, i))
	}
}

// waitQuiet waits until the processes use under 2% of a core over 250 ms.
func waitQuiet(limit time.Duration, pids ...int) error {
	const span = 250 * time.Millisecond
	for deadline := time.Now().Add(limit); time.Now().Before(deadline); {
		var before time.Duration
		for _, p := range pids {
			c, _, _ := procStat(p)
			before += c
		}
		time.Sleep(span)
		var after time.Duration
		for _, p := range pids {
			c, _, _ := procStat(p)
			after += c
		}
		if after-before <= span/50 {
			return nil
		}
	}
	return fmt.Errorf("the server and gab were still busy after %v", limit)
}

// watchStore reports when the store at path holds want messages, polling
// its largest row id (cheap) every 10 ms.
func watchStore(path string, want int) <-chan time.Time {
	at := make(chan time.Time, 1)
	go func() {
		db, err := sql.Open("sqlite", path)
		if err != nil {
			return
		}
		defer db.Close()
		for {
			var id sql.NullInt64
			if db.QueryRow(`SELECT max(id) FROM messages`).Scan(&id); id.Int64 >= int64(want) {
				at <- time.Now()
				return
			}
			time.Sleep(10 * time.Millisecond)
		}
	}()
	return at
}

// preload writes 100,000 messages over 100 conversations into the store.
func preload(path string) error {
	s, err := history.Open(path)
	if err != nil {
		return err
	}
	defer s.Close()
	batch := make([]*history.Message, 0, 1000)
	base := time.Now().Add(-24 * time.Hour)
	for i := 0; i < 100000; i++ {
		batch = append(batch, &history.Message{Peer: fmt.Sprintf("c%05d@localhost", i%100), Direction: history.In,
			Body: fmt.Sprintf("stored message %d", i), Time: base.Add(time.Duration(i) * time.Millisecond)})
		if len(batch) == cap(batch) {
			if err := s.Append(batch); err != nil {
				return err
			}
			batch = batch[:0]
		}
	}
	return nil
}
