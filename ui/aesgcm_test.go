package ui

import (
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/config"
	"github.com/gab-chat/gab/history"
	"github.com/gdamore/tcell/v2"
)

const (
	testAESKey  = "101112131415161718191a1b1c1d1e1f202122232425262728292a2b2c2d2e2f"
	testAESLink = "aesgcm://upload.example/f00d/report%202026.pdf#000102030405060708090a0b" + testAESKey
)

// An encrypted file shows as its file line, the key nowhere on screen:
// the message's own line (received and sent), a plain-text message that
// carries such a link (its text, key hidden), a reply quoting it. /open
// downloads it into $XDG_DOWNLOAD_DIR (FetchFile), and the outcome is said
// in the conversation.
func TestEncryptedFileShownWithoutKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "dl")
	t.Setenv("XDG_DOWNLOAD_DIR", dir)
	h := newHarnessWith(t, 160, 20, config.DefaultSettings(), func(a *App) { a.state.Accounts[0].OMEMO = true })
	bob := chat.ChatWith("bob@x")
	h.openBob()
	file := &chat.FileInfo{URL: testAESLink, Name: "report 2026.pdf", Size: -1}
	enc := &chat.OMEMOInfo{Version: chat.OMEMO03, Device: 7, Trust: history.TrustTrusted}
	h.send(chat.MessageReceived{Conv: bob, From: "bob@x/phone", Bare: "bob@x", Body: testAESLink, File: file, Time: time.Now(), StoreID: 1, OMEMO: enc},
		chat.MessageReceived{Conv: bob, From: "bob@x/phone", Bare: "bob@x", Body: "plain " + testAESLink + " text", Time: time.Now(), StoreID: 2},
		chat.MessageReceived{Conv: bob, From: "bob@x/phone", Bare: "bob@x", Body: "nice", Time: time.Now(), StoreID: 3, OMEMO: enc,
			Reply: &chat.ReplyInfo{ID: "x", Quote: testAESLink}})
	ls := h.waitFor("🔒 bob@x: 📎 report 2026.pdf", "plain aesgcm://upload.example/f00d/report%202026.pdf#… text", "↱ quoted as: aesgcm://upload.example/f00d/report%202026.pdf#…")
	noKey := func(ls []string) {
		t.Helper()
		all := strings.Join(ls, "\n")
		for _, secret := range []string{testAESKey[:12], "000102030405"} {
			if strings.Contains(all, secret) {
				t.Fatalf("the key reached the screen:\n%s", all)
			}
		}
	}
	noKey(ls)

	// Ours, as sent after an encrypted upload.
	h.send(chat.MessageSent{Conv: bob, ID: "s1", To: "bob@x", Body: testAESLink, File: &chat.FileInfo{URL: testAESLink, Name: "mine.png", Size: 2048}, Time: time.Now(), State: chat.DeliverySent, StoreID: 4, OMEMO: &chat.OMEMOInfo{Version: chat.OMEMO03, Device: 1}})
	noKey(h.waitFor("🔒 me", "📎 mine.png (2.0 kB)"))

	// /open 2: the second link from the newest — the received file (the
	// newest is ours; an aesgcm link in plain text is no link).
	h.typeText("/open 2")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitCommands(chat.FetchFile{Conv: bob, URL: testAESLink, Dir: dir})
	noKey(h.waitFor("downloading report 2026.pdf (encrypted)…"))
	h.send(chat.FileFetched{CommandID: 1, Conv: bob, Name: "report 2026.pdf", Path: filepath.Join(dir, "report 2026.pdf"), Size: 1500})
	h.waitFor("saved report 2026.pdf (1.5 kB, decrypted) to " + filepath.Join(dir, "report 2026.pdf"))
	h.send(chat.FileFetched{CommandID: 2, Conv: bob, Name: "report 2026.pdf", Err: errors.New("report 2026.pdf: the file does not match its key")})
	noKey(h.waitFor("could not save report 2026.pdf: report 2026.pdf: the file does not match its key"))
}

// In an encrypted chat /upload asks for the file encrypted; refused, the
// command comes back into the composer, the file chosen not lost.
func TestEncryptedUploadRefusedKeepsTheFile(t *testing.T) {
	h := newHarnessWith(t, 100, 20, config.DefaultSettings(), func(a *App) { a.state.Accounts[0].OMEMO = true })
	bob := chat.ChatWith("bob@x")
	h.openBob()
	h.send(chat.OMEMODeviceListChanged{JID: "bob@x", Version: chat.OMEMO03, Devices: []chat.OMEMODevice{{ID: 7}}})
	h.waitFor("type an encrypted message (OMEMO)")
	h.typeText("/upload /tmp/my file.txt")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	want := chat.UploadFile{Conv: bob, Path: "/tmp/my file.txt", Encrypt: true}
	h.waitCommands(want)
	h.waitFor("encrypting and uploading my file.txt…")
	h.send(chat.CommandFailed{ID: 1, Command: want, Err: errors.New("bob@x has no OMEMO device to encrypt to: nothing uploaded")})
	h.waitFor("could not upload my file.txt: bob@x has no OMEMO device")
	h.waitUntil("the command back in the composer", func([]string) bool {
		var text string
		h.onUI(func() { text = h.app.composer.GetText() })
		return text == `/upload /tmp/my\ file.txt`
	})

	// Cancelled by the user: nothing comes back. (The plain upload below
	// comes after it: once its command is seen, the cancel was applied.)
	h.onUI(func() { h.app.composer.Clear() })
	h.send(chat.CommandFailed{ID: 1, Command: want, Err: fmt.Errorf("upload of my file.txt: %w", chat.ErrUploadCancelled)})
	h.send(chat.MessageReceived{Conv: bob, From: "bob@x/phone", Bare: "bob@x", Body: "sentinel", Time: time.Now(), StoreID: 9})
	h.waitFor("sentinel")
	h.onUI(func() {
		if text := h.app.composer.GetText(); text != "" {
			t.Errorf("after a cancel the composer holds %q", text)
		}
	})

	// Not encrypting: a plain upload, as before.
	h.typeText("/omemo off")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("messages in this chat go in plain text")
	h.typeText("/upload /tmp/b.txt")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitCommands(want, chat.UploadFile{Conv: bob, Path: "/tmp/b.txt"})
}

func TestHideKeys(t *testing.T) {
	for in, want := range map[string]string{
		"":                                     "",
		"no link":                              "no link",
		testAESLink:                            "aesgcm://upload.example/f00d/report%202026.pdf#…",
		"a AESGCM://h/f#00ff b aesgcm://h/g c": "a AESGCM://h/f#… b aesgcm://h/g c",
		"<aesgcm://h/f#00>":                    "<aesgcm://h/f#…>",
	} {
		if got := hideKeys(in); got != want {
			t.Errorf("hideKeys(%q) = %q, want %q", in, got, want)
		}
	}
	e := chat.MessageReceived{Body: testAESLink, File: &chat.FileInfo{URL: testAESLink, Name: "r.pdf", Size: -1}}
	if got := noteBody(e); got != "📎 r.pdf" {
		t.Fatalf("a notification says %q", got)
	}
	e = chat.MessageReceived{Body: "see " + testAESLink}
	if got := noteBody(e); strings.Contains(got, testAESKey) {
		t.Fatalf("a notification says %q", got)
	}
}

// Text whose lower case has another length than itself (Ⱥ is 2 bytes, ⱥ
// 3; K, the Kelvin sign, is 3 bytes, k 1; an invalid byte becomes the
// 3-byte U+FFFD) with an aesgcm link: hideKeys looked for the link in
// the lowered text and cut the original at that offset, so that a
// message from anyone crashed the interface (an offset past its end), or
// showed a link's key.
func TestHideKeysCaseLengths(t *testing.T) {
	key := strings.Repeat("ab", 44)
	for _, pre := range []string{strings.Repeat("Ⱥ", 40), strings.Repeat("\u212a", 40), strings.Repeat("\xff", 40), "x"} {
		in := pre + " aesgcm://h/f#" + key + " and AESGCM://h/g#" + key
		want := pre + " aesgcm://h/f#… and AESGCM://h/g#…"
		var got string
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Fatalf("hideKeys(%q) panicked: %v", in, r)
				}
			}()
			got = hideKeys(in)
		}()
		if got != want {
			t.Errorf("hideKeys(%q) = %q, want %q", in, got, want)
		}
	}
	in := strings.Repeat("Ⱥ", 40) + " aesgcm://h/f"
	defer func() {
		if r := recover(); r != nil {
			t.Fatalf("hideKeys(%q) panicked: %v", in, r)
		}
	}()
	if got := hideKeys(in); got != in {
		t.Errorf("hideKeys(%q) = %q", in, got)
	}
}
