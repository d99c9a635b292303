package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gab-chat/gab/internal/xmpptest"
)

// The tabs open at the quit key come back at the next launch, in order,
// the same one active, its messages on screen from the store while the
// server is down; a file of tabs gab cannot read leaves the console alone
// with a line saying which file and what is wrong.
func TestEndToEndTabsReopenedWhileTheServerIsDown(t *testing.T) {
	bin := buildGab(t)
	srv, cfg, data := meAndPeer(t)
	srv.Register(t, "friend", "pw") // offline: messages wait on the server
	p := srv.StartPeer(t, "peer", "pw")
	exit := filepath.Join(t.TempDir(), "exit")
	run := fmt.Sprintf("%s --config %s --data %s; echo $? > %s; sleep 30", bin, cfg, data, exit)
	tm := startTmux(t, run)
	tm.waitFor("connected as me@localhost/gab", "● Peer")

	// Two tabs: the peer's (opened by its message), then friend's.
	p.Send(t, map[string]any{"cmd": "send", "to": "me@localhost", "body": "hello from peer"})
	tm.waitFor("2:Peer (1)")
	tm.text("/msg friend@localhost")
	tm.keys("Enter")
	tm.waitFor("3:friend@localhost")
	tm.text("see you tomorrow")
	tm.keys("Enter")
	tm.waitForMatch(regexp.MustCompile(`me( ✓✓?)?: see you tomorrow`))
	// The peer's tab is the active one at the end: not the last opened.
	tm.keys("M-2")
	tm.waitFor("Peer: hello from peer")
	tm.text("hi peer")
	tm.keys("Enter")
	if _, ok := p.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "message" && e.Get("body") == "hi peer"
	}); !ok {
		t.Fatalf("peer never got our message: %v", p.Events())
	}
	tm.waitForMatch(regexp.MustCompile(`me( ✓✓?)?: hi peer`))
	tm.quit(exit)

	path := filepath.Join(data, "tabs.json")
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var saved struct {
		Active int
		Tabs   []struct{ Account, Kind, JID string }
	}
	if err := json.Unmarshal(b, &saved); err != nil || saved.Active != 0 || len(saved.Tabs) != 2 ||
		saved.Tabs[0].JID != "peer@localhost" || saved.Tabs[1].JID != "friend@localhost" {
		t.Fatalf("saved %s (%v)", b, err)
	}

	// The server goes away; gab comes back with both tabs, the peer's
	// active, its messages read from the store.
	srv.Stop()
	os.Remove(exit)
	tm2 := startTmux(t, run)
	s := tm2.waitForMatch(regexp.MustCompile(`(?s)1:console( \(\d+\))? +2:(Peer|peer@localhost) +3:friend@localhost.*(Peer|peer@localhost): hello from peer.*me( ✓✓?)?: hi peer`))
	if strings.Contains(s, "see you tomorrow") {
		t.Fatalf("friend's tab is shown, not the peer's:\n%s", s)
	}
	tm2.waitForMatch(regexp.MustCompile(`me \[(connecting|reconnecting in \d+s) · saved list\]`)) // the contact list saved by the first run
	tm2.keys("M-3")
	tm2.waitForMatch(regexp.MustCompile(`me( ✓✓?)?: see you tomorrow`))
	tm2.quit(exit)

	// A file gab cannot read: the console alone, and a line that says why.
	if err := os.WriteFile(path, []byte("tabs: peer, friend\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	os.Remove(exit)
	tm3 := startTmuxSize(t, run, 250, 30)
	tm3.waitFor("the tabs of the last run were not reopened: "+path+": line 1: not JSON as gab writes it", "kept as", path+".bad")
	if s := tm3.screen(); !strings.Contains(s, "1:console") || regexp.MustCompile(`1:console( \(\d+\))? +2:`).MatchString(s) {
		t.Fatalf("tabs opened from a bad file:\n%s", s)
	}
	if b, err := os.ReadFile(path + ".bad"); err != nil || string(b) != "tabs: peer, friend\n" {
		t.Fatalf("the bad file was not kept: %q %v", b, err)
	}
	tm3.quit(exit)
}
