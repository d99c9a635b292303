package main

import (
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/gab-chat/gab/internal/xmpptest"
)

// TestEndToEndUpload: in the built binary, /upload with Tab completing a
// path with a space from ~, the progress bar in the status line, Ctrl+X
// cancelling a big upload, then a small one reaching the peer as a link
// with its out-of-band element.
func TestEndToEndUpload(t *testing.T) {
	bin := buildGab(t)
	srv := xmpptest.Start(t, xmpptest.Options{Upload: true, UploadLimit: 200 << 20})
	srv.Register(t, "me", "pw")
	srv.Register(t, "peer", "pw")
	srv.WriteRoster("me", []xmpptest.RosterEntry{{JID: "peer@localhost", Name: "Peer", Subscription: "both"}})
	srv.WriteRoster("peer", []xmpptest.RosterEntry{{JID: "me@localhost", Subscription: "both"}})
	cfg, data, home := t.TempDir(), t.TempDir(), t.TempDir()
	os.MkdirAll(filepath.Join(cfg, "accounts"), 0o700)
	os.WriteFile(filepath.Join(cfg, "accounts", "me.toml"), []byte(fmt.Sprintf(
		"jid = \"me@localhost\"\npassword_command = \"echo pw\"\nserver = %q\nca_file = %q\n", srv.Addr(), srv.CAFile)), 0o600)
	big := make([]byte, 150<<20)
	rand.Read(big)
	os.WriteFile(filepath.Join(home, "big video.mp4"), big, 0o600)
	os.WriteFile(filepath.Join(home, "my photo.png"), []byte("not really a png"), 0o600)
	p := srv.StartPeer(t, "peer", "pw")
	exit := filepath.Join(t.TempDir(), "exit")
	tm := startTmuxSize(t, fmt.Sprintf("HOME=%s %s --config %s --data %s; echo $? > %s; sleep 30", home, bin, cfg, data, exit), 150, 30)
	tm.waitFor("connected as me@localhost/gab", "● Peer")
	tm.text("/msg peer@localhost")
	tm.keys("Enter")
	tm.waitFor("2:Peer")

	tm.text("/upload ~/bi")
	tm.keys("Tab")
	tm.waitFor(`> /upload ~/big\ video.mp4`)
	tm.keys("Enter")
	tm.waitFor("uploading big video.mp4 ▕", " of 157.3 MB", "Ctrl+X: cancel")
	tm.keys("C-x")
	tm.waitFor("upload of big video.mp4 cancelled")
	tm.waitGone("uploading big video.mp4")

	tm.text("/upload ~/my")
	tm.keys("Tab")
	tm.waitFor(`> /upload ~/my\ photo.png`)
	tm.keys("Enter")
	got := p.WaitFor(t, xmpptest.RoundTrip, "the link", func(e xmpptest.PeerEvent) bool {
		return e.Get("event") == "message" && strings.HasPrefix(e.Get("body"), "https://127.0.0.1:")
	})
	if got.Get("oob") != got.Get("body") || !strings.HasSuffix(got.Get("body"), "/my%20photo.png") {
		t.Fatalf("peer got %v", got)
	}
	tm.waitFor("me", got.Get("body")[:40])
	tm.quit(exit)
}
