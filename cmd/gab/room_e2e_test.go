package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/internal/xmpptest"
)

// The real binary in a room: joined by its name alone, the occupant list,
// messages both ways, a mention, nick completion with Tab, the occupant
// list hidden with F6, and the room caught up after a restart.
func TestEndToEndRoom(t *testing.T) {
	bin := buildGab(t)
	srv := xmpptest.Start(t, xmpptest.Options{MUC: true})
	srv.Register(t, "me", "pw")
	srv.Register(t, "ada", "pw")
	tea := xmpptest.Room("tea")
	ada := srv.StartPeer(t, "ada", "pw")
	ada.Join(t, tea, "ada")
	ada.Must(t, map[string]any{"cmd": "subject", "room": tea, "subject": "Darjeeling [red]only[-]"})
	cfg, data := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(cfg, "accounts"), 0o700)
	os.WriteFile(filepath.Join(cfg, "accounts", "me.toml"), []byte(fmt.Sprintf(
		"jid = \"me@localhost\"\npassword_command = \"echo pw\"\nserver = %q\nca_file = %q\n", srv.Addr(), srv.CAFile)), 0o600)
	exit := filepath.Join(t.TempDir(), "exit")
	run := fmt.Sprintf("%s --config %s --data %s; echo $? > %s; sleep 30", bin, cfg, data, exit)
	tm := startTmuxSize(t, run, 130, 30)
	tm.waitFor("connected as me@localhost")

	tm.text("/join tea")
	tm.keys("Enter")
	tm.waitFor("you joined "+tea+" as me", "2 in the room", "Darjeeling [red]only[-]")
	tm.waitFor("Moderators (1)", "Participants (1)")

	ada.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": "welcome, me!"})
	tm.waitFor("ada: welcome, me!")

	mark := ada.Mark()
	tm.text("ad")
	tm.keys("Tab")
	tm.waitFor("> ada:") // the terminal does not keep the space after it
	tm.text("thank you")
	tm.keys("Enter")
	got := ada.WaitFrom(t, mark, xmpptest.RoundTrip, "our message", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "groupchat" && e.Get("nick") == "me"
	})
	if got.Get("body") != "ada: thank you" {
		t.Fatalf("ada got %q", got.Get("body"))
	}
	tm.waitFor("me: ada: thank you")

	// F6 hides the occupant list; the conversation takes the room.
	tm.keys("F6")
	tm.waitGone("in the room")
	tm.waitFor("ada: welcome, me!")
	tm.keys("F6")
	tm.waitFor("2 in the room")

	// Away: ada goes on; back, the room is caught up from its archive.
	tm.text("/part")
	tm.keys("Enter")
	tm.waitFor("you left " + tea)
	tm.quit(exit)
	ada.Must(t, map[string]any{"cmd": "groupchat", "room": tea, "body": "said while you were away"})
	tm2 := startTmuxSize(t, run, 130, 30)
	// The room's tab is back, active, with what was said; not joined.
	tm2.waitFor("2:tea@conference", "reopened from the last run: you are not in "+tea, "me: ada: thank you")
	tm2.keys("M-1")
	tm2.waitFor("connected as me@localhost")
	tm2.text("/join " + tea)
	tm2.keys("Enter")
	tm2.waitFor("ada: said while you were away", "me: ada: thank you", "ada: welcome, me!")
}

// waitGone waits until the screen no longer shows text.
func (tm *tmux) waitGone(text string) {
	tm.t.Helper()
	deadline := time.Now().Add(xmpptest.Timeout(xmpptest.RoundTrip))
	for strings.Contains(tm.screen(), text) {
		if time.Now().After(deadline) {
			tm.t.Fatalf("screen still shows %q:\n%s", text, tm.screen())
		}
		time.Sleep(50 * time.Millisecond)
	}
}
