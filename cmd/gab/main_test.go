package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/gab-chat/gab/config"
)

func runGab(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestCheckReportsFileAndLine(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "accounts"), 0o700)
	os.WriteFile(filepath.Join(dir, "accounts", "work.toml"), []byte("jid = \"me@example.net\"\npassword_command = \"echo x\"\ntls = \"maybe\"\n"), 0o600)
	os.WriteFile(filepath.Join(dir, "gab.toml"), []byte("[ui]\nroster_sort = \"name\"\nshow_ofline = true\n"), 0o600)
	code, _, stderr := runGab(t, "--config", dir, "--check")
	if code == 0 {
		t.Fatal("--check passed a broken configuration")
	}
	for _, want := range []string{
		filepath.Join(dir, "accounts", "work.toml") + ":3: tls",
		filepath.Join(dir, "gab.toml") + `:3: unknown key "ui.show_ofline"`,
		"2 problem(s) found",
	} {
		if !strings.Contains(stderr, want) {
			t.Errorf("--check output lacks %q:\n%s", want, stderr)
		}
	}
}

func TestCheckPassesAndListsAccounts(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "accounts"), 0o700)
	os.WriteFile(filepath.Join(dir, "accounts", "home.toml"), []byte("jid = \"me@example.net\"\npassword_command = \"echo x\"\nenabled = false\n"), 0o600)
	code, out, stderr := runGab(t, "--config", dir, "--check")
	if code != 0 || !strings.Contains(out, "home: me@example.net (disabled)") {
		t.Fatalf("code %d\n%s%s", code, out, stderr)
	}
	code, _, stderr = runGab(t, "--config", dir, "--check", "-a", "nosuch")
	if code == 0 || !strings.Contains(stderr, "no such account (-a nosuch)") {
		t.Fatalf("-a with an unknown account: %d %s", code, stderr)
	}
}

func TestVersionHelpAndBadFlags(t *testing.T) {
	if code, out, _ := runGab(t, "--version"); code != 0 || !strings.HasPrefix(out, "gab ") {
		t.Fatalf("--version: %d %q", code, out)
	}
	if code, out, _ := runGab(t, "--help"); code != 0 || !strings.Contains(out, "--check") {
		t.Fatalf("--help: %d %q", code, out)
	}
	if code, _, errOut := runGab(t, "--bogus"); code != 2 || !strings.Contains(errOut, "bogus") {
		t.Fatalf("--bogus: %d %q", code, errOut)
	}
}

func TestBrokenConfigRefusesToStart(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "accounts"), 0o700)
	os.WriteFile(filepath.Join(dir, "accounts", "a.toml"), []byte("jid = \"me@example.net\"\npassword = \"x\"\n"), 0o644)
	code, _, stderr := runGab(t, "--config", dir, "--data", t.TempDir())
	if code != 1 || !strings.Contains(stderr, "chmod 600") {
		t.Fatalf("code %d: %s", code, stderr)
	}
}

// Every flag gab defines is in --help and in the man page.
func TestFlagsDocumented(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	man, err := os.ReadFile("../../docs/gab.1")
	if err != nil {
		t.Fatal(err)
	}
	flags := regexp.MustCompile(`fs\.(?:String|Bool|Int)\("([a-z-]+)"`).FindAllSubmatch(src, -1)
	if len(flags) < 5 {
		t.Fatalf("found only %d flags in main.go; has the way they are defined changed?", len(flags))
	}
	for _, m := range flags {
		name := string(m[1])
		dash := "--"
		if len(name) == 1 {
			dash = "-"
		}
		if !strings.Contains(usage, dash+name+" ") {
			t.Errorf("--help does not list %s%s", dash, name)
		}
		if !strings.Contains(string(man), strings.ReplaceAll(dash+name, "-", `\-`)) {
			t.Errorf("docs/gab.1 does not list %s%s", dash, name)
		}
	}
}

// The language comes from the locale as programs read it (LC_ALL, then
// LC_MESSAGES, then LANG) and is always a valid tag: a C locale, which names
// no language, gives English rather than "C".
func TestLanguageFromLocale(t *testing.T) {
	for _, tc := range []struct {
		all, messages, lang, setting, want string
	}{
		{lang: "C.UTF-8", want: "en"},
		{lang: "C", want: "en"},
		{lang: "POSIX", want: "en"},
		{lang: "de_AT.UTF-8", want: "de-AT"},
		{all: "C.UTF-8", lang: "fr_FR.UTF-8", want: "en"},
		{messages: "sv_SE.UTF-8", lang: "C.UTF-8", want: "sv-SE"},
		{lang: "fr_FR.UTF-8", setting: "pt-BR", want: "pt-BR"},
		{want: "en"},
	} {
		t.Setenv("LC_ALL", tc.all)
		t.Setenv("LC_MESSAGES", tc.messages)
		t.Setenv("LANG", tc.lang)
		if got := language(config.Settings{Language: tc.setting}); got != tc.want {
			t.Errorf("LC_ALL=%q LC_MESSAGES=%q LANG=%q ui.language=%q: got %q, want %q", tc.all, tc.messages, tc.lang, tc.setting, got, tc.want)
		}
	}
}

// --check and a normal start both refuse files that run a command and that
// others can change.
func TestCommandFilesWritableByOthersRefused(t *testing.T) {
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "accounts"), 0o700)
	acct, settings := filepath.Join(dir, "accounts", "home.toml"), filepath.Join(dir, "gab.toml")
	os.WriteFile(acct, []byte("jid = \"me@example.net\"\npassword_command = \"echo x\"\n"), 0o600)
	os.WriteFile(settings, []byte("[notify]\ncommand = \"true\"\n"), 0o600)
	os.Chmod(acct, 0o666)
	os.Chmod(settings, 0o666)
	for _, args := range [][]string{{"--config", dir, "--check"}, {"--config", dir, "--data", t.TempDir()}} {
		code, _, stderr := runGab(t, args...)
		if code == 0 {
			t.Fatalf("%v passed", args)
		}
		for _, want := range []string{acct + ":2: sets password_command", "chmod go-w " + acct, settings + ":2: sets [notify] command", "chmod go-w " + settings} {
			if !strings.Contains(stderr, want) {
				t.Errorf("%v: output lacks %q:\n%s", args, want, stderr)
			}
		}
	}
}
