package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/internal/xmpptest"
)

// A styled message with a link from slixmpp, in the built binary in a
// real terminal: the styling reaches the terminal as attributes, the link
// as an OSC 8 hyperlink to exactly its text (tmux 3.3 does not pass OSC 8
// on, so gab's output is recorded by script(1) between gab and tmux), and
// /open runs open_command with the URL as one argument, away from the
// terminal.
func TestEndToEndStylingAndLinks(t *testing.T) {
	bin := buildGab(t)
	srv, cfg, data := meAndPeer(t)
	p := srv.StartPeer(t, "peer", "pw")
	dir := t.TempDir()
	out, exit, record := filepath.Join(dir, "argv"), filepath.Join(dir, "exit"), filepath.Join(dir, "typescript")
	opener := filepath.Join(dir, "opener")
	os.WriteFile(opener, []byte(`#!/bin/sh
exec 3> "`+out+`.part"
printf '%s\n' "$@" >&3
[ -t 0 ] && echo "stdin is a terminal" >&3
[ -t 1 ] && echo "stdout is a terminal" >&3
[ -t 2 ] && echo "stderr is a terminal" >&3
(: < /dev/tty) 2>/dev/null && echo "has a controlling terminal" >&3
exec 3>&-
mv "`+out+`.part" "`+out+`"
`), 0o700)
	os.WriteFile(filepath.Join(cfg, "gab.toml"), []byte(fmt.Sprintf("[ui]\nopen_command = [%q, \"--flag\"]\n", opener)), 0o600)
	if _, err := exec.LookPath("script"); err != nil {
		t.Fatal("script(1) is not installed (util-linux)")
	}
	gab := fmt.Sprintf("%s --config %s --data %s", bin, cfg, data)
	tm := startTmuxSize(t, fmt.Sprintf("script -q -f -e -c %q %s; echo $? > %s; sleep 30", gab, record, exit), 140, 30)
	tm.waitFor("connected as me@localhost/gab", "● Peer")

	body := "*bold* _it_ see https://example.org/a_(b). and `[red]x[-]`"
	p.Send(t, map[string]any{"cmd": "send", "to": "me@localhost", "body": body})
	tm.waitFor("2:Peer (1)")
	tm.keys("M-2")
	tm.waitFor("Peer: " + body)

	// What gab wrote to the terminal: the hyperlink around the URL's text,
	// with an id (the rows of a wrapped link are one link).
	hyperlink := regexp.MustCompile(`\x1b\]8;id=[0-9a-z]+;https://example\.org/a_\(b\)\x1b\\https://example\.org/a_\(b\)`)
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.RoundTrip))
	for {
		b, _ := os.ReadFile(record)
		if m := hyperlink.FindIndex(b); m != nil && strings.Contains(string(b[m[1]:]), "\x1b]8;;\x1b\\") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no OSC 8 hyperlink around the URL in gab's output:\n%q", b[max(0, len(b)-3000):])
		}
		time.Sleep(50 * time.Millisecond)
	}
	// The terminal shows the styling as attributes: bold, italic.
	styled, _ := exec.Command("tmux", "-S", tm.sock, "capture-pane", "-e", "-p", "-t", tm.name).CombinedOutput()
	line := ""
	for _, l := range strings.Split(string(styled), "\n") {
		if strings.Contains(l, "bold") {
			line = l
		}
	}
	if !strings.Contains(line, "\x1b[1m") || !strings.Contains(line, "\x1b[3m") || strings.Contains(line, "\x1b[31m") {
		t.Fatalf("the message's row lacks bold and italic, or turned red: %q", line)
	}

	tm.text("/open")
	tm.keys("Enter")
	deadline = time.Now().Add(xmpptest.Timeout(xmpptest.RoundTrip))
	for {
		b, err := os.ReadFile(out)
		if err == nil {
			if string(b) != "--flag\nhttps://example.org/a_(b)\n" {
				t.Fatalf("the open command got %q", b)
			}
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the open command never ran:\n%s", tm.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
	tm.waitFor("opening https://example.org/a_(b)")
	tm.quit(exit)
}
