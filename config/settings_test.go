package config

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestLoadSettings(t *testing.T) {
	dir := t.TempDir()
	s, probs := LoadSettings(dir)
	if len(probs) != 0 || s.File != filepath.Join(dir, "gab.toml") || s.RosterSort != SortPresence || !s.ShowOffline || s.TimeFormat != "15:04" || s.RosterWidth != 30 ||
		!s.Notify.Bell || !s.Notify.Title || s.Notify.Desktop != DesktopOff || s.Away.After != 10*time.Minute {
		t.Fatalf("defaults: %+v %v", s, probs)
	}
	os.WriteFile(filepath.Join(dir, "gab.toml"), []byte("[ui]\nroster_sort = \"name\"\nshow_offline = false\n\n[ui]\n"), 0o644)
	_, probs = LoadSettings(dir)
	if len(probs) != 1 || probs[0].Line != 5 {
		t.Fatalf("duplicate table: %v", probs)
	}
	os.WriteFile(filepath.Join(dir, "gab.toml"), []byte("[ui]\nroster_width = 24\n"), 0o644)
	if s, probs := LoadSettings(dir); len(probs) != 0 || s.RosterWidth != 24 {
		t.Fatalf("roster_width: %d %v", s.RosterWidth, probs)
	}
	for _, bad := range []string{"0", "11", "81", `"wide"`} {
		os.WriteFile(filepath.Join(dir, "gab.toml"), []byte("[ui]\nroster_sort = \"name\"\nroster_width = "+bad+"\n"), 0o644)
		s, probs := LoadSettings(dir)
		if len(probs) != 1 || probs[0].Line != 3 || !strings.Contains(probs[0].Msg, "roster_width") || s.RosterWidth != 30 {
			t.Fatalf("roster_width = %s: %d %v", bad, s.RosterWidth, probs)
		}
	}
	os.WriteFile(filepath.Join(dir, "gab.toml"), []byte("[ui]\nroster_sort = \"name\"\nshow_ofline = false\n"), 0o644)
	s, probs = LoadSettings(dir)
	if len(probs) != 1 || probs[0].Line != 3 || !strings.Contains(probs[0].Msg, `"ui.show_offline"`) {
		t.Fatalf("typo: %v", probs)
	}
	if s.RosterSort != SortName {
		t.Errorf("roster_sort not applied: %+v", s)
	}
}

func TestResolveDirs(t *testing.T) {
	env := map[string]string{"HOME": "/home/u"}
	get := func(k string) string { return env[k] }
	d, err := ResolveDirs("", "", get)
	if err != nil || d.Config != "/home/u/.config/gab" || d.Data != "/home/u/.local/share/gab" {
		t.Fatalf("defaults: %+v %v", d, err)
	}
	env["XDG_CONFIG_HOME"], env["XDG_DATA_HOME"] = "/xc", "/xd"
	d, _ = ResolveDirs("", "", get)
	if d.Config != "/xc/gab" || d.Data != "/xd/gab" {
		t.Fatalf("xdg: %+v", d)
	}
	d, _ = ResolveDirs("/flag/c", "/flag/d", get)
	if d.Config != "/flag/c" || d.Data != "/flag/d" || d.HistoryFile("w") != "/flag/d/w.db" {
		t.Fatalf("flags: %+v", d)
	}
	env["XDG_CONFIG_HOME"] = "relative" // XDG says relative paths are ignored
	d, _ = ResolveDirs("", "", get)
	if d.Config != "/home/u/.config/gab" {
		t.Fatalf("relative xdg: %+v", d)
	}
}

func TestWriteAccount(t *testing.T) {
	dir := t.TempDir()
	path, err := WriteAccount(dir, NewAccount{JID: "bob@example.net", Password: `p"w\x`, Server: "127.0.0.1:5222"})
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(path)
	if st.Mode().Perm() != 0o600 || filepath.Base(path) != "bob@example.net.toml" {
		t.Fatalf("%s mode %v", path, st.Mode())
	}
	a, probs := LoadAccount(path)
	if len(probs) != 0 || a.Password != `p"w\x` || a.Server != "127.0.0.1:5222" {
		t.Fatalf("round trip: %+v %v", a, probs)
	}
	if _, err := WriteAccount(dir, NewAccount{JID: "bob@example.net", Password: "x"}); err == nil {
		t.Fatal("overwrote an existing account")
	}
	if _, err := WriteAccount(dir, NewAccount{JID: "not a jid", Password: "x"}); err == nil {
		t.Fatal("accepted an invalid JID")
	}
}

func TestNotifyAwayThemeKeys(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "gab.toml"), []byte(`[notify]
bell = false
desktop = "osc9"
mute = ["noisy@example.org", "bots@example.org"]
show_body = true
command = "notify-send gab \"$GAB_TITLE\""

[away]
after = 5
xa_after = 0

[theme]
online = "#00ff00"
offline = "color244"
border = "default"

[keys]
quick_jump = ["Ctrl+G", "f3"]
close_tab = "alt+w"
`), 0o644)
	s, probs := LoadSettings(dir)
	if len(probs) != 0 {
		t.Fatal(probs)
	}
	if s.Notify.Bell || s.Notify.Desktop != DesktopOSC9 || len(s.Notify.Mute) != 2 || !s.Notify.ShowBody || s.Notify.Command == "" {
		t.Errorf("notify: %+v", s.Notify)
	}
	if s.Away.After != 5*time.Minute || s.Away.XAAfter != 0 {
		t.Errorf("away: %+v", s.Away)
	}
	if s.Theme["online"] != "#00ff00" || s.Theme["offline"] != "color244" {
		t.Errorf("theme: %v", s.Theme)
	}
	b := s.Bindings()
	if b["Ctrl+G"] != "quick_jump" || b["F3"] != "quick_jump" || b["Alt+w"] != "close_tab" || b["Ctrl+Q"] != "quit" || b["F5"] != "toggle_roster" {
		t.Errorf("bindings: %v", b)
	}
	if _, taken := b["Ctrl+K"]; taken {
		t.Error("Ctrl+K still bound after quick_jump was rebound")
	}

	// Mistakes, each at its line.
	os.WriteFile(filepath.Join(dir, "gab.toml"), []byte(`[notify]
desktop = "libnotify"
mute = ["not a jid@@"]

[away]
after = -1

[theme]
online = "greenish"
unknown_part = "red"

[keys]
quick_jump = "Ctrl+Q"
help = "x"
next_tab = "Hyper+N"
`), 0o644)
	_, probs = LoadSettings(dir)
	want := []string{`2:notify.desktop`, `3:notify.mute`, `6:away.after`, `9:theme.online`, `10:unknown key "theme.unknown_part"`,
		`13:Ctrl+Q is bound to both quit and quick_jump`, `14:keys.help: "x": a character key needs Ctrl or Alt`, `15:keys.next_tab: "Hyper+N": unknown modifier`}
	if len(probs) != len(want) {
		t.Fatalf("got %d problems, want %d:\n%v", len(probs), len(want), probs)
	}
	for i, w := range want {
		line, msg, _ := strings.Cut(w, ":")
		if fmt.Sprint(probs[i].Line) != line || !strings.Contains(probs[i].Msg, msg) {
			t.Errorf("problem %d: %d %s, want %s", i, probs[i].Line, probs[i].Msg, w)
		}
	}
}

// ui.language ends up in every stream header (xml:lang): a value that is not
// a language tag is reported at its line, not sent to the server.
func TestLanguageMustBeATag(t *testing.T) {
	dir := t.TempDir()
	for value, ok := range map[string]bool{"de": true, "pt-BR": true, "C": false, "C.UTF-8": false, "en_US": false, "": true} {
		os.WriteFile(filepath.Join(dir, "gab.toml"), []byte(fmt.Sprintf("[ui]\nlanguage = %q\n", value)), 0o644)
		s, probs := LoadSettings(dir)
		if ok && (len(probs) != 0 || s.Language != value) {
			t.Errorf("language %q: %v, got %q", value, probs, s.Language)
		}
		if !ok && (len(probs) != 1 || probs[0].Line != 2 || !strings.Contains(probs[0].Msg, "language tag")) {
			t.Errorf("language %q accepted: %v", value, probs)
		}
	}
}

func TestNotifyCommandFileWritableByOthersRefused(t *testing.T) {
	dir := t.TempDir()
	f := filepath.Join(dir, "gab.toml")
	os.WriteFile(f, []byte("[notify]\ncommand = 'notify-send \"$GAB_TITLE\"'\n"), 0o600)
	os.Chmod(f, 0o666)
	_, probs := LoadSettings(dir)
	if len(probs) != 1 || probs[0].Line != 2 || !strings.Contains(probs[0].Msg, "[notify] command") || !strings.Contains(probs[0].Msg, "chmod go-w "+f) {
		t.Fatalf("want a chmod go-w problem at line 2, got %v", probs)
	}
	os.Chmod(f, 0o644)
	if _, probs := LoadSettings(dir); len(probs) != 0 {
		t.Fatalf("0644 refused: %v", probs)
	}
	// Without a command the file runs nothing: its mode is the user's business.
	os.WriteFile(f, []byte("[notify]\nbell = false\n"), 0o666)
	os.Chmod(f, 0o666)
	if _, probs := LoadSettings(dir); len(probs) != 0 {
		t.Fatalf("a file without a command refused: %v", probs)
	}
}

func TestRequestsFromStrangers(t *testing.T) {
	dir := t.TempDir()
	if s, _ := LoadSettings(dir); s.StrangerRequests != StrangersAsk {
		t.Fatalf("default %q", s.StrangerRequests)
	}
	os.WriteFile(filepath.Join(dir, "gab.toml"), []byte("[ui]\nrequests_from_strangers = \"ignore\"\n"), 0o644)
	if s, probs := LoadSettings(dir); len(probs) != 0 || s.StrangerRequests != StrangersIgnore {
		t.Fatalf("ignore: %q %v", s.StrangerRequests, probs)
	}
	os.WriteFile(filepath.Join(dir, "gab.toml"), []byte("[ui]\n\nrequests_from_strangers = \"deny\"\n"), 0o644)
	if s, probs := LoadSettings(dir); len(probs) != 1 || probs[0].Line != 3 || s.StrangerRequests != StrangersAsk {
		t.Fatalf("bad value: %q %v", s.StrangerRequests, probs)
	}
}

// The actions on a selected message take a character alone; every other
// action still needs Ctrl or Alt, and a key bound to two actions is
// reported whichever kind they are.
func TestSelectionKeysMayBeCharacters(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, "gab.toml"), []byte("[keys]\nreply = [\"R\", \"Alt+R\"]\nreact = [\"+\", \"=\"]\n"), 0o644)
	s, probs := LoadSettings(dir)
	if len(probs) != 0 {
		t.Fatal(probs)
	}
	b := s.Bindings()
	if b["r"] != "reply" || b["Alt+r"] != "reply" || b["+"] != "react" || b["="] != "react" || b["e"] != "" || b["y"] != "copy" || b["Alt+s"] != "select_message" || b["Up"] != "select_up" {
		t.Errorf("bindings: %v", b)
	}
	os.WriteFile(filepath.Join(dir, "gab.toml"), []byte("[keys]\nselect_message = \"s\"\ncopy = \"r\"\n"), 0o644)
	_, probs = LoadSettings(dir)
	if len(probs) != 2 || !strings.Contains(probs[0].Msg, "a character key needs Ctrl or Alt") || !strings.Contains(probs[1].Msg, "r is bound to both reply and copy") {
		t.Errorf("problems: %v", probs)
	}
}
