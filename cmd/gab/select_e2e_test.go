package main

import (
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/internal/xmpptest"
)

// reverseRow waits for the terminal row that holds text to be drawn in
// reverse video (SGR 7), as the selected message is.
func (tm *tmux) reverseRow(text string) {
	tm.t.Helper()
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.Local))
	for {
		out, _ := exec.Command("tmux", "-S", tm.sock, "capture-pane", "-p", "-e", "-t", tm.name).CombinedOutput()
		for _, row := range strings.Split(string(out), "\n") {
			if i := strings.Index(row, text); i >= 0 && strings.Contains(row[:i], "7m") && strings.Contains(row[:i], "\x1b[") {
				return
			}
		}
		if time.Now().After(deadline) {
			tm.t.Fatalf("%q never drawn in reverse video:\n%s", text, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Selecting a message in the real terminal: Alt+S selects the newest, Up
// the one before, r replies to it (the peer gets the answer), e puts
// /react in the composer for it, Esc leaves.
func TestEndToEndSelectAndAct(t *testing.T) {
	bin := buildGab(t)
	srv, cfg, data := meAndPeer(t)
	p := srv.StartPeer(t, "peer", "pw")
	exit := filepath.Join(t.TempDir(), "exit")
	tm := startTmuxSize(t, fmt.Sprintf("%s --config %s --data %s; echo $? > %s; sleep 30", bin, cfg, data, exit), 80, 24)
	tm.waitFor("connected as me@localhost/gab", "● Peer")
	p.Send(t, map[string]any{"cmd": "send", "to": "me@localhost", "body": "first question"})
	p.Send(t, map[string]any{"cmd": "send", "to": "me@localhost", "body": "second thought"})
	tm.waitFor("2:Peer (2)")
	tm.keys("M-2")
	tm.waitFor("Peer: second thought")

	tm.keys("M-s")
	tm.waitFor("selecting: ↑↓ move")
	tm.reverseRow("second thought")
	tm.keys("Up")
	tm.reverseRow("first question")
	tm.keys("r")
	tm.waitFor("replying to Peer: first question")
	tm.text("the answer")
	tm.keys("Enter")
	if _, ok := p.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool {
		// A reply, with the quote others expect as its fallback.
		return e.Get("event") == "reply" && e.Get("stripped") == "the answer" && e.Get("fallback") == "true" && e.Get("target") != ""
	}); !ok {
		t.Fatalf("peer never got the reply: %v\n%s", p.Events(), tm.screen())
	}

	tm.keys("M-s")
	tm.reverseRow("the answer")
	tm.keys("k")
	tm.reverseRow("second thought")
	// y copies with OSC 52: tmux, told to accept it, keeps it as a buffer.
	exec.Command("tmux", "-S", tm.sock, "set", "-g", "set-clipboard", "on").Run()
	tm.keys("y")
	tm.waitFor("copied to the terminal's clipboard")
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.Local))
	for {
		out, _ := exec.Command("tmux", "-S", tm.sock, "show-buffer").CombinedOutput()
		if string(out) == "second thought" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("tmux's buffer holds %q", out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	tm.keys("e")
	tm.waitFor("reacting to Peer: second thought", "> /react")
	tm.keys("Escape")
	tm.waitFor("reaction cancelled")
	tm.text("still typing")
	tm.waitFor("> still typing")
	// Ctrl+Up reaches gab through tmux too; the text typed stays.
	tm.keys("C-Up")
	tm.reverseRow("the answer")
	tm.keys("Escape")
	tm.waitFor("F1: help") // the hint of the composer again (a key sent at once after Esc would be read as Alt+key)
	tm.text("!")
	tm.waitFor("> still typing!")
	// A paste while selecting is text for the composer, not keys.
	tm.keys("M-s")
	tm.reverseRow("the answer")
	tm.paste(" pasted, not keys")
	tm.waitFor("> still typing! pasted, not keys", "F1: help")
	tm.quit(exit)
}
