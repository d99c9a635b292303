package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadSettings(t *testing.T) {
	dir := t.TempDir()
	s, probs := LoadSettings(dir)
	if len(probs) != 0 || s != (Settings{File: filepath.Join(dir, "gab.toml"), RosterSort: SortPresence, ShowOffline: true, TimeFormat: "15:04"}) {
		t.Fatalf("defaults: %+v %v", s, probs)
	}
	os.WriteFile(filepath.Join(dir, "gab.toml"), []byte("[ui]\nroster_sort = \"name\"\nshow_offline = false\n\n[ui]\n"), 0o644)
	_, probs = LoadSettings(dir)
	if len(probs) != 1 || probs[0].Line != 5 {
		t.Fatalf("duplicate table: %v", probs)
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
