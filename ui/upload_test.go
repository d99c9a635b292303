package ui

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/internal/xmpptest"
	"github.com/gdamore/tcell/v2"
)

func TestPathEscaping(t *testing.T) {
	for _, p := range []string{"plain.txt", "my photo.jpg", `back\slash`, `it's "quoted"`, "tab\there", "日本 語.png"} {
		if got := unescapePath(escapePath(p)); got != p {
			t.Errorf("%q escaped as %q reads back as %q", p, escapePath(p), got)
		}
	}
	for in, want := range map[string]string{
		`my\ file.txt`:      "my file.txt",
		`"my file.txt"`:     "my file.txt",
		`'a \ b'`:           `a \ b`,
		`dir/"x y"/z`:       "dir/x y/z",
		"typed as it is.md": "typed as it is.md",
	} {
		if got := unescapePath(in); got != want {
			t.Errorf("unescapePath(%q) = %q, want %q", in, got, want)
		}
	}
}

// pathDir makes a directory to complete paths in.
func pathDir(t *testing.T) string {
	dir := t.TempDir()
	for _, d := range []string{"my photos", "music", ".hidden"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o700); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"my file.txt", "notes.md", "my photos/cat.jpg", ".profile"} {
		if err := os.WriteFile(filepath.Join(dir, f), []byte("x"), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestPathCompletion(t *testing.T) {
	dir := pathDir(t)
	t.Setenv("HOME", dir)
	for _, c := range []struct {
		line string
		want []string
	}{
		{"/upload ~/n", []string{"~/notes.md"}},
		{"/upload ~/m", []string{"~/m"}},                                // nothing shared beyond what was typed: all of them
		{"/upload ~/my", []string{`~/my\ `}},                            // what they share first
		{`/upload ~/my\ `, []string{`~/my\ file.txt`, `~/my\ photos/`}}, // then each, a directory with its slash
		{"/upload ~/my p", []string{`~/my\ photos/`}},                   // spaces typed as they are
		{`/upload ~/my\ photos/`, []string{`~/my\ photos/cat.jpg`}},
		{"/upload ~/.", []string{"~/."}},
		{"/upload ~/.h", []string{"~/.hidden/"}},
		{"/upload ~/zzz", nil},
		{"/upload ~", []string{"~/"}},
	} {
		from, opts, ok := pathCompletion(c.line)
		if !ok || from != len("/upload ") {
			t.Errorf("%q: from %d ok %v", c.line, from, ok)
		}
		if c.line == "/upload ~/m" {
			if len(opts) != 3 || !strings.HasPrefix(opts[0], "~/m") {
				t.Errorf("%q: %q", c.line, opts)
			}
			continue
		}
		if c.line == "/upload ~/." {
			if !reflect.DeepEqual(opts, []string{"~/.hidden/", "~/.profile"}) {
				t.Errorf("%q: %q", c.line, opts)
			}
			continue
		}
		if !reflect.DeepEqual(opts, c.want) {
			t.Errorf("%q completes to %q, want %q", c.line, opts, c.want)
		}
	}
	if _, _, ok := pathCompletion("/msg bob"); ok {
		t.Error("a line that is no /upload was taken for a path")
	}
}

func TestUploadText(t *testing.T) {
	u := &Upload{Name: "holiday.jpg", Sent: 2_100_000, Total: 5_000_000, Rate: 3_400_000}
	want := "uploading holiday.jpg ▕████░░░░░░▏ 2.1 of 5.0 MB · 3.4 MB/s · Ctrl+X: cancel"
	if got := uploadText("", u, 0, "Ctrl+X", 0); got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	got := uploadText("work", &Upload{Name: "a[red]b\x1b.txt", Sent: 10, Total: 900}, 2, "F9", 0)
	for _, want := range []string{"uploading a[red]b", ".txt (work) ▕░░░░░░░░░░▏ 10 of 900 B · 2 more · F9: cancel"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
	if strings.ContainsRune(got, 0x1b) {
		t.Errorf("a control character reached the status line: %q", got)
	}
}

// /upload in a chat's tab asks the account to upload the file named (~
// expanded, escaped spaces read); the status line shows the progress with
// the cancel key, which asks to cancel that upload; the outcome is a line in
// the conversation and the status line is clear of it again.
func TestUploadCommandProgressAndCancel(t *testing.T) {
	dir := pathDir(t)
	t.Setenv("HOME", dir)
	h := newHarness(t, 120, 24)
	h.openBob()
	h.typeText(`/upload ~/my\ file.txt`)
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	var up chat.UploadFile
	var id uint64
	waitCommandsOf(t, h.client, "an upload asked for", func(cmds []chat.Command) bool {
		for i, c := range cmds {
			if u, ok := c.(chat.UploadFile); ok {
				up, id = u, uint64(i+1)
			}
		}
		return id != 0
	})
	bob := chat.ChatWith("bob@x")
	if up.Conv != bob || up.Path != filepath.Join(dir, "my file.txt") {
		t.Fatalf("upload %+v", up)
	}
	h.send(chat.UploadProgress{CommandID: id, Conv: bob, Name: "my file.txt", Sent: 2_500_000, Total: 5_000_000, Rate: 1_000_000})
	h.waitFor("uploading my file.txt ▕█████░░░░░▏ 2.5 of 5.0 MB · 1.0 MB/s · Ctrl+X: cancel")
	h.key(tcell.KeyCtrlX, 0, tcell.ModCtrl)
	cmds := waitCommandsOf(t, h.client, "Ctrl+X to ask for a cancel", func(cmds []chat.Command) bool {
		_, ok := cmds[len(cmds)-1].(chat.CancelUpload)
		return ok
	})
	if c := cmds[len(cmds)-1].(chat.CancelUpload); c.Upload != id {
		t.Fatalf("cancelled upload %d, want %d", c.Upload, id)
	}
	h.send(chat.UploadProgress{CommandID: id, Conv: bob, Name: "my file.txt", Sent: 2_600_000, Total: 5_000_000, Done: true, Cancelled: true, Err: errors.New("upload of my file.txt cancelled")})
	h.send(chat.CommandFailed{ID: id, Command: up, Err: fmt.Errorf("wrapped: %w", chat.ErrUploadCancelled)})
	h.waitFor("upload of my file.txt cancelled", "│ wrapped: upload cancelled")
	h.onUI(func() {
		if h.app.state.StatusErr {
			t.Error("a cancelled upload is shown as a failure")
		}
		for _, l := range h.app.state.Convs[0].Lines {
			if strings.Contains(l.Body, "could not upload") {
				t.Errorf("the console says %q", l.Body)
			}
		}
	})
	h.waitUntil("the progress gone from the status line", func(ls []string) bool {
		return !strings.Contains(strings.Join(ls, "\n"), "uploading")
	})
	// With no upload under way, Ctrl+X asks for nothing.
	n := len(h.client.commands())
	h.key(tcell.KeyCtrlX, 0, tcell.ModCtrl)
	h.typeText("x")
	h.waitUntil("the x typed after Ctrl+X", func(ls []string) bool {
		var text string
		h.onUI(func() { text = h.app.composer.GetText() })
		return text == "x"
	})
	for _, c := range h.client.commands()[n:] {
		if _, ok := c.(chat.CancelUpload); ok {
			t.Fatalf("Ctrl+X without an upload sent %v", c)
		}
	}
}

// Tab completes the path of /upload in the composer: what the names share,
// then each in turn; a directory completed alone is gone into by the next
// Tab.
func TestUploadTabCompletion(t *testing.T) {
	dir := pathDir(t)
	t.Setenv("HOME", dir)
	h := newHarness(t, 100, 24)
	h.openBob()
	text := func() string {
		var s string
		h.onUI(func() { s = h.app.composer.GetText() })
		return s
	}
	waitText := func(want string) {
		t.Helper()
		deadline := time.Now().Add(xmpptest.Timeout(xmpptest.Local))
		for text() != want {
			if time.Now().After(deadline) {
				t.Fatalf("composer holds %q, want %q", text(), want)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	h.typeText("/upload ~/my")
	tab := func() { h.key(tcell.KeyTab, 0, tcell.ModNone) }
	tab()
	waitText(`/upload ~/my\ `)
	tab()
	waitText(`/upload ~/my\ file.txt`)
	tab()
	waitText(`/upload ~/my\ photos/`)
	h.waitFor(`/upload ~/my\ photos/`)
	h.typeText("c")
	tab()
	waitText(`/upload ~/my\ photos/cat.jpg`)
}

// Two accounts: the status line names the account of the upload shown and
// counts the others; the cancel key asks that account to cancel it.
func TestUploadProgressSeveralAccounts(t *testing.T) {
	h, work, home, we, he := twoAccounts(t, 160, 20)
	he <- chat.UploadProgress{CommandID: 3, Conv: chat.ChatWith("ann@x"), Name: "cat.png", Sent: 10, Total: 1000}
	we <- chat.UploadProgress{CommandID: 7, Conv: chat.ChatWith("bob@x"), Name: "report.pdf", Sent: 100, Total: 1000}
	h.waitFor("uploading report.pdf (work) ▕█░░░░░░░░░▏ 0.1 of 1.0 KB · 1 more · Ctrl+X: cancel")
	h.key(tcell.KeyCtrlX, 0, tcell.ModCtrl)
	c := waitCommandsOf(t, work, "Ctrl+X to cancel something", func(c []chat.Command) bool { return len(c) > 0 })
	if !reflect.DeepEqual(c, []chat.Command{chat.CancelUpload{Upload: 7}}) || len(home.commands()) != 0 {
		t.Fatalf("work got %v, home %v", c, home.commands())
	}
}

// /upload needs a conversation and a path; mistakes get a clear line and
// ask for nothing.
func TestUploadCommandMistakes(t *testing.T) {
	h := newHarness(t, 120, 24)
	h.typeText("/upload ~/x")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("/upload works in a conversation's tab: open one first")
	h.openBob()
	h.typeText("/upload   ")
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("usage: /upload PATH")
	for _, c := range h.client.commands() {
		if _, ok := c.(chat.UploadFile); ok {
			t.Fatalf("asked for %+v", c)
		}
	}
}

// At 80 columns, the width of most terminals, the status line still names
// the cancel key of an upload under way: what does not fit (the rate, the
// words, the count of other uploads, the end of a long name) gives way.
func TestUploadStatusFitsEightyColumns(t *testing.T) {
	h := newHarness(t, 80, 24)
	h.openBob()
	bob := chat.ChatWith("bob@x")
	h.send(chat.UploadProgress{CommandID: 7, Conv: bob, Name: "big15.bin", Sent: 12_500_000, Total: 15_000_000, Rate: 6_100_000},
		chat.UploadProgress{CommandID: 8, Conv: bob, Name: "other.bin", Sent: 1, Total: 15_000_000, Rate: 6_100_000})
	h.waitFor("│ big15.bin ▕████░▏ 12.5/15.0 MB · Ctrl+X: cancel")
	h.send(chat.UploadProgress{CommandID: 7, Conv: bob, Name: "big15.bin", Done: true},
		chat.UploadProgress{CommandID: 8, Conv: bob, Name: "other.bin", Done: true},
		chat.UploadProgress{CommandID: 9, Conv: bob, Name: "a rather long holiday video name.mp4", Sent: 1, Total: 15_000_000, Rate: 6_100_000})
	h.waitFor("│ a rather long hol", "▕░░░░░▏ 0.0/15.0 MB · Ctrl+X: cancel")
}

// Once an upload has finished, the status line no longer says it is under
// way: "uploading NAME…", set by /upload, gives way to "uploaded NAME".
func TestUploadStatusAfterSuccess(t *testing.T) {
	dir := pathDir(t)
	t.Setenv("HOME", dir)
	h := newHarness(t, 100, 24)
	h.openBob()
	h.typeText(`/upload ~/my\ file.txt`)
	h.key(tcell.KeyEnter, 0, tcell.ModNone)
	h.waitFor("│ uploading my file.txt…")
	var id uint64
	for i, c := range h.client.commands() {
		if _, ok := c.(chat.UploadFile); ok {
			id = uint64(i + 1)
		}
	}
	if id == 0 {
		t.Fatalf("no upload asked for: %v", h.client.commands())
	}
	bob := chat.ChatWith("bob@x")
	h.send(chat.UploadProgress{CommandID: id, Conv: bob, Name: "my file.txt", Sent: 10, Total: 10, Done: true, URL: "https://up.example/my%20file.txt"})
	h.waitFor("│ uploaded my file.txt")
	if strings.Contains(h.screenText(), "uploading") {
		t.Fatalf("still uploading:\n%s", h.screenText())
	}
}
