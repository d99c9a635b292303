package main

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gab-chat/gab/internal/xmpptest"
)

// TestEndToEndEncryptedFiles: the built binary with omemo = true, an
// upload service and the python-omemo peer. /upload in the encrypted chat
// sends an aesgcm link the peer decrypts, fetches and decrypts to the
// file's bytes; the peer's encrypted file shows as a file with a lock, the
// key nowhere on the screen, and /open saves it, decrypted, in
// $XDG_DOWNLOAD_DIR.
func TestEndToEndEncryptedFiles(t *testing.T) {
	bin := buildGab(t)
	srv := xmpptest.Start(t, xmpptest.Options{Upload: true})
	srv.Register(t, "me", "pw")
	srv.Register(t, "peer", "pw")
	srv.WriteRoster("me", []xmpptest.RosterEntry{{JID: "peer@localhost", Name: "Peer", Subscription: "both"}})
	srv.WriteRoster("peer", []xmpptest.RosterEntry{{JID: "me@localhost", Subscription: "both"}})
	cfg, data, home := t.TempDir(), t.TempDir(), t.TempDir()
	downloads := filepath.Join(t.TempDir(), "downloads")
	os.MkdirAll(filepath.Join(cfg, "accounts"), 0o700)
	os.WriteFile(filepath.Join(cfg, "accounts", "me.toml"), []byte(fmt.Sprintf(
		"jid = \"me@localhost\"\npassword_command = \"echo pw\"\nserver = %q\nca_file = %q\nomemo = true\n", srv.Addr(), srv.CAFile)), 0o600)
	secret := bytes.Repeat([]byte("top secret plans\n"), 3000)
	os.WriteFile(filepath.Join(home, "plans.txt"), secret, 0o600)
	p := srv.StartPeer(t, "peer", "pw")
	p.EnableOMEMO(t, "0.3")
	exit := filepath.Join(t.TempDir(), "exit")
	tm := startTmuxSize(t, fmt.Sprintf("HOME=%s XDG_DOWNLOAD_DIR=%s %s --config %s --data %s; echo $? > %s; sleep 30", home, downloads, bin, cfg, data, exit), 150, 30)
	tm.waitFor("connected as me@localhost/gab", "Peer")
	tm.text("/msg peer@localhost")
	tm.keys("Enter")
	tm.waitFor("type an encrypted message (OMEMO)")

	tm.text("/upload ~/plans.txt")
	tm.keys("Enter")
	got := p.WaitFor(t, xmpptest.RoundTrip, "the encrypted link", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "omemo_message" && strings.HasPrefix(e.Get("body"), "aesgcm://127.0.0.1:")
	})
	link := got.Get("body")
	res, err := p.Result(t, map[string]any{"cmd": "aesgcm_fetch", "url": link})
	sum := sha256.Sum256(secret)
	if err != nil || res.Get("sha256") != hex.EncodeToString(sum[:]) {
		t.Fatalf("the peer could not fetch and decrypt the file: %v %v", res, err)
	}
	key := link[len(link)-64:]
	screen := tm.waitFor("🔒 me", "📎 plans.txt (51.0 kB)")
	if strings.Contains(screen, key[:16]) || strings.Contains(screen, "aesgcm") {
		t.Fatalf("the link or its key is on the screen:\n%s", screen)
	}

	report := []byte("quarterly report, encrypted\n")
	res, err = p.Result(t, map[string]any{"cmd": "aesgcm_upload", "data": hex.EncodeToString(report), "name": "report.txt", "service": xmpptest.UploadService})
	if err != nil {
		t.Fatal(err)
	}
	theirs := res.Get("link")
	if ev, err := p.Result(t, map[string]any{"cmd": "omemo_send", "to": "me@localhost", "body": theirs, "version": "0.3"}); err != nil || ev.Get("sent") != "1" {
		t.Fatalf("the peer could not send the link: %v %v", ev, err)
	}
	screen = tm.waitFor("🔒 Peer: 📎 report.txt")
	if strings.Contains(screen, theirs[len(theirs)-64:][:16]) || strings.Contains(screen, "aesgcm") {
		t.Fatalf("the peer's link or key is on the screen:\n%s", screen)
	}
	tm.text("/open")
	tm.keys("Enter")
	saved := filepath.Join(downloads, "report.txt")
	tm.waitFor("saved report.txt (28 bytes, decrypted) to " + saved)
	if b, err := os.ReadFile(saved); err != nil || !bytes.Equal(b, report) {
		t.Fatalf("saved %q (%v)", b, err)
	}
	tm.quit(exit)
}
