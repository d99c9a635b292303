package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/gab-chat/gab/internal/xmpptest"
)

// The real binary with omemo = true in a members-only, non-anonymous
// room with a python-omemo peer (OMEMO 0.3) over Prosody: the room is
// encrypted by default, what gab writes the peer decrypts, what the peer
// writes gab shows with a lock; after quitting, with the peer writing
// meanwhile, gab catches up from the room's archive and decrypts it, the
// history is still readable and the sessions work both ways.
func TestEndToEndOMEMORoom(t *testing.T) {
	bin := buildGab(t)
	srv := xmpptest.Start(t, xmpptest.Options{MUC: true})
	srv.Register(t, "me", "pw")
	srv.Register(t, "ada", "pw")
	secret := xmpptest.Room("secret")
	ada := srv.StartPeer(t, "ada", "pw")
	ada.CreateRoom(t, secret, "ada", xmpptest.RoomConfig{MembersOnly: true, Whois: "anyone", Persistent: true})
	ada.Must(t, map[string]any{"cmd": "affiliation", "room": secret, "affiliation": "member", "jid": "me@localhost"})
	ada.EnableOMEMO(t, "0.3")
	cfg, data := t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(cfg, "accounts"), 0o700)
	os.WriteFile(filepath.Join(cfg, "accounts", "me.toml"), []byte(fmt.Sprintf(
		"jid = \"me@localhost\"\npassword_command = \"echo pw\"\nserver = %q\nca_file = %q\nomemo = true\n", srv.Addr(), srv.CAFile)), 0o600)
	exit := filepath.Join(t.TempDir(), "exit")
	run := fmt.Sprintf("%s --config %s --data %s; echo $? > %s; sleep 30", bin, cfg, data, exit)
	tm := startTmuxSize(t, run, 150, 30)
	tm.waitFor("connected as me@localhost")
	tm.text("/join " + secret)
	tm.keys("Enter")
	tm.waitFor("you joined "+secret+" as me", "messages here are encrypted (OMEMO)", "type an encrypted message (OMEMO)")

	gabSays := func(text string) {
		t.Helper()
		mark := ada.Mark()
		tm.text(text)
		tm.keys("Enter")
		got := ada.WaitFrom(t, mark, xmpptest.RoundTrip, "our encrypted message", func(e xmpptest.PeerEvent) bool {
			return e.Get("event") == "omemo_groupchat" && e.Get("nick") == "me"
		})
		if got.Get("body") != text || got.Get("jid") != "me@localhost" {
			t.Fatalf("ada read %v\n%s", got, tm.screen())
		}
		tm.waitForMatch(regexp.MustCompile(`🔒 me( ✓✓?)?: ` + regexp.QuoteMeta(text)))
	}
	adaSays := func(text string) {
		t.Helper()
		ev, err := ada.Result(t, map[string]any{"cmd": "omemo_groupchat", "room": secret, "body": text, "members": []string{"me@localhost"}, "version": "0.3"})
		if err != nil || ev.Get("sent") != "1" {
			t.Fatalf("ada could not encrypt to the room: %v %v", ev, err)
		}
	}
	gabSays("hello, members")
	adaSays("hello, me")
	tm.waitFor("🔒 ada: hello, me")

	tm.quit(exit)
	os.Remove(exit)
	adaSays("said while you were away")
	tm = startTmuxSize(t, run, 150, 30)
	// The room's tab is back, in front, with its history decrypted.
	tm.waitFor("reopened from the last run", "🔒 ada: hello, me")
	tm.keys("M-1")
	tm.waitFor("connected as me@localhost")
	tm.text("/join " + secret)
	tm.keys("Enter")
	// History read back from the store, and the archive's message
	// decrypted in the stored session.
	tm.waitFor("🔒 ada: hello, me", "🔒 ada: said while you were away", "type an encrypted message (OMEMO)")
	gabSays("back again")
	adaSays("welcome back")
	tm.waitFor("🔒 ada: welcome back")
	tm.quit(exit)
}
