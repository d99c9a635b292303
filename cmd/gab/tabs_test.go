package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/gab-chat/gab/chat"
	"github.com/gab-chat/gab/ui"
)

// The tabs saved are the tabs loaded, in the user's file alone, with no
// temporary file left behind; tabs of accounts no longer configured are
// dropped, and the active one follows.
func TestTabFileRoundTrip(t *testing.T) {
	old := syscall.Umask(0o022)
	defer syscall.Umask(old)
	dir := t.TempDir()
	path := filepath.Join(dir, "data", "tabs.json")
	f := tabFile{path: path}
	if tabs, active, err := f.Load(); err != nil || tabs != nil || active != -1 {
		t.Fatalf("no file: %v %d %v", tabs, active, err)
	}
	saved := []ui.TabRef{
		{Account: "home", Conv: chat.ChatWith("bob@example.org")},
		{Account: "gone", Conv: chat.ChatWith("zed@example.org")},
		{Account: "home", Conv: chat.RoomConv("tea@rooms.example.org")},
		{Account: "work", Conv: chat.PrivateConv("tea@rooms.example.org", "a/b c")},
	}
	if err := f.Save(saved, 2); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("mode %04o, want 0600", st.Mode().Perm())
	}
	if ents, _ := os.ReadDir(filepath.Dir(path)); len(ents) != 1 {
		t.Errorf("files left: %v", ents)
	}
	tabs, active, err := f.Load()
	if err != nil || active != 2 || fmt.Sprint(tabs) != fmt.Sprint(saved) {
		t.Fatalf("loaded %v active %d (%v), want %v active 2", tabs, active, err, saved)
	}
	f.configured = func(name string) bool { return name != "gone" }
	tabs, active, err = f.Load()
	if want := []ui.TabRef{saved[0], saved[2], saved[3]}; err != nil || active != 1 || fmt.Sprint(tabs) != fmt.Sprint(want) {
		t.Fatalf("without the account gone: %v active %d (%v), want %v active 1", tabs, active, err, want)
	}
	if err := f.Save(saved, 1); err != nil {
		t.Fatal(err)
	}
	if tabs, active, _ := f.Load(); active != -1 || len(tabs) != 3 {
		t.Fatalf("the active tab's account is gone: %v active %d, want the console active", tabs, active)
	}
}

// The tabs of an account no longer configured leave the file when it is
// read, not only at the next change: an account added again later under
// that name does not find them back.
func TestTabFileForgetsAccountsGone(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tabs.json")
	f := tabFile{path: path}
	saved := []ui.TabRef{
		{Account: "home", Conv: chat.ChatWith("bob@example.org")},
		{Account: "gone", Conv: chat.ChatWith("zed@example.org")},
		{Account: "home", Conv: chat.ChatWith("carol@example.org")},
	}
	if err := f.Save(saved, 2); err != nil {
		t.Fatal(err)
	}
	f.configured = func(name string) bool { return name != "gone" }
	if tabs, active, err := f.Load(); err != nil || active != 1 || len(tabs) != 2 {
		t.Fatalf("loaded %v active %d (%v)", tabs, active, err)
	}
	f.configured = nil // the account is back
	tabs, active, err := f.Load()
	if want := []ui.TabRef{saved[0], saved[2]}; err != nil || active != 1 || fmt.Sprint(tabs) != fmt.Sprint(want) {
		t.Fatalf("after the account came back: %v active %d (%v), want %v active 1", tabs, active, err, want)
	}
}

// A file that is not what gab writes gives an error naming the file and
// the problem, and is moved aside whole, so saving the tabs later loses
// nothing of it.
func TestTabFileCorrupt(t *testing.T) {
	good := `{"version": 1, "active": 0, "tabs": [{"account": "home", "kind": "chat", "jid": "bob@example.org"}]}`
	for _, tc := range []struct{ name, content, want string }{
		{"garbage", "x\x00\xff", "line 1: not JSON as gab writes it: invalid character 'x'"},
		{"empty", "", "the file is empty"},
		{"cut short", "{\n\"version\": 1,\n\"tabs\": [", "line 3: the file ends in the middle"},
		{"newer", strings.Replace(good, `"version": 1`, `"version": 7`, 1), "version 7, but this gab reads version 1"},
		{"kind", strings.Replace(good, `"chat"`, `"channel"`, 1), `tab 1: kind "channel" is none of chat, room, room-private`},
		{"address", strings.Replace(good, "bob@example.org", "bob@exa mple.org/x", 1), `tab 1: "bob@exa mple.org/x" is not a bare address`},
		{"nick", strings.Replace(strings.Replace(good, `"chat"`, `"room-private"`, 1), "bob@example.org", "tea@rooms.example.org", 1), `is not a room's address and a nick`},
		{"active", strings.Replace(good, `"active": 0`, `"active": 3`, 1), "active tab 3, but there are 1 tabs"},
		{"unknown", strings.Replace(good, `"version"`, `"colour": 1, "version"`, 1), `unknown field "colour"`},
		{"type", strings.Replace(good, `"active": 0`, `"active": "two"`, 1), "line 1: active must be a whole number"},
		{"trailing", good + "\n{}", "line 2: more after the end"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tabs.json")
			if err := os.WriteFile(path, []byte(tc.content), 0o600); err != nil {
				t.Fatal(err)
			}
			tabs, active, err := tabFile{path: path}.Load()
			if err == nil || tabs != nil || active != -1 {
				t.Fatalf("loaded %v active %d, err %v", tabs, active, err)
			}
			if msg := err.Error(); !strings.HasPrefix(msg, path+": ") || !strings.Contains(msg, tc.want) || !strings.Contains(msg, "kept as "+path+".bad") {
				t.Fatalf("error %q, want the file, %q and where it is kept", msg, tc.want)
			}
			if b, err := os.ReadFile(path + ".bad"); err != nil || string(b) != tc.content {
				t.Fatalf("kept aside: %q, %v", b, err)
			}
			if _, err := os.Stat(path); !os.IsNotExist(err) {
				t.Fatalf("the bad file is still where the tabs are saved: %v", err)
			}
		})
	}
	// The good one reads.
	path := filepath.Join(t.TempDir(), "tabs.json")
	os.WriteFile(path, []byte(good), 0o600)
	if tabs, active, err := (tabFile{path: path}).Load(); err != nil || active != 0 || len(tabs) != 1 {
		t.Fatalf("good file: %v %d %v", tabs, active, err)
	}
}

// A file that cannot be read at all is named in the error and left where
// it is.
func TestTabFileUnreadable(t *testing.T) {
	path := filepath.Join(t.TempDir(), "tabs.json")
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	_, _, err := tabFile{path: path}.Load()
	if err == nil || !strings.Contains(err.Error(), path) {
		t.Fatalf("error %v, want one naming %s", err, path)
	}
	if st, err := os.Stat(path); err != nil || !st.IsDir() {
		t.Fatalf("moved: %v", err)
	}
}

// What stands at the tabs file's path but is no file gab wrote — a pipe,
// a link to an endless device, a file far too big — neither holds up the
// start nor fills the memory: it is moved aside like a damaged file, what
// it pointed to is untouched, and the next save writes a plain file.
func TestTabFileNotAPlainFile(t *testing.T) {
	for _, tc := range []struct {
		name, says string
		make       func(path string) error
	}{
		{"pipe", "not a plain file but a pipe", func(path string) error { return syscall.Mkfifo(path, 0o600) }},
		{"link to /dev/zero", "not a plain file but a device", func(path string) error { return os.Symlink("/dev/zero", path) }},
		{"too big", "larger than 1024 KiB", func(path string) error {
			return os.WriteFile(path, []byte(`{"version": 1, "active": -1, "tabs": []}`+strings.Repeat(" ", maxTabFile)), 0o600)
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "tabs.json")
			if err := tc.make(path); err != nil {
				t.Fatal(err)
			}
			done := make(chan error, 1)
			var tabs []ui.TabRef
			go func() {
				var err error
				tabs, _, err = tabFile{path: path}.Load()
				done <- err
			}()
			var err error
			select {
			case err = <-done:
			case <-time.After(30 * time.Second):
				t.Fatal("Load still waiting after 30 s")
			}
			if err == nil || tabs != nil || !strings.Contains(err.Error(), path+".bad") || !strings.Contains(err.Error(), tc.says) {
				t.Fatalf("Load: %v %v, want an error saying %q and naming %s.bad", tabs, err, tc.says, path)
			}
			if _, err := os.Lstat(path + ".bad"); err != nil {
				t.Fatalf("not moved aside: %v", err)
			}
			if err := (tabFile{path: path}).Save([]ui.TabRef{{Account: "home", Conv: chat.ChatWith("bob@example.org")}}, 0); err != nil {
				t.Fatal(err)
			}
			if st, err := os.Lstat(path); err != nil || !st.Mode().IsRegular() {
				t.Fatalf("after saving: %v %v, want a plain file", st, err)
			}
			if tabs, active, err := (tabFile{path: path}).Load(); err != nil || len(tabs) != 1 || active != 0 {
				t.Fatalf("after saving: %v %d %v", tabs, active, err)
			}
		})
	}
}

// FuzzParseTabFile: no input makes the parser panic, and whatever it
// accepts is what Load and Save carry through unchanged.
func FuzzParseTabFile(f *testing.F) {
	for _, s := range []string{
		`{"version": 1, "active": -1, "tabs": []}`,
		`{"version": 1, "active": 0, "tabs": [{"account": "home", "kind": "chat", "jid": "bob@example.org"}]}`,
		`{"version": 1, "active": 1, "tabs": [{"account": "a", "kind": "room", "jid": "tea@rooms.example.org"}, {"account": "a", "kind": "room-private", "jid": "tea@rooms.example.org/a/b c"}]}`,
		`{"version": 1, "active": 0, "tabs": [{"account": "[red]x", "kind": "chat", "jid": "[::]@x"}]}`,
		`{"version": 2}`,
		`[[[[[[[[[[[[[[[[[[[[`,
		`{"version": 1, "active": -1, "tabs": []} {}`,
		"{\"version\": 1, \"active\": 0, \"tabs\": [{\"account\": \"a\", \"kind\": \"chat\", \"jid\": \"b\u202e@x\"}]}",
		``,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		d, err := parseTabFile(data)
		if err != nil {
			if strings.Contains(err.Error(), "main.") || strings.Contains(err.Error(), "tabFile") {
				t.Fatalf("error names a Go type: %v", err)
			}
			return
		}
		path := filepath.Join(t.TempDir(), "tabs.json")
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		tabs, active, err := tabFile{path: path}.Load()
		if err != nil || len(tabs) != len(d.Tabs) || active != d.Active {
			t.Fatalf("accepted, then Load: %v %d %v", tabs, active, err)
		}
		if err := (tabFile{path: path}).Save(tabs, active); err != nil {
			t.Fatal(err)
		}
		again, active2, err := tabFile{path: path}.Load()
		if err != nil || active2 != active || fmt.Sprint(again) != fmt.Sprint(tabs) {
			t.Fatalf("saved and read back: %v %d %v, want %v %d", again, active2, err, tabs, active)
		}
	})
}

// A link at the tabs file's path is replaced by the saved file, never
// written through: what it points to is left as it was.
func TestTabFileSaveDoesNotWriteThroughALink(t *testing.T) {
	dir := t.TempDir()
	other := filepath.Join(dir, "precious")
	if err := os.WriteFile(other, []byte("precious\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "tabs.json")
	if err := os.Symlink(other, path); err != nil {
		t.Fatal(err)
	}
	if err := (tabFile{path: path}).Save([]ui.TabRef{{Account: "home", Conv: chat.ChatWith("bob@example.org")}}, 0); err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(other); err != nil || string(b) != "precious\n" {
		t.Fatalf("the file the link pointed to now holds %q (%v)", b, err)
	}
	if st, err := os.Lstat(path); err != nil || !st.Mode().IsRegular() {
		t.Fatalf("tabs file after saving: %v %v, want a plain file", st, err)
	}
}
