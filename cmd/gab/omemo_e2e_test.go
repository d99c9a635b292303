package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"testing"

	"github.com/gab-chat/gab/internal/xmpptest"
)

// The real binary with omemo = true and a python-omemo peer (OMEMO 0.3)
// over Prosody: the chat is encrypted because the peer has a device,
// what gab sends the peer decrypts, what the peer sends gab shows with a
// lock; after quitting and starting again the history is still readable
// and the sessions work both ways.
func TestEndToEndOMEMO(t *testing.T) { endToEndOMEMO(t, "0.3") }

// The same with a peer that speaks OMEMO 2 only: gab's messages go in
// OMEMO 2 (sealed envelopes), and the peer's are read.
func TestEndToEndOMEMO2(t *testing.T) { endToEndOMEMO(t, "2") }

func endToEndOMEMO(t *testing.T, version string) {
	t.Helper()
	ns := map[string]string{"0.3": "eu.siacs.conversations.axolotl", "2": "urn:xmpp:omemo:2"}[version]
	bin := buildGab(t)
	srv, cfg, data := meAndPeer(t)
	acct := filepath.Join(cfg, "accounts", "me.toml")
	b, err := os.ReadFile(acct)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(acct, append(b, "omemo = true\n"...), 0o600); err != nil {
		t.Fatal(err)
	}
	p := srv.StartPeer(t, "peer", "pw")
	p.EnableOMEMO(t, version)
	exit := filepath.Join(t.TempDir(), "exit")
	run := fmt.Sprintf("%s --config %s --data %s; echo $? > %s; sleep 30", bin, cfg, data, exit)
	tm := startTmux(t, run)
	tm.waitFor("connected as me@localhost/gab", "Peer")
	tm.text("/msg peer@localhost")
	tm.keys("Enter")
	tm.waitFor("type an encrypted message (OMEMO)")

	gabSays := func(text string) {
		t.Helper()
		tm.text(text)
		tm.keys("Enter")
		if _, ok := p.Wait(xmpptest.RoundTrip, func(e xmpptest.PeerEvent) bool {
			return e.Get("event") == "omemo_message" && e.Get("body") == text && e.Get("ns") == ns
		}); !ok {
			t.Fatalf("the peer never decrypted %q: %v\n%s", text, p.Events(), tm.screen())
		}
		tm.waitForMatch(regexp.MustCompile(`🔒 me( ✓✓?)?: ` + regexp.QuoteMeta(text)))
	}
	peerSays := func(text string) {
		t.Helper()
		ev, err := p.Result(t, map[string]any{"cmd": "omemo_send", "to": "me@localhost", "body": text, "version": version})
		if err != nil || ev.Get("sent") != "1" {
			t.Fatalf("the peer could not encrypt to gab: %v %v", ev, err)
		}
		tm.waitFor("🔒 Peer: " + text)
	}
	gabSays("hello, encrypted")
	peerSays("encrypted answer")

	tm.quit(exit)
	os.Remove(exit)
	tm = startTmux(t, run)
	tm.waitFor("me [online]") // the chat's tab is open again, in front
	tm.text("/msg peer@localhost")
	tm.keys("Enter")
	// History read back from the store: decrypted, marked.
	tm.waitFor("🔒 Peer: encrypted answer", "type an encrypted message (OMEMO)")
	peerSays("after the restart")
	gabSays("still encrypted")
	tm.quit(exit)
}
