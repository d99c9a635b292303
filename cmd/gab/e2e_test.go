package main

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/pem"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/internal/xmpptest"
)

// buildGab builds the static binary under test once per test.
func buildGab(t *testing.T) string {
	t.Helper()
	bin := filepath.Join(t.TempDir(), "gab")
	cmd := exec.Command("go", "build", "-trimpath", "-o", bin, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	return bin
}

// tmux drives one terminal session.
type tmux struct {
	t    *testing.T
	name string
	sock string
}

func startTmux(t *testing.T, command string) *tmux {
	t.Helper()
	return startTmuxSize(t, command, 110, 30)
}

// startTmuxSize runs command in a terminal of w×h cells.
func startTmuxSize(t *testing.T, command string, w, h int) *tmux {
	t.Helper()
	if _, err := exec.LookPath("tmux"); err != nil {
		t.Fatal("tmux is not installed; `make test` installs it")
	}
	tm := &tmux{t: t, name: "gab", sock: filepath.Join(t.TempDir(), "tmux.sock")}
	out, err := exec.Command("tmux", "-S", tm.sock, "new-session", "-d", "-s", tm.name, "-x", strconv.Itoa(w), "-y", strconv.Itoa(h), command).CombinedOutput()
	if err != nil {
		t.Fatalf("tmux: %v %s", err, out)
	}
	t.Cleanup(func() { exec.Command("tmux", "-S", tm.sock, "kill-server").Run() })
	return tm
}

func (tm *tmux) keys(keys ...string) {
	tm.t.Helper()
	if out, err := exec.Command("tmux", append([]string{"-S", tm.sock, "send-keys", "-t", tm.name}, keys...)...).CombinedOutput(); err != nil {
		tm.t.Fatalf("send-keys %v: %v %s", keys, err, out)
	}
}

func (tm *tmux) text(s string) { tm.keys("-l", s) }

// paste puts text into the terminal as a paste: bracketed, when the
// program asked for bracketed paste, as a terminal does.
func (tm *tmux) paste(text string) {
	tm.t.Helper()
	f := filepath.Join(tm.t.TempDir(), "paste")
	os.WriteFile(f, []byte(text), 0o600)
	for _, args := range [][]string{{"load-buffer", "-b", "p", f}, {"paste-buffer", "-p", "-d", "-b", "p", "-t", tm.name}} {
		if out, err := exec.Command("tmux", append([]string{"-S", tm.sock}, args...)...).CombinedOutput(); err != nil {
			tm.t.Fatalf("tmux %v: %v %s", args, err, out)
		}
	}
}

// cursor is where the terminal shows its cursor.
func (tm *tmux) cursor() (x, y int) {
	out, _ := exec.Command("tmux", "-S", tm.sock, "display", "-p", "-t", tm.name, "#{cursor_x} #{cursor_y}").Output()
	fmt.Sscan(string(out), &x, &y)
	return x, y
}

// resize sets the terminal's size.
func (tm *tmux) resize(w, h int) {
	tm.t.Helper()
	if out, err := exec.Command("tmux", "-S", tm.sock, "resize-window", "-t", tm.name, "-x", fmt.Sprint(w), "-y", fmt.Sprint(h)).CombinedOutput(); err != nil {
		tm.t.Fatalf("resize-window: %v %s", err, out)
	}
}

func (tm *tmux) screen() string {
	out, _ := exec.Command("tmux", "-S", tm.sock, "capture-pane", "-p", "-t", tm.name).CombinedOutput()
	return string(out)
}

func (tm *tmux) waitFor(texts ...string) string {
	tm.t.Helper()
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.RoundTrip))
	for {
		s := tm.screen()
		ok := true
		for _, want := range texts {
			ok = ok && strings.Contains(s, want)
		}
		if ok {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("screen never showed %q:\n%s", texts, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// openNotice checks that a notice left the keyboard with the composer —
// what is typed goes there, and the dialog (shown by dialogText) did not
// open by itself — then opens it deliberately: F4, Enter on entry.
func (tm *tmux) openNotice(dialogText, entry string) {
	tm.t.Helper()
	tm.text("still typing")
	tm.waitFor("> still typing")
	if strings.Contains(tm.screen(), dialogText) {
		tm.t.Fatalf("the dialog opened by itself:\n%s", tm.screen())
	}
	tm.keys("C-u")
	tm.keys("F4")
	tm.waitFor("Waiting for your answer", entry)
	tm.keys("Enter")
}

// waitForMatch waits until re matches somewhere on the screen.
func (tm *tmux) waitForMatch(re *regexp.Regexp) string {
	tm.t.Helper()
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.RoundTrip))
	for {
		s := tm.screen()
		if re.MatchString(s) {
			return s
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("screen never matched %s:\n%s", re, s)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// quit presses Ctrl+Q and waits for gab to exit with status 0, which the
// session's shell writes to the file exit.
func (tm *tmux) quit(exit string) {
	tm.t.Helper()
	tm.keys("C-q")
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.RoundTrip))
	for {
		// The shell creates the file, then writes the status: read it
		// once it has a whole line.
		if b, err := os.ReadFile(exit); err == nil && strings.HasSuffix(string(b), "\n") {
			if strings.TrimSpace(string(b)) != "0" {
				tm.t.Fatalf("gab exited with %s", b)
			}
			return
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("gab did not quit:\n%s", tm.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// meAndPeer starts Prosody with accounts me and peer, each in the other's
// roster, and writes me's account file; it returns the server and gab's
// configuration and data directories.
func meAndPeer(t *testing.T) (*xmpptest.Server, string, string) {
	t.Helper()
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "me", "pw")
	srv.Register(t, "peer", "pw")
	srv.WriteRoster("me", []xmpptest.RosterEntry{{JID: "peer@localhost", Name: "Peer", Subscription: "both"}})
	srv.WriteRoster("peer", []xmpptest.RosterEntry{{JID: "me@localhost", Subscription: "both"}})
	cfg, data := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(cfg, "accounts"), 0o700)
	os.WriteFile(filepath.Join(cfg, "accounts", "me.toml"), []byte(fmt.Sprintf(
		"jid = \"me@localhost\"\npassword_command = \"echo pw\"\nserver = %q\nca_file = %q\n", srv.Addr(), srv.CAFile)), 0o600)
	return srv, cfg, data
}

func TestEndToEndChatWithSlixmpp(t *testing.T) {
	bin := buildGab(t)
	srv, cfg, data := meAndPeer(t)
	p := srv.StartPeer(t, "peer", "pw")
	exit := filepath.Join(t.TempDir(), "exit")
	editor := filepath.Join(t.TempDir(), "editor")
	os.WriteFile(editor, []byte("#!/bin/sh\nprintf 'written in the editor\\n' > \"$1\"\n"), 0o700)
	tm := startTmux(t, fmt.Sprintf("EDITOR=%s %s --config %s --data %s; echo $? > %s; sleep 30", editor, bin, cfg, data, exit))
	tm.waitFor("connected as me@localhost/gab", "● Peer")

	// The peer types, then writes; gab shows both.
	p.Send(t, map[string]any{"cmd": "state", "to": "me@localhost", "state": "composing"})
	p.Send(t, map[string]any{"cmd": "send", "to": "me@localhost", "body": "hi from slixmpp [red]x[-]", "state": "active"})
	tm.waitFor("2:Peer (1)")
	tm.keys("M-2")
	tm.waitFor("Peer: hi from slixmpp [red]x[-]")
	p.Send(t, map[string]any{"cmd": "state", "to": "me@localhost", "state": "composing"})
	tm.waitFor("Peer is typing…")

	// We answer; the peer sees our typing and the message.
	tm.text("hello back ☕")
	if _, ok := p.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool { return e.Get("event") == "chatstate" && e.Get("state") == "composing" }); !ok {
		t.Fatalf("peer never saw us typing: %v", p.Events())
	}
	tm.keys("Enter")
	if _, ok := p.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "message" && e.Get("body") == "hello back ☕"
	}); !ok {
		t.Fatalf("peer never got our message: %v", p.Events())
	}
	// A receipt or read marker may already have come back: "me ✓: …".
	tm.waitForMatch(regexp.MustCompile(`me( ✓✓?)?: hello back ☕`))

	// /editor: the message is written in $EDITOR, then sent with Enter.
	tm.text("/editor")
	tm.keys("Enter")
	tm.waitFor("> written in the editor")
	tm.keys("Enter")
	if _, ok := p.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "message" && e.Get("body") == "written in the editor"
	}); !ok {
		t.Fatalf("peer never got the edited message: %v\n%s", p.Events(), tm.screen())
	}

	tm.quit(exit)
	if _, ok := p.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "presence" && e.Get("type") == "unavailable" && strings.HasPrefix(e.Get("from"), "me@localhost")
	}); !ok {
		t.Fatalf("peer never saw us leave: %v", p.Events())
	}
	if _, err := os.Stat(filepath.Join(data, "me.db")); err != nil {
		t.Fatalf("no history database: %v", err)
	}
}

func TestEndToEndFirstRun(t *testing.T) {
	bin := buildGab(t)
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "newbie", "s3cret")
	cfg, data := t.TempDir(), t.TempDir()
	// The form does not ask for a CA file; the system roots are told to
	// trust the test server's certificate instead.
	tm := startTmux(t, fmt.Sprintf("SSL_CERT_FILE=%s %s --config %s --data %s; sleep 30", srv.CAFile, bin, cfg, data))
	tm.waitFor("first-run setup", "JID")
	tm.text("newbie@localhost")
	tm.keys("Tab")
	tm.text("s3cret")
	tm.keys("Tab", "Tab")
	tm.text(srv.Addr())
	tm.keys("Tab", "Enter") // Save
	path := filepath.Join(cfg, "accounts", "newbie@localhost.toml")
	tm.waitFor("connected as newbie@localhost")
	st, err := os.Stat(path)
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("account file: %v %v", st, err)
	}
}

func TestEndToEndContactsAndRequests(t *testing.T) {
	bin := buildGab(t)
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "me", "pw")
	srv.Register(t, "friend", "pw")
	srv.Register(t, "stranger", "pw")
	cfg, data := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(cfg, "accounts"), 0o700)
	os.WriteFile(filepath.Join(cfg, "accounts", "me.toml"), []byte(fmt.Sprintf(
		"jid = \"me@localhost\"\npassword_command = \"echo pw\"\nserver = %q\nca_file = %q\n", srv.Addr(), srv.CAFile)), 0o600)
	friend := srv.StartPeer(t, "friend", "pw")
	exit := filepath.Join(t.TempDir(), "exit")
	tm := startTmux(t, fmt.Sprintf("%s --config %s --data %s; echo $? > %s; sleep 30", bin, cfg, data, exit))
	tm.waitFor("connected as me@localhost/gab")

	// Add a contact from the contact list: Tab, Alt+A, fill the dialog.
	tm.keys("Tab")
	tm.keys("M-a")
	tm.waitFor("Add contact")
	tm.text("friend@localhost")
	tm.keys("Tab")
	tm.text("Friend")
	tm.keys("Tab")
	tm.text("Pals")
	tm.keys("Tab", "Enter") // the Add button
	if _, ok := friend.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "subscribe" && e.Get("from") == "me@localhost"
	}); !ok {
		t.Fatalf("friend never got our request: %v\n%s", friend.Events(), tm.screen())
	}
	tm.waitFor("▾ Pals", "Friend …") // pending out
	// They approve and ask back; we approve from the prompt.
	friend.Send(t, map[string]any{"cmd": "subscribed", "to": "me@localhost"})
	friend.Send(t, map[string]any{"cmd": "subscribe", "to": "me@localhost"})
	// A notice, not a dialog: the user opens the list (F4), then the
	// request (Enter), where Later has the focus: Tab, Tab, Enter approves.
	tm.waitFor("1 request · F4 to answer", "friend@localhost asks to see your presence")
	tm.keys("F4")
	tm.waitFor("Waiting for your answer", "request  friend@localhost")
	tm.keys("Enter")
	tm.waitFor("Subscription request", "JID:      friend@localhost")
	tm.keys("Tab", "Tab", "Enter") // Later, Deny, Approve and add back
	if _, ok := friend.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "subscribed" && e.Get("from") == "me@localhost"
	}); !ok {
		t.Fatalf("friend never saw our approval: %v", friend.Events())
	}
	friend.Send(t, map[string]any{"cmd": "presence", "show": "chat", "status": "hi there"})
	tm.waitFor("● Friend")

	// Chat, with typing shown both ways.
	friend.Send(t, map[string]any{"cmd": "state", "to": "me@localhost", "state": "composing"})
	friend.Send(t, map[string]any{"cmd": "send", "to": "me@localhost", "body": "hello from a real client", "state": "active"})
	tm.waitFor("2:Friend (1)")
	tm.keys("C-k")
	tm.text("frie")
	tm.keys("Enter")
	tm.waitFor("Friend: hello from a real client")
	friend.Send(t, map[string]any{"cmd": "state", "to": "me@localhost", "state": "composing"})
	tm.waitFor("Friend is typing…")
	tm.text("nice to see you")
	if _, ok := friend.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool { return e.Get("event") == "chatstate" && e.Get("state") == "composing" }); !ok {
		t.Fatalf("friend never saw us typing: %v", friend.Events())
	}
	tm.keys("Enter")
	if _, ok := friend.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "message" && e.Get("body") == "nice to see you"
	}); !ok {
		t.Fatalf("friend never got our message: %v", friend.Events())
	}

	// A stranger asks; we deny.
	stranger := srv.StartPeer(t, "stranger", "pw")
	stranger.Send(t, map[string]any{"cmd": "subscribe", "to": "me@localhost"})
	tm.waitFor("1 request · F4 to answer", "? stranger@localhost")
	tm.keys("F4")
	tm.waitFor("Waiting for your answer", "request  stranger@localhost")
	tm.keys("Enter")
	tm.waitFor("Subscription request", "JID:      stranger@localhost")
	tm.keys("Tab", "Enter") // Deny
	if _, ok := stranger.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool { return e.Get("event") == "unsubscribed" }); !ok {
		t.Fatalf("stranger never saw the denial: %v\n%s", stranger.Events(), tm.screen())
	}
	tm.keys("M-1")
	tm.waitFor("stranger@localhost asks to see your presence", "denied stranger@localhost")

	tm.quit(exit)
}

// A stranger's request arrives while the user types a message: the rest
// of the line and Enter go to the conversation, no dialog opens, nothing is
// approved; the request waits, counted in the status line, until the user
// opens it. A request taken back leaves the list.
func TestEndToEndRequestDoesNotInterruptTyping(t *testing.T) {
	bin := buildGab(t)
	srv, cfg, data := meAndPeer(t)
	srv.Register(t, "stranger", "pw")
	srv.Register(t, "shy", "pw")
	p := srv.StartPeer(t, "peer", "pw")
	exit := filepath.Join(t.TempDir(), "exit")
	tm := startTmux(t, fmt.Sprintf("%s --config %s --data %s; echo $? > %s; sleep 30", bin, cfg, data, exit))
	tm.resize(80, 24)
	tm.waitFor("connected as me@localhost/gab", "● Peer")
	tm.keys("C-k")
	tm.text("peer")
	tm.keys("Enter")
	tm.waitFor("2:Peer")
	tm.text("half a me")
	tm.waitFor("> half a me")

	stranger := srv.StartPeer(t, "stranger", "pw")
	stranger.Send(t, map[string]any{"cmd": "subscribe", "to": "me@localhost"})
	tm.waitFor("1 request · F4 to answer", "? stranger@localhost")
	tm.text("ssage")
	tm.keys("Enter")
	if _, ok := p.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "message" && e.Get("body") == "half a message"
	}); !ok {
		t.Fatalf("the message never arrived whole: %v\n%s", p.Events(), tm.screen())
	}
	if s := tm.screen(); strings.Contains(s, "Subscription request") || strings.Contains(s, "Waiting for your answer") {
		t.Fatalf("a dialog opened:\n%s", s)
	}

	// The user answers when they choose: F4, Enter, Tab to Deny, Enter. A
	// "subscribed" sent by the typing would have reached the stranger
	// before this "unsubscribed".
	tm.keys("F4")
	tm.waitFor("Waiting for your answer", "request  stranger@localhost")
	tm.keys("Enter")
	tm.waitFor("Subscription request")
	tm.keys("Tab", "Enter")
	if _, ok := stranger.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool { return e.Get("event") == "unsubscribed" }); !ok {
		t.Fatalf("stranger never saw the denial: %v\n%s", stranger.Events(), tm.screen())
	}
	for _, e := range stranger.Events() {
		if e.Get("event") == "subscribed" {
			t.Fatalf("the stranger was approved: %v", stranger.Events())
		}
	}
	tm.keys("M-1")
	tm.waitFor("denied stranger@localhost")

	// A request taken back leaves the list.
	shy := srv.StartPeer(t, "shy", "pw")
	shy.Send(t, map[string]any{"cmd": "subscribe", "to": "me@localhost"})
	tm.waitFor("1 request · F4 to answer", "? shy@localhost")
	shy.Send(t, map[string]any{"cmd": "unsubscribe", "to": "me@localhost"})
	tm.waitFor("shy@localhost withdrew the request")
	if s := tm.screen(); strings.Contains(s, "· F4 to answer") || strings.Contains(s, "? shy@localhost") {
		t.Fatalf("the withdrawn request still waits:\n%s", s)
	}
	tm.quit(exit)
}

// A server certificate no trusted authority signed is a notice; trusting
// it takes the fingerprint's first four characters, typed, and then the
// Trust button: Enter alone does not.
func TestEndToEndUntrustedCertificate(t *testing.T) {
	bin := buildGab(t)
	srv := xmpptest.Start(t, xmpptest.Options{})
	srv.Register(t, "me", "pw")
	cfg, data := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(cfg, "accounts"), 0o700)
	// No ca_file: the test server's certificate is signed by nobody trusted.
	os.WriteFile(filepath.Join(cfg, "accounts", "me.toml"), []byte(fmt.Sprintf(
		"jid = \"me@localhost\"\npassword_command = \"echo pw\"\nserver = %q\n", srv.Addr())), 0o600)
	pemBytes, err := os.ReadFile(srv.CAFile)
	if err != nil {
		t.Fatal(err)
	}
	block, _ := pem.Decode(pemBytes)
	sum := sha256.Sum256(block.Bytes)
	start := strings.ToLower(hex.EncodeToString(sum[:2]))
	exit := filepath.Join(t.TempDir(), "exit")
	tm := startTmux(t, fmt.Sprintf("%s --config %s --data %s; echo $? > %s; sleep 30", bin, cfg, data, exit))
	tm.resize(80, 24)
	tm.waitFor("1 certificate · F4 to answer")
	tm.openNotice("Untrusted certificate", "certificate of account me")
	tm.waitFor("Untrusted certificate", "First four characters")
	// Enter alone, then Enter on Trust with nothing typed: not trusted.
	tm.keys("Enter", "Tab", "Tab", "Enter")
	tm.waitFor("Not trusted: type the first four characters")
	tm.keys("Tab") // round to the field
	tm.text(start)
	tm.keys("Enter") // to Trust and connect
	tm.keys("Enter")
	tm.waitFor("connected as me@localhost/gab")
	if s := tm.screen(); strings.Contains(s, "· F4 to answer") {
		t.Fatalf("the certificate still waits:\n%s", s)
	}
	if _, err := os.Stat(filepath.Join(data, "me.pin.pem")); err != nil {
		t.Fatalf("the certificate was not pinned: %v", err)
	}
	tm.quit(exit)
}

// The user works in another tmux window; a message arrives: gab's window is
// flagged for the bell, its title counts the unread message, and the notify
// command is told who wrote (and not what).
func TestEndToEndNotifiedInAnotherWindow(t *testing.T) {
	bin := buildGab(t)
	srv, cfg, data := meAndPeer(t)
	told := filepath.Join(t.TempDir(), "told")
	os.WriteFile(filepath.Join(cfg, "gab.toml"), []byte(fmt.Sprintf(
		"[notify]\ncommand = 'printf \"%%s|%%s|%%s\\n\" \"$GAB_TITLE\" \"$GAB_BODY\" \"$GAB_FROM\" >> %s'\n", told)), 0o600)
	p := srv.StartPeer(t, "peer", "pw")
	exit := filepath.Join(t.TempDir(), "exit")
	tm := startTmux(t, fmt.Sprintf("%s --config %s --data %s; echo $? > %s; sleep 30", bin, cfg, data, exit))
	tm.waitFor("connected as me@localhost/gab", "● Peer")

	// Another window, where the user now works.
	// "name:" is the session; plain "name" may match the window, which
	// tmux names after the program running in it — gab.
	if out, err := exec.Command("tmux", "-S", tm.sock, "new-window", "-t", tm.name+":", "sleep 60").CombinedOutput(); err != nil {
		t.Fatalf("tmux new-window: %v %s", err, out)
	}
	format := func(f string) string {
		out, _ := exec.Command("tmux", "-S", tm.sock, "display", "-p", "-t", tm.name+":0", f).Output()
		return strings.TrimSpace(string(out))
	}
	if format("#{window_active}") != "0" {
		t.Fatal("gab's window is still the active one")
	}
	p.Send(t, map[string]any{"cmd": "send", "to": "me@localhost", "body": "a private matter"})
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.RoundTrip))
	for format("#{window_bell_flag}") != "1" || format("#{pane_title}") != "gab (1)" {
		if time.Now().After(deadline) {
			t.Fatalf("no bell or title: bell flag %q, title %q", format("#{window_bell_flag}"), format("#{pane_title}"))
		}
		time.Sleep(50 * time.Millisecond)
	}
	for {
		b, _ := os.ReadFile(told)
		if s := string(b); s != "" {
			if s != "gab: message from Peer||peer@localhost\n" {
				t.Fatalf("the notify command was told %q", s)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the notify command did not run")
		}
		time.Sleep(50 * time.Millisecond)
	}
	exec.Command("tmux", "-S", tm.sock, "select-window", "-t", tm.name+":0").Run()
	tm.quit(exit)
}

// In an 80×24 terminal a message longer than the composer wraps inside it,
// with the cursor after the last character, and is sent whole.
func TestEndToEndComposerAt80x24(t *testing.T) {
	bin := buildGab(t)
	srv, cfg, data := meAndPeer(t)
	p := srv.StartPeer(t, "peer", "pw")
	exit := filepath.Join(t.TempDir(), "exit")
	tm := startTmuxSize(t, fmt.Sprintf("%s --config %s --data %s; echo $? > %s; sleep 30", bin, cfg, data, exit), 80, 24)
	tm.waitFor("connected as me@localhost/gab", "● Peer")
	tm.text("/msg peer@localhost")
	tm.keys("Enter")
	tm.waitFor("2:Peer")

	long := strings.Repeat("lorem ipsum ", 9) + "the end"
	tm.text(long)
	scr := tm.waitFor("the end")
	lines := strings.Split(scr, "\n")
	row := -1
	for i, l := range lines {
		if strings.Contains(l, "the end") {
			row = i
		}
	}
	first := -1
	for i := row; i >= 0; i-- {
		if strings.Contains(lines[i], "│> lorem ipsum") {
			first = i
			break
		}
	}
	var shown []string
	for i := first; first >= 0 && i <= row; i++ {
		after := string([]rune(lines[i])[30:]) // right of the contact list
		shown = append(shown, strings.TrimSpace(strings.TrimPrefix(after, "> ")))
	}
	if first < 0 || strings.Join(shown, " ") != long {
		t.Fatalf("the composer does not show the whole line, wrapped (%q):\n%s", shown, scr)
	}
	end := len([]rune(lines[row][:strings.Index(lines[row], "the end")])) + len("the end")
	deadline := time.Now().Add(10 * time.Second)
	for {
		x, y := tm.cursor()
		if x == end && y == row {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("cursor at %d,%d, not after the text at %d,%d:\n%s", x, y, end, row, tm.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
	tm.keys("Enter")
	if _, ok := p.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool { return e.Get("event") == "message" && e.Get("body") == long }); !ok {
		t.Fatalf("peer never got the long line: %v", p.Events())
	}

	tm.quit(exit)
}

// A pasted block of eight lines stays in the composer, shown as lines, and
// goes as one message on Enter; after a paste of 300,000 characters Ctrl+Q
// still quits at once. (Needs the terminal's bracketed paste turned on.)
func TestEndToEndPasteIsOneMessage(t *testing.T) {
	bin := buildGab(t)
	srv, cfg, data := meAndPeer(t)
	p := srv.StartPeer(t, "peer", "pw")
	exit := filepath.Join(t.TempDir(), "exit")
	tm := startTmuxSize(t, fmt.Sprintf("%s --config %s --data %s; echo $? > %s; sleep 30", bin, cfg, data, exit), 80, 24)
	tm.waitFor("connected as me@localhost/gab", "● Peer")
	tm.text("/msg peer@localhost")
	tm.keys("Enter")
	tm.waitFor("2:Peer")

	var block []string
	for i := 1; i <= 8; i++ {
		block = append(block, fmt.Sprintf("pasted line %d", i))
	}
	tm.paste(strings.Join(block, "\n"))
	tm.waitFor("pasted line 3", "pasted line 8")
	if strings.Contains(tm.screen(), "me: pasted") {
		t.Fatalf("part of the paste was sent:\n%s", tm.screen())
	}
	tm.keys("Enter")
	if _, ok := p.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "message" && e.Get("body") == strings.Join(block, "\n")
	}); !ok {
		t.Fatalf("peer never got the pasted block as one message: %v\n%s", p.Events(), tm.screen())
	}
	tm.waitForMatch(regexp.MustCompile(`me( ✓✓?)?: pasted line 1`))

	// 300,000 characters, then Ctrl+Q at once.
	tm.paste(strings.Repeat("0123456789 abcdefghijklmnopqrstuvwxyz ", 300000/38))
	tm.quit(exit)
}

// In an 80×24 terminal: a /msg line typed while the contact list has the
// focus reaches the contact it names (not the one selected); F5 hides and
// shows the list; a window too small says so, and Ctrl+Q still quits.
func TestEndToEndContactListTypingAndSmallWindow(t *testing.T) {
	bin := buildGab(t)
	srv, cfg, data := meAndPeer(t)
	srv.Register(t, "ada", "pw")
	srv.StartPeer(t, "peer", "pw")
	ada := srv.StartPeer(t, "ada", "pw")
	exit := filepath.Join(t.TempDir(), "exit")
	tm := startTmuxSize(t, fmt.Sprintf("%s --config %s --data %s; echo $? > %s; sleep 30", bin, cfg, data, exit), 80, 24)
	tm.waitFor("connected as me@localhost/gab", "● Peer")
	tm.keys("Tab")
	tm.waitFor("peer@localhost · online") // Peer selected in the list
	tm.text("/msg ada@localhost hello ada")
	tm.waitFor("> /msg ada@localhost hello ada")
	tm.keys("Enter")
	if _, ok := ada.Wait(10*time.Second, func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "message" && e.Get("body") == "hello ada"
	}); !ok {
		t.Fatalf("ada never got the message: %v\n%s", ada.Events(), tm.screen())
	}
	tm.waitFor("2:ada@localhost")
	if strings.Contains(tm.screen(), "Peer: ") || strings.Contains(tm.screen(), ":Peer") {
		t.Fatalf("a tab with Peer opened:\n%s", tm.screen())
	}

	tm.keys("F5")
	tm.waitForMatch(regexp.MustCompile(`(?m)^ 1:console`))
	tm.keys("F5")
	tm.waitFor("● Peer")

	if out, err := exec.Command("tmux", "-S", tm.sock, "resize-window", "-t", tm.name, "-x", "30", "-y", "8").CombinedOutput(); err != nil {
		t.Fatalf("tmux resize-window: %v %s", err, out)
	}
	tm.waitFor("window too small", "30×8, gab needs 40×10")
	tm.quit(exit)
}
