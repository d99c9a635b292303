package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestSplitCommand(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want []string
		err  bool
	}{
		{"xdg-open", []string{"xdg-open"}, false},
		{"  firefox   --new-tab ", []string{"firefox", "--new-tab"}, false},
		{`'/opt/My Browser/run' -x`, []string{"/opt/My Browser/run", "-x"}, false},
		{`"a \"b\" \\ \c" d`, []string{`a "b" \ \c`, "d"}, false},
		{`a\ b c`, []string{"a b", "c"}, false},
		{`x''y ""`, []string{"xy", ""}, false},
		{`$HOME/bin/open; rm -rf ~ | cat`, []string{"$HOME/bin/open;", "rm", "-rf", "~", "|", "cat"}, false},
		{`'open`, nil, true},
		{`"open`, nil, true},
		{`open\`, nil, true},
		{"", nil, false},
	} {
		got, err := SplitCommand(tc.in)
		if (err != nil) != tc.err || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%q: got %q, %v; want %q (error %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestStylingAndOpenCommand(t *testing.T) {
	dir := t.TempDir()
	s, probs := LoadSettings(dir)
	if len(probs) != 0 || !s.Styling || !reflect.DeepEqual(s.OpenCommand, DefaultOpenCommand()) {
		t.Fatalf("defaults: styling %v, open_command %q, %v", s.Styling, s.OpenCommand, probs)
	}
	file := filepath.Join(dir, "gab.toml")
	for _, tc := range []struct {
		toml string
		want []string
	}{
		{`open_command = "firefox --new-tab"`, []string{"firefox", "--new-tab"}},
		{`open_command = ["/opt/My Browser/run", "--new-tab"]`, []string{"/opt/My Browser/run", "--new-tab"}},
		{`open_command = "'/opt/My Browser/run'"`, []string{"/opt/My Browser/run"}},
	} {
		os.WriteFile(file, []byte("[ui]\nstyling = false\n"+tc.toml+"\n"), 0o600)
		s, probs := LoadSettings(dir)
		if len(probs) != 0 || s.Styling || !reflect.DeepEqual(s.OpenCommand, tc.want) {
			t.Errorf("%s: styling %v, open_command %q, %v", tc.toml, s.Styling, s.OpenCommand, probs)
		}
	}
	for _, bad := range []string{`open_command = "'firefox"`, `open_command = ""`, `open_command = []`, `open_command = 3`, `styling = "no"`} {
		os.WriteFile(file, []byte("[ui]\n"+bad+"\n"), 0o600)
		s, probs := LoadSettings(dir)
		if len(probs) != 1 || probs[0].Line != 2 || !reflect.DeepEqual(s.OpenCommand, DefaultOpenCommand()) {
			t.Errorf("%s: open_command %q, %v", bad, s.OpenCommand, probs)
		}
	}
	os.WriteFile(file, []byte("[ui]\nopen_command = \"firefox\"\n"), 0o666)
	os.Chmod(file, 0o666)
	if _, probs := LoadSettings(dir); len(probs) != 1 || !strings.Contains(probs[0].Msg, "open_command") || !strings.Contains(probs[0].Msg, "chmod go-w") {
		t.Errorf("an open_command others can change: %v", probs)
	}
}
