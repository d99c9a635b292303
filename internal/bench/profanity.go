package main

import (
	"database/sql"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/gab-chat/gab/internal/xmpptest"
)

// Profanity (the Debian package) side by side with gab: launch → roster
// shown at 2,000 and 10,000 contacts, timed from its screen in tmux; the
// time a message takes it with 10,000 contacts; memory after a few
// messages, and gab's after the floods gab's flood case sends (Profanity
// cannot take those in any reasonable time: it reports how long they
// would take it). Profanity runs with a HOME and XDG directories of its
// own under the bench's temporary directory, so it never reads or writes
// the user's files.

// profanityInpblock is the input wait Profanity is measured with, in ms:
// Profanity reads the network between waits for a key, and by default
// that wait grows to a second while no key comes (its inpblock setting,
// dynamic), which leaves a big roster or a flood waiting on a screen
// nobody types into. 10 ms, not dynamic, is its quickest setting here.
const profanityInpblock = 10

// profanityHome writes Profanity's files for the account bench@localhost
// on srv under dir and returns the command that runs it. The server's
// certificate is self-signed: the account trusts it (tls.policy=trust),
// which the harness's certificate on 127.0.0.1 needs. The roster panel
// shows offline contacts under a heading with their count, "Offline (N)":
// the screen says when the whole roster is in.
func profanityHome(dir string, srv *xmpptest.Server, inpblock int) (string, error) {
	home, cfgDir, data := filepath.Join(dir, "home"), filepath.Join(dir, "config"), filepath.Join(dir, "data")
	for _, d := range []string{home, filepath.Join(cfgDir, "profanity"), filepath.Join(data, "profanity")} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return "", err
		}
	}
	rc := "[ui]\nsplash=false\nroster=true\nroster.offline=true\nroster.by=presence\nroster.count=items\n"
	if inpblock > 0 {
		rc += fmt.Sprintf("inpblock=%d\ninpblock.dynamic=false\n", inpblock)
	}
	// No desktop notifications: with no desktop session to show them,
	// each one waits seconds for the notification service.
	rc += "[notifications]\nmessage=false\nroom=false\ntyping=false\ninvite=false\nsub=false\n"
	// No keepalive ping: logging in with 10,000 contacts keeps the server
	// busy for a minute or more, its answer to Profanity's first ping
	// (after 60 s) comes later than the 20 s Profanity waits, and
	// Profanity drops the connection and reconnects 30 s later, in the
	// middle of a flood.
	rc += "[connection]\nautoping=0\n"
	if err := os.WriteFile(filepath.Join(cfgDir, "profanity", "profrc"), []byte(rc), 0o600); err != nil {
		return "", err
	}
	acct := fmt.Sprintf("[bench@localhost]\nenabled=true\njid=bench@localhost\nserver=127.0.0.1\nport=%d\npassword=pw\ntls.policy=trust\nresource=profanity\n", srv.Port)
	if err := os.WriteFile(filepath.Join(data, "profanity", "accounts"), []byte(acct), 0o600); err != nil {
		return "", err
	}
	return fmt.Sprintf("exec env HOME=%s XDG_CONFIG_HOME=%s XDG_DATA_HOME=%s profanity -a bench@localhost", home, cfgDir, data), nil
}

// launchProfanity starts a server with n contacts and Profanity on it,
// and waits until its roster panel reads "Offline (n)": its roster is
// in. It returns the time from the launch.
func launchProfanity(dir string, n, inpblock int) (time.Duration, *profanityRun, error) {
	p := &profanityRun{dir: dir}
	var err error
	if p.srv, err = server(dir, n); err != nil {
		p.stop()
		return 0, nil, err
	}
	cmd, err := profanityHome(dir, p.srv, inpblock)
	if err != nil {
		p.stop()
		return 0, nil, err
	}
	if p.t, err = newTmux(dir); err != nil {
		p.stop()
		return 0, nil, err
	}
	start := time.Now()
	if _, err := p.t.cmd(fmt.Sprintf("respawn-pane -k -t %s %q", p.t.name, cmd)); err != nil {
		p.stop()
		return 0, nil, err
	}
	at, err := p.t.waitFor(fmt.Sprintf("Offline (%d)", n), 10*time.Minute, 2*time.Millisecond)
	if err != nil {
		p.stop()
		return 0, nil, fmt.Errorf("profanity: %w", err)
	}
	p.pid = p.t.pid()
	return at.Sub(start), p, nil
}

type profanityRun struct {
	dir string
	srv *xmpptest.Server
	t   *tmux
	pid int
}

func (p *profanityRun) stop() {
	if p.t != nil {
		p.t.stop()
	}
	if p.srv != nil {
		p.srv.Stop()
	}
}

// floods sends k floods of n chat messages from the flooder to
// bench@localhost, each once the server is quiet, and waits until done
// says the client has each; then, the server quiet again, it returns the
// client's RSS and peak RSS.
func floods(srv *xmpptest.Server, s *xmpptest.Raw, pid int, done func(last int) <-chan struct{}, k, n int) (rss, peak int64, err error) {
	for f := 0; f < k; f++ {
		if err := waitQuiet(2*time.Minute, srv.Pid()); err != nil {
			return 0, 0, err
		}
		at := done((f+1)*n - 1)
		go sendFlood(s, "bench@localhost", f*n, n)
		select {
		case <-at:
		case <-time.After(10 * time.Minute):
			return 0, 0, fmt.Errorf("flood %d of %d had not arrived after 10 minutes", f+1, k)
		}
		if os.Getenv("GAB_BENCH_DEBUG") != "" {
			fmt.Fprintf(os.Stderr, "flood %d of %d in at %s\n", f+1, k, time.Now().Format("15:04:05.000"))
		}
	}
	if err := waitQuiet(2*time.Minute, srv.Pid()); err != nil {
		return 0, 0, err
	}
	_, rss, peak = procStat(pid)
	if rss == 0 {
		return 0, 0, fmt.Errorf("the client was gone after the floods")
	}
	return rss, peak, nil
}

// inStore reports when gab's store holds flood message last (its row id
// reaching last+1: the store was empty before the floods).
func inStore(db string) func(last int) <-chan struct{} {
	return func(last int) <-chan struct{} { return watchMax(db, `SELECT max(id) FROM messages`, last+1) }
}

// watchMax reports when query (one number) on the database at path
// reaches want, polling every 20 ms.
func watchMax(path, query string, want int) <-chan struct{} {
	at := make(chan struct{}, 1)
	go func() {
		db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
		if err != nil {
			return
		}
		defer db.Close()
		for deadline := time.Now().Add(11 * time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			var id sql.NullInt64
			if db.QueryRow(query).Scan(&id); id.Int64 >= int64(want) {
				at <- struct{}{}
				return
			}
		}
	}()
	return at
}

// countFlood checks that the store holds every flood message once: k
// floods of n, numbered from 0.
func countFlood(path, query string, want int) error {
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		return err
	}
	defer db.Close()
	var got int
	if err := db.QueryRow(query).Scan(&got); err != nil {
		return err
	}
	if got != want {
		return fmt.Errorf("%s holds %d distinct flood messages, want %d", path, got, want)
	}
	return nil
}

func profanityCase(gab, dir string, n int) ([]row, error) {
	if _, err := exec.LookPath("profanity"); err != nil {
		msg := "bench: profanity is not installed, so the Profanity case is skipped (`make bench` installs it; or apt-get install profanity)"
		fmt.Println(msg)
		fmt.Fprintln(os.Stderr, msg)
		return nil, nil
	}
	version := "Profanity"
	if out, err := exec.Command("profanity", "--version").Output(); err == nil {
		version = strings.TrimSpace(strings.SplitN(string(out), "\n", 2)[0])
	}
	var rows []row
	var per time.Duration
	var prss, ppeak int64
	for _, size := range []int{2000, 10000} {
		g, err := rosterGab(gab, filepath.Join(dir, fmt.Sprint("gab", size)), size)
		if err != nil {
			return nil, err
		}
		p, pr, err := launchProfanity(filepath.Join(dir, fmt.Sprint("prof", size)), size, profanityInpblock)
		if err != nil {
			return nil, err
		}
		if size == 10000 {
			if per, err = profanityFew(pr); err == nil {
				_, prss, ppeak = procStat(pr.pid)
			}
		}
		pr.stop()
		if err != nil {
			return nil, fmt.Errorf("profanity: %w", err)
		}
		rows = append(rows,
			row{fmt.Sprintf("roster %d: launch → drawn in gab", size), ms(g), "as the roster case, in this run"},
			row{fmt.Sprintf("roster %d: launch → shown in Profanity", size), ms(p), fmt.Sprintf("%s, input wait %d ms; its roster panel reads “Offline (%d)”; %.1f× gab", version, profanityInpblock, size, p.Seconds()/g.Seconds())})
	}
	// Profanity as installed: its input wait grows to a second while no
	// key is typed.
	p, pr, err := launchProfanity(filepath.Join(dir, "prof-default"), 2000, 0)
	if err != nil {
		return nil, err
	}
	pr.stop()
	rows = append(rows, row{"roster 2000: launch → shown in Profanity, its default settings", ms(p), "the input wait grows to 1 s while no key is typed, and the network is read between waits"})

	// gab: the same few messages, then the floods gab's flood case sends
	// it (floodRounds floods and the latency flood).
	k := floodRounds + 1
	gdir := filepath.Join(dir, "gab-flood")
	srv, err := server(gdir, 10000)
	if srv != nil {
		defer srv.Stop()
	}
	if err != nil {
		return nil, err
	}
	t, err := newTmux(gdir)
	if err != nil {
		return nil, err
	}
	defer t.stop()
	if err := startGab(t, gab, gdir, srv); err != nil {
		return nil, err
	}
	if _, err := t.waitFor("/10000 ", 5*time.Minute, 50*time.Millisecond); err != nil {
		return nil, err
	}
	gdb := filepath.Join(gdir, "data", "bench.db")
	s, err := dialFlooder(srv)
	if err != nil {
		return nil, err
	}
	defer s.Close()
	if err := waitQuiet(3*time.Minute, srv.Pid()); err != nil {
		return nil, err
	}
	const first = 900000 // numbered apart from the floods
	go sendFlood(s, "bench@localhost", first, fewMessages)
	select {
	case <-inStore(gdb)(fewMessages - 1):
	case <-time.After(time.Minute):
		return nil, fmt.Errorf("gab had not stored %d messages after a minute", fewMessages)
	}
	if err := waitQuiet(time.Minute, srv.Pid()); err != nil {
		return nil, err
	}
	_, grss0, gpeak0 := procStat(t.pid())
	grss, gpeak, err := floods(srv, s, t.pid(), func(last int) <-chan struct{} { return inStore(gdb)(last + fewMessages) }, k, n)
	if err == nil {
		err = countFlood(gdb, `SELECT count(DISTINCT body) FROM messages WHERE peer = 'flooder@localhost'`, k*n+fewMessages)
	}
	if err != nil {
		return nil, err
	}
	mb := func(b int64) float64 { return float64(b) / 1e6 }
	few := fmt.Sprintf("memory, 10,000 contacts, %d messages received", fewMessages)
	what := fmt.Sprintf("memory after %d floods of %d, 10,000 contacts", k, n)
	hours := per.Hours() * float64(k*n)
	return append(rows,
		row{"a message arriving with 10,000 contacts: Profanity", ms(per) + " each", fmt.Sprintf("%d messages sent at once, until the last was on its screen: it rebuilds and sorts its whole roster for each (seen in stack samples; hiding the roster panel made no difference)", fewMessages)},
		row{few + ": gab", fmt.Sprintf("%.0f MB (peak %.0f MB)", mb(grss0), mb(gpeak0)), "once the server is quiet"},
		row{few + ": Profanity", fmt.Sprintf("%.0f MB (peak %.0f MB)", mb(prss), mb(ppeak)), "as the last of them showed"},
		row{what + ": gab", fmt.Sprintf("%.0f MB (peak %.0f MB)", mb(grss), mb(gpeak)), "a fresh store; every flood message stored once (checked)"},
		row{what + ": Profanity", "not measured", fmt.Sprintf("at %s a message the %d messages would take Profanity about %.0f hours", ms(per), k*n, hours)},
	), nil
}

// fewMessages is how many messages are timed arriving at Profanity (and
// sent to gab before its floods, for memory side by side).
const fewMessages = 10

// openChat logs the flooder in and opens Profanity's chat window with it,
// where its messages show; it returns once the server is quiet.
func openChat(pr *profanityRun) (*xmpptest.Raw, error) {
	s, err := dialFlooder(pr.srv)
	if err != nil {
		return nil, err
	}
	pr.t.keys("/msg flooder@localhost")
	pr.t.key("Enter")
	if _, err := pr.t.waitFor("flooder@localhost", time.Minute, 50*time.Millisecond); err != nil {
		s.Close()
		return nil, err
	}
	if err := waitQuiet(3*time.Minute, pr.srv.Pid()); err != nil {
		s.Close()
		return nil, err
	}
	return s, nil
}

// profanityFew sends fewMessages at once and returns the time per message
// until the last is on Profanity's screen.
func profanityFew(pr *profanityRun) (time.Duration, error) {
	s, err := openChat(pr)
	if err != nil {
		return 0, err
	}
	defer s.Close()
	start := time.Now()
	go sendFlood(s, "bench@localhost", 0, fewMessages)
	if _, err := pr.t.waitFor(fmt.Sprintf("flood %06d", fewMessages-1), 10*time.Minute, 50*time.Millisecond); err != nil {
		return 0, err
	}
	return time.Since(start) / fewMessages, nil
}
