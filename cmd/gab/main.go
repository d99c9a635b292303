package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/history"
	"github.com/gab-chat/gab/roster"
	"github.com/gab-chat/gab/ui"
	"github.com/gab-chat/gab/xmpp"
)

// version is stamped by the Makefile; otherwise it comes from the module's
// build information.
var version = ""

func main() {
	// A soft memory limit: the garbage collector works harder as the heap
	// nears it instead of letting it double. GOMEMLIMIT overrides it.
	if os.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(memoryLimit)
	}
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// memoryLimit is gab's soft memory limit (see runtime/debug.SetMemoryLimit).
// Its live heap with 10,000 contacts is under 10 MB; the limit bounds the
// garbage of a login that size, which otherwise peaked over 60 MB.
const memoryLimit = 32 << 20

const usage = `gab — a terminal XMPP chat client

Usage:
  gab [options]

Options:
  -a NAME        connect only the account accounts/NAME.toml
  --config DIR   configuration directory (default $XDG_CONFIG_HOME/gab or ~/.config/gab)
  --data DIR     data directory for history (default $XDG_DATA_HOME/gab or ~/.local/share/gab)
  --check        validate the configuration, list every problem, and exit
  --xml-log FILE append the raw XML streams to FILE for troubleshooting
                 (authentication is left out; messages are not)
  --cpuprofile FILE  write a CPU profile (go tool pprof) while gab runs
  --memprofile FILE  write a heap profile (go tool pprof) when gab quits
  --version      print the version and exit
  --help         print this help and exit

With no account configured, gab opens first-run setup.
Documentation: man gab, or docs/ in the source.
`

func versionString() string {
	v, rev := version, ""
	if bi, ok := debug.ReadBuildInfo(); ok {
		if v == "" && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
			v = bi.Main.Version
		}
		for _, s := range bi.Settings {
			if s.Key == "vcs.revision" && len(s.Value) >= 12 {
				rev = s.Value[:12]
			}
		}
	}
	if v == "" {
		v = "dev"
	}
	if rev != "" && !strings.Contains(v, rev[:7]) {
		v += " (" + rev + ")"
	}
	return v
}

func run(args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("gab", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	configDir := fs.String("config", "", "")
	dataDir := fs.String("data", "", "")
	only := fs.String("a", "", "")
	check := fs.Bool("check", false, "")
	showVersion := fs.Bool("version", false, "")
	xmlLog := fs.String("xml-log", "", "")
	cpuProfile := fs.String("cpuprofile", "", "")
	memProfile := fs.String("memprofile", "", "")
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			fmt.Fprint(stdout, usage)
			return 0
		}
		fmt.Fprintf(stderr, "gab: %v\n\n%s", err, usage)
		return 2
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "gab: unexpected argument %q\n\n%s", fs.Arg(0), usage)
		return 2
	}
	if *showVersion {
		fmt.Fprintf(stdout, "gab %s\n", versionString())
		return 0
	}
	dirs, err := config.ResolveDirs(*configDir, *dataDir, os.Getenv)
	if err != nil {
		fmt.Fprintf(stderr, "gab: %v\n", err)
		return 1
	}
	settings, probs := config.LoadSettings(dirs.Config)
	accts, aprobs := config.LoadAccounts(dirs.Config)
	probs = append(probs, aprobs...)
	if *only != "" && len(probs) == 0 && !hasAccount(accts, *only) {
		probs = append(probs, config.Problem{File: filepath.Join(dirs.Config, "accounts", *only+".toml"), Msg: "no such account (-a " + *only + ")"})
	}
	if *check {
		if len(probs) > 0 {
			for _, p := range probs {
				fmt.Fprintln(stderr, p.Error())
			}
			fmt.Fprintf(stderr, "gab: %d problem(s) found\n", len(probs))
			return 1
		}
		fmt.Fprintf(stdout, "configuration in %s is valid: %d account(s)", dirs.Config, len(accts))
		for _, a := range accts {
			state := "enabled"
			if !a.Enabled {
				state = "disabled"
			}
			fmt.Fprintf(stdout, "\n  %s: %s (%s)", a.Name, a.JID, state)
		}
		fmt.Fprintln(stdout)
		return 0
	}
	if len(probs) > 0 {
		for _, p := range probs {
			fmt.Fprintln(stderr, p.Error())
		}
		fmt.Fprintln(stderr, "gab: fix the configuration above (gab --check lists every problem)")
		return 1
	}
	if len(accts) == 0 {
		path, err := ui.FirstRun(dirs.Config, nil)
		if err != nil {
			fmt.Fprintf(stderr, "gab: %v\n", err)
			return 1
		}
		a, ps := config.LoadAccount(path)
		if len(ps) > 0 {
			fmt.Fprintln(stderr, ps.Error())
			return 1
		}
		accts = []*config.Account{a}
	}
	var chosen []*config.Account
	for _, a := range accts {
		if (*only == "" && a.Enabled) || a.Name == *only {
			chosen = append(chosen, a)
		}
	}
	if len(chosen) == 0 {
		fmt.Fprintf(stderr, "gab: every account is disabled; enable one or pick it with -a NAME\n")
		return 1
	}
	if *cpuProfile != "" {
		f, err := os.Create(*cpuProfile)
		if err != nil {
			fmt.Fprintf(stderr, "gab: --cpuprofile: %v\n", err)
			return 1
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			fmt.Fprintf(stderr, "gab: --cpuprofile: %v\n", err)
			return 1
		}
		defer pprof.StopCPUProfile()
	}
	if *memProfile != "" {
		f, err := os.Create(*memProfile)
		if err != nil {
			fmt.Fprintf(stderr, "gab: --memprofile: %v\n", err)
			return 1
		}
		defer f.Close()
		// As of the last garbage collection while gab ran: what was live
		// then, not after the windows were torn down.
		defer pprof.WriteHeapProfile(f)
	}
	var logFile *os.File
	if *xmlLog != "" {
		f, err := openXMLLog(*xmlLog)
		if err != nil {
			fmt.Fprintf(stderr, "gab: --xml-log: %v\n", err)
			return 1
		}
		defer f.Close()
		logFile = f
	}
	configured := map[string]bool{}
	for _, a := range accts {
		configured[a.Name] = true
	}
	tabs := tabFile{path: dirs.TabsFile(), configured: func(name string) bool { return configured[name] }}
	if err := runAccounts(chosen, settings, dirs, logFile, tabs); err != nil {
		fmt.Fprintf(stderr, "gab: %v\n", err)
		return 1
	}
	return 0
}

// openXMLLog opens the raw-stream log for appending. It holds whole
// conversations: it is created readable by the user only, and a file that
// others could read is made private before anything is written to it.
func openXMLLog(path string) (*os.File, error) {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, err
	}
	st, err := f.Stat()
	if err == nil && st.Mode().IsRegular() && st.Mode().Perm()&0o077 != 0 {
		err = f.Chmod(st.Mode().Perm() & 0o700)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

func hasAccount(accts []*config.Account, name string) bool {
	for _, a := range accts {
		if a.Name == name {
			return true
		}
	}
	return false
}

// language is the user's preferred language for message bodies.
func language(s config.Settings) string {
	if s.Language != "" {
		return s.Language
	}
	// The first of these that is set decides, as for every program; a C or
	// POSIX locale names no language, so English is assumed.
	for _, v := range []string{"LC_ALL", "LC_MESSAGES", "LANG"} {
		if l := os.Getenv(v); l != "" {
			if tag := xmpp.LangFromLocale(l); tag != "" {
				return tag
			}
			break
		}
	}
	return "en"
}

// runAccounts wires the accounts' stores and clients to the interface.
func runAccounts(accts []*config.Account, settings config.Settings, dirs config.Dirs, xmlLog *os.File, tabs ui.TabStore) error {
	if err := dirs.EnsureData(); err != nil {
		return fmt.Errorf("data directory: %w", err)
	}
	// SIGINT too: in raw mode Ctrl+C is a key, so one comes from kill or
	// from a program that started gab, and must not leave the terminal
	// in the alternate screen with the mouse on.
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGHUP, syscall.SIGINT)
	defer stop()
	// After the first signal, a second one ends gab at once.
	context.AfterFunc(ctx, stop)
	// The terminal is set up meanwhile, on the other core.
	term := ui.OpenTerminal()
	defer term.Close()
	var uiAccts []*ui.Account
	sources := map[string]<-chan chat.Event{}
	var clients []*chat.Client
	for _, a := range accts {
		release, err := lockHistory(a.Name, dirs.HistoryFile(a.Name))
		if err != nil {
			return err
		}
		defer release()
		store, err := history.Open(dirs.HistoryFile(a.Name))
		if err != nil {
			return err
		}
		defer store.Close()
		opts := chat.Options{Version: versionString(), Lang: language(settings), Store: store, PingInterval: a.PingInterval,
			PinFile: dirs.PinFile(a.Name), MaxMessageSize: a.MaxMessageSize, OMEMO: a.OMEMO, OMEMOManualTrust: a.OMEMOTrust == config.OMEMOTrustManual}
		if xmlLog != nil {
			opts.XMLLog = xmpp.NewTap(xmlLog, a.Name)
		}
		c := chat.New(a, opts)
		c.Restore(ctx) // the saved contact list, for the first frame
		clients = append(clients, c)
		show, _ := roster.ShowFromStatus(a.Status)
		uiAccts = append(uiAccts, &ui.Account{Name: a.Name, Client: c, Show: show, Status: a.StatusMessage, Nick: a.Nick, OMEMO: a.OMEMO, OMEMOManual: a.OMEMOPolicy == config.OMEMOPolicyManual})
		sources[a.Name] = c.Events()
	}
	ctx, cancel := context.WithCancel(ctx)
	// The accounts connect once the first frame is on the screen (or
	// after startClients, should it never come): their TLS set-up, the
	// system's roots first, would compete with drawing it.
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		started bool
	)
	start := func() {
		mu.Lock()
		defer mu.Unlock()
		if started {
			return
		}
		started = true
		xmpp.WarmUp()
		for _, c := range clients {
			wg.Add(1)
			go func() { defer wg.Done(); c.Run(ctx) }()
		}
	}
	fallback := time.AfterFunc(startClients, start)
	app := ui.New(uiAccts, ui.Options{Settings: settings, Version: versionString(), Tabs: tabs, Terminal: term, FirstFrame: start})
	err := app.Run(ctx, sources)
	fallback.Stop()
	mu.Lock()
	started = true // from now on nothing starts
	mu.Unlock()
	cancel()
	// Each client says goodbye to its server (a last acknowledgement, the
	// closing tag), but quitting never waits long on the network.
	waitAtMost(&wg, clientGrace)
	return err
}

// startClients is how long after the interface starts the accounts
// connect if no frame has been shown by then.
const startClients = time.Second

// clientGrace is how long quitting waits for the accounts to close their
// streams cleanly.
const clientGrace = 1500 * time.Millisecond

// waitAtMost waits for wg, or d, whichever comes first.
func waitAtMost(wg *sync.WaitGroup, d time.Duration) {
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}
