package ui

import (
	"os"

	"github.com/gab-chat/gab/config"
	"strings"
	"testing"
)

// Every key and command the code knows must be in docs/keys.md, word for
// word, so /help, F1 and the documentation cannot drift apart.
func TestKeysAndCommandsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/keys.md")
	if err != nil {
		t.Fatal(err)
	}
	text := strings.ReplaceAll(string(doc), `\|`, "|")
	for _, table := range [][][2]string{keyHelp, selectKeyHelp, rosterKeyHelp, commandHelp} {
		for _, row := range table {
			for _, cell := range row {
				if !strings.Contains(text, cell) {
					t.Errorf("docs/keys.md does not mention %q", cell)
				}
			}
		}
	}
	// Every action [keys] can bind, in keys.md; every key of gab.toml in
	// the configuration reference.
	for _, action := range config.KeyActions {
		if !strings.Contains(text, "`"+action+"`") {
			t.Errorf("docs/keys.md does not mention the action %q", action)
		}
	}
	conf, err := os.ReadFile("../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range config.ThemeElements {
		if !strings.Contains(string(conf), "`"+e+"`") {
			t.Errorf("docs/configuration.md does not mention the theme element %q", e)
		}
	}
	for _, k := range []string{"bell", "title", "desktop", "command", "show_body", "mute", "after", "xa_after", "message"} {
		if !strings.Contains(string(conf), "`"+k+"`") {
			t.Errorf("docs/configuration.md does not mention %q", k)
		}
	}
	man, err := os.ReadFile("../docs/gab.1")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range commandHelp {
		name := strings.Fields(c[0])[0]
		if !strings.Contains(string(man), `.BR `+name) {
			t.Errorf("docs/gab.1 does not list %s", name)
		}
	}
}
