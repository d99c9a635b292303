package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gab-chat/gab/internal/xmpptest"
)

// format reads a tmux format (such as #{mouse_sgr_flag}) of gab's pane.
func (tm *tmux) format(f string) string {
	out, _ := exec.Command("tmux", "-S", tm.sock, "display", "-p", "-t", tm.name+":0", f).Output()
	return strings.TrimSpace(string(out))
}

// gabPID is the process id of gab, the child of the pane's shell (found in
// /proc: a fresh Debian has no pgrep).
func (tm *tmux) gabPID() int {
	tm.t.Helper()
	shell := tm.format("#{pane_pid}")
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, f := range stats {
		b, err := os.ReadFile(f)
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after ")".
		s := string(b)
		fields := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
		if len(fields) > 1 && fields[1] == shell {
			pid, err := strconv.Atoi(filepath.Base(filepath.Dir(f)))
			if err == nil {
				return pid
			}
		}
	}
	tm.t.Fatalf("no gab under the pane's shell %s", shell)
	return 0
}

// waitExit waits until the pane's shell has written gab's exit status, and
// checks that the terminal was given back (no alternate screen left on).
func (tm *tmux) waitExit(exit string, within time.Duration) string {
	tm.t.Helper()
	deadline := time.Now().Add(within)
	for {
		if b, err := os.ReadFile(exit); err == nil && strings.HasSuffix(string(b), "\n") {
			if alt := tm.format("#{alternate_on}"); alt != "0" {
				tm.t.Fatalf("gab left the terminal in its alternate screen (alternate_on=%s)", alt)
			}
			return strings.TrimSpace(string(b))
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("gab did not exit within %v:\n%s", within, tm.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// In a real terminal gab turns on the mouse and bracketed paste: a pasted
// text of several lines is one message to edit, sent whole by one Enter.
func TestEndToEndPasteAndMouse(t *testing.T) {
	bin := buildGab(t)
	srv, cfg, data := meAndPeer(t)
	p := srv.StartPeer(t, "peer", "pw")
	exit := filepath.Join(t.TempDir(), "exit")
	tm := startTmux(t, fmt.Sprintf("%s --config %s --data %s; echo $? > %s; sleep 30", bin, cfg, data, exit))
	tm.waitFor("connected as me@localhost/gab", "● Peer")
	for _, f := range []string{"#{mouse_sgr_flag}", "#{?mouse_any_flag,1,#{mouse_button_flag}}"} {
		if v := tm.format(f); v != "1" {
			t.Errorf("%s is %q: gab did not turn the mouse on", f, v)
		}
	}

	// A click on the contact opens the conversation (an SGR mouse report:
	// press and release of the left button on the contact's row).
	s := tm.screen()
	row, col := -1, -1
	for i, line := range strings.Split(s, "\n") {
		if j := strings.Index(line, "Peer"); j >= 0 && strings.Contains(line, "●") {
			row, col = i, len([]rune(line[:j]))
			break
		}
	}
	if row < 0 {
		t.Fatalf("no contact row on the screen:\n%s", s)
	}
	click := fmt.Sprintf("\x1b[<0;%d;%dM\x1b[<0;%d;%dm", col+1, row+1, col+1, row+1)
	tm.text(click)
	tm.waitFor("2:Peer")

	lines := make([]string, 8)
	for i := range lines {
		lines[i] = fmt.Sprintf("pasted line %d", i+1)
	}
	tm.paste(strings.Join(lines, "\n"))
	tm.waitFor("pasted line 8") // the paste arrives whole, the cursor at its end
	tm.keys("Enter")
	tm.text("sentinel after the paste")
	tm.keys("Enter")
	if _, ok := p.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "message" && e.Get("body") == "sentinel after the paste"
	}); !ok {
		t.Fatalf("the peer never got the sentinel: %v\n%s", p.Events(), tm.screen())
	}
	var bodies []string
	for _, e := range p.Events() {
		if e.Get("event") == "message" {
			bodies = append(bodies, e.Get("body"))
		}
	}
	want := []string{strings.Join(lines, "\n"), "sentinel after the paste"}
	if strings.Join(bodies, "|") != strings.Join(want, "|") {
		t.Fatalf("the peer got %q, want %q", bodies, want)
	}
	tm.quit(exit)
}

// Whatever gab is doing — here, working through a 300,000-character flood
// of keystrokes from a terminal without bracketed paste — SIGTERM ends it
// promptly and gives the terminal back.
func TestEndToEndSignalsEndABusyGab(t *testing.T) {
	bin := buildGab(t)
	for _, sig := range []syscall.Signal{syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(sig.String(), func(t *testing.T) {
			srv, cfg, data := meAndPeer(t)
			exit := filepath.Join(t.TempDir(), "exit")
			tm := startTmux(t, fmt.Sprintf("%s --config %s --data %s; echo $? > %s; sleep 30", bin, cfg, data, exit))
			tm.waitFor("connected as me@localhost/gab")
			_ = srv
			// Keystrokes, not a paste: send-keys -l types them, in
			// pieces (tmux limits a command's length).
			chunk := strings.Repeat("abcdefghij", 800)
			for range 300_000 / len(chunk) {
				if out, err := exec.Command("tmux", "-S", tm.sock, "send-keys", "-t", tm.name, "-l", chunk).CombinedOutput(); err != nil {
					t.Fatalf("send-keys: %v %s", err, out)
				}
			}
			if err := syscall.Kill(tm.gabPID(), sig); err != nil {
				t.Fatal(err)
			}
			tm.waitExit(exit, xmpptest.Timeout(xmpptest.Local))
		})
	}
}

// SIGINT sent to gab (kill -INT, or a program that started it passing on
// an interrupt; in raw mode Ctrl+C is a key) ends it as SIGTERM does:
// the terminal is given back and gab exits with status 0. Before, it
// died at once and left the alternate screen and the mouse on.
func TestEndToEndSIGINTGivesTheTerminalBack(t *testing.T) {
	bin := buildGab(t)
	_, cfg, data := meAndPeer(t)
	exit := filepath.Join(t.TempDir(), "exit")
	tm := startTmux(t, fmt.Sprintf("%s --config %s --data %s; echo $? > %s; sleep 30", bin, cfg, data, exit))
	tm.waitFor("connected as me@localhost/gab")
	if err := syscall.Kill(tm.gabPID(), syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	if code := tm.waitExit(exit, xmpptest.Timeout(xmpptest.Local)); code != "0" {
		t.Fatalf("exit status %s, want 0", code)
	}
	if v := tm.format("#{?mouse_any_flag,1,#{mouse_button_flag}}"); v != "0" {
		t.Fatalf("the mouse is still on after gab ended (%s)", v)
	}
}
